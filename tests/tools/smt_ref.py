"""The state tree and its proof format written from docs/internals/state.md
alone, independently of the C code (test infrastructure): the compacted
tree's root over sorted (path, value hash) leaves, the proof a node would
give for a path, and the verifier. Used by tests/tools/smt_kat_check.py
(the frozen vectors) and tests/functional/test_state_proof.py (a running
node's proofs)."""
import hashlib


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
    """True when `proof` shows state key `key` holds value (None: absent) under root."""
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
