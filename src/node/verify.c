/*
 * verify.c — sspd --verify-db DIR (node layer): an offline walk of a whole
 * datadir that trusts nothing it reads. It first walks the store whole
 * (ssp_store_check: only the chain's tables, every entry inside the file),
 * then opens the chain (its start-up checks: head record, state tree root,
 * meta table and signing watermark). For every height it checks the stored
 * block against its id and tx root (ssp_chain_read_block), the hash link to
 * its parent, the stored receipts (one per tx, their root against the
 * header) and the tx index; it replays every block through ssp_chain_import
 * into a scratch datadir (removed afterwards), which re-executes it and
 * must reproduce the header's receipts and state roots, keeping an undo
 * record for every block; it then counts the index tables' entries,
 * compares the stored undo records with the replayed ones, the replayed
 * state table with the stored one entry by entry, the stored state tree
 * with the replayed one record by record, and recomputes the state root
 * from the stored entries. Prints "ok" with counts, or the first bad
 * height. The coverage, table by table: docs/internals/store.md.
 *
 * The walk runs in a child process: a damaged B-tree page can make liblmdb
 * follow a wild pointer (SIGSEGV, SIGBUS) or fail one of its own asserts
 * (SIGABRT) before any check of ours sees the bytes. The parent turns such a
 * death into the verdict it is — the file is corrupt — instead of dying
 * with it, and removes the scratch datadir either way.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/db.h"
#include "node/node.h"

typedef struct {
	ssp_node_db db;
	ssp_table state, receipts, blocks, blockid, txidx, smt, undo;
} vside;

static int open_vside(vside *s, const char *dir, const ssp_genesis *g, size_t map_size,
                      uint64_t *entries)
{
	int rc = 0;
	if (entries) {
		/* the source: walked whole before the chain opens (and may create) its tables */
		ssp_store_opts so = {.no_sync = true, .map_size = map_size};
		size_t nt;
		const char *const *tables = ssp_chain_tables(&nt);
		ssp_store *st;
		rc = ssp_store_open(&st, dir, &so);
		if (!rc) {
			rc = ssp_store_check(st, tables, nt, entries);
			ssp_store_close(st);
		}
		if (rc) return rc;
	}
	rc = ssp_node_db_open(&s->db, dir, g, map_size);
	if (!rc) rc = ssp_store_table(s->db.store, "state", &s->state);
	if (!rc) rc = ssp_store_table(s->db.store, "receipts", &s->receipts);
	if (!rc) rc = ssp_store_table(s->db.store, "blocks", &s->blocks);
	if (!rc) rc = ssp_store_table(s->db.store, "blockid", &s->blockid);
	if (!rc) rc = ssp_store_table(s->db.store, "txidx", &s->txidx);
	if (!rc) rc = ssp_store_table(s->db.store, "smt", &s->smt);
	if (!rc) rc = ssp_store_table(s->db.store, "undo", &s->undo);
	return rc;
}

/* Removes the scratch datadir (its three files, then itself). */
static void remove_scratch(const char *dir)
{
	static const char *const files[] = {"chain.mdb", "chain.mdb-lock", "LOCK"};
	char p[4200];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/*
 * Checks block h's stored receipts (parsed strictly: exactly one per tx, for
 * that tx, nothing after them, their root the header's) and tx index.
 */
static int check_block_data(vside *s, ssp_txn *rt, uint64_t h, const ssp_block *b, const char **why)
{
	ssp_hash *leaves = NULL, root;
	const void *v;
	size_t vl;
	uint8_t k[8];
	ssp_rd r;
	int rc = 0;
	if (b->ntx && !(leaves = malloc(b->ntx * sizeof *leaves))) return SSP_ERR_NOMEM;
	for (uint32_t i = 0; i < b->ntx && !rc; i++) {
		uint64_t th;
		uint32_t ti;
		rc = ssp_chain_read_txloc(s->db.chain, rt, &b->txs[i].txid, &th, &ti);
		if (rc == SSP_ERR_NOTFOUND || rc == SSP_ERR_DBCORRUPT ||
		    (!rc && (th != h || ti != i))) {
			*why = "tx index does not point at the block's tx";
			rc = SSP_ERR_DBCORRUPT;
		}
	}
	ssp_be64_put(k, h);
	if (!rc) rc = ssp_txn_get(rt, s->receipts, k, 8, &v, &vl);
	if (rc == SSP_ERR_NOTFOUND) {
		*why = "receipts missing";
		rc = SSP_ERR_DBCORRUPT;
	}
	if (!rc) {
		ssp_rd_init(&r, v, vl);
		uint32_t n = ssp_rd_u32(&r);
		if (r.err || n != b->ntx) {
			*why = "receipt count differs from the tx count";
			rc = SSP_ERR_DBCORRUPT;
		}
		for (uint32_t i = 0; i < b->ntx && !rc; i++) {
			size_t rl;
			const uint8_t *p = ssp_rd_bytes(&r, vl, &rl);
			ssp_receipt rc1;
			if (r.err || ssp_receipt_decode(&rc1, p, rl)) {
				*why = "receipt undecodable";
				rc = SSP_ERR_DBCORRUPT;
				break;
			}
			if (memcmp(rc1.txid.b, b->txs[i].txid.b, 32)) {
				*why = "receipt of another tx";
				rc = SSP_ERR_DBCORRUPT;
			}
			ssp_receipt_free(&rc1);
			ssp_sha256(&leaves[i], p, rl);
		}
		if (!rc && ssp_rd_end(&r)) {
			*why = "bytes after the receipts";
			rc = SSP_ERR_DBCORRUPT;
		}
	}
	if (!rc) {
		if (b->ntx)
			ssp_merkle_root_inplace(&root, leaves, b->ntx);
		else
			memset(&root, 0, sizeof root);
		if (memcmp(root.b, b->hdr.receipts_root.b, 32)) {
			*why = "receipts do not match the receipts root";
			rc = SSP_ERR_DBCORRUPT;
		}
	}
	free(leaves);
	return rc;
}

static int count_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Entries in a table (an altered key leaves one where nothing looks for it). */
static int count_table(ssp_store *st, ssp_table tb, uint64_t *n)
{
	static const uint8_t start = 0;
	ssp_txn *rt;
	*n = 0;
	int rc = ssp_store_read(st, &rt);
	if (rc) return rc;
	rc = ssp_txn_scan(rt, tb, &start, 1, count_visit, n);
	ssp_txn_end(rt);
	return rc > 0 ? 0 : rc;
}

/* Compares two tables entry by entry (the stored and the replayed state, or state tree). */
typedef struct {
	ssp_txn *other;
	ssp_table tb;
	uint64_t count;
	bool differs;
} cmp_ctx;

static int cmp_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	cmp_ctx *c = arg;
	const void *ov;
	size_t ol;
	int rc = ssp_txn_get(c->other, c->tb, k, kl, &ov, &ol);
	if (rc == SSP_ERR_NOTFOUND || (!rc && (ol != vl || memcmp(ov, v, vl)))) {
		c->differs = true;
		return 1;
	}
	if (rc) return rc;
	c->count++;
	return 0;
}

static int compare_table(vside *a, ssp_table ta, vside *b, ssp_table tb, uint64_t *count,
                         bool *differs)
{
	ssp_txn *ra = NULL, *rb = NULL;
	cmp_ctx ab = {0}, ba = {0};
	int rc = ssp_store_read(a->db.store, &ra);
	if (!rc) rc = ssp_store_read(b->db.store, &rb);
	if (rc) goto out;
	ab = (cmp_ctx){.other = rb, .tb = tb};
	ba = (cmp_ctx){.other = ra, .tb = ta};
	static const uint8_t start = 0; /* LMDB keys are never empty: the smallest one */
	rc = ssp_txn_scan(ra, ta, &start, 1, cmp_visit, &ab);
	if (rc > 0) rc = 0;
	if (!rc && !ab.differs) rc = ssp_txn_scan(rb, tb, &start, 1, cmp_visit, &ba);
	if (rc > 0) rc = 0;
	*differs = ab.differs || ba.differs || ab.count != ba.count;
	*count = ab.count;
out:
	if (rb) ssp_txn_end(rb);
	if (ra) ssp_txn_end(ra);
	return rc;
}

/*
 * The stored undo records against the replayed ones (the replay keeps one
 * for every block): each under the height of a block of the chain, equal to
 * the replayed record byte for byte except the final height of the previous
 * head it holds (offset 1 + 88): a branch switch records the higher final
 * height of its time there, and popping takes the larger of it and the
 * head's own, so any value up to the head's final height (and below the
 * record's height) acts the same. Every block above the final height must
 * have its record, or it could not be popped.
 */
typedef struct {
	vside *dst;
	ssp_txn *drt;
	const ssp_head *head;
	uint64_t above_final;
	bool bad;
} undo_ctx;

static int undo_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	undo_ctx *u = arg;
	const uint8_t *a = v, *b;
	const void *dv;
	size_t dl;
	uint64_t kh = kl == 8 ? ssp_be64_get(k) : 0;
	if (kh == 0 || kh > u->head->height) {
		u->bad = true;
		return 1;
	}
	int rc = ssp_txn_get(u->drt, u->dst->undo, k, 8, &dv, &dl);
	if (rc == SSP_ERR_NOTFOUND) {
		u->bad = true;
		return 1;
	}
	if (rc) return rc;
	b = dv;
	enum { FIN = 1 + 88 };
	if (vl != dl || vl < FIN + 8 || memcmp(a, b, FIN) ||
	    memcmp(a + FIN + 8, b + FIN + 8, vl - FIN - 8)) {
		u->bad = true;
		return 1;
	}
	uint64_t f = ssp_le64_get(a + FIN);
	if (f >= kh || f > u->head->finalized) {
		u->bad = true;
		return 1;
	}
	u->above_final += kh > u->head->finalized;
	return 0;
}

static int check_undo(vside *src, vside *dst, const ssp_head *head, bool *bad)
{
	ssp_txn *ra = NULL, *rb = NULL;
	undo_ctx u = {.dst = dst, .head = head};
	int rc = ssp_store_read(src->db.store, &ra);
	if (!rc) rc = ssp_store_read(dst->db.store, &rb);
	if (!rc) {
		u.drt = rb;
		rc = ssp_txn_scan(ra, src->undo, NULL, 0, undo_visit, &u);
		if (rc > 0) rc = 0;
	}
	*bad = u.bad || (!rc && u.above_final != head->height - head->finalized);
	if (rb) ssp_txn_end(rb);
	if (ra) ssp_txn_end(ra);
	return rc;
}

/*
 * After the chain refused dir as another chain's (its genesis record is not
 * the genesis file's hash): whether the record is what is damaged. Block 0
 * alone cannot tell (it depends on the allocations, time and producer, not
 * on the parameters the genesis hash also covers), so the record must also
 * be within 8 bits of the file's hash: two different genesis files' hashes
 * differ in about 128 of 256 bits, a damaged record in the few flipped.
 * Block 0 is compared with the one the genesis file makes (built in the
 * scratch datadir, emptied again afterwards).
 */
static bool genesis_block_matches(const char *dir, const char *scratch, const ssp_genesis *g,
                                  size_t map_size)
{
	vside d = {0};
	ssp_store *st = NULL;
	ssp_store_opts so = {.no_sync = true, .map_size = map_size};
	ssp_table blocks, meta;
	ssp_txn *rt;
	const void *v;
	size_t vl;
	uint8_t k[8] = {0};
	bool same = false;
	if (open_vside(&d, scratch, g, map_size, NULL)) goto out;
	const ssp_hash want = ssp_chain_head(d.db.chain)->id;
	if (ssp_store_open(&st, dir, &so) || ssp_store_table(st, "blocks", &blocks) ||
	    ssp_store_table(st, "meta", &meta) || ssp_store_read(st, &rt))
		goto out;
	if (!ssp_txn_get(rt, meta, "genesis", 7, &v, &vl) && vl == 32) {
		int bits = 0;
		for (int i = 0; i < 32; i++)
			bits += __builtin_popcount(((const uint8_t *)v)[i] ^ ssp_genesis_hash(g)->b[i]);
		same = bits <= 8;
	}
	if (same && !ssp_txn_get(rt, blocks, k, 8, &v, &vl)) {
		ssp_header h;
		ssp_rd r;
		ssp_rd_init(&r, v, vl);
		same = !ssp_header_read(&h, &r) && !memcmp(h.id.b, want.b, 32);
	} else {
		same = false;
	}
	ssp_txn_end(rt);
out:
	ssp_store_close(st);
	ssp_node_db_close(&d.db);
	remove_scratch(scratch);
	mkdir(scratch, 0700);
	return same;
}

/* The walk itself (in the child); scratch is an empty directory it may fill. */
static int verify_walk(const ssp_node_config *cfg, const char *scratch)
{
	const char *dir = cfg->verify_db;
	char gpath[1200], why_g[512];
	ssp_genesis *g = NULL;
	vside src = {0}, dst = {0};
	uint64_t h = 0, ntx = 0, nstate = 0, nentries = 0;
	const char *why = NULL;
	int rc, status = 1;
	ssp_hash prev;

	if (cfg->log_level < SSP_LOG_WARN) ssp_log_setup(cfg->log_format, SSP_LOG_WARN);
	if (cfg->genesis[0])
		snprintf(gpath, sizeof gpath, "%s", cfg->genesis);
	else
		snprintf(gpath, sizeof gpath, "%s/genesis.json", dir);
	if (ssp_genesis_load(&g, gpath, why_g, sizeof why_g)) {
		fprintf(stderr, "sspd: error: genesis %s: %s\n", gpath, why_g);
		return 1;
	}
	{
		char db[1100];
		snprintf(db, sizeof db, "%s/chain.mdb", dir);
		if (access(db, F_OK)) {
			fprintf(stderr, "sspd: error: %s has no database (chain.mdb)\n", dir);
			goto out;
		}
	}
	rc = open_vside(&src, dir, g, cfg->map_size, &nentries);
	if (rc == SSP_ERR_DBCORRUPT) {
		printf("database corrupt: %s cannot be opened (see the log above)\n", dir);
		goto out;
	}
	if (rc == SSP_ERR_DBVERSION) {
		ssp_node_db_close(&src.db); /* its lock: genesis_block_matches opens dir again */
		memset(&src, 0, sizeof src);
	}
	if (rc == SSP_ERR_DBVERSION && genesis_block_matches(dir, scratch, g, cfg->map_size)) {
		printf("database corrupt: %s holds this genesis's block 0 but another genesis record "
		       "(the meta table's genesis hash is damaged)\n", dir);
		goto out;
	}
	if (rc) {
		/* locked by a running node, another chain's genesis, out of memory …: no verdict */
		fprintf(stderr, "sspd: error: cannot open %s: %s\n", dir, ssp_strerror(rc));
		status = 2;
		goto out;
	}
	rc = open_vside(&dst, scratch, g, cfg->map_size, NULL);
	if (!rc) rc = ssp_node_db_init_modules(&dst.db, g, NULL);
	if (!rc) ssp_chain_set_keep_undo(dst.db.chain, true); /* for check_undo */
	if (rc) {
		fprintf(stderr, "sspd: error: scratch datadir %s: %s\n", scratch, ssp_strerror(rc));
		goto out;
	}
	const ssp_head head = *ssp_chain_head(src.db.chain);
	prev = ssp_chain_head(dst.db.chain)->id; /* genesis: identical by construction */
	{
		ssp_txn *rt;
		const uint8_t *raw;
		size_t n;
		if ((rc = ssp_store_read(src.db.store, &rt))) goto local;
		rc = ssp_chain_read_block(src.db.chain, rt, 0, &raw, &n);
		if (!rc) {
			ssp_block b0;
			rc = ssp_block_decode(&b0, raw, n, n);
			if (!rc && memcmp(b0.hdr.id.b, prev.b, 32)) {
				why = "genesis block differs from the genesis file's";
				rc = SSP_ERR_DBCORRUPT;
			}
			if (!rc) ssp_block_free(&b0);
		}
		ssp_txn_end(rt);
		if (rc) goto bad;
	}
	for (h = 1; h <= head.height; h++) {
		ssp_txn *rt;
		const uint8_t *raw;
		size_t n;
		ssp_block b = {0};
		ssp_block_info info;
		uint8_t *copy = NULL;
		if ((rc = ssp_store_read(src.db.store, &rt))) goto local;
		rc = ssp_chain_read_block(src.db.chain, rt, h, &raw, &n);
		if (rc == SSP_ERR_NOTFOUND) {
			why = "block missing";
			rc = SSP_ERR_DBCORRUPT;
		}
		if (!rc) rc = ssp_block_decode(&b, raw, n, n);
		if (!rc && memcmp(b.hdr.prev_id.b, prev.b, 32)) {
			why = "parent link broken (prev_id)";
			rc = SSP_ERR_DBCORRUPT;
		}
		if (!rc) rc = check_block_data(&src, rt, h, &b, &why);
		if (!rc && !(copy = malloc(n))) rc = SSP_ERR_NOMEM;
		if (!rc) memcpy(copy, raw, n);
		if (!rc) {
			prev = b.hdr.id;
			ntx += b.ntx;
		}
		ssp_block_free(&b);
		ssp_txn_end(rt);
		if (rc) {
			free(copy);
			goto bad;
		}
		/* re-executes the block: receipts and state roots must match its header */
		rc = ssp_chain_import(dst.db.chain, NULL, copy, n, &info);
		free(copy);
		if (rc) {
			if (!ssp_err_local(rc) || rc == SSP_ERR_DBCORRUPT) {
				why = "replaying the block does not reproduce it";
				goto bad;
			}
			goto local;
		}
	}
	h = head.height;
	if (memcmp(prev.b, head.id.b, 32) ||
	    memcmp(ssp_chain_head(dst.db.chain)->state_root.b, head.state_root.b, 32)) {
		why = "head record differs from the replayed chain";
		rc = SSP_ERR_DBCORRUPT;
		goto bad;
	}
	{
		uint64_t nb = 0, ni = 0, nt = 0, nr = 0;
		rc = count_table(src.db.store, src.blocks, &nb);
		if (!rc) rc = count_table(src.db.store, src.blockid, &ni);
		if (!rc) rc = count_table(src.db.store, src.txidx, &nt);
		if (!rc) rc = count_table(src.db.store, src.receipts, &nr);
		if (rc == SSP_ERR_DBCORRUPT ||
		    (!rc && (nb != head.height + 1 || ni != head.height + 1 || nt != ntx ||
		             nr != head.height))) {
			why = "index tables hold entries no block accounts for";
			rc = SSP_ERR_DBCORRUPT;
			goto bad;
		}
		if (rc) goto local;
	}
	bool differs = false;
	rc = check_undo(&src, &dst, &head, &differs);
	if (rc == SSP_ERR_DBCORRUPT || differs) {
		why = "undo records differ from the replayed ones (or one is missing)";
		rc = SSP_ERR_DBCORRUPT;
		goto bad;
	}
	if (rc) goto local;
	rc = compare_table(&src, src.state, &dst, dst.state, &nstate, &differs);
	if (rc == SSP_ERR_DBCORRUPT || differs) {
		why = "state tables differ from the replayed state";
		rc = SSP_ERR_DBCORRUPT;
		goto bad;
	}
	if (rc) goto local;
	/* the state tree is a function of the state: the replayed one, record for record */
	uint64_t nsmt = 0;
	rc = compare_table(&src, src.smt, &dst, dst.smt, &nsmt, &differs);
	if (rc == SSP_ERR_DBCORRUPT || differs) {
		why = "the state tree differs from the replayed one";
		rc = SSP_ERR_DBCORRUPT;
		goto bad;
	}
	if (rc) goto local;
	{
		/* the stored state tree: its root recomputed from every stored entry */
		ssp_txn *rt;
		rc = ssp_store_read(src.db.store, &rt);
		if (!rc) {
			rc = ssp_chain_check_state_root(src.db.chain, rt, NULL);
			ssp_txn_end(rt);
		}
		if (rc == SSP_ERR_DBCORRUPT) {
			why = "the stored state tree does not match the state entries";
			goto bad;
		}
		if (rc) goto local;
	}
	printf("ok: %llu blocks, %llu txs, %llu state entries\n",
	       (unsigned long long)head.height + 1, (unsigned long long)ntx,
	       (unsigned long long)nstate);
	status = 0;
	goto out;
bad:
	printf("database corrupt at height %llu: %s\n", (unsigned long long)h,
	       why ? why : ssp_strerror(rc));
	goto out;
local:
	fprintf(stderr, "sspd: error: verifying stopped at height %llu: %s\n",
	        (unsigned long long)h, ssp_strerror(rc));
	status = 2;
out:
	fflush(stdout);
	ssp_node_db_close(&dst.db);
	ssp_node_db_close(&src.db);
	ssp_genesis_free(g);
	return status;
}

/* Exit status of a child that died of signal S inside the store library: base + S. */
enum { DIED_OF = 100 };

static void on_crash(int sig)
{
	_exit(DIED_OF + sig);
}

/*
 * Runs fn(arg) in a child process and returns its exit status, or -S when it
 * died of signal S (SIGSEGV, SIGBUS, SIGABRT …): a damaged B-tree page can
 * make liblmdb follow a wild pointer or fail one of its own asserts before
 * any check of ours sees the bytes; the caller turns that into the verdict
 * it is (the file is corrupt) instead of dying with it. -1 when no child
 * could be run or it was killed from outside (no verdict).
 */
static int run_isolated(int (*fn)(void *), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		/* replaces the sanitizers' handlers too: a wild read inside liblmdb is
		 * a verdict on the file, not a report on our code */
		struct sigaction sa = {.sa_handler = on_crash};
		sigemptyset(&sa.sa_mask);
		static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
		int st = fn(arg);
		fflush(stdout);
		exit(st);
	}
	int ws = 0;
	pid_t w;
	while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR)
		;
	if (w < 0) return -1;
	if (WIFEXITED(ws)) {
		int code = WEXITSTATUS(ws);
		return code > DIED_OF && code < DIED_OF + 32 ? -(code - DIED_OF) : code;
	}
	int sig = WTERMSIG(ws);
	return sig == SIGKILL || sig == SIGTERM || sig == SIGINT ? -1 : -sig;
}

typedef struct {
	const ssp_node_config *cfg;
	const char *scratch;
} walk_arg;

static int walk_fn(void *arg)
{
	walk_arg *w = arg;
	return verify_walk(w->cfg, w->scratch);
}

int ssp_node_verify_db(const ssp_node_config *cfg)
{
	char scratch[4096];
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch, sizeof scratch, "%s/sspd-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		fprintf(stderr, "sspd: error: cannot create a scratch directory %s\n", scratch);
		return 2;
	}
	walk_arg w = {cfg, scratch};
	int st = run_isolated(walk_fn, &w);
	remove_scratch(scratch);
	if (st == -1) {
		fprintf(stderr, "sspd: error: the verifier did not finish (no verdict)\n");
		return 2;
	}
	if (st < 0) {
		printf("database corrupt: reading it crashed the store library (%s): its B-tree "
		       "pages are damaged\n",
		       strsignal(-st));
		fflush(stdout);
		return 1;
	}
	return st; /* 0 ok, 1 corrupt or refused, 2 no verdict; else a sanitizer's */
}

typedef struct {
	const char *dir;
	const ssp_genesis *g;
	size_t map_size;
} probe_arg;

/* The probe's exit status when the walk of the file found damage (not a signal). */
enum { PROBE_CORRUPT = 3 };

static int probe_fn(void *arg)
{
	probe_arg *p = arg;
	ssp_store_opts so = {.no_sync = true, .map_size = p->map_size};
	ssp_store *st = NULL;
	ssp_chain *c = NULL;
	ssp_modset *ms = NULL;
	size_t nt;
	const char *const *tables = ssp_chain_tables(&nt);
	if (ssp_store_open(&st, p->dir, &so)) return 1;
	/* before the chain opens its tables (creating any that are missing) */
	if (ssp_store_check(st, tables, nt, NULL) == SSP_ERR_DBCORRUPT) {
		ssp_store_close(st);
		return PROBE_CORRUPT;
	}
	int rc = ssp_modset_open_chain(&c, &ms, st, p->g);
	if (c) ssp_chain_close(c);
	ssp_modset_free(ms);
	ssp_store_close(st);
	return rc ? 1 : 0;
}

int ssp_node_probe_db(const char *dir, const ssp_genesis *g, size_t map_size, int *sig)
{
	char db[1100];
	snprintf(db, sizeof db, "%s/chain.mdb", dir);
	*sig = 0;
	if (access(db, F_OK)) return 0; /* nothing to read yet */
	probe_arg p = {dir, g, map_size};
	int st = run_isolated(probe_fn, &p);
	if (st < -1) {
		*sig = -st;
		return SSP_ERR_DBCORRUPT;
	}
	if (st == PROBE_CORRUPT) return SSP_ERR_DBCORRUPT; /* *sig 0: the walk's log says what */
	return 0; /* opened, or failed in a way the real open reports itself */
}
