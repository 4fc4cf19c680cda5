/*
 * ssp/net.h — the public API of libssp_net: the P2P network of sspd nodes
 * (net layer, above chain and core; the chain never includes it). TCP on
 * libuv; every connection is authenticated by the nodes' long-term Ed25519
 * node keys over an ephemeral X25519 exchange and encrypted both ways with
 * crypto_secretstream_xchacha20poly1305 (docs/internals/net.md). On top:
 * block announce and range sync, tx inventory gossip, ping, peer exchange
 * and misbehaviour scoring.
 *
 * Threading: an ssp_net lives on the libuv loop it was created with; every
 * function runs on that loop's thread unless it says "any thread". The net
 * never changes the chain: blocks it receives wait in a bounded, ordered
 * buffer that the chain's owner thread takes (ssp_net_take_blocks) and
 * imports, reporting each failure back (ssp_net_block_failed). Blocks are
 * served from committed state through store read txns.
 */
#ifndef SSP_NET_H
#define SSP_NET_H
#include <stdatomic.h>
#include <uv.h>

#include "ssp/chain.h"
#ifdef __cplusplus
extern "C" {
#endif

#define SSP_NET_PROTOCOL 1

typedef struct ssp_net ssp_net;

/* What the node tells the network about its chain (a snapshot). */
typedef struct {
	uint64_t height;
	ssp_hash id;
	uint64_t finalized;
	uint64_t slot;
} ssp_net_head;

/*
 * A tx from a peer on its way into the mempool: config.tx_check decodes and
 * checks it (signature included) on a thread of libuv's pool, several
 * batches at once, while the loop goes on serving blocks; config.tx_admit
 * then admits it on the loop, in the order the txs arrived.
 */
typedef struct {
	const uint8_t *raw; /* its bytes (owned by the net until tx_admit returns) */
	size_t len;
	ssp_tx tx;     /* tx_check's decoding (borrows raw) */
	int rc;        /* 0, or why it is refused (tx_check's, then tx_admit's) */
	bool fault;    /* the tx itself is malformed or badly signed: its sender is scored
	                  (as opposed to "not now": nonce, fee, pool full) */
	bool verified; /* tx_check verified its signature */
	/* in: the sender's key carried by another tx received with it (a new account's
	 * first tx), for a sender with no key on chain or pending; NULL if none */
	const ssp_pubkey *key_hint;
} ssp_net_tx;

typedef struct {
	const char *listen;           /* "ADDR:PORT" to accept peers on; NULL/"" = none */
	const char *const *peers;     /* "HOST:PORT" to keep connected (copied): HOST a DNS name
	                                 (resolved before each dial), IPv4 or "[IPv6]" */
	size_t npeers;
	const char *datadir;          /* node.key and peers.txt live here */
	unsigned max_inbound;         /* 0: 32 */
	unsigned max_outbound;        /* 0: 8 */
	ssp_chain *chain;             /* read through store read txns only */
	/* Callbacks, all on the loop thread (but tx_check), ctx first. */
	void (*head)(void *ctx, ssp_net_head *out); /* the node's current head */
	/*
	 * A tx from a peer (ssp_net_tx): tx_check runs on a pool thread, several at
	 * once (stateless checks and the signature: it must not touch what the loop
	 * owns); tx_admit on the loop, in arrival order, for every tx, whatever
	 * tx_check said (t->rc set: note the refusal; else admit it and set t->rc
	 * and t->fault).
	 */
	void (*tx_check)(void *ctx, ssp_net_tx *t);
	void (*tx_admit)(void *ctx, ssp_net_tx *t);
	/*
	 * Optional: the peers in `peers` (one bit each: the net numbers its open
	 * peers 0..63) hold these admitted txs — they announced them, or sent one.
	 * The producer prefers txs the network already has (ssp_mempool_echo).
	 */
	void (*tx_echo)(void *ctx, const ssp_hash *ids, size_t n, uint64_t peers);
	bool (*have_tx)(void *ctx, const ssp_hash *txid); /* pending or on chain */
	/*
	 * Optional: a block the node holds off its chain and has judged (its
	 * consensus took it; fork choice keeps the chain on another branch). A
	 * peer whose head is one of those, or on the chain, is not ahead of the
	 * node whatever its height: ssp_net_synced does not wait for it.
	 */
	bool (*have_block)(void *ctx, const ssp_hash *id);
	void (*blocks_ready)(void *ctx);                  /* wake the chain thread */
	bool votes; /* the chain runs BFT: take VOTE frames (else they are dropped unread) */
	void *ctx;
} ssp_net_config;

/*
 * Traffic counters; any thread. Tx relay: tx_queued, the txids announced by
 * peers and not yet received (waiting for a request or requested; at most
 * 65,536); tx_requests, txids asked of peers; tx_request_timeouts, requests
 * not answered in time (asked again or forgotten); tx_announce_dropped,
 * announced txids forgotten unrequested because the queues were full;
 * txs_reannounced, txs a branch switch gave back to the mempool, announced again;
 * tx_checking, txs received and waiting for (or in) their check on the pool;
 * tx_check_dropped, txs received while that backlog was full (not admitted).
 */
typedef struct {
	_Atomic uint64_t bytes_in, bytes_out, blocks_in, txs_in, peers, inbound, outbound,
	    best_height, disconnects, bans, handshakes_failed;
	_Atomic uint64_t tx_queued, tx_requests, tx_request_timeouts, tx_announce_dropped,
	    txs_reannounced;
	_Atomic uint64_t tx_checking, tx_check_dropped; /* txs being checked; dropped: backlog full */
	_Atomic uint64_t votes_in, votes_dup, votes_dropped, votes_relayed;
} ssp_net_stats;

/*
 * Creates the network on loop, loads or creates the node key (datadir/
 * node.key, mode 0600) and the address book, starts listening (if asked)
 * and connecting. *why gets a one-line reason on failure.
 */
SSP_WUR int ssp_net_start(ssp_net **out, uv_loop_t *loop, const ssp_net_config *cfg, char *why,
                          size_t whylen);
/* Starts closing every connection and handle; the loop must then run until they are closed,
 * after which ssp_net_free frees it. */
void ssp_net_stop(ssp_net *n);
void ssp_net_free(ssp_net *n);

/*
 * Forks (any thread). The chain thread's fork database asks a peer for
 * blocks of its branch (GET_BLOCKS from..from+count-1, count <= 32: the
 * ancestors of a block whose parent it lacks); the answers, and the head
 * of any peer at our height with another head id (fetched by the net on
 * its own), wait in a bounded inbox for ssp_net_take_fork_blocks, which
 * works like ssp_net_take_blocks (raws[i] malloc'd, owned by the caller).
 * ssp_net_peer_failed scores a peer for an invalid block found outside
 * the sync window (a local error or SSP_ERR_BLOCK_EARLY: no blame).
 */
void ssp_net_request_blocks(ssp_net *n, uint64_t peer, uint64_t from, uint32_t count);
size_t ssp_net_take_fork_blocks(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers,
                                size_t max);
void ssp_net_peer_failed(ssp_net *n, uint64_t peer, int err);

/* The node's head changed (any thread): announce it to peers, continue syncing. */
void ssp_net_head_changed(ssp_net *n);
/* A tx was admitted into the mempool (RPC or a peer): remember it and announce its txid. */
void ssp_net_tx_added(ssp_net *n, const uint8_t *raw, size_t len, const ssp_hash *txid);

/*
 * Txs a branch switch gave back to the mempool (any thread; txs[i].raw is
 * copied): announced to peers again from the loop, so they reach the
 * producers of the new branch. Beyond 16,384 txs or 16 MiB waiting, the
 * rest are not announced (they stay in the mempool).
 */
void ssp_net_txs_returned(ssp_net *n, const ssp_tx *txs, size_t count);

/*
 * Chain thread (any thread): takes up to max consecutive verified-order
 * blocks starting at the next height to import, in order. Each raws[i] is
 * malloc'd and owned by the caller; peers[i] names the sender for
 * ssp_net_block_failed. Returns how many.
 */
size_t ssp_net_take_blocks(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers, size_t max);
/*
 * Chain thread (any thread): the block at height from peer failed with
 * err; everything taken after it is void and will be fetched again. A
 * validity error scores the peer (an invalid block bans it); a local
 * error or SSP_ERR_BLOCK_EARLY does not.
 */
void ssp_net_block_failed(ssp_net *n, uint64_t height, uint64_t peer, int err);

/*
 * Whether a producer may produce: it has heard from the network (or has no
 * peers to hear from) and no peer is ahead of head_height with a head the
 * node does not hold (a peer on a branch fork choice already judged — its
 * head on the chain or held off it, config.have_block — does not count: a
 * peer ahead on an outvoted branch must not stop the producers). Any thread.
 */
bool ssp_net_synced(ssp_net *n, uint64_t head_height);

/*
 * Consensus votes (opaque to the net: the node's consensus layer encodes
 * and verifies them; at most SSP_NET_VOTE_MAX bytes). A vote from a peer
 * that this node has not seen (a keyed digest of its bytes, two
 * generations of VOTE_SEEN) waits in a bounded inbox (4,096; beyond,
 * dropped) for the chain thread, which takes it with ssp_net_take_votes
 * (any thread; raws[i] malloc'd, owned by the caller) and, once it has
 * verified it and found it new, hands it back to ssp_net_vote_relay (any
 * thread) to be sent to every other peer; its own votes go the same way
 * with from_peer 0. An invalid vote is reported with ssp_net_peer_failed.
 * Only verified votes are relayed, each at most once per node.
 */
#define SSP_NET_VOTE_MAX 256
size_t ssp_net_take_votes(ssp_net *n, uint8_t **raws, size_t *lens, uint64_t *peers, size_t max);
void ssp_net_vote_relay(ssp_net *n, const uint8_t *raw, size_t len, uint64_t from_peer);
/* A vote from peer was invalid (err): it is dropped and banned ("invalid vote: ..."). Any thread. */
void ssp_net_vote_failed(ssp_net *n, uint64_t peer, int err);

ssp_net_stats *ssp_net_stats_get(ssp_net *n); /* any thread */
/* net_getInfo / net_getPeers as JSON (new references). */
json_t *ssp_net_info_json(ssp_net *n);
json_t *ssp_net_peers_json(ssp_net *n);

#ifdef __cplusplus
}
#endif
#endif
