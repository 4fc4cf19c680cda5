/*
 * test_pop.c — undo records and popping blocks (chain layer, through the
 * full module set): blocks of SSP transfers (one a key's first use), native
 * token create/issue/transfer and contract calls that move bridge tokens,
 * emit events and revert are committed under a consensus whose final height
 * lags the head by 3; popping them back one by one and several at once
 * restores the state table, the state tree table, the head and the state
 * root exactly (full dumps compared), the blocks' index entries go, the
 * popped blocks come back for the mempool, popping a final block is refused,
 * and re-importing the same blocks gives the same dumps again. A fault walk
 * (every allocation, every store write of a three-block pop) shows a failed
 * pop is a local failure that writes nothing.
 *
 * It reuses test_contract.c's fixture (the node, its modules, the mixed
 * block) by including that file with its main renamed.
 */
#define main test_contract_main
int test_contract_main(void);
#include "test_contract.c"
#undef main

#include <pthread.h>

#include "ssp/stateproof.h"

#define LAG 3

static uint64_t g_lag = LAG;
static const ssp_consensus LAGGING = {
        .producer = fx_lag_producer, .finalized = fx_lag_finalized, .ctx = &g_lag};

static int dump_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	ssp_buf *b = arg;
	ssp_buf_bytes(b, k, kl);
	ssp_buf_bytes(b, v, vl);
	return 0;
}

/* Every entry of the tables that make the state: state, smt; plus the head. */
static void dump(cx *x, ssp_buf *b)
{
	static const char *const names[] = {"state", "smt"};
	ssp_txn *rt;
	ssp_buf_init(b, (size_t)64 << 20);
	assert_int_equal(ssp_store_read(x->n.store, &rt), 0);
	for (size_t i = 0; i < 2; i++) {
		ssp_table tb;
		assert_int_equal(ssp_store_table(x->n.store, names[i], &tb), 0);
		assert_int_equal(ssp_txn_scan(rt, tb, NULL, 0, dump_visit, b), 0);
		ssp_buf_put(b, "|", 1);
	}
	ssp_head h;
	assert_int_equal(ssp_chain_read_head(x->n.chain, rt, &h), 0);
	ssp_buf_put(b, &h.height, 8);
	ssp_buf_put(b, h.id.b, 32);
	ssp_buf_put(b, h.state_root.b, 32);
	assert_int_equal(ssp_chain_check_state_root(x->n.chain, rt, NULL), 0);
	ssp_txn_end(rt);
	assert_int_equal(b->err, 0);
}

static void expect_dump(cx *x, const ssp_buf *want)
{
	ssp_buf d;
	dump(x, &d);
	assert_int_equal(d.len, want->len);
	assert_memory_equal(d.data, want->data, d.len);
	ssp_buf_free(&d);
}

static size_t count_undo(cx *x)
{
	ssp_txn *rt;
	ssp_table tb;
	ssp_buf b;
	assert_int_equal(ssp_store_table(x->n.store, "undo", &tb), 0);
	assert_int_equal(ssp_store_read(x->n.store, &rt), 0);
	ssp_buf_init(&b, (size_t)64 << 20);
	assert_int_equal(ssp_txn_scan(rt, tb, NULL, 0, dump_visit, &b), 0);
	ssp_txn_end(rt);
	size_t n = 0;
	ssp_rd r;
	ssp_rd_init(&r, b.data, b.len);
	while (r.off < r.len && !r.err) {
		size_t l;
		ssp_rd_bytes(&r, b.len, &l);
		ssp_rd_bytes(&r, b.len, &l);
		n++;
	}
	ssp_buf_free(&b);
	return n;
}

#define NB 6 /* blocks 1..NB */

typedef struct {
	ssp_buf dump[NB + 1];
	uint8_t *raw[NB + 1];
	size_t len[NB + 1];
	uint32_t ntx[NB + 1];
} history;

/* Blocks 1..NB on a lagging-finality chain, with a dump after each. */
static void build_history(cx *x, history *hs)
{
	ssp_addr c;
	ssp_hash t;
	memset(hs, 0, sizeof *hs);
	ssp_chain_set_consensus(x->n.chain, &LAGGING);
	dump(x, &hs->dump[0]);
	size_t ntx = fault_scenario(x, &c); /* blocks 1 and 2, and a mixed pool */
	ssp_block_info bi = cx_produce(x);  /* block 3 */
	assert_int_equal(bi.ntx, ntx);
	for (int i = 0; i < 3; i++) { /* blocks 4..6: transfers, a contract call */
		fx_xfer a = {.to = &DAVE.addr, .amount = COIN + i, .fee = FEE, .expiry = 1000,
		             .pubkey = i == 0};
		a.nonce = next_nonce(x, &CAROL);
		assert_int_equal(fx_submit(&x->n, &CAROL, &a, &t), 0);
		char args[200], bob[96];
		ssp_addr_encode(bob, sizeof bob, "dssp", &BOB.addr);
		snprintf(args, sizeof args, "[\"VND\", \"%s\", %d]", bob, i + 1);
		assert_int_equal(call(x, &BOB, &c, "give", args, 0, &t), 0);
		cx_produce(x);
	}
	assert_int_equal(ssp_chain_head(x->n.chain)->height, NB);
	assert_int_equal(ssp_chain_head(x->n.chain)->finalized, NB - LAG);
	for (uint64_t h = 1; h <= NB; h++) {
		ssp_block b;
		hs->raw[h] = fx_block_copy(&x->n, h, &hs->len[h]);
		assert_int_equal(ssp_block_decode(&b, hs->raw[h], hs->len[h], hs->len[h]), 0);
		hs->ntx[h] = b.ntx;
		ssp_block_free(&b);
	}
	/* the dumps of 1..NB: rebuild by popping is what is tested, so take them on a replica */
	cx y;
	cx_open(&y, G_DEF);
	ssp_chain_set_consensus(y.n.chain, &LAGGING);
	for (uint64_t h = 1; h <= NB; h++) {
		assert_int_equal(ssp_chain_import(y.n.chain, NULL, hs->raw[h], hs->len[h], &bi), 0);
		dump(&y, &hs->dump[h]);
	}
	cx_close(&y);
	expect_dump(x, &hs->dump[NB]);
	/* undo records only for the blocks above the final height */
	assert_int_equal(count_undo(x), LAG);
}

static void free_history(history *hs)
{
	for (int h = 0; h <= NB; h++) {
		ssp_buf_free(&hs->dump[h]);
		free(hs->raw[h]);
	}
}

static void test_pop_and_reapply(void **state)
{
	(void)state;
	cx x;
	history hs;
	ssp_popped p;
	cx_open(&x, G_DEF);
	build_history(&x, &hs);
	ssp_head final = *ssp_chain_head(x.n.chain);

	/* one block */
	assert_int_equal(ssp_chain_pop(x.n.chain, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.len[0], hs.len[NB]);
	assert_memory_equal(p.raw[0], hs.raw[NB], p.len[0]);
	ssp_popped_free(&p);
	expect_dump(&x, &hs.dump[NB - 1]);
	assert_int_equal(ssp_chain_head(x.n.chain)->finalized, NB - LAG);
	assert_int_equal(count_undo(&x), LAG - 1);
	/* the popped block's data is gone */
	ssp_txn *rt;
	const uint8_t *raw;
	size_t n;
	assert_int_equal(ssp_store_read(x.n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_block(x.n.chain, rt, NB, &raw, &n), SSP_ERR_NOTFOUND);
	ssp_block b;
	assert_int_equal(ssp_block_decode(&b, hs.raw[NB], hs.len[NB], hs.len[NB]), 0);
	for (uint32_t i = 0; i < b.ntx; i++) {
		uint64_t th;
		uint32_t ti;
		assert_int_equal(ssp_chain_read_txloc(x.n.chain, rt, &b.txs[i].txid, &th, &ti),
		                 SSP_ERR_NOTFOUND);
	}
	ssp_block_free(&b);
	ssp_txn_end(rt);

	/* below the final height: refused, nothing changes */
	assert_int_equal(ssp_chain_pop_to(x.n.chain, NB - LAG - 1, &p), SSP_ERR_FINAL_POP);
	assert_int_equal(p.n, 0);
	assert_int_equal(ssp_chain_fatal(x.n.chain), 0);
	expect_dump(&x, &hs.dump[NB - 1]);
	/* popping to the head is nothing */
	assert_int_equal(ssp_chain_pop_to(x.n.chain, NB - 1, NULL), 0);

	/* down to the final height at once: the popped blocks come back, highest first */
	assert_int_equal(ssp_chain_pop_to(x.n.chain, NB - LAG, &p), 0);
	assert_int_equal(p.n, LAG - 1);
	for (size_t i = 0; i < p.n; i++)
		assert_memory_equal(p.raw[i], hs.raw[NB - 1 - i], hs.len[NB - 1 - i]);
	ssp_popped_free(&p);
	expect_dump(&x, &hs.dump[NB - LAG]);
	assert_int_equal(count_undo(&x), 0);
	fx_check_supply(&x.n);

	/* the same blocks apply again and give the same state, record for record */
	ssp_block_info bi;
	for (uint64_t h = NB - LAG + 1; h <= NB; h++) {
		assert_int_equal(ssp_chain_import(x.n.chain, NULL, hs.raw[h], hs.len[h], &bi), 0);
		expect_dump(&x, &hs.dump[h]);
	}
	const ssp_head *now = ssp_chain_head(x.n.chain);
	assert_memory_equal(now->id.b, final.id.b, 32);
	assert_memory_equal(now->state_root.b, final.state_root.b, 32);
	/* a restart keeps the undo records: pop after reopening */
	cx_reopen_chain(&x, false);
	ssp_chain_set_consensus(x.n.chain, &LAGGING);
	assert_int_equal(ssp_chain_pop_to(x.n.chain, NB - 2, NULL), 0);
	expect_dump(&x, &hs.dump[NB - 2]);
	free_history(&hs);
	cx_close(&x);
}

/* Every allocation and every store write of a pop of three blocks, faulted in turn. */
static void test_fault_pop(void **state)
{
	(void)state;
	ssp_log_setup(SSP_LOG_PLAIN, (ssp_log_level)(SSP_LOG_ERROR + 1));
	for (int kind = SSP_FAULT_ALLOC; kind <= SSP_FAULT_WRITE; kind++) {
		cx x;
		history hs;
		cx_open(&x, G_DEF);
		build_history(&x, &hs);
		ssp_chain_set_check_invariants(x.n.chain, false);
		uint64_t nth, faults = 0;
		for (nth = 1; nth < 1000000; nth++) {
			ssp_popped p;
			ssp_fault_arm((ssp_fault_kind)kind, nth, false);
			int rc = ssp_chain_pop_to(x.n.chain, NB - LAG, &p);
			bool hit = ssp_fault_count((ssp_fault_kind)kind) >= nth;
			ssp_fault_arm((ssp_fault_kind)kind, 0, false);
			if (!hit) {
				assert_int_equal(rc, 0);
				assert_int_equal(p.n, LAG);
				ssp_popped_free(&p);
				expect_dump(&x, &hs.dump[NB - LAG]);
				break;
			}
			faults++;
			if (!ssp_err_local(rc))
				fail_msg("%s fault %llu: pop said %s, not a local failure",
				         kind ? "write" : "alloc", (unsigned long long)nth,
				         ssp_errname(rc));
			assert_int_equal(p.n, 0);
			assert_int_equal(ssp_chain_fatal(x.n.chain), rc);
			assert_int_equal(ssp_chain_pop(x.n.chain, NULL), rc); /* poisoned */
			/* nothing was written: a fresh chain object sees the old head and state */
			cx_reopen_chain(&x, false);
			ssp_chain_set_consensus(x.n.chain, &LAGGING);
			expect_dump(&x, &hs.dump[NB]);
		}
		assert_true(faults > 3);
		print_message("pop: %llu %s faults, each a local failure writing nothing\n",
		              (unsigned long long)faults, kind ? "write" : "allocation");
		free_history(&hs);
		cx_close(&x);
	}
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
}

/* The state entries of a dump (full state keys), borrowed from it. */
typedef struct {
	const uint8_t *k[4096], *v[4096];
	size_t kl[4096], vl[4096], n;
} entries;

static void dump_entries(const ssp_buf *d, entries *e)
{
	ssp_rd r;
	e->n = 0;
	ssp_rd_init(&r, d->data, d->len);
	/* key lengths are < 124, so a '|' where a length starts ends the state table */
	while (r.off < r.len && r.p[r.off] != '|') {
		assert_true(e->n < 4096);
		e->k[e->n] = ssp_rd_bytes(&r, 256, &e->kl[e->n]);
		e->v[e->n] = ssp_rd_bytes(&r, SSP_STATE_VAL_MAX, &e->vl[e->n]);
		assert_int_equal(r.err, 0);
		e->n++;
	}
}

static const uint8_t *entry_find(const entries *e, const uint8_t *k, size_t kl, size_t *vl)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->kl[i] == kl && !memcmp(e->k[i], k, kl)) {
			*vl = e->vl[i];
			return e->v[i];
		}
	return NULL;
}

/*
 * Proofs at every height from the finalized one to the head, rebuilt from
 * the undo records: each verifies against that block's header state root
 * and shows the value the state had at that height (the replica's dumps),
 * present or absent; below the final height is PRUNED, above the head
 * NOTFOUND. Nothing is written: the state afterwards is the head's.
 */
static void test_prove_past(void **state)
{
	(void)state;
	cx x;
	history hs;
	cx_open(&x, G_DEF);
	build_history(&x, &hs);
	entries *now = calloc(1, sizeof *now), *then = calloc(1, sizeof *then);
	assert_non_null(now);
	assert_non_null(then);
	dump_entries(&hs.dump[NB - LAG], now); /* keys written since: absent then, present now */
	size_t checked = 0, changed = 0;
	for (uint64_t h = NB - LAG; h <= NB + 1; h++) {
		ssp_txn *rt;
		ssp_head at;
		const void *val;
		size_t vlen;
		ssp_buf proof;
		ssp_buf_init(&proof, SSP_SPROOF_MAX_BYTES);
		assert_int_equal(ssp_store_read(x.n.store, &rt), 0);
		if (h == NB + 1) {
			assert_int_equal(ssp_chain_prove_at(x.n.chain, rt, h, SSP_TB_ACCOUNT, ALICE.addr.b,
			                                    SSP_ADDR_LEN, &at, &val, &vlen, &proof),
			                 SSP_ERR_NOTFOUND);
			assert_int_equal(ssp_chain_prove_at(x.n.chain, rt, NB - LAG - 1, SSP_TB_ACCOUNT,
			                                    ALICE.addr.b, SSP_ADDR_LEN, &at, &val, &vlen,
			                                    &proof),
			                 SSP_ERR_PRUNED);
			ssp_txn_end(rt);
			ssp_buf_free(&proof);
			break;
		}
		ssp_block b;
		assert_int_equal(ssp_block_decode(&b, hs.raw[h], hs.len[h], hs.len[h]), 0);
		dump_entries(&hs.dump[h], then);
		entries *all = h == NB - LAG ? then : now; /* the union: every key of the head too */
		entries *keys[2] = {then, all};
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < keys[pass]->n; i++) {
				const uint8_t *k = keys[pass]->k[i];
				size_t kl = keys[pass]->kl[i], wl = 0;
				const uint8_t *want = entry_find(then, k, kl, &wl);
				ssp_buf_reset(&proof);
				uint64_t ask = h == NB - LAG && pass ? SSP_PROVE_FINAL : h;
				assert_int_equal(ssp_chain_prove_at(x.n.chain, rt, ask, k[0], k + 1, kl - 1,
				                                    &at, &val, &vlen, &proof),
				                 0);
				assert_int_equal(at.height, h);
				assert_memory_equal(at.id.b, b.hdr.id.b, 32);
				assert_memory_equal(at.state_root.b, b.hdr.state_root.b, 32);
				assert_int_equal(val != NULL, want != NULL);
				if (want) {
					assert_int_equal(vlen, wl);
					assert_memory_equal(val, want, wl);
				}
				assert_int_equal(ssp_sproof_check(&b.hdr.state_root, k, kl, want, wl,
				                                  proof.data, proof.len),
				                 0);
				size_t nl;
				const uint8_t *head_v = entry_find(now, k, kl, &nl);
				changed += (head_v == NULL) != (want == NULL) ||
				           (want && (nl != wl || memcmp(head_v, want, wl)));
				checked++;
			}
		}
		ssp_block_free(&b);
		ssp_txn_end(rt);
		ssp_buf_free(&proof);
		if (h == NB - LAG) dump_entries(&hs.dump[NB], now);
	}
	print_message("past proofs: %zu checked, %zu of them differ from the head's value\n",
	              checked, changed);
	assert_true(changed > 10);
	expect_dump(&x, &hs.dump[NB]); /* nothing written */
	/* an empty block on top: the height below it is the same state, no key to rebuild */
	assert_int_equal(cx_produce(&x).ntx, 0);
	{
		ssp_txn *rt;
		ssp_head at;
		const void *val;
		size_t vlen;
		ssp_buf proof;
		ssp_buf_init(&proof, SSP_SPROOF_MAX_BYTES);
		assert_int_equal(ssp_store_read(x.n.store, &rt), 0);
		assert_int_equal(ssp_chain_prove_at(x.n.chain, rt, NB, SSP_TB_ACCOUNT, ALICE.addr.b,
		                                    SSP_ADDR_LEN, &at, &val, &vlen, &proof),
		                 0);
		assert_int_equal(at.height, NB);
		assert_non_null(val);
		ssp_txn_end(rt);
		ssp_buf_free(&proof);
	}
	free(now);
	free(then);
	free_history(&hs);
	cx_close(&x);
}

typedef struct {
	cx *x;
	int ok, busy, other;
} past_job;

static void *past_worker(void *arg)
{
	past_job *j = arg;
	ssp_buf proof;
	ssp_buf_init(&proof, SSP_SPROOF_MAX_BYTES);
	for (int i = 0; i < 200; i++) {
		ssp_txn *rt;
		ssp_head at;
		const void *val;
		size_t vlen;
		ssp_buf_reset(&proof);
		if (ssp_store_read(j->x->n.store, &rt)) {
			j->other++;
			continue;
		}
		int rc = ssp_chain_prove_at(j->x->n.chain, rt, SSP_PROVE_FINAL, SSP_TB_ACCOUNT,
		                            CAROL.addr.b, SSP_ADDR_LEN, &at, &val, &vlen, &proof);
		ssp_txn_end(rt);
		if (rc == 0)
			j->ok++;
		else if (rc == SSP_ERR_BUSY)
			j->busy++;
		else
			j->other++;
	}
	ssp_buf_free(&proof);
	return NULL;
}

/*
 * Past-height proofs from several threads at once (RPC threads do this):
 * each is served or told BUSY (one rebuild at a time per chain), nothing
 * else; the sanitizer builds check they share nothing.
 */
static void test_prove_past_concurrent(void **state)
{
	(void)state;
	cx x;
	history hs;
	pthread_t th[3];
	past_job jobs[3];
	cx_open(&x, G_DEF);
	build_history(&x, &hs);
	for (int i = 0; i < 3; i++) {
		jobs[i] = (past_job){.x = &x};
		assert_int_equal(pthread_create(&th[i], NULL, past_worker, &jobs[i]), 0);
	}
	int ok = 0, busy = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].other, 0);
		ok += jobs[i].ok;
		busy += jobs[i].busy;
	}
	print_message("past proofs from 3 threads: %d served, %d told BUSY\n", ok, busy);
	assert_int_equal(ok + busy, 600);
	assert_true(ok > 0);
	free_history(&hs);
	cx_close(&x);
}

typedef struct {
	uint8_t k[64][40];
	size_t kl[64], n;
} keylist;

static int collect_keys(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	keylist *l = arg;
	(void)v;
	(void)vl;
	if (l->n == 64 || kl > 40) return 1;
	memcpy(l->k[l->n], k, kl);
	l->kl[l->n++] = kl;
	return 0;
}

/* A datadir without a state tree (an older version) or with a damaged root is refused. */
static void test_open_checks_tree(void **state)
{
	(void)state;
	cx x;
	ssp_table smt;
	ssp_txn *w;
	keylist l = {0};
	ssp_chain *c2;
	size_t nt;
	cx_open(&x, G_DEF);
	fx_xfer a = {.to = &DAVE.addr, .amount = COIN, .fee = FEE, .expiry = 1000};
	a.nonce = next_nonce(&x, &ALICE);
	a.pubkey = !fx_account(&x.n, &ALICE.addr).has_key;
	ssp_hash t;
	assert_int_equal(fx_submit(&x.n, &ALICE, &a, &t), 0);
	cx_produce(&x);
	const ssp_txreg *types = ssp_modset_txtypes(x.n.mods, &nt);
	assert_int_equal(ssp_store_table(x.n.store, "smt", &smt), 0);
	/* a changed root record: corrupt */
	assert_int_equal(ssp_store_write(x.n.store, &w), 0);
	assert_int_equal(ssp_txn_scan(w, smt, NULL, 0, collect_keys, &l), 0);
	assert_true(l.n > 0 && l.n < 64);
	const void *v;
	size_t vl;
	static const uint8_t root_key[1] = {0};
	assert_int_equal(ssp_txn_get(w, smt, root_key, 1, &v, &vl), 0);
	uint8_t copy[66];
	memcpy(copy, v, vl);
	copy[vl - 1] ^= 1;
	assert_int_equal(ssp_txn_put(w, smt, root_key, 1, copy, vl), 0);
	assert_int_equal(ssp_txn_commit(w), 0);
	ssp_log_setup(SSP_LOG_PLAIN, (ssp_log_level)(SSP_LOG_ERROR + 1));
	assert_int_equal(ssp_chain_open(&c2, x.n.store, G_DEF, types, nt), SSP_ERR_DBCORRUPT);
	/* no tree at all: a datadir of an older version */
	assert_int_equal(ssp_store_write(x.n.store, &w), 0);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(ssp_txn_del(w, smt, l.k[i], l.kl[i]), 0);
	assert_int_equal(ssp_txn_commit(w), 0);
	assert_int_equal(ssp_chain_open(&c2, x.n.store, G_DEF, types, nt), SSP_ERR_DBVERSION);
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	cx_close(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pop_and_reapply),
	    cmocka_unit_test(test_fault_pop),
	    cmocka_unit_test(test_prove_past),
	    cmocka_unit_test(test_prove_past_concurrent),
	    cmocka_unit_test(test_open_checks_tree),
	};
	(void)test_contract_main;
	return cmocka_run_group_tests(tests, setup, teardown);
}
