#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — runs Smartshare's benchmarks against BUILD_DIR/bin
# and prints every figure as `BENCH <name> <value> <unit>`, with the run's
# context as `#` lines. What the figures mean: docs/bench.md.
#
# Three end-to-end runs back to back, each on a fresh devnet node with the
# same N: native SSP transfers, native IOT_Coin token transfers and
# contracts/iot20.lua transfer calls; the token figures are also given as
# ratios to the SSP transfer figure of this same invocation. Then bench_vm:
# the contract VM's gas-metering overhead and call rates, then its gas
# calibration corpus (bench_vm --calibrate). Then bench_agent: a SmartAgent's
# signatures per second through a SoftHSM2 token and through a keystore file.
# Then bench_state: the state tree at 1,000,000 accounts (BENCH_ACCOUNTS): update
# cost per written key, commit per block, proof size and generation rate, disk bytes.
# The SSP run also times a fresh sspd syncing its chain over P2P from one peer
# (p2p_sync_*); bench_testnet.py then runs a 4-producer `ssp testnet` on loopback:
# propagation of ~1 MiB blocks and full-speed throughput through one node's RPC
# (testnet_*), both as ratios to the verify baseline of the SSP run.
# Environment: BENCH_TXS (default 300000) to shorten or lengthen each run.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
bin="$build/bin"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for b in sspd bench_transfer bench_vm; do
	if [ ! -x "$bin/$b" ]; then
		echo "bench/run.sh: $bin/$b is missing: build first (make build)" >&2
		exit 1
	fi
done
ntx=${BENCH_TXS:-300000}

echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# host: $(uname -srm), nproc $(nproc), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo 'cpu unknown')"
echo "# memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The datadirs live on the same filesystem as the build (not tmpfs): commits are fsync'd.
base=$(mktemp -d "${TMPDIR:-/tmp}/ssp-bench.XXXXXX")
out="$base/figures"
trap 'rm -rf "$base"' EXIT

# One end-to-end run. Every wait inside has its own deadline (--timeout bounds
# the transfer window); `timeout` is the last resort. bench_transfer creates
# the datadir and removes it at the end.
run_kind() {
	local kind=$1 dir=$1
	shift
	case " $* " in *" p256 "*) dir="$kind-p256" ;; esac
	echo "# bench_transfer --kind $kind $*: end-to-end throughput of one devnet node, $ntx txs"
	timeout 300 "$bin/bench_transfer" --kind "$kind" --sspd "$bin/sspd" --txs "$ntx" \
		--contract "$repo/contracts/iot20.lua" --timeout 240 "$@" "$base/$dir" | tee -a "$out"
	echo "# load average after --kind $kind: $(cut -d' ' -f1-3 /proc/loadavg)"
}
run_kind ssp --p2p-sync
# the verify baseline belongs to the SSP run; the token runs are compared with that run
run_kind token --verify-seconds 0
run_kind lua --verify-seconds 0
# device-signed transfers (P-256, what secure elements sign with) against P-256's own
# all-core verify rate, measured in that run (issue 11: target >= 0.6)
run_kind ssp --key-type p256

fig() { awk -v n="$1" '$1 == "BENCH" && $2 == n {v = $3} END {print v}' "$out"; }
ratio() { # name numerator denominator
	if [ -n "$2" ] && [ -n "$3" ]; then
		awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN {if (b > 0) printf "BENCH %s %.3f ratio\n", n, a / b}'
	fi
}
echo "# token throughput against the SSP transfers of this invocation (same N, same block limits)"
ratio native_token_vs_ssp "$(fig native_token_tps)" "$(fig transfer_tps)"
ratio lua_token_vs_ssp "$(fig lua_token_tps)" "$(fig transfer_tps)"
# per CPU-second the node got: robust to other processes on a shared machine
ratio native_token_cpu_vs_ssp_cpu "$(fig native_token_per_node_cpu_s)" "$(fig transfer_per_node_cpu_s)"
ratio lua_token_cpu_vs_ssp_cpu "$(fig lua_token_per_node_cpu_s)" "$(fig transfer_per_node_cpu_s)"

if [ -x "$bin/ssp" ] && [ -x "$bin/ssp_txgen" ]; then
	echo "# bench_testnet.py: 4 producers (ssp testnet up --nodes 4) fed through node0's RPC"
	timeout 300 python3 "$repo/bench/bench_testnet.py" "$bin" --txs "${BENCH_TESTNET_TXS:-100000}" | tee -a "$out"
	echo "# every node verifies every transfer: committed transfers x 4 against the all-core verify rate"
	ratio testnet_x4_vs_verify "$(fig testnet_tps_x4)" "$(fig ed25519_verify_all_cores)"
	ratio testnet_cpu_vs_verify_cpu "$(fig testnet_per_node_cpu_s)" "$(fig ed25519_verify_one_core)"
	echo "# bench_bft.py: 4 BFT producers (ssp testnet up --consensus bft): finality lag, the consensus' signature cost per block"
	timeout 300 python3 "$repo/bench/bench_bft.py" "$bin" --seconds "${BENCH_BFT_SECONDS:-40}" \
		--verify-rate "$(fig ed25519_verify_one_core)" | grep -v '^ok - ' | tee -a "$out"
fi

echo "# bench_vm: the contract VM alone (no chain): gas-metering overhead and call rates"
timeout 120 "$bin/bench_vm" --contract "$repo/contracts/iot20.lua"
echo "# bench_vm --calibrate: gas per CPU-second of worst-case operations against an iot20 transfer"
timeout 120 "$bin/bench_vm" --calibrate --seconds 0.5 --contract "$repo/contracts/iot20.lua"
if [ -x "$bin/bench_state" ]; then
	echo "# bench_state: the state tree at ${BENCH_ACCOUNTS:-1000000} accounts (one core): update per key, commit per block, proofs, disk"
	timeout 600 "$bin/bench_state" --accounts "${BENCH_ACCOUNTS:-1000000}" --blocks 20 --block-txs 1000
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# SmartAgent signatures: a throwaway SoftHSM2 token and a P-256 keystore
if [ -x "$bin/bench_agent" ] && command -v softhsm2-util >/dev/null; then
	echo "# bench_agent: libsmartagent signatures (sign, low-S, verify before returning) vs P-256 in memory"
	hsm="$base/hsm"
	mkdir -p "$hsm/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$hsm" >"$hsm/softhsm2.conf"
	export SOFTHSM2_CONF="$hsm/softhsm2.conf" SSP_AGENT_LOCK_DIR="$hsm"
	softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
	"$bin/ssp-agent" init --uri pkcs11:token=bench --pin 1234 >/dev/null
	timeout 60 "$bin/bench_agent" --uri pkcs11:token=bench --pin 1234 --seconds 1 --name softhsm2
	SSP_PASSWORD=pw "$bin/ssp" --keystore "$hsm/keys" key new --name device --type p256 >/dev/null
	timeout 60 "$bin/bench_agent" --uri "file:$hsm/keys/device" --pin pw --seconds 1 --name file
fi
