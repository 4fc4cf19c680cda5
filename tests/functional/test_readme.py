#!/usr/bin/env python3
"""The README's walkthrough, run as written (a doc test): every `$ command`
in README.md's ```console blocks runs, in order, in a scratch directory
laid out like a checkout (build/bin and contracts/ linked in, HOME there
too) against a fresh devnet, and the lines the README shows after a
command must appear in that order in what the command printed.

Conventions the README follows (and states):
  * `…` in a shown line stands for any text (hashes, addresses, times);
  * `<label>` in a command or a shown line is the value of the last output
    line `label: value` printed before it (`<txid>`, `<contract>`, …);
  * text after two or more spaces and `#` is a comment;
  * whitespace runs compare equal (tables are aligned per command);
  * `$ make run` starts the node the way the Makefile does, on a free port
    (9631 in the README stands for it); its banner is what is checked.
A command that exits non-zero fails the test, as does a shown line missing
from the output: the README drifted from the tools."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sspnode import (EMULATOR, MAP_ARGS, Failure, _procs, check, free_port, main, tempdir,  # noqa: E402
                     wait_for)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def console_blocks(path):
    """[(command, [shown lines])] of every ```console block, in order."""
    steps, inside = [], False
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("```"):
                inside = line.strip() == "```console"
                continue
            if not inside:
                continue
            line = re.sub(r"\s{2,}#.*$", "", line).rstrip()
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line and steps:
                steps[-1][1].append(line)
    return steps


def norm(s):
    return " ".join(s.split())


def pattern(shown):
    parts = [re.escape(p) for p in norm(shown).split("…")]
    return re.compile("^" + ".*".join(parts) + "$")


class Walk:
    def __init__(self, bindir):
        self.dir = tempdir("ssp-readme-")
        os.makedirs(os.path.join(self.dir, "build"))
        os.symlink(bindir, os.path.join(self.dir, "build", "bin"))
        os.symlink(os.path.join(ROOT, "contracts"), os.path.join(self.dir, "contracts"))
        self.port = free_port()
        self.env = dict(os.environ, HOME=self.dir, SSP_RPC="http://127.0.0.1:%d" % self.port)
        for k in ("SSP_PASSWORD", "SSP_KEYSTORE"):
            self.env.pop(k, None)
        self.labels = {}
        self.node = None

    def subst(self, text):
        def one(m):
            if m.group(1) not in self.labels:
                raise Failure("README uses <%s> before any output line '%s:'" %
                              (m.group(1), m.group(1)))
            return self.labels[m.group(1)]
        return re.sub(r"<([a-z_]+)>", one, text)

    def learn(self, out):
        for line in out.splitlines():
            m = re.match(r"^([a-z_]+):\s+(\S+)", line)
            if m:
                self.labels[m.group(1)] = m.group(2)

    def make_run(self):
        """`make run` minus the build: the node as the Makefile starts it."""
        args = EMULATOR + ["build/bin/sspd", "--dev", "--datadir", ".devnet", "--rpc-listen",
                           "127.0.0.1:%d" % self.port] + MAP_ARGS  # qemu: a smaller map
        self.log = open(os.path.join(self.dir, "node.log"), "w+")
        self.node = subprocess.Popen(args, cwd=self.dir, env=self.env, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        _procs.append(self.node)
        banner = []
        while True:  # a devnet's banner ends with its "try:" line
            line = self.node.stdout.readline()
            if not line:
                self.log.seek(0)
                raise Failure("sspd exited before printing its banner: %s"
                              % self.log.read()[-2000:].strip())
            banner.append(line.rstrip("\n"))
            if line.lstrip().startswith("try:"):
                break
        wait_for(lambda: self.run_quiet("build/bin/ssp info") == 0, 120 if EMULATOR else 20,
                 "the devnet's RPC")
        return 0, "\n".join(banner)

    def run_quiet(self, cmd):
        if EMULATOR:
            cmd = cmd.replace("build/bin/", " ".join(EMULATOR) + " build/bin/")
        return subprocess.run(cmd, shell=True, cwd=self.dir, env=self.env,
                              capture_output=True, timeout=30).returncode

    def run(self, cmd):
        if cmd == "make run":
            return self.make_run()
        cmd = self.subst(cmd)
        m = re.match(r"^export ([A-Z_]+)=(\S+)$", cmd)
        if m:
            self.env[m.group(1)] = m.group(2)
            return 0, ""
        if EMULATOR:
            cmd = cmd.replace("build/bin/", " ".join(EMULATOR) + " build/bin/")
        r = subprocess.run(["bash", "-c", cmd], cwd=self.dir, env=self.env, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise Failure("`%s` exited %d: %s" % (cmd, r.returncode, r.stderr.strip()))
        return r.returncode, r.stdout


def compare(cmd, shown, out, walk):
    lines = [norm(ln) for ln in out.splitlines()]
    at = 0
    for s in shown:
        s = walk.subst(s).replace("127.0.0.1:9631", "127.0.0.1:%d" % walk.port)
        p = pattern(s)
        while at < len(lines) and not p.match(lines[at]):
            at += 1
        if at == len(lines):
            raise Failure("README drifted: after `%s` it shows\n    %s\nbut the command "
                          "printed (in order):\n    %s" % (cmd, s, "\n    ".join(out.splitlines())))
        at += 1


def test(bindir):
    steps = console_blocks(os.path.join(ROOT, "README.md"))
    check(len(steps) >= 15, "README has the walkthrough (%d commands)" % len(steps))
    walk = Walk(bindir)
    try:
        for cmd, shown in steps:
            rc, out = walk.run(cmd)
            compare(cmd, shown, out, walk)
            walk.learn(out)
            check(True, "`%s`: %d lines as shown" % (cmd, len(shown)))
    finally:
        if walk.node and walk.node.poll() is None:
            walk.node.send_signal(2)
            walk.node.wait(20)


if __name__ == "__main__":
    args = sys.argv[1:]
    bindir = os.path.abspath(args[args.index("--bindir") + 1]) if "--bindir" in args \
        else os.path.abspath("build/bin")
    main(lambda: test(bindir))
