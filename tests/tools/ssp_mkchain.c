/*
 * ssp_mkchain.c — builds a long chain fast (test and bench infrastructure):
 * writes DIR/genesis.json (a devnet-shaped genesis whose time lies far
 * enough in the past that every block's slot is already over) and then
 * produces BLOCKS blocks back to back through the chain API, exactly as
 * sspd's producer does (ssp_produce_block: mempool candidates, execution,
 * signature, commit), without waiting for the clock. The blocks carry SSP
 * transfers from the funded `dev` account to a ring of recipients and, with
 * --contract, a deploy of that contract (iot20.lua's init signature) in
 * block 1 and `transfer` calls of it every --call-every blocks. The result
 * is an ordinary datadir that `sspd --genesis DIR/genesis.json --datadir DIR`
 * serves to peers (as a full node: no producer key is written).
 *
 * Prints `height H`, `head_id HEX`, `state_root HEX`, `transfers N`,
 * `calls N`, `recipient ADDRESS` (the first of the ring) and with
 * --contract `contract ADDRESS` on success. Commits are not fsync'd (the datadir is made for a
 * test; a crash means running the tool again). Exit 0 on success, 1 on any
 * failure.
 *
 * usage: ssp_mkchain --datadir DIR --blocks N [--transfers-per-block T]
 *                    [--contract FILE] [--call-every K] [--interval MS]
 *                    [--chain-id ID] [--map-size MIB]
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssp/chain.h"
#include "ssp/contract.h"
#include "ssp/modules.h"

#define RECIPIENTS 64
#define DEPLOY_GAS 1000000
#define CALL_GAS 60000
#define TOKEN_SUPPLY 1000000000000LL
#define EXPIRY_MARGIN 1000 /* blocks beyond the last one */
#define TAIL_SLOTS 50      /* slots between the last block and "now" */

static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ssp_mkchain: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static void derive(ssp_seckey *sk, ssp_pubkey *pk, const char *label)
{
	ssp_hash seed;
	ssp_sha256(&seed, label, strlen(label));
	if (ssp_seckey_from_raw(sk, SSP_KEY_ED25519, seed.b, 32) || ssp_key_public(pk, sk)) abort();
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) return NULL;
	char *buf = malloc(SSP_VM_SOURCE_MAX + 1);
	*n = buf ? fread(buf, 1, SSP_VM_SOURCE_MAX + 1, f) : 0;
	fclose(f);
	if (buf && (*n == 0 || *n > SSP_VM_SOURCE_MAX)) {
		free(buf);
		return NULL;
	}
	return buf;
}

typedef struct {
	ssp_chain *c;
	ssp_mempool *m;
	const ssp_seckey *dev;
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	uint64_t nonce, expiry;
} ctx;

/* Signs one tx of dev's with the next nonce and admits it to the pool. */
static int add_tx(ctx *x, uint16_t type, const ssp_buf *payload, uint64_t fee)
{
	ssp_tx_build tb = {.chain_id = x->chain_id,
	                   .type = type,
	                   .nonce = x->nonce,
	                   .fee = fee,
	                   .expiry = x->expiry,
	                   .payload = payload->data,
	                   .payload_len = payload->len,
	                   .include_pubkey = x->nonce == 0};
	uint8_t *raw;
	size_t len;
	ssp_hash txid;
	int rc = payload->err ? payload->err : ssp_tx_sign(&raw, &len, &txid, &tb, x->dev);
	if (rc) return rc;
	rc = ssp_mempool_add(x->m, raw, len, true, &txid);
	free(raw);
	if (!rc) x->nonce++;
	return rc;
}

static int call_fee(const ssp_chain *c, size_t len, uint64_t gas, uint64_t *fee)
{
	return ssp_contract_min_fee(ssp_genesis_params(ssp_chain_genesis(c)), len + 512, gas, fee);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *contract = NULL, *chain_id = "ssp-mkchain";
	unsigned long long blocks = 0, per_block = 2, call_every = 10, interval = 100, map_mib = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--datadir"))
			dir = v;
		else if (!strcmp(k, "--blocks"))
			blocks = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--transfers-per-block"))
			per_block = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--contract"))
			contract = v;
		else if (!strcmp(k, "--call-every"))
			call_every = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--interval"))
			interval = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--chain-id"))
			chain_id = v;
		else if (!strcmp(k, "--map-size"))
			map_mib = strtoull(v, NULL, 10);
		else
			return fail("unknown option %s", k);
	}
	if (!dir || !blocks || !call_every || interval < 10 || argc % 2 == 0)
		return fail("usage: ssp_mkchain --datadir DIR --blocks N [--transfers-per-block T] "
		            "[--contract FILE] [--call-every K] [--interval MS] [--chain-id ID] "
		            "[--map-size MIB]");
	if (ssp_core_init()) return fail("cannot initialise libsodium");
	if (mkdir(dir, 0700) && errno != EEXIST) return fail("mkdir %s: %s", dir, strerror(errno));

	/* the genesis: dev's shape, our chain id, slots over long before now */
	ssp_seckey dev, prod;
	ssp_pubkey devpk, prodpk;
	ssp_addr devaddr;
	derive(&dev, &devpk, "smartshare/mkchain/dev");
	derive(&prod, &prodpk, "smartshare/mkchain/producer");
	ssp_addr_from_pubkey(&devaddr, &devpk);
	uint64_t t0 = ssp_now_ms() - (blocks + TAIL_SLOTS) * interval;
	char *gtext = ssp_genesis_dev_json(&devaddr, &prodpk, t0);
	json_t *gj = gtext ? json_loads(gtext, 0, NULL) : NULL;
	free(gtext);
	if (!gj) return fail("cannot build the genesis");
	json_object_set_new(gj, "chain_id", json_string(chain_id));
	json_t *params = json_object_get(gj, "params");
	json_object_set_new(params, "block_interval_ms", json_integer((json_int_t)interval));
	json_object_set_new(params, "max_expiry_blocks",
	                    json_integer((json_int_t)(blocks + 2 * EXPIRY_MARGIN)));
	char gpath[1100];
	snprintf(gpath, sizeof gpath, "%s/genesis.json", dir);
	if (json_dump_file(gj, gpath, JSON_INDENT(1) | JSON_PRESERVE_ORDER))
		return fail("cannot write %s", gpath);
	json_decref(gj);

	char why[512];
	ssp_genesis *g = NULL;
	ssp_store *st = NULL;
	ssp_modset *ms = NULL;
	ssp_chain *c = NULL;
	ssp_mempool *m = NULL;
	ssp_buf b, args;
	int rc, ret = 1;
	unsigned long long transfers = 0, calls = 0;
	ssp_store_opts so = {.no_sync = true, .map_size = (size_t)map_mib << 20};
	ssp_buf_init(&b, SSP_VM_SOURCE_MAX + 8192);
	ssp_buf_init(&args, 4096);
	if ((rc = ssp_genesis_load(&g, gpath, why, sizeof why))) {
		fail("genesis: %s", why);
		goto out;
	}
	if ((rc = ssp_store_open(&st, dir, &so)) || (rc = ssp_modset_open_chain(&c, &ms, st, g))) {
		fail("cannot open the chain in %s: %s", dir, ssp_strerror(rc));
		goto out;
	}
	if (ssp_chain_head(c)->height) {
		fail("%s already holds a chain", dir);
		goto out;
	}
	ssp_mempool_opts mo = {.max_count = 100000, .max_bytes = 256u << 20, .max_per_sender = 100000};
	if ((rc = ssp_mempool_new(&m, c, &mo))) {
		fail("mempool: %s", ssp_strerror(rc));
		goto out;
	}
	ctx x = {.c = c, .m = m, .dev = &dev, .expiry = blocks + EXPIRY_MARGIN};
	snprintf(x.chain_id, sizeof x.chain_id, "%s", chain_id);
	const char *hrp = ssp_genesis_hrp(g);
	ssp_addr to[RECIPIENTS], token;
	char totext[RECIPIENTS][96];
	for (unsigned i = 0; i < RECIPIENTS; i++) {
		char label[64];
		ssp_hash h;
		snprintf(label, sizeof label, "smartshare/mkchain/recipient/%u", i);
		ssp_sha256(&h, label, strlen(label));
		memcpy(to[i].b, h.b, SSP_ADDR_LEN);
		ssp_addr_encode(totext[i], sizeof totext[i], hrp, &to[i]);
	}
	ssp_signer signer;
	ssp_signer_soft(&signer, &prod);
	uint64_t tfee = ssp_chain_min_fee(c, 512), cfee = 0, dfee = 0;
	if (contract) {
		size_t srclen;
		char *src = read_all(contract, &srclen);
		if (!src) {
			fail("cannot read the contract %s", contract);
			goto out;
		}
		json_t *ja = json_pack("[s, s, i, I, I]", "MKC", "mkchain token", 0, TOKEN_SUPPLY,
		                       TOKEN_SUPPLY);
		if (!ja || ssp_val_from_json(&args, ja) || args.err) {
			free(src);
			fail("cannot encode the init args");
			goto out;
		}
		json_decref(ja);
		ssp_contract_deploy d = {.gas_limit = DEPLOY_GAS,
		                         .src = (const uint8_t *)src,
		                         .src_len = (uint32_t)srclen,
		                         .args = args.data,
		                         .args_len = (uint32_t)args.len};
		ssp_contract_deploy_encode(&b, &d);
		ssp_contract_address(&token, &devaddr, x.nonce);
		rc = call_fee(c, b.len, DEPLOY_GAS, &dfee);
		if (!rc) rc = add_tx(&x, SSP_TX_CONTRACT_DEPLOY, &b, dfee);
		free(src);
		if (rc) {
			fail("deploy: %s", ssp_strerror(rc));
			goto out;
		}
		if ((rc = call_fee(c, 1024, CALL_GAS, &cfee))) goto out;
	}
	for (uint64_t h = 1; h <= blocks; h++) {
		for (unsigned long long k = 0; k < per_block; k++) {
			ssp_transfer t = {.to = to[(transfers + k) % RECIPIENTS],
			                  .amount = 1000 + (h % 7)};
			ssp_buf_reset(&b);
			ssp_transfer_encode(&b, &t);
			if ((rc = add_tx(&x, SSP_TX_TRANSFER, &b, tfee))) {
				fail("transfer: %s", ssp_strerror(rc));
				goto out;
			}
		}
		transfers += per_block;
		if (contract && h > 1 && h % call_every == 0) {
			json_t *ja = json_pack("[s, I]", totext[calls % RECIPIENTS], (json_int_t)(h + 1));
			ssp_buf_reset(&args);
			ssp_buf_reset(&b);
			if (!ja || ssp_val_from_json(&args, ja) || args.err) {
				fail("cannot encode a call");
				goto out;
			}
			json_decref(ja);
			ssp_contract_call k = {.contract = token,
			                       .fn = "transfer",
			                       .args = args.data,
			                       .args_len = (uint32_t)args.len,
			                       .gas_limit = CALL_GAS};
			ssp_contract_call_encode(&b, &k);
			if ((rc = add_tx(&x, SSP_TX_CONTRACT_CALL, &b, cfee))) {
				fail("call: %s", ssp_strerror(rc));
				goto out;
			}
			calls++;
		}
		ssp_block_info info;
		uint64_t slot = h;
		size_t want = ssp_mempool_count(m);
		rc = ssp_produce_block(c, m, &signer, slot, ssp_chain_slot_start(c, slot) + interval / 2,
		                       &info);
		if (rc) {
			fail("block %llu: %s", (unsigned long long)h, ssp_strerror(rc));
			goto out;
		}
		if (info.ntx != want || ssp_mempool_count(m)) {
			fail("block %llu holds %u of %zu txs", (unsigned long long)h, info.ntx, want);
			goto out;
		}
	}
	const ssp_head *hd = ssp_chain_head(c);
	char id[65], root[65];
	ssp_hex_encode(id, hd->id.b, 32);
	ssp_hex_encode(root, hd->state_root.b, 32);
	printf("height %llu\nhead_id %s\nstate_root %s\ntransfers %llu\ncalls %llu\n",
	       (unsigned long long)hd->height, id, root, transfers, calls);
	printf("recipient %s\n", totext[0]);
	if (contract) {
		char text[96];
		ssp_addr_encode(text, sizeof text, hrp, &token);
		printf("contract %s\n", text);
	}
	ret = 0;
out:
	ssp_buf_free(&b);
	ssp_buf_free(&args);
	ssp_mempool_free(m);
	ssp_chain_close(c);
	ssp_modset_free(ms);
	ssp_store_close(st);
	ssp_genesis_free(g);
	ssp_seckey_wipe(&dev);
	ssp_seckey_wipe(&prod);
	return ret;
}
