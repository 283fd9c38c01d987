#!/usr/bin/env bash
# Classify a 1 GiB installer log side by side with `grep -c 'level=' FILE`
# (issue 4: throughput at least half of grep's, peak RSS at most 32 MiB).
#
#   hack/bench/classify.sh                                   # pkg/stages' bench command
#   hack/bench/classify.sh bin/install-metrics               # runs `bin/install-metrics metrics classify FILE`
#   hack/bench/classify.sh CMD [ARGS...]                     # runs `CMD ARGS... FILE`
#
# Environment: SIZE (bytes, default 1 GiB), RUNS (default 5, interleaved),
# LONG_EVERY (one long debug line every this many lines, default 2000; 0 for
# short lines only, the worst case for a line-by-line reader),
# STRICT=1 to exit 1 when a target is missed. The log is generated in a
# temporary directory under /tmp (real installer lines repeated, with
# terraform and Cluster API debug lines of 100 KiB to 4 MiB among them) and
# deleted on exit. Peak RSS is read with GNU time (/usr/bin/time -f %M).
set -euo pipefail

SIZE=${SIZE:-1073741824}
RUNS=${RUNS:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [[ ! -x /usr/bin/time ]]; then
	echo "classify.sh: /usr/bin/time (GNU time) is missing: apt-get install time" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/classify-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

(cd "$root" && go build -o "$tmp/classifybench" ./pkg/stages/internal/classifybench)
if [[ $# -eq 0 ]]; then
	classifier=("$tmp/classifybench" classify)
elif [[ $# -eq 1 && $(basename "$1") == install-metrics ]]; then
	classifier=("$1" metrics classify)
else
	classifier=("$@")
fi

log="$tmp/openshift_install.log"
"$tmp/classifybench" gen -size "$SIZE" -long-every "${LONG_EVERY:-2000}" -o "$log"
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null # into the page cache, for both alike

# run NAME CMD...: time one run (wall clock in microseconds, GNU time for
# the peak RSS), append "seconds maxrss_kib" to $tmp/NAME.
run() {
	local name=$1 start end
	shift
	start=${EPOCHREALTIME/[.,]/}
	/usr/bin/time -f '%M' -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || {
		echo "classify.sh: $name failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	}
	end=${EPOCHREALTIME/[.,]/}
	printf '%d.%06d %s\n' $(((end - start) / 1000000)) $(((end - start) % 1000000)) "$(tail -1 "$tmp/t")" >>"$tmp/$name"
}

for ((i = 1; i <= RUNS; i++)); do
	run grep grep -c 'level=' "$log"
	run classify "${classifier[@]}" "$log"
done
if ! grep -q Success "$tmp/out"; then
	echo "classify.sh: the classifier did not find the generated run's Success:" >&2
	cat "$tmp/out" >&2
	exit 1
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
g=$(cut -d' ' -f1 "$tmp/grep" | median)
c=$(cut -d' ' -f1 "$tmp/classify" | median)
rss=$(cut -d' ' -f2 "$tmp/classify" | sort -n | tail -1)
grss=$(cut -d' ' -f2 "$tmp/grep" | sort -n | tail -1)

awk -v b="$bytes" -v g="$g" -v c="$c" -v rss="$rss" -v grss="$grss" -v runs="$RUNS" \
	-v cmd="${classifier[*]}" -v every="${LONG_EVERY:-2000}" -v cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)" -v n="$(nproc)" '
function mbs(t) { return t > 0 ? b / 1e6 / t : 0 }
BEGIN {
	printf "log: %.0f MiB (one long line every %s lines), %d interleaved runs each, medians; %s, %d CPUs\n", b / 1048576, every, runs, cpu, n
	printf "grep -c level=   %7.3f s  %8.0f MB/s  peak RSS %6.1f MiB\n", g, mbs(g), grss / 1024
	printf "classify         %7.3f s  %8.0f MB/s  peak RSS %6.1f MiB  (%s)\n", c, mbs(c), rss / 1024, cmd
	ratio = (c > 0) ? g / c : 0
	printf "ratio classify/grep throughput: %.2f (target >= 0.50); peak RSS %.1f MiB (target <= 32)\n", ratio, rss / 1024
	ok = (ratio >= 0.5 && rss <= 32 * 1024)
	printf "targets met: %s\n", ok ? "yes" : "NO"
	exit ok ? 0 : 3
}' || {
	[[ ${STRICT:-0} == 1 ]] && exit 1
}
