"""Errors reach the client with their real class (issue 12): a contract view
that returns a string which is not UTF-8 has no JSON form. contract_query
used to call that "internal error: out of memory"; it must answer a
contract error that says what is wrong and carries the value's bytes, and
other calls must go on working."""
import os

from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir

SRC = r'''
function bad() return "caf\xe9" end
function table_bad() return {["\xff"] = 1} end
function good() return "caf\u{e9}" end
abi.view(bad, table_bad, good)
'''


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    src = os.path.join(tempdir(), "bytes.lua")
    with open(src, "w") as f:
        f.write(SRC)
    d = dev.run("contract", "deploy", "--from", "dev", src, "--gas", "1000000", "--wait")
    check(d["status"] == "ok", "contract deployed")
    addr = d["return"]
    for fn, raw in (("bad", "caf\xe9".encode("latin-1")), ("table_bad", None)):
        try:
            node.rpc("contract_query", {"address": addr, "function": fn})
            check(False, "%s: the query fails" % fn)
        except RpcError as e:
            check(e.code == -32010 and "JSON" in e.message and "memory" not in e.message,
                  "%s: a contract error that names the problem, not out of memory: %d %s" %
                  (fn, e.code, e.message))
            check(e.data and e.data.get("error") == "RETURN_NOT_JSON" and e.data.get("raw"),
                  "%s: data carries the value's canonical bytes (%s)" % (fn, e.data.get("raw")))
            if raw:
                check(raw.hex() in e.data["raw"], "%s: the bytes are the string's" % fn)
    q = node.rpc("contract_query", {"address": addr, "function": "good"})
    check(q["return"] == "caf\u00e9", "a UTF-8 string comes back as such")
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
