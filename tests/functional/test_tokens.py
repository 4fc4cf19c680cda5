"""IOT_Coin end to end: a devnet sspd, the dev key creates PARK (paying the
creation fee to the pool), issues, transfers to a second key, approves a
third, which moves tokens with transfer-from, and burns; balances,
allowances, info and list agree between the CLI and the RPC, tx_get shows
the Transfer/Approval events, and bad input (unknown token, overdraft,
allowance exceeded, non-issuer, taken symbol, bad symbol, a key without
SSP for the creation fee) gives one-line errors while the node keeps
producing and the supply invariant holds (sspd runs --check-invariants)."""
import os

from sspnode import Cli, Node, RpcError, bindir_from_argv, check, main, tempdir

CREATE_FEE = 100  # SSP, the genesis default token_create_fee


def expect_rpc_error(node, method, params, code, what):
    try:
        node.rpc(method, params)
    except RpcError as e:
        check(e.code == code, "%s -> %d (got %s: %s)" % (what, code, e.code, e.message))
        return
    check(False, "%s should fail with %d" % (what, code))


def expect_cli_error(cli, args, needle, what):
    r = cli.run(*args, ok=False)
    lines = [l for l in r.stderr.strip().splitlines() if l]
    check(r.returncode != 0 and len(lines) == 1 and lines[0].startswith("ssp: error: ")
          and needle in lines[0],
          "%s -> one-line error containing %r (got %d: %r)" % (what, needle, r.returncode,
                                                                r.stderr.strip()))
    return lines[0] if lines else ""


def events_of(node, txid):
    r = node.rpc("tx_get", {"txid": txid})
    return r["receipt"]["events"]


def test():
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = Cli(bindir, node, tempdir(), password="pw")
    dev_addr = dev.run("balance", "dev")["address"]
    bob = wallet.run("key", "new", "--name", "bob")["address"]
    carol = wallet.run("key", "new", "--name", "carol", "--type", "p256")["address"]
    dev.run("transfer", "--from", "dev", "--to", bob, "--amount", "10", "--wait")
    dev.run("transfer", "--from", "dev", "--to", carol, "--amount", "10", "--wait")

    # --- create: the fee leaves the dev account for the pool
    pool0 = node.rpc("chain_getSupply")["pool"]
    bal0 = node.rpc("account_get", {"address": dev_addr})["balance"]
    r = dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name",
                "Parking Credit", "--decimals", "2", "--max-supply", "1000000", "--wait")
    check(r["symbol"] == "PARK" and r["max_supply"] == "1000000" and r["status"] in
          ("included", "finalized"), "token create PARK --wait")
    pool1 = node.rpc("chain_getSupply")["pool"]
    bal1 = node.rpc("account_get", {"address": dev_addr})["balance"]
    fee = float(r["fee"])
    check(abs((float(bal0) - float(bal1)) - (CREATE_FEE + fee)) < 1e-6,
          "creator paid the creation fee + tx fee (%s -> %s)" % (bal0, bal1))
    check(float(pool1) - float(pool0) >= CREATE_FEE, "creation fee reached the pool")
    tx = node.rpc("tx_get", {"txid": r["txid"]})
    check(tx["tx"]["type"] == "token_create" and tx["tx"]["payload"]["symbol"] == "PARK" and
          tx["tx"]["payload"]["max_supply_units"] == "100000000", "tx_get decodes token_create")

    info = dev.run("token", "info", "PARK")
    check(info["name"] == "Parking Credit" and info["decimals"] == 2 and info["supply"] == "0"
          and info["issuer"] == dev_addr and info["mintable"] and info["burnable"],
          "token info PARK")
    check(node.rpc("token_get", {"symbol": "PARK"}) == info, "CLI info == RPC token_get")
    emitter = info["address"]

    # --- issue
    r = dev.run("token", "issue", "--from", "dev", "--symbol", "PARK", "--to", "dev",
                "--amount", "5000.5", "--wait")
    ev = events_of(node, r["txid"])
    check(len(ev) == 1 and ev[0]["name"] == "Transfer" and ev[0]["emitter"] == emitter and
          ev[0]["fields"] == {"symbol": "PARK", "to": dev_addr, "value": 500050},
          "issue: Transfer event without 'from' (%r)" % ev)
    check(r.get("events") == ev, "--json --wait output carries the events")

    # --- transfer to bob
    r = dev.run("token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob,
                "--amount", "1000", "--wait")
    ev = events_of(node, r["txid"])
    check(ev[0]["fields"] == {"symbol": "PARK", "from": dev_addr, "to": bob, "value": 100000},
          "transfer: Transfer event {symbol, from, to, value}")
    check(wallet.run("token", "balance", "--symbol", "PARK", "bob")["balance"] == "1000",
          "bob holds 1000 PARK (CLI, by key name)")
    check(node.rpc("token_balance", {"symbol": "PARK", "address": bob})["balance"] == "1000",
          "bob holds 1000 PARK (RPC)")

    # --- approve carol, transfer-from bob's tokens to dev
    r = wallet.run("token", "approve", "--from", "bob", "--symbol", "PARK", "--spender", "carol",
                   "--amount", "300", "--wait")
    ev = events_of(node, r["txid"])
    check(ev[0]["name"] == "Approval" and ev[0]["fields"] == {
        "symbol": "PARK", "owner": bob, "spender": carol, "value": 30000},
        "approve: Approval event")
    a = wallet.run("token", "allowance", "--symbol", "PARK", "--owner", "bob", "--spender", carol)
    check(a["allowance"] == "300", "allowance 300 (CLI)")
    r = wallet.run("token", "transfer-from", "--from", "carol", "--symbol", "PARK", "--owner",
                   "bob", "--to", dev_addr, "--amount", "120.25", "--wait")
    ev = events_of(node, r["txid"])
    check(ev[0]["fields"] == {"symbol": "PARK", "from": bob, "to": dev_addr, "value": 12025},
          "transfer-from: Transfer event from the owner")
    a = node.rpc("token_allowance", {"symbol": "PARK", "owner": bob, "spender": carol})
    check(a["allowance"] == "179.75", "allowance decreased to 179.75 (RPC)")
    check(wallet.run("token", "balance", "--symbol", "PARK", bob)["balance"] == "879.75",
          "bob holds 879.75")

    # --- burn
    r = dev.run("token", "burn", "--from", "dev", "--symbol", "PARK", "--amount", "0.5",
                "--wait")
    ev = events_of(node, r["txid"])
    check(ev[0]["fields"] == {"symbol": "PARK", "from": dev_addr, "value": 50},
          "burn: Transfer event without 'to'")
    info = node.rpc("token_get", {"symbol": "PARK"})
    check(info["supply"] == "5000", "supply 5000 after burning 0.5")
    check(dev.run("token", "balance", "--symbol", "PARK", "dev")["balance"] == "4120.25",
          "dev holds 4120.25")

    # --- a second token and the list
    dev.run("token", "create", "--from", "dev", "--symbol", "AIR", "--name", "Air quality data",
            "--max-supply", "500", "--fixed-supply", "--no-burn", "--wait")
    air = node.rpc("token_get", {"symbol": "AIR"})
    check(air["supply"] == "500" and not air["mintable"] and not air["burnable"],
          "fixed supply: all 500 AIR issued at creation")
    lst = dev.run("token", "list")
    check([t["symbol"] for t in lst["tokens"]] == ["AIR", "PARK"] and "next" not in lst,
          "token list: AIR, PARK")
    page = node.rpc("token_list", {"limit": 1})
    check(page["next"] == "PARK" and len(page["tokens"]) == 1, "token_list paginates")
    page = node.rpc("token_list", {"from": page["next"]})
    check([t["symbol"] for t in page["tokens"]] == ["PARK"], "token_list from PARK")
    human = dev.run("token", "list", json_out=False)
    check("PARK" in human and "Parking Credit" in human, "token list (human)")

    # --- bad input: one-line CLI errors, RPC error codes
    expect_cli_error(dev, ["token", "info", "NOPE"], "unknown token NOPE", "info of unknown token")
    expect_cli_error(dev, ["token", "transfer", "--from", "dev", "--symbol", "NOPE", "--to", bob,
                           "--amount", "1"], "unknown token NOPE", "transfer of unknown token")
    expect_cli_error(wallet, ["token", "transfer", "--from", "bob", "--symbol", "PARK", "--to",
                              dev_addr, "--amount", "5000"], "insufficient PARK balance",
                     "overdraft")
    expect_cli_error(wallet, ["token", "transfer-from", "--from", "carol", "--symbol", "PARK",
                              "--owner", bob, "--to", carol, "--amount", "200"],
                     "allowance exceeded", "transfer-from over the allowance")
    expect_cli_error(wallet, ["token", "issue", "--from", "bob", "--symbol", "PARK", "--to", bob,
                              "--amount", "1"], "only the issuer", "issue by a non-issuer")
    expect_cli_error(dev, ["token", "issue", "--from", "dev", "--symbol", "PARK", "--to", bob,
                           "--amount", "999999"], "max supply", "issue over max supply")
    expect_cli_error(dev, ["token", "issue", "--from", "dev", "--symbol", "AIR", "--to", bob,
                           "--amount", "1"], "fixed supply", "issue of a fixed-supply token")
    expect_cli_error(dev, ["token", "burn", "--from", "dev", "--symbol", "AIR", "--amount", "1"],
                     "not burnable", "burn of a non-burnable token")
    expect_cli_error(dev, ["token", "create", "--from", "dev", "--symbol", "PARK", "--name", "x",
                           "--max-supply", "1"], "already exists", "taken symbol")
    expect_cli_error(dev, ["token", "create", "--from", "dev", "--symbol", "park", "--name", "x",
                           "--max-supply", "1"], "invalid symbol", "lower-case symbol")
    expect_cli_error(dev, ["token", "create", "--from", "dev", "--symbol", "ZZ", "--name", "x",
                           "--decimals", "19", "--max-supply", "1"], "decimals", "19 decimals")
    expect_cli_error(dev, ["token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob,
                           "--amount", "0.001"], "2 decimals", "too many decimals")
    expect_cli_error(dev, ["token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob,
                           "--amount", "0"], "greater than zero", "zero amount")
    # carol has ~10 SSP: not enough for the 100 SSP creation fee; the block drops the tx
    expect_cli_error(wallet, ["token", "create", "--from", "carol", "--symbol", "POOR", "--name",
                              "Poor", "--max-supply", "1", "--wait"], "insufficient balance",
                     "create without SSP for the creation fee")
    expect_rpc_error(node, "token_get", {"symbol": "POOR"}, -32001, "POOR was not created")

    expect_rpc_error(node, "token_get", {"symbol": "NOPE"}, -32001, "token_get unknown")
    expect_rpc_error(node, "token_get", {"symbol": "bad!"}, -32602, "token_get bad symbol")
    expect_rpc_error(node, "token_get", {}, -32602, "token_get without symbol")
    expect_rpc_error(node, "token_balance", {"symbol": "PARK", "address": "dssp1nope"}, -32602,
                     "token_balance bad address")
    expect_rpc_error(node, "token_balance", {"symbol": "NOPE", "address": bob}, -32001,
                     "token_balance unknown token")
    expect_rpc_error(node, "token_allowance", {"symbol": "PARK", "owner": bob}, -32602,
                     "token_allowance without spender")
    expect_rpc_error(node, "token_list", {"limit": 1000}, -32003, "token_list limit 1000")
    expect_rpc_error(node, "token_list", {"limit": "x"}, -32602, "token_list limit not a number")

    # nothing moved by the failures; the node still produces
    check(node.rpc("token_get", {"symbol": "PARK"})["supply"] == "5000", "PARK supply unchanged")
    h = node.height()
    node.wait_height(h + 1)
    names = [m["name"] for m in node.rpc("rpc_discover")["methods"]]
    check(all(m in names for m in ("token_get", "token_list", "token_balance",
                                   "token_allowance")), "rpc_discover lists the token methods")
    check(node.stop() == 0, "node stops cleanly")
    check("SUPPLY" not in node.logtext() and "invariant" not in node.logtext().lower(),
          "no supply invariant violation logged")


if __name__ == "__main__":
    main(test)
