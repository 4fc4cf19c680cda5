"""sspd configuration: an INI file (--config) sets options, command-line
flags win over it, --log-format json writes JSON lines, bad configuration
fails at start with a one-line reason, and a second node on the same
datadir is refused (the datadir lock)."""
import json
import os
import subprocess

from sspnode import (MAP_ARGS, Node, bindir_from_argv, check, command, free_port, main, tempdir,
                     wait_for)


def test():
    bindir = bindir_from_argv()
    sspd = command(bindir, "sspd")
    datadir = tempdir()
    ini_port, flag_port = free_port(), free_port()
    ini = os.path.join(tempdir(), "sspd.conf")
    with open(ini, "w") as f:
        f.write("# test config\n[node]\ndev = true\nrpc-listen = 127.0.0.1:%d\n"
                "log-format = json\nlog-level = info\n" % ini_port)

    # flags win over the file: the RPC port comes from the flag
    node = Node(bindir, datadir=datadir)
    node.port = flag_port
    node.url = "http://127.0.0.1:%d/rpc" % flag_port
    node.extra = ["--config", ini]
    node.start()
    check(node.rpc("chain_getInfo")["network"] == "dev", "node started from the INI file (dev = true)")
    out = subprocess.run(["curl", "-s", "-m", "2", "http://127.0.0.1:%d/health" % ini_port],
                         capture_output=True, text=True)
    check(out.stdout != "ok", "the INI's rpc-listen was overridden by the flag")
    node.stop()
    lines = [l for l in node.logtext().splitlines() if l.startswith("{")]
    check(len(lines) >= 2, "log lines are JSON (log-format from the INI)")
    rec = json.loads(lines[0])
    check({"ts", "level", "module", "msg"} <= rec.keys(), "JSON log lines carry ts, level, module, msg")

    # the datadir lock: a second node on the same datadir is refused
    node = Node(bindir, datadir=datadir).start()
    r = subprocess.run(sspd + ["--dev", "--datadir", datadir, "--rpc-listen",
                               "127.0.0.1:%d" % free_port()] + MAP_ARGS,
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "in use" in r.stderr, "second node on the datadir refused: %s"
          % r.stderr.strip().splitlines()[-1])
    node.stop()

    def fails(args, what, needle, code=2):
        # usage errors exit 2 (as ssp's); failures while starting exit 1
        r = subprocess.run(sspd + args + MAP_ARGS, capture_output=True, text=True, timeout=30)
        err = [l for l in r.stderr.strip().splitlines() if l.startswith("sspd: error:")]
        check(r.returncode == code and len(err) == 1 and needle in err[0],
              "%s -> exit %d, one line with '%s' (%s)" % (what, code, needle, err))

    bad = os.path.join(tempdir(), "bad.conf")
    with open(bad, "w") as f:
        f.write("dev = true\nno-such-key = 1\n")
    fails(["--config", bad], "unknown INI key", "unknown key")
    fails(["--dev", "--log-format", "xml"], "bad --log-format", "plain or json")
    fails(["--frobnicate"], "unknown flag", "unknown option")
    fails([], "no genesis and no --dev", "--genesis")
    fails(["--datadir", tempdir(), "--genesis", "/nonexistent/genesis.json"], "missing genesis file", "cannot open genesis file", 1)
    g = os.path.join(tempdir(), "genesis.json")
    with open(g, "w") as f:
        f.write('{"chain_id":"x","network":"dev","genesis_time":1,"producer":"ed25519:00",'
                '"allocations":[]}')
    fails(["--datadir", tempdir(), "--genesis", g], "malformed genesis", "producer must be a public key", 1)
    r = subprocess.run(sspd + ["--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--rpc-listen" in r.stdout, "--help lists the options")


if __name__ == "__main__":
    main(test)
