"""Staking end to end on a devnet (issue 9, first increment): two keys register
as delegates through the CLI (one with the node key's own hash onion, recomputed
here, one with --onion), a third stakes and votes for both; the next round's
first block records the elected set (dpos_getElection, `ssp delegate list`
marks it active); dpos_getDelegates ranks them by capped
weight = min(votes, 10 x self-stake), and the ranking and weights change when
the voter changes its votes and a delegate adds self-stake. Refusals are one
line each (unknown delegate, more than 30 votes, unstaking more than staked,
withdrawing before the unlock, a taken name, a self-stake below the minimum);
unstaked SSP and an unregistered delegate's self-stake come back only after
the devnet's unlock delays (5 and 10 one-second slots), to the unit. The node
runs --check-invariants, so the supply invariant holds after every block."""
import base64
import hashlib
import os
import struct
import sys
from decimal import Decimal

from sspnode import need_pynacl

need_pynacl()
import nacl.signing  # noqa: E402

from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir, wait_for

ED25519_BASE = "58" + "66" * 31  # a valid Ed25519 point, for an explicit --node-key


def expect_cli_error(cli, args, needle, what):
    r = cli.run(*args, ok=False)
    lines = [l for l in r.stderr.strip().splitlines() if l]
    check(r.returncode != 0 and len(lines) == 1 and lines[0].startswith("ssp: error: ")
          and needle in lines[0],
          "%s -> one-line error containing %r (got %d: %r)" % (what, needle, r.returncode,
                                                                r.stderr.strip()))


def delegates(node):
    return {d["name"]: d for d in node.rpc("dpos_getDelegates")["delegates"]}


def balance(node, addr):
    return Decimal(node.rpc("account_get", {"address": addr})["balance"])


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    w = Cli(bindir, node, tempdir(), password="")
    alpha = w.run("key", "new", "--name", "alpha")["address"]
    beta = w.run("key", "new", "--name", "beta")["address"]
    carol = w.run("key", "new", "--name", "carol")["address"]
    for a, amt in ((alpha, "1000"), (beta, "1000"), (carol, "5000")):
        dev.run("transfer", "--from", "dev", "--to", a, "--amount", amt)
    wait_for(lambda: balance(node, carol) == 5000, 20, "carol funded")

    # --- two delegates
    r = w.run("delegate", "register", "--from", "alpha", "--name", "alpha", "--self-stake", "100",
              "--node-key", "alpha", "--commission", "10", "--url", "https://alpha.example",
              "--wait")
    check(r["status"] in ("included", "finalized") and len(r["onion"]) == 64 and
          "onion_seed" not in r and r["onion_from"] == "node_key" and
          r["onion_layers"] == 1000000 and r["commission_bp"] == 1000,
          "delegate register alpha (the CLI commits the node key's own onion)")
    # the node's onion: SHA-256^layers of SHA-256(tag | its key's signature of the onion
    # digest) (ssp_onion_secret); a devnet has no "bft" object: the genesis default length
    pem = w.run("key", "export", "alpha", "--yes", json_out=False)
    der = base64.b64decode("".join(l for l in pem.splitlines() if l and "-----" not in l))
    cid = node.rpc("chain_getInfo")["chain_id"].encode()
    digest = hashlib.sha256(b"SSP/onion/v1\x00" + bytes([len(cid)]) + cid +
                            b"ssp-bft-onion-secret").digest()
    x = hashlib.sha256(b"ssp-bft-onion-secret" +
                       nacl.signing.SigningKey(der[-32:]).sign(digest).signature).digest()
    for _ in range(1000000):
        x = hashlib.sha256(x).digest()
    check(r["onion"] == x.hex(), "alpha's onion is its node key's (recomputed here)")
    onion = "ab" * 32
    r = w.run("delegate", "register", "--from", "beta", "--name", "beta", "--self-stake", "500",
              "--node-key", "ed25519:" + ED25519_BASE, "--onion", onion, "--wait")
    check(r["onion"] == onion and "onion_seed" not in r, "delegate register beta (--onion given)")
    d = node.rpc("dpos_getDelegate", {"name": "beta"})
    check(d["onion"] == onion and d["node_key"] == "ed25519:" + ED25519_BASE and
          d["self_stake"] == "500" and d["status"] == "registered" and d["address"] == beta,
          "dpos_getDelegate beta: what was registered")
    check(node.rpc("dpos_getDelegate", {"address": alpha})["name"] == "alpha",
          "dpos_getDelegate by address")
    ds = delegates(node)
    check(set(ds) == {"alpha", "beta"} and ds["alpha"]["capped_weight"] == "0",
          "both listed, no weight before votes")
    expect_cli_error(w, ["delegate", "register", "--from", "carol", "--name", "alpha",
                         "--self-stake", "100", "--node-key", "carol", "--wait"],
                     "the name alpha is taken by " + alpha, "a taken name (checked by the CLI)")
    expect_cli_error(w, ["delegate", "register", "--from", "carol", "--name", "carol",
                         "--self-stake", "99", "--node-key", "carol", "--wait"],
                     "self-stake below the genesis minimum", "a self-stake below 100 SSP")
    expect_cli_error(w, ["delegate", "register", "--from", "carol", "--name", "Carol",
                         "--self-stake", "100", "--node-key", "carol"],
                     "invalid delegate name", "an upper-case name")

    try:
        node.rpc("dpos_getElection")
        check(False, "no elected set while nobody has weight")
    except RpcError as e:
        check(e.code == -32001, "dpos_getElection: none while nobody has weight (-32001)")

    # --- stake and vote
    c0 = balance(node, carol)
    r = w.run("stake", "--from", "carol", "--amount", "3000", "--wait")
    check(balance(node, carol) == c0 - 3000 - Decimal(r["fee"]), "stake moves 3000 SSP")
    r = w.run("vote", "--from", "carol", "--for", "alpha", "--for", "beta", "--wait")
    check(r["votes"] == "alpha,beta", "vote --for alpha --for beta")
    lst = node.rpc("dpos_getDelegates")["delegates"]
    check([(x["rank"], x["name"], x["capped_weight"], x["votes"]) for x in lst] ==
          [(1, "beta", "3000", "3000"), (2, "alpha", "1000", "3000")],
          "ranking: beta 3000 (cap 5000), alpha capped at 10 x 100 = 1000")
    out = w.run("delegate", "list", json_out=False)
    rows = [l.split() for l in out.splitlines()[1:]]
    check(rows[0][:3] == ["1", "beta", "3000"] and rows[1][:3] == ["2", "alpha", "1000"],
          "ssp delegate list shows the ranking")
    v = node.rpc("dpos_getVotes", {"address": carol})
    check(v["staked"] == "3000" and [x["name"] for x in v["votes"]] == ["alpha", "beta"],
          "dpos_getVotes: stake and votes")

    # --- the set elected at the next round's first block (21 one-second slots a round)
    vote_h = node.rpc("tx_get", {"txid": r["txid"]})["block"]["height"]
    vote_round = node.rpc("chain_getBlock", {"height": vote_h})["slot"] // 21

    def elected():
        try:
            return node.rpc("dpos_getElection")
        except RpcError:
            return None
    wait_for(lambda: elected() and elected()["round"] > vote_round, 60, "a round began")
    e = elected()
    ad = node.rpc("dpos_getDelegate", {"name": "alpha"})
    check(e["applies_to_round"] == e["round"] + 1 and
          [(m["name"], m["address"]) for m in e["members"]] == [("beta", beta), ("alpha", alpha)]
          and e["members"][1]["onion"] == ad["onion"] and
          e["members"][1]["node_key"] == ad["node_key"] and
          e["members"][0]["onion"] == onion and
          all(0 <= m["onion_round"] <= vote_round for m in e["members"]),
          "dpos_getElection: beta then alpha by capped weight, their keys and onions (%s)" % e)
    check(node.rpc("dpos_getElection", {"round": e["round"]})["members"] == e["members"],
          "dpos_getElection {round}: the same set")
    out = w.run("delegate", "list", json_out=False)
    check([l.split()[1] for l in out.splitlines()[1:3] if l.rstrip().endswith(", active")] ==
          ["beta", "alpha"] and "elected at the start of round %d" % e["round"] in out,
          "ssp delegate list marks the elected set active")

    expect_cli_error(w, ["vote", "--from", "carol", "--for", "nobody"],
                     "no delegate is named nobody", "a vote for an unknown delegate")
    many = []
    for i in range(31):
        many += ["--for", "d%04d" % i]
    expect_cli_error(w, ["vote", "--from", "carol"] + many, "at most 30", "31 votes")
    expect_cli_error(w, ["unstake", "--from", "carol", "--amount", "3000.00000001"],
                     "has only 3000 SSP staked", "unstaking more than staked")
    expect_cli_error(w, ["withdraw", "--from", "carol"], "nothing unlocking",
                     "withdraw with nothing unlocking")

    # --- votes replaced; self-stake added
    w.run("vote", "--from", "carol", "--for", "alpha", "--wait")
    ds = delegates(node)
    check(ds["beta"]["votes"] == "0" and ds["alpha"]["votes"] == "3000" and
          ds["alpha"]["rank"] == 1 and ds["beta"]["rank"] == 2,
          "a new vote replaces the set: alpha first, beta without votes")
    w.run("delegate", "update", "--from", "alpha", "--add-self-stake", "400", "--commission",
          "5", "--wait")
    d = node.rpc("dpos_getDelegate", {"name": "alpha"})
    check(d["self_stake"] == "500" and d["capped_weight"] == "3000" and d["commission_bp"] == 500
          and d["url"] == "https://alpha.example",
          "update: more self-stake lifts the cap; the URL stays")

    # --- unregister and unstake: both unlock later (10 and 5 slots on a devnet)
    b0 = balance(node, beta)
    r = w.run("delegate", "unregister", "--from", "beta", "--wait")
    b_fee = Decimal(r["fee"])
    check(node.rpc("dpos_getDelegate", {"name": "beta"})["status"] == "unregistered" and
          "beta" not in delegates(node), "beta unregistered, out of the ranking")
    expect_cli_error(w, ["vote", "--from", "carol", "--for", "beta"],
                     "not a registered delegate", "a vote for an unregistered delegate")
    c1 = balance(node, carol)
    r = w.run("unstake", "--from", "carol", "--amount", "1000", "--wait")
    fees = Decimal(r["fee"])
    check(node.rpc("dpos_getDelegate", {"name": "alpha"})["votes"] == "2000",
          "unstaked SSP leaves the votes at once")
    expect_cli_error(w, ["withdraw", "--from", "carol"], "nothing unlocked yet",
                     "withdraw before the unlock")
    wait_for(lambda: node.rpc("dpos_getVotes", {"address": carol})["withdrawable"] == "1000",
             20, "carol's 1000 SSP unlocked")
    r = w.run("withdraw", "--from", "carol", "--wait")
    fees += Decimal(r["fee"])
    check(balance(node, carol) == c1 + 1000 - fees, "withdraw returns the 1000 SSP")
    wait_for(lambda: node.rpc("dpos_getVotes", {"address": beta})["withdrawable"] == "500",
             20, "beta's self-stake unlocked")
    r = w.run("withdraw", "--from", "beta", "--wait")
    check(balance(node, beta) == b0 - b_fee + 500 - Decimal(r["fee"]),
          "withdraw returns beta's 500 SSP self-stake")
    check(node.rpc("dpos_getVotes", {"address": beta})["unlocking"] == [],
          "nothing left unlocking")

    # --- human output and RPC errors
    out = w.run("votes", "carol", json_out=False)
    check("staked:" in out and "2000 SSP" in out, "ssp votes shows the stake with its unit")
    out = w.run("delegate", "show", "alpha", json_out=False)
    check("capped_weight:" in out and "2000 SSP" in out, "ssp delegate show alpha")
    for params, code in (({"name": "nobody"}, -32001), ({"name": "No"}, -32602), ({}, -32602)):
        try:
            node.rpc("dpos_getDelegate", params)
            check(False, "dpos_getDelegate %s refused" % params)
        except RpcError as e:
            check(e.code == code, "dpos_getDelegate %s -> %d" % (params, code))
    # a light client can prove a delegate record and a stake against a state root
    key = node.rpc("account_getProof", {"address": alpha})["key"]
    p = node.rpc("state_getProof", {"table": "dpos_delegate", "key": key})
    check(p["present"] and p["table_id"] == 40, "state_getProof dpos_delegate: alpha's record")
    p = node.rpc("state_getProof", {"table": "dpos_staker",
                                    "key": node.rpc("account_getProof", {"address": carol})["key"]})
    check(p["present"] and p["table_id"] == 42, "state_getProof dpos_staker: carol's stake")

    # --- rewards: the devnet's pool pays 100 SSP per round of 21 one-second slots, 70% of it
    # to the delegates by capped weight (alpha alone now): 5% commission to alpha, the rest
    # to its voters by stake (carol alone)
    wait_for(lambda: Decimal(node.rpc("dpos_getRewards", {"address": carol})["claimable"]) > 0,
             30, "a round ended: carol has a reward to claim")
    rw = node.rpc("dpos_getRewards", {"address": carol})
    ra = node.rpc("dpos_getRewards", {"address": alpha})
    # (owed > 0 too when a round ended before carol's vote change or unstake settled it:
    # a slow machine, qemu)
    check(Decimal(rw["owed"]) + Decimal(rw["pending"]) == Decimal(rw["claimable"]) > 0 and
          rw["round_emission"] == "100" and rw["next_payout_slot"] % 21 == 0,
          "dpos_getRewards: carol has a reward (owed %s + pending %s)" % (rw["owed"], rw["pending"]))
    c_sum = Decimal(rw["claimable"])
    # carol gets at least 90% of alpha's share (commission 10%, then 5%) and all of beta's,
    # less the accumulator's rounding dust (at most a few base units: 7 to alpha and 63 -
    # 1e-8 to carol when the round at 10% was the one paid, seen under qemu)
    check(Decimal(ra["owed"]) > 0 and c_sum + Decimal("0.000001") >= 9 * Decimal(ra["owed"]),
          "alpha is owed its commission (%s), carol at least 9 times that (%s)"
          % (ra["owed"], rw["claimable"]))
    out = w.run("rewards", "show", "carol", json_out=False)
    check("claimable:" in out and "SSP" in out, "ssp rewards show carol")
    c2 = balance(node, carol)
    r = w.run("rewards", "claim", "--from", "carol", "--wait")
    got = balance(node, carol) - c2 + Decimal(r["fee"])
    # each round that ended between the read and the claim's block paid carol 66.5 SSP more
    # (70 to alpha, 5% commission): one at most on a fast machine, more under qemu
    claim_h = node.rpc("tx_get", {"txid": r["txid"]})["block"]["height"]
    claim_round = node.rpc("chain_getBlock", {"height": claim_h})["slot"] // 21
    extra = Decimal("66.5") * (claim_round - rw["round"])
    check(got >= c_sum and got - c_sum <= extra,
          "rewards claim pays carol %s SSP (claimable %s, plus %d rounds ended since: <= %s)"
          % (got, c_sum, claim_round - rw["round"], extra))
    rw = node.rpc("dpos_getRewards", {"address": carol})
    check(Decimal(rw["claimable"]) <= Decimal("66.5") * (rw["round"] - claim_round),
          "after the claim, only the rounds ended since are pending (%s)" % rw["claimable"])
    expect_cli_error(w, ["rewards", "claim", "--from", "beta"], "no reward to claim",
                     "rewards claim with nothing to claim")

    # --- double signing: a delegate whose node key signed two blocks for one slot is
    # reported by anyone (ssp delegate evidence), loses 10% of its self-stake (half to the
    # reporter) and is banned. The headers are made here, signed with a key of this test.
    nk = nacl.signing.SigningKey.generate()
    pub = nk.verify_key.encode()
    w.run("delegate", "register", "--from", "carol", "--name", "gamma", "--self-stake", "200",
          "--node-key", "ed25519:" + pub.hex(), "--wait")
    cid = node.rpc("chain_getInfo")["chain_id"].encode()
    producer = hashlib.sha256(b"\x01" + pub).digest()[:20]
    slot = node.rpc("chain_getBlock", {"height": node.height()})["slot"] - 1

    def header(root_byte):
        signed = (struct.pack("<BQ", 1, 7) + b"\x11" * 32 + struct.pack("<QQ", slot, 1)
                  + producer + b"\x22" * 64 + bytes([root_byte]) * 32
                  + struct.pack("<I", 0) + struct.pack("<I", 0))
        digest = hashlib.sha256(b"SSP/block/v1\x00" + bytes([len(cid)]) + cid + signed).digest()
        return (signed + nk.sign(digest).signature).hex()

    h1, h2 = header(1), header(2)
    b0 = balance(node, beta)
    r = w.run("delegate", "evidence", "--from", "beta", "--delegate", "gamma", "--header", h1,
              "--header", h2, "--wait")
    d = node.rpc("dpos_getDelegate", {"name": "gamma"})
    check(d["status"] == "banned" and d["slashes"] == 1 and d["self_stake"] == "0" and
          isinstance(d["banned_until_slot"], int) and "gamma" not in delegates(node),
          "delegate evidence: gamma banned, out of the ranking (%s)" % d["status"])
    check(balance(node, beta) == b0 + 10 - Decimal(r["fee"]),
          "the reporter gets half of the 20 SSP slashed")
    tx = node.rpc("tx_get", {"txid": r["txid"]})
    check(tx["tx"]["type"] == "evidence" and tx["tx"]["payload"]["delegate"] == "gamma"
          and [x["slot"] for x in tx["tx"]["payload"]["headers"]] == [slot, slot],
          "tx_get shows the evidence: the delegate and both headers' slot")
    expect_cli_error(w, ["delegate", "evidence", "--from", "alpha", "--delegate", "gamma",
                         "--header", h1, "--header", header(3), "--wait"],
                     "already punished", "the same slot reported again")
    expect_cli_error(w, ["delegate", "evidence", "--from", "alpha", "--delegate", "gamma",
                         "--header", h1, "--header", h1, "--wait"],
                     "not evidence of double signing", "one header twice is not evidence")
    ev = node.rpc("dpos_getEvidence")
    check(ev["more"] is False and [(e["delegate"], e["slot"], e["height"] == tx["block"]["height"])
                                   for e in ev["evidence"]] == [("gamma", slot, True)],
          "dpos_getEvidence: the punished slot, with the evidence tx's height")
    check(node.rpc("dpos_getEvidence", {"name": "gamma"})["evidence"] == ev["evidence"] and
          node.rpc("dpos_getEvidence", {"name": "alpha"})["evidence"] == [],
          "dpos_getEvidence by delegate")
    try:
        node.rpc("dpos_getEvidence", {"name": "nobody"})
        check(False, "dpos_getEvidence of an unknown delegate refused")
    except RpcError as e:
        check(e.code == -32001, "dpos_getEvidence of an unknown delegate -> -32001")
    expect_cli_error(w, ["delegate", "register", "--from", "carol", "--name", "gamma",
                         "--self-stake", "200", "--node-key", "carol", "--wait"],
                     "banned", "a banned delegate cannot register again yet")

    supply = node.rpc("chain_getSupply")
    check(Decimal(supply["total"]) == Decimal("10000000000"), "supply unchanged")
    check(node.stop() == 0, "node stops cleanly (invariants held after every block)")


if __name__ == "__main__":
    main(test)
