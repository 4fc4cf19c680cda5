#!/usr/bin/env python3
"""A second implementation of the Smartshare wire formats, from
docs/internals/vectors.md alone, checked against tests/vectors/tx_kat.json:
keys -> public keys and addresses, tx fields -> payload and signed bytes,
the signing digest, signatures (Ed25519 re-signed, P-256 verified over the
digest as a prehashed SHA-256 value, low S), txids, block headers, block ids
and tx roots. It shares no code with the C implementation; the C unit test
is tests/unit/test_tx_vectors.c.

Usage: tx_kat_check.py [tests/vectors/tx_kat.json]
Needs python3-cryptography; exits 77 (skipped) without it."""
import hashlib
import json
import struct
import sys

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
except ImportError:
    print("skipped: python3-cryptography is not installed")
    sys.exit(77)

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sha256(b):
    return hashlib.sha256(b).digest()


def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", int(v))


def lp(b):  # u32 length + bytes
    return u32(len(b)) + b


def value(j):
    """Canonical value bytes of a JSON value (ssp/core.h "values")."""
    if j is None:
        return b"\x00"
    if j is False:
        return b"\x01"
    if j is True:
        return b"\x02"
    if isinstance(j, int):
        return b"\x03" + struct.pack("<q", j)
    if isinstance(j, str):
        return b"\x04" + lp(j.encode())
    items = list(enumerate(j, 1)) if isinstance(j, list) else list(j.items())
    ents = sorted((value(k), value(v)) for k, v in items)
    return b"\x05" + u32(len(ents)) + b"".join(k + v for k, v in ents)


def payload(t, f):
    a = bytes.fromhex
    if t == 1:  # transfer
        return a(f["to"]) + u64(f["amount"]) + lp(f["memo"].encode())
    if 0x10 <= t <= 0x15:  # token: u8 len + symbol, then per type
        p = u8(len(f["symbol"])) + f["symbol"].encode()
        if t == 0x10:
            name = f["name"].encode()
            return p + u8(len(name)) + name + u8(f["decimals"]) + u64(f["max_supply"]) + u32(f["flags"])
        if t in (0x11, 0x12):  # issue, transfer
            p += a(f["to"])
        elif t == 0x14:  # approve
            p += a(f["spender"])
        elif t == 0x15:  # transfer_from
            p += a(f["owner"]) + a(f["to"])
        return p + u64(f["amount"])  # and burn (0x13): the amount only
    assert value(f["args_json"]).hex() == f["args"], "args"
    if t == 0x20:  # deploy
        return u64(f["gas_limit"]) + lp(f["source"].encode()) + lp(a(f["args"]))
    if t == 0x21:  # call
        fn = f["function"].encode()
        return (a(f["contract"]) + u8(len(fn)) + fn + lp(a(f["args"])) + u64(f["value"])
                + u64(f["gas_limit"]))
    raise ValueError("type %d" % t)


def merkle(leaves):
    level = [sha256(b"\x00" + x) for x in leaves]
    if not level:
        return bytes(32)
    while len(level) > 1:
        nxt = [sha256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # carried up, never duplicated
        level = nxt
    return level[0]


def main():
    doc = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/tx_kat.json"))
    cid = doc["chain_id"].encode()
    keys = {}
    for k in doc["keys"]:
        sec = bytes.fromhex(k["secret"])
        if k["type"] == "ed25519":
            sk = ed25519.Ed25519PrivateKey.from_private_bytes(sec)
            pub = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
        else:
            sk = ec.derive_private_key(int.from_bytes(sec, "big"), ec.SECP256R1())
            pub = sk.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.CompressedPoint)
        assert pub.hex() == k["pubkey"], k["name"]
        addr = sha256(u8(k["type_id"]) + pub)[:20]
        assert addr.hex() == k["address"], k["name"]
        keys[k["name"]] = (k, sk, pub, addr)

    def signed_and_sig(v, tag, signed):
        k, sk, _, _ = keys[v["key"]]
        assert signed.hex() == v["signed"], v["name"] + ": signed bytes"
        digest = sha256(tag.encode() + b"\x00" + u8(len(cid)) + cid + signed)
        assert digest.hex() == v["digest"], v["name"] + ": digest"
        sig = bytes.fromhex(v["signature"])
        if k["type"] == "ed25519":
            assert sk.sign(digest) == sig, v["name"] + ": signature"
        else:
            r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            assert 0 < r < N and 0 < s <= N // 2, v["name"] + ": low S"
            sk.public_key().verify(utils.encode_dss_signature(r, s), digest,
                                   ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return signed + sig

    txids = {}
    for v in doc["txs"]:
        k, _, pub, addr = keys[v["key"]]
        pl = payload(v["type"], v["payload_fields"])
        assert pl.hex() == v["payload"], v["name"] + ": payload"
        signed = (u8(1) + u8(len(cid)) + cid + u16(v["type"]) + addr + u64(v["nonce"])
                  + u64(v["fee"]) + u64(v["expiry"]) + lp(pl))
        signed += u8(1) + u8(k["type_id"]) + pub if v["include_pubkey"] else u8(0)
        tx = signed_and_sig(v, doc["domains"]["tx"], signed)
        assert tx.hex() == v["tx"] and sha256(tx).hex() == v["txid"], v["name"] + ": txid"
        if "contract_address" in v:
            ca = sha256(b"ssp/contract/" + addr + u64(v["nonce"]))[:20]
            assert ca.hex() == v["contract_address"], v["name"] + ": contract address"
        txids[v["name"]] = sha256(tx)

    for h in doc["headers"]:
        a = bytes.fromhex
        assert merkle([txids[n] for n in h["txs"]]).hex() == h["tx_root"], h["name"] + ": root"
        signed = (u8(1) + u64(h["height"]) + a(h["prev_id"]) + u64(h["slot"])
                  + u64(h["timestamp_ms"]) + a(h["producer"]) + a(h["tx_root"])
                  + a(h["receipts_root"]) + a(h["state_root"]) + lp(a(h["seed_reveal"]))
                  + lp(a(h["finality_qc"])))
        hdr = signed_and_sig(h, doc["domains"]["block"], signed)
        assert hdr.hex() == h["header"] and sha256(hdr).hex() == h["block_id"], h["name"]
    print("ok: %d keys, %d txs, %d headers" % (len(keys), len(txids), len(doc["headers"])))


if __name__ == "__main__":
    main()
