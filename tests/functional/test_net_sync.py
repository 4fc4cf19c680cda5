"""Block sync over P2P: a producer (a one-node testnet with 100 ms slots)
makes a few hundred blocks carrying transfers; a fresh full node given only
the genesis and the producer's P2P address fetches block ranges, verifies
and applies them in order, survives kill -9 in the middle (it resumes from
its own head), and ends with the same head id and state root; a tx sent
to the full node reaches the producer by gossip."""
import os
import subprocess
import time

from sspnode import Node, bindir_from_argv, check, main, wait_for
from sspnet import Testnet

TARGET = 250


def test():
    bindir = bindir_from_argv()
    net = Testnet(bindir, nodes=1, interval=100)
    net.up()
    prod = net.nodes[0]
    keys = os.path.join(net.dir, "keys")
    to = prod.rpc("chain_getInfo")  # the chain id and HRP
    gen = subprocess.run([os.path.join(bindir, "ssp_txgen"), "--keystore", os.path.join(keys, "dev"),
                          "--chain-id", to["chain_id"], "--hrp", to["hrp"],
                          "--to", "dssp1thvdlfm0qu5v8nzyuaw7m6fva2dkn0hxh7pzz7", "--nonce", "0",
                          "--count", "601", "--expiry", "100000"],
                         capture_output=True, text=True, timeout=60, check=True)
    txs = gen.stdout.split()
    # transfers spread over the chain: a batch every few blocks
    sent = 0
    while prod.height() < TARGET:
        if sent < 600:
            res = prod.rpc("tx_submitBatch", {"txs": txs[sent:sent + 20]})
            sent += 20
        wait_for(lambda h=prod.height(): prod.height() > h, 10, "the next block", interval=0.05)
    h_prod = prod.height()
    n_tx = sum(1 for r in res if "txid" in r) if isinstance(res, list) else 0
    check(h_prod >= TARGET, "producer at height %d after %d transfers submitted" % (h_prod, sent))

    genesis = os.path.join(net.dir, "genesis.json")
    full = Node(bindir, dev=False, extra=["--genesis", genesis, "--peer", prod.p2p]).start()
    wait_for(lambda: full.height() >= 20, 60, "the full node to start syncing")
    mid = full.height()
    if mid < h_prod:
        full.kill9()
        full.start()
        check(full.height() >= mid, "after kill -9 in the middle of sync it resumes from height %d" % full.height())
    t_sync = time.time()
    wait_for(lambda: full.height() >= h_prod, 90, "the full node to reach the producer's height")
    print("   sync: %d blocks after the restart in %.2f s" % (h_prod - mid, time.time() - t_sync))
    a = prod.rpc("chain_getBlock", {"height": h_prod})
    b = full.rpc("chain_getBlock", {"height": h_prod})
    check(a["id"] == b["id"] and a["state_root"] == b["state_root"],
          "the synced node has the same block id and state root at height %d" % h_prod)
    info = full.rpc("chain_getInfo")
    check(info["sync"]["peers"] == 1, "the full node has one peer")
    wait_for(lambda: full.rpc("chain_getInfo")["sync"]["state"] == "synced", 20, "sync state synced")
    ni = wait_for(lambda: (lambda i: i if i["lag"] <= 1 else None)(full.rpc("net_getInfo")), 20,
                  "net_getInfo lag <= 1")
    check(len(ni["node_id"]) == 64 and ni["best_peer_height"] >= h_prod,
          "net_getInfo: node id, the best peer height, lag %d" % ni["lag"])
    # the full node follows the head and relays a tx to the producer
    rest = txs[sent:sent + 1]
    if rest:
        r = full.rpc("tx_submit", {"tx": rest[0]})
        txid = r["txid"]
        wait_for(lambda: prod.rpc("tx_get", {"txid": txid}).get("status") in ("included", "finalized"), 20,
                 "a tx sent to the full node included by the producer")
        wait_for(lambda: full.rpc("tx_get", {"txid": txid}).get("status") in ("included", "finalized"), 20,
                 "and seen by the full node")
        check(True, "a tx submitted to the full node is gossiped to the producer and included")
    check(full.stop() == 0, "the full node stops cleanly (exit 0)")
    net.down()
    net.check_logs([full])
    check(True, "no sanitizer report in any node's log")


if __name__ == "__main__":
    main(test)
