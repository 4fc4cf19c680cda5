#!/usr/bin/env python3
"""OpenRPC that tools can use (issue 13). docs/openrpc.json, as a live node
serves it from rpc.discover (and the rpc_discover alias), must
  * validate against the OpenRPC meta-schema subset in
    tests/vectors/openrpc_meta_schema.json, every schema in it against JSON
    Schema draft 7 (python3-jsonschema, Debian);
  * say paramStructure by-name for every method (the server refuses
    positional params: checked), list servers, type every result;
  * describe what the node really answers: each method's live result on a
    devnet with a transfer, a token and a contract validates against its
    result schema, and the error codes bad params provoke are among the
    method's documented errors;
and JSON-RPC ids beyond 64 bits are echoed, not refused."""
import hashlib
import json
import os
import sys
import warnings

try:
    import jsonschema
except ImportError:  # a pyenv/venv python before Debian's: re-run with the system one
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("python3-jsonschema is missing: install it (scripts/install-deps.sh)")
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTOCOL = {-32700, -32600, -32601}


def validator_for(doc, schema):
    warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver, fine for local refs
    resolver = jsonschema.RefResolver("", doc)
    return jsonschema.Draft7Validator(schema, resolver=resolver)


def test():
    with open(os.path.join(ROOT, "docs", "openrpc.json")) as f:
        doc = json.load(f)
    with open(os.path.join(ROOT, "tests", "vectors", "openrpc_meta_schema.json")) as f:
        meta = json.load(f)
    jsonschema.Draft7Validator.check_schema(meta)
    errs = sorted(jsonschema.Draft7Validator(meta).iter_errors(doc), key=lambda e: list(e.path))
    check(not errs, "docs/openrpc.json validates against the meta-schema (%s)" %
          "; ".join("%s: %s" % (list(e.path), e.message) for e in errs[:3]))
    for name, sch in doc["components"]["schemas"].items():
        jsonschema.Draft7Validator.check_schema(sch)
    for m in doc["methods"]:
        for cd in m["params"] + [m["result"]]:
            jsonschema.Draft7Validator.check_schema(cd["schema"])
    check(True, "every schema in it is a valid draft-7 schema")
    check(doc.get("servers") and doc["servers"][0]["url"].endswith("/rpc"), "servers listed")
    methods = {m["name"]: m for m in doc["methods"]}
    check(all(m.get("paramStructure") == "by-name" for m in doc["methods"]),
          "paramStructure by-name on every method")
    for m in doc["methods"]:
        s = m["result"]["schema"]
        s = doc["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]] if "$ref" in s else s
        if not s.get("properties"):
            check(False, "%s: the result schema has real properties" % m["name"])
    check(True, "every result schema has properties")
    check("rpc.discover" in methods and "rpc_discover" in methods, "rpc.discover and its alias")

    bindir = bindir_from_argv()
    node = Node(bindir).start()
    node.wait_height(1)
    served = node.rpc("rpc.discover")
    check(served == doc and node.rpc("rpc_discover") == doc,
          "rpc.discover and rpc_discover serve docs/openrpc.json")

    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    me = dev.run("balance", "dev")["address"]
    other = Cli(bindir, node, tempdir(), password="").run("key", "new", "--name", "o")["address"]
    t = dev.run("transfer", "--from", "dev", "--to", other, "--amount", "5", "--wait")
    dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name", "P", "--decimals",
            "2", "--max-supply", "100", "--wait")
    c = dev.run("contract", "deploy", "--from", "dev", os.path.join(ROOT, "contracts",
                                                                    "parking.lua"),
                "--args", "[100000, 60000]", "--wait")
    dev.run("contract", "call", "--from", "dev", c["contract"], "enter", "--value", "1", "--wait")
    dev.run("delegate", "register", "--from", "dev", "--name", "devnode", "--self-stake", "100",
            "--node-key", "dev", "--onion", "ab" * 32, "--wait")
    dev.run("stake", "--from", "dev", "--amount", "50", "--wait")
    dev.run("vote", "--from", "dev", "--for", "devnode", "--wait")
    dev.run("unstake", "--from", "dev", "--amount", "5", "--wait")
    calls = [
        ("chain_getInfo", {}), ("chain_getSupply", {}), ("account_get", {"address": me}),
        ("account_get", {"address": other}),
        ("chain_getBlock", {}), ("chain_getBlock", {"height": t["height"], "full": True,
                                                    "raw": True}),
        ("chain_getHeader", {}), ("chain_getHeader", {"height": t["height"]}),
        ("tx_get", {"txid": t["txid"]}), ("tx_get", {"txid": c["txid"]}),
        ("tx_submitBatch", {"txs": ["zz", "00"]}),
        ("contract_query", {"address": c["contract"], "function": "quote", "args": [me]}),
        ("contract_getCode", {"address": c["contract"]}),
        ("contract_getEvents", {"address": c["contract"]}),
        ("token_get", {"symbol": "PARK"}), ("token_list", {"limit": 5}),
        ("token_balance", {"symbol": "PARK", "address": me}),
        ("token_allowance", {"symbol": "PARK", "owner": me, "spender": other}),
        ("device_list", {}), ("mfr_list", {}),
        ("dpos_getDelegates", {}), ("dpos_getDelegates", {"start": 2, "limit": 1}),
        ("dpos_getDelegate", {"name": "devnode"}), ("dpos_getDelegate", {"address": me}),
        ("dpos_getVotes", {"address": me}), ("dpos_getVotes", {"address": other}),
        ("dpos_getRewards", {"address": me}), ("dpos_getEvidence", {}),
        ("account_getProof", {"address": me}), ("account_getProof", {"address": other}),
        ("token_getBalanceProof", {"symbol": "PARK", "address": me}),
        ("rpc.discover", {}),
    ]
    tested = set()
    for name, params in calls:
        res = node.rpc(name, params)
        v = validator_for(doc, methods[name]["result"]["schema"])
        bad = list(v.iter_errors(res))
        check(not bad, "%s: the live result matches its schema%s" % (
            name, "" if not bad else " (%s at %s)" % (bad[0].message, list(bad[0].path))))
        tested.add(name)

    # chain_getHeader: the block's header bytes alone, its id their SHA-256
    blk = node.rpc("chain_getBlock", {"height": t["height"], "raw": True})
    hdr = node.rpc("chain_getHeader", {"height": t["height"]})
    check(hdr["height"] == t["height"] and hdr["id"] == blk["id"]
          and blk["raw"].startswith(hdr["raw"]) and len(hdr["raw"]) < len(blk["raw"])
          and hashlib.sha256(bytes.fromhex(hdr["raw"])).hexdigest() == hdr["id"],
          "chain_getHeader: the block's prefix, hashing to its id")
    check(node.rpc("chain_getHeader", {"id": blk["id"]}) == hdr, "chain_getHeader by id")
    head = node.rpc("chain_getHeader")
    check(head["height"] >= t["height"], "chain_getHeader without params: the head")

    # errors: what bad params provoke is documented for the method
    def codes(m):
        out = set()
        for e in methods[m].get("errors", []):
            if "$ref" in e:
                e = doc["components"]["errors"][e["$ref"].rsplit("/", 1)[1]]
            out.add(e["code"])
        return out
    bad_calls = [(m, ["positional"]) for m in methods] + [
        ("chain_getBlock", {"height": 10**9}), ("chain_getHeader", {"id": "00" * 32}),
        ("chain_getHeader", {"height": 1, "id": "00" * 32}), ("account_get", {"address": "x"}),
        ("tx_submit", {"tx": "zz"}), ("tx_submit", {"tx": "00"}),
        ("tx_get", {"txid": "00" * 32}), ("tx_submitBatch", {"txs": ["00"] * 10001}),
        ("contract_query", {"address": other, "function": "f"}),
        ("contract_query", {"address": c["contract"], "function": "nope"}),
        ("contract_getCode", {"address": other}),
        ("contract_getEvents", {"address": c["contract"], "from_height": 0,
                                "to_height": 20000}),
        ("token_get", {"symbol": "NOPE"}), ("token_get", {"symbol": "bad"}),
        ("token_list", {"limit": 101}), ("token_balance", {"symbol": "NOPE", "address": me}),
        ("token_allowance", {"symbol": "NOPE", "owner": me, "spender": me}),
        ("device_get", {"address": other}), ("device_getAttestations", {"address": other}),
        ("mfr_get", {"name": "nope"}), ("device_list", {"owner": "x"}),
        ("dpos_getDelegates", {"limit": 101}), ("dpos_getDelegate", {"name": "nobody"}),
        ("dpos_getDelegate", {"name": "Bad Name"}), ("dpos_getVotes", {"address": "x"}),
        ("state_getProof", {"table": "nope", "key": "00"}),
        ("state_getProof", {"table": "account", "key": "00", "height": 0}),
        ("account_getProof", {"address": me, "height": 10**9}),
        ("token_getBalanceProof", {"symbol": "bad", "address": me}),
        ("net_getInfo", {}), ("net_getPeers", {}),  # a devnet without P2P: -32001
        ("dpos_getSchedule", {}),  # a devnet without BFT: -32001
        ("dpos_getElection", {"round": 0}),  # round 0's first block never records one
        ("dpos_getElection", {"round": -1}),
    ]
    for m, params in bad_calls:
        try:
            node.rpc(m, params)
            if params == ["positional"]:
                check(False, "%s refuses positional params" % m)
            continue
        except RpcError as e:
            ok = e.code in codes(m) or e.code in PROTOCOL
            check(ok, "%s %s: error %d is documented for it (%s)" %
                  (m, json.dumps(params)[:40], e.code, sorted(codes(m))))

    tested |= {m for m, p in bad_calls if p != ["positional"]}
    check(tested | {"rpc_discover"} == set(methods),
          "every documented method was exercised (a result checked, or a documented error) %s"
          % sorted(set(methods) - tested - {"rpc_discover"}))

    # ids beyond 64 bits are echoed exactly
    for raw_id in ("123456789012345678901234567890", "-18446744073709551617", "1e400"):
        status, body = node.rpc_raw(('{"jsonrpc":"2.0","id":%s,"method":"chain_getSupply"}' %
                                     raw_id).encode())
        text = body.decode()
        check(status == 200 and text.endswith('"id":%s}' % raw_id) and '"result"' in text,
              "id %s is echoed as sent" % raw_id)
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
