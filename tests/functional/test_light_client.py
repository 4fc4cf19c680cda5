"""The device's light-client checks on a devnet (issue #11): device A (a
P-256 keystore device) is certified and enrolls itself; device B, holding
only trust anchors written from the genesis file (`ssp-agent anchors`),
checks A through `ssp-agent check-device` — a state proof of A's registry
record against a block header signed by the producer of its slot, checked
inside libsmartagent — and reads "registered"; an address never enrolled
reads "unknown"; A's enrollment tx and its receipt (it succeeded) are
proven in their block (`check-tx`).
The manufacturer revokes A (`ssp mfr revoke`) and B reads "revoked".

Then B talks to a lying node: a proxy in front of the RPC that alters the
proof, the value, the header bytes, the inclusion proof or the receipt, or
replays the
answer from before the revocation. Each lie ends in an error naming what
did not verify — never in an answer. Anchors for another chain's producer,
or another chain id, are refused too."""
import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.request

from sspnode import Cli, Node, bindir_from_argv, check, command, main, tempdir


class Liar:
    """A JSON-RPC proxy in front of a node; `tamper(method, params, result)` edits answers."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.tamper = None
        liar = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = urllib.request.Request(liar.upstream, data=body,
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    reply = json.loads(r.read())
                call = json.loads(body)
                if liar.tamper and "result" in reply:
                    reply["result"] = liar.tamper(call.get("method"), call.get("params"),
                                                  reply["result"])
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/rpc" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def flip_hex(s, byte_index):
    b = bytearray(bytes.fromhex(s))
    b[byte_index] ^= 0x01
    return b.hex()


# header layout (docs/internals/proto.md): version, height, prev_id, slot, time, producer, roots
STATE_ROOT_OFF = 1 + 8 + 32 + 8 + 8 + 20 + 32 + 32


def test():
    bindir = bindir_from_argv()
    node = Node(bindir)
    node.start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = tempdir()
    w = Cli(bindir, node, wallet, password="pw")
    board = w.run("key", "new", "--name", "board", "--type", "p256")
    dev.run("transfer", "--from", "dev", "--to", board["address"], "--amount", "5", "--wait")
    dev.run("mfr", "register", "--from", "dev", "--name", "ACME", "--wait")
    dev.run("mfr", "approve", "--from", "dev", "--name", "ACME", "--producer-key",
            os.path.join(node.datadir, "producer.key"), "--wait")
    fw1 = hashlib.sha256(b"firmware 1.0").hexdigest()
    dev.run("mfr", "model", "add", "--from", "dev", "--name", "ACME", "--model", "AC-1",
            "--firmware-hash", fw1, "--capabilities", "1", "--wait")
    cert = os.path.join(wallet, "board.cert")
    dev.run("mfr", "certify", "--from", "dev", "--name", "ACME", "--model", "AC-1", "--serial",
            "S-0001", "--device-pubkey", board["pubkey"], "--claim-secret", "in the box", "--out", cert)
    enrolled = w.run("device", "enroll", "--from", "board", "--cert", cert, "--wait")

    # device B's provisioning: the anchors from the genesis file, nothing from the node
    d = tempdir()
    anchors = os.path.join(d, "anchors.json")
    r = subprocess.run(command(bindir, "ssp-agent") + [
        "anchors", "--genesis", os.path.join(node.datadir, "genesis.json"), "--out", anchors],
        capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "ssp-agent anchors: %s" % r.stderr.strip())
    a = json.load(open(anchors))
    check(a["chain_id"] == "ssp-devnet" and len(a["producers"]) == 1,
          "anchors: the chain id and the devnet's one producer (%s)" % a)

    def agent(*args, url=None, anchors_file=anchors):
        t0 = time.monotonic()
        r = subprocess.run(command(bindir, "ssp-agent") + list(args) + [
            "--anchors", anchors_file, "--rpc", url or node.url, "--json"],
            capture_output=True, text=True, timeout=60)
        return r, time.monotonic() - t0

    def status(addr, url=None, **kw):
        r, _ = agent("check-device", addr, url=url, **kw)
        check(r.returncode == 0, "check-device %s: %s" % (addr, r.stderr.strip()))
        return json.loads(r.stdout)

    s = status(board["address"])
    check(s["status"] == "registered" and s["verified"] and s["serial"] == "S-0001",
          "B checks A: registered (%s)" % s)
    stranger = w.run("key", "new", "--name", "stranger", "--type", "p256")["address"]
    check(status(stranger)["status"] == "unknown", "an address never enrolled: unknown")
    r, _ = agent("check-tx", enrolled["txid"])
    check(r.returncode == 0 and json.loads(r.stdout)["included"]
          and json.loads(r.stdout)["status"] == "succeeded",
          "A's enrollment tx and its receipt are proven in its block: %s"
          % (r.stdout + r.stderr).strip())

    # a lying node in front of the real one
    liar = Liar(node.url)
    try:
        before = {}

        def record(m, p, res):
            before.setdefault(m, res)
            return res

        liar.tamper = record  # keeps the honest answers from before the revocation
        check(status(board["address"], url=liar.url)["status"] == "registered",
              "through the (still honest) proxy: registered")
        old_block = before["state_getProof"]["block_id"]

        dev.run("mfr", "revoke", "--from", "dev", "--device", board["address"], "--wait")
        s = status(board["address"])
        check(s["status"] == "revoked", "after ssp mfr revoke, B reads revoked (%s)" % s)

        def lie(tamper, what, want, args=("check-device", board["address"]), **kw):
            liar.tamper = tamper
            r, _ = agent(*args, url=liar.url, **kw)
            check(r.returncode == 1 and r.stdout == "" and want in r.stderr,
                  "%s: refused with %r (got %d: %r %r)" % (what, want, r.returncode,
                                                           r.stdout.strip(), r.stderr.strip()))

        def proof_byte(m, p, res):
            if m == "state_getProof":
                res["proof"] = flip_hex(res["proof"], len(res["proof"]) // 2 - 1)
            return res
        lie(proof_byte, "a flipped proof byte", "does not verify against block")

        def old_value(m, p, res):  # today's proof, the record from before the revocation
            if m == "state_getProof":
                res["value"] = before["state_getProof"]["value"]
            return res
        lie(old_value, "the pre-revocation record with today's proof", "invalid state proof")

        def no_value(m, p, res):  # "never heard of it"
            if m == "state_getProof":
                res["value"] = None
            return res
        lie(no_value, "the record withheld", "invalid state proof")

        def header_byte(m, p, res):  # the block's header, its state_root altered
            if m == "chain_getHeader":
                res["raw"] = flip_hex(res["raw"], STATE_ROOT_OFF)
            return res
        lie(header_byte, "an altered header", "rejected: its signature does not verify")

        def other_header(m, p, res):  # a genuine header, of another block
            if m == "chain_getHeader":
                return node.rpc("chain_getHeader", {"height": 1})
            return res
        lie(other_header, "another block's header", "is not the block")

        def replay(m, p, res):  # the whole honest answer from before the revocation
            if m == "state_getProof":
                return before["state_getProof"]
            return res
        time.sleep(3)  # the recorded block is older than 2 s now; the devnet's head is not
        lie(replay, "a replayed pre-revocation answer", "over --max-age 2",
            args=("check-device", board["address"], "--max-age", "2"))
        r, _ = agent("check-device", board["address"], "--max-age", "0", url=liar.url)
        check(r.returncode == 0 and json.loads(r.stdout)["block_id"] == old_block,
              "without a freshness limit the replay is only what the chain held then")

        def tx_sibling(m, p, res):
            if m == "tx_get" and res["proof"]["siblings"]:
                res["proof"]["siblings"][0] = flip_hex(res["proof"]["siblings"][0], 0)
            elif m == "tx_get":
                res["proof"]["index"] += 1
            return res
        lie(tx_sibling, "an altered inclusion proof", "inclusion proof for",
            args=("check-tx", enrolled["txid"]))

        def receipt_status(m, p, res):  # "your enrollment failed"
            if m == "tx_get":
                res["receipt"]["raw"] = flip_hex(res["receipt"]["raw"], 32)
            return res
        lie(receipt_status, "an altered receipt", "receipt for",
            args=("check-tx", enrolled["txid"]))

        def tx_bytes(m, p, res):
            if m == "tx_get":
                res["tx"]["raw"] = flip_hex(res["tx"]["raw"], 5)
            return res
        lie(tx_bytes, "another tx's bytes", "are not transaction", args=("check-tx",
                                                                        enrolled["txid"]))
    finally:
        liar.close()

    # anchors of another chain: its own producer, or its own chain id
    other = dict(a, producers=["p256:" + board["pubkey"]])
    other_file = os.path.join(d, "other.json")
    json.dump(other, open(other_file, "w"))
    r, _ = agent("check-device", board["address"], anchors_file=other_file)
    check(r.returncode == 1 and "not in this chain's producer set" in r.stderr
          and "(CHAINID)" in r.stderr,
          "a header whose producer is outside the anchors' set: %r" % r.stderr.strip())
    json.dump(dict(a, chain_id="ssp-other"), open(other_file, "w"))
    r, _ = agent("check-device", board["address"], anchors_file=other_file)
    check(r.returncode == 1 and "the anchors are for ssp-other" in r.stderr,
          "anchors for another chain id: %r" % r.stderr.strip())
    r, _ = agent("check-device", board["address"], anchors_file=os.path.join(d, "none.json"))
    check(r.returncode == 1 and "cannot open anchors file" in r.stderr, "no anchors file")
    node.stop()


if __name__ == "__main__":
    main(test)
