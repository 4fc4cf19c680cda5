#!/usr/bin/env python3
"""A devnet as handy as anvil (issue 13): `sspd --dev` funds ten named dev
accounts and prints them; their keys need no password (no SSP_PASSWORD, no
terminal); `ssp key export NAME --yes` writes PKCS#8 PEM that openssl and
`ssp key import` read back to the same address, and is refused without
--yes; `sspd --dev --reset` starts a fresh chain (refused while a node runs
on the datadir); `cmake --install` (what `make install PREFIX=…` runs)
installs sspd and ssp."""
import os
import re
import shutil
import subprocess

from sspnode import Node, bindir_from_argv, check, command, main, tempdir


def ssp(bindir, node, keystore, *args, env_extra=None, ok=True):
    env = {k: v for k, v in os.environ.items() if k != "SSP_PASSWORD"}
    env.update(env_extra or {})
    r = subprocess.run(command(bindir, "ssp") + ["--rpc", node.url, "--keystore", keystore] +
                       list(args), capture_output=True, text=True, timeout=60, env=env,
                       stdin=subprocess.DEVNULL)
    if ok and r.returncode:
        raise AssertionError("ssp %s: %s" % (" ".join(args), r.stderr))
    return r


def test():
    bindir = bindir_from_argv()
    node = Node(bindir)
    node.extra = ["--dev-accounts", "10"]  # the default; the harness asks for 1
    node.start()
    log = node.logtext()
    accounts = re.findall(r"^    (dev\d?)\s+(dssp1\w+)$", log, re.M)
    check([a[0] for a in accounts] == ["dev"] + ["dev%d" % i for i in range(1, 10)],
          "the banner lists the ten dev accounts")
    keys = os.path.join(node.datadir, "dev-keys")
    for name, addr in accounts[1:]:
        b = node.rpc("account_get", {"address": addr})
        check(b["balance"] == "1000000", "%s is funded with 1,000,000 SSP" % name)
    check(node.rpc("account_get", {"address": accounts[0][1]})["balance"] == "2491000000",
          "dev holds the rest of the 25%")

    # no password prompt: SSP_PASSWORD unset, stdin not a terminal
    r = ssp(bindir, node, keys, "transfer", "--from", "dev3", "--to", "dev4", "--amount", "2",
            "--wait")
    check("status: finalized" in r.stdout, "dev3 signs without a password prompt")

    r = ssp(bindir, node, keys, "key", "export", "dev5", ok=False)
    check(r.returncode == 2 and "--yes" in r.stderr and not r.stdout,
          "key export without --yes: usage error, nothing printed")
    r = ssp(bindir, node, keys, "key", "export", "dev5", "--yes")
    check(r.stdout.startswith("-----BEGIN PRIVATE KEY-----"), "key export --yes: PKCS#8 PEM")
    pem = os.path.join(tempdir(), "dev5.pem")
    with open(pem, "w") as f:
        f.write(r.stdout)
    if shutil.which("openssl"):
        o = subprocess.run(["openssl", "pkey", "-in", pem, "-noout", "-text"],
                           capture_output=True, text=True)
        check(o.returncode == 0 and "ED25519" in o.stdout, "openssl reads it (ED25519)")
    other = tempdir()
    r = ssp(bindir, node, other, "key", "import", "--name", "again", "--pem", pem,
            env_extra={"SSP_PASSWORD": ""})
    check(dict(accounts)["dev5"] in r.stdout, "ssp key import of it gives dev5's address")

    # a fresh chain in the same datadir: refused while the node runs, done after
    dd = node.datadir
    r = subprocess.run(command(bindir, "sspd") + ["--dev", "--reset", "--datadir", dd,
                                                  "--rpc-listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "a node is running on it" in r.stderr,
          "--reset refused while a node runs on the datadir")
    genesis = node.rpc("chain_getInfo")["genesis_hash"]
    node.wait_height(2)
    check(node.stop() == 0, "node stops cleanly")
    node.extra = ["--dev-accounts", "3", "--reset"]
    node.start()
    info = node.rpc("chain_getInfo")
    check(info["genesis_hash"] != genesis and info["height"] <= 2,
          "--dev --reset: a new chain (new genesis, height %d)" % info["height"])
    check(len(re.findall(r"^    dev\d?\s+dssp1", node.logtext()[len(log):], re.M)) == 3,
          "the new devnet funds --dev-accounts 3")
    check(node.stop() == 0, "node stops cleanly")

    prefix = tempdir()
    builddir = os.path.dirname(bindir)
    if os.path.exists(os.path.join(builddir, "cmake_install.cmake")):
        r = subprocess.run(["cmake", "--install", builddir, "--prefix", prefix],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0 and all(os.access(os.path.join(prefix, "bin", p), os.X_OK)
                                        for p in ("sspd", "ssp")),
              "cmake --install (make install PREFIX=…) installs sspd and ssp")


if __name__ == "__main__":
    main(test)
