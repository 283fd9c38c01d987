#!/usr/bin/env bash
# Speed of pkg/modification's snapshot (issue 5), whole processes side by side:
#
#  1. A directory of 2,000 manifests plus three ignition configs of about 1 MiB
#     each and a matching state file (nothing modified, so every byte is
#     compared): `sha256sum` over every file of it (the state file included:
#     Take reads it too), and over the assets alone, against one
#     `modification-bench DIR` process (Take and Modified), interleaved, RUNS
#     times each. Target: at most 1.5 times.
#  2. The real run-02 directory (testdata/installer-real/02-create-manifests):
#     the time Take adds inside the wrapper, in ms, next to the installer's own
#     wall time for that run.
#
# Usage: hack/bench/modification.sh [modification-bench binary]
# Without an argument, or given another binary (`make bench` passes
# bin/install-metrics, which has no snapshot-only mode), the script builds
# ./hack/bench/modification into its temporary directory.
# Everything happens under one temporary directory, removed on exit; no network.
set -euo pipefail

RUNS=${RUNS:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/modification-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

bin=${1:-}
if [[ -z $bin || $(basename "$bin") != modification-bench* ]]; then
	[[ -n $bin ]] && echo "note: $bin is not a modification-bench binary; building one"
	bin=$tmp/modification-bench
	(cd "$root" && go build -o "$bin" ./hack/bench/modification)
fi

now_us() { echo $(($(date +%s%N) / 1000)); }

# median of the numbers on stdin
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -sr)"
echo "tools: $(sha256sum --version | head -1), $(go version | cut -d' ' -f3)"

# --- 1. large directory --------------------------------------------------
large=$tmp/large
timeout 300 "$bin" -gen-large "$large"
mapfile -t files < <(cd "$large" && find . -type f | sort)
mapfile -t assets < <(printf '%s\n' "${files[@]}" | grep -v '/\.openshift_install_state\.json$')
bytes=$(cd "$large" && cat "${files[@]}" | wc -c)
echo
echo "large directory: ${#files[@]} files, $((bytes / 1024 / 1024)) MiB (state file $(($(stat -c %s "$large/.openshift_install_state.json") / 1024 / 1024)) MiB)"

out=$(cd "$large" && timeout 60 "$bin" .)
[[ $out == *"labels=0 warnings=0"* ]] || { echo "unexpected result on the large directory: $out" >&2; exit 1; }

: >"$tmp/sha" && : >"$tmp/sha-assets" && : >"$tmp/take" && : >"$tmp/inproc"
(cd "$large" && sha256sum "${files[@]}" >/dev/null) # warm the page cache
for _ in $(seq "$RUNS"); do
	t0=$(now_us)
	(cd "$large" && timeout 60 sha256sum "${files[@]}" >/dev/null)
	t1=$(now_us)
	line=$(cd "$large" && timeout 60 "$bin" .)
	t2=$(now_us)
	(cd "$large" && timeout 60 sha256sum "${assets[@]}" >/dev/null)
	t3=$(now_us)
	echo $((t1 - t0)) >>"$tmp/sha"
	echo $((t2 - t1)) >>"$tmp/take"
	echo $((t3 - t2)) >>"$tmp/sha-assets"
	sed -n 's/^take_ms=\([0-9.]*\).*/\1/p' <<<"$line" >>"$tmp/inproc"
done
sha=$(median <"$tmp/sha")
sha_assets=$(median <"$tmp/sha-assets")
take=$(median <"$tmp/take")
inproc=$(median <"$tmp/inproc")
printf 'sha256sum, every file:                median %8.1f ms (%d runs)\n' "$(bc -l <<<"$sha / 1000")" "$RUNS"
printf 'sha256sum, without the state file:    median %8.1f ms\n' "$(bc -l <<<"$sha_assets / 1000")"
printf 'snapshot+compare, whole process:      median %8.1f ms (interleaved with both)\n' "$(bc -l <<<"$take / 1000")"
printf 'snapshot+compare, inside the process: median %8.1f ms\n' "$inproc"
printf 'ratio to sha256sum of every file:     %.2f (target <= 1.5)\n' "$(bc -l <<<"$take / $sha")"
printf 'ratio to sha256sum without the state: %.2f\n' "$(bc -l <<<"$take / $sha_assets")"

# --- 2. real run-02 directory --------------------------------------------
run02=$root/testdata/installer-real/02-create-manifests
"$bin" -rebuild "$run02" "$tmp/run02"
installer_s=$(cat "$run02/wall_seconds.txt")
ms=$(cd "$tmp/run02" && for _ in $(seq "$RUNS"); do timeout 60 "$bin" .; done | sed -n 's/^take_ms=\([0-9.]*\).*/\1/p' | median)
echo
echo "real run-02 directory ($(find "$tmp/run02" -type f | wc -l) files, before create ignition-configs):"
printf 'time Take adds, inside the wrapper:   median %8.2f ms (%d processes, one Take each)\n' "$ms" "$RUNS"
printf "installer's own wall time, run 02:             %8.0f ms (wall_seconds.txt)\n" "$(bc -l <<<"$installer_s * 1000")"
printf 'share of the installer time:          %.2f %%\n' "$(bc -l <<<"$ms / ($installer_s * 10)")"
