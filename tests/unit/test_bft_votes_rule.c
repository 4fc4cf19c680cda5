/*
 * test_bft_votes_rule.c — the slashing conditions between two votes exist
 * twice: ssp_bft_votes_conflict in the consensus machine (ssp/bft.h), which
 * finds equivocation, and ssp_votes_conflict in the proto layer (ssp/proto.h),
 * which the staking module's vote-evidence tx (0x49) applies (the module
 * cannot link the consensus library). They must agree on every pair: checked
 * here over every pair of links with heights 0..5 and two ids per block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssp/bft.h"
#include "ssp/proto.h"

static void test_same_rule(void **state)
{
	(void)state;
	enum { H = 6 };
	ssp_vote_link l[H * H * 4];
	size_t n = 0, kinds[4] = {0};
	for (uint64_t s = 0; s < H; s++)
		for (uint64_t t = s + 1; t < H; t++)
			for (int ids = 0; ids < 4; ids++) {
				memset(&l[n], 0, sizeof l[n]);
				l[n].src_height = s;
				l[n].src_id.b[0] = (uint8_t)(ids & 1);
				l[n].tgt_height = t;
				l[n].tgt_id.b[0] = (uint8_t)(ids >> 1);
				n++;
			}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			ssp_bft_vote a = {
			    7, {l[i].src_height, l[i].src_id}, {l[i].tgt_height, l[i].tgt_id}};
			ssp_bft_vote b = {
			    7, {l[j].src_height, l[j].src_id}, {l[j].tgt_height, l[j].tgt_id}};
			int want = (int)ssp_bft_votes_conflict(&a, &b);
			int got = (int)ssp_votes_conflict(&l[i], &l[j]);
			assert_int_equal(got, want);
			assert_int_equal(got, (int)ssp_votes_conflict(&l[j], &l[i]));
			kinds[got]++;
		}
	/* every kind occurs: the grid exercises both conditions */
	assert_true(kinds[SSP_VOTES_NONE] && kinds[SSP_VOTES_DOUBLE] && kinds[SSP_VOTES_SURROUND]);
	assert_int_equal((int)SSP_VOTES_DOUBLE, (int)SSP_BFT_EV_DOUBLE_VOTE);
	assert_int_equal((int)SSP_VOTES_SURROUND, (int)SSP_BFT_EV_SURROUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_same_rule)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
