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
	SSP_TX_EVIDENCE_VOTES = 0x49,      /* {name, vote, vote}: a double or surround vote */
};

#define SSP_DPOS_NAME_MIN 3
#define SSP_DPOS_NAME_MAX 32          /* [a-z0-9._-], first a letter: one spelling per name */
#define SSP_DPOS_URL_MAX 128          /* printable ASCII without spaces, may be empty */
#define SSP_DPOS_VOTES_MAX 30         /* approval voting: up to 30 delegates */
#define SSP_DPOS_COMMISSION_MAX 10000 /* basis points: 10000 = 100% */
#define SSP_DPOS_HEADER_MAX (17u << 10) /* an encoded header in evidence (its QC <= 16 KiB) */
/* A signed vote in vote evidence: link (SSP_VOTE_LINK_LEN) | sig[64]. */
#define SSP_DPOS_VOTE_LEN (SSP_VOTE_LINK_LEN + SSP_SIG_LEN)

/* ------------------------------------------------------------ state records */

/*
 * The staking module's state tables (ids in the chain's state, ssp/proto.h)
 * and records, here rather than in ssp/dpos.h so that the genesis (chain
 * layer) can write genesis delegates and a light client can read a state
 * proof of an elected set. Layouts: docs/internals/dpos.md.
 */
enum {
	SSP_TB_DPOS_DELEGATE = SSP_TB_MODULE_FIRST + 24, /* account addr -> delegate record */
	SSP_TB_DPOS_NAME = SSP_TB_MODULE_FIRST + 25,     /* name -> account addr */
	SSP_TB_DPOS_STAKER = SSP_TB_MODULE_FIRST + 26, /* account addr -> stake, votes, unlocking */
	SSP_TB_DPOS_META = SSP_TB_MODULE_FIRST + 27,   /* "held", "round" -> u64 */
	SSP_TB_DPOS_ACC = SSP_TB_MODULE_FIRST + 28,    /* delegate addr -> u128 reward per vote */
	SSP_TB_DPOS_REWARD = SSP_TB_MODULE_FIRST + 29, /* account addr -> owed, snapshots */
	/* delegate addr | u64 BE slot (0x48) or addr | 'V' | u64 BE height (0x49) -> height */
	SSP_TB_DPOS_EVIDENCE = SSP_TB_MODULE_FIRST + 30,
	SSP_TB_DPOS_SET = SSP_TB_MODULE_FIRST + 31, /* u64 BE round -> the set it elected */
	SSP_TB_DPOS_PROD = SSP_TB_MODULE_FIRST + 33,     /* delegate addr -> productivity record */
	SSP_TB_DPOS_BLOCKPAY = SSP_TB_MODULE_FIRST + 34, /* u64 BE height -> block reward to pay */
};

typedef enum {
	SSP_DELEGATE_REGISTERED = 1,
	SSP_DELEGATE_UNREGISTERED = 2, /* keeps its name and record; may register again */
	SSP_DELEGATE_BANNED = 3,       /* slashed: may register again after banned_until_slot */
	SSP_DELEGATE_DEACTIVATED = 4,  /* stopped producing (docs/dpos.md): may register again */
} ssp_delegate_status;

/* A delegate slashed this many times is banned for good. */
#define SSP_DPOS_SLASHES_MAX 3
/* What a slash takes of the self-stake (basis points); half to the pool, half to the reporter. */
#define SSP_DPOS_SLASH_BP 1000

/* An unlocking entry's origin. */
typedef enum { SSP_UNLOCK_VOTE = 1, SSP_UNLOCK_SELF = 2 } ssp_unlock_kind;

/* Unlocking entries per account (unstakes with the same unlock slot merge). */
#define SSP_DPOS_UNLOCKS_MAX 16
/* capped weight = min(votes, SSP_DPOS_CAP_FACTOR x self-stake) */
#define SSP_DPOS_CAP_FACTOR 10

typedef struct {
	ssp_addr account;
	char name[SSP_DPOS_NAME_MAX + 1];
	uint8_t status;
	uint16_t commission_bp;
	char url[SSP_DPOS_URL_MAX + 1];
	ssp_pubkey node_key;
	uint64_t self_stake;
	uint64_t votes; /* the stake of every account that votes for it */
	ssp_hash onion; /* the committed first element of its hash onion */
	/* the round its onion counts from: its block in round r reveals element r - onion_round
	 * (the round of the registering block; UINT64_MAX = round -1, a genesis delegate) */
	uint64_t onion_round;
	uint64_t registered_height;
	uint64_t updated_height;
	uint8_t slashes; /* times punished for double signing */
	uint64_t
	    banned_until_slot; /* BANNED: may register again from this slot (UINT64_MAX: never) */
} ssp_delegate;

typedef struct {
	uint8_t kind;
	uint64_t amount;
	uint64_t unlock_slot; /* withdrawable in a block of this slot or later */
} ssp_unlock;

typedef struct {
	ssp_addr account;
	uint64_t staked; /* locked, counted for every delegate voted for */
	uint32_t nvotes;
	ssp_addr votes[SSP_DPOS_VOTES_MAX]; /* delegate accounts */
	uint32_t nunlock;
	ssp_unlock unlock[SSP_DPOS_UNLOCKS_MAX];
} ssp_staker;

/* The keyless account that holds every stake and unlocking entry (no key can spend it). */
void ssp_dpos_escrow(ssp_addr *out);

/*
 * Strict record codecs: the decoders take the state key (the account) and
 * the value and return SSP_ERR_DBCORRUPT for anything an encoder would not
 * write (one byte string per record); encoders set b->err on failure.
 */
void ssp_dpos_delegate_encode(ssp_buf *b, const ssp_delegate *d);
SSP_WUR int ssp_dpos_delegate_decode(ssp_delegate *d, const void *key, size_t kl, const void *p,
                                     size_t n);
void ssp_dpos_staker_encode(ssp_buf *b, const ssp_staker *s);
SSP_WUR int ssp_dpos_staker_decode(ssp_staker *s, const void *key, size_t kl, const void *p,
                                   size_t n);

/*
 * An elected set's member (SSP_TB_DPOS_SET): the delegate's account, node
 * key, onion commitment and the round its onion counts from (see
 * ssp_delegate.onion_round).
 */
typedef struct {
	ssp_addr account;
	ssp_pubkey key;
	ssp_hash onion;
	uint64_t onion_round;
} ssp_dpos_member;

/* Members of one set at most (the genesis caps set_size at 1000). */
#define SSP_DPOS_SET_MAX 1000
enum { SSP_DPOS_SET_FULL = 1, SSP_DPOS_SET_REF = 2 };

/*
 * The SSP_TB_DPOS_SET record under key u64 BE round: full =
 * u8 1 | u32 n (1..SSP_DPOS_SET_MAX) | n x (account[20] | u8 key type |
 * u8 len | key | onion[32] | u64 onion_round), or a reference to the full
 * record of an earlier round with the same members = u8 2 | u64 round'
 * (round' < round). Integers little-endian. Decoding: *kind gets 1 or 2;
 * for a full record `m` (capacity SSP_DPOS_SET_MAX) gets *n members; for a reference *ref gets
 * round'. Strict: a truncated or trailing byte, n out of range, a bad key, a member listed twice or
 * round' >= round are SSP_ERR_DBCORRUPT.
 */
void ssp_dpos_set_encode_full(ssp_buf *b, const ssp_dpos_member *m, size_t n);
void ssp_dpos_set_encode_ref(ssp_buf *b, uint64_t ref);
SSP_WUR int ssp_dpos_set_decode(uint8_t *kind, ssp_dpos_member *m, size_t *n, uint64_t *ref,
                                uint64_t round, const void *p, size_t len);

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
	/* vote evidence: the delegate in `name` and two signed votes (source height below
	 * target height in each) */
	ssp_vote_link vote[2];
	ssp_sig vote_sig[2];
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
