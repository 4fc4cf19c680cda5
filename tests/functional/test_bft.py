"""BFT consensus on a local testnet (`ssp testnet up --consensus bft`: four
real sspd producers on loopback; issue 9). Checked from outside, through RPC,
the metrics and the blocks' own bytes:

- the nodes converge and finality follows the head within 2 blocks (votes
  over P2P, quorum certificates in the headers), not the 3 of the
  last-irreversible-block rule;
- every header reveals the next element of its producer's hash onion: the
  reveals of one producer hash back to each other and to the genesis
  commitment (so no producer could pick its reveal); each round's order is
  a permutation of the set, and the orders differ between rounds;
- every QC in a header is a quorum (3 of 4) of valid Ed25519 vote
  signatures over its link, checked here with PyNaCl;
- kill -9 of one producer: the other three (a quorum) keep finalising; it
  restarts, catches up and votes again;
- double signing (a copy of a producer's datadir and key run as a second
  node; the producer's key is a registered delegate's node key: the genesis
  delegate's that `ssp testnet up` makes, else one registered by the test):
  the honest nodes see the equivocation (ssp_bft_evidence_total) and submit
  the evidence tx themselves (no tx from the test), which slashes 10% of the
  delegate's self-stake per offence punished, half to the reporting node's
  producer account, and bans it; the same evidence again is refused; no
  final block is ever reverted or differs between nodes."""
import hashlib
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.request

from sspnode import need_pynacl

need_pynacl()
import nacl.signing  # noqa: E402
import nacl.exceptions  # noqa: E402

from decimal import Decimal

from sspnode import Cli, Failure, bindir_from_argv, check, main, wait_for
from sspnet import Testnet, _ports_free


def metric(node, name):
    text = urllib.request.urlopen(node.url.replace("/rpc", "/metrics"), timeout=10).read().decode()
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else None


def vote_digest(chain_id, link):
    cid = chain_id.encode()
    return hashlib.sha256(b"SSP/vote/v1\x00" + bytes([len(cid)]) + cid + link).digest()


def check_qc(qc, keys, chain_id, height):
    """A QC's bytes: link(80) | u16 n | bitmap | one signature per set bit, all valid."""
    link, n = qc[:80], struct.unpack_from("<H", qc, 80)[0]
    bml = (n + 7) // 8
    bits = [i for i in range(n) if qc[82 + i // 8] >> (i % 8) & 1]
    sigs = qc[82 + bml:]
    if not (n == len(keys) and len(sigs) == 64 * len(bits) and len(bits) >= 3):
        raise Failure("block %d: QC over %d of %d voters, %d signature bytes"
                      % (height, len(bits), n, len(sigs)))
    src_h, tgt_h = struct.unpack_from("<Q", link, 0)[0], struct.unpack_from("<Q", link, 40)[0]
    if not src_h < tgt_h < height:
        raise Failure("block %d: QC link %d -> %d not below it" % (height, src_h, tgt_h))
    d = vote_digest(chain_id, link)
    for k, i in enumerate(bits):
        try:
            nacl.signing.VerifyKey(keys[i]).verify(d, sigs[64 * k:64 * k + 64])
        except nacl.exceptions.BadSignatureError:
            raise Failure("block %d: QC signature of voter %d does not verify" % (height, i))
    return tgt_h


def final_ids(nodes):
    """{height: id} of every node's final block now."""
    out = {}
    for n in nodes:
        f = n.rpc("chain_getInfo")["finalized_height"]
        out.setdefault(f, set()).add(n.rpc("chain_getBlock", {"height": f})["id"])
    return out


def test():
    bindir = bindir_from_argv()
    net = Testnet(bindir, nodes=4, interval=500, consensus="bft")
    net.up()
    n0, n1, n2, n3 = net.nodes
    with open(os.path.join(net.dir, "genesis.json")) as f:
        genesis = __import__("json").load(f)
    chain_id = genesis["chain_id"]
    keys = [bytes.fromhex(k.split(":")[1]) for k in genesis["producers"]]
    commits = [bytes.fromhex(c) for c in genesis["bft"]["onion"]]
    h = net.wait_converged(min_height=16, timeout=60)
    check(h >= 16, "4 BFT nodes converge on one head (height %d)" % h)
    info = n1.rpc("chain_getInfo")
    c = info["consensus"]
    check(c["kind"] == "bft" and c["producers"] == 4 and c["votes"]["received"] > 0
          and c["votes"]["made"] > 0, "chain_getInfo reports the BFT consensus: %s" % c)
    lags = []
    for _ in range(12):
        for n in net.nodes:
            i = n.rpc("chain_getInfo")
            lags.append(i["height"] - i["finalized_height"])
        time.sleep(0.25)
    lags.sort()
    check(lags[len(lags) // 2] <= 2 and min(lags) >= 0,
          "finality follows the head by votes: median lag %d blocks (max %d)"
          % (lags[len(lags) // 2], lags[-1]))

    # the blocks' own bytes: onion reveals and QCs
    blocks = [n0.rpc("chain_getBlock", {"height": k}) for k in range(1, h + 1)]
    first = {}  # producer -> the commitment its first reveal hashes to
    addr_of = {}
    for b in blocks:
        addr_of.setdefault(b["producer"], None)
    check(len(addr_of) == 4, "all four producers made blocks")
    interval = genesis["params"]["block_interval_ms"]
    last = {}  # producer -> (round, reveal)
    orders = {}
    qcs = 0
    for b in blocks:
        slot = (b["timestamp"] - genesis["genesis_time"]) // interval if "timestamp" in b else None
        rnd = b["slot"] // 4
        rv = bytes.fromhex(b["seed_reveal"])
        if len(rv) != 32:
            raise Failure("block %d reveals %d bytes" % (b["height"], len(rv)))
        prev = last.get(b["producer"])
        x, steps = rv, rnd - prev[0] if prev else rnd + 1
        for _ in range(steps):
            x = hashlib.sha256(x).digest()
        if not prev:
            first[b["producer"]] = x
        if x != (prev[1] if prev else x) or x not in commits and not prev:
            raise Failure("block %d: its reveal does not hash %d times to the producer's %s"
                          % (b["height"], steps, "last one" if prev else "commitment"))
        last[b["producer"]] = (rnd, rv)
        orders.setdefault(rnd, {})[b["slot"] % 4] = b["producer"]
        if b["finality_qc"]:
            check_qc(bytes.fromhex(b["finality_qc"]), keys, chain_id, b["height"])
            qcs += 1
    check(qcs >= h - 4, "%d of %d headers carry a QC of >= 3 valid vote signatures" % (qcs, h))
    check(len(set(first.values())) == len(first) == 4,
          "%d reveals hash back to their producers' onions, 4 distinct genesis commitments" % h)
    full = [tuple(o[i] for i in range(4)) for r, o in sorted(orders.items()) if len(o) == 4 and r > 0]
    check(all(len(set(o)) == 4 for o in full), "each full round is a permutation of the set")
    check(len(full) < 3 or len(set(full)) > 1,
          "the round order changes between rounds (%d distinct in %d full rounds)"
          % (len(set(full)), len(full)))

    # dpos_getSchedule: the slots after the head; the fixed ones are then made by who it said
    sched = n2.rpc("dpos_getSchedule")
    check(sched["set_size"] == 4 and 4 <= len(sched["slots"]) <= 8 and
          all(s["fixed"] for s in sched["slots"] if s["round"] == sched["slots"][0]["round"]),
          "dpos_getSchedule: %d slots after head slot %d, this round's fixed"
          % (len(sched["slots"]), sched["head_slot"]))
    want = {s["slot"]: s["producer"] for s in sched["slots"] if s["fixed"]}
    top = max(want)
    wait_for(lambda: n2.rpc("chain_getInfo")["head_time"] >= sched["slots"][-1]["time"], 20,
             "the scheduled slots to pass")
    made = {}
    for k in range(h, n2.height() + 1):
        b = n2.rpc("chain_getBlock", {"height": k})
        if b["slot"] in want:
            made[b["slot"]] = b["producer"]
    check(made and all(made[s] == want[s] for s in made),
          "every scheduled fixed slot that got a block was made by its scheduled producer "
          "(%d of %d slots up to %d)" % (len(made), len(want), top))

    # one producer down: the other three are a quorum and keep finalising
    before = final_ids(net.nodes)
    n3.kill9()
    f0 = n0.rpc("chain_getInfo")["finalized_height"]
    wait_for(lambda: n0.rpc("chain_getInfo")["finalized_height"] >= f0 + 6, 30,
             "finality to go on with 3 of 4 producers")
    i0 = n0.rpc("chain_getInfo")
    check(i0["height"] - i0["finalized_height"] <= 3,
          "with one producer down the lag stays small: %d" % (i0["height"] - i0["finalized_height"]))
    made = None
    net.up()  # restarts node3 only
    net.wait_converged(timeout=60, min_height=i0["height"] + 2)
    made = n3.rpc("chain_getInfo")["consensus"]["votes"]["made"]
    wait_for(lambda: n3.rpc("chain_getInfo")["consensus"]["votes"]["made"] > made, 20,
             "the restarted producer to vote again")

    # double signing. node3's key must be a registered delegate's node key: the genesis
    # delegate whose node key it is (ssp testnet up makes the producers genesis delegates),
    # else one the dev account registers now. The other producers' accounts need SSP for
    # fees: they report what they see, signed with their producer keys.
    dev = Cli(bindir, n0, os.path.join(net.dir, "keys"))
    ks = {k["name"]: k for k in dev.run("key", "list")}
    key3 = "%s:%s" % (ks["node3"]["type"], ks["node3"]["pubkey"])
    mine = [d for d in n0.rpc("dpos_getDelegates")["delegates"] if d["node_key"] == key3]
    if mine:
        victim = mine[0]["name"]
    else:
        victim = "node3"
        stake = Decimal(genesis.get("dpos", {}).get("min_self_stake", "100")) * 10
        dev.run("delegate", "register", "--from", "dev", "--name", victim, "--self-stake",
                str(stake), "--node-key", key3, "--wait")
    d3 = n0.rpc("dpos_getDelegate", {"name": victim})
    stake = Decimal(d3["self_stake"])
    check(d3["status"] == "registered" and d3["node_key"] == key3 and stake > 0,
          "node3's key is delegate %s's node key (%s, self-stake %s)"
          % (victim, "genesis delegate" if mine else "registered now", stake))
    reporters = [ks[n.name]["address"] for n in (n0, n1, n2)]
    poor = [a for a in reporters if Decimal(n0.rpc("account_get", {"address": a})["balance"]) < 1]
    for k, a in enumerate(poor):
        dev.run("transfer", "--from", "dev", "--to", a, "--amount", "1",
                *(["--wait"] if k == len(poor) - 1 else []))
    wait_for(lambda: all(Decimal(n0.rpc("account_get", {"address": a})["balance"]) >= 1
                         for a in reporters), 20, "the reporters' fees funded")
    bal = {a: Decimal(n0.rpc("account_get", {"address": a})["balance"]) for a in reporters}
    sub0 = sum(metric(n, "ssp_bft_evidence_submitted_total") or 0 for n in (n0, n1, n2))

    # a copy of node3 (datadir and key) run as another node
    t_twin = time.time()
    n3.kill9()
    copy = os.path.join(net.dir, "node3copy")
    # the same chain and producer key; its own P2P identity (peers refuse a second
    # connection from one node id)
    shutil.copytree(n3.datadir, copy,
                    ignore=shutil.ignore_patterns("sspd.pid", "*.lock", "node.key", "peers.txt"))
    net.up()
    port = None
    for _ in range(50):  # a random pair (tests run in parallel), below the ephemeral range
        p = random.randrange(20000, 32000, 2)
        if _ports_free(p, 2):
            port = p
            break
    log = open(os.path.join(net.dir, "node3copy.log"), "ab")
    env = dict(os.environ, SSP_PRODUCER_PASSWORD="")
    twin = subprocess.Popen([os.path.join(bindir, "sspd"), "--genesis",
                             os.path.join(net.dir, "genesis.json"), "--datadir", copy,
                             "--rpc-listen", "127.0.0.1:%d" % (port + 1),
                             "--p2p-listen", "127.0.0.1:%d" % port, "--peer", n0.p2p, "--peer", n1.p2p,
                             "--producer-key", os.path.join(net.dir, "keys", "node3")],
                            stdout=log, stderr=log, env=env)
    try:
        wait_for(lambda: any((metric(n, "ssp_bft_evidence_total") or 0) > 0 for n in (n0, n1, n2)), 40,
                 "honest nodes to see node3's equivocation")
    finally:
        twin.send_signal(signal.SIGKILL)
        twin.wait(10)
        log.close()
    ev = [metric(n, "ssp_bft_evidence_total") for n in (n0, n1, n2)]
    check(any(e > 0 for e in ev), "the double signing was seen as evidence: %s" % ev)
    t_seen = time.time()

    # the honest nodes submitted the evidence themselves; it lands and slashes node3
    wait_for(lambda: n0.rpc("dpos_getDelegate", {"name": victim})["status"] == "banned", 30,
             "an evidence tx from the honest nodes to ban %s" % victim)
    t_banned = time.time()
    sub = [metric(n, "ssp_bft_evidence_submitted_total") for n in (n0, n1, n2)]
    check(sum(sub) > sub0 and sub0 == 0, "evidence txs submitted by the honest nodes: %s" % sub)
    check(n0.rpc("chain_getInfo")["consensus"]["evidence_submitted"] == sub[0],
          "chain_getInfo.consensus.evidence_submitted = the metric (%d)" % sub[0])
    # read once the evidence is final: the twin's branch makes reorgs, and a popped block's
    # evidence tx goes back to the mempool
    def final_evidence():
        ev = n0.rpc("dpos_getEvidence", {"name": victim})["evidence"]
        fin = n0.rpc("chain_getInfo")["finalized_height"]
        return ev if ev and max(e["height"] for e in ev) <= fin else None
    punished = wait_for(final_evidence, 30, "the evidence txs final")
    check(punished and all(e["kind"] in ("blocks", "votes") for e in punished),
          "dpos_getEvidence: %s punished for %s" % (victim, [(e["kind"], e.get("slot", e.get(
              "target_height"))) for e in punished]))
    txs = []  # the evidence txs on chain: (type, from, fee, raw)
    for hgt in sorted({e["height"] for e in punished}):
        for txid in n0.rpc("chain_getBlock", {"height": hgt})["txs"]:
            t = n0.rpc("tx_get", {"txid": txid})["tx"]
            if t["type"] in ("evidence", "evidence_votes"):
                txs.append(t)
    check(len(txs) == len(punished) and all(t["from"] in reporters for t in txs),
          "%d evidence tx(s) on chain, each from an honest producer's account (%s)"
          % (len(txs), sorted({t["type"] for t in txs})))
    # each slash takes 10% of what is at stake (self-stake, then its unlocking self-stake)
    d3 = n0.rpc("dpos_getDelegate", {"name": victim})
    unl = n0.rpc("dpos_getVotes", {"address": d3["address"]})["unlocking"]
    left = sum(Decimal(u["amount"]) for u in unl if u["kind"] == "self_stake")
    want, cuts = stake, []
    for _ in punished:
        cuts.append(want / 10)
        want -= want / 10
    check(d3["self_stake"] == "0" and d3["slashes"] == len(punished) and left == want,
          "%s banned, %d slash(es): self-stake %s -> %s unlocking (%s%% per slash)"
          % (victim, len(punished), stake, left, 10))
    got = {a: Decimal(n0.rpc("account_get", {"address": a})["balance"]) - bal[a]
           for a in reporters}
    exp = {a: Decimal(0) for a in reporters}
    for t, cut in zip(txs, cuts):  # in the order the chain applied them
        exp[t["from"]] += cut / 2 - Decimal(t["fee"])
    check(sum(got.values()) == sum(exp.values()) and
          all(got[t["from"]] > 0 for t in txs),
          "the reporters received half of each slash, less the fee: %s" % sorted(
              str(v) for v in got.values()))
    # the same evidence from someone else is refused: that offence is punished
    t = txs[0]
    raw = bytes.fromhex(t["raw"])
    cl = raw[1]
    off = 2 + cl + 2 + 20 + 8 + 8 + 8
    plen = struct.unpack_from("<I", raw, off)[0]
    pl = raw[off + 4:off + 4 + plen]
    nl = pl[0]
    name, rest = pl[1:1 + nl].decode(), pl[1 + nl:]
    if t["type"] == "evidence":
        l0 = struct.unpack_from("<I", rest, 0)[0]
        h0 = rest[4:4 + l0]
        h1 = rest[8 + l0:]
        args = ["--header", h0.hex(), "--header", h1.hex()]
    else:
        args = ["--vote", rest[:144].hex(), "--vote", rest[144:].hex()]
    r = dev.run("delegate", "evidence", "--from", "dev", "--delegate", name, *args, "--wait",
                ok=False)
    check(r.returncode != 0 and "already punished" in r.stderr,
          "the same %s again is refused: %s" % (t["type"], (r.stderr or r.stdout).strip()[-80:]))
    print("   double signing: seen after %.1f s, banned %.1f s later, final and refused %.1f s "
          "later" % (t_seen - t_twin, t_banned - t_seen, time.time() - t_banned))
    try:
        h2 = net.wait_converged(timeout=60, min_height=h + 5)
    except Failure:
        for n in net.nodes:  # what each node sees, for the log
            i = n.rpc("chain_getInfo")
            print("   %s: height %d head %s final %d consensus %s sync %s" % (
                n.name, i["height"], i["head_id"][:16], i["finalized_height"], i["consensus"],
                i.get("sync")))
        raise
    after = final_ids(net.nodes)
    for fh, ids in list(before.items()) + list(after.items()):
        check(len(ids) == 1, "one final block at height %d on every node" % fh)
        for n in net.nodes:
            check(n.rpc("chain_getBlock", {"height": fh})["id"] in ids,
                  "final block %d is still on %s" % (fh, n.name))
    net.check_logs()
    for n in (n0, n1, n2):  # what each honest node reported, for the log
        for line in n.logtext().splitlines():
            if "[evidence]" in line:
                print("   %s: %s" % (n.name, line.split("[evidence] ", 1)[-1]))
    return "BFT testnet: lag median %d, %d QCs verified, evidence %s, height %d" % (
        lags[len(lags) // 2], qcs, ev, h2)


if __name__ == "__main__":
    main(test)
