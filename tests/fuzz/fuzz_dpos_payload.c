/*
 * fuzz_dpos_payload.c — libFuzzer harness for the staking module's payload
 * decoder (proto layer; ssp/proto_dpos.h): the first byte picks the type,
 * 0x40 + b % 10, and the rest is decoded as it and as every other staking
 * type. On success the decoded fields keep their promises (names and URL
 * valid, key parsed, amounts in range, at most 30 votes, each evidence vote's
 * source below its target) and the encoder
 * gives back exactly the input (one byte string per payload). Any
 * violation aborts.
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

static void round_trip(uint16_t type, const uint8_t *p, size_t n)
{
	ssp_dpos_payload d;
	ssp_buf b;
	int rc = ssp_dpos_payload_decode(&d, type, p, n);
	check(rc == 0 || rc == SSP_ERR_PAYLOAD);
	if (rc) return;
	switch (type) {
	case SSP_TX_DELEGATE_REGISTER:
		check(ssp_dpos_name_valid(d.name, strlen(d.name)));
		check(d.amount > 0 && d.amount <= INT64_MAX);
		/* fall through */
	case SSP_TX_DELEGATE_UPDATE:
		check(d.commission_bp <= SSP_DPOS_COMMISSION_MAX);
		check(ssp_dpos_url_valid(d.url, strlen(d.url)));
		check(d.node_key.len && d.node_key.len == ssp_pubkey_len(d.node_key.type));
		check(d.amount <= INT64_MAX);
		break;
	case SSP_TX_STAKE:
	case SSP_TX_UNSTAKE:
		check(d.amount > 0 && d.amount <= INT64_MAX);
		break;
	case SSP_TX_VOTE:
		check(d.nvotes <= SSP_DPOS_VOTES_MAX);
		for (uint32_t i = 0; i < d.nvotes; i++)
			check(ssp_dpos_name_valid(d.votes[i], strlen(d.votes[i])));
		break;
	case SSP_TX_EVIDENCE:
		check(ssp_dpos_name_valid(d.name, strlen(d.name)));
		for (int i = 0; i < 2; i++) {
			ssp_header h;
			check(d.header[i] >= p && d.header[i] + d.header_len[i] <= p + n &&
			      d.header_len[i] <= SSP_DPOS_HEADER_MAX &&
			      ssp_header_decode(&h, d.header[i], d.header_len[i]) == 0);
		}
		break;
	case SSP_TX_EVIDENCE_VOTES:
		check(ssp_dpos_name_valid(d.name, strlen(d.name)));
		check(n == 1 + strlen(d.name) + 2 * SSP_DPOS_VOTE_LEN);
		for (int i = 0; i < 2; i++)
			check(d.vote[i].src_height < d.vote[i].tgt_height);
		break;
	default:
		check(n == 0);
		break;
	}
	ssp_buf_init(&b, n + 64);
	ssp_dpos_payload_encode(&b, type, &d);
	check(b.err == 0 && b.len == n && (n == 0 || memcmp(b.data, p, n) == 0));
	ssp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssp_dpos_payload d;
	if (size == 0) return 0;
	uint16_t type = (uint16_t)(SSP_TX_DELEGATE_REGISTER + data[0] % 10);
	round_trip(type, data + 1, size - 1);
	for (uint16_t other = SSP_TX_DELEGATE_REGISTER; other <= SSP_TX_EVIDENCE_VOTES; other++)
		if (other != type) round_trip(other, data + 1, size - 1);
	check(ssp_dpos_payload_decode(&d, SSP_TX_TRANSFER, data, size) == SSP_ERR_TXTYPE);
	check(ssp_dpos_payload_decode(&d, SSP_TX_EVIDENCE_VOTES + 1, data, size) == SSP_ERR_TXTYPE);
	return 0;
}
