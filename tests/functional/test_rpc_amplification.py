"""Memory amplification through the RPC (issue 12): 8 concurrent requests
of each kind that used to make the node build replies a hundred times their
size — a 5 MB JSON-RPC batch of 100 tx_submitBatch calls of 10,000 "00"
each, and a 10 KB batch of 100 chain_getBlock calls of a full block — while
an honest client calls chain_getInfo. The node's RSS (sampled every 20 ms)
must stay under 1 GiB (3 GiB for an ASan or TSan build: shadow memory and
ASan's quarantine), every honest call must succeed, and each batch's replies
must stop at the per-request reply cap (16 MiB) with -32003 for the rest."""
import json
import os
import socket
import subprocess
import threading
import time

from sspnode import Node, bindir_from_argv, check, command, main

CAP = 16 << 20
CONCURRENT = 8


def post(port, body, timeout=120):
    """A JSON-RPC POST on a fresh connection; returns (status, decoded reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        chunks = []
        while True:
            c = s.recv(1 << 20)
            if not c:
                break
            chunks.append(c)
    data = b"".join(chunks)
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload) if payload else None


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def sanitized(pid):
    """True for an ASan or TSan build: their shadow memory (and ASan's quarantine)
    add to RSS, so only the plain build is held to the 1 GiB target."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return "libasan" in maps or "libtsan" in maps


def attack(node, body, what):
    """CONCURRENT copies of body at once, with RSS sampling and honest probes."""
    stop = threading.Event()
    peak = [rss_mib(node.proc.pid)]
    probes = {"ok": 0, "calls": 0, "worst": 0.0}
    replies = [None] * CONCURRENT

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(node.proc.pid))
            time.sleep(0.02)

    def honest():
        while not stop.is_set():
            probes["calls"] += 1
            t0 = time.monotonic()
            try:
                status, r = post(node.port, b'{"jsonrpc":"2.0","id":1,"method":"chain_getInfo"}', 30)
                if status == 200 and "result" in r:
                    probes["ok"] += 1
                    probes["worst"] = max(probes["worst"], time.monotonic() - t0)
            except (OSError, ValueError):
                pass
            time.sleep(0.1)

    def hostile(i):
        try:
            replies[i] = post(node.port, body)
        except (OSError, ValueError) as e:
            replies[i] = (0, repr(e))

    helpers = [threading.Thread(target=sample, daemon=True), threading.Thread(target=honest, daemon=True)]
    for t in helpers:
        t.start()
    h0 = node.height()
    t0 = time.monotonic()
    attackers = [threading.Thread(target=hostile, args=(i,), daemon=True) for i in range(CONCURRENT)]
    for t in attackers:
        t.start()
    for t in attackers:
        t.join(120)
    took = time.monotonic() - t0
    time.sleep(0.5)
    stop.set()
    for t in helpers:
        t.join(40)
    limit = 3072 if sanitized(node.proc.pid) else 1024
    ts = [node.rpc("chain_getBlock", {"height": h})["timestamp"] for h in range(h0, node.height() + 1)]
    gap = max((b - a for a, b in zip(ts, ts[1:])), default=0) / 1000.0
    print("%s x%d: %.1f s, node peak RSS %.0f MiB (limit %d), honest %d/%d, slowest %.0f ms, "
          "longest block gap %.1f s" % (what, CONCURRENT, took, peak[0], limit, probes["ok"],
                                         probes["calls"], probes["worst"] * 1000, gap))
    check(peak[0] < limit, "%s x%d: node RSS stays under %d MiB (peak %.0f)" %
          (what, CONCURRENT, limit, peak[0]))
    check(probes["calls"] >= 3 and probes["ok"] == probes["calls"],
          "%s: every honest call answered meanwhile (%d of %d)" % (what, probes["ok"], probes["calls"]))
    return replies


def check_capped(replies, method, what):
    for status, r in replies:
        check(status == 200 and isinstance(r, list) and len(r) == 100,
              "%s: a reply of 100 entries" % what)
        done = [x for x in r if "result" in x]
        cut = [x for x in r if "error" in x]
        check(done and cut and all(x["error"]["code"] in (-32003, -32002) for x in cut),
              "%s: %d replies, then %d refused (%s)" %
              (what, len(done), len(cut), cut[0]["error"]["message"] if cut else "-"))
        ids = [x["id"] for x in r]
        check(ids == list(range(100)), "%s: every entry answered with its id, in order" % what)
        size = len(json.dumps(r, separators=(",", ":")))
        check(size <= CAP + 100 * 200, "%s: reply of %d bytes, within the cap" % (what, size))


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    node.wait_height(1)

    # a (nearly) full block: 4,000 transfers (a sender may have 4,096 pending) in one
    # submission land in the next block or two
    info = node.rpc("chain_getInfo")
    with open(os.path.join(node.datadir, "genesis.json")) as f:
        team = [a for a in json.load(f)["allocations"] if a["category"] == "team"][0]["address"]
    txs = subprocess.run(
        command(bindir, "ssp_txgen") + ["--keystore",
         os.path.join(node.datadir, "dev-keys", "dev"), "--chain-id", info["chain_id"], "--hrp",
         info["hrp"], "--to", team, "--nonce", "0", "--count", "4000", "--expiry",
         str(info["height"] + 5000)], capture_output=True, text=True, timeout=60, check=True).stdout.split()
    rs = node.rpc("tx_submitBatch", {"txs": txs}, timeout=60)["results"]
    check(all("txid" in r for r in rs), "4,000 transfers accepted")
    h = node.height()
    node.wait_height(h + 3)
    heights = range(1, node.height() + 1)
    full = max(heights, key=lambda x: node.rpc("chain_getBlock", {"height": x})["tx_count"])
    blk = node.rpc("chain_getBlock", {"height": full, "full": True})
    one = len(json.dumps(blk))
    check(blk["size"] > 400000, "block %d is full: %d txs, %d bytes, %d bytes as JSON" %
          (full, blk["tx_count"], blk["size"], one))

    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "tx_submitBatch",
                        "params": {"txs": ["00"] * 10000}} for i in range(100)]).encode()
    check(len(body) > 5000000, "a %d-byte batch of 100 x tx_submitBatch of 10,000 x \"00\"" % len(body))
    check_capped(attack(node, body, "tx_submitBatch amplification"), "tx_submitBatch",
                 "100 x tx_submitBatch")

    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "chain_getBlock",
                        "params": {"height": full, "full": True}} for i in range(100)]).encode()
    check_capped(attack(node, body, "chain_getBlock amplification"), "chain_getBlock",
                 "100 x chain_getBlock")

    # nothing is held once the replies are gone: the node still serves and produces
    h = node.height()
    node.wait_height(h + 2)
    check(node.rpc("chain_getBlock", {"height": full, "full": True})["tx_count"] == blk["tx_count"],
          "a single full block is still served")
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
