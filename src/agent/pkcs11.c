/*
 * pkcs11.c — libsmartagent's PKCS#11 backend (agent layer). The URI
 * (RFC 7512) is parsed by p11-kit, which also loads the module: the one
 * named by module-path, else the registered module named by module-name,
 * else every registered module (p11-kit's config: SoftHSM2 registers
 * itself). The token is the one whose token info matches the URI — by
 * label (and serial, model, manufacturer when given) — never a slot number,
 * which changes when tokens come and go.
 *
 * Objects the agent keeps in the token (all token objects, label below):
 *   "ssp-agent"   EC P-256 key pair; the private half CKA_SENSITIVE true,
 *                 CKA_EXTRACTABLE false, CKA_PRIVATE true: it never leaves
 *   "ssp-counter" CKO_DATA, private, CKA_VALUE = the counter (8 bytes, BE)
 * Signing is CKM_ECDSA over the 32-byte digest (the chain's P-256 scheme
 * signs the digest as is), r ‖ s as PKCS#11 returns it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <sodium.h>

#include "agent/agent_internal.h"

#define KEY_LABEL "ssp-agent"
#define CTR_LABEL "ssp-counter"
#define CTR_APP "smartshare"

typedef struct {
	CK_FUNCTION_LIST **mods; /* from p11_kit_modules_load_and_initialize, or NULL */
	CK_FUNCTION_LIST *one;   /* a module loaded from module-path, or NULL */
	CK_FUNCTION_LIST *f;     /* the token's module */
	CK_SESSION_HANDLE s;
	bool have_session, logged_in;
	CK_OBJECT_HANDLE priv;
	char label[33];
} p11_impl;

/* DER OID 1.2.840.10045.3.1.7 (prime256v1) as CKA_EC_PARAMS wants it. */
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
	case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	default: return "CKR_other";
	}
}

static int p11_err(ssp_agent *a, CK_RV rv, const char *what)
{
	p11_impl *p = a->impl;
	int rc = rv == CKR_HOST_MEMORY ? SSP_ERR_NOMEM : SSP_ERR_TOKEN;
	return agent_fail(a, rc, "token %s: %s failed: %s (0x%lx)", p->label, what, rv_name(rv),
	                  (unsigned long)rv);
}

/* A blank-padded PKCS#11 text field as a C string. */
static void field(char *out, const CK_UTF8CHAR *in, size_t n)
{
	while (n && (in[n - 1] == ' ' || in[n - 1] == 0))
		n--;
	memcpy(out, in, n);
	out[n] = 0;
}

static int find_one(ssp_agent *a, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *h,
                    bool *found)
{
	p11_impl *p = a->impl;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
	                    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_ULONG n = 0;
	CK_OBJECT_HANDLE hs[2];
	CK_RV rv = p->f->C_FindObjectsInit(p->s, t, 2);
	if (rv != CKR_OK) return p11_err(a, rv, "C_FindObjectsInit");
	rv = p->f->C_FindObjects(p->s, hs, 2, &n);
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK) return p11_err(a, rv, "C_FindObjects");
	if (n > 1)
		return agent_fail(a, SSP_ERR_TOKEN, "token %s holds %lu objects labelled %s: ambiguous",
		                  p->label, (unsigned long)n, label);
	*found = n == 1;
	if (n == 1) *h = hs[0];
	return 0;
}

static int read_pubkey(ssp_agent *a, CK_OBJECT_HANDLE pub)
{
	p11_impl *p = a->impl;
	CK_BYTE pt[80];
	CK_ATTRIBUTE t = {CKA_EC_POINT, pt, sizeof pt};
	CK_RV rv = p->f->C_GetAttributeValue(p->s, pub, &t, 1);
	if (rv != CKR_OK) return p11_err(a, rv, "reading the public key (CKA_EC_POINT)");
	/* DER OCTET STRING around the SEC1 point (some tokens give the bare point) */
	const CK_BYTE *q = pt;
	CK_ULONG n = t.ulValueLen;
	if (n == 67 && pt[0] == 0x04 && pt[1] == 65) {
		q = pt + 2;
		n = 65;
	}
	if (n != 65 || ssp_pubkey_p256_uncompressed(&a->pk, q))
		return agent_fail(a, SSP_ERR_TOKEN, "token %s: the agent's public key is not a P-256 point",
		                  p->label);
	return 0;
}

static int create_key(ssp_agent *a, CK_OBJECT_HANDLE *pub)
{
	p11_impl *p = a->impl;
	CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BYTE id[] = {'s', 's', 'p', '1'};
	CK_ATTRIBUTE pubt[] = {
	    {CKA_TOKEN, &yes, sizeof yes},          {CKA_VERIFY, &yes, sizeof yes},
	    {CKA_ENCRYPT, &no, sizeof no},          {CKA_WRAP, &no, sizeof no},
	    {CKA_EC_PARAMS, (void *)P256_OID, sizeof P256_OID},
	    {CKA_LABEL, KEY_LABEL, strlen(KEY_LABEL)}, {CKA_ID, id, sizeof id},
	};
	CK_ATTRIBUTE privt[] = {
	    {CKA_TOKEN, &yes, sizeof yes},       {CKA_PRIVATE, &yes, sizeof yes},
	    {CKA_SENSITIVE, &yes, sizeof yes},   {CKA_EXTRACTABLE, &no, sizeof no},
	    {CKA_SIGN, &yes, sizeof yes},        {CKA_DERIVE, &no, sizeof no},
	    {CKA_DECRYPT, &no, sizeof no},       {CKA_UNWRAP, &no, sizeof no},
	    {CKA_LABEL, KEY_LABEL, strlen(KEY_LABEL)}, {CKA_ID, id, sizeof id},
	};
	CK_RV rv = p->f->C_GenerateKeyPair(p->s, &m, pubt, sizeof pubt / sizeof *pubt, privt,
	                                   sizeof privt / sizeof *privt, pub, &p->priv);
	if (rv != CKR_OK) return p11_err(a, rv, "generating the P-256 key (C_GenerateKeyPair)");
	return 0;
}

/* Creates a counter object holding v (8 bytes, big-endian). */
static int create_counter(ssp_agent *a, uint64_t v)
{
	p11_impl *p = a->impl;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_BYTE be[8];
	CK_OBJECT_HANDLE h;
	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (CK_BYTE)v;
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof cls},         {CKA_TOKEN, &yes, sizeof yes},
	    {CKA_PRIVATE, &yes, sizeof yes},
	    {CKA_LABEL, CTR_LABEL, strlen(CTR_LABEL)}, {CKA_APPLICATION, CTR_APP, strlen(CTR_APP)},
	    {CKA_VALUE, be, sizeof be},
	};
	CK_RV rv = p->f->C_CreateObject(p->s, t, sizeof t / sizeof *t, &h);
	if (rv != CKR_OK) return p11_err(a, rv, "storing the counter (C_CreateObject)");
	return 0;
}

/*
 * The counter's objects and the highest value among them. A data object's
 * CKA_VALUE cannot be changed in place on every token (SoftHSM2 refuses),
 * so an increment creates the new value's object first and only then
 * destroys the old ones: a crash in between leaves two, and the highest
 * wins — a value is never handed out twice.
 */
#define MAX_CTR_OBJS 8
static int counter_objects(ssp_agent *a, CK_OBJECT_HANDLE *hs, CK_ULONG *n, uint64_t *max)
{
	p11_impl *p = a->impl;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
	                    {CKA_LABEL, CTR_LABEL, strlen(CTR_LABEL)}};
	*n = 0;
	*max = 0;
	CK_RV rv = p->f->C_FindObjectsInit(p->s, t, 2);
	if (rv != CKR_OK) return p11_err(a, rv, "C_FindObjectsInit");
	rv = p->f->C_FindObjects(p->s, hs, MAX_CTR_OBJS, n);
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK) return p11_err(a, rv, "C_FindObjects");
	for (CK_ULONG i = 0; i < *n; i++) {
		CK_BYTE v[8];
		CK_ATTRIBUTE vt = {CKA_VALUE, v, sizeof v};
		rv = p->f->C_GetAttributeValue(p->s, hs[i], &vt, 1);
		if (rv != CKR_OK) return p11_err(a, rv, "reading the counter");
		if (vt.ulValueLen != 8)
			return agent_fail(a, SSP_ERR_TOKEN, "token %s: a counter object is damaged",
			                  p->label);
		uint64_t x = 0;
		for (int k = 0; k < 8; k++)
			x = x << 8 | v[k];
		if (x > *max) *max = x;
	}
	return 0;
}

static int p11_sign(ssp_agent *a, const ssp_hash *digest, ssp_sig *sig)
{
	p11_impl *p = a->impl;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_ULONG n = sizeof sig->b;
	CK_RV rv = p->f->C_SignInit(p->s, &m, p->priv);
	if (rv != CKR_OK) return p11_err(a, rv, "C_SignInit");
	rv = p->f->C_Sign(p->s, (CK_BYTE_PTR)digest->b, sizeof digest->b, sig->b, &n);
	if (rv != CKR_OK) return p11_err(a, rv, "C_Sign");
	if (n != 64) return agent_fail(a, SSP_ERR_TOKEN, "token %s: a %lu-byte ECDSA signature",
	                               p->label, (unsigned long)n);
	return 0;
}

static int p11_counter(ssp_agent *a, bool inc, uint64_t *value)
{
	p11_impl *p = a->impl;
	CK_OBJECT_HANDLE hs[MAX_CTR_OBJS];
	CK_ULONG n;
	uint64_t x;
	int rc = counter_objects(a, hs, &n, &x);
	if (rc) return rc;
	if (!n)
		return agent_fail(a, SSP_ERR_TOKEN, "token %s lost the agent's counter: refusing to "
		                                    "reuse counter values",
		                  p->label);
	if (inc) {
		if (x == UINT64_MAX) return SSP_ERR_OVERFLOW;
		x++;
		if ((rc = create_counter(a, x))) return rc;
		for (CK_ULONG i = 0; i < n; i++)
			p->f->C_DestroyObject(p->s, hs[i]); /* a leftover is harmless: max wins */
	}
	*value = x;
	return 0;
}

static void p11_close(ssp_agent *a)
{
	p11_impl *p = a->impl;
	if (!p) return;
	if (p->logged_in) p->f->C_Logout(p->s);
	if (p->have_session) p->f->C_CloseSession(p->s);
	if (p->mods) p11_kit_modules_finalize_and_release(p->mods);
	if (p->one) {
		p11_kit_module_finalize(p->one);
		p11_kit_module_release(p->one);
	}
	free(p);
	a->impl = NULL;
}

static const agent_ops P11_OPS = {"pkcs11", p11_sign, p11_counter, p11_close};

static int open_locked(ssp_agent *a, p11_impl *p, const char *uristr, const char *pin,
                       unsigned flags);

/* Finds the one token the URI names among the loaded modules' slots. */
static int find_token(ssp_agent *a, P11KitUri *uri, CK_FUNCTION_LIST **cands, CK_SLOT_ID *slot,
                      CK_TOKEN_INFO *info)
{
	p11_impl *p = a->impl;
	unsigned matches = 0;
	for (size_t m = 0; cands[m]; m++) {
		CK_ULONG n = 0;
		CK_SLOT_ID ids[64];
		if (cands[m]->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0) continue;
		if (n > 64) n = 64;
		if (cands[m]->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK) continue;
		for (CK_ULONG i = 0; i < n; i++) {
			CK_TOKEN_INFO ti;
			if (cands[m]->C_GetTokenInfo(ids[i], &ti) != CKR_OK) continue;
			if (!p11_kit_uri_match_token_info(uri, &ti)) continue;
			if (!(ti.flags & CKF_TOKEN_INITIALIZED)) continue;
			if (matches++ == 0) {
				p->f = cands[m];
				*slot = ids[i];
				*info = ti;
			}
		}
	}
	if (matches > 1)
		return agent_fail(a, SSP_ERR_TOKEN,
		                  "%u tokens match the URI: add serial= (or model=) to name one", matches);
	if (!matches) return SSP_ERR_NOTFOUND;
	return 0;
}

int agent_open_pkcs11(ssp_agent *a, const char *uristr, const char *pin, unsigned flags)
{
	p11_impl *p = calloc(1, sizeof *p);
	if (!p) return SSP_ERR_NOMEM;
	a->ops = &P11_OPS;
	a->impl = p;
	/*
	 * One advisory lock for every agent on this machine: a token being
	 * changed (a counter update writes its objects) must not be enumerated
	 * half-written by another process — SoftHSM2 then reports no token.
	 * Held while opening and while updating the counter; signing needs none.
	 */
	const char *dir = getenv("SSP_AGENT_LOCK_DIR");
	if (!dir || !*dir) dir = getenv("XDG_RUNTIME_DIR");
	if (!dir || !*dir) dir = "/tmp";
	snprintf(a->lockpath, sizeof a->lockpath, "%s/ssp-agent-pkcs11.lock", dir);
	int lk = agent_lock(a);
	if (lk < 0) return agent_fail(a, SSP_ERR_IO, "cannot take the agent lock %s", a->lockpath);
	int rc = open_locked(a, p, uristr, pin, flags);
	agent_unlock(lk);
	return rc;
}

static int open_locked(ssp_agent *a, p11_impl *p, const char *uristr, const char *pin,
                       unsigned flags)
{
	int rc = 0;
	P11KitUri *uri = p11_kit_uri_new();
	if (!uri) return SSP_ERR_NOMEM;
	int ur = p11_kit_uri_parse(uristr, P11_KIT_URI_FOR_ANY, uri);
	if (ur != P11_KIT_URI_OK) {
		rc = agent_fail(a, SSP_ERR_INVAL, "bad PKCS#11 URI: %s", p11_kit_uri_message(ur));
		goto out;
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		/* p11-kit would match nothing: say why (module-path and pin-value go after '?') */
		rc = agent_fail(a, SSP_ERR_INVAL,
		                "the PKCS#11 URI has an attribute p11-kit does not know (module-path, "
		                "module-name and pin-value are query attributes: pkcs11:token=L?module-path=…)");
		goto out;
	}
	CK_TOKEN_INFO *want = p11_kit_uri_get_token_info(uri);
	char wl[33], ws[17];
	field(wl, want->label, sizeof want->label);
	field(ws, want->serialNumber, sizeof want->serialNumber);
	if (!*wl && !*ws) {
		rc = agent_fail(a, SSP_ERR_INVAL,
		                "the PKCS#11 URI names no token: add token=LABEL (e.g. pkcs11:token=dev-0001)");
		goto out;
	}
	snprintf(p->label, sizeof p->label, "%s", *wl ? wl : ws);
	const char *mpath = p11_kit_uri_get_module_path(uri);
	const char *mname = p11_kit_uri_get_module_name(uri);
	CK_FUNCTION_LIST *single[2] = {NULL, NULL};
	CK_FUNCTION_LIST **cands;
	if (mpath) {
		p->one = p11_kit_module_load(mpath, 0);
		if (!p->one) {
			rc = agent_fail(a, SSP_ERR_TOKEN, "cannot load PKCS#11 module %s: %s", mpath,
			                p11_kit_message() ? p11_kit_message() : "unknown error");
			goto out;
		}
		CK_RV rv = p11_kit_module_initialize(p->one);
		if (rv != CKR_OK) {
			p11_kit_module_release(p->one);
			p->one = NULL;
			rc = agent_fail(a, SSP_ERR_TOKEN, "PKCS#11 module %s: C_Initialize failed: %s (0x%lx)",
			                mpath, rv_name(rv), (unsigned long)rv);
			goto out;
		}
		single[0] = p->one;
		cands = single;
	} else {
		p->mods = p11_kit_modules_load_and_initialize(0);
		if (!p->mods) {
			rc = agent_fail(a, SSP_ERR_TOKEN, "cannot load the registered PKCS#11 modules: %s",
			                p11_kit_message() ? p11_kit_message() : "unknown error");
			goto out;
		}
		if (mname) {
			for (size_t m = 0; p->mods[m]; m++) {
				char *nm = p11_kit_module_get_name(p->mods[m]);
				bool same = nm && !strcmp(nm, mname);
				free(nm);
				if (same) single[0] = p->mods[m];
			}
			if (!single[0]) {
				rc = agent_fail(a, SSP_ERR_NOTFOUND, "no registered PKCS#11 module named %s",
				                mname);
				goto out;
			}
			cands = single;
		} else {
			cands = p->mods;
		}
	}
	CK_SLOT_ID slot = 0;
	CK_TOKEN_INFO ti;
	rc = find_token(a, uri, cands, &slot, &ti);
	if (rc == SSP_ERR_NOTFOUND) {
		rc = agent_fail(a, rc, "no initialised PKCS#11 token matches %s (is it plugged in? "
		                       "softhsm2-util --show-slots lists SoftHSM2's)",
		                uristr);
		goto out;
	}
	if (rc) goto out;
	char model[17], serial[17], manuf[33];
	field(model, ti.model, sizeof ti.model);
	field(serial, ti.serialNumber, sizeof ti.serialNumber);
	field(manuf, ti.manufacturerID, sizeof ti.manufacturerID);
	field(p->label, ti.label, sizeof ti.label);
	CK_RV rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &p->s);
	if (rv != CKR_OK) {
		rc = p11_err(a, rv, "C_OpenSession");
		goto out;
	}
	p->have_session = true;
	if (!pin) pin = p11_kit_uri_get_pin_value(uri);
	if (!pin) pin = "";
	rv = p->f->C_Login(p->s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
		rc = agent_fail(a, SSP_ERR_PASSWORD, "wrong PIN for token %s", p->label);
		goto out;
	}
	if (rv == CKR_PIN_LOCKED) {
		rc = agent_fail(a, SSP_ERR_PASSWORD, "token %s: the PIN is locked (too many wrong PINs)",
		                p->label);
		goto out;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = p11_err(a, rv, "C_Login");
		goto out;
	}
	p->logged_in = rv == CKR_OK;
	CK_OBJECT_HANDLE pub = 0, ctrs[MAX_CTR_OBJS];
	CK_ULONG nctr = 0;
	uint64_t cmax = 0;
	bool have_priv = false, have_pub = false, have_ctr;
	if ((rc = find_one(a, CKO_PRIVATE_KEY, KEY_LABEL, &p->priv, &have_priv)) ||
	    (rc = find_one(a, CKO_PUBLIC_KEY, KEY_LABEL, &pub, &have_pub)) ||
	    (rc = counter_objects(a, ctrs, &nctr, &cmax)))
		goto out;
	have_ctr = nctr > 0;
	if (have_priv != have_pub) {
		rc = agent_fail(a, SSP_ERR_TOKEN, "token %s holds half of the agent's key pair",
		                p->label);
		goto out;
	}
	if (!have_priv) {
		if (!(flags & SSP_AGENT_CREATE)) {
			rc = agent_fail(a, SSP_ERR_NOTFOUND,
			                "token %s has no agent key: run ssp-agent init first", p->label);
			goto out;
		}
		if (have_ctr) {
			/* a counter without a key: never restart it, keep counting from it */
		} else if ((rc = create_counter(a, 0))) {
			goto out;
		}
		have_ctr = true;
		if ((rc = create_key(a, &pub))) goto out;
	} else if (!have_ctr) {
		/* restarting at 0 would repeat values the device already used */
		rc = agent_fail(a, SSP_ERR_TOKEN,
		                "token %s has the agent's key but lost its counter: refusing to "
		                "reuse counter values",
		                p->label);
		goto out;
	}
	if ((rc = read_pubkey(a, pub))) goto out;
	snprintf(a->desc, sizeof a->desc, "PKCS#11 token \"%s\" (%s %s, serial %s), P-256 key",
	         p->label, manuf, model, serial);
out:
	p11_kit_uri_free(uri);
	return rc;
}
