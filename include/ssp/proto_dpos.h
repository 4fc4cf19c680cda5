/*
 * ssp/proto_dpos.h — the staking module's wire formats (libssp_proto): tx
 * type ids, delegate names and URLs, and the strict payload codec of every
 * staking tx (issue 9, ARCHITECTURE §6). Core only, so the wallet (`ssp`)
 * builds them without the node. State, rules and the election are in
 * ssp/dpos.h (modules layer); byte layouts in docs/internals/dpos.md.
 */
#ifndef SSP_PROTO_DPOS_H
#define SSP_PROTO_DPOS_H

#include "ssp/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	SSP_TX_DELEGATE_REGISTER = 0x40, /* {name, commission, url, node key, self-stake, onion} */
	SSP_TX_DELEGATE_UPDATE = 0x41,   /* {commission, url, node key, self-stake to add} */
	SSP_TX_DELEGATE_UNREGISTER = 0x42, /* {}: self-stake starts unlocking */
	SSP_TX_STAKE = 0x43,               /* {amount}: balance -> stake */
	SSP_TX_UNSTAKE = 0x44,             /* {amount}: stake -> unlocking */
	SSP_TX_VOTE = 0x45,                /* {n <= 30 names}: replaces the sender's votes */
	SSP_TX_WITHDRAW = 0x46,            /* {}: every unlocked entry -> balance */
	SSP_TX_REWARDS_CLAIM = 0x47,       /* {}: every reward owed -> balance */
	SSP_TX_EVIDENCE = 0x48,            /* {name, header, header}: two blocks for one slot */
};

#define SSP_DPOS_NAME_MIN 3
#define SSP_DPOS_NAME_MAX 32          /* [a-z0-9._-], first a letter: one spelling per name */
#define SSP_DPOS_URL_MAX 128          /* printable ASCII without spaces, may be empty */
#define SSP_DPOS_VOTES_MAX 30         /* approval voting: up to 30 delegates */
#define SSP_DPOS_COMMISSION_MAX 10000 /* basis points: 10000 = 100% */
#define SSP_DPOS_HEADER_MAX (17u << 10) /* an encoded header in evidence (its QC <= 16 KiB) */

/* A staking tx payload; which fields are used depends on the type. */
typedef struct {
	char name[SSP_DPOS_NAME_MAX + 1];
	uint16_t commission_bp;
	char url[SSP_DPOS_URL_MAX + 1];
	ssp_pubkey node_key;
	uint64_t
	    amount; /* register: self-stake; update: self-stake added (may be 0); stake/unstake */
	ssp_hash onion; /* register: the first element of the delegate's hash onion */
	uint32_t nvotes;
	char votes[SSP_DPOS_VOTES_MAX][SSP_DPOS_NAME_MAX + 1];
	/* evidence: the delegate in `name` and two encoded headers (borrowed from the payload) */
	const uint8_t *header[2];
	uint32_t header_len[2];
} ssp_dpos_payload;

/* 1 when s[0..n) is a delegate name: 3..32 of [a-z0-9._-], the first a letter. */
int ssp_dpos_name_valid(const char *s, size_t n);
/* 1 when s[0..n) is a delegate URL: 0..128 bytes of 0x21..0x7e. */
int ssp_dpos_url_valid(const char *s, size_t n);

/*
 * Encodes p as a payload of `type` (b->err = SSP_ERR_INVAL for a field the
 * decoder would refuse). The decoder is strict: every field in range, no
 * trailing byte, one byte string per payload; SSP_ERR_TXTYPE for a type
 * that is not a staking type, SSP_ERR_PAYLOAD for anything else.
 */
void ssp_dpos_payload_encode(ssp_buf *b, uint16_t type, const ssp_dpos_payload *p);
SSP_WUR int ssp_dpos_payload_decode(ssp_dpos_payload *p, uint16_t type, const uint8_t *buf,
                                    size_t n);

#ifdef __cplusplus
}
#endif
#endif
