/*
 * main.c — sspd, the Smartshare node daemon (node layer): parse the
 * configuration, start the node, run its loop until a signal.
 */
#include <stdio.h>
#include <stdlib.h>

#include "node/node.h"

int main(int argc, char **argv)
{
	static ssp_node node; /* large; and its address is handed to threads */
	int rc = ssp_node_config_parse(&node.cfg, argc, argv);
	if (rc) return rc == 2 ? 0 : 1;
	ssp_log_setup(node.cfg.log_format, node.cfg.log_level);
	if (ssp_core_init()) {
		fprintf(stderr, "sspd: error: cannot initialise libsodium\n");
		return 1;
	}
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
