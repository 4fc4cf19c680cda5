/*
 * config.c — sspd's configuration (node layer): built-in defaults, then an
 * INI file (--config), then command-line flags, which win. INI keys are the
 * flag names without the leading dashes (`_` may stand for `-`); [sections]
 * are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

static const char usage[] =
    "usage: sspd [options]\n"
    "  --dev                   single-node devnet with funded dev accounts\n"
    "  --dev-accounts N        accounts a new devnet funds: dev, dev1 … (default 10, 1..100)\n"
    "  --reset                 with --dev: delete the devnet's chain and keys, start afresh\n"
    "  --datadir DIR           data directory (default ~/.ssp/<network>)\n"
    "  --rpc-listen ADDR:PORT  JSON-RPC address (default 127.0.0.1:9631)\n"
    "  --genesis FILE          genesis JSON (required unless --dev)\n"
    "  --producer-key FILE     keystore of the block producer key\n"
    "                          (password from SSP_PRODUCER_PASSWORD, default empty)\n"
    "  --reporter-key FILE     keystore of the key that signs (and pays for) the evidence\n"
    "                          txs this node submits when it sees double signing; it earns\n"
    "                          half of each slash (password from SSP_REPORTER_PASSWORD;\n"
    "                          default: the producer key)\n"
    "  --p2p-listen ADDR:PORT  accept peers on this address (P2P; docs/node.md)\n"
    "  --peer HOST:PORT        a peer to keep connected (repeatable; INI: one peer = line each)\n"
    "  --p2p-max-inbound N     inbound peer connections (default 32)\n"
    "  --p2p-max-outbound N    outbound peer connections (default 8)\n"
    "  --follow URL            follower: import every block from another node's RPC\n"
    "                          (verifying each); never produces\n"
    "  --config FILE           INI file with these keys; flags win\n"
    "  --log-format plain|json log line format (default plain)\n"
    "  --log-level debug|info|warn|error\n"
    "  --check-invariants      check the supply invariant after every block\n"
    "  --rpc-threads N         RPC handler threads (default 8)\n"
    "  --rpc-max-conns N       concurrent RPC connections (default 8192)\n"
    "  --rpc-conns-per-ip N    concurrent RPC connections from one address (default 2048)\n"
    "  --rpc-request-timeout MS  time to send a request's headers and body (default 10000)\n"
    "  --rpc-cors ORIGIN[,ORIGIN]  browser origins allowed to call the RPC, * for any\n"
    "                          (default none: requests carrying another Origin get 403)\n"
    "  --mempool-max N         pending transactions (default 300000)\n"
    "  --map-size MIB          LMDB map size, the database's maximum (default 262144 = 256 GiB)\n"
    "  --no-sync               do not fsync commits (benchmarks only: a crash loses blocks)\n"
    "  --exec-budget-ms N      producer: stop adding transactions to a block once executing\n"
    "                          it took N ms (default half the block interval; 0 = no limit)\n"
    "  --reinit                start a new chain in a datadir whose database is empty or\n"
    "                          missing although its identity (genesis.json, keys) exists\n"
    "  --verify-db DIR         check DIR's database offline (with --genesis or\n"
    "                          DIR/genesis.json): prints \"ok\" with counts or the first bad "
    "height\n"
    "  --version, -h/--help\n";

typedef struct {
	const char *name;
	bool has_arg;
} opt;

static const opt opts[] = {
    {"dev", false},
    {"datadir", true},
    {"rpc-listen", true},
    {"genesis", true},
    {"producer-key", true},
    {"reporter-key", true},
    {"config", true},
    {"log-format", true},
    {"log-level", true},
    {"check-invariants", false},
    {"rpc-threads", true},
    {"mempool-max", true},
    {"no-sync", false},
    {"map-size", true},
    {"follow", true},
    {"rpc-max-conns", true},
    {"rpc-conns-per-ip", true},
    {"rpc-request-timeout", true},
    {"reinit", false},
    {"verify-db", true},
    {"exec-budget-ms", true},
    {"rpc-cors", true},
    {"dev-accounts", true},
    {"reset", false},
    {"p2p-listen", true},
    {"peer", true},
    {"p2p-max-inbound", true},
    {"p2p-max-outbound", true},
};

static int set_str(char *dst, size_t cap, const char *v, const char *name)
{
	if (strlen(v) >= cap) {
		fprintf(stderr, "sspd: error: value of %s is too long\n", name);
		return 1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!*v || *v == '-') return 1;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x > max) return 1;
	*out = x;
	return 0;
}

static int apply(ssp_node_config *c, const char *name, const char *v)
{
	unsigned long long u;
	if (!strcmp(name, "dev"))
		c->dev = !v || !strcmp(v, "1") || !strcmp(v, "true");
	else if (!strcmp(name, "datadir"))
		return set_str(c->datadir, sizeof c->datadir, v, name);
	else if (!strcmp(name, "rpc-listen"))
		return set_str(c->rpc_listen, sizeof c->rpc_listen, v, name);
	else if (!strcmp(name, "genesis"))
		return set_str(c->genesis, sizeof c->genesis, v, name);
	else if (!strcmp(name, "producer-key"))
		return set_str(c->producer_key, sizeof c->producer_key, v, name);
	else if (!strcmp(name, "reporter-key"))
		return set_str(c->reporter_key, sizeof c->reporter_key, v, name);
	else if (!strcmp(name, "follow"))
		return set_str(c->follow, sizeof c->follow, v, name);
	else if (!strcmp(name, "p2p-listen"))
		return set_str(c->p2p_listen, sizeof c->p2p_listen, v, name);
	else if (!strcmp(name, "peer")) {
		if (c->npeers == SSP_NODE_PEERS_MAX) {
			fprintf(stderr, "sspd: error: at most %d peers\n", SSP_NODE_PEERS_MAX);
			return 1;
		}
		return set_str(c->peers[c->npeers++], sizeof c->peers[0], v, name);
	} else if (!strcmp(name, "p2p-max-inbound") || !strcmp(name, "p2p-max-outbound")) {
		if (parse_uint(v, 4096, &u) || u == 0) {
			fprintf(stderr, "sspd: error: --%s wants 1..4096\n", name);
			return 1;
		}
		if (name[8] == 'i')
			c->p2p_max_inbound = (unsigned)u;
		else
			c->p2p_max_outbound = (unsigned)u;
	}
	else if (!strcmp(name, "config"))
		return 0;
	else if (!strcmp(name, "log-format")) {
		if (!strcmp(v, "plain"))
			c->log_format = SSP_LOG_PLAIN;
		else if (!strcmp(v, "json"))
			c->log_format = SSP_LOG_JSON;
		else {
			fprintf(stderr, "sspd: error: --log-format must be plain or json\n");
			return 1;
		}
	} else if (!strcmp(name, "log-level")) {
		static const char *lv[] = {"debug", "info", "warn", "error"};
		int i;
		for (i = 0; i < 4 && strcmp(v, lv[i]); i++)
			;
		if (i == 4) {
			fprintf(stderr,
			        "sspd: error: --log-level must be debug, info, warn or error\n");
			return 1;
		}
		c->log_level = (ssp_log_level)i;
	} else if (!strcmp(name, "check-invariants"))
		c->check_invariants = !v || !strcmp(v, "1") || !strcmp(v, "true");
	else if (!strcmp(name, "no-sync"))
		c->no_sync = !v || !strcmp(v, "1") || !strcmp(v, "true");
	else if (!strcmp(name, "reinit"))
		c->reinit = !v || !strcmp(v, "1") || !strcmp(v, "true");
	else if (!strcmp(name, "verify-db"))
		return set_str(c->verify_db, sizeof c->verify_db, v, name);
	else if (!strcmp(name, "rpc-cors"))
		return set_str(c->rpc_cors, sizeof c->rpc_cors, v, name);
	else if (!strcmp(name, "reset"))
		c->reset = !v || !strcmp(v, "1") || !strcmp(v, "true");
	else if (!strcmp(name, "dev-accounts")) {
		if (parse_uint(v, 100, &u) || !u) {
			fprintf(stderr, "sspd: error: --dev-accounts must be 1..100\n");
			return 1;
		}
		c->dev_accounts = (unsigned)u;
	} else if (!strcmp(name, "rpc-threads")) {
		if (parse_uint(v, 64, &u) || !u) {
			fprintf(stderr, "sspd: error: --rpc-threads must be 1..64\n");
			return 1;
		}
		c->rpc_threads = (unsigned)u;
	} else if (!strcmp(name, "mempool-max")) {
		if (parse_uint(v, 10000000, &u) || u < 100) {
			fprintf(stderr, "sspd: error: --mempool-max must be 100..10000000\n");
			return 1;
		}
		c->mempool_max = (size_t)u;
	} else if (!strcmp(name, "rpc-max-conns")) {
		if (parse_uint(v, 1000000, &u) || u < 16) {
			fprintf(stderr, "sspd: error: --rpc-max-conns must be 16..1000000\n");
			return 1;
		}
		c->rpc_max_conns = (unsigned)u;
	} else if (!strcmp(name, "rpc-conns-per-ip")) {
		if (parse_uint(v, 1000000, &u) || u < 1) {
			fprintf(stderr, "sspd: error: --rpc-conns-per-ip must be 1..1000000\n");
			return 1;
		}
		c->rpc_conns_per_ip = (unsigned)u;
	} else if (!strcmp(name, "rpc-request-timeout")) {
		if (parse_uint(v, 3600000, &u) || u < 100) {
			fprintf(stderr,
			        "sspd: error: --rpc-request-timeout must be 100..3600000 ms\n");
			return 1;
		}
		c->rpc_request_ms = (unsigned)u;
	} else if (!strcmp(name, "exec-budget-ms")) {
		if (parse_uint(v, 3600000, &u)) {
			fprintf(stderr, "sspd: error: --exec-budget-ms must be 0..3600000\n");
			return 1;
		}
		c->exec_budget_ms = (long)u;
	} else if (!strcmp(name, "map-size")) {
		if (parse_uint(v, 1ull << 24, &u) || u < 1) {
			fprintf(stderr, "sspd: error: --map-size must be 1..16777216 MiB\n");
			return 1;
		}
		c->map_size = (size_t)u << 20;
	} else {
		fprintf(stderr, "sspd: error: unknown option %s\n", name);
		return 1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int load_ini(ssp_node_config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int lineno = 0, rc = 0;
	if (!f) {
		fprintf(stderr, "sspd: error: cannot read config %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (!rc && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';' || *s == '[') continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "sspd: error: %s:%d: expected key = value\n", path, lineno);
			rc = 1;
			break;
		}
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		for (char *q = k; *q; q++) /* exec_budget_ms = exec-budget-ms */
			if (*q == '_') *q = '-';
		size_t i;
		for (i = 0; i < sizeof opts / sizeof *opts && strcmp(opts[i].name, k); i++)
			;
		if (i == sizeof opts / sizeof *opts || !strcmp(k, "config")) {
			fprintf(stderr, "sspd: error: %s:%d: unknown key '%s'\n", path, lineno, k);
			rc = 1;
			break;
		}
		rc = apply(c, k, v);
		if (rc) fprintf(stderr, "sspd: (in %s line %d)\n", path, lineno);
	}
	fclose(f);
	return rc;
}

int ssp_node_config_parse(ssp_node_config *c, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	snprintf(c->rpc_listen, sizeof c->rpc_listen, "127.0.0.1:9631");
	c->log_format = SSP_LOG_PLAIN;
	c->log_level = SSP_LOG_INFO;
	c->rpc_max_body = 16u << 20;
	c->exec_budget_ms = -1;
	/* pass 1: the config file, so flags can override it */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 2;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("sspd %s\n", SSP_VERSION);
			return 2;
		}
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sspd: error: --config needs a file\n");
				return 1;
			}
			if (load_ini(c, argv[i + 1])) return 1;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2)) {
			fprintf(stderr, "sspd: error: unexpected argument '%s'\n%s", a, usage);
			return 1;
		}
		size_t k;
		for (k = 0; k < sizeof opts / sizeof *opts && strcmp(opts[k].name, a + 2); k++)
			;
		if (k == sizeof opts / sizeof *opts) {
			fprintf(stderr, "sspd: error: unknown option %s\n%s", a, usage);
			return 1;
		}
		const char *v = NULL;
		if (opts[k].has_arg) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sspd: error: %s needs a value\n", a);
				return 1;
			}
			v = argv[++i];
		}
		if (apply(c, opts[k].name, v)) return 1;
	}
	if (c->verify_db[0]) return 0; /* genesis defaults to DIR/genesis.json */
	if (c->reset && !c->dev) {
		fprintf(stderr, "sspd: error: --reset only resets a devnet (--dev)\n");
		return 1;
	}
	if (!c->dev && !c->genesis[0]) {
		fprintf(stderr, "sspd: error: give --genesis FILE, or --dev for a devnet\n");
		return 1;
	}
	if (!c->datadir[0]) {
		const char *home = getenv("HOME");
		if (!home) {
			fprintf(stderr, "sspd: error: no --datadir and no $HOME\n");
			return 1;
		}
		snprintf(c->datadir, sizeof c->datadir, "%s/.ssp/%s", home,
		         c->dev ? "dev" : "node");
	}
	return 0;
}
