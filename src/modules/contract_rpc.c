/*
 * contract_rpc.c — the contract module's JSON-RPC methods (modules layer):
 * contract_query (a view function run against the committed state, no tx),
 * contract_getCode and contract_getEvents. Handlers run on RPC threads:
 * they read through an LMDB read txn and a read-only state view; queries
 * share one VM behind the module's mutex (never the chain owner's VM).
 */
#include <stdlib.h>
#include <string.h>

#include "contract_internal.h"
#include "rpc_util.h"

#define RPC_CONTRACT_ERROR (-32010) /* the contract failed; data {error, reason, gas_used} */
#define EVENTS_RANGE_MAX 10000      /* blocks scanned by one contract_getEvents */
#define EVENTS_LIMIT_MAX 1000       /* events returned by one contract_getEvents */
#define RECEIPTS_SCAN_MAX 200000    /* receipts read by one contract_getEvents */

static const char *env_hrp(const ssp_module_env *env)
{
	return ssp_genesis_hrp(env->genesis);
}

static json_t *jhex(const void *p, size_t n)
{
	char s[65];
	if (n > 32) return NULL;
	ssp_hex_encode(s, p, n);
	return json_string(s);
}

static json_t *jamount(uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, SSP_DECIMALS);
	return json_string(s);
}

static int addr_param(const ssp_module_env *env, json_t *params, const char *key, bool required,
                      ssp_addr *out, bool *given, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (given) *given = v != NULL;
	if (!v && !required) return 0;
	if (!json_is_string(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s must be a string", key);
	int rc = ssp_addr_decode(out, env_hrp(env), json_string_value(v));
	if (rc) return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "%s: %s", key, ssp_strerror(rc));
	return 0;
}

static int u64_param(json_t *params, const char *key, uint64_t *out, bool *given,
                     ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	*given = v != NULL;
	if (!v) return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "%s must be a non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Encodes the optional "args" array as the canonical argument table. */
static int args_param(json_t *params, ssp_buf *b, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, "args") : NULL;
	json_t *empty = NULL;
	int rc;
	if (!v || json_is_null(v)) v = empty = json_array();
	if (!json_is_array(v))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "args must be an array");
	rc = ssp_val_from_json(b, v);
	json_decref(empty);
	if (!rc) rc = b->err;
	if (rc)
		return ssp_rpc_fail(
		    err, SSP_RPC_INVALID_PARAMS,
		    "args: %s (integers, strings, booleans, null, arrays and objects; "
		    "no floats)",
		    ssp_strerror(rc));
	return 0;
}

static int fn_param(json_t *params, char *fn, ssp_rpc_error *err)
{
	json_t *v = params ? json_object_get(params, "function") : NULL;
	size_t n = json_string_length(v);
	if (!json_is_string(v) || n == 0 || n > SSP_VM_NAME_MAX)
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "function must be a name of 1 to %d characters",
		                    SSP_VM_NAME_MAX);
	memcpy(fn, json_string_value(v), n + 1);
	return 0;
}

/* A read txn and a read-only state view over it, and the head. */
typedef struct {
	modrpc_reader r;
	ssp_head head;
} view;

static int view_open(const ssp_module_env *env, view *v)
{
	memset(v, 0, sizeof *v);
	int rc = modrpc_reader_open(&v->r, env);
	if (!rc && (rc = ssp_chain_read_head(env->chain, v->r.rt, &v->head)))
		modrpc_reader_close(&v->r);
	return rc;
}

static int no_contract(const ssp_module_env *env, ssp_rpc_error *err, const ssp_addr *a)
{
	char s[96];
	ssp_addr_encode(s, sizeof s, env_hrp(env), a);
	return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "no contract at %s", s);
}

/* ----------------------------------------------------------- contract_query */

static int m_query(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_module_env *env = ctx;
	contract_priv *p = env->priv;
	ssp_addr addr, from = {{0}};
	char fn[SSP_VM_NAME_MAX + 1];
	ssp_buf args;
	ssp_contract_info ci;
	ssp_vm_result r;
	view v;
	int rc, out = 0;
	if (modrpc_obj_params(params, err) ||
	    addr_param(env, params, "address", true, &addr, NULL, err) ||
	    fn_param(params, fn, err) || addr_param(env, params, "from", false, &from, NULL, err))
		return -1;
	ssp_buf_init(&args, SSP_CONTRACT_ARGS_MAX);
	if (args_param(params, &args, err)) {
		ssp_buf_free(&args);
		return -1;
	}
	memset(&r, 0, sizeof r);
	rc = view_open(env, &v);
	if (rc) {
		ssp_buf_free(&args);
		return modrpc_fail_internal(env, err, rc);
	}
	rc = ssp_contract_get(v.r.st, &addr, &ci);
	if (rc) {
		modrpc_reader_close(&v.r);
		ssp_buf_free(&args);
		return rc == SSP_ERR_NOTFOUND ? no_contract(env, err, &addr)
		                              : modrpc_fail_internal(env, err, rc);
	}
	/* a tx context over the view: reads only (the VM and the host refuse writes) */
	ssp_receipt scratch = {0};
	ssp_txctx c = {.st = v.r.st,
	               .params = ssp_genesis_params(env->genesis),
	               .chain_id = ssp_genesis_chain_id(env->genesis),
	               .hrp = env_hrp(env),
	               .height = v.head.height,
	               .time_ms = v.head.timestamp_ms,
	               .rcpt = &scratch};
	contract_exec x = {.vm = p->vm, .c = &c, .origin = from, .view = true};
	contract_frame f;
	contract_frame_init(&f, &x, NULL, &addr, &from, 0);
	pthread_mutex_lock(&p->lock);
	rc = contract_run(&f, &ci, SSP_VM_MODE_VIEW, fn, args.data, args.len,
	                  SSP_CONTRACT_QUERY_GAS, &r);
	pthread_mutex_unlock(&p->lock);
	ssp_vm_abi_free(&ci.abi);
	ssp_receipt_free(&scratch);
	modrpc_reader_close(&v.r);
	ssp_buf_free(&args);
	if (!rc) rc = x.fatal;
	if (rc == SSP_ERR_VM_NODELIMIT) {
		ssp_vm_result_free(&r);
		return ssp_rpc_fail(
		    err, RPC_CONTRACT_ERROR,
		    "contract error: the call passed this node's resource limits (%s)",
		    ssp_errname(rc));
	}
	if (rc) {
		ssp_vm_result_free(&r);
		return modrpc_fail_internal(env, err, rc);
	}
	if (r.status) {
		ssp_rpc_fail(err, RPC_CONTRACT_ERROR, "contract error: %s",
		             r.error[0] ? r.error : ssp_strerror(r.status));
		err->data = json_pack("{s:s, s:s, s:I}", "error", ssp_errname(r.status), "reason",
		                      r.error[0] ? r.error : ssp_strerror(r.status), "gas_used",
		                      (json_int_t)r.gas_used);
		out = -1;
	} else {
		json_t *ret = NULL;
		rc = r.ret.len == 0 ? 0 : ssp_val_to_json(&ret, r.ret.data, r.ret.len);
		if (!rc && !ret) ret = json_null();
		if (rc && rc != SSP_ERR_NOMEM) {
			/*
			 * The call worked, but its value has no JSON form (a string
			 * that is not UTF-8, say): say so, with the value's canonical
			 * bytes, instead of calling it an internal error.
			 */
			ssp_rpc_fail(err, RPC_CONTRACT_ERROR,
			             "contract error: the return value cannot be given as JSON (a "
			             "string that is not UTF-8?): %s; its canonical bytes are in "
			             "data.raw",
			             ssp_strerror(rc));
			err->data =
			    json_pack("{s:s, s:s, s:o, s:I}", "error", "RETURN_NOT_JSON", "reason",
			              ssp_strerror(rc), "raw", jhex(r.ret.data, r.ret.len),
			              "gas_used", (json_int_t)r.gas_used);
			out = -1;
		} else {
			*res = ret ? json_pack("{s:o, s:I}", "return", ret, "gas_used",
			                       (json_int_t)r.gas_used)
			           : NULL;
			if (!*res) out = modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
		}
	}
	ssp_vm_result_free(&r);
	return out;
}

/* ---------------------------------------------------------- contract_getCode */

static int m_get_code(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_module_env *env = ctx;
	ssp_addr addr;
	ssp_contract_info ci;
	ssp_account acc;
	view v;
	if (modrpc_obj_params(params, err) ||
	    addr_param(env, params, "address", true, &addr, NULL, err))
		return -1;
	int rc = view_open(env, &v);
	if (rc) return modrpc_fail_internal(env, err, rc);
	rc = ssp_contract_get(v.r.st, &addr, &ci);
	if (rc) {
		modrpc_reader_close(&v.r);
		return rc == SSP_ERR_NOTFOUND ? no_contract(env, err, &addr)
		                              : modrpc_fail_internal(env, err, rc);
	}
	rc = ssp_state_account(v.r.st, &addr, &acc);
	json_t *fns = json_array();
	for (size_t i = 0; fns && i < ci.abi.nfns; i++)
		json_array_append_new(
		    fns, json_pack("{s:s, s:b, s:b}", "name", ci.abi.fns[i].name, "payable",
		                   (ci.abi.fns[i].kind & SSP_VM_FN_PAYABLE) != 0, "view",
		                   (ci.abi.fns[i].kind & SSP_VM_FN_VIEW) != 0));
	*res = rc ? NULL
	          : json_pack("{s:o, s:o, s:s%, s:I, s:o, s:I, s:I, s:o, s:b, s:o}", "address",
	                      modrpc_jaddr(env, &addr), "code_hash", jhex(ci.code_hash.b, 32),
	                      "source", (const char *)ci.src, ci.src_len, "source_size",
	                      (json_int_t)ci.src_len, "creator", modrpc_jaddr(env, &ci.creator),
	                      "height", (json_int_t)ci.height, "nonce", (json_int_t)ci.nonce,
	                      "balance", jamount(acc.balance), "has_init", ci.abi.has_init,
	                      "functions", fns);
	if (rc || !*res) json_decref(fns);
	ssp_vm_abi_free(&ci.abi);
	modrpc_reader_close(&v.r);
	return *res ? 0 : modrpc_fail_internal(env, err, rc ? rc : SSP_ERR_NOMEM);
}

/* -------------------------------------------------------- contract_getEvents */

static json_t *event_json(const ssp_module_env *env, uint64_t height, const ssp_receipt *r,
                          uint32_t index, uint32_t evi, const ssp_event *ev)
{
	json_t *fields = NULL;
	if (ssp_val_to_json(&fields, ev->fields, ev->fields_len)) fields = json_null();
	return json_pack("{s:I, s:o, s:I, s:I, s:s, s:o}", "height", (json_int_t)height, "txid",
	                 jhex(r->txid.b, 32), "index", (json_int_t)index, "event_index",
	                 (json_int_t)evi, "name", ev->name, "fields", fields);
}

static int m_get_events(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_module_env *env = ctx;
	ssp_addr addr;
	ssp_txn *rt = NULL;
	ssp_head head;
	uint64_t from = 0, to = 0, limit = EVENTS_LIMIT_MAX;
	bool has_from, has_to, has_limit;
	const char *name = NULL;
	if (modrpc_obj_params(params, err) ||
	    addr_param(env, params, "address", true, &addr, NULL, err) ||
	    u64_param(params, "from_height", &from, &has_from, err) ||
	    u64_param(params, "to_height", &to, &has_to, err) ||
	    u64_param(params, "limit", &limit, &has_limit, err))
		return -1;
	json_t *jn = params ? json_object_get(params, "name") : NULL;
	if (jn &&
	    (!json_is_string(jn) || json_string_length(jn) == 0 || json_string_length(jn) > 64))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS,
		                    "name must be a string of 1 to 64 bytes");
	if (jn) name = json_string_value(jn);
	if (has_limit && (limit == 0 || limit > EVENTS_LIMIT_MAX))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "limit must be 1 to %d",
		                    EVENTS_LIMIT_MAX);
	int rc = ssp_store_read(env->store, &rt);
	if (!rc) rc = ssp_chain_read_head(env->chain, rt, &head);
	if (rc) {
		if (rt) ssp_txn_end(rt);
		return modrpc_fail_internal(env, err, rc);
	}
	if (!has_to || to > head.height) to = head.height;
	if (!has_from) from = to >= EVENTS_RANGE_MAX ? to - EVENTS_RANGE_MAX + 1 : 0;
	if (from > to) {
		ssp_txn_end(rt);
		*res = json_pack("{s:[], s:I, s:I, s:b}", "events", "from_height", (json_int_t)from,
		                 "to_height", (json_int_t)to, "truncated", false);
		return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
	}
	if (to - from >= EVENTS_RANGE_MAX) {
		ssp_txn_end(rt);
		return ssp_rpc_fail(err, SSP_RPC_LIMIT, "at most %d blocks per request",
		                    EVENTS_RANGE_MAX);
	}
	json_t *evs = json_array();
	bool truncated = false;
	uint64_t scanned = 0, h;
	for (h = from; h <= to && evs && !truncated && !rc; h++) {
		for (uint32_t i = 0;; i++) {
			ssp_receipt r;
			if (++scanned > RECEIPTS_SCAN_MAX) {
				truncated = true;
				break;
			}
			rc = ssp_chain_read_receipt(env->chain, rt, h, i, &r);
			if (rc == SSP_ERR_NOTFOUND) {
				rc = 0;
				break;
			}
			if (rc) break;
			size_t off = 0;
			ssp_event ev;
			int more;
			for (uint32_t evi = 0;
			     (more = ssp_events_next(r.events, r.events_len, &off, &ev)) == 1;
			     evi++) {
				if (memcmp(ev.emitter.b, addr.b, SSP_ADDR_LEN)) continue;
				if (name && strcmp(ev.name, name)) continue;
				if (json_array_size(evs) == limit) {
					truncated = true;
					break;
				}
				json_array_append_new(evs, event_json(env, h, &r, i, evi, &ev));
			}
			ssp_receipt_free(&r);
			if (more < 0) rc = SSP_ERR_DBCORRUPT;
			if (rc || truncated) break;
		}
	}
	ssp_txn_end(rt);
	if (rc || !evs) {
		json_decref(evs);
		return modrpc_fail_internal(env, err, rc ? rc : SSP_ERR_NOMEM);
	}
	/* with truncated, next_height is where to continue (events of that block may repeat) */
	*res = json_pack("{s:o, s:I, s:I, s:b}", "events", evs, "from_height", (json_int_t)from,
	                 "to_height", (json_int_t)to, "truncated", truncated);
	if (*res && truncated)
		json_object_set_new(*res, "next_height", json_integer((json_int_t)(h - 1)));
	return *res ? 0 : modrpc_fail_internal(env, err, SSP_ERR_NOMEM);
}

const ssp_rpc_method contract_rpc_methods[CONTRACT_RPC_NMETHODS] = {
    {"contract_query", m_query, NULL},
    {"contract_getCode", m_get_code, NULL},
    {"contract_getEvents", m_get_events, NULL},
};
