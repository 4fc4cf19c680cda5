#!/usr/bin/env python3
"""Re-derives tests/vectors/smt_kat.json from docs/internals/state.md alone
(an independent implementation of the state tree and of the proof format):
for each set, the root recomputed from its entries; for each listed key, the
proof rebuilt from the tree by walking the key's path must be byte for byte
the vector's, and the verifier below must accept it (present with the
entry's value, or absent) and reject it with any single byte changed,
truncated or padded. Usage: smt_kat_check.py tests/vectors/smt_kat.json"""
import hashlib
import json
import sys


def sha(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def bit(p, i):
    return (p[i // 8] >> (7 - i % 8)) & 1


def tree(leaves, d):
    """(hash, kind, payload) of the compacted tree over sorted [(path, value_hash)]."""
    if not leaves:
        return bytes(32)
    if len(leaves) == 1:
        p, vh = leaves[0]
        return sha(b"\0", p, vh)
    left = [x for x in leaves if not bit(x[0], d)]
    right = [x for x in leaves if bit(x[0], d)]
    return sha(b"\1", tree(left, d + 1), tree(right, d + 1))


def prove(leaves, path):
    """The proof bytes for path, walking down as a node would."""
    sibs, d = [], 0
    while True:
        if not leaves:
            kind, tail = 1, b""
            break
        if len(leaves) == 1:
            p, vh = leaves[0]
            kind, tail = (0, vh) if p == path else (2, p + vh)
            break
        left = [x for x in leaves if not bit(x[0], d)]
        right = [x for x in leaves if bit(x[0], d)]
        if bit(path, d):
            sibs.append(tree(left, d + 1))
            leaves = right
        else:
            sibs.append(tree(right, d + 1))
            leaves = left
        d += 1
    bm = bytearray((d + 7) // 8)
    body = b""
    for i, s in enumerate(sibs):
        if s != bytes(32):
            bm[i // 8] |= 1 << (i % 8)
            body += s
    return bytes([kind, d & 255, d >> 8]) + bytes(bm) + body + tail


def verify(root, key, value, proof):
    if len(proof) < 3:
        return False
    kind, depth = proof[0], proof[1] | proof[2] << 8
    if kind > 2 or depth > 256:
        return False
    nb = (depth + 7) // 8
    bm, off = proof[3:3 + nb], 3 + nb
    if len(bm) != nb or (depth % 8 and bm[-1] >> (depth % 8)):
        return False
    sibs = []
    for i in range(depth):
        if bm[i // 8] >> (i % 8) & 1:
            s = proof[off:off + 32]
            off += 32
            if len(s) != 32 or s == bytes(32):
                return False
            sibs.append(s)
        else:
            sibs.append(bytes(32))
    tail, path = proof[off:], sha(key)
    if kind == 0:
        if len(tail) != 32 or value is None or sha(value) != tail:
            return False
        h = sha(b"\0", path, tail)
    elif kind == 1:
        if tail or value is not None:
            return False
        h = bytes(32)
    else:
        other = tail[:32]
        if len(tail) != 64 or value is not None or other == path or any(
                bit(other, i) != bit(path, i) for i in range(depth)):
            return False
        h = sha(b"\0", other, tail[32:])
    if depth and sibs[depth - 1] == bytes(32):
        return False
    for i in reversed(range(depth)):
        h = sha(b"\1", sibs[i], h) if bit(path, i) else sha(b"\1", h, sibs[i])
    return h == root


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
