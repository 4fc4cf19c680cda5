/*
 * main.c — sspd, the Smartshare node daemon (node layer): parse the
 * configuration, start the node, run its loop until a signal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "node/node.h"

/*
 * Every RPC connection is a descriptor, and the RPC server serves
 * thousands: take the hard limit (it caps its connections to what it gets).
 */
static void raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= r.rlim_max) return;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		fprintf(stderr, "sspd: warning: cannot raise the open-file limit\n");
}

int main(int argc, char **argv)
{
	static ssp_node node; /* large; and its address is handed to threads */
	int rc = ssp_node_config_parse(&node.cfg, argc, argv);
	/* a usage error (bad flag, value or config file) exits 2, as ssp's do; failures 1 */
	if (rc) return rc == 2 ? 0 : 2;
	ssp_log_setup(node.cfg.log_format, node.cfg.log_level);
	raise_nofile();
	if (ssp_core_init()) {
		fprintf(stderr, "sspd: error: cannot initialise libsodium\n");
		return 1;
	}
	if (node.cfg.verify_db[0]) return ssp_node_verify_db(&node.cfg);
	rc = ssp_node_start(&node);
	if (rc) {
		fprintf(stderr, "sspd: error: %s\n", node.why[0] ? node.why : ssp_strerror(rc));
		ssp_node_free(&node);
		return 1;
	}
	rc = ssp_node_run(&node);
	ssp_node_free(&node);
	return rc;
}
