/*
 * ssp/proto.h — the public API of libssp_proto: the wire formats that the
 * node, the wallet and devices share (ARCHITECTURE §3 src/proto): the
 * transaction and its canonical encoding, signing through a callback (so a
 * secure element that never reveals its key can sign), the transfer
 * payload, the receipt, the block header with its signature check, and the
 * binary Merkle tree of the header's tx and receipts roots. Depends on core only: the
 * device library (libsmartagent) links it without the store, the chain, the
 * VM or the RPC server.
 */
#ifndef SSP_PROTO_H
#define SSP_PROTO_H

#include <stdbool.h>

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* all of it is API (SSP_API in ssp/core.h) */

/* ----------------------------------------------------------- transactions */

#define SSP_TX_VERSION 1
#define SSP_CHAIN_ID_MAX 32
#define SSP_TX_MAX (192 * 1024)         /* whole encoded tx */
#define SSP_TX_PAYLOAD_MAX (160 * 1024) /* payload bytes */
#define SSP_MEMO_MAX 256

enum {
	SSP_TX_TRANSFER = 1,
	/* modules register their own ids: tokens 0x10.., contracts 0x20.., staking 0x30.. */
};

/*
 * Canonical encoding (all integers little-endian):
 *   u8 version=1 | u8 len + chain_id | u16 type | from[20] | u64 nonce |
 *   u64 fee | u64 expiry_height | u32 len + payload |
 *   u8 has_pubkey (0|1) [u8 key_type | pubkey] | sig[64]
 * The signature covers every byte before it under SSP_DOM_TX;
 * txid = SHA-256(all bytes).
 */
typedef struct {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	uint16_t type;
	ssp_addr from;
	uint64_t nonce;
	uint64_t fee;
	uint64_t expiry;        /* last height at which it may be included */
	const uint8_t *payload; /* borrowed from raw */
	uint32_t payload_len;
	bool has_pubkey;
	ssp_pubkey pubkey;
	ssp_sig sig;
	const uint8_t *raw; /* borrowed: the encoded tx */
	size_t raw_len;
	size_t signed_len; /* raw_len - SSP_SIG_LEN */
	ssp_hash txid;
} ssp_tx;

/*
 * Strictly decodes raw bytes into tx (borrowing raw, which must outlive tx).
 * Checks structure, canonical form, the pubkey's validity and that it hashes
 * to `from`; not the signature and not the payload (see ssp_tx_check).
 */
SSP_WUR int ssp_tx_decode(ssp_tx *tx, const uint8_t *raw, size_t n);
/* Checks a decoded tx's signature under key (its sender's: the tx's own, the one on chain
 * or one another of its txs carried). 0 or the verifier's error. */
SSP_WUR int ssp_tx_verify(const ssp_tx *tx, const ssp_pubkey *key);

/* Fields a wallet fills to build a tx. */
typedef struct {
	const char *chain_id;
	uint16_t type;
	uint64_t nonce;
	uint64_t fee;
	uint64_t expiry;
	const uint8_t *payload;
	size_t payload_len;
	bool include_pubkey;
} ssp_tx_build;

/* Encodes and signs a tx; *out is malloc'd (caller frees), its txid in *txid. */
SSP_WUR int ssp_tx_sign(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                        const ssp_seckey *sk);

/* Transfer payload: to[20] | u64 amount | u32 len + memo (UTF-8, <= 256). */
typedef struct {
	ssp_addr to;
	uint64_t amount;
	const uint8_t *memo; /* borrowed */
	uint32_t memo_len;
} ssp_transfer;

SSP_WUR int ssp_transfer_decode(ssp_transfer *t, const uint8_t *p, size_t n);
/* Appends the encoded payload to b. */
void ssp_transfer_encode(ssp_buf *b, const ssp_transfer *t);

/*
 * A signer: signs a 32-byte digest (ssp_sig_digest) into sig; 0 or an
 * SSP_ERR_* code. ctx is the signer's own (a key in memory, a PKCS#11
 * session: ssp_agent_signer).
 */
typedef int (*ssp_sign_fn)(void *ctx, ssp_sig *sig, const ssp_hash *digest);

/*
 * Encodes and signs a tx with a signer whose public key is pk (the sender
 * is its address); *out is malloc'd (caller frees). The signature is
 * checked against pk before the tx is returned.
 */
/* The encoded length of the tx b builds for sender pk (the fee's value does not change it). */
size_t ssp_tx_encoded_len(const ssp_tx_build *b, const ssp_pubkey *pk);

SSP_WUR int ssp_tx_sign_with(uint8_t **out, size_t *outlen, ssp_hash *txid, const ssp_tx_build *b,
                             const ssp_pubkey *pk, ssp_sign_fn sign, void *ctx);

/* ---------------------------------------- chain parameters, devnet genesis */

/*
 * The chain's parameters, fixed by its genesis (ssp/chain.h parses it). A
 * wallet prices a tx from min_fee, fee_per_byte and gas_price (chain_getInfo
 * serves them).
 */
typedef struct {
	uint64_t block_interval_ms;
	uint64_t max_block_bytes;
	uint32_t max_block_txs;
	uint64_t min_fee;           /* per tx, base units */
	uint64_t fee_per_byte;      /* base units per encoded byte */
	uint64_t month_seconds;     /* a vesting month */
	uint32_t max_expiry_blocks; /* a tx may not expire further ahead than this */
	uint64_t max_block_gas;     /* sum of the gas limits of a block's txs */
	uint64_t gas_price;         /* base units per unit of contract gas */
	uint64_t token_create_fee;  /* IOT_Coin creation fee, to the pool */
} ssp_params;

/*
 * Builds a devnet genesis JSON: `dev` receives the private-placement share
 * (liquid), keyless foundation and team accounts get theirs, the rest is
 * the pool; the `producer` key produces every block. Returns malloc'd text
 * (caller frees), NULL when out of memory. `sspd --dev` parses it
 * (ssp/chain.h); `ssp testnet up` adds its producer set. Thread-safe.
 */
char *ssp_genesis_dev_json(const ssp_addr *dev, const ssp_pubkey *producer, uint64_t time_ms);

/* ------------------------------------------------- state keys and accounts */

/*
 * Every state entry is keyed by u8 table id ‖ key (what a state proof names,
 * ssp/stateproof.h); modules own the ids from SSP_TB_MODULE_FIRST up.
 */
enum {
	SSP_TB_ACCOUNT = 1, /* addr -> account */
	SSP_TB_LOCK = 2,    /* u64 BE unlock_ms || addr -> u64 amount */
	SSP_TB_META = 3,    /* "supply" -> locked, pool */
	SSP_TB_MODULE_FIRST = 16,
};

#define SSP_STATE_KEY_MAX 96
#define SSP_STATE_VAL_MAX (256 * 1024)

typedef struct {
	uint64_t balance;       /* spendable */
	uint64_t locked;        /* vesting or grant locks not yet released */
	uint64_t nonce;         /* next expected nonce */
	uint64_t grant_lock_ms; /* >0: what this account sends is locked this long (foundation) */
	bool has_key;
	ssp_pubkey key;
	/*
	 * A module restricts what this account may send: the chain runs the
	 * sender hooks (ssp_chain_set_sender_hooks) on each of its txs. Set by a
	 * module (the device registry on a revoked device); never cleared by the
	 * chain. Encoded as a trailing flags byte only when set, so every other
	 * account's bytes (and the state root over them) are unchanged.
	 */
	bool restricted;
} ssp_account;

/*
 * The account record, the value under SSP_TB_ACCOUNT ‖ address:
 *   u64 balance | u64 locked | u64 nonce | u64 grant_lock_ms |
 *   u8 has_key [u8 key_type | pubkey] [u8 flags = 1: restricted, only when set]
 * Decoding is strict: SSP_ERR_DBCORRUPT on anything off (the node reads its
 * own state with it; a wallet or device decodes a value it has proven).
 */
void ssp_account_encode(ssp_buf *b, const ssp_account *a);
SSP_WUR int ssp_account_decode(ssp_account *a, const void *p, size_t n);

/* -------------------------------------------------------------- receipts */

typedef enum { SSP_RCPT_OK = 0, SSP_RCPT_FAILED = 1 } ssp_rcpt_status;

/*
 * A receipt: txid[32] | u8 status | i32 error | u64 fee_paid | u64 gas_used |
 * u32 len + return data | u32 len + events (see ssp_receipt_emit).
 * Its Merkle leaf is SHA-256(encoding), which starts with the txid.
 */
typedef struct {
	ssp_hash txid;
	uint8_t status;
	int32_t error;
	uint64_t fee_paid;
	uint64_t gas_used;
	uint8_t *ret; /* owned */
	uint32_t ret_len;
	uint8_t *events; /* owned */
	uint32_t events_len;
} ssp_receipt;

void ssp_receipt_encode(ssp_buf *b, const ssp_receipt *r);

/*
 * Events in a receipt: u32 count | (emitter[20] | u8 len + name |
 * u32 len + fields, a canonical table)*. Names are 1..64 bytes.
 */
SSP_WUR int ssp_receipt_emit(ssp_receipt *r, const ssp_addr *emitter, const char *name,
                             const uint8_t *fields, size_t n);
/* A savepoint of the events (for reverting a protected call's events). */
uint64_t ssp_receipt_events_mark(const ssp_receipt *r);
void ssp_receipt_events_rollback(ssp_receipt *r, uint64_t mark);

typedef struct {
	ssp_addr emitter;
	char name[65];
	const uint8_t *fields; /* borrowed */
	size_t fields_len;
} ssp_event;
/* Iterates events: call with *off = 0 first; returns 1 with ev filled, 0 at the end, <0 on
 * corruption. */
int ssp_events_next(const uint8_t *p, size_t n, size_t *off, ssp_event *ev);
SSP_WUR int ssp_receipt_decode(ssp_receipt *r, const uint8_t *p, size_t n); /* copies */
void ssp_receipt_free(ssp_receipt *r);

/* ------------------------------------------------------------------ Merkle */

/* The tx root and receipts root of a header; tx_get's inclusion proof (merkle.c). */

/*
 * Binary Merkle tree with domain-separated nodes: leaf = SHA-256(0x00 || h),
 * node = SHA-256(0x01 || left || right); an odd last node is carried up
 * unchanged (never duplicated). The root of zero leaves is all zeros.
 */
void ssp_merkle_root(ssp_hash *root, const ssp_hash *leaves, size_t n);
/* The same root, computed in leaves[0..n) (overwritten): no allocation, so it cannot fail. */
void ssp_merkle_root_inplace(ssp_hash *root, ssp_hash *leaves, size_t n);

#define SSP_MERKLE_MAX_DEPTH 32
typedef struct {
	uint32_t index;
	uint32_t count;
	uint32_t depth;
	ssp_hash siblings[SSP_MERKLE_MAX_DEPTH];
} ssp_merkle_proof;

SSP_WUR int ssp_merkle_prove(ssp_merkle_proof *pf, const ssp_hash *leaves, size_t n, size_t index);
/* 1 if leaf is at pf->index of a tree with this root, else 0. */
int ssp_merkle_verify(const ssp_hash *root, const ssp_hash *leaf, const ssp_merkle_proof *pf);

/* ----------------------------------------------------------- block header */

#define SSP_SEED_MAX 64
#define SSP_QC_MAX (16 * 1024)

/*
 * Header encoding: u8 version=1 | u64 height | prev_id[32] | u64 slot |
 * u64 timestamp_ms | producer[20] | tx_root | receipts_root | state_root |
 * u32 len + seed_reveal (<= 64) | u32 len + finality_qc (<= 16 KiB) | sig[64].
 * The producer signs every byte before sig under SSP_DOM_BLOCK;
 * block id = SHA-256(the whole header).
 */
typedef struct {
	uint64_t height;
	ssp_hash prev_id;
	uint64_t slot;
	uint64_t timestamp_ms;
	ssp_addr producer;
	ssp_hash tx_root;
	ssp_hash receipts_root;
	ssp_hash state_root;
	uint8_t seed_reveal[SSP_SEED_MAX];
	uint32_t seed_len;
	const uint8_t *qc; /* borrowed */
	uint32_t qc_len;
	ssp_sig sig;
	ssp_hash id;
} ssp_header;

void ssp_header_encode(ssp_buf *b, const ssp_header *h, bool with_sig);
/*
 * A BFT producer's hash-onion secret (issue 9): the producer signs
 * ssp_onion_secret_digest (SSP_DOM_ONION, a fixed message) with its block
 * key and the secret is ssp_onion_secret of that signature (SHA-256 with a
 * tag), so anyone holding the key (a keystore or an HSM) can make it again
 * and nothing else must be kept. Ed25519 only: the signature must be
 * deterministic. The onion's element i = SHA-256^(layers - i)(secret);
 * element 0 is the commitment in the genesis "bft" object.
 */
void ssp_onion_secret_digest(ssp_hash *d, const char *chain_id);
void ssp_onion_secret(ssp_hash *out, const ssp_sig *sig);

/*
 * A BFT finality vote's link (issue 9; consensus wire forms in
 * docs/internals/consensus.md): source -> target, both blocks as height and
 * id. Encoded (80 bytes, little-endian): u64 source height | source id |
 * u64 target height | target id. A vote is the signature of its voter over
 * ssp_vote_digest: SSP_DOM_VOTE, the chain id and the encoded link. Shared
 * by the node's consensus (which signs and checks votes) and the staking
 * module (which checks the two votes of a slashing tx), so both sign and
 * verify exactly the same bytes.
 */
#define SSP_VOTE_LINK_LEN 80
typedef struct {
	uint64_t src_height;
	ssp_hash src_id;
	uint64_t tgt_height;
	ssp_hash tgt_id;
} ssp_vote_link;

void ssp_vote_link_encode(uint8_t out[SSP_VOTE_LINK_LEN], const ssp_vote_link *l);
void ssp_vote_link_decode(ssp_vote_link *l, const uint8_t in[SSP_VOTE_LINK_LEN]);
/* The digest a voter signs for link l on chain chain_id. */
void ssp_vote_digest(ssp_hash *d, const char *chain_id, const ssp_vote_link *l);

/* How two votes of one voter conflict (the Casper-FFG slashing conditions). */
typedef enum {
	SSP_VOTES_NONE = 0,
	SSP_VOTES_DOUBLE = 2,   /* two different links with one target height */
	SSP_VOTES_SURROUND = 3, /* one's source below the other's and its target above */
} ssp_votes_conflict_kind;
/*
 * The same rule as ssp_bft_votes_conflict (ssp/bft.h; the values match
 * ssp_bft_ev_kind), here for the layers below consensus: the staking
 * module's evidence tx cannot link the consensus library. test_dpos checks
 * that the two agree.
 */
ssp_votes_conflict_kind ssp_votes_conflict(const ssp_vote_link *a, const ssp_vote_link *b);

/* Decodes a header from the reader (used inside block decoding); h->qc borrows from it. */
SSP_WUR int ssp_header_read(ssp_header *h, ssp_rd *r);
/* Strictly decodes exactly one encoded header (no trailing bytes); h->qc borrows raw. */
SSP_WUR int ssp_header_decode(ssp_header *h, const uint8_t *raw, size_t n);
/*
 * Checks that `key` made h: its address is h->producer (else
 * SSP_ERR_BLOCK_PRODUCER) and h->sig is its signature over the unsigned
 * header under SSP_DOM_BLOCK and chain_id (else SSP_ERR_BADSIG, or what
 * ssp_verify returns). Who may produce a slot is the caller's rule (the
 * chain asks its consensus; a light client its anchors). Thread-safe.
 */
SSP_WUR int ssp_header_check_sig(const ssp_header *h, const char *chain_id, const ssp_pubkey *key);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
