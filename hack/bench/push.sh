#!/usr/bin/env bash
# Speed targets of issue 6 (pkg/push), medians:
#   - a gateway that accepts and never answers: the send returns at most
#     100 ms after --metrics-timeout;
#   - a push to a healthy local gateway: at most 5 ms;
#   - a textfile update with 1,000 series in the file: at most 2 ms;
#   - the same with the histograms of 50 versions x 14 platforms (issue 12): at most 2 ms;
#   - 100 runs ending at once on one textfile: all 100 counted.
#
#   hack/bench/push.sh                       # Go benchmarks of pkg/push only
#   hack/bench/push.sh bin/install-metrics   # and whole-process runs of the wrapper
#
# Environment: RUNS (default 5; interleaved whole-process runs, -count of the
# Go benchmarks), TIMEOUT (the never-answering case, default 1s), STRICT=1 to
# exit 1 when a target is missed. Everything listens on 127.0.0.1 and lives in
# a temporary directory deleted on exit. The fake installer is /bin/true.
set -euo pipefail

RUNS=${RUNS:-5}
TIMEOUT=${TIMEOUT:-1s}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/push-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
missed=0
verdict() { # verdict VALUE OP LIMIT
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "<=") ? v <= l : v >= l) }'; then echo ok; else missed=1; echo MISSED; fi
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Go benchmarks: per-iteration medians reported by the benchmarks.
echo ">> go test -bench (pkg/push), -count $RUNS"
(cd "$root" && go test -run '^$' -bench 'SendNeverAnswering|GatewayPushHealthy|TextfileUpdate1000Series|Textfile100Concurrent' \
	-benchtime 50x -count "$RUNS" ./pkg/push) >"$tmp/gobench.txt"
(cd "$root" && go test -run '^$' -bench 'TextfileUpdateWithHistograms' \
	-benchtime 50x -count "$RUNS" ./pkg/sink/textfile) >>"$tmp/gobench.txt"
metric() { # metric BENCH UNIT -> median over the -count runs
	awk -v b="^Benchmark$1-" -v u="$2" '$1 ~ b { for (i = 2; i < NF; i++) if ($(i + 1) == u) print $i }' "$tmp/gobench.txt" | median
}
over=$(metric SendNeverAnswering ms-past-timeout)
push=$(metric GatewayPushHealthy median-ms)
tf=$(metric TextfileUpdate1000Series median-ms)
tfnew=$(metric TextfileUpdate1000SeriesNewSeries median-ms)
conc=$(metric Textfile100Concurrent ns/op)
printf '  never-answering gateway (200ms timeout): %6.2f ms past the timeout   target <= 100  %s\n' "$over" "$(verdict "$over" '<=' 100)"
printf '  healthy local gateway push:              %6.2f ms                    target <= 5    %s\n' "$push" "$(verdict "$push" '<=' 5)"
printf '  textfile update, 1,000 series in file:   %6.2f ms                    target <= 2    %s\n' "$tf" "$(verdict "$tf" '<=' 2)"
printf '  (same, a series not yet in the file:     %6.2f ms, full parse)\n' "$tfnew"
tfh=$(metric TextfileUpdateWithHistograms median-ms)
tfmb=$(metric TextfileUpdateWithHistograms file-MB)
printf '  textfile update, + histograms 50x14:     %6.2f ms (files %s MB)        target <= 2    %s\n' "$tfh" "$tfmb" "$(verdict "$tfh" '<=' 2)"
printf '  100 concurrent textfile updates:         %6.1f ms for all 100 (each counted: checked by the benchmark)\n' "$(awk -v n="$conc" 'BEGIN { print n / 1e6 }')"

if [[ $# -eq 0 ]]; then
	exit $((missed && ${STRICT:-0}))
fi

# 2. Whole process: the wrapper around /bin/true.
im=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
(cd "$root" && go build -o "$tmp/fakegateway" ./pkg/push/internal/fakegateway)
start_gw() { # start_gw MODE: the URL lands in $tmp/MODE.url
	"$tmp/fakegateway" -mode "$1" -url-file "$tmp/$1.url" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [[ -s $tmp/$1.url ]] && return; sleep 0.05; done
	echo "push.sh: fakegateway -mode $1 did not start" >&2
	exit 1
}
start_gw blackhole
start_gw healthy
hole=$(cat "$tmp/blackhole.url")
healthy=$(cat "$tmp/healthy.url")

ms() { # ms CMD... : wall-clock milliseconds of one run
	local s e
	s=${EPOCHREALTIME/[.,]/}
	"$@" >/dev/null 2>"$tmp/err" || { echo "push.sh: $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
	e=${EPOCHREALTIME/[.,]/}
	awk -v d=$((e - s)) 'BEGIN { printf "%.3f\n", d / 1000 }'
}
export XDG_STATE_HOME=$tmp/state
timeout_ms=$(awk -v t="$TIMEOUT" 'BEGIN { if (t ~ /ms$/) print t + 0; else print (t + 0) * 1000 }')
for ((i = 1; i <= RUNS; i++)); do
	ms "$im" --no-metrics --installer /bin/true version >>"$tmp/none"
	ms "$im" --installer /bin/true --metrics-sink "$healthy" version >>"$tmp/healthy"
	ms "$im" --installer /bin/true --metrics-sink "$hole" --metrics-timeout "$TIMEOUT" version >>"$tmp/hole"
	ms "$im" --installer /bin/true version >>"$tmp/textfile"
done
none=$(median <"$tmp/none")
h=$(median <"$tmp/healthy")
b=$(median <"$tmp/hole")
t=$(median <"$tmp/textfile")
hole_over=$(awk -v b="$b" -v n="$none" -v t="$timeout_ms" 'BEGIN { printf "%.1f", b - t - n }')
echo ">> $im around /bin/true, $RUNS interleaved runs each, medians"
printf '  --no-metrics:                          %7.1f ms\n' "$none"
printf '  textfile (default sink):               %7.1f ms  (+%.1f)\n' "$t" "$(awk -v a="$t" -v n="$none" 'BEGIN { print a - n }')"
printf '  healthy gateway:                       %7.1f ms  (+%.1f)\n' "$h" "$(awk -v a="$h" -v n="$none" 'BEGIN { print a - n }')"
printf '  never-answering gateway, timeout %s:  %7.1f ms  (%.1f ms past the timeout beyond --no-metrics)  target <= 100  %s\n' \
	"$TIMEOUT" "$b" "$hole_over" "$(verdict "$hole_over" '<=' 100)"

# 100 wrapper processes ending at once on one textfile.
export XDG_STATE_HOME=$tmp/conc
s=${EPOCHREALTIME/[.,]/}
cpids=()
for ((i = 0; i < 100; i++)); do
	"$im" --installer /bin/true version >/dev/null 2>>"$tmp/conc.err" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
e=${EPOCHREALTIME/[.,]/}
counted=$("$im" metrics show --format prom | awk '/^cluster_installation_invocation\{/ { n += $NF } END { print n + 0 }')
printf '  100 runs at once on one textfile:      %7.1f ms in all, %d counted  target 100  %s\n' \
	"$(awk -v d=$((e - s)) 'BEGIN { print d / 1000 }')" "$counted" "$(verdict "$counted" '>=' 100)"
[[ -s $tmp/conc.err ]] && { echo "  warnings:"; sed 's/^/    /' "$tmp/conc.err" | sort | uniq -c | head; }
exit $((missed && ${STRICT:-0}))
