"""State proofs end to end (issue #10): a devnet sspd with accounts, a native
IOT_Coin token and an iot20 Lua contract serves state_getProof,
account_getProof and token_getBalanceProof; every proof, of presence and of
absence, verifies against the state_root of its block's header (fetched
separately with chain_getBlock) with an independent verifier written from
docs/internals/state.md (tests/tools/smt_ref.py) — before and after a
restart, and the proofs taken before the restart still verify against their
old headers. A tampered proof fails; `ssp proof account` checks one locally;
unknown tables, oversized keys and pruned or future heights are clear RPC
errors."""
import os
import sys

from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from smt_ref import verify  # noqa: E402  (the verifier tests/tools/smt_kat_check.py uses)

CONTRACTS = os.path.join(HERE, "..", "..", "contracts")
TB = {"account": 1, "token_balance": 17, "contract_code": 24, "contract_storage": 25}


def check_proof(node, res, what, present):
    hdr = node.rpc("chain_getBlock", {"height": res["height"]})
    root = bytes.fromhex(hdr["state_root"])
    check(res["state_root"] == hdr["state_root"], "%s: reply's root is its header's" % what)
    key = bytes.fromhex(res["state_key"])
    val = bytes.fromhex(res["value"]) if res["value"] is not None else None
    proof = bytes.fromhex(res["proof"])
    check(res["present"] == present and (val is not None) == present,
          "%s: present=%s" % (what, present))
    check(verify(root, key, val, proof), "%s: proof verifies against header %d (%d bytes)"
          % (what, res["height"], len(proof)))
    bad = bytearray(proof)
    bad[len(bad) // 2] ^= 0x10
    check(not verify(root, key, val, bytes(bad)), "%s: a flipped byte fails" % what)
    check(not verify(root, key, val, proof[:-1]) and not verify(root, key, val, proof + b"\0"),
          "%s: truncated / padded fail" % what)
    return (root, key, val, proof)


def expect_error(node, method, params, code, what):
    try:
        node.rpc(method, params)
    except RpcError as e:
        check(e.code == code, "%s -> %d (got %s: %s)" % (what, code, e.code, e.message))
        return e
    check(False, "%s should fail with %d" % (what, code))


def take_proofs(node, dev_addr, bob, nobody, tok_raw):
    out = []
    r = node.rpc("account_getProof", {"address": dev_addr})
    out.append(check_proof(node, r, "account dev", True))
    check(r["account"]["nonce"] >= 1, "account_getProof decodes the account")
    out.append(check_proof(node, node.rpc("account_getProof", {"address": nobody}),
                           "absent account", False))
    r = node.rpc("token_getBalanceProof", {"symbol": "PARK", "address": bob})
    out.append(check_proof(node, r, "token balance bob", True))
    check(r["balance_units"] == "12500", "bob's proven PARK balance is 125.00")
    out.append(check_proof(node, node.rpc("token_getBalanceProof",
                                          {"symbol": "PARK", "address": nobody}),
                           "absent token balance", False))
    skey = (tok_raw + b"\0" + b"symbol").hex()
    r = node.rpc("state_getProof", {"table": "contract_storage", "key": skey})
    out.append(check_proof(node, r, "contract storage 'symbol'", True))
    check(b"PARK" in bytes.fromhex(r["value"]), "the stored symbol is PARK")
    r = node.rpc("state_getProof", {"table": TB["contract_storage"],
                                    "key": (tok_raw + b"\0" + b"no-such-key").hex()})
    out.append(check_proof(node, r, "absent contract storage", False))
    r = node.rpc("state_getProof", {"table": "contract_code", "key": tok_raw.hex()})
    out.append(check_proof(node, r, "contract code", True))
    return out


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = Cli(bindir, node, tempdir(), password="pw")
    dev_addr = dev.run("balance", "dev")["address"]
    bob = wallet.run("key", "new", "--name", "bob")["address"]
    nobody = wallet.run("key", "new", "--name", "nobody")["address"]
    dev.run("transfer", "--from", "dev", "--to", bob, "--amount", "10", "--wait")
    dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name", "Parking",
            "--decimals", "2", "--max-supply", "1000000", "--wait")
    dev.run("token", "issue", "--from", "dev", "--symbol", "PARK", "--to", bob,
            "--amount", "125", "--wait")
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                "--args", '["PARK", "Parking credits", 2, 1000000, 5000]', "--wait")
    tok = d["contract"]
    tok_raw = bytes.fromhex(node.rpc("account_getProof", {"address": tok})["key"])
    check(len(tok_raw) == 20, "account_getProof returns the raw address as key")

    before = take_proofs(node, dev_addr, bob, nobody, tok_raw)

    # the CLI checks a proof itself against the block header
    r = dev.run("proof", "account", "dev")
    check(r["verified"] is True and r["present"] and r["header_state_root"] == r["state_root"],
          "ssp proof account dev --json: verified")
    out = wallet.run("proof", "account", "nobody", json_out=False)
    check("proof of absence" in out and "verified" in out, "ssp proof account (absent): %r" % out)
    r = wallet.run("proof", "token", "PARK", "bob", "--final")
    check(r["verified"] is True and r["proven_balance_units"] == "12500" and r["final"] is True,
          "ssp proof token PARK bob --final: 125.00 verified")
    out = wallet.run("proof", "token", "PARK", "nobody", json_out=False)
    check("proof of absence" in out and "verified" in out, "ssp proof token (absent): %r" % out)
    r = wallet.run("proof", "device", "nobody")
    check(r["verified"] is True and r["proven_status"] == "not registered",
          "ssp proof device (not a device): absence verified")
    r = wallet.run("proof", "token", "PARK", "bob", "--height", "1", ok=False)
    check(r.returncode == 1 and "pruned" in r.stderr, "ssp proof --height below final: %r"
          % r.stderr.strip())

    # bad input
    expect_error(node, "state_getProof", {"table": "nosuch", "key": "00"}, -32602, "unknown table")
    expect_error(node, "state_getProof", {"table": 99, "key": "00"}, -32602, "unknown table id")
    expect_error(node, "state_getProof", {"table": "account", "key": "00" * 97}, -32602,
                 "a 97-byte key")
    expect_error(node, "state_getProof", {"table": "account", "key": "zz"}, -32602, "non-hex key")
    expect_error(node, "account_getProof", {"address": "dssp1nothing"}, -32602, "bad address")
    expect_error(node, "token_getBalanceProof", {"symbol": "bad symbol", "address": bob}, -32602,
                 "bad symbol")
    h = node.height()
    e = expect_error(node, "account_getProof", {"address": dev_addr, "height": 1}, -32011,
                     "a pruned height")
    check(e.data and e.data.get("error") == "PRUNED", "pruned: data names PRUNED")
    expect_error(node, "account_getProof", {"address": dev_addr, "height": h + 100000}, -32001,
                 "a future height")
    # the finalized height (a devnet's one producer finalizes its head at once)
    r = node.rpc("account_getProof", {"address": dev_addr, "final": True})
    check(r["final"] is True and r["height"] == r["finalized_height"],
          "final: true proves at the finalized height (%d)" % r["height"])
    check_proof(node, r, "account dev at the final height", True)
    expect_error(node, "account_getProof", {"address": dev_addr, "final": True, "height": h},
                 -32602, "height and final together")
    expect_error(node, "account_getProof", {"address": dev_addr, "final": "yes"}, -32602,
                 "final not a boolean")

    # restart: the tree is on disk; old proofs still check against their old headers
    check(node.stop() == 0, "node stops cleanly")
    node.start()
    for root, key, val, proof in before:
        check(verify(root, key, val, proof), "a proof from before the restart still verifies")
    take_proofs(node, dev_addr, bob, nobody, tok_raw)
    dev.run("transfer", "--from", "dev", "--to", nobody, "--amount", "1", "--wait")
    r = node.rpc("account_getProof", {"address": nobody})
    check_proof(node, r, "the new account after the restart", True)
    check(node.stop() == 0, "node stops cleanly at the end")


if __name__ == "__main__":
    main(test)
