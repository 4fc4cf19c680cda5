"""The producer's time budget (sspd --exec-budget-ms, INI key exec_budget_ms):
a local policy, never a validity rule. A devnet producer with a 1 ms budget
(set in its INI file) gets 3,000 transfers at once: it spreads them over
many blocks, says so in its log, includes every one, and a follower
(sspd --follow URL, which never looks at the clock) imports every block with
the same ids and state roots. Bad values are refused."""
import json
import os
import subprocess

from sspnode import (MAP_ARGS, Node, bindir_from_argv, check, command, main, tempdir,
                     wait_for)

N = 3000


def test():
    bindir = bindir_from_argv()
    cfgdir = tempdir()
    cfg = os.path.join(cfgdir, "sspd.ini")
    with open(cfg, "w") as f:
        f.write("[node]\nexec_budget_ms = 1\n")
    prod = Node(bindir, extra=["--config", cfg]).start()
    prod.wait_height(1)
    info = prod.rpc("chain_getInfo")
    with open(os.path.join(prod.datadir, "genesis.json")) as f:
        team = [a for a in json.load(f)["allocations"] if a["category"] == "team"][0]["address"]
    txs = subprocess.run(
        command(bindir, "ssp_txgen") + ["--keystore", os.path.join(prod.datadir, "dev-keys", "dev"),
         "--chain-id", info["chain_id"], "--hrp", info["hrp"], "--to", team, "--nonce", "0",
         "--count", str(N), "--expiry", str(info["height"] + 5000)],
        capture_output=True, text=True, timeout=60, check=True).stdout.split()
    check(len(txs) == N, "%d transfers signed" % N)
    start = prod.height()
    rs = prod.rpc("tx_submitBatch", {"txs": txs}, timeout=60)["results"]
    check(all("txid" in r for r in rs), "%d transfers accepted at once" % N)

    def included():
        n = 0
        for h in range(start + 1, prod.height() + 1):
            n += prod.rpc("chain_getBlock", {"height": h})["tx_count"]
        return n >= N

    wait_for(included, 90, "all %d transfers included" % N, interval=1)
    counts = [prod.rpc("chain_getBlock", {"height": h})["tx_count"]
              for h in range(start + 1, prod.height() + 1)]
    busy = [c for c in counts if c]
    check(len(busy) >= 2 and max(busy) < N,
          "the 1 ms budget spread them over %d blocks (at most %d per block)" % (len(busy), max(busy)))
    check("block time budget of 1000 us spent" in prod.logtext(), "the producer's log says why")

    # a follower re-executes every block whatever the producer's clock said
    genesis = os.path.join(prod.datadir, "genesis.json")
    fol = Node(bindir, dev=False, extra=["--genesis", genesis, "--follow", prod.url]).start()
    head = prod.height()
    fol.wait_height(head, 60)
    differ = [h for h in range(1, head + 1)
              if [prod.rpc("chain_getBlock", {"height": h})[k] for k in ("id", "state_root", "receipts_root")]
              != [fol.rpc("chain_getBlock", {"height": h})[k] for k in ("id", "state_root", "receipts_root")]]
    check(not differ, "the follower imported all %d blocks with the same ids and roots" % head)
    check(fol.stop() == 0, "follower stops cleanly")
    check(prod.stop() == 0, "producer stops cleanly")

    for bad in ("-1", "x", "3600001"):
        r = subprocess.run(command(bindir, "sspd") + ["--dev", "--datadir", tempdir(), "--exec-budget-ms",
                                                      bad] + MAP_ARGS,
                           capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "--exec-budget-ms must be" in r.stderr,
              "--exec-budget-ms %s is refused" % bad)


if __name__ == "__main__":
    main(test)
