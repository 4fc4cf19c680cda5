/*
 * ssp_txgen.c — signs transfers for the functional tests (test
 * infrastructure), which are written in Python without an Ed25519
 * implementation. Prints one hex-encoded tx per line: `count` transfers
 * from the key in KEYSTORE with nonces nonce, nonce+1, …, each carrying
 * the public key. Exit status 0 on success, 1 on any failure.
 *
 * usage: ssp_txgen --keystore FILE --chain-id ID --hrp HRP --to ADDRESS
 *                  --nonce N --count K --expiry H [--amount UNITS] [--fee UNITS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

static int usage(void)
{
	fprintf(stderr, "usage: ssp_txgen --keystore FILE --chain-id ID --hrp HRP --to ADDRESS "
	                "--nonce N --count K --expiry H [--amount UNITS] [--fee UNITS]\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *keystore = NULL, *chain_id = NULL, *hrp = NULL, *to = NULL;
	unsigned long long nonce = 0, count = 0, expiry = 0, amount = 1, fee = 100000;
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_transfer t = {0};
	ssp_buf b;
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--keystore"))
			keystore = v;
		else if (!strcmp(k, "--chain-id"))
			chain_id = v;
		else if (!strcmp(k, "--hrp"))
			hrp = v;
		else if (!strcmp(k, "--to"))
			to = v;
		else if (!strcmp(k, "--nonce"))
			nonce = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--count"))
			count = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--expiry"))
			expiry = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--amount"))
			amount = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--fee"))
			fee = strtoull(v, NULL, 10);
		else
			return usage();
	}
	if (!keystore || !chain_id || !hrp || !to || !count || !expiry) return usage();
	if (ssp_core_init()) return 1;
	if (ssp_keystore_read(keystore, "", &sk, &pk)) {
		fprintf(stderr, "ssp_txgen: cannot read %s\n", keystore);
		return 1;
	}
	if (ssp_addr_decode(&t.to, hrp, to)) {
		fprintf(stderr, "ssp_txgen: bad address %s\n", to);
		goto out;
	}
	t.amount = amount;
	ssp_buf_init(&b, 4096);
	ssp_transfer_encode(&b, &t);
	for (unsigned long long i = 0; i < count && !b.err; i++) {
		ssp_tx_build tb = {.chain_id = chain_id,
		                   .type = SSP_TX_TRANSFER,
		                   .nonce = nonce + i,
		                   .fee = fee,
		                   .expiry = expiry,
		                   .payload = b.data,
		                   .payload_len = b.len,
		                   .include_pubkey = true};
		uint8_t *raw;
		size_t len;
		ssp_hash txid;
		if (ssp_tx_sign(&raw, &len, &txid, &tb, &sk)) {
			fprintf(stderr, "ssp_txgen: cannot sign\n");
			ssp_buf_free(&b);
			goto out;
		}
		char *hex = malloc(2 * len + 1);
		if (hex) {
			ssp_hex_encode(hex, raw, len);
			puts(hex);
		}
		free(hex);
		free(raw);
	}
	rc = b.err ? 1 : 0;
	ssp_buf_free(&b);
out:
	ssp_seckey_wipe(&sk);
	return rc;
}
