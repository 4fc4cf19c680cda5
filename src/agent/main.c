/*
 * main.c — ssp-agent, the device's command-line face of libsmartagent.
 *
 *   ssp-agent init    --uri URI [--pin PIN]   create the key and counter in the token
 *   ssp-agent csr     --uri URI [--pin PIN]   the public key to certify (hex) and address
 *   ssp-agent status  --uri URI [--pin PIN]   where the key lives, address, counter
 *   ssp-agent counter --uri URI [--pin PIN]   the next counter value (persisted first)
 * and, against a node (--rpc URL, default http://127.0.0.1:9631):
 *   ssp-agent balance  --uri URI                          the device's own account
 *   ssp-agent transfer --uri URI --to ADDR --amount SSP   pay from the device's wallet
 *   ssp-agent enroll   --uri URI --cert FILE|HEX          put the device on chain
 *   ssp-agent attest   --uri URI --firmware-hash HEX      attest (counter from the token)
 * (--wait polls until the tx is in a block), and the light-client checks (no --uri):
 *   ssp-agent anchors --genesis FILE [--out FILE]        the trust anchors from a genesis
 *   ssp-agent check-device ADDRESS --anchors FILE [--max-age S]   registered/revoked/unknown
 *   ssp-agent check-tx TXID --anchors FILE                is the tx in a block
 * whose answers are verified here against headers signed by the producer schedule,
 * and metering receipts (chain id from --chain-id or --anchors; no node):
 *   ssp-agent meter --uri URI --agreement HEX --cumulative N   sign one (next counter)
 *   ssp-agent check-meter HEX [--after HEX]                    check one, and its order
 *
 * The PIN comes from --pin, else SSP_AGENT_PIN, else the URI's pin-value.
 * --hrp sets the address prefix (default dssp, the devnet's). --json prints
 * one JSON object. Exit 0 ok, 1 failure (one line on stderr), 2 usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/main_internal.h"

int agent_cmd_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ssp-agent: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: ssp-agent COMMAND --uri URI [--pin PIN] [--hrp HRP] [--json]\n"
	    "  init      create the device key (P-256, non-extractable) and counter in the token\n"
	    "  csr       print the device public key to certify, and its address\n"
	    "  status    print where the key lives, the address and the counter\n"
	    "  counter   hand out the next counter value (stored before it is printed)\n"
	    "  balance   the device's own account on the node (--rpc URL)\n"
	    "  transfer  --to ADDRESS --amount SSP [--wait]: pay from the device's wallet\n"
	    "  enroll    --cert FILE|HEX [--wait]: put the device on chain (its tx proves the "
	    "key)\n"
	    "  attest    --firmware-hash HEX [--wait]: attest the firmware, counter from the "
	    "token\n"
	    "light client (no --uri; every answer verified against the anchors, not trusted):\n"
	    "  anchors   --genesis FILE [--out FILE]: the trust anchors (chain id, producers)\n"
	    "  check-device ADDRESS --anchors FILE [--max-age SECONDS (default 60, 0 = any)]\n"
	    "            registered, revoked, untrusted or unknown, from a state proof\n"
	    "  check-tx  TXID --anchors FILE: the tx's inclusion proof against its block\n"
	    "metering receipts (no node; chain id from --chain-id ID or --anchors FILE):\n"
	    "  meter     --agreement HEX --cumulative N: sign the amount delivered so far\n"
	    "            under an agreement, with the token's next counter value\n"
	    "  check-meter RECEIPT [--after RECEIPT]: the signature, and that it supersedes\n"
	    "            the last receipt kept (higher counter, amount not lower); no --uri\n"
	    "--rpc URL: the node (default http://127.0.0.1:9631)\n"
	    "URI: pkcs11:token=LABEL[?module-path=/path/to/module.so] or file:KEYSTORE\n"
	    "PIN: --pin, else $SSP_AGENT_PIN, else the URI's pin-value\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = NULL, *uri = NULL, *pin = getenv("SSP_AGENT_PIN"), *hrp = "dssp";
	int json = 0;
	agent_opts o = {.rpc = "http://127.0.0.1:9631", .max_age_s = 60};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--wait")) {
			o.wait = true;
		} else if (!strcmp(a, "--uri") || !strcmp(a, "--pin") || !strcmp(a, "--hrp") ||
		           !strcmp(a, "--rpc") || !strcmp(a, "--to") || !strcmp(a, "--amount") ||
		           !strcmp(a, "--cert") || !strcmp(a, "--firmware-hash") ||
		           !strcmp(a, "--anchors") || !strcmp(a, "--genesis") ||
		           !strcmp(a, "--out") || !strcmp(a, "--max-age") ||
		           !strcmp(a, "--chain-id") || !strcmp(a, "--agreement") ||
		           !strcmp(a, "--cumulative") || !strcmp(a, "--after")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ssp-agent: error: %s needs a value\n", a);
				return usage();
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--uri"))
				uri = v;
			else if (!strcmp(a, "--pin"))
				pin = v;
			else if (!strcmp(a, "--hrp"))
				hrp = v;
			else if (!strcmp(a, "--rpc"))
				o.rpc = v;
			else if (!strcmp(a, "--to"))
				o.to = v;
			else if (!strcmp(a, "--amount"))
				o.amount = v;
			else if (!strcmp(a, "--cert"))
				o.cert = v;
			else if (!strcmp(a, "--anchors"))
				o.anchors = v;
			else if (!strcmp(a, "--genesis"))
				o.genesis = v;
			else if (!strcmp(a, "--out"))
				o.out = v;
			else if (!strcmp(a, "--chain-id"))
				o.chain_id = v;
			else if (!strcmp(a, "--agreement"))
				o.agreement = v;
			else if (!strcmp(a, "--cumulative"))
				o.cumulative = v;
			else if (!strcmp(a, "--after"))
				o.after = v;
			else if (!strcmp(a, "--max-age")) {
				char *end;
				o.max_age_s = strtoull(v, &end, 10);
				if (!*v || *end) {
					fprintf(stderr,
					        "ssp-agent: error: --max-age takes seconds\n");
					return usage();
				}
			} else
				o.firmware = v;
		} else if (a[0] == '-') {
			fprintf(stderr, "ssp-agent: error: unknown option %s\n", a);
			return usage();
		} else if (!cmd) {
			cmd = a;
		} else if (!o.arg) {
			o.arg = a;
		} else {
			fprintf(stderr, "ssp-agent: error: unexpected argument %s\n", a);
			return usage();
		}
	}
	if (!cmd) return usage();
	if (o.arg && strcmp(cmd, "check-device") && strcmp(cmd, "check-tx") &&
	    strcmp(cmd, "check-meter")) {
		fprintf(stderr, "ssp-agent: error: unexpected argument %s\n", o.arg);
		return usage();
	}
	o.json = json;
	o.hrp = hrp;
	if (!strcmp(cmd, "check-meter")) {
		if (ssp_core_init()) {
			fprintf(stderr, "ssp-agent: error: cannot initialise libsodium\n");
			return 1;
		}
		return agent_cmd_check_meter(&o);
	}
	if (!strcmp(cmd, "anchors") || !strcmp(cmd, "check-device") || !strcmp(cmd, "check-tx")) {
		if (ssp_core_init()) {
			fprintf(stderr, "ssp-agent: error: cannot initialise libsodium\n");
			return 1;
		}
		return !strcmp(cmd, "anchors")        ? agent_cmd_anchors(&o)
		       : !strcmp(cmd, "check-device") ? agent_cmd_check_device(&o)
		                                      : agent_cmd_check_tx(&o);
	}
	unsigned flags = 0;
	static const char *const chain_cmds[] = {"balance", "transfer", "enroll", "attest",
	                                         "meter"};
	int (*chain_fn)(ssp_agent *, const agent_opts *) = NULL;
	int (*const fns[])(ssp_agent *, const agent_opts *) = {agent_cmd_balance,
	                                                       agent_cmd_transfer, agent_cmd_enroll,
	                                                       agent_cmd_attest, agent_cmd_meter};
	for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
		if (!strcmp(cmd, chain_cmds[k])) chain_fn = fns[k];
	if (!strcmp(cmd, "init"))
		flags = SSP_AGENT_CREATE;
	else if (!chain_fn && strcmp(cmd, "csr") && strcmp(cmd, "status") &&
	         strcmp(cmd, "counter")) {
		fprintf(stderr, "ssp-agent: error: unknown command %s\n", cmd);
		return usage();
	}
	if (!uri) {
		fprintf(stderr, "ssp-agent: error: --uri is required\n");
		return usage();
	}
	if (ssp_core_init()) {
		fprintf(stderr, "ssp-agent: error: cannot initialise libsodium\n");
		return 1;
	}
	char why[512];
	ssp_agent *ag;
	int rc = ssp_agent_open(&ag, uri, pin, flags, why, sizeof why);
	if (rc) {
		fprintf(stderr, "ssp-agent: error: %s\n", why[0] ? why : ssp_strerror(rc));
		return 1;
	}
	if (chain_fn) {
		o.json = json;
		rc = chain_fn(ag, &o);
		ssp_agent_close(ag);
		return rc;
	}
	ssp_pubkey pk;
	ssp_addr addr;
	char a[96], hex[2 * SSP_PUBKEY_MAX + 1];
	uint64_t ctr = 0;
	rc = ssp_agent_pubkey(ag, &pk);
	if (!rc) {
		ssp_addr_from_pubkey(&addr, &pk);
		ssp_addr_encode(a, sizeof a, hrp, &addr);
		sodium_bin2hex(hex, sizeof hex, pk.b, pk.len);
	}
	if (!rc && !strcmp(cmd, "counter"))
		rc = ssp_agent_counter_next(ag, &ctr);
	else if (!rc && strcmp(cmd, "csr"))
		rc = ssp_agent_counter_get(ag, &ctr);
	if (rc) {
		const char *e = ssp_agent_last_error(ag);
		fprintf(stderr, "ssp-agent: error: %s\n", *e ? e : ssp_strerror(rc));
		ssp_agent_close(ag);
		return 1;
	}
	const char *kt = ssp_key_type_name(pk.type);
	if (!strcmp(cmd, "counter")) {
		if (json)
			printf("{\"counter\":%llu}\n", (unsigned long long)ctr);
		else
			printf("%llu\n", (unsigned long long)ctr);
	} else if (!strcmp(cmd, "csr")) {
		if (json)
			printf("{\"key_type\":\"%s\",\"pubkey\":\"%s\",\"address\":\"%s\"}\n", kt,
			       hex, a);
		else
			printf("key type: %s\npubkey:   %s\naddress:  %s\n", kt, hex, a);
	} else {
		if (json)
			printf("{\"backend\":\"%s\",\"key_type\":\"%s\",\"pubkey\":\"%s\","
			       "\"address\":\"%s\","
			       "\"counter\":%llu}\n",
			       ssp_agent_backend(ag), kt, hex, a, (unsigned long long)ctr);
		else
			printf("%s%s\naddress:  %s\npubkey:   %s (%s)\ncounter:  %llu\n",
			       !strcmp(cmd, "init") ? "ready: " : "", ssp_agent_describe(ag), a,
			       hex, kt, (unsigned long long)ctr);
	}
	ssp_agent_close(ag);
	return 0;
}
