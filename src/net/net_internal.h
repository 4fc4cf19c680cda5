/*
 * net_internal.h — libssp_net's private interface (net layer): the wire
 * messages and their strict codecs (msg.c), the handshake's pure steps
 * (handshake.c), both free of I/O so unit tests and the fuzz harnesses
 * drive them directly; and the state of a running network shared by its
 * files (net.c, sync.c, txrelay.c, txreq.c, addrbook.c).
 */
#ifndef SSP_NET_INTERNAL_H
#define SSP_NET_INTERNAL_H
#include <sodium.h>

#include "ssp/net.h"

static inline uint16_t net_le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline void net_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline uint32_t net_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void net_le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------- messages */

enum {
	NET_HELLO = 1,
	NET_PING = 2,
	NET_PONG = 3,
	NET_ANNOUNCE = 4,
	NET_GET_BLOCKS = 5,
	NET_BLOCK = 6,
	NET_INV = 7,
	NET_GET_TX = 8,
	NET_TX = 9,
	NET_GET_ADDR = 10,
	NET_ADDR = 11,
	NET_DISCONNECT = 12,
	NET_VOTE = 13,
	NET_TYPE_MAX = 13,
};

#define NET_FRAME_HDR 5 /* u32 ciphertext length | u8 type, authenticated as AD */
#define NET_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define NET_INV_MAX 256      /* txids per INV / GET_TX */
#define NET_ADDR_MAX 64      /* addresses per ADDR */
#define NET_GET_BLOCKS_MAX 32
#define NET_REASON_MAX 200

/*
 * The largest plaintext of a message type (the type byte excluded), with
 * max_block the genesis block size limit; 0 for an unknown type.
 */
size_t net_msg_max(uint8_t type, size_t max_block);

/*
 * Checks a frame header: a known type and a ciphertext length within the
 * type's maximum (+ tag). Returns 0 with *clen set, or SSP_ERR_DECODE
 * (unknown type) / SSP_ERR_TOOBIG / SSP_ERR_TRUNCATED (shorter than a tag).
 */
SSP_WUR int net_frame_check(const uint8_t hdr[NET_FRAME_HDR], size_t max_block, size_t *clen,
                            uint8_t *type);

typedef struct {
	uint8_t node_pk[32];
	uint8_t sig[64];
	uint32_t version;
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	ssp_hash genesis;
	ssp_net_head head;
	uint16_t listen_port;
	const uint8_t *signed_part; /* borrowed: the bytes after sig */
	size_t signed_len;
} net_hello;

typedef struct {
	uint64_t from;
	uint32_t count;
} net_get_blocks;

typedef struct {
	uint32_t n;
	const uint8_t *ids; /* borrowed: n × 32 bytes */
} net_inv;

typedef struct {
	uint32_t ip; /* host order */
	uint16_t port;
} net_addr;

typedef struct {
	uint16_t code;
	char reason[NET_REASON_MAX + 1];
} net_disconnect;

/* Encoders append the payload (no type byte) to b. */
void net_hello_encode(ssp_buf *b, const net_hello *h); /* with h->sig */
void net_hello_signed_encode(ssp_buf *b, const net_hello *h); /* the part after sig */
void net_announce_encode(ssp_buf *b, const ssp_net_head *h);
void net_get_blocks_encode(ssp_buf *b, const net_get_blocks *g);
void net_inv_encode(ssp_buf *b, const ssp_hash *ids, uint32_t n);
void net_addr_encode(ssp_buf *b, const net_addr *a, uint32_t n);
void net_disconnect_encode(ssp_buf *b, uint16_t code, const char *reason);

/* Strict decoders: no trailing bytes, counts within their caps; borrowed views of p. */
SSP_WUR int net_hello_decode(net_hello *h, const uint8_t *p, size_t n);
SSP_WUR int net_ping_decode(uint64_t *nonce, const uint8_t *p, size_t n);
SSP_WUR int net_announce_decode(ssp_net_head *h, const uint8_t *p, size_t n);
SSP_WUR int net_get_blocks_decode(net_get_blocks *g, const uint8_t *p, size_t n);
SSP_WUR int net_inv_decode(net_inv *v, const uint8_t *p, size_t n);
SSP_WUR int net_addr_decode(net_addr *a, uint32_t *count, const uint8_t *p, size_t n);
SSP_WUR int net_disconnect_decode(net_disconnect *d, const uint8_t *p, size_t n);
SSP_WUR int net_empty_decode(const uint8_t *p, size_t n);
/* The height a raw block claims (its header's second field), without decoding it. */
SSP_WUR int net_block_height(uint64_t *height, const uint8_t *p, size_t n);

/* ------------------------------------------------------------ handshake */

#define NET_MAGIC "SSPN"
#define NET_PRELUDE_LEN 40 /* "SSPN" | u16 version | u16 flags=0 | ephemeral X25519 pk */

typedef struct {
	bool initiator;
	uint8_t eph_pk[crypto_kx_PUBLICKEYBYTES], eph_sk[crypto_kx_SECRETKEYBYTES];
	uint8_t mine[NET_PRELUDE_LEN], theirs[NET_PRELUDE_LEN];
	uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	uint8_t transcript[32];
} net_hs;

/* Fresh ephemeral keys and our prelude in hs->mine. */
void net_hs_init(net_hs *hs, bool initiator);
/*
 * Takes the peer's prelude: checks magic and version, derives the session
 * keys (crypto_kx, the initiator as client) and the transcript hash
 * SHA-256("ssp-p2p-handshake-v1" | initiator prelude | responder prelude).
 * Wipes the ephemeral secret. SSP_ERR_DECODE on a bad prelude.
 */
SSP_WUR int net_hs_prelude(net_hs *hs, const uint8_t theirs[NET_PRELUDE_LEN]);
/* The digest a HELLO's signature covers: SHA-256("ssp-p2p-auth-v1" | transcript | role | signed). */
void net_hs_auth_digest(uint8_t out[32], const uint8_t transcript[32], bool initiator,
                        const uint8_t *signed_part, size_t n);
/* Fills h->sig over the signed part (node_sk: libsodium's 64-byte Ed25519 secret key). */
SSP_WUR int net_hs_sign_hello(net_hello *h, const net_hs *hs, const uint8_t node_sk[64]);
/* Checks a peer's HELLO signature (made in the other role). SSP_ERR_BADSIG otherwise. */
SSP_WUR int net_hs_check_hello(const net_hello *h, const net_hs *hs);

/* -------------------------------------------- the network's shared state */
/*
 * The state of one ssp_net and its peers, shared by the files of the
 * network: net.c (connections, peers, dispatch, timers, lifecycle), sync.c
 * (block sync, fork requests), txrelay.c (tx gossip), txreq.c (which
 * announced txids to request) and addrbook.c (peers to dial). Loop thread only, except what struct ssp_net says is under slock.
 */
#include <pthread.h>

#define MAX_TARGETS 256        /* address book + configured peers */
#define SYNC_WIN 64            /* blocks fetched ahead of the head */
#define SYNC_BATCH 16          /* blocks per GET_BLOCKS */
#define SYNC_BYTES (64u << 20) /* buffered block bytes */
#define SYNC_TIMEOUT_MS 4000   /* a requested block not delivered by then is asked elsewhere */
#define PEER_INFLIGHT 48       /* blocks requested from one peer at once */
#define SENDQ_MAX (32u << 20)  /* queued bytes to one peer before it is dropped as a slow reader */
#define SERVE_SENDQ (8u << 20) /* stop serving blocks to a peer with this much queued */
#define SERVE_RANGES 4          /* GET_BLOCKS ranges a peer may have waiting (an honest one: 3) */
#define STALL_MS 10000         /* a queue that large, and no write done for this long: dropped */
#define HANDSHAKE_MS 5000
#define IDLE_MS 30000
#define PING_MS 5000
#define LOOP_STALL_MS 3000    /* a 1 s tick this late: the loop itself stalled */
#define BAN_MS 60000
#define BANS_MAX 256
#define FRAMES_PER_S 20000    /* beyond: flooding (a GET_TX answer alone is 256 frames) */
#define TX_REQ_MAX 1024       /* txids requested from one peer and not delivered */
#define TXQ_PEER_MAX 32768    /* txids one peer announced that wait for a request (oldest go) */
#define TXQ_MAX 65536         /* txids tracked (waiting or requested), all peers together */
#define TXQ_RING_TOTAL (2 * TXQ_MAX) /* queue slots, all peers together (stale ones count) */
#define TX_REQ_TIMEOUT_MS 3000 /* a requested tx not delivered by then is asked again */
#define TX_REQ_TRIES 3        /* requests of one txid before it is forgotten */
#define TXSET_CAP 16384       /* slots per generation of the seen set and tx cache */
#define TXCACHE_BYTES (16u << 20)
#define INVQ_MAX 2048
#define TXCHK_BATCH 128       /* txs per check job on libuv's pool */
#define TXCHK_MAX 16384       /* txs received and not admitted yet; beyond, dropped */
#define TXCHK_BYTES (16u << 20)
#define TXCHK_GATE (TXCHK_MAX / 2) /* no more GET_TX while this many are asked for or unchecked */
#define TXCHK_JOBS 4          /* jobs on the pool at once; a partly filled one waits for room */
#define TX_TRUST 32           /* a peer's txs are checked on the loop until this many were admitted */
#define RETQ_MAX 16384        /* txs given back by a reorg, waiting to be announced again */
#define RETQ_BYTES (16u << 20)
#define PENDING_HANDSHAKES 32
#define READ_CHUNK 65536
#define SCORE_BAN 100
#define FORK_REQS 16            /* ancestor / competing-head requests in flight */
#define FORK_INBOX 64           /* blocks answering them, waiting for the chain thread */
#define FORK_BYTES (32u << 20)
#define VOTE_SEEN 8192          /* vote digests per generation of the seen set (two kept) */
#define VOTE_INBOX 4096         /* votes waiting for the chain thread */
#define VOTE_OUTBOX 4096        /* votes waiting to be relayed */

enum { C_PRELUDE, C_SSHDR, C_HELLO, C_OPEN, C_CLOSING };
enum { S_EMPTY, S_REQUESTED, S_HAVE };

typedef struct {
	uv_write_t w;
	struct peer *p;
	size_t len;
	uint8_t data[];
} wreq;

#define HOST_MAX 254 /* a DNS name's text, or an IPv6 literal */

typedef struct target {
	uint32_t ip; /* host order; for a named target the last address it resolved to */
	uint16_t port;
	bool configured, self, used;
	bool v6;             /* ip6 holds the (resolved or literal) IPv6 address to dial */
	uint8_t ip6[16];
	char host[HOST_MAX]; /* configured by name or IPv6 literal: resolved before each dial */
	uv_getaddrinfo_t *gai; /* a resolution in progress */
	uint64_t next_try_ms;
	unsigned fails;
	uint64_t conn; /* peer id of the connection to it, 0 if none */
} target;

/* A tx received, its check on the pool, then its admission on the loop (txrelay.c). */
typedef struct {
	ssp_net_tx t;
	uint64_t peer;      /* who sent it (scored if it is bad) */
	uint64_t echo_bits; /* the peers known to hold it: its sender and announcers */
	ssp_hash id;        /* SHA-256 of its bytes */
	bool checked;       /* checked on the loop already (a new peer's, TX_TRUST) */
} chktx;

typedef struct chkjob {
	uv_work_t req;
	struct ssp_net *net;
	struct chkjob *next;
	bool done;
	size_t count, bytes;
	chktx tx[TXCHK_BATCH];
} chkjob;

typedef struct peer {
	ssp_net *net;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_shutdown_t sreq;
	uint64_t id;
	bool inbound;
	int state;
	net_hs hs;
	crypto_secretstream_xchacha20poly1305_state txs, rxs;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t node_pk[32];
	uint32_t ip;
	bool v6; /* an outbound connection to an IPv6 address (ip6) */
	uint8_t ip6[16];
	uint16_t port, listen_port;
	ssp_net_head head;
	int score;
	size_t sendq;
	uint64_t sendq_progress_ms; /* last write done, or when the queue last became non-empty */
	uint64_t bytes_in, bytes_out, blocks_in, txs_in;
	uint64_t txs_ok; /* its txs admitted here (TX_TRUST) */
	uint64_t echo_bit; /* its bit in the producer's echo counts (one of 64), 0 if none */
	uint64_t start_ms, last_recv_ms, last_ping_ms;
	uint64_t win_start_ms;
	uint32_t win_frames;
	uint32_t inflight;
	uint64_t last_block_ms; /* a requested block last arrived from it */
	struct {
		uint64_t from;
		uint32_t count;
	} serve[SERVE_RANGES]; /* blocks it asked for, served as its queue drains */
	uint32_t nserve;
	uint32_t tx_requested; /* txids asked of it and not delivered (txreq.c) */
	ssp_hash fork_asked; /* the competing head last fetched from this peer */
	uint32_t tx_late;    /* requests of it that timed out: their answers are still welcome */
	/* txids it announced, oldest first, waiting for a request (txreq.c): a ring of
	 * annq_cap (a power of two, grown up to TXQ_PEER_MAX) from annq_head; owned */
	ssp_hash *annq;
	uint32_t annq_cap, annq_head, annq_len;
	bool got_addr_req;
	bool close_called;
	uint64_t drop_ms;
	int target; /* index into targets or -1 */
	struct peer *next;
} peer;

typedef struct {
	ssp_hash id;
	uint8_t *raw;
	uint32_t len;
	uint64_t echo_bits; /* seen set: peers that announced it while it waited for its check */
	bool used;
} tent;

typedef struct {
	tent *e;
	size_t count, bytes;
} tmap;

typedef struct {
	uint64_t height;
	int st;
	uint64_t peer;
	uint64_t t_ms;
	uint8_t *raw;
	size_t len;
} sslot;

typedef struct {
	uint8_t pk[32];
	uint64_t until_ms;
} ban;

typedef struct {
	uint64_t peer;
	int err;
	bool vote; /* an invalid vote (else a block) */
} penalty;

typedef struct retx {
	uint8_t *raw; /* owned */
	size_t len;
	ssp_hash txid;
} retx;

/* A block request outside the sync window: a fork's ancestors or a competing head. */
typedef struct {
	uint64_t peer, from, t_ms;
	uint32_t count;
	bool sent;
} freq;

typedef struct {
	uint8_t *raw;
	size_t len;
	uint64_t peer;
} fblock;

struct ssp_net {
	ssp_net_config cfg;
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;
	uv_timer_t tick, fast;
	uv_async_t wake;
	bool stopping;
	uint8_t pk[32], sk[64];
	char listen_str[128];
	uint16_t listen_port;
	uint32_t listen_ip;
	size_t max_block;
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	ssp_hash genesis;
	peer *peers;
	uint64_t next_id;
	target targets[MAX_TARGETS];
	bool book_dirty;
	char book_path[1100];
	ban bans[BANS_MAX];
	tmap seen[2], cache[2];
	ssp_hash invq[INVQ_MAX];
	size_t ninvq;
	/* the tx request tracker (txreq.c): txids announced and not yet received,
	 * an open-addressing table of txq_slots (keyed SipHash: peers choose txids) */
	struct txe *txq;
	size_t txq_slots, txq_count, txq_ring_total;
	uint8_t txq_key[16];
	uint64_t txq_expired_ms;
	/* txs from peers on their way to the mempool: the job being filled, then the jobs
	 * given to the pool, oldest first (admitted in that order); loop thread */
	uv_check_t chk_flush;
	chkjob *chk_fill, *chk_head, *chk_tail;
	size_t chk_txs, chk_bytes, chk_jobs; /* chk_jobs: given to the pool, not admitted yet */
	uint64_t echo_used; /* the echo bits of open peers */
	/* txs a branch switch gave back to the mempool, to announce again (under slock) */
	retx *retq; /* RETQ_MAX entries once used */
	size_t nretq, retq_bytes;
	uint8_t scratch[READ_CHUNK];
	uint64_t start_ms;
	uint64_t rr; /* round-robin cursor over peers for sync requests */
	unsigned ticks;
	uint64_t last_tick_ms;
	ssp_net_head announced;
	ssp_net_stats stats;
	/* the best height of a peer whose head the node does not hold (ssp_net_synced) */
	_Atomic uint64_t best_unheld;
	_Atomic bool heard;
	/* the sync window: shared with the chain thread under slock */
	pthread_mutex_t slock;
	bool closed; /* wake is closed: no more uv_async_send */
	uint64_t base;
	sslot win[SYNC_WIN];
	size_t win_bytes;
	uint64_t retry_after_ms;
	penalty penalties[16];
	size_t npenalties;
	/* fork requests and the blocks answering them (also under slock) */
	freq freqs[FORK_REQS];
	size_t nfreqs;
	fblock finbox[FORK_INBOX];
	size_t nfinbox, finbox_bytes;
	/* votes (votes.c): the seen set (loop thread), the inbox and outbox (under slock) */
	uint64_t *vseen[2];
	size_t vseen_n;
	uint8_t vseen_key[16];
	struct vmsg *vin, *vout;
	size_t nvin, nvout;
};

/* net.c */
void net_peer_drop(peer *p, uint16_t code, const char *reason);
/* Adds misbehaviour points; at SCORE_BAN the peer is banned for a while and dropped. */
void net_misbehave(peer *p, int points, const char *why);
int net_send_frame(peer *p, uint8_t type, const uint8_t *pt, size_t len);
/* Sends b's bytes as one frame and frees b. */
int net_send_buf(peer *p, uint8_t type, ssp_buf *b);
peer *net_peer_by_id(ssp_net *n, uint64_t id);
void net_ip_str(char *out, size_t cap, uint32_t ip, uint16_t port);

/* sync.c */
void net_sync_tick(ssp_net *n);
void net_serve_blocks(peer *p);
void net_fork_check(peer *p);
void net_fork_requests(ssp_net *n);
void net_on_get_blocks(peer *p, const net_get_blocks *g);
void net_on_block(peer *p, const uint8_t *raw, size_t len);

/* txrelay.c */
void net_tmap_clear(tmap *m);
void net_on_inv(peer *p, const net_inv *v);
void net_on_get_tx(peer *p, const net_inv *v);
void net_on_tx(peer *p, const uint8_t *raw, size_t len);
/* Gives the job being filled to the pool if fewer than TXCHK_JOBS are there (the loop's
 * check phase, once per iteration). */
void net_chk_flush(uv_check_t *h);
/* Stop: cancels the jobs the pool has not started and frees the one being filled (the
 * others end in their after-work, admitting nothing). */
void net_chk_stop(ssp_net *n);
void net_flush_inv(ssp_net *n);
/* Received here, or pending or on chain (the node's have_tx). */
bool net_tx_known(ssp_net *n, const ssp_hash *id);
/* Announces the txs a branch switch gave back to the mempool (ssp_net_txs_returned). */
void net_retq_flush(ssp_net *n);
void net_retq_free(ssp_net *n);

/* votes.c */
void net_on_vote(peer *p, const uint8_t *raw, size_t len);
/* Sends the votes queued by ssp_net_vote_relay (loop thread). */
void net_votes_flush(ssp_net *n);
void net_votes_free(ssp_net *n);

/* txreq.c: which announced txids to request, from whom, and when again */
/* A txid announced by p (INV): queued unless known or tracked already. */
void net_txq_announced(peer *p, const ssp_hash *id);
/*
 * A tx arrived from p: true if it was asked of p (or of p before a timeout);
 * the txid is no longer tracked either way. *announcers: the echo bits of the
 * peers that announced it.
 */
bool net_txq_received(peer *p, const ssp_hash *id, uint64_t *announcers);
/* The tx is here (RPC, a peer): forgets a waiting announcement of it. */
void net_txq_have(ssp_net *n, const ssp_hash *id);
/* Sends GET_TX for p's oldest waiting txids while it owes fewer than TX_REQ_MAX. */
void net_txq_drain(peer *p);
/* Timeouts (asked again of another announcer, or of the same peer, or forgotten), then drains. */
void net_txq_tick(ssp_net *n);
/* p is going: its waiting txids go to another announcer or are forgotten; frees its queue. */
void net_txq_peer_gone(peer *p);
void net_txq_free(ssp_net *n);

/* addrbook.c */
SSP_WUR int net_parse_peer(const char *s, uint32_t *ip, char host[HOST_MAX], uint16_t *port);
SSP_WUR int net_parse_hostport(const char *s, uint32_t *ip, uint16_t *port);
target *net_target_add(ssp_net *n, uint32_t ip, uint16_t port, bool configured);
target *net_target_add_host(ssp_net *n, const char *host, uint16_t port);
void net_on_get_addr(peer *p);
void net_on_addr(peer *p, const net_addr *a, uint32_t k);
void net_book_load(ssp_net *n);
void net_book_save(ssp_net *n);

#endif
