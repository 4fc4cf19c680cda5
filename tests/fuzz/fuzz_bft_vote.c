/*
 * fuzz_bft_vote.c — libFuzzer harness for the BFT consensus's wire forms
 * (consensus layer, bftc.c): votes and quorum certificates from the
 * network, against a small fixed chain (4 Ed25519 producers, a "bft"
 * genesis, 6 blocks with QCs, in a temp datadir made once). Input: u8 mode
 * ‖ bytes, each input against a fresh ssp_bftc loaded from that chain.
 * Mode 0 (even): the bytes are a vote for ssp_bftc_vote_in: any length but
 * SSP_BFTC_VOTE_LEN is SSP_ERR_DECODE, a vote counted as fresh has a
 * signature that verifies for its voter, the same bytes again are never
 * fresh, and no verdict is a local error. Mode 1 (odd): the bytes are the
 * finality_qc of the chain's next block (its real reveal, producer and
 * fields) given to the consensus check: accepted only when the QC is
 * exactly link ‖ u16 n=4 ‖ bitmap ‖ one valid signature per set bit, with
 * at least 3 bits; anything else is SSP_ERR_BFT_QC or another validity
 * error, never a local one.
 *
 * With FUZZ_BFT_VOTE_SEEDS=<dir> in the environment, LLVMFuzzerInitialize
 * writes the seed corpus (valid and near-valid votes and QCs) there.
 */
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"
#include "ssp/consensus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NP 4
#define LAYERS 16
#define CHAIN_ID "ssp-fuzz-bft"
#define T0 1700000000000ULL
#define LINK 80
#define BLOCKS 6

static void check(int ok)
{
	if (!ok) abort();
}

static struct {
	char dir[64];
	ssp_seckey sk[NP];
	ssp_pubkey pk[NP];
	ssp_genesis *g;
	ssp_store *st;
	ssp_chain *c;
	ssp_mempool *pool;
	uint64_t slot_ms;
	uint8_t *next; /* the encoded block after the head (popped) */
	size_t next_len;
	ssp_header nh; /* its header (nh.qc borrows from next) */
	ssp_hash jid;  /* the head's parent: the justified block a vote for the head links from */
} F;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(path);
}

static void cleanup(void)
{
	ssp_mempool_free(F.pool);
	if (F.c) ssp_chain_close(F.c);
	if (F.st) ssp_store_close(F.st);
	if (F.dir[0]) nftw(F.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ssp_genesis_free(F.g);
	free(F.next);
}

static void make_genesis(void)
{
	ssp_addr dev;
	json_t *pl = json_array(), *ol = json_array();
	for (int i = 0; i < NP; i++) {
		uint8_t raw[32];
		char pk[96], hex[65];
		ssp_hash d, x;
		ssp_sig sig;
		memset(raw, 0x21 + i, sizeof raw);
		check(!ssp_seckey_from_raw(&F.sk[i], SSP_KEY_ED25519, raw, sizeof raw));
		check(!ssp_key_public(&F.pk[i], &F.sk[i]));
		ssp_onion_secret_digest(&d, CHAIN_ID);
		check(!ssp_sign_digest(&sig, &F.sk[i], &d));
		ssp_onion_secret(&x, &sig);
		for (int k = 0; k < LAYERS; k++)
			ssp_sha256(&x, x.b, 32);
		sodium_bin2hex(hex, sizeof hex, x.b, 32);
		ssp_pubkey_text(pk, sizeof pk, &F.pk[i]);
		json_array_append_new(pl, json_string(pk));
		json_array_append_new(ol, json_string(hex));
	}
	ssp_addr_from_pubkey(&dev, &F.pk[0]);
	char *text = ssp_genesis_dev_json(&dev, &F.pk[0], T0);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	check(j != NULL);
	json_object_del(j, "producer");
	json_object_set_new(j, "chain_id", json_string(CHAIN_ID));
	json_object_set_new(j, "producers", pl);
	json_object_set_new(j, "bft", json_pack("{s:i, s:o}", "onion_layers", LAYERS, "onion", ol));
	text = json_dumps(j, 0);
	json_decref(j);
	char why[256];
	check(text && !ssp_genesis_parse(&F.g, text, strlen(text), why, sizeof why));
	free(text);
	F.slot_ms = ssp_genesis_params(F.g)->block_interval_ms;
}

static void link_put(uint8_t *p, uint64_t sh, const ssp_hash *sid, uint64_t th, const ssp_hash *tid)
{
	ssp_le64_put(p, sh);
	memcpy(p + 8, sid->b, 32);
	ssp_le64_put(p + 40, th);
	memcpy(p + 48, tid->b, 32);
}

static void make_vote(uint8_t out[SSP_BFTC_VOTE_LEN], int voter, uint64_t sh, const ssp_hash *sid,
                      uint64_t th, const ssp_hash *tid)
{
	ssp_hash d;
	ssp_sig sig;
	out[0] = 1;
	out[1] = (uint8_t)voter;
	out[2] = 0;
	link_put(out + 3, sh, sid, th, tid);
	ssp_sig_digest(&d, SSP_DOM_VOTE, CHAIN_ID, out + 3, LINK);
	check(!ssp_sign_digest(&sig, &F.sk[voter], &d));
	memcpy(out + 3 + LINK, sig.b, SSP_SIG_LEN);
}

static ssp_hash id_at(uint64_t height, ssp_header *hout)
{
	ssp_txn *rt;
	const uint8_t *raw;
	size_t len;
	ssp_header h;
	ssp_rd rd;
	check(!ssp_store_read(F.st, &rt));
	check(!ssp_chain_read_block(F.c, rt, height, &raw, &len));
	ssp_rd_init(&rd, raw, len);
	check(!ssp_header_read(&h, &rd));
	ssp_txn_end(rt);
	h.qc = NULL; /* borrowed from the txn */
	if (hout) *hout = h;
	return h.id;
}

/* One block by the slot's producer, then every producer's vote for it. */
static void grow(ssp_bftc *b)
{
	const ssp_head *hd = ssp_chain_head(F.c);
	ssp_hash parent = hd->id;
	uint64_t s = hd->slot + 1;
	const ssp_pubkey *pk = ssp_bftc_slot_producer(b, &parent, s);
	int p = -1;
	check(pk != NULL);
	for (int i = 0; i < NP; i++)
		if (!memcmp(pk->b, F.pk[i].b, pk->len)) p = i;
	check(p >= 0);
	ssp_signer sg;
	ssp_block_info info;
	ssp_signer_soft(&sg, &F.sk[p]);
	check(!ssp_bftc_set_producer(b, &sg));
	check(!ssp_produce_block(F.c, F.pool, &sg, s, T0 + s * F.slot_ms, &info));
	ssp_bftc_stats st;
	ssp_bftc_info(b, &st);
	hd = ssp_chain_head(F.c);
	ssp_hash src = id_at(st.justified, NULL);
	for (int i = 0; i < NP; i++) {
		uint8_t v[SSP_BFTC_VOTE_LEN];
		bool fresh;
		make_vote(v, i, st.justified, &src, hd->height, &hd->id);
		check(!ssp_bftc_vote_in(b, v, sizeof v, &fresh));
	}
}

static ssp_bftc *fresh_consensus(void)
{
	ssp_bftc *b;
	ssp_consensus cs;
	check(!ssp_bftc_new(&b, F.g));
	ssp_bftc_consensus(b, &cs);
	ssp_chain_set_consensus(F.c, &cs);
	check(!ssp_bftc_load(b, F.c));
	return b;
}

static void make_chain(void)
{
	ssp_store_opts so = {.map_size = (size_t)32 << 20, .no_sync = true};
	snprintf(F.dir, sizeof F.dir, "/tmp/ssp-fuzz-bft-XXXXXX");
	check(mkdtemp(F.dir) != NULL);
	atexit(cleanup);
	check(!ssp_store_open(&F.st, F.dir, &so));
	check(!ssp_chain_open(&F.c, F.st, F.g, NULL, 0));
	ssp_mempool_opts mo = {0};
	check(!ssp_mempool_new(&F.pool, F.c, &mo));
	ssp_bftc *b = fresh_consensus();
	for (int k = 0; k < BLOCKS + 1; k++)
		grow(b);
	/* keep the last block as a template and pop it: the chain's next block */
	ssp_popped p;
	check(!ssp_chain_pop(F.c, &p));
	check(p.n == 1);
	F.next = p.raw[0];
	F.next_len = p.len[0];
	p.raw[0] = NULL;
	ssp_popped_free(&p);
	ssp_rd rd;
	ssp_rd_init(&rd, F.next, F.next_len);
	check(!ssp_header_read(&F.nh, &rd));
	check(F.nh.qc_len > 0);
	F.jid = id_at(ssp_chain_head(F.c)->height - 1, NULL);
	ssp_bftc_free(b);
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	check(f != NULL);
	check(fwrite(&mode, 1, 1, f) == 1 && (n == 0 || fwrite(p, 1, n, f) == n));
	fclose(f);
}

static void write_seeds(const char *dir)
{
	const ssp_head *hd = ssp_chain_head(F.c);
	uint8_t v[SSP_BFTC_VOTE_LEN], w[SSP_BFTC_VOTE_LEN];
	ssp_hash unknown;
	memset(unknown.b, 0xcd, 32);
	make_vote(v, 0, hd->height - 1, &F.jid, hd->height, &hd->id);
	write_seed(dir, "vote_valid", 0, v, sizeof v);
	memcpy(w, v, sizeof w);
	w[3 + LINK + 1] ^= 1;
	write_seed(dir, "vote_bad_sig", 0, w, sizeof w);
	write_seed(dir, "vote_short", 0, v, sizeof v - 1);
	memcpy(w, v, sizeof w);
	w[1] = NP;
	write_seed(dir, "vote_voter_out_of_set", 0, w, sizeof w);
	make_vote(w, 1, hd->height - 1, &F.jid, hd->height + 1, &unknown);
	write_seed(dir, "vote_unknown_target", 0, w, sizeof w);
	make_vote(w, 2, hd->height, &hd->id, hd->height, &hd->id);
	write_seed(dir, "vote_source_not_below", 0, w, sizeof w);

	uint8_t q[SSP_QC_MAX];
	size_t n = F.nh.qc_len;
	memcpy(q, F.nh.qc, n);
	write_seed(dir, "qc_valid", 1, q, n);
	write_seed(dir, "qc_none", 1, q, 0);
	q[n - 1] ^= 1;
	write_seed(dir, "qc_bad_sig", 1, q, n);
	q[n - 1] ^= 1;
	q[LINK] = 5;
	write_seed(dir, "qc_wrong_n", 1, q, n);
	q[LINK] = NP;
	q[n] = 0;
	write_seed(dir, "qc_trailing", 1, q, n + 1);
	q[LINK + 2] |= 0x80;
	memcpy(q + n, q + LINK + 3, SSP_SIG_LEN);
	write_seed(dir, "qc_bit_beyond_n", 1, q, n + SSP_SIG_LEN);
	memcpy(q, F.nh.qc, n);
	int bits = __builtin_popcount(q[LINK + 2]);
	while (bits > 2) {
		q[LINK + 2] &=
		    (uint8_t)(q[LINK + 2] - 1); /* the lowest bit: its signature is first */
		memmove(q + LINK + 3, q + LINK + 3 + SSP_SIG_LEN, n - LINK - 3 - SSP_SIG_LEN);
		n -= SSP_SIG_LEN;
		bits--;
	}
	write_seed(dir, "qc_two_bits", 1, q, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	check(!ssp_core_init());
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_ERROR);
	make_genesis();
	make_chain();
	const char *seeds = getenv("FUZZ_BFT_VOTE_SEEDS");
	if (seeds) write_seeds(seeds);
	return 0;
}

/* Every set bit of a well-formed QC signed by its voter, at least 3 of them. */
static bool qc_sound(const uint8_t *q, size_t n)
{
	if (n < LINK + 3 || (q[LINK] | q[LINK + 1] << 8) != NP || q[LINK + 2] >> NP) return false;
	int bits = __builtin_popcount(q[LINK + 2]);
	if (bits < 3 || n != LINK + 3 + (size_t)bits * SSP_SIG_LEN) return false;
	ssp_hash d;
	ssp_sig_digest(&d, SSP_DOM_VOTE, CHAIN_ID, q, LINK);
	const uint8_t *s = q + LINK + 3;
	for (int i = 0; i < NP; i++) {
		if (!(q[LINK + 2] >> i & 1)) continue;
		ssp_sig sig;
		memcpy(sig.b, s, SSP_SIG_LEN);
		s += SSP_SIG_LEN;
		if (ssp_verify_digest(&F.pk[i], &d, &sig)) return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.c) LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1) return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	ssp_bftc *b = fresh_consensus();
	if (data[0] % 2 == 0) {
		bool fresh = true;
		int rc = ssp_bftc_vote_in(b, p, n, &fresh);
		check(!ssp_err_local(rc) || rc == SSP_ERR_NOMEM);
		if (n != SSP_BFTC_VOTE_LEN) check(rc == SSP_ERR_DECODE);
		if (rc) check(!fresh);
		if (!rc && fresh) {
			uint32_t voter = (uint32_t)(p[1] | p[2] << 8);
			ssp_hash d;
			ssp_sig sig;
			check(p[0] == 1 && voter < NP);
			ssp_sig_digest(&d, SSP_DOM_VOTE, CHAIN_ID, p + 3, LINK);
			memcpy(sig.b, p + 3 + LINK, SSP_SIG_LEN);
			check(!ssp_verify_digest(&F.pk[voter], &d, &sig));
			check(!ssp_bftc_vote_in(b, p, n, &fresh) && !fresh);
		}
	} else if (n <= SSP_QC_MAX) {
		ssp_header h = F.nh;
		ssp_consensus cs;
		h.qc = n ? p : NULL;
		h.qc_len = (uint32_t)n;
		ssp_bftc_consensus(b, &cs);
		int rc = cs.check(cs.ctx, F.c, &h);
		check(!ssp_err_local(rc) || rc == SSP_ERR_NOMEM);
		if (n && !qc_sound(p, n)) check(rc != 0);
	}
	ssp_bftc_free(b);
	return 0;
}
