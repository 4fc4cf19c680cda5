"""A local network of four producers (`ssp testnet up --nodes 4`, real sspd
processes talking the encrypted P2P protocol on loopback, the BFT consensus
that `testnet up` now writes by default): every node converges on one head
(same id and state root) with finality following the head; a transfer sent to
one node is included once and visible on all with the same block and
proof; a state proof at the finalized height (below the head) verifies
against that height's header; net_getInfo/net_getPeers/metrics report the peers; kill -9 of a
producer and a restart: it catches up and never signs a slot twice (its
signing watermark, committed with its blocks, only grows, and the chains
stay one; no signing.state file is written any more); `down` then `up`
continues the same chain."""
import os
import re
import subprocess
import urllib.request

from sspnode import Cli, RpcError, bindir_from_argv, check, main, wait_for
from sspnet import Testnet
from test_state_proof import check_proof


def watermark(node):
    """The producer's last signed slot (net_getInfo; committed with its blocks)."""
    return node.rpc("net_getInfo")["last_signed_slot"]


def test():
    bindir = bindir_from_argv()
    net = Testnet(bindir, nodes=4, interval=500)
    rows = net.up()
    check(len(rows) == 4 and all(r["producer"] for r in rows), "testnet up: 4 producers")
    n0, n1, n2, n3 = net.nodes
    wait_for(lambda: all(n.rpc("net_getInfo")["peers"] == 3 for n in net.nodes), 20,
             "every node connected to the 3 others")
    h = net.wait_converged(min_height=8, timeout=40)
    check(h >= 8, "4 nodes converge on one head id and state root (height %d)" % h)
    producers = {n0.rpc("chain_getBlock", {"height": k})["producer"] for k in range(1, h + 1)}
    check(len(producers) == 4, "all four producers made blocks in turn")
    info = n2.rpc("chain_getInfo")
    check(info["finalized_height"] >= info["height"] - 4 and info["finalized_height"] > 0,
          "finality follows the head: final %d at height %d" % (info["finalized_height"], info["height"]))
    check(info["sync"]["state"] in ("synced", "syncing") and info["sync"]["peers"] == 3,
          "chain_getInfo carries the sync status")
    peers = n1.rpc("net_getPeers")["peers"]
    check(len(peers) == 3 and all(p["height"] > 0 and p["bytes_in"] > 0 for p in peers),
          "net_getPeers lists 3 peers with heights and traffic")
    metrics = urllib.request.urlopen(n3.url.replace("/rpc", "/metrics"), timeout=10).read().decode()
    check(re.search(r"^ssp_p2p_peers 3$", metrics, re.M) and "ssp_p2p_blocks_received_total" in metrics,
          "Prometheus metrics for peers and blocks received")
    buckets = [(le, int(v)) for le, v in
               re.findall(r'^ssp_block_propagation_seconds_bucket\{le="([^"]+)"\} (\d+)$', metrics, re.M)]
    count = re.search(r"^ssp_block_propagation_seconds_count (\d+)$", metrics, re.M)
    check(len(buckets) == 10 and buckets[-1][0] == "+Inf" and count
          and int(count.group(1)) == buckets[-1][1] > 0
          and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
          "propagation histogram: %s blocks from peers timed, cumulative buckets %s"
          % (count and count.group(1), [b[1] for b in buckets]))

    # a transfer sent to node 2 reaches the producers by gossip and is on every node
    dev = Cli(bindir, n2, os.path.join(net.dir, "keys"))
    to = n0.rpc("chain_getBlock", {"height": 1})["producer"]
    t = dev.run("transfer", "--from", "dev", "--to", to, "--amount", "3", "--wait")
    def everywhere():
        got = [n.rpc("tx_get", {"txid": t["txid"]}) for n in net.nodes]
        return got if all(g.get("status") in ("included", "finalized") for g in got) else None
    got = wait_for(everywhere, 20, "the transfer on every node")
    check(len({(g["block"]["height"], g["block"]["id"]) for g in got}) == 1 and
          len({str(g["proof"]) for g in got}) == 1, "same block and proof on all four nodes")

    # proofs at the finalized height (3 below the head here), rebuilt from the undo records,
    # verify against that block's header; any height up to the head too; below it: pruned
    wait_for(lambda: n2.rpc("tx_get", {"txid": t["txid"]}).get("status") == "finalized", 20,
             "the transfer final on node 2")
    past = None
    for _ in range(10):
        r = n2.rpc("account_getProof", {"address": to, "final": True})
        check(r["final"] is True and r["height"] == r["finalized_height"],
              "final: true proves at the finalized height %d" % r["height"])
        hdr = n2.rpc("chain_getBlock", {"height": r["height"]})
        check(r["block_id"] == hdr["id"] and r["state_root"] == hdr["state_root"],
              "the proof names that height's header")
        check_proof(n2, r, "account at the final height %d (head %d)" % (r["height"], r["head"]),
                    True)
        if r["height"] < r["head"]:
            past = r
            break
    check(past is not None, "a proof below the head was served (final < head)")
    check(int(past["account"]["balance"].split(".")[0]) >= 3, "the proven balance holds the transfer")
    mid = None
    for _ in range(10):
        info = n2.rpc("chain_getInfo")
        try:
            mid = n2.rpc("state_getProof",
                         {"table": "account", "key": past["key"],
                          "height": info["finalized_height"] + 1})
            break
        except RpcError as e:  # finality moved past it meanwhile, or the head is not there yet
            check(e.code in (-32011, -32001), "a height between final and head: %s" % e.message)
    check(mid is not None, "a proof between the final height and the head")
    check_proof(n2, mid, "account at height %d" % mid["height"], True)
    try:
        n2.rpc("account_getProof", {"address": to, "height": max(past["finalized_height"] - 1, 0)})
        check(False, "below the final height is refused")
    except RpcError as e:
        check(e.code == -32011 and e.data.get("error") == "PRUNED", "below final: PRUNED")

    # kill -9 a producer; the others go on; restarted, it catches up and never signs a slot twice
    before = watermark(n1)
    n1.kill9()
    h_kill = n0.height()
    n0_h = wait_for(lambda: n0.height() >= h_kill + 6 and n0.height(), 20, "3 producers go on")
    check(n0_h >= h_kill + 6, "the network goes on without the killed producer")
    net.up()  # starts what is not running
    net.wait_converged(min_height=n0_h + 2, timeout=40)
    after = watermark(n1)
    check(before > 0 and after >= before,
          "the restarted producer's watermark never goes back (%d -> %d)" % (before, after))
    check(not os.path.exists(os.path.join(n1.datadir, "signing.state")),
          "the watermark lives in the block's LMDB txn, not in a separate file")
    top = min(n0.height(), n1.height())
    same = [k for k in range(1, top + 1)
            if n1.rpc("chain_getBlock", {"height": k})["id"] == n0.rpc("chain_getBlock", {"height": k})["id"]]
    check(len(same) == top, "one chain everywhere after the restart (no second block for any slot)")
    wait_for(lambda: n1.rpc("net_getInfo")["peers"] == 3, 20, "the restarted node reconnected")

    # down and up again: the same chain goes on
    h_down = net.wait_converged(timeout=30)
    net.down()
    check(all(not n.pid() for n in net.nodes), "testnet down stops every node")
    net.up()
    h_up = net.wait_converged(min_height=h_down + 3, timeout=40)
    check(h_up > h_down and n0.rpc("tx_get", {"txid": t["txid"]})["status"] == "finalized",
          "up after down continues the same chain (%d -> %d)" % (h_down, h_up))
    st = net.status()
    check(len(st) == 4 and all(r["up"] and r["peers"] == 3 for r in st), "testnet status: 4 up, 3 peers each")
    net.down()
    net.check_logs()
    check(True, "no sanitizer report in any node's log")
    # the stopped chain replays offline under the same consensus rules
    r = subprocess.run([os.path.join(bindir, "sspd"), "--verify-db", n3.datadir, "--genesis",
                        os.path.join(net.dir, "genesis.json")], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and r.stdout.startswith("ok"), "sspd --verify-db accepts a 4-producer chain: %s" % (r.stdout.strip() or r.stderr.strip()))


if __name__ == "__main__":
    main(test)
