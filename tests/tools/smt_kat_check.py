#!/usr/bin/env python3
"""Re-derives tests/vectors/smt_kat.json from docs/internals/state.md alone
(with smt_ref.py beside this file, an independent implementation of the state
tree and of the proof format): for each set, the root recomputed from its
entries; for each listed key, the proof rebuilt from the tree by walking the
key's path must be byte for byte the vector's, and the verifier must accept
it (present with the entry's value, or absent) and reject it with any single
byte changed, truncated or padded. Usage: smt_kat_check.py
tests/vectors/smt_kat.json"""
import json
import sys

from smt_ref import prove, sha, tree, verify  # beside this file: on sys.path when run


def main():
    doc = json.load(open(sys.argv[1]))
    bad = 0
    nproofs = 0
    for si, s in enumerate(doc["sets"]):
        kv = {bytes.fromhex(e["key"]): bytes.fromhex(e["value"]) for e in s["entries"]}
        leaves = sorted((sha(k), sha(v)) for k, v in kv.items())
        root = tree(leaves, 0)
        if root.hex() != s["root"]:
            print("set %d: root %s, vector says %s" % (si, root.hex(), s["root"]))
            bad += 1
        for p in s["proofs"]:
            key, proof = bytes.fromhex(p["key"]), bytes.fromhex(p["proof"])
            value = kv.get(key)
            nproofs += 1
            if (value is not None) != p["present"]:
                print("set %d key %s: present flag wrong" % (si, p["key"]))
                bad += 1
            if prove(leaves, sha(key)) != proof:
                print("set %d key %s: proof bytes differ" % (si, p["key"]))
                bad += 1
            if not verify(root, key, value, proof):
                print("set %d key %s: proof does not verify" % (si, p["key"]))
                bad += 1
            for j in range(len(proof)):
                t = bytearray(proof)
                t[j] ^= 0x01
                if verify(root, key, value, bytes(t)):
                    print("set %d key %s: byte %d changed still verifies" % (si, p["key"], j))
                    bad += 1
            if verify(root, key, value, proof[:-1]) or verify(root, key, value, proof + b"\0"):
                print("set %d key %s: truncated or padded proof verifies" % (si, p["key"]))
                bad += 1
    print("%d sets, %d proofs: %s" % (len(doc["sets"]), nproofs, "FAIL" if bad else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
