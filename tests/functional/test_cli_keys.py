"""The ssp CLI's key commands, black box and without a node: key new (both
types), list, show, import of PEMs made by `openssl genpkey`, keystore file
modes, name rules, the one-line error contract, and that `transfer` unlocks
the key before it contacts the node (wrong password and corrupted keystores
fail first and leave the file untouched). Addresses are re-derived here
from the public keys (SHA-256(type || pubkey)[:20], bech32m) rather than
trusted. Every ssp run is detached from the terminal, so nothing can block
on a password prompt. Standard library only."""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import time

from sspnode import EMULATOR, Failure, bindir_from_argv, check, main, tempdir

UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1
HRPS = {"dev": "dssp", "test": "tssp", "main": "ssp"}
KEY_TYPES = {"ed25519": 1, "p256": 2}

# ------------------------------------------------------------ bech32m (BIP-350)
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32m(hrp, data):
    bits, acc, five = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _polymod(exp + five + [0] * 6) ^ 0x2BC830A3
    return hrp + "1" + "".join(CHARSET[d] for d in five + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])


def address_of(key_type, pubkey_hex, network="dev"):
    h = hashlib.sha256(bytes([KEY_TYPES[key_type]]) + bytes.fromhex(pubkey_hex)).digest()
    return bech32m(HRPS[network], h[:20])


# ------------------------------------------------------------------ running ssp
class Ssp:
    def __init__(self, exe, keystore):
        self.exe = exe
        self.keystore = keystore

    def run(self, *args, password="pw", env=None, keystore=True, rpc=UNREACHABLE):
        cmd = EMULATOR + [self.exe]
        if rpc:
            cmd += ["--rpc", rpc]
        if keystore:
            cmd += ["--keystore", self.keystore]
        cmd += list(args)
        e = dict(os.environ)
        e.pop("SSP_PASSWORD", None)
        e.pop("SSP_KEYSTORE", None)
        e.pop("SSP_RPC", None)
        if password is not None:
            e["SSP_PASSWORD"] = password
        e.update(env or {})
        # a new session has no controlling terminal: a prompt fails instead of hanging
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=e,
                           start_new_session=True)
        r.args = cmd
        return r

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        if r.returncode != 0:
            raise Failure("%s exited %d: %s" % (" ".join(r.args), r.returncode, r.stderr.strip()))
        return r

    def json(self, *args, **kw):
        r = self.ok("--json", *args, **kw)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise Failure("%s printed no single JSON document: %r" % (" ".join(r.args), r.stdout))

    def fails(self, what, *args, code=None, contains=(), absent=(), **kw):
        """Runs a command that must fail with exactly one error line; returns that line."""
        r = self.run(*args, **kw)
        lines = r.stderr.splitlines()
        check(r.returncode != 0 and (code is None or r.returncode == code),
              "%s: exit %s (got %d)" % (what, code if code is not None else "!= 0", r.returncode))
        check(len(lines) == 1 and lines[0].startswith("ssp: error: "),
              "%s: one 'ssp: error:' line on stderr (got %r)" % (what, r.stderr))
        check(r.stdout == "", "%s: nothing on stdout (got %r)" % (what, r.stdout))
        low = lines[0].lower()
        for word in contains:
            check(word.lower() in low, "%s: error mentions %r (%s)" % (what, word, lines[0]))
        for word in absent:
            check(word.lower() not in low, "%s: error does not mention %r (%s)" % (what, word, lines[0]))
        return lines[0]


def human_fields(text):
    """Parses aligned 'label: value' lines; checks the values start in one column."""
    fields, cols = {}, set()
    for line in text.splitlines():
        m = re.match(r"^([a-z_.]+):( +)(.*)$", line)
        if not m:
            raise Failure("not a 'label: value' line: %r" % line)
        fields[m.group(1)] = m.group(3)
        cols.add(len(m.group(1)) + 1 + len(m.group(2)))
    check(len(cols) == 1, "human output is aligned in one column (%s)" % sorted(cols))
    return fields


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=30)
    if r.returncode != 0:
        raise Failure("openssl %s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
    return r.stdout


def spki_pubkey(pem_path, size, *extra):
    """The raw public key at the end of the PEM key's SubjectPublicKeyInfo."""
    der = openssl("pkey", "-in", pem_path, "-pubout", "-outform", "DER", *extra)
    return der[-size:].hex()


# ------------------------------------------------------------------------ tests
def test_basics(ssp):
    r = ssp.ok("--version")
    check(re.match(r"^ssp \d+\.\d+\.\d+\n$", r.stdout) is not None, "--version prints 'ssp X.Y.Z'")
    r = ssp.ok("--help")
    check("key new" in r.stdout and "transfer" in r.stdout and "--keystore" in r.stdout,
          "--help lists the commands and global options")
    r = ssp.ok("key", "show", "-h")
    check(r.stdout.startswith("usage: ssp key show NAME"), "a command's -h shows its usage")
    ssp.fails("no command", code=2, contains=["no command"])
    ssp.fails("unknown command", "frobnicate", code=2, contains=["frobnicate"])
    ssp.fails("key without subcommand", "key", code=2, contains=["subcommand"])
    ssp.fails("unknown option", "key", "list", "--bogus", code=2, contains=["--bogus"])
    ssp.fails("option twice", "--json", "key", "list", "--json", code=2, contains=["twice"])
    ssp.fails("bad --network", "--network", "mars", "key", "list", code=2, contains=["mars"])
    ssp.fails("bad --timeout", "--timeout", "soon", "key", "list", code=2, contains=["timeout"])
    ssp.fails("key show without name", "key", "show", code=2)
    ssp.fails("key show extra argument", "key", "show", "a", "b", code=2, contains=["'b'"])
    r = ssp.ok("key", "list")
    check(r.stdout.startswith("(no keys in "), "key list on a missing keystore dir says it is empty")
    check(ssp.json("key", "list") == [], "key list --json on a missing keystore dir is []")
    check(not os.path.exists(ssp.keystore), "listing does not create the keystore directory")


def test_new(ssp):
    keys = {}
    a = ssp.json("key", "new", "--name", "alice", "--network", "dev")
    check(set(a) == {"name", "type", "address", "pubkey", "path"}, "key new --json has the 5 fields")
    check(a["name"] == "alice" and a["type"] == "ed25519", "default key type is ed25519")
    check(re.fullmatch(r"[0-9a-f]{64}", a["pubkey"]) is not None, "ed25519 pubkey is 32 bytes hex")
    check(a["path"] == os.path.join(ssp.keystore, "alice"), "keystore file is DIR/NAME")
    check(a["address"] == address_of("ed25519", a["pubkey"]), "ed25519 address = bech32m(sha256(1||pk)[:20])")
    check(stat.S_IMODE(os.stat(ssp.keystore).st_mode) == 0o700, "keystore directory created 0700")
    check(stat.S_IMODE(os.stat(a["path"]).st_mode) == 0o600, "keystore file is 0600")
    doc = json.loads(file_bytes(a["path"]))
    check(doc.get("version") == 1 and doc.get("pubkey") == a["pubkey"] and "cipher" in doc,
          "keystore file is the documented JSON with the public key")
    keys["alice"] = a

    # global options after the command, human output
    r = ssp.ok("key", "new", "--name", "bob", "--type", "p256", "--network", "dev")
    b = human_fields(r.stdout)
    check(list(b) == ["name", "type", "address", "pubkey", "path"], "key new prints name/type/address/pubkey/path")
    check(b["type"] == "p256" and re.fullmatch(r"0[23][0-9a-f]{64}", b["pubkey"]) is not None,
          "p256 pubkey is 33-byte compressed SEC1")
    check(b["address"] == address_of("p256", b["pubkey"]), "p256 address = bech32m(sha256(2||pk)[:20])")
    keys["bob"] = b

    # the rules for names
    for bad in (".hidden", "a/b", "x" * 65, "", "sp ace", "ü"):
        ssp.fails("invalid name %r" % bad, "key", "new", "--name", bad, code=2, contains=["name"])
    ssp.fails("missing --name", "key", "new", code=2, contains=["--name"])
    ssp.fails("unknown --type", "key", "new", "--name", "c", "--type", "rsa", code=2, contains=["rsa"])
    check(sorted(os.listdir(ssp.keystore)) == ["alice", "bob"], "rejected names wrote nothing")
    edge = ssp.json("--network", "dev", "key", "new", "--name", "A_b-1." + "z" * 58)
    check(edge["name"] == "A_b-1." + "z" * 58, "a 64-character name with _ - . is accepted")
    os.unlink(edge["path"])

    # duplicate: an error, and the existing file is untouched
    before = file_bytes(a["path"])
    ssp.fails("duplicate name", "key", "new", "--name", "alice", code=1, contains=["already exists"])
    ssp.fails("duplicate name (p256)", "key", "new", "--name", "alice", "--type", "p256",
              contains=["already exists"])
    check(file_bytes(a["path"]) == before, "the existing keystore file is unchanged")
    return keys


def test_show_list(ssp, keys):
    for name, k in keys.items():
        s = ssp.json("key", "show", name, "--network", "dev")
        check(s == {"name": name, "type": k["type"], "address": k["address"], "pubkey": k["pubkey"],
                    "path": os.path.join(ssp.keystore, name)}, "key show %s matches key new" % name)
        f = human_fields(ssp.ok("key", "show", name, "--network", "dev").stdout)
        check(f == s, "human key show %s has the same fields" % name)
    for net in ("test", "main"):
        s = ssp.json("--network", net, "key", "show", "alice")
        check(s["address"] == address_of("ed25519", keys["alice"]["pubkey"], net)
              and s["address"].startswith(HRPS[net] + "1"), "--network %s prints %s1 addresses" % (net, HRPS[net]))
    s = ssp.json("key", "show", "alice")
    check(s["address"] == keys["alice"]["address"], "with no --network and no node the HRP is dev's")
    r = ssp.ok("key", "show", "alice", "--network", "dev", keystore=False,
               env={"SSP_KEYSTORE": ssp.keystore})
    check(keys["alice"]["address"] in r.stdout, "SSP_KEYSTORE selects the keystore")
    ssp.fails("show unknown key", "key", "show", "nobody", code=1, contains=["nobody"])
    ssp.fails("show invalid name", "key", "show", "../etc", code=2, contains=["name"])
    check(ssp.run("key", "show", "alice", "--network", "dev", password=None).returncode == 0,
          "key show needs no password")

    # list: sorted, one line per key; malformed files listed, not fatal; others skipped
    with open(os.path.join(ssp.keystore, "0junk"), "w") as f:
        f.write("this is not a keystore\n")
    with open(os.path.join(ssp.keystore, ".hidden"), "w") as f:
        f.write("{}")
    os.mkdir(os.path.join(ssp.keystore, "subdir"))
    lines = ssp.ok("key", "list", "--network", "dev", password=None).stdout.splitlines()
    check([ln.split()[0] for ln in lines] == ["0junk", "alice", "bob"],
          "key list: sorted names, hidden files and directories skipped (%r)" % lines)
    check(lines[0].split()[1:] == ["(malformed)"], "a malformed file is listed as (malformed)")
    check(lines[1].split()[1:] == ["ed25519", keys["alice"]["address"]]
          and lines[2].split()[1:] == ["p256", keys["bob"]["address"]], "key list shows type and address")
    lst = ssp.json("key", "list", "--network", "dev")
    check([k["name"] for k in lst] == ["0junk", "alice", "bob"] and lst[0].get("malformed") is True
          and lst[1]["address"] == keys["alice"]["address"], "key list --json matches")
    ssp.fails("show malformed", "key", "show", "0junk", code=1, contains=["malformed"])
    os.unlink(os.path.join(ssp.keystore, "0junk"))
    os.unlink(os.path.join(ssp.keystore, ".hidden"))
    os.rmdir(os.path.join(ssp.keystore, "subdir"))


def test_import(ssp, work):
    ed_pem = os.path.join(work, "ed.pem")
    p_pem = os.path.join(work, "p256.pem")
    rsa_pem = os.path.join(work, "rsa.pem")
    openssl("genpkey", "-algorithm", "ed25519", "-out", ed_pem)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p_pem)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", rsa_pem)
    expect = {
        "ed": ("ed25519", spki_pubkey(ed_pem, 32)),
        "pee": ("p256", spki_pubkey(p_pem, 33, "-ec_conv_form", "compressed")),
    }
    for name, pem in (("ed", ed_pem), ("pee", p_pem)):
        r = ssp.ok("key", "import", "--name", name, "--pem", pem, "--network", "dev")
        imp = human_fields(r.stdout)
        ktype, pub = expect[name]
        check(imp["type"] == ktype and imp["pubkey"] == pub,
              "import %s: type and public key are the PEM's (openssl agrees)" % ktype)
        check(imp["address"] == address_of(ktype, pub), "import %s: address derived from the PEM key" % ktype)
        show = ssp.json("key", "show", name, "--network", "dev")
        check(show["address"] == imp["address"], "import %s: key show prints the same address" % ktype)
    again = ssp.json("key", "import", "--name", "ed2", "--pem", ed_pem, "--network", "dev")
    check(again["address"] == address_of(*expect["ed"]), "importing the same PEM again gives the same address")
    with open(p_pem) as f:
        r = subprocess.run(EMULATOR + [ssp.exe, "--keystore", ssp.keystore, "--rpc", UNREACHABLE, "--json",
                            "--network", "dev", "key", "import", "--name", "fromstdin", "--pem", "-"],
                           stdin=f, capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, SSP_PASSWORD="pw"), start_new_session=True)
    check(r.returncode == 0 and json.loads(r.stdout)["address"] == address_of(*expect["pee"]),
          "--pem - reads the key from stdin")

    ssp.fails("import RSA", "key", "import", "--name", "rsa", "--pem", rsa_pem, code=1,
              contains=["PEM"])
    check(not os.path.exists(os.path.join(ssp.keystore, "rsa")), "a failed import writes no file")
    junk = os.path.join(work, "junk.pem")
    with open(junk, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----\n")
    ssp.fails("import garbage PEM", "key", "import", "--name", "junk", "--pem", junk, contains=["PEM"])
    big = os.path.join(work, "big.pem")
    with open(big, "wb") as f:
        f.write(file_bytes(ed_pem) + b"#" * (64 * 1024))
    ssp.fails("import oversized file", "key", "import", "--name", "big", "--pem", big, contains=["larger"])
    ssp.fails("import missing file", "key", "import", "--name", "gone", "--pem",
              os.path.join(work, "nope.pem"), contains=["nope.pem"])
    ssp.fails("import without --pem", "key", "import", "--name", "x", code=2, contains=["--pem"])
    ssp.fails("import onto existing name", "key", "import", "--name", "alice", "--pem", ed_pem,
              contains=["already exists"])


def test_passwords(ssp, keys):
    # no SSP_PASSWORD and no terminal: a clear error, not a hang
    ssp.fails("no password source", "key", "new", "--name", "nopw", password=None, contains=["SSP_PASSWORD"])
    check(not os.path.exists(os.path.join(ssp.keystore, "nopw")), "no file without a password")

    # empty password: allowed, with a warning (and the key then unlocks with "")
    r = ssp.run("key", "new", "--name", "empty", "--network", "dev", password="")
    warn = r.stderr.splitlines()
    check(r.returncode == 0 and len(warn) == 1 and warn[0].startswith("ssp: warning:")
          and "empty" in warn[0], "an empty password works but warns (%r)" % r.stderr)

    bob = keys["bob"]["address"]
    xfer = ("transfer", "--from", "alice", "--to", bob, "--amount", "1")
    alice_path = os.path.join(ssp.keystore, "alice")
    before = file_bytes(alice_path)
    ssp.fails("wrong password", *xfer, password="wrong", code=1, contains=["password"], absent=["connect"])
    # the right password gets past the key, so now the (unreachable) node is the problem
    ssp.fails("right password, no node", *xfer, code=1, contains=["connect"])
    ssp.fails("empty password, no node", "transfer", "--from", "empty", "--to", bob, "--amount", "1",
              password="", contains=["connect"])
    ssp.fails("empty-password key, wrong password", "transfer", "--from", "empty", "--to", bob,
              "--amount", "1", password="x", contains=["password"])
    check(file_bytes(alice_path) == before, "failed transfers leave the keystore file unchanged")

    # argument errors are found before any password is asked for
    for amount in ("1.123456789", "-1", "abc", "0", "1e3", ""):
        ssp.fails("transfer --amount %r" % amount, "transfer", "--from", "alice", "--to", bob,
                  "--amount", amount, password=None, code=2, contains=["amount"])
    ssp.fails("transfer memo > 256 bytes", *xfer, "--memo", "m" * 257, password=None, code=2, contains=["memo"])
    ssp.fails("transfer without --to", "transfer", "--from", "alice", "--amount", "1", password=None,
              code=2, contains=["--to"])
    ssp.fails("transfer --expiry-blocks 0", *xfer, "--expiry-blocks", "0", password=None, code=2,
              contains=["expiry"])
    ssp.fails("transfer from unknown key", "transfer", "--from", "nobody", "--to", bob, "--amount", "1",
              password=None, contains=["nobody"])
    ssp.fails("--json error", "--json", *xfer, password="wrong", contains=["password"])


def test_corrupted(ssp):
    victim = ssp.json("key", "new", "--name", "victim", "--network", "dev")
    path = victim["path"]
    doc = json.loads(file_bytes(path))
    ct = bytearray(bytes.fromhex(doc["cipher"]["ciphertext"]))
    ct[0] ^= 0xFF
    ct[len(ct) // 2] ^= 0x01
    doc["cipher"]["ciphertext"] = ct.hex()
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    corrupted = file_bytes(path)

    show = ssp.json("key", "show", "victim", "--network", "dev")
    check(show["address"] == victim["address"] and show["pubkey"] == victim["pubkey"],
          "key show still works on a keystore with a corrupted ciphertext")
    ssp.fails("transfer from a corrupted keystore", "transfer", "--from", "victim", "--to",
              victim["address"], "--amount", "1", code=1, contains=["password", "corrupt"], absent=["connect"])
    check(file_bytes(path) == corrupted, "the corrupted keystore file is left byte-for-byte as it was")
    lines = ssp.ok("key", "list", "--network", "dev").stdout.splitlines()
    check(any(ln.split()[:2] == ["victim", "ed25519"] for ln in lines), "key list still lists it")


def test():
    started = time.time()
    bindir = bindir_from_argv()
    exe = os.path.join(bindir, "ssp")
    check(os.access(exe, os.X_OK), "ssp binary at %s" % exe)
    if not shutil.which("openssl"):
        raise Failure("the openssl command is needed (apt-get install openssl)")
    work = tempdir("ssp-cli-keys-")
    ssp = Ssp(exe, os.path.join(work, "wallet", "keys"))  # neither level exists yet

    test_basics(ssp)
    keys = test_new(ssp)
    test_show_list(ssp, keys)
    test_import(ssp, work)
    test_passwords(ssp, keys)
    test_corrupted(ssp)
    elapsed = time.time() - started
    check(elapsed < 60, "finished in %.1f s (< 60 s)" % elapsed)


if __name__ == "__main__":
    main(test)
