#!/usr/bin/env python3
"""Help that explains (issue 13): `ssp GROUP --help` lists that group's
commands; every `ssp COMMAND --help` lists every option the command accepts
(each one it names in its usage, and --fee/--expiry-blocks/--wait for the
signing ones) with what it means and its default or that it is required;
sspd and ssp agree on exit 2 for usage errors; `ssp info` prints a unit on
every amount; `ssp token create` shows the creation fee."""
import os
import re
import subprocess

from sspnode import Cli, Node, bindir_from_argv, check, command, main

SIGNING = {"transfer", "contract deploy", "contract call", "token create", "token issue",
           "token transfer", "token burn", "token approve", "token transfer-from", "stake",
           "unstake", "withdraw", "vote", "delegate register", "delegate update",
           "delegate unregister"}


def run(bindir, prog, *args):
    return subprocess.run(command(bindir, prog) + list(args), capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def test():
    bindir = bindir_from_argv()
    top = run(bindir, "ssp", "--help").stdout
    block = top.split("Commands:\n")[1].split("\n\n")[0]
    cmds = []
    for line in block.splitlines():
        if not re.match(r"^  [a-z]", line):
            continue  # a usage's continuation line
        words = []
        for w in line.split():
            if w.startswith(("-", "[")) or not re.match(r"^[a-z-]+$", w) or len(words) == 2:
                break
            words.append(w)
        cmds.append(" ".join(words))
    check(len(cmds) >= 25, "ssp --help lists the commands (%d)" % len(cmds))
    for group in ("key", "contract", "token", "delegate"):
        r = run(bindir, "ssp", group, "--help")
        names = [c.split()[1] for c in cmds if c.startswith(group + " ")]
        listed = re.findall(r"^  (\S+)\s{2,}\S", r.stdout, re.M)
        check(r.returncode == 0 and listed[:len(names)] == names,
              "ssp %s --help lists its commands: %s" % (group, " ".join(listed)))
    for c in cmds:
        r = run(bindir, "ssp", *c.split(), "--help")
        usage = r.stdout.split("\n\n")[0]
        opts = re.findall(r"^  (--[a-z-]+)(?: \S+)?\s+(.*)$",
                          r.stdout.split("Options:\n")[1].split("\n\n")[0], re.M) \
            if "Options:\n" in r.stdout else []
        names = {o for o, _ in opts}
        want = set(re.findall(r"(--[a-z-]+)", usage))
        if c in SIGNING:
            want |= {"--fee", "--expiry-blocks", "--wait"}
        check(r.returncode == 0 and want <= names,
              "ssp %s --help lists its options %s" % (c, sorted(want - names) or ""))
        undocumented = [o for o, h in opts if not h or not re.search(
            r"\((default|required)|default", h)]
        check(not undocumented, "ssp %s --help: every option says its default or that it "
              "is required %s" % (c, undocumented or ""))

    for prog, args in (("ssp", ["--frobnicate"]), ("ssp", ["frobnicate"]),
                       ("ssp", ["transfer", "--from"]), ("sspd", ["--frobnicate"]),
                       ("sspd", ["--rpc-threads", "x", "--dev"])):
        r = run(bindir, prog, *args)
        check(r.returncode == 2 and "error:" in r.stderr,
              "%s %s: usage error, exit 2 (%d)" % (prog, " ".join(args), r.returncode))

    node = Node(bindir).start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    info_json = dev.run("info")
    human = dev.run("info", json_out=False)
    for k, v in info_json.items():
        if isinstance(v, str) and re.match(r"^\d+(\.\d+)?$", v):
            line = [ln for ln in human.splitlines() if ln.startswith(k + ":")]
            check(line and line[0].endswith(" SSP"), "ssp info: %s has its unit (%s)" %
                  (k, line[0] if line else "missing"))
    out = dev.run("token", "create", "--from", "dev", "--symbol", "HELP", "--name", "h",
                  "--max-supply", "10", json_out=False)
    check(re.search(r"^creation_fee:\s+100 SSP$", out, re.M) is not None,
          "ssp token create shows the creation fee (%s)" % out.splitlines()[:4])
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
