/*
 * ssp_replay.c — determinism check tool (test infrastructure): reads every
 * block of a node's datadir (a copy taken while the node was stopped) and
 * imports them, in order, into a fresh datadir with the same genesis and
 * every native module, exactly as a syncing node would. Each import
 * re-executes the block's transactions (contracts included) and must
 * reproduce its receipts root and state root. Prints
 *
 *   height <head height>
 *   state_root <hex of the replayed head's state root>
 *   receipts <hex of SHA-256 over every replayed receipt's encoding, in order>
 *   gas <sum of gas_used over all receipts>
 *
 * so two runs in separate processes can be compared, and against the
 * node's own head. With --blocks it first prints, for every block,
 *
 *   block <height> <state root> <receipts root> <gas of its receipts>
 *
 * (the replayed state root, and the header's receipts root, which the
 * import has just checked against the re-executed receipts), so runs on
 * different machines can be compared block by block. --map-size MIB sets the LMDB map of both
 * datadirs as sspd's option does (qemu-user cannot map the default
 * 256 GiB). Exit status 0 on success, 1 on any failure.
 *
 * usage: ssp_replay --from DATADIR --to NEWDIR [--genesis FILE] [--map-size MIB] [--blocks]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/db.h"

static int die(const char *what, int rc)
{
	fprintf(stderr, "ssp_replay: %s: %s\n", what, rc ? ssp_strerror(rc) : "failed");
	return 1;
}

int main(int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *gpath = NULL;
	char gbuf[4096], why[512];
	ssp_genesis *g = NULL;
	ssp_node_db src = {0}, dst = {0};
	int rc, status = 1, blocks = 0, bad = 0;
	size_t map_size = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--blocks")) {
			blocks = 1;
			continue;
		}
		if (i + 1 == argc) {
			bad = 1;
			break;
		}
		if (!strcmp(argv[i], "--from")) {
			from = argv[++i];
		} else if (!strcmp(argv[i], "--to")) {
			to = argv[++i];
		} else if (!strcmp(argv[i], "--genesis")) {
			gpath = argv[++i];
		} else if (!strcmp(argv[i], "--map-size")) {
			char *end;
			unsigned long long mib = strtoull(argv[++i], &end, 10);
			if (*end || !mib || mib > (1ull << 24) || argv[i][0] == '-') bad = 1;
			map_size = (size_t)mib << 20;
		} else {
			bad = 1;
		}
	}
	if (!from || !to || bad) {
		fprintf(stderr, "usage: ssp_replay --from DATADIR --to NEWDIR [--genesis FILE] "
		                "[--map-size MIB (1..16777216)] [--blocks]\n");
		return 2;
	}
	if (!gpath) {
		snprintf(gbuf, sizeof gbuf, "%s/genesis.json", from);
		gpath = gbuf;
	}
	if ((rc = ssp_core_init())) return die("core", rc);
	ssp_log_setup(SSP_LOG_PLAIN, SSP_LOG_WARN);
	if ((rc = ssp_genesis_load(&g, gpath, why, sizeof why))) {
		fprintf(stderr, "ssp_replay: genesis %s: %s\n", gpath, why);
		return 1;
	}
	if ((rc = ssp_node_db_open(&src, from, g, map_size))) {
		die("opening the source datadir", rc);
		goto out;
	}
	if ((rc = ssp_node_db_open(&dst, to, g, map_size))) {
		die("opening the new datadir", rc);
		goto out;
	}
	if (ssp_chain_head(dst.chain)->height != 0) {
		fprintf(stderr, "ssp_replay: %s is not fresh\n", to);
		goto out;
	}
	/* the modules, initialised as the node does (the contract module's VM among them) */
	const char *failed = NULL;
	if ((rc = ssp_node_db_init_modules(&dst, g, &failed))) {
		die(failed, rc);
		goto out;
	}

	uint64_t head = ssp_chain_head(src.chain)->height, gas = 0;
	ssp_sha256_ctx *hc = ssp_sha256_new();
	ssp_buf enc;
	if (!hc) {
		die("hash", SSP_ERR_NOMEM);
		goto out;
	}
	ssp_sha256_init(hc);
	ssp_buf_init(&enc, (size_t)4 << 20);
	for (uint64_t h = 1; h <= head; h++) {
		ssp_txn *rt;
		const uint8_t *raw;
		size_t n;
		ssp_block_info info;
		if ((rc = ssp_store_read(src.store, &rt))) break;
		rc = ssp_chain_read_block(src.chain, rt, h, &raw, &n);
		uint8_t *copy = rc ? NULL : malloc(n);
		if (copy) memcpy(copy, raw, n);
		ssp_txn_end(rt);
		if (!rc && !copy) rc = SSP_ERR_NOMEM;
		if (rc) break;
		ssp_header hdr = {0};
		if (!rc && blocks) {
			ssp_rd hr;
			ssp_rd_init(&hr, copy, n);
			rc = ssp_header_read(&hdr, &hr);
		}
		if (!rc) rc = ssp_chain_import(dst.chain, NULL, copy, n, &info);
		free(copy);
		if (rc) {
			fprintf(stderr, "ssp_replay: block %llu: %s\n", (unsigned long long)h,
			        ssp_strerror(rc));
			break;
		}
		/* the replayed receipts, in order */
		uint64_t block_gas = 0;
		if ((rc = ssp_store_read(dst.store, &rt))) break;
		for (uint32_t i = 0;; i++) {
			ssp_receipt r;
			rc = ssp_chain_read_receipt(dst.chain, rt, h, i, &r);
			if (rc == SSP_ERR_NOTFOUND) {
				rc = 0;
				break;
			}
			if (rc) break;
			ssp_buf_reset(&enc);
			ssp_receipt_encode(&enc, &r);
			block_gas += r.gas_used;
			ssp_receipt_free(&r);
			if ((rc = enc.err)) break;
			ssp_sha256_update(hc, enc.data, enc.len);
		}
		ssp_txn_end(rt);
		if (rc) break;
		gas += block_gas;
		if (blocks) {
			char sr[65], rr[65];
			ssp_hex_encode(sr, ssp_chain_head(dst.chain)->state_root.b, 32);
			ssp_hex_encode(rr, hdr.receipts_root.b, 32);
			printf("block %llu %s %s %llu\n", (unsigned long long)h, sr, rr,
			       (unsigned long long)block_gas);
		}
	}
	ssp_buf_free(&enc);
	if (rc) {
		ssp_sha256_free(hc);
		die("replay", rc);
		goto out;
	}
	ssp_hash rh;
	char hex[65];
	ssp_sha256_final(hc, &rh);
	ssp_sha256_free(hc);
	const ssp_head *hd = ssp_chain_head(dst.chain);
	if (hd->height != head ||
	    memcmp(hd->state_root.b, ssp_chain_head(src.chain)->state_root.b, 32)) {
		fprintf(stderr, "ssp_replay: the replayed head differs from the source's\n");
		goto out;
	}
	printf("height %llu\n", (unsigned long long)hd->height);
	ssp_hex_encode(hex, hd->state_root.b, 32);
	printf("state_root %s\n", hex);
	ssp_hex_encode(hex, rh.b, 32);
	printf("receipts %s\n", hex);
	printf("gas %llu\n", (unsigned long long)gas);
	status = 0;
out:
	ssp_node_db_close(&dst);
	ssp_node_db_close(&src);
	ssp_genesis_free(g);
	return status;
}
