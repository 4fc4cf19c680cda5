"""The device registry end to end on a devnet (issue #11), through the CLI and
RPC of real processes: a manufacturer registers and the devnet's producer
approves it (its keystore signs, another account pays); a model is published;
a device key is made — a P-256 key inside a real SoftHSM2 token (ssp-agent
csr) and one in a keystore — and certified offline (`ssp mfr certify`); the
keystore device is funded, enrolls itself, gets claimed with the secret from
its box, attests, is transferred and revoked; every refusal on the way is
the chain's own error (forged certificate, second enrollment, wrong claim
secret, counter that does not grow, a stranger's transfer); the token
device's certificate names the token's key. Finally the node restarts and
the registry reads the same."""
import hashlib
import os
import subprocess

from sspnode import EMULATOR, Cli, Node, bindir_from_argv, check, command, main, softhsm_token, tempdir


def agent_csr(bindir):
    """A SoftHSM2 token with an ssp-agent key; returns (csr text, its directory, env)."""
    d, env = softhsm_token()
    agent = command(bindir, "ssp-agent")
    subprocess.run(agent + ["init", "--uri", "pkcs11:token=dev-0001", "--pin", "1234"], env=env,
                   check=True, capture_output=True, timeout=60)
    r = subprocess.run(agent + ["csr", "--uri", "pkcs11:token=dev-0001", "--pin", "1234"],
                       env=env, check=True, capture_output=True, text=True, timeout=60)
    return r.stdout, d, env


def token_device(bindir, node, dev, carol, fw1):
    """A P-256 key inside a SoftHSM2 token: certified from `ssp-agent csr`, enrolled,
    attesting with the token's counter and paying through ssp-agent."""
    # a device key inside a SoftHSM2 token, certified from its csr
    csr, hsm, henv = agent_csr(bindir)
    csr_file = os.path.join(hsm, "csr.txt")
    with open(csr_file, "w") as f:
        f.write(csr)
    c = dev.run("mfr", "certify", "--from", "dev", "--name", "ACME", "--model", "AC-1",
                "--serial", "HSM-0001", "--device-pubkey", csr_file)
    agent_addr = [l.split()[-1] for l in csr.splitlines() if l.startswith("address:")][0]
    check(c["device"] == agent_addr, "the certificate names the token's key (%s)" % agent_addr)
    check(len(c["claim_secret"]) == 32, "a generated 128-bit claim secret")

    # the token device enrolls itself through ssp-agent (its key never leaves SoftHSM2),
    # attests with the token's counter and pays from its own wallet
    hsm_cert = os.path.join(hsm, "hsm.cert")
    dev.run("mfr", "certify", "--from", "dev", "--name", "ACME", "--model", "AC-1",
            "--serial", "HSM-0002", "--device-pubkey", csr_file, "--claim-secret", "in the box",
            "--out", hsm_cert)
    dev.run("transfer", "--from", "dev", "--to", agent_addr, "--amount", "3", "--wait")

    def agent(*args):
        return subprocess.run(command(bindir, "ssp-agent") + list(args) + [
            "--uri", "pkcs11:token=dev-0001", "--pin", "1234", "--rpc", node.url, "--json"],
            env=henv, capture_output=True, text=True, timeout=120)

    r = agent("enroll", "--cert", hsm_cert, "--wait")
    check(r.returncode == 0, "ssp-agent enroll: %s" % (r.stdout + r.stderr).strip())
    check(dev.run("device", "show", agent_addr)["serial"] == "HSM-0002",
          "the token device is on chain")
    r = agent("enroll", "--cert", hsm_cert, "--wait")
    check(r.returncode == 1 and "already enrolled" in r.stderr,
          "ssp-agent enroll again: refused (%r)" % r.stderr.strip())
    for want in (1, 2):
        r = agent("attest", "--firmware-hash", fw1, "--wait")
        check(r.returncode == 0 and '"counter": %d' % want in r.stdout.replace('"counter":', '"counter": '),
              "ssp-agent attest #%d: %s" % (want, (r.stdout + r.stderr).strip()))
    check(dev.run("device", "show", agent_addr)["last_attestation"]["counter"] == 2,
          "the chain holds the token's counter 2")
    r = agent("transfer", "--to", carol, "--amount", "0.5", "--wait")
    check(r.returncode == 0, "ssp-agent transfer: %s" % (r.stdout + r.stderr).strip())
    r = agent("balance")
    check(r.returncode == 0 and '"balance"' in r.stdout, "ssp-agent balance: %s" % r.stdout)



def test():
    bindir = bindir_from_argv()
    node = Node(bindir)
    node.start()
    dev = Cli(bindir, node, os.path.join(node.datadir, "dev-keys"))
    wallet = tempdir()
    w = Cli(bindir, node, wallet, password="pw")
    carol = w.run("key", "new", "--name", "carol")["address"]
    bob = w.run("key", "new", "--name", "bob")["address"]
    devkey = w.run("key", "new", "--name", "board", "--type", "p256")
    for a in (carol, bob):
        dev.run("transfer", "--from", "dev", "--to", a, "--amount", "5")
    dev.run("transfer", "--from", "dev", "--to", devkey["address"], "--amount", "5", "--wait")

    # manufacturer: register, approve by the producer's key (dev pays), model
    r = dev.run("mfr", "register", "--from", "dev", "--name", "ACME", "--wait")
    check(r["status"] == "finalized", "mfr register included")
    check(dev.run("mfr", "show", "ACME")["status"] == "pending", "ACME is pending")
    pk = os.path.join(node.datadir, "producer.key")
    r = dev.run("mfr", "approve", "--from", "dev", "--name", "ACME", "--producer-key", pk,
                "--wait")
    m = dev.run("mfr", "show", "ACME")
    check(m["status"] == "admitted", "the producer's approval admits ACME (%s)" % m["status"])
    fake = tempdir()
    Cli(bindir, node, fake, password="").run("key", "new", "--name", "notprod")
    dev.run("mfr", "register", "--from", "dev", "--name", "OTHER", "--wait")
    r = w.run("mfr", "approve", "--from", "bob", "--name", "OTHER", "--producer-key",
              os.path.join(fake, "notprod"), "--wait", ok=False)
    check(r.returncode == 1 and "not allowed for this sender" in r.stderr,
          "an approval signed by a key outside the producer set is refused: %r"
          % r.stderr.strip())
    check(dev.run("mfr", "show", "OTHER")["status"] == "pending", "OTHER stays pending")
    fw1 = hashlib.sha256(b"firmware 1.0").hexdigest()
    fw2 = hashlib.sha256(b"firmware 1.1").hexdigest()
    dev.run("mfr", "model", "add", "--from", "dev", "--name", "ACME", "--model", "AC-1",
            "--firmware-hash", fw1 + "," + fw2, "--capabilities", "3", "--wait")

    if EMULATOR:  # Debian's libsofthsm2 is native only (not Multi-Arch): see the Makefile
        print("skipped under the emulator: the SoftHSM2 device (ssp-agent) part")
    else:
        token_device(bindir, node, dev, carol, fw1)

    # the keystore device: certify, enroll itself, refusals
    cert_file = os.path.join(wallet, "board.cert")
    c = dev.run("mfr", "certify", "--from", "dev", "--name", "ACME", "--model", "AC-1",
                "--serial", "S-0001", "--device-pubkey", devkey["pubkey"], "--capabilities", "1",
                "--claim-secret", "open sesame", "--out", cert_file)
    forged = w.run("mfr", "certify", "--from", "bob", "--name", "ACME", "--model", "AC-1",
                   "--serial", "S-0009", "--device-pubkey", devkey["pubkey"])
    r = w.run("device", "enroll", "--from", "board", "--cert", forged["certificate"], "--wait",
              ok=False)
    check(r.returncode == 1 and "invalid device certificate" in r.stderr,
          "a certificate not signed by ACME's key is refused: %r" % r.stderr.strip())
    e = w.run("device", "enroll", "--from", "board", "--cert", cert_file, "--wait")
    check(e["status"] == "finalized", "the device enrolled itself")
    r = w.run("device", "enroll", "--from", "board", "--cert", cert_file, "--wait", ok=False)
    check(r.returncode == 1 and "already enrolled" in r.stderr, "a second enrollment is refused")
    d = dev.run("device", "show", devkey["address"])
    check(d["manufacturer"] == "ACME" and d["serial"] == "S-0001" and d["status"] == "active"
          and d["owner"] is None and d["key_type"] == "p256", "device_get after enrollment")

    # claim with the secret from the box
    r = w.run("device", "claim", "--from", "carol", "--device", devkey["address"], "--secret",
              "wrong", "--wait", ok=False)
    check(r.returncode == 1 and "wrong claim secret" in r.stderr, "a wrong claim secret")
    w.run("device", "claim", "--from", "carol", "--manufacturer", "ACME", "--serial", "S-0001",
          "--secret", "open sesame", "--wait")
    check(dev.run("device", "show", devkey["address"])["owner"] == carol, "carol owns it")
    lst = dev.run("device", "list", "--owner", carol)
    check(len(lst["devices"]) == 1, "device list --owner")

    # attest: the counter grows; unknown firmware marks it untrusted
    w.run("device", "attest", "--from", "board", "--firmware-hash", fw1, "--counter", "1",
          "--wait")
    r = w.run("device", "attest", "--from", "board", "--firmware-hash", fw1, "--counter", "1",
              "--wait", ok=False)
    check(r.returncode == 1 and "counter did not increase" in r.stderr, "a replayed counter")
    w.run("device", "attest", "--from", "board", "--firmware-hash", "ab" * 32, "--counter", "2",
          "--wait")
    check(dev.run("device", "show", devkey["address"])["status"] == "untrusted",
          "unknown firmware: untrusted")
    att = node.rpc("device_getAttestations", {"address": devkey["address"]})
    check(att["attestations"][0]["counter"] == 2, "device_getAttestations: the latest")

    # transfer and revocation
    r = w.run("device", "transfer", "--from", "bob", "--device", devkey["address"], "--to", bob,
              "--wait", ok=False)
    check(r.returncode == 1 and "not allowed" in r.stderr, "a stranger cannot transfer it")
    w.run("device", "transfer", "--from", "carol", "--device", devkey["address"], "--to", bob,
          "--wait")
    check(dev.run("device", "show", devkey["address"])["owner"] == bob, "bob owns it now")
    dev.run("mfr", "revoke", "--from", "dev", "--device", devkey["address"], "--wait")
    check(dev.run("device", "show", devkey["address"])["status"] == "revoked", "revoked")
    r = w.run("device", "attest", "--from", "board", "--firmware-hash", fw1, "--counter", "3",
              "--wait", ok=False)
    check(r.returncode == 1 and "device revoked" in r.stderr, "a revoked device cannot attest")
    # ... nor send anything else: refused at admission with DEV_REVOKED
    r = w.run("transfer", "--from", "board", "--to", carol, "--amount", "0.1", ok=False)
    check(r.returncode == 1 and "device revoked" in r.stderr,
          "a revoked device's transfer is refused at admission: %r" % r.stderr.strip())
    check(node.rpc("account_get", {"address": devkey["address"]}).get("restricted") is True
          and "restricted" not in node.rpc("account_get", {"address": carol}),
          "account_get marks the revoked device's account restricted, and only it")

    # batch revocation by serial: --serial A,B and --batch FILE
    boards = []
    for i, serial in enumerate(("S-0002", "S-0003")):
        k = w.run("key", "new", "--name", "board%d" % i, "--type", "p256")
        cf = os.path.join(wallet, "board%d.cert" % i)
        dev.run("mfr", "certify", "--from", "dev", "--name", "ACME", "--model", "AC-1",
                "--serial", serial, "--device-pubkey", k["pubkey"], "--out", cf)
        dev.run("transfer", "--from", "dev", "--to", k["address"], "--amount", "2", "--wait")
        w.run("device", "enroll", "--from", "board%d" % i, "--cert", cf, "--wait")
        boards.append(k["address"])
    r = dev.run("mfr", "revoke", "--from", "dev", "--name", "ACME", "--serial", "S-0404,S-0002",
                "--wait", ok=False)
    check(r.returncode == 1 and "unknown device" in r.stderr,
          "a batch naming an unknown serial is refused whole: %r" % r.stderr.strip())
    check(all(dev.run("device", "show", a)["status"] == "active" for a in boards),
          "nothing of a refused batch is revoked")
    batch = os.path.join(wallet, "recall.txt")
    with open(batch, "w") as f:
        f.write("# recall 2026-12\nS-0003\n\nS-0002\n")
    r = dev.run("mfr", "revoke", "--from", "dev", "--name", "ACME", "--batch", batch, "--wait")
    check(r["status"] == "finalized", "the batch revocation is included")
    tx = node.rpc("tx_get", {"txid": r["txid"]})
    check(tx["tx"]["payload"]["serials"] == ["S-0002", "S-0003"],
          "tx_get shows the batch's serials: %r" % tx["tx"]["payload"])
    check(all(dev.run("device", "show", a)["status"] == "revoked" for a in boards),
          "both devices of the batch are revoked")
    r = w.run("transfer", "--from", "board0", "--to", carol, "--amount", "0.1", ok=False)
    check(r.returncode == 1 and "device revoked" in r.stderr, "a batch-revoked device is refused")
    # a light client's view: the revocation proven against the final header
    r = w.run("proof", "device", boards[1], "--final")
    check(r["verified"] is True and r["proven_status"] == "revoked" and r["serial"] == "S-0003",
          "ssp proof device --final: revoked, verified here: %r" % r)
    r = w.run("proof", "account", "board0")
    check(r["verified"] is True, "ssp proof account of a revoked device verifies")

    # bad RPC input
    for params, what in (({"address": "nope"}, "a bad address"),
                         ({"manufacturer": "ACME", "serial": "bad serial"}, "a bad serial")):
        try:
            node.rpc("device_get", params)
            check(False, "%s is refused" % what)
        except Exception as ex:  # RpcError
            check("-32602" in str(ex) or "invalid" in str(ex).lower(), "%s: %s" % (what, ex))

    # the registry survives a restart
    before = dev.run("device", "show", devkey["address"])
    node.stop()
    node.start()
    check(dev.run("device", "show", devkey["address"]) == before, "same device after a restart")
    check(dev.run("mfr", "show", "ACME")["status"] == "admitted", "same manufacturer")


if __name__ == "__main__":
    main(test)
