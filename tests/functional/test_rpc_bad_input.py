"""Bad input through the RPC: malformed JSON-RPC, wrong params, oversized
bodies, and hostile transactions (non-canonical, truncated, trailing bytes,
wrong chain id, bad and high-S signatures, replays, overdrafts). Each gets
its own clear error and the node keeps producing with nothing lost."""
import json
import os
import socket

from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def expect_error(node, method, params, code, name=None, what=""):
    try:
        node.rpc(method, params)
    except RpcError as e:
        ok = e.code == code and (name is None or (e.data or {}).get("error") == name)
        check(ok, "%s -> %d %s (got %s %s)" % (what or method, code, name or "",
                                               e.code, (e.data or {}).get("error")))
        return
    check(False, "%s should fail with %d %s" % (what or method, code, name or ""))


def raw_reply(node, body):
    status, data = node.rpc_raw(body)
    return status, (json.loads(data) if data else None)


def tx_fields(raw):
    """Offsets of the fields of an encoded tx (docs/internals/chain.md)."""
    o = {}
    cid = raw[1]
    o["chain_id"] = 2
    p = 2 + cid + 2 + 20 + 8 + 8 + 8
    plen = int.from_bytes(raw[p:p + 4], "little")
    o["has_pubkey"] = p + 4 + plen
    o["sig"] = len(raw) - 64
    return o


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = Cli(bindir, node, tempdir(), password="x")

    # --- JSON-RPC level
    s, r = raw_reply(node, b"this is not json")
    check(r["error"]["code"] == -32700, "garbage body -> -32700 parse error")
    s, r = raw_reply(node, b'{"jsonrpc":"2.0","id":1}')
    check(r["error"]["code"] == -32600, "request without method -> -32600")
    s, r = raw_reply(node, b'{"jsonrpc":"2.0","id":1,"method":"x","method":"y"}')
    check(r["error"]["code"] == -32700, "duplicate keys rejected")
    s, r = raw_reply(node, b"[" * 5000 + b"]" * 5000)
    check(r["error"]["code"] == -32600, "nesting 5000 deep -> -32600")
    batch = [{"jsonrpc": "2.0", "id": i, "method": "chain_getInfo"} for i in range(101)]
    s, r = raw_reply(node, json.dumps(batch).encode())
    check(isinstance(r, dict) and r["error"]["code"] == -32600, "batch of 101 -> -32600")
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "chain_getSupply"},
             {"jsonrpc": "2.0", "id": 2, "method": "nope"}]
    s, r = raw_reply(node, json.dumps(batch).encode())
    check(len(r) == 2 and "result" in r[0] and r[1]["error"]["code"] == -32601,
          "mixed batch: result and -32601")
    expect_error(node, "no_such_method", None, -32601)
    expect_error(node, "tx_submit", ["00"], -32602, what="tx_submit params as array")
    expect_error(node, "tx_submit", {"tx": 5}, -32602, what="tx_submit tx not a string")
    # one rule for bad params (docs/rpc.md): not hex is -32602; hex that is no valid tx is -32000
    expect_error(node, "tx_submit", {"tx": "zz"}, -32602, what="tx_submit non-hex")
    expect_error(node, "tx_submit", {"tx": "abc"}, -32602, what="tx_submit odd-length hex")
    expect_error(node, "tx_submit", {"tx": "00"}, -32000, "DECODE", "tx_submit hex, not a tx")
    res = node.rpc("tx_submitBatch", {"txs": ["zz", 5, "00"]})["results"]
    check([r["error"]["code"] for r in res] == [-32602, -32602, -32000],
          "tx_submitBatch entries: not hex / not a string -32602, not a tx -32000")
    expect_error(node, "tx_submit", {"tx": "00" * 200_000}, -32000, "TOOBIG", "oversized tx")
    expect_error(node, "account_get", {"address": "dssp1notanaddress"}, -32602, what="bad address")
    expect_error(node, "account_get", {"address": "tssp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqs6wwmp"},
                 -32602, what="address of another network")
    expect_error(node, "account_get", {}, -32602, what="missing address")
    expect_error(node, "chain_getBlock", {"height": -1}, -32602, what="negative height")
    expect_error(node, "chain_getBlock", {"height": 10**12}, -32001, what="future height")
    expect_error(node, "tx_get", {"txid": "ab"}, -32602, what="short txid")
    expect_error(node, "tx_get", {"txid": "00" * 32}, -32001, what="unknown txid")
    expect_error(node, "tx_submitBatch", {"txs": ["00"] * 10001}, -32003, what="batch of 10001 txs")

    # an oversized body: HTTP 413, or the server cuts the upload; the node lives on
    big = b'{"jsonrpc":"2.0","id":1,"method":"chain_getInfo","params":{"x":"' + b"a" * (17 << 20) + b'"}}'
    try:
        s, _ = node.rpc_raw(big)
        check(s == 413, "17 MiB body -> HTTP 413 (got %d)" % s)
    except (ConnectionError, socket.error, OSError) as e:
        check(True, "17 MiB body: connection cut by the server (%s)" % type(e).__name__)
    # a client that connects and sends half a request, then vanishes
    c = socket.create_connection(("127.0.0.1", node.port))
    c.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"json")
    c.close()
    check(node.rpc("chain_getInfo")["chain_id"] == "ssp-devnet", "node answers after abuse")

    # --- hostile transactions, mutated from real ones
    carol = wallet.run("key", "new", "--name", "carol", "--type", "p256")["address"]
    dev.run("transfer", "--from", "dev", "--to", carol, "--amount", "100", "--wait")
    r = wallet.run("transfer", "--from", "carol", "--to", dev.run("balance", "dev")["address"],
                   "--amount", "1", "--wait")
    raw = bytes.fromhex(node.rpc("tx_get", {"txid": r["txid"]})["tx"]["raw"])
    f = tx_fields(raw)
    check(raw[f["has_pubkey"]] == 1 and raw[f["has_pubkey"] + 1] == 2, "carol's first tx carries her p256 key")

    def sub(b, name, what):
        expect_error(node, "tx_submit", {"tx": b.hex()}, -32000, name, what)

    sub(raw, "NONCE_LOW", "replayed transaction")
    sub(raw + b"\x00", "TRAILING", "trailing byte")
    sub(raw[:-1], "TRUNCATED", "truncated transaction")
    sub(bytes([2]) + raw[1:], "DECODE", "unknown version")
    m = bytearray(raw); m[f["has_pubkey"]] = 2
    sub(bytes(m), "NONCANON", "non-canonical bool")
    m = bytearray(raw); m[f["chain_id"]] ^= 0x01
    sub(bytes(m), "CHAINID", "wrong chain id")
    m = bytearray(raw); m[f["sig"] + 5] ^= 0x01
    sub(bytes(m), "BADSIG", "flipped signature bit")
    m = bytearray(raw)
    s_val = int.from_bytes(raw[f["sig"] + 32:], "big")
    check(s_val <= P256_N // 2, "the node's wallet signs low-S")
    m[f["sig"] + 32:] = (P256_N - s_val).to_bytes(32, "big")
    sub(bytes(m), "HIGHS", "high-S P-256 signature")
    m = bytearray(raw); m[f["has_pubkey"] + 2] ^= 0x55
    sub(bytes(m), None, "corrupted public key")

    # overdraft and fee-too-low through the CLI: a one-line reason, exit 1
    r = wallet.run("transfer", "--from", "carol", "--to", carol.replace(carol, dev.run("balance", "dev")["address"]),
                   "--amount", "5000", ok=False)
    check(r.returncode == 1 and "BALANCE" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "overdraft rejected with BALANCE in one line: %s" % r.stderr.strip())
    r = wallet.run("transfer", "--from", "carol", "--to", dev.run("balance", "dev")["address"],
                   "--amount", "1", "--fee", "0.00000001", ok=False)
    check(r.returncode == 1 and "FEE_LOW" in r.stderr, "fee below minimum rejected: %s" % r.stderr.strip())

    # nothing was lost, the node still produces, the supply holds
    h = node.height()
    node.wait_height(h + 2)
    info = node.rpc("chain_getInfo")
    check(info["mempool"]["count"] == 0, "no junk left in the mempool")
    bal = dev.run("balance", carol)
    check(bal["nonce"] == 1, "carol's nonce is 1: only her valid tx counted")
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
