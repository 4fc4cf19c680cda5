/*
 * transfer.c — `ssp transfer` (application layer): validate the request,
 * then sign and submit an SSP_TX_TRANSFER through the shared signing path
 * (txsend.c), optionally waiting until it is in a block.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ssp/proto.h"

/* What the user asked for, validated before anything else happens. */
typedef struct {
	const char *from;
	const char *to;
	uint64_t amount;
	const char *memo;
	size_t memo_len;
	cli_txopts opts;
} transfer_req;

static int parse_request(transfer_req *r, const cli_args *a)
{
	const char *amount = cli_opt(a, "amount");
	int rc;

	memset(r, 0, sizeof(*r));
	r->from = cli_opt(a, "from");
	r->to = cli_opt(a, "to");
	r->memo = cli_opt(a, "memo");
	if (!r->from) return cli_usage("transfer: --from NAME is required");
	if (!r->to) return cli_usage("transfer: --to ADDRESS|NAME is required");
	if (!amount) return cli_usage("transfer: --amount is required");
	if (ssp_amount_parse(&r->amount, amount, SSP_DECIMALS) != 0)
		return cli_usage("transfer: invalid --amount '%s' (a decimal with up to %d "
		                 "fraction digits, like 12.5)",
		                 amount, SSP_DECIMALS);
	if (r->amount == 0) return cli_usage("transfer: --amount must be greater than zero");
	rc = cli_txopts_parse(&r->opts, a, "transfer");
	if (rc) return rc;
	if (r->memo) {
		r->memo_len = strlen(r->memo);
		if (r->memo_len > SSP_MEMO_MAX)
			return cli_usage("transfer: --memo is %zu bytes, at most %d are allowed",
			                 r->memo_len, SSP_MEMO_MAX);
		if (!ssp_utf8_valid(r->memo, r->memo_len, 0))
			return cli_usage("transfer: --memo is not valid UTF-8");
	}
	if (!cli_name_valid(r->from))
		return cli_usage("transfer: invalid key name '%s' for --from", r->from);
	return CLI_OK;
}

int cli_cmd_transfer(cli_ctx *c, const cli_args *a)
{
	static const char *const amounts[] = {"amount", NULL};
	transfer_req r;
	cli_txsession s;
	ssp_addr to;
	ssp_transfer t;
	ssp_buf payload;
	json_t *fields = NULL, *out = NULL;
	char to_text[96], amount[SSP_AMOUNT_STR];
	int rc;

	memset(&s, 0, sizeof(s));
	ssp_buf_init(&payload, SSP_TX_PAYLOAD_MAX);
	rc = parse_request(&r, a);
	if (rc) goto out;
	rc = cli_tx_begin(c, &s, r.from);
	if (rc) goto out;
	rc = cli_resolve_account(c, &to, c->hrp, r.to);
	if (rc) goto out;
	ssp_addr_encode(to_text, sizeof(to_text), c->hrp, &to);

	t = (ssp_transfer){.to = to,
	                   .amount = r.amount,
	                   .memo = (const uint8_t *)r.memo,
	                   .memo_len = (uint32_t)r.memo_len};
	ssp_transfer_encode(&payload, &t);
	if (payload.err) {
		rc = cli_fail("cannot encode the transfer: %s", ssp_strerror(payload.err));
		goto out;
	}
	ssp_amount_format(amount, sizeof(amount), r.amount, SSP_DECIMALS);
	fields = json_pack("{s:s, s:s}", "to", to_text, "amount", amount);
	if (!fields) cli_oom();
	rc = cli_tx_send(c, &s, &r.opts, SSP_TX_TRANSFER, payload.data, payload.len, fields, &out);
	if (rc) goto out;
	cli_print_tx(c, out, amounts, " SSP");
out:
	cli_tx_end(&s);
	ssp_buf_free(&payload);
	json_decref(fields);
	json_decref(out);
	return rc;
}
