/*
 * fuzz_light.c — libFuzzer harness for libsmartagent's light client (agent
 * layer): what a device decodes from a node it does not trust. Input: u8
 * mode ‖ bytes. Mode 0: the bytes are an anchors (or genesis) JSON text;
 * parsed anchors re-serialise and parse again to the same chain id and keys.
 * Mode 1: the bytes are a block header checked against fixed anchors; a
 * header that decodes re-encodes to exactly its bytes, and it never passes
 * (nobody has the anchors' key here). Mode 2: u16 value length ‖ value ‖
 * state proof, checked as a device record against a header whose state_root
 * the proof itself cannot know: never accepted with a decodable record
 * unless the proof holds, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssp/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) abort();
}

static ssp_agent_anchors *fixed_anchors(void)
{
	static ssp_agent_anchors *an;
	static const char text[] =
	    "{\"chain_id\":\"ssp-fuzz\",\"producers\":[\"ed25519:"
	    "65dbd5220863c021999e646448d3734c295a0f8158793cb287d226eefc9fc19a\"]}";
	char why[128];
	if (!an) check(ssp_agent_anchors_parse(&an, text, sizeof text - 1, why, sizeof why) == 0);
	return an;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || ssp_core_init()) return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	char why[256];
	switch (data[0] % 3) {
	case 0: {
		ssp_agent_anchors *an, *again;
		if (ssp_agent_anchors_parse(&an, (const char *)p, n, why, sizeof why)) {
			check(why[0] != 0);
			return 0;
		}
		char *s = ssp_agent_anchors_json(an);
		check(s != NULL);
		check(ssp_agent_anchors_parse(&again, s, strlen(s), why, sizeof why) == 0);
		const ssp_pubkey *k1, *k2;
		size_t n1 = ssp_agent_anchors_producers(an, &k1),
		       n2 = ssp_agent_anchors_producers(again, &k2);
		check(n1 == n2 &&
		      !strcmp(ssp_agent_anchors_chain_id(an), ssp_agent_anchors_chain_id(again)));
		for (size_t i = 0; i < n1; i++)
			check(k1[i].type == k2[i].type && k1[i].len == k2[i].len &&
			      !memcmp(k1[i].b, k2[i].b, k1[i].len));
		free(s);
		ssp_agent_anchors_free(again);
		ssp_agent_anchors_free(an);
		return 0;
	}
	case 1: {
		ssp_header h;
		int rc = ssp_agent_check_header(fixed_anchors(), &h, p, n);
		check(rc != 0);
		if (ssp_header_decode(&h, p, n) == 0) {
			ssp_buf b;
			ssp_buf_init(&b, 64 * 1024);
			ssp_header_encode(&b, &h, true);
			check(b.err == 0 && b.len == n && !memcmp(b.data, p, n));
			ssp_buf_free(&b);
		}
		return 0;
	}
	default: {
		if (n < 2) return 0;
		size_t vl = (size_t)(p[0] | p[1] << 8);
		if (n - 2 < vl) return 0;
		const uint8_t *value = p + 2, *proof = p + 2 + vl;
		size_t plen = n - 2 - vl;
		ssp_header h;
		ssp_addr dev;
		ssp_device d;
		int st;
		bool present;
		memset(&h, 0, sizeof h);
		memset(&dev, 0x11, sizeof dev);
		uint8_t key[1 + SSP_ADDR_LEN] = {SSP_TB_DEVICE};
		memcpy(key + 1, dev.b, SSP_ADDR_LEN);
		/* the root the proof would need is unknown to it: with the zero root only the
		 * empty-tree proof (absent, depth 0) holds */
		int rc =
		    ssp_agent_check_device(&h, &st, &d, &dev, vl ? value : NULL, vl, proof, plen);
		int rs = ssp_agent_check_state_proof(&h, &present, key, sizeof key,
		                                     vl ? value : NULL, vl, proof, plen);
		check(rc == 0 ? rs == 0 && !present && st == SSP_AGENT_DEVICE_UNKNOWN : rc < 0);
		return 0;
	}
	}
}
