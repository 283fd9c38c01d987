package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/install-metrics/install-metrics/pkg/installer"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// The metric families of docs/metrics-schema.md: three counters (the seed's)
// and two histograms (contract v2).
const (
	InvocationFamily      = "cluster_installation_invocation"
	DurationFamily        = "cluster_installation_duration"
	ModificationFamily    = "cluster_installation_modification"
	StageDurationFamily   = "cluster_installation_stage_duration_seconds"
	CommandDurationFamily = "cluster_installation_command_duration_seconds"
)

// StageBounds and CommandBounds are the histograms' bucket upper bounds in
// seconds, fixed by the contract (never by a flag) so that every client's
// buckets add up at the gateway; +Inf is implied.
var (
	StageBounds   = []float64{60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800}
	CommandBounds = []float64{1, 5, 30, 60, 300, 600, 1200, 1800, 2700, 3600, 5400, 7200, 10800}
)

// Bounds returns the bucket bounds of a histogram family, nil for others.
func Bounds(family string) []float64 {
	switch family {
	case StageDurationFamily:
		return StageBounds
	case CommandDurationFamily:
		return CommandBounds
	}
	return nil
}

// Kind says what a sample is: a counter increment (the zero value, so that
// spool entries of version 1, which have no kind, read as counters) or one
// histogram observation.
type Kind uint8

// The kinds of sample.
const (
	Counter Kind = iota
	Histogram
)

// KindOf is the kind of a family's samples.
func KindOf(family string) Kind {
	if Bounds(family) != nil {
		return Histogram
	}
	return Counter
}

// maxObservation bounds a histogram observation (seconds): a week, far
// beyond any install; larger values are not ours.
const maxObservation = 7 * 24 * 3600

// Label values used when a value is outside its closed set.
const (
	Other   = "other"
	Unknown = "unknown"
)

// DefaultBucket is the default duration bucket step (docs/metrics-schema.md).
const DefaultBucket = 150 * time.Second

// Limits of the bucket step and of the bucketed durations: the step is a
// multiple of 6s so that every bucket is a whole number of tenths of a
// minute, and durations beyond MaxBucketed all share the label "+Inf", so the
// set of duration labels stays closed (at most MaxBucketed/MinBucket values).
const (
	MinBucket   = 30 * time.Second
	MaxBucketed = 24 * time.Hour
	bucketUnit  = 6 * time.Second // a tenth of a minute
	InfBucket   = "+Inf"
)

// Label is one label of a sample.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Sample is one counter increment or one histogram observation: a family
// name, its labels in the schema's order and the value (for a counter the
// amount to add, 1 for one invocation; for a histogram the observed
// seconds). Sinks turn observations into cumulative buckets, _sum and
// _count; merging across runs is theirs.
type Sample struct {
	Name   string  `json:"name"`
	Kind   Kind    `json:"kind,omitempty"`
	Labels []Label `json:"labels"`
	Value  float64 `json:"value"`
}

// Label returns the value of the named label, "" when absent.
func (s Sample) Label(name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// familyLabels are the label names of each family, in the schema's order.
var familyLabels = map[string][]string{
	InvocationFamily:      {"command", "target", "os", "platform", "result", "return", "version", "duration", "ci"},
	DurationFamily:        {"provisioning", "infrastructure", "api", "bootstrap", "operators", "success"},
	ModificationFamily:    {"asset"},
	StageDurationFamily:   {"stage", "finished", "version", "platform", "ci"},
	CommandDurationFamily: {"command", "target", "result", "version", "platform", "ci"},
}

// LabelNames returns the label names of a family in the schema's order (nil
// for a family that is not ours).
func LabelNames(family string) []string { return slices.Clone(familyLabels[family]) }

// Help returns the HELP text of a family.
func Help(family string) string { return familyHelp[family] }

// Ours reports whether name is one of Families.
func Ours(name string) bool {
	_, ok := familyLabels[name]
	return ok
}

// familyHelp is the HELP text of each family.
var familyHelp = map[string]string{
	InvocationFamily:      "Installer commands run through install-metrics, by command, target, os, platform, result, exit code, version, bucketed duration (minutes) and CI.",
	DurationFamily:        "Runs of create cluster and wait-for, by the bucketed duration (minutes) of each stage reached and success.",
	ModificationFamily:    "Successful asset-consuming commands by generated asset the user modified (user-added, user-removed for files the user added or deleted).",
	StageDurationFamily:   "Seconds each installer stage took, timed by the log's own timestamps, by stage, whether its end line was seen, version, platform and CI.",
	CommandDurationFamily: "Wall time in seconds of installer commands run through install-metrics, by command, target, result, version, platform and CI.",
}

// Families lists the family names in the order they are emitted.
var Families = []string{InvocationFamily, DurationFamily, ModificationFamily, StageDurationFamily, CommandDurationFamily}

// SampleOptions shape the samples of one invocation.
type SampleOptions struct {
	// Bucket is the duration bucket step; 0 or an invalid step means
	// DefaultBucket (validate user input with ValidateBucket first).
	Bucket time.Duration
	// Joined sends one modification sample whose asset is the sorted,
	// comma-joined list instead of one sample per asset.
	Joined bool
}

// Samples turns one invocation into its samples: always one
// cluster_installation_invocation; one cluster_installation_duration after
// `create cluster`, `wait-for ...` and `agent wait-for ...`;
// cluster_installation_modification samples when inv.Modified is non-nil
// and the command succeeded; one cluster_installation_command_duration_seconds
// observation, and one cluster_installation_stage_duration_seconds
// observation per Timed stage of those commands.
func Samples(inv record.Invocation, o SampleOptions) []Sample {
	step := o.Bucket
	if ValidateBucket(step) != nil {
		step = DefaultBucket
	}
	result := resultLabel(inv)
	command, target := commandLabel(inv.Command), targetLabel(inv.Command, inv.Target)
	platform, version, ci := installer.NormalizePlatform(inv.Platform), NormalizeVersion(inv.Version), strconv.FormatBool(inv.CI)
	out := make([]Sample, 1, 4+len(inv.Stages))
	out[0] = Sample{Name: InvocationFamily, Value: 1, Labels: []Label{
		{"command", command},
		{"target", target},
		{"os", osLabel(inv.OS)},
		{"platform", platform},
		{"result", result},
		{"return", returnLabel(inv.ExitCode)},
		{"version", version},
		{"duration", Bucket(inv.Wall, step)},
		{"ci", ci},
	}}

	timeline := HasStageTimeline(command, target)
	if timeline {
		labels := make([]Label, 0, len(record.StageNames)+1)
		for _, name := range record.StageNames {
			v := ""
			if st, ok := inv.Stage(name); ok {
				v = Bucket(st.Duration(), step)
			}
			labels = append(labels, Label{string(name), v})
		}
		labels = append(labels, Label{"success", strconv.FormatBool(result == string(record.Success))})
		out = append(out, Sample{Name: DurationFamily, Labels: labels, Value: 1})
	}

	if inv.Modified != nil && result == string(record.Success) {
		assets := make([]string, 0, len(inv.Modified))
		for _, a := range inv.Modified {
			assets = append(assets, assetLabel(a))
		}
		slices.Sort(assets)
		assets = slices.Compact(assets)
		if o.Joined && len(assets) > 0 {
			assets = []string{strings.Join(assets, ",")}
		}
		for _, a := range assets {
			out = append(out, Sample{Name: ModificationFamily, Labels: []Label{{"asset", a}}, Value: 1})
		}
	}

	if timeline {
		for _, st := range inv.Stages {
			if !st.Timed || !st.Name.Valid() {
				continue // no log timestamps: no observation, never a guess
			}
			out = append(out, Sample{Name: StageDurationFamily, Kind: Histogram, Value: seconds(st.Duration()), Labels: []Label{
				{"stage", string(st.Name)},
				{"finished", strconv.FormatBool(st.Finished)},
				{"version", version},
				{"platform", platform},
				{"ci", ci},
			}})
		}
	}
	if inv.Wall <= 0 && inv.ExitCode == -1 && inv.Result == record.Interrupted {
		// An unknown wall time (a provisional journal record, taken over
		// from a run that died before the installer's end was recorded:
		// exit code -1, wall 0) gets no observation: a zero would pull
		// every quantile down.
		return out
	}
	out = append(out, Sample{Name: CommandDurationFamily, Kind: Histogram, Value: seconds(inv.Wall), Labels: []Label{
		{"command", command},
		{"target", target},
		{"result", result},
		{"version", version},
		{"platform", platform},
		{"ci", ci},
	}})
	return out
}

// HasStageTimeline reports whether a command (labels as Samples makes them)
// has stages: `create cluster`, `wait-for ...` and `agent wait-for
// bootstrap-complete|install-complete` (installer.Args.HasStageTimeline,
// restated on the labels).
func HasStageTimeline(command, target string) bool {
	return (command == "create" && target == "cluster") || command == "wait-for" ||
		(command == "agent" && (target == "wait-for/bootstrap-complete" || target == "wait-for/install-complete"))
}

// seconds is d in seconds, clamped to [0, maxObservation].
func seconds(d time.Duration) float64 {
	return min(max(d.Seconds(), 0), maxObservation)
}

// ValidateBucket checks a duration bucket step: at least 30s, at most 24h and
// a multiple of 6s (a tenth of a minute), so that bucket labels are short
// decimals and their set stays small.
func ValidateBucket(step time.Duration) error {
	switch {
	case step < MinBucket:
		return fmt.Errorf("%v is too small: the bucket step must be at least %v", step, MinBucket)
	case step > MaxBucketed:
		return fmt.Errorf("%v is too large: the bucket step must be at most %v", step, MaxBucketed)
	case step%bucketUnit != 0:
		return fmt.Errorf("%v is not a multiple of 6s: use a step such as 30s, 1m or 2m30s", step)
	}
	return nil
}

// Bucket is the label of duration d for bucket step step: minutes, rounded up
// to the next multiple of the step, formatted without trailing zeros. Every
// duration up to one step (0 included) is one step: with the default step
// 0s..2m30s is "2.5", 25m is "25" and 25m1s is "27.5". Durations beyond
// MaxBucketed are "+Inf". step must pass ValidateBucket (else DefaultBucket
// is used).
func Bucket(d, step time.Duration) string {
	if ValidateBucket(step) != nil {
		step = DefaultBucket
	}
	if d > MaxBucketed {
		return InfBucket
	}
	n := int64(1)
	if d > 0 {
		n = (int64(d) + int64(step) - 1) / int64(step)
	}
	tenths := n * int64(step/bucketUnit)
	if tenths%10 == 0 {
		return strconv.FormatInt(tenths/10, 10)
	}
	return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10)
}

// The regular expressions of this package are compiled on first use, not at
// start-up: every run of the wrapper pays for package initialisation before
// the installer starts (issue 3 bounds that), and most runs need none of them
// or one.
var (
	releaseRE = lazyRegexp(`^v?([0-9]{1,3})\.([0-9]{1,4})(?:\.[0-9]{1,6})?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$`)
	commitRE  = lazyRegexp(`^[0-9a-f]{7,40}(?:-dirty)?$`)
)

// lazyRegexp compiles expr once, when it is first needed.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// NormalizeVersion maps an installer version to the closed set of the
// version label: "MAJOR.MINOR" for releases (4.16.20 → 4.16), "MAJOR.MINOR-okd"
// for OKD builds, "MAJOR.MINOR-pre" for any other pre-release (rc, ec,
// nightly, ci), "dev" for unreleased builds (unreleased-master-…, a bare
// commit hash), "unknown" for anything else. It is idempotent.
func NormalizeVersion(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" || v == Unknown:
		return Unknown
	case v == "dev", strings.HasPrefix(v, "unreleased-"), commitRE().MatchString(v),
		strings.HasPrefix(v, "was not built"):
		return "dev"
	}
	m := releaseRE().FindStringSubmatch(v)
	if m == nil {
		return Unknown
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || major > 99 || minor > 999 {
		return Unknown
	}
	mm := strconv.Itoa(major) + "." + strconv.Itoa(minor)
	switch pre := strings.ToLower(m[3]); {
	case pre == "":
		return mm
	case strings.Contains(pre, "okd"):
		return mm + "-okd"
	default:
		return mm + "-pre"
	}
}

// knownGOOS is the closed set of the os label (`go tool dist list`).
var knownGOOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios",
	"js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}

func osLabel(goos string) string {
	if slices.Contains(knownGOOS, goos) {
		return goos
	}
	return Other
}

// commandLabel keeps a command word only when pkg/installer knows it.
func commandLabel(cmd string) string {
	if cmd == "" || cmd == Other {
		return cmd
	}
	if strings.HasPrefix(cmd, "-") || installer.ParseArgs([]string{cmd}).Command != cmd {
		return Other
	}
	return cmd
}

// targetLabel keeps a target word only when pkg/installer knows it for cmd.
func targetLabel(cmd, target string) string {
	if target == "" {
		return ""
	}
	c := commandLabel(cmd)
	if c == "" || c == Other || strings.HasPrefix(target, "-") {
		return Other
	}
	if installer.KnownTarget(c, target) {
		return target // "cluster", or "wait-for/install-complete" for agent
	}
	if installer.ParseArgs([]string{c, target}).Target == "" {
		return "" // the command takes no target: the word is an argument
	}
	return Other
}

func resultLabel(inv record.Invocation) string {
	if inv.Result.Valid() {
		return string(inv.Result)
	}
	if inv.ExitCode == 0 && inv.Signal == "" {
		return string(record.Success)
	}
	return string(record.Failed)
}

func returnLabel(code int) string {
	if code < 0 || code > 255 {
		return Other
	}
	return strconv.Itoa(code)
}

// assetRE is the shape of a generated asset path relative to --dir: plain
// path segments, no "..", no leading "/", no spaces or separators that could
// carry free text into a label or break a DogStatsD tag.
var assetRE = lazyRegexp(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

const maxAssetLen = 200

func assetLabel(a string) string {
	if len(a) > maxAssetLen || !assetRE().MatchString(a) {
		return Other
	}
	return a
}

// validBucketLabel reports whether v looks like a Bucket label: "+Inf" or a
// positive number of minutes with at most one decimal, up to MaxBucketed.
func validBucketLabel(v string) bool {
	if v == InfBucket {
		return true
	}
	whole, frac, hasFrac := strings.Cut(v, ".")
	if whole == "" || len(whole) > 4 || (hasFrac && (len(frac) != 1 || frac == "0")) {
		return false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(whole) > 1 && whole[0] == '0' {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f > 0 && f <= MaxBucketed.Minutes()
}

func validBool(v string) bool { return v == "true" || v == "false" }

// Commands is the closed set of the command label and, for each command,
// of its target label ("" and "other" aside). It is written out here, not
// derived from pkg/installer's parser, so that ValidSample (the last check
// before a sample leaves, and the check of what the spool reads back) does
// not fail together with the parser it checks.
var Commands = map[string][]string{
	"create": {"install-config", "manifests", "ignition-configs", "cluster",
		"single-node-ignition-config", "cluster-api", "image", "pxe-files",
		"config-image", "unconfigured-ignition", "certificates"},
	"wait-for": {"bootstrap-complete", "install-complete"},
	"destroy":  {"cluster", "bootstrap"},
	"gather":   {"bootstrap"},
	"agent": withSub(map[string][]string{
		"create": {"agent-config-template", "cluster-manifests", "image", "pxe-files",
			"config-image", "unconfigured-ignition"},
		"wait-for": {"bootstrap-complete", "install-complete"},
		"gather":   {"bootstrap"},
	}),
	"image-based": withSub(map[string][]string{
		"create": {"image-config-template", "image", "config-template", "config-image"},
	}),
	"version":    nil,
	"graph":      nil,
	"completion": nil,
	"coreos":     {"print-stream-json"},
	"explain":    nil,
	"analyze":    nil,
	"migrate":    nil,
	"help":       nil,
}

// withSub lists the targets of a command that takes a subcommand and then a
// target: each subcommand alone, and "<subcommand>/<target>" for its targets
// and for "other".
func withSub(subs map[string][]string) []string {
	var out []string
	for _, sub := range SortedKeys(subs) {
		out = append(out, sub, sub+"/"+Other)
		for _, t := range subs[sub] {
			out = append(out, sub+"/"+t)
		}
	}
	return out
}

func validCommand(v string) bool {
	_, ok := Commands[v]
	return ok || v == "" || v == Other
}

func validTarget(cmd, v string) bool {
	switch v {
	case "":
		return true
	case Other:
		return cmd != ""
	}
	return slices.Contains(Commands[cmd], v)
}

// validLabel reports whether value belongs to the closed set of the label
// name of family.
func validLabel(family, name, value string) bool {
	switch name {
	case "command":
		return validCommand(value)
	case "os":
		return osLabel(value) == value
	case "platform":
		return installer.NormalizePlatform(value) == value
	case "result":
		return record.Result(value).Valid()
	case "return":
		n, err := strconv.Atoi(value)
		return value == Other || (err == nil && returnLabel(n) == value)
	case "version":
		return NormalizeVersion(value) == value
	case "ci", "success", "finished":
		return validBool(value)
	case "stage":
		return record.StageName(value).Valid()
	case "asset":
		for _, a := range strings.Split(value, ",") {
			if assetLabel(a) != a {
				return false
			}
		}
		return true
	case "duration":
		return validBucketLabel(value)
	}
	if family == DurationFamily {
		return value == "" || validBucketLabel(value)
	}
	return false
}

// ValidSample reports whether s is one of ours: a known family of the right
// kind, its labels exactly in the schema's order, every value from its
// closed set, and a finite value (a positive increment for a counter, 0 to a
// week of seconds for an observation). Samples read back from the spool must
// pass it.
func ValidSample(s Sample) bool {
	names, ok := familyLabels[s.Name]
	if !ok || len(s.Labels) != len(names) || s.Kind != KindOf(s.Name) {
		return false
	}
	switch s.Kind {
	case Counter:
		if !(s.Value > 0 && s.Value < 1e15) {
			return false
		}
	case Histogram:
		if !(s.Value >= 0 && s.Value <= maxObservation) {
			return false
		}
	}
	var cmd string
	for i, l := range s.Labels {
		if l.Name != names[i] {
			return false
		}
		if l.Name == "target" {
			if !validTarget(cmd, l.Value) {
				return false
			}
			continue
		}
		if !validLabel(s.Name, l.Name, l.Value) {
			return false
		}
		if l.Name == "command" {
			cmd = l.Value
		}
	}
	return true
}
