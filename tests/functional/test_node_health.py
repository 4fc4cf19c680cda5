#!/usr/bin/env python3
"""Honest health and errors (issue 13): GET /health is 200 with a JSON
summary on a producing node and 503 with a JSON reason on a node that has
a producer key but does not produce, one whose head is stale, and a
follower that is behind; the banner says why a node does not produce; a
taken RPC port is refused with "address already in use" before anything is
written to the datadir."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

from sspnode import Node, bindir_from_argv, check, command, main, tempdir, wait_for


def health(node):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % node.port, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), json.loads(e.read())


def test():
    bindir = bindir_from_argv()

    # a taken port: refused before the datadir exists
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    dd = os.path.join(tempdir(), "never")
    r = subprocess.run(command(bindir, "sspd") + ["--dev", "--datadir", dd, "--rpc-listen",
                                                  "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "address already in use" in r.stderr,
          "a taken RPC port: exit 1, 'address already in use' (%r)" % r.stderr.strip()[-120:])
    check(not os.path.exists(dd), "nothing written: the datadir was not even created")
    taken.close()

    a = Node(bindir).start()
    a.wait_height(2)
    st, ctype, h = health(a)
    check(st == 200 and ctype == "application/json" and h["status"] == "ok" and
          h["producing"] is True and h["height"] >= 2 and "head_age_ms" in h,
          "producing node: 200 with a JSON summary %s" % h)
    check("producing:   yes" in a.logtext(), "banner: producing yes")

    genesis = os.path.join(a.datadir, "genesis.json")
    # a producer key that is not this chain's producer: it should produce but cannot
    b = Node(bindir, extra=["--genesis", genesis]).start()
    st, _, h = health(b)
    check(st == 503 and h["status"] == "unhealthy" and "not producing" in h["reason"] and
          "not this chain's producer" in h["reason"], "wrong producer key: 503, %s" % h)
    check("producing:   no — the producer key is not this chain's producer" in b.logtext(),
          "banner says why it does not produce")

    # no producer key, no source: its head goes stale
    c = Node(bindir, dev=False, extra=["--genesis", genesis]).start()
    check("producing:   no — no producer key" in c.logtext(), "banner: no producer key")
    st, _, h = wait_for(lambda: (lambda x: x if x[0] == 503 else None)(health(c)), 20,
                        "a stale head")
    check("stale head" in h["reason"] and "neither produces nor follows" in h["reason"],
          "idle node: 503 stale head, %s" % h)

    # a follower that cannot import its source's blocks (another chain): behind
    other = Node(bindir).start()
    other.wait_height(4)
    d = Node(bindir, dev=False, extra=["--genesis", genesis, "--follow", other.url]).start()
    st, _, h = wait_for(lambda: (lambda x: x if x[0] == 503 and "behind" in x[2].get(
        "reason", "") else None)(health(d)), 20, "the follower to be behind")
    check(h["source_height"] > h["height"] + 2, "follower behind its source: 503, %s" % h)

    st, _, h = health(a)
    check(st == 200, "the producing node is still healthy")
    for n in (a, b, c, d, other):
        check(n.stop() == 0, "node on port %d stops cleanly" % n.port)


if __name__ == "__main__":
    main(test)
