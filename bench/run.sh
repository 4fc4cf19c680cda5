#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — runs Smartshare's benchmarks against BUILD_DIR/bin
# and prints every figure as `BENCH <name> <value> <unit>`, with the run's
# context as `#` lines. What the figures mean: docs/bench.md.
# Environment: BENCH_TXS (default 1000000) to shorten or lengthen the run.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
bin="$build/bin"
for b in sspd bench_transfer; do
	if [ ! -x "$bin/$b" ]; then
		echo "bench/run.sh: $bin/$b is missing: build first (make build)" >&2
		exit 1
	fi
done

echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# host: $(uname -srm), nproc $(nproc), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo 'cpu unknown')"
echo "# memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The datadir lives on the same filesystem as the build (not tmpfs): commits are fsync'd.
datadir=$(mktemp -d "${TMPDIR:-/tmp}/ssp-bench.XXXXXX")
rmdir "$datadir" # bench_transfer creates it and removes it at the end
trap 'rm -rf "$datadir"' EXIT

echo "# bench_transfer: end-to-end signed-transfer throughput of one devnet node"
# Every wait inside has its own deadline (--timeout bounds the transfer window);
# `timeout` is the last resort.
timeout 420 "$bin/bench_transfer" --sspd "$bin/sspd" --txs "${BENCH_TXS:-1000000}" \
	--timeout 300 "$datadir"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
