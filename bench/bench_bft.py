#!/usr/bin/env python3
"""bench_bft.py BINDIR [--seconds S] [--nodes N] [--interval MS]: the BFT consensus on
a local testnet (`ssp testnet up --consensus bft`, real sspd processes on loopback).

Figures (lines "BENCH name value unit" for bench/run.sh):
  bft_finality_lag_slots_median / _p99  for every block made during the run: the time
      from the start of its slot until node0 reports it final (chain_getInfo, polled
      every 20 ms), in slots;
  bft_head_lag_blocks_median            head height - final height, sampled on every node;
  bft_sigs_per_block                    signatures the consensus verifies per block on a
      node: its QC's (decoded from the headers) plus the votes it received (metrics);
  bft_consensus_cpu_us_per_block        those verifications at this run's one-core Ed25519
      verify rate (bench_verify's ed25519_verify_one_core, passed with --verify-rate),
      i.e. the consensus' signature cost per block;
  bft_consensus_cpu_share_of_slot       that cost as a share of one slot on one core.
No figure is a pass/fail: timing never is."""
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "functional"))
from sspnet import Testnet  # noqa: E402


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    bindir = args[0]
    opt = dict(zip(args[1::2], args[2::2]))
    seconds = float(opt.get("--seconds", "40"))
    nodes = int(opt.get("--nodes", "4"))
    interval = int(opt.get("--interval", "500"))
    verify_rate = float(opt.get("--verify-rate", "0"))
    net = Testnet(bindir, nodes=nodes, interval=interval, consensus="bft")
    net.up()
    n0 = net.nodes[0]
    with open(os.path.join(net.dir, "genesis.json")) as f:
        genesis = json.load(f)
    g0 = genesis["genesis_time"]
    net.wait_converged(min_height=4, timeout=60)
    start_h = n0.height()
    final_at = {}  # height -> wall ms when node0 first reported it final
    lags = []
    last_final = n0.rpc("chain_getInfo")["finalized_height"]
    votes0 = n0.rpc("chain_getInfo")["consensus"]["votes"]["received"]
    t_end = time.time() + seconds
    k = 0
    while time.time() < t_end:
        i = n0.rpc("chain_getInfo")
        now = time.time() * 1000
        for h in range(last_final + 1, i["finalized_height"] + 1):
            final_at[h] = now
        last_final = max(last_final, i["finalized_height"])
        k += 1
        if k % 10 == 0:
            for n in net.nodes:
                j = n.rpc("chain_getInfo")
                lags.append(j["height"] - j["finalized_height"])
        time.sleep(0.02)
    info = n0.rpc("chain_getInfo")
    votes = info["consensus"]["votes"]["received"] - votes0
    slot_lags, qc_sigs, blocks = [], 0, 0
    for h in range(start_h + 1, info["height"] + 1):
        b = n0.rpc("chain_getBlock", {"height": h})
        blocks += 1
        qc = bytes.fromhex(b["finality_qc"])
        if qc:
            n = struct.unpack_from("<H", qc, 80)[0]
            qc_sigs += sum(bin(x).count("1") for x in qc[82:82 + (n + 7) // 8])
        if h in final_at:
            slot_start = g0 + b["slot"] * interval
            slot_lags.append((final_at[h] - slot_start) / interval)
    net.down()
    if not slot_lags or not blocks:
        print("bench_bft.py: no block became final during the run", file=sys.stderr)
        sys.exit(1)
    slot_lags.sort()
    lags.sort()
    print("# %d BFT producers, %d ms slots, %.0f s: %d blocks, %d final during the run"
          % (nodes, interval, seconds, blocks, len(slot_lags)))
    print("BENCH bft_finality_lag_slots_median %.2f slots" % slot_lags[len(slot_lags) // 2])
    print("BENCH bft_finality_lag_slots_p99 %.2f slots"
          % slot_lags[min(len(slot_lags) - 1, int(len(slot_lags) * 0.99))])
    print("BENCH bft_head_lag_blocks_median %d blocks" % lags[len(lags) // 2])
    per_block = (qc_sigs + votes) / blocks
    print("# per block on node0: %.1f QC signatures, %.1f votes received"
          % (qc_sigs / blocks, votes / blocks))
    print("BENCH bft_sigs_per_block %.1f sigs" % per_block)
    if verify_rate > 0:
        us = per_block / verify_rate * 1e6
        print("BENCH bft_consensus_cpu_us_per_block %.0f us" % us)
        print("BENCH bft_consensus_cpu_share_of_slot %.4f ratio" % (us / 1000 / interval))


if __name__ == "__main__":
    main()
