"""Devnet end to end: start sspd --dev, transfer with the CLI, kill -9 the
node mid-run while transfers flow, restart it on the same datadir and check
height, balances and the supply invariant survive (ARCHITECTURE §3 store:
one write txn per block)."""
import os
import shutil
import subprocess
import threading
import time

from sspnode import Cli, Node, bindir_from_argv, check, main, tempdir, wait_for

TOTAL = 10_000_000_000


def amount(s):
    """SSP decimal string -> base units, exactly."""
    whole, _, frac = s.partition(".")
    return int(whole) * 10**8 + int((frac + "0" * 8)[:8])


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    keys = os.path.join(node.datadir, "dev-keys")
    cli = Cli(bindir, node, keys)

    info = cli.run("info")
    check(info["network"] == "dev" and info["hrp"] == "dssp", "devnet identifies itself")
    sup = cli.run("supply")
    check(amount(sup["total"]) == TOTAL * 10**8, "total supply is 10,000,000,000 SSP")
    check(amount(sup["circulating"]) + amount(sup["locked"]) + amount(sup["pool"]) == TOTAL * 10**8,
          "circulating + locked + pool = total")

    # a second key in its own keystore, funded by the dev account
    wallet = tempdir()
    cli2 = Cli(bindir, node, wallet, password="pw")
    bob = cli2.run("key", "new", "--name", "bob")["address"]
    dev = cli.run("balance", "dev")
    r = cli.run("transfer", "--from", "dev", "--to", bob, "--amount", "12.5", "--memo", "first", "--wait")
    tx = cli.run("tx", r["txid"])
    check(tx["status"] in ("included", "finalized"), "first transfer is on chain")
    check(tx["tx"]["payload"]["amount"] == "12.5" and tx["tx"]["payload"]["memo"] == "first",
          "tx_get shows the transfer payload")
    check(amount(cli.run("balance", bob)["balance"]) == 1250000000, "bob has 12.5 SSP")
    dev_after = cli.run("balance", "dev")
    fee = amount(tx["tx"]["fee"])
    check(amount(dev["balance"]) - amount(dev_after["balance"]) == 1250000000 + fee,
          "dev paid amount + fee")
    check(amount(tx["receipt"]["fee_paid"]) == fee, "receipt records the fee")
    check("proof" in tx and tx["proof"]["count"] >= 1, "tx_get returns a Merkle proof")

    # bob sends back (his first tx registers his key)
    cli2.run("transfer", "--from", "bob", "--to", dev_after["address"], "--amount", "2", "--wait")
    check(amount(cli2.run("balance", bob)["balance"]) < 1050000000, "bob paid 2 SSP + fee")
    acct = node.rpc("account_get", {"address": bob})
    check(acct["key_type"] == "ed25519" and acct["nonce"] == 1, "bob's key is on chain, nonce 1")

    # transfers flow while the node is killed
    stop = threading.Event()
    sent = []

    def pump():
        while not stop.is_set() and len(sent) < 200:
            r = subprocess.run(cli.cmd + ["--rpc", node.url.replace("/rpc", ""), "--keystore", keys,
                                "--json", "transfer", "--from", "dev", "--to", bob, "--amount", "0.001"],
                               capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, SSP_PASSWORD=""))
            if r.returncode == 0:
                sent.append(r.stdout)
            else:
                time.sleep(0.05)

    t = threading.Thread(target=pump)
    t.start()
    wait_for(lambda: len(sent) >= 5, 60, "transfers in flight")
    before = node.height()
    node.kill9()
    stop.set()
    t.join(60)
    check(node.proc.returncode == -9, "node died of SIGKILL")

    # copy the datadir as the crash left it, then restart on it
    node2 = Node(bindir, datadir=node.datadir).start()
    h = node2.height()
    check(h >= before, "restart keeps every committed block (height %d >= %d)" % (h, before))
    node2.wait_height(h + 2, timeout=30)
    check(True, "the chain keeps producing after the restart")
    sup = node2.rpc("chain_getSupply")
    check(amount(sup["circulating"]) + amount(sup["locked"]) + amount(sup["pool"]) == TOTAL * 10**8,
          "supply invariant holds after the crash")
    cli_b = Cli(bindir, node2, keys)
    bal = amount(cli_b.run("balance", bob)["balance"])
    check(bal >= 1050000000 - 10**6, "bob's balance survived (%d)" % bal)
    # every block links to its parent and the head matches chain_getInfo
    head = node2.rpc("chain_getBlock")
    prev = node2.rpc("chain_getBlock", {"height": head["height"] - 1})
    check(head["prev_id"] == prev["id"], "blocks link after the restart")
    # a transfer after the restart works and its nonce follows on
    r = cli_b.run("transfer", "--from", "dev", "--to", bob, "--amount", "1", "--wait")
    check(cli_b.run("tx", r["txid"])["status"] in ("included", "finalized"), "transfer after restart")
    check(node2.stop() == 0, "node stops cleanly on SIGINT (exit 0)")
    check("stopped at height" in node2.logtext(), "node logs its clean stop")


if __name__ == "__main__":
    main(test)
