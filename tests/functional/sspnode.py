"""Helpers for Smartshare black-box tests: start real sspd processes on
loopback, talk JSON-RPC and run the ssp CLI. Standard library only.
Every wait has a deadline; every process started is killed at exit.

Cross-built binaries (`make test-arm64`) run through the emulator CTest
names in SSP_EMULATOR (qemu-aarch64); qemu-user cannot reserve LMDB's
default 256 GiB map, so sspd and ssp_replay then get MAP_ARGS."""
import atexit
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

_procs = []
_dirs = []
_files = []
_nodes = []
EMULATOR = shlex.split(os.environ.get("SSP_EMULATOR", ""))
MAP_ARGS_EMULATED = ["--map-size", "2048"]
MAP_ARGS = MAP_ARGS_EMULATED if EMULATOR else []


def command(bindir, name):
    """The argv prefix that runs one of our binaries (through the emulator if any)."""
    return EMULATOR + [os.path.join(bindir, name)]


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    for d in _dirs:
        if os.environ.get("SSP_KEEP_TMP"):  # debugging: leave datadirs and logs
            print("kept %s" % d)
            continue
        shutil.rmtree(d, ignore_errors=True)
    for f in _files:
        try:
            os.remove(f)
        except OSError:
            pass


atexit.register(_cleanup)
for _s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_s, lambda *a: sys.exit(1))


def bindir_from_argv():
    args = sys.argv[1:]
    if "--bindir" in args:
        return os.path.abspath(args[args.index("--bindir") + 1])
    return os.path.abspath("build/bin")


def need_pynacl():
    """PyNaCl comes from Debian's python3-nacl, which pyenv's python3 may lack: re-run this
    test under the system interpreter, or fail with how to install it."""
    try:
        import nacl.signing  # noqa: F401
    except ImportError:
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        print("FAIL - PyNaCl missing: apt-get install python3-nacl (scripts/install-deps.sh)")
        sys.exit(1)


def tempdir(prefix="ssp-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(d)
    return d


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok -", what)


def wait_for(pred, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # the node may be starting
            last = e
        time.sleep(interval)
    raise Failure("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class RpcError(Exception):
    def __init__(self, err):
        super().__init__("%s: %s" % (err.get("code"), err.get("message")))
        self.code = err.get("code")
        self.message = err.get("message")
        self.data = err.get("data")


class Node:
    def __init__(self, bindir, datadir=None, extra=None, dev=True, emulator=None, wrap=None):
        self.bindir = bindir
        self.dev = dev
        self.emulator = EMULATOR if emulator is None else emulator
        self.wrap = wrap  # optional: turns the sspd command line into the one to run
        self.datadir = datadir or tempdir()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/rpc" % self.port
        self.extra = extra or []
        self.proc = None
        self.log = os.path.normpath(
            os.path.join(self.datadir, "..", os.path.basename(self.datadir) + ".log"))
        _files.append(self.log)  # beside the datadir, so not removed with it
        _nodes.append(self)

    def start(self, timeout=None):
        if timeout is None:
            timeout = 60 if self.emulator else 20
        # free_port() only finds a port that was free a moment ago: another test's client
        # sockets may take it first. A node that cannot listen gets a new port (3 tries).
        for attempt in range(3):
            # one funded dev account (not ten): a key is an argon2 derivation, slow under ASan
            args = self.emulator + [os.path.join(self.bindir, "sspd")] + (
                ["--dev", "--dev-accounts", "1"] if self.dev else []) + [
                "--datadir", self.datadir, "--rpc-listen", "127.0.0.1:%d" % self.port,
                "--check-invariants"] + (MAP_ARGS_EMULATED if self.emulator else []) + self.extra
            if self.wrap:
                args = self.wrap(args)
            self.logf = open(self.log, "ab")
            self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT)
            _procs.append(self.proc)
            wait_for(lambda: self.proc.poll() is not None or self.rpc("chain_getInfo"), timeout,
                     "node RPC")
            if self.proc.poll() is None:
                return self
            if attempt == 2 or "cannot listen on 127.0.0.1:%d" % self.port not in self.logtext():
                raise Failure("sspd exited with status %d while starting" % self.proc.returncode)
            self.port = free_port()
            self.url = "http://127.0.0.1:%d/rpc" % self.port
        return self

    def rpc_raw(self, body, timeout=30):
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def rpc(self, method, params=None, timeout=30):
        body = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            body["params"] = params
        status, data = self.rpc_raw(json.dumps(body).encode(), timeout)
        reply = json.loads(data)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def height(self):
        return self.rpc("chain_getInfo")["height"]

    def wait_height(self, h, timeout=30):
        return wait_for(lambda: self.height() >= h, timeout, "height %d" % h)

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise Failure("node did not stop on SIGINT within %ss" % timeout)
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")


class Cli:
    def __init__(self, bindir, node, keystore, password="", emulator=None):
        self.exe = os.path.join(bindir, "ssp")
        self.cmd = (EMULATOR if emulator is None else emulator) + [self.exe]
        self.node = node
        self.keystore = keystore
        self.password = password

    def run(self, *args, ok=True, json_out=True, timeout=60):
        cmd = self.cmd + ["--rpc", self.node.url.replace("/rpc", ""), "--keystore", self.keystore]
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        env = dict(os.environ, SSP_PASSWORD=self.password)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if ok and r.returncode != 0:
            raise Failure("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        if not ok:
            return r
        return json.loads(r.stdout) if json_out else r.stdout


def replay(bindir, datadir, emulator=None, blocks=False, timeout=180):
    """Replays a stopped node's blocks (from a copy) into a fresh datadir
    with bindir's ssp_replay (run through `emulator`, default EMULATOR).
    Returns (dict of the summary lines: height, state_root, receipts, gas;
    list of the per-block lines when blocks)."""
    emulator = EMULATOR if emulator is None else emulator
    copy = os.path.join(tempdir(), "copy")
    shutil.copytree(datadir, copy)
    fresh = os.path.join(tempdir(), "replay")
    os.makedirs(fresh)
    args = emulator + [os.path.join(bindir, "ssp_replay"), "--from", copy, "--to", fresh]
    if emulator:
        args += MAP_ARGS_EMULATED
    if blocks:
        args.append("--blocks")
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Failure("ssp_replay failed: %s" % r.stderr.strip())
    lines = r.stdout.strip().splitlines()
    per_block = [ln for ln in lines if ln.startswith("block ")]
    summary = dict(ln.split(" ", 1) for ln in lines if not ln.startswith("block "))
    return summary, per_block


def replay_twice(bindir, datadir):
    """Replays a stopped node's blocks into two fresh datadirs with
    ssp_replay, in separate processes; returns both outputs as dicts
    (height, state_root, receipts hash, gas)."""
    return [replay(bindir, datadir)[0] for _ in range(2)]


def _print_logs(lines=40):
    """The end of every node's log, so a failure can be read after the cleanup."""
    for n in _nodes:
        try:
            tail = n.logtext().splitlines()[-lines:]
        except OSError:
            continue
        print("--- last %d lines of the log of the node on port %d" % (len(tail), n.port))
        for line in tail:
            print("   ", line)


def main(fn):
    try:
        fn()
    except Failure as e:
        print("FAIL -", e)
        _print_logs()
        sys.exit(1)
    print("PASS")


def softhsm_token(label="dev-0001", pin="1234", so_pin="5678"):
    """A SoftHSM2 token in a fresh temporary SOFTHSM2_CONF directory (removed at
    exit); returns (directory, environment for the processes that use it). The
    agents' lock file lives in the same directory."""
    d = tempdir()
    conf = os.path.join(d, "softhsm2.conf")
    os.mkdir(os.path.join(d, "tokens"))
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
                "log.level = ERROR\n" % d)
    env = dict(os.environ, SOFTHSM2_CONF=conf, SSP_AGENT_LOCK_DIR=d)
    env.pop("SSP_AGENT_PIN", None)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
                    "--so-pin", so_pin], env=env, check=True, capture_output=True, timeout=60)
    return d, env
