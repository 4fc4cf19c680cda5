/*
 * test_net_codec.c — the P2P wire (net layer): frame header checks, every
 * message's codec (round trip, truncation, trailing bytes, caps), the
 * handshake (both sides derive crossed keys and one transcript; a HELLO
 * verifies only in the session and role it was signed for), secretstream
 * frames with the header as associated data; and the round-robin schedule
 * and last-irreversible-block rule (consensus layer), and the genesis
 * producer set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_internal.h"
#include "ssp/consensus.h"

static void test_frame_check(void **state)
{
	uint8_t h[5];
	size_t clen;
	uint8_t type;
	(void)state;
	net_le32_put(h, 8 + NET_ABYTES);
	h[4] = NET_PING;
	assert_int_equal(net_frame_check(h, 1 << 20, &clen, &type), 0);
	assert_int_equal(clen, 8 + NET_ABYTES);
	h[4] = 0;
	assert_int_equal(net_frame_check(h, 1 << 20, &clen, &type), SSP_ERR_DECODE);
	h[4] = NET_TYPE_MAX + 1;
	assert_int_equal(net_frame_check(h, 1 << 20, &clen, &type), SSP_ERR_DECODE);
	h[4] = NET_PING;
	net_le32_put(h, 9 + NET_ABYTES); /* a PING is 8 bytes */
	assert_int_equal(net_frame_check(h, 1 << 20, &clen, &type), SSP_ERR_TOOBIG);
	net_le32_put(h, NET_ABYTES - 1);
	assert_int_equal(net_frame_check(h, 1 << 20, &clen, &type), SSP_ERR_TRUNCATED);
	h[4] = NET_BLOCK; /* the block cap is the genesis limit */
	net_le32_put(h, 1000 + NET_ABYTES);
	assert_int_equal(net_frame_check(h, 1000, &clen, &type), 0);
	assert_int_equal(net_frame_check(h, 999, &clen, &type), SSP_ERR_TOOBIG);
	h[4] = NET_GET_ADDR;
	net_le32_put(h, NET_ABYTES);
	assert_int_equal(net_frame_check(h, 0, &clen, &type), 0);
	net_le32_put(h, 0xffffffffu);
	assert_int_equal(net_frame_check(h, 0, &clen, &type), SSP_ERR_TOOBIG);
}

/* Every prefix of a valid encoding fails; one extra byte fails. */
static void all_prefixes_fail(int (*dec)(const uint8_t *, size_t), const ssp_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		assert_true(dec(b->data, i) != 0);
	uint8_t *x = malloc(b->len + 1);
	memcpy(x, b->data, b->len);
	x[b->len] = 0;
	assert_int_equal(dec(x, b->len + 1), SSP_ERR_TRAILING);
	free(x);
}

static int dec_hello(const uint8_t *p, size_t n)
{
	net_hello h;
	return net_hello_decode(&h, p, n);
}
static int dec_announce(const uint8_t *p, size_t n)
{
	ssp_net_head h;
	return net_announce_decode(&h, p, n);
}
static int dec_get_blocks(const uint8_t *p, size_t n)
{
	net_get_blocks g;
	return net_get_blocks_decode(&g, p, n);
}
static int dec_inv(const uint8_t *p, size_t n)
{
	net_inv v;
	return net_inv_decode(&v, p, n);
}
static int dec_addr(const uint8_t *p, size_t n)
{
	net_addr a[NET_ADDR_MAX];
	uint32_t k;
	return net_addr_decode(a, &k, p, n);
}
static int dec_disc(const uint8_t *p, size_t n)
{
	net_disconnect d;
	return net_disconnect_decode(&d, p, n);
}

static void test_messages(void **state)
{
	ssp_buf b;
	(void)state;
	/* HELLO */
	net_hello h = {.version = 1, .chain_id = "ssp-testnet", .listen_port = 9630}, g;
	memset(h.node_pk, 7, 32);
	memset(h.sig, 9, 64);
	memset(h.genesis.b, 3, 32);
	h.head = (ssp_net_head){.height = 10, .finalized = 7, .slot = 12};
	ssp_buf_init(&b, 4096);
	net_hello_encode(&b, &h);
	assert_true(b.len <= net_msg_max(NET_HELLO, 0));
	assert_int_equal(net_hello_decode(&g, b.data, b.len), 0);
	assert_string_equal(g.chain_id, "ssp-testnet");
	assert_int_equal(g.head.height, 10);
	assert_int_equal(g.head.finalized, 7);
	assert_int_equal(g.listen_port, 9630);
	assert_int_equal(g.signed_len, b.len - 96);
	all_prefixes_fail(dec_hello, &b);
	h.head.finalized = 11; /* final above the head */
	ssp_buf_reset(&b);
	net_hello_encode(&b, &h);
	assert_int_equal(net_hello_decode(&g, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_free(&b);
	/* ANNOUNCE */
	ssp_net_head a = {.height = 5, .finalized = 2, .slot = 9}, a2;
	ssp_buf_init(&b, 256);
	net_announce_encode(&b, &a);
	assert_int_equal(net_announce_decode(&a2, b.data, b.len), 0);
	assert_int_equal(a2.slot, 9);
	all_prefixes_fail(dec_announce, &b);
	ssp_buf_free(&b);
	/* GET_BLOCKS: count 1..32, from >= 1 */
	net_get_blocks gb = {.from = 1, .count = NET_GET_BLOCKS_MAX}, gb2;
	ssp_buf_init(&b, 64);
	net_get_blocks_encode(&b, &gb);
	assert_int_equal(net_get_blocks_decode(&gb2, b.data, b.len), 0);
	all_prefixes_fail(dec_get_blocks, &b);
	ssp_buf_reset(&b);
	gb.count = NET_GET_BLOCKS_MAX + 1;
	net_get_blocks_encode(&b, &gb);
	assert_int_equal(net_get_blocks_decode(&gb2, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_reset(&b);
	gb = (net_get_blocks){.from = 0, .count = 1};
	net_get_blocks_encode(&b, &gb);
	assert_int_equal(net_get_blocks_decode(&gb2, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_free(&b);
	/* INV: 1..256 ids */
	ssp_hash ids[3];
	memset(ids, 0x42, sizeof ids);
	net_inv v;
	ssp_buf_init(&b, 1 << 16);
	net_inv_encode(&b, ids, 3);
	assert_int_equal(net_inv_decode(&v, b.data, b.len), 0);
	assert_int_equal(v.n, 3);
	assert_memory_equal(v.ids, ids, 96);
	all_prefixes_fail(dec_inv, &b);
	ssp_buf_reset(&b);
	net_inv_encode(&b, ids, 0);
	assert_int_equal(net_inv_decode(&v, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_reset(&b);
	ssp_buf_u32(&b, NET_INV_MAX + 1);
	assert_int_equal(net_inv_decode(&v, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_free(&b);
	/* ADDR */
	net_addr ad[2] = {{0x7f000001, 9630}, {0x0a000001, 1}}, ad2[NET_ADDR_MAX];
	uint32_t k;
	ssp_buf_init(&b, 1024);
	net_addr_encode(&b, ad, 2);
	assert_int_equal(net_addr_decode(ad2, &k, b.data, b.len), 0);
	assert_int_equal(k, 2);
	assert_int_equal(ad2[1].port, 1);
	all_prefixes_fail(dec_addr, &b);
	ssp_buf_reset(&b);
	ad[0].port = 0;
	net_addr_encode(&b, ad, 2);
	assert_int_equal(net_addr_decode(ad2, &k, b.data, b.len), SSP_ERR_RANGE);
	ssp_buf_free(&b);
	/* DISCONNECT: printable reasons only */
	net_disconnect d;
	ssp_buf_init(&b, 1024);
	net_disconnect_encode(&b, 2, "wrong chain id");
	assert_int_equal(net_disconnect_decode(&d, b.data, b.len), 0);
	assert_string_equal(d.reason, "wrong chain id");
	all_prefixes_fail(dec_disc, &b);
	ssp_buf_reset(&b);
	net_disconnect_encode(&b, 2, "bad\nline");
	assert_int_equal(net_disconnect_decode(&d, b.data, b.len), SSP_ERR_DECODE);
	ssp_buf_free(&b);
	/* PING, empty */
	uint64_t nonce;
	uint8_t p8[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	assert_int_equal(net_ping_decode(&nonce, p8, 8), 0);
	assert_int_equal(net_ping_decode(&nonce, p8, 7), SSP_ERR_TRUNCATED);
	assert_int_equal(net_ping_decode(&nonce, p8, 9), SSP_ERR_TRAILING);
	assert_int_equal(net_empty_decode(p8, 0), 0);
	assert_int_equal(net_empty_decode(p8, 1), SSP_ERR_TRAILING);
	uint64_t height;
	uint8_t blk[9] = {1, 5, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(net_block_height(&height, blk, 9), 0);
	assert_int_equal(height, 5);
	blk[0] = 2;
	assert_int_equal(net_block_height(&height, blk, 9), SSP_ERR_DECODE);
}

static void test_handshake(void **state)
{
	net_hs a, b;
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	net_hs_init(&a, true);
	net_hs_init(&b, false);
	assert_int_equal(net_hs_prelude(&a, b.mine), 0);
	assert_int_equal(net_hs_prelude(&b, a.mine), 0);
	assert_memory_equal(a.tx, b.rx, 32);
	assert_memory_equal(a.rx, b.tx, 32);
	assert_memory_equal(a.transcript, b.transcript, 32);
	/* the initiator's HELLO verifies at the responder only */
	net_hello h = {.version = 1, .chain_id = "c"}, d;
	memcpy(h.node_pk, pk, 32);
	assert_int_equal(net_hs_sign_hello(&h, &a, sk), 0);
	ssp_buf buf;
	ssp_buf_init(&buf, 4096);
	net_hello_encode(&buf, &h);
	assert_int_equal(net_hello_decode(&d, buf.data, buf.len), 0);
	assert_int_equal(net_hs_check_hello(&d, &b), 0);
	assert_int_equal(net_hs_check_hello(&d, &a), SSP_ERR_BADSIG); /* reflected */
	/* another session: the same HELLO does not verify (replay) */
	net_hs c, e;
	net_hs_init(&c, true);
	net_hs_init(&e, false);
	assert_int_equal(net_hs_prelude(&c, e.mine), 0);
	assert_int_equal(net_hs_prelude(&e, c.mine), 0);
	assert_int_equal(net_hs_check_hello(&d, &e), SSP_ERR_BADSIG);
	/* a changed field or another key fails */
	buf.data[96 + 4 + 1] ^= 1; /* the chain id */
	assert_int_equal(net_hello_decode(&d, buf.data, buf.len), 0);
	assert_int_equal(net_hs_check_hello(&d, &b), SSP_ERR_BADSIG);
	buf.data[96 + 4 + 1] ^= 1;
	memcpy(buf.data, pk2, 32);
	assert_int_equal(net_hello_decode(&d, buf.data, buf.len), 0);
	assert_int_equal(net_hs_check_hello(&d, &b), SSP_ERR_BADSIG);
	ssp_buf_free(&buf);
	/* bad preludes: magic, version, our own key reflected */
	net_hs f;
	uint8_t pre[NET_PRELUDE_LEN];
	net_hs_init(&f, true);
	memcpy(pre, b.mine, sizeof pre);
	pre[0] = 'X';
	assert_int_equal(net_hs_prelude(&f, pre), SSP_ERR_DECODE);
	net_hs_init(&f, true);
	memcpy(pre, b.mine, sizeof pre);
	pre[4] = 2;
	assert_int_equal(net_hs_prelude(&f, pre), SSP_ERR_DECODE);
	net_hs_init(&f, true);
	memcpy(pre, f.mine, sizeof pre);
	assert_int_equal(net_hs_prelude(&f, pre), SSP_ERR_DECODE);
	net_hs_init(&f, true);
	memcpy(pre, b.mine, sizeof pre);
	memset(pre + 8, 0, 32); /* a low-order point */
	assert_int_equal(net_hs_prelude(&f, pre), SSP_ERR_BADKEY);
	/* frames: the header is authenticated */
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	uint8_t fh[5] = {0, 0, 0, 0, NET_PING}, ct[8 + NET_ABYTES], pt[8];
	unsigned long long plen;
	unsigned char tag;
	crypto_secretstream_xchacha20poly1305_init_push(&tx, hdr, a.tx);
	crypto_secretstream_xchacha20poly1305_init_pull(&rx, hdr, b.rx);
	crypto_secretstream_xchacha20poly1305_push(&tx, ct, NULL, (const uint8_t *)"pingping", 8, fh,
	                                           5, 0);
	fh[4] = NET_PONG;
	assert_int_not_equal(
	    crypto_secretstream_xchacha20poly1305_pull(&rx, pt, &plen, &tag, ct, sizeof ct, fh, 5),
	    0);
}

static void test_rr(void **state)
{
	(void)state;
	ssp_pubkey keys[4];
	char text[4][100];
	for (int i = 0; i < 4; i++) {
		ssp_seckey sk;
		assert_int_equal(ssp_key_generate(&sk, &keys[i], SSP_KEY_ED25519), 0);
		ssp_pubkey_text(text[i], sizeof text[i], &keys[i]);
	}
	ssp_addr dev;
	memset(dev.b, 1, sizeof dev.b);
	char *dj = ssp_genesis_dev_json(&dev, &keys[0], 1000);
	char why[256];
	ssp_genesis *g1, *g2, *g3;
	assert_int_equal(ssp_genesis_parse(&g1, dj, strlen(dj), why, sizeof why), 0);
	assert_false(ssp_genesis_has_producer_set(g1));
	const ssp_pubkey *ks;
	assert_int_equal(ssp_genesis_producers(g1, &ks), 1);
	/* the same genesis with a producer set: another hash, four producers */
	json_t *j = json_loads(dj, 0, NULL);
	json_object_del(j, "producer");
	json_object_set_new(j, "producers",
	                    json_pack("[s,s,s,s]", text[0], text[1], text[2], text[3]));
	char *pj = json_dumps(j, 0);
	assert_int_equal(ssp_genesis_parse(&g2, pj, strlen(pj), why, sizeof why), 0);
	assert_int_equal(ssp_genesis_producers(g2, &ks), 4);
	assert_memory_not_equal(ssp_genesis_hash(g1)->b, ssp_genesis_hash(g2)->b, 32);
	assert_memory_equal(ssp_genesis_producer(g2)->b, ssp_genesis_producer(g1)->b, 20);
	free(pj);
	/* a key listed twice, and a producer that is not producers[0], are refused */
	json_object_set_new(j, "producers", json_pack("[s,s]", text[1], text[1]));
	pj = json_dumps(j, 0);
	assert_int_not_equal(ssp_genesis_parse(&g3, pj, strlen(pj), why, sizeof why), 0);
	free(pj);
	json_object_set_new(j, "producers", json_pack("[s,s]", text[1], text[2]));
	json_object_set_new(j, "producer", json_string(text[0]));
	pj = json_dumps(j, 0);
	assert_int_not_equal(ssp_genesis_parse(&g3, pj, strlen(pj), why, sizeof why), 0);
	free(pj);
	json_decref(j);
	free(dj);

	ssp_rr *r;
	assert_int_equal(ssp_rr_new(&r, g2), 0);
	assert_int_equal(ssp_rr_count(r), 4);
	assert_memory_equal(ssp_rr_slot_producer(r, 6)->b, keys[2].b, 32);
	/* slots of heights 10, 9, 8, ...: 3 distinct producers (> 2/3 of 4) on top of 7 */
	uint64_t slots[] = {10, 9, 8, 7, 6};
	assert_int_equal(ssp_rr_lib(r, 10, slots, 5), 7);
	/* heights 10 and 9 by one producer (slots 14, 10): the third distinct one is at 7 */
	uint64_t skip[] = {14, 10, 9, 8};
	assert_int_equal(ssp_rr_lib(r, 10, skip, 4), 6);
	uint64_t two[] = {13, 12, 8, 4}; /* only producers 1, 0: never final */
	assert_int_equal(ssp_rr_lib(r, 10, two, 4), 0);
	ssp_rr_free(r);
	ssp_genesis_free(g1);
	ssp_genesis_free(g2);
}

int main(void)
{
	if (ssp_core_init()) return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_check),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_handshake),
	    cmocka_unit_test(test_rr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
