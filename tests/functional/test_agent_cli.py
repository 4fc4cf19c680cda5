"""ssp-agent against a real SoftHSM2 token (issue #11, the device library):
a token made with softhsm2-util in a temporary SOFTHSM2_CONF directory;
`ssp-agent init` creates the key inside it, `csr` and `status` report the
same public key and address, `counter` hands out 1, 2, 3 and survives
restarts, two agents at once never hand out one value twice, and every
refusal (no key yet, wrong PIN, unknown token, bad URI, usage) is a one-line
reason with its exit status. OpenSC's pkcs11-tool confirms the key's
protection flags from outside."""
import json
import os
import subprocess

from sspnode import bindir_from_argv, check, command, main, softhsm_token

MODULE = "/usr/lib/%s-linux-gnu/softhsm/libsofthsm2.so" % os.uname().machine


def test():
    bindir = bindir_from_argv()
    d, env = softhsm_token()
    uri = "pkcs11:token=dev-0001"

    def agent(*args, pin="1234", extra_env=None):
        e = dict(env, **(extra_env or {}))
        argv = command(bindir, "ssp-agent") + list(args)
        if pin is not None:
            argv += ["--pin", pin]
        return subprocess.run(argv, env=e, capture_output=True, text=True, timeout=60)

    r = agent("csr", "--uri", uri)
    check(r.returncode == 1 and "ssp-agent init" in r.stderr,
          "csr before init: exit 1, tells to run init (%r)" % r.stderr.strip())
    r = agent("init", "--uri", uri, pin="0000")
    check(r.returncode == 1 and "wrong PIN for token dev-0001" in r.stderr,
          "init with a wrong PIN: %r" % r.stderr.strip())
    r = agent("init", "--uri", uri)
    check(r.returncode == 0 and r.stdout.startswith("ready: PKCS#11 token \"dev-0001\""),
          "init creates the key: %r" % r.stdout.splitlines()[:1])
    st = json.loads(agent("status", "--uri", uri, "--json").stdout)
    csr = json.loads(agent("csr", "--uri", uri, "--json").stdout)
    check(st["backend"] == "pkcs11" and st["key_type"] == "p256" and st["counter"] == 0,
          "status: pkcs11, p256, counter 0")
    check(csr["pubkey"] == st["pubkey"] and len(csr["pubkey"]) == 66
          and csr["pubkey"][:2] in ("02", "03"), "csr gives the compressed P-256 key")
    check(csr["address"].startswith("dssp1") and csr["address"] == st["address"],
          "csr and status give one devnet address")
    again = json.loads(agent("init", "--uri", uri, "--json").stdout)
    check(again["pubkey"] == st["pubkey"], "init again keeps the key (never a second one)")
    vals = [agent("counter", "--uri", uri).stdout.strip() for _ in range(3)]
    check(vals == ["1", "2", "3"], "counter hands out 1, 2, 3 (%s)" % vals)
    r = agent("counter", "--uri", uri, "--json", pin=None, extra_env={"SSP_AGENT_PIN": "1234"})
    check(r.returncode == 0 and json.loads(r.stdout)["counter"] == 4,
          "the PIN from SSP_AGENT_PIN; the counter went on to 4")
    # two agents at once
    one = " ".join(command(bindir, "ssp-agent")) + " counter --uri '%s' --pin 1234" % uri
    procs = [subprocess.Popen(["sh", "-c", one + " && " + one], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(4)]
    got = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        check(p.returncode == 0, "a concurrent agent exited 0")
        got += [int(x) for x in out.split()]
    check(sorted(got) == list(range(5, 13)),
          "4 concurrent agents × 2 values: 5..12, each once (%s)" % sorted(got))
    # metering receipts: signed in the token with its counter, checked without a node
    agreement = "5a" * 32

    def meter(cumulative, *extra):
        r = agent("meter", "--uri", uri, "--agreement", agreement, "--cumulative", str(cumulative),
                  "--chain-id", "ssp-devnet", "--json", *extra)
        check(r.returncode == 0, "meter %d: exit 0 (%r)" % (cumulative, r.stderr.strip()))
        return json.loads(r.stdout)

    m1, m2 = meter(100), meter(250)
    check(m1["counter"] == 13 and m2["counter"] == 14 and m2["signer"] == st["address"],
          "meter takes the token's next counter values (13, 14) and signs as the device")
    check(json.loads(agent("counter", "--uri", uri, "--json").stdout)["counter"] == 15,
          "the counter went on from the receipts (15)")

    def check_meter(*args):
        argv = command(bindir, "ssp-agent") + ["check-meter", *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    r = check_meter(m2["receipt"], "--after", m1["receipt"], "--chain-id", "ssp-devnet", "--json")
    check(r.returncode == 0 and json.loads(r.stdout)["cumulative"] == 250,
          "check-meter: the newer receipt verifies and supersedes the older")
    r = check_meter(m1["receipt"], "--after", m2["receipt"], "--chain-id", "ssp-devnet")
    check(r.returncode == 1 and "replayed" in r.stderr, "an older receipt after a newer: replayed")
    r = check_meter(m1["receipt"], "--chain-id", "ssp-other")
    check(r.returncode == 1 and "does not verify" in r.stderr, "another chain id: refused")
    bad = m2["receipt"][:-2] + ("00" if m2["receipt"][-2:] != "00" else "01")
    r = check_meter(bad, "--chain-id", "ssp-devnet")
    check(r.returncode == 1 and "does not verify" in r.stderr, "a tampered signature: refused")
    r = check_meter(m2["receipt"] + "00", "--chain-id", "ssp-devnet")
    check(r.returncode == 1 and "not a metering receipt" in r.stderr, "a trailing byte: refused")
    r = agent("meter", "--uri", uri, "--agreement", "xyz", "--cumulative", "1", "--chain-id", "c")
    check(r.returncode == 1 and "--agreement" in r.stderr, "a bad agreement id: explained")
    # refusals
    r = agent("status", "--uri", "pkcs11:token=nope")
    check(r.returncode == 1 and "no initialised PKCS#11 token matches" in r.stderr,
          "an unknown token: %r" % r.stderr.strip())
    r = agent("status", "--uri", "pkcs11:token=dev-0001;module-path=%s" % MODULE)
    check(r.returncode == 1 and "query attributes" in r.stderr,
          "module-path in the path part: explained (%r)" % r.stderr.strip())
    r = agent("status", "--uri", "pkcs11:token=dev-0001?module-path=%s" % MODULE)
    check(r.returncode == 0, "module-path as a query attribute works")
    r = agent("status", "--uri", "tpm:x")
    check(r.returncode == 1 and "unknown agent URI scheme" in r.stderr, "an unknown scheme")
    r = agent("status")
    check(r.returncode == 2 and "--uri is required" in r.stderr, "no --uri: usage, exit 2")
    r = agent("frobnicate", "--uri", uri)
    check(r.returncode == 2 and "unknown command" in r.stderr, "an unknown command: exit 2")
    # the device program links the device library, the wire formats and the RPC client
    # only: no store, chain, VM or RPC server, and none of their libraries
    exe = os.path.join(bindir, "ssp-agent")
    syms = subprocess.run(["nm", "--defined-only", exe], capture_output=True, text=True,
                          timeout=60).stdout
    names = {l.split()[-1] for l in syms.splitlines() if l.strip()}
    banned = ("ssp_chain_", "ssp_store_", "ssp_state_", "ssp_mempool_", "ssp_vm_",
              "ssp_rpc_server", "ssp_rpc_handle", "mdb_", "lua_", "luaL_", "MHD_")
    bad = sorted(n for n in names if n.startswith(banned))
    check(not bad, "ssp-agent defines no node symbols (%s)" % bad[:5])
    check(any(n.startswith("ssp_tx_sign_with") for n in names)
          and any(n.startswith("ssp_agent_open") for n in names),
          "ssp-agent has the tx codec and the agent (the check above is looking at symbols)")
    libs = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=60).stdout
    check(not any(x in libs for x in ("liblmdb", "liblua", "libmicrohttpd")),
          "ssp-agent loads no LMDB, Lua or libmicrohttpd")
    # OpenSC's own view of the key
    r = subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", "dev-0001", "--login",
                        "--pin", "1234", "--list-objects", "--type", "privkey"], env=env,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and "never extractable" in r.stdout and "sensitive" in r.stdout,
          "pkcs11-tool: the private key is sensitive and never extractable")
    check("decrypt" not in r.stdout and "unwrap" not in r.stdout,
          "pkcs11-tool: the key can only sign (%s)" % [l.strip() for l in r.stdout.splitlines()
                                                       if "Usage" in l])


if __name__ == "__main__":
    main(test)
