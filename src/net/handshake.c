/*
 * handshake.c — the pure steps of the P2P handshake (net layer). Each side
 * sends a plaintext prelude with a fresh X25519 key; crypto_kx turns the
 * two into one key per direction (the initiator is the kx client); the
 * transcript hash binds both preludes. Each side's first encrypted frame is
 * a HELLO whose Ed25519 signature by the node key covers the transcript,
 * its role and the HELLO's fields, so a recorded HELLO cannot be replayed
 * into another session or reflected back (Scuttlebutt's secret handshake
 * and CometBFT's SecretConnection are the models; see docs/internals/net.md).
 */
#include <string.h>

#include "net/net_internal.h"

static const char hs_tag[] = "ssp-p2p-handshake-v1";
static const char auth_tag[] = "ssp-p2p-auth-v1";

void net_hs_init(net_hs *hs, bool initiator)
{
	memset(hs, 0, sizeof *hs);
	hs->initiator = initiator;
	crypto_kx_keypair(hs->eph_pk, hs->eph_sk);
	memcpy(hs->mine, NET_MAGIC, 4);
	net_le16_put(hs->mine + 4, SSP_NET_PROTOCOL);
	net_le16_put(hs->mine + 6, 0);
	memcpy(hs->mine + 8, hs->eph_pk, 32);
}

int net_hs_prelude(net_hs *hs, const uint8_t theirs[NET_PRELUDE_LEN])
{
	int rc = 0;
	memcpy(hs->theirs, theirs, NET_PRELUDE_LEN);
	if (memcmp(theirs, NET_MAGIC, 4) || net_le16_get(theirs + 4) != SSP_NET_PROTOCOL ||
	    net_le16_get(theirs + 6) != 0) {
		rc = SSP_ERR_DECODE;
		goto out;
	}
	if (!memcmp(theirs + 8, hs->eph_pk, 32)) { /* our own prelude reflected */
		rc = SSP_ERR_DECODE;
		goto out;
	}
	if (hs->initiator)
		rc = crypto_kx_client_session_keys(hs->rx, hs->tx, hs->eph_pk, hs->eph_sk,
		                                   theirs + 8);
	else
		rc = crypto_kx_server_session_keys(hs->rx, hs->tx, hs->eph_pk, hs->eph_sk,
		                                   theirs + 8);
	if (rc) { /* a low-order point */
		rc = SSP_ERR_BADKEY;
		goto out;
	}
	const uint8_t *ini = hs->initiator ? hs->mine : hs->theirs;
	const uint8_t *res = hs->initiator ? hs->theirs : hs->mine;
	const void *parts[] = {hs_tag, ini, res};
	const size_t lens[] = {sizeof hs_tag - 1, NET_PRELUDE_LEN, NET_PRELUDE_LEN};
	ssp_sha256v((ssp_hash *)hs->transcript, parts, lens, 3);
out:
	sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
	return rc;
}

void net_hs_auth_digest(uint8_t out[32], const uint8_t transcript[32], bool initiator,
                        const uint8_t *signed_part, size_t n)
{
	uint8_t role = initiator ? 0 : 1;
	const void *parts[] = {auth_tag, transcript, &role, signed_part};
	const size_t lens[] = {sizeof auth_tag - 1, 32, 1, n};
	ssp_sha256v((ssp_hash *)out, parts, lens, 4);
}

int net_hs_sign_hello(net_hello *h, const net_hs *hs, const uint8_t node_sk[64])
{
	ssp_buf b;
	uint8_t d[32];
	ssp_buf_init(&b, 4096);
	net_hello_signed_encode(&b, h);
	int rc = b.err;
	if (!rc) {
		net_hs_auth_digest(d, hs->transcript, hs->initiator, b.data, b.len);
		crypto_sign_detached(h->sig, NULL, d, 32, node_sk);
	}
	ssp_buf_free(&b);
	return rc;
}

int net_hs_check_hello(const net_hello *h, const net_hs *hs)
{
	uint8_t d[32];
	net_hs_auth_digest(d, hs->transcript, !hs->initiator, h->signed_part, h->signed_len);
	return crypto_sign_verify_detached(h->sig, d, 32, h->node_pk) ? SSP_ERR_BADSIG : 0;
}
