"""A datadir that detects corruption (issue #12, point 3): build a devnet
chain with transfers, native tokens and contract calls, stop the node, then
damage copies of its datadir and check that nothing altered is used or
served and that nothing crashes:

* one-bit flips in chain.mdb, aimed at each table in turn (a byte in use in
  one of its pages: B-tree headers, pointers, nodes, overflow values) plus
  one turn in the cycle anywhere in the file: every flip that changes the
  data (the logical dump of every table, mdb_dump -a, differs or cannot be
  made) is detected by the node's start-up checks, by serving (the node
  answers an internal error and stops) or by `sspd --verify-db`; no process
  dies of a signal (SIGSEGV, SIGBUS); a node that starts serves only the
  original blocks. A miss prints what changed (table, key, value byte, from
  the two dumps) so that a failure in CI can be diagnosed from its log; the
  summary counts flips per table;
* a byte flipped inside a stored block below the head: the node starts
  (the head is intact), chain_getBlock of that height answers an internal
  error and the node stops with "database corrupt at height H";
* a truncated chain.mdb: refused with a message, no SIGBUS;
* a zero-length or missing chain.mdb beside the identity: refused unless
  --reinit;
* a deleted producer.key on an existing chain: refused with a message.

The flip count is bounded (FLIPS, SSP_FLIPS) and so is the time
(SWEEP_SECONDS, SSP_FLIP_SECONDS); the seed is printed (SSP_FLIP_SEED
reproduces the flips, on a chain laid out alike: the chain is built anew each
run); SSP_FLIP_KEEP=DIR keeps every copy that failed, with why.txt and the
flipped file as it was before sspd opened it (chain.mdb.flipped). A node
that should stop and has not within 15 s gets every thread's backtrace
printed (gdb, bounded in time) before it is killed, so such a failure shows
which thread hung."""
import os
import random
import re
import shutil
import struct
import subprocess
import time

from sspnode import (EMULATOR, MAP_ARGS, Cli, Failure, Node, RpcError, bindir_from_argv, check,
                     command, main, tempdir, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "contracts")
FLIPS = int(os.environ.get("SSP_FLIPS", "12" if EMULATOR else "100"))
META_END = 2 * 4096  # LMDB's two meta pages
SWEEP_SECONDS = int(os.environ.get("SSP_FLIP_SECONDS", "30"))


def workload(bindir, node):
    """Transfers, a native token and an iot20 contract; returns the txids."""
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = tempdir()
    w = Cli(bindir, node, wallet, password="pw")
    bob = w.run("key", "new", "--name", "bob")["address"]
    txids = []
    for i in range(3):
        txids.append(dev.run("transfer", "--from", "dev", "--to", bob, "--amount", str(i + 1))["txid"])
    # the token and contract txs wait for their blocks: later ones depend on them
    txids.append(dev.run("token", "create", "--from", "dev", "--symbol", "PARK", "--name", "Parking",
                         "--decimals", "0", "--max-supply", "1000000", "--wait")["txid"])
    txids.append(dev.run("token", "issue", "--from", "dev", "--symbol", "PARK", "--to", "dev",
                         "--amount", "5000", "--wait")["txid"])
    txids.append(dev.run("token", "transfer", "--from", "dev", "--symbol", "PARK", "--to", bob,
                         "--amount", "10", "--wait")["txid"])
    d = dev.run("contract", "deploy", "--from", "dev", os.path.join(CONTRACTS, "iot20.lua"),
                "--args", '["IOT", "Test token", 2, 1000000, 5000]', "--wait")
    txids.append(d["txid"])
    for i in range(3):
        r = dev.run("contract", "call", "--from", "dev", d["contract"], "transfer", "--args",
                    '["%s", %d]' % (bob, 100 + i), *(["--wait"] if i == 2 else []))
        txids.append(r["txid"])
    return txids


def run(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def verify(bindir, datadir):
    return run(command(bindir, "sspd") + ["--verify-db", datadir] + MAP_ARGS)


def dump(datadir):
    """The logical content of every table, or None when mdb_dump cannot read it."""
    r = subprocess.run(["mdb_dump", "-n", "-a", os.path.join(datadir, "chain.mdb")],
                       capture_output=True, timeout=60)
    return r.stdout if r.returncode == 0 else None


def parse_dump(text):
    """mdb_dump -a output as {table: ({key hex: value hex}, [header lines])}."""
    tables, db, cur, key, head = {}, None, None, None, []
    for line in text.decode(errors="replace").splitlines():
        if line.startswith("VERSION="):
            head = []
        if line.startswith("database="):
            db = line[len("database="):]
        elif line == "HEADER=END":
            cur, key = {}, None
            tables[db] = (cur, head)
        elif line == "DATA=END":
            cur = None
        elif cur is not None and line.startswith(" "):
            if key is None:
                key = line[1:]
            else:
                cur[key], key = line[1:], None
        elif cur is None:
            head.append(line)
    return tables


def show_key(k):
    raw = bytes.fromhex(k)
    text = raw.decode("ascii", "replace")
    shown = k if len(k) <= 80 else k[:80] + "…"
    return shown + (" (%r)" % text if all(32 <= c < 127 for c in raw) else "")


def dump_diff(ref, got, limit=8, datadir=None):
    """What a flip changed, table by table and key by key (the diagnosis of a miss)."""
    a = parse_dump(ref)
    if got is None:
        out = ["mdb_dump -a cannot read the file"]
        if datadir:
            r = subprocess.run(["mdb_dump", "-n", "-a", os.path.join(datadir, "chain.mdb")],
                               capture_output=True, timeout=60)
            out[0] += ": " + r.stderr.decode(errors="replace").strip()[-200:]
        for t in sorted(a) if datadir else []:  # which tables still dump on their own
            r = subprocess.run(["mdb_dump", "-n", "-s", t, os.path.join(datadir, "chain.mdb")],
                               capture_output=True, timeout=60)
            if r.returncode:
                out.append("table %s: %s" % (t, r.stderr.decode(errors="replace").strip()[-200:]))
        return out
    b = parse_dump(got)
    out = []
    for t in sorted(set(a) | set(b)):
        (ta, ha), (tb, hb) = a.get(t, ({}, [])), b.get(t, ({}, []))
        if t not in b:
            out.append("table %s: gone (%d entries)" % (t, len(ta)))
            continue
        if t not in a:
            out.append("table %s: appeared (%d entries)" % (t, len(tb)))
            continue
        if ha != hb:
            out.append("table %s: header %s -> %s" % (t, sorted(set(ha) - set(hb)),
                                                      sorted(set(hb) - set(ha))))
        for k in sorted(set(ta) | set(tb)):
            if k not in tb:
                out.append("table %s: key %s gone" % (t, show_key(k)))
            elif k not in ta:
                out.append("table %s: key %s appeared (value %s)" % (t, show_key(k), tb[k][:80]))
            elif ta[k] != tb[k]:
                va, vb = bytes.fromhex(ta[k]), bytes.fromhex(tb[k])
                at = next((i for i in range(min(len(va), len(vb))) if va[i] != vb[i]),
                          min(len(va), len(vb)))
                out.append("table %s: key %s: value differs at byte %d of %d (%d now)"
                           % (t, show_key(k), at, len(va), len(vb)))
    if len(out) > limit:
        out = out[:limit] + ["… and %d more" % (len(out) - limit)]
    return out or ["the dumps differ outside any table"]


P_BRANCH, P_LEAF, F_BIGDATA, F_SUBDATA = 0x01, 0x02, 0x01, 0x02


def page_map(image, psize=4096):
    """The pages of an LMDB file (64-bit little-endian layout, as this
    machine writes it) that each table owns, walked from the newer meta
    page: {table: [(pgno, [(start, end) byte ranges in use in that page])]},
    with "(main)" the table of tables and "(freelist)" LMDB's free-page
    table. Used bytes are a branch or leaf page's header and pointers and
    its nodes, an overflow page's value bytes: not the slack between."""
    npages = len(image) // psize
    seen, owned, sub = set(), {}, {}
    meta = max((struct.unpack_from("<Q", image, p * psize + 16 + 128)[0], p) for p in (0, 1))[1]

    def walk(pg, owner, depth=0):
        if pg >= npages or pg in seen or depth > 32:
            return
        seen.add(pg)
        base = pg * psize
        flags, lower, upper = struct.unpack_from("<HHH", image, base + 10)
        if not flags & (P_BRANCH | P_LEAF):
            return
        lower, upper = min(lower, psize), min(upper, psize)
        owned.setdefault(owner, []).append((pg, [(0, lower), (upper, psize)]))
        for i in range(max(0, (lower - 16) // 2)):
            ptr = struct.unpack_from("<H", image, base + 16 + 2 * i)[0]
            if ptr + 8 > psize:
                continue
            lo, hi, nflags, ksize = struct.unpack_from("<HHHH", image, base + ptr)
            if flags & P_BRANCH:
                walk(lo | hi << 16 | nflags << 32, owner, depth + 1)
                continue
            size, data = lo | hi << 16, base + ptr + 8 + ksize
            if nflags & F_BIGDATA:
                first = struct.unpack_from("<Q", image, data)[0]
                total = 16 + size  # the overflow run: one page header, then the value
                for j in range(min((total + psize - 1) // psize, npages - first)):
                    if first + j not in seen:
                        seen.add(first + j)
                        owned.setdefault(owner, []).append(
                            (first + j, [(0, min(psize, total - j * psize))]))
            elif nflags & F_SUBDATA and owner == "(main)":
                name = image[base + ptr + 8:base + ptr + 8 + ksize].decode(errors="replace")
                sub[name] = struct.unpack_from("<Q", image, data + 40)[0]

    off = meta * psize + 16 + 24  # MDB_meta: magic, version, address, mapsize, then dbs[2]
    walk(struct.unpack_from("<Q", image, off + 40)[0], "(freelist)")
    walk(struct.unpack_from("<Q", image, off + 48 + 40)[0], "(main)")
    for name, root in sorted(sub.items()):
        walk(root, name)
    return owned


def copy_of(src):
    d = os.path.join(tempdir(), "copy")
    shutil.copytree(src, d)
    return d


def signalled(rc):
    return rc is not None and rc < 0


SANITIZER = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:")


def bad_exit(rc, text):
    """A crash, however it shows: a signal, a sanitizer's report (it exits 1), or
    an exit status other than sspd's own (0 ok, 1 refused/corrupt, 2 local failure)."""
    return signalled(rc) or rc not in (0, 1, 2) or any(s in text for s in SANITIZER)


def backtraces(pid, seconds=30):
    """Every thread's backtrace of process pid, from gdb (at most `seconds`;
    gdb detaches and the process goes on), or why there are none."""
    gdb = shutil.which("gdb")
    if not gdb:
        return "(no backtraces: gdb is not installed)"
    if EMULATOR:  # gdb would attach to the emulator, not to sspd
        return "(no backtraces: sspd runs under %s)" % " ".join(EMULATOR)
    try:
        r = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-ex", "thread apply all bt"],
                           capture_output=True, text=True, timeout=seconds,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:  # killed: what it printed so far
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        return "%s\n(gdb did not finish within %d s)" % (out or "", seconds)
    return r.stdout + r.stderr


def wait_stopped(node, seconds=15):
    """Waits for a node that must stop by itself (a corrupt answer stops it).
    Returns (exit status, hung): a node still up after `seconds` has its
    threads' backtraces printed (so a failure shows which thread hung), then
    is killed."""
    try:
        return node.proc.wait(seconds), False
    except subprocess.TimeoutExpired:
        print("sspd (pid %d) has not stopped %d s after a corrupt answer; its threads:\n%s"
              % (node.proc.pid, seconds, backtraces(node.proc.pid)), flush=True)
        node.proc.kill()
        return node.proc.wait(10), True


def start_copy(bindir, datadir, extra=None):
    """Starts sspd --dev on a datadir; returns (node, None) once it serves
    or (None, (exit code, log)) when it refuses to start."""
    n = Node(bindir, datadir=datadir, extra=extra)
    try:
        n.start(timeout=60 if EMULATOR else 15)
        return n, None
    except Failure:
        if n.proc.poll() is None:
            raise
        return None, (n.proc.returncode, n.logtext())


def serve_all(node, blocks, txids):
    """Asks for every original block and tx. Returns "altered" if a block
    served differs from the original, "index" if a tx is not found (its
    index entry was altered: not data served, but an answer), "refused" if
    the node answered an internal error (and must then stop), "dropped" if
    the connection closed without an answer (the node stopped, or died:
    its exit status tells), else "same"."""
    for h, raw in enumerate(blocks):
        try:
            got = node.rpc("chain_getBlock", {"height": h, "raw": True}, timeout=10)
        except RpcError as e:
            if e.code == -32603:
                return "refused"
            if e.code == -32002:  # stopping: something else found the damage first
                return "dropped"
            raise
        except OSError:  # the node stopped (or died) under the request
            return "dropped"
        if got["raw"] != raw:
            return "altered"
    for t in txids:
        try:
            node.rpc("tx_get", {"txid": t}, timeout=10)
        except RpcError as e:
            if e.code == -32603:
                return "refused"
            if e.code == -32001:  # unknown: a tx index key altered (--verify-db finds it)
                return "index"
            if e.code == -32002:
                return "dropped"
            raise
        except OSError:
            return "dropped"
    return "same"


def test():
    t0 = time.time()
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    txids = workload(bindir, node)
    node.wait_height(node.height() + 1)
    r = verify(bindir, node.datadir)
    check(r.returncode == 2 and "in use" in r.stderr and "corrupt" not in r.stdout,
          "--verify-db of a running node's datadir: no verdict, exit 2 (%s)" % r.stderr.strip())
    node.stop()
    orig = node.datadir
    r = verify(bindir, orig)
    check(r.returncode == 0 and r.stdout.startswith("ok: "),
          "--verify-db on the intact datadir: %s" % r.stdout.strip())
    # the reference: every block as stored (a copy's node may add blocks: only
    # the original heights are asked for), the logical dump
    head = int(r.stdout.split()[1]) - 1
    ref = Node(bindir, datadir=copy_of(orig))
    ref.start()
    blocks = [ref.rpc("chain_getBlock", {"height": h, "raw": True})["raw"] for h in range(head + 1)]
    ref.stop()
    ref_dump = dump(orig)
    check(ref_dump is not None, "mdb_dump reads the intact datadir")

    print("[%.1f s] block_bytes_corrupt" % (time.time() - t0))
    block_bytes_corrupt(bindir, orig, blocks, txids)
    print("[%.1f s] truncated" % (time.time() - t0))
    truncated(bindir, orig)
    print("[%.1f s] missing_db" % (time.time() - t0))
    missing_db(bindir, orig)
    print("[%.1f s] missing_key" % (time.time() - t0))
    missing_key(bindir, orig)
    print("[%.1f s] sweep" % (time.time() - t0))
    sweep(bindir, orig, ref_dump, blocks, txids)


def block_bytes_corrupt(bindir, orig, blocks, txids):
    """A flip inside a stored block below the head: served as an internal error, node stops."""
    h = next(i for i in range(1, len(blocks) - 1) if len(blocks[i]) > 400)
    raw = bytes.fromhex(blocks[h])
    d = copy_of(orig)
    path = os.path.join(d, "chain.mdb")
    # LMDB is copy-on-write: a page rewritten after block h was stored leaves
    # its old copy in the file (free, not reachable), so the bytes may occur
    # more than once and the first occurrence need not be the live one; every
    # occurrence is altered
    with open(path, "r+b") as f:
        data = f.read()
        found = [m.start() for m in re.finditer(re.escape(raw), data)]
        check(found, "block %d's bytes found in chain.mdb (%d copies)" % (h, len(found)))
        for at in found:
            f.seek(at + len(raw) - 10)  # inside its last tx's signature
            f.write(bytes([data[at + len(raw) - 10] ^ 0x01]))
    n, refused = start_copy(bindir, d)
    check(n is not None, "a node starts on a datadir whose block %d (below the head) is altered" % h)
    try:
        n.rpc("chain_getBlock", {"height": h, "raw": True})
        raise Failure("the altered block %d was served" % h)
    except RpcError as e:
        check(e.code == -32603 and "corrupt" in e.message,
              "chain_getBlock of the altered block: internal error (%s)" % e.message)
    rc, hung = wait_stopped(n)
    check(not hung and rc == 1 and "database corrupt at height %d" % h in n.logtext(),
          "the node stopped (exit %d) with \"database corrupt at height %d\"" % (rc, h))
    r = verify(bindir, d)
    check(r.returncode == 1 and ("database corrupt at height %d" % h) in r.stdout,
          "--verify-db: %s" % r.stdout.strip())


def truncated(bindir, orig):
    d = copy_of(orig)
    path = os.path.join(d, "chain.mdb")
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    n, refused = start_copy(bindir, d)
    check(n is None and refused[0] == 1 and "truncated" in refused[1],
          "a truncated chain.mdb (%d of %d bytes) is refused with a message, exit %s"
          % (size // 2, size, refused and refused[0]))
    r = verify(bindir, d)
    check(r.returncode == 1 and "truncated" in r.stdout + r.stderr and not signalled(r.returncode),
          "--verify-db on the truncated file: %s" % r.stdout.strip())


def missing_db(bindir, orig):
    d = copy_of(orig)
    path = os.path.join(d, "chain.mdb")
    with open(path, "r+b") as f:
        f.truncate(0)
    n, refused = start_copy(bindir, d)
    check(n is None and refused[0] == 1 and "empty" in refused[1] and "--reinit" in refused[1],
          "a zero-length chain.mdb beside genesis.json and keys is refused (names --reinit)")
    os.remove(path)
    n, refused = start_copy(bindir, d)
    check(n is None and refused[0] == 1 and "missing" in refused[1],
          "a missing chain.mdb is refused")
    n, refused = start_copy(bindir, d, extra=["--reinit"])
    check(n is not None and n.height() <= 2, "--reinit starts a new chain from genesis")
    n.stop()


def missing_key(bindir, orig):
    d = copy_of(orig)
    os.remove(os.path.join(d, "producer.key"))
    n, refused = start_copy(bindir, d)
    check(n is None and refused[0] == 1 and "producer key" in refused[1] and "missing" in refused[1],
          "a deleted producer.key on an existing chain stops the node with a message")
    check(not os.path.exists(os.path.join(d, "producer.key")), "no new key was generated")


def sweep(bindir, orig, ref_dump, blocks, txids):
    seed = int(os.environ.get("SSP_FLIP_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
    print("flip seed %d" % seed)
    rnd = random.Random(seed)
    with open(os.path.join(orig, "chain.mdb"), "rb") as f:
        image = f.read()
    size = len(image)
    # Flips are aimed table by table, in turn: a byte in use in one of the
    # table's pages (B-tree header, pointers, nodes, overflow values), so that
    # a small table (meta: one page, a few hundred bytes in use) gets as many
    # flips as a big one; random offsets in a 200 kB file hit such a table
    # once in a thousand flips (the signing watermark's miss, 2026-12-05).
    # One turn in the cycle flips anywhere in the file (meta pages, free pages,
    # slack): the crash checks see those too.
    owned = page_map(image)
    targets = {}
    for table, pages in owned.items():
        targets[table] = [pg * 4096 + o for pg, ranges in pages for a, b in ranges
                          for o in range(a, b)]
    cycle = sorted(targets) + ["(anywhere)"]
    print("tables aimed at: %s" % ", ".join("%s (%d pages, %d bytes in use)"
                                          % (t, len(owned[t]), len(targets[t]))
                                          for t in sorted(targets)))
    per_table = {t: [0, 0, 0] for t in cycle}  # tried, changed data, detected
    tried = changed = detected = crashes = served_altered = index_misses = hangs = 0
    verify_crashes = meta_misses = 0
    t0 = time.time()
    deadline = t0 + SWEEP_SECONDS
    misses = []
    order = []
    for i in range(FLIPS):
        if time.time() > deadline:
            break
        if not order:
            order = cycle[:]
            rnd.shuffle(order)
        table = order.pop()
        d = copy_of(orig)
        path = os.path.join(d, "chain.mdb")
        at = rnd.randrange(size) if table == "(anywhere)" else rnd.choice(targets[table])
        with open(path, "r+b") as f:
            f.seek(at)
            b = f.read(1)[0]
            f.seek(at)
            f.write(bytes([b ^ (1 << rnd.randrange(8))]))
        tried += 1
        keep = os.environ.get("SSP_FLIP_KEEP")  # a directory for the copies that failed
        if keep:  # the flipped file as it was before any process opened it
            shutil.copy(path, path + ".flipped")
        dm = dump(d)
        is_change = dm != ref_dump
        v = verify(bindir, d)
        # --verify-db walks every page, so it meets LMDB's own limits first: an
        # mdb_assert (SIGABRT) or a wild page pointer (SIGSEGV) inside liblmdb.
        # Its walk runs in a child process and such a death is its verdict
        # "database corrupt"; sspd --verify-db itself must never die of it.
        vcrash = bad_exit(v.returncode, v.stdout + v.stderr)
        verify_crashes += vcrash
        crash = False
        found = v.returncode == 1 and "database corrupt" in v.stdout
        n, refused = start_copy(bindir, d)
        what, rc = "refused to start", None
        if n is None:
            rc = refused[0]
            crash |= bad_exit(refused[0], refused[1])
            found |= refused[0] == 1 and "sspd: error:" in refused[1]
        else:
            what = serve_all(n, blocks, txids)
            if what == "altered":
                served_altered += 1
            index_misses += what == "index"
            if what in ("refused", "dropped"):
                rc, hung = wait_stopped(n)
                if hung:  # hung, or did not stop: as bad as a crash
                    crash = True
                    hangs += 1
                found |= rc == 1 and "database corrupt at height" in n.logtext()
            else:
                rc = n.stop()
            crash |= bad_exit(rc, n.logtext())
        crashes += crash
        changed += is_change
        if is_change and found:
            detected += 1
        if is_change and not found and at >= META_END:
            misses.append((at, table))
        meta_misses += is_change and not found and at < META_END
        st = per_table[table]
        st[0] += 1
        st[1] += is_change
        st[2] += is_change and found
        print("flip %d at %d (%s, page %d +%d): %s, %s%s%s%s"
              % (i, at, table, at // 4096, at % 4096, "changed" if is_change else "same data",
                 "detected" if found else "not detected", ", CRASH" if crash else "",
                 ", VERIFY-DB CRASH" if vcrash else "",
                 ", SERVED AN ALTERED BLOCK" if what == "altered" else ""))
        if crash or vcrash or what == "altered":
            log = refused[1] if n is None else n.logtext()
            print("    --verify-db exit %s: %s\n    node: %s, exit %s; its log ends:\n%s"
                  % (v.returncode, (v.stdout + v.stderr).strip()[-600:], what, rc,
                     "\n".join("      " + ln for ln in log.strip().splitlines()[-6:])))
        if is_change and not found:  # what changed, so that a miss in CI can be diagnosed
            for line in dump_diff(ref_dump, dm, datadir=d):
                print("    " + line)
        if keep and (crash or vcrash or what == "altered" or (is_change and not found)):
            shutil.copytree(d, os.path.join(keep, "flip%d-at%d" % (i, at)))
            with open(os.path.join(keep, "flip%d-at%d" % (i, at), "why.txt"), "w") as f:
                f.write("verify rc %s\n%s\n%s\nnode log:\n%s\n" % (
                    v.returncode, v.stdout, v.stderr[-3000:],
                    (refused[1] if n is None else n.logtext())[-5000:]))
        shutil.rmtree(os.path.dirname(d), ignore_errors=True)
    print("flips tried %d, changed data %d, detected %d, crashes %d (of which a node that did "
          "not stop after a corrupt answer %d), served altered %d, tx unknown after an index "
          "flip %d (%.1f s)" % (tried, changed, detected, crashes, hangs, served_altered,
                               index_misses, time.time() - t0))
    print("per table (flips aimed, changed data, detected): %s"
          % ", ".join("%s %d/%d/%d" % (t, *per_table[t]) for t in cycle))
    print("--verify-db died %d times; known limit: %d changes in LMDB's meta "
          "pages (the first %d bytes, no checksum: a flipped root can select an older, "
          "consistent snapshot) went undetected" % (verify_crashes, meta_misses, META_END))
    check(tried >= 5, "%d flips tried within the time bound" % tried)
    check(crashes == 0, "no flip made the node die of a signal (SIGSEGV/SIGBUS) or hang")
    check(verify_crashes == 0, "sspd --verify-db never died of a signal or a sanitizer report")
    check(served_altered == 0, "no node served an altered block")
    check(not misses, "every flip that changed data beyond the meta pages was detected "
          "(missed at offset, table: %s; the seed reproduces the flips on this chain only)" % misses)


if __name__ == "__main__":
    main(test)
