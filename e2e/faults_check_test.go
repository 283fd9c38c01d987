//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
	"github.com/install-metrics/install-metrics/pkg/sink/textfile"
)

// slack is added to --metrics-timeout when checking the wall time added
// after the installer exited: process start-up and exit of a race-enabled
// binary on a busy 2-core machine. It is a sanity bound, not a measurement.
const slack = 2 * time.Second

// localBudget is the time install-metrics gives the textfile when
// --metrics-timeout is shorter (pkg/push).
const localBudget = time.Second

// expect is what a scenario promises beyond what every scenario promises.
type expect struct {
	// own is install-metrics' own exit code when it fails before the
	// installer starts (2: a malformed metrics flag; 126, 127: no
	// installer to run): the installer is not started, nothing is
	// recorded, and one error line names flag.
	own  int
	flag string
	// runs is how many invocations were recorded (default: the runs whose
	// installer started).
	runs int
	// localLost allows the local record (textfile sink) to be lost, when a
	// warning says it is ("lost").
	localLost bool
	// want fixes delivered+spooled of a sink (by URL) instead of runs.
	want map[string]int
	// labels are invocation label values the local record must hold.
	labels map[string]string
}

// checkPromises checks what every scenario promises (docs/reliability.md):
//
//  1. the exit code is the installer's (or install-metrics' own 2, 126 or
//     127 when it could not start it, with one error line);
//  2. the wall time added after the installer exited is within
//     --metrics-timeout (plus slack);
//  3. nothing panicked, and the race detector found nothing;
//  4. every invocation is in the textfile or the spool exactly once, and at
//     each other sink at most once, or a warning line says what happened;
//  5. no secret appears in anything install-metrics printed, wrote or sent;
//  6. every label value is from the schema's closed sets.
func checkPromises(w *world, exp expect, outs ...outcome) {
	t := w.t
	t.Helper()
	runs := 0
	var stderrAll []byte
	for _, o := range outs {
		checkOutcome(t, exp, o)
		if o.started {
			runs++
		}
		stderrAll = append(stderrAll, o.stderr...)
	}
	if exp.runs != 0 {
		runs = exp.runs
	}
	if exp.own != 0 {
		runs = 0
	}
	checkRecorded(w, exp, runs, string(stderrAll))
	checkSecrets(w, outs)
	checkLabelSets(w)
	if exp.labels != nil {
		checkLocalLabels(w, exp.labels)
	}
	for _, o := range outs {
		report(t, o)
	}
}

// checkOutcome checks promises 1 to 3 for one run.
func checkOutcome(t *testing.T, exp expect, o outcome) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "WARNING: DATA RACE", "fatal error:", "fakeinstaller:"} {
		if bytes.Contains(o.stderr, []byte(bad)) || bytes.Contains(o.stdout, []byte(bad)) {
			t.Errorf("output holds %q:\n%s", bad, clip(o.stderr, 8000))
		}
	}
	if exp.own != 0 {
		if o.code != exp.own {
			t.Errorf("exit code %d, want %d", o.code, exp.own)
		}
		if o.started {
			t.Errorf("the installer was started")
		}
		lines := strings.Split(strings.TrimSpace(string(o.stderr)), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "install-metrics: ") || !strings.Contains(lines[0], exp.flag) {
			t.Errorf("want one error line naming %s, got:\n%s", exp.flag, o.stderr)
		}
		return
	}
	if o.installerCode < 0 {
		t.Errorf("the installer left no exit stamp (started: %v); exit code %d", o.started, o.code)
		return
	}
	if o.code != o.installerCode {
		t.Errorf("exit code %d, want the installer's %d", o.code, o.installerCode)
	}
	if bound := max(o.timeout, localBudget) + slack; o.added > bound {
		t.Errorf("install-metrics ended %v after the installer, more than --metrics-timeout %v (+%v slack)", o.added, o.timeout, slack)
	}
}

// checkRecorded checks promise 4: per sink, delivered plus spooled
// invocations is the number of runs; fewer only with a warning line naming
// the sink; never more.
func checkRecorded(w *world, exp expect, runs int, stderr string) {
	t := w.t
	t.Helper()
	spooled, _ := readSpool(t, w.spoolDir())
	for _, s := range w.sinks {
		d := s.delivered()
		n := d + spooled[s.url]
		if want, ok := exp.want[s.url]; ok {
			if n != want {
				t.Errorf("%s: %d delivered + %d spooled, want %d", s.url, d, spooled[s.url], want)
			}
			continue
		}
		switch {
		case n > runs:
			t.Errorf("%s: %d delivered + %d spooled for %d runs: counted twice", s.url, d, spooled[s.url], runs)
		case n < runs && s.kind == "textfile" && !(exp.localLost && warned(stderr, "lost")):
			t.Errorf("%s: the local record is in neither the textfile (%d) nor the spool (%d) for %d runs", s.url, d, spooled[s.url], runs)
		case n < runs && !warned(stderr, s.url):
			t.Errorf("%s: %d of %d runs lost without a warning naming the sink", s.url, runs-n, runs)
		}
	}
	for url, want := range exp.want {
		if !slices.ContainsFunc(w.sinks, func(s *sinkRef) bool { return s.url == url }) && spooled[url] != want {
			t.Errorf("%s: %d spooled, want %d", url, spooled[url], want)
		}
	}
}

// warned reports whether a warning line of install-metrics holds what.
func warned(stderr, what string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "install-metrics: warning: ") && strings.Contains(l, what) {
			return true
		}
	}
	return false
}

// checkSecrets checks promise 5 on everything printed, written and sent.
func checkSecrets(w *world, outs []outcome) {
	t := w.t
	t.Helper()
	find := func(where string, data []byte) {
		for _, s := range allSecrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("secret %q found in %s", s, where)
			}
		}
	}
	for _, o := range outs {
		find("stdout", o.stdout)
		find("stderr", o.stderr)
	}
	for _, dir := range []string{w.home, w.state, w.extra} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			find("a file name", []byte(p))
			if d.Type().IsRegular() {
				if b, err := os.ReadFile(p); err == nil {
					find(p, b)
				}
			}
			return nil
		})
	}
	if w.gw != nil {
		for i, r := range w.gw.Requests() {
			where := fmt.Sprintf("request %d to the gateway", i)
			find(where+" (path)", []byte(r.Path))
			find(where+" (body)", r.Body)
			for k, vs := range r.Header {
				if k != "Authorization" {
					find(where+" (header "+k+")", []byte(strings.Join(vs, "\n")))
				}
			}
		}
	}
	for j, gw := range w.others {
		for i, r := range gw.Requests() {
			where := fmt.Sprintf("request %d to server %d, which is not the named gateway", i, j)
			if len(r.Header.Values("Authorization")) > 0 {
				t.Errorf("%s carried an Authorization header: credentials followed to another host", where)
			}
			find(where, []byte(fmt.Sprint(r.Path, r.Header, string(r.Body))))
		}
	}
	for j, c := range w.collectors {
		for i, r := range c.requests() {
			where := fmt.Sprintf("request %d to OTLP collector %d", i, j)
			find(where+" (path)", []byte(r.path))
			find(where+" (body)", r.body)
			for k, vs := range r.header {
				if k != otlpSecretHeader {
					find(where+" (header "+k+")", []byte(strings.Join(vs, "\n")))
				}
			}
		}
	}
	if w.udp != nil {
		for i, d := range w.udp.datagrams() {
			find(fmt.Sprintf("StatsD datagram %d", i), d)
		}
	}
}

// The closed sets of docs/metrics-schema.md, written out here rather than
// taken from the code under test.
var (
	commandSet = []string{"", "other", "create", "destroy", "wait-for", "gather", "agent", "image-based",
		"version", "graph", "completion", "coreos", "explain", "analyze", "migrate", "help"}
	targetSet = []string{"", "other", "install-config", "manifests", "ignition-configs", "cluster",
		"single-node-ignition-config", "cluster-api", "image", "pxe-files", "config-image", "unconfigured-ignition",
		"certificates", "bootstrap-complete", "install-complete", "bootstrap", "create", "wait-for", "gather",
		"print-stream-json",
		// agent and image-based: "<subcommand>/<target>" (contract v2)
		"create/agent-config-template", "create/cluster-manifests", "create/image", "create/pxe-files",
		"create/config-image", "create/unconfigured-ignition", "create/image-config-template",
		"create/config-template", "create/other", "wait-for/bootstrap-complete", "wait-for/install-complete",
		"wait-for/other", "gather/bootstrap", "gather/other"}
	platformSet = []string{"aws", "azure", "gcp", "vsphere", "baremetal", "openstack", "ovirt", "ibmcloud",
		"powervs", "nutanix", "alibabacloud", "libvirt", "external", "none", "unknown"}
	resultSet = []string{"Success", "InvalidConfig", "ProvisioningFailed", "APIFailed", "BootstrapFailed",
		"OperatorsDegraded", "Interrupted", "Failed"}
	invocationLabels = []string{"ci", "command", "duration", "os", "platform", "result", "return", "target", "version"}
	durationLabels   = []string{"api", "bootstrap", "infrastructure", "operators", "provisioning", "success"}
	stageLabels      = durationLabels[:5]
	// The v2 histograms.
	stageDurationLabels   = []string{"ci", "finished", "platform", "stage", "version"}
	commandDurationLabels = []string{"ci", "command", "platform", "result", "target", "version"}
	stageSet              = []string{"provisioning", "infrastructure", "api", "rendezvous", "validation", "preparation", "bootstrap", "operators"}
	histogramFamilies     = []string{"cluster_installation_stage_duration_seconds", "cluster_installation_command_duration_seconds"}

	versionRE = regexp.MustCompile(`^([0-9]+\.[0-9]+(-okd|-pre)?|dev|unknown)$`)
	bucketRE  = regexp.MustCompile(`^([1-9][0-9]*(\.[1-9])?|0\.[1-9]|\+Inf)$`)
	returnRE  = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})$`)
	// assetRE: a path the installer generates, relative to --dir.
	assetRE = regexp.MustCompile(`^(install-config\.yaml|[a-z0-9-]+\.ign|(manifests|openshift|cluster-api)(/[A-Za-z0-9_<>][A-Za-z0-9._<>-]*){1,3})$`)
)

// seriesProblems returns what is wrong with one series' labels; complete
// says every label must be there (StatsD leaves empty ones out).
func seriesProblems(family string, labels map[string]string, complete bool) []string {
	var bad []string
	in := func(name string, set []string) {
		if v, ok := labels[name]; ok && !slices.Contains(set, v) {
			bad = append(bad, fmt.Sprintf("%s=%q is not in the closed set", name, v))
		}
	}
	match := func(name string, re *regexp.Regexp) {
		if v, ok := labels[name]; ok && !re.MatchString(v) {
			bad = append(bad, fmt.Sprintf("%s=%q is not of the closed form %s", name, v, re))
		}
	}
	names := func(want []string) {
		var got []string
		for k := range labels {
			got = append(got, k)
		}
		slices.Sort(got)
		if complete && !slices.Equal(got, want) || !complete && !isSubset(got, want) {
			bad = append(bad, fmt.Sprintf("labels %v, want %v", got, want))
		}
	}
	switch family {
	case "cluster_installation_invocation":
		names(invocationLabels)
		in("command", commandSet)
		in("target", targetSet)
		in("os", []string{runtime.GOOS})
		in("platform", platformSet)
		in("result", resultSet)
		match("return", returnRE)
		if n, err := strconv.Atoi(labels["return"]); err == nil && n > 255 {
			bad = append(bad, fmt.Sprintf("return=%d is over 255", n))
		}
		match("version", versionRE)
		match("duration", bucketRE)
		in("ci", []string{"true", "false"})
	case "cluster_installation_duration":
		names(durationLabels)
		for _, s := range stageLabels {
			if labels[s] != "" {
				match(s, bucketRE)
			}
		}
		in("success", []string{"true", "false"})
	case "cluster_installation_modification":
		names([]string{"asset"})
		for _, a := range strings.Split(labels["asset"], ",") {
			if a != "user-added" && a != "user-removed" && !assetRE.MatchString(a) {
				bad = append(bad, fmt.Sprintf("asset=%q is neither an installer path nor user-added/user-removed", a))
			}
			if strings.Contains(a, "canary") {
				bad = append(bad, fmt.Sprintf("asset=%q holds a name the user chose", a))
			}
		}
	case "cluster_installation_stage_duration_seconds":
		names(stageDurationLabels)
		in("stage", stageSet)
		in("finished", []string{"true", "false"})
		match("version", versionRE)
		in("platform", platformSet)
		in("ci", []string{"true", "false"})
	case "cluster_installation_command_duration_seconds":
		names(commandDurationLabels)
		in("command", commandSet)
		in("target", targetSet)
		in("result", resultSet)
		match("version", versionRE)
		in("platform", platformSet)
		in("ci", []string{"true", "false"})
	default:
		bad = append(bad, "unknown family "+family)
	}
	return bad
}

func isSubset(a, b []string) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

// checkLabelSets checks promise 6 on the textfile, the spool, the gateway
// bodies and the StatsD lines.
func checkLabelSets(w *world) {
	t := w.t
	t.Helper()
	report := func(where, family string, labels map[string]string, complete bool) {
		for _, p := range seriesProblems(family, labels, complete) {
			t.Errorf("%s: %s: %s", where, family, p)
		}
	}
	var pe *fs.PathError
	if mfs, err := parseTextfile(w.textfile); err != nil && !errors.As(err, &pe) {
		t.Errorf("textfile %s: %v", w.textfile, err)
	} else {
		checkFamilies(t, "textfile", mfs, report)
	}
	_, entries := readSpool(t, w.spoolDir())
	for name, samples := range entries {
		for _, s := range samples {
			labels := map[string]string{}
			for _, l := range s.Labels {
				labels[l.Name] = l.Value
			}
			report("spool entry "+name, s.Name, labels, true)
		}
	}
	for _, gw := range append([]*gatewaytest.Server{w.gw}, w.others...) {
		if gw == nil {
			continue
		}
		for i, r := range gw.Requests() {
			if r.Method != "POST" && r.Method != "PUT" {
				continue
			}
			p := expfmt.NewTextParser(model.LegacyValidation)
			mfs, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
			if err != nil {
				t.Errorf("gateway request %d: body is not the text format: %v", i, err)
				continue
			}
			checkFamilies(t, fmt.Sprintf("gateway request %d", i), mfs, report)
		}
	}
	if w.udp != nil {
		for _, l := range w.udp.lines() {
			name, rest, _ := strings.Cut(l, ":")
			_, tags, ok := strings.Cut(rest, "|#")
			labels := map[string]string{}
			if ok {
				for _, tag := range strings.Split(tags, ",") {
					k, v, _ := strings.Cut(tag, ":")
					labels[k] = v
				}
			}
			report("StatsD line "+strconv.Quote(l), name, labels, false)
		}
	}
}

func checkFamilies(t *testing.T, where string, mfs map[string]*dto.MetricFamily, report func(string, string, map[string]string, bool)) {
	t.Helper()
	for name, mf := range mfs {
		want := dto.MetricType_COUNTER
		if slices.Contains(histogramFamilies, name) {
			want = dto.MetricType_HISTOGRAM
		}
		if mf.GetType() != want {
			t.Errorf("%s: %s is a %v, not a %v", where, name, mf.GetType(), want)
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			report(where, name, labels, true)
		}
	}
}

// checkLocalLabels checks that the local record (the textfile, else the
// spooled textfile push) holds an invocation with the wanted label values.
func checkLocalLabels(w *world, want map[string]string) {
	t := w.t
	t.Helper()
	var seen []map[string]string
	mfs, _ := parseTextfile(w.textfile)
	if mf := mfs["cluster_installation_invocation"]; mf != nil {
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			seen = append(seen, labels)
		}
	}
	_, entries := readSpool(t, w.spoolDir())
	for _, samples := range entries {
		for _, s := range samples {
			if s.Name == "cluster_installation_invocation" {
				labels := map[string]string{}
				for _, l := range s.Labels {
					labels[l.Name] = l.Value
				}
				seen = append(seen, labels)
			}
		}
	}
next:
	for _, labels := range seen {
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		return
	}
	t.Errorf("no recorded invocation has %v; recorded: %v", want, seen)
}

// parseTextfile reads a textfile and its histogram shards as
// node_exporter's textfile collector does: each file parsed on its own with
// expfmt, the families merged by name. A series in two files is an error
// (node_exporter refuses it); a missing textfile without shards is the
// *fs.PathError of reading it.
func parseTextfile(path string) (map[string]*dto.MetricFamily, error) {
	files, err := textfile.Files(path)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		_, err := os.ReadFile(path)
		return nil, err
	}
	all := map[string]*dto.MetricFamily{}
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for name, mf := range mfs {
			for _, m := range mf.Metric {
				pairs := make([]string, 0, len(m.GetLabel()))
				for _, l := range m.GetLabel() {
					pairs = append(pairs, l.GetName()+"="+strconv.Quote(l.GetValue()))
				}
				slices.Sort(pairs)
				k := name + "{" + strings.Join(pairs, ",") + "}"
				if other, ok := seen[k]; ok {
					return nil, fmt.Errorf("series %s is in %s and in %s", k, other, f)
				}
				seen[k] = f
			}
			if cur := all[name]; cur != nil {
				cur.Metric = append(cur.Metric, mf.Metric...)
			} else {
				all[name] = mf
			}
		}
	}
	return all, nil
}

// textfileCount sums the invocations in a textfile (0 when it is missing).
func textfileCount(t *testing.T, path string) int {
	t.Helper()
	mfs, err := parseTextfile(path)
	if err != nil {
		var pe *fs.PathError
		if !errors.As(err, &pe) { // a file that cannot be read holds nothing
			t.Errorf("textfile %s: %v", path, err)
		}
		return 0
	}
	n := 0.0
	if mf := mfs["cluster_installation_invocation"]; mf != nil {
		for _, m := range mf.Metric {
			n += m.GetCounter().GetValue()
		}
	}
	return int(n)
}

// spoolSample is a sample as the spool stores it.
type spoolSample struct {
	Name   string `json:"name"`
	Labels []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"labels"`
	Value float64 `json:"value"`
}

// readSpool returns the invocations spooled per sink URL, and every entry's
// samples by file name. Entries being sent (claimed) count too; entries moved
// aside as corrupt do not.
func readSpool(t *testing.T, dir string) (map[string]int, map[string][]spoolSample) {
	t.Helper()
	counts := map[string]int{}
	entries := map[string][]spoolSample{}
	des, err := os.ReadDir(dir)
	if err != nil {
		return counts, entries
	}
	for _, de := range des {
		n := de.Name()
		if !de.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".corrupt") ||
			!(strings.HasSuffix(n, ".json") || strings.Contains(n, ".json.claim-")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("spool entry %s: %v", n, err)
			continue
		}
		var e struct {
			Sink    string        `json:"sink"`
			Samples []spoolSample `json:"samples"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			continue // a corrupt entry a scenario planted
		}
		entries[n] = e.Samples
		for _, s := range e.Samples {
			if s.Name == "cluster_installation_invocation" {
				counts[e.Sink] += int(s.Value)
			}
		}
	}
	return counts, entries
}

// report prints the figures of a run, and appends them as a JSON line to
// $IM_FAULTS_REPORT when set (docs/reliability.md is written from them).
func report(t *testing.T, o outcome) {
	t.Helper()
	t.Logf("figures: exit %d, added after the installer exited %v (--metrics-timeout %v), peak RSS %d KiB, signal to exit %v, installer started after %v",
		o.code, o.added.Round(time.Millisecond), o.timeout, o.rssKiB, o.sigToExit.Round(time.Millisecond), o.startDelay.Round(time.Millisecond))
	path := os.Getenv("IM_FAULTS_REPORT")
	if path == "" {
		return
	}
	line, _ := json.Marshal(map[string]any{
		"test": o.name, "code": o.code, "added_ms": o.added.Milliseconds(), "timeout": o.timeout.String(),
		"rss_kib": o.rssKiB, "signal_to_exit_ms": o.sigToExit.Milliseconds(), "start_delay_ms": o.startDelay.Milliseconds(),
	})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// TestFaultsCheckerLabelSets: the closed-set check itself takes what the
// schema allows and refuses the rest.
func TestFaultsCheckerLabelSets(t *testing.T) {
	inv := func(k, v string) map[string]string {
		l := map[string]string{"ci": "false", "command": "create", "duration": "2.5", "os": runtime.GOOS, "platform": "aws",
			"result": "Success", "return": "0", "target": "cluster", "version": "4.16"}
		if k != "" {
			l[k] = v
		}
		return l
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		ok     bool
	}{
		{"cluster_installation_invocation", inv("", ""), true},
		{"cluster_installation_invocation", inv("version", "4.16-okd"), true},
		{"cluster_installation_invocation", inv("duration", "+Inf"), true},
		{"cluster_installation_invocation", inv("return", "255"), true},
		{"cluster_installation_invocation", inv("command", "other"), true},
		{"cluster_installation_invocation", inv("return", "256"), false},
		{"cluster_installation_invocation", inv("version", "4.16.3"), false},
		{"cluster_installation_invocation", inv("result", "Timeout"), false},
		{"cluster_installation_invocation", inv("platform", "my-cloud"), false},
		{"cluster_installation_invocation", inv("duration", "2.50"), false},
		{"cluster_installation_invocation", inv("job", "install-metrics"), false},
		{"cluster_installation_duration", map[string]string{"api": "5", "bootstrap": "", "infrastructure": "7.5",
			"operators": "", "provisioning": "2.5", "success": "false"}, true},
		{"cluster_installation_duration", map[string]string{"api": "five", "bootstrap": "", "infrastructure": "",
			"operators": "", "provisioning": "", "success": "false"}, false},
		{"cluster_installation_modification", map[string]string{"asset": "manifests/cluster-config.yaml"}, true},
		{"cluster_installation_modification", map[string]string{"asset": "user-added"}, true},
		{"cluster_installation_modification", map[string]string{"asset": "my notes.txt"}, false},
		{"cluster_installation_modification", map[string]string{"asset": "manifests/99-canary.yaml"}, false},
		{"cluster_installation_modification", map[string]string{"asset": "../etc/passwd"}, false},
		{"cluster_installation_stage_duration_seconds", map[string]string{"ci": "true", "finished": "false", "platform": "aws",
			"stage": "rendezvous", "version": "4.18"}, true},
		{"cluster_installation_stage_duration_seconds", map[string]string{"ci": "true", "finished": "false", "platform": "aws",
			"stage": "lunch", "version": "4.18"}, false},
		{"cluster_installation_stage_duration_seconds", map[string]string{"ci": "true", "finished": "maybe", "platform": "aws",
			"stage": "api", "version": "4.18"}, false},
		{"cluster_installation_command_duration_seconds", map[string]string{"ci": "false", "command": "agent", "platform": "none",
			"result": "Success", "target": "wait-for/install-complete", "version": "4.18"}, true},
		{"cluster_installation_command_duration_seconds", map[string]string{"ci": "false", "command": "Version", "platform": "none",
			"result": "Success", "target": "", "version": "4.18"}, false},
		{"cluster_installation_command_duration_seconds", map[string]string{"ci": "false", "command": "create", "platform": "none",
			"result": "Success", "target": "cluster", "version": "4.18", "le": "60"}, false},
		{"some_other_family", map[string]string{}, false},
	} {
		if bad := seriesProblems(c.family, c.labels, true); (len(bad) == 0) != c.ok {
			t.Errorf("%s %v: problems %q, want ok=%v", c.family, c.labels, bad, c.ok)
		}
	}
}
