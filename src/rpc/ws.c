/*
 * ws.c — WebSocket subscriptions on the RPC port (rpc layer). server.c
 * answers GET /ws with libmicrohttpd's HTTP upgrade (101) and hands the
 * socket here; from then on one thread with epoll owns every WebSocket:
 * it parses RFC 6455 frames (client frames masked, control frames short,
 * messages capped), answers JSON-RPC `subscribe`/`unsubscribe`, pings and
 * close frames, and writes what publishers queued. Publishers (the node's
 * threads) call ssp_rpc_publish: under one lock each matching
 * subscription's notification is appended to its connection's queue, which
 * is bounded — a client that does not read is dropped, never buffered
 * without bound. Topics and their filter keys come from the config; the
 * layer knows nothing of the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/server_internal.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_IN_MAX (WS_MAX_MSG + 14) /* one frame's header and payload */
#define WS_SNDBUF (64 << 10)        /* kernel send buffer per socket: the queue bounds the rest */

enum { OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* Close codes (RFC 6455 §7.4.1). */
enum { WS_NORMAL = 1000, WS_PROTOCOL = 1002, WS_DATA = 1003, WS_POLICY = 1008, WS_TOO_BIG = 1009 };

struct chunk {
	struct chunk *next;
	size_t len, off;
	char data[];
};

struct sub {
	char id[17];
	const ssp_rpc_topic *topic;
	json_t *filter; /* object of string values, owned */
};

struct wsconn {
	struct ssp_rpc_ws *ws;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	uint8_t *in; /* WS_IN_MAX bytes: unparsed input */
	size_t inlen;
	char *msg; /* a fragmented text message being assembled */
	size_t msglen;
	bool in_msg;
	struct chunk *qhead, *qtail; /* frames to send */
	size_t qbytes, qcount;
	struct sub subs[WS_MAX_SUBS];
	size_t nsubs;
	bool closing; /* a close frame is queued: close once it is sent */
	bool drop;    /* close now (slow reader, protocol error) */
	bool pollout;
	struct wsconn *next;
};

struct ssp_rpc_ws {
	const ssp_rpc_config *cfg; /* the server's copy */
	pthread_mutex_t mu;        /* conns, their queues and subscriptions */
	struct wsconn *conns;
	size_t nconns;
	uint64_t next_id;
	int ep, wake;
	bool stop;
	pthread_t th;
	bool started;
	_Atomic unsigned long long dropped; /* slow readers closed */
};

/* ------------------------------------------------------------- handshake */

bool ssp_rpc_ws_accept_key(char out[29], const char *key)
{
	unsigned char dig[EVP_MAX_MD_SIZE], raw[32];
	unsigned dlen = 0;
	char buf[64 + sizeof(WS_GUID)];
	size_t klen = key ? strlen(key) : 0;

	/* the key is 16 random bytes in base64: 24 characters */
	if (klen != 24 || EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18) return false;
	memcpy(buf, key, klen);
	memcpy(buf + klen, WS_GUID, sizeof(WS_GUID));
	if (EVP_Digest(buf, klen + sizeof(WS_GUID) - 1, dig, &dlen, EVP_sha1(), NULL) != 1 ||
	    dlen != 20)
		return false;
	return EVP_EncodeBlock((unsigned char *)out, dig, 20) == 28;
}

/* --------------------------------------------------------------- sending */

/* Appends a frame (FIN, opcode) to c's queue; marks c to be dropped past the bounds. Locked. */
static void queue_frame(struct wsconn *c, int op, const char *p, size_t n)
{
	size_t hdr = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
	struct chunk *k;

	if (c->drop) return;
	if (c->qbytes + hdr + n > WS_QUEUE_BYTES || c->qcount >= WS_QUEUE_MSGS) {
		c->drop = true; /* a slow reader: dropped, never buffered without bound */
		atomic_fetch_add(&c->ws->dropped, 1);
		return;
	}
	k = malloc(sizeof(*k) + hdr + n);
	if (!k) {
		c->drop = true;
		return;
	}
	k->next = NULL;
	k->len = hdr + n;
	k->off = 0;
	k->data[0] = (char)(0x80 | op);
	if (hdr == 2) {
		k->data[1] = (char)n;
	} else if (hdr == 4) {
		k->data[1] = 126;
		k->data[2] = (char)(n >> 8);
		k->data[3] = (char)n;
	} else {
		k->data[1] = 127;
		for (int i = 0; i < 8; i++)
			k->data[2 + i] = (char)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(k->data + hdr, p, n);
	if (c->qtail)
		c->qtail->next = k;
	else
		c->qhead = k;
	c->qtail = k;
	c->qbytes += k->len;
	c->qcount++;
}

static void queue_close(struct wsconn *c, int code, const char *why)
{
	char p[125];
	size_t n = strlen(why) > 120 ? 120 : strlen(why);

	if (c->closing) return;
	p[0] = (char)(code >> 8);
	p[1] = (char)code;
	memcpy(p + 2, why, n);
	queue_frame(c, OP_CLOSE, p, n + 2);
	c->closing = true;
}

static void queue_json(struct wsconn *c, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);

	if (text)
		queue_frame(c, OP_TEXT, text, strlen(text));
	else
		c->drop = true;
	free(text);
	json_decref(j);
}

static void queue_error(struct wsconn *c, json_t *id, int code, const char *msg)
{
	queue_json(c, json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0", "error", "code", code,
	                        "message", msg, "id", id ? id : json_null()));
}

/* Writes what the socket takes. Locked. */
static void flush(struct wsconn *c)
{
	while (c->qhead && !c->drop) {
		struct chunk *k = c->qhead;
		ssize_t w = send(c->fd, k->data + k->off, k->len - k->off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			c->drop = true;
			break;
		}
		k->off += (size_t)w;
		if (k->off < k->len) continue;
		c->qhead = k->next;
		if (!c->qhead) c->qtail = NULL;
		c->qbytes -= k->len;
		c->qcount--;
		free(k);
	}
	if (c->closing && !c->qhead) c->drop = true; /* the close frame is out */
}

static void wake(ssp_rpc_ws *ws)
{
	uint64_t one = 1;
	ssize_t w = write(ws->wake, &one, sizeof(one));
	(void)w; /* a full counter still wakes the thread */
}

/* --------------------------------------------------------- subscriptions */

static const ssp_rpc_topic *find_topic(const ssp_rpc_ws *ws, const char *name)
{
	for (size_t i = 0; i < ws->cfg->ntopics; i++)
		if (strcmp(ws->cfg->topics[i].name, name) == 0) return &ws->cfg->topics[i];
	return NULL;
}

static bool filter_key_ok(const ssp_rpc_topic *t, const char *key)
{
	for (size_t i = 0; t->filters && t->filters[i]; i++)
		if (strcmp(t->filters[i], key) == 0) return true;
	return false;
}

/* subscribe {"topic": T, <filter key>: string …} → the subscription id. Locked. */
static void subscribe(ssp_rpc_ws *ws, struct wsconn *c, json_t *id, json_t *params)
{
	const char *key, *name = json_string_value(json_object_get(params, "topic"));
	const ssp_rpc_topic *t = name ? find_topic(ws, name) : NULL;
	json_t *v, *filter;
	char msg[160];
	struct sub *s;

	if (!t) {
		snprintf(msg, sizeof(msg),
		         "topic must be one of the topics in rpc.discover's "
		         "subscriptions (e.g. newHeads)");
		queue_error(c, id, SSP_RPC_INVALID_PARAMS, msg);
		return;
	}
	filter = json_object();
	if (!filter) {
		c->drop = true;
		return;
	}
	json_object_foreach(params, key, v)
	{
		if (strcmp(key, "topic") == 0) continue;
		if (!filter_key_ok(t, key) || !json_is_string(v)) {
			snprintf(msg, sizeof(msg),
			         "%s: '%.32s' is not a filter of this topic, or not a "
			         "string",
			         t->name, key);
			queue_error(c, id, SSP_RPC_INVALID_PARAMS, msg);
			json_decref(filter);
			return;
		}
		json_object_set(filter, key, v);
	}
	if (t->required && !json_object_get(filter, t->required)) {
		snprintf(msg, sizeof(msg), "%s needs \"%s\"", t->name, t->required);
		queue_error(c, id, SSP_RPC_INVALID_PARAMS, msg);
		json_decref(filter);
		return;
	}
	if (c->nsubs == WS_MAX_SUBS) {
		snprintf(msg, sizeof(msg), "subscription limit: %d per connection", WS_MAX_SUBS);
		queue_error(c, id, SSP_RPC_LIMIT, msg);
		json_decref(filter);
		return;
	}
	s = &c->subs[c->nsubs++];
	snprintf(s->id, sizeof(s->id), "%016llx", (unsigned long long)++ws->next_id);
	s->topic = t;
	s->filter = filter;
	queue_json(c, json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "result", s->id, "id", id));
}

static void unsubscribe(struct wsconn *c, json_t *id, json_t *params)
{
	const char *sid = json_string_value(json_object_get(params, "subscription"));
	bool found = false;

	for (size_t i = 0; sid && i < c->nsubs; i++) {
		if (strcmp(c->subs[i].id, sid) != 0) continue;
		json_decref(c->subs[i].filter);
		c->subs[i] = c->subs[--c->nsubs];
		found = true;
		break;
	}
	if (!sid)
		queue_error(c, id, SSP_RPC_INVALID_PARAMS, "subscription must be a string");
	else
		queue_json(
		    c, json_pack("{s:s, s:b, s:O}", "jsonrpc", "2.0", "result", found, "id", id));
}

/* One JSON-RPC message from a client. Locked. */
static void handle_message(ssp_rpc_ws *ws, struct wsconn *c, const char *text, size_t n)
{
	json_t *req = NULL, *id = NULL, *params;
	const char *method, *version;
	json_error_t je;
	char msg[200];

	if (!ssp_rpc_depth_ok(text, n, SSP_RPC_DEFAULT_MAX_DEPTH)) {
		queue_error(c, NULL, SSP_RPC_INVALID_REQUEST, "JSON nested too deeply");
		return;
	}
	req = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!req) {
		snprintf(msg, sizeof(msg), "Parse error: %s", je.text);
		queue_error(c, NULL, SSP_RPC_PARSE_ERROR, msg);
		return;
	}
	id = json_object_get(req, "id");
	if (!json_is_string(id) && !json_is_integer(id)) id = json_null();
	method = json_string_value(json_object_get(req, "method"));
	params = json_object_get(req, "params");
	version = json_string_value(json_object_get(req, "jsonrpc"));
	if (!json_is_object(req) || !method || !version || strcmp(version, "2.0") != 0) {
		queue_error(c, id, SSP_RPC_INVALID_REQUEST,
		            "a JSON-RPC 2.0 request object (batches are not served on /ws)");
	} else if (params && !json_is_object(params)) {
		queue_error(c, id, SSP_RPC_INVALID_PARAMS, "params must be an object");
	} else if (strcmp(method, "subscribe") == 0) {
		subscribe(ws, c, id, params);
	} else if (strcmp(method, "unsubscribe") == 0) {
		unsubscribe(c, id, params);
	} else {
		snprintf(msg, sizeof(msg),
		         "Method not found: %.64s (/ws serves subscribe and unsubscribe; other "
		         "methods are on POST /rpc)",
		         method);
		queue_error(c, id, SSP_RPC_METHOD_NOT_FOUND, msg);
	}
	json_decref(req);
}

/* ----------------------------------------------------------------- frames */

/*
 * Parses the frames in c->in. Returns after the buffer holds no complete
 * frame, or when the connection is to be closed. Locked.
 */
static void parse_frames(ssp_rpc_ws *ws, struct wsconn *c)
{
	size_t off = 0;

	while (!c->closing && !c->drop) {
		uint8_t *p = c->in + off;
		size_t avail = c->inlen - off, hdr = 2, len;
		int op, fin;

		if (avail < 2) break;
		fin = p[0] & 0x80;
		op = p[0] & 0x0f;
		if (p[0] & 0x70) {
			queue_close(c, WS_PROTOCOL, "reserved bits set");
			break;
		}
		if (!(p[1] & 0x80)) {
			queue_close(c, WS_PROTOCOL, "client frames must be masked");
			break;
		}
		len = p[1] & 0x7f;
		if (len == 126) {
			if (avail < 4) break;
			len = (size_t)p[2] << 8 | p[3];
			hdr = 4;
		} else if (len == 127) {
			if (avail < 10) break;
			if (p[2] & 0x80) {
				queue_close(c, WS_PROTOCOL, "bad length");
				break;
			}
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hdr = 10;
		}
		if (op >= OP_CLOSE && (len > 125 || !fin)) {
			queue_close(c, WS_PROTOCOL, "control frames are short and whole");
			break;
		}
		if (op != OP_CONT && op != OP_TEXT && op != OP_BIN && op != OP_CLOSE &&
		    op != OP_PING && op != OP_PONG) {
			queue_close(c, WS_PROTOCOL, "unknown opcode");
			break;
		}
		if (len > WS_MAX_MSG || (op == OP_CONT && c->msglen + len > WS_MAX_MSG)) {
			queue_close(c, WS_TOO_BIG, "message too big");
			break;
		}
		if (avail < hdr + 4 + len) break; /* the rest has not arrived */
		uint8_t *mask = p + hdr, *pl = p + hdr + 4;
		for (size_t i = 0; i < len; i++)
			pl[i] ^= mask[i & 3];
		off += hdr + 4 + len;
		switch (op) {
		case OP_PING:
			queue_frame(c, OP_PONG, (char *)pl, len);
			break;
		case OP_PONG:
			break;
		case OP_CLOSE:
			queue_close(c, WS_NORMAL, "bye");
			break;
		case OP_BIN:
			queue_close(c, WS_DATA, "text frames only (JSON-RPC)");
			break;
		case OP_TEXT:
			if (c->in_msg) {
				queue_close(c, WS_PROTOCOL,
				            "a new message inside a fragmented one");
				break;
			}
			if (fin) {
				handle_message(ws, c, (char *)pl, len);
				break;
			}
			c->in_msg = true;
			__attribute__((fallthrough)); /* the first fragment */
		case OP_CONT:
			if (!c->in_msg) {
				queue_close(c, WS_PROTOCOL, "continuation without a message");
				break;
			}
			if (!c->msg && !(c->msg = malloc(WS_MAX_MSG))) {
				c->drop = true;
				break;
			}
			memcpy(c->msg + c->msglen, pl, len);
			c->msglen += len;
			if (fin) {
				handle_message(ws, c, c->msg, c->msglen);
				c->msglen = 0;
				c->in_msg = false;
			}
			break;
		}
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static void read_conn(ssp_rpc_ws *ws, struct wsconn *c)
{
	for (;;) {
		ssize_t r;
		if (c->inlen == WS_IN_MAX) { /* a frame announced beyond the limit was refused */
			c->drop = true;
			return;
		}
		r = recv(c->fd, c->in + c->inlen, WS_IN_MAX - c->inlen, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
		if (r <= 0) {
			c->drop = true; /* closed or reset */
			return;
		}
		c->inlen += (size_t)r;
		parse_frames(ws, c);
		if (c->closing || c->drop) return;
	}
}

/* ----------------------------------------------------------- connections */

static void conn_free(struct wsconn *c)
{
	while (c->qhead) {
		struct chunk *k = c->qhead;
		c->qhead = k->next;
		free(k);
	}
	for (size_t i = 0; i < c->nsubs; i++)
		json_decref(c->subs[i].filter);
	free(c->in);
	free(c->msg);
	/* MHD closes the socket (and reports the connection closed) */
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(c);
}

/* Unlinks and frees the connections marked to drop. Locked. */
static void reap(ssp_rpc_ws *ws)
{
	struct wsconn **pp = &ws->conns, *c;

	while ((c = *pp)) {
		if (!c->drop) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		ws->nconns--;
		epoll_ctl(ws->ep, EPOLL_CTL_DEL, c->fd, NULL);
		conn_free(c);
	}
}

static void *ws_main(void *arg)
{
	ssp_rpc_ws *ws = arg;
	struct epoll_event ev[64];
	int n;

	for (;;) {
		n = epoll_wait(ws->ep, ev, 64, 1000);
		pthread_mutex_lock(&ws->mu);
		if (ws->stop) {
			pthread_mutex_unlock(&ws->mu);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct wsconn *c = ev[i].data.ptr;
			uint64_t cnt;
			if (!c) { /* the wake-up eventfd */
				ssize_t r = read(ws->wake, &cnt, sizeof(cnt));
				(void)r;
				continue;
			}
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_conn(ws, c);
		}
		for (struct wsconn *c = ws->conns; c; c = c->next) {
			flush(c);
			bool want = c->qhead != NULL;
			if (want != c->pollout && !c->drop) {
				struct epoll_event e = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
				                        .data.ptr = c};
				epoll_ctl(ws->ep, EPOLL_CTL_MOD, c->fd, &e);
				c->pollout = want;
			}
		}
		reap(ws);
		pthread_mutex_unlock(&ws->mu);
	}
	return NULL;
}

bool ssp_rpc_ws_full(ssp_rpc_ws *ws)
{
	bool full;

	pthread_mutex_lock(&ws->mu);
	full = ws->nconns >= WS_MAX_CONNS || ws->stop;
	pthread_mutex_unlock(&ws->mu);
	return full;
}

void ssp_rpc_ws_attach(ssp_rpc_ws *ws, int fd, const char *extra, size_t n, void *urh)
{
	struct wsconn *c = calloc(1, sizeof(*c));
	int sndbuf = WS_SNDBUF;
	struct epoll_event e = {.events = EPOLLIN};

	if (c) c->in = malloc(WS_IN_MAX);
	if (!c || !c->in || n > WS_IN_MAX) {
		if (c) free(c->in);
		free(c);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	c->ws = ws;
	c->fd = fd;
	c->urh = urh;
	memcpy(c->in, extra, n); /* bytes the client sent right after its handshake */
	c->inlen = n;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	e.data.ptr = c;
	pthread_mutex_lock(&ws->mu);
	if (ws->stop) { /* upgraded while the server stops: closed at once */
		pthread_mutex_unlock(&ws->mu);
		free(c->in);
		free(c);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	c->next = ws->conns;
	ws->conns = c;
	ws->nconns++;
	if (epoll_ctl(ws->ep, EPOLL_CTL_ADD, fd, &e)) c->drop = true;
	if (n) parse_frames(ws, c);
	pthread_mutex_unlock(&ws->mu);
	wake(ws);
}

/* ------------------------------------------------------------- publishing */

static bool matches(const struct sub *s, const json_t *event)
{
	const char *key;
	json_t *want;

	json_object_foreach(s->filter, key, want)
	{
		json_t *got = json_object_get(event, key);
		if (!json_is_string(got) ||
		    strcmp(json_string_value(got), json_string_value(want)) != 0)
			return false;
	}
	return true;
}

bool ssp_rpc_ws_subscribed(ssp_rpc_ws *ws, const char *topic)
{
	bool any = false;

	pthread_mutex_lock(&ws->mu);
	for (struct wsconn *c = ws->conns; c && !any; c = c->next)
		for (size_t i = 0; i < c->nsubs && !any; i++)
			any = strcmp(c->subs[i].topic->name, topic) == 0;
	pthread_mutex_unlock(&ws->mu);
	return any;
}

void ssp_rpc_ws_publish(ssp_rpc_ws *ws, const char *topic, const json_t *event)
{
	char *ev = json_dumps(event, JSON_COMPACT), *text = NULL;
	bool any = false;
	int n;

	if (!ev) return;
	pthread_mutex_lock(&ws->mu);
	for (struct wsconn *c = ws->conns; c; c = c->next)
		for (size_t i = 0; i < c->nsubs; i++) {
			struct sub *s = &c->subs[i];
			if (strcmp(s->topic->name, topic) != 0 || !matches(s, event)) continue;
			n = asprintf(&text,
			             "{\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":"
			             "{\"subscription\":\"%s\",\"topic\":\"%s\",\"result\":%s}}",
			             s->id, topic, ev);
			if (n < 0) {
				c->drop = true;
				continue;
			}
			queue_frame(c, OP_TEXT, text, (size_t)n);
			free(text);
			any = true;
		}
	pthread_mutex_unlock(&ws->mu);
	free(ev);
	if (any) wake(ws);
}

unsigned long long ssp_rpc_ws_count(ssp_rpc_ws *ws, unsigned long long *subs,
                                    unsigned long long *dropped)
{
	unsigned long long conns;

	pthread_mutex_lock(&ws->mu);
	conns = ws->nconns;
	*subs = 0;
	for (struct wsconn *c = ws->conns; c; c = c->next)
		*subs += c->nsubs;
	pthread_mutex_unlock(&ws->mu);
	*dropped = atomic_load(&ws->dropped);
	return conns;
}

/* ------------------------------------------------------------ life cycle */

int ssp_rpc_ws_new(ssp_rpc_ws **out, const ssp_rpc_config *cfg)
{
	ssp_rpc_ws *ws = calloc(1, sizeof(*ws));
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};

	*out = NULL;
	if (!ws) return SSP_ERR_NOMEM;
	ws->cfg = cfg;
	ws->ep = epoll_create1(EPOLL_CLOEXEC);
	ws->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&ws->mu, NULL);
	if (ws->ep < 0 || ws->wake < 0 || epoll_ctl(ws->ep, EPOLL_CTL_ADD, ws->wake, &e) ||
	    pthread_create(&ws->th, NULL, ws_main, ws)) {
		ssp_rpc_ws_free(ws);
		return SSP_ERR_IO;
	}
	ws->started = true;
	*out = ws;
	return 0;
}

void ssp_rpc_ws_stop(ssp_rpc_ws *ws)
{
	if (!ws) return;
	pthread_mutex_lock(&ws->mu);
	ws->stop = true;
	pthread_mutex_unlock(&ws->mu);
	if (ws->started) {
		wake(ws);
		pthread_join(ws->th, NULL);
		ws->started = false;
	}
	pthread_mutex_lock(&ws->mu);
	for (struct wsconn *c = ws->conns; c; c = c->next)
		c->drop = true;
	reap(ws);
	pthread_mutex_unlock(&ws->mu);
}

void ssp_rpc_ws_free(ssp_rpc_ws *ws)
{
	if (!ws) return;
	ssp_rpc_ws_stop(ws);
	if (ws->ep >= 0) close(ws->ep);
	if (ws->wake >= 0) close(ws->wake);
	pthread_mutex_destroy(&ws->mu);
	free(ws);
}
