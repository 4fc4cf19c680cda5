"""Lua contracts end to end (issue #3): start sspd --dev, deploy the three
templates in contracts/ with the CLI and exercise each fully (iot20
transfers/approve/transferFrom, escrow release and refund after a timeout,
parking pay-per-minute), read code, events and view functions, check that
failing calls are recorded as failed with their message and the fee still
charged, that bad sources are refused with clear errors, and that replaying
the node's blocks in two separate processes gives identical receipts, gas
and state root, equal to the node's own."""
import json
import os
import subprocess
import time

from sspnode import (Cli, Failure, Node, bindir_from_argv, check, main, replay_twice, tempdir,
                     wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONTRACTS = os.path.join(ROOT, "contracts")
COIN = 10**8


def amount(s):
    """SSP decimal string -> base units, exactly."""
    whole, _, frac = s.partition(".")
    return int(whole) * COIN + int((frac + "0" * 8)[:8])


def bal(cli, who):
    return amount(cli.run("balance", who)["balance"])


def failed_run(cli, *args):
    """Runs a command that must fail; returns (its JSON stdout or None, stderr)."""
    r = cli.run(*args, ok=False)
    if r.returncode == 0:
        raise Failure("%s should have failed" % " ".join(args))
    out = json.loads(r.stdout) if r.stdout.strip() else None
    return out, r.stderr.strip()


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    keys = os.path.join(node.datadir, "dev-keys")
    dev = Cli(bindir, node, keys)
    wallet = tempdir()
    w = Cli(bindir, node, wallet, password="pw")
    bob = w.run("key", "new", "--name", "bob")["address"]
    gate = w.run("key", "new", "--name", "gate")["address"]
    car = w.run("key", "new", "--name", "car")["address"]
    for who in (bob, gate, car):
        dev.run("transfer", "--from", "dev", "--to", who, "--amount", "100")
    dev.run("transfer", "--from", "dev", "--to", car, "--amount", "1", "--wait")
    devaddr = dev.run("balance", "dev")["address"]
    info = node.rpc("chain_getInfo")
    check("gas_price" in info and "max_block_gas" in info, "chain_getInfo reports gas_price and max_block_gas")
    gas_price = amount(info["gas_price"])

    # ------------------------------------------------------------- iot20
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                "--args", '["PARK", "Parking credits", 2, 1000000, 5000]', "--wait")
    tok = d["contract"]
    check(d["status"] == "ok" and d["return"] == tok and len(d["txid"]) == 64,
          "iot20 deployed at %s (receipt returns the address)" % tok)
    check(amount(d["fee_paid"]) < amount(d["fee"]), "unused gas was refunded (paid %s of %s)"
          % (d["fee_paid"], d["fee"]))
    tx = node.rpc("tx_get", {"txid": d["txid"]})
    check(tx["tx"]["type"] == "contract_deploy" and tx["tx"]["payload"]["contract"] == tok,
          "tx_get decodes the deploy payload")
    check(tx["receipt"]["return"] == tok and tx["receipt"]["gas_used"] == d["gas_used"],
          "tx_get shows the receipt's return value and gas")
    # the exact fee model: fee_paid = fee - (gas_limit - gas_used) * gas_price
    check(amount(d["fee"]) - amount(d["fee_paid"]) == (d["gas_limit"] - d["gas_used"]) * gas_price,
          "fee paid = fee - unused gas x gas_price")

    r = dev.run("contract", "call", "--from", "dev", tok, "transfer", "--args", '["%s", 1200]' % bob, "--wait")
    check(r["status"] == "ok" and r["return"] is True, "iot20 transfer ok")
    check([e["name"] for e in r["events"]] == ["Transfer"] and r["events"][0]["fields"]["value"] == 1200,
          "the receipt carries the Transfer event")
    dev.run("contract", "call", "--from", "dev", tok, "approve", "--args", '["%s", 300]' % bob, "--wait")
    r = w.run("contract", "call", "--from", "bob", tok, "transferFrom",
              "--args", '["%s", "%s", 250]' % (devaddr, gate), "--wait")
    check(r["status"] == "ok", "bob spends dev's allowance with transferFrom")
    q = dev.run("contract", "query", tok, "balanceOf", "--args", '["%s"]' % gate)
    check(q["return"] == 250, "query balanceOf(gate) = 250")
    out = subprocess.run(dev.cmd + ["--rpc", node.url.replace("/rpc", ""), "contract", "query", tok,
                          "allowance", "--args", '["%s", "%s"]' % (devaddr, bob)],
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0 and out.stdout.strip() == "50", "human query prints the JSON value (50)")
    q = dev.run("contract", "query", tok, "totalSupply")
    check(q["return"] == 5000 and q["gas_used"] > 0, "totalSupply = 5000")
    ev = dev.run("contract", "events", tok, "--name", "Transfer")
    check(len(ev["events"]) == 3 and ev["events"][0]["fields"]["to"] == devaddr,
          "contract events lists the three Transfers (mint, transfer, transferFrom)")
    ev = dev.run("contract", "events", tok, "--name", "Approval")
    check(len(ev["events"]) == 1 and ev["events"][0]["fields"]["value"] == 300, "Approval event listed")
    code = dev.run("contract", "code", tok)
    with open(os.path.join(CONTRACTS, "iot20.lua")) as f:
        check(code["source"] == f.read(), "contract code returns the deployed source")
    names = {f["name"]: f for f in code["functions"]}
    check(names["transfer"]["view"] is False and names["balanceOf"]["view"] is True,
          "contract code lists the ABI")

    # a failing call: recorded as failed, with its message, fee charged
    before = bal(dev, "dev")
    out, err = failed_run(dev, "contract", "call", "--from", "dev", tok, "transfer",
                          "--args", '["%s", "lots"]' % bob, "--wait")
    check(out["status"] == "failed" and "amounts are integers" in out["message"],
          "wrong argument type: status failed with the contract's message")
    check("amounts are integers" in err, "the CLI's error line carries the message")
    check(before - bal(dev, "dev") == amount(out["fee_paid"]) > 0, "the fee is still charged")
    tx = node.rpc("tx_get", {"txid": out["txid"]})
    check(tx["receipt"]["status"] == "failed" and tx["receipt"]["error"] == "VM_ERROR"
          and "amounts are integers" in tx["receipt"]["message"], "tx_get shows status, error and message")
    out, _ = failed_run(dev, "contract", "call", "--from", "dev", tok, "nosuch", "--wait")
    check(out["status"] == "failed" and out["error"] == "VM_NOFN", "unknown function: VM_NOFN in the receipt")
    out, _ = failed_run(dev, "contract", "call", "--from", "dev", tok, "transfer", "--value", "1",
                        "--args", '["%s", 1]' % bob, "--wait")
    check(out["error"] == "VM_NOTPAYABLE", "value to a non-payable function is refused")
    check(bal(dev, tok) == 0, "and the value went back")
    _, err = failed_run(dev, "contract", "query", tok, "transfer", "--args", '["%s", 1]' % bob)
    check("contract error" in err, "query of a non-view function fails: %s" % err)
    try:
        node.rpc("contract_query", {"address": tok, "function": "nosuch"})
        raise Failure("contract_query of an unknown function succeeded")
    except Exception as e:
        check(getattr(e, "code", None) == -32010 and e.data["error"] == "VM_NOFN",
              "contract_query: unknown function is error -32010 VM_NOFN")

    # ------------------------------------------------------------ bad sources
    tmp = tempdir()
    bad = os.path.join(tmp, "bad.lua")
    with open(bad, "w") as f:
        f.write("function f()\n  return 1\nend\n\nlocal x = = 2\n")
    out, err = failed_run(dev, "contract", "deploy", "--from", "dev", bad, "--wait")
    check(out["status"] == "failed" and out["error"] == "VM_SYNTAX" and "line 5" in out["message"],
          "syntax error: failed receipt with the line number (%s)" % out["message"])
    bc = os.path.join(tmp, "bytecode.luac")
    with open(bc, "wb") as f:
        f.write(b"\x1bLuaT\x00\x19\x93\r\n\x1a\n")
    _, err = failed_run(dev, "contract", "deploy", "--from", "dev", bc)
    check("bytecode" in err, "bytecode refused: %s" % err)
    big = os.path.join(tmp, "big.lua")
    with open(big, "w") as f:
        f.write("-" * (128 * 1024 + 1))
    _, err = failed_run(dev, "contract", "deploy", "--from", "dev", big)
    check("131072" in err, "a source over 128 KiB refused: %s" % err)
    _, err = failed_run(dev, "contract", "call", "--from", "dev", tok, "transfer", "--args", "[1.5]")
    check("float" in err, "float arguments refused: %s" % err)

    # ------------------------------------------------------------ escrow
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "escrow.lua"),
                "--args", "[100]", "--wait")
    esc = d["contract"]
    check(d["status"] == "ok", "escrow deployed")
    g0 = bal(w, gate)
    r = w.run("contract", "call", "--from", "bob", esc, "deposit", "--value", "3",
              "--args", '["%s", 2]' % gate, "--wait")
    check(r["status"] == "ok" and r["return"] == 1 and bal(w, esc) == 3 * COIN, "bob deposits 3 SSP (deal 1)")
    r = w.run("contract", "call", "--from", "bob", esc, "release", "--args", "[1]", "--wait")
    check(r["status"] == "ok" and bal(w, gate) - g0 == 3 * COIN, "release pays the seller 3 SSP")
    r = w.run("contract", "call", "--from", "bob", esc, "deposit", "--value", "2",
              "--args", '["%s", 5]' % gate, "--wait")
    deadline = r["events"][0]["fields"]["deadline"]
    check(r["return"] == 2 and deadline == r["height"] + 5, "deal 2 runs until block %d" % deadline)
    b0 = bal(w, bob)
    out, _ = failed_run(w, "contract", "call", "--from", "bob", esc, "refund", "--args", "[2]", "--wait")
    check(out["height"] < deadline and "runs until block" in out["message"],
          "an early refund is refused: %s" % out["message"])
    check(b0 - bal(w, bob) == amount(out["fee_paid"]), "and costs only its fee")
    node.wait_height(deadline)
    b1 = bal(w, bob)
    r = w.run("contract", "call", "--from", "bob", esc, "refund", "--args", "[2]", "--wait")
    check(r["status"] == "ok" and bal(w, bob) - b1 == 2 * COIN - amount(r["fee_paid"]),
          "after the timeout the buyer gets the 2 SSP back")
    q = w.run("contract", "query", esc, "get", "--args", "[2]")
    check(q["return"]["state"] == "refunded" and bal(w, esc) == 0, "deal 2 is refunded, escrow empty")
    ev = w.run("contract", "events", esc)
    check([e["name"] for e in ev["events"]] == ["Deposited", "Released", "Deposited", "Refunded"],
          "escrow events in order")

    # ------------------------------------------------------------ parking
    # 0.1 SSP per "minute" of 1 s, so the test takes seconds
    d = w.run("contract", "deploy", "--from", "gate", os.path.join(CONTRACTS, "parking.lua"),
              "--args", "[10000000, 1000]", "--wait")
    park = d["contract"]
    check(d["status"] == "ok", "parking deployed by the gate")
    g0, c0 = bal(w, gate), bal(w, car)
    e = w.run("contract", "call", "--from", "car", park, "enter", "--value", "1", "--wait")
    since = e["return"]
    check(e["status"] == "ok" and e["events"][0]["name"] == "Entered", "the car enters with a 1 SSP deposit")
    q = w.run("contract", "query", park, "parked", "--args", '["%s"]' % car)
    check(q["return"] is True, "the car is parked")
    time.sleep(3)
    x = w.run("contract", "call", "--from", "car", park, "exit", "--wait")
    blk = node.rpc("chain_getBlock", {"height": x["height"]})
    minutes = max(1, -(-(blk["timestamp"] - since) // 1000))
    ret = x["return"]
    check(ret["minutes"] == minutes >= 3, "billed %d started minutes" % minutes)
    check(ret["paid"] == minutes * 10000000 and ret["refund"] == COIN - ret["paid"],
          "paid %d, refunded %d" % (ret["paid"], ret["refund"]))
    check(bal(w, gate) - g0 == ret["paid"], "the gate received the parking fee")
    check(c0 - bal(w, car) == ret["paid"] + amount(e["fee_paid"]) + amount(x["fee_paid"]),
          "the car paid parking + its two fees, the rest came back")
    check(bal(w, park) == 0, "the parking contract holds nothing")

    # supply invariant
    sup = node.rpc("chain_getSupply")
    check(amount(sup["circulating"]) + amount(sup["locked"]) + amount(sup["pool"]) == 10**10 * COIN,
          "supply invariant holds")

    # ------------------------------------------------------------ determinism
    check(node.stop() == 0, "node stopped")
    outs = replay_twice(bindir, node.datadir)
    check(outs[0] == outs[1], "two replays in separate processes agree: %s" % outs[0])
    node2 = Node(bindir, datadir=node.datadir).start()
    h = int(outs[0]["height"])
    blk = node2.rpc("chain_getBlock", {"height": h})
    check(blk["state_root"] == outs[0]["state_root"], "the replayed state root is the node's (height %d)" % h)
    check(int(outs[0]["gas"]) > 0, "the replay executed contract gas")
    check(node2.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
