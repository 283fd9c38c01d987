package monitoring

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite dashboards/install-metrics.json from buildDashboard")

// TestDashboardUpToDate checks that the committed dashboard is what
// buildDashboard generates; -update rewrites it.
func TestDashboardUpToDate(t *testing.T) {
	got, err := dashboardJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("dashboards", "install-metrics.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (regenerate: go test ./monitoring -run TestDashboardUpToDate -update); mismatch (-want +got):\n%s", path, diff)
	}
}

// TestDashboardShape checks what Grafana needs beyond valid PromQL: the
// variables the issue asks for, a datasource on every panel and target,
// unique titles and refIds, and a description on every panel.
func TestDashboardShape(t *testing.T) {
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type        string `json:"type"`
			Title       string `json:"title"`
			Description string `json:"description"`
			Datasource  *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				RefID      string `json:"refId"`
				Expr       string `json:"expr"`
				Datasource *struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Query      any    `json:"query"`
				IncludeAll bool   `json:"includeAll"`
				AllValue   string `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	b, err := files.ReadFile("dashboards/install-metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" {
		t.Error("dashboard has no uid")
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		switch v.Name {
		case "version", "platform", "ci":
			want := "label_values(cluster_installation_invocation, " + v.Name + ")"
			if v.Query != want {
				t.Errorf("variable %s: query %v, want %q", v.Name, v.Query, want)
			}
			if !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("variable %s: includeAll %v allValue %q, want true and .*", v.Name, v.IncludeAll, v.AllValue)
			}
		}
	}
	for name, typ := range map[string]string{"datasource": "datasource", "version": "query", "platform": "query", "ci": "query", "stage": "custom"} {
		if vars[name] != typ {
			t.Errorf("variable %s: type %q, want %q", name, vars[name], typ)
		}
	}
	titles := map[string]bool{}
	panels := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		panels++
		if titles[p.Title] {
			t.Errorf("two panels titled %q", p.Title)
		}
		titles[p.Title] = true
		if p.Description == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource is not ${datasource}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no target", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: missing or repeated refId %q", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q target %s: datasource is not ${datasource}", p.Title, tg.RefID)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q target %s: empty expr", p.Title, tg.RefID)
			}
		}
	}
	if panels < 15 {
		t.Errorf("%d panels, want at least 15", panels)
	}
}

func TestDashboardQueriesSubstitutes(t *testing.T) {
	qs, err := DashboardQueries(map[string]string{
		"version": "4\\.16", "platform": "aws", "ci": "false", "stage": "api",
		"__range": "7d", "__interval": "1h", "__rate_interval": "1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if strings.Contains(q.Expr, "$version") || strings.Contains(q.Expr, "$__range") ||
			strings.Contains(q.Expr, "${") || strings.Contains(q.Expr, "$stage") {
			t.Errorf("%s: variable left in %s", q.Name, q.Expr)
		}
	}
	if !strings.Contains(qs[0].Expr, `version=~"4\.16"`) {
		t.Errorf("%s: version not substituted: %s", qs[0].Name, qs[0].Expr)
	}
}

func TestDashboardQueriesUnsetVariable(t *testing.T) {
	vars := DefaultVars("1h")
	delete(vars, "platform")
	_, err := DashboardQueries(vars)
	if !errors.Is(err, ErrUnsetVariable) {
		t.Fatalf("error %v, want ErrUnsetVariable", err)
	}
	if !strings.Contains(err.Error(), "$platform") {
		t.Errorf("error %q does not name $platform", err)
	}
}

func TestSubstituteLeavesOtherDollars(t *testing.T) {
	known := map[string]bool{"version": true, "__range": true}
	got, err := substitute(`label_replace(x{version=~"${version}"}[$__range], "kind", "$1", "asset", "(.*)")`,
		map[string]string{"version": ".*", "__range": "5m"}, known)
	if err != nil {
		t.Fatal(err)
	}
	want := `label_replace(x{version=~".*"}[5m], "kind", "$1", "asset", "(.*)")`
	if got != want {
		t.Errorf("mismatch (-want +got):\n%s", cmp.Diff(want, got))
	}
}
