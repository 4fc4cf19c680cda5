/*
 * net_cmds.c — `ssp net info|peers` and `ssp testnet up|status|down`
 * (application layer). A testnet is a directory: testnet.json (the layout:
 * names, ports, producer or not), genesis.json listing every producer key,
 * keys/ (the producers' keystores and a funded `dev` account, empty
 * passwords) and one datadir per node. `up` creates what is missing and
 * starts every node that is not running, so up after down continues the
 * same chains; `down` stops them with SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define TESTNET_MAX 32

/* ------------------------------------------------------------------ net */

static int show_method(cli_ctx *c, const char *method)
{
	json_t *res = NULL;
	int rc = cli_rpc(c, method, json_object(), &res, NULL);
	if (rc) return rc;
	if (c->json) {
		cli_print_json(res);
	} else if (json_is_array(json_object_get(res, "peers"))) {
		size_t i;
		json_t *p;
		printf("%-18s %-22s %-4s %8s %8s %10s %10s %5s\n", "id", "address", "dir", "height",
		       "final", "bytes_in", "bytes_out", "score");
		json_array_foreach(json_object_get(res, "peers"), i, p)
		{
			printf("%-18.16s %-22s %-4s %8lld %8lld %10lld %10lld %5lld\n",
			       json_string_value(json_object_get(p, "id")),
			       json_string_value(json_object_get(p, "address")),
			       json_string_value(json_object_get(p, "direction")),
			       json_integer_value(json_object_get(p, "height")),
			       json_integer_value(json_object_get(p, "finalized")),
			       json_integer_value(json_object_get(p, "bytes_in")),
			       json_integer_value(json_object_get(p, "bytes_out")),
			       json_integer_value(json_object_get(p, "score")));
		}
	} else {
		cli_print_result(res, NULL);
	}
	json_decref(res);
	return CLI_OK;
}

int cli_cmd_net_info(cli_ctx *c, const cli_args *a)
{
	(void)a;
	return show_method(c, "net_getInfo");
}

int cli_cmd_net_peers(cli_ctx *c, const cli_args *a)
{
	(void)a;
	return show_method(c, "net_getPeers");
}

/* -------------------------------------------------------------- testnet */

typedef struct {
	char name[32];
	unsigned rpc, p2p;
	bool producer;
} tn_node;

typedef struct {
	char dir[1024];
	tn_node nodes[TESTNET_MAX];
	size_t n;
	unsigned interval;
} testnet;

static int tn_load(testnet *t)
{
	char path[1200];
	json_error_t je;
	snprintf(path, sizeof path, "%s/testnet.json", t->dir);
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *v;
	if (!j) return CLI_FAIL;
	size_t i;
	t->n = 0;
	json_array_foreach(json_object_get(j, "nodes"), i, v)
	{
		if (t->n == TESTNET_MAX) break;
		tn_node *nd = &t->nodes[t->n++];
		const char *nm = json_string_value(json_object_get(v, "name"));
		snprintf(nd->name, sizeof nd->name, "%s", nm ? nm : "?");
		nd->rpc = (unsigned)json_integer_value(json_object_get(v, "rpc"));
		nd->p2p = (unsigned)json_integer_value(json_object_get(v, "p2p"));
		nd->producer = json_is_true(json_object_get(v, "producer"));
	}
	t->interval = (unsigned)json_integer_value(json_object_get(j, "block_interval_ms"));
	json_decref(j);
	return t->n ? CLI_OK : CLI_FAIL;
}

static int tn_save(const testnet *t)
{
	char path[1200];
	json_t *nodes = json_array();
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(nodes, json_pack("{s:s, s:i, s:i, s:b}", "name",
		                                       t->nodes[i].name, "rpc", t->nodes[i].rpc,
		                                       "p2p", t->nodes[i].p2p, "producer",
		                                       t->nodes[i].producer));
	json_t *j = json_pack("{s:o, s:i}", "nodes", nodes, "block_interval_ms", t->interval);
	snprintf(path, sizeof path, "%s/testnet.json", t->dir);
	int rc = j && !json_dump_file(j, path, JSON_INDENT(2)) ? CLI_OK
	                                                        : cli_fail("cannot write %s", path);
	json_decref(j);
	return rc;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) return cli_fail("cannot create %s: %s", path,
	                                                          strerror(errno));
	return CLI_OK;
}

#define TESTNET_ONION_LAYERS 100000 /* rounds a testnet producer can make (BFT) */

/*
 * The hash-onion commitment of a producer key for the BFT consensus: the
 * secret its signature makes (ssp_onion_secret), hashed `layers` times.
 */
static int onion_commitment(char hex[65], const ssp_seckey *sk, const char *chain_id,
                            uint32_t layers)
{
	ssp_hash d, x;
	ssp_sig sig;
	ssp_onion_secret_digest(&d, chain_id);
	if (ssp_sign_digest(&sig, sk, &d)) return CLI_FAIL;
	ssp_onion_secret(&x, &sig);
	for (uint32_t i = 0; i < layers; i++)
		ssp_sha256(&x, x.b, 32);
	sodium_bin2hex(hex, 65, x.b, 32);
	return CLI_OK;
}

/* Creates the keys, genesis and layout of a new testnet. */
static int tn_create(testnet *t, size_t producers, size_t full, unsigned base, bool bft)
{
	char path[1200], keys[1100];
	ssp_seckey sk;
	ssp_pubkey pk, dev;
	ssp_addr devaddr;
	json_t *plist = json_array(), *onions = json_array();
	int rc;
	snprintf(keys, sizeof keys, "%s/keys", t->dir);
	if ((rc = mkdir_p(keys))) return rc;
	snprintf(path, sizeof path, "%s/dev", keys);
	if (ssp_key_generate(&sk, &dev, SSP_KEY_ED25519) ||
	    ssp_keystore_write(path, "dev", &sk, ""))
		return cli_fail("cannot write %s", path);
	ssp_seckey_wipe(&sk);
	ssp_addr_from_pubkey(&devaddr, &dev);
	t->n = producers + full;
	for (size_t i = 0; i < t->n; i++) {
		tn_node *nd = &t->nodes[i];
		snprintf(nd->name, sizeof nd->name, "node%u", (unsigned)i);
		nd->p2p = base + 2 * (unsigned)i;
		nd->rpc = base + 2 * (unsigned)i + 1;
		nd->producer = i < producers;
		if (!nd->producer) continue;
		char text[160];
		snprintf(path, sizeof path, "%s/%s", keys, nd->name);
		if (ssp_key_generate(&sk, &pk, SSP_KEY_ED25519) ||
		    ssp_keystore_write(path, nd->name, &sk, ""))
			return cli_fail("cannot write %s", path);
		char onion[65];
		if (bft && onion_commitment(onion, &sk, "ssp-testnet", TESTNET_ONION_LAYERS))
			return cli_fail("cannot sign with a new key");
		ssp_seckey_wipe(&sk);
		ssp_pubkey_text(text, sizeof text, &pk);
		json_array_append_new(plist, json_string(text));
		if (bft) json_array_append_new(onions, json_string(onion));
	}
	/* the devnet genesis shape, with the producer set and the testnet's slot length */
	const ssp_pubkey *first = &pk;
	char *g = ssp_genesis_dev_json(&devaddr, first, ssp_now_ms());
	json_t *gj = g ? json_loads(g, 0, NULL) : NULL;
	free(g);
	if (!gj) cli_oom();
	json_object_del(gj, "producer");
	json_object_set_new(gj, "chain_id", json_string("ssp-testnet"));
	json_object_set_new(gj, "producers", plist);
	if (bft)
		json_object_set_new(gj, "bft",
		                    json_pack("{s:I, s:o}", "onion_layers",
		                              (json_int_t)TESTNET_ONION_LAYERS, "onion", onions));
	else
		json_decref(onions);
	json_object_set_new(json_object_get(gj, "params"), "block_interval_ms",
	                    json_integer(t->interval));
	snprintf(path, sizeof path, "%s/genesis.json", t->dir);
	rc = json_dump_file(gj, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(gj);
	if (rc) return cli_fail("cannot write %s", path);
	return tn_save(t);
}

static pid_t tn_pid(const testnet *t, size_t i)
{
	char path[1200];
	long pid = 0;
	snprintf(path, sizeof path, "%s/%s/sspd.pid", t->dir, t->nodes[i].name);
	FILE *f = fopen(path, "r");
	if (!f) return 0;
	if (fscanf(f, "%ld", &pid) != 1) pid = 0;
	fclose(f);
	if (pid > 0) waitpid((pid_t)pid, NULL, WNOHANG); /* reaps our own child if it exited */
	return pid > 0 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : 0;
}

static void sspd_path(char *out, size_t cap)
{
	char self[1024];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0) {
		snprintf(out, cap, "sspd");
		return;
	}
	self[k] = 0;
	char *slash = strrchr(self, '/');
	if (slash) *slash = 0;
	snprintf(out, cap, "%s/sspd", self);
}

/* Starts node i in the background (its own session; log in DIR/NAME.log). */
static int tn_start(const testnet *t, size_t i)
{
	char exe[1100], datadir[1100], genesis[1100], log[1200], rpc[64], p2p[64], key[1200],
	    pidf[1200];
	char peers[TESTNET_MAX][64];
	const char *argv[16 + 2 * TESTNET_MAX];
	size_t k = 0;
	const tn_node *nd = &t->nodes[i];
	sspd_path(exe, sizeof exe);
	snprintf(datadir, sizeof datadir, "%s/%s", t->dir, nd->name);
	snprintf(genesis, sizeof genesis, "%s/genesis.json", t->dir);
	snprintf(log, sizeof log, "%s/%s.log", t->dir, nd->name);
	snprintf(rpc, sizeof rpc, "127.0.0.1:%u", nd->rpc);
	snprintf(p2p, sizeof p2p, "127.0.0.1:%u", nd->p2p);
	snprintf(key, sizeof key, "%s/keys/%s", t->dir, nd->name);
	snprintf(pidf, sizeof pidf, "%s/sspd.pid", datadir);
	if (mkdir_p(datadir)) return CLI_FAIL;
	argv[k++] = exe;
	argv[k++] = "--genesis";
	argv[k++] = genesis;
	argv[k++] = "--datadir";
	argv[k++] = datadir;
	argv[k++] = "--rpc-listen";
	argv[k++] = rpc;
	argv[k++] = "--p2p-listen";
	argv[k++] = p2p;
	for (size_t j = 0; j < t->n; j++) {
		if (j == i) continue;
		snprintf(peers[j], sizeof peers[j], "127.0.0.1:%u", t->nodes[j].p2p);
		argv[k++] = "--peer";
		argv[k++] = peers[j];
	}
	if (nd->producer) {
		argv[k++] = "--producer-key";
		argv[k++] = key;
	}
	argv[k] = NULL;
	pid_t pid = fork();
	if (pid < 0) return cli_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		setsid();
		FILE *f = freopen(log, "a", stdout);
		if (f) dup2(fileno(stdout), 2);
		FILE *devnull = freopen("/dev/null", "r", stdin);
		(void)devnull;
		setenv("SSP_PRODUCER_PASSWORD", "", 1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	FILE *f = fopen(pidf, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
	return CLI_OK;
}

static json_t *tn_info(const tn_node *nd, long timeout_ms)
{
	char url[96];
	ssp_rpc_client *cl = NULL;
	json_t *res = NULL;
	ssp_rpc_error e = {0};
	snprintf(url, sizeof url, "http://127.0.0.1:%u/rpc", nd->rpc);
	if (ssp_rpc_client_new(&cl, url, timeout_ms)) return NULL;
	if (ssp_rpc_call(cl, "chain_getInfo", json_object(), &res, &e)) {
		json_decref(e.data);
		res = NULL;
	}
	ssp_rpc_client_free(cl);
	return res;
}

static void dir_arg(testnet *t, const cli_args *a)
{
	const char *d = cli_opt(a, "dir");
	snprintf(t->dir, sizeof t->dir, "%s", d ? d : ".testnet");
}

int cli_cmd_testnet_up(cli_ctx *c, const cli_args *a)
{
	static testnet t;
	uint64_t nodes = 4, full = 0, interval = 500, base = 26600;
	const char *v;
	int rc;
	dir_arg(&t, a);
	if ((v = cli_opt(a, "nodes")) && (cli_parse_u64(&nodes, v) || !nodes))
		return cli_usage("--nodes wants a count >= 1");
	if ((v = cli_opt(a, "full-nodes")) && cli_parse_u64(&full, v))
		return cli_usage("--full-nodes wants a count");
	if ((v = cli_opt(a, "interval")) && (cli_parse_u64(&interval, v) || interval < 50))
		return cli_usage("--interval wants milliseconds >= 50");
	if ((v = cli_opt(a, "base-port")) && (cli_parse_u64(&base, v) || base < 1024 ||
	                                      base > 65535 - 2 * TESTNET_MAX))
		return cli_usage("--base-port wants 1024..%d", 65535 - 2 * TESTNET_MAX);
	if (nodes + full > TESTNET_MAX) return cli_usage("at most %d nodes", TESTNET_MAX);
	if ((rc = mkdir_p(t.dir))) return rc;
	if (tn_load(&t)) { /* a new testnet */
		t.interval = (unsigned)interval;
		const char *cons = cli_opt(a, "consensus");
		if (cons && strcmp(cons, "bft") && strcmp(cons, "rr"))
			return cli_usage("--consensus wants bft or rr");
		if ((rc = tn_create(&t, nodes, full, (unsigned)base, !cons || !strcmp(cons, "bft"))))
			return rc;
	}
	for (size_t i = 0; i < t.n; i++)
		if (!tn_pid(&t, i) && (rc = tn_start(&t, i))) return rc;
	/* every node answers RPC, or we say which did not */
	uint64_t deadline = ssp_now_ms() + 120000; /* sanitizer builds start slowly */
	json_t *out = json_array();
	for (size_t i = 0; i < t.n; i++) {
		json_t *info = NULL;
		while (!(info = tn_info(&t.nodes[i], 1000)) && ssp_now_ms() < deadline &&
		       tn_pid(&t, i))
			usleep(100000);
		if (!info)
			return cli_fail("%s did not start: see %s/%s.log", t.nodes[i].name, t.dir,
			                t.nodes[i].name);
		json_decref(info);
		char rpc[64], p2p[64];
		snprintf(rpc, sizeof rpc, "http://127.0.0.1:%u/rpc", t.nodes[i].rpc);
		snprintf(p2p, sizeof p2p, "127.0.0.1:%u", t.nodes[i].p2p);
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b}", "name", t.nodes[i].name,
		                                     "rpc", rpc, "p2p", p2p, "producer",
		                                     t.nodes[i].producer));
	}
	if (c->json) {
		cli_print_json(out);
	} else {
		printf("%-8s %-32s %-22s %s\n", "name", "rpc", "p2p", "producer");
		size_t i;
		json_t *e;
		json_array_foreach(out, i, e)
		printf("%-8s %-32s %-22s %s\n", json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "rpc")),
		       json_string_value(json_object_get(e, "p2p")),
		       json_is_true(json_object_get(e, "producer")) ? "yes" : "no");
		printf("keys (empty passwords): %s/keys; the funded account is `dev`\n", t.dir);
	}
	json_decref(out);
	return CLI_OK;
}

int cli_cmd_testnet_status(cli_ctx *c, const cli_args *a)
{
	static testnet t;
	dir_arg(&t, a);
	if (tn_load(&t)) return cli_fail("no testnet in %s (ssp testnet up)", t.dir);
	json_t *out = json_array();
	if (!c->json)
		printf("%-8s %-5s %8s %-18s %8s %6s\n", "name", "state", "height", "head", "final",
		       "peers");
	for (size_t i = 0; i < t.n; i++) {
		json_t *info = tn_pid(&t, i) ? tn_info(&t.nodes[i], 3000) : NULL;
		json_t *row = json_pack("{s:s, s:b}", "name", t.nodes[i].name, "up", info != NULL);
		if (info) {
			json_object_set(row, "height", json_object_get(info, "height"));
			json_object_set(row, "head_id", json_object_get(info, "head_id"));
			json_object_set(row, "finalized_height",
			                json_object_get(info, "finalized_height"));
			json_t *sync = json_object_get(info, "sync");
			json_object_set(row, "peers",
			                sync ? json_object_get(sync, "peers") : json_integer(0));
		}
		if (!c->json) {
			if (info)
				printf("%-8s %-5s %8lld %-18.16s %8lld %6lld\n", t.nodes[i].name, "up",
				       json_integer_value(json_object_get(info, "height")),
				       json_string_value(json_object_get(info, "head_id")),
				       json_integer_value(json_object_get(info, "finalized_height")),
				       json_integer_value(json_object_get(row, "peers")));
			else
				printf("%-8s %-5s\n", t.nodes[i].name, "down");
		}
		json_decref(info);
		json_array_append_new(out, row);
	}
	if (c->json) cli_print_json(out);
	json_decref(out);
	return CLI_OK;
}

int cli_cmd_testnet_down(cli_ctx *c, const cli_args *a)
{
	static testnet t;
	size_t stopped = 0;
	dir_arg(&t, a);
	if (tn_load(&t)) return cli_fail("no testnet in %s", t.dir);
	pid_t pids[TESTNET_MAX];
	for (size_t i = 0; i < t.n; i++)
		if ((pids[i] = tn_pid(&t, i))) kill(pids[i], SIGTERM);
	for (size_t i = 0; i < t.n; i++) {
		if (!pids[i]) continue;
		uint64_t deadline = ssp_now_ms() + 20000;
		while (kill(pids[i], 0) == 0 && ssp_now_ms() < deadline) {
			waitpid(pids[i], NULL, WNOHANG);
			usleep(50000);
		}
		if (kill(pids[i], 0) == 0) kill(pids[i], SIGKILL);
		stopped++;
		char pidf[1200];
		snprintf(pidf, sizeof pidf, "%s/%s/sspd.pid", t.dir, t.nodes[i].name);
		unlink(pidf);
	}
	if (c->json) {
		json_t *o = json_pack("{s:I}", "stopped", (json_int_t)stopped);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("stopped %zu nodes (the chains stay in %s; `ssp testnet up` continues them)\n",
		       stopped, t.dir);
	}
	return CLI_OK;
}
