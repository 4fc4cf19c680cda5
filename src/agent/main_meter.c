/*
 * main_meter.c — ssp-agent's metering receipts (agent layer, the program):
 *   meter        --uri URI --agreement HEX --cumulative N   the device signs
 *                the amount it has delivered under an agreement so far, with
 *                the next value of its token's counter;
 *   check-meter  HEX [--after HEX]   the paying side checks a receipt (the
 *                signature for the chain id, and that it supersedes the last
 *                one it kept) without a node.
 * The chain id comes from --chain-id or from the trust anchors (--anchors).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/main_internal.h"

#define METER_HEX_MAX 512

/* The chain id into out (≤ 255 bytes): --chain-id, else the anchors' one. */
static int chain_id(const agent_opts *o, char *out, size_t cap)
{
	if (o->chain_id) {
		if (!*o->chain_id || strlen(o->chain_id) >= cap)
			return agent_cmd_fail("--chain-id: 1..255 characters");
		strcpy(out, o->chain_id);
		return 0;
	}
	if (!o->anchors)
		return agent_cmd_fail("give the chain id: --chain-id ID or --anchors FILE");
	char why[512];
	ssp_agent_anchors *an;
	if (ssp_agent_anchors_load(&an, o->anchors, why, sizeof why))
		return agent_cmd_fail("%s", why);
	const char *id = ssp_agent_anchors_chain_id(an);
	int rc = strlen(id) < cap ? 0 : agent_cmd_fail("the anchors' chain id is too long");
	if (!rc) strcpy(out, id);
	ssp_agent_anchors_free(an);
	return rc;
}

static int receipt_from_hex(ssp_meter_receipt *m, const char *hex, const char *what)
{
	uint8_t raw[METER_HEX_MAX / 2];
	size_t n;
	if (strlen(hex) > METER_HEX_MAX ||
	    sodium_hex2bin(raw, sizeof raw, hex, strlen(hex), NULL, &n, NULL) ||
	    n * 2 != strlen(hex))
		return agent_cmd_fail("%s: not a hex string", what);
	if (ssp_meter_decode(m, raw, n)) return agent_cmd_fail("%s: not a metering receipt", what);
	return 0;
}

static void print_receipt(const ssp_meter_receipt *m, const char *hrp, const char *hex, int json,
                          const char *verdict)
{
	ssp_addr addr;
	char a[96], ag[65];
	ssp_addr_from_pubkey(&addr, &m->signer);
	ssp_addr_encode(a, sizeof a, hrp, &addr);
	sodium_bin2hex(ag, sizeof ag, m->agreement.b, 32);
	if (json)
		printf(
		    "{\"receipt\":\"%s\",\"signer\":\"%s\",\"agreement\":\"%s\",\"counter\":%llu,"
		    "\"cumulative\":%llu%s%s%s}\n",
		    hex, a, ag, (unsigned long long)m->counter, (unsigned long long)m->cumulative,
		    verdict ? ",\"verdict\":\"" : "", verdict ? verdict : "", verdict ? "\"" : "");
	else
		printf("%s%s%sreceipt:    %s\nsigner:     %s\nagreement:  %s\ncounter:    %llu\n"
		       "cumulative: %llu\n",
		       verdict ? "verdict:    " : "", verdict ? verdict : "", verdict ? "\n" : "",
		       hex, a, ag, (unsigned long long)m->counter,
		       (unsigned long long)m->cumulative);
}

int agent_cmd_meter(ssp_agent *ag, const agent_opts *o)
{
	char cid[256];
	if (chain_id(o, cid, sizeof cid)) return 1;
	ssp_hash agreement;
	size_t n;
	if (!o->agreement || strlen(o->agreement) != 64 ||
	    sodium_hex2bin(agreement.b, 32, o->agreement, 64, NULL, &n, NULL) || n != 32)
		return agent_cmd_fail("meter needs --agreement HEX (the agreement's 32-byte id)");
	uint64_t cumulative;
	char *end;
	if (!o->cumulative || !*o->cumulative || o->cumulative[0] == '-' ||
	    (cumulative = strtoull(o->cumulative, &end, 10), *end))
		return agent_cmd_fail(
		    "meter needs --cumulative N (the amount delivered so far, an integer)");
	ssp_meter_receipt m;
	int rc = ssp_agent_sign_meter(ag, cid, &agreement, cumulative, &m);
	if (rc) {
		const char *e = ssp_agent_last_error(ag);
		return agent_cmd_fail("%s", *e ? e : ssp_strerror(rc));
	}
	ssp_buf b;
	ssp_buf_init(&b, METER_HEX_MAX / 2);
	ssp_meter_encode(&b, &m, true);
	if (b.err) {
		ssp_buf_free(&b);
		return agent_cmd_fail("out of memory");
	}
	char hex[METER_HEX_MAX + 1];
	sodium_bin2hex(hex, sizeof hex, b.data, b.len);
	ssp_buf_free(&b);
	print_receipt(&m, o->hrp, hex, o->json, NULL);
	return 0;
}

int agent_cmd_check_meter(const agent_opts *o)
{
	if (!o->arg) return agent_cmd_fail("check-meter needs the receipt (hex)");
	char cid[256];
	if (chain_id(o, cid, sizeof cid)) return 1;
	ssp_meter_receipt m, prev;
	if (receipt_from_hex(&m, o->arg, "the receipt")) return 1;
	if (ssp_meter_verify(&m, cid))
		return agent_cmd_fail("the receipt's signature does not verify for %s", cid);
	if (o->after) {
		if (receipt_from_hex(&prev, o->after, "--after")) return 1;
		if (ssp_meter_verify(&prev, cid))
			return agent_cmd_fail("--after: its signature does not verify for %s", cid);
		switch (ssp_meter_follows(&prev, &m)) {
		case 0:
			break;
		case SSP_ERR_INVAL:
			return agent_cmd_fail(
			    "the receipts are for different agreements or signers");
		case SSP_ERR_DEV_COUNTER:
			return agent_cmd_fail("replayed: counter %llu does not follow %llu",
			                      (unsigned long long)m.counter,
			                      (unsigned long long)prev.counter);
		default:
			return agent_cmd_fail("the cumulative amount went back (%llu after %llu)",
			                      (unsigned long long)m.cumulative,
			                      (unsigned long long)prev.cumulative);
		}
	}
	print_receipt(&m, o->hrp, o->arg, o->json,
	              o->after ? "valid, supersedes --after" : "valid");
	return 0;
}
