/*
 * ssp_txgen.c — signs transfers for the functional tests (test
 * infrastructure), which are written in Python without an Ed25519
 * implementation. Prints one hex-encoded tx per line: `count` transfers
 * from the key in KEYSTORE with nonces nonce, nonce+1, …, each carrying
 * the public key. Exit status 0 on success, 1 on any failure.
 *
 * --derive LABEL signs with the Ed25519 key whose seed is SHA-256(LABEL)
 * instead of a keystore (no argon2: benches make many senders this way);
 * with --address it prints that key's address and exits. Several --to
 * (up to 64) are used in turn: tx i goes to the (i mod n)-th. --pubkey-once
 * puts the public key only on nonce 0 (as a wallet does: later txs find the
 * key on chain), not on every tx.
 *
 * usage: ssp_txgen (--keystore FILE | --derive LABEL) --chain-id ID --hrp HRP --to ADDRESS
 *                  [--to ADDRESS ...] --nonce N --count K --expiry H [--amount UNITS]
 *                  [--fee UNITS]
 *        ssp_txgen --derive LABEL --hrp HRP --address
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/chain.h"

static int usage(void)
{
	fprintf(stderr, "usage: ssp_txgen (--keystore FILE | --derive LABEL) --chain-id ID --hrp HRP "
	                "--to ADDRESS [--to ADDRESS ...] --nonce N --count K --expiry H "
	                "[--amount UNITS] [--fee UNITS] [--pubkey-once]\n"
	                "       ssp_txgen --derive LABEL --hrp HRP --address\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *keystore = NULL, *chain_id = NULL, *hrp = NULL, *derive = NULL;
	const char *to[64];
	size_t nto = 0;
	bool address = false, pubkey_once = false;
	unsigned long long nonce = 0, count = 0, expiry = 0, amount = 1, fee = 100000;
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_transfer t = {0};
	ssp_addr dst[64];
	ssp_buf b;
	int rc = 1;

	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(k, "--address") || !strcmp(k, "--pubkey-once")) {
			if (k[2] == 'a')
				address = true;
			else
				pubkey_once = true;
			i--;
			continue;
		}
		if (!v) return usage();
		if (!strcmp(k, "--derive"))
			derive = v;
		else if (!strcmp(k, "--keystore"))
			keystore = v;
		else if (!strcmp(k, "--chain-id"))
			chain_id = v;
		else if (!strcmp(k, "--hrp"))
			hrp = v;
		else if (!strcmp(k, "--to")) {
			if (nto == sizeof to / sizeof *to) return usage();
			to[nto++] = v;
		}
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
	if (ssp_core_init() || !hrp || !!keystore == !!derive) return usage();
	if (derive) {
		ssp_hash seed;
		ssp_sha256(&seed, derive, strlen(derive));
		if (ssp_seckey_from_raw(&sk, SSP_KEY_ED25519, seed.b, 32) || ssp_key_public(&pk, &sk))
			return 1;
	} else if (ssp_keystore_read(keystore, "", &sk, &pk)) {
		fprintf(stderr, "ssp_txgen: cannot read %s\n", keystore);
		return 1;
	}
	if (address) {
		char text[96];
		ssp_addr a;
		ssp_addr_from_pubkey(&a, &pk);
		ssp_addr_encode(text, sizeof text, hrp, &a);
		puts(text);
		rc = 0;
		goto out;
	}
	if (!chain_id || !nto || !count || !expiry) {
		rc = usage();
		goto out;
	}
	for (size_t i = 0; i < nto; i++)
		if (ssp_addr_decode(&dst[i], hrp, to[i])) {
			fprintf(stderr, "ssp_txgen: bad address %s\n", to[i]);
			goto out;
		}
	t.amount = amount;
	ssp_buf_init(&b, 4096);
	for (unsigned long long i = 0; i < count && !b.err; i++) {
		t.to = dst[i % nto];
		ssp_buf_reset(&b);
		ssp_transfer_encode(&b, &t);
		ssp_tx_build tb = {.chain_id = chain_id,
		                   .type = SSP_TX_TRANSFER,
		                   .nonce = nonce + i,
		                   .fee = fee,
		                   .expiry = expiry,
		                   .payload = b.data,
		                   .payload_len = b.len,
		                   .include_pubkey = !pubkey_once || nonce + i == 0};
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
