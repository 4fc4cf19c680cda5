#!/usr/bin/env python3
"""Metrics Prometheus accepts (issue 13): a live node's GET /metrics is
checked by a strict parser of the text format 0.0.4 written here, with the
lint rules of `promtool check metrics` (HELP and TYPE for every family,
counters end in _total and nothing else does, families contiguous, no
duplicate series, units in base units), and by promtool itself when it is
installed (Debian's `prometheus` package is a 100 MB monitoring server that
starts a daemon; it is not a test dependency). The gauges for height,
finalized height, mempool and RPC traffic must be there and move."""
import math
import re
import shutil
import subprocess
import urllib.request

from sspnode import EMULATOR, Node, bindir_from_argv, check, main, wait_for

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
BAD_UNITS = ("_milliseconds", "_microseconds", "_nanoseconds", "_minutes", "_hours", "_days",
             "_kilobytes", "_megabytes", "_gigabytes", "_millis", "_ms")


def parse(text):
    """{family: {"type", "help", "samples": {labels-tuple: value}}}; raises on any violation."""
    if not text.endswith("\n"):
        raise ValueError("the exposition does not end with a newline")
    fams, order, current = {}, [], None
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (no, line)
        if not line.strip():
            raise ValueError("%s: empty line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    raise ValueError("%s: bad metric name" % where)
                f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
                if f["samples"]:
                    raise ValueError("%s: %s after the family's samples" % (where, parts[1]))
                key = parts[1].lower()
                if f[key] is not None:
                    raise ValueError("%s: second %s for %s" % (where, parts[1], name))
                value = parts[3] if len(parts) == 4 else ""
                if key == "type" and value not in TYPES:
                    raise ValueError("%s: unknown type" % where)
                if key == "help" and re.search(r"\\[^\\n]", value):
                    raise ValueError("%s: bad escape in HELP" % where)
                f[key] = value
                if name != current:
                    if name in order:
                        raise ValueError("%s: family %s is not contiguous" % (where, name))
                    order.append(name)
                    current = name
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)( -?\d+)?$", line)
        if not m:
            raise ValueError("%s: not a sample" % where)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name != current:
            raise ValueError("%s: sample outside its family (no TYPE/HELP before it)" % where)
        pairs = []
        if labels:
            body = labels[1:-1]
            pos = 0
            while pos < len(body):
                lm = LABEL.match(body, pos)
                if not lm:
                    raise ValueError("%s: bad label set" % where)
                pairs.append((lm.group(1), lm.group(2)))
                pos = lm.end()
                if pos < len(body):
                    if body[pos] != ",":
                        raise ValueError("%s: bad label separator" % where)
                    pos += 1
            if len({k for k, _ in pairs}) != len(pairs):
                raise ValueError("%s: repeated label" % where)
        if value not in ("+Inf", "-Inf", "NaN"):
            float(value)  # raises on anything else
        key = tuple(sorted(pairs))
        if key in fams[name]["samples"]:
            raise ValueError("%s: duplicate series" % where)
        fams[name]["samples"][key] = float(value)
    for name, f in fams.items():  # promtool's lint
        if f["help"] is None or not f["help"].strip():
            raise ValueError("%s has no HELP" % name)
        if f["type"] is None:
            raise ValueError("%s has no TYPE" % name)
        if f["type"] == "counter" and not name.endswith("_total"):
            raise ValueError("counter %s should end in _total" % name)
        if f["type"] != "counter" and name.endswith("_total"):
            raise ValueError("non-counter %s should not end in _total" % name)
        if name != name.lower() or any(u in name for u in BAD_UNITS):
            raise ValueError("%s: not snake_case in base units" % name)
        for v in f["samples"].values():
            if f["type"] == "counter" and (v < 0 or math.isnan(v)):
                raise ValueError("counter %s is %s" % (name, v))
    return fams


def fetch(node):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % node.port, timeout=10) as r:
        if not r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"):
            raise ValueError("Content-Type %s" % r.headers.get("Content-Type"))
        return r.read().decode()


def value(fams, name, **labels):
    return fams[name]["samples"].get(tuple(sorted(labels.items())))


def self_test():
    """The parser refuses what promtool refuses."""
    good = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
    parse(good)
    for bad, why in ((good[:-1], "no final newline"),
                     ("# TYPE a_total counter\na_total 1\n", "no HELP"),
                     ("# HELP a A.\n# TYPE a counter\na 1\n", "counter without _total"),
                     ("# HELP a A.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n", "duplicate"),
                     ("# HELP a A.\n# TYPE a gauge\na x\n", "value not a number"),
                     ("# HELP a A.\n# TYPE a gauge\nb 1\n", "sample of another family"),
                     ("# HELP a_ms A.\n# TYPE a_ms gauge\na_ms 1\n", "not in base units")):
        try:
            parse(bad)
        except ValueError:
            continue
        check(False, "the parser refuses: %s" % why)
    check(True, "the parser refuses what promtool refuses (%s)" % "7 cases")


def test():
    self_test()
    bindir = bindir_from_argv()
    node = Node(bindir).start()
    node.wait_height(2)
    node.rpc("chain_getSupply")
    for body in (b'{"jsonrpc":"2.0","id":1,"method":"nope"}', b"{not json",
                 b'{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":{"tx":"zz"}}'):
        node.rpc_raw(body)

    text = fetch(node)
    try:
        fams = parse(text)
    except ValueError as e:
        check(False, "the exposition is valid: %s" % e)
    check(True, "strict parse and promtool's lint rules: %d families" % len(fams))
    for name, typ in (("ssp_chain_height", "gauge"), ("ssp_chain_finalized_height", "gauge"),
                      ("ssp_mempool_txs", "gauge"), ("ssp_mempool_bytes", "gauge"),
                      ("ssp_rpc_requests_total", "counter"), ("ssp_rpc_connections", "gauge"),
                      ("ssp_blocks_produced_total", "counter")):
        check(name in fams and fams[name]["type"] == typ, "%s is a %s" % (name, typ))
    info = node.rpc("chain_getInfo")
    check(abs(value(fams, "ssp_chain_height") - info["height"]) <= 2,
          "ssp_chain_height follows the chain (%s vs %s)" %
          (value(fams, "ssp_chain_height"), info["height"]))
    check(value(fams, "ssp_chain_finalized_height") <= value(fams, "ssp_chain_height"),
          "finalized height <= height")
    check((value(fams, "ssp_rpc_requests_total", method="chain_getInfo", code="0") or 0) >= 1,
          "chain_getInfo counted with code 0")
    check(value(fams, "ssp_rpc_requests_total", method="unknown", code="-32601") == 1,
          "an unknown method counted as method=unknown, code -32601")
    check(value(fams, "ssp_rpc_requests_total", method="invalid", code="-32700") == 1,
          "a parse error counted as method=invalid, code -32700")
    check(value(fams, "ssp_rpc_requests_total", method="tx_submit", code="-32602") == 1,
          "tx_submit with bad params counted with -32602")
    check(value(fams, "ssp_rpc_connections") >= 1, "the scraping connection is in flight")

    h0 = value(fams, "ssp_chain_height")
    wait_for(lambda: value(parse(fetch(node)), "ssp_chain_height") > h0, 10,
             "ssp_chain_height to move")
    check(True, "ssp_chain_height moves with the chain")
    promtool = shutil.which("promtool")
    check(promtool is not None or EMULATOR,
          "promtool is installed (Debian prometheus; scripts/install-deps.sh installs it)")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, "promtool check metrics: %s" % (r.stdout + r.stderr).strip())
    else:
        print("promtool not installed: the strict parser above stands in for it")
    check(node.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
