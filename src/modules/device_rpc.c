/*
 * device_rpc.c — the device module's JSON-RPC methods (modules layer):
 * device_get, device_list, mfr_get, mfr_list, device_getAttestations.
 * Handlers run on RPC threads with this module's ssp_module_env as ctx and
 * read committed state only (a read txn and a state view, or a committed
 * scan), closed on every path. Lists are bounded (LIST_MAX per call, with a
 * `next` cursor).
 */
#include <string.h>

#include <sodium.h>

#include "device_internal.h"
#include "rpc_util.h"

#define LIST_MAX 100
#define SCAN_MAX 10000 /* entries one list call may look at (filters skip the rest) */

static json_t *jhex(const void *p, size_t n)
{
	char s[2 * SSP_PUBKEY_MAX + 1];
	if (n > SSP_PUBKEY_MAX) n = SSP_PUBKEY_MAX;
	sodium_bin2hex(s, sizeof s, p, n);
	return json_string(s);
}

static const char *mfr_status(uint8_t s)
{
	return s == SSP_MFR_PENDING ? "pending" : s == SSP_MFR_ADMITTED ? "admitted" : "revoked";
}

static const char *device_status(uint8_t s)
{
	return s == SSP_DEVICE_ACTIVE ? "active" : s == SSP_DEVICE_REVOKED ? "revoked" : "untrusted";
}

static json_t *mfr_json(const ssp_module_env *env, const ssp_mfr *m)
{
	json_t *ap = json_array();
	for (uint32_t i = 0; ap && i < m->napprovals; i++)
		json_array_append_new(ap, modrpc_jaddr(env, &m->approvals[i]));
	return json_pack("{s:s, s:s, s:o, s:I, s:o}", "name", m->name, "status",
	                 mfr_status(m->status), "account", modrpc_jaddr(env, &m->account),
	                 "registered_height", (json_int_t)m->height, "approvals",
	                 ap ? ap : json_array());
}

static json_t *attestation_json(const ssp_device *d)
{
	if (!d->attested_height) return json_null();
	return json_pack("{s:I, s:I, s:I, s:o}", "height", (json_int_t)d->attested_height, "counter",
	                 (json_int_t)d->counter, "challenge_height", (json_int_t)d->challenge_height,
	                 "firmware", jhex(d->firmware.b, 32));
}

static json_t *device_json(const ssp_module_env *env, const ssp_device *d)
{
	return json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:i, s:s, s:o, s:I, s:o}", "address",
	                 modrpc_jaddr(env, &d->address), "manufacturer", d->mfr, "model", d->model,
	                 "serial", d->serial, "key_type", ssp_key_type_name(d->key.type), "pubkey",
	                 jhex(d->key.b, d->key.len), "capabilities", (int)d->capabilities, "status",
	                 device_status(d->status), "owner",
	                 d->owned ? modrpc_jaddr(env, &d->owner) : json_null(), "enrolled_height",
	                 (json_int_t)d->enrolled_height, "last_attestation", attestation_json(d));
}

/* ------------------------------------------------------------------ params */

static int name_param(json_t *params, const char *key, bool required, const char **out,
                      ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	*out = NULL;
	if (!v && !required) return 0;
	if (!json_is_string(v) ||
	    !ssp_device_ident_valid(json_string_value(v), json_string_length(v), SSP_MFR_NAME_MAX) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "%s must be a manufacturer name: 1 to 32 characters A-Z a-z 0-9 . _ -",
		                    key);
	*out = json_string_value(v);
	return 0;
}

static int limit_param(json_t *params, size_t *limit, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, "limit") : NULL;
	*limit = LIST_MAX;
	if (!v) return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > LIST_MAX)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "limit must be 1 to %d", LIST_MAX);
	*limit = (size_t)json_integer_value(v);
	return 0;
}

/* ------------------------------------------------------------------- reads */

/* {address} or {manufacturer, serial}: the device record. */
static int read_device(const ssp_module_env *env, json_t *params, ssp_device *d,
                       ssp_rpc_error *err)
{
	ssp_addr a;
	modrpc_reader r;
	const char *mfr = NULL, *serial = NULL;
	bool by_serial = params && json_object_get(params, "serial");
	if (modrpc_obj_params(params, err)) return -1;
	if (by_serial) {
		json_t *v = json_object_get(params, "serial");
		if (name_param(params, "manufacturer", true, &mfr, err)) return -1;
		if (!json_is_string(v) ||
		    !ssp_device_ident_valid(json_string_value(v), json_string_length(v),
		                            SSP_SERIAL_MAX) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
			                    "serial must be 1 to 64 characters A-Z a-z 0-9 . _ -");
		serial = json_string_value(v);
	} else if (modrpc_addr_param(env, params, "address", true, &a, NULL, err)) {
		return -1;
	}
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	if (by_serial) {
		uint8_t k[SSP_MFR_NAME_MAX + 1 + SSP_SERIAL_MAX];
		size_t ml = strlen(mfr), sl = strlen(serial);
		const void *v;
		size_t vl;
		memcpy(k, mfr, ml);
		k[ml] = 0;
		memcpy(k + ml + 1, serial, sl);
		rc = ssp_state_get(r.st, SSP_TB_DEV_SERIAL, k, ml + 1 + sl, &v, &vl);
		if (!rc && vl != SSP_ADDR_LEN) rc = SSP_ERR_DBCORRUPT;
		if (!rc) memcpy(a.b, v, SSP_ADDR_LEN);
	}
	if (!rc) rc = ssp_device_get(r.st, &a, d);
	modrpc_reader_close(&r);
	if (rc == SSP_ERR_NOTFOUND && by_serial)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no device %s of %s is enrolled", serial,
		                    mfr);
	if (rc == SSP_ERR_NOTFOUND)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "unknown device %s",
		                    json_string_value(json_object_get(params, "address")));
	return rc ? modrpc_fail_internal(env, err, rc) : 0;
}

static int m_device_get(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_device d;
	int rc = read_device(ctx, params, &d, err);
	if (rc) return rc;
	*res = device_json(ctx, &d);
	return *res ? 0 : modrpc_fail_internal(ctx, err, SSP_ERR_NOMEM);
}

static int m_device_attestations(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_device d;
	int rc = read_device(ctx, params, &d, err);
	if (rc) return rc;
	/* the chain keeps each device's latest attestation */
	json_t *a = attestation_json(&d), *list = json_array();
	if (list && !json_is_null(a)) json_array_append(list, a);
	json_decref(a);
	*res = list ? json_pack("{s:s, s:o}", "status", device_status(d.status), "attestations", list)
	            : NULL;
	return *res ? 0 : modrpc_fail_internal(ctx, err, SSP_ERR_NOMEM);
}

static int m_mfr_get(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *name;
	ssp_mfr m;
	modrpc_reader r;
	if (modrpc_obj_params(params, err) || name_param(params, "name", true, &name, err))
		return -1;
	int rc = modrpc_reader_open(&r, env);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = ssp_device_mfr_get(r.st, name, &m);
	modrpc_reader_close(&r);
	if (rc == SSP_ERR_NOTFOUND)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "unknown manufacturer %s", name);
	if (rc) return modrpc_fail_internal(env, err, rc);
	*res = mfr_json(env, &m);
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

/* A bounded scan of one table: up to limit matching entries, then `next`. */
typedef struct {
	const ssp_module_env *env;
	json_t *items;
	size_t limit, n, seen;
	bool has_owner, has_mfr;
	ssp_addr owner;
	const char *mfr;
	char next[96];
	int err;
} lister;

static int visit_mfr(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	lister *l = arg;
	ssp_mfr m;
	if ((l->err = device_mfr_decode(&m, k, kl, v, vl))) return 1;
	if (l->n == l->limit) {
		snprintf(l->next, sizeof l->next, "%s", m.name);
		return 1;
	}
	json_t *j = mfr_json(l->env, &m);
	if (!j || json_array_append_new(l->items, j)) {
		l->err = SSP_ERR_NOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

static int visit_device(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	lister *l = arg;
	ssp_device d;
	if ((l->err = ssp_device_record_decode(&d, k, kl, v, vl))) return 1;
	if (++l->seen > SCAN_MAX) { /* bounded work per call: the caller continues from here */
		ssp_addr_encode(l->next, sizeof l->next, ssp_genesis_hrp(l->env->genesis), &d.address);
		return 1;
	}
	if (l->has_owner && (!d.owned || memcmp(d.owner.b, l->owner.b, SSP_ADDR_LEN))) return 0;
	if (l->has_mfr && strcmp(d.mfr, l->mfr)) return 0;
	if (l->n == l->limit) {
		ssp_addr_encode(l->next, sizeof l->next, ssp_genesis_hrp(l->env->genesis), &d.address);
		return 1;
	}
	json_t *j = device_json(l->env, &d);
	if (!j || json_array_append_new(l->items, j)) {
		l->err = SSP_ERR_NOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

static int finish_list(lister *l, int rc, const char *key, json_t **res, ssp_rpc_error *err)
{
	if (!rc) rc = l->err;
	if (rc) {
		json_decref(l->items);
		return modrpc_fail_internal(l->env, err, rc);
	}
	*res = json_pack("{s:o, s:o}", key, l->items,
	                 "next", l->next[0] ? json_string(l->next) : json_null());
	return *res ? 0 : modrpc_fail_internal(l->env, err, SSP_ERR_NOMEM);
}

static int m_mfr_list(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	const char *start;
	lister l = {.env = env};
	ssp_txn *rt;
	if (modrpc_obj_params(params, err) || name_param(params, "start", false, &start, err) ||
	    limit_param(params, &l.limit, err))
		return -1;
	if (!(l.items = json_array())) return modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
	int rc = ssp_store_read(env->store, &rt);
	if (!rc) {
		rc = ssp_chain_state_scan(env->chain, rt, SSP_TB_DEV_MFR, start,
		                          start ? strlen(start) : 0, visit_mfr, &l);
		ssp_txn_end(rt);
	}
	return finish_list(&l, rc == 1 ? 0 : rc, "manufacturers", res, err);
}

static int m_device_list(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	const ssp_module_env *env = ctx;
	lister l = {.env = env};
	ssp_addr start;
	bool has_start = false;
	ssp_txn *rt;
	if (modrpc_obj_params(params, err) ||
	    modrpc_addr_param(env, params, "owner", false, &l.owner, &l.has_owner, err) ||
	    name_param(params, "manufacturer", false, &l.mfr, err) ||
	    modrpc_addr_param(env, params, "start", false, &start, &has_start, err) ||
	    limit_param(params, &l.limit, err))
		return -1;
	l.has_mfr = l.mfr != NULL;
	if (!(l.items = json_array())) return modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
	int rc = ssp_store_read(env->store, &rt);
	if (!rc) {
		rc = ssp_chain_state_scan(env->chain, rt, SSP_TB_DEVICE, has_start ? start.b : NULL,
		                          has_start ? SSP_ADDR_LEN : 0, visit_device, &l);
		ssp_txn_end(rt);
	}
	return finish_list(&l, rc == 1 ? 0 : rc, "devices", res, err);
}

const ssp_rpc_method ssp_device_methods[DEVICE_NMETHODS] = {
    {"device_get", m_device_get, NULL},
    {"device_list", m_device_list, NULL},
    {"device_getAttestations", m_device_attestations, NULL},
    {"mfr_get", m_mfr_get, NULL},
    {"mfr_list", m_mfr_list, NULL},
};
