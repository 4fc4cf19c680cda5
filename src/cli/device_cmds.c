/*
 * device_cmds.c — `ssp mfr …` and `ssp device …`, the device registry's
 * commands (application layer). Manufacturers register, get approved by the
 * producer set (a producer signs with its keystore; any funded account pays
 * the fee), publish models and certify devices offline; owners claim,
 * transfer and list their devices. Signing goes through txsend.c; reads
 * through the device_* and mfr_* RPC methods. docs/devices.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "ssp/proto_device.h"

static int need(const char *v, const char *cmd, const char *opt)
{
	return v ? CLI_OK : cli_usage("%s: --%s is required", cmd, opt);
}

static int ident(const char *cmd, const char *opt, const char *v, size_t max)
{
	if (!v) return cli_usage("%s: --%s is required", cmd, opt);
	if (!ssp_device_ident_valid(v, strlen(v), max))
		return cli_usage("%s: invalid --%s '%s' (1 to %zu characters A-Z a-z 0-9 . _ -, "
		                 "starting with a letter or digit)",
		                 cmd, opt, v, max);
	return CLI_OK;
}

/* Encodes the payload, signs it as --from and submits; prints the result. */
static int send(cli_ctx *c, const cli_args *a, const char *cmd, uint16_t type,
                const ssp_device_payload *p, json_t *fields)
{
	const char *from = cli_opt(a, "from");
	cli_txopts o;
	cli_txsession s;
	json_t *out = NULL;
	ssp_buf b;
	int rc;
	if (!from) {
		json_decref(fields);
		return cli_usage("%s: --from NAME is required", cmd);
	}
	if ((rc = cli_txopts_parse(&o, a, cmd))) {
		json_decref(fields);
		return rc;
	}
	ssp_buf_init(&b, SSP_TX_PAYLOAD_MAX);
	ssp_device_payload_encode(&b, type, p);
	if (b.err) {
		rc = cli_fail("%s: cannot encode the transaction: %s", cmd, ssp_strerror(b.err));
	} else if (!(rc = cli_tx_begin(c, &s, from))) {
		rc = cli_tx_send(c, &s, &o, type, b.data, b.len, fields, &out);
		if (!rc) cli_print_tx(c, out, NULL, "");
		cli_tx_end(&s);
	}
	ssp_buf_free(&b);
	json_decref(out);
	json_decref(fields);
	return rc;
}

/* --------------------------------------------------------- manufacturers */

int cli_cmd_mfr_register(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name");
	ssp_device_payload p;
	int rc;
	if ((rc = ident("mfr register", "name", name, SSP_MFR_NAME_MAX))) return rc;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	return send(c, a, "mfr register", SSP_TX_MFR_REGISTER, &p, json_pack("{s:s}", "name", name));
}

/* approve and expel: the producer's keystore signs, --from pays. */
static int producer_decision(cli_ctx *c, const cli_args *a, const char *cmd, uint16_t type)
{
	const char *name = cli_opt(a, "name"), *kpath = cli_opt(a, "producer-key");
	const char *pw = getenv("SSP_PRODUCER_PASSWORD");
	ssp_device_payload p;
	ssp_seckey sk;
	json_t *info = NULL;
	ssp_hash d;
	int rc;
	if ((rc = ident(cmd, "name", name, SSP_MFR_NAME_MAX)) ||
	    (rc = need(kpath, cmd, "producer-key FILE")))
		return rc;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	rc = ssp_keystore_read(kpath, pw ? pw : "", &sk, &p.key);
	if (rc)
		return cli_fail("%s: cannot read the producer key %s: %s%s", cmd, kpath,
		                ssp_strerror(rc),
		                rc == SSP_ERR_PASSWORD ? " (set SSP_PRODUCER_PASSWORD)" : "");
	if ((rc = cli_node_info(c, &info))) {
		ssp_seckey_wipe(&sk);
		return rc;
	}
	const char *chain_id = json_string_value(json_object_get(info, "chain_id"));
	if (!chain_id) {
		ssp_seckey_wipe(&sk);
		json_decref(info);
		return cli_fail("chain_getInfo: the node returned no chain_id");
	}
	ssp_device_approve_digest(&d, chain_id, type, name);
	json_decref(info);
	rc = ssp_sign_digest(&p.sig, &sk, &d);
	ssp_seckey_wipe(&sk);
	if (rc) return cli_fail("%s: cannot sign: %s", cmd, ssp_strerror(rc));
	ssp_addr pa;
	char ptext[96];
	ssp_addr_from_pubkey(&pa, &p.key);
	ssp_addr_encode(ptext, sizeof ptext, c->hrp, &pa);
	return send(c, a, cmd, type, &p, json_pack("{s:s, s:s}", "name", name, "producer", ptext));
}

int cli_cmd_mfr_approve(cli_ctx *c, const cli_args *a)
{
	return producer_decision(c, a, "mfr approve", SSP_TX_MFR_APPROVE);
}

int cli_cmd_mfr_expel(cli_ctx *c, const cli_args *a)
{
	return producer_decision(c, a, "mfr expel", SSP_TX_MFR_REVOKE);
}

/* Parses comma-separated 64-hex firmware hashes. */
static int parse_hashes(ssp_device_payload *p, const char *list)
{
	const char *s = list;
	p->nfirmware = 0;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (p->nfirmware == SSP_FIRMWARE_MAX)
			return cli_usage("mfr model add: at most %d firmware hashes", SSP_FIRMWARE_MAX);
		if (n != 64 || ssp_hex_decode(p->firmware[p->nfirmware].b, 32, s, 64))
			return cli_usage("mfr model add: --firmware-hash takes 64-hex SHA-256 values, "
			                 "comma-separated");
		p->nfirmware++;
		s += n;
		if (*s == ',') s++;
	}
	return p->nfirmware ? CLI_OK : cli_usage("mfr model add: --firmware-hash is empty");
}

static int parse_caps(uint32_t *out, const char *v, const char *cmd)
{
	uint64_t x = 0;
	if (v && (cli_parse_u64(&x, v) || x > UINT32_MAX))
		return cli_usage("%s: --capabilities is a number from 0 to 4294967295", cmd);
	*out = (uint32_t)x;
	return CLI_OK;
}

int cli_cmd_mfr_model(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name"), *model = cli_opt(a, "model");
	const char *fw = cli_opt(a, "firmware-hash");
	ssp_device_payload p;
	int rc;
	if (strcmp(a->pos[0], "add"))
		return cli_usage("mfr model: unknown action '%s' (mfr model add …)", a->pos[0]);
	memset(&p, 0, sizeof p);
	if ((rc = ident("mfr model add", "name", name, SSP_MFR_NAME_MAX)) ||
	    (rc = ident("mfr model add", "model", model, SSP_MODEL_MAX)) ||
	    (rc = need(fw, "mfr model add", "firmware-hash HEX[,HEX…]")) ||
	    (rc = parse_hashes(&p, fw)) ||
	    (rc = parse_caps(&p.capabilities, cli_opt(a, "capabilities"), "mfr model add")))
		return rc;
	snprintf(p.name, sizeof p.name, "%s", name);
	snprintf(p.model, sizeof p.model, "%s", model);
	return send(c, a, "mfr model add", SSP_TX_MODEL_ADD, &p,
	            json_pack("{s:s, s:s, s:i, s:i}", "manufacturer", name, "model", model,
	                      "capabilities", (int)p.capabilities, "firmware_hashes",
	                      (int)p.nfirmware));
}

/* A public key given as hex (66 for p256, 64 for ed25519) or a file holding that hex. */
static int read_pubkey(ssp_pubkey *pk, const char *arg)
{
	char buf[200];
	const char *hex = arg;
	if (strlen(arg) != 66 && strlen(arg) != 64) {
		FILE *f = fopen(arg, "r");
		if (!f) return cli_fail("mfr certify: cannot read --device-pubkey %s", arg);
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *q = buf;
		while (*q && strchr(" \t\r\n", *q))
			q++;
		char *pub = strstr(q, "pubkey:"); /* `ssp-agent csr` output works as is */
		if (pub) q = pub + 7;
		while (*q == ' ')
			q++;
		size_t len = strcspn(q, " \t\r\n");
		q[len] = 0;
		hex = q;
	}
	size_t n = strlen(hex);
	uint8_t raw[SSP_PUBKEY_MAX];
	if ((n != 66 && n != 64) || ssp_hex_decode(raw, n / 2, hex, n) ||
	    ssp_pubkey_parse(pk, n == 66 ? SSP_KEY_P256 : SSP_KEY_ED25519, raw, n / 2))
		return cli_usage("mfr certify: --device-pubkey must be a P-256 (66 hex) or Ed25519 "
		                 "(64 hex) public key, or a file with one (ssp-agent csr prints it)");
	return CLI_OK;
}

int cli_cmd_mfr_certify(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name"), *model = cli_opt(a, "model");
	const char *serial = cli_opt(a, "serial"), *dev = cli_opt(a, "device-pubkey");
	const char *from = cli_opt(a, "from"), *out = cli_opt(a, "out");
	const char *secret = cli_opt(a, "claim-secret");
	char gen[33], hex[1024];
	ssp_device_cert cert;
	ssp_seckey sk, ck;
	ssp_pubkey pk, cpk;
	json_t *info = NULL;
	int rc;
	memset(&cert, 0, sizeof cert);
	if ((rc = ident("mfr certify", "name", name, SSP_MFR_NAME_MAX)) ||
	    (rc = ident("mfr certify", "model", model, SSP_MODEL_MAX)) ||
	    (rc = ident("mfr certify", "serial", serial, SSP_SERIAL_MAX)) ||
	    (rc = need(dev, "mfr certify", "device-pubkey FILE|HEX")) ||
	    (rc = need(from, "mfr certify", "from NAME")) || (rc = read_pubkey(&cert.device_key, dev)) ||
	    (rc = parse_caps(&cert.capabilities, cli_opt(a, "capabilities"), "mfr certify")))
		return rc;
	if (secret && strlen(secret) < 8)
		return cli_usage("mfr certify: --claim-secret needs at least 8 characters");
	if (!secret) { /* 128 random bits, printed once: it goes in the box */
		uint8_t r[16];
		randombytes_buf(r, sizeof r);
		sodium_bin2hex(gen, sizeof gen, r, sizeof r);
		secret = gen;
	}
	snprintf(cert.mfr, sizeof cert.mfr, "%s", name);
	snprintf(cert.model, sizeof cert.model, "%s", model);
	snprintf(cert.serial, sizeof cert.serial, "%s", serial);
	if ((rc = ssp_device_claim_key(&ck, &cpk, secret)))
		return cli_fail("mfr certify: cannot derive the claim key: %s", ssp_strerror(rc));
	ssp_seckey_wipe(&ck);
	ssp_device_claim_commitment(&cert.claim_commitment, &cpk);
	if ((rc = cli_key_unlock(c, &sk, &pk, from))) return rc;
	if ((rc = cli_node_info(c, &info))) {
		ssp_seckey_wipe(&sk);
		return rc;
	}
	const char *chain_id = json_string_value(json_object_get(info, "chain_id"));
	rc = chain_id ? ssp_device_cert_sign(&cert, chain_id, &sk) : SSP_ERR_DECODE;
	ssp_seckey_wipe(&sk);
	json_decref(info);
	if (rc) return cli_fail("mfr certify: cannot sign the certificate: %s", ssp_strerror(rc));
	ssp_buf b;
	ssp_buf_init(&b, 512);
	ssp_device_cert_encode(&b, &cert, true);
	sodium_bin2hex(hex, sizeof hex, b.data, b.len);
	ssp_buf_free(&b);
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f || fprintf(f, "%s\n", hex) < 0 || fclose(f))
			return cli_fail("mfr certify: cannot write %s", out);
	}
	ssp_addr da;
	char dtext[96];
	ssp_addr_from_pubkey(&da, &cert.device_key);
	ssp_addr_encode(dtext, sizeof dtext, c->hrp, &da);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?}", "device", dtext, "manufacturer",
	                      name, "model", model, "serial", serial, "certificate", hex,
	                      "claim_secret", secret, "file", out);
	if (!j) cli_oom();
	if (c->json) {
		cli_print_json(j);
	} else {
		cli_print_result(j, NULL);
	}
	json_decref(j);
	sodium_memzero(gen, sizeof gen);
	return CLI_OK;
}

/*
 * A batch: serials from --serial A,B,… or --batch FILE (one a line; blank
 * lines and # comments skipped), sorted into the payload's canonical order.
 */
static int mfr_revoke_batch(cli_ctx *c, const cli_args *a, const char *name)
{
	const char *list = cli_opt(a, "serial"), *file = cli_opt(a, "batch");
	char *text = NULL, *save = NULL;
	const char *serials[SSP_REVOKE_BATCH_MAX];
	size_t n = 0, len;
	ssp_device_payload p;
	ssp_buf sb;
	int rc;
	if (!!list == !!file) return cli_usage("mfr revoke: give --serial LIST or --batch FILE");
	if (!ssp_device_ident_valid(name, strlen(name), SSP_MFR_NAME_MAX))
		return cli_usage("mfr revoke: --name is not a manufacturer name");
	if (file) {
		if ((rc = cli_read_file(&text, &len, file, 1 << 20))) return rc;
	} else {
		text = strdup(list);
		if (!text) cli_oom();
	}
	const char *sep = file ? "\r\n" : ",";
	for (char *tok = strtok_r(text, sep, &save); tok; tok = strtok_r(NULL, sep, &save)) {
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t#")] = 0;
		if (!*tok) continue;
		if (n == SSP_REVOKE_BATCH_MAX) {
			free(text);
			return cli_usage("mfr revoke: at most %d serials per tx (split the batch)",
			                 SSP_REVOKE_BATCH_MAX);
		}
		serials[n++] = tok;
	}
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	ssp_buf_init(&sb, 64 * 1024);
	rc = ssp_device_serials_encode(&sb, serials, n);
	if (rc == SSP_ERR_DUPLICATE)
		rc = cli_usage("mfr revoke: a serial is listed twice");
	else if (rc == SSP_ERR_RANGE)
		rc = cli_usage("mfr revoke: no serial given");
	else if (rc)
		rc = cli_usage("mfr revoke: a serial is not 1..64 of [A-Za-z0-9._-]");
	json_t *jl = json_array();
	if (!jl) cli_oom();
	for (size_t i = 0; i < n && !rc; i++)
		json_array_append_new(jl, json_string(serials[i]));
	free(text);
	if (rc) {
		json_decref(jl);
		ssp_buf_free(&sb);
		return rc;
	}
	p.nserials = (uint32_t)n;
	p.serials = sb.data;
	p.serials_len = sb.len;
	rc = send(c, a, "mfr revoke", SSP_TX_DEVICE_REVOKE_BATCH, &p,
	          json_pack("{s:s, s:o}", "manufacturer", name, "serials", jl));
	ssp_buf_free(&sb);
	return rc;
}

int cli_cmd_mfr_revoke(cli_ctx *c, const cli_args *a)
{
	const char *dev = cli_opt(a, "device"), *name = cli_opt(a, "name");
	ssp_device_payload p;
	json_t *info = NULL;
	int rc;
	if (dev && name) return cli_usage("mfr revoke: --device or --name, not both");
	if (name) return mfr_revoke_batch(c, a, name);
	if (cli_opt(a, "serial") || cli_opt(a, "batch"))
		return cli_usage("mfr revoke: --serial and --batch need --name MFR");
	if ((rc = need(dev, "mfr revoke", "device ADDRESS (or --name MFR --serial …)"))) return rc;
	memset(&p, 0, sizeof p);
	if ((rc = cli_node_info(c, &info))) return rc;
	json_decref(info);
	if ((rc = cli_resolve_account(c, &p.device, c->hrp, dev))) return rc;
	return send(c, a, "mfr revoke", SSP_TX_DEVICE_REVOKE, &p, json_pack("{s:s}", "device", dev));
}

static int show(cli_ctx *c, const char *method, json_t *params)
{
	json_t *res = NULL;
	int rc = cli_rpc(c, method, params, &res, NULL);
	if (rc) return rc;
	if (c->json)
		cli_print_json(res);
	else
		cli_print_result(res, NULL);
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_mfr_show(cli_ctx *c, const cli_args *a)
{
	return show(c, "mfr_get", json_pack("{s:s}", "name", a->pos[0]));
}

int cli_cmd_mfr_list(cli_ctx *c, const cli_args *a)
{
	(void)a;
	return show(c, "mfr_list", NULL);
}

/* --------------------------------------------------------------- devices */

/* --device ADDRESS, or --manufacturer NAME --serial S looked up on chain. */
static int device_arg(cli_ctx *c, const cli_args *a, const char *cmd, ssp_addr *out)
{
	const char *dev = cli_opt(a, "device"), *serial = cli_opt(a, "serial");
	json_t *info = NULL, *res = NULL;
	int rc;
	if (!dev && !serial) return cli_usage("%s: --device ADDRESS or --serial S is required", cmd);
	if ((rc = cli_node_info(c, &info))) return rc;
	json_decref(info);
	if (dev) return cli_resolve_account(c, out, c->hrp, dev);
	const char *mfr = cli_opt(a, "manufacturer");
	if ((rc = ident(cmd, "manufacturer", mfr, SSP_MFR_NAME_MAX))) return rc;
	rc = cli_rpc(c, "device_get", json_pack("{s:s, s:s}", "manufacturer", mfr, "serial", serial),
	             &res, NULL);
	if (rc) return rc;
	const char *addr = json_string_value(json_object_get(res, "address"));
	rc = addr && !ssp_addr_decode(out, c->hrp, addr)
	         ? CLI_OK
	         : cli_fail("device_get: the node returned no valid address");
	json_decref(res);
	return rc;
}

int cli_cmd_device_claim(cli_ctx *c, const cli_args *a)
{
	const char *secret = cli_opt(a, "secret"), *from = cli_opt(a, "from");
	ssp_device_payload p;
	ssp_seckey ck;
	ssp_pubkey owner_pk;
	ssp_addr owner;
	json_t *info = NULL;
	ssp_hash d;
	char dtext[96];
	int rc;
	if ((rc = need(secret, "device claim", "secret CODE")) ||
	    (rc = need(from, "device claim", "from NAME")))
		return rc;
	memset(&p, 0, sizeof p);
	if ((rc = device_arg(c, a, "device claim", &p.device))) return rc;
	if ((rc = cli_key_info(c, &owner_pk, from))) return rc;
	ssp_addr_from_pubkey(&owner, &owner_pk);
	if ((rc = cli_node_info(c, &info))) return rc;
	const char *chain_id = json_string_value(json_object_get(info, "chain_id"));
	if (!chain_id) {
		json_decref(info);
		return cli_fail("chain_getInfo: the node returned no chain_id");
	}
	if ((rc = ssp_device_claim_key(&ck, &p.key, secret))) {
		json_decref(info);
		return cli_fail("device claim: %s", ssp_strerror(rc));
	}
	ssp_device_claim_digest(&d, chain_id, &p.device, &owner);
	json_decref(info);
	rc = ssp_sign_digest(&p.sig, &ck, &d);
	ssp_seckey_wipe(&ck);
	if (rc) return cli_fail("device claim: cannot sign: %s", ssp_strerror(rc));
	ssp_addr_encode(dtext, sizeof dtext, c->hrp, &p.device);
	return send(c, a, "device claim", SSP_TX_DEVICE_CLAIM, &p,
	            json_pack("{s:s}", "device", dtext));
}

int cli_cmd_device_transfer(cli_ctx *c, const cli_args *a)
{
	const char *to = cli_opt(a, "to");
	ssp_device_payload p;
	char dtext[96], ttext[96];
	int rc;
	if ((rc = need(to, "device transfer", "to ADDRESS|NAME"))) return rc;
	memset(&p, 0, sizeof p);
	if ((rc = device_arg(c, a, "device transfer", &p.device)) ||
	    (rc = cli_resolve_account(c, &p.to, c->hrp, to)))
		return rc;
	ssp_addr_encode(dtext, sizeof dtext, c->hrp, &p.device);
	ssp_addr_encode(ttext, sizeof ttext, c->hrp, &p.to);
	return send(c, a, "device transfer", SSP_TX_DEVICE_XFER, &p,
	            json_pack("{s:s, s:s}", "device", dtext, "to", ttext));
}

int cli_cmd_device_show(cli_ctx *c, const cli_args *a)
{
	ssp_addr d;
	json_t *info = NULL;
	char dtext[96];
	int rc = cli_node_info(c, &info);
	if (rc) return rc;
	json_decref(info);
	if ((rc = cli_resolve_account(c, &d, c->hrp, a->pos[0]))) return rc;
	ssp_addr_encode(dtext, sizeof dtext, c->hrp, &d);
	return show(c, "device_get", json_pack("{s:s}", "address", dtext));
}

int cli_cmd_device_list(cli_ctx *c, const cli_args *a)
{
	const char *owner = cli_opt(a, "owner"), *mfr = cli_opt(a, "manufacturer");
	json_t *params = json_object(), *info = NULL;
	int rc;
	if (!params) cli_oom();
	if (owner) {
		ssp_addr o;
		char otext[96];
		if ((rc = cli_node_info(c, &info)) || (rc = cli_resolve_account(c, &o, c->hrp, owner))) {
			json_decref(info);
			json_decref(params);
			return rc;
		}
		json_decref(info);
		ssp_addr_encode(otext, sizeof otext, c->hrp, &o);
		json_object_set_new(params, "owner", json_string(otext));
	}
	if (mfr) json_object_set_new(params, "manufacturer", json_string(mfr));
	return show(c, "device_list", params);
}

/* ------------------------------------------------- device-side (keystore) */

/*
 * For a device whose key is in a keystore (development boards, tests): the
 * device's own account enrolls it and attests. A device with a secure
 * element does the same through ssp-agent.
 */
int cli_cmd_device_enroll(cli_ctx *c, const cli_args *a)
{
	const char *cert = cli_opt(a, "cert");
	ssp_device_payload p;
	char *text = NULL;
	size_t n;
	uint8_t raw[600];
	int rc;
	if ((rc = need(cert, "device enroll", "cert FILE|HEX"))) return rc;
	memset(&p, 0, sizeof p);
	const char *hex = cert;
	if (strspn(cert, "0123456789abcdefABCDEF") != strlen(cert)) {
		if ((rc = cli_read_file(&text, &n, cert, 4096))) return rc;
		text[strcspn(text, " \t\r\n")] = 0;
		hex = text;
	}
	size_t hl = strlen(hex);
	rc = hl % 2 || hl / 2 > sizeof raw || ssp_hex_decode(raw, hl / 2, hex, hl) ||
	             ssp_device_cert_decode(&p.cert, raw, hl / 2)
	         ? cli_usage("device enroll: --cert is not a device certificate (ssp mfr certify "
	                     "writes one)")
	         : CLI_OK;
	free(text);
	if (rc) return rc;
	return send(c, a, "device enroll", SSP_TX_DEVICE_ENROLL, &p,
	            json_pack("{s:s, s:s, s:s}", "manufacturer", p.cert.mfr, "model", p.cert.model,
	                      "serial", p.cert.serial));
}

int cli_cmd_device_attest(cli_ctx *c, const cli_args *a)
{
	const char *fw = cli_opt(a, "firmware-hash"), *ctr = cli_opt(a, "counter");
	ssp_device_payload p;
	json_t *info = NULL;
	int rc;
	memset(&p, 0, sizeof p);
	if ((rc = need(fw, "device attest", "firmware-hash HEX")) ||
	    (rc = need(ctr, "device attest", "counter N")))
		return rc;
	if (strlen(fw) != 64 || ssp_hex_decode(p.firmware[0].b, 32, fw, 64))
		return cli_usage("device attest: --firmware-hash is a 64-hex SHA-256");
	if (cli_parse_u64(&p.counter, ctr) || p.counter == 0)
		return cli_usage("device attest: --counter is a number above the last one");
	if ((rc = cli_node_info(c, &info))) return rc;
	/* the challenge: the head's id (refused on another fork or chain) */
	char idhex[65];
	const char *hid = json_string_value(json_object_get(info, "head_id"));
	rc = hid && strlen(hid) == 64 && !ssp_hex_decode(p.challenge_id.b, 32, hid, 64)
	         ? CLI_OK
	         : cli_fail("chain_getInfo: the node returned no valid head_id");
	if (!rc) snprintf(idhex, sizeof idhex, "%s", hid);
	json_decref(info);
	if (rc) return rc;
	return send(c, a, "device attest", SSP_TX_DEVICE_ATTEST, &p,
	            json_pack("{s:s, s:I, s:s}", "firmware", fw, "counter", (json_int_t)p.counter,
	                      "challenge", idhex));
}
