/*
 * fuzz_block.c — libFuzzer harness for the block and receipt decoders
 * (chain layer): ssp_block_decode (max 4 MiB) and ssp_receipt_decode on the
 * same bytes. On success each is re-encoded from its decoded fields and
 * must give back exactly the input; the block id must be SHA-256 of the
 * header bytes, every tx must lie inside the input, and a receipt's events
 * are walked to the end. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOCK ((size_t)4 << 20)

static void check(int ok)
{
	if (!ok) abort();
}

static void block_checks(const uint8_t *data, size_t size)
{
	ssp_block blk;
	ssp_buf b;
	ssp_hash id;
	if (ssp_block_decode(&blk, data, size, MAX_BLOCK)) return;
	check(blk.raw == data && blk.raw_len == size);
	check(blk.hdr.seed_len <= SSP_SEED_MAX && blk.hdr.qc_len <= SSP_QC_MAX);
	ssp_buf_init(&b, MAX_BLOCK);
	ssp_header_encode(&b, &blk.hdr, true);
	check(b.err == 0 && b.len <= size && memcmp(b.data, data, b.len) == 0);
	ssp_sha256(&id, data, b.len);
	check(memcmp(id.b, blk.hdr.id.b, 32) == 0);
	ssp_buf_u32(&b, blk.ntx);
	for (uint32_t i = 0; i < blk.ntx; i++) {
		const ssp_tx *tx = &blk.txs[i];
		check(tx->raw > data && tx->raw + tx->raw_len <= data + size);
		check(tx->signed_len + SSP_SIG_LEN == tx->raw_len);
		ssp_buf_bytes(&b, tx->raw, tx->raw_len);
	}
	check(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
	ssp_buf_free(&b);
	ssp_block_free(&blk);
	check(blk.txs == NULL && blk.ntx == 0);
}

static void receipt_checks(const uint8_t *data, size_t size)
{
	ssp_receipt r;
	ssp_buf b;
	if (ssp_receipt_decode(&r, data, size)) return;
	check(r.status <= SSP_RCPT_FAILED);
	ssp_buf_init(&b, size + 64);
	ssp_receipt_encode(&b, &r);
	check(b.err == 0 && b.len == size && memcmp(b.data, data, size) == 0);
	ssp_buf_free(&b);
	size_t off = 0;
	ssp_event ev;
	int rc, guard = 0;
	while ((rc = ssp_events_next(r.events, r.events_len, &off, &ev)) == 1) {
		check(off <= r.events_len && strlen(ev.name) <= 64);
		check(ev.fields_len <= r.events_len);
		check(++guard <= (int)r.events_len); /* every event takes bytes: it ends */
	}
	check(rc == 0 || rc == SSP_ERR_DECODE);
	ssp_receipt_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (ssp_core_init()) abort();
		ready = 1;
	}
	block_checks(data, size);
	receipt_checks(data, size);
	return 0;
}
