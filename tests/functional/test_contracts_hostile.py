"""Hostile contracts through a real node (issue #3): endless loops (also
under pcall), memory and concat bombs, a pattern-matching bomb, unbounded
recursion, __gc finalizers, an error object whose __tostring never returns,
allocation churn, and strings with a NUL inside handed to native code
(a token symbol, a key type). Each call ends in a failed receipt with a definite
error and gas, the fee is charged, the node keeps producing and serving,
and two replays of the chain in separate processes agree with the node.
One call succeeds on purpose: `holes` stores #t of tables whose stock-Lua
border depends on each process's random string-hash seed; the node and
both replays must store the same values."""
import json
import os

from sspnode import (Cli, Failure, Node, bindir_from_argv, check, main, replay_twice, tempdir,
                     wait_for)

HOSTILE = r'''
function spin() while true do end end
function spin_pcall()
  for i = 1, 1000 do pcall(function() while true do end end) end
end
function rep_bomb() return #string.rep("x", 1 << 24) end
function concat_bomb() local s = "x" for i = 1, 40 do s = s .. s end return #s end
function pattern_bomb()
  local s = string.rep("a", 16000)
  return s:find(string.rep("a.-", 50) .. "b")
end
function deep() local function r(n) return r(n + 1) + 1 end return r(1) end
function gc_trick() setmetatable({}, {__gc = function() while true do end end}) return 1 end
function tostring_bomb()
  error(setmetatable({}, {__tostring = function() while true do end end}))
end
function churn() local t = {} for i = 1, 100000000 do t[i % 1000] = {i} end end
function ok() return 42 end
function nul_symbol() return token.transfer("AB\0x", ssp.self(), 1) end
function nul_keytype() return ssp.verify("ed25519\0", string.rep("00", 32), "m", string.rep("00", 64)) end
function rehash_churn()
  local t = {}
  for i = 1, 1024 do t[i * 4294967296] = true end
  local j = 1
  while true do t[j * 4294967296] = nil t[(1024 + j) * 4294967296] = true j = j + 1 end
end
function holes()
  local seed, acc = 7, 0
  local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n + 1 end
  for trial = 1, 120 do
    local t, n = {}, 4 + rnd(60)
    local dens = rnd(10)
    for i = 1, 3 * n do
      local r = rnd(10)
      if r <= 4 then t["k" .. rnd(60)] = i
      elseif r <= 6 then t["k" .. rnd(60)] = nil
      elseif r <= 6 + dens * 4 // 10 then t[rnd(n)] = i
      else t[rnd(n)] = nil end
    end
    acc = (acc * 31 + #t) % 99991
    storage.set("len" .. trial, #t)
  end
  return acc
end
abi.register(holes, rehash_churn, spin, spin_pcall, rep_bomb, concat_bomb, pattern_bomb, deep, gc_trick,
             tostring_bomb, churn, nul_symbol, nul_keytype)
abi.view(ok)
'''

# function -> the errors it may end with (the VM's documented outcome)
EXPECT = {
    "spin": {"VM_GAS"},
    "spin_pcall": {"VM_GAS"},
    "rep_bomb": {"VM_MEMORY"},
    "concat_bomb": {"VM_MEMORY"},
    "pattern_bomb": {"VM_GAS"},
    "deep": {"VM_ERROR", "VM_DEPTH"},
    "gc_trick": {"VM_ERROR"},
    "tostring_bomb": {"VM_ERROR"},
    "churn": {"VM_GAS", "VM_MEMORY"},
    "nul_symbol": {"VM_ERROR"},
    "nul_keytype": {"VM_ERROR"},
}
GAS = 1_000_000


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    src = os.path.join(tempdir(), "hostile.lua")
    with open(src, "w") as f:
        f.write(HOSTILE)
    d = dev.run("contract", "deploy", "--from", "dev", src, "--gas", str(GAS), "--wait")
    check(d["status"] == "ok", "hostile contract deployed")
    addr = d["return"]

    txids = {}
    for fn in EXPECT:
        r = dev.run("contract", "call", "--from", "dev", addr, fn, "--gas", str(GAS))
        txids[fn] = r["txid"]
    check(len(txids) == len(EXPECT), "%d hostile calls submitted" % len(txids))

    def all_done():
        got = {fn: node.rpc("tx_get", {"txid": t}) for fn, t in txids.items()}
        return got if all(g["status"] in ("included", "finalized") for g in got.values()) else None

    got = wait_for(all_done, 60, "hostile calls in blocks")
    for fn, g in got.items():
        rc = g["receipt"]
        check(rc["status"] == "failed" and rc.get("error") in EXPECT[fn]
              and 0 < rc["gas_used"] <= GAS,
              "%s: failed with %s after %d gas" % (fn, rc.get("error"), rc["gas_used"]))
        if rc.get("error") == "VM_GAS":
            check(rc["gas_used"] == GAS, "%s: out of gas uses exactly the limit" % fn)
        check(rc["fee_paid"] != "0", "%s: the fee is charged" % fn)
    hl = dev.run("contract", "call", "--from", "dev", addr, "holes", "--gas", "2000000", "--wait")
    check(hl["status"] == "ok" and isinstance(hl["return"], int),
          "holes: # on seed-sensitive tables stored (%s)" % hl.get("return"))
    # strings with a NUL inside are refused whole, never cut short at the NUL
    for fn, want in (("nul_symbol", "token.transfer: invalid argument"),
                     ("nul_keytype", "unknown key type")):
        msg = got[fn]["receipt"].get("message", "")
        check(want in msg, "%s: %r" % (fn, msg))
    msg = got["tostring_bomb"]["receipt"].get("message", "")
    check(msg != "" and "0x" not in msg,
          "a non-string error object gets a generic message, its __tostring never run: %r" % msg)

    # a call that passes the node-local allocation budget (each insert rehashes the whole
    # table: uncharged, seed-dependent work) is not valid here: rejected, not fatal
    r = dev.run("contract", "call", "--from", "dev", addr, "rehash_churn", "--gas", "2000000")
    def churn_done():
        g = node.rpc("tx_get", {"txid": r["txid"]})
        return g if g["status"] != "pending" else None
    g = wait_for(churn_done, 30, "the rehash-churn call leaves the pool")
    check(g["status"] == "rejected" and "VM_NODELIMIT" in json.dumps(g),
          "rehash_churn: rejected by this node's VM limits, not included: %s" % g)
    check(node.proc.poll() is None, "the node survived it")
    # no fee was paid for that work, so the sender is paused for a while
    r = dev.run("contract", "call", "--from", "dev", addr, "holes", "--gas", "2000000", ok=False)
    check(r.returncode != 0 and "PAUSED" in r.stderr + r.stdout,
          "the same sender's next tx is refused: %s" % (r.stderr.strip() or r.stdout.strip()))

    # the node is unharmed: it answers, produces, and the contract still works
    h = node.height()
    node.wait_height(h + 2, timeout=20)
    q = node.rpc("contract_query", {"address": addr, "function": "ok"})
    check(q["return"] == 42, "a view call on the same contract still works")
    sup = node.rpc("chain_getSupply")
    check(sup["total"] == "10000000000", "supply intact")

    # determinism: two replays in separate processes agree with the node
    check(node.stop() == 0, "node stopped cleanly")
    outs = replay_twice(bindir, node.datadir)
    check(outs[0] == outs[1], "two replays agree on receipts, gas and state root")
    node2 = Node(bindir, datadir=node.datadir).start()
    blk = node2.rpc("chain_getBlock", {"height": int(outs[0]["height"])})
    check(blk["state_root"] == outs[0]["state_root"], "and with the node's state root")
    check(node2.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
