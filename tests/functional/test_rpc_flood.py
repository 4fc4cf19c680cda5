"""Connection flood and trickle against one node (issue 12): 2,000 sockets
held open from one address, re-opened whenever the node closes them, first
idle, then trickling one header byte per second each. Meanwhile an honest
client (a fresh connection per call, from the same address) calls
chain_getInfo and tx_submit: at least 99% must succeed with p99 <= 1 s,
blocks must keep their one-second cadence, and the node must close every
trickling socket at its request deadline (--rpc-request-timeout), however
slowly it sends. Prints the honest latencies (p50/p99) of each phase."""
import json
import os
import resource
import selectors
import socket
import subprocess
import threading
import time

from sspnode import Failure, Node, RpcError, bindir_from_argv, check, command, main

SOCKETS = 2000
DEADLINE_MS = 4000
HEADER = b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 4096


class Flood(threading.Thread):
    """Holds `n` sockets to port from src, re-opening each one the node
    closes; with trickle, every socket sends one more byte of a request
    header that never ends, once a second. Records how long each socket the
    node closed had lived."""

    def __init__(self, port, n, trickle, src="127.0.0.1"):
        super().__init__(daemon=True)
        self.port, self.n, self.trickle, self.src = port, n, trickle, src
        self.stop = threading.Event()
        self.lifetimes = []
        self.opened = 0
        self.failed_connects = 0

    def _open(self, sel):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((self.src, 0))
        except OSError:
            s.close()
            self.failed_connects += 1
            return
        s.connect_ex(("127.0.0.1", self.port))
        sel.register(s, selectors.EVENT_READ, [time.monotonic(), 0])
        self.opened += 1

    def run(self):
        sel = selectors.DefaultSelector()
        for _ in range(self.n):
            self._open(sel)
        next_tick = time.monotonic() + 1
        while not self.stop.is_set():
            for key, _ in sel.select(0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    continue  # a reply (an error page): wait for the close
                born = key.data[0]
                self.lifetimes.append(time.monotonic() - born)
                sel.unregister(s)
                s.close()
                self._open(sel)
            if self.trickle and time.monotonic() >= next_tick:
                next_tick += 1
                for key in list(sel.get_map().values()):
                    st = key.data
                    try:
                        key.fileobj.send(HEADER[st[1]:st[1] + 1])
                        st[1] = (st[1] + 1) % len(HEADER)
                    except OSError:
                        pass  # not connected yet, or being closed: the select sees it
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


def post(port, body, timeout=5):
    """One JSON-RPC call on a fresh connection; returns the decoded reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise Failure("HTTP status: %r" % head[:40])
    return json.loads(payload)


def probe(node, txs, seconds):
    """Honest calls for `seconds`: chain_getInfo and tx_submit in turn, each on
    a new connection. A tx that failed is submitted again (its nonce is next).
    Returns (latencies of successful calls, calls, failures)."""
    lat, calls, fails = [], 0, 0
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        if calls % 2 == 0:
            body = {"jsonrpc": "2.0", "id": calls, "method": "chain_getInfo"}
        else:
            body = {"jsonrpc": "2.0", "id": calls, "method": "tx_submit", "params": {"tx": txs[i]}}
        calls += 1
        t0 = time.monotonic()
        try:
            r = post(node.port, json.dumps(body).encode())
            ok = "result" in r
        except (OSError, ValueError, Failure):
            ok = False
        if ok:
            lat.append(time.monotonic() - t0)
            if calls % 2 == 0:
                i += 1
        else:
            fails += 1
        time.sleep(0.05)
    return lat, calls, fails, i


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("inf")


def cadence(node, h0, h1):
    """The longest gap between consecutive block timestamps in (h0, h1]."""
    ts = [node.rpc("chain_getBlock", {"height": h})["timestamp"] for h in range(h0, h1 + 1)]
    return max((b - a for a, b in zip(ts, ts[1:])), default=0) / 1000.0


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def phase(node, txs, used, trickle, seconds):
    flood = Flood(node.port, SOCKETS, trickle)
    flood.start()
    time.sleep(1.5)  # let every socket connect
    h0 = node.height()
    lat, calls, fails, n = probe(node, txs[used:], seconds)
    rss = rss_mib(node.proc.pid)
    flood.stop.set()
    flood.join(10)
    h1 = node.height()
    what = "trickle" if trickle else "idle"
    ok = calls - fails
    print("%s flood: %d sockets, %d opened in all; honest calls %d, ok %d (%.2f%%), "
          "p50 %.1f ms, p99 %.1f ms; node RSS %.0f MiB; blocks %d..%d" %
          (what, SOCKETS, flood.opened, calls, ok, 100.0 * ok / max(calls, 1),
           pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000, rss, h0, h1))
    check(calls >= 50, "%s flood: %d honest calls made" % (what, calls))
    check(ok >= 0.99 * calls, "%s flood: honest calls succeed >= 99%% (%d of %d)" % (what, ok, calls))
    check(pct(lat, 0.99) <= 1.0, "%s flood: honest p99 <= 1 s (%.3f s)" % (what, pct(lat, 0.99)))
    gap = cadence(node, h0, h1)
    check(h1 - h0 >= seconds * 0.7 and gap <= 2.5,
          "%s flood: blocks keep their cadence (%d blocks in %.0f s, longest gap %.1f s)" %
          (what, h1 - h0, seconds, gap))
    return flood, used + n


def test():
    bindir = bindir_from_argv()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SOCKETS + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, SOCKETS + 1000), hard))
    node = Node(bindir, extra=["--rpc-request-timeout", str(DEADLINE_MS)]).start()
    node.wait_height(1)
    info = node.rpc("chain_getInfo")
    dev = os.path.join(node.datadir, "dev-keys", "dev")
    addr = _genesis_address(node, "team")
    txs = subprocess.run(
        command(bindir, "ssp_txgen") + ["--keystore", dev, "--chain-id", info["chain_id"],
         "--hrp", info["hrp"], "--to", addr, "--nonce", "0", "--count", "600",
         "--expiry", str(info["height"] + 5000)],
        capture_output=True, text=True, timeout=60, check=True).stdout.split()
    check(len(txs) == 600, "600 honest transfers signed")

    used = 0
    _, used = phase(node, txs, used, trickle=False, seconds=12)
    flood, used = phase(node, txs, used, trickle=True, seconds=14)
    closed = sorted(flood.lifetimes)
    check(len(closed) >= SOCKETS, "the node closed every trickling socket (%d closes)" % len(closed))
    lo, med = closed[0], pct(closed, 0.5)
    check(lo >= DEADLINE_MS / 1000.0 - 0.5 and med <= DEADLINE_MS / 1000.0 + 3,
          "trickling sockets are closed at the request deadline (%.1f s min, %.1f s median, "
          "deadline %.1f s)" % (lo, med, DEADLINE_MS / 1000.0))

    # every honest tx the node accepted is kept: the last one gets included
    last = node.rpc("chain_getInfo")["height"]
    node.wait_height(last + 2)
    acc = node.rpc("account_get", {"address": _dev_address(node)})
    check(acc["nonce"] >= used, "the %d accepted honest transfers are on chain (nonce %d)" %
          (used, acc["nonce"]))
    check(node.stop() == 0, "node stops cleanly after the flood")


def _genesis_address(node, category):
    with open(os.path.join(node.datadir, "genesis.json")) as f:
        g = json.load(f)
    return [a for a in g["allocations"] if a["category"] == category][0]["address"]


def _dev_address(node):
    return _genesis_address(node, "private_placement")


if __name__ == "__main__":
    main(test)
