/*
 * net.c — the P2P network on libuv TCP (net layer): connections and their
 * handshake, encrypted length-prefixed frames, peers, their scores and
 * bans, message dispatch, the timers and the network's lifecycle. Block
 * sync lives in sync.c, tx relay in txrelay.c, the address book in
 * addrbook.c. Everything here runs on the loop thread except the few
 * functions ssp/net.h marks "any thread", which meet the loop under `slock`
 * (the sync window) or through the `wake` async handle. The chain is only
 * read (store read txns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_internal.h"

#define LOG "net"

/* ------------------------------------------------------------ utilities */

void net_ip_str(char *out, size_t cap, uint32_t ip, uint16_t port)
{
	snprintf(out, cap, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
	         port);
}

/* A peer's address as text: A.B.C.D:PORT or [IPv6]:PORT. */
static void peer_str(char *out, size_t cap, const struct peer *p)
{
	char h[64];
	if (p->v6 && !uv_inet_ntop(AF_INET6, p->ip6, h, sizeof h))
		snprintf(out, cap, "[%s]:%u", h, p->port);
	else
		net_ip_str(out, cap, p->ip, p->port);
}

peer *net_peer_by_id(ssp_net *n, uint64_t id)
{
	for (peer *p = n->peers; p; p = p->next)
		if (p->id == id) return p;
	return NULL;
}

static bool banned(ssp_net *n, const uint8_t pk[32], uint64_t now)
{
	for (size_t i = 0; i < BANS_MAX; i++)
		if (n->bans[i].until_ms > now && !memcmp(n->bans[i].pk, pk, 32)) return true;
	return false;
}

static void ban_add(ssp_net *n, const uint8_t pk[32], uint64_t now)
{
	size_t oldest = 0;
	for (size_t i = 0; i < BANS_MAX; i++) {
		if (n->bans[i].until_ms <= now || !memcmp(n->bans[i].pk, pk, 32)) {
			oldest = i;
			break;
		}
		if (n->bans[i].until_ms < n->bans[oldest].until_ms) oldest = i;
	}
	memcpy(n->bans[oldest].pk, pk, 32);
	n->bans[oldest].until_ms = now + BAN_MS;
	atomic_fetch_add(&n->stats.bans, 1);
}

/* ------------------------------------------------------------- sending */

static void on_written(uv_write_t *w, int status)
{
	wreq *r = (wreq *)w;
	peer *p = r->p;
	p->sendq -= r->len;
	p->sendq_progress_ms = ssp_now_ms();
	free(r);
	if (!status && p->nserve && p->sendq < SERVE_SENDQ / 2) net_serve_blocks(p);
}

static int send_raw(peer *p, const void *data, size_t len)
{
	if (p->state == C_CLOSING) return SSP_ERR_IO;
	wreq *r = malloc(sizeof *r + len);
	if (!r) return SSP_ERR_NOMEM;
	r->p = p;
	r->len = len;
	memcpy(r->data, data, len);
	uv_buf_t b = uv_buf_init((char *)r->data, (unsigned)len);
	if (uv_write(&r->w, (uv_stream_t *)&p->tcp, &b, 1, on_written)) {
		free(r);
		return SSP_ERR_IO;
	}
	if (!p->sendq) p->sendq_progress_ms = ssp_now_ms();
	p->sendq += len;
	p->bytes_out += len;
	atomic_fetch_add(&p->net->stats.bytes_out, len);
	return 0;
}

/* Encrypts and queues one frame; a peer that does not read is dropped, not buffered. */
int net_send_frame(peer *p, uint8_t type, const uint8_t *pt, size_t len)
{
	if (p->state == C_CLOSING || p->state < C_HELLO) return SSP_ERR_IO;
	if (p->sendq + len > SENDQ_MAX) {
		net_peer_drop(p, 3, "slow reader: send queue full");
		return SSP_ERR_BUSY;
	}
	size_t total = NET_FRAME_HDR + len + NET_ABYTES;
	wreq *r = malloc(sizeof *r + total);
	if (!r) return SSP_ERR_NOMEM;
	net_le32_put(r->data, (uint32_t)(len + NET_ABYTES));
	r->data[4] = type;
	crypto_secretstream_xchacha20poly1305_push(&p->txs, r->data + NET_FRAME_HDR, NULL, pt, len,
	                                           r->data, NET_FRAME_HDR,
	                                           crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	r->p = p;
	r->len = total;
	uv_buf_t b = uv_buf_init((char *)r->data, (unsigned)total);
	if (uv_write(&r->w, (uv_stream_t *)&p->tcp, &b, 1, on_written)) {
		free(r);
		return SSP_ERR_IO;
	}
	if (!p->sendq) p->sendq_progress_ms = ssp_now_ms();
	p->sendq += total;
	p->bytes_out += total;
	atomic_fetch_add(&p->net->stats.bytes_out, total);
	return 0;
}

int net_send_buf(peer *p, uint8_t type, ssp_buf *b)
{
	int rc = b->err ? b->err : net_send_frame(p, type, b->data, b->len);
	ssp_buf_free(b);
	return rc;
}

/* ------------------------------------------------------------ closing */

static void on_closed(uv_handle_t *h)
{
	peer *p = h->data;
	ssp_net *n = p->net;
	for (peer **pp = &n->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p->rbuf);
	free(p->annq);
	sodium_memzero(&p->hs, sizeof p->hs);
	sodium_memzero(&p->txs, sizeof p->txs);
	sodium_memzero(&p->rxs, sizeof p->rxs);
	free(p);
}

static void peer_close(peer *p)
{
	p->state = C_CLOSING;
	if (p->close_called) return;
	p->close_called = true;
	uv_close((uv_handle_t *)&p->tcp, on_closed);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
	(void)status;
	peer_close(s->data);
}

static void peer_release(peer *p)
{
	ssp_net *n = p->net;
	if (p->target >= 0 && n->targets[p->target].conn == p->id) n->targets[p->target].conn = 0;
	if (p->state == C_OPEN) {
		if (p->inbound)
			atomic_fetch_sub(&n->stats.inbound, 1);
		else
			atomic_fetch_sub(&n->stats.outbound, 1);
		atomic_fetch_sub(&n->stats.peers, 1);
	}
	n->echo_used &= ~p->echo_bit;
	p->echo_bit = 0;
	/* blocks asked of this peer are asked elsewhere */
	pthread_mutex_lock(&n->slock);
	for (size_t i = 0; i < SYNC_WIN; i++)
		if (n->win[i].st == S_REQUESTED && n->win[i].peer == p->id) n->win[i].st = S_EMPTY;
	pthread_mutex_unlock(&n->slock);
	net_txq_peer_gone(p); /* and the txids it announced, to another announcer */
}

/*
 * Ends a connection: tells an authenticated peer why (code, reason), lets
 * queued writes finish, then closes. Safe to call twice.
 */
void net_peer_drop(peer *p, uint16_t code, const char *reason)
{
	if (p->state == C_CLOSING) return;
	char a[80];
	peer_str(a, sizeof a, p);
	SSP_LOGI(LOG, "peer %llu (%s, %s) disconnected: %s", (unsigned long long)p->id, a,
	         p->inbound ? "in" : "out", reason);
	atomic_fetch_add(&p->net->stats.disconnects, 1);
	if (p->state >= C_HELLO && code && p->sendq + 1024 < SENDQ_MAX && !p->net->stopping) {
		ssp_buf b;
		ssp_buf_init(&b, 512);
		net_disconnect_encode(&b, code, reason);
		(void)net_send_buf(p, NET_DISCONNECT, &b);
	}
	peer_release(p);
	p->state = C_CLOSING;
	p->drop_ms = ssp_now_ms();
	uv_read_stop((uv_stream_t *)&p->tcp);
	p->sreq.data = p;
	/* queued writes (the reason) go out first; on_tick closes what takes too long */
	if (p->net->stopping || uv_shutdown(&p->sreq, (uv_stream_t *)&p->tcp, on_shutdown))
		peer_close(p);
}

/* Adds misbehaviour points; at SCORE_BAN the peer is banned for a while and dropped. */
void net_misbehave(peer *p, int points, const char *why)
{
	if (p->state == C_CLOSING) return;
	p->score += points;
	SSP_LOGW(LOG, "peer %llu misbehaved (+%d = %d): %s", (unsigned long long)p->id, points,
	         p->score, why);
	if (p->score < SCORE_BAN) return;
	if (p->state == C_OPEN) ban_add(p->net, p->node_pk, ssp_now_ms());
	char r[NET_REASON_MAX + 1];
	snprintf(r, sizeof r, "misbehaviour: %s", why);
	net_peer_drop(p, 2, r);
}

/* ------------------------------------------------------------ handshake */

static void local_hello(ssp_net *n, peer *p, net_hello *h)
{
	memset(h, 0, sizeof *h);
	memcpy(h->node_pk, n->pk, 32);
	h->version = SSP_NET_PROTOCOL;
	snprintf(h->chain_id, sizeof h->chain_id, "%s", n->chain_id);
	h->genesis = n->genesis;
	n->cfg.head(n->cfg.ctx, &h->head);
	h->listen_port = n->listen_port;
	(void)p;
}

/* After the peer's prelude: keys, our stream header and our HELLO. */
static int hs_step_prelude(peer *p, const uint8_t *pre)
{
	ssp_net *n = p->net;
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	net_hello h;
	ssp_buf b;
	int rc = net_hs_prelude(&p->hs, pre);
	if (rc) return rc;
	crypto_secretstream_xchacha20poly1305_init_push(&p->txs, hdr, p->hs.tx);
	if ((rc = send_raw(p, hdr, sizeof hdr))) return rc;
	p->state = C_SSHDR;
	local_hello(n, p, &h);
	if ((rc = net_hs_sign_hello(&h, &p->hs, n->sk))) return rc;
	ssp_buf_init(&b, 1024);
	net_hello_encode(&b, &h);
	p->state = C_HELLO; /* net_send_frame needs it; reading still waits for the stream header */
	rc = net_send_buf(p, NET_HELLO, &b);
	p->state = C_SSHDR;
	return rc;
}

static void send_announce(peer *p, const ssp_net_head *h)
{
	ssp_buf b;
	ssp_buf_init(&b, 128);
	net_announce_encode(&b, h);
	(void)net_send_buf(p, NET_ANNOUNCE, &b);
}

static bool head_plausible(ssp_net *n, const ssp_net_head *h)
{
	/* one block per slot at most, and never more than a few seconds ahead */
	uint64_t now_slot = ssp_chain_slot_at(n->cfg.chain, ssp_now_ms() + 5000);
	return h->height <= h->slot + 1 && h->slot <= now_slot;
}

static void on_hello(peer *p, const uint8_t *pt, size_t len)
{
	ssp_net *n = p->net;
	net_hello h;
	char why[160];
	uint64_t now = ssp_now_ms();
	if (net_hello_decode(&h, pt, len)) {
		atomic_fetch_add(&n->stats.handshakes_failed, 1);
		net_peer_drop(p, 1, "malformed hello");
		return;
	}
	if (net_hs_check_hello(&h, &p->hs)) {
		atomic_fetch_add(&n->stats.handshakes_failed, 1);
		net_peer_drop(p, 1, "hello signature does not verify");
		return;
	}
	memcpy(p->node_pk, h.node_pk, 32);
	why[0] = 0;
	if (!memcmp(h.node_pk, n->pk, 32)) {
		if (p->target >= 0) n->targets[p->target].self = true;
		snprintf(why, sizeof why, "connected to self");
	} else if (h.version != SSP_NET_PROTOCOL) {
		snprintf(why, sizeof why, "protocol version %u, this node speaks %u", h.version,
		         SSP_NET_PROTOCOL);
	} else if (strcmp(h.chain_id, n->chain_id)) {
		snprintf(why, sizeof why, "wrong chain id %s (this node is on %s)", h.chain_id,
		         n->chain_id);
	} else if (memcmp(h.genesis.b, n->genesis.b, 32)) {
		snprintf(why, sizeof why, "wrong genesis hash");
	} else if (!head_plausible(n, &h.head)) {
		snprintf(why, sizeof why, "impossible head (height %llu, slot %llu)",
		         (unsigned long long)h.head.height, (unsigned long long)h.head.slot);
	} else if (banned(n, h.node_pk, now)) {
		snprintf(why, sizeof why, "banned for misbehaviour");
	}
	if (why[0]) {
		atomic_fetch_add(&n->stats.handshakes_failed, 1);
		net_peer_drop(p, 1, why);
		return;
	}
	/* one connection per node pair: keep the one the smaller node key initiated */
	for (peer *q = n->peers; q; q = q->next) {
		if (q == p || q->state != C_OPEN || memcmp(q->node_pk, h.node_pk, 32)) continue;
		const uint8_t *ini_p = p->inbound ? p->node_pk : n->pk;
		const uint8_t *ini_q = q->inbound ? q->node_pk : n->pk;
		bool keep_p = memcmp(ini_p, ini_q, 32) < 0;
		if (p->target >= 0 && keep_p == false) n->targets[p->target].fails = 0;
		net_peer_drop(keep_p ? q : p, 4, "duplicate connection");
		if (!keep_p) return;
		break;
	}
	p->head = h.head;
	p->listen_port = h.listen_port;
	p->state = C_OPEN;
	if (~n->echo_used) { /* its bit for the producer's echo counts (64 peers have one) */
		p->echo_bit = ~n->echo_used & (n->echo_used + 1);
		n->echo_used |= p->echo_bit;
	}
	atomic_fetch_add(&n->stats.peers, 1);
	atomic_fetch_add(p->inbound ? &n->stats.inbound : &n->stats.outbound, 1);
	atomic_store(&n->heard, true);
	if (p->target >= 0) n->targets[p->target].fails = 0;
	if (p->inbound && p->listen_port) net_target_add(n, p->ip, p->listen_port, false);
	char a[80];
	peer_str(a, sizeof a, p);
	SSP_LOGI(LOG, "peer %llu (%s, %s) connected: height %llu", (unsigned long long)p->id, a,
	         p->inbound ? "in" : "out", (unsigned long long)h.head.height);
	ssp_buf b;
	ssp_buf_init(&b, 8);
	(void)net_send_buf(p, NET_GET_ADDR, &b);
	net_fork_check(p);
	net_sync_tick(n);
}

/* One decrypted message of an open connection. */
static void dispatch(peer *p, uint8_t type, const uint8_t *pt, size_t len)
{
	ssp_net *n = p->net;
	int rc = 0;
	switch (type) {
	case NET_PING:
	case NET_PONG: {
		uint64_t nonce;
		if ((rc = net_ping_decode(&nonce, pt, len))) break;
		if (type == NET_PING) {
			uint8_t b[8];
			ssp_le64_put(b, nonce);
			(void)net_send_frame(p, NET_PONG, b, 8);
		}
		break;
	}
	case NET_ANNOUNCE: {
		ssp_net_head h;
		if ((rc = net_announce_decode(&h, pt, len))) break;
		if (!head_plausible(n, &h)) {
			net_misbehave(p, SCORE_BAN, "impossible head announced");
			return;
		}
		p->head = h;
		net_fork_check(p);
		net_sync_tick(n);
		break;
	}
	case NET_GET_BLOCKS: {
		net_get_blocks g;
		if (!(rc = net_get_blocks_decode(&g, pt, len))) net_on_get_blocks(p, &g);
		break;
	}
	case NET_BLOCK: net_on_block(p, pt, len); break;
	case NET_INV:
	case NET_GET_TX: {
		net_inv v;
		if ((rc = net_inv_decode(&v, pt, len))) break;
		if (type == NET_INV)
			net_on_inv(p, &v);
		else
			net_on_get_tx(p, &v);
		break;
	}
	case NET_TX: net_on_tx(p, pt, len); break;
	case NET_VOTE: net_on_vote(p, pt, len); break;
	case NET_GET_ADDR:
		if (!(rc = net_empty_decode(pt, len))) net_on_get_addr(p);
		break;
	case NET_ADDR: {
		net_addr a[NET_ADDR_MAX];
		uint32_t k;
		if (!(rc = net_addr_decode(a, &k, pt, len))) net_on_addr(p, a, k);
		break;
	}
	case NET_DISCONNECT: {
		net_disconnect d;
		if ((rc = net_disconnect_decode(&d, pt, len))) break;
		char r[NET_REASON_MAX + 32];
		snprintf(r, sizeof r, "peer said: %s", d.reason);
		net_peer_drop(p, 0, r);
		return;
	}
	case NET_HELLO: rc = SSP_ERR_DECODE; break; /* only once, first */
	default: rc = SSP_ERR_DECODE;
	}
	if (rc) {
		char w[96];
		snprintf(w, sizeof w, "malformed message type %u: %s", type, ssp_strerror(rc));
		net_misbehave(p, SCORE_BAN, w);
	}
}

/* --------------------------------------------------------------- reading */

static size_t rbuf_max(ssp_net *n)
{
	return NET_FRAME_HDR + n->max_block + NET_ABYTES + READ_CHUNK;
}

/* Consumes complete units from p->rbuf; returns false once the peer is being dropped. */
static bool process(peer *p)
{
	ssp_net *n = p->net;
	size_t off = 0;
	while (p->state != C_CLOSING) {
		size_t avail = p->rlen - off;
		const uint8_t *d = p->rbuf + off;
		if (p->state == C_PRELUDE) {
			if (avail < NET_PRELUDE_LEN) break;
			if (hs_step_prelude(p, d)) {
				atomic_fetch_add(&n->stats.handshakes_failed, 1);
				net_peer_drop(p, 0, "bad handshake prelude (not a Smartshare node?)");
				break;
			}
			off += NET_PRELUDE_LEN;
		} else if (p->state == C_SSHDR) {
			if (avail < crypto_secretstream_xchacha20poly1305_HEADERBYTES) break;
			if (crypto_secretstream_xchacha20poly1305_init_pull(&p->rxs, d, p->hs.rx)) {
				net_peer_drop(p, 0, "bad stream header");
				break;
			}
			sodium_memzero(p->hs.rx, sizeof p->hs.rx);
			sodium_memzero(p->hs.tx, sizeof p->hs.tx);
			off += crypto_secretstream_xchacha20poly1305_HEADERBYTES;
			p->state = C_HELLO;
		} else {
			size_t clen;
			uint8_t type;
			if (avail < NET_FRAME_HDR) break;
			int rc = net_frame_check(d, n->max_block, &clen, &type);
			if (rc || (p->state == C_HELLO && type != NET_HELLO)) {
				char w[96];
				snprintf(w, sizeof w, "bad frame (type %u): %s", type,
				         rc ? ssp_strerror(rc) : "expected hello");
				if (p->state == C_HELLO) {
					atomic_fetch_add(&n->stats.handshakes_failed, 1);
					net_peer_drop(p, 1, w);
				} else {
					net_misbehave(p, SCORE_BAN, w);
				}
				break;
			}
			if (avail < NET_FRAME_HDR + clen) break;
			uint8_t *pt = malloc(clen);
			unsigned long long plen;
			unsigned char tag;
			if (!pt) {
				net_peer_drop(p, 0, "out of memory");
				break;
			}
			if (crypto_secretstream_xchacha20poly1305_pull(&p->rxs, pt, &plen, &tag,
			                                               d + NET_FRAME_HDR, clen, d,
			                                               NET_FRAME_HDR) ||
			    tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
				free(pt);
				if (p->state == C_HELLO)
					net_peer_drop(p, 0, "frame does not decrypt");
				else
					net_misbehave(p, SCORE_BAN, "frame does not decrypt");
				break;
			}
			off += NET_FRAME_HDR + clen;
			uint64_t now = ssp_now_ms();
			if (now - p->win_start_ms >= 1000) {
				p->win_start_ms = now;
				p->win_frames = 0;
			}
			if (++p->win_frames > FRAMES_PER_S) {
				free(pt);
				net_misbehave(p, SCORE_BAN, "message flood");
				break;
			}
			if (p->state == C_HELLO)
				on_hello(p, pt, (size_t)plen);
			else
				dispatch(p, type, pt, (size_t)plen);
			free(pt);
		}
	}
	if (p->state == C_CLOSING) return false;
	memmove(p->rbuf, p->rbuf + off, p->rlen - off);
	p->rlen -= off;
	return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	peer *p = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)p->net->scratch, READ_CHUNK);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	peer *p = s->data;
	ssp_net *n = p->net;
	if (nread < 0) {
		net_peer_drop(p, 0, nread == UV_EOF ? "connection closed" : uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || p->state == C_CLOSING) return;
	p->bytes_in += (uint64_t)nread;
	atomic_fetch_add(&n->stats.bytes_in, (uint64_t)nread);
	p->last_recv_ms = ssp_now_ms();
	if (p->rlen + (size_t)nread > rbuf_max(n)) {
		net_misbehave(p, SCORE_BAN, "receive buffer overflow");
		return;
	}
	if (p->rlen + (size_t)nread > p->rcap) {
		size_t cap = p->rcap ? p->rcap : 4096;
		while (cap < p->rlen + (size_t)nread)
			cap *= 2;
		uint8_t *nb = realloc(p->rbuf, cap);
		if (!nb) {
			net_peer_drop(p, 0, "out of memory");
			return;
		}
		p->rbuf = nb;
		p->rcap = cap;
	}
	memcpy(p->rbuf + p->rlen, buf->base, (size_t)nread);
	p->rlen += (size_t)nread;
	if (process(p) && p->rcap > 1u << 20 && p->rlen < 4096) {
		/* a big block went through: give the memory back */
		uint8_t *nb = realloc(p->rbuf, 4096);
		if (nb) {
			p->rbuf = nb;
			p->rcap = 4096;
		}
	}
}

/* ------------------------------------------------------------ connecting */

static peer *peer_new(ssp_net *n, bool inbound)
{
	peer *p = calloc(1, sizeof *p);
	if (!p) return NULL;
	p->net = n;
	p->id = ++n->next_id;
	p->inbound = inbound;
	p->state = C_PRELUDE;
	p->target = -1;
	p->start_ms = p->last_recv_ms = p->last_ping_ms = ssp_now_ms();
	uv_tcp_init(n->loop, &p->tcp);
	p->tcp.data = p;
	p->next = n->peers;
	n->peers = p;
	net_hs_init(&p->hs, !inbound);
	return p;
}

static void start_session(peer *p)
{
	uv_tcp_nodelay(&p->tcp, 1);
	if (uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read) ||
	    send_raw(p, p->hs.mine, NET_PRELUDE_LEN))
		net_peer_drop(p, 0, "cannot start the session");
}

static void on_connect(uv_connect_t *req, int status)
{
	peer *p = req->data;
	if (p->state == C_CLOSING) return;
	if (status) {
		ssp_net *n = p->net;
		if (p->target >= 0) {
			target *t = &n->targets[p->target];
			t->fails++;
			uint64_t back = 1000u << (t->fails < 5 ? t->fails : 5);
			t->next_try_ms = ssp_now_ms() + back;
		}
		SSP_LOGD(LOG, "connect failed: %s", uv_strerror(status));
		peer_release(p);
		peer_close(p);
		return;
	}
	start_session(p);
}

static void connect_target(ssp_net *n, int ti)
{
	target *t = &n->targets[ti];
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(t->port),
	                         .sin_addr.s_addr = htonl(t->ip)};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(t->port)};
	memcpy(&sa6.sin6_addr, t->ip6, 16);
	peer *p = peer_new(n, false);
	if (!p) return;
	p->ip = t->v6 ? 0 : t->ip;
	p->v6 = t->v6;
	memcpy(p->ip6, t->ip6, 16);
	p->port = t->port;
	p->target = ti;
	t->conn = p->id;
	t->next_try_ms = ssp_now_ms() + 2000;
	p->creq.data = p;
	if (uv_tcp_connect(&p->creq, &p->tcp,
	                   t->v6 ? (const struct sockaddr *)&sa6 : (const struct sockaddr *)&sa,
	                   on_connect)) {
		t->conn = 0;
		peer_close(p);
	}
}

typedef struct {
	uv_getaddrinfo_t req;
	ssp_net *net;
	int ti;
} resolve_req;

/* A configured name resolved (on the loop): dial its first address, or back off. */
static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	resolve_req *r = (resolve_req *)req;
	ssp_net *n = r->net;
	target *t = &n->targets[r->ti];
	t->gai = NULL;
	const struct addrinfo *pick = NULL;
	for (const struct addrinfo *a = res; a && !status; a = a->ai_next) {
		if (a->ai_family == AF_INET) {
			pick = a;
			break; /* IPv4 first: the address book and ADDR speak IPv4 */
		}
		if (a->ai_family == AF_INET6 && !pick) pick = a;
	}
	if (!n->stopping && t->used) {
		if (!pick) {
			t->fails++;
			uint64_t back = 1000u << (t->fails < 5 ? t->fails : 5);
			t->next_try_ms = ssp_now_ms() + back;
			SSP_LOGW(LOG, "peer %s:%u: cannot resolve %s: %s (retrying in %llu s)", t->host,
			         t->port, t->host,
			         status ? uv_strerror(status) : "no IPv4 or IPv6 address",
			         (unsigned long long)(back / 1000));
		} else {
			if (pick->ai_family == AF_INET) {
				t->v6 = false;
				t->ip = ntohl(((const struct sockaddr_in *)pick->ai_addr)->sin_addr.s_addr);
			} else {
				t->v6 = true;
				t->ip = 0;
				memcpy(t->ip6, &((const struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, 16);
			}
			SSP_LOGD(LOG, "peer %s:%u resolved", t->host, t->port);
			connect_target(n, r->ti);
		}
	}
	uv_freeaddrinfo(res);
	free(r);
}

/* Dials a configured name: resolves it first, on every attempt (its address may move). */
static void resolve_target(ssp_net *n, int ti)
{
	target *t = &n->targets[ti];
	resolve_req *r = calloc(1, sizeof *r);
	if (!r) return;
	r->net = n;
	r->ti = ti;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	t->next_try_ms = ssp_now_ms() + 2000;
	int e = uv_getaddrinfo(n->loop, &r->req, on_resolved, t->host, NULL, &hints);
	if (e) {
		SSP_LOGW(LOG, "peer %s:%u: cannot resolve %s: %s", t->host, t->port, t->host,
		         uv_strerror(e));
		free(r);
		return;
	}
	t->gai = &r->req;
}

static void on_connection(uv_stream_t *srv, int status)
{
	ssp_net *n = srv->data;
	if (status) return;
	size_t inbound = 0, pending = 0;
	for (peer *q = n->peers; q; q = q->next) {
		if (q->state == C_CLOSING) continue;
		if (q->inbound) inbound++;
		if (q->state != C_OPEN) pending++;
	}
	peer *p = peer_new(n, true);
	if (!p) return;
	if (uv_accept(srv, (uv_stream_t *)&p->tcp)) {
		peer_close(p);
		return;
	}
	struct sockaddr_storage ss;
	int sl = sizeof ss;
	if (!uv_tcp_getpeername(&p->tcp, (struct sockaddr *)&ss, &sl) && ss.ss_family == AF_INET) {
		struct sockaddr_in *si = (struct sockaddr_in *)&ss;
		p->ip = ntohl(si->sin_addr.s_addr);
		p->port = ntohs(si->sin_port);
	}
	/* connection floods: caps on inbound peers and on handshakes in progress */
	if (inbound >= n->cfg.max_inbound || pending >= PENDING_HANDSHAKES) {
		SSP_LOGD(LOG, "inbound connection refused: %s",
		         inbound >= n->cfg.max_inbound ? "inbound cap" : "too many handshakes");
		peer_close(p);
		return;
	}
	start_session(p);
}

/* ---------------------------------------------------------------- timers */

static void on_fast(uv_timer_t *t)
{
	ssp_net *n = t->data;
	net_flush_inv(n);
	net_txq_tick(n);
	net_fork_requests(n);
	net_sync_tick(n);
}

/* t moved later by d, but never past now (the timeouts subtract it from now) */
static uint64_t later_by(uint64_t t, uint64_t d, uint64_t now)
{
	return t + d < now ? t + d : now;
}

static void on_tick(uv_timer_t *t)
{
	ssp_net *n = t->data;
	uint64_t now = ssp_now_ms();
	size_t outbound = 0;
	if (n->last_tick_ms && now - n->last_tick_ms > LOOP_STALL_MS) {
		/* the loop stalled (a slow fsync on a loaded disk, swapping): it read and
		 * wrote nothing for anyone meanwhile, so the time lost is no peer's silence
		 * or slowness; its timeouts move on by that much */
		uint64_t lost = now - n->last_tick_ms - 1000;
		SSP_LOGW(LOG, "event loop stalled for %llu ms: peer timeouts extended",
		         (unsigned long long)lost);
		for (peer *p = n->peers; p; p = p->next) {
			p->start_ms = later_by(p->start_ms, lost, now);
			p->last_recv_ms = later_by(p->last_recv_ms, lost, now);
			p->sendq_progress_ms = later_by(p->sendq_progress_ms, lost, now);
		}
	}
	n->last_tick_ms = now;
	for (peer *p = n->peers, *next; p; p = next) {
		next = p->next;
		if (p->state == C_CLOSING) {
			if (!p->close_called && now - p->drop_ms > 2000) peer_close(p);
			continue;
		}
		if (!p->inbound) outbound++;
		if (p->state != C_OPEN && now - p->start_ms > HANDSHAKE_MS) {
			atomic_fetch_add(&n->stats.handshakes_failed, 1);
			net_peer_drop(p, 0, "handshake timeout");
		} else if (p->state == C_OPEN && now - p->last_recv_ms > IDLE_MS) {
			net_peer_drop(p, 5, "idle timeout");
		} else if (p->sendq >= SERVE_SENDQ / 2 && now - p->sendq_progress_ms > STALL_MS) {
			/* serving stops at SERVE_SENDQ and resumes only below half of it, so requests
			 * alone never reach SENDQ_MAX: a peer that reads nothing for this long with
			 * that much queued is dropped all the same (a check at SERVE_SENDQ itself
			 * missed a peer that read a little after serving stopped and then nothing:
			 * its queue sat between the two marks, never served, never dropped) */
			char w[96];
			snprintf(w, sizeof w, "slow reader: %zu KiB queued, nothing read for %d s",
			         p->sendq >> 10, STALL_MS / 1000);
			net_peer_drop(p, 3, w);
		} else if (p->state == C_OPEN && now - p->last_ping_ms > PING_MS) {
			uint8_t b[8];
			ssp_le64_put(b, now);
			p->last_ping_ms = now;
			(void)net_send_frame(p, NET_PING, b, 8);
			if (p->score > 0) p->score--;
		}
	}
	/* keep configured peers connected; fill up from the address book */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < MAX_TARGETS && outbound < n->cfg.max_outbound; i++) {
			target *tg = &n->targets[i];
			if (!tg->used || tg->self || tg->conn || now < tg->next_try_ms) continue;
			if ((pass == 0) != tg->configured) continue;
			if (tg->gai) continue;                    /* being resolved */
			if (!tg->ip && !tg->v6 && !tg->host[0]) continue; /* no address */
			bool connected = false; /* an inbound connection from that node may exist */
			for (peer *p = n->peers; p; p = p->next)
				if (p->state == C_OPEN && p->listen_port == tg->port &&
				    (tg->v6 ? p->v6 && !memcmp(p->ip6, tg->ip6, 16)
				            : tg->ip && p->ip == tg->ip))
					connected = true;
			if (connected) continue;
			if (tg->host[0])
				resolve_target(n, (int)i); /* named: resolved again on every dial */
			else
				connect_target(n, (int)i);
			outbound++;
		}
	/* the queue of penalties from the chain thread */
	pthread_mutex_lock(&n->slock);
	size_t np = n->npenalties;
	penalty pen[16];
	memcpy(pen, n->penalties, np * sizeof *pen);
	n->npenalties = 0;
	pthread_mutex_unlock(&n->slock);
	for (size_t i = 0; i < np; i++) {
		peer *p = net_peer_by_id(n, pen[i].peer);
		char w[96];
		snprintf(w, sizeof w, "%s: %s", pen[i].vote ? "invalid vote" : "block refused",
		         ssp_strerror(pen[i].err));
		if (p) net_misbehave(p, SCORE_BAN, w); /* an invalid block or vote */
	}
	if (++n->ticks % 10 == 0) net_book_save(n);
}

static void on_wake(uv_async_t *a)
{
	ssp_net *n = a->data;
	ssp_net_head h;
	net_retq_flush(n);
	net_votes_flush(n);
	n->cfg.head(n->cfg.ctx, &h);
	if (h.height != n->announced.height || memcmp(h.id.b, n->announced.id.b, 32)) {
		n->announced = h;
		/* peers below us, and peers at our height on another branch (for their fork choice) */
		for (peer *p = n->peers; p; p = p->next)
			if (p->state == C_OPEN &&
			    (p->head.height < h.height || p->head.finalized < h.finalized ||
			     (p->head.height == h.height && memcmp(p->head.id.b, h.id.b, 32))))
				send_announce(p, &h);
	}
	pthread_mutex_lock(&n->slock);
	bool pen = n->npenalties > 0;
	pthread_mutex_unlock(&n->slock);
	if (pen) on_tick(&n->tick);
	net_fork_requests(n);
	/* a new head of ours may now tie with a peer's on another branch */
	for (peer *p = n->peers; p; p = p->next)
		if (p->state == C_OPEN) net_fork_check(p);
	net_sync_tick(n);
}

/* ------------------------------------------------------------- lifecycle */

static int load_node_key(ssp_net *n, const char *dir, char *why, size_t wl)
{
	char path[1100], hex[129];
	uint8_t seed[32];
	int rc = 0;
	snprintf(path, sizeof path, "%s/node.key", dir);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t k = fread(hex, 1, 64, f);
		fclose(f);
		if (k != 64 || ssp_hex_decode(seed, 32, hex, 64)) {
			snprintf(why, wl, "%s is not a node key (64 hex digits)", path);
			return SSP_ERR_KEYSTORE;
		}
	} else {
		randombytes_buf(seed, 32);
		ssp_hex_encode(hex, seed, 32);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1 || fsync(fd)) {
			snprintf(why, wl, "cannot write %s: %s", path, strerror(errno));
			rc = SSP_ERR_IO;
		}
		if (fd >= 0) close(fd);
	}
	if (!rc) crypto_sign_seed_keypair(n->pk, n->sk, seed);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int ssp_net_start(ssp_net **out, uv_loop_t *loop, const ssp_net_config *cfg, char *why,
                  size_t whylen)
{
	int rc;
	*out = NULL;
	ssp_net *n = calloc(1, sizeof *n);
	if (!n) return SSP_ERR_NOMEM;
	n->cfg = *cfg;
	n->cfg.peers = NULL;
	if (!n->cfg.max_inbound) n->cfg.max_inbound = 32;
	if (!n->cfg.max_outbound) n->cfg.max_outbound = 8;
	n->loop = loop;
	n->start_ms = ssp_now_ms();
	/* recursive: dropping a peer (peer_release) may happen while net_sync_tick holds it */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&n->slock, &ma);
	pthread_mutexattr_destroy(&ma);
	const ssp_genesis *g = ssp_chain_genesis(cfg->chain);
	snprintf(n->chain_id, sizeof n->chain_id, "%s", ssp_genesis_chain_id(g));
	n->genesis = *ssp_genesis_hash(g);
	n->max_block = ssp_genesis_params(g)->max_block_bytes;
	snprintf(n->book_path, sizeof n->book_path, "%s/peers.txt", cfg->datadir);
	if ((rc = load_node_key(n, cfg->datadir, why, whylen))) {
		pthread_mutex_destroy(&n->slock);
		free(n);
		return rc;
	}
	for (size_t i = 0; i < cfg->npeers; i++) {
		uint32_t ip;
		uint16_t port;
		char host[HOST_MAX];
		if (net_parse_peer(cfg->peers[i], &ip, host, &port)) {
			snprintf(why, whylen,
			         "bad --peer %s: want HOST:PORT (a DNS name, IPv4 address or [IPv6] "
			         "address, and a port 1..65535)",
			         cfg->peers[i]);
			pthread_mutex_destroy(&n->slock);
			free(n);
			return SSP_ERR_INVAL;
		}
		if (host[0])
			net_target_add_host(n, host, port);
		else
			net_target_add(n, ip, port, true);
	}
	net_book_load(n);
	uv_timer_init(loop, &n->tick);
	uv_timer_init(loop, &n->fast);
	uv_async_init(loop, &n->wake, on_wake);
	uv_check_init(loop, &n->chk_flush);
	n->tick.data = n->fast.data = n->wake.data = n->chk_flush.data = n;
	uv_check_start(&n->chk_flush, net_chk_flush);
	*out = n;
	if (cfg->listen && cfg->listen[0]) {
		uint32_t ip;
		uint16_t port;
		if (net_parse_hostport(cfg->listen, &ip, &port)) {
			snprintf(why, whylen, "bad --p2p-listen %s: want ADDR:PORT", cfg->listen);
			return SSP_ERR_INVAL;
		}
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(port),
		                         .sin_addr.s_addr = htonl(ip)};
		uv_tcp_init(loop, &n->listener);
		n->listener.data = n;
		n->listening = true;
		int e = uv_tcp_bind(&n->listener, (const struct sockaddr *)&sa, 0);
		if (!e) e = uv_listen((uv_stream_t *)&n->listener, 128, on_connection);
		if (e) {
			snprintf(why, whylen, "cannot listen for peers on %s: %s", cfg->listen,
			         uv_strerror(e));
			return SSP_ERR_IO;
		}
		struct sockaddr_storage ss;
		int sl = sizeof ss;
		uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &sl);
		n->listen_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		n->listen_ip = ip;
		net_ip_str(n->listen_str, sizeof n->listen_str, ip, n->listen_port);
	}
	uv_timer_start(&n->tick, on_tick, 10, 1000);
	uv_timer_start(&n->fast, on_fast, 50, 50);
	char hex[65];
	ssp_hex_encode(hex, n->pk, 32);
	SSP_LOGI(LOG, "node id %.16s…, p2p %s, %zu configured peers", hex,
	         n->listen_str[0] ? n->listen_str : "(not listening)", cfg->npeers);
	return 0;
}

static void noop_close(uv_handle_t *h)
{
	(void)h;
}

void ssp_net_stop(ssp_net *n)
{
	if (!n || n->stopping) return;
	n->stopping = true;
	n->book_dirty = true;
	net_book_save(n);
	pthread_mutex_lock(&n->slock);
	n->closed = true;
	pthread_mutex_unlock(&n->slock);
	uv_close((uv_handle_t *)&n->wake, noop_close);
	uv_close((uv_handle_t *)&n->tick, noop_close);
	uv_close((uv_handle_t *)&n->fast, noop_close);
	uv_close((uv_handle_t *)&n->chk_flush, noop_close);
	net_chk_stop(n); /* the jobs on the pool end in their after-work, admitting nothing */
	if (n->listening) uv_close((uv_handle_t *)&n->listener, noop_close);
	for (size_t i = 0; i < MAX_TARGETS; i++) /* on_resolved frees them */
		if (n->targets[i].gai) (void)uv_cancel((uv_req_t *)n->targets[i].gai);
	for (peer *p = n->peers; p; p = p->next) {
		if (p->state != C_CLOSING) net_peer_drop(p, 6, "node shutting down");
		peer_close(p); /* a pending shutdown is cancelled */
	}
}

void ssp_net_free(ssp_net *n)
{
	if (!n) return;
	for (size_t i = 0; i < SYNC_WIN; i++)
		free(n->win[i].raw);
	for (size_t i = 0; i < n->nfinbox; i++)
		free(n->finbox[i].raw);
	for (int i = 0; i < 2; i++) {
		net_tmap_clear(&n->seen[i]);
		net_tmap_clear(&n->cache[i]);
	}
	net_txq_free(n);
	net_retq_free(n);
	net_votes_free(n);
	pthread_mutex_destroy(&n->slock);
	sodium_memzero(n->sk, sizeof n->sk);
	free(n);
}

ssp_net_stats *ssp_net_stats_get(ssp_net *n)
{
	return &n->stats;
}

json_t *ssp_net_info_json(ssp_net *n)
{
	char hex[65];
	ssp_net_head h;
	ssp_hex_encode(hex, n->pk, 32);
	n->cfg.head(n->cfg.ctx, &h);
	uint64_t best = atomic_load(&n->stats.best_height);
	bool synced = ssp_net_synced(n, h.height);
	return json_pack("{s:s, s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:I}", "node_id", hex, "listen",
	                 n->listen_str, "protocol", SSP_NET_PROTOCOL, "sync",
	                 synced ? "synced" : "syncing", "height", (json_int_t)h.height,
	                 "best_peer_height", (json_int_t)best, "lag",
	                 (json_int_t)(best > h.height ? best - h.height : 0), "peers",
	                 (json_int_t)atomic_load(&n->stats.peers), "bans",
	                 (json_int_t)atomic_load(&n->stats.bans));
}

json_t *ssp_net_peers_json(ssp_net *n)
{
	json_t *a = json_array();
	for (peer *p = n->peers; p && a; p = p->next) {
		if (p->state != C_OPEN) continue;
		char hex[65], addr[80];
		ssp_hex_encode(hex, p->node_pk, 32);
		peer_str(addr, sizeof addr, p);
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:I}", "id", hex, "address",
		                 addr, "direction", p->inbound ? "in" : "out", "height",
		                 (json_int_t)p->head.height, "finalized",
		                 (json_int_t)p->head.finalized, "bytes_in", (json_int_t)p->bytes_in,
		                 "bytes_out", (json_int_t)p->bytes_out, "score", p->score,
		                 "listen_port", (json_int_t)p->listen_port));
	}
	return a;
}
