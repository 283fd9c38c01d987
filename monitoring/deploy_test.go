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
	} {
		if got := relabel.ProcessBuilder(labels.NewBuilder(c.in), cfgs...); got != c.keep {
			t.Errorf("%s: kept %v, want %v (%s)", c.name, got, c.keep, c.in)
		}
	}
}
