/*
 * main.c — entry point of `ssp`, the Smartshare wallet CLI (application
 * layer): the command table, global options (accepted before or after the
 * command), help, and the one exit path that prints the single error line.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define TIMEOUT_MAX_S 86400

typedef struct {
	const char *group; /* "key" for `ssp key <name>`, else NULL */
	const char *name;
	int (*fn)(cli_ctx *c, const cli_args *a);
	const cli_optspec *opts;
	size_t min_pos, max_pos;
	const char *usage;
	const char *summary;
} cli_cmd;

enum { G_RPC, G_KEYSTORE, G_JSON, G_NETWORK, G_TIMEOUT, G_HELP, G_VERSION, G_COUNT };
static const cli_optspec global_opts[] = {
    [G_RPC] = {"rpc", true},          [G_KEYSTORE] = {"keystore", true}, [G_JSON] = {"json", false},
    [G_NETWORK] = {"network", true},  [G_TIMEOUT] = {"timeout", true},   [G_HELP] = {"help", false},
    [G_VERSION] = {"version", false}, [G_COUNT] = {NULL, false},
};

static const cli_optspec no_opts[] = {{NULL, false}};
static const cli_optspec proof_opts[] = {{"final", false}, {"height", true}, {NULL, false}};
static const cli_optspec key_new_opts[] = {{"name", true}, {"type", true}, {NULL, false}};
static const cli_optspec key_import_opts[] = {{"name", true}, {"pem", true}, {NULL, false}};
static const cli_optspec key_export_opts[] = {{"yes", false}, {NULL, false}};

/*
 * What every command that signs a tx takes after its own options, in this
 * order (--help lists them so): the fee, --wait and the expiry. TXOPTS puts
 * the signer first.
 */
#define TX_TAIL {"fee", true}, {"wait", false}, {"expiry-blocks", true}
#define TXOPTS {"from", true}, TX_TAIL
static const cli_optspec transfer_opts[] = {
    {"from", true}, {"to", true},    {"amount", true},        {"fee", true},
    {"memo", true}, {"wait", false}, {"expiry-blocks", true}, {NULL, false},
};

static const cli_optspec contract_deploy_opts[] = {
    {"from", true}, {"args", true}, {"gas", true}, TX_TAIL, {NULL, false},
};
static const cli_optspec contract_call_opts[] = {
    {"from", true}, {"args", true}, {"value", true}, {"gas", true}, TX_TAIL, {NULL, false},
};
static const cli_optspec mfr_name_opts[] = {TXOPTS, {"name", true}, {NULL, false}};
static const cli_optspec mfr_decision_opts[] = {
    TXOPTS, {"name", true}, {"producer-key", true}, {NULL, false}};
static const cli_optspec mfr_model_opts[] = {
    TXOPTS, {"name", true}, {"model", true}, {"firmware-hash", true}, {"capabilities", true},
    {NULL, false}};
static const cli_optspec mfr_certify_opts[] = {
    {"from", true},         {"name", true},         {"model", true},  {"serial", true},
    {"device-pubkey", true}, {"capabilities", true}, {"claim-secret", true}, {"out", true},
    {NULL, false}};
static const cli_optspec mfr_revoke_opts[] = {TXOPTS,          {"device", true}, {"name", true},
                                               {"serial", true}, {"batch", true},  {NULL, false}};
static const cli_optspec device_claim_opts[] = {
    TXOPTS, {"device", true}, {"serial", true}, {"manufacturer", true}, {"secret", true},
    {NULL, false}};
static const cli_optspec device_transfer_opts[] = {
    TXOPTS, {"device", true}, {"serial", true}, {"manufacturer", true}, {"to", true},
    {NULL, false}};
static const cli_optspec device_enroll_opts[] = {TXOPTS, {"cert", true}, {NULL, false}};
static const cli_optspec device_attest_opts[] = {
    TXOPTS, {"firmware-hash", true}, {"counter", true}, {NULL, false}};
static const cli_optspec device_list_opts[] = {
    {"owner", true}, {"manufacturer", true}, {NULL, false}};
static const cli_optspec contract_query_opts[] = {{"args", true}, {"from", true}, {NULL, false}};
static const cli_optspec contract_events_opts[] = {
    {"name", true}, {"from-height", true}, {"to-height", true}, {"limit", true}, {NULL, false},
};
static const cli_optspec token_create_opts[] = {
    {"from", true},       {"symbol", true},   {"name", true},          {"decimals", true},
    {"max-supply", true}, {"no-burn", false}, {"fixed-supply", false}, TX_TAIL,
    {NULL, false},
};
static const cli_optspec token_to_opts[] = {
    {"from", true}, {"symbol", true}, {"to", true}, {"amount", true}, TX_TAIL, {NULL, false},
};
static const cli_optspec token_burn_opts[] = {
    {"from", true}, {"symbol", true}, {"amount", true}, TX_TAIL, {NULL, false},
};
static const cli_optspec token_approve_opts[] = {
    {"from", true}, {"symbol", true}, {"spender", true}, {"amount", true}, TX_TAIL, {NULL, false},
};
static const cli_optspec token_transfer_from_opts[] = {
    {"from", true},   {"symbol", true}, {"owner", true}, {"to", true},
    {"amount", true}, TX_TAIL,          {NULL, false},
};
static const cli_optspec token_symbol_opts[] = {{"symbol", true}, {NULL, false}};
static const cli_optspec token_allowance_opts[] = {
    {"symbol", true}, {"owner", true}, {"spender", true}, {NULL, false}};
static const cli_optspec token_list_opts[] = {{"from", true}, {"limit", true}, {NULL, false}};
static const cli_optspec txopts_only[] = {TXOPTS, {NULL, false}};
static const cli_optspec stake_opts[] = {TXOPTS, {"amount", true}, {NULL, false}};
static const cli_optspec vote_opts[] = {
    TXOPTS, {"for", true, true}, {"none", false}, {NULL, false}};
static const cli_optspec delegate_register_opts[] = {
    TXOPTS,          {"name", true},       {"commission", true}, {"url", true},
    {"self-stake", true}, {"node-key", true}, {"onion", true},   {NULL, false}};
static const cli_optspec delegate_update_opts[] = {
    TXOPTS, {"commission", true}, {"url", true}, {"node-key", true}, {"add-self-stake", true},
    {NULL, false}};
static const cli_optspec evidence_opts[] = {
    TXOPTS, {"delegate", true}, {"header", true, true}, {"vote", true, true}, {NULL, false}};
static const cli_optspec delegate_list_opts[] = {{"start", true}, {"limit", true}, {NULL, false}};
static const cli_optspec testnet_up_opts[] = {
    {"delegates", true}, {"nodes", true},     {"full-nodes", true}, {"voters", true},
    {"dir", true},       {"interval", true}, {"base-port", true},  {"consensus", true},
    {NULL, false}};
static const cli_optspec testnet_status_opts[] = {{"dir", true}, {"summary", false}, {NULL, false}};
static const cli_optspec testnet_dir_opts[] = {{"dir", true}, {NULL, false}};

static const cli_cmd commands[] = {
    {"key", "new", cli_cmd_key_new, key_new_opts, 0, 0, "key new --name NAME [--type ed25519|p256]",
     "Generate a key and write it, encrypted, to the keystore."},
    {"key", "import", cli_cmd_key_import, key_import_opts, 0, 0,
     "key import --name NAME --pem FILE",
     "Import a PKCS#8 PEM private key (Ed25519 or P-256; FILE may be - for stdin)."},
    {"key", "list", cli_cmd_key_list, no_opts, 0, 0, "key list",
     "List the keys in the keystore (no password needed)."},
    {"key", "show", cli_cmd_key_show, no_opts, 1, 1, "key show NAME",
     "Show a key's type, address and public key (no password needed)."},
    {"key", "export", cli_cmd_key_export, key_export_opts, 1, 1, "key export NAME --yes",
     "Print a key's secret as PKCS#8 PEM (unencrypted: refused without --yes)."},
    {NULL, "info", cli_cmd_info, no_opts, 0, 0, "info", "Show the node's chain summary."},
    {NULL, "balance", cli_cmd_balance, no_opts, 1, 1, "balance ADDRESS|NAME",
     "Show an account's balance, locked funds and nonce."},
    {NULL, "supply", cli_cmd_supply, no_opts, 0, 0, "supply", "Show the SSP supply."},
    {"proof", "account", cli_cmd_proof_account, proof_opts, 1, 1,
     "proof account ADDRESS|NAME [--final | --height N]",
     "Fetch an account's Merkle proof and check it here against its block's state root "
     "(the head's, or the finalized height's with --final)."},
    {"proof", "token", cli_cmd_proof_token, proof_opts, 2, 2,
     "proof token SYMBOL ADDRESS|NAME [--final | --height N]",
     "Fetch a token balance's Merkle proof and check it here against its block's state root."},
    {"proof", "device", cli_cmd_proof_device, proof_opts, 1, 1,
     "proof device ADDRESS [--final | --height N]",
     "Fetch a device record's Merkle proof (registered? revoked?) and check it here."},
    {NULL, "block", cli_cmd_block, no_opts, 0, 1, "block [HEIGHT|ID]",
     "Show a block by height or 64-hex id (default: the head)."},
    {NULL, "tx", cli_cmd_tx, no_opts, 1, 1, "tx TXID", "Show a transaction and its status."},
    {NULL, "transfer", cli_cmd_transfer, transfer_opts, 0, 0,
     "transfer --from NAME --to ADDRESS|NAME --amount N [--fee N] [--memo TEXT]\n"
     "             [--expiry-blocks N] [--wait]",
     "Sign and submit an SSP transfer; --wait polls until it is in a block."},
    {"contract", "deploy", cli_cmd_contract_deploy, contract_deploy_opts, 1, 1,
     "contract deploy --from NAME FILE.lua [--args JSON-ARRAY] [--gas N] [--fee N] [--wait]",
     "Deploy a Lua contract (init gets --args); prints its address and txid. The fee is\n"
     "the base fee + gas x gas_price; unused gas is refunded."},
    {"contract", "call", cli_cmd_contract_call, contract_call_opts, 2, 2,
     "contract call --from NAME ADDRESS FUNCTION [--args JSON-ARRAY] [--value SSP]\n"
     "             [--gas N] [--fee N] [--wait]",
     "Call a contract function in a transaction; --wait prints the receipt (status,\n"
     "gas, fee paid, return value or error message, events)."},
    {"contract", "query", cli_cmd_contract_query, contract_query_opts, 2, 2,
     "contract query ADDRESS FUNCTION [--args JSON-ARRAY] [--from ADDRESS|NAME]",
     "Run a view function without a transaction; prints its return value as JSON."},
    {"contract", "events", cli_cmd_contract_events, contract_events_opts, 1, 1,
     "contract events ADDRESS [--name N] [--from-height H] [--to-height H] [--limit N]",
     "List a contract's events (at most 10,000 blocks and 1,000 events per request)."},
    {"contract", "code", cli_cmd_contract_code, no_opts, 1, 1, "contract code ADDRESS",
     "Show a contract's creator, code hash, functions and source."},
    {"mfr", "register", cli_cmd_mfr_register, mfr_name_opts, 0, 0,
     "mfr register --from NAME --name MFR [--wait]",
     "Ask to become a manufacturer; the producer set admits it (mfr approve)."},
    {"mfr", "approve", cli_cmd_mfr_approve, mfr_decision_opts, 0, 0,
     "mfr approve --from NAME --name MFR --producer-key FILE [--wait]",
     "As a producer (its keystore signs; SSP_PRODUCER_PASSWORD, default empty), approve a\n"
     "manufacturer; --from pays the fee. Admitted once more than 2/3 of producers approve."},
    {"mfr", "expel", cli_cmd_mfr_expel, mfr_decision_opts, 0, 0,
     "mfr expel --from NAME --name MFR --producer-key FILE [--wait]",
     "As a producer, vote to revoke an admitted manufacturer (more than 2/3 revoke it)."},
    {"mfr", "model", cli_cmd_mfr_model, mfr_model_opts, 1, 1,
     "mfr model add --from NAME --name MFR --model M --firmware-hash HEX[,HEX...]\n"
     "             [--capabilities N] [--wait]",
     "Publish a model and the firmware measurements (SHA-256) its devices may run."},
    {"mfr", "certify", cli_cmd_mfr_certify, mfr_certify_opts, 0, 0,
     "mfr certify --from NAME --name MFR --model M --serial S --device-pubkey FILE|HEX\n"
     "             [--capabilities N] [--claim-secret CODE] [--out FILE]",
     "Write a device certificate signed by the manufacturer's key (offline; no tx). Prints\n"
     "the certificate and the claim secret that goes in the box."},
    {"mfr", "revoke", cli_cmd_mfr_revoke, mfr_revoke_opts, 0, 0,
     "mfr revoke --from NAME (--device ADDRESS | --name MFR (--serial S[,S…] | --batch FILE)) "
     "[--wait]",
     "Revoke one of your devices, or up to 256 by serial in one tx (--batch: one serial a "
     "line): every tx they send is refused from then on."},
    {"mfr", "show", cli_cmd_mfr_show, no_opts, 1, 1, "mfr show MFR",
     "Show a manufacturer: status, account, approvals."},
    {"mfr", "list", cli_cmd_mfr_list, no_opts, 0, 0, "mfr list", "List manufacturers."},
    {"device", "claim", cli_cmd_device_claim, device_claim_opts, 0, 0,
     "device claim --from NAME (--device ADDRESS | --manufacturer MFR --serial S)\n"
     "             --secret CODE [--wait]",
     "Become a device's owner with the claim secret from its box."},
    {"device", "transfer", cli_cmd_device_transfer, device_transfer_opts, 0, 0,
     "device transfer --from NAME (--device ADDRESS | --manufacturer MFR --serial S)\n"
     "             --to ADDRESS|NAME [--wait]",
     "Hand your device to a new owner."},
    {"device", "show", cli_cmd_device_show, no_opts, 1, 1, "device show ADDRESS",
     "Show a device: model, manufacturer, owner, status, last attestation."},
    {"device", "list", cli_cmd_device_list, device_list_opts, 0, 0,
     "device list [--owner ADDRESS|NAME] [--manufacturer MFR]", "List devices."},
    {"device", "enroll", cli_cmd_device_enroll, device_enroll_opts, 0, 0,
     "device enroll --from DEVICE-KEY --cert FILE|HEX [--wait]",
     "As the device (its key in this keystore), put it on chain with its certificate;\n"
     "the tx's signature proves the device holds the certified key."},
    {"device", "attest", cli_cmd_device_attest, device_attest_opts, 0, 0,
     "device attest --from DEVICE-KEY --firmware-hash HEX --counter N [--wait]",
     "As the device, attest its firmware (the counter must exceed the last one)."},
    {"token", "create", cli_cmd_token_create, token_create_opts, 0, 0,
     "token create --from NAME --symbol SYM --name TEXT [--decimals N] --max-supply N\n"
     "             [--no-burn] [--fixed-supply] [--fee N] [--expiry-blocks N] [--wait]",
     "Create an IOT_Coin token; the chain takes its creation fee in SSP for the ecosystem\n"
     "pool. --fixed-supply issues all of --max-supply to the creator at once."},
    {"token", "issue", cli_cmd_token_issue, token_to_opts, 0, 0,
     "token issue --from NAME --symbol SYM --to ADDRESS|NAME --amount N [--wait]",
     "Issue new tokens (the token's creator only, up to its max supply)."},
    {"token", "transfer", cli_cmd_token_transfer, token_to_opts, 0, 0,
     "token transfer --from NAME --symbol SYM --to ADDRESS|NAME --amount N [--wait]",
     "Send tokens."},
    {"token", "burn", cli_cmd_token_burn, token_burn_opts, 0, 0,
     "token burn --from NAME --symbol SYM --amount N [--wait]",
     "Destroy some of your own tokens (burnable tokens only)."},
    {"token", "approve", cli_cmd_token_approve, token_approve_opts, 0, 0,
     "token approve --from NAME --symbol SYM --spender ADDRESS|NAME --amount N [--wait]",
     "Let a spender move up to N of your tokens (replaces the allowance; 0 revokes)."},
    {"token", "transfer-from", cli_cmd_token_transfer_from, token_transfer_from_opts, 0, 0,
     "token transfer-from --from NAME --symbol SYM --owner ADDRESS|NAME --to ADDRESS|NAME\n"
     "             --amount N [--wait]",
     "As a spender (--from), move an owner's tokens within your allowance."},
    {"token", "balance", cli_cmd_token_balance, token_symbol_opts, 1, 1,
     "token balance --symbol SYM ADDRESS|NAME", "Show an account's token balance."},
    {"token", "allowance", cli_cmd_token_allowance, token_allowance_opts, 0, 0,
     "token allowance --symbol SYM --owner ADDRESS|NAME --spender ADDRESS|NAME",
     "Show how much a spender may still move of an owner's tokens."},
    {"token", "info", cli_cmd_token_info, no_opts, 1, 1, "token info SYMBOL",
     "Show a token: name, decimals, supply, issuer, flags."},
    {"token", "list", cli_cmd_token_list, token_list_opts, 0, 0,
     "token list [--from SYMBOL] [--limit N]", "List tokens by symbol, 100 per page."},
    {NULL, "stake", cli_cmd_stake, stake_opts, 0, 0, "stake --from NAME --amount N [--wait]",
     "Lock SSP as stake: it counts, whole, for every delegate you vote for."},
    {NULL, "unstake", cli_cmd_unstake, stake_opts, 0, 0,
     "unstake --from NAME --amount N [--wait]",
     "Stop staking N SSP: it leaves your votes now and can be withdrawn after the unlock\n"
     "delay (3 days on mainnet; seconds on a devnet)."},
    {NULL, "withdraw", cli_cmd_withdraw, txopts_only, 0, 0, "withdraw --from NAME [--wait]",
     "Move every unlocked stake (and unregistered self-stake) back to your balance."},
    {NULL, "vote", cli_cmd_vote, vote_opts, 0, 0,
     "vote --from NAME (--for DELEGATE [--for DELEGATE ...] | --none) [--wait]",
     "Vote for up to 30 delegates with your whole stake; replaces your previous votes."},
    {NULL, "votes", cli_cmd_votes, no_opts, 1, 1, "votes ADDRESS|NAME",
     "Show an account's stake, votes and unlocking entries."},
    {"rewards", "show", cli_cmd_rewards_show, no_opts, 1, 1, "rewards show ADDRESS|NAME",
     "Show what an account may claim: commissions and voter rewards (owed + pending),\n"
     "and the current round's emission."},
    {"rewards", "claim", cli_cmd_rewards_claim, txopts_only, 0, 0,
     "rewards claim --from NAME [--wait]", "Move every reward you are owed to your balance."},
    {"delegate", "register", cli_cmd_delegate_register, delegate_register_opts, 0, 0,
     "delegate register --from NAME --name DELEGATE --self-stake N --node-key KEY\n"
     "             [--commission PCT] [--url URL] [--onion HEX] [--wait]",
     "Become a delegate candidate: locks the self-stake (10 x self-stake caps your weight)\n"
     "and commits the first element of your hash onion."},
    {"delegate", "update", cli_cmd_delegate_update, delegate_update_opts, 0, 0,
     "delegate update --from NAME [--commission PCT] [--url URL] [--node-key KEY]\n"
     "             [--add-self-stake N] [--wait]",
     "Change your commission, URL or node key, or add self-stake."},
    {"delegate", "unregister", cli_cmd_delegate_unregister, txopts_only, 0, 0,
     "delegate unregister --from NAME [--wait]",
     "Stop being a candidate: the self-stake unlocks after 28 days (seconds on a devnet)."},
    {"delegate", "evidence", cli_cmd_delegate_evidence, evidence_opts, 0, 0,
     "delegate evidence --from NAME --delegate NAME (--header HEX --header HEX | --vote HEX "
     "--vote HEX) [--wait]",
     "Report a delegate whose node key signed two blocks for one slot (two encoded headers,\n"
     "as chain_getHeader's raw) or two conflicting finality votes (a double or surround\n"
     "vote: link and signature, 144 bytes each): 10% of its self-stake is slashed, half of\n"
     "it paid to you, and it is banned. Nodes submit this themselves when they see it."},
    {"delegate", "list", cli_cmd_delegate_list, delegate_list_opts, 0, 0,
     "delegate list [--start RANK] [--limit N]",
     "List registered delegates by capped weight: rank, weight, self-stake, votes."},
    {"delegate", "show", cli_cmd_delegate_show, no_opts, 1, 1, "delegate show DELEGATE",
     "Show a delegate: rank, capped weight, self-stake, votes, commission, node key."},
    {"net", "info", cli_cmd_net_info, no_opts, 0, 0, "net info",
     "Show the node's P2P identity, listen address, sync state and peer count."},
    {"net", "peers", cli_cmd_net_peers, no_opts, 0, 0, "net peers",
     "List the connected peers: address, direction, height, traffic, score."},
    {"testnet", "up", cli_cmd_testnet_up, testnet_up_opts, 0, 0,
     "testnet up [--delegates N] [--full-nodes K] [--voters V] [--dir DIR] [--interval MS] "
     "[--base-port P] [--consensus bft|rr]",
     "Start a local network of N producers (+K full nodes) on loopback; again after down "
     "continues it."},
    {"testnet", "status", cli_cmd_testnet_status, testnet_status_opts, 0, 0,
     "testnet status [--dir DIR] [--summary]",
     "Show every testnet node's height, head, final height, peers, memory, and a summary: "
     "rounds, missed slots, finality lag, participation."},
    {"testnet", "down", cli_cmd_testnet_down, testnet_dir_opts, 0, 0, "testnet down [--dir DIR]",
     "Stop the testnet's nodes (their chains stay in DIR)."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/*
 * What every option means and its default, for `ssp … --help`. An entry with
 * a command ("token list") is for that command only; the others for any
 * command that accepts the option. Every option of every command has one
 * (tests/functional/test_cli_help.py checks).
 */
typedef struct {
	const char *cmd; /* "group name" or "name", NULL for any */
	const char *opt;
	const char *arg; /* the value's placeholder, NULL for a flag */
	const char *help;
} opt_doc;

static const opt_doc opt_docs[] = {
    {"testnet up", "delegates", "N", "producers (delegates) in a new testnet, 1..256 (default 4)"},
    {"testnet up", "nodes", "N", "the same as --delegates, its older name (default 4)"},
    {"testnet up", "voters", "V", "funded voter accounts voter0.. in a new testnet, 0..64 "
                                  "(default 4)"},
    {"testnet up", "full-nodes", "K", "non-producing nodes in a new testnet (default 0)"},
    {"testnet up", "dir", "DIR", "the testnet's directory (default .testnet)"},
    {"testnet up", "consensus", "bft|rr",
     "a new testnet's consensus: BFT votes and finality (default), or round-robin"},
    {"testnet up", "interval", "MS", "slot length of a new testnet, >= 50 (default 500)"},
    {"testnet up", "base-port", "P", "first port: node i gets P+2i (P2P) and P+2i+1 (RPC) "
                                     "(default 26600)"},
    {"testnet status", "dir", "DIR", "the testnet's directory (default .testnet)"},
    {"testnet status", "summary", NULL, "the summary only (--json: {summary, nodes}; default: every node, then the summary)"},
    {"testnet down", "dir", "DIR", "the testnet's directory (default .testnet)"},
    {"key new", "name", "NAME", "key name (required): A-Z a-z 0-9 _ . -, up to 64"},
    {"key new", "type", "TYPE", "ed25519 or p256 (default ed25519)"},
    {"key import", "name", "NAME", "key name for the imported key (required)"},
    {"key import", "pem", "FILE", "PKCS#8 PEM private key, - for stdin (required)"},
    {"delegate evidence", "delegate", "NAME",
     "the delegate that signed both blocks or votes (required)"},
    {"delegate evidence", "header", "HEX",
     "an encoded header (chain_getHeader's raw); give two, of one slot (required: two "
     "--header or two --vote)"},
    {"delegate evidence", "vote", "HEX",
     "a signed vote: u64 source height | source id | u64 target height | target id | sig[64] "
     "(144 bytes); give two that conflict (required: two --vote or two --header)"},
    {"key export", "yes", NULL, "really print the secret key, unencrypted (required)"},
    {"contract query", "from", "ADDRESS|NAME", "the caller the function sees (default: none)"},
    {"contract query", "args", "JSON-ARRAY", "the function's arguments (default [])"},
    {"contract events", "name", "NAME", "only events of this name (default: all)"},
    {"contract events", "from-height", "H", "first block (default: to-height - 9,999)"},
    {"contract events", "to-height", "H", "last block (default: the head)"},
    {"contract events", "limit", "N", "at most N events, 1..1,000 (default 1,000)"},
    {"token create", "name", "TEXT", "the token's name, 1..64 bytes of UTF-8 (required)"},
    {"token create", "decimals", "N", "decimal places of the token, 0..18 (default 0)"},
    {"token create", "max-supply", "N", "the most that can ever exist, in tokens (required)"},
    {"token create", "no-burn", NULL, "holders may not burn (default: burnable)"},
    {"token create", "fixed-supply", NULL,
     "issue all of --max-supply to --from now, never more (default: mintable)"},
    {"mfr revoke", "name", "MFR", "your manufacturer: revoke a batch by serial (required "
                                  "with --serial or --batch)"},
    {"mfr revoke", "serial", "S[,S...]", "serials to revoke in one tx, up to 256 (default: "
                                         "none)"},
    {"mfr revoke", "batch", "FILE", "a file of serials, one a line, # comments, up to 256 "
                                    "(default: none)"},
    {"mfr revoke", "device", "ADDRESS", "the one device to revoke (required without --name)"},
    {NULL, "final", NULL, "the proof at the finalized height (default: the head)"},
    {NULL, "height", "H", "the proof at height H, from the finalized one to the head "
                          "(default: the head)"},
    {"mfr register", "name", "MFR", "the manufacturer's name (required)"},
    {"mfr approve", "name", "MFR", "the manufacturer (required)"},
    {"mfr expel", "name", "MFR", "the manufacturer (required)"},
    {"mfr model", "name", "MFR", "your manufacturer (required)"},
    {"mfr certify", "name", "MFR", "your manufacturer (required)"},
    {"mfr certify", "from", "NAME", "the manufacturer's account key that signs (required)"},
    {NULL, "producer-key", "FILE", "the producer's keystore that signs the decision (required)"},
    {NULL, "model", "M", "the model (required)"},
    {NULL, "firmware-hash", "HEX", "SHA-256 firmware measurement(s), comma-separated (required)"},
    {NULL, "capabilities", "N", "capability bits (default 0)"},
    {NULL, "serial", "S", "the device's serial (required, unless --device is given)"},
    {NULL, "device-pubkey", "FILE|HEX", "the device's public key (required)"},
    {NULL, "claim-secret", "CODE", "the owner's claim secret (default: a new random one)"},
    {NULL, "out", "FILE", "write the certificate there (default: stdout)"},
    {NULL, "device", "ADDRESS", "the device (required, or --manufacturer and --serial)"},
    {"device list", "manufacturer", "MFR", "only this manufacturer's devices (default: all)"},
    {"device list", "owner", "ADDRESS|NAME", "only this owner's devices (default: all)"},
    {NULL, "manufacturer", "MFR", "with --serial, names the device (required without --device)"},
    {NULL, "secret", "CODE", "the claim secret from the device's box (required)"},
    {NULL, "cert", "FILE|HEX", "the device certificate from mfr certify (required)"},
    {NULL, "counter", "N", "attestation counter, above the last one (required)"},
    {"token list", "from", "SYMBOL", "first symbol of the page (default: the first)"},
    {"token list", "limit", "N", "tokens per page, 1..100 (default 100)"},
    {"token allowance", "owner", "ADDRESS|NAME", "whose tokens (required)"},
    {"token transfer-from", "owner", "ADDRESS|NAME", "whose tokens are moved (required)"},
    {"vote", "for", "DELEGATE", "a delegate's name; repeat for up to 30 (required, or --none)"},
    {"vote", "none", NULL, "vote for nobody: clears your votes (default: off)"},
    {"delegate register", "name", "DELEGATE",
     "3 to 32 of a-z 0-9 . _ -, starting with a letter (required)"},
    {NULL, "self-stake", "N", "SSP locked as self-stake, at least the genesis minimum (required)"},
    {"delegate register", "node-key", "KEY",
     "the producing node's key: ed25519:HEX, p256:HEX or a keystore name (required)"},
    {"delegate update", "node-key", "KEY",
     "a new node key: ed25519:HEX, p256:HEX or a keystore name (default: unchanged)"},
    {"delegate register", "commission", "PCT", "your share of rewards, 0 to 100 (default 0)"},
    {"delegate update", "commission", "PCT", "a new commission, 0 to 100 (default: unchanged)"},
    {"delegate register", "url", "URL", "where voters learn about you (default: none)"},
    {"delegate update", "url", "URL", "a new URL (default: unchanged)"},
    {NULL, "onion", "HEX",
     "your hash onion's first element, 64 hex (default: the node key's own onion when "
     "--node-key names an Ed25519 keystore key, else made from a new seed, printed)"},
    {NULL, "add-self-stake", "N", "SSP added to your self-stake (default 0)"},
    {"delegate list", "start", "RANK", "first rank of the page (default 1)"},
    {"delegate list", "limit", "N", "delegates per page, 1..100 (default 100)"},
    {NULL, "from", "NAME", "the keystore key that signs and pays (required)"},
    {NULL, "to", "ADDRESS|NAME", "the recipient (required)"},
    {NULL, "amount", "N",
     "how much, a decimal with up to 8 places (tokens: their decimals) "
     "(required)"},
    {NULL, "symbol", "SYM", "the token's symbol, [A-Z][A-Z0-9]{1,11} (required)"},
    {NULL, "spender", "ADDRESS|NAME", "who may spend (required)"},
    {NULL, "memo", "TEXT", "up to 256 bytes of UTF-8 (default: none)"},
    {NULL, "args", "JSON-ARRAY", "arguments of init/the function (default [])"},
    {NULL, "value", "SSP", "SSP sent to a payable function (default 0)"},
    {NULL, "gas", "N", "gas limit (default 1,000,000); unused gas is refunded"},
    {NULL, "fee", "SSP", "fee (default: min_fee + fee_per_byte x size [+ gas x gas_price])"},
    {NULL, "expiry-blocks", "N", "blocks until the transaction expires (default 600)"},
    {NULL, "wait", NULL, "wait until it is in a block, up to --timeout (default: do not wait)"},
};

/* The doc of option `opt` of command `c`, NULL if none. */
static const opt_doc *find_doc(const cli_cmd *c, const char *opt)
{
	char full[64];

	snprintf(full, sizeof(full), "%s%s%s", c->group ? c->group : "", c->group ? " " : "",
	         c->name);
	for (size_t i = 0; i < sizeof(opt_docs) / sizeof(opt_docs[0]); i++)
		if (opt_docs[i].cmd && strcmp(opt_docs[i].cmd, full) == 0 &&
		    strcmp(opt_docs[i].opt, opt) == 0)
			return &opt_docs[i];
	for (size_t i = 0; i < sizeof(opt_docs) / sizeof(opt_docs[0]); i++)
		if (!opt_docs[i].cmd && strcmp(opt_docs[i].opt, opt) == 0) return &opt_docs[i];
	return NULL;
}

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  --rpc URL         node JSON-RPC endpoint (env SSP_RPC; default " CLI_DEFAULT_RPC ")\n"
    "  --keystore DIR    keystore directory (env SSP_KEYSTORE; default ~/.ssp/keys)\n"
    "  --json            print one JSON document on stdout\n"
    "  --network NET     dev, test or main: address prefix for local keys when the\n"
    "                    node is not asked (default: the node's, else dev)\n"
    "  --timeout SECONDS how long --wait waits (default 30)\n"
    "  -h, --help        this help;  --version  the version\n"
    "Passwords come from $SSP_PASSWORD if set, else from the terminal.\n";

static void print_help(const cli_cmd *cmd, const char *group)
{
	char left[64];

	if (cmd) {
		printf("usage: ssp %s\n\n%s\n", cmd->usage, cmd->summary);
		if (cmd->opts[0].name) printf("\nOptions:\n");
		for (size_t i = 0; cmd->opts[i].name; i++) {
			const opt_doc *d = find_doc(cmd, cmd->opts[i].name);
			snprintf(left, sizeof(left), "--%s%s%s", cmd->opts[i].name,
			         cmd->opts[i].has_arg ? " " : "",
			         cmd->opts[i].has_arg ? (d && d->arg ? d->arg : "VALUE") : "");
			printf("  %-26s %s\n", left, d ? d->help : "");
		}
		printf("\n%s", global_help);
		return;
	}
	if (group) {
		printf("usage: ssp %s <command> [arguments]\n\nCommands:\n", group);
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (commands[i].group && strcmp(commands[i].group, group) == 0)
				printf("  %-15s %.*s\n", commands[i].name,
				       (int)strcspn(commands[i].summary, "\n"),
				       commands[i].summary);
		printf("\n'ssp %s COMMAND --help' shows a command's options.\n\n%s", group,
		       global_help);
		return;
	}
	printf("usage: ssp [options] <command> [arguments]\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %s\n", commands[i].usage);
	printf("\n'ssp COMMAND --help' shows a command's options, 'ssp key --help' (contract, "
	       "token) a group's commands.\n\n%s",
	       global_help);
}

const char *cli_opt(const cli_args *a, const char *name)
{
	for (size_t i = 0; a->spec[i].name; i++)
		if (strcmp(a->spec[i].name, name) == 0) return a->val[i];
	return NULL;
}

/* Index of the option named by tok[0..len) in spec, or -1. */
static int find_opt(const cli_optspec *spec, const char *name, size_t len)
{
	for (int i = 0; spec[i].name; i++)
		if (strlen(spec[i].name) == len && strncmp(spec[i].name, name, len) == 0) return i;
	return -1;
}

/* The command named by words, NULL if none (yet); *prefix says whether more words may match. */
static const cli_cmd *find_cmd(const char *const *words, size_t n, bool *prefix)
{
	*prefix = false;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const cli_cmd *c = &commands[i];
		if (c->group) {
			if (strcmp(c->group, words[0]) != 0) continue;
			if (n == 1) {
				*prefix = true;
				continue;
			}
			if (strcmp(c->name, words[1]) == 0) return c;
		} else if (n == 1 && strcmp(c->name, words[0]) == 0) {
			return c;
		}
	}
	return NULL;
}

typedef struct {
	const char *global[G_COUNT];
	const cli_cmd *cmd;
	const char *words[2];
	size_t nwords;
	cli_args args;
} parsed;

/* One pass over argv: global options anywhere, the command's options after its name. */
static int parse(parsed *p, int argc, char **argv)
{
	bool opts_done = false;
	memset(p, 0, sizeof(*p));
	p->args.spec = no_opts;
	for (int i = 1; i < argc; i++) {
		const char *tok = argv[i];
		if (!opts_done && strcmp(tok, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (!opts_done && tok[0] == '-' && tok[1]) {
			const char *name, *eq, *value = NULL;
			const char **slot;
			const cli_optspec *spec;
			size_t len;
			int idx;
			if (strcmp(tok, "-h") == 0) {
				name = "help";
			} else if (tok[1] == '-') {
				name = tok + 2;
			} else {
				return cli_usage("unknown option '%s'", tok);
			}
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
			if ((idx = find_opt(global_opts, name, len)) >= 0) {
				spec = &global_opts[idx];
				slot = &p->global[idx];
			} else if (p->cmd && (idx = find_opt(p->cmd->opts, name, len)) >= 0) {
				spec = &p->cmd->opts[idx];
				slot = &p->args.val[idx];
			} else {
				return cli_usage("unknown option '--%.*s'%s%s%s", (int)len, name,
				                 p->cmd ? " for 'ssp " : "",
				                 p->cmd ? p->cmd->usage : "", p->cmd ? "'" : "");
			}
			if (spec->has_arg) {
				if (eq)
					value = eq + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return cli_usage("option --%s needs a value", spec->name);
			} else {
				if (eq) return cli_usage("option --%s takes no value", spec->name);
				value = "";
			}
			if (spec->multi) {
				if (p->args.nmulti == CLI_MAX_MULTI)
					return cli_usage("option --%s given more than %d times",
					                 spec->name, CLI_MAX_MULTI - 1);
				p->args.multi[p->args.nmulti++] = value;
				if (!*slot) *slot = value;
				continue;
			}
			if (*slot) return cli_usage("option --%s given twice", spec->name);
			*slot = value;
			continue;
		}
		if (!p->cmd) {
			bool prefix;
			p->words[p->nwords++] = tok;
			p->cmd = find_cmd(p->words, p->nwords, &prefix);
			if (p->cmd) p->args.spec = p->cmd->opts;
			if (!p->cmd && !prefix)
				return cli_usage("unknown command '%s%s%s' (see ssp --help)",
				                 p->words[0], p->nwords > 1 ? " " : "",
				                 p->nwords > 1 ? p->words[1] : "");
			continue;
		}
		if (p->args.npos == p->cmd->max_pos || p->args.npos == CLI_MAX_POS)
			return cli_usage("unexpected argument '%s' (usage: ssp %s)", tok,
			                 p->cmd->usage);
		p->args.pos[p->args.npos++] = tok;
	}
	if (p->global[G_HELP] || p->global[G_VERSION]) return CLI_OK;
	if (!p->cmd && p->nwords == 0) return cli_usage("no command given (see ssp --help)");
	if (!p->cmd) return cli_usage("'%s' needs a subcommand (see ssp --help)", p->words[0]);
	if (p->args.npos < p->cmd->min_pos)
		return cli_usage("missing argument (usage: ssp %s)", p->cmd->usage);
	return CLI_OK;
}

/* Fills the context from options, then the environment, then defaults. */
static int setup(cli_ctx *c, const parsed *p)
{
	const char *ks = p->global[G_KEYSTORE];
	const char *tmo = p->global[G_TIMEOUT];
	size_t n;

	memset(c, 0, sizeof(*c));
	c->json = p->global[G_JSON] != NULL;
	c->rpc_url = p->global[G_RPC] ? p->global[G_RPC] : getenv("SSP_RPC");
	if (!c->rpc_url) c->rpc_url = CLI_DEFAULT_RPC;
	if (!*c->rpc_url) return cli_usage("empty --rpc URL");

	c->network = p->global[G_NETWORK];
	if (c->network && !ssp_network_hrp(c->network))
		return cli_usage("unknown --network '%s' (dev, test or main)", c->network);

	c->timeout_s = CLI_DEFAULT_TIMEOUT_S;
	if (tmo && (cli_parse_u64(&c->timeout_s, tmo) != 0 || c->timeout_s == 0 ||
	            c->timeout_s > TIMEOUT_MAX_S))
		return cli_usage("invalid --timeout '%s' (1 to %d seconds)", tmo, TIMEOUT_MAX_S);

	if (!ks) ks = getenv("SSP_KEYSTORE");
	if (ks && !*ks) return cli_usage("empty --keystore directory");
	if (ks) {
		n = (size_t)snprintf(c->keystore, sizeof(c->keystore), "%s", ks);
	} else {
		const char *home = getenv("HOME");
		struct passwd *pw;
		if ((!home || !*home) && (pw = getpwuid(getuid())) != NULL) home = pw->pw_dir;
		if (!home || !*home)
			return cli_fail("cannot find the home directory; use --keystore DIR");
		n = (size_t)snprintf(c->keystore, sizeof(c->keystore), "%s/.ssp/keys", home);
	}
	if (n >= sizeof(c->keystore) - CLI_NAME_MAX - 2) return cli_fail("keystore path too long");
	while (n > 1 && c->keystore[n - 1] == '/')
		c->keystore[--n] = '\0';
	return CLI_OK;
}

int main(int argc, char **argv)
{
	parsed p;
	cli_ctx ctx;
	int rc = parse(&p, argc, argv);

	if (p.global[G_HELP]) {
		print_help(p.cmd, !p.cmd && p.nwords == 1 ? p.words[0] : NULL);
		return CLI_OK;
	}
	if (!rc && p.global[G_VERSION]) {
		printf("ssp %s\n", SSP_VERSION);
		return CLI_OK;
	}
	memset(&ctx, 0, sizeof(ctx));
	if (!rc) rc = setup(&ctx, &p);
	if (!rc && ssp_core_init() != 0) rc = cli_fail("cannot initialise the crypto libraries");
	if (!rc) rc = p.cmd->fn(&ctx, &p.args);
	ssp_rpc_client_free(ctx.rpc);
	if (fflush(stdout) != 0 || ferror(stdout)) rc = cli_fail("cannot write to stdout");
	if (rc || cli_error_text()) {
		const char *why = cli_error_text();
		fprintf(stderr, "ssp: error: %s\n", why ? why : "failed");
		return rc ? rc : CLI_FAIL;
	}
	return CLI_OK;
}
