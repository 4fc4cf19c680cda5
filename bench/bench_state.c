/*
 * bench_state.c — the state tree's costs at scale (bench; links the chain
 * layer): builds a state of N accounts (default 1,000,000) directly through
 * the store and the tree (src/chain/smt.c), then measures, on one core,
 *   - the tree update per written key for blocks of B transfers (2B+1 keys:
 *     senders, receivers, the pool) and the durable commit per block,
 *   - proof generation (read txn, walk, encode) and verification rates,
 *     proof sizes for present and absent keys,
 *   - the tree table's bytes per entry and the file growth per block,
 *   - the cost of rebuilding a past height's tree for proofs (8,192 keys,
 *     the most a proof request may make the node rebuild),
 * and a SHA-256 baseline of the same run, so the per-key cost is also given
 * as hashes-per-key (robust to a noisy machine). Every figure is printed as
 * `BENCH <name> <value> <unit>`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain/smt_internal.h"
#include "ssp/stateproof.h"
#include "ssp/store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_state: %s: %s\n", what, ssp_strerror(rc));
	exit(1);
}

/* account i's state key (0x01 ‖ 20-byte address) and a value of the account's size */
static void account_key(uint8_t k[21], uint64_t i)
{
	uint8_t seed[8];
	ssp_hash h;
	ssp_le64_put(seed, i);
	ssp_sha256(&h, seed, 8);
	k[0] = 1;
	memcpy(k + 1, h.b, 20);
}

static void account_val(uint8_t v[66], uint64_t bal, uint64_t nonce)
{
	memset(v, 0, 66);
	ssp_le64_put(v, bal);
	ssp_le64_put(v + 16, nonce);
	v[32] = 1; /* has_key */
	v[33] = 1;
}

static void item_for(smt_item *it, uint8_t *k, const uint8_t *v, ssp_txn *t, ssp_table state)
{
	ssp_smt_path(&it->path, k, 21);
	ssp_smt_value_hash(&it->vhash, v, 66);
	it->del = false;
	int rc = ssp_txn_put(t, state, k, 21, v, 66);
	if (rc) die("put", rc);
}

static uint64_t file_size(const char *dir)
{
	char p[4200];
	struct stat st;
	snprintf(p, sizeof p, "%s/chain.mdb", dir);
	return stat(p, &st) ? 0 : (uint64_t)st.st_size;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000, block_txs = 1000, blocks = 20, proofs = 200000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--accounts")) n = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--block-txs")) block_txs = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--blocks")) blocks = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--proofs")) proofs = strtoull(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_state [--accounts N] [--block-txs B] [--blocks M] "
			                "[--proofs P]\n");
			return 2;
		}
	}
	if (ssp_core_init()) return 1;
	char dir[] = "/tmp/ssp-bench-state-XXXXXX";
	if (!mkdtemp(dir)) return 1;
	ssp_store *s;
	ssp_table state, smt;
	ssp_txn *t;
	ssp_hash root;
	int rc;
	ssp_store_opts so = {.map_size = (size_t)16 << 30};
	if ((rc = ssp_store_open(&s, dir, &so)) || (rc = ssp_store_table(s, "state", &state)) ||
	    (rc = ssp_store_table(s, "smt", &smt)))
		die("open", rc);

	/* the SHA-256 baseline of this run (64-byte inputs, like a tree node) */
	uint8_t buf[65] = {1};
	double t0 = now_s();
	uint64_t nh = 2000000;
	ssp_hash h;
	for (uint64_t i = 0; i < nh; i++) {
		ssp_sha256(&h, buf, 65);
		buf[1] = h.b[0];
	}
	double sha_rate = nh / (now_s() - t0);
	printf("BENCH sha256_65B_one_core %.0f hash/s\n", sha_rate);

	/* build: N accounts in batches of 100,000 (one write txn each) */
	uint64_t batch = 100000;
	smt_item *items = malloc((batch > 2 * block_txs + 1 ? batch : 2 * block_txs + 1) * sizeof *items);
	uint8_t k[21], v[66];
	t0 = now_s();
	double c0 = cpu_s();
	for (uint64_t done = 0; done < n;) {
		uint64_t m = n - done < batch ? n - done : batch;
		if ((rc = ssp_store_write(s, &t))) die("write", rc);
		for (uint64_t i = 0; i < m; i++) {
			account_key(k, done + i);
			account_val(v, 1000000 + done + i, 0);
			item_for(&items[i], k, v, t, state);
		}
		if ((rc = ssp_smt_update(t, smt, items, m, &root, NULL))) die("update", rc);
		if ((rc = ssp_txn_commit(t))) die("commit", rc);
		done += m;
	}
	printf("# built %llu accounts in %.1f s (%.1f CPU s)\n", (unsigned long long)n,
	       now_s() - t0, cpu_s() - c0);
	uint64_t tb_bytes = 0, st_bytes = 0;
	ssp_txn *rt;
	if ((rc = ssp_store_read(s, &rt)) || (rc = ssp_txn_table_bytes(rt, smt, &tb_bytes)) ||
	    (rc = ssp_txn_table_bytes(rt, state, &st_bytes)))
		die("stat", rc);
	ssp_txn_end(rt);
	printf("BENCH tree_bytes_per_account %.1f bytes\n", (double)tb_bytes / n);
	printf("BENCH state_bytes_per_account %.1f bytes\n", (double)st_bytes / n);

	/* blocks of B transfers: 2B+1 keys each (random senders and receivers, the pool) */
	uint64_t keys = 0, ops = 0, fsize0 = file_size(dir), tbytes0 = tb_bytes;
	double t_update = 0, t_commit = 0, c_update = 0;
	for (uint64_t b = 0; b < blocks; b++) {
		uint64_t nk = 0;
		if ((rc = ssp_store_write(s, &t))) die("write", rc);
		for (uint64_t i = 0; i < 2 * block_txs; i++) {
			account_key(k, rnd() % n);
			account_val(v, rnd(), b + 1);
			/* a key twice in a block is one write: skip repeats */
			bool dup = false;
			ssp_hash p;
			ssp_smt_path(&p, k, 21);
			for (uint64_t j = nk; j-- > 0 && j + 64 > nk;)
				if (!memcmp(items[j].path.b, p.b, 32)) dup = true;
			if (!dup) item_for(&items[nk++], k, v, t, state);
		}
		static const uint8_t pool_key[] = {3, 's', 'u', 'p', 'p', 'l', 'y'};
		ssp_smt_path(&items[nk].path, pool_key, sizeof pool_key);
		ssp_smt_value_hash(&items[nk].vhash, &b, 8);
		items[nk++].del = false;
		qsort(items, nk, sizeof *items, ssp_smt_item_cmp);
		uint64_t w = 0; /* distinct paths only */
		for (uint64_t i = 0; i < nk; i++)
			if (!w || memcmp(items[w - 1].path.b, items[i].path.b, 32)) items[w++] = items[i];
		double a = now_s(), ac = cpu_s();
		if ((rc = ssp_smt_update(t, smt, items, w, &root, &ops))) die("update", rc);
		double m = now_s();
		c_update += cpu_s() - ac;
		if ((rc = ssp_txn_commit(t))) die("commit", rc);
		t_update += m - a;
		t_commit += now_s() - m;
		keys += w;
	}
	uint64_t fsize1 = file_size(dir);
	if ((rc = ssp_store_read(s, &rt)) || (rc = ssp_txn_table_bytes(rt, smt, &tb_bytes)))
		die("stat", rc);
	ssp_txn_end(rt);
	printf("# %llu blocks of %llu transfers: %llu distinct keys, %.1f tree positions per key\n",
	       (unsigned long long)blocks, (unsigned long long)block_txs, (unsigned long long)keys,
	       (double)ops / keys);
	printf("BENCH tree_update_us_per_key %.2f us\n", 1e6 * c_update / keys);
	printf("BENCH tree_update_hashes_per_key %.1f sha256-equivalents\n",
	       c_update / keys * sha_rate);
	printf("BENCH tree_update_ms_per_block %.1f ms\n", 1e3 * t_update / blocks);
	printf("BENCH commit_ms_per_block %.1f ms\n", 1e3 * t_commit / blocks);
	printf("BENCH tree_table_growth_per_block %.0f bytes\n",
	       ((double)tb_bytes - (double)tbytes0) / blocks);
	printf("BENCH file_growth_per_block %.0f bytes\n",
	       ((double)fsize1 - (double)fsize0) / blocks);

	/*
	 * A past height's tree (proofs below the head, src/chain/prove_past.c):
	 * SSP_PROVE_PAST_KEYS old values applied to an in-memory overlay of the
	 * head's tree through a read txn, then one proof through it. The worst a
	 * client can ask of the node at a time.
	 */
	{
		uint64_t pk = 8192, pops = 0;
		smt_ovl *ovl;
		smt_item *pi = malloc(pk * sizeof *pi);
		for (uint64_t i = 0; i < pk; i++) {
			account_key(k, rnd() % n);
			ssp_smt_path(&pi[i].path, k, 21);
			ssp_smt_value_hash(&pi[i].vhash, &i, 8);
			pi[i].del = false;
		}
		qsort(pi, pk, sizeof *pi, ssp_smt_item_cmp);
		uint64_t w = 0;
		for (uint64_t i = 0; i < pk; i++)
			if (!w || memcmp(pi[w - 1].path.b, pi[i].path.b, 32)) pi[w++] = pi[i];
		ssp_sproof sp1;
		if ((rc = ssp_store_read(s, &rt))) die("read", rc);
		c0 = cpu_s();
		if ((rc = smt_ovl_new(&ovl, 32 * w + 4096)) ||
		    (rc = smt_update_ovl(rt, smt, ovl, pi, w, &root, &pops)) ||
		    (rc = smt_prove_ovl(rt, smt, ovl, &pi[0].path, &sp1)))
			die("past tree", rc);
		double pc = cpu_s() - c0;
		smt_ovl_free(ovl);
		ssp_txn_end(rt);
		printf("BENCH past_tree_rebuild_ms_%llu_keys %.1f ms\n", (unsigned long long)w,
		       1e3 * pc);
		printf("BENCH past_tree_overlay_positions_per_key %.1f positions\n",
		       (double)pops / w);
		free(pi);
	}

	/* proofs: present keys and absent ones, generated and verified */
	ssp_buf pb;
	ssp_buf_init(&pb, SSP_SPROOF_MAX_BYTES);
	ssp_sproof *sp = malloc(sizeof *sp);
	uint64_t bytes_present = 0, bytes_absent = 0, max_bytes = 0, np = 0, na = 0;
	if ((rc = ssp_store_read(s, &rt))) die("read", rc);
	if ((rc = ssp_smt_root(rt, smt, &root))) die("root", rc);
	t0 = now_s();
	c0 = cpu_s();
	for (uint64_t i = 0; i < proofs; i++) {
		ssp_hash p;
		account_key(k, i % 2 ? rnd() % n : n + rnd() % n); /* odd: present */
		ssp_smt_path(&p, k, 21);
		if ((rc = ssp_smt_prove(rt, smt, &p, sp))) die("prove", rc);
		ssp_buf_reset(&pb);
		ssp_sproof_encode(&pb, sp);
		if (i % 2) {
			bytes_present += pb.len;
			np++;
		} else {
			bytes_absent += pb.len;
			na++;
		}
		if (pb.len > max_bytes) max_bytes = pb.len;
	}
	double gen_cpu = cpu_s() - c0;
	printf("BENCH proof_gen_per_s %.0f proofs/s\n", proofs / gen_cpu);
	printf("BENCH proof_bytes_present_avg %.0f bytes\n", (double)bytes_present / np);
	printf("BENCH proof_bytes_absent_avg %.0f bytes\n", (double)bytes_absent / na);
	printf("BENCH proof_bytes_max %llu bytes\n", (unsigned long long)max_bytes);
	/* verification (what a device does): one proof, many times */
	account_key(k, 12345 % n);
	{
		ssp_hash p;
		ssp_smt_path(&p, k, 21);
		if ((rc = ssp_smt_prove(rt, smt, &p, sp))) die("prove", rc);
		ssp_buf_reset(&pb);
		ssp_sproof_encode(&pb, sp);
	}
	ssp_txn_end(rt);
	c0 = cpu_s();
	uint64_t nv = 100000;
	for (uint64_t i = 0; i < nv; i++) {
		bool present;
		if (ssp_sproof_verify(&present, NULL, &root, k, 21, pb.data, pb.len) || !present)
			die("verify", SSP_ERR_PROOF);
	}
	printf("BENCH proof_verify_per_s %.0f proofs/s\n", nv / (cpu_s() - c0));
	ssp_buf_free(&pb);
	free(sp);
	free(items);
	ssp_store_close(s);
	char p[4200];
	static const char *const files[] = {"chain.mdb", "chain.mdb-lock", "LOCK"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}
