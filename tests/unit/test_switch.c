/*
 * test_switch.c — switching branches in one LMDB txn (chain layer, through
 * the full module set): a chain on branch A (a block of transfers, native
 * token txs and contract calls, then a transfer block) switches to branch
 * B, built on a replica from the same two blocks (different txs, one of
 * A's txs included again, one more block). After the switch the head id,
 * the state root and full dumps of the state and tree tables equal the
 * replica's, which imported B directly; A's txs that B does not include are
 * back in the mempool, the shared one is not. A branch with a bad tx
 * signature, a missing block (after popping and applying a block inside the
 * txn) or a wrong state root signed by the producer changes nothing and
 * names the bad block; a fork point below the finalized height is refused;
 * and a fault walk over every allocation and store write of the switch
 * shows each is a local failure that writes nothing.
 *
 * It reuses test_contract.c's fixture (the node, its modules, the mixed
 * block) by including that file with its main renamed.
 */
#define main test_contract_main
int test_contract_main(void);
#include "test_contract.c"
#undef main

static uint64_t lag = 8; /* final height = head - lag */

static const ssp_consensus LAGGING = {
        .producer = fx_lag_producer, .finalized = fx_lag_finalized, .ctx = &lag};

static int dump_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	ssp_buf *b = arg;
	ssp_buf_bytes(b, k, kl);
	ssp_buf_bytes(b, v, vl);
	return 0;
}

/* Every entry of the state, tree and tx index tables, and the head. */
static void dump(cx *x, ssp_buf *b)
{
	static const char *const names[] = {"state", "smt", "txidx"};
	ssp_txn *rt;
	ssp_buf_init(b, (size_t)64 << 20);
	assert_int_equal(ssp_store_read(x->n.store, &rt), 0);
	for (size_t i = 0; i < 3; i++) {
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

/* The signing watermark committed with produced blocks (meta signed_slot). */
static uint64_t read_signed(cx *x)
{
	ssp_txn *rt;
	uint64_t slot;
	assert_int_equal(ssp_store_read(x->n.store, &rt), 0);
	assert_int_equal(ssp_chain_read_signed_slot(x->n.chain, rt, &slot), 0);
	ssp_txn_end(rt);
	return slot;
}

#define NA 2  /* branch A: blocks 3..4 */
#define NBR 3 /* branch B: blocks 3..5 */

typedef struct {
	uint8_t *a[NA], *b[NBR];
	size_t alen[NA], blen[NBR];
	ssp_hash shared; /* a tx of A that B includes too */
	ssp_hash later;  /* DAVE's next tx, pending on x when it switches */
	ssp_hash a_only; /* a tx of A that B does not include */
	ssp_buf dump_a;  /* the chain on A (before any switch) */
	ssp_buf dump_b;  /* the replica that imported B directly */
	ssp_head head_b;
} branches;

/* x ends on branch A (blocks 1..4); the replica's B blocks and dumps are kept in br. */
static void build_branches(cx *x, branches *br)
{
	ssp_addr c;
	ssp_hash t;
	ssp_block_info bi;
	memset(br, 0, sizeof *br);
	ssp_chain_set_consensus(x->n.chain, &LAGGING);
	(void)fault_scenario(x, &c); /* blocks 1 and 2, and a mixed pool */
	/* the replica takes blocks 1 and 2 before A's block 3 exists */
	cx y;
	cx_open(&y, G_DEF);
	ssp_chain_set_consensus(y.n.chain, &LAGGING);
	for (uint64_t h = 1; h <= 2; h++) {
		size_t len;
		uint8_t *raw = fx_block_copy(&x->n, h, &len);
		assert_int_equal(ssp_chain_import(y.n.chain, NULL, raw, len, &bi), 0);
		free(raw);
	}
	y.t = x->t;
	/* CAROL's first transfer goes to both pools: A and B both include it */
	fx_xfer a = {
	    .to = &BOB.addr, .amount = 2 * COIN, .fee = 2 * FEE, .expiry = 1000, .pubkey = true};
	size_t slen;
	uint8_t *sraw = fx_sign_transfer(&CAROL, &a, &slen, &br->shared);
	ssp_hash got;
	assert_int_equal(ssp_mempool_add(x->n.pool, sraw, slen, false, &got), 0);
	assert_int_equal(ssp_mempool_add(y.n.pool, sraw, slen, false, &got), 0);
	free(sraw);
	/* branch A: the mixed block, then DAVE pays CAROL */
	cx_produce(x);
	assert_true(included(x, &br->shared));
	fx_xfer d = {.to = &CAROL.addr, .amount = 3 * COIN, .fee = FEE, .expiry = 1000};
	d.nonce = next_nonce(x, &DAVE);
	assert_int_equal(fx_submit(&x->n, &DAVE, &d, &br->a_only), 0);
	cx_produce(x);
	assert_true(included(x, &br->a_only));
	assert_int_equal(ssp_chain_head(x->n.chain)->height, 2 + NA);
	/* pending on A: DAVE's next nonce (B has none of DAVE's txs: after a switch it must
	 * queue behind A's two DAVE txs coming back) */
	fx_xfer l = {.to = &CAROL.addr, .amount = COIN, .fee = FEE, .expiry = 1000};
	l.nonce = next_nonce(x, &DAVE);
	assert_int_equal(l.nonce, 2);
	assert_int_equal(fx_submit(&x->n, &DAVE, &l, &br->later), 0);
	for (size_t i = 0; i < NA; i++)
		br->a[i] = fx_block_copy(&x->n, 3 + i, &br->alen[i]);
	/* branch B on the replica: other slots, other txs, one block more */
	y.t += 500;
	fx_xfer e = {.to = &DAVE.addr, .amount = COIN, .fee = FEE, .expiry = 1000};
	e.nonce = next_nonce(&y, &CAROL);
	assert_int_equal(fx_submit(&y.n, &CAROL, &e, &t), 0);
	cx_produce(&y);
	assert_true(included(&y, &br->shared));
	for (int i = 0; i < NBR - 1; i++) {
		fx_xfer f = {
		    .to = &ALICE.addr, .amount = COIN + (uint64_t)i, .fee = FEE, .expiry = 1000};
		f.nonce = next_nonce(&y, &BOB);
		f.pubkey = !fx_account(&y.n, &BOB.addr).has_key && !ssp_mempool_count(y.n.pool);
		assert_int_equal(fx_submit(&y.n, &BOB, &f, &t), 0);
		cx_produce(&y);
	}
	assert_int_equal(ssp_chain_head(y.n.chain)->height, 2 + NBR);
	for (size_t i = 0; i < NBR; i++)
		br->b[i] = fx_block_copy(&y.n, 3 + i, &br->blen[i]);
	dump(&y, &br->dump_b);
	br->head_b = *ssp_chain_head(y.n.chain);
	cx_close(&y);
	dump(x, &br->dump_a);
}

static void free_branches(branches *br)
{
	for (size_t i = 0; i < NA; i++)
		free(br->a[i]);
	for (size_t i = 0; i < NBR; i++)
		free(br->b[i]);
	ssp_buf_free(&br->dump_a);
	ssp_buf_free(&br->dump_b);
}

static void test_switch_equals_replica(void **state)
{
	(void)state;
	cx x;
	branches br;
	ssp_popped p;
	size_t bad, back;
	lag = 8;
	cx_open(&x, G_DEF);
	build_branches(&x, &br);
	uint64_t fin = ssp_chain_head(x.n.chain)->finalized;
	uint64_t signed_a = read_signed(&x);
	assert_int_equal(signed_a, ssp_chain_head(x.n.chain)->slot); /* x produced A's blocks */

	/* a bad tx signature in B's second block: nothing changes, that block is named */
	uint8_t *tampered = malloc(br.blen[1]);
	memcpy(tampered, br.b[1], br.blen[1]);
	tampered[br.blen[1] - 1] ^= 1; /* the last tx's signature */
	const uint8_t *r1[NBR] = {br.b[0], tampered, br.b[2]};
	assert_int_equal(
	    ssp_chain_switch(x.n.chain, x.n.pool, 2, r1, br.blen, NBR, &p, &bad, &back),
	    SSP_ERR_BLOCK_TX);
	assert_int_equal(bad, 1);
	assert_int_equal(p.n, 0);
	assert_int_equal(ssp_chain_fatal(x.n.chain), 0);
	expect_dump(&x, &br.dump_a);
	free(tampered);

	/* a gap (B3, B5): found after A was popped and B3 applied inside the txn */
	const uint8_t *r2[2] = {br.b[0], br.b[2]};
	size_t l2[2] = {br.blen[0], br.blen[2]};
	assert_int_equal(ssp_chain_switch(x.n.chain, x.n.pool, 2, r2, l2, 2, &p, &bad, &back),
	                 SSP_ERR_BLOCK_HEIGHT);
	assert_int_equal(bad, 1);
	assert_int_equal(ssp_chain_fatal(x.n.chain), 0);
	expect_dump(&x, &br.dump_a);
	assert_int_equal(ssp_chain_head(x.n.chain)->height, 2 + NA);

	/* B's last block with another state root, signed by the slot's producer */
	ssp_block blk;
	assert_int_equal(ssp_block_decode(&blk, br.b[2], br.blen[2], br.blen[2]), 0);
	ssp_header h = blk.hdr;
	h.state_root.b[0] ^= 1;
	const uint8_t **txs = calloc(blk.ntx + 1, sizeof *txs);
	size_t *tl = calloc(blk.ntx + 1, sizeof *tl);
	for (uint32_t i = 0; i < blk.ntx; i++) {
		txs[i] = blk.txs[i].raw;
		tl[i] = blk.txs[i].raw_len;
	}
	size_t wl;
	uint8_t *wrong = fx_block_encode(&h, txs, tl, blk.ntx, &PROD, FX_CHAIN_ID, &wl);
	ssp_block_free(&blk);
	free(txs);
	free(tl);
	const uint8_t *r3[NBR] = {br.b[0], br.b[1], wrong};
	size_t l3[NBR] = {br.blen[0], br.blen[1], wl};
	assert_int_equal(ssp_chain_switch(x.n.chain, x.n.pool, 2, r3, l3, NBR, &p, &bad, &back),
	                 SSP_ERR_BLOCK_STATE);
	assert_int_equal(bad, 2);
	expect_dump(&x, &br.dump_a);
	free(wrong);

	/* a fork point above the head, or below the final height: refused */
	assert_int_equal(ssp_chain_switch(x.n.chain, x.n.pool, 9, (const uint8_t *const *)br.b,
	                                  br.blen, NBR, &p, &bad, &back),
	                 SSP_ERR_BLOCK_HEIGHT);

	/* the switch: same head, root and dumps as the replica that imported B */
	assert_int_equal(ssp_chain_switch(x.n.chain, x.n.pool, 2, (const uint8_t *const *)br.b,
	                                  br.blen, NBR, &p, &bad, &back),
	                 0);
	assert_int_equal(p.n, NA);
	for (size_t i = 0; i < NA; i++) /* highest first */
		assert_memory_equal(p.raw[i], br.a[NA - 1 - i], br.alen[NA - 1 - i]);
	ssp_popped_free(&p);
	expect_dump(&x, &br.dump_b);
	const ssp_head *hd = ssp_chain_head(x.n.chain);
	assert_memory_equal(hd->id.b, br.head_b.id.b, 32);
	assert_memory_equal(hd->state_root.b, br.head_b.state_root.b, 32);
	assert_int_equal(hd->finalized, fin);
	fx_check_supply(&x.n);
	/* the producer's watermark is not popped with its blocks: A's slot stays signed */
	assert_int_equal(read_signed(&x), signed_a);
	/* A's txs came back unless B has them */
	assert_true(back > 0);
	assert_true(ssp_mempool_has(x.n.pool, &br.a_only));
	assert_false(ssp_mempool_has(x.n.pool, &br.shared));
	assert_true(included(&x, &br.shared));
	/* DAVE's queue starts again at his nonce on B (0): A's two, then the pending one */
	assert_true(ssp_mempool_has(x.n.pool, &br.later));
	assert_int_equal(ssp_mempool_pending_nonce(x.n.pool, &DAVE.addr), 3);
	/* and the next block includes them */
	x.t = ssp_chain_head(x.n.chain)->timestamp_ms;
	cx_produce(&x);
	assert_true(included(&x, &br.a_only));
	assert_true(included(&x, &br.later));

	/* finality moves (lag 1): a fork point below it is refused, nothing changes */
	lag = 1;
	cx_produce(&x);
	ssp_buf before;
	dump(&x, &before);
	assert_int_equal(ssp_chain_switch(x.n.chain, x.n.pool, 2, (const uint8_t *const *)br.b,
	                                  br.blen, NBR, &p, &bad, &back),
	                 SSP_ERR_FINAL_POP);
	assert_int_equal(ssp_chain_fatal(x.n.chain), 0);
	expect_dump(&x, &before);
	ssp_buf_free(&before);
	lag = 8;
	free_branches(&br);
	cx_close(&x);
}

/* Every allocation and every store write of the switch A -> B, faulted in turn. */
static void test_fault_switch(void **state)
{
	(void)state;
	ssp_log_setup(SSP_LOG_PLAIN, (ssp_log_level)(SSP_LOG_ERROR + 1));
	lag = 8;
	for (int kind = SSP_FAULT_ALLOC; kind <= SSP_FAULT_WRITE; kind++) {
		cx x;
		branches br;
		cx_open(&x, G_DEF);
		build_branches(&x, &br);
		ssp_chain_set_check_invariants(x.n.chain, false);
		uint64_t nth, faults = 0;
		for (nth = 1; nth < 1000000; nth++) {
			ssp_popped p;
			size_t bad;
			ssp_fault_arm((ssp_fault_kind)kind, nth, false);
			/* no pool: its reconciliation comes after the commit (tested above) */
			int rc = ssp_chain_switch(x.n.chain, NULL, 2, (const uint8_t *const *)br.b,
			                          br.blen, NBR, &p, &bad, NULL);
			bool hit = ssp_fault_count((ssp_fault_kind)kind) >= nth;
			ssp_fault_arm((ssp_fault_kind)kind, 0, false);
			if (!hit) {
				assert_int_equal(rc, 0);
				assert_int_equal(p.n, NA);
				ssp_popped_free(&p);
				expect_dump(&x, &br.dump_b);
				break;
			}
			faults++;
			if (!ssp_err_local(rc))
				fail_msg("%s fault %llu: switch said %s, not a local failure",
				         kind ? "write" : "alloc", (unsigned long long)nth,
				         ssp_errname(rc));
			assert_int_equal(p.n, 0);
			assert_int_equal(ssp_chain_fatal(x.n.chain), rc);
			/* nothing was written: a fresh chain object sees branch A exactly */
			cx_reopen_chain(&x, false);
			ssp_chain_set_consensus(x.n.chain, &LAGGING);
			expect_dump(&x, &br.dump_a);
		}
		assert_true(faults > 3);
		print_message("switch: %llu %s faults, each a local failure writing nothing\n",
		              (unsigned long long)faults, kind ? "write" : "allocation");
		free_branches(&br);
		cx_close(&x);
	}
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_switch_equals_replica),
	    cmocka_unit_test(test_fault_switch),
	};
	(void)test_contract_main;
	return cmocka_run_group_tests(tests, setup, teardown);
}
