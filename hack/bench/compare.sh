#!/usr/bin/env bash
# Side by side against a baseline commit (issues 12, 15 and 16): the targets
# say "at most +X ms against the commit before this work", so both binaries
# run in one script, interleaved, on the same machine at the same moment.
#
#  1. Wall time: the replay installer's `version` directly, through the
#     baseline's install-metrics and through the current one (metrics on, the
#     default textfile sink), the baseline again (a copy: an A/A pair whose
#     difference is the method's noise floor), both with --no-metrics, and,
#     when a binary sends to an otlp+http:// sink, that binary with the
#     textfile plus a healthy local OTLP/HTTP receiver (hack/bench/otlpsink).
#  2. Time to the installer's start: the same variants around a stand-in
#     (hack/bench/startstamp) that writes the moment it starts; the delay is
#     that moment minus the moment the script launched the variant.
#
# N rounds; each runs every variant once, in an order that changes round by
# round (a Williams design, see williams below). Printed: per variant the median, p90 and the median time added over
# the direct call (paired within a round); for current - baseline the median
# of the per-round differences with its 95 % confidence interval (order
# statistics, no assumption on the distribution), the IQR, and the ratio of
# the medians. A target is met when the interval's upper end is within it,
# missed when its lower end is beyond it, undecided otherwise (raise N).
#
# Targets: metrics on, current - baseline <= 0.3 ms (issue 12; issue 15
# without an OTLP sink) and <= 1 ms (issue 16); the OTLP send adds <= 5 ms
# over the textfile alone (issue 15); the installer's start, current -
# baseline <= 1 ms (issue 16).
#
# Usage: hack/bench/compare.sh [current install-metrics binary]
#   BENCH_BASE (default 5b0e1bf, main when this work started): the baseline
#   commit, exported with `git archive` into the temporary directory and built
#   as `make build` builds (CGO_ENABLED=0, -trimpath, the version ldflag).
#   The current binary: $1, else $INSTALL_METRICS_BIN, else built the same way
#   from the working tree. The replay installer: $OPENSHIFT_INSTALL_REPLAY_BIN,
#   else built. N (default 200, at most 2000) rounds; the whole script stops
#   after BENCH_LIMIT seconds (default 600); STRICT=1 exits 1 when a target is
#   missed.
# Everything happens under one temporary directory (HOME and each binary's
# XDG_STATE_HOME too), removed on exit; nothing listens but on 127.0.0.1.
set -euo pipefail

N=${N:-200}
((N >= 1 && N <= 2000)) || { echo "compare.sh: N must be 1..2000" >&2; exit 2; }
BENCH_BASE=${BENCH_BASE:-5b0e1bf}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-bench.XXXXXX")
# The watchdog's sleep must not hold our stdout (`make bench` tees it).
(sleep "${BENCH_LIMIT:-600}" >/dev/null 2>&1 && echo "compare.sh: time limit reached" >&2 && kill -TERM $$) 2>/dev/null &
watchdog=$!
receiver=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	kill "$watchdog" 2>/dev/null || true
	[[ -z $receiver ]] || { kill "$receiver" 2>/dev/null; wait "$receiver" 2>/dev/null; } || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
die() { echo "compare.sh: $*" >&2; exit 1; }
# label VARIANT: its name in the tables
label() {
	case $1 in
	direct) echo "installer directly" ;;
	base) echo "baseline" ;;
	cur) echo "current" ;;
	aa) echo "baseline again (A/A)" ;;
	*-off) echo "$(label "${1%-off}") --no-metrics" ;;
	*-otlp) echo "$(label "${1%-otlp}") + OTLP sink" ;;
	esac
}

# --- the binaries ----------------------------------------------------------
# build_im SRC VERSION OUT: install-metrics from the tree SRC, as `make build`.
build_im() {
	(cd "$1" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-X github.com/install-metrics/install-metrics/cmd/install-metrics/cli.version=$2" \
		-o "$3" ./cmd/install-metrics) >&2 || die "building install-metrics from $1 failed"
}
# build_tool PKG: a helper from the working tree into $tmp, static like the rest.
build_tool() {
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$tmp/$(basename "$1")" "$1") >&2 || die "building $1 failed"
	echo "$tmp/$(basename "$1")"
}

base_rev=$(git -C "$root" rev-parse --verify --quiet "$BENCH_BASE^{commit}") ||
	die "BENCH_BASE=$BENCH_BASE is not a commit of $root: set BENCH_BASE to a commit hash or ref"
base_desc=$(git -C "$root" describe --tags --always "$base_rev")
mkdir -p "$tmp/base-src" "$tmp/build" "$tmp/base" "$tmp/aa" "$tmp/cur"
git -C "$root" archive "$base_rev" | tar -x -C "$tmp/base-src"
build_im "$tmp/base-src" "$base_desc" "$tmp/build/base"
rm -rf "$tmp/base-src"

built_cur=${1:-${INSTALL_METRICS_BIN:-}}
if [[ -n $built_cur ]]; then
	[[ -x $built_cur ]] || die "$built_cur is not an executable install-metrics"
	cur_desc="$(cd "$(dirname "$built_cur")" && pwd)/$(basename "$built_cur") as given"
else
	cur_desc="working tree $(git -C "$root" describe --tags --always --dirty)"
	built_cur=$tmp/build/cur
	build_im "$root" "$(git -C "$root" describe --tags --always --dirty)" "$built_cur"
fi
# Every binary under test is a copy made here with cp, the A/A twin a second
# copy of the baseline: how a file was written decides how the page cache
# holds it, and the time exec takes. A binary the Go linker wrote (mmap)
# started ~1 ms slower than a cp of it (150 alternating runs each, this VM).
cp "$tmp/build/base" "$tmp/base/install-metrics"
cp "$tmp/build/base" "$tmp/aa/install-metrics"
cp "$built_cur" "$tmp/cur/install-metrics"
rm -f "$tmp/build/base" "$tmp/build/cur"
replay=${OPENSHIFT_INSTALL_REPLAY_BIN:-}
[[ -n $replay ]] || replay=$(build_tool ./cmd/openshift-install-replay)
standin=$(build_tool ./hack/bench/startstamp)
otlpsink=$(build_tool ./hack/bench/otlpsink)

# A clean metrics environment: nothing inherited, state under $tmp.
for v in $(compgen -v | grep -E '^(INSTALL_METRICS|OPENSHIFT_INSTALL_REPLAY|OTEL_)' || true); do unset "$v"; done
unset DO_NOT_TRACK TRACEPARENT TRACESTATE
export HOME=$tmp/home BENCH_START_FILE=$tmp/start
mkdir -p "$HOME"
declare -A im=([base]=$tmp/base/install-metrics [aa]=$tmp/aa/install-metrics [cur]=$tmp/cur/install-metrics)

# --- the OTLP receiver -----------------------------------------------------
"$otlpsink" -url-file "$tmp/otlp.url" -count-file "$tmp/otlp.count" -limit "${BENCH_LIMIT:-600}s" 2>"$tmp/otlp.err" &
receiver=$!
for ((i = 0; i < 100; i++)); do [[ -s $tmp/otlp.url ]] && break; sleep 0.05; done
[[ -s $tmp/otlp.url ]] || die "the OTLP receiver did not start: $(cat "$tmp/otlp.err")"
read -r otlp_url <"$tmp/otlp.url"
otlp_count() { local n=0; read -r n <"$tmp/otlp.count" || true; echo "${n:-0}"; }

# run VARIANT CHILD: one call of the variant around CHILD, output discarded.
# base, aa and cur record into their own XDG_STATE_HOME.
run() {
	local w=${1%-*}
	case $1 in
	direct) "$2" version ;;
	*-off) "${im[$w]}" --no-metrics --installer "$2" version ;;
	*-otlp) XDG_STATE_HOME=$tmp/state-$w "${im[$w]}" --installer "$2" \
		--metrics-sink "file://$tmp/state-$w/install-metrics/metrics.prom" --metrics-sink "$otlp_url" version ;;
	*) XDG_STATE_HOME=$tmp/state-$1 "${im[$1]}" --installer "$2" version ;;
	esac >/dev/null 2>"$tmp/err"
}

# Does the binary send to otlp+http://? Only a request reaching the receiver
# says so: a binary that does not know the scheme may warn, or refuse the flag.
variants=(direct base cur aa base-off cur-off)
otlp_note=""
for w in base cur; do
	before=$(otlp_count)
	run "$w-otlp" "$replay" || true
	for ((i = 0; i < 20; i++)); do (($(otlp_count) > before)) && break; sleep 0.05; done
	if (($(otlp_count) > before)); then
		variants+=("$w-otlp")
	else
		otlp_note+="  $(label "$w") does not send to otlp+http:// (no request reached the receiver): $(head -c 200 "$tmp/err" | head -1)"$'\n'
	fi
done

# williams M: the orders of the rounds, one line each, a Williams design: over
# its lines each of the M variants takes every place once and follows every
# other variant once, so what a call leaves behind (a textfile being written
# back, a busy page cache) weighs on all alike. The first line is 0 1 M-1 2
# M-2 ..., line r adds r (mod M); for an odd M the mirrored lines follow.
williams() {
	local m=$1 r j a=0 b=$1 first=()
	for ((j = 0; j < m; j++)); do
		if ((j == 0)); then
			first+=(0)
		elif ((j % 2)); then
			a=$((a + 1)) && first+=("$a")
		else
			b=$((b - 1)) && first+=("$b")
		fi
	done
	for ((r = 0; r < m; r++)); do
		for j in "${first[@]}"; do printf '%d ' $(((j + r) % m)); done
		echo
	done
	((m % 2)) || return 0
	for ((r = 0; r < m; r++)); do
		for ((j = m - 1; j >= 0; j--)); do printf '%d ' $(((first[j] + r) % m)); done
		echo
	done
}

# measure PART CHILD: N rounds of every variant, in the orders of williams;
# wall time in µs into $tmp/PART.VARIANT, and with the stand-in the delay to
# its start into $tmp/start.VARIANT.
measure() {
	local part=$1 child=$2 m=${#variants[@]} i k v t0 t1 ns order plan
	declare -A wall=() start=()
	mapfile -t plan < <(williams "$m")
	for v in "${variants[@]}"; do # warm-up, untimed; also creates the textfiles
		for k in 1 2 3; do run "$v" "$child" || die "$v around $(basename "$child") failed: $(head -3 "$tmp/err")"; done
	done
	for ((i = 0; i < N; i++)); do
		read -ra order <<<"${plan[i % ${#plan[@]}]}"
		for k in "${order[@]}"; do
			v=${variants[k]}
			: >"$BENCH_START_FILE"
			t0=${EPOCHREALTIME/[.,]/}
			run "$v" "$child" || die "$v around $(basename "$child") failed: $(head -3 "$tmp/err")"
			t1=${EPOCHREALTIME/[.,]/}
			wall[$v]+="$((t1 - t0)) "
			if [[ $child == "$standin" ]]; then
				ns=""
				read -r ns <"$BENCH_START_FILE" || true
				[[ -n $ns ]] || die "$v did not start the stand-in installer"
				start[$v]+="$(((ns - 10#$t0 * 1000) / 1000)) "
			fi
		done
	done
	# shellcheck disable=SC2086 # the lists split on purpose
	for v in "${variants[@]}"; do
		printf '%s\n' ${wall[$v]} >"$tmp/$part.$v"
		[[ -z ${start[$v]:-} ]] || printf '%s\n' ${start[$v]} >"$tmp/start.$v"
	done
}

# stats FILE: "median p25 p75 p90 lo hi" in ms; lo..hi is the distribution-
# free 95 % confidence interval of the median (ranks n/2 -+ 0.98 sqrt(n)).
stats() {
	sort -n "$1" | awk '
	function q(p, i) { i = int(p * n + 0.999999); return v[i < 1 ? 1 : i] }
	{ v[NR] = $1 }
	END {
		n = NR; h = 0.98 * sqrt(n)
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		lo = int(n / 2 - h); if (lo < 1) lo = 1
		hi = int(n / 2 + 1 + h + 0.999999); if (hi > n) hi = n
		printf "%.3f %.3f %.3f %.3f %.3f %.3f\n", med / 1000, q(0.25) / 1000, q(0.75) / 1000, q(0.9) / 1000, v[lo] / 1000, v[hi] / 1000
	}'
}
# diff A B OUT: per-round differences A - B into OUT
diff_rounds() { paste "$1" "$2" | awk '{ print $1 - $2 }' >"$3"; }
missed=0
declare -A interval=() # PART:A:B -> "LO HI" of the paired median A - B
# verdict LO HI TARGET
# (undecided: the N at which the interval would clear the target, if the
# median stayed where it is and the noise as it is; the interval narrows with
# the square root of N)
verdict() {
	awk -v lo="$1" -v hi="$2" -v t="$3" -v n="$N" 'BEGIN {
		if (n < 10) { print "no verdict under N=10 (the interval would cover less than 95 %)"; exit }
		if (hi <= t) { print "met"; exit }
		if (lo > t) { print "MISSED"; exit }
		gap = t - (lo + hi) / 2; if (gap < 0) gap = -gap; if (gap < 0.05) gap = 0.05
		need = n * ((hi - lo) / 2 / gap) ^ 2
		if (need <= 2000) printf "undecided (the interval straddles the target): rerun with about N=%d\n", need + 1
		else printf "undecided (the interval straddles the target): N would have to be about %d at this noise; rerun on a quiet machine\n", need + 1
	}'
}

# report PART TITLE: the tables of one part, from $tmp/PART.*
report() {
	local part=$1 v s a
	echo
	echo "$2, $N rounds (ms):"
	printf '  %-34s %8s %8s %14s\n' variant median p90 "added median"
	for v in "${variants[@]}"; do
		read -r s _ _ p90 _ _ < <(stats "$tmp/$part.$v")
		a="-"
		if [[ $v != direct ]]; then
			diff_rounds "$tmp/$part.$v" "$tmp/$part.direct" "$tmp/$part.added.$v"
			a=$(stats "$tmp/$part.added.$v" | awk '{ printf "%+.3f", $1 }')
		fi
		printf '  %-34s %8.3f %8.3f %14s\n' "$(label "$v")" "$s" "$p90" "$a"
	done
	printf '  %-34s %8s %-20s %-18s %s\n' "paired per round" median "[95 % interval]" "IQR" "ratio of medians"
	pairs=("cur base current - baseline" "aa base A/A: baseline copy - baseline" "cur-off base-off --no-metrics: current - baseline")
	[[ " ${variants[*]} " != *" cur-otlp "* ]] || pairs+=("cur-otlp cur current: +OTLP - textfile alone")
	[[ " ${variants[*]} " != *" base-otlp "* ]] || pairs+=("base-otlp base baseline: +OTLP - textfile alone")
	for p in "${pairs[@]}"; do
		read -r a b text <<<"$p"
		diff_rounds "$tmp/$part.$a" "$tmp/$part.$b" "$tmp/$part.d.$a.$b"
		read -r med q1 q3 _ lo hi < <(stats "$tmp/$part.d.$a.$b")
		ratio=$(awk -v x="$(stats "$tmp/$part.$a" | cut -d' ' -f1)" -v y="$(stats "$tmp/$part.$b" | cut -d' ' -f1)" 'BEGIN { printf "%.3f", (y > 0) ? x / y : 0 }')
		printf '  %-34s %+8.3f %-20s %-18s %s\n' "$text" "$med" "$(printf '[%+.3f, %+.3f]' "$lo" "$hi")" "$(printf '%+.3f..%+.3f' "$q1" "$q3")" "$ratio"
		interval[$part:$a:$b]="$lo $hi"
	done
}
# target TEXT PART:A:B LIMIT: one verdict line
target() {
	local v
	# shellcheck disable=SC2086 # "LO HI" splits on purpose
	v=$(verdict ${interval[$2]} "$3")
	[[ $v != MISSED ]] || missed=1
	printf '  %-72s %s\n' "$1 <= $3 ms:" "$v"
}

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(uname -sr); load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
echo "baseline: $BENCH_BASE = $base_desc (git archive, make build's flags)"
echo "current:  $cur_desc"
echo "installer: $(basename "$replay") version; stand-in: startstamp; OTLP receiver: $otlp_url"
printf '%s' "$otlp_note"

measure wall "$replay"
measure stand "$standin"

report wall "1. wall time of the replay installer's \`version\`"
report start "2. from launch to the installer's start (the stand-in's stamp)"
echo
echo "targets (verdict from the 95 % interval of the paired median):"
target "issue 12: metrics on, current - baseline, wall" wall:cur:base 0.3
target "issue 15: no OTLP sink, current - baseline, wall" wall:cur:base 0.3
if [[ -n ${interval[wall:cur-otlp:cur]:-} ]]; then
	target "issue 15: OTLP send to a healthy local receiver, over the textfile" wall:cur-otlp:cur 5
else
	echo "  issue 15: OTLP send: not measured (the current binary does not send to otlp+http://)"
fi
target "issue 16: metrics on, current - baseline, wall" wall:cur:base 1
target "issue 16: the installer's start, current - baseline" start:cur:base 1
echo "  noise floor (A/A, the baseline against its copy): 95 % interval wall [${interval[wall:aa:base]/ /, }], start [${interval[start:aa:base]/ /, }] ms"
otlp_variants=$(printf '%s\n' "${variants[@]}" | grep -c -- '-otlp$' || true)
if ((otlp_variants > 0)); then
	# each: the probe, 3 warm-up calls and N rounds, in both parts
	echo "  OTLP requests received: $(otlp_count) of $((otlp_variants * (1 + 2 * (3 + N))))"
fi
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
exit $((missed && ${STRICT:-0}))
