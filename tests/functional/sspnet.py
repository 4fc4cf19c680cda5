"""Helpers for the P2P functional tests: a local testnet made and driven by
`ssp testnet up|status|down` (real sspd processes on loopback), with every
node reachable over RPC. Standard library only; every process is stopped
at exit (SIGTERM through `ssp testnet down`, then SIGKILL of what is left)."""
import atexit
import json
import os
import random
import signal
import socket
import subprocess
import time

from sspnode import Failure, RpcError, tempdir, wait_for, _nodes

_nets = []


def _ports_free(base, count):
    socks = []
    try:
        for p in range(base, base + count):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            s.bind(("127.0.0.1", p))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


class RpcClient:
    """JSON-RPC to self.url (a node this process did not start, or started elsewhere)."""
    rpc_timeout = 30

    def rpc(self, method, params=None, timeout=None):
        import urllib.request
        body = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            body["params"] = params
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout or self.rpc_timeout) as r:
            reply = json.loads(r.read())
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def height(self):
        return self.rpc("chain_getInfo")["height"]


class RemoteNode(RpcClient):
    """A testnet node seen through its RPC (duck-types sspnode.Node for Cli)."""

    def __init__(self, net, name, rpc, p2p, producer):
        self.net, self.name, self.rpc_port, self.p2p, self.producer = net, name, rpc, p2p, producer
        self.url = "http://127.0.0.1:%d/rpc" % rpc
        self.port = rpc
        self.datadir = os.path.join(net.dir, name)
        self.log = os.path.join(net.dir, name + ".log")

    def pid(self):
        try:
            with open(os.path.join(self.datadir, "sspd.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def kill9(self):
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not self.pid(), 10, "%s gone" % self.name)

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")


class Testnet:
    def __init__(self, bindir, nodes=4, full=0, interval=300, consensus=None):
        self.bindir = bindir
        self.ssp = os.path.join(bindir, "ssp")
        self.dir = os.path.join(tempdir("ssp-testnet-"), "net")
        count = 2 * (nodes + full)
        for _ in range(50):
            base = random.randrange(20000, 32000, 2)  # below the ephemeral range (32768-)
            if _ports_free(base, count):
                break
        self.args = ["--nodes", str(nodes), "--full-nodes", str(full), "--interval", str(interval),
                     "--base-port", str(base)]
        if consensus:
            self.args += ["--consensus", consensus]
        self.nodes = []
        _nets.append(self)

    def run(self, *args, timeout=180):
        r = subprocess.run([self.ssp, "--json"] + list(args) + ["--dir", self.dir],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            for f in sorted(os.listdir(self.dir)) if os.path.isdir(self.dir) else []:
                if f.endswith(".log"):
                    with open(os.path.join(self.dir, f), "rb") as lf:
                        tail = lf.read().decode(errors="replace").splitlines()[-15:]
                    print("--- end of %s" % f)
                    for line in tail:
                        print("   ", line)
            raise Failure("ssp %s failed: %s" % (" ".join(args), r.stderr.strip()))
        return json.loads(r.stdout)

    def up(self):
        rows = self.run("testnet", "up", *self.args)
        if not self.nodes:
            self.nodes = [RemoteNode(self, r["name"], int(r["rpc"].split(":")[2].split("/")[0]),
                                     r["p2p"], r["producer"]) for r in rows]
            _nodes.extend(self.nodes)  # their logs are printed on failure
        return rows

    def status(self):
        return self.run("testnet", "status")

    def down(self):
        return self.run("testnet", "down")

    def kill_all(self):
        for n in self.nodes:
            pid = n.pid()
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def check_logs(self, extra=()):
        """No sanitizer report (ASan, LSan, UBSan, TSan) in any node's log."""
        bad = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
               "WARNING: ThreadSanitizer", "SUMMARY: ")
        for n in list(self.nodes) + list(extra):
            text = n.logtext()
            for b in bad:
                if b in text:
                    raise Failure("%s in the log of %s" % (b, getattr(n, "name", n.log)))

    def wait_converged(self, nodes=None, timeout=30, min_height=1):
        """All nodes at one head (same id and state root); returns that height."""
        nodes = nodes or self.nodes

        def same():
            infos = [n.rpc("chain_getInfo") for n in nodes]
            ids = {i["head_id"] for i in infos}
            h = infos[0]["height"]
            if len(ids) != 1 or h < min_height:
                return None
            roots = {n.rpc("chain_getBlock", {"height": h})["state_root"] for n in nodes}
            return h if len(roots) == 1 else None
        return wait_for(same, timeout, "nodes to converge on one head", interval=0.2)


def _cleanup():
    for t in _nets:
        try:
            t.down()
        except Exception:
            pass
        t.kill_all()


atexit.register(_cleanup)
