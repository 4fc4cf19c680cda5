#!/usr/bin/env python3
"""Browser access (issue 13): `--rpc-cors ORIGIN[,ORIGIN]` (and the INI key
rpc-cors) answers preflight OPTIONS and sets Access-Control-* on replies for
the origins it lists; any other Origin is refused with 403 before anything
runs (also by default); requests without Origin are served as before. The
node keeps producing through a flood of refused preflights."""
import http.client
import json
import os

from sspnode import Node, bindir_from_argv, check, main, tempdir

CALL = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "chain_getInfo"})


def request(node, method, path="/rpc", origin=None, body=None, extra=None):
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    headers.update(extra or {})
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def test():
    bindir = bindir_from_argv()
    ini = os.path.join(tempdir(), "node.ini")
    with open(ini, "w") as f:
        f.write("rpc-cors = http://localhost:5173, https://dapp.example\n")
    node = Node(bindir, extra=["--config", ini]).start()
    check("CORS:        http://localhost:5173, https://dapp.example" in node.logtext(),
          "the banner lists the allowed origins (from the INI key rpc-cors)")

    pre = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "content-type"}
    st, h, _ = request(node, "OPTIONS", origin="https://dapp.example", extra=pre)
    check(st == 204 and h.get("access-control-allow-origin") == "https://dapp.example" and
          "POST" in h.get("access-control-allow-methods", "") and
          "Content-Type" in h.get("access-control-allow-headers", "") and
          h.get("access-control-max-age") == "600",
          "allowed origin: preflight 204 with Access-Control-Allow-* (%d %s)" % (st, h))
    st, h, body = request(node, "POST", origin="http://localhost:5173", body=CALL)
    check(st == 200 and h.get("access-control-allow-origin") == "http://localhost:5173" and
          h.get("vary") == "Origin" and json.loads(body)["result"]["chain_id"] == "ssp-devnet",
          "allowed origin: the call is answered with Access-Control-Allow-Origin and Vary")
    st, h, _ = request(node, "GET", path="/health", origin="https://dapp.example")
    check(st == 200 and h.get("access-control-allow-origin") == "https://dapp.example",
          "allowed origin: /health carries the header too")

    st, h, body = request(node, "OPTIONS", origin="https://evil.example", extra=pre)
    check(st == 403 and "access-control-allow-origin" not in h and
          json.loads(body)["error"]["code"] == -32600,
          "refused origin: preflight 403, no Access-Control-Allow-Origin")
    st, h, body = request(node, "POST", origin="https://evil.example", body=CALL)
    check(st == 403 and "access-control-allow-origin" not in h and
          "origin not allowed" in json.loads(body)["error"]["message"],
          "refused origin: the call is refused with 403 before it runs")
    st, h, body = request(node, "POST", origin="https://dapp.example.evil.example", body=CALL)
    check(st == 403, "an origin that only starts like an allowed one is refused")
    st, h, body = request(node, "POST", body=CALL)
    check(st == 200 and "access-control-allow-origin" not in h,
          "no Origin (curl, ssp): served, no CORS headers")

    # a flood of refused preflights and calls: the node keeps producing
    h0 = node.height()
    for i in range(300):
        request(node, "OPTIONS" if i % 2 else "POST", origin="https://evil%d.example" % i,
                body=None if i % 2 else CALL, extra=pre)
    node.wait_height(h0 + 2)
    check(True, "300 refused cross-origin requests: the node keeps producing")
    check(node.stop() == 0, "node stops cleanly")

    # the default: no origin allowed; '*' allows any
    plain = Node(bindir).start()
    st, _, _ = request(plain, "POST", origin="http://localhost:5173", body=CALL)
    check(st == 403, "default (no --rpc-cors): a cross-origin call is refused")
    check(plain.stop() == 0, "node stops cleanly")
    star = Node(bindir, extra=["--rpc-cors", "*"]).start()
    st, h, _ = request(star, "POST", origin="http://anything.example", body=CALL)
    check(st == 200 and h.get("access-control-allow-origin") == "http://anything.example",
          "--rpc-cors '*': any origin, echoed")
    check(star.stop() == 0, "node stops cleanly")


if __name__ == "__main__":
    main(test)
