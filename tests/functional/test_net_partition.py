"""Partition and heal: four BFT producers (real sspd processes, `ssp testnet up
--consensus bft`: finality by votes; SSP_PARTITION_CONSENSUS=rr runs the
round-robin chain instead), each in its own
network namespace (`ip netns`, a veth pair to the root namespace and no
route anywhere else), so every P2P link goes through a TCP proxy this test
runs in the root namespace, one proxy per direction of each node pair (a
proxy forwards only from its node's address, so a node cannot reach a peer
another way).

2/2: the test cuts the cross links; both sides produce (neither can
finalize: 2 of 4 producers is not > 2/3) and take transfers (one pair in
conflict: the same sender and nonce); healed, all nodes converge on one
branch (same head id and state root), no block final before the split is
reverted, every tx acknowledged before the split is included exactly once,
the losing side's txs come back through its mempool and are included
(exactly one of the conflicting pair), the losing side logged and counted a
reorg.

3/1: node3 alone builds its own branch (with its own txs) while the other
three finalize theirs (3 of 4 votes are a quorum; 1 is not, and under the
participation rule a producer alone makes at most a block now and then);
healed, node3 switches to the majority's final branch, its txs come back
through its mempool and are included once.

No node log may hold a sanitizer report. Needs root (network namespaces);
exits 77 (skipped) without it."""
import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from sspnode import Failure, RpcError, bindir_from_argv, check, main, wait_for
from sspnet import RpcClient, Testnet

INTERVAL = 500
# blocks each side makes and transfers each side takes while split (the defaults keep
# the test short; larger values measure deeper reorgs by hand)
SIDE_BLOCKS = int(os.environ.get("SSP_PARTITION_BLOCKS", "6"))
SIDE_TXS = int(os.environ.get("SSP_PARTITION_TXS", "3"))
CONSENSUS = os.environ.get("SSP_PARTITION_CONSENSUS", "bft")
P2P_PORT = 9700
RPC_PORT = 9701
PROXY_BASE = 9800


def sh(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise Failure("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


class Link:
    """A TCP proxy for one direction of one node pair: accepts on the dialing
    node's root-side address from that node only and forwards to the other
    node. Cut: closes its connections and refuses new ones (accept, close)."""

    def __init__(self, listen, allow, dst):
        self.allow, self.dst = allow, dst
        self.cut = False
        self.closed = False
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(listen)
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, addr = self.sock.accept()
            except OSError:
                return
            if self.cut or addr[0] != self.allow:
                c.close()
                continue
            try:
                u = socket.create_connection(self.dst, timeout=2)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                if self.cut:
                    c.close()
                    u.close()
                    continue
                self.conns.append((c, u))
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    @staticmethod
    def _shut(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def _pump(self, a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        self._shut(a)
        self._shut(b)

    def set_cut(self, cut):
        with self.lock:
            self.cut = cut
            conns, self.conns = (self.conns, []) if cut else (self.conns, self.conns)
        if cut:
            for c, u in conns:
                self._shut(c)
                self._shut(u)

    def close(self):
        self.closed = True
        self.set_cut(True)
        self._shut(self.sock)


class NsNode(RpcClient):
    """A producer running in its own network namespace, seen through its RPC."""
    rpc_timeout = 10

    def __init__(self, name, ns, ip, datadir, log):
        self.name, self.ns, self.ip, self.datadir, self.log = name, ns, ip, datadir, log
        self.url = "http://%s:%d/rpc" % (ip, RPC_PORT)
        self.proc = None

    def metric(self, name):
        text = urllib.request.urlopen(self.url.replace("/rpc", "/metrics"), timeout=10).read().decode()
        m = re.search(r"^%s (\d+)$" % name, text, re.M)
        return int(m.group(1)) if m else None

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")


_cleanup = []


def _run_cleanup():
    for fn in reversed(_cleanup):
        try:
            fn()
        except Exception:
            pass


atexit.register(_run_cleanup)
# a SIGTERM (ctest's timeout, a killed make) runs the cleanup too: Python's default
# handler would exit without atexit and leave the namespaces behind
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _tag_alive(tag):
    """Whether a test_net_partition process whose pid ends in `tag` (pid % 100000) runs."""
    for pid in range(tag, 1 << 22, 100000):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"test_net_partition" in f.read():
                    return True
        except OSError:
            pass
    return False


def remove_stale_netns():
    """Namespaces left by an earlier run that was killed (SIGKILL skips every cleanup);
    deleting a namespace deletes the veth pairs it holds one end of."""
    for line in sh("ip", "netns", "list").splitlines():
        m = re.match(r"(sspfk(\d{5})_\w+)", line)
        if m and int(m.group(2)) != os.getpid() % 100000 and not _tag_alive(int(m.group(2))):
            print("   removing %s, left by a killed run" % m.group(1))
            subprocess.run(["ip", "netns", "del", m.group(1)], check=False)


def setup_netns(count):
    used = sh("ip", "-o", "addr", "show")
    for _ in range(50):
        net = random.randrange(100, 250)
        if ("inet 10.%d." % net) not in used:
            break
    tag = "%05d" % (os.getpid() % 100000)
    spaces = []
    for i in range(count):
        ns, vr, vn = "sspfk%s_%d" % (tag, i), "sfk%s%dr" % (tag, i), "sfk%s%dn" % (tag, i)
        sh("ip", "netns", "add", ns)
        _cleanup.append(lambda ns=ns: sh("ip", "netns", "del", ns))
        sh("ip", "link", "add", vr, "type", "veth", "peer", "name", vn)
        _cleanup.append(lambda vr=vr: sh("ip", "link", "del", vr))
        sh("ip", "link", "set", vn, "netns", ns)
        sh("ip", "addr", "add", "10.%d.%d.1/24" % (net, i), "dev", vr)
        sh("ip", "link", "set", vr, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.%d.%d.2/24" % (net, i), "dev", vn)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", vn, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        spaces.append((ns, "10.%d.%d.1" % (net, i), "10.%d.%d.2" % (net, i)))
    return spaces


def start(bindir, tn, node, spaces, i):
    peers = []
    for j in range(len(spaces)):
        if j != i:
            peers += ["--peer", "%s:%d" % (spaces[i][1], PROXY_BASE + j)]
    args = ["ip", "netns", "exec", node.ns, os.path.join(bindir, "sspd"),
            "--genesis", os.path.join(tn.dir, "genesis.json"), "--datadir", node.datadir,
            "--rpc-listen", "%s:%d" % (node.ip, RPC_PORT),
            "--p2p-listen", "%s:%d" % (node.ip, P2P_PORT),
            "--producer-key", os.path.join(tn.dir, "keys", node.name),
            "--check-invariants"] + peers
    logf = open(node.log, "ab")
    node.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                 env=dict(os.environ, SSP_PRODUCER_PASSWORD=""))
    logf.close()
    wait_for(lambda: node.proc.poll() is not None or node.rpc("chain_getInfo"), 30,
             "%s RPC" % node.name)
    if node.proc.poll() is not None:
        raise Failure("%s exited with %d while starting" % (node.name, node.proc.returncode))


def stop(node):
    if node.proc and node.proc.poll() is None:
        node.proc.send_signal(signal.SIGINT)
        try:
            node.proc.wait(20)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            node.proc.wait(10)
            raise Failure("%s did not stop on SIGINT" % node.name)
    return node.proc.returncode if node.proc else 0


def converged(nodes, min_height=1):
    infos = [n.rpc("chain_getInfo") for n in nodes]
    if len({i["head_id"] for i in infos}) != 1 or infos[0]["height"] < min_height:
        return None
    h = infos[0]["height"]
    roots = {n.rpc("chain_getBlock", {"height": h})["state_root"] for n in nodes}
    return h if len(roots) == 1 else None


def txgen(bindir, tn, key, to, nonce, count, amount, info):
    r = subprocess.run([os.path.join(bindir, "ssp_txgen"), "--keystore", os.path.join(tn.dir, "keys", key),
                        "--chain-id", info["chain_id"], "--hrp", info["hrp"], "--to", to,
                        "--nonce", str(nonce), "--count", str(count), "--expiry", "100000",
                        "--amount", str(amount)],
                       capture_output=True, text=True, timeout=60, check=True)
    return r.stdout.split()


def status(node, txid):
    try:
        return node.rpc("tx_get", {"txid": txid}).get("status")
    except RpcError:
        return None


def occurrences(node, txids, top):
    """How many times each txid appears in blocks 1..top of node's chain."""
    seen = {t: 0 for t in txids}
    for h in range(1, top + 1):
        for t in node.rpc("chain_getBlock", {"height": h})["txs"]:
            if t in seen:
                seen[t] += 1
    return seen


def test():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("skip: needs root and ip(8) for network namespaces")
        sys.exit(77)
    probe = "sspfk%05d_probe" % (os.getpid() % 100000)
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        print("skip: cannot create a network namespace here: %s" % r.stderr.strip())
        sys.exit(77)
    sh("ip", "netns", "del", probe)
    bindir = bindir_from_argv()
    t0 = time.time()
    # keys, genesis and layout from `ssp testnet up`; then the nodes run in namespaces instead
    tn = Testnet(bindir, nodes=4, interval=INTERVAL, consensus=CONSENSUS)
    tn.up()
    tn.down()
    remove_stale_netns()
    spaces = setup_netns(4)
    nodes = []
    for i in range(4):
        name = "node%d" % i
        d = os.path.join(tn.dir, name)
        try:
            os.remove(os.path.join(d, "peers.txt"))  # loopback addresses of the first run
        except OSError:
            pass
        nodes.append(NsNode(name, spaces[i][0], spaces[i][2], d, os.path.join(tn.dir, name + ".log")))
    links = {}
    for i in range(4):
        for j in range(4):
            if i != j:
                links[(i, j)] = Link((spaces[i][1], PROXY_BASE + j), spaces[i][2],
                                     (spaces[j][2], P2P_PORT))
    _cleanup.append(lambda: [l.close() for l in links.values()])
    for n in nodes:
        _cleanup.append(lambda n=n: n.proc and n.proc.poll() is None and (n.proc.kill(), n.proc.wait(10)))
    for i, n in enumerate(nodes):
        start(bindir, tn, n, spaces, i)
    wait_for(lambda: all(n.rpc("net_getInfo")["peers"] == 3 for n in nodes), 30,
             "every node connected to the 3 others through the proxies")
    h0 = wait_for(lambda: converged(nodes, 8), 40, "the 4 nodes converging")
    check(True, "4 producers in 4 namespaces, linked only through 12 proxies, converge (height %d)" % h0)

    info = nodes[0].rpc("chain_getInfo")
    with open(os.path.join(tn.dir, "genesis.json")) as f:
        dev = [a["address"] for a in json.load(f)["allocations"] if a["category"] == "private_placement"][0]
    # producer addresses: node i's key is keys/nodeI
    addr = {}
    for i in range(4):
        r = subprocess.run([os.path.join(bindir, "ssp"), "--json", "--keystore",
                            os.path.join(tn.dir, "keys"), "--network", "dev", "key", "show",
                            "node%d" % i], capture_output=True, text=True, timeout=30)
        addr[i] = json.loads(r.stdout)["address"]
    made = {nodes[0].rpc("chain_getBlock", {"height": k})["producer"] for k in range(1, h0 + 1)}
    check(len(set(addr.values())) == 4 and made <= set(addr.values()),
          "the four producers' addresses (every block made by one of them)")

    # before the split: fund node0's and node2's accounts, plus a transfer; all acknowledged
    nonce = nodes[0].rpc("account_get", {"address": dev})["nonce"]
    pre = txgen(bindir, tn, "dev", addr[0], nonce, 1, 10 ** 9, info)
    pre += txgen(bindir, tn, "dev", addr[2], nonce + 1, 1, 10 ** 9, info)
    pre += txgen(bindir, tn, "dev", addr[1], nonce + 2, 1, 12345, info)
    pre += txgen(bindir, tn, "dev", addr[3], nonce + 3, 1, 10 ** 9, info)
    pre_ids = [nodes[0].rpc("tx_submit", {"tx": t})["txid"] for t in pre]
    wait_for(lambda: all(status(n, t) in ("included", "finalized") for n in nodes for t in pre_ids), 30,
             "the pre-split transfers included everywhere")
    check(True, "4 transfers acknowledged (included on every node) before the split")
    nonce += 1  # (the fourth one)
    wait_for(lambda: converged(nodes), 20, "convergence before the split")

    # the final blocks, then the split: {node0, node1} | {node2, node3}
    final_before = {}
    for n in nodes:
        fh = n.rpc("chain_getInfo")["finalized_height"]
        final_before[n.name] = (fh, n.rpc("chain_getBlock", {"height": fh})["id"])
    side = {0: 0, 1: 0, 2: 1, 3: 1}
    for (i, j), l in links.items():
        if side[i] != side[j]:
            l.set_cut(True)
    split_head = max(n.height() for n in nodes)
    wait_for(lambda: all(n.rpc("net_getInfo")["peers"] == 1 for n in nodes), 20,
             "each side seeing only its own pair")
    check(True, "partitioned 2/2 at height ~%d; final heights recorded before: %s" %
          (split_head, {k: v[0] for k, v in final_before.items()}))

    # both sides produce and take transfers; node0's and node2's own transfers never conflict,
    # while dev's next nonce is spent differently on each side
    side_a = txgen(bindir, tn, "node0", addr[3], 0, SIDE_TXS, 1000, info)
    side_b = txgen(bindir, tn, "node2", addr[1], 0, SIDE_TXS, 1000, info)
    conflict_a = txgen(bindir, tn, "dev", addr[0], nonce + 3, 1, 777, info)
    conflict_b = txgen(bindir, tn, "dev", addr[2], nonce + 3, 1, 888, info)
    a_ids = [nodes[0].rpc("tx_submit", {"tx": t})["txid"] for t in side_a + conflict_a]
    b_ids = [nodes[2].rpc("tx_submit", {"tx": t})["txid"] for t in side_b + conflict_b]
    ha, hb = nodes[0].height(), nodes[2].height()
    wait_for(lambda: nodes[0].height() >= ha + SIDE_BLOCKS and nodes[2].height() >= hb + SIDE_BLOCKS,
             20 + SIDE_BLOCKS,
             "both sides producing")
    wait_for(lambda: all(status(nodes[0], t) == "included" for t in a_ids) and
             all(status(nodes[2], t) == "included" for t in b_ids), 20,
             "each side including its own transfers")
    ia, ib = nodes[0].rpc("chain_getInfo"), nodes[2].rpc("chain_getInfo")
    check(ia["head_id"] != ib["head_id"], "the sides diverged (heights %d and %d)" % (ia["height"], ib["height"]))
    check(ia["finalized_height"] <= split_head and ib["finalized_height"] <= split_head,
          "neither side finalizes a block of its own (final %d and %d, split at ~%d)" %
          (ia["finalized_height"], ib["finalized_height"], split_head))

    # heal
    t_heal = time.time()
    for l in links.values():
        l.set_cut(False)
    top = wait_for(lambda: (lambda h: h and nodes[0].rpc("chain_getInfo")["finalized_height"] > split_head and h)(
        converged(nodes)), 40, "convergence after the heal, with finality moving again")
    print("   converged %.1f s after the heal, height %d" % (time.time() - t_heal, top))
    check(True, "all 4 nodes on one branch after the heal (same head id and state root, height %d)" % top)
    for n in nodes:
        fh, fid = final_before[n.name]
        for m in nodes:
            check_id = m.rpc("chain_getBlock", {"height": fh})["id"]
            if check_id != fid:
                raise Failure("final block %d of %s reverted on %s" % (fh, n.name, m.name))
    check(True, "no block final before the split was reverted")

    # every tx: acknowledged before the split once; the losing side's back through its mempool
    winners = a_ids[:SIDE_TXS] + b_ids[:SIDE_TXS]
    def all_in():
        top = converged(nodes)
        if not top:
            return None
        st = [status(n, t) for n in nodes for t in pre_ids + winners]
        return top if all(s in ("included", "finalized") for s in st) else None
    top = wait_for(all_in, 30, "every non-conflicting tx included on every node")
    occ = occurrences(nodes[1], pre_ids + winners + a_ids[SIDE_TXS:] + b_ids[SIDE_TXS:], top)
    check(all(occ[t] == 1 for t in pre_ids), "each pre-split tx included exactly once")
    check(all(occ[t] == 1 for t in winners),
          "both sides' non-conflicting txs included exactly once (the losing side's came back "
          "through the mempool)")
    conflict = occ[a_ids[SIDE_TXS]] + occ[b_ids[SIDE_TXS]]
    check(conflict == 1, "of the two txs spending dev's nonce %d, exactly one is included" % (nonce + 3))
    reorgs = {n.name: n.metric("ssp_reorgs_total") for n in nodes}
    depth = max(n.metric("ssp_reorg_depth_max_blocks") or 0 for n in nodes)
    losers = [n for n in nodes if reorgs[n.name]]
    check(len(losers) >= 2 and depth >= 2 and all("reorg: fork at height" in n.logtext() for n in losers),
          "the losing side switched branch (ssp_reorgs_total %s, deepest %d blocks, logged)" % (reorgs, depth))
    for n in losers:
        for line in n.logtext().splitlines():
            if "reorg: fork at height" in line:
                print("   %s: %s" % (n.name, line.strip()))
    back = {n.name: n.metric("ssp_p2p_txs_reannounced_total") for n in losers}
    # the first loser to switch gives its side's txs back and announces them; a loser that
    # switches after the winners included them gets nothing back (they are on the new branch)
    check(max(back.values()) >= SIDE_TXS,
          "the losing side announced the txs its reorg gave back to the mempool again "
          "(ssp_p2p_txs_reannounced_total %s)" % back)

    # then 3/1: the majority finalizes its branch; node3, alone, builds beside it
    back_before = nodes[3].metric("ssp_p2p_txs_reannounced_total") or 0
    final_before = {}
    for n in nodes:
        fh = n.rpc("chain_getInfo")["finalized_height"]
        final_before[n.name] = (fh, n.rpc("chain_getBlock", {"height": fh})["id"])
    for (i, j), l in links.items():
        l.set_cut(3 in (i, j))
    split_head = max(n.height() for n in nodes)
    wait_for(lambda: nodes[3].rpc("net_getInfo")["peers"] == 0 and
             all(n.rpc("net_getInfo")["peers"] == 2 for n in nodes[:3]), 20, "node3 cut off")
    lone = txgen(bindir, tn, "node3", addr[0], 0, 2, 1000, info)
    major = txgen(bindir, tn, "node0", addr[2], SIDE_TXS, 2, 1000, info)
    lone_ids = [nodes[3].rpc("tx_submit", {"tx": t})["txid"] for t in lone]
    major_ids = [nodes[0].rpc("tx_submit", {"tx": t})["txid"] for t in major]
    wait_for(lambda: nodes[0].rpc("chain_getInfo")["finalized_height"] > split_head + 2 and
             all(status(nodes[3], t) == "included" for t in lone_ids), 30,
             "the majority finalizing its branch while node3 includes its own txs")
    i3, i0 = nodes[3].rpc("chain_getInfo"), nodes[0].rpc("chain_getInfo")
    check(i3["finalized_height"] <= split_head and i0["finalized_height"] > split_head,
          "3/1: the majority finalizes (final %d), node3 alone cannot (final %d)" %
          (i0["finalized_height"], i3["finalized_height"]))
    major_final = (i0["finalized_height"], nodes[0].rpc("chain_getBlock", {"height": i0["finalized_height"]})["id"])
    t_heal = time.time()
    for l in links.values():
        l.set_cut(False)
    def healed():
        top = converged(nodes)
        ids = lone_ids + major_ids
        return top if top and all(status(n, t) in ("included", "finalized") for n in nodes for t in ids) else None
    top = wait_for(healed, 40, "node3 back on the majority's branch, every tx included")
    print("   3/1: converged with every tx %.1f s after the heal, height %d" % (time.time() - t_heal, top))
    check(nodes[3].rpc("chain_getBlock", {"height": major_final[0]})["id"] == major_final[1] and
          all(m.rpc("chain_getBlock", {"height": v[0]})["id"] == v[1] for m in nodes for v in final_before.values()),
          "node3 switched to the majority's final branch; no final block reverted")
    occ = occurrences(nodes[2], lone_ids + major_ids, top)
    check(all(v == 1 for v in occ.values()),
          "node3's txs came back through its mempool: every tx of both sides included once")
    check(nodes[3].metric("ssp_reorgs_total") > reorgs["node3"],
          "node3 counted its reorg (ssp_reorgs_total %d)" % nodes[3].metric("ssp_reorgs_total"))
    # the majority never saw node3's txs: node3 announced them again after its switch, so
    # the next producer need not be node3 to include them
    again = nodes[3].metric("ssp_p2p_txs_reannounced_total") - back_before
    check(again >= len(lone_ids),
          "node3 announced its %d txs again after its switch (%d announced)" % (len(lone_ids), again))
    for line in nodes[3].logtext().splitlines()[-200:]:
        if "reorg: fork at height" in line:
            print("   node3: %s" % line.strip())
    print("   whole test %.1f s" % (time.time() - t0))
    for n in nodes:
        check(stop(n) == 0, "%s stops cleanly" % n.name)
    bad = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
           "WARNING: ThreadSanitizer", "SUMMARY: ")
    for n in nodes:
        text = n.logtext()
        for b in bad:
            if b in text:
                raise Failure("%s in the log of %s" % (b, n.name))
    check(True, "no sanitizer report in any node's log")


if __name__ == "__main__":
    main(test)
