"""A full disk (issue 12): a node whose datadir is a 3 MiB tmpfs, mounted in
a private mount namespace of its own (so nothing outlives the process), is
fed transfers until the disk fills. It must stop with a message that names
the cause and the file — "no space left on device" and DIR/chain.mdb —
not a bare "I/O error", and the committed chain must stay readable."""
import json
import os
import shutil
import subprocess

from sspnode import Failure, Node, bindir_from_argv, check, command, main, tempdir, wait_for


def test():
    bindir = bindir_from_argv()
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    probe = subprocess.run([unshare or "unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True) if unshare and mount else None
    if not probe or probe.returncode != 0:
        print("skip - cannot mount a tmpfs in a private namespace (needs root and unshare)")
        return
    datadir = os.path.join(tempdir(), "data")
    os.makedirs(datadir)

    def wrap(args):
        cmd = "mount -t tmpfs -o size=3m,mode=0700 tmpfs '%s' && exec \"$@\"" % datadir
        return [unshare, "-m", "sh", "-c", cmd, "sh"] + args

    node = Node(bindir, datadir=datadir, wrap=wrap).start()
    node.wait_height(1)
    info = node.rpc("chain_getInfo")
    # the datadir's files are in the node's namespace: reach them through /proc
    keys = os.path.join("/proc", str(node.proc.pid), "root") + datadir
    with open(os.path.join(keys, "genesis.json")) as f:
        team = [a for a in json.load(f)["allocations"] if a["category"] == "team"][0]["address"]
    txs = subprocess.run(
        command(bindir, "ssp_txgen") + ["--keystore", os.path.join(keys, "dev-keys", "dev"),
         "--chain-id", info["chain_id"], "--hrp", info["hrp"], "--to", team, "--nonce", "0",
         "--count", "40000", "--expiry", str(info["height"] + 5000)],
        capture_output=True, text=True, timeout=120, check=True).stdout.split()
    sent = 0
    for _ in range(20):  # 4,000 a round (a sender may have 4,096 pending): 3 MiB fill in a few
        if node.proc.poll() is not None or sent >= len(txs):
            break
        try:
            node.rpc("tx_submitBatch", {"txs": txs[sent:sent + 4000]}, timeout=30)
            sent += 4000
            h = node.height()
            wait_for(lambda: node.proc.poll() is not None or node.height() > h, 10, "a block")
        except (OSError, ValueError, Failure):
            pass  # the node is going down
    wait_for(lambda: node.proc.poll() is not None, 30, "the node to stop on the full disk")
    log = node.logtext()
    check(node.proc.returncode != 0, "the node stops with a non-zero exit status (%d)" % node.proc.returncode)
    lines = [l for l in log.splitlines() if "no space left on device" in l.lower()]
    print("\n".join("    " + l for l in lines))
    check(lines, "the log says: no space left on device")
    check(any(os.path.join(datadir, "chain.mdb") in l for l in lines),
          "and names the file: %s" % os.path.join(datadir, "chain.mdb"))
    check("I/O error" not in log, "never a bare I/O error")


if __name__ == "__main__":
    main(test)
