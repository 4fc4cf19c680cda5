/*
 * cli.h — private header of `ssp`, the wallet CLI (application layer). The
 * CLI sits on top of the RPC client, libssp_proto and core (it links nothing
 * of the node: tests/functional/test_agent_cli.py checks): it never touches
 * chain state directly, only keystore files and the node's JSON-RPC interface. Each
 * command returns an exit status and reports at most one error line.
 */
#ifndef SSP_CLI_H
#define SSP_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssp/core.h"
#include "ssp/proto.h"
#include "ssp/rpc.h"

#define CLI_DEFAULT_RPC "http://127.0.0.1:9631"
#define CLI_DEFAULT_TIMEOUT_S 30
#define CLI_RPC_TIMEOUT_MS 15000  /* one request */
#define CLI_PROBE_TIMEOUT_MS 1500 /* asking the node for its HRP on behalf of key commands */
#define CLI_PATH_MAX 4096
#define CLI_NAME_MAX 64
#define CLI_PASSWORD_MAX 1024
#define CLI_HRP_MAX 16
#define CLI_PEM_MAX (64 * 1024)

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Global options and the lazily opened node connection. */
typedef struct {
	const char *rpc_url;
	char keystore[CLI_PATH_MAX]; /* directory of keystore files */
	bool json;
	const char *network;       /* --network as given, NULL if absent */
	uint64_t timeout_s;        /* --wait deadline */
	ssp_rpc_client *rpc;       /* owned; NULL until the first call */
	char hrp[CLI_HRP_MAX + 1]; /* the node's HRP once chain_getInfo answered, else "" */
} cli_ctx;

/* A command's options; values are borrowed from argv. */
typedef struct {
	const char *name; /* long name without "--" */
	bool has_arg;
	bool multi; /* may be repeated: every value goes to cli_args.multi (one such per command) */
} cli_optspec;

#define CLI_MAX_OPTS 16
#define CLI_MAX_POS 4
#define CLI_MAX_MULTI 31 /* one past the 30 votes, so `ssp vote` can say how many is too many */
typedef struct {
	const cli_optspec *spec;       /* the command's options, NULL-name terminated */
	const char *val[CLI_MAX_OPTS]; /* val[i] for spec[i]: NULL absent, "" for a set flag */
	const char *pos[CLI_MAX_POS];
	size_t npos;
	const char *multi[CLI_MAX_MULTI]; /* the values of the command's repeatable option */
	size_t nmulti;
} cli_args;

/* Value of option `name` (NULL if absent); `name` must be in the command's spec. */
const char *cli_opt(const cli_args *a, const char *name);

/* ------------------------------------------------------------- util.c */

/*
 * Error reporting: the first error is kept and printed by main as the one
 * line `ssp: error: <reason>`. Both return the exit status to propagate.
 */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The recorded error text, or NULL. */
const char *cli_error_text(void);
/* A warning line on stderr (only on success paths, so errors stay one line). */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Aborts the process with the one error line; for allocation failures. */
_Noreturn void cli_oom(void);

/* Aligned "label: value" output, printed in one go by cli_table_print. */
typedef struct {
	char **label;
	char **value;
	size_t n, cap;
} cli_table;

void cli_table_add(cli_table *t, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints every row to stdout and frees the rows. */
void cli_table_print(cli_table *t);

/*
 * Prints a node result for humans: one row per scalar, nested objects as
 * dotted labels, arrays one element per line. String values whose dotted
 * path is listed in `amounts` (NULL-terminated) get " SSP" appended.
 */
void cli_print_result(const json_t *obj, const char *const *amounts);
/* Prints `doc` as the single JSON document of --json mode. */
void cli_print_json(const json_t *doc);

/* Parses a decimal u64 with no sign, spaces or leading garbage. */
SSP_WUR int cli_parse_u64(uint64_t *out, const char *s);
/* [A-Za-z0-9_.-]{1,64}, not starting with '.'. */
bool cli_name_valid(const char *name);
/* 64 hex characters. */
bool cli_is_hash_hex(const char *s);

/*
 * Reads a whole file of at most `max` bytes ("-" is stdin) into a
 * NUL-terminated malloc'd buffer; the caller wipes and frees it. Reports
 * its own error (returns CLI_FAIL).
 */
SSP_WUR int cli_read_file(char **out, size_t *len, const char *path, size_t max);

/*
 * The password: $SSP_PASSWORD if set, else typed on /dev/tty without echo
 * (twice when `confirm`). out must hold CLI_PASSWORD_MAX + 1 bytes; the
 * caller wipes it. Reports its own error.
 */
SSP_WUR int cli_password(char *out, bool confirm);

/* ------------------------------------------------------------- node.c */

/*
 * Calls `method` (params stolen, may be NULL for {}). On failure reports a
 * one-line error naming the method and the node's message (and the tx
 * rejection name) and returns CLI_FAIL; `*rpc_code` (may be NULL) gets the
 * JSON-RPC error code, or 0 for transport errors.
 */
SSP_WUR int cli_rpc(cli_ctx *c, const char *method, json_t *params, json_t **result, int *rpc_code);
/* Same, but transport and RPC failures are returned as an ssp_err without reporting. */
SSP_WUR int cli_rpc_quiet(cli_ctx *c, const char *method, json_t *params, json_t **result,
                          ssp_rpc_error *err);
/*
 * chain_getInfo; checks the HRP (and --network if given) and records it in
 * c->hrp. *info (may be NULL) receives the result.
 */
SSP_WUR int cli_node_info(cli_ctx *c, json_t **info);
/*
 * The HRP for printing local keys: --network if given, else the node's if it
 * answers quickly, else the devnet's. Never fails.
 */
const char *cli_local_hrp(cli_ctx *c);

/* Field readers for node results: 0 on success, else report and return CLI_FAIL. */
SSP_WUR int cli_json_u64(uint64_t *out, const json_t *obj, const char *key, const char *what);
SSP_WUR int cli_json_amount(uint64_t *out, const json_t *obj, const char *key, const char *what);

/* --------------------------------------------------------- keystore.c */

/* DIR/NAME for a valid name; a bad name is a usage error. */
SSP_WUR int cli_key_path(cli_ctx *c, char *path, size_t cap, const char *name);
/* Creates the keystore directory (and missing parents) with mode 0700. */
SSP_WUR int cli_keystore_mkdir(cli_ctx *c);
/* Public part of key `name` without a password. */
SSP_WUR int cli_key_info(cli_ctx *c, ssp_pubkey *pk, const char *name);
/* Asks for the password and decrypts key `name`. The caller wipes sk. */
SSP_WUR int cli_key_unlock(cli_ctx *c, ssp_seckey *sk, ssp_pubkey *pk, const char *name);
/* {name, type, address, pubkey, path} of a key. */
json_t *cli_key_json(const char *name, const ssp_pubkey *pk, const char *hrp, const char *path);
/*
 * An account given as text: an address with this HRP, else the name of a
 * local key. Reports its own error.
 */
SSP_WUR int cli_resolve_account(cli_ctx *c, ssp_addr *out, const char *hrp, const char *text);

/* ------------------------------------------------------------- txsend.c */

/* How a signing command prices, bounds and follows its transaction. */
typedef struct {
	bool fee_given;
	uint64_t fee; /* base units; else min_fee + fee_per_byte x size */
	uint64_t expiry_blocks;
	bool wait;
} cli_txopts;

/* A sender and what the node says about the chain and it; cli_tx_end wipes it. */
typedef struct {
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_addr from;
	char from_text[96];
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	uint64_t height, min_fee, fee_per_byte;
	uint64_t nonce; /* the sender's next, pending txs included */
	bool include_pubkey;
} cli_txsession;

/* --fee, --expiry-blocks and --wait of a signing command; `cmd` names it in errors. */
SSP_WUR int cli_txopts_parse(cli_txopts *o, const cli_args *a, const char *cmd);
/*
 * Unlocks key `from` (before the node is asked anything), then reads the
 * chain (setting c->hrp) and the sender's nonce and key status. Call
 * cli_tx_end on every path afterwards. Reports its own error.
 */
SSP_WUR int cli_tx_begin(cli_ctx *c, cli_txsession *s, const char *from);
/*
 * Signs a tx of `type` with `payload`, submits it and, with o->wait, polls
 * until it is in a block (a rejection or failed receipt is an error). The
 * key is wiped. *result (new reference) is {txid, from, <fields>, fee,
 * nonce, expiry[, status, height; with --json also block and events]};
 * fields (borrowed, may be NULL) are the command's own. Reports its own error.
 */
SSP_WUR int cli_tx_send(cli_ctx *c, cli_txsession *s, const cli_txopts *o, uint16_t type,
                        const uint8_t *payload, size_t payload_len, const json_t *fields,
                        json_t **result);
void cli_tx_end(cli_txsession *s);
/*
 * Prints a cli_tx_send result: JSON with --json, else a table where "fee"
 * gets " SSP" and the keys in amount_keys (NULL-terminated, may be NULL)
 * get `unit` appended (e.g. " SSP", " PARK").
 */
void cli_print_tx(cli_ctx *c, const json_t *out, const char *const *amount_keys, const char *unit);

/* ------------------------------------------------------------ commands */

/* Waits until txid is in a block: CLI_OK with *final = its tx_get result (caller frees). */
int cli_tx_wait(cli_ctx *c, json_t **final, const char *txid);

int cli_cmd_key_new(cli_ctx *c, const cli_args *a);
int cli_cmd_key_import(cli_ctx *c, const cli_args *a);
int cli_cmd_key_list(cli_ctx *c, const cli_args *a);
int cli_cmd_key_show(cli_ctx *c, const cli_args *a);
int cli_cmd_key_export(cli_ctx *c, const cli_args *a);
int cli_cmd_info(cli_ctx *c, const cli_args *a);
int cli_cmd_balance(cli_ctx *c, const cli_args *a);
int cli_cmd_proof_account(cli_ctx *c, const cli_args *a);
int cli_cmd_proof_token(cli_ctx *c, const cli_args *a);
int cli_cmd_proof_device(cli_ctx *c, const cli_args *a);
int cli_cmd_supply(cli_ctx *c, const cli_args *a);
int cli_cmd_block(cli_ctx *c, const cli_args *a);
int cli_cmd_tx(cli_ctx *c, const cli_args *a);
int cli_cmd_transfer(cli_ctx *c, const cli_args *a);
int cli_cmd_token_create(cli_ctx *c, const cli_args *a);
int cli_cmd_token_issue(cli_ctx *c, const cli_args *a);
int cli_cmd_token_transfer(cli_ctx *c, const cli_args *a);
int cli_cmd_token_burn(cli_ctx *c, const cli_args *a);
int cli_cmd_token_approve(cli_ctx *c, const cli_args *a);
int cli_cmd_token_transfer_from(cli_ctx *c, const cli_args *a);
int cli_cmd_token_balance(cli_ctx *c, const cli_args *a);
int cli_cmd_token_allowance(cli_ctx *c, const cli_args *a);
int cli_cmd_token_info(cli_ctx *c, const cli_args *a);
int cli_cmd_token_list(cli_ctx *c, const cli_args *a);
int cli_cmd_contract_deploy(cli_ctx *c, const cli_args *a);
int cli_cmd_contract_call(cli_ctx *c, const cli_args *a);
int cli_cmd_contract_query(cli_ctx *c, const cli_args *a);
int cli_cmd_contract_events(cli_ctx *c, const cli_args *a);
int cli_cmd_contract_code(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_register(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_approve(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_expel(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_model(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_certify(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_revoke(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_show(cli_ctx *c, const cli_args *a);
int cli_cmd_mfr_list(cli_ctx *c, const cli_args *a);
int cli_cmd_device_claim(cli_ctx *c, const cli_args *a);
int cli_cmd_device_transfer(cli_ctx *c, const cli_args *a);
int cli_cmd_device_show(cli_ctx *c, const cli_args *a);
int cli_cmd_device_list(cli_ctx *c, const cli_args *a);
int cli_cmd_device_enroll(cli_ctx *c, const cli_args *a);
int cli_cmd_device_attest(cli_ctx *c, const cli_args *a);

/* ------------------------------------------------------------ dpos_cmds.c */

int cli_cmd_stake(cli_ctx *c, const cli_args *a);
int cli_cmd_unstake(cli_ctx *c, const cli_args *a);
int cli_cmd_withdraw(cli_ctx *c, const cli_args *a);
int cli_cmd_vote(cli_ctx *c, const cli_args *a);
int cli_cmd_votes(cli_ctx *c, const cli_args *a);
int cli_cmd_rewards_show(cli_ctx *c, const cli_args *a);
int cli_cmd_rewards_claim(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_evidence(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_register(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_update(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_unregister(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_list(cli_ctx *c, const cli_args *a);
int cli_cmd_delegate_show(cli_ctx *c, const cli_args *a);

/* ------------------------------------------------------------ net_cmds.c */

int cli_cmd_net_info(cli_ctx *c, const cli_args *a);
int cli_cmd_net_peers(cli_ctx *c, const cli_args *a);
int cli_cmd_testnet_up(cli_ctx *c, const cli_args *a);
int cli_cmd_testnet_status(cli_ctx *c, const cli_args *a);
int cli_cmd_testnet_down(cli_ctx *c, const cli_args *a);

#endif
