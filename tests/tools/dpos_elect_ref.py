#!/usr/bin/env python3
"""An independent reference of the election (ssp_dpos_elect, src/modules/dpos_elect.c;
docs/internals/dpos.md): top set_size - standby by weight (ties by id ascending), then
`standby` drawn without replacement, weight-proportionally, from ranks
set_size-standby+1..max_rank, draw i using SHA-256("ssp-dpos-standby" | seed | u32le i |
u32le attempt) read as u64le, rejection-sampled. Prints the fixed vectors test_dpos.c pins:
ids 1..12 (20-byte ids of that byte repeated), weights 10*id, id 6 weighing 50, id 12 0."""
import hashlib
import struct
import sys


def elect(cands, set_size, standby, max_rank, seed):
    s = sorted([c for c in cands if c[1] > 0], key=lambda c: (-c[1], c[0]))
    top = set_size - standby
    out = s[:top]
    pool = s[top:min(len(s), max_rank)]
    for i in range(standby):
        if not pool:
            break
        total = sum(w for _, w in pool)
        rem = (2**64) % total
        attempt = 0
        while True:
            h = hashlib.sha256(b"ssp-dpos-standby" + seed + struct.pack("<II", i, attempt))
            x = struct.unpack("<Q", h.digest()[:8])[0]
            if rem == 0 or x < 2**64 - rem:
                break
            attempt += 1
        x %= total
        j = 0
        while x >= pool[j][1]:
            x -= pool[j][1]
            j += 1
        out.append(pool.pop(j))
    return out


# what tests/unit/test_dpos.c (test_election) pins
PINNED = {0x42: [11, 10, 9, 6, 8], 0x07: [11, 10, 9, 8, 7]}


def main():
    cands = [(bytes([i]) * 20, 10 * i) for i in range(1, 13)]
    cands[5] = (cands[5][0], 50)
    cands[11] = (cands[11][0], 0)
    ok = True
    for fill, want in PINNED.items():
        got = [c[0][0] for c in elect(cands, 5, 2, 8, bytes([fill]) * 32)]
        print("seed %#04x: %s%s" % (fill, got, "" if got == want else " != pinned %s" % want))
        ok = ok and got == want
    top4 = [c[0][0] for c in elect(cands, 4, 0, 10, b"\x42" * 32)]
    ok = ok and top4 == [11, 10, 9, 8]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
