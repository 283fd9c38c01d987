package monitoring

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Paths of the shipped files, relative to the repository root.
const (
	RulesPath     = "monitoring/rules.yaml"
	QueriesPath   = "monitoring/queries.yaml"
	DashboardPath = "monitoring/dashboards/install-metrics.json"
)

//go:embed rules.yaml queries.yaml dashboards/install-metrics.json
var files embed.FS

// recordedPrefix starts the name of every series our recording rules write.
const recordedPrefix = "cluster_installation:"

// ErrUnsetVariable is returned by DashboardQueries when a panel uses a
// dashboard or Grafana variable that vars gives no value.
var ErrUnsetVariable = errors.New("dashboard variable has no value")

// Query is one PromQL expression the people who query install metrics run: a
// user story's answer from queries.yaml, or one target of a dashboard panel.
type Query struct {
	// Name identifies the query: its queries.yaml name, or "<panel title>/<refId>".
	Name string `yaml:"name"`
	// Story is the user story (docs/queries.md section) a queries.yaml entry answers.
	Story string `yaml:"story,omitempty"`
	// Description says what the result means.
	Description string `yaml:"description"`
	// Expr is the PromQL expression, with dashboard variables substituted.
	Expr string `yaml:"expr"`
	// Labels are the labels of every result series (queries.yaml entries only).
	Labels []string `yaml:"labels,omitempty"`
	// NeedsRules is true when Expr reads series written by rules.yaml: the
	// Prometheus running it must load the rules and have evaluated them.
	NeedsRules bool `yaml:"-"`
	// Histograms is true when Expr reads the v2 histogram families
	// (docs/metrics-schema.md) or series recorded from them: it answers only
	// once clients of contract v2 have pushed.
	Histograms bool `yaml:"-"`
	// Range is true for dashboard targets drawn over time (a range query);
	// the others are instant queries at the end of the dashboard's range.
	Range bool `yaml:"-"`
}

// RulesYAML returns the Prometheus rule file as shipped (monitoring/rules.yaml).
func RulesYAML() []byte {
	b, err := files.ReadFile("rules.yaml")
	if err != nil { // embedded: cannot happen
		panic(err)
	}
	return b
}

// Queries returns the PromQL answers to the user stories (monitoring/queries.yaml,
// docs/queries.md), in the order of the document.
func Queries() ([]Query, error) {
	b, err := files.ReadFile("queries.yaml")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", QueriesPath, err)
	}
	var doc struct {
		Queries []Query `yaml:"queries"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", QueriesPath, err)
	}
	for i := range doc.Queries {
		q := &doc.Queries[i]
		q.Expr = strings.TrimSpace(q.Expr)
		q.NeedsRules = strings.Contains(q.Expr, recordedPrefix)
		q.Histograms = readsHistograms(q.Expr)
	}
	return doc.Queries, nil
}

// DefaultVars returns the values the dashboard opens with (All for version,
// platform and ci, the operators stage) and window for Grafana's $__range,
// $__interval and $__rate_interval: ready for DashboardQueries.
func DefaultVars(window string) map[string]string {
	return map[string]string{
		"version": ".*", "platform": ".*", "ci": ".*", "stage": "operators",
		"__range": window, "__interval": window, "__rate_interval": window,
	}
}

// dashboardFile is the part of the dashboard JSON that DashboardQueries reads.
type dashboardFile struct {
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			RefID   string `json:"refId"`
			Expr    string `json:"expr"`
			Range   *bool  `json:"range"`
			Instant *bool  `json:"instant"`
		} `json:"targets"`
		Description string `json:"description"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
}

// varRE matches Grafana's variable syntaxes: $name, ${name}, ${name:format}, [[name]].
var varRE = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]`)

// DashboardQueries returns the PromQL of every target of every panel of the
// shipped dashboard, in panel order, with the dashboard's variables ($version,
// $platform, $ci, $stage) and Grafana's ($__range, $__interval,
// $__rate_interval) replaced by their values in vars, as Grafana would with a
// single or regex value. A variable the dashboard uses but vars leaves out is
// an ErrUnsetVariable; "$1" and other names that are no variable stay as they
// are (label_replace uses them).
func DashboardQueries(vars map[string]string) ([]Query, error) {
	b, err := files.ReadFile("dashboards/install-metrics.json")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", DashboardPath, err)
	}
	var d dashboardFile
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", DashboardPath, err)
	}
	known := map[string]bool{}
	for _, v := range d.Templating.List {
		known[v.Name] = true
	}
	// Grafana's own variables that the panels use.
	for _, v := range []string{"__range", "__interval", "__rate_interval"} {
		known[v] = true
	}
	var out []Query
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			if t.Expr == "" {
				continue
			}
			expr, err := substitute(t.Expr, vars, known)
			if err != nil {
				return nil, fmt.Errorf("panel %q target %s: %w", p.Title, t.RefID, err)
			}
			out = append(out, Query{
				Name:        p.Title + "/" + t.RefID,
				Description: p.Description,
				Expr:        expr,
				NeedsRules:  strings.Contains(expr, recordedPrefix),
				Histograms:  readsHistograms(expr),
				Range:       t.Range != nil && *t.Range,
			})
		}
	}
	return out, nil
}

// histogramRE matches the v2 histogram families and what rules.yaml records
// from them: their names, and only theirs, have "_duration_seconds".
var histogramRE = regexp.MustCompile(`cluster_installation(_stage|_command|:[a-z_]+)_duration_seconds`)

// readsHistograms reports whether expr reads the v2 histograms.
func readsHistograms(expr string) bool { return histogramRE.MatchString(expr) }

// substitute replaces the variables of expr that known lists by their value in vars.
func substitute(expr string, vars map[string]string, known map[string]bool) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if !known[name] {
			return m
		}
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: $%s", ErrUnsetVariable, strings.Join(missing, ", $"))
	}
	return out, nil
}
