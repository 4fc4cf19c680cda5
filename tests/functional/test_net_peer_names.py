"""Peers given by name: `--peer localhost:PORT` and a name from /etc/hosts
(resolved with the system resolver on the node's loop, again before each
dial) both reach the producer and sync; the same names work from the INI
config (`peer = …`); a name that does not resolve is logged with a clear
error while the node keeps running and syncing from its other peers; an
IPv6 literal `[::1]:PORT` is accepted; a malformed --peer stops the node
at start with the reason."""
import os
import socket
import subprocess

from sspnode import Node, bindir_from_argv, check, command, main, tempdir, wait_for
from sspnet import Testnet


def hosts_name():
    """A name /etc/hosts maps to a loopback IPv4 address, other than localhost."""
    try:
        with open("/etc/hosts") as f:
            for line in f:
                parts = line.split("#")[0].split()
                if len(parts) >= 2 and parts[0].startswith("127."):
                    for name in parts[1:]:
                        if name != "localhost" and not name.startswith("ip6-"):
                            try:
                                if socket.gethostbyname(name).startswith("127."):
                                    return name, parts[0]
                            except OSError:
                                pass
    except OSError:
        pass
    return None, None


def test():
    bindir = bindir_from_argv()
    net = Testnet(bindir, nodes=1, interval=200)
    net.up()
    prod = net.nodes[0]
    port = int(prod.p2p.split(":")[1])
    genesis = os.path.join(net.dir, "genesis.json")
    wait_for(lambda: prod.height() >= 3, 20, "the producer's first blocks")

    a = Node(bindir, dev=False, extra=["--genesis", genesis, "--peer", "localhost:%d" % port]).start()
    name, addr = hosts_name()
    # the INI config carries the name (and one that never resolves: .invalid is reserved)
    cfg = os.path.join(tempdir(), "node.ini")
    with open(cfg, "w") as f:
        f.write("[p2p]\npeer = no-such-host.invalid:%d\n" % port)
        if name:
            f.write("peer = %s:%d\n" % (name, port))
    b = Node(bindir, dev=False, extra=["--genesis", genesis, "--config", cfg,
                                       "--peer", "[::1]:%d" % port]).start()
    h = prod.height()
    wait_for(lambda: a.height() >= h, 30, "the node given localhost:PORT to sync")
    check(a.rpc("net_getInfo")["peers"] == 1, "--peer localhost:%d: connected and synced to %d" % (port, h))
    if name:
        wait_for(lambda: b.height() >= h, 30, "the node given %s:PORT to sync" % name)
        peers = b.rpc("net_getPeers")["peers"]
        check(len(peers) == 1 and peers[0]["address"].startswith(addr + ":"),
              "peer = %s:%d (a name from /etc/hosts, resolved to %s) in the INI config: "
              "connected and synced" % (name, port, peers[0]["address"] if peers else "?"))
    else:
        print("   (no name other than localhost for 127.x in /etc/hosts: that part skipped)")
    wait_for(lambda: "cannot resolve no-such-host.invalid" in b.logtext(), 20,
             "the unresolvable name logged")
    line = [ln for ln in b.logtext().splitlines() if "cannot resolve no-such-host.invalid" in ln][0]
    check(True, "an unresolvable name is logged: %s" % line.split("] ", 1)[-1])
    h2 = prod.height()
    wait_for(lambda: b.proc.poll() is None and b.height() >= h2 if name else b.proc.poll() is None,
             20, "the node to keep running")
    check(b.proc.poll() is None, "the node keeps running (and syncing) beside the unresolvable "
                                 "name and the [::1] literal")

    # malformed: the node refuses to start and says why
    for bad in ("[::1:%d" % port, "bad_host!:%d" % port, "localhost:0", "localhost"):
        r = subprocess.run(command(bindir, "sspd") + ["--genesis", genesis, "--datadir",
                           os.path.join(tempdir(), "d"), "--rpc-listen", "127.0.0.1:0",
                           "--peer", bad], capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "bad --peer" in r.stderr + r.stdout,
              "--peer %s refused at start: %s" % (bad, (r.stderr + r.stdout).strip().splitlines()[-1][-120:]))
    check(a.stop() == 0 and b.stop() == 0, "both nodes stop cleanly")
    net.down()
    net.check_logs([a, b])
    check(True, "no sanitizer report in any node's log")


if __name__ == "__main__":
    main(test)
