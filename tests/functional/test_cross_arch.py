"""Cross-architecture determinism (issue #14; run by `make test-arm64`, which
passes the cross build's bin/ as --bindir, the native build's as
--native-bindir and qemu-aarch64 in SSP_EMULATOR).

The same workload (transfers, IOT_Coin tokens, every contract template in
contracts/, and float_edges.lua, whose gas, storage, events, errors and
return values depend on how floats become text: NaN from every source,
infinities, signed zero, denormals, %a/%.17g, integer wraparound, negative
// and %, sorting with NaN) runs on a native node and on an arm64 node
under qemu. Each chain is replayed by both replay tools (ssp_replay
--blocks): identical state root, receipts root and gas for every block.
The float contract's receipts are identical on both nodes, and its NaN
text is the canonical "nan"."""
import json
import os
import sys

from sspnode import (EMULATOR, Cli, Failure, Node, bindir_from_argv, check, main, replay,
                     tempdir)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONTRACTS = os.path.join(ROOT, "contracts")
TEMPLATES = ["escrow.lua", "iot20.lua", "parking.lua"]


def native_bindir():
    args = sys.argv[1:]
    if "--native-bindir" not in args:
        raise Failure("usage: test_cross_arch.py --bindir CROSS_BIN --native-bindir NATIVE_BIN")
    return os.path.abspath(args[args.index("--native-bindir") + 1])


def receipt(r):
    """What must be equal between the two CPUs for one float-contract call."""
    return {k: r.get(k) for k in ("status", "error", "message", "return", "gas_used")} | {
        "events": [(e["name"], e["fields"]) for e in r.get("events", [])]}


def workload(node, bindir, emulator, label):
    """Runs every kind of transaction; returns the float contract's receipts."""
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"), emulator=emulator)
    w = Cli(bindir, node, tempdir(), password="pw", emulator=emulator)
    bob = w.run("key", "new", "--name", "bob")["address"]
    gate = w.run("key", "new", "--name", "gate")["address"]
    car = w.run("key", "new", "--name", "car")["address"]
    for who in (bob, gate):
        dev.run("transfer", "--from", "dev", "--to", who, "--amount", "100")
    dev.run("transfer", "--from", "dev", "--to", car, "--amount", "50", "--wait")

    # IOT_Coin tokens
    dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name", "Parking",
            "--decimals", "2", "--max-supply", "1000000", "--wait")
    dev.run("token", "issue", "--from", "dev", "--symbol", "PARK", "--to", "dev",
            "--amount", "5000", "--wait")
    dev.run("token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob,
            "--amount", "1000", "--wait")

    # every template
    check(sorted(f for f in os.listdir(CONTRACTS) if f.endswith(".lua")) == TEMPLATES,
          "%s: the workload covers every template in contracts/" % label)
    devaddr = dev.run("balance", "dev")["address"]
    tok = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                  "--args", '["IOT", "IoT credits", 2, 1000000, 5000]', "--wait")["contract"]
    dev.run("contract", "call", "--from", "dev", tok, "transfer", "--args",
            '["%s", 1200]' % bob, "--wait")
    dev.run("contract", "call", "--from", "dev", tok, "approve", "--args",
            '["%s", 300]' % bob, "--wait")
    w.run("contract", "call", "--from", "bob", tok, "transferFrom", "--args",
          '["%s", "%s", 250]' % (devaddr, gate), "--wait")
    esc = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "escrow.lua"),
                  "--args", "[100]", "--wait")["contract"]
    w.run("contract", "call", "--from", "bob", esc, "deposit", "--value", "3",
          "--args", '["%s", 2]' % gate, "--wait")
    w.run("contract", "call", "--from", "bob", esc, "release", "--args", "[1]", "--wait")
    park = w.run("contract", "deploy", "--from", "gate", os.path.join(CONTRACTS, "parking.lua"),
                 "--args", "[10000000, 1000]", "--wait")["contract"]
    w.run("contract", "call", "--from", "car", park, "enter", "--value", "1", "--wait")
    w.run("contract", "call", "--from", "car", park, "exit", "--wait")

    # the float edge cases
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(HERE, "float_edges.lua"),
                "--wait")
    check(d["status"] == "ok", "%s: float_edges deployed" % label)
    fe = d["contract"]
    out = {}
    calls = [("nan_text", "[]"), ("edges", "[]"), ("mix", "[1, 0]"), ("mix", "[-1, 0]"),
             ("mix", "[0, 0]"), ("mix", "[7, -2]"), ("mix", "[1, 3]"),
             ("mix", "[9007199254740993, 1]")]
    for fn, args in calls:
        r = dev.run("contract", "call", "--from", "dev", fe, fn, "--args", args,
                    "--gas", "2000000", "--wait")
        check(r["status"] == "ok", "%s: float_edges.%s%s ok" % (label, fn, args))
        out[fn + args] = receipt(r)
    r = dev.run("contract", "call", "--from", "dev", fe, "boom", "--wait", ok=False)
    if r.returncode == 0:
        raise Failure("float_edges.boom should fail")
    r = json.loads(r.stdout)
    check(r["status"] == "failed" and r["message"].endswith("boom nan nan"),
          "%s: an error message carries NaN text: %s" % (label, r["message"]))
    out["boom"] = receipt(r)
    return out


def produce(bindir, emulator, label):
    node = Node(bindir, emulator=emulator).start()
    results = workload(node, bindir, emulator, label)
    check(node.stop() == 0, "%s: node stopped" % label)
    return node.datadir, results


def same_blocks(a, b, what):
    if a != b:
        first = next((x, y) for x, y in zip(a + [None], b + [None]) if x != y)
        raise Failure("%s differ, first at: %s vs %s" % (what, first[0], first[1]))
    check(True, "%s: identical state root, receipts root and gas for all %d blocks" % (what, len(a)))


def test():
    cross, native = bindir_from_argv(), native_bindir()
    if not EMULATOR:
        raise Failure("SSP_EMULATOR (qemu-aarch64) is not set: run through make test-arm64")

    d_native, r_native = produce(native, [], "native node")
    s_nn, b_nn = replay(native, d_native, emulator=[], blocks=True)
    s_na, b_na = replay(cross, d_native, emulator=EMULATOR, blocks=True, timeout=500)
    check(int(s_nn["height"]) == len(b_nn) > 20 and int(s_nn["gas"]) > 0,
          "the native chain has %d blocks and contract gas %s" % (len(b_nn), s_nn["gas"]))
    same_blocks(b_nn, b_na, "native chain replayed natively and on arm64")
    check(s_nn == s_na, "the same head and receipts hash: %s" % s_na)

    d_arm, r_arm = produce(cross, EMULATOR, "arm64 node")
    s_aa, b_aa = replay(cross, d_arm, emulator=EMULATOR, blocks=True, timeout=500)
    s_an, b_an = replay(native, d_arm, emulator=[], blocks=True)
    same_blocks(b_aa, b_an, "arm64 chain replayed on arm64 and natively")
    check(s_aa == s_an, "the same head and receipts hash: %s" % s_an)

    for k in r_native:
        if r_native[k] != r_arm[k]:
            raise Failure("float_edges %s differs between CPUs:\n native %r\n arm64  %r"
                          % (k, r_native[k], r_arm[k]))
    check(True, "float_edges: the same returns, events, messages and gas on both CPUs (%s)"
          % ", ".join("%s %d" % (k, v["gas_used"]) for k, v in r_native.items()))
    text = r_native["nan_text[]"]["return"]
    check("nan" in text and "-nan" not in text and "-NAN" not in text,
          "NaN text is canonical: %s..." % text[:60])


if __name__ == "__main__":
    main(test)
