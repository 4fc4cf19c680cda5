"""libsmartagent as a device vendor gets it (issue #11): the build tree is
installed into a temporary prefix (`cmake --install`, what `make install
PREFIX=…` runs); the headers, libsmartagent.so.0 (its SONAME and links) and
smartagent.pc are there; `nm -D` shows that the library exports only
functions its installed headers declare — none of the agent's internals and
nothing of the node (store, chain, VM, RPC). The example program of
docs/agent.md is taken from the page, compiled with `cc $(pkg-config --cflags
--libs smartagent)` against the prefix and run with LD_LIBRARY_PATH on a
keystore device and on a SoftHSM2 token: it prints the agent's address (the
one `ssp` / `ssp-agent` report), a signature it verified, and counter values
that grow. Skipped under an emulator (the compiler and pkg-config here build
for the host), and the program part for a sanitizer build (its library
needs the sanitizer's runtime loaded first)."""
import glob
import os
import re
import shutil
import subprocess

from sspnode import EMULATOR, bindir_from_argv, check, command, main, softhsm_token, tempdir

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEADERS = ["agent.h", "core.h", "proto.h", "proto_device.h", "proto_token.h", "proto_contract.h",
           "stateproof.h"]


def example_program():
    text = open(os.path.join(SRC, "docs", "agent.md")).read()
    m = re.search(r"<!-- test_agent_install.py: the example program -->\n```c\n(.*?)```", text,
                  re.S)
    check(m is not None, "docs/agent.md has the example program")
    return m.group(1)


def test():
    if EMULATOR:
        print("skipped under the emulator: the install is checked with the host's compiler")
        return
    for tool in ("cc", "pkg-config", "nm", "readelf"):
        check(shutil.which(tool) is not None, "%s is installed" % tool)
    bindir = bindir_from_argv()
    builddir = os.path.dirname(bindir)
    prefix = tempdir()
    r = subprocess.run(["cmake", "--install", builddir, "--prefix", prefix], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, "cmake --install into a temporary prefix: %s" % r.stderr.strip())
    for h in HEADERS:
        check(os.path.isfile(os.path.join(prefix, "include", "ssp", h)), "include/ssp/%s" % h)
    for b in ("sspd", "ssp", "ssp-agent"):
        check(os.access(os.path.join(prefix, "bin", b), os.X_OK), "bin/%s" % b)
    pcs = glob.glob(os.path.join(prefix, "lib*", "**", "smartagent.pc"), recursive=True)
    check(len(pcs) == 1, "one smartagent.pc (%s)" % pcs)
    pcdir = os.path.dirname(pcs[0])
    libdir = os.path.dirname(pcdir)
    so = os.path.join(libdir, "libsmartagent.so")
    check(os.path.islink(so) and os.readlink(so) == "libsmartagent.so.0"
          and os.path.islink(so + ".0"), "libsmartagent.so -> .so.0 -> .so.0.x.y")
    dyn = subprocess.run(["readelf", "-d", so], capture_output=True, text=True).stdout
    check("Library soname: [libsmartagent.so.0]" in dyn, "SONAME libsmartagent.so.0")
    if re.search(r"lib[at]san", dyn):
        # a sanitizer build's library needs its runtime first in a program built with it
        print("skipped for a sanitizer build: the symbols and the example program")
        return

    # only API symbols: every exported function is declared in an installed header
    syms = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True,
                          check=True).stdout.split("\n")
    names = sorted({l.split()[-1] for l in syms if l.strip()})
    headers = "".join(open(os.path.join(prefix, "include", "ssp", h)).read() for h in HEADERS)
    stray = [n for n in names if not re.search(r"\b%s\b" % re.escape(n), headers)]
    check(not stray, "every exported symbol is declared in the installed headers (%d symbols; "
          "not declared: %s)" % (len(names), stray[:10]))
    for want in ("ssp_agent_open", "ssp_agent_sign", "ssp_agent_check_header",
                 "ssp_agent_check_device", "ssp_sproof_verify", "ssp_tx_sign_with"):
        check(want in names, "%s is exported" % want)
    node = [n for n in names if re.match(r"(ssp_(chain|store|vm|rpc|mempool|node)_|agent_|p11_)",
                                         n)]
    check(not node, "no node library or internal symbol exported: %s" % node[:10])

    # the docs' program, built the way a vendor builds it
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "smartagent"], env=env,
                           capture_output=True, text=True)
    check(flags.returncode == 0 and "-lsmartagent" in flags.stdout,
          "pkg-config --cflags --libs smartagent: %s" % (flags.stdout + flags.stderr).strip())
    static = subprocess.run(["pkg-config", "--static", "--libs", "smartagent"], env=env,
                            capture_output=True, text=True)
    check(static.returncode == 0 and "-lsodium" in static.stdout and "-lcrypto" in static.stdout,
          "pkg-config --static adds the private dependencies: %s" % static.stdout.strip())
    work = tempdir()
    prog = os.path.join(work, "hello.c")
    open(prog, "w").write(example_program())
    exe = os.path.join(work, "hello")
    r = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", prog, "-o", exe]
                       + flags.stdout.split(), env=env, capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "cc hello.c $(pkg-config --cflags --libs smartagent): %s"
          % r.stderr.strip())
    run_env = dict(env, LD_LIBRARY_PATH=libdir)
    ldd = subprocess.run(["ldd", exe], env=run_env, capture_output=True, text=True).stdout
    check(os.path.join(libdir, "libsmartagent.so.0") in ldd, "hello loads the installed library")

    def hello(uri, pin, extra_env=None):
        r = subprocess.run([exe, uri, pin], env=dict(run_env, **(extra_env or {})),
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "hello %s: %s" % (uri, (r.stdout + r.stderr).strip()))
        return dict(l.split(None, 1) for l in r.stdout.splitlines())

    # a keystore device (file: backend)
    keys = tempdir()
    k = subprocess.run(command(bindir, "ssp") + ["--keystore", keys, "--json", "key", "new",
                                                 "--name", "board", "--type", "p256"],
                       env=dict(os.environ, SSP_PASSWORD="pw"), capture_output=True, text=True,
                       timeout=60)
    check(k.returncode == 0, "ssp key new: %s" % k.stderr.strip())
    address = re.search(r'"address":\s*"([^"]+)"', k.stdout).group(1)
    uri = "file:" + os.path.join(keys, "board")
    out = hello(uri, "pw")
    check(out["backend"] == "file" and out["address"] == address and len(out["signature"]) == 128
          and out["counter"] == "1", "the example on a keystore: %s" % out)
    check(hello(uri, "pw")["counter"] == "2", "the counter grows across runs")
    r = subprocess.run([exe, uri, "wrong"], env=run_env, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 1 and r.stderr.startswith("agent: "),
          "a wrong password: the library's reason (%r)" % r.stderr.strip())

    # a SoftHSM2 token (pkcs11: backend)
    d, henv = softhsm_token()
    r = subprocess.run(command(bindir, "ssp-agent") + ["init", "--uri", "pkcs11:token=dev-0001",
                                                       "--pin", "1234", "--json"],
                       env=henv, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "ssp-agent init: %s" % r.stderr.strip())
    token_addr = re.search(r'"address":"([^"]+)"', r.stdout).group(1)
    out = hello("pkcs11:token=dev-0001", "1234", {k: henv[k] for k in ("SOFTHSM2_CONF",
                                                                         "SSP_AGENT_LOCK_DIR")})
    check(out["backend"] == "pkcs11" and out["address"] == token_addr and out["counter"] == "1",
          "the example on a SoftHSM2 token: %s" % out)


if __name__ == "__main__":
    main(test)
