/*
 * evidence.c — sspd reports the equivocation its consensus finds (node
 * layer; ARCHITECTURE §6, docs/dpos.md "Double signing"): on the chain
 * thread, after each consensus step, every piece of evidence bftc found
 * (ssp_bftc_evidence_take: two signed headers for one slot, or two
 * conflicting signed votes) becomes a slashing tx — 0x48 or 0x49 — signed
 * by the reporter key (--reporter-key FILE, else the producer key) and put
 * in this node's mempool, which announces it to peers. The reporter gets
 * half of what is slashed.
 *
 * Whom: the delegate whose current node key made the two halves
 * (ssp_dpos_delegate_by_key, a scan of the delegate records per offence).
 * A key that no delegate has (a genesis producer that never registered) is
 * logged once and counted. Once per offence (a slot, or the higher target
 * height of two votes; remembered for the last EV_DONE offences), and not
 * while a report against the same delegate is in the mempool (this node's,
 * or one a peer or an RPC client sent: ssp_node_evidence_seen) or once the
 * delegate is banned: a failover copy running for a minute signs
 * dozens of conflicting blocks and votes, and one incident costs one slash
 * (anyone may submit the other offences by hand; the chain takes each once).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "ssp/bft.h"
#include "ssp/dpos.h"

#define LOG "evidence"
#define EV_DONE 256   /* offences handled, remembered */
#define EV_LOGGED 64  /* keys of non-delegates already logged */
#define EV_PENDING 64 /* delegates with a report in the mempool */
#define EV_EXPIRY 600 /* blocks a report may wait for inclusion */

typedef struct {
	ssp_pubkey key;
	uint8_t tag; /* 'B' slot, 'V' higher target height */
	uint64_t at;
} ev_offence;

struct ssp_node_ev {
	ev_offence done[EV_DONE];
	size_t ndone, next_done;
	ssp_pubkey logged[EV_LOGGED];
	size_t nlogged, next_logged;
	struct {
		ssp_addr delegate;
		ssp_hash txid;
	} pending[EV_PENDING];
	size_t npending, next_pending;
	bool warned_no_reporter, warned_self;
	/* evidence txs others sent (peers, RPC), noted on the loop thread: under mu */
	pthread_mutex_t mu;
	struct {
		char name[SSP_DPOS_NAME_MAX + 1];
		ssp_hash txid;
	} others[EV_PENDING];
	size_t nothers, next_other;
};

static bool offence_done(struct ssp_node_ev *e, const ev_offence *o)
{
	for (size_t i = 0; i < e->ndone; i++)
		if (e->done[i].tag == o->tag && e->done[i].at == o->at &&
		    ssp_pubkey_eq(&e->done[i].key, &o->key))
			return true;
	return false;
}

static void offence_mark(struct ssp_node_ev *e, const ev_offence *o)
{
	e->done[e->next_done] = *o;
	e->next_done = (e->next_done + 1) % EV_DONE;
	if (e->ndone < EV_DONE) e->ndone++;
}

/* Logs a key that is no delegate's once (the last EV_LOGGED remembered). */
static void note_not_delegate(ssp_node *n, const ssp_pubkey *k)
{
	struct ssp_node_ev *e = n->ev;
	atomic_fetch_add(&n->ev_not_delegate, 1);
	for (size_t i = 0; i < e->nlogged; i++)
		if (ssp_pubkey_eq(&e->logged[i], k)) return;
	e->logged[e->next_logged] = *k;
	e->next_logged = (e->next_logged + 1) % EV_LOGGED;
	if (e->nlogged < EV_LOGGED) e->nlogged++;
	char t[96];
	ssp_pubkey_text(t, sizeof t, k);
	SSP_LOGW(LOG,
	         "key %s equivocated but is no registered delegate's node key: nothing to "
	         "slash (not reported)",
	         t);
}

/* A report against this delegate (this node's, or one a peer sent) is in the mempool. */
static bool report_pending(ssp_node *n, const ssp_delegate *d)
{
	struct ssp_node_ev *e = n->ev;
	for (size_t i = 0; i < e->npending; i++)
		if (!memcmp(e->pending[i].delegate.b, d->account.b, SSP_ADDR_LEN) &&
		    ssp_mempool_has(n->mempool, &e->pending[i].txid))
			return true;
	bool found = false;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->nothers && !found; i++)
		found = !strcmp(e->others[i].name, d->name) &&
		        ssp_mempool_has(n->mempool, &e->others[i].txid);
	pthread_mutex_unlock(&e->mu);
	return found;
}

void ssp_node_evidence_seen(ssp_node *n, const ssp_tx *tx)
{
	ssp_dpos_payload p;
	struct ssp_node_ev *e = n->ev;
	if (!e || (tx->type != SSP_TX_EVIDENCE && tx->type != SSP_TX_EVIDENCE_VOTES) ||
	    ssp_dpos_payload_decode(&p, tx->type, tx->payload, tx->payload_len))
		return;
	pthread_mutex_lock(&e->mu);
	snprintf(e->others[e->next_other].name, sizeof e->others[0].name, "%s", p.name);
	e->others[e->next_other].txid = tx->txid;
	e->next_other = (e->next_other + 1) % EV_PENDING;
	if (e->nothers < EV_PENDING) e->nothers++;
	pthread_mutex_unlock(&e->mu);
}

static void report_add(ssp_node *n, const ssp_addr *delegate, const ssp_hash *txid)
{
	struct ssp_node_ev *e = n->ev;
	e->pending[e->next_pending].delegate = *delegate;
	e->pending[e->next_pending].txid = *txid;
	e->next_pending = (e->next_pending + 1) % EV_PENDING;
	if (e->npending < EV_PENDING) e->npending++;
}

/* Builds, signs and admits the slashing tx of x against delegate d. */
static int submit(ssp_node *n, const ssp_bftc_evidence *x, const ssp_delegate *d, ssp_hash *txid)
{
	ssp_dpos_payload p;
	ssp_buf pl;
	uint8_t *raw = NULL;
	size_t len = 0;
	ssp_tx tx;
	int rc;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", d->name);
	uint16_t type =
	    x->kind == SSP_BFT_EV_DOUBLE_BLOCK ? SSP_TX_EVIDENCE : SSP_TX_EVIDENCE_VOTES;
	for (int i = 0; i < 2; i++) {
		p.header[i] = x->header[i];
		p.header_len[i] = (uint32_t)x->header_len[i];
		p.vote[i] = x->vote[i];
		p.vote_sig[i] = x->sig[i];
	}
	ssp_buf_init(&pl, 2 * SSP_DPOS_HEADER_MAX + 64);
	ssp_dpos_payload_encode(&pl, type, &p);
	const ssp_head *h = ssp_chain_head(n->chain);
	uint32_t maxexp = ssp_genesis_params(n->genesis)->max_expiry_blocks;
	ssp_tx_build b = {.chain_id = ssp_genesis_chain_id(n->genesis),
	                  .type = type,
	                  .nonce = ssp_mempool_pending_nonce(n->mempool, &n->reporter_addr),
	                  .expiry = h->height + (maxexp && maxexp < EV_EXPIRY ? maxexp : EV_EXPIRY),
	                  .payload = pl.data,
	                  .payload_len = pl.len,
	                  .include_pubkey = true};
	if ((rc = pl.err)) goto out;
	b.fee = ssp_chain_min_fee(n->chain, ssp_tx_encoded_len(&b, &n->reporter_pub));
	if ((rc = ssp_tx_sign(&raw, &len, txid, &b, &n->reporter)) ||
	    (rc = ssp_tx_decode(&tx, raw, len)) || (rc = ssp_chain_check_tx(n->chain, &tx)) ||
	    (rc = ssp_mempool_add_checked(n->mempool, &tx, true, txid)))
		goto out;
	if (n->net) ssp_net_txs_returned(n->net, &tx, 1); /* announced from the loop */
out:
	free(raw);
	ssp_buf_free(&pl);
	return rc;
}

static void handle(ssp_node *n, const ssp_bftc_evidence *x)
{
	struct ssp_node_ev *e = n->ev;
	static const char *const kinds[] = {"?", "two blocks for one slot", "a double vote",
	                                    "a surround vote"};
	const char *what = kinds[x->kind < 4 ? x->kind : 0];
	char kt[96];
	ssp_pubkey_text(kt, sizeof kt, &x->key);
	if (!x->complete) {
		SSP_LOGW(LOG, "%s by %s: its signed halves are no longer kept: not reported", what,
		         kt);
		atomic_fetch_add(&n->ev_failed, 1);
		return;
	}
	if (n->producing && ssp_pubkey_eq(&x->key, &n->producer_pub)) {
		if (!e->warned_self)
			SSP_LOGE(LOG,
			         "%s by THIS node's producer key: another node runs with the same "
			         "key (a failover copy?) — stop one of them",
			         what);
		e->warned_self = true;
		return;
	}
	ev_offence o = {.key = x->key, .tag = x->kind == SSP_BFT_EV_DOUBLE_BLOCK ? 'B' : 'V'};
	o.at = o.tag == 'B'
	           ? x->slot
	           : (x->vote[0].tgt_height > x->vote[1].tgt_height ? x->vote[0].tgt_height
	                                                            : x->vote[1].tgt_height);
	if (offence_done(e, &o)) return;
	offence_mark(e, &o);
	if (!n->has_reporter) {
		if (!e->warned_no_reporter)
			SSP_LOGW(LOG,
			         "%s by %s: no reporter key (--reporter-key FILE): not reported",
			         what, kt);
		e->warned_no_reporter = true;
		atomic_fetch_add(&n->ev_failed, 1);
		return;
	}
	ssp_txn *rt;
	ssp_delegate d;
	int rc = ssp_store_read(n->store, &rt);
	if (!rc) {
		rc = ssp_dpos_delegate_by_key(n->chain, rt, &x->key, &d);
		ssp_txn_end(rt);
	}
	if (rc == SSP_ERR_NOTFOUND) {
		note_not_delegate(n, &x->key);
		return;
	}
	if (rc) {
		SSP_LOGW(LOG, "%s by %s: cannot read the delegates: %s", what, kt,
		         ssp_strerror(rc));
		atomic_fetch_add(&n->ev_failed, 1);
		return;
	}
	if (d.status == SSP_DELEGATE_BANNED || report_pending(n, &d)) {
		SSP_LOGI(LOG, "%s by delegate %s: %s: not reported again", what, d.name,
		         d.status == SSP_DELEGATE_BANNED ? "already banned"
		                                         : "a report is pending");
		return;
	}
	ssp_hash txid;
	rc = submit(n, x, &d, &txid);
	if (rc) {
		SSP_LOGW(LOG, "%s by delegate %s: the evidence tx was not admitted: %s", what,
		         d.name, ssp_strerror(rc));
		atomic_fetch_add(&n->ev_failed, 1);
		return;
	}
	report_add(n, &d.account, &txid);
	atomic_fetch_add(&n->ev_submitted, 1);
	char id[65];
	ssp_hex_encode(id, txid.b, 32);
	SSP_LOGI(LOG, "%s by delegate %s: evidence tx %s submitted", what, d.name, id);
}

void ssp_node_evidence_step(ssp_node *n)
{
	ssp_bftc_evidence x;
	if (!n->bft) return;
	while (ssp_bftc_evidence_take(n->bft, &x)) {
		if (n->ev) handle(n, &x);
		ssp_bftc_evidence_clear(&x);
	}
}

int ssp_node_evidence_init(ssp_node *n)
{
	if (!(n->ev = calloc(1, sizeof *n->ev))) return SSP_ERR_NOMEM;
	pthread_mutex_init(&n->ev->mu, NULL);
	return 0;
}

void ssp_node_evidence_free(ssp_node *n)
{
	if (n->ev) pthread_mutex_destroy(&n->ev->mu);
	free(n->ev);
	n->ev = NULL;
	ssp_seckey_wipe(&n->reporter);
}
