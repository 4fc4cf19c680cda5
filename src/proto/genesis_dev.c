/*
 * genesis_dev.c — the devnet genesis document (proto layer): the JSON text
 * `sspd --dev` starts from and `ssp testnet up` extends with its producer
 * set. Written with snprintf, not jansson, so the wallet builds it with
 * core alone; the text is byte for byte what jansson's
 * json_dumps(JSON_INDENT(2) | JSON_PRESERVE_ORDER) gives for the document
 * (tests/unit/test_proto_codecs.c compares the two). Every value is a
 * number, a bech32m address, a key in text or a fixed string: nothing
 * needs escaping. Staking on a devnet unlocks in seconds, not days, and
 * the pool pays 100 SSP per round of 21 slots (docs/dpos.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/proto.h"

static void derived_addr(ssp_addr *a, const char *label)
{
	ssp_hash h;
	ssp_sha256(&h, label, strlen(label));
	memcpy(a->b, h.b, SSP_ADDR_LEN);
}

/* The document, in jansson's JSON_INDENT(2) layout (no final newline). */
#define DEV_FMT                                        \
	"{\n"                                          \
	"  \"chain_id\": \"ssp-devnet\",\n"            \
	"  \"network\": \"dev\",\n"                    \
	"  \"genesis_time\": %lld,\n"                  \
	"  \"producer\": \"%s\",\n"                    \
	"  \"params\": {\n"                            \
	"    \"block_interval_ms\": 1000,\n"           \
	"    \"max_block_bytes\": 1048576,\n"          \
	"    \"max_block_txs\": 20000,\n"              \
	"    \"min_fee\": \"0.00001\",\n"              \
	"    \"fee_per_byte\": \"0.0000001\",\n"       \
	"    \"month_seconds\": 2592000,\n"            \
	"    \"max_expiry_blocks\": 100000\n"          \
	"  },\n"                                       \
	"  \"dpos\": {\n"                              \
	"    \"vote_unlock_slots\": 5,\n"              \
	"    \"self_unlock_slots\": 10,\n"             \
	"    \"min_self_stake\": \"100\",\n"           \
	"    \"set_size\": 21,\n"                      \
	"    \"standby\": 0,\n"                        \
	"    \"max_rank\": 200,\n"                     \
	"    \"round_reward\": \"100\",\n"              \
	"    \"ban_slots\": 60,\n"                      \
	"    \"prod_window_rounds\": 24,\n"             \
	"    \"probation_rounds\": 3,\n"                \
	"    \"deactivate_misses\": 20,\n"              \
	"    \"deactivate_slots\": 240\n"               \
	"  },\n"                                       \
	"  \"allocations\": [\n"                       \
	"    {\n"                                      \
	"      \"category\": \"private_placement\",\n" \
	"      \"address\": \"%s\",\n"                 \
	"      \"amount\": \"2500000000\"\n"           \
	"    },\n"                                     \
	"    {\n"                                      \
	"      \"category\": \"foundation\",\n"        \
	"      \"address\": \"%s\",\n"                 \
	"      \"amount\": \"2000000000\"\n"           \
	"    },\n"                                     \
	"    {\n"                                      \
	"      \"category\": \"team\",\n"              \
	"      \"address\": \"%s\",\n"                 \
	"      \"amount\": \"1000000000\"\n"           \
	"    },\n"                                     \
	"    {\n"                                      \
	"      \"category\": \"ecosystem_pool\",\n"    \
	"      \"amount\": \"4500000000\"\n"           \
	"    }\n"                                      \
	"  ]\n"                                        \
	"}"

char *ssp_genesis_dev_json(const ssp_addr *dev, const ssp_pubkey *producer, uint64_t time_ms)
{
	char devs[96], prod[96], fnd[96], team[96];
	ssp_addr f, t;
	/* keyless addresses: nobody can spend from them on a devnet */
	derived_addr(&f, "smartshare/devnet/foundation");
	derived_addr(&t, "smartshare/devnet/team");
	ssp_addr_encode(devs, sizeof devs, "dssp", dev);
	ssp_pubkey_text(prod, sizeof prod, producer);
	ssp_addr_encode(fnd, sizeof fnd, "dssp", &f);
	ssp_addr_encode(team, sizeof team, "dssp", &t);
	/* json_int_t, as jansson printed it */
	int n = snprintf(NULL, 0, DEV_FMT, (long long)time_ms, prod, devs, fnd, team);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (s) snprintf(s, (size_t)n + 1, DEV_FMT, (long long)time_ms, prod, devs, fnd, team);
	return s;
}
