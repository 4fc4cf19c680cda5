/*
 * test_vm_host.c — the contract VM with a host (vm layer): the contract
 * templates in contracts/ end to end, the ssp.* / storage.* / token.* API,
 * modes (init, call, view), payable and registered functions, nested calls
 * (values, protected calls reverting, uncatchable failures, re-entrancy,
 * depth, gas allowances), node-local failures reported as errors, and gas
 * that does not depend on whether a pooled state was cold or warm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm_fixture.h"

#define G 5000000

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[8][SSP_VM_SOURCE_MAX + 1];
	static int next;
	char *b = buf[next++ % 8];
	size_t n = fread(b, 1, SSP_VM_SOURCE_MAX, f);
	b[n] = 0;
	fclose(f);
	return b;
}

static fx_out ok(fx_out o)
{
	if (o.rc || o.status)
		fprintf(stderr, "unexpected %d %s: %s\n", o.rc, ssp_errname(o.status), o.error);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.status, 0);
	return o;
}

static fx_out fails(fx_out o, int status, const char *needle)
{
	if (o.status != status || !strstr(o.error, needle))
		fprintf(stderr, "got %s: %s (want %s: %s)\n", ssp_errname(o.status), o.error,
		        ssp_errname(status), needle);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.status, status);
	assert_non_null(strstr(o.error, needle));
	return o;
}

static void addr(char *out, int seed)
{
	fx_addr_str(out, seed);
}

static void test_escrow(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	const char *src = slurp("contracts/escrow.lua");
	ssp_vm_abi abi;
	char err[256];
	assert_int_equal(ssp_vm_check(w->vm, src, strlen(src), G, &abi, err, sizeof err), 0);
	assert_true(abi.has_init);
	assert_int_equal(abi.nfns, 5);
	assert_string_equal(abi.fns[0].name, "deals");
	assert_int_equal(abi.fns[0].kind, SSP_VM_FN_CALL | SSP_VM_FN_VIEW);
	assert_string_equal(abi.fns[1].name, "deposit");
	assert_int_equal(abi.fns[1].kind, SSP_VM_FN_CALL | SSP_VM_FN_PAYABLE);
	ssp_vm_abi_free(&abi);
	fx_contract *k = fx_add(w, 20, src);
	ok(fx_run(w, k, SSP_VM_MODE_INIT, NULL, "[10]", 1, 0, G));
	ssp_addr buyer = fx_addr(2), seller_a = fx_addr(3);
	*fx_balance_ref(w, &buyer) = 10000;
	char seller[96], args[256];
	addr(seller, 3);
	snprintf(args, sizeof args, "[\"%s\"]", seller);
	fx_out o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "deposit", args, 2, 1000, G));
	assert_string_equal(o.ret, "1");
	assert_string_equal(w->st.ev[0].name, "Deposited");
	assert_non_null(strstr(w->st.ev[0].fields, "\"amount\":1000"));
	assert_non_null(strstr(w->st.ev[0].fields, "\"deadline\":110"));
	o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "deposit", args, 2, 500, G));
	assert_string_equal(o.ret, "2");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "deposit", args, 2, 0, G), SSP_ERR_VM_ERROR,
	      "send the amount");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "release", "[1]", 2, 5, G), SSP_ERR_VM_NOTPAYABLE,
	      "does not accept");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "release", "[1]", 3, 0, G), SSP_ERR_VM_ERROR,
	      "only the buyer");
	o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "release", "[1]", 2, 0, G));
	assert_string_equal(o.ret, "1000");
	assert_true(*fx_balance_ref(w, &seller_a) == 1000);
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "refund", "[2]", 2, 0, G), SSP_ERR_VM_ERROR,
	      "the deal runs until block 110 (now 100)");
	w->height = 110;
	o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "refund", "[2]", 2, 0, G));
	assert_true(*fx_balance_ref(w, &buyer) == 10000 - 1000);
	o = ok(fx_run(w, k, SSP_VM_MODE_VIEW, "get", "[2]", 9, 0, G));
	assert_non_null(strstr(o.ret, "\"state\":\"refunded\""));
	o = ok(fx_run(w, k, SSP_VM_MODE_VIEW, "deals", NULL, 9, 0, G));
	assert_string_equal(o.ret, "2");
	fails(fx_run(w, k, SSP_VM_MODE_VIEW, "release", "[1]", 9, 0, G), SSP_ERR_VM_NOFN,
	      "not a view");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "init", "[1]", 9, 0, G), SSP_ERR_VM_NOFN, "init");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "deal_key", "[1]", 9, 0, G), SSP_ERR_VM_NOFN,
	      "deal_key");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "nothing", NULL, 9, 0, G), SSP_ERR_VM_NOFN, "nothing");
	fx_free(w);
}

static void test_iot20_and_parking(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *t = fx_add(w, 21, slurp("contracts/iot20.lua"));
	ok(fx_run(w, t, SSP_VM_MODE_INIT, NULL, "[\"PARK\", \"Parking credits\", 2, 100000, 1000]",
	          1, 0, G));
	char a1[96], a2[96], a3[96], args[400];
	addr(a1, 1);
	addr(a2, 2);
	addr(a3, 3);
	snprintf(args, sizeof args, "[\"%s\", 300]", a2);
	ok(fx_run(w, t, SSP_VM_MODE_CALL, "transfer", args, 1, 0, G));
	snprintf(args, sizeof args, "[\"%s\"]", a2);
	assert_string_equal(ok(fx_run(w, t, SSP_VM_MODE_VIEW, "balanceOf", args, 9, 0, G)).ret,
	                    "300");
	snprintf(args, sizeof args, "[\"%s\", 100]", a3);
	ok(fx_run(w, t, SSP_VM_MODE_CALL, "approve", args, 2, 0, G));
	snprintf(args, sizeof args, "[\"%s\", \"%s\", 60]", a2, a1);
	ok(fx_run(w, t, SSP_VM_MODE_CALL, "transferFrom", args, 3, 0, G));
	fails(fx_run(w, t, SSP_VM_MODE_CALL, "transferFrom", args, 3, 0, G), SSP_ERR_VM_ERROR,
	      "allowance exceeded");
	snprintf(args, sizeof args, "[\"%s\"]", a1);
	assert_string_equal(ok(fx_run(w, t, SSP_VM_MODE_VIEW, "balanceOf", args, 9, 0, G)).ret,
	                    "760");
	assert_string_equal(ok(fx_run(w, t, SSP_VM_MODE_VIEW, "totalSupply", NULL, 9, 0, G)).ret,
	                    "1000");
	assert_string_equal(ok(fx_run(w, t, SSP_VM_MODE_CALL, "symbol", NULL, 9, 0, G)).ret,
	                    "\"PARK\"");
	fails(fx_run(w, t, SSP_VM_MODE_CALL, "burn", "[\"5\"]", 1, 0, G), SSP_ERR_VM_ERROR,
	      "integers");

	fx_contract *p = fx_add(w, 22, slurp("contracts/parking.lua"));
	ok(fx_run(w, p, SSP_VM_MODE_INIT, NULL, "[100, 60000]", 5, 0, G));
	ssp_addr car = fx_addr(6);
	*fx_balance_ref(w, &car) = 100000;
	ok(fx_run(w, p, SSP_VM_MODE_CALL, "enter", NULL, 6, 1000, G));
	w->time_ms += 150000; /* 2.5 minutes: 3 started minutes */
	char carstr[96];
	addr(carstr, 6);
	snprintf(args, sizeof args, "[\"%s\"]", carstr);
	fx_out q = ok(fx_run(w, p, SSP_VM_MODE_VIEW, "quote", args, 9, 0, G));
	assert_string_equal(q.ret,
	                    "{\"deposit\":1000,\"due\":300,\"minutes\":3,\"since\":1700000000000}");
	fx_out x = ok(fx_run(w, p, SSP_VM_MODE_CALL, "exit", NULL, 6, 0, G));
	assert_string_equal(x.ret, "{\"minutes\":3,\"paid\":300,\"refund\":700}");
	ssp_addr gate = fx_addr(5);
	assert_true(*fx_balance_ref(w, &gate) == 300);
	assert_true(*fx_balance_ref(w, &car) == 100000 - 300);
	fx_free(w);
}

static const char api_src[] =
    "function info() return {sender = ssp.sender(), origin = ssp.origin(), self = ssp.self(),\n"
    "  value = ssp.value(), height = ssp.height(), time = ssp.time()} end\n"
    "function hash(s) return ssp.sha256(s) end\n"
    "function ver(kt, pk, msg, sig) return ssp.verify(kt, pk, msg, sig) end\n"
    "function bal(a) return ssp.balance(a) end\n"
    "function pay(to, n) ssp.transfer(to, n) return ssp.balance(ssp.self()) end\n"
    "function store() storage.set('a', {x = 1, y = {'z'}}) storage.set('n', 5) local v = "
    "storage.get('a')\n"
    "  storage.set('n', nil) return {v, storage.get('n'), storage.get('missing')} end\n"
    "function keys() return {pcall(storage.set, '', 1), (pcall(storage.set, ('k'):rep(257), 1)),\n"
    "  (pcall(storage.set, ('k'):rep(256), 1))} end\n"
    "function big() storage.set('big', ('v'):rep(16000)) local t = {} for i = 1, 5 do t[i] = "
    "('w'):rep(16000) end\n"
    "  storage.set('bigger', t) end\n"
    "function ev() ssp.emit('Thing', {a = 1, b = 'two'}) ssp.emit('Empty') return true end\n"
    "function badev() ssp.emit('bad name', {}) end\n"
    "function tok() return {token.balance('T', ssp.sender()), token.transfer('T', ssp.sender(), "
    "5),\n"
    "  select(2, pcall(token.burn, 'T', 1))} end\n"
    "function vtok() return token.balance('T') end\n"
    "function vwrite() token.transfer('T', 'x', 1) end\n"
    "function vstore() storage.set('x', 1) end\n"
    "function io() return storage.get('!io') end\n"
    "abi.register(hash, ver, bal, pay, store, keys, big, ev, badev, tok, io)\n"
    "abi.payable(info)\n"
    "abi.view(vtok, vwrite, vstore)\n";

static void test_api(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *k = fx_add(w, 30, api_src);
	char a1[96], self[96], want[600], args[600];
	addr(a1, 1);
	addr(self, 30);
	ssp_addr sender = fx_addr(1);
	*fx_balance_ref(w, &sender) = 100;
	fx_out o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "info", NULL, 1, 7, G));
	snprintf(want, sizeof want,
	         "{\"height\":100,\"origin\":\"%s\",\"self\":\"%s\",\"sender\":\"%s\",\"time\":"
	         "1700000000000,"
	         "\"value\":7}",
	         a1, self, a1);
	assert_string_equal(o.ret, want);
	o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "hash", "[\"abc\"]", 1, 0, G));
	assert_string_equal(o.ret,
	                    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
	/* a real Ed25519 signature over SHA-256(msg) */
	ssp_seckey sk;
	ssp_pubkey pk;
	assert_int_equal(ssp_core_init(), 0);
	assert_int_equal(ssp_key_generate(&sk, &pk, SSP_KEY_ED25519), 0);
	ssp_hash d;
	ssp_sha256(&d, "meter 42", 8);
	ssp_sig sig;
	assert_int_equal(ssp_sign_digest(&sig, &sk, &d), 0);
	char pkh[80], sigh[140];
	ssp_hex_encode(pkh, pk.b, pk.len);
	ssp_hex_encode(sigh, sig.b, SSP_SIG_LEN);
	snprintf(args, sizeof args, "[\"ed25519\", \"%s\", \"meter 42\", \"%s\"]", pkh, sigh);
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "ver", args, 1, 0, G)).ret, "true");
	snprintf(args, sizeof args, "[\"ed25519\", \"%s\", \"meter 43\", \"%s\"]", pkh, sigh);
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "ver", args, 1, 0, G)).ret, "false");
	snprintf(args, sizeof args, "[\"ed25519\", \"zz\", \"meter 42\", \"%s\"]", sigh);
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "ver", args, 1, 0, G)).ret, "false");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "ver", "[\"rsa\", \"00\", \"m\", \"00\"]", 1, 0, G),
	      SSP_ERR_VM_ERROR, "unknown key type");
	ssp_seckey_wipe(&sk);
	/* balances and transfers */
	snprintf(args, sizeof args, "[\"%s\"]", a1);
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "bal", args, 1, 0, G)).ret, "93");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "bal", "[\"ssp1nope\"]", 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid address");
	ok(fx_run(w, k, SSP_VM_MODE_CALL, "info", NULL, 1, 50, G)); /* the contract now holds 57 */
	snprintf(args, sizeof args, "[\"%s\", 20]", a1);
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "pay", args, 1, 0, G)).ret, "37");
	snprintf(args, sizeof args, "[\"%s\", 2000]", a1);
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "pay", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "insufficient balance");
	/* storage */
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "store", NULL, 1, 0, G)).ret,
	                    "[{\"x\":1,\"y\":[\"z\"]}]");
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "keys", NULL, 1, 0, G)).ret,
	                    "[false,false,true]");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "big", NULL, 1, 0, G), SSP_ERR_VM_VALUE,
	      "larger than 65536");
	/* events */
	int before = w->st.nev;
	ok(fx_run(w, k, SSP_VM_MODE_CALL, "ev", NULL, 1, 0, G));
	assert_int_equal(w->st.nev, before + 2);
	assert_string_equal(w->st.ev[before].name, "Thing");
	assert_string_equal(w->st.ev[before].fields, "{\"a\":1,\"b\":\"two\"}");
	assert_string_equal(w->st.ev[before + 1].fields, "[]");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "badev", NULL, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid event name");
	/* tokens */
	o = ok(fx_run(w, k, SSP_VM_MODE_CALL, "tok", NULL, 1, 0, G));
	snprintf(want, sizeof want, "[777,true,\"token.burn: insufficient balance\"]");
	assert_string_equal(o.ret, want);
	snprintf(want, sizeof want, "[\"T\",1]");
	assert_string_equal(w->last_token_op, "burn");
	assert_string_equal(w->last_token_args, want);
	/* view mode forbids every state change, uncatchably */
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_VIEW, "vtok", NULL, 1, 0, G)).ret, "777");
	fails(fx_run(w, k, SSP_VM_MODE_VIEW, "vwrite", NULL, 1, 0, G), SSP_ERR_VM_VIEW,
	      "token.transfer");
	fails(fx_run(w, k, SSP_VM_MODE_VIEW, "vstore", NULL, 1, 0, G), SSP_ERR_VM_VIEW,
	      "storage.set");
	/* value only to payable functions; args must be 1..n */
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "hash", "[\"x\"]", 1, 1, G), SSP_ERR_VM_NOTPAYABLE,
	      "hash");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "hash", "{\"a\": 1}", 1, 0, G), SSP_ERR_VM_VALUE,
	      "args");
	/* a failing disk is the node's problem, not the contract's result */
	o = fx_run(w, k, SSP_VM_MODE_CALL, "io", NULL, 1, 0, G);
	assert_int_equal(o.rc, SSP_ERR_IO);
	/* and the VM goes on */
	ok(fx_run(w, k, SSP_VM_MODE_CALL, "hash", "[\"x\"]", 1, 0, G));
	fx_free(w);
}

static const char callee_src[] =
    "function get() return storage.get('x') end\n"
    "function set(v) storage.set('x', v) ssp.emit('Set', {v = v}) return {v = v} end\n"
    "function fail(v) storage.set('x', v) error('nope') end\n"
    "function burn() while true do end end\n"
    "function back(a) return ssp.call(a, 'ping') end\n"
    "function who() return {ssp.sender(), ssp.origin(), ssp.value()} end\n"
    "function chain(addrs, i) if i > #addrs then return i end return ssp.call(addrs[i], 'chain', "
    "addrs, i + 1) end\n"
    "function peek() return storage.get('x') end\n"
    "abi.register(get, set, fail, burn, back, chain)\n"
    "abi.payable(who)\n"
    "abi.view(peek)\n";

static const char caller_src[] =
    "function ping() return 'pong' end\n"
    "function call_set(b) return ssp.call(b, 'set', 7) end\n"
    "function pcall_fail(b) local ok, e = ssp.pcall(b, 'fail', 9) return {ok, e, ssp.call(b, "
    "'get')} end\n"
    "function call_fail(b) local ok, e = pcall(ssp.call, b, 'fail', 9) return 'caught' end\n"
    "function reenter(b) return ssp.call(b, 'back', ssp.self()) end\n"
    "function preenter(b) local ok, e = ssp.pcall(b, 'back', ssp.self()) return {ok, e} end\n"
    "function oog(b) return ssp.pcall(b, 'burn') end\n"
    "function bounded(b) local ok, e = ssp.pcall({to = b, gas = 50000}, 'burn') return {ok, e} "
    "end\n"
    "function withvalue(b) return ssp.call({to = b, value = 10}, 'who') end\n"
    "function nofn(b) return {ssp.pcall(b, 'missing')} end\n"
    "function twice(b) ssp.call(b, 'set', 1) return ssp.call(b, 'get') end\n"
    "function vpeek(b) return ssp.call(b, 'peek') end\n"
    "function vset(b) return ssp.call(b, 'set', 1) end\n"
    "function vpay(b) return ssp.call({to = b, value = 1}, 'peek') end\n"
    "abi.register(ping, call_set, pcall_fail, call_fail, reenter, preenter, oog, bounded, "
    "withvalue, nofn, twice)\n"
    "abi.view(vpeek, vset, vpay)\n";

static void test_nested(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *a = fx_add(w, 40, caller_src);
	fx_add(w, 41, callee_src);
	char b[96], aa[96], args[256], want[600];
	addr(b, 41);
	addr(aa, 40);
	snprintf(args, sizeof args, "[\"%s\"]", b);
	assert_string_equal(ok(fx_run(w, a, SSP_VM_MODE_CALL, "call_set", args, 1, 0, G)).ret,
	                    "{\"v\":7}");
	int ev = w->st.nev;
	/* a protected call that fails is reverted (storage and events) */
	assert_string_equal(ok(fx_run(w, a, SSP_VM_MODE_CALL, "pcall_fail", args, 1, 0, G)).ret,
	                    "[false,\"contract:3: nope\",7]");
	assert_int_equal(w->st.nev, ev);
	/* an unprotected failure cannot be caught: the caller ends with it */
	fails(fx_run(w, a, SSP_VM_MODE_CALL, "call_fail", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "ssp.call failed: contract:3: nope");
	/* a -> b -> a */
	fails(fx_run(w, a, SSP_VM_MODE_CALL, "reenter", args, 1, 0, G), SSP_ERR_VM_REENTRY,
	      "re-entrant");
	fx_out o = ok(fx_run(w, a, SSP_VM_MODE_CALL, "preenter", args, 1, 0, G));
	assert_non_null(strstr(o.ret, "false"));
	assert_non_null(strstr(o.ret, "re-entrant"));
	/* the callee may use all the gas left: its running out ends the caller too */
	o = fx_run(w, a, SSP_VM_MODE_CALL, "oog", args, 1, 0, 400000);
	assert_int_equal(o.status, SSP_ERR_VM_GAS);
	assert_true(o.gas == 400000);
	/* unless it was given an allowance */
	o = ok(fx_run(w, a, SSP_VM_MODE_CALL, "bounded", args, 1, 0, 400000));
	assert_string_equal(o.ret, "[false,\"out of gas\"]");
	assert_true(o.gas > 50000 && o.gas < 60000);
	/* value and identities */
	ssp_addr aaddr = fx_addr(40);
	*fx_balance_ref(w, &aaddr) = 10;
	o = ok(fx_run(w, a, SSP_VM_MODE_CALL, "withvalue", args, 1, 0, G));
	char a1[96];
	addr(a1, 1);
	snprintf(want, sizeof want, "[\"%s\",\"%s\",10]", aa, a1);
	assert_string_equal(o.ret, want);
	o = ok(fx_run(w, a, SSP_VM_MODE_CALL, "nofn", args, 1, 0, G));
	assert_non_null(strstr(o.ret, "no callable function"));
	/* a view may call views, without value (9: the fake host keeps what call_fail's callee
	 * wrote) */
	assert_string_equal(ok(fx_run(w, a, SSP_VM_MODE_VIEW, "vpeek", args, 1, 0, G)).ret, "9");
	fails(fx_run(w, a, SSP_VM_MODE_VIEW, "vset", args, 1, 0, G), SSP_ERR_VM_NOFN,
	      "not a view function");
	fails(fx_run(w, a, SSP_VM_MODE_VIEW, "vpay", args, 1, 0, G), SSP_ERR_VM_VIEW, "with value");
	fx_free(w);
}

static void test_depth(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	char list[2048] = "[[";
	for (int i = 0; i < 12; i++) {
		fx_add(w, 50 + i, callee_src);
		char s[96];
		addr(s, 50 + i);
		strcat(list, i ? ",\"" : "\"");
		strcat(list, s);
		strcat(list, "\"");
	}
	strcat(list, "], 2]");
	/* the outer call plus 8 nested ones are allowed; the 9th nested is not */
	fails(fx_run(w, &w->c[0], SSP_VM_MODE_CALL, "chain", list, 1, 0, G), SSP_ERR_VM_DEPTH,
	      "nested calls");
	char *cut = strstr(list, "\"]");
	(void)cut;
	/* with 9 addresses (8 nested calls) it returns */
	char list9[2048] = "[[";
	for (int i = 0; i < 9; i++) {
		char s[96];
		addr(s, 50 + i);
		strcat(list9, i ? ",\"" : "\"");
		strcat(list9, s);
		strcat(list9, "\"");
	}
	strcat(list9, "], 2]");
	assert_string_equal(ok(fx_run(w, &w->c[0], SSP_VM_MODE_CALL, "chain", list9, 1, 0, G)).ret,
	                    "10");
	fx_free(w);
}

/* A nested call runs in a second pooled state: cold the first time, warm after. Same gas. */
static void test_cold_warm(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *a = fx_add(w, 40, caller_src);
	fx_add(w, 41, callee_src);
	char b[96], args[256];
	addr(b, 41);
	snprintf(args, sizeof args, "[\"%s\"]", b);
	fx_out first = ok(fx_run(w, a, SSP_VM_MODE_CALL, "twice", args, 1, 0, G));
	for (int i = 0; i < 3; i++) {
		fx_out again = ok(fx_run(w, a, SSP_VM_MODE_CALL, "twice", args, 1, 0, G));
		assert_true(again.gas == first.gas);
		assert_string_equal(again.ret, first.ret);
	}
	fx_free(w);
}

/* The node-local memory cap: reported as an error of ssp_vm_call, not as a contract result. */
static void test_node_limit(void **state)
{
	(void)state;
	ssp_vm_opts o = {.mem_limit = 1 << 20};
	fx_world *w = fx_new(&o);
	fx_contract *k = fx_add(w, 9,
	                        "function f() local t = {} for i = 1, 1e8 do t[i] = i end end\n"
	                        "function g() return 1 end abi.register(f, g)");
	fx_out r = fx_run(w, k, SSP_VM_MODE_CALL, "f", NULL, 1, 0, 1000000000);
	assert_int_equal(r.rc, SSP_ERR_VM_NODELIMIT);
	assert_int_equal(r.status, SSP_ERR_VM_MEMORY);
	assert_non_null(strstr(r.error, "node limit"));
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "g", NULL, 1, 0, G)).ret, "1");
	fx_free(w);
}

/*
 * Validating another node's block doubles the node-local caps: a call that
 * passes them by less than 2x fails when producing and runs when validating
 * (a producer that ran it has table sizes of its own seed; see ssp/vm.h).
 */
static void test_node_limit_validating(void **state)
{
	(void)state;
	ssp_vm_opts o = {.mem_limit = 1 << 20}; /* live cap 4 MiB producing, 8 MiB validating */
	fx_world *w = fx_new(&o);
	fx_contract *k =
	    fx_add(w, 9,
	           "function f(n) local t = {} for i = 1, n do t[i] = i end return #t end\n"
	           "abi.register(f)");
	fx_out p = fx_run(w, k, SSP_VM_MODE_CALL, "f", "[200000]", 1, 0, 100000000);
	assert_int_equal(p.rc, SSP_ERR_VM_NODELIMIT);
	assert_non_null(strstr(p.error, "node memory limit"));
	w->validating = true;
	fx_out v = ok(fx_run(w, k, SSP_VM_MODE_CALL, "f", "[200000]", 1, 0, 100000000));
	assert_string_equal(v.ret, "200000");
	/* still bounded: twice as far fails again */
	fx_out v2 = fx_run(w, k, SSP_VM_MODE_CALL, "f", "[1000000]", 1, 0, 100000000);
	assert_int_equal(v2.rc, SSP_ERR_VM_NODELIMIT);
	fx_free(w);
}

/*
 * Strings from Lua reach native code with their length, never as C strings
 * cut at a NUL: an address, function name, event name or key type with a
 * NUL in it is refused, storage keys are binary (NUL is a byte like any
 * other), and token arguments reach the host byte for byte (the token
 * module refuses them: test_contract.c).
 */
static const char nul_src[] =
    "function ver() return ssp.verify('ed25519\\0', '00', 'm', '00') end\n"
    "function ver2() return ssp.verify('ed25519', '00', 'm', '00') end\n"
    "function bal(a) return ssp.balance(a .. '\\0') end\n"
    "function pay(a) ssp.transfer(a .. '\\0x', 1) end\n"
    "function fcall(a) return ssp.call(a, 'get\\0x') end\n"
    "function tcall(a) return ssp.call({to = a .. '\\0'}, 'get') end\n"
    "function ev() ssp.emit('Thing\\0x', {}) end\n"
    "function keys() storage.set('a\\0b', 1) storage.set('a', 2)\n"
    "  return {storage.get('a\\0b'), storage.get('a'), storage.get('a\\0') == nil} end\n"
    "function tok() return token.transfer('T\\0x', 'n\\0', '5\\0') end\n"
    "abi.register(ver, ver2, bal, pay, fcall, tcall, ev, keys, tok)\n";

static void test_nul_crossings(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *k = fx_add(w, 31, nul_src);
	fx_add(w, 32, callee_src);
	char a1[96], b[96], args[256];
	addr(a1, 1);
	addr(b, 32);
	*fx_balance_ref(w, &k->addr) = 10;
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "ver", NULL, 1, 0, G), SSP_ERR_VM_ERROR,
	      "unknown key type");
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "ver2", NULL, 1, 0, G)).ret, "false");
	snprintf(args, sizeof args, "[\"%s\"]", a1);
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "bal", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid address");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "pay", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid address");
	snprintf(args, sizeof args, "[\"%s\"]", b);
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "fcall", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid function name");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "tcall", args, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid address");
	fails(fx_run(w, k, SSP_VM_MODE_CALL, "ev", NULL, 1, 0, G), SSP_ERR_VM_ERROR,
	      "invalid event name");
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_CALL, "keys", NULL, 1, 0, G)).ret,
	                    "[1,2,true]");
	ok(fx_run(w, k, SSP_VM_MODE_CALL, "tok", NULL, 1, 0, G));
	assert_string_equal(w->last_token_op, "transfer");
	assert_string_equal(w->last_token_args, "[\"T\\u0000x\",\"n\\u0000\",\"5\\u0000\"]");
	/* a global whose name holds a NUL cannot be registered (the deploy check) */
	static const char reg[] = "_ENV['g\\0'] = function() end abi.register(_ENV['g\\0'])\n";
	ssp_vm_abi abi = {0};
	char err[256];
	assert_int_equal(ssp_vm_check(w->vm, reg, sizeof reg - 1, G, &abi, err, sizeof err),
	                 SSP_ERR_VM_ERROR);
	assert_non_null(strstr(err, "not a valid function name"));
	ssp_vm_abi_free(&abi);
	fx_free(w);
}

static void test_misuse(void **state)
{
	(void)state;
	fx_world *w = fx_new(NULL);
	fx_contract *k = fx_add(w, 9, "function f() return 1 end abi.register(f)");
	fx_ctx c = {.w = w, .self = k->addr};
	ssp_vm_host h;
	ssp_addr s = fx_addr(1);
	fx_host(&h, &c, &k->addr, &s, &s, 0);
	ssp_vm_result res;
	assert_int_equal(ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n, 9, "f", NULL, 0, G, &res),
	                 SSP_ERR_INVAL);
	ssp_vm_result_free(&res);
	assert_int_equal(ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n, SSP_VM_MODE_CALL, NULL,
	                             NULL, 0, G, &res),
	                 SSP_ERR_INVAL);
	ssp_vm_result_free(&res);
	assert_int_equal(ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n, SSP_VM_MODE_CALL, "a b",
	                             NULL, 0, G, &res),
	                 SSP_ERR_INVAL);
	ssp_vm_result_free(&res);
	h.hrp = NULL;
	assert_int_equal(
	    ssp_vm_call(w->vm, &h, &k->hash, k->src, k->n, SSP_VM_MODE_CALL, "f", NULL, 0, G, &res),
	    SSP_ERR_INVAL);
	ssp_vm_result_free(&res);
	ssp_vm *vm;
	ssp_vm_opts bad = {.max_depth = 1000};
	assert_int_equal(ssp_vm_new(&vm, &bad), SSP_ERR_INVAL);
	/* INIT without an init function just runs the top level */
	assert_string_equal(ok(fx_run(w, k, SSP_VM_MODE_INIT, NULL, "[1]", 1, 0, G)).ret, "null");
	fx_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escrow),     cmocka_unit_test(test_iot20_and_parking),
	    cmocka_unit_test(test_api),        cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_depth),      cmocka_unit_test(test_cold_warm),
	    cmocka_unit_test(test_node_limit), cmocka_unit_test(test_node_limit_validating),
	    cmocka_unit_test(test_misuse),     cmocka_unit_test(test_nul_crossings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
