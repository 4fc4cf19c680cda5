"""A long sync over P2P: a chain of 5,000 blocks carrying 10,000 SSP
transfers and 500 calls of contracts/iot20.lua (deployed in block 1) is
built back to back by tests/tools/ssp_mkchain (ssp_produce_block, as
sspd's producer makes blocks, without waiting for each slot); one sspd
serves it as a full node, and a fresh full node given only the genesis
and that node's P2P address syncs it: same head id and state root, the
token balances the contract calls made, and `sspd --verify-db` accepts
the synced datadir.

The syncing node runs with --no-sync: 5,000 fsyncs alone take ~30 s on
the test machines, and durability across a crash in the middle of sync
is test_net_sync.py's subject (kill -9 and resume). --no-sync skips
fsync only (a process crash loses nothing; the page cache holds it).

Under a sanitizer build (ASan, TSan) or an emulator the chain has 2,000
blocks: the same paths, within the suite's time budget (ASan alone took
~55 s for 5,000 on a loaded 2-core machine)."""
import os
import subprocess
import time

from sspnode import EMULATOR, MAP_ARGS, Node, bindir_from_argv, check, command, main, tempdir, wait_for


def instrumented(bindir):
    """True for a sanitizer build of sspd (its runtime's entry points are in the binary)."""
    with open(os.path.join(bindir, "sspd"), "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def test():
    bindir = bindir_from_argv()
    blocks = 2000 if EMULATOR or instrumented(bindir) else 5000
    src_dir = os.path.join(tempdir(), "source")
    t = time.time()
    r = subprocess.run(command(bindir, "ssp_mkchain") + [
        "--datadir", src_dir, "--blocks", str(blocks), "--transfers-per-block", "2",
        "--contract", os.path.join(os.path.dirname(__file__), "..", "..", "contracts", "iot20.lua"),
        "--call-every", "10"] + MAP_ARGS, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "ssp_mkchain ran%s" % ("" if r.returncode == 0 else ": " + r.stderr.strip()[-300:]))
    made = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    check(int(made["height"]) == blocks and int(made["transfers"]) == 2 * blocks and
          int(made["calls"]) == blocks // 10,
          "%s blocks, %s transfers, %s contract calls in %.1f s" % (
              made["height"], made["transfers"], made["calls"], time.time() - t))
    genesis = os.path.join(src_dir, "genesis.json")

    src = Node(bindir, datadir=src_dir, dev=False,
               extra=["--genesis", genesis, "--p2p-listen", "127.0.0.1:0"]).start()
    info = src.rpc("chain_getInfo")
    check(info["height"] == blocks and info["head_id"] == made["head_id"],
          "the serving node opens the built chain at height %d" % info["height"])
    listen = src.rpc("net_getInfo")["listen"]

    full = Node(bindir, dev=False, extra=["--genesis", genesis, "--peer", listen, "--no-sync"])
    t = time.time()
    full.start()
    wait_for(lambda: full.height() >= blocks, 240, "the fresh node to sync %d blocks" % blocks,
             interval=0.25)
    dt = time.time() - t
    print("   sync: %d blocks in %.1f s (%.0f blocks/s)" % (blocks, dt, blocks / dt))
    a = src.rpc("chain_getBlock", {"height": blocks})
    b = full.rpc("chain_getBlock", {"height": blocks})
    check(b["id"] == made["head_id"] and b["state_root"] == made["state_root"] and
          a["state_root"] == b["state_root"],
          "the synced node has the same head id and state root at height %d" % blocks)
    q = {"address": made["contract"], "function": "balanceOf", "args": [made["recipient"]]}
    bal_src, bal_full = src.rpc("contract_query", q), full.rpc("contract_query", q)
    check(bal_src == bal_full and bal_full["return"] > 0,
          "the contract calls' token balances are the same on both (%s)" % bal_full["return"])
    wait_for(lambda: full.rpc("net_getInfo")["sync"] == "synced", 20, "sync state synced")
    check(full.stop() == 0, "the synced node stops cleanly")
    check(src.stop() == 0, "the serving node stops cleanly")
    bad = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
           "WARNING: ThreadSanitizer")
    found = [(b, n.log) for n in (src, full) for b in bad if b in n.logtext()]
    check(not found, "no sanitizer report in either node's log: %s" % (found or "none"))
    r = subprocess.run(command(bindir, "sspd") + ["--verify-db", full.datadir, "--genesis", genesis] +
                       MAP_ARGS, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0 and r.stdout.startswith("ok"),
          "sspd --verify-db accepts the synced datadir: %s" % (r.stdout.strip() or r.stderr.strip()))


if __name__ == "__main__":
    main(test)
