"""Follower mode: a node without a producer key (sspd --follow URL) pulls
every block from a devnet producer's RPC and imports it through the same
path P2P will use (ssp_chain_import: producer, slot, signatures, roots).
It must reach the producer's head with identical block ids and state
roots, answer tx_get with the same block and proof, survive kill -9 and
catch up, and refuse to start as both follower and producer."""
import os
import subprocess

from sspnode import (MAP_ARGS, Cli, Node, bindir_from_argv, check, command, main, tempdir,
                     wait_for)

CONTRACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contracts")


def same_chain(a, b, height):
    for h in range(1, height + 1):
        x = a.rpc("chain_getBlock", {"height": h})
        y = b.rpc("chain_getBlock", {"height": h})
        if (x["id"], x["state_root"], x["receipts_root"]) != (y["id"], y["state_root"], y["receipts_root"]):
            return False
    return True


def test():
    bindir = bindir_from_argv()
    prod = Node(bindir).start()
    dev = Cli(bindir, prod, os.path.join(prod.datadir, "dev-keys"))
    genesis = os.path.join(prod.datadir, "genesis.json")

    # a follower with its own datadir, from genesis
    fol = Node(bindir, dev=False, extra=["--genesis", genesis, "--follow", prod.url]).start()
    info = fol.rpc("chain_getInfo")
    check(info["chain_id"] == prod.rpc("chain_getInfo")["chain_id"], "follower serves the same chain")

    # activity on the producer: transfers, a native token, a contract deploy and calls
    wallet = tempdir()
    bob = Cli(bindir, prod, wallet, password="pw").run("key", "new", "--name", "bob")["address"]
    t1 = dev.run("transfer", "--from", "dev", "--to", bob, "--amount", "3", "--wait")
    dev.run("token", "create", "--from", "dev", "--symbol", "FOL", "--name", "Follow", "--decimals", "0",
            "--max-supply", "1000", "--wait")
    dev.run("token", "issue", "--from", "dev", "--symbol", "FOL", "--to", bob, "--amount", "7", "--wait")
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                "--args", '["PARK", "Parking credits", 2, 1000000, 5000]', "--wait")
    c = dev.run("contract", "call", "--from", "dev", d["contract"], "transfer", "--args",
                '["%s", 1200]' % bob, "--wait")
    check(c["status"] == "ok", "contract call on the producer")

    head = prod.height()
    fol.wait_height(head, 30)
    check(same_chain(prod, fol, head), "follower has the producer's blocks and state roots up to %d" % head)
    a = prod.rpc("tx_get", {"txid": t1["txid"]})
    b = fol.rpc("tx_get", {"txid": t1["txid"]})
    check(a["block"] == b["block"] and a["proof"] == b["proof"], "tx_get agrees: same block and proof")
    check(fol.rpc("token_balance", {"symbol": "FOL", "address": bob})["balance"] == "7",
          "follower knows the token balance")

    # kill -9 the follower, let the producer go on, restart: it catches up
    fol.kill9()
    dev.run("transfer", "--from", "dev", "--to", bob, "--amount", "1", "--wait")
    head = prod.height() + 2
    prod.wait_height(head)
    fol.start()
    fol.wait_height(head, 30)
    check(same_chain(prod, fol, head), "after kill -9 the follower caught up to %d" % head)
    metrics = subprocess.run(["curl", "-s", fol.url.replace("/rpc", "/metrics")], capture_output=True,
                             text=True, timeout=10).stdout
    check("ssp_blocks_imported_total" in metrics, "metrics count imported blocks")
    check(fol.stop() == 0, "follower stops cleanly")
    check(prod.stop() == 0, "producer stops cleanly")

    # a follower cannot also produce
    r = subprocess.run(command(bindir, "sspd") + ["--dev", "--datadir", tempdir(), "--follow",
                                                  prod.url] + MAP_ARGS,
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "--follow" in r.stderr + r.stdout, "--follow with --dev is refused")


if __name__ == "__main__":
    main(test)
