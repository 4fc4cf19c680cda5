/*
 * main_internal.h — what ssp-agent's files share (the program, not the
 * library): its options and the commands that talk to a node.
 */
#ifndef SSP_AGENT_MAIN_INTERNAL_H
#define SSP_AGENT_MAIN_INTERNAL_H

#include <stdbool.h>

#include "ssp/agent.h"

typedef struct {
	const char *rpc; /* node URL */
	int json;
	bool wait;
	const char *to, *amount, *cert, *firmware;
	const char *arg;                     /* the command's operand (check-device, check-tx) */
	const char *anchors, *genesis, *out; /* light-client commands */
	unsigned long long max_age_s;        /* check-device: newest header's age limit, 0 = none */
	const char *hrp;                     /* address prefix */
	const char *chain_id, *agreement, *cumulative, *after; /* metering receipts */
} agent_opts;

/* Prints "ssp-agent: error: " and the message on stderr; returns 1 (the failure exit status). */
int agent_cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Each returns ssp-agent's exit status: 0 ok, 1 failure (reported), 2 usage. */
int agent_cmd_balance(ssp_agent *ag, const agent_opts *o);
int agent_cmd_transfer(ssp_agent *ag, const agent_opts *o);
int agent_cmd_enroll(ssp_agent *ag, const agent_opts *o);
int agent_cmd_attest(ssp_agent *ag, const agent_opts *o);
/* The light-client commands (main_light.c): no agent handle needed. */
int agent_cmd_anchors(const agent_opts *o);
int agent_cmd_check_device(const agent_opts *o);
int agent_cmd_check_tx(const agent_opts *o);
/* Metering receipts (main_meter.c): the device signs one; anyone checks one. */
int agent_cmd_meter(ssp_agent *ag, const agent_opts *o);
int agent_cmd_check_meter(const agent_opts *o);

#endif
