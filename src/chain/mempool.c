/*
 * mempool.c — pending transactions (chain layer), owned by the node loop.
 *
 * Per sender, a queue of contiguous nonces starting at the account's next
 * nonce (a tx further ahead is NONCE_GAP; the wallet asks for
 * pending_nonce). Admission checks the stateful rules against committed
 * state plus what the sender already has pending, so a block built from
 * the pool rarely drops anything. Caps: total count, total bytes and per
 * sender; when full, a tx paying more over its minimum fee evicts the cheapest
 * tail (a tail, so no queue is left with a gap). Same sender and nonce
 * with a fee at least 10% higher replaces. Rejections are remembered for
 * tx_get in three bounded, hashed rings (oldest forgotten first), kept
 * apart by what it costs to fill them: txs dropped after they were
 * admitted (a fee-paying sender's txs), txs refused at admission by the
 * stateful rules, and submissions that failed decoding, the stateless
 * checks or their signature — free to make in any number, so they can
 * only evict each other. A sender whose tx the producer had to drop
 * because it passed the VM's node-local limits (VM_NODELIMIT: uncharged
 * work, so no fee was paid) is paused for MP_PAUSE_BLOCKS: its new txs get
 * PAUSED, so one funded account cannot make the producer redo that work
 * every block for free.
 *
 * Thread-safe: every public function takes the pool's mutex. The node
 * admits on its loop thread while blocks are built and committed on the
 * producer thread, which holds the lock only to copy candidates out
 * (ssp_mempool_take) and to reconcile after the commit.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "chain_internal.h"
#include "mempool_internal.h"
#include "state_internal.h"

struct mp_sender {
	ssp_addr addr;
	uint64_t base; /* nonce of q[0] */
	mp_entry **q;
	uint32_t len, cap;
	uint64_t cost; /* sum of pending costs */
	bool has_key;
	ssp_pubkey key;  /* from a pending tx that carried it */
	uint32_t cursor; /* select: next index */
	mp_sender *next; /* bucket chain */
};

/* A remembered rejection; chained per hash bucket by index + 1 (0 ends). */
typedef struct {
	ssp_hash txid;
	int err;
	uint32_t next;
	uint64_t seq; /* across the rings: the newest reason wins */
} rejected;

/* A ring of rejections with a hash index (newest first in each bucket). */
typedef struct {
	rejected *e;
	uint32_t *head; /* nb buckets */
	size_t cap, nb, n, pos;
} rejmem;

enum { REJ_DROPPED, REJ_REFUSED, REJ_INVALID, REJ_RINGS };

#define MP_PAUSE_BLOCKS 600 /* ~10 minutes at one block per second */
#define MP_PAUSE_MAX 1024   /* paused senders remembered (oldest forgotten first) */

typedef struct {
	ssp_addr addr;
	uint64_t until; /* paused while the pool's height is below this */
} paused;

struct ssp_mempool {
	pthread_mutex_t mu;
	uint64_t hold_ms; /* ssp_mempool_set_hold */
	uint32_t need;
	uint64_t height; /* the head as of the last reconciliation (expiry checks) */
	ssp_chain *c;
	ssp_mempool_opts o;
	mp_entry **tb; /* txid buckets */
	size_t ntb;
	mp_sender **sb; /* sender buckets */
	size_t nsb;
	size_t count, bytes, nsenders;
	uint64_t seq;
	rejmem rej[REJ_RINGS];
	uint64_t rejseq;
	paused pause[MP_PAUSE_MAX];
	size_t npause, pausepos;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

static uint64_t mono_ms(void)
{
	return ssp_mono_ns() / 1000000u;
}

static size_t hidx(const ssp_mempool *m, const void *k, size_t n, size_t nb)
{
	uint8_t h[8];
	crypto_shorthash(h, k, n, m->hkey);
	uint64_t v;
	memcpy(&v, h, 8);
	return v & (nb - 1);
}

static size_t pow2(size_t n)
{
	size_t p = 1024;
	while (p < n)
		p *= 2;
	return p;
}

static int rejmem_init(rejmem *r, size_t cap)
{
	if (cap > UINT32_MAX - 1) cap = UINT32_MAX - 1;
	r->cap = cap;
	r->nb = pow2(cap);
	r->e = ssp_calloc(cap, sizeof *r->e);
	r->head = ssp_calloc(r->nb, sizeof *r->head);
	return r->e && r->head ? 0 : SSP_ERR_NOMEM;
}

int ssp_mempool_new(ssp_mempool **out, ssp_chain *c, const ssp_mempool_opts *o)
{
	ssp_mempool *m = ssp_calloc(1, sizeof *m);
	if (!m) return SSP_ERR_NOMEM;
	m->c = c;
	m->o = *o;
	pthread_mutex_init(&m->mu, NULL);
	m->height = ssp_chain_head(c)->height;
	if (!m->o.max_count) m->o.max_count = 300000;
	if (!m->o.max_bytes) m->o.max_bytes = 128u << 20;
	if (!m->o.max_per_sender) m->o.max_per_sender = 4096;
	if (!m->o.rejected_memory) m->o.rejected_memory = 65536;
	if (!m->o.invalid_memory) m->o.invalid_memory = 16384;
	m->ntb = pow2(m->o.max_count);
	m->nsb = m->ntb;
	m->tb = ssp_calloc(m->ntb, sizeof *m->tb);
	m->sb = ssp_calloc(m->nsb, sizeof *m->sb);
	crypto_shorthash_keygen(m->hkey);
	int rc = rejmem_init(&m->rej[REJ_DROPPED], m->o.rejected_memory);
	if (!rc) rc = rejmem_init(&m->rej[REJ_REFUSED], m->o.rejected_memory);
	if (!rc) rc = rejmem_init(&m->rej[REJ_INVALID], m->o.invalid_memory);
	if (!m->tb || !m->sb || rc) {
		ssp_mempool_free(m);
		return SSP_ERR_NOMEM;
	}
	*out = m;
	return 0;
}

void ssp_mempool_free(ssp_mempool *m)
{
	if (!m) return;
	for (size_t i = 0; m->sb && i < m->nsb; i++) {
		mp_sender *s = m->sb[i];
		while (s) {
			mp_sender *n = s->next;
			for (uint32_t k = 0; k < s->len; k++) {
				free(s->q[k]->raw);
				free(s->q[k]);
			}
			free(s->q);
			free(s);
			s = n;
		}
	}
	free(m->sb);
	free(m->tb);
	for (int i = 0; i < REJ_RINGS; i++) {
		free(m->rej[i].e);
		free(m->rej[i].head);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static mp_entry *find_tx(const ssp_mempool *m, const ssp_hash *id)
{
	for (mp_entry *e = m->tb[hidx(m, id->b, 32, m->ntb)]; e; e = e->next)
		if (!memcmp(e->tx.txid.b, id->b, 32)) return e;
	return NULL;
}

static void unlink_tx(ssp_mempool *m, mp_entry *e)
{
	mp_entry **pp = &m->tb[hidx(m, e->tx.txid.b, 32, m->ntb)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) *pp = e->next;
	m->count--;
	m->bytes -= e->tx.raw_len;
}

static mp_sender *find_sender(ssp_mempool *m, const ssp_addr *a, int create)
{
	size_t h = hidx(m, a->b, SSP_ADDR_LEN, m->nsb);
	for (mp_sender *s = m->sb[h]; s; s = s->next)
		if (!memcmp(s->addr.b, a->b, SSP_ADDR_LEN)) return s;
	if (!create) return NULL;
	mp_sender *s = ssp_calloc(1, sizeof *s);
	if (!s) return NULL;
	s->addr = *a;
	s->next = m->sb[h];
	m->sb[h] = s;
	m->nsenders++;
	return s;
}

static void free_sender_if_empty(ssp_mempool *m, mp_sender *s)
{
	if (s->len) return;
	mp_sender **pp = &m->sb[hidx(m, s->addr.b, SSP_ADDR_LEN, m->nsb)];
	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp) *pp = s->next;
	free(s->q);
	free(s);
	m->nsenders--;
}

/* Remembers txid's rejection in `ring`, forgetting the ring's oldest when full. */
static void note_in(ssp_mempool *m, int ring, const ssp_hash *txid, int err)
{
	rejmem *r = &m->rej[ring];
	rejected *e = &r->e[r->pos];
	uint32_t self = (uint32_t)r->pos + 1, *pp;

	if (r->n == r->cap) {
		/* unlink the oldest: it is the last of its bucket's chain */
		pp = &r->head[hidx(m, e->txid.b, 32, r->nb)];
		while (*pp && *pp != self)
			pp = &r->e[*pp - 1].next;
		if (*pp) *pp = e->next;
	} else {
		r->n++;
	}
	e->txid = *txid;
	e->err = err;
	e->seq = ++m->rejseq;
	pp = &r->head[hidx(m, txid->b, 32, r->nb)];
	e->next = *pp;
	*pp = self;
	r->pos = (r->pos + 1) % r->cap;
}

/* A pending tx that left the pool without being included. */
static void note_rejected(ssp_mempool *m, const ssp_hash *txid, int err)
{
	note_in(m, REJ_DROPPED, txid, err);
}

#define LOCK(m) pthread_mutex_lock((pthread_mutex_t *)&(m)->mu)
#define UNLOCK(m) pthread_mutex_unlock((pthread_mutex_t *)&(m)->mu)

void ssp_mempool_note_rejected(ssp_mempool *m, const ssp_hash *txid, int err)
{
	LOCK(m);
	note_in(m, REJ_REFUSED, txid, err);
	UNLOCK(m);
}

void ssp_mempool_note_invalid(ssp_mempool *m, const ssp_hash *txid, int err)
{
	LOCK(m);
	note_in(m, REJ_INVALID, txid, err);
	UNLOCK(m);
}

static int rejected_err(const ssp_mempool *m, const ssp_hash *txid)
{
	/* the newest reason, so a resubmitted-then-rejected tx reports its latest one */
	uint64_t best = 0;
	int err = 0;
	for (int i = 0; i < REJ_RINGS; i++) {
		const rejmem *r = &m->rej[i];
		for (uint32_t k = r->head[hidx(m, txid->b, 32, r->nb)]; k; k = r->e[k - 1].next)
			if (!memcmp(r->e[k - 1].txid.b, txid->b, 32)) {
				if (r->e[k - 1].seq > best) {
					best = r->e[k - 1].seq;
					err = r->e[k - 1].err;
				}
				break; /* the first in a chain is its newest */
			}
	}
	return err;
}

int ssp_mempool_rejected(const ssp_mempool *m, const ssp_hash *txid)
{
	LOCK(m);
	int rc = rejected_err(m, txid);
	UNLOCK(m);
	return rc;
}

int ssp_mempool_has(const ssp_mempool *m, const ssp_hash *txid)
{
	LOCK(m);
	int has = find_tx(m, txid) != NULL;
	UNLOCK(m);
	return has;
}

size_t ssp_mempool_count(const ssp_mempool *m)
{
	LOCK(m);
	size_t n = m->count;
	UNLOCK(m);
	return n;
}

size_t ssp_mempool_bytes(const ssp_mempool *m)
{
	LOCK(m);
	size_t n = m->bytes;
	UNLOCK(m);
	return n;
}

bool ssp_mempool_sender_key(ssp_mempool *m, const ssp_addr *a, ssp_pubkey *out)
{
	LOCK(m);
	mp_sender *s = find_sender(m, a, 0);
	bool has = s && s->has_key;
	if (has) *out = s->key;
	UNLOCK(m);
	return has;
}

uint64_t ssp_mempool_pending_nonce(ssp_mempool *m, const ssp_addr *a)
{
	LOCK(m);
	mp_sender *s = find_sender(m, a, 0);
	uint64_t next = s ? s->base + s->len : 0;
	UNLOCK(m);
	if (s) return next;
	ssp_txn *rt;
	ssp_account acc = {0};
	if (ssp_store_read(ssp_chain_store(m->c), &rt) == 0) {
		if (ssp_chain_read_account(m->c, rt, a, &acc)) acc.nonce = 0;
		ssp_txn_end(rt);
	}
	return acc.nonce;
}

/*
 * a outbids b: it pays more over its own minimum fee (fee_a/min_a >
 * fee_b/min_b), without floats. Relative to the minimum rather than per
 * byte, so a first tx that carries its public key (a bigger tx paying the
 * minimum) is not ranked below its sender's later ones and evicted first.
 */
static int richer(const mp_entry *a, const mp_entry *b)
{
	unsigned __int128 x = (unsigned __int128)a->tx.fee * b->minfee;
	unsigned __int128 y = (unsigned __int128)b->tx.fee * a->minfee;
	if (x != y) return x > y;
	return a->seq < b->seq;
}

/* Removes the last entry of s. */
static void pop_tail(ssp_mempool *m, mp_sender *s, int err)
{
	mp_entry *e = s->q[--s->len];
	unlink_tx(m, e);
	s->cost -= e->cost;
	if (err) note_rejected(m, &e->tx.txid, err);
	free(e->raw);
	free(e);
}

static void pause_sender(ssp_mempool *m, const ssp_addr *a)
{
	m->pause[m->pausepos] = (paused){.addr = *a, .until = m->height + MP_PAUSE_BLOCKS};
	m->pausepos = (m->pausepos + 1) % MP_PAUSE_MAX;
	if (m->npause < MP_PAUSE_MAX) m->npause++;
}

static bool is_paused(const ssp_mempool *m, const ssp_addr *a)
{
	for (size_t i = 0; i < m->npause; i++)
		if (m->pause[i].until > m->height &&
		    !memcmp(m->pause[i].addr.b, a->b, SSP_ADDR_LEN))
			return true;
	return false;
}

static void drop_from(ssp_mempool *m, mp_entry *e, int err)
{
	mp_sender *s = e->s;
	uint64_t nonce = e->tx.nonce;
	if (err == SSP_ERR_VM_NODELIMIT) pause_sender(m, &s->addr);
	while (s->len && s->q[s->len - 1]->tx.nonce >= nonce)
		pop_tail(m, s, err);
	free_sender_if_empty(m, s);
}

/* The cheapest tail in the pool, or NULL. O(senders): runs only when full. */
static mp_entry *cheapest_tail(ssp_mempool *m)
{
	mp_entry *best = NULL;
	for (size_t i = 0; i < m->nsb; i++)
		for (mp_sender *s = m->sb[i]; s; s = s->next)
			if (s->len && (!best || richer(best, s->q[s->len - 1])))
				best = s->q[s->len - 1];
	return best;
}

static int add_locked(ssp_mempool *m, const ssp_tx *in, bool checked, bool verified,
                      ssp_hash *txid);

int ssp_mempool_add(ssp_mempool *m, const uint8_t *raw, size_t n, bool verified, ssp_hash *txid)
{
	ssp_tx tx;
	memset(txid, 0, sizeof *txid);
	int rc = ssp_tx_decode(&tx, raw, n);
	if (rc) return rc;
	LOCK(m);
	rc = add_locked(m, &tx, false, verified, txid);
	UNLOCK(m);
	return rc;
}

int ssp_mempool_add_checked(ssp_mempool *m, const ssp_tx *tx, bool verified, ssp_hash *txid)
{
	LOCK(m);
	int rc = add_locked(m, tx, true, verified, txid);
	UNLOCK(m);
	return rc;
}

size_t ssp_mempool_readd(ssp_mempool *m, const ssp_tx *txs, size_t n)
{
	mp_entry **held = NULL;
	size_t nheld = 0, cap = 0, added = 0;
	LOCK(m);
	/* every sender touched is re-queued from its nonce on the new branch */
	for (size_t i = 0; i < n; i++) {
		mp_sender *s = find_sender(m, &txs[i].from, 0);
		if (!s) continue;
		if (nheld + s->len > cap) {
			size_t nc = (nheld + s->len) * 2;
			mp_entry **nh = ssp_realloc(held, nc * sizeof *nh);
			if (!nh) continue; /* they stay queued as they are; only order may suffer */
			held = nh;
			cap = nc;
		}
		for (uint32_t k = 0; k < s->len; k++) {
			unlink_tx(m, s->q[k]);
			held[nheld++] = s->q[k];
		}
		s->len = 0;
		s->cost = 0;
		free_sender_if_empty(m, s);
	}
	/* (a popped block's txs went round the network with it: ripe at once) */
	for (size_t i = 0; i < n; i++) {
		ssp_hash id;
		if (!add_locked(m, &txs[i], true, true, &id)) {
			added++;
			find_tx(m, &id)->echo_bits = UINT64_MAX;
		}
	}
	for (size_t k = 0; k < nheld; k++) {
		ssp_hash id;
		if (!add_locked(m, &held[k]->tx, true, true, &id)) {
			mp_entry *e = find_tx(m, &id);
			e->t_ms = held[k]->t_ms;
			e->echo_bits = held[k]->echo_bits;
		}
		free(held[k]->raw);
		free(held[k]);
	}
	UNLOCK(m);
	free(held);
	return added;
}

void ssp_mempool_drop_tx(ssp_mempool *m, const ssp_hash *txid, int err)
{
	LOCK(m);
	mp_entry *e = find_tx(m, txid);
	if (e)
		drop_from(m, e, err);
	else
		note_rejected(m, txid, err);
	UNLOCK(m);
}

/* Admits a decoded tx (copying its bytes); `checked`: ssp_chain_check_tx already passed. */
static int add_locked(ssp_mempool *m, const ssp_tx *in, bool checked, bool verified, ssp_hash *txid)
{
	size_t n = in->raw_len;
	mp_entry *e = ssp_calloc(1, sizeof *e);
	int rc, ring = REJ_REFUSED; /* where a failure is remembered */
	bool sigfail = false;
	*txid = in->txid;
	if (!e) return SSP_ERR_NOMEM;
	e->raw = ssp_malloc(n ? n : 1);
	if (!e->raw) {
		free(e);
		return SSP_ERR_NOMEM;
	}
	memcpy(e->raw, in->raw, n);
	e->t_ms = mono_ms();
	e->tx = *in; /* then point its borrowed bytes into the pool's copy */
	e->tx.raw = e->raw;
	e->tx.payload = in->payload ? e->raw + (in->payload - in->raw) : NULL;
	if (find_tx(m, &e->tx.txid)) {
		rc = SSP_ERR_DUPLICATE;
		goto fail;
	}
	if (m->npause && is_paused(m, &e->tx.from)) {
		rc = SSP_ERR_PAUSED;
		goto fail;
	}
	rc = checked ? 0 : ssp_chain_check_tx(m->c, &e->tx);
	if (rc) {
		ring = REJ_INVALID;
		goto fail;
	}
	e->minfee = ssp_chain_min_fee(m->c, n);
	if (!e->minfee) e->minfee = 1;

	const ssp_params *p = ssp_genesis_params(ssp_chain_genesis(m->c));
	if (e->tx.expiry <= m->height) {
		rc = SSP_ERR_EXPIRED;
		goto fail;
	}
	/* the same bound block validation applies at the next height */
	if (e->tx.expiry > m->height + 1 + p->max_expiry_blocks) {
		rc = SSP_ERR_EXPIRY_FAR;
		goto fail;
	}

	ssp_txn *rt;
	ssp_account acc;
	rc = ssp_store_read(ssp_chain_store(m->c), &rt);
	if (rc) goto fail;
	rc = ssp_chain_read_account(m->c, rt, &e->tx.from, &acc);
	if (!rc && !verified) {
		/* the key: in the tx, on chain, or carried by an earlier pending tx */
		mp_sender *ks = find_sender(m, &e->tx.from, 0);
		if (e->tx.has_pubkey || acc.has_key || !ks || !ks->has_key)
			rc = ssp_chain_verify_tx(m->c, rt, &e->tx);
		else
			rc = ssp_tx_verify(&e->tx, &ks->key);
		sigfail = rc != 0 && rc != SSP_ERR_NOKEY;
	}
	if (!rc && acc.restricted) {
		/* a module restricts this sender: its hooks judge the tx on committed state */
		ssp_state *view;
		rc = ssp_chain_state_view(m->c, rt, &view);
		if (!rc) {
			rc = ssp_chain_check_sender(m->c, view, &acc, &e->tx);
			ssp_state_close(view);
		}
	}
	ssp_txn_end(rt);
	if (rc) {
		if (sigfail) ring = REJ_INVALID;
		goto fail;
	}

	const ssp_txreg *tr = ssp_chain_txreg(m->c, e->tx.type);
	uint64_t spend = tr->type->spend ? tr->type->spend(tr->mod, &e->tx, p) : 0;
	if (ssp_add_u64(&e->cost, e->tx.fee, spend)) {
		rc = SSP_ERR_BALANCE;
		goto fail;
	}
	mp_sender *s = find_sender(m, &e->tx.from, 0);
	uint64_t base = s ? s->base : acc.nonce;
	uint32_t len = s ? s->len : 0;
	if (e->tx.nonce < base) {
		rc = SSP_ERR_NONCE_LOW;
		goto fail;
	}
	if (e->tx.nonce > base + len) {
		rc = SSP_ERR_NONCE_GAP;
		goto fail;
	}
	/*
	 * A keyless account's first pending tx must carry the key itself: a
	 * replacement of it cannot lean on the key of the tx it replaces.
	 */
	if (!acc.has_key && !e->tx.has_pubkey && e->tx.nonce == base) {
		rc = SSP_ERR_NOKEY;
		goto fail;
	}
	if (e->tx.nonce < base + len) {
		/* replacement of a pending nonce */
		mp_entry *old = s->q[e->tx.nonce - base];
		unsigned __int128 need = (unsigned __int128)old->tx.fee * 11;
		if ((unsigned __int128)e->tx.fee * 10 < need) {
			rc = SSP_ERR_FEE_REPLACE;
			goto fail;
		}
		uint64_t cost = s->cost - old->cost;
		if (ssp_add_u64(&cost, cost, e->cost) || cost > acc.balance) {
			rc = SSP_ERR_BALANCE;
			goto fail;
		}
		unlink_tx(m, old);
		note_rejected(m, &old->tx.txid, SSP_ERR_FEE_REPLACE);
		free(old->raw);
		free(old);
		s->q[e->tx.nonce - base] = e;
		s->cost = cost;
		goto link;
	}
	uint64_t cost;
	if (ssp_add_u64(&cost, s ? s->cost : 0, e->cost) || cost > acc.balance) {
		rc = SSP_ERR_BALANCE;
		goto fail;
	}
	if (len >= m->o.max_per_sender) {
		rc = SSP_ERR_MEMPOOL_FULL;
		goto fail;
	}
	e->seq = m->seq; /* the newest: a tie in priority keeps what is already pending */
	while (m->count + 1 > m->o.max_count || m->bytes + n > m->o.max_bytes) {
		mp_entry *victim = cheapest_tail(m);
		if (!victim || !richer(e, victim) || victim->s == s) {
			rc = SSP_ERR_MEMPOOL_FULL;
			goto fail;
		}
		mp_sender *vs = victim->s;
		pop_tail(m, vs, SSP_ERR_MEMPOOL_FULL);
		free_sender_if_empty(m, vs);
	}
	if (!s) {
		s = find_sender(m, &e->tx.from, 1);
		if (!s) {
			rc = SSP_ERR_NOMEM;
			goto fail;
		}
		s->base = acc.nonce;
	}
	if (s->len == s->cap) {
		uint32_t c = s->cap ? s->cap * 2 : 4;
		mp_entry **q = ssp_realloc(s->q, c * sizeof *q);
		if (!q) {
			free_sender_if_empty(m, s);
			rc = SSP_ERR_NOMEM;
			goto fail;
		}
		s->q = q;
		s->cap = c;
	}
	s->q[s->len++] = e;
	s->cost = cost;
link:
	e->s = s;
	e->seq = m->seq++;
	if (e->tx.has_pubkey && !s->has_key) {
		s->has_key = true;
		s->key = e->tx.pubkey;
	}
	size_t h = hidx(m, e->tx.txid.b, 32, m->ntb);
	e->next = m->tb[h];
	m->tb[h] = e;
	m->count++;
	m->bytes += n;
	return 0;
fail:
	if (rc != SSP_ERR_DUPLICATE && !ssp_hash_is_zero(txid) && e->tx.raw)
		note_in(m, ring, &e->tx.txid, rc);
	free(e->raw);
	free(e);
	return rc;
}

/* ----------------------------------------------------------------- select */

typedef struct {
	mp_sender **h;
	size_t n;
} heap;

static int heap_less(mp_sender *a, mp_sender *b)
{
	return richer(a->q[a->cursor], b->q[b->cursor]);
}

static void heap_down(heap *hp, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best = i;
		if (l < hp->n && heap_less(hp->h[l], hp->h[best])) best = l;
		if (r < hp->n && heap_less(hp->h[r], hp->h[best])) best = r;
		if (best == i) return;
		mp_sender *t = hp->h[i];
		hp->h[i] = hp->h[best];
		hp->h[best] = t;
		i = best;
	}
}

void ssp_mempool_set_hold(ssp_mempool *m, uint64_t hold_ms, uint32_t need)
{
	LOCK(m);
	m->hold_ms = hold_ms;
	m->need = need;
	UNLOCK(m);
}

void ssp_mempool_echo(ssp_mempool *m, const ssp_hash *txids, size_t n, uint64_t peers)
{
	LOCK(m);
	for (size_t i = 0; i < n; i++) {
		mp_entry *e = find_tx(m, &txids[i]);
		if (e) e->echo_bits |= peers;
	}
	UNLOCK(m);
}

/* May e go into a block now (ssp_mempool_set_hold)? */
static bool ripe(const ssp_mempool *m, const mp_entry *e, uint64_t now)
{
	return (uint32_t)__builtin_popcountll(e->echo_bits) >= m->need ||
	       now - e->t_ms >= m->hold_ms;
}

/* Fills out[0..*nout) in priority order; SSP_ERR_NOMEM if the heap cannot be made. */
static int select_locked(ssp_mempool *m, mp_entry **out, size_t max, size_t max_bytes, size_t *nout)
{
	heap hp = {ssp_calloc(m->nsenders ? m->nsenders : 1, sizeof(mp_sender *)), 0};
	size_t k = 0, bytes = 0;
	uint64_t now = mono_ms();
	*nout = 0;
	if (!hp.h) return SSP_ERR_NOMEM;
	for (size_t i = 0; i < m->nsb; i++)
		for (mp_sender *s = m->sb[i]; s; s = s->next)
			if (s->len && ripe(m, s->q[0], now)) {
				s->cursor = 0;
				hp.h[hp.n++] = s;
			}
	for (size_t i = hp.n; i-- > 0;)
		heap_down(&hp, i);
	while (hp.n && k < max) {
		mp_sender *s = hp.h[0];
		mp_entry *e = s->q[s->cursor];
		if (bytes + e->tx.raw_len > max_bytes) {
			/* the block is full for this size; smaller txs may still fit */
			hp.h[0] = hp.h[--hp.n];
			heap_down(&hp, 0);
			continue;
		}
		out[k++] = e;
		bytes += e->tx.raw_len;
		if (++s->cursor < s->len && ripe(m, s->q[s->cursor], now)) { /* nonces in order */
			heap_down(&hp, 0);
		} else {
			hp.h[0] = hp.h[--hp.n];
			heap_down(&hp, 0);
		}
	}
	free(hp.h);
	*nout = k;
	return 0;
}

int ssp_mempool_take(ssp_mempool *m, mp_batch *b, size_t max, size_t max_bytes)
{
	int rc = 0;
	memset(b, 0, sizeof *b);
	mp_entry **sel = ssp_malloc((max ? max : 1) * sizeof *sel);
	if (!sel) return SSP_ERR_NOMEM;
	LOCK(m);
	size_t n, bytes = 0;
	rc = select_locked(m, sel, max, max_bytes, &n);
	for (size_t i = 0; i < n; i++)
		bytes += sel[i]->tx.raw_len;
	if (!rc) {
		b->txs = ssp_malloc((n ? n : 1) * sizeof *b->txs);
		b->arena = ssp_malloc(bytes ? bytes : 1);
	}
	if (rc || !b->txs || !b->arena) {
		rc = SSP_ERR_NOMEM; /* (the only failure select_locked has) */
	} else {
		size_t off = 0;
		for (size_t i = 0; i < n; i++) {
			const ssp_tx *t = &sel[i]->tx;
			ssp_tx *c = &b->txs[i];
			*c = *t; /* then point its borrowed bytes into the copy */
			memcpy(b->arena + off, t->raw, t->raw_len);
			c->raw = b->arena + off;
			c->payload = t->payload ? c->raw + (t->payload - t->raw) : NULL;
			off += t->raw_len;
		}
		b->n = n;
	}
	UNLOCK(m);
	free(sel);
	if (rc) mp_batch_free(b);
	return rc;
}

void mp_batch_free(mp_batch *b)
{
	free(b->txs);
	free(b->arena);
	memset(b, 0, sizeof *b);
}

void ssp_mempool_after_block(ssp_mempool *m, const ssp_tx *txs, size_t n, uint64_t height)
{
	LOCK(m);
	m->height = height;
	for (size_t i = 0; i < n; i++) {
		mp_sender *s = find_sender(m, &txs[i].from, 0);
		if (!s) continue;
		/* everything up to this nonce is now used */
		uint32_t drop = 0;
		while (drop < s->len && s->q[drop]->tx.nonce <= txs[i].nonce)
			drop++;
		for (uint32_t k = 0; k < drop; k++) {
			mp_entry *e = s->q[k];
			unlink_tx(m, e);
			s->cost -= e->cost;
			if (memcmp(e->tx.txid.b, txs[i].txid.b, 32))
				note_rejected(m, &e->tx.txid, SSP_ERR_NONCE_LOW);
			free(e->raw);
			free(e);
		}
		memmove(s->q, s->q + drop, (s->len - drop) * sizeof *s->q);
		s->len -= drop;
		if (txs[i].nonce + 1 > s->base) s->base = txs[i].nonce + 1;
		free_sender_if_empty(m, s);
	}
	/*
	 * Senders the block restricted (a revoked device): their pending txs are
	 * asked again, so a follower drops them too instead of keeping them until
	 * expiry. Rare, so the store reads under the lock cost nothing in general.
	 */
	for (size_t i = 0; i < m->c->nrestricted; i++) {
		mp_sender *s = find_sender(m, &m->c->restricted[i], 0);
		if (!s || !s->len) continue;
		ssp_txn *rt;
		ssp_state *view;
		ssp_account acc;
		if (ssp_store_read(ssp_chain_store(m->c), &rt)) continue;
		int err = ssp_chain_read_account(m->c, rt, &s->addr, &acc);
		if (!err && acc.restricted && !ssp_chain_state_view(m->c, rt, &view)) {
			err = ssp_chain_check_sender(m->c, view, &acc, &s->q[0]->tx);
			ssp_state_close(view);
			if (err && !ssp_err_local(err))
				drop_from(m, s->q[0], err); /* s may be freed */
		}
		ssp_txn_end(rt);
	}
	/* expiry: a tx that can no longer be included goes, with its successors */
	for (size_t i = 0; i < m->nsb; i++) {
		mp_sender *s = m->sb[i];
		while (s) {
			mp_sender *next = s->next;
			for (uint32_t k = 0; k < s->len; k++)
				if (s->q[k]->tx.expiry <= height) {
					drop_from(m, s->q[k], SSP_ERR_EXPIRED);
					break; /* s may be freed */
				}
			s = next;
		}
	}
	UNLOCK(m);
}
