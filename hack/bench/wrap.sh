#!/usr/bin/env bash
# Cost of the wrapper (issue 3), whole processes side by side: the replay
# installer's `version` called directly, through install-metrics with metrics
# on, and through install-metrics --no-metrics; N interleaved runs each (the
# order rotates every round), medians of the wall time and of the time added
# (paired, per round). Then the wrapper's peak RSS: GNU/BSD time on `version`
# (that figure includes the child, whichever is larger), and on Linux the
# wrapper's own high-water mark (VmHWM) sampled during a replayed
# `create cluster`.
#
# Targets (issue 3): added median <= 5 ms with metrics on, <= 2 ms with
# --no-metrics; peak RSS <= 30 MiB.
#
# Usage: hack/bench/wrap.sh [install-metrics binary]
#   the binary: $1, else $INSTALL_METRICS_BIN, else bin/install-metrics, else
#   built into the temporary directory; the replay installer:
#   $OPENSHIFT_INSTALL_REPLAY_BIN, else bin/openshift-install-replay, else built.
#   N (default 200, at most 2000) runs per variant; the whole script stops
#   after BENCH_LIMIT seconds (default 600).
# Everything happens under one temporary directory (HOME and XDG_STATE_HOME
# too, so the local textfile sink writes there), removed on exit; no sink but
# that file, no network.
set -euo pipefail

N=${N:-200}
((N >= 1 && N <= 2000)) || { echo "N must be 1..2000" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wrap-bench.XXXXXX")
# The watchdog's sleep must not hold our stdout: `make bench` pipes it to tee,
# which would otherwise wait for the sleep to end long after we did.
(sleep "${BENCH_LIMIT:-600}" >/dev/null 2>&1 && echo "wrap.sh: time limit reached" >&2 && kill -TERM $$) 2>/dev/null &
watchdog=$!
trap 'kill $watchdog 2>/dev/null; rm -rf "$tmp"' EXIT

pick() { # pick VAR-value default-path package: an existing binary, else build one
	local given=$1 default=$2 pkg=$3 out=$tmp/$(basename "$3")
	if [[ -n $given ]]; then echo "$given"; return; fi
	if [[ -x $root/$default ]]; then echo "$root/$default"; return; fi
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$out" "$pkg") >&2 # as make build
	echo "$out"
}
im=$(pick "${1:-${INSTALL_METRICS_BIN:-}}" bin/install-metrics ./cmd/install-metrics)
replay=$(pick "${OPENSHIFT_INSTALL_REPLAY_BIN:-}" bin/openshift-install-replay ./cmd/openshift-install-replay)

# A clean metrics environment: nothing inherited, state under $tmp.
for v in $(compgen -v | grep -E '^(INSTALL_METRICS|OPENSHIFT_INSTALL_REPLAY)' || true); do unset "$v"; done
unset DO_NOT_TRACK
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state
mkdir -p "$HOME" "$XDG_STATE_HOME"

# Microseconds, without forking (bash 5's EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t)); }
[[ -n ${EPOCHREALTIME:-} ]] || now_us() { echo $(($(date +%s%N) / 1000)); }

# percentile P of the numbers on stdin (nearest rank)
pct() { sort -n | awk -v p="$1" '{v[NR] = $1} END {i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i]}'; }
ms() { awk '{printf "%.2f", $1 / 1000}'; }

echo "machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), $(uname -sr)"
echo "install-metrics: $im"
echo "installer:       $replay version"

run_direct() { "$replay" version >/dev/null 2>&1; }
run_metrics() { "$im" --installer "$replay" version >/dev/null 2>&1; }
run_nometrics() { "$im" --no-metrics --installer "$replay" version >/dev/null 2>&1; }
variants=(direct metrics nometrics)

for v in "${variants[@]}"; do "run_$v" || { echo "$v run failed" >&2; exit 1; }; : >"$tmp/$v"; done
for ((i = 0; i < N; i++)); do
	for ((k = 0; k < 3; k++)); do
		v=${variants[(i + k) % 3]}
		t0=$(now_us)
		"run_$v"
		t1=$(now_us)
		echo $((t1 - t0)) >>"$tmp/$v"
	done
done
# Paired differences, round by round.
paste "$tmp/direct" "$tmp/metrics" | awk '{print $2 - $1}' >"$tmp/added_metrics"
paste "$tmp/direct" "$tmp/nometrics" | awk '{print $2 - $1}' >"$tmp/added_nometrics"

echo
echo "$N interleaved runs each (wall time, ms):"
printf '  %-32s %8s %8s %14s\n' variant median p90 "added median"
printf '  %-32s %8s %8s %14s\n' "direct" "$(pct 50 <"$tmp/direct" | ms)" "$(pct 90 <"$tmp/direct" | ms)" "-"
printf '  %-32s %8s %8s %14s\n' "install-metrics" "$(pct 50 <"$tmp/metrics" | ms)" "$(pct 90 <"$tmp/metrics" | ms)" "+$(pct 50 <"$tmp/added_metrics" | ms)"
printf '  %-32s %8s %8s %14s\n' "install-metrics --no-metrics" "$(pct 50 <"$tmp/nometrics" | ms)" "$(pct 90 <"$tmp/nometrics" | ms)" "+$(pct 50 <"$tmp/added_nometrics" | ms)"
added_on=$(pct 50 <"$tmp/added_metrics")
added_off=$(pct 50 <"$tmp/added_nometrics")

# --- peak RSS --------------------------------------------------------------
maxrss_kib() { # max RSS (KiB) of the command, by GNU or BSD time
	local out
	if out=$(/usr/bin/time -v "$@" 2>&1 >/dev/null); then
		sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' <<<"$out"
	elif out=$(/usr/bin/time -l "$@" 2>&1 >/dev/null); then
		awk '/maximum resident set size/ {print int($1 / 1024)}' <<<"$out"
	fi
}
echo
rss_version=""
if [[ -x /usr/bin/time ]]; then
	for _ in 1 2 3 4 5; do maxrss_kib "$im" --installer "$replay" version; done >"$tmp/rss_im"
	for _ in 1 2 3 4 5; do maxrss_kib "$replay" version; done >"$tmp/rss_replay"
	rss_version=$(sort -n "$tmp/rss_im" | tail -1)
	printf 'peak RSS, install-metrics version (incl. child): %6.1f MiB (installer alone %.1f MiB)\n' \
		"$(bc -l <<<"$rss_version / 1024")" "$(bc -l <<<"$(sort -n "$tmp/rss_replay" | tail -1) / 1024")"
else
	echo "peak RSS: /usr/bin/time not found (apt-get install time)"
fi

rss_own=""
if [[ -r /proc/self/status ]]; then
	dir=$tmp/cluster
	mkdir -p "$dir"
	cp "$root/internal/replay/testdata/real/install-config.yaml" "$dir/"
	OPENSHIFT_INSTALL_REPLAY_SPEED=500 "$im" --installer "$replay" create cluster --dir "$dir" >/dev/null 2>&1 &
	pid=$!
	hwm=0
	for ((i = 0; i < 600; i++)); do # at most 30 s
		v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
		[[ -n $v ]] && ((v > hwm)) && hwm=$v
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$pid" || true
	rss_own=$hwm
	printf 'peak RSS, install-metrics alone during create cluster (VmHWM): %6.1f MiB\n' "$(bc -l <<<"$hwm / 1024")"
fi

echo
verdict() { if (($1)); then echo ok; else echo MISSED; fi; }
echo "targets: added median with metrics $(ms <<<"$added_on") ms <= 5: $(verdict "$added_on <= 5000");" \
	"with --no-metrics $(ms <<<"$added_off") ms <= 2: $(verdict "$added_off <= 2000")"
for r in $rss_version $rss_own; do
	echo "         peak RSS $(bc -l <<<"$r / 1024" | xargs printf '%.1f') MiB <= 30: $(verdict "$r <= 30720")"
done
