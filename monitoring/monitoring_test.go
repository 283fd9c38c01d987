package monitoring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/install-metrics/install-metrics/internal/testenv"
	"github.com/install-metrics/install-metrics/pkg/installer"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string { return testenv.RepoRoot(t) }

// runPromtool runs bin/promtool in the repository root and fails the test on a
// non-zero exit. Without bin/promtool the test skips, or fails under CI=true
// ("run make tools"); with -short it skips.
func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	bin := testenv.Tool(t, "promtool")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = repoRoot(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", "--lint=all", "--lint-fatal", RulesPath)
}

// TestPromtoolTestRules runs the rule unit tests (under a minute: the alerts
// compare a day with the week before it, evaluated every 15 minutes).
func TestPromtoolTestRules(t *testing.T) {
	tests, err := filepath.Glob(filepath.Join(repoRoot(t), "monitoring", "tests", "*.yaml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule unit tests in monitoring/tests (%v)", err)
	}
	args := []string{"test", "rules"}
	for _, f := range tests {
		args = append(args, filepath.Join("monitoring", "tests", filepath.Base(f)))
	}
	runPromtool(t, args...)
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal(RulesYAML(), &f); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatal("no rules in rules.yaml")
	}
	return out
}

var promql = parser.NewParser(parser.Options{})

func parse(t *testing.T, name, expr string) parser.Expr {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, expr)
	}
	return e
}

const runbookBase = "https://github.com/install-metrics/install-metrics/blob/main/docs/runbooks.md#"

// TestRules checks every rule without promtool: each expression parses with
// Prometheus's parser, recorded names follow level:metric:operation, and each
// alert has a for, a severity, a summary, a description and a runbook_url whose
// section exists in docs/runbooks.md.
func TestRules(t *testing.T) {
	runbooks, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	recordRE := regexp.MustCompile(`^cluster_installation:[a-z0-9_]+:[a-z0-9_]+$`)
	for _, r := range loadRules(t) {
		name := r.Record + r.Alert
		parse(t, name, r.Expr)
		if r.Record != "" {
			if !recordRE.MatchString(r.Record) {
				t.Errorf("record %s: want cluster_installation:<what>:<operation>", r.Record)
			}
			continue
		}
		if _, err := time.ParseDuration(r.For); err != nil {
			t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" && s != "info" {
			t.Errorf("alert %s: severity %q, want warning, critical or info", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("alert %s: no %s", r.Alert, a)
			}
		}
		if want := runbookBase + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !bytes.Contains(runbooks, []byte("\n## "+r.Alert+"\n")) {
			t.Errorf("alert %s: docs/runbooks.md has no section \"## %s\"", r.Alert, r.Alert)
		}
	}
}

// unitTestFile is the part of a promtool unit test file the tests read.
type unitTestFile struct {
	Tests []struct {
		PromQLExprTest []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryRuleIsUnitTested checks that the promtool tests have, for every
// alert, a case where it fires and a case where it does not, and check the
// values of every recording rule.
func TestEveryRuleIsUnitTested(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("tests", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no rule unit tests (%v)", err)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	var exprs []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f unitTestFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, tg := range f.Tests {
			for _, e := range tg.PromQLExprTest {
				exprs = append(exprs, e.Expr)
			}
			for _, a := range tg.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for _, r := range loadRules(t) {
		switch {
		case r.Alert != "":
			if !firing[r.Alert] || !quiet[r.Alert] {
				t.Errorf("alert %s: unit tests where it fires: %v, where it does not: %v; want both", r.Alert, firing[r.Alert], quiet[r.Alert])
			}
		case !slices.ContainsFunc(exprs, func(e string) bool { return strings.Contains(e, r.Record) }):
			t.Errorf("record %s: no promql_expr_test checks its values", r.Record)
		}
	}
}

// TestBucketRegexes checks each cumulative bucket of the *_bucket rules: the
// regex on the duration label matches exactly the bucket labels (tenths of a
// minute, as pkg/push formats them, and "+Inf") not above the le bound.
func TestBucketRegexes(t *testing.T) {
	var values []string
	for tenths := 1; tenths <= 6000; tenths++ {
		values = append(values, strconv.FormatFloat(float64(tenths)/10, 'f', -1, 64))
	}
	values = append(values, "+Inf")
	for _, r := range loadRules(t) {
		// The label-bucket rules (over cluster_installation_duration), not the histograms'.
		if !strings.HasSuffix(r.Record, "_bucket:increase1h") || histogramSeries(r.Record) {
			continue
		}
		var bounds []string
		parser.Inspect(parse(t, r.Record, r.Expr), func(n parser.Node, _ []parser.Node) error {
			call, ok := n.(*parser.Call)
			if !ok || call.Func.Name != "label_replace" {
				return nil
			}
			if dst, ok := call.Args[1].(*parser.StringLiteral); !ok || dst.Val != "le" {
				return nil
			}
			bound := call.Args[2].(*parser.StringLiteral).Val
			bounds = append(bounds, bound)
			var ms []*labels.Matcher
			parser.Inspect(call.Args[0], func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					for _, m := range vs.LabelMatchers {
						if m.Name == "duration" {
							ms = append(ms, m)
						}
					}
				}
				return nil
			})
			if bound == "+Inf" {
				if len(ms) != 0 {
					t.Errorf("%s le=+Inf: selects on duration (%v), want every bucket", r.Record, ms)
				}
				return nil
			}
			if len(ms) != 1 || ms[0].Type != labels.MatchRegexp {
				t.Errorf("%s le=%s: want one duration=~ matcher, got %v", r.Record, bound, ms)
				return nil
			}
			le, err := strconv.ParseFloat(bound, 64)
			if err != nil {
				t.Errorf("%s: bound %q: %v", r.Record, bound, err)
				return nil
			}
			for _, v := range values {
				f, _ := strconv.ParseFloat(v, 64)
				if want := v != "+Inf" && f <= le; ms[0].Matches(v) != want {
					t.Errorf("%s le=%s: duration=%q matched %v, want %v", r.Record, bound, v, !want, want)
				}
			}
			return nil
		})
		want := []string{"5", "10", "15", "20", "25", "30", "35", "40", "45", "50", "55", "60", "75", "90", "120", "180", "240", "+Inf"}
		if !slices.Equal(bounds, want) {
			t.Errorf("%s: bounds %v, want %v", r.Record, bounds, want)
		}
	}
}

// closedValues returns the label values the queries may compare with.
func closedValues() map[string][]string {
	v := map[string][]string{
		"command":  {"create", "wait-for", "destroy", "gather", "agent", "version", "other"},
		"target":   {"cluster", "manifests", "ignition-configs", "install-config", "bootstrap-complete", "install-complete", "bootstrap", "other", ""},
		"os":       {"linux", "darwin", "windows"},
		"ci":       {"true", "false"},
		"success":  {"true", "false"},
		"finished": {"true", "false"},
		"platform": append(slices.Clone(installer.Platforms), installer.UnknownPlatform),
	}
	for _, st := range record.AllStageNames {
		v["stage"] = append(v["stage"], string(st))
	}
	for _, r := range record.Results {
		v["result"] = append(v["result"], string(r))
	}
	return v
}

// allExprs returns every PromQL expression we ship: rules, queries.yaml and the
// dashboard's panels with their variables substituted.
func allExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range loadRules(t) {
		out["rule "+r.Record+r.Alert] = r.Expr
	}
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		out["query "+q.Name] = q.Expr
	}
	ds, err := DashboardQueries(DefaultVars("1h"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range ds {
		out["panel "+q.Name] = q.Expr
	}
	return out
}

// notSchema are the series outside the schema that a rule may read, with
// their labels: the aggregation gateway's own push count (its lifecycle
// port, docs/ecosystem.md §9) and Prometheus' up.
var notSchema = map[string][]string{"prom_agg_gateway_metric_pushes": {"push_job"}, "up": nil}

// TestExpressionsUseTheSchema parses every expression and checks its
// selectors: raw families only with their own label names, equality matchers
// only with values from the closed sets, recorded series only those rules.yaml
// writes.
func TestExpressionsUseTheSchema(t *testing.T) {
	recorded := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Record != "" {
			recorded[r.Record] = true
		}
	}
	closed := closedValues()
	schema := schemaLabels()
	for name, expr := range allExprs(t) {
		parser.Inspect(parse(t, name, expr), func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			own, raw := schema[vs.Name]
			if g, ok := notSchema[vs.Name]; ok {
				own, raw = g, true
			}
			if !raw && !recorded[vs.Name] {
				t.Errorf("%s: selects %q, neither a family of the schema nor a recorded series", name, vs.Name)
				return nil
			}
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					continue
				}
				if raw && !slices.Contains(own, m.Name) && m.Name != "job" && m.Name != "instance" {
					t.Errorf("%s: %s has no label %q", name, vs.Name, m.Name)
				}
				if set, ok := closed[m.Name]; ok && m.Type == labels.MatchEqual && !slices.Contains(set, m.Value) {
					t.Errorf("%s: %s=%q is not in the closed set %v", name, m.Name, m.Value, set)
				}
				if set, ok := closed[m.Name]; ok && m.Type == labels.MatchRegexp {
					for _, alt := range strings.Split(m.Value, "|") {
						if regexp.QuoteMeta(alt) == alt && !slices.Contains(set, alt) {
							t.Errorf("%s: %s=~%q names %q, not in the closed set", name, m.Name, m.Value, alt)
						}
					}
				}
			}
			return nil
		})
	}
}

func TestQueries(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "queries.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{}
	for _, r := range loadRules(t) {
		if r.Record != "" {
			rules[r.Record] = r.Expr
		}
	}
	nameRE := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]bool{}
	for _, q := range qs {
		if !nameRE.MatchString(q.Name) || seen[q.Name] {
			t.Errorf("query name %q: want a unique snake_case name", q.Name)
		}
		seen[q.Name] = true
		if q.Story == "" || q.Description == "" {
			t.Errorf("%s: no story or description", q.Name)
		}
		e := parse(t, q.Name, q.Expr)
		// Every label the result promises is grouped by or written by label_replace,
		// in the expression or in the rules writing the recorded series it reads.
		made := madeLabels(t, e, rules)
		for _, l := range q.Labels {
			if !made[l] {
				t.Errorf("%s: promises label %q, but neither groups by it nor writes it", q.Name, l)
			}
		}
		// docs/queries.md shows the very same expression, under the query's name.
		if !bytes.Contains(doc, []byte("```promql\n"+q.Expr+"\n```")) {
			t.Errorf("%s: docs/queries.md does not show its expression verbatim in a promql block", q.Name)
		}
		if !bytes.Contains(doc, []byte("`"+q.Name+"`")) {
			t.Errorf("%s: docs/queries.md does not name it", q.Name)
		}
	}
	for _, story := range []string{"install-time", "stage-failures", "modifications", "macos", "ci"} {
		if !slices.ContainsFunc(qs, func(q Query) bool { return q.Story == story }) {
			t.Errorf("no query answers the %s story", story)
		}
	}
}

// madeLabels returns the labels that e groups by or writes with label_replace,
// following recorded series into the rules (by record name) that write them.
func madeLabels(t *testing.T, e parser.Expr, rules map[string]string) map[string]bool {
	t.Helper()
	made := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.AggregateExpr:
			if !n.Without {
				for _, l := range n.Grouping {
					made[l] = true
				}
			}
		case *parser.Call:
			if n.Func.Name == "label_replace" {
				made[n.Args[1].(*parser.StringLiteral).Val] = true
			}
		case *parser.VectorSelector:
			if expr, ok := rules[n.Name]; ok {
				for l := range madeLabels(t, parse(t, n.Name, expr), rules) {
					made[l] = true
				}
			}
		}
		return nil
	})
	return made
}

func TestDashboardQueriesParse(t *testing.T) {
	qs, err := DashboardQueries(DefaultVars("6h"))
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) == 0 {
		t.Fatal("no dashboard queries")
	}
	for _, q := range qs {
		parse(t, q.Name, q.Expr)
	}
}

func TestNeedsRules(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if want := strings.Contains(q.Expr, "cluster_installation:"); q.NeedsRules != want {
			t.Errorf("%s: NeedsRules %v, want %v", q.Name, q.NeedsRules, want)
		}
	}
}

func ExampleDashboardQueries() {
	qs, err := DashboardQueries(DefaultVars("1h"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(qs[0].Name)
	_, err = DashboardQueries(map[string]string{})
	fmt.Println(errors.Is(err, ErrUnsetVariable))
	// Output:
	// Installs/A
	// true
}
