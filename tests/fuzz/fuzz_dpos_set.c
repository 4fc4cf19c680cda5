/*
 * fuzz_dpos_set.c — libFuzzer harness for the elected-set record decoder
 * (proto layer; ssp/proto_dpos.h: the value under SSP_TB_DPOS_SET, which a
 * light client reads from a state proof): the first 8 bytes are the
 * record's round (u64 LE), the rest the record. On success the fields keep
 * their promises (1..SSP_DPOS_SET_MAX members, keys parsed, no account
 * twice, a reference to an earlier round) and the encoder gives back exactly
 * the input (one byte string per record). Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/proto_dpos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

static ssp_dpos_member m[SSP_DPOS_SET_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t kind;
	size_t n;
	uint64_t ref, round;
	ssp_buf b;
	if (size < 8) return 0;
	round = ssp_le64_get(data);
	int rc = ssp_dpos_set_decode(&kind, m, &n, &ref, round, data + 8, size - 8);
	check(rc == 0 || rc == SSP_ERR_DBCORRUPT);
	if (rc) return 0;
	ssp_buf_init(&b, (size_t)1 << 20);
	if (kind == SSP_DPOS_SET_REF) {
		check(n == 0 && ref < round);
		ssp_dpos_set_encode_ref(&b, ref);
	} else {
		check(kind == SSP_DPOS_SET_FULL && n >= 1 && n <= SSP_DPOS_SET_MAX);
		for (size_t i = 0; i < n; i++) {
			check(m[i].key.len && m[i].key.len == ssp_pubkey_len(m[i].key.type));
			for (size_t j = 0; j < i; j++)
				check(memcmp(m[i].account.b, m[j].account.b, SSP_ADDR_LEN) != 0);
		}
		ssp_dpos_set_encode_full(&b, m, n);
	}
	check(b.err == 0 && b.len == size - 8 && memcmp(b.data, data + 8, b.len) == 0);
	ssp_buf_free(&b);
	return 0;
}
