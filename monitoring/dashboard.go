package monitoring

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/install-metrics/install-metrics/pkg/metrics"
)

// The families of docs/metrics-schema.md, from the model (pkg/metrics): the
// seed's counters and the v2 histograms.
const (
	invocationFamily      = metrics.InvocationFamily
	durationFamily        = metrics.DurationFamily
	modificationFamily    = metrics.ModificationFamily
	stageDurationFamily   = metrics.StageDurationFamily
	commandDurationFamily = metrics.CommandDurationFamily
)

// Selections the panels share.
const (
	// byVariables selects the dashboard's version, platform and ci.
	byVariables = `version=~"$version",platform=~"$platform",ci=~"$ci"`
	// installs are create cluster runs.
	installs = `command="create",target="cluster"`
	// attempts are installs that got past install-config validation and were
	// not interrupted (the denominator of the success ratio).
	attempts = `command="create",target="cluster",result!~"Interrupted|InvalidConfig"`
	// stageRuns are the runs that can fail in an install stage.
	stageRuns = `command=~"create|wait-for",target=~"cluster|bootstrap-complete|install-complete"`
	// stageFailures are the result classes that name a stage.
	stageFailures = `result=~"InvalidConfig|ProvisioningFailed|APIFailed|BootstrapFailed|OperatorsDegraded"`
)

// selector joins matchers into a series selector of family.
func selector(family string, matchers ...string) string {
	var parts []string
	for _, m := range matchers {
		if m != "" {
			parts = append(parts, m)
		}
	}
	if len(parts) == 0 {
		return family
	}
	return family + "{" + strings.Join(parts, ",") + "}"
}

// counted is how much the series of family matching matchers grew over
// window, a series born inside the window counted whole: the gateway exposes
// a label set only once it was pushed, already holding its first increment,
// which increase() alone never sees (rules.yaml explains the idiom).
func counted(window, family string, matchers ...string) string {
	sel := selector(family, matchers...)
	return fmt.Sprintf("(%s unless present_over_time(%s[1h] offset %s)) or increase(%s[%s])", sel, sel, window, sel, window)
}

// stageOf adds a stage label to series with a result label: the stage a
// failure of that result class happened in.
func stageOf(expr string) string {
	return `label_replace(label_replace(label_replace(label_replace(label_replace(` + expr + `,
  "stage", "provisioning", "result", "InvalidConfig"),
  "stage", "infrastructure", "result", "ProvisioningFailed"),
  "stage", "api", "result", "APIFailed"),
  "stage", "bootstrap", "result", "BootstrapFailed"),
  "stage", "operators", "result", "OperatorsDegraded")`
}

// lastStage is, for failed runs in cluster_installation_duration, the last
// stage they reached: the stage the failure happened in, wait-for included.
func lastStage(window string) string {
	reached := []struct{ stage, matchers string }{
		{"operators", `operators!=""`},
		{"bootstrap", `operators="",bootstrap!=""`},
		{"api", `operators="",bootstrap="",api!=""`},
		{"infrastructure", `operators="",bootstrap="",api="",infrastructure!=""`},
		{"provisioning", `operators="",bootstrap="",api="",infrastructure="",provisioning!=""`},
	}
	arms := make([]string, 0, len(reached))
	for _, r := range reached {
		arms = append(arms, fmt.Sprintf(`label_replace(sum(%s), "stage", %q, "", "")`,
			counted(window, durationFamily, `success="false"`, r.matchers), r.stage))
	}
	return strings.Join(arms, "\nor ")
}

// share divides the cumulative buckets of a recorded *_bucket series by their
// +Inf bucket: with the heatmap format Grafana shows each bucket's share.
func share(recorded, matchers string) string {
	return fmt.Sprintf(`sum by (le) (sum_over_time(%s[$__range]))
  / ignoring (le) group_left ()
sum(sum_over_time(%s[$__range]))`, selector(recorded, matchers), selector(recorded, matchers, `le="+Inf"`))
}

// quantiles are the p50 and p90 targets of a histogram: buckets is a format
// with two verbs for the tiles' selector and the window, giving the
// cumulative buckets summed by le and what the panel groups by (version).
func quantiles(buckets, tiles, window string) []*prometheus.DataqueryBuilder {
	sum := fmt.Sprintf(buckets, tiles, window)
	return []*prometheus.DataqueryBuilder{
		instant(fmt.Sprintf("histogram_quantile(0.5, %s)", sum), "{{version}} p50"),
		instant(fmt.Sprintf("histogram_quantile(0.9, %s)", sum), "{{version}} p90"),
	}
}

// datasource is the dashboard's Prometheus, chosen with $datasource.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// instant is a query evaluated once, at the end of the dashboard's range.
func instant(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).Expr(expr).LegendFormat(legend).Instant()
}

// overTime is a query drawn over the dashboard's range.
func overTime(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).Expr(expr).LegendFormat(legend).Range()
}

func statPanel(title, description, unit string, q *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Unit(unit).Span(6).Height(4).GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(q.RefId("A"))
}

func barPanel(title, description, unit string, span uint32, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Unit(unit).Span(span).Height(8).Min(0).Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	for i, q := range qs {
		p.WithTarget(q.RefId(string(rune('A' + i))))
	}
	return p
}

func timePanel(title, description, unit string, span uint32, minInterval string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Unit(unit).Span(span).Height(8).Min(0)
	if minInterval != "" {
		p.Interval(minInterval)
	}
	for i, q := range qs {
		p.WithTarget(q.RefId(string(rune('A' + i))))
	}
	return p
}

func labelVariable(name, label string) *dashboard.QueryVariableBuilder {
	q := fmt.Sprintf("label_values(%s, %s)", invocationFamily, name)
	return dashboard.NewQueryVariableBuilder(name).Label(label).
		Datasource(datasource()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortNaturalAsc).
		Multi(true).IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}})
}

// classicDashboard is Grafana's classic dashboard JSON model, what "Import
// dashboard" takes in Grafana 10 and later. The SDK marks it deprecated in
// favour of dashboardv2, the schema of Grafana 12's dashboard API, which older
// Grafanas cannot import.
type classicDashboard = dashboard.Dashboard //nolint:staticcheck // on purpose, see above

// classicDashboardBuilder builds a classicDashboard.
type classicDashboardBuilder = dashboard.DashboardBuilder //nolint:staticcheck // on purpose, see classicDashboard

// newClassicDashboard starts a classicDashboard.
func newClassicDashboard(title string) *classicDashboardBuilder {
	return dashboard.NewDashboardBuilder(title) //nolint:staticcheck // on purpose, see classicDashboard
}

// buildDashboard builds the install-metrics dashboard.
func buildDashboard() (classicDashboard, error) {
	const r = "$__range"
	b := newClassicDashboard("Install metrics").
		Uid("install-metrics").
		Description("How long OpenShift installs take per stage, version and platform (p50 and p90), where they fail, how often users change generated assets, and which platforms and operating systems are used (install-metrics: docs/queries.md).").
		Tags([]string{"install-metrics", "openshift-install"}).
		Time("now-7d", "now").
		Timezone("utc").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Editable().
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")).
		WithVariable(labelVariable("version", "Version")).
		WithVariable(labelVariable("platform", "Platform")).
		WithVariable(labelVariable("ci", "CI")).
		WithVariable(dashboard.NewCustomVariableBuilder("stage").Label("Stage").
			Values(dashboard.StringOrMap{String: cog.ToPtr("provisioning,infrastructure,api,rendezvous,validation,preparation,bootstrap,operators")}).
			Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("operators")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("operators")}}))

	b.WithRow(dashboard.NewRowBuilder("At a glance"))
	b.WithPanel(statPanel("Installs", "create cluster runs in the time range.", "short",
		instant(fmt.Sprintf("sum(%s)", counted(r, invocationFamily, installs, byVariables)), "installs")))
	b.WithPanel(statPanel("Install success ratio",
		"Successful create cluster runs out of those that got past install-config validation and were not interrupted.", "percentunit",
		instant(fmt.Sprintf("(sum(%s) or vector(0))\n/\nsum(%s)",
			counted(r, invocationFamily, installs, `result="Success"`, byVariables),
			counted(r, invocationFamily, attempts, byVariables)), "success ratio")))
	b.WithPanel(statPanel("Runs on macOS", "Share of all installer runs (every command) started on macOS.", "percentunit",
		instant(fmt.Sprintf("(sum(%s) or vector(0))\n/\nsum(%s)",
			counted(r, invocationFamily, `os="darwin"`, byVariables),
			counted(r, invocationFamily, byVariables)), "macOS")))
	b.WithPanel(statPanel("Runs from CI", "Share of all installer runs that a CI system started (ignores the CI variable).", "percentunit",
		instant(fmt.Sprintf("(sum(%s) or vector(0))\n/\nsum(%s)",
			counted(r, invocationFamily, `ci="true"`, `version=~"$version",platform=~"$platform"`),
			counted(r, invocationFamily, `version=~"$version",platform=~"$platform"`)), "CI")))

	b.WithRow(dashboard.NewRowBuilder("Install time"))
	installTiles := selector("cluster_installation:install_duration_seconds_bucket:increase1h", byVariables)
	stageTiles := selector("cluster_installation:stage_duration_seconds_bucket:increase1h", `stage="$stage"`, byVariables)
	b.WithPanel(barPanel("Install time p50 and p90 by version",
		"Median and 90th percentile of the create cluster wall time of successful installs in the time range, by version (from the command duration histogram).", "s", 12,
		quantiles("sum by (version, le) (sum_over_time(%s[%s]))", installTiles, r)...))
	b.WithPanel(timePanel("Install time p90 by version, over the previous day",
		"At each point: the 90th percentile of the create cluster wall time of successful installs in the day before it.", "s", 12, "1h",
		overTime(fmt.Sprintf("histogram_quantile(0.9, sum by (version, le) (sum_over_time(%s[1d])))", installTiles), "{{version}}")))
	b.WithPanel(barPanel("Install time distribution",
		"Share of successful installs by create cluster wall time (seconds, upper bound of each bucket of the histogram).", "percentunit", 12,
		instant(share("cluster_installation:install_duration_seconds_bucket:increase1h", byVariables), "{{le}}").
			Format(prometheus.PromQueryFormatHeatmap)))
	b.WithPanel(barPanel("Stage duration p50 and p90 by version ($stage)",
		"Median and 90th percentile of the chosen stage in the time range, by version: stages that reached the installer's own end-of-stage line (from the stage duration histogram).", "s", 12,
		quantiles("sum by (version, le) (sum_over_time(%s[%s]))", stageTiles, r)...))
	b.WithPanel(timePanel("Stage duration p90 by version, over the previous day ($stage)",
		"At each point: the 90th percentile of the chosen stage in the day before it, by version (finished stages).", "s", 12, "1h",
		overTime(fmt.Sprintf("histogram_quantile(0.9, sum by (version, le) (sum_over_time(%s[1d])))", stageTiles), "{{version}}")))
	b.WithPanel(timePanel("Stage duration p90 by stage", "At each point: the 90th percentile of each stage in the day before it (finished stages, the chosen versions, platforms and CI together).", "s", 12, "1h",
		overTime(fmt.Sprintf("histogram_quantile(0.9, sum by (stage, le) (sum_over_time(%s[1d])))",
			selector("cluster_installation:stage_duration_seconds_bucket:increase1h", byVariables)), "{{stage}}")))
	b.WithPanel(heatmap.NewPanelBuilder().Title("Stage durations ($stage)").
		Description("Finished stages of the chosen stage per time slot and duration bucket (seconds, upper bound), from the stage duration histogram's _bucket series: darker cells, more runs.").
		Datasource(datasource()).Span(24).Height(9).Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64)).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		Interval("1h").
		WithTarget(overTime(fmt.Sprintf("sum by (le) (%s)",
			counted("$__interval", stageDurationFamily+"_bucket", `stage="$stage"`, `finished="true"`, byVariables)), "{{le}}").
			Format(prometheus.PromQueryFormatHeatmap).RefId("A")))
	b.WithPanel(barPanel("Median stage duration, clients before v2 too",
		"Median duration of each stage in successful runs from the seed's label buckets (minutes rounded up by the client): the only stage durations of clients older than contract v2; all versions, platforms and CI.", "s", 24,
		instant(fmt.Sprintf(`60 * histogram_quantile(0.5, sum by (stage, le) (sum_over_time(cluster_installation:stage_duration_bucket:increase1h{success="true"}[%s])))`, r), "{{stage}}")))

	b.WithRow(dashboard.NewRowBuilder("Failures"))
	b.WithPanel(barPanel("Install success ratio by version and platform",
		"Successful create cluster runs out of those that got past install-config validation and were not interrupted.", "percentunit", 12,
		instant(fmt.Sprintf("(\n    sum by (version, platform) (%s)\n  or\n    0 * sum by (version, platform) (%s)\n)\n/\nsum by (version, platform) (%s)",
			counted(r, invocationFamily, installs, `result="Success"`, byVariables),
			counted(r, invocationFamily, attempts, byVariables),
			counted(r, invocationFamily, attempts, byVariables)), "{{version}} {{platform}}")).Max(1))
	b.WithPanel(barPanel("Failures per stage",
		"Failed create cluster and wait-for runs by the stage they failed in (their result class).", "short", 12,
		instant("sum by (stage) (\n"+stageOf(fmt.Sprintf("sum by (result) (%s)", counted(r, invocationFamily, stageRuns, stageFailures, byVariables)))+"\n)", "{{stage}}")))
	b.WithPanel(timePanel("Failures per stage, per hour", "Failed create cluster and wait-for runs by stage, per hour.", "short", 12, "1h",
		overTime("sum by (stage) (\n"+stageOf(fmt.Sprintf("sum by (result) (%s)", counted("$__interval", invocationFamily, stageRuns, stageFailures, byVariables)))+"\n)", "{{stage}}")))
	b.WithPanel(barPanel("Last stage reached by failed runs",
		"Failed create cluster and wait-for runs by the last stage in their timeline (from cluster_installation_duration: all versions, platforms and CI).", "short", 12,
		instant(lastStage(r), "{{stage}}")))
	b.WithPanel(barPanel("Where runs stopped, interrupted ones too",
		"Runs that stopped in a stage before its end-of-stage line, by that stage: failed runs and interrupted ones (a CI timeout, a kill: the journal sends them as Interrupted with the stages reached), from the stage duration histogram (finished=\"false\"). More here than under Failures per stage: runs given up in that stage.", "short", 24,
		instant(fmt.Sprintf("sum by (stage) (%s)", counted(r, stageDurationFamily+"_count", `finished="false"`, byVariables)), "{{stage}}")))

	b.WithRow(dashboard.NewRowBuilder("Who runs the installer"))
	b.WithPanel(piechart.NewPanelBuilder().Title("Runs per operating system").
		Description("Installer runs (every command) by the operating system install-metrics ran on.").
		Datasource(datasource()).Span(8).Height(8).PieType(piechart.PieChartTypePie).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(instant(fmt.Sprintf("sum by (os) (%s)", counted(r, invocationFamily, byVariables)), "{{os}}").RefId("A")))
	b.WithPanel(barPanel("Installs per platform", "create cluster runs by platform.", "short", 8,
		instant(fmt.Sprintf("sum by (platform) (%s)", counted(r, invocationFamily, installs, byVariables)), "{{platform}}")))
	b.WithPanel(barPanel("Runs per command", "Installer runs by command and target.", "short", 8,
		instant(fmt.Sprintf("sum by (command, target) (%s)", counted(r, invocationFamily, byVariables)), "{{command}} {{target}}")))
	b.WithPanel(timePanel("Real users and CI, per hour", "Installer runs per hour, real users (ci=false) and CI systems (ci=true); ignores the CI variable.", "short", 24, "1h",
		overTime(fmt.Sprintf("sum by (ci) (%s)", counted("$__interval", invocationFamily, `version=~"$version",platform=~"$platform"`)), "ci={{ci}}")))

	b.WithRow(dashboard.NewRowBuilder("Modified assets"))
	consumingRuns := counted(r, invocationFamily, `command="create",target=~"cluster|ignition-configs",result="Success"`)
	b.WithPanel(barPanel("Modification rate per asset",
		"Modifications of each generated asset per successful create cluster or create ignition-configs run (all versions, platforms and CI: modifications have no such labels). Top 20.", "percentunit", 12,
		instant(fmt.Sprintf("topk(20,\n  sum by (asset) (%s)\n  / on () group_left ()\n  sum(%s)\n)", counted(r, modificationFamily), consumingRuns), "{{asset}}")))
	b.WithPanel(barPanel("Modifications by kind of asset",
		"Modified ignition configs, manifests (manifests/, openshift/), install-configs, and files users added or removed, per successful asset-consuming run.", "percentunit", 12,
		instant(fmt.Sprintf("sum by (kind) (\n"+
			`label_replace(label_replace(label_replace(label_replace(label_replace(`+"\n"+
			"  sum by (asset) (%s),\n"+
			`  "kind", "other", "asset", ".*"),`+"\n"+
			`  "kind", "ignition config", "asset", ".*[.]ign"),`+"\n"+
			`  "kind", "manifest", "asset", "(manifests|openshift)/.*"),`+"\n"+
			`  "kind", "install-config", "asset", "install-config[.]yaml"),`+"\n"+
			`  "kind", "$1", "asset", "(user-added|user-removed)")`+"\n"+
			")\n/ on () group_left ()\nsum(%s)", counted(r, modificationFamily), consumingRuns), "{{kind}}")))

	d, err := b.Build()
	if err != nil {
		return d, err
	}
	// Grafana wants panel ids unique within the dashboard: number them in order.
	for i := range d.Panels {
		id := uint32(i + 1)
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	return d, nil
}

// dashboardJSON is the dashboard as committed: indented JSON and a newline.
func dashboardJSON() ([]byte, error) {
	d, err := buildDashboard()
	if err != nil {
		return nil, fmt.Errorf("building the dashboard: %w", err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return append(b, '\n'), nil
}
