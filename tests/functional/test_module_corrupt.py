"""Altered module state on disk (issue #12, point 3): a module's RPC method
that reads a corrupt state value answers an internal error and the node
stops with "database corrupt at height H", as the chain's own methods do
(ssp_module_env.on_fatal). State values carry no checksum of their own, so
what a read can detect is a value that breaks its format:

* a token balance of zero (zeros are deleted, never stored): token_balance;
* a contract storage value that is not a canonical value (h_storage_get
  checks what h_storage_set checked): contract_query.

A value changed into another well-formed one (a balance of 10 become 11) is
served as it is; `sspd --verify-db` finds it (the state commitment no longer
matches the head's state root). Each case runs on a copy of one datadir."""
import os
import re
import shutil

from sspnode import (Cli, Failure, Node, RpcError, bindir_from_argv, check, command, main, tempdir)
from test_db_corrupt import CONTRACTS, start_copy, verify


def copy_of(src):
    d = os.path.join(tempdir(), "copy")
    shutil.copytree(src, d)
    return d


def patch(datadir, pattern, edit, what):
    """Rewrites every match of pattern in chain.mdb (LMDB may hold stale copies of a page)."""
    path = os.path.join(datadir, "chain.mdb")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    found = 0
    for m in re.finditer(pattern, bytes(data), re.S):
        start, new = edit(m)
        data[start:start + len(new)] = new
        found += 1
    check(found > 0, "%s: %d stored cop%s found and altered" % (what, found, "y" if found == 1 else "ies"))
    with open(path, "wb") as f:
        f.write(data)


def stops(node, call, what):
    try:
        call()
        raise Failure("%s was served" % what)
    except RpcError as e:
        check(e.code == -32603 and "corrupt" in e.message, "%s: internal error (%s)" % (what, e.message))
    rc = node.proc.wait(15)
    log = node.logtext()
    m = re.search(r"database corrupt at height (\d+)", log)
    check(rc == 1 and m is not None, "the node stopped (exit %d) with \"database corrupt at height %s\"" %
          (rc, m.group(1) if m else "?"))


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    bob = Cli(bindir, node, tempdir(), password="pw").run("key", "new", "--name", "bob")["address"]
    dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name", "Parking", "--decimals", "0",
            "--max-supply", "1000000", "--wait")
    dev.run("token", "issue", "--from", "dev", "--symbol", "PARK", "--to", "dev", "--amount", "5000", "--wait")
    dev.run("token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob, "--amount", "10", "--wait")
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                "--args", '["IOTQ", "Test token", 2, 1000000, 5000]', "--wait")
    tok = d["contract"]
    check(node.rpc("token_balance", {"symbol": "PARK", "address": bob})["balance"] == "10", "bob holds 10 PARK")
    check(node.rpc("contract_query", {"address": tok, "function": "symbol"})["return"] == "IOTQ",
          "the contract's symbol is IOTQ")
    check(node.stop() == 0, "node stops cleanly")
    orig = node.datadir

    # bob's PARK balance, "PARK\0" + 20-byte address -> u64 10, becomes 0
    ten = (10).to_bytes(8, "little")
    bal = re.escape(b"PARK\x00") + b".{20}" + re.escape(ten)
    d1 = copy_of(orig)
    patch(d1, bal, lambda m: (m.end() - 8, bytes(8)), "bob's PARK balance set to 0")
    n, refused = start_copy(bindir, d1)
    check(n is not None, "a node starts on it (state values are read on demand)")
    stops(n, lambda: n.rpc("token_balance", {"symbol": "PARK", "address": bob}),
          "token_balance of the zeroed balance")

    # the contract's "symbol" value right after its key: a canonical string (tag 4, u32 length,
    # "IOTQ"); its tag becomes 9
    d2 = copy_of(orig)
    sym = re.escape(b"symbol\x04" + (4).to_bytes(4, "little") + b"IOTQ")
    patch(d2, sym, lambda m: (m.start() + 6, b"\x09"), "iot20's stored symbol value's tag")
    n, refused = start_copy(bindir, d2)
    check(n is not None, "a node starts on it")
    stops(n, lambda: n.rpc("contract_query", {"address": tok, "function": "symbol"}),
          "contract_query of the altered storage value")

    # a well-formed change is not detectable by a read; --verify-db finds it
    d3 = copy_of(orig)
    patch(d3, bal, lambda m: (m.end() - 8, (11).to_bytes(8, "little")), "bob's PARK balance set to 11")
    r = verify(bindir, d3)
    check(r.returncode == 1 and "database corrupt at height" in r.stdout,
          "--verify-db finds the changed balance: %s" % r.stdout.strip())
    r = verify(bindir, orig)
    check(r.returncode == 0 and "ok" in r.stdout, "--verify-db of the original: %s" % r.stdout.strip())


if __name__ == "__main__":
    main(test)
