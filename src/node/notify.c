/*
 * notify.c — what the node publishes to WebSocket subscribers (node
 * layer): the topics and their filters, and a notifier thread that, after
 * the chain thread commits blocks, reads each new block once (an LMDB read
 * transaction, like any RPC reader) and publishes its head (newHeads,
 * finalizedHeads), its transactions' status (txStatus) and the events in
 * its receipts (events, filtered by address, token symbol or name). The
 * chain thread only signals it, so a slow publisher never delays a block;
 * nothing is built for a topic nobody subscribed to.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

static const char *const no_filters[] = {NULL};
static const char *const tx_filters[] = {"txid", NULL};
static const char *const event_filters[] = {"address", "symbol", "name", NULL};

static const ssp_rpc_topic topics[] = {
    {"newHeads", no_filters, NULL},
    {"finalizedHeads", no_filters, NULL},
    {"txStatus", tx_filters, "txid"},
    {"events", event_filters, NULL},
};

const ssp_rpc_topic *ssp_node_topics(size_t *n)
{
	*n = sizeof(topics) / sizeof(topics[0]);
	return topics;
}

static json_t *hex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s) return NULL;
	ssp_hex_encode(s, p, n);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *addr(const ssp_node *n, const ssp_addr *a)
{
	char s[96];

	ssp_addr_encode(s, sizeof s, ssp_genesis_hrp(n->genesis), a);
	return json_string(s);
}

/* The events of one receipt, each published on "events". */
static void publish_events(ssp_node *n, const ssp_receipt *r, const ssp_tx *tx, uint64_t height,
                           uint32_t index)
{
	ssp_event ev;
	size_t off = 0;
	uint32_t k = 0;

	while (ssp_events_next(r->events, r->events_len, &off, &ev) == 1) {
		json_t *fields = NULL, *e;
		if (ssp_val_to_json(&fields, ev.fields, ev.fields_len))
			fields = hex(ev.fields, ev.fields_len);
		e = json_pack("{s:o, s:s, s:o, s:I, s:i, s:i, s:o}", "address",
		              addr(n, &ev.emitter), "name", ev.name, "txid", hex(tx->txid.b, 32),
		              "height", (json_int_t)height, "index", (int)index, "event_index",
		              (int)k++, "fields", fields ? fields : json_null());
		if (!e) continue;
		json_t *sym = json_object_get(fields, "symbol");
		if (json_is_string(sym)) json_object_set(e, "symbol", sym);
		ssp_rpc_publish(n->rpc, "events", e);
		json_decref(e);
	}
}

/*
 * Publishes block `height`: its head, and as subscribed its txs' status and
 * events. Nothing is read without a subscriber, and the txs are decoded only
 * for txStatus and events subscribers: decoding validates every pubkey's
 * point, as costly as a signature check, and ran twice per block (head,
 * final) on every node whether anyone listened or not.
 */
static void publish_block(ssp_node *n, uint64_t height, bool final_only)
{
	ssp_txn *rt = NULL;
	const uint8_t *raw;
	size_t len;
	ssp_block b = {0};
	bool heads = ssp_rpc_subscribed(n->rpc, final_only ? "finalizedHeads" : "newHeads");
	bool txs = !final_only && ssp_rpc_subscribed(n->rpc, "txStatus");
	bool evs = !final_only && ssp_rpc_subscribed(n->rpc, "events");
	json_t *head;
	if (!heads && !txs && !evs) return;
	int rc = ssp_store_read(n->store, &rt);

	if (!rc) rc = ssp_chain_read_block(n->chain, rt, height, &raw, &len);
	if (!rc && (txs || evs)) {
		rc = ssp_block_decode(&b, raw, len, (size_t)1 << 31);
	} else if (!rc) { /* the header and the tx count: checked by the read above */
		ssp_rd r;
		ssp_rd_init(&r, raw, len);
		rc = ssp_header_read(&b.hdr, &r);
		if (!rc) {
			b.ntx = ssp_rd_u32(&r);
			rc = r.err;
		}
	}
	if (rc) {
		if (rc == SSP_ERR_DBCORRUPT) ssp_node_corrupt(n);
		goto out;
	}
	const ssp_header *h = &b.hdr;
	head = NULL;
	if (heads)
		head = json_pack("{s:I, s:o, s:o, s:I, s:I, s:o, s:I, s:o, s:o}", "height",
		                 (json_int_t)h->height, "id", hex(h->id.b, 32), "prev_id",
		                 hex(h->prev_id.b, 32), "slot", (json_int_t)h->slot, "timestamp",
		                 (json_int_t)h->timestamp_ms, "producer", addr(n, &h->producer),
		                 "tx_count", (json_int_t)b.ntx, "state_root",
		                 hex(h->state_root.b, 32), "tx_root", hex(h->tx_root.b, 32));
	if (head) {
		ssp_rpc_publish(n->rpc, final_only ? "finalizedHeads" : "newHeads", head);
		json_decref(head);
	}
	for (uint32_t i = 0; (txs || evs) && i < b.ntx; i++) {
		ssp_receipt r = {0};
		if (ssp_chain_read_receipt(n->chain, rt, height, i, &r)) continue;
		if (txs) {
			json_t *t =
			    json_pack("{s:o, s:s, s:I, s:o, s:i, s:s}", "txid",
			              hex(b.txs[i].txid.b, 32), "status", "included", "height",
			              (json_int_t)height, "block_id", hex(h->id.b, 32), "index",
			              (int)i, "receipt", r.status == SSP_RCPT_OK ? "ok" : "failed");
			if (t) {
				ssp_rpc_publish(n->rpc, "txStatus", t);
				json_decref(t);
			}
		}
		if (evs) publish_events(n, &r, &b.txs[i], height, i);
		ssp_receipt_free(&r);
	}
out:
	ssp_block_free(&b);
	if (rt) ssp_txn_end(rt);
}

/* A block that became final: its head, and its txs' final status. */
static void publish_final(ssp_node *n, uint64_t height)
{
	publish_block(n, height, true);
	if (!ssp_rpc_subscribed(n->rpc, "txStatus")) return;
	ssp_txn *rt;
	const uint8_t *raw;
	size_t len;
	ssp_block b = {0};
	if (ssp_store_read(n->store, &rt)) return;
	if (!ssp_chain_read_block(n->chain, rt, height, &raw, &len) &&
	    !ssp_block_decode(&b, raw, len, (size_t)1 << 31))
		for (uint32_t i = 0; i < b.ntx; i++) {
			json_t *t =
			    json_pack("{s:o, s:s, s:I, s:o, s:i}", "txid", hex(b.txs[i].txid.b, 32),
			              "status", "finalized", "height", (json_int_t)height,
			              "block_id", hex(b.hdr.id.b, 32), "index", (int)i);
			if (t) {
				ssp_rpc_publish(n->rpc, "txStatus", t);
				json_decref(t);
			}
		}
	ssp_block_free(&b);
	ssp_txn_end(rt);
}

static void *notifier_main(void *arg)
{
	ssp_node *n = arg;
	uint64_t done, fin_done;
	ssp_txn *rt;
	ssp_head h;

	if (ssp_store_read(n->store, &rt)) return NULL;
	if (ssp_chain_read_head(n->chain, rt, &h)) h.height = h.finalized = 0;
	ssp_txn_end(rt);
	done = h.height;
	fin_done = h.finalized;
	pthread_mutex_lock(&n->nlock);
	while (!n->nstop) {
		uint64_t until_ms = ssp_now_ms() + 1000;
		struct timespec until = {(time_t)(until_ms / 1000),
		                         (long)(until_ms % 1000) * 1000000L};
		if (!n->nkick) pthread_cond_timedwait(&n->ncond, &n->nlock, &until);
		n->nkick = false;
		if (n->nstop) break;
		pthread_mutex_unlock(&n->nlock);
		if (!ssp_store_read(n->store, &rt)) {
			if (ssp_chain_read_head(n->chain, rt, &h)) h.height = h.finalized = done;
			ssp_txn_end(rt);
			/* at most 64 blocks a round: a subscriber joining a syncing follower gets
			 * the recent ones, the node its CPU */
			if (h.height > done + 64) done = h.height - 64;
			if (h.finalized > fin_done + 64) fin_done = h.finalized - 64;
			for (; done < h.height; done++)
				publish_block(n, done + 1, false);
			for (; fin_done < h.finalized; fin_done++)
				publish_final(n, fin_done + 1);
		}
		pthread_mutex_lock(&n->nlock);
	}
	pthread_mutex_unlock(&n->nlock);
	return NULL;
}

int ssp_node_notify_start(ssp_node *n)
{
	pthread_mutex_init(&n->nlock, NULL);
	pthread_cond_init(&n->ncond, NULL);
	n->notify_init = true;
	if (pthread_create(&n->notifier, NULL, notifier_main, n)) return SSP_ERR_NOMEM;
	n->notify_started = true;
	return 0;
}

void ssp_node_notify_kick(ssp_node *n)
{
	if (!n->notify_started) return;
	pthread_mutex_lock(&n->nlock);
	n->nkick = true;
	pthread_cond_signal(&n->ncond);
	pthread_mutex_unlock(&n->nlock);
}

void ssp_node_notify_stop(ssp_node *n)
{
	if (n->notify_started) {
		pthread_mutex_lock(&n->nlock);
		n->nstop = true;
		pthread_cond_signal(&n->ncond);
		pthread_mutex_unlock(&n->nlock);
		pthread_join(n->notifier, NULL);
		n->notify_started = false;
	}
	if (n->notify_init) {
		pthread_mutex_destroy(&n->nlock);
		pthread_cond_destroy(&n->ncond);
		n->notify_init = false;
	}
}

void ssp_node_notify_admitted(ssp_node *n, const job *j)
{
	if (!ssp_rpc_subscribed(n->rpc, "txStatus")) return;
	for (size_t i = 0; i < j->ntx; i++) {
		const job_tx *t = &j->txs[i];
		json_t *e;
		if (ssp_hash_is_zero(&t->txid)) continue; /* not even decodable: no txid */
		e = t->err
		        ? json_pack("{s:o, s:s, s:s, s:s}", "txid", hex(t->txid.b, 32), "status",
		                    "rejected", "error", ssp_errname(t->err), "reason",
		                    ssp_strerror(t->err))
		        : json_pack("{s:o, s:s}", "txid", hex(t->txid.b, 32), "status", "pending");
		if (!e) continue;
		ssp_rpc_publish(n->rpc, "txStatus", e);
		json_decref(e);
	}
}
