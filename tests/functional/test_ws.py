#!/usr/bin/env python3
"""WebSocket subscriptions on the RPC port (issue 13), with a real client
(Debian's python3-websockets) and raw sockets for the hostile parts:
newHeads, finalizedHeads, a tx's status (pending, included, finalized),
token events filtered by symbol and by address, unsubscribe; then bad
input: a subscription flood (capped per connection), malformed frames
(unmasked, reserved opcode, binary), an oversized message, a bad
handshake, a disallowed origin, too many connections, and a slow reader
that stops reading while the server has to send (dropped, memory bounded).
Through all of it the node keeps producing."""
import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time

try:
    import websockets
except ImportError:  # a pyenv/venv python before Debian's: re-run with the system one
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("python3-websockets is missing: install it (scripts/install-deps.sh)")
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sspnode import Cli, Node, bindir_from_argv, check, command, main, wait_for  # noqa: E402


def req(i, method, params):
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params})


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def until(ws, pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = await recv_json(ws, deadline - time.time())
        if pred(m):
            return m
    raise AssertionError("no matching message")


def handshake(port, extra_headers="", rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n%s\r\n" %
               (key, extra_headers)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head.decode(errors="replace")


def frame(op, payload, mask=True, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    hdr = bytes([b0])
    m = 0x80 if mask else 0
    if n < 126:
        hdr += bytes([m | n])
    elif n < 65536:
        hdr += bytes([m | 126]) + struct.pack(">H", n)
    else:
        hdr += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return hdr + payload
    k = os.urandom(4)
    return hdr + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))


def read_close(s, timeout=5):
    """The close code the server sends (None if it just closed)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    # skip to the first close frame (0x88)
    i = data.find(b"\x88")
    if i < 0 or len(data) < i + 4:
        return None
    return struct.unpack(">H", data[i + 2:i + 4])[0]


async def subscriptions(node, dev, bindir):
    url = "ws://127.0.0.1:%d/ws" % node.port
    async with websockets.connect(url) as ws:
        await ws.send(req(1, "subscribe", {"topic": "newHeads"}))
        heads_id = (await recv_json(ws))["result"]
        await ws.send(req(2, "subscribe", {"topic": "finalizedHeads"}))
        fin_id = (await recv_json(ws))["result"]
        heads, fins = [], []
        while len(heads) < 2 or not fins:
            m = await recv_json(ws)
            p = m["params"]
            (heads if p["subscription"] == heads_id else fins).append(p["result"])
        check(heads[1]["height"] == heads[0]["height"] + 1 and
              heads[1]["prev_id"] == heads[0]["id"] and len(heads[0]["id"]) == 64,
              "newHeads: consecutive heads (%d, %d)" % (heads[0]["height"], heads[1]["height"]))
        check(fins[0]["height"] >= 1, "finalizedHeads: a final head (%d)" % fins[0]["height"])
        await ws.send(req(3, "unsubscribe", {"subscription": heads_id}))
        await until(ws, lambda m: m.get("id") == 3 and m["result"] is True)
        await ws.send(req(4, "unsubscribe", {"subscription": fin_id}))
        await until(ws, lambda m: m.get("id") == 4)
        try:
            m = await recv_json(ws, 2.5)
            check(False, "nothing after unsubscribe (got %s)" % m)
        except asyncio.TimeoutError:
            check(True, "unsubscribe: no more notifications")

        # a tx's status: pending, included, finalized
        info = node.rpc("chain_getInfo")
        raw = subprocess.run(command(bindir, "ssp_txgen") + [
            "--keystore", os.path.join(node.datadir, "dev-keys", "dev"), "--chain-id",
            info["chain_id"], "--hrp", info["hrp"], "--to",
            node.rpc("token_get", {"symbol": "WSX"})["address"], "--nonce",
            str(node.rpc("account_get", {"address": dev.run("balance", "dev")["address"]})[
                "pending_nonce"]), "--count", "1", "--expiry", str(info["height"] + 100)],
            capture_output=True, text=True, check=True).stdout.split()[0]
        txid = hashlib.sha256(bytes.fromhex(raw)).hexdigest()
        await ws.send(req(5, "subscribe", {"topic": "txStatus", "txid": txid}))
        await until(ws, lambda m: m.get("id") == 5)
        node.rpc("tx_submit", {"tx": raw})
        statuses = []
        while not statuses or statuses[-1] not in ("finalized", "rejected"):
            statuses.append((await until(ws, lambda m: m.get("method") == "subscription"))[
                "params"]["result"]["status"])
        check(statuses == ["pending", "included", "finalized"],
              "txStatus: %s" % " -> ".join(statuses))

    async with websockets.connect(url) as ws:
        tok = node.rpc("token_get", {"symbol": "WSX"})
        await ws.send(req(1, "subscribe", {"topic": "events", "symbol": "WSX"}))
        await ws.send(req(2, "subscribe", {"topic": "events", "symbol": "OTHER"}))
        await ws.send(req(3, "subscribe", {"topic": "events", "address": tok["address"],
                                           "name": "Transfer"}))
        ids = {}
        for _ in range(3):
            m = await recv_json(ws)
            ids[m["id"]] = m["result"]
        await asyncio.get_event_loop().run_in_executor(None, lambda: dev.run(
            "token", "issue", "--from", "dev", "--symbol", "WSX", "--to", "dev", "--amount",
            "7", "--wait"))
        got = {}
        while len(got) < 2:
            p = (await recv_json(ws))["params"]
            got[p["subscription"]] = p["result"]
        check(ids[2] not in got and got[ids[1]]["symbol"] == "WSX" and
              got[ids[1]]["name"] == "Transfer" and got[ids[1]]["fields"]["value"] == 7,
              "events filtered by symbol: the WSX Transfer, nothing for OTHER")
        check(got[ids[3]]["address"] == tok["address"],
              "events filtered by address and name: the token's Transfer")

        # a subscription flood on one connection: capped
        for i in range(100):
            await ws.send(req(100 + i, "subscribe", {"topic": "newHeads"}))
        codes = []
        while len(codes) < 100:
            m = await recv_json(ws)
            if "id" in m and m["id"] is not None and m["id"] >= 100:
                codes.append(m["error"]["code"] if "error" in m else 0)
        check(codes.count(0) == 32 - 3 and set(codes) == {0, -32003},
              "subscription flood: 29 more accepted (32 per connection), the rest -32003")
        await ws.send(req(300, "subscribe", {"topic": "nope"}))
        await ws.send(req(301, "subscribe", {"topic": "txStatus"}))
        await ws.send(req(302, "chain_getInfo", {}))
        await ws.send("{not json")
        errs = {}
        while len(errs) < 4:
            m = await recv_json(ws)
            if "error" in m:
                errs[m["id"]] = m["error"]["code"]
        check(errs == {300: -32602, 301: -32602, 302: -32601, None: -32700},
              "unknown topic, missing txid, other methods, bad JSON: clear errors %s" % errs)


def hostile(node):
    port = node.port
    s, head = handshake(port)
    check(head.startswith("HTTP/1.1 101"), "raw handshake: 101 Switching Protocols")
    s.sendall(frame(1, b'{"jsonrpc":"2.0","id":1,"method":"subscribe"}', mask=False))
    check(read_close(s) == 1002, "unmasked frame: closed with 1002")
    s.close()
    s, _ = handshake(port)
    s.sendall(frame(3, b"x"))
    check(read_close(s) == 1002, "reserved opcode: closed with 1002")
    s.close()
    s, _ = handshake(port)
    s.sendall(frame(1, b"x", rsv=0x40))
    check(read_close(s) == 1002, "reserved bits: closed with 1002")
    s.close()
    s, _ = handshake(port)
    s.sendall(frame(2, b"\x00\x01"))
    check(read_close(s) == 1003, "binary frame: closed with 1003")
    s.close()
    s, _ = handshake(port)
    s.sendall(frame(1, b" " * (1 << 20))[:20000])  # announces 1 MiB
    check(read_close(s) == 1009, "a 1 MiB message: closed with 1009 (too big)")
    s.close()
    s, _ = handshake(port)
    s.sendall(frame(9, b"x" * 126, fin=True))
    check(read_close(s) == 1002, "a ping longer than 125 bytes: closed with 1002")
    s.close()
    s, head = handshake(port, "Origin: https://evil.example\r\n")
    check(head.startswith("HTTP/1.1 403"), "a disallowed Origin: 403, no upgrade")
    s.close()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    check(s.recv(100).startswith(b"HTTP/1.1 400"), "a handshake without key/version: 400")
    s.close()

    # a slow reader: it sends pings and never reads the pongs
    s, _ = handshake(port, rcvbuf=4096)
    ping = frame(9, b"p" * 125)
    sent = 0
    s.settimeout(5)
    try:
        for _ in range(40000):
            s.sendall(ping)
            sent += len(ping)
    except (socket.timeout, BrokenPipeError, ConnectionResetError):
        pass
    wait_for(lambda: metric(node, "ssp_ws_dropped_total") >= 1, 15, "the slow reader dropped")
    check(True, "a client that does not read is dropped (after %d KiB of pings)" %
          (sent >> 10))
    s.close()

    # more connections than the cap: refused with 503, the rest work
    socks, refused = [], 0
    for _ in range(270):
        c, head = handshake(port)
        socks.append(c)
        refused += head.startswith("HTTP/1.1 503")
    check(refused >= 270 - 256, "past 256 WebSockets: 503 (%d refused)" % refused)
    for c in socks:
        c.close()


def metric(node, name):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % node.port, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    dev.run("token", "create", "--from", "dev", "--symbol", "WSX", "--name", "ws",
            "--max-supply", "1000", "--wait")
    asyncio.run(subscriptions(node, dev, bindir))
    rss0 = rss_kib(node.proc.pid)
    h0 = node.height()
    hostile(node)
    node.wait_height(h0 + 2)
    check(True, "the node kept producing through it all")
    wait_for(lambda: metric(node, "ssp_ws_connections") == 0, 10, "WebSockets closed")
    rss1 = rss_kib(node.proc.pid)
    check(rss1 < rss0 + 100 * 1024, "memory bounded: RSS %d -> %d MiB" % (rss0 >> 10,
                                                                        rss1 >> 10))
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
