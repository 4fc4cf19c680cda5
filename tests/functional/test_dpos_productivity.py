"""Missed blocks and block rewards (issue 9): on a BFT testnet of four
genesis delegates (`ssp testnet up`: d00..d03, rounds of 4 slots of 500 ms,
the devnet's scaled knobs: a 24-round window, probation for 3 rounds),
checked from outside through RPC:

- every delegate is paid block rewards once its blocks are final;
- kill -9 of node3 (delegate d03): its missed count grows, the other three
  keep producing and finalising; below 85% it goes on probation and drops
  out of the elected set (dpos_getElection); its block rewards stop while
  the others' grow;
- restarted, it comes back once probation is over: elected again, and
  producing (and paid) again;
- `ssp delegate show` prints its productivity, next slots (dpos_getSchedule),
  the finality lag and its rewards; `ssp delegate list` the productivity of
  each."""
import os
import subprocess
import time
from decimal import Decimal

from sspnode import Cli, RpcError, bindir_from_argv, check, main, wait_for
from sspnet import Testnet


def delegate(node, name):
    return node.rpc("dpos_getDelegate", {"name": name})


def elected_names(node):
    try:
        el = node.rpc("dpos_getElection")
    except RpcError:
        return None, set()
    return el["round"], {m.get("name") for m in el["members"]}


def test():
    bindir = bindir_from_argv()
    t0 = time.time()
    net = Testnet(bindir, nodes=4, interval=500)
    net.up()
    n0, n3 = net.nodes[0], net.nodes[3]
    net.wait_converged(timeout=60, min_height=3)
    names = ["d00", "d01", "d02", "d03"]

    # every delegate earns block rewards once its blocks are final
    def all_paid():
        ds = [delegate(n0, x) for x in names]
        return ds if all(Decimal(d["block_rewards"]) > 0 for d in ds) else None
    ds = wait_for(all_paid, 40, "block rewards paid to all four delegates")
    check(all(d["status"] == "registered" and d["missed"] <= 2 for d in ds),
          "all four registered and producing (missed %s)" % [d["missed"] for d in ds])

    # node3 (d03) dies
    n3.kill9()
    killed_at = time.time()
    m0 = delegate(n0, "d03")["missed"]
    wait_for(lambda: delegate(n0, "d03")["missed"] >= m0 + 2, 20, "d03's missed count to grow")
    f0 = n0.rpc("chain_getInfo")["finalized_height"]

    d3 = wait_for(lambda: (lambda d: d if d["status"] == "probation" else None)(
        delegate(n0, "d03")), 45, "d03 to go on probation")
    check(d3["productivity"] is None or d3["productivity"] < 85,
          "d03 on probation until round %d (window productivity %s%%, missed %d)"
          % (d3["probation_until_round"], d3["productivity"], d3["missed"]))
    round_out, members = wait_for(
        lambda: (lambda r: r if r[0] is not None and "d03" not in r[1] else None)(
            elected_names(n0)), 20, "an election without d03")
    check(members == {"d00", "d01", "d02"},
          "round %d elected %s without d03" % (round_out, sorted(members)))
    wait_for(lambda: n0.rpc("chain_getInfo")["finalized_height"] >= f0 + 8, 30,
             "finality to go on with three producers")

    # d03's block rewards stop (what it made before is paid by now), the others' grow
    r3 = Decimal(delegate(n0, "d03")["block_rewards"])
    others = {x: Decimal(delegate(n0, x)["block_rewards"]) for x in names[:3]}
    wait_for(lambda: all(Decimal(delegate(n0, x)["block_rewards"]) > others[x]
                         for x in names[:3]), 20, "the other three to be paid more")
    d3 = delegate(n0, "d03")
    check(Decimal(d3["block_rewards"]) == r3 and d3["blocks_pending"] == 0,
          "d03 paid nothing more while down (%s SSP in all)" % r3)

    # restarted: back after probation, elected and producing again
    p3 = d3["produced"]
    net.up()  # restarts node3 only
    wait_for(lambda: n3.height() >= n0.height() - 2, 40, "node3 to sync")
    wait_for(lambda: delegate(n0, "d03")["status"] == "registered", 30,
             "d03's probation to end")
    round_in, members = wait_for(
        lambda: (lambda r: r if "d03" in r[1] else None)(elected_names(n0)), 30,
        "d03 elected again")
    check(round_in > round_out, "d03 elected again in round %d" % round_in)
    wait_for(lambda: delegate(n0, "d03")["produced"] > p3, 30, "d03 to produce again")
    wait_for(lambda: Decimal(delegate(n0, "d03")["block_rewards"]) > r3, 20,
             "d03 to be paid for a new block")
    net.wait_converged(timeout=30)

    # the CLI: a delegate's productivity, next slots, finality lag and rewards
    cli = Cli(bindir, n0, os.path.join(net.dir, "keys"))
    show = cli.run("delegate", "show", "d03")
    check(show["status"] == "registered" and show["produced"] > p3 and
          isinstance(show["next_slots"], list) and show["finality_lag"] <= 4 and
          Decimal(show["rewards_owed"]) >= Decimal(show["block_rewards"]) > 0,
          "ssp delegate show d03: produced %d, missed %d, productivity %s%%, next slots %s, "
          "finality lag %d, block rewards %s, owed %s" % (
              show["produced"], show["missed"], show["productivity"],
              [x["slot"] for x in show["next_slots"]], show["finality_lag"],
              show["block_rewards"], show["rewards_owed"]))
    listed = {d["name"]: d for d in cli.run("delegate", "list")["delegates"]}
    check(set(listed) == set(names) and all("productivity" in d for d in listed.values()),
          "ssp delegate list shows the four with their productivity")
    text = cli.run("delegate", "show", "d00", json_out=False)
    check("next slots:" in text and "block_rewards" in text, "ssp delegate show d00 prints "
          "its next slots")
    net.down()
    net.check_logs()
    # the misses, probation and block rewards replay offline to the same state (every
    # header's state root is checked): a function of the blocks alone
    for nd in (n0, n3):
        r = subprocess.run([os.path.join(bindir, "sspd"), "--verify-db", nd.datadir, "--genesis",
                            os.path.join(net.dir, "genesis.json")], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == 0 and r.stdout.startswith("ok"),
              "sspd --verify-db replays %s's chain: %s" % (nd.name, (r.stdout.strip() or
                                                               r.stderr.strip())[:120]))
    return "killed after %.0fs; back in round %d; %.0fs in all" % (
        killed_at - t0, round_in, time.time() - t0)


if __name__ == "__main__":
    main(test)
