/*
 * net_glue.c — sspd's side of the P2P network (node layer): starts
 * libssp_net on the node's loop, admits the txs peers send (binary, on the
 * loop like RPC submissions), and runs the chain thread of a networked
 * node, which imports the blocks the net fetched and, in its turns of the
 * round-robin schedule, produces — never twice for one slot (the signing
 * watermark is committed in the block's own LMDB txn, before the block is
 * announced) and never while it is behind its peers; and runs fork choice
 * over the fork database, switching branch in one LMDB txn. Also net_getInfo,
 * net_getPeers, the sync status and the network's metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"
#include "ssp/bft.h"

#define LOG "node"
#define HOLD_MAX_MS 2000 /* the longest a tx waits for its peers to hold it (maybe_produce) */
#define IMPORT_BATCH 16

bool ssp_node_is_producer(const ssp_node *n, const ssp_pubkey *pk)
{
	const ssp_pubkey *keys;
	size_t k = ssp_genesis_producers(n->genesis, &keys);
	for (size_t i = 0; i < k; i++)
		if (keys[i].type == pk->type && keys[i].len == pk->len &&
		    !memcmp(keys[i].b, pk->b, pk->len))
			return true;
	return false;
}

void ssp_node_net_publish_head(ssp_node *n)
{
	const ssp_head *h = ssp_chain_head(n->chain);
	pthread_mutex_lock(&n->hlock);
	n->hsnap = (ssp_net_head){
	    .height = h->height, .id = h->id, .finalized = h->finalized, .slot = h->slot};
	pthread_mutex_unlock(&n->hlock);
	if (n->net) ssp_net_head_changed(n->net);
	ssp_node_notify_kick(n); /* WebSocket subscribers (a no-op before the notifier starts) */
}

/* ------------------------------------------------------ net callbacks */

static void cb_head(void *ctx, ssp_net_head *out)
{
	ssp_node *n = ctx;
	pthread_mutex_lock(&n->hlock);
	*out = n->hsnap;
	pthread_mutex_unlock(&n->hlock);
}

/* A tx from a peer, on a thread of libuv's pool: the checks of an RPC submission. */
static void cb_tx_check(void *ctx, ssp_net_tx *t)
{
	t->rc = ssp_node_tx_precheck(ctx, &t->tx, t->raw, t->len, t->key_hint, &t->verified);
	t->fault = t->rc && !ssp_err_local(t->rc) && t->rc != SSP_ERR_FEE_LOW;
}

/* A checked tx from a peer, on the loop in arrival order: into the mempool. */
static void cb_tx_admit(void *ctx, ssp_net_tx *t)
{
	ssp_node *n = ctx;
	ssp_hash txid;
	if (!t->rc) {
		t->rc = ssp_mempool_add_checked(n->mempool, &t->tx, t->verified, &txid);
		if (!t->rc) ssp_node_evidence_seen(n, &t->tx); /* a peer reported someone: not again */
		if (t->rc == SSP_ERR_BADSIG) t->fault = true;
	} else if (!ssp_hash_is_zero(&t->tx.txid)) {
		ssp_mempool_note_invalid(n->mempool, &t->tx.txid, t->rc);
	}
	atomic_fetch_add(t->rc ? &n->txs_rejected : &n->txs_admitted, 1);
}

static void cb_tx_echo(void *ctx, const ssp_hash *ids, size_t k, uint64_t peers)
{
	ssp_node *n = ctx;
	ssp_mempool_echo(n->mempool, ids, k, peers);
}

static bool cb_have_block(void *ctx, const ssp_hash *id)
{
	ssp_node *n = ctx;
	bool found = false;
	pthread_mutex_lock(&n->hlock);
	size_t k = n->njudged < sizeof n->judged / sizeof *n->judged
	               ? n->njudged
	               : sizeof n->judged / sizeof *n->judged;
	for (size_t i = 0; i < k && !found; i++)
		found = !memcmp(n->judged[i].b, id->b, 32);
	pthread_mutex_unlock(&n->hlock);
	return found;
}

static bool cb_have_tx(void *ctx, const ssp_hash *txid)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	uint64_t h;
	uint32_t i;
	if (ssp_mempool_has(n->mempool, txid)) return true;
	if (ssp_store_read(n->store, &rt)) return false;
	bool on_chain = !ssp_chain_read_txloc(n->chain, rt, txid, &h, &i);
	ssp_txn_end(rt);
	return on_chain;
}

static void cb_blocks_ready(void *ctx)
{
	ssp_node *n = ctx;
	pthread_mutex_lock(&n->plock);
	n->blocks_pending = true;
	pthread_cond_broadcast(&n->pcond);
	pthread_mutex_unlock(&n->plock);
}

/* --------------------------------------------------- signing watermark */

/*
 * The producer's watermark: the last slot it signed. ssp_produce_block
 * records the slot in the block's own LMDB commit (meta signed_slot, read
 * back with ssp_chain_read_signed_slot), and the block is announced only
 * after that commit. The signature is made before the commit (the header
 * carries it), so a crash between the two loses the block and its
 * signature together: neither reached the disk or a peer, and a restart
 * may sign that slot again without two blocks for it ever existing outside
 * this process. In memory, the signer refuses any slot at or below the
 * last one it signed, even one whose block failed to commit.
 *
 * DATADIR/signing.state is what versions before this one wrote (an fsync'd
 * file ahead of each signature): still read at start, never written.
 */
static int legacy_watermark(ssp_node *n, uint64_t *slot)
{
	char path[1100], line[64];
	snprintf(path, sizeof path, "%s/signing.state", n->cfg.datadir);
	FILE *f = fopen(path, "r");
	*slot = 0;
	if (!f) return errno == ENOENT ? 0 : SSP_ERR_IO;
	int rc = SSP_ERR_DBCORRUPT;
	unsigned long long s;
	if (fgets(line, sizeof line, f) && sscanf(line, "last_signed_slot %llu", &s) == 1) {
		*slot = s;
		rc = 0;
	}
	fclose(f);
	return rc;
}

static int watermark_load(ssp_node *n)
{
	uint64_t file, db = 0;
	ssp_txn *rt;
	int rc = legacy_watermark(n, &file);
	if (rc) return rc;
	if ((rc = ssp_store_read(n->store, &rt))) return rc;
	rc = ssp_chain_read_signed_slot(n->chain, rt, &db);
	ssp_txn_end(rt);
	n->signed_slot = file > db ? file : db;
	return rc;
}

typedef struct {
	ssp_node *n;
	uint64_t slot;
} wm_signer;

static int wm_sign(void *ctx, ssp_sig *sig, const ssp_hash *digest)
{
	wm_signer *w = ctx;
	if (w->slot <= w->n->signed_slot) {
		SSP_LOGW(LOG, "slot %llu already signed (watermark %llu): not signing again",
		         (unsigned long long)w->slot, (unsigned long long)w->n->signed_slot);
		return SSP_ERR_EXISTS;
	}
	w->n->signed_slot = w->slot; /* durable with the block (its commit), see above */
	return ssp_sign_digest(sig, &w->n->producer, digest);
}

/* ---------------------------------------------------------- chain thread */

static void note_fatal(ssp_node *n, int rc, const char *what)
{
	if (rc == SSP_ERR_DBCORRUPT)
		SSP_LOGE(LOG, "database corrupt at height %llu",
		         (unsigned long long)ssp_chain_head(n->chain)->height);
	SSP_LOGE(LOG, "%s: %s — stopping", what, ssp_strerror(rc));
	atomic_store(&n->fatal, 1);
	pthread_mutex_lock(&n->qlock);
	if (!n->stopping) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->qlock);
}

/* ----------------------------------------------------------------- forks */

/* A block of another branch (or one we cannot place yet): into the fork database. */
static void fork_add(ssp_node *n, const uint8_t *raw, size_t len, uint64_t peer)
{
	int rc = ssp_forkdb_add(n->forks, n->chain, raw, len, peer, ssp_now_ms());
	if (!rc) {
		n->forks_changed = true;
		ssp_header h;
		ssp_rd r;
		ssp_rd_init(&r, raw, len);
		if (n->bft && !ssp_header_read(&h, &r) && ssp_bftc_holds(n->bft, &h.id)) {
			pthread_mutex_lock(&n->hlock);
			n->judged[n->njudged++ % (sizeof n->judged / sizeof *n->judged)] = h.id;
			pthread_mutex_unlock(&n->hlock);
		}
	} else if (rc != SSP_ERR_EXISTS && rc != SSP_ERR_FINAL_POP && rc != SSP_ERR_BUSY &&
	           !ssp_err_local(rc)) {
		SSP_LOGW(LOG, "block from peer %llu refused by the fork database: %s",
		         (unsigned long long)peer, ssp_strerror(rc));
		atomic_fetch_add(&n->fork_refused, 1);
		ssp_net_peer_failed(n->net, peer, rc);
	}
	atomic_store(&n->fork_blocks, ssp_forkdb_count(n->forks));
}

/* Asks a peer for an orphan's ancestors, not the same request twice within 2 s. */
static void fork_want(ssp_node *n, uint64_t peer, uint64_t from, uint32_t count, uint64_t now)
{
	size_t oldest = 0;
	for (size_t i = 0; i < sizeof n->asked / sizeof *n->asked; i++) {
		if (n->asked[i].peer == peer && n->asked[i].from == from &&
		    now - n->asked[i].ms < 2000)
			return;
		if (n->asked[i].ms < n->asked[oldest].ms) oldest = i;
	}
	n->asked[oldest].peer = peer;
	n->asked[oldest].from = from;
	n->asked[oldest].ms = now;
	SSP_LOGD(LOG, "fork: asking peer %llu for blocks %llu..%llu", (unsigned long long)peer,
	         (unsigned long long)from, (unsigned long long)(from + count - 1));
	ssp_net_request_blocks(n->net, peer, from, count);
}

static void hex8(char out[17], const ssp_hash *id)
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", id->b[i]);
}

/*
 * Takes the fork inbox, and when the fork database changed (or a second
 * passed) runs fork choice; switches to a better branch in one LMDB txn.
 * false once the node must stop.
 */
/* The txs of a popped block that are back in the mempool go to the net to announce. */
static void reannounce(ssp_node *n, const uint8_t *raw, size_t len)
{
	ssp_block b;
	if (ssp_block_decode(&b, raw, len, len)) return; /* committed bytes: they decode */
	size_t k = 0;
	for (uint32_t i = 0; i < b.ntx; i++) /* in place: the kept ones move down */
		if (ssp_mempool_has(n->mempool, &b.txs[i].txid)) b.txs[k++] = b.txs[i];
	if (k) ssp_net_txs_returned(n->net, b.txs, k);
	ssp_block_free(&b);
}

static bool fork_step(ssp_node *n)
{
	uint8_t *raws[16];
	size_t lens[16], k;
	uint64_t peers[16], now = ssp_now_ms();
	if (!n->forks) return true;
	while ((k = ssp_net_take_fork_blocks(n->net, raws, lens, peers, 16))) {
		for (size_t i = 0; i < k; i++) {
			fork_add(n, raws[i], lens[i], peers[i]);
			free(raws[i]);
		}
	}
	if (!n->forks_changed && now - n->forks_checked_ms < 1000) return true;
	n->forks_changed = false;
	n->forks_checked_ms = now;
	ssp_forkdb_prune(n->forks, n->chain, now);
	ssp_fork_plan plan;
	int rc = ssp_forkdb_best(n->forks, n->chain, &plan);
	if (rc) {
		note_fatal(n, rc, "fork choice cannot read the chain");
		return false;
	}
	for (size_t i = 0; i < plan.nwant; i++)
		fork_want(n, plan.want[i].peer, plan.want[i].from, plan.want[i].count, now);
	if (plan.n) {
		ssp_head before = *ssp_chain_head(n->chain);
		ssp_popped popped;
		size_t bad = 0, back = 0;
		uint64_t t0 = ssp_mono_ns();
		rc = ssp_chain_switch(n->chain, n->mempool, plan.fork_height, plan.raw, plan.len,
		                      plan.n, &popped, &bad, &back);
		if (!rc) {
			const ssp_head *h = ssp_chain_head(n->chain);
			char a[17], b[17];
			hex8(a, &before.id);
			hex8(b, &h->id);
			SSP_LOGI(LOG,
			         "reorg: fork at height %llu, popped %zu block(s) (head %llu %s), "
			         "applied %zu from peer %llu (head %llu %s), %zu tx(s) back to the "
			         "mempool, %.1f ms",
			         (unsigned long long)plan.fork_height, popped.n,
			         (unsigned long long)before.height, a, plan.n,
			         (unsigned long long)plan.peer[plan.n - 1],
			         (unsigned long long)h->height, b, back,
			         (double)(ssp_mono_ns() - t0) / 1e6);
			atomic_fetch_add(&n->reorgs, 1);
			atomic_store(&n->reorg_depth_last, popped.n);
			if (popped.n > atomic_load(&n->reorg_depth_max))
				atomic_store(&n->reorg_depth_max, popped.n);
			atomic_fetch_add(&n->reorg_txs_back, back);
			atomic_fetch_add(&n->blocks_imported, plan.n);
			/* applied: the bytes go with the entries */
			for (size_t i = 0; i < plan.n; i++)
				ssp_forkdb_remove(n->forks, &plan.id[i]);
			/* the popped blocks are a competing branch now; their txs that went back
			 * to the mempool are announced again (peers on the new branch lack them) */
			for (size_t i = 0; i < popped.n; i++) {
				reannounce(n, popped.raw[i], popped.len[i]);
				fork_add(n, popped.raw[i], popped.len[i], 0);
			}
			ssp_popped_free(&popped);
			n->forks_changed = true; /* another stored branch may extend the new head */
			ssp_node_net_publish_head(n);
		} else if (ssp_chain_fatal(n->chain)) {
			ssp_fork_plan_free(&plan);
			note_fatal(n, rc, "cannot switch branch");
			return false;
		} else if (rc != SSP_ERR_BLOCK_EARLY) {
			SSP_LOGW(LOG, "branch from peer %llu refused: block %llu: %s",
			         (unsigned long long)plan.peer[bad],
			         (unsigned long long)(plan.fork_height + 1 + bad),
			         ssp_strerror(rc));
			atomic_fetch_add(&n->fork_refused, 1);
			ssp_net_peer_failed(n->net, plan.peer[bad], rc);
			ssp_forkdb_mark_bad(n->forks, &plan.id[bad], rc);
			n->forks_changed = true;
		}
	}
	ssp_fork_plan_free(&plan);
	atomic_store(&n->fork_blocks, ssp_forkdb_count(n->forks));
	return true;
}

/* ------------------------------------------------------------ BFT votes */

#define VPEND_MAX 1024
#define VPEND_MS 30000

/* A vote from a peer (or retried from the pending list): counted, relayed, kept or blamed. */
static bool vote_one(ssp_node *n, const uint8_t *raw, size_t len, uint64_t peer, uint64_t now,
                     bool retry)
{
	bool fresh;
	int rc = ssp_bftc_vote_in(n->bft, raw, len, &fresh);
	if (!rc) {
		if (fresh) ssp_net_vote_relay(n->net, raw, len, peer);
		return true;
	}
	if (rc == SSP_ERR_NOTFOUND) {
		if (retry) return false;
		/*
		 * A vote for a block this node lacks: ask its sender for the block at the
		 * target's height (the fork path stores it, fork choice weighs it). Without
		 * this, a producer that ran ahead on a branch the others outvoted (a double
		 * signer's) never fetched the justified block — nobody was at its height or
		 * above — while the others, seeing a peer ahead, never produced: a stall.
		 */
		if (len == SSP_BFTC_VOTE_LEN && peer)
			fork_want(n, peer, ssp_le64_get(raw + 3 + 40), 1, now);
		if (!n->vpend && !(n->vpend = calloc(VPEND_MAX, sizeof *n->vpend))) return true;
		/* full: one waiting vote makes room (round robin: no pass over the list) */
		size_t at = n->nvpend < VPEND_MAX ? n->nvpend++ : n->vpend_evict++ % VPEND_MAX;
		memcpy(n->vpend[at].raw, raw, SSP_BFTC_VOTE_LEN);
		n->vpend[at].peer = peer;
		n->vpend[at].ms = now;
		return true;
	}
	if (!ssp_err_local(rc)) {
		SSP_LOGW(LOG, "vote from peer %llu refused: %s", (unsigned long long)peer,
		         ssp_strerror(rc));
		ssp_net_vote_failed(n->net, peer, rc);
	}
	return true;
}

/*
 * The chain thread's consensus step: votes from the net (and those waiting
 * for their blocks), this node's vote for its head (its watermark durable
 * first), and finality reached by votes between blocks. false once the
 * node must stop.
 */
static bool bft_step(ssp_node *n)
{
	uint8_t *raws[64];
	size_t lens[64], k;
	uint64_t peers[64], now = ssp_now_ms();
	if (!n->bft) return true;
	while ((k = ssp_net_take_votes(n->net, raws, lens, peers, 64)))
		for (size_t i = 0; i < k; i++) {
			vote_one(n, raws[i], lens[i], peers[i], now, false);
			free(raws[i]);
		}
	/* the waiting votes, tried again only when the consensus took a block since (a flood of
	 * votes for blocks nobody has must not cost a pass over them per vote received) */
	ssp_bftc_stats st;
	ssp_bftc_info(n->bft, &st);
	bool retry = st.blocks_added != n->vpend_blocks;
	n->vpend_blocks = st.blocks_added;
	for (size_t i = 0; i < n->nvpend;) {
		if (now - n->vpend[i].ms > VPEND_MS ||
		    (retry &&
		     vote_one(n, n->vpend[i].raw, SSP_BFTC_VOTE_LEN, n->vpend[i].peer, now, true))) {
			n->vpend[i] = n->vpend[--n->nvpend];
			continue;
		}
		i++;
	}
	const ssp_head *h = ssp_chain_head(n->chain);
	if (n->producing && ssp_net_synced(n->net, h->height)) {
		uint8_t v[SSP_BFTC_VOTE_LEN];
		int rc = ssp_bftc_vote_out(n->bft, n->chain, v);
		if (!rc) {
			ssp_net_vote_relay(n->net, v, sizeof v, 0);
		} else if (ssp_err_local(rc)) {
			note_fatal(n, rc, "cannot record the vote watermark");
			return false;
		}
	}
	if (memcmp(n->sched_head.b, h->id.b, 32)) { /* the schedule after this head */
		uint64_t np = ssp_bftc_round_len(n->bft), first = h->slot + 1;
		uint64_t end = (first / np + 2) * np;
		pthread_mutex_lock(&n->hlock);
		n->nsched = 0;
		for (uint64_t s = first; s < end && n->nsched < 2 * SSP_GENESIS_PRODUCERS_MAX; s++) {
			const ssp_pubkey *pk = ssp_bftc_slot_producer(n->bft, &h->id, s);
			if (!pk) break;
			n->sched[n->nsched].slot = s;
			ssp_addr_from_pubkey(&n->sched[n->nsched++].producer, pk);
		}
		/* the next round's seed takes the reveals of this round's first two thirds only */
		n->sched_fixed = !ssp_bft_in_seed_window(h->slot, (uint32_t)np);
		n->sched_head = h->id;
		pthread_mutex_unlock(&n->hlock);
	}
	uint64_t f = ssp_bftc_final_on(n->bft, n->chain);
	if (f > h->finalized) {
		int rc = ssp_chain_advance_final(n->chain, f);
		if (rc) {
			note_fatal(n, rc, "cannot record finality");
			return false;
		}
		ssp_node_net_publish_head(n);
	}
	ssp_bftc_info(n->bft, &st);
	atomic_store(&n->bft_final, st.final);
	atomic_store(&n->bft_justified, st.justified);
	atomic_store(&n->bft_votes_ok, st.votes_ok);
	atomic_store(&n->bft_votes_bad, st.votes_bad);
	atomic_store(&n->bft_votes_made, st.votes_made);
	atomic_store(&n->bft_qcs, st.qcs_made);
	atomic_store(&n->bft_evidence, st.evidence);
	ssp_node_evidence_step(n); /* the evidence found: slashing txs into the mempool */
	return true;
}

/* Upper bounds of the propagation histogram's buckets, in ms (then +Inf). */
static const uint64_t PROP_LE_MS[] = {25, 50, 100, 200, 300, 500, 1000, 2000, 5000};
#define PROP_NB (sizeof PROP_LE_MS / sizeof *PROP_LE_MS)
_Static_assert(PROP_NB + 1 == sizeof ((ssp_node *)0)->prop_bucket / sizeof(uint64_t),
               "one counter per bucket and +Inf");

/*
 * A block from a peer, committed here while the node is in sync (at most one
 * block behind, so catching up is not counted): how long after its producer
 * stamped it. Clock skew between the two machines is in the figure; on one
 * machine (a local testnet) it is the producer's build time plus transfer,
 * verification and commit.
 */
static void note_propagation(ssp_node *n, uint64_t timestamp_ms)
{
	uint64_t now = ssp_now_ms();
	if (atomic_load(&n->sync_lag) > 1 || now < timestamp_ms) return;
	uint64_t d = now - timestamp_ms;
	size_t b = 0;
	while (b < PROP_NB && d > PROP_LE_MS[b])
		b++;
	atomic_fetch_add(&n->prop_bucket[b], 1);
	atomic_fetch_add(&n->prop_sum_ms, d);
}

/* Imports what the net has in order; false once the node must stop. */
static bool import_ready(ssp_node *n)
{
	uint8_t *raws[IMPORT_BATCH];
	size_t lens[IMPORT_BATCH], done = 0;
	uint64_t peers[IMPORT_BATCH];
	ssp_block_info info[IMPORT_BATCH];
	size_t k;
	while ((k = ssp_net_take_blocks(n->net, raws, lens, peers, IMPORT_BATCH))) {
		uint64_t h = ssp_chain_head(n->chain)->height + 1;
		int rc = ssp_chain_import_many(n->chain, n->mempool, (const uint8_t *const *)raws,
		                               lens, k, info, &done);
		/* blocks that do not extend our head: another branch, for fork choice */
		if (n->forks && (rc == SSP_ERR_BLOCK_PREV || rc == SSP_ERR_BLOCK_HEIGHT))
			for (size_t i = done; i < k; i++)
				fork_add(n, raws[i], lens[i], peers[i]);
		for (size_t i = 0; i < k; i++)
			free(raws[i]);
		for (size_t i = 0; i < done; i++) {
			atomic_fetch_add(&n->blocks_imported, 1);
			atomic_fetch_add(&n->txs_included, info[i].ntx);
			atomic_store(&n->last_commit_ns, info[i].commit_ns);
			atomic_store(&n->last_apply_ns, info[i].apply_ns);
			note_propagation(n, info[i].timestamp_ms);
		}
		if (done) ssp_node_net_publish_head(n);
		if (!rc) continue;
		if (ssp_chain_fatal(n->chain)) {
			note_fatal(n, rc, "cannot import a block");
			return false;
		}
		if (rc == SSP_ERR_BLOCK_EARLY)
			SSP_LOGD(LOG, "block %llu is early: retrying", (unsigned long long)(h + done));
		else if (n->forks && (rc == SSP_ERR_BLOCK_PREV || rc == SSP_ERR_BLOCK_HEIGHT))
			SSP_LOGD(LOG,
			         "block %llu from peer %llu is on another branch: to fork choice",
			         (unsigned long long)(h + done), (unsigned long long)peers[done]);
		else
			SSP_LOGW(LOG, "block %llu from peer %llu refused: %s",
			         (unsigned long long)(h + done), (unsigned long long)peers[done],
			         ssp_strerror(rc));
		ssp_net_block_failed(n->net, h + done, peers[done], rc);
		break;
	}
	return true;
}

/*
 * Produces the block of `slot` if it is this node's turn; false once the node
 * must stop. *later is set when the previous slot's block has not arrived
 * yet and there is still time in the slot to wait for it.
 */
static bool maybe_produce(ssp_node *n, uint64_t slot, uint64_t now, bool *later)
{
	const ssp_head *h = ssp_chain_head(n->chain);
	uint64_t iv = ssp_genesis_params(n->genesis)->block_interval_ms;
	*later = false;
	const ssp_pubkey *turn = n->bft  ? ssp_bftc_slot_producer(n->bft, &h->id, slot)
	                         : n->rr ? ssp_rr_slot_producer(n->rr, slot)
	                                 : ssp_genesis_producer_key(n->genesis);
	if (!turn || turn->len != n->producer_pub.len ||
	    memcmp(turn->b, n->producer_pub.b, turn->len))
		return true;
	if (now <= ssp_genesis_time_ms(n->genesis) || now <= h->timestamp_ms ||
	    (slot <= h->slot && h->height > 0))
		return true;
	if (n->nproducers > 1 && h->height > 0 && h->slot + 1 < slot &&
	    now < ssp_chain_slot_start(n->chain, slot) + iv * 4 / 5) {
		*later = true; /* give a late block of the previous slot until 80% of ours */
		return true;
	}
	if (!ssp_net_synced(n->net, h->height)) {
		SSP_LOGD(LOG, "slot %llu: behind the network, not producing",
		         (unsigned long long)slot);
		return true;
	}
	int rc;
	if (n->bft && (rc = ssp_bftc_may_produce(n->bft, &h->id, slot))) {
		SSP_LOGI(LOG, "slot %llu: not producing: %s", (unsigned long long)slot,
		         ssp_strerror(rc));
		return true;
	}
	/*
	 * With other producers, the block takes the txs that two thirds of this node's
	 * peers already hold (or that waited a slot, at most 2 s): every node then
	 * imports it without checking their signatures again (they did on admission),
	 * instead of verifying a block's worth of fresh txs while it propagates.
	 */
	uint64_t peers = n->net ? atomic_load(&ssp_net_stats_get(n->net)->peers) : 0;
	if (peers > 64) peers = 64; /* (64 peers have an echo bit) */
	ssp_mempool_set_hold(n->mempool, iv < HOLD_MAX_MS ? iv : HOLD_MAX_MS,
	                     n->nproducers > 1 ? (uint32_t)((2 * peers + 2) / 3) : 0);
	ssp_block_info info;
	ssp_signer signer;
	wm_signer w = {n, slot};
	ssp_signer_soft(&signer, &n->producer); /* for the public key */
	signer.sign = wm_sign;
	signer.ctx = &w;
	rc = ssp_produce_block(n->chain, n->mempool, &signer, slot, now, &info);
	if (rc == SSP_ERR_EXISTS) return true;
	if (rc && !ssp_err_local(rc) && !ssp_chain_fatal(n->chain) && n->bft) {
		/* a consensus rule said no (e.g. the onion is used up): this slot is missed */
		SSP_LOGW(LOG, "slot %llu: block not produced: %s", (unsigned long long)slot,
		         ssp_strerror(rc));
		return true;
	}
	if (rc) {
		note_fatal(n, rc, "block production failed");
		return false;
	}
	atomic_fetch_add(&n->blocks_produced, 1);
	atomic_fetch_add(&n->txs_included, info.ntx);
	atomic_store(&n->last_commit_ns, info.commit_ns);
	atomic_store(&n->last_apply_ns, info.apply_ns);
	SSP_LOGD(LOG, "produced block %llu (slot %llu, %u txs)", (unsigned long long)info.height,
	         (unsigned long long)slot, info.ntx);
	ssp_node_net_publish_head(n); /* committed (fsync'd) before it is announced */
	return true;
}

/*
 * With several producers a block is made half-way through its slot, not at
 * its start: the previous slot's block then has 1.5 slots to arrive, which
 * keeps two producers from building on the same parent (a fork, which fork
 * choice then resolves). The slot rule accepts any time inside the slot.
 */
static uint64_t produce_offset(const ssp_node *n)
{
	return n->nproducers > 1 ? ssp_genesis_params(n->genesis)->block_interval_ms / 2 : 0;
}

void *ssp_node_net_chain_main(void *arg)
{
	ssp_node *n = arg;
	uint64_t tried = UINT64_MAX, retry_at = 0;
	if (n->bft) {
		ssp_consensus cs;
		ssp_bftc_consensus(n->bft, &cs);
		ssp_chain_set_consensus(n->chain, &cs);
	} else if (n->rr) {
		ssp_consensus cs;
		ssp_rr_consensus(n->rr, &cs);
		ssp_chain_set_consensus(n->chain, &cs);
	}
	for (;;) {
		uint64_t now = ssp_now_ms(), next;
		if (n->producing) {
			/* the production point of this slot if still ahead, else of the next */
			uint64_t s = ssp_chain_slot_at(n->chain, now);
			next = ssp_chain_slot_start(n->chain, s) + produce_offset(n);
			if (next <= now || s == tried)
				next = ssp_chain_slot_start(n->chain, s + 1) + produce_offset(n);
			if (retry_at > now && retry_at < next) next = retry_at;
		} else
			next = now + 250;
		pthread_mutex_lock(&n->plock);
		while (!n->pstop && !n->blocks_pending && ssp_now_ms() < next) {
			struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
			pthread_cond_timedwait(&n->pcond, &n->plock, &until);
		}
		bool stop = n->pstop;
		n->blocks_pending = false;
		pthread_mutex_unlock(&n->plock);
		if (stop) break;
		if (!import_ready(n)) break;
		if (!fork_step(n)) break;
		if (!bft_step(n)) break;
		now = ssp_now_ms();
		uint64_t atslot = ssp_chain_slot_at(n->chain, now);
		if (n->producing && atslot != tried &&
		    now >= ssp_chain_slot_start(n->chain, atslot) + produce_offset(n)) {
			bool later;
			if (!maybe_produce(n, atslot, now, &later)) break;
			if (!bft_step(n)) break; /* the vote for its own block */
			retry_at = later ? ssp_chain_slot_start(n->chain, atslot) +
			                       ssp_genesis_params(n->genesis)->block_interval_ms * 4 / 5
			                 : 0;
			if (!later) tried = atslot;
		}
		const ssp_head *h = ssp_chain_head(n->chain);
		uint64_t best = atomic_load(&ssp_net_stats_get(n->net)->best_height);
		atomic_store(&n->sync_lag, best > h->height ? best - h->height : 0);
	}
	return NULL;
}

/* ----------------------------------------------------------------- start */

int ssp_node_net_start(ssp_node *n)
{
	const char *peers[SSP_NODE_PEERS_MAX];
	char why[512] = "";
	int rc;
	const ssp_pubkey *pkeys;
	n->nproducers = ssp_genesis_producers(n->genesis, &pkeys);
	if (ssp_genesis_bft(n->genesis, NULL, NULL)) {
		if ((rc = ssp_bftc_new(&n->bft, n->genesis)) ||
		    (rc = ssp_node_bft_elections(n->bft, n->genesis, &n->elector)))
			return rc;
		if ((rc = ssp_bftc_load(n->bft, n->chain))) {
			snprintf(n->why, sizeof n->why, "cannot rebuild the consensus state: %s",
			         ssp_strerror(rc));
			return rc;
		}
		ssp_forkchoice fc;
		ssp_bftc_forkchoice(n->bft, &fc);
		if ((rc = ssp_forkdb_new(&n->forks, &fc, 0, 0))) return rc;
	} else if (ssp_genesis_has_producer_set(n->genesis)) {
		if ((rc = ssp_rr_new(&n->rr, n->genesis))) return rc;
		if ((rc = ssp_rr_load(n->rr, n->chain))) {
			snprintf(n->why, sizeof n->why, "cannot read recent blocks: %s",
			         ssp_strerror(rc));
			return rc;
		}
		ssp_forkchoice fc;
		ssp_rr_forkchoice(n->rr, &fc);
		if ((rc = ssp_forkdb_new(&n->forks, &fc, 0, 0))) return rc;
	}
	if (n->producing) {
		if ((rc = ssp_key_public(&n->producer_pub, &n->producer))) return rc;
		if ((rc = watermark_load(n))) {
			snprintf(n->why, sizeof n->why, "cannot read the signing watermark: %s",
			         ssp_strerror(rc));
			return rc;
		}
		/* a watermark behind the head (restored datadir): never sign below the head */
		if (ssp_chain_head(n->chain)->slot > n->signed_slot)
			n->signed_slot = ssp_chain_head(n->chain)->slot;
		if (n->bft) {
			ssp_signer s;
			ssp_signer_soft(&s, &n->producer);
			rc = ssp_bftc_set_producer(n->bft, &s);
			if (rc) {
				snprintf(n->why, sizeof n->why, "%s",
				         rc == SSP_ERR_NOTFOUND
				             ? "the producer key is not in the genesis producer set"
				         : rc == SSP_ERR_BFT_REVEAL
				             ? "the producer key's hash onion is not the genesis "
				               "commitment (bft.onion)"
				         : rc == SSP_ERR_KEYTYPE
				             ? "BFT producers need an Ed25519 key (deterministic "
				               "signatures make the hash onion)"
				             : ssp_strerror(rc));
				return rc;
			}
		}
	}
	/* a peer that resets its connection while we write must not kill the node */
	signal(SIGPIPE, SIG_IGN);
	ssp_node_net_publish_head(n);
	for (size_t i = 0; i < n->cfg.npeers; i++)
		peers[i] = n->cfg.peers[i];
	ssp_net_config nc = {.listen = n->cfg.p2p_listen,
	                     .peers = peers,
	                     .npeers = n->cfg.npeers,
	                     .datadir = n->cfg.datadir,
	                     .max_inbound = n->cfg.p2p_max_inbound,
	                     .max_outbound = n->cfg.p2p_max_outbound,
	                     .chain = n->chain,
	                     .head = cb_head,
	                     .tx_check = cb_tx_check,
	                     .tx_admit = cb_tx_admit,
	                     .tx_echo = cb_tx_echo,
	                     .have_tx = cb_have_tx,
	                     .have_block = cb_have_block,
	                     .blocks_ready = cb_blocks_ready,
	                     .votes = n->bft != NULL,
	                     .ctx = n};
	rc = ssp_net_start(&n->net, &n->loop, &nc, why, sizeof why);
	if (rc) snprintf(n->why, sizeof n->why, "%s", why);
	return rc;
}

/* ----------------------------------------------------------- RPC, metrics */

json_t *ssp_node_consensus_json(ssp_node *n)
{
	uint32_t layers = 0;
	if (!n->bft)
		return json_pack("{s:s, s:I}", "kind", n->rr ? "round-robin" : "single",
		                 "producers", (json_int_t)(n->nproducers ? n->nproducers : 1));
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I}", "kind",
	                      "bft", "producers", (json_int_t)n->nproducers, "justified_height",
	                      (json_int_t)atomic_load(&n->bft_justified), "final_height",
	                      (json_int_t)atomic_load(&n->bft_final), "votes", "received",
	                      (json_int_t)atomic_load(&n->bft_votes_ok), "refused",
	                      (json_int_t)atomic_load(&n->bft_votes_bad), "made",
	                      (json_int_t)atomic_load(&n->bft_votes_made), "qcs_made",
	                      (json_int_t)atomic_load(&n->bft_qcs), "evidence_seen",
	                      (json_int_t)atomic_load(&n->bft_evidence), "evidence_submitted",
	                      (json_int_t)atomic_load(&n->ev_submitted), "evidence_failed",
	                      (json_int_t)atomic_load(&n->ev_failed));
	/* the hash onions' length (genesis "bft"): what `ssp delegate register` commits to */
	if (j && ssp_genesis_bft(n->genesis, NULL, &layers))
		json_object_set_new(j, "onion_layers", json_integer((json_int_t)layers));
	return j;
}

json_t *ssp_node_sync_json(ssp_node *n)
{
	ssp_net_stats *st = ssp_net_stats_get(n->net);
	uint64_t best = atomic_load(&st->best_height), lag = atomic_load(&n->sync_lag);
	return json_pack("{s:s, s:I, s:I, s:I}", "state", lag ? "syncing" : "synced",
	                 "best_peer_height", (json_int_t)best, "lag", (json_int_t)lag, "peers",
	                 (json_int_t)atomic_load(&st->peers));
}

static int net_job(ssp_node *n, json_t *params, job *j, ssp_rpc_error *err)
{
	if (params && !json_is_object(params))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "params must be an object");
	if (!n->net) return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND, "this node runs no P2P network");
	j->kind = JOB_NET_INFO;
	int rc = ssp_node_job(n, j);
	if (rc) {
		json_decref(j->info);
		json_decref(j->peers);
		return ssp_rpc_fail(err, SSP_RPC_BUSY, "busy: %s", ssp_strerror(rc));
	}
	return 0;
}

static int m_net_getInfo(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	job j = {0};
	if (net_job(ctx, params, &j, err)) return -1;
	json_decref(j.peers);
	*res = j.info;
	ssp_node *n = ctx;
	ssp_txn *rt;
	uint64_t slot;
	/* a producer's signing watermark (committed with its blocks) */
	if (*res && n->producing && !ssp_store_read(n->store, &rt)) {
		if (!ssp_chain_read_signed_slot(n->chain, rt, &slot))
			json_object_set_new(*res, "last_signed_slot",
			                    json_integer((json_int_t)slot));
		ssp_txn_end(rt);
	}
	return *res ? 0 : ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "out of memory");
}

static int m_net_getPeers(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	job j = {0};
	if (net_job(ctx, params, &j, err)) return -1;
	json_decref(j.info);
	*res = j.peers ? json_pack("{s:o}", "peers", j.peers) : NULL;
	return *res ? 0 : ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "out of memory");
}

/*
 * dpos_getSchedule: who produces the slots after the head, through the end of
 * the next round, on the head's branch. This round's order is fixed (its
 * seed came from the last round); the next round's is fixed once this
 * round's seed window (its first two thirds) is over: before, it may still
 * change with the reveals to come ("fixed": false).
 */
static int m_dpos_getSchedule(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err)
{
	ssp_node *n = ctx;
	if (params && !json_is_object(params))
		return ssp_rpc_fail(err, SSP_RPC_INVALID_PARAMS, "params must be an object");
	if (!n->bft)
		return ssp_rpc_fail(err, SSP_RPC_NOT_FOUND,
		                    "this node runs no BFT consensus (a genesis without \"bft\")");
	uint64_t iv = ssp_genesis_params(n->genesis)->block_interval_ms, g0 =
	                                                                  ssp_genesis_time_ms(n->genesis);
	json_t *slots = json_array();
	pthread_mutex_lock(&n->hlock);
	uint64_t head_slot = n->hsnap.slot, np = ssp_bftc_round_len(n->bft);
	bool fixed = n->sched_fixed;
	for (size_t i = 0; i < n->nsched && slots; i++) {
		char a[96];
		ssp_addr_encode(a, sizeof a, ssp_genesis_hrp(n->genesis), &n->sched[i].producer);
		uint64_t s = n->sched[i].slot;
		json_array_append_new(slots, json_pack("{s:I, s:I, s:I, s:s, s:b}", "slot", (json_int_t)s,
		                                       "round", (json_int_t)(s / np), "time",
		                                       (json_int_t)(g0 + s * iv), "producer", a, "fixed",
		                                       s / np <= head_slot / np ||
		                                           (s / np == head_slot / np + 1 && fixed)));
	}
	pthread_mutex_unlock(&n->hlock);
	*res = slots ? json_pack("{s:I, s:I, s:I, s:I, s:o}", "head_slot", (json_int_t)head_slot,
	                         "round", (json_int_t)((head_slot + 1) / np), "set_size",
	                         (json_int_t)np, "slot_ms", (json_int_t)iv, "slots", slots)
	             : NULL;
	return *res ? 0 : ssp_rpc_fail(err, SSP_RPC_INTERNAL_ERROR, "out of memory");
}

static const ssp_rpc_method net_methods[] = {
    {"net_getInfo", m_net_getInfo},
    {"net_getPeers", m_net_getPeers},
    {"dpos_getSchedule", m_dpos_getSchedule},
};

const ssp_rpc_method *ssp_node_net_methods(size_t *count)
{
	*count = sizeof net_methods / sizeof *net_methods;
	return net_methods;
}

char *ssp_node_net_metrics(ssp_node *n)
{
	char *s = NULL;
	if (!n->net) return strdup("");
	ssp_net_stats *st = ssp_net_stats_get(n->net);
	int len = asprintf(
	    &s,
	    "# TYPE ssp_p2p_peers gauge\nssp_p2p_peers %llu\n"
	    "# TYPE ssp_p2p_peers_inbound gauge\nssp_p2p_peers_inbound %llu\n"
	    "# TYPE ssp_p2p_bytes_received_total counter\nssp_p2p_bytes_received_total %llu\n"
	    "# TYPE ssp_p2p_bytes_sent_total counter\nssp_p2p_bytes_sent_total %llu\n"
	    "# TYPE ssp_p2p_blocks_received_total counter\nssp_p2p_blocks_received_total %llu\n"
	    "# TYPE ssp_p2p_txs_received_total counter\nssp_p2p_txs_received_total %llu\n"
	    "# TYPE ssp_p2p_disconnects_total counter\nssp_p2p_disconnects_total %llu\n"
	    "# TYPE ssp_p2p_bans_total counter\nssp_p2p_bans_total %llu\n"
	    "# TYPE ssp_p2p_handshakes_failed_total counter\n"
	    "ssp_p2p_handshakes_failed_total %llu\n"
	    "# TYPE ssp_sync_lag_blocks gauge\nssp_sync_lag_blocks %llu\n",
	    (unsigned long long)atomic_load(&st->peers), (unsigned long long)atomic_load(&st->inbound),
	    (unsigned long long)atomic_load(&st->bytes_in),
	    (unsigned long long)atomic_load(&st->bytes_out),
	    (unsigned long long)atomic_load(&st->blocks_in),
	    (unsigned long long)atomic_load(&st->txs_in),
	    (unsigned long long)atomic_load(&st->disconnects),
	    (unsigned long long)atomic_load(&st->bans),
	    (unsigned long long)atomic_load(&st->handshakes_failed),
	    (unsigned long long)atomic_load(&n->sync_lag));
	if (len < 0) return NULL;
	char *f = NULL;
	len = asprintf(
	    &f,
	    "%s# HELP ssp_reorgs_total Branch switches (reorgs) this node made.\n"
	    "# TYPE ssp_reorgs_total counter\nssp_reorgs_total %llu\n"
	    "# HELP ssp_reorg_depth_blocks Blocks popped by the last reorg.\n"
	    "# TYPE ssp_reorg_depth_blocks gauge\nssp_reorg_depth_blocks %llu\n"
	    "# HELP ssp_reorg_depth_max_blocks Blocks popped by the deepest reorg since start.\n"
	    "# TYPE ssp_reorg_depth_max_blocks gauge\nssp_reorg_depth_max_blocks %llu\n"
	    "# HELP ssp_reorg_txs_returned_total Transactions of popped blocks given back to the "
	    "mempool.\n"
	    "# TYPE ssp_reorg_txs_returned_total counter\nssp_reorg_txs_returned_total %llu\n"
	    "# HELP ssp_fork_blocks Blocks of competing branches held in the fork database.\n"
	    "# TYPE ssp_fork_blocks gauge\nssp_fork_blocks %llu\n"
	    "# HELP ssp_fork_blocks_refused_total Blocks or branches from peers refused as "
	    "invalid by fork handling.\n"
	    "# TYPE ssp_fork_blocks_refused_total counter\nssp_fork_blocks_refused_total %llu\n"
	    "# HELP ssp_bft_justified_height The consensus' latest justified block (BFT).\n"
	    "# TYPE ssp_bft_justified_height gauge\nssp_bft_justified_height %llu\n"
	    "# HELP ssp_bft_votes_received_total Votes of other delegates verified and counted.\n"
	    "# TYPE ssp_bft_votes_received_total counter\nssp_bft_votes_received_total %llu\n"
	    "# HELP ssp_bft_votes_refused_total Votes refused (bad signature or link).\n"
	    "# TYPE ssp_bft_votes_refused_total counter\nssp_bft_votes_refused_total %llu\n"
	    "# HELP ssp_bft_votes_made_total Votes this delegate signed.\n"
	    "# TYPE ssp_bft_votes_made_total counter\nssp_bft_votes_made_total %llu\n"
	    "# HELP ssp_bft_qcs_made_total Quorum certificates this delegate put in its blocks.\n"
	    "# TYPE ssp_bft_qcs_made_total counter\nssp_bft_qcs_made_total %llu\n"
	    "# HELP ssp_bft_evidence_total Equivocations seen (two blocks for a slot, double or "
	    "surround votes).\n"
	    "# TYPE ssp_bft_evidence_total counter\nssp_bft_evidence_total %llu\n"
	    "# HELP ssp_bft_evidence_submitted_total Evidence txs this node put in its mempool.\n"
	    "# TYPE ssp_bft_evidence_submitted_total counter\n"
	    "ssp_bft_evidence_submitted_total %llu\n"
	    "# HELP ssp_bft_evidence_failed_total Evidence not submitted: its signed halves were "
	    "no longer kept, no reporter key, or the tx was refused.\n"
	    "# TYPE ssp_bft_evidence_failed_total counter\nssp_bft_evidence_failed_total %llu\n"
	    "# HELP ssp_bft_evidence_not_delegate_total Evidence against a key no delegate has "
	    "(not reported).\n"
	    "# TYPE ssp_bft_evidence_not_delegate_total counter\n"
	    "ssp_bft_evidence_not_delegate_total %llu\n",
	    s, (unsigned long long)atomic_load(&n->reorgs),
	    (unsigned long long)atomic_load(&n->reorg_depth_last),
	    (unsigned long long)atomic_load(&n->reorg_depth_max),
	    (unsigned long long)atomic_load(&n->reorg_txs_back),
	    (unsigned long long)atomic_load(&n->fork_blocks),
	    (unsigned long long)atomic_load(&n->fork_refused),
	    (unsigned long long)atomic_load(&n->bft_justified),
	    (unsigned long long)atomic_load(&n->bft_votes_ok),
	    (unsigned long long)atomic_load(&n->bft_votes_bad),
	    (unsigned long long)atomic_load(&n->bft_votes_made),
	    (unsigned long long)atomic_load(&n->bft_qcs),
	    (unsigned long long)atomic_load(&n->bft_evidence),
	    (unsigned long long)atomic_load(&n->ev_submitted),
	    (unsigned long long)atomic_load(&n->ev_failed),
	    (unsigned long long)atomic_load(&n->ev_not_delegate));
	free(s);
	if (len < 0) return NULL;
	/* the propagation histogram: cumulative buckets, as Prometheus wants them */
	char hist[1024];
	size_t used = 0;
	uint64_t cum = 0;
	used += (size_t)snprintf(hist + used, sizeof hist - used,
	                         "# HELP ssp_block_propagation_seconds Time from a peer's block "
	                         "timestamp to its commit here (blocks imported in sync).\n"
	                         "# TYPE ssp_block_propagation_seconds histogram\n");
	for (size_t b = 0; b <= PROP_NB && used < sizeof hist; b++) {
		cum += atomic_load(&n->prop_bucket[b]);
		char le[16];
		if (b < PROP_NB)
			snprintf(le, sizeof le, "%g", (double)PROP_LE_MS[b] / 1000.0);
		else
			snprintf(le, sizeof le, "+Inf");
		used += (size_t)snprintf(hist + used, sizeof hist - used,
		                         "ssp_block_propagation_seconds_bucket{le=\"%s\"} %llu\n", le,
		                         (unsigned long long)cum);
	}
	if (used < sizeof hist)
		snprintf(hist + used, sizeof hist - used,
		         "ssp_block_propagation_seconds_sum %.3f\n"
		         "ssp_block_propagation_seconds_count %llu\n",
		         (double)atomic_load(&n->prop_sum_ms) / 1000.0, (unsigned long long)cum);
	char *g = NULL;
	len = asprintf(
	    &g,
	    "%s%s"
	    "# HELP ssp_p2p_tx_queued Txids peers announced, not yet received (queued or "
	    "requested; at most 65536).\n"
	    "# TYPE ssp_p2p_tx_queued gauge\nssp_p2p_tx_queued %llu\n"
	    "# HELP ssp_p2p_tx_requests_total Txids requested from peers (GET_TX).\n"
	    "# TYPE ssp_p2p_tx_requests_total counter\nssp_p2p_tx_requests_total %llu\n"
	    "# HELP ssp_p2p_tx_request_timeouts_total Tx requests not answered in time (asked "
	    "again or forgotten).\n"
	    "# TYPE ssp_p2p_tx_request_timeouts_total counter\n"
	    "ssp_p2p_tx_request_timeouts_total %llu\n"
	    "# HELP ssp_p2p_tx_announce_dropped_total Announced txids forgotten unrequested: "
	    "the queues were full.\n"
	    "# TYPE ssp_p2p_tx_announce_dropped_total counter\n"
	    "ssp_p2p_tx_announce_dropped_total %llu\n"
	    "# HELP ssp_p2p_votes_received_total VOTE messages from peers.\n"
	    "# TYPE ssp_p2p_votes_received_total counter\nssp_p2p_votes_received_total %llu\n"
	    "# HELP ssp_p2p_votes_duplicate_total VOTE messages seen before (not passed on).\n"
	    "# TYPE ssp_p2p_votes_duplicate_total counter\nssp_p2p_votes_duplicate_total %llu\n"
	    "# HELP ssp_p2p_votes_dropped_total VOTE messages dropped: the inbox was full, or "
	    "the chain runs no BFT.\n"
	    "# TYPE ssp_p2p_votes_dropped_total counter\nssp_p2p_votes_dropped_total %llu\n"
	    "# HELP ssp_p2p_votes_relayed_total Verified votes sent on to peers (own included).\n"
	    "# TYPE ssp_p2p_votes_relayed_total counter\nssp_p2p_votes_relayed_total %llu\n"
	    "# HELP ssp_p2p_txs_reannounced_total Txs a reorg gave back to the mempool, "
	    "announced to peers again.\n"
	    "# TYPE ssp_p2p_txs_reannounced_total counter\nssp_p2p_txs_reannounced_total %llu\n"
	    "# HELP ssp_p2p_tx_checking Txs from peers waiting for (or in) their signature "
	    "check on the thread pool (at most 16384).\n"
	    "# TYPE ssp_p2p_tx_checking gauge\nssp_p2p_tx_checking %llu\n"
	    "# HELP ssp_p2p_tx_check_dropped_total Txs from peers dropped unchecked: the check "
	    "backlog was full.\n"
	    "# TYPE ssp_p2p_tx_check_dropped_total counter\nssp_p2p_tx_check_dropped_total %llu\n",
	    f, hist, (unsigned long long)atomic_load(&st->tx_queued),
	    (unsigned long long)atomic_load(&st->tx_requests),
	    (unsigned long long)atomic_load(&st->tx_request_timeouts),
	    (unsigned long long)atomic_load(&st->tx_announce_dropped),
	    (unsigned long long)atomic_load(&st->votes_in),
	    (unsigned long long)atomic_load(&st->votes_dup),
	    (unsigned long long)atomic_load(&st->votes_dropped),
	    (unsigned long long)atomic_load(&st->votes_relayed),
	    (unsigned long long)atomic_load(&st->txs_reannounced),
	    (unsigned long long)atomic_load(&st->tx_checking),
	    (unsigned long long)atomic_load(&st->tx_check_dropped));
	free(f);
	return len < 0 ? NULL : g;
}
