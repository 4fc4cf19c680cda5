"""What tx_get says about accepted and rejected transactions under load
(issue 12).

1. The race: tx_get is hammered (batches of 100, two connections) for
   transactions the node accepted while blocks commit them; it must never
   answer "unknown" (a block used to commit between the chain snapshot and
   the mempool lookup).
2. The rejection memory: honest transfers refused with MEMPOOL_FULL (and
   NONCE_GAP after it) keep their reasons after 70,000 free bad-signature
   submissions.
3. A batch bringing a new account's first tx (with its key) and its next
   ones: verified with the key from the batch; a bad signature among them is
   BADSIG."""
import json
import os
import subprocess
import threading
import time

from sspnode import EMULATOR, Node, bindir_from_argv, check, command, main, wait_for


def txgen(bindir, node, nonce, count, to, fee=100000):
    info = node.rpc("chain_getInfo")
    return subprocess.run(
        command(bindir, "ssp_txgen") + ["--keystore",
         os.path.join(node.datadir, "dev-keys", "dev"), "--chain-id", info["chain_id"],
         "--hrp", info["hrp"], "--to", to, "--nonce", str(nonce), "--count", str(count),
         "--expiry", str(info["height"] + 5000), "--fee", str(fee)],
        capture_output=True, text=True, timeout=60, check=True).stdout.split()


def genesis_address(node, category):
    with open(os.path.join(node.datadir, "genesis.json")) as f:
        g = json.load(f)
    return [a for a in g["allocations"] if a["category"] == category][0]["address"]


def batch(node, method, param_list, timeout=60):
    body = [{"jsonrpc": "2.0", "id": i, "method": method, "params": p}
            for i, p in enumerate(param_list)]
    status, data = node.rpc_raw(json.dumps(body).encode(), timeout)
    return json.loads(data)


def race(bindir, node):
    team = genesis_address(node, "team")
    txs = txgen(bindir, node, 0, 3000, team)
    accepted = []  # txids the node said yes to
    lock = threading.Lock()
    stop = threading.Event()
    bad = []
    answers = [0]

    def hammer():
        k = 0
        while not stop.is_set():
            with lock:
                ids = accepted[-100:]
            if not ids:
                time.sleep(0.01)
                continue
            k += 1
            for r in batch(node, "tx_get", [{"txid": t} for t in ids]):
                answers[0] += 1
                if "error" in r:
                    bad.append(r["error"])
                elif r["result"]["status"] not in ("pending", "included", "finalized"):
                    bad.append(r["result"])

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    h0 = node.height()
    # 60 submissions of 50 over ~9 s: every block commits txs tx_get is asking about
    for i in range(0, len(txs), 50):
        rs = node.rpc("tx_submitBatch", {"txs": txs[i:i + 50]})["results"]
        with lock:
            accepted.extend(r["txid"] for r in rs if "txid" in r)
        time.sleep(0.15)
    node.wait_height(node.height() + 2)
    stop.set()
    for t in threads:
        t.join(30)
    h1 = node.height()
    print("tx_get race: %d answers over blocks %d..%d, %d accepted txs" %
          (answers[0], h0, h1, len(accepted)))
    check(len(accepted) == len(txs), "every honest transfer accepted")
    # enough lookups to meet commits many times over (under qemu the node runs ~5x slower)
    need = 1000 if EMULATOR else 5000
    check(answers[0] >= need and h1 - h0 >= 5,
          "tx_get hammered while blocks commit (%d answers, %d blocks)" % (answers[0], h1 - h0))
    check(not bad, "tx_get never says unknown for an accepted tx (%d wrong: %r)" %
          (len(bad), bad[:3]))
    final = batch(node, "tx_get", [{"txid": t} for t in accepted[-100:]])
    check(all(r["result"]["status"] in ("included", "finalized") for r in final),
          "the accepted txs are included")


def spam(bindir, node):
    team = genesis_address(node, "team")
    nonce = node.rpc("account_get", {"address": genesis_address(node, "private_placement")})[
        "pending_nonce"]
    # the pool holds 100: one batch of 150 leaves the rest refused (MEMPOOL_FULL, then
    # NONCE_GAP for the ones after it; a block committed meanwhile may admit a few more)
    txs = txgen(bindir, node, nonce, 150, team)
    rs = node.rpc("tx_submitBatch", {"txs": txs})["results"]
    refused = [i for i, r in enumerate(rs) if "error" in r]
    reasons = [rs[i]["error"]["data"]["error"] for i in refused]
    check(len(refused) >= 20 and "MEMPOOL_FULL" in reasons,
          "%d honest transfers refused (%s)" % (len(refused), ", ".join(sorted(set(reasons)))))
    from hashlib import sha256
    honest = [sha256(bytes.fromhex(txs[i])).hexdigest() for i in refused]
    before = batch(node, "tx_get", [{"txid": t} for t in honest])
    check([r["result"]["status"] for r in before] == ["rejected"] * len(honest) and
          [r["result"]["error"] for r in before] == reasons, "tx_get tells them why")

    # 70,000 free submissions with broken signatures (distinct txids): every core verifies
    # signatures meanwhile, and an honest client's calls must still be answered promptly
    base = txs[0][:-8]
    stop = threading.Event()
    lat, fails = [], [0]

    def probe():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                node.rpc("chain_getInfo", timeout=10)
                lat.append(time.monotonic() - t0)
            except Exception:  # counted: any failure of an honest call
                fails[0] += 1
            time.sleep(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    t0 = time.time()
    for k in range(7):
        junk = [base + "%08x" % (k * 10000 + i) for i in range(10000)]
        rs = node.rpc("tx_submitBatch", {"txs": junk}, timeout=120)["results"]
        check(all("error" in r and r["error"]["data"]["error"] == "BADSIG" for r in rs),
              "10,000 bad-signature submissions refused: BADSIG (%d of 7)" % (k + 1))
    stop.set()
    prober.join(20)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("inf")
    print("70,000 bad signatures in %.1f s; honest chain_getInfo meanwhile: %d ok, %d failed, "
          "p50 %.1f ms, p99 %.1f ms" % (time.time() - t0, len(lat), fails[0],
                                         lat[len(lat) // 2] * 1000 if lat else 0, p99 * 1000))
    check(lat and not fails[0] and p99 <= 1.0,
          "signature checks on every core do not hold up other calls (p99 %.0f ms)" % (p99 * 1000))
    last = sha256(bytes.fromhex(junk[-1])).hexdigest()
    r = node.rpc("tx_get", {"txid": last})
    check(r["status"] == "rejected" and r["error"] == "BADSIG", "the latest junk is remembered: BADSIG")
    after = batch(node, "tx_get", [{"txid": t} for t in honest])
    kept = sum(1 for r, why in zip(after, reasons) if "result" in r and r["result"].get("error") == why)
    check(kept == len(honest), "the honest reasons survive the spam (%d of %d kept)" %
          (kept, len(honest)))


def new_account_batch(bindir, node):
    """A batch that brings a new account's first tx (with its key) and its next ones: the
    later ones are verified with the key from the batch (rpc_methods.c
    verify_with_batch_keys), a bad signature among them refused as BADSIG."""
    info = node.rpc("chain_getInfo")
    label = "smartshare/test/tx_status/new-account"
    gen = command(bindir, "ssp_txgen")
    addr = subprocess.run(gen + ["--derive", label, "--hrp", info["hrp"], "--address"],
                          capture_output=True, text=True, timeout=60, check=True).stdout.split()[0]
    dev_keys = os.path.join(node.datadir, "dev-keys", "dev")
    dev = subprocess.run(gen + ["--keystore", dev_keys, "--hrp", info["hrp"], "--address"],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()[0]
    dev_nonce = node.rpc("account_get", {"address": dev})["pending_nonce"]
    fund = subprocess.run(gen + ["--keystore", dev_keys,
                                 "--chain-id", info["chain_id"], "--hrp", info["hrp"], "--to", addr,
                                 "--nonce", str(dev_nonce), "--count", "1", "--amount", str(10**12),
                                 "--expiry", str(info["height"] + 5000)],
                          capture_output=True, text=True, timeout=60, check=True).stdout.split()
    fid = node.rpc("tx_submit", {"tx": fund[0]})["txid"]
    wait_for(lambda: node.rpc("tx_get", {"txid": fid}).get("status") in ("included", "finalized"),
             30, "the new account funded")
    txs = subprocess.run(gen + ["--derive", label, "--chain-id", info["chain_id"], "--hrp", info["hrp"],
                                "--to", genesis_address(node, "team"), "--nonce", "0", "--count", "3",
                                "--pubkey-once", "--expiry", str(info["height"] + 5000)],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    raw = bytearray(bytes.fromhex(txs[2]))
    raw[-1] ^= 0x55
    txs[2] = raw.hex()
    res = node.rpc("tx_submitBatch", {"txs": txs})["results"]
    check("txid" in res[0] and "txid" in res[1],
          "a new account's first tx (with its key) and its second, in one batch: accepted (%s)" % res[:2])
    check("error" in res[2] and res[2]["error"]["data"]["error"] == "BADSIG",
          "its third, badly signed, in the same batch: BADSIG (%s)" % res[2])
    wait_for(lambda: node.rpc("tx_get", {"txid": res[1]["txid"]}).get("status") in
             ("included", "finalized"), 30, "the new account's two txs included")


def test():
    bindir = bindir_from_argv()
    node = Node(bindir, extra=["--mempool-max", "100000"]).start()
    node.wait_height(1)
    race(bindir, node)
    new_account_batch(bindir, node)
    check(node.stop() == 0, "node stops cleanly")
    node2 = Node(bindir, extra=["--mempool-max", "100"]).start()
    node2.wait_height(1)
    spam(bindir, node2)
    check(node2.stop() == 0, "second node stops cleanly")


if __name__ == "__main__":
    main(test)
