/*
 * net_internal.h — libssp_net's private interface (net layer): the wire
 * messages and their strict codecs (msg.c), the handshake's pure steps
 * (handshake.c). Both are free of I/O so unit tests and the fuzz harnesses
 * drive them directly.
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
	NET_TYPE_MAX = 12,
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

#endif
