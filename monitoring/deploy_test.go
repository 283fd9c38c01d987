package monitoring

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"
)

const examplePath = "prometheus.example.yml"

func TestPromtoolCheckExampleConfig(t *testing.T) {
	runPromtool(t, "check", "config", filepath.Join("monitoring", examplePath))
}

// TestExampleConfigInDocs checks that docs/deploy.md shows the example
// configuration as it is.
func TestExampleConfigInDocs(t *testing.T) {
	conf, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append([]byte("```yaml\n"), conf...)) {
		t.Errorf("docs/deploy.md does not show %s verbatim in a yaml block", examplePath)
	}
}

// TestNginxConfigInDocs checks that docs/deploy.md shows the nginx
// configuration that e2e/receiving_test.go runs, byte for byte, in an nginx
// block.
func TestNginxConfigInDocs(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join("nginx", "install-metrics.conf"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append(append([]byte("```nginx\n"), conf...), "```\n"...)) {
		t.Errorf("docs/deploy.md does not show nginx/install-metrics.conf verbatim in an nginx block")
	}
}

// TestExampleConfigRelabeling feeds label sets through the gateway job's
// metric_relabel_configs: what the schema allows stays, anything else goes.
func TestExampleConfigRelabeling(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		ScrapeConfigs []struct {
			JobName              string            `yaml:"job_name"`
			MetricRelabelConfigs []*relabel.Config `yaml:"metric_relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	var cfgs []*relabel.Config
	for _, sc := range conf.ScrapeConfigs {
		if sc.JobName == "install-metrics" {
			cfgs = sc.MetricRelabelConfigs
		}
	}
	if len(cfgs) == 0 {
		t.Fatal("no metric_relabel_configs for job install-metrics")
	}
	inv := func(kv ...string) labels.Labels {
		m := map[string]string{"__name__": invocationFamily, "job": "install-metrics", "command": "create", "target": "cluster",
			"os": "linux", "platform": "aws", "result": "Success", "return": "0", "version": "4.16", "duration": "42.5", "ci": "false"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return labels.FromMap(m)
	}
	dur := func(kv ...string) labels.Labels {
		m := map[string]string{"__name__": durationFamily, "job": "install-metrics", "success": "true"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return labels.FromMap(m)
	}
	hist := func(family, suffix string, kv ...string) labels.Labels {
		m := map[string]string{"__name__": "cluster_installation_" + family + "_duration_seconds" + suffix, "job": "install-metrics",
			"version": "4.16", "platform": "aws", "ci": "false"}
		if family == "stage" {
			m["stage"], m["finished"] = "bootstrap", "true"
		} else {
			m["command"], m["target"], m["result"] = "create", "cluster", "Success"
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return labels.FromMap(m)
	}
	mod := func(asset string) labels.Labels {
		return labels.FromMap(map[string]string{"__name__": modificationFamily, "job": "install-metrics", "asset": asset})
	}
	for _, c := range []struct {
		name string
		in   labels.Labels
		keep bool
	}{
		{"a successful install", inv(), true},
		{"an OKD pre-release interrupted", inv("version", "4.17-okd", "result", "Interrupted", "return", "130", "duration", "+Inf"), true},
		{"version on dev", inv("version", "dev", "duration", "2.5", "platform", "unknown"), true},
		{"duration off the 2.5-minute grid", inv("duration", "1.3"), false},
		{"duration over 240 minutes", inv("duration", "242.5"), false},
		{"version outside the closed set", inv("version", "4.16.3"), false},
		{"platform in capitals", inv("platform", "AWS"), false},
		{"result outside the closed set", inv("result", "ClusterComplete"), false},
		{"ci not a boolean", inv("ci", "yes"), false},
		{"all stages", dur("provisioning", "2.5", "infrastructure", "12.5", "api", "7.5", "bootstrap", "15", "operators", "25"), true},
		{"failed in api", dur("provisioning", "2.5", "infrastructure", "12.5", "api", "20", "success", "false"), true},
		{"wait-for", dur("bootstrap", "30", "operators", "40"), true},
		{"stage off the grid", dur("api", "3"), false},
		{"success not a boolean", dur("api", "5", "success", "maybe"), false},
		{"a manifest", mod("manifests/cluster-config.yaml"), true},
		{"an ignition config", mod("bootstrap.ign"), true},
		{"user-added", mod("user-added"), true},
		{"a path outside the asset tree", mod("../../etc/passwd"), false},
		{"the joined list", mod("bootstrap.ign,install-config.yaml"), false},
		{"another metric", labels.FromStrings("__name__", "go_goroutines", "job", "install-metrics"), false},
		{"command outside the closed set", inv("command", "Version", "target", ""), false},
		{"target with free text", inv("target", "cluster --dir /home/alice"), false},
		{"return over 255", inv("return", "1000"), false},
		{"os outside the closed set", inv("os", "TempleOS"), false},
		{"an agent target", inv("command", "agent", "target", "wait-for/install-complete"), true},
		{"a stage bucket", hist("stage", "_bucket", "le", "600.0"), true},
		{"a stage bucket, le as pushed", hist("stage", "_bucket", "le", "600"), true},
		{"the stage +Inf bucket", hist("stage", "_bucket", "le", "+Inf"), true},
		{"a stage sum", hist("stage", "_sum"), true},
		{"an agent stage count", hist("stage", "_count", "stage", "rendezvous", "finished", "false"), true},
		{"a foreign stage bucket", hist("stage", "_bucket", "le", "42.0"), false},
		{"a command bucket bound on a stage", hist("stage", "_bucket", "le", "30.0"), false},
		{"a stage outside the closed set", hist("stage", "_count", "stage", "coffee"), false},
		{"finished not a boolean", hist("stage", "_count", "finished", "yes"), false},
		{"a stage histogram with a result", hist("stage", "_count", "result", "Success"), false},
		{"a stage histogram with a foreign platform", hist("stage", "_sum", "platform", "mainframe"), false},
		{"a command bucket", hist("command", "_bucket", "le", "1.0"), true},
		{"a command count", hist("command", "_count"), true},
		{"a foreign command bucket", hist("command", "_bucket", "le", "2.5"), false},
		{"a command histogram without a result", hist("command", "_sum", "result", ""), false},
		{"a command histogram with a stage", hist("command", "_sum", "stage", "api"), false},
		{"a histogram's other suffix", hist("command", "_created"), false},
	} {
		if got := relabel.ProcessBuilder(labels.NewBuilder(c.in), cfgs...); got != c.keep {
			t.Errorf("%s: kept %v, want %v (%s)", c.name, got, c.keep, c.in)
		}
	}
}
