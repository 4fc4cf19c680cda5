#!/usr/bin/env python3
"""bench_testnet.py BINDIR — a 4-producer testnet fed at full speed (benchmark).

`ssp testnet up --nodes 4` starts four sspd processes on loopback (real P2P,
round-robin producers, 500 ms slots, the devnet's 1 MiB / 20,000-tx blocks).
The funded `dev` account hands SSP to K senders (keys derived from labels by
tests/tools/ssp_txgen --derive, no keystores); then N transfers, pre-signed
before the clock starts (each sender's nonces 0.., each to the next sender),
are submitted through node0's RPC only (tx_submitBatch, two connections,
senders split between them so nonces arrive in order; MEMPOOL_FULL answers
are resent after a pause). Every node verifies every transaction: the ones
sent to node0 when they are admitted and gossiped, all of them again in the
blocks they import.

Figures (`BENCH name value unit`):
- testnet_tps: transfers committed on node0 per second, first submission to
  the block holding the last one; testnet_tps_x4 is that times 4 (every node
  checks every signature), to compare with ed25519_verify_all_cores of the
  same `make bench` invocation (bench/run.sh prints the ratio);
- testnet_per_node_cpu_s: transfers x 4 per CPU-second the four nodes used
  in the window (robust to other load on a shared machine);
- propagation: every node is subscribed to newHeads over WebSocket; a block's
  propagation time is the last node's notification minus the first one's
  (the producer's: it commits first), over the blocks of at least 512 KiB:
  testnet_propagation_ms_median and _p99, with the block sizes in a # line.
  All nodes share one clock (one machine); the notifications add the same
  small delay on every node.
Every wait has a deadline; the testnet is stopped and removed at the end."""
import asyncio
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websockets
except ImportError:  # Debian's python3-websockets imports only under the system python
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("bench_testnet.py: python3-websockets is missing (scripts/install-deps.sh)", file=sys.stderr)
    sys.exit(1)

SENDERS = 32
ROUNDS = 12           # paced ~1 MiB blocks timed for propagation
ROUND_PER_SENDER = 215  # 6,880 transfers a round: ~1.05 MiB, a full 1 MiB block and a little
BATCH = 2000
MAX_PENDING = 60000  # accepted and not yet committed: half the ... keeps the pools from filling
BIG_BLOCK = 512 * 1024


class Split(Exception):
    """The testnet split into branches (no fork choice yet: docs/internals/net.md)."""


def split_check(ports, what):
    """Raises Split if the nodes hold different blocks at their common height."""
    hs = [Rpc(p).call("chain_getInfo")["height"] for p in ports]
    ids = {Rpc(p).call("chain_getBlock", {"height": min(hs)})["id"] for p in ports}
    if len(ids) > 1:
        raise Split("%s: the nodes hold different blocks at height %d (heights %s)" % (
            what, min(hs), hs))


def die(msg):
    print("bench_testnet.py: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


class Rpc:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, params=None):
        body = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            body["params"] = params
        return self.raw(json.dumps(body).encode())

    def raw(self, body):
        for attempt in range(2):
            try:
                self.c.request("POST", "/rpc", body, {"Content-Type": "application/json"})
                r = json.loads(self.c.getresponse().read())
                break
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        if "error" in r:
            raise RuntimeError("%s: %s" % (r["error"].get("code"), r["error"].get("message")))
        return r["result"]


def ports_free(base, count):
    socks = []
    try:
        for p in range(base, base + count):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def txgen(bindir, *args):
    r = subprocess.run([os.path.join(bindir, "ssp_txgen")] + list(args), capture_output=True,
                       text=True, timeout=300)
    if r.returncode:
        die("ssp_txgen %s: %s" % (" ".join(args[:4]), r.stderr.strip()))
    return r.stdout.split()


class Heads:
    """newHeads of every node over WebSocket: (height -> {node: time seen})."""

    def __init__(self, ports):
        self.ports, self.seen, self.lock = ports, {}, threading.Lock()
        self.ready = threading.Event()
        self.stop = False
        self.loop = asyncio.new_event_loop()
        self.t = threading.Thread(target=lambda: self.loop.run_until_complete(self.main()), daemon=True)
        self.t.start()
        if not self.ready.wait(30):
            die("the WebSocket subscriptions did not start")

    async def one(self, i, port, started):
        async with websockets.connect("ws://127.0.0.1:%d/ws" % port, max_size=1 << 20) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subscribe",
                                      "params": {"topic": "newHeads"}}))
            json.loads(await ws.recv())
            started.append(i)
            if len(started) == len(self.ports):
                self.ready.set()
            while not self.stop:
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except asyncio.TimeoutError:
                    continue
                t = time.monotonic()
                h = m.get("params", {}).get("result", {}).get("height")
                if h is not None:
                    with self.lock:
                        self.seen.setdefault(h, {})[i] = t

    async def main(self):
        started = []
        await asyncio.gather(*(self.one(i, p, started) for i, p in enumerate(self.ports)))

    def close(self):
        self.stop = True
        self.t.join(5)


def submit(rpc, bodies, state, lock):
    """One connection: every batch in order; refused-for-space txs resent in order."""
    try:
        submit_all(rpc, bodies, state, lock)
    except BaseException as e:  # reported by the main thread, which cleans up
        with lock:
            state["error"] = str(e) or repr(e)


def submit_all(rpc, bodies, state, lock):
    for body_txs in bodies:
        pending = body_txs
        backoff = 0.01
        deadline = time.time() + 120
        while pending:
            while True:  # keep the pools from overflowing: the committed count catches up
                with lock:
                    if state["accepted"] - state["included"] < MAX_PENDING:
                        break
                time.sleep(0.005)
            body = ('{"jsonrpc":"2.0","id":1,"method":"tx_submitBatch","params":{"txs":["' +
                    '","'.join(pending) + '"]}}').encode()
            try:
                res = rpc.raw(body)["results"]
            except RuntimeError as e:
                if "-32002" not in str(e):
                    raise RuntimeError("tx_submitBatch: %s" % e)
                res = [{"error": {"data": {"error": "MEMPOOL_FULL"}}}] * len(pending)
            again, blocked = [], set()
            ok = 0
            for tx, r in zip(pending, res):
                e = r.get("error")
                if not e:
                    ok += 1
                    continue
                name = (e.get("data") or {}).get("error", "?")
                if name == "MEMPOOL_FULL" or name == "NONCE_GAP" or name == "BUSY":
                    again.append(tx)
                else:
                    raise RuntimeError("a transfer was refused: %s %s" % (name, e.get("message")))
            with lock:
                state["accepted"] += ok
                state["resent"] += len(again)
            pending = again
            if pending:
                if time.time() > deadline:
                    raise RuntimeError("node0 kept refusing a batch for 120 s")
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.2)


def paced_round(rpc0, ports, heads, txs, r, seen, bsz, interval):
    """Submits one round (one ~1 MiB block), waits for it on every node; the new height."""
    res = rpc0.call("tx_submitBatch", {"txs": txs})["results"]
    bad = [x for x in res if "error" in x]
    if bad:
        die("round %d: %d transfers refused: %s" % (r, len(bad), bad[0]))
    got, deadline = 0, time.time() + 30
    while got < len(txs):
        if time.time() > deadline:
            split_check(ports, "round %d" % r)
            die("round %d: its transfers were not committed within 30 s" % r)
        h = rpc0.call("chain_getInfo")["height"]
        while seen < h:
            seen += 1
            b = rpc0.call("chain_getBlock", {"height": seen})
            got += b["tx_count"]
            if b["size"] >= BIG_BLOCK:
                bsz.append((seen, b["size"]))
        time.sleep(0.02)
    while True:  # every node has committed it
        with heads.lock:
            if len(heads.seen.get(seen, {})) == len(ports):
                break
        if time.time() > deadline:
            split_check(ports, "round %d" % r)
            die("round %d: not every node committed height %d" % (r, seen))
        time.sleep(0.02)
    time.sleep(interval / 1000)
    return seen


def main():
    if len(sys.argv) < 2:
        die("usage: bench_testnet.py BINDIR [--txs N] [--nodes K] [--interval MS]")
    bindir = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    opt = {"--txs": 150000, "--nodes": 4, "--interval": 500, "--timeout": 150}
    for k in list(opt):
        if k in args:
            opt[k] = int(args[args.index(k) + 1])
    ntx, nodes = opt["--txs"], opt["--nodes"]
    top = tempfile.mkdtemp(prefix="ssp-bench-testnet-")
    tdir = os.path.join(top, "net")
    ssp = os.path.join(bindir, "ssp")
    for _ in range(50):
        base = random.randrange(20000, 32000, 2)
        if ports_free(base, 2 * nodes):
            break

    def tn(*a):
        r = subprocess.run([ssp, "--json", "testnet"] + list(a) + ["--dir", tdir],
                           capture_output=True, text=True, timeout=180)
        if r.returncode:
            die("ssp testnet %s: %s" % (a[0], r.stderr.strip()))
        return json.loads(r.stdout)

    heads = None
    try:
        rows = tn("up", "--nodes", str(nodes), "--interval", str(opt["--interval"]),
                  "--base-port", str(base))
        ports = [int(r["rpc"].split(":")[2].split("/")[0]) for r in rows]
        pids = []
        for r in rows:
            with open(os.path.join(tdir, r["name"], "sspd.pid")) as f:
                pids.append(int(f.read()))
        rpc0 = Rpc(ports[0])
        deadline = time.time() + 60
        while not all(Rpc(p).call("net_getInfo")["peers"] == nodes - 1 for p in ports):
            if time.time() > deadline:
                die("the testnet's nodes did not connect to each other")
            time.sleep(0.2)
        info = rpc0.call("chain_getInfo")
        cid, hrp = info["chain_id"], info["hrp"]
        print("# testnet: %d producers on loopback, %d ms slots, max_block_bytes %s, RPC of node0 "
              "only; %d senders, %d transfers" % (nodes, opt["--interval"],
                                                  info.get("max_block_bytes", "1 MiB"), SENDERS, ntx))
        # the senders, funded by dev in one batch
        labels = ["smartshare/bench/testnet/sender/%d" % i for i in range(SENDERS)]
        addrs = [txgen(bindir, "--derive", lb, "--hrp", hrp, "--address")[0] for lb in labels]
        expiry = str(info["height"] + 5000)
        fund = txgen(bindir, "--keystore", os.path.join(tdir, "keys", "dev"), "--chain-id", cid,
                     "--hrp", hrp, *sum((["--to", a] for a in addrs), []), "--nonce", "0",
                     "--count", str(SENDERS), "--amount", str(10**12), "--expiry", expiry)
        res = rpc0.call("tx_submitBatch", {"txs": fund})["results"]
        if any("error" in r for r in res):
            die("funding refused: %s" % res)
        last = res[-1]["txid"]
        deadline = time.time() + 60
        while rpc0.call("tx_get", {"txid": last}).get("status") not in ("included", "finalized"):
            if time.time() > deadline:
                die("the funding transfers were not included")
            time.sleep(0.1)
        # pre-signed transfers: sender i's nonces in order, round-robin over senders; the
        # first ROUNDS x ROUND_PER_SENDER nonces of each for the paced rounds
        per = (ntx + SENDERS - 1) // SENDERS
        paced = ROUNDS * ROUND_PER_SENDER
        t = time.time()
        txs = [txgen(bindir, "--derive", labels[i], "--chain-id", cid, "--hrp", hrp,
                     "--to", addrs[(i + 1) % SENDERS], "--nonce", "0", "--count", str(paced + per), "--pubkey-once",
                     "--expiry", expiry) for i in range(SENDERS)]
        rounds = [[s[j] for j in range(r * ROUND_PER_SENDER, (r + 1) * ROUND_PER_SENDER)
                   for s in txs] for r in range(ROUNDS)]
        conns = []
        for c in range(2):
            mine = [txs[i] for i in range(SENDERS) if i % 2 == c]
            order = [s[j] for j in range(paced, paced + per) for s in mine]
            conns.append([order[k:k + BATCH] for k in range(0, len(order), BATCH)])
        total = sum(len(b) for c in conns for b in c)
        print("# %d + %d transfers (%d bytes; a sender's first, %d bytes, carries its public key) "
              "pre-signed in %.1f s; batches of %d over 2 connections to node0, at most %d "
              "accepted and not committed" % (
                  ROUNDS * len(rounds[0]), total, len(txs[0][1]) // 2, len(txs[0][0]) // 2,
                  time.time() - t, BATCH, MAX_PENDING))
        heads = Heads(ports)

        # 1. propagation: one ~1 MiB block at a time on an idle network (a round's
        # transfers, all in one block), each timed from the first node's commit
        # (the producer's) to the last node's
        delays, bsz = [], []
        seen = rpc0.call("chain_getInfo")["height"]
        t_prop = time.time()
        split = None
        try:
            for r in range(ROUNDS):
                seen = paced_round(rpc0, ports, heads, rounds[r], r, seen, bsz, opt["--interval"])
        except Split as e:
            split = str(e)
            print("# warning: %s; propagation from the %d blocks before the split" % (
                split, len(bsz)))
        with heads.lock:
            for h, size in bsz:
                got = heads.seen.get(h, {})
                if len(got) == nodes:
                    delays.append((max(got.values()) - min(got.values())) * 1000)
        if delays:
            d = sorted(delays)
            sz = [x[1] for x in bsz]
            print("# propagation: %d rounds of %d transfers in %.1f s: %d blocks of %.0f..%.0f KiB "
                  "(mean %.0f KiB), each timed from the first to the last node's newHeads "
                  "notification; max %.1f ms" % (
                      ROUNDS, len(rounds[0]), time.time() - t_prop, len(d), min(sz) / 1024,
                      max(sz) / 1024, sum(sz) / len(sz) / 1024, d[-1]))
            print("# propagation per block, ms: %s" % " ".join("%.0f" % x for x in delays))
            print("BENCH testnet_propagation_ms_median %.1f ms" % d[len(d) // 2])
            print("BENCH testnet_propagation_ms_p99 %.1f ms" %
                  d[min(len(d) - 1, int(round(0.99 * (len(d) - 1))))])
        else:
            print("bench_testnet.py: warning: no block of >= %d KiB to time propagation with" %
                  (BIG_BLOCK // 1024), file=sys.stderr)

        # 2. throughput: everything else at full speed through node0
        if split:
            print("bench_testnet.py: warning: the testnet split during the paced rounds: no "
                  "throughput figures", file=sys.stderr)
            return
        h0 = rpc0.call("chain_getInfo")["height"]
        state = {"accepted": 0, "included": 0, "resent": 0}
        lock = threading.Lock()
        cpu0 = [proc_cpu(p) for p in pids]
        t0 = time.monotonic()
        ths = [threading.Thread(target=submit, args=(Rpc(ports[0]), conns[c], state, lock),
                                daemon=True) for c in range(2)]
        for th in ths:
            th.start()
        seen, included, t_last, last_progress = h0, 0, t0, t0
        sizes, blocks = {}, []
        while included < total:
            now = time.monotonic()
            if state.get("error"):
                die(state["error"])
            if now - t0 > opt["--timeout"]:
                die("only %d of %d transfers committed after %d s" % (included, total, opt["--timeout"]))
            if now - last_progress > 30:
                try:
                    split_check(ports, "throughput")
                except Split as e:
                    print("bench_testnet.py: warning: %s after %d of %d transfers committed: no "
                          "throughput figures (a 2-core machine running 4 nodes at full load "
                          "misses slots; branches are not reconciled until fork choice)" % (
                              e, included, total), file=sys.stderr)
                    return
                die("no progress for 30 s (%d of %d committed)" % (included, total))
            h = rpc0.call("chain_getInfo")["height"]
            if h == seen:
                time.sleep(0.02)
                continue
            while seen < h:
                seen += 1
                b = rpc0.call("chain_getBlock", {"height": seen})
                sizes[seen] = b["size"]
                blocks.append("%s:%d" % (b.get("slot", "?"), b["tx_count"]))
                if b["tx_count"]:
                    included += b["tx_count"]
                    with lock:
                        state["included"] = included
                    t_last = last_progress = time.monotonic()
        window = t_last - t0
        cpu1 = [proc_cpu(p) for p in pids]
        # every node at that height: its commit seen by its subscription
        deadline = time.time() + 30
        while True:
            with heads.lock:
                got = heads.seen.get(seen, {})
                if len(got) == nodes:
                    break
            if time.time() > deadline:
                die("not every node committed height %d within 30 s" % seen)
            time.sleep(0.05)
        for th in ths:
            th.join(10)
        node_cpu = sum(cpu1) - sum(cpu0)
        tps = included / window
        print("# window: first submission .. block %d (holding the last transfer) committed on "
              "node0: %.2f s, heights %d..%d; %d resent after MEMPOOL_FULL; the 4 nodes used "
              "%.2f CPU-s (%.2f cores of %d)" % (seen, window, h0 + 1, seen, state["resent"],
                                                 node_cpu, node_cpu / window, os.cpu_count()))
        print("# throughput blocks (slot:txs): %s" % " ".join(blocks))
        print("BENCH testnet_tps %.0f tx/s" % tps)
        print("BENCH testnet_tps_x4 %.0f tx/s" % (tps * nodes))
        print("BENCH testnet_per_node_cpu_s %.0f tx/cpu-s" % (included * nodes / node_cpu))
    finally:
        if heads:
            heads.close()
        if os.path.isdir(tdir):
            subprocess.run([ssp, "testnet", "down", "--dir", tdir], capture_output=True, timeout=120)
        if "--keep" in args:
            print("# kept %s" % tdir)
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
