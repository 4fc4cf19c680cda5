"""The elected set produces (issue 9): on a BFT testnet of four genesis
delegates (`ssp testnet up`: d00..d03, standby 0, rounds of 4 slots), a
fifth node with a key of its own joins, registers as a delegate (its hash
onion made by the CLI from the node key) and is voted in above the lowest
genesis delegate. Checked from outside, through RPC and the blocks:

- the round that begins after the vote records the new set
  (dpos_getElection): the newcomer in, one genesis delegate out;
- from the round after that (once that block is final on the chain), the
  newcomer produces blocks — its reveals are checked by every node against
  the onion it registered — and the delegate voted out produces none;
- finality goes on under the new set (its votes are counted in the new
  set) and every node, the newcomer's included, keeps one chain."""
import os
import random
import signal
import subprocess
import time
from decimal import Decimal

from sspnode import Cli, Failure, RpcError, bindir_from_argv, check, main, wait_for
from sspnet import Testnet, _ports_free


def producer_of(node, height):
    return node.rpc("chain_getBlock", {"height": height})["producer"]


def test():
    bindir = bindir_from_argv()
    net = Testnet(bindir, nodes=4, interval=500)
    net.up()
    n0 = net.nodes[0]
    net.wait_converged(timeout=60, min_height=3)
    keys = os.path.join(net.dir, "keys")
    dev = Cli(bindir, n0, keys)
    def first_election():
        try:
            return n0.rpc("dpos_getElection")
        except RpcError:
            return None
    el = wait_for(first_election, 30, "the first round's election to be recorded")
    genesis_members = {m["address"] for m in el["members"]}
    check(len(genesis_members) == 4 and all(m.get("name", "").startswith("d")
                                            for m in el["members"]),
          "the genesis delegates are the elected set (%s)" % sorted(
              m.get("name") for m in el["members"]))

    # the newcomer: a key, SSP for its self-stake and fees, a node of its own
    dev.run("key", "new", "--name", "e0")
    e0 = {k["name"]: k for k in dev.run("key", "list")}["e0"]["address"]
    dev.run("transfer", "--from", "dev", "--to", e0, "--amount", "100000", "--wait")
    port = None
    for _ in range(50):
        p = random.randrange(20000, 32000, 2)
        if _ports_free(p, 2):
            port = p
            break
    datadir = os.path.join(net.dir, "e0")
    log = open(os.path.join(net.dir, "e0.log"), "ab")
    env = dict(os.environ, SSP_PRODUCER_PASSWORD="")
    proc = subprocess.Popen([os.path.join(bindir, "sspd"), "--genesis",
                             os.path.join(net.dir, "genesis.json"), "--datadir", datadir,
                             "--rpc-listen", "127.0.0.1:%d" % (port + 1),
                             "--p2p-listen", "127.0.0.1:%d" % port]
                            + sum((["--peer", n.p2p] for n in net.nodes), [])
                            + ["--producer-key", os.path.join(keys, "e0")],
                            stdout=log, stderr=log, env=env)

    class E0:
        url = "http://127.0.0.1:%d/rpc" % (port + 1)
    from sspnet import RpcClient
    en = type("E0Node", (RpcClient,), {"url": E0.url})()
    try:
        wait_for(lambda: en.rpc("chain_getInfo")["height"] >= n0.height() - 1, 60,
                 "the newcomer's node to sync")
        # register with the node key's own onion, then a voter puts it above the others
        dev.run("delegate", "register", "--from", "e0", "--name", "newcomer", "--self-stake", "10000",
                "--node-key", "e0", "--wait")
        d = n0.rpc("dpos_getDelegate", {"name": "newcomer"})
        check(d["status"] == "registered", "newcomer registered with e0's node key (onion %s…)"
              % d.get("onion", "")[:16])
        weights = sorted(Decimal(x["capped_weight"])
                         for x in n0.rpc("dpos_getDelegates")["delegates"]
                         if x["name"].startswith("d"))
        stake = weights[0] + 1000
        dev.run("stake", "--from", "voter0", "--amount", str(stake), "--wait")
        dev.run("vote", "--from", "voter0", "--for", "newcomer", "--wait")
        voted_at = n0.height()

        def elected():
            el = n0.rpc("dpos_getElection")
            addrs = {m["address"] for m in el["members"]}
            return el if d["address"] in addrs or e0 in addrs or any(
                m.get("name") == "newcomer" for m in el["members"]) else None
        el = wait_for(elected, 30, "a round to begin and record e0 in its elected set")
        members = {m.get("name"): m["address"] for m in el["members"]}
        out = genesis_members - set(members.values())
        check(len(el["members"]) == 4 and "newcomer" in members and len(out) == 1,
              "round %d elected the newcomer in place of %s" % (el["round"], sorted(out)))
        out_addr = out.pop()
        e0_node_addr = members["newcomer"]

        # e0 produces, from a later round on
        def e0_block():
            h = n0.height()
            for x in range(voted_at, h + 1):
                if producer_of(n0, x) == e0_node_addr:
                    return x
            return None
        first = wait_for(e0_block, 40, "a block produced by e0's node")
        slot = n0.rpc("chain_getBlock", {"height": first})["slot"]
        check(slot // 4 > el["round"], "e0's first block (height %d, slot %d) is in a round "
              "after the one that elected it (%d)" % (first, slot, el["round"]))
        # finality under the new set, on every node
        f0 = n0.rpc("chain_getInfo")["finalized_height"]
        wait_for(lambda: n0.rpc("chain_getInfo")["finalized_height"] >= first + 8, 40,
                 "finality to pass e0's first block by 8 under the new set")
        h = n0.height()
        gone = [x for x in range(first, h + 1) if producer_of(n0, x) == out_addr]
        check(not gone, "the delegate voted out produced nothing from height %d (%s)"
              % (first, gone))
        mine = sum(1 for x in range(first, h + 1) if producer_of(n0, x) == e0_node_addr)
        check(mine >= 2, "e0 produced %d blocks of heights %d..%d" % (mine, first, h))
        ids = {n.rpc("chain_getBlock", {"height": first + 4})["id"] for n in net.nodes}
        ids.add(en.rpc("chain_getBlock", {"height": first + 4})["id"])
        check(len(ids) == 1, "one block at height %d on all five nodes" % (first + 4))
        check(en.rpc("chain_getInfo")["consensus"]["votes"]["made"] > 0,
              "the newcomer votes")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    net.check_logs()
    return "e0 elected in round %d, first block at %d, final %d -> %d" % (
        el["round"], first, f0, n0.rpc("chain_getInfo")["finalized_height"])


if __name__ == "__main__":
    main(test)
