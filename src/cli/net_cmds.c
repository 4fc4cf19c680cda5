/*
 * net_cmds.c — `ssp net info|peers` and `ssp testnet up|status|down`
 * (application layer). A testnet is a directory: testnet.json (the layout:
 * names, ports, producer or not, the funded accounts), genesis.json listing
 * every producer key, keys/ (the producers' keystores, a funded `dev`
 * account and a few funded voters, empty passwords) and one datadir per
 * node. `up` creates what is missing and starts every node that is not
 * running (a few at a time), so up after down continues the same chains;
 * `down` stops them with SIGTERM. Nodes are linked sparsely (ring
 * neighbours and power-of-two chords, at most TN_PEERS --peer each), so
 * 99 or 256 of them stay within sspd's default connection caps.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define TESTNET_MAX 256   /* nodes; ports base .. base + 2 * TESTNET_MAX - 1 */
#define TN_PEERS 8        /* --peer per node: sspd's default outbound connections */
#define TN_STARTING 8     /* nodes started and not yet answering RPC, at most */
#define TN_VOTERS_MAX 64  /* funded voter accounts */
#define TN_VOTER_SSP 1000000 /* SSP each voter holds at genesis (taken from dev's) */
#define TN_PRODUCER_SSP 1000  /* SSP each BFT producer's address holds at genesis (dev's) */
#define TN_PRODUCER_STAKE 100 /* of it staked for itself (capped weight 100 SSP each) */

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
	char dev[96];                       /* the funded accounts' addresses ("" if unknown) */
	char voters[TN_VOTERS_MAX][96];
	size_t nvoters;
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
	/* the accounts: absent in a testnet made before there were voters */
	const char *dev = json_string_value(json_object_get(json_object_get(j, "dev"), "address"));
	snprintf(t->dev, sizeof t->dev, "%s", dev ? dev : "");
	t->nvoters = 0;
	json_array_foreach(json_object_get(j, "voters"), i, v)
	{
		const char *addr = json_string_value(json_object_get(v, "address"));
		if (t->nvoters == TN_VOTERS_MAX || !addr) break;
		snprintf(t->voters[t->nvoters++], sizeof t->voters[0], "%s", addr);
	}
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
	json_t *voters = json_array();
	for (size_t i = 0; i < t->nvoters; i++) {
		char name[32];
		snprintf(name, sizeof name, "voter%zu", i);
		json_array_append_new(voters, json_pack("{s:s, s:s}", "name", name, "address",
		                                        t->voters[i]));
	}
	json_t *j = json_pack("{s:o, s:i, s:{s:s, s:s}, s:o}", "nodes", nodes, "block_interval_ms",
	                      t->interval, "dev", "name", "dev", "address", t->dev, "voters",
	                      voters);
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

/*
 * Funded voters: keystores keys/voter0.. (empty passwords), each holding
 * TN_VOTER_SSP of the private placement, taken from dev's allocation so the
 * category's sum stays what the chain requires. Dev's allocation stays the
 * first of its category (the tests find dev's address that way).
 */
static int tn_voters(testnet *t, json_t *gj, const char *keys, size_t voters)
{
	const char *hrp = ssp_network_hrp(json_string_value(json_object_get(gj, "network")));
	json_t *al = json_object_get(gj, "allocations"), *a, *dev = NULL;
	size_t i;
	uint64_t amount = 0, each = (uint64_t)TN_VOTER_SSP * SSP_COIN;
	json_array_foreach(al, i, a)
	{
		const char *cat = json_string_value(json_object_get(a, "category"));
		if (cat && !strcmp(cat, "private_placement")) {
			dev = a;
			break;
		}
	}
	if (!hrp || !dev ||
	    ssp_amount_parse(&amount, json_string_value(json_object_get(dev, "amount")), 8) ||
	    amount <= voters * each)
		return cli_fail("the devnet genesis has no private placement to fund voters from");
	snprintf(t->dev, sizeof t->dev, "%s", json_string_value(json_object_get(dev, "address")));
	for (t->nvoters = 0; t->nvoters < voters; t->nvoters++) {
		char path[1200], name[32], amt[SSP_AMOUNT_STR];
		ssp_seckey sk;
		ssp_pubkey pk;
		ssp_addr addr;
		snprintf(name, sizeof name, "voter%zu", t->nvoters);
		snprintf(path, sizeof path, "%s/%s", keys, name);
		int bad = ssp_key_generate(&sk, &pk, SSP_KEY_ED25519) ||
		          ssp_keystore_write(path, name, &sk, "");
		ssp_seckey_wipe(&sk);
		if (bad) return cli_fail("cannot write %s", path);
		ssp_addr_from_pubkey(&addr, &pk);
		ssp_addr_encode(t->voters[t->nvoters], sizeof t->voters[0], hrp, &addr);
		ssp_amount_format(amt, sizeof amt, each, 8);
		json_array_append_new(al, json_pack("{s:s, s:s, s:s}", "category",
		                                    "private_placement", "address",
		                                    t->voters[t->nvoters], "amount", amt));
	}
	char left[SSP_AMOUNT_STR];
	ssp_amount_format(left, sizeof left, amount - voters * each, 8);
	json_object_set_new(dev, "amount", json_string(left));
	return CLI_OK;
}

/*
 * BFT: the producers are the genesis delegates d00, d01, … (node key = the
 * producer key, onion = its "bft" commitment, counted from round -1 like
 * the genesis producers'), each address funded with TN_PRODUCER_SSP from
 * dev's allocation, of which min_self_stake is its self-stake and
 * TN_PRODUCER_STAKE staked for itself. With standby 0 and set_size = the
 * producers, every round's election returns exactly them (equal weights,
 * ties by address) until someone else is voted in.
 */
static int tn_delegates(json_t *gj, const ssp_pubkey *pks, json_t *onions, size_t producers)
{
	const char *hrp = ssp_network_hrp(json_string_value(json_object_get(gj, "network")));
	json_t *al = json_object_get(gj, "allocations"), *a, *dev = NULL;
	json_t *dpos = json_object_get(gj, "dpos"), *dl = json_array();
	uint64_t amount = 0, each = (uint64_t)TN_PRODUCER_SSP * SSP_COIN;
	char stake[SSP_AMOUNT_STR], fund[SSP_AMOUNT_STR];
	size_t i;
	json_array_foreach(al, i, a)
	{
		const char *cat = json_string_value(json_object_get(a, "category"));
		if (cat && !strcmp(cat, "private_placement")) {
			dev = a;
			break;
		}
	}
	if (!dl) cli_oom();
	if (!hrp || !dev || !json_is_object(dpos) ||
	    !json_is_string(json_object_get(dpos, "min_self_stake")) ||
	    ssp_amount_parse(&amount, json_string_value(json_object_get(dev, "amount")), 8) ||
	    amount <= producers * each) {
		json_decref(dl);
		return cli_fail("the devnet genesis has no private placement to fund producers from");
	}
	ssp_amount_format(stake, sizeof stake, (uint64_t)TN_PRODUCER_STAKE * SSP_COIN, 8);
	ssp_amount_format(fund, sizeof fund, each, 8);
	for (i = 0; i < producers; i++) {
		char name[32], addr[128], key[160];
		ssp_addr ad;
		ssp_addr_from_pubkey(&ad, &pks[i]);
		ssp_addr_encode(addr, sizeof addr, hrp, &ad);
		ssp_pubkey_text(key, sizeof key, &pks[i]);
		snprintf(name, sizeof name, "d%02zu", i); /* names have 3 characters or more */
		json_array_append_new(al, json_pack("{s:s, s:s, s:s}", "category",
		                                    "private_placement", "address", addr, "amount",
		                                    fund));
		json_array_append_new(
		    dl, json_pack("{s:s, s:s, s:s, s:O, s:O, s:s}", "name", name, "address", addr,
		                  "node_key", key, "onion", json_array_get(onions, i), "self_stake",
		                  json_object_get(dpos, "min_self_stake"), "stake", stake));
	}
	char left[SSP_AMOUNT_STR];
	ssp_amount_format(left, sizeof left, amount - producers * each, 8);
	json_object_set_new(dev, "amount", json_string(left));
	json_object_set_new(dpos, "delegates", dl);
	json_object_set_new(dpos, "standby", json_integer(0));
	return CLI_OK;
}

/*
 * The DPoS round is the producer set: set_size = the producers (max_rank at
 * least that), so a round of a 99-delegate testnet is 99 slots, as on mainnet.
 */
static void tn_set_size(json_t *gj, size_t producers)
{
	json_t *d = json_object_get(gj, "dpos");
	json_int_t mr = json_integer_value(json_object_get(d, "max_rank"));
	json_object_set_new(d, "set_size", json_integer((json_int_t)producers));
	if (mr < (json_int_t)producers)
		json_object_set_new(d, "max_rank", json_integer((json_int_t)producers));
}

/*
 * How far in the future a new testnet's genesis is: the time its nodes take to
 * start, TN_STARTING at a time (~130 ms each measured with 99 on 2 cores; 200
 * allowed). Else the first slots of producers not yet running go empty (BFT
 * rounds are permutations, not the order the nodes start in). None for a
 * testnet whose nodes all start at once.
 */
static uint64_t tn_startup_ms(size_t n)
{
	return n > TN_STARTING ? (uint64_t)(n - TN_STARTING) * 200 : 0;
}

/* Creates the keys, genesis and layout of a new testnet. */
static int tn_create(testnet *t, size_t producers, size_t full, size_t voters, unsigned base,
                     bool bft)
{
	char path[1200], keys[1100];
	ssp_seckey sk;
	ssp_pubkey pk, dev;
	ssp_addr devaddr;
	json_t *plist = json_array(), *onions = json_array();
	ssp_pubkey *pks = ssp_calloc(producers ? producers : 1, sizeof *pks);
	int rc;
	if (!pks) cli_oom();
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
		pks[i] = pk; /* producers come first: i < producers */
		ssp_pubkey_text(text, sizeof text, &pk);
		json_array_append_new(plist, json_string(text));
		if (bft) json_array_append_new(onions, json_string(onion));
	}
	/* the devnet genesis shape, with the producer set and the testnet's slot length */
	const ssp_pubkey *first = &pk;
	char *g = ssp_genesis_dev_json(&devaddr, first, ssp_now_ms() + tn_startup_ms(t->n));
	json_t *gj = g ? json_loads(g, 0, NULL) : NULL;
	free(g);
	if (!gj) cli_oom();
	tn_set_size(gj, producers);
	if ((rc = tn_voters(t, gj, keys, voters)) ||
	    (bft && (rc = tn_delegates(gj, pks, onions, producers)))) {
		free(pks);
		json_decref(gj);
		json_decref(plist);
		json_decref(onions);
		return rc;
	}
	free(pks);
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

/*
 * The nodes node i dials (indexes into t->nodes, at most TN_PEERS): every
 * other node while that is at most TN_PEERS, else its ring neighbours i-1,
 * i+1 and the chords i+2, i+4, i+8, ... (mod n). Every node is dialled by
 * as many as it dials (8 inbound of sspd's 32), and any two nodes are a few
 * hops apart (3 among 99, 5 among 256: a distance is a sum of a few signed
 * powers of two); peer exchange adds more links once they run.
 */
static size_t tn_peers(size_t n, size_t i, size_t out[TN_PEERS])
{
	size_t k = 0;
	if (n <= TN_PEERS + 1) {
		for (size_t j = 0; j < n; j++)
			if (j != i) out[k++] = j;
		return k;
	}
	out[k++] = (i + 1) % n;
	out[k++] = (i + n - 1) % n;
	for (size_t off = 2; off < n && k < TN_PEERS; off *= 2) {
		size_t j = (i + off) % n, d;
		for (d = 0; d < k && out[d] != j; d++) {}
		if (d == k && j != i) out[k++] = j;
	}
	return k;
}

/* Starts node i in the background (its own session; log in DIR/NAME.log). */
static int tn_start(const testnet *t, size_t i)
{
	char exe[1100], datadir[1100], genesis[1100], log[1200], rpc[64], p2p[64], key[1200],
	    pidf[1200];
	char peers[TN_PEERS][64];
	size_t dial[TN_PEERS], ndial = tn_peers(t->n, i, dial);
	const char *argv[16 + 2 * TN_PEERS];
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
	for (size_t j = 0; j < ndial; j++) {
		snprintf(peers[j], sizeof peers[j], "127.0.0.1:%u", t->nodes[dial[j]].p2p);
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

/* One call to cl: the result (new reference), or NULL. */
static json_t *tn_call(ssp_rpc_client *cl, const char *method, json_t *params)
{
	json_t *res = NULL;
	ssp_rpc_error e = {0};
	if (ssp_rpc_call(cl, method, params, &res, &e)) {
		json_decref(e.data);
		res = NULL;
	}
	return res;
}

static json_t *tn_info(const tn_node *nd, long timeout_ms)
{
	char url[96];
	ssp_rpc_client *cl = NULL;
	snprintf(url, sizeof url, "http://127.0.0.1:%u/rpc", nd->rpc);
	if (ssp_rpc_client_new(&cl, url, timeout_ms)) return NULL;
	json_t *res = tn_call(cl, "chain_getInfo", json_object());
	ssp_rpc_client_free(cl);
	return res;
}

static void dir_arg(testnet *t, const cli_args *a)
{
	const char *d = cli_opt(a, "dir");
	snprintf(t->dir, sizeof t->dir, "%s", d ? d : ".testnet");
}

/* Waits for node i to answer RPC: 0, or -1 if it exited or the deadline passed. */
static int tn_wait_rpc(const testnet *t, size_t i, uint64_t deadline)
{
	json_t *info;
	while (!(info = tn_info(&t->nodes[i], 1000)) && ssp_now_ms() < deadline && tn_pid(t, i))
		usleep(100000);
	json_decref(info);
	return info ? 0 : -1;
}

int cli_cmd_testnet_up(cli_ctx *c, const cli_args *a)
{
	static testnet t;
	uint64_t nodes = 4, full = 0, voters = 4, interval = 500, base = 26600, n;
	const char *v, *d = cli_opt(a, "delegates");
	int rc;
	dir_arg(&t, a);
	/* --delegates is issue 9's name for the producers; --nodes the older one */
	if ((v = cli_opt(a, "nodes")) && (cli_parse_u64(&nodes, v) || !nodes))
		return cli_usage("--nodes wants a count >= 1");
	if (d && (cli_parse_u64(&n, d) || !n || (v && n != nodes)))
		return cli_usage("--delegates wants a count >= 1 (--nodes is the same count)");
	if (d) nodes = n;
	if ((v = cli_opt(a, "full-nodes")) && cli_parse_u64(&full, v))
		return cli_usage("--full-nodes wants a count");
	if ((v = cli_opt(a, "voters")) && (cli_parse_u64(&voters, v) || voters > TN_VOTERS_MAX))
		return cli_usage("--voters wants a count <= %d", TN_VOTERS_MAX);
	if ((v = cli_opt(a, "interval")) && (cli_parse_u64(&interval, v) || interval < 50))
		return cli_usage("--interval wants milliseconds >= 50");
	if (nodes > TESTNET_MAX || full > TESTNET_MAX || nodes + full > TESTNET_MAX)
		return cli_usage("at most %d nodes", TESTNET_MAX);
	n = nodes + full;
	if ((v = cli_opt(a, "base-port")) &&
	    (cli_parse_u64(&base, v) || base < 1024 || base + 2 * n - 1 > 65535))
		return cli_usage("--base-port wants 1024..%llu for %llu nodes",
		                 (unsigned long long)(65536 - 2 * n), (unsigned long long)n);
	if ((rc = mkdir_p(t.dir))) return rc;
	if (tn_load(&t)) { /* a new testnet */
		t.interval = (unsigned)interval;
		const char *cons = cli_opt(a, "consensus");
		if (cons && strcmp(cons, "bft") && strcmp(cons, "rr"))
			return cli_usage("--consensus wants bft or rr");
		if ((rc = tn_create(&t, nodes, full, voters, (unsigned)base,
		                    !cons || !strcmp(cons, "bft"))))
			return rc;
	}
	/* a few at a time: each start decrypts a keystore (argon2id, 64 MiB) and opens
	 * its database; 99 at once would hold 6 GiB and starve the running ones */
	uint64_t deadline = ssp_now_ms() + 120000 + 2000 * t.n; /* sanitizer builds start slowly */
	size_t started[TESTNET_MAX], nstarted = 0, ready = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (tn_pid(&t, i)) continue;
		while (nstarted - ready >= TN_STARTING) /* a node that failed is named below */
			(void)tn_wait_rpc(&t, started[ready++], deadline);
		if ((rc = tn_start(&t, i))) return rc;
		started[nstarted++] = i;
	}
	/* every node answers RPC, or we say which did not */
	json_t *out = json_array();
	for (size_t i = 0; i < t.n; i++) {
		if (tn_wait_rpc(&t, i, deadline)) {
			json_decref(out);
			return cli_fail("%s did not start: see %s/%s.log", t.nodes[i].name, t.dir,
			                t.nodes[i].name);
		}
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
		printf("keys (empty passwords): %s/keys; the funded accounts (testnet.json):\n", t.dir);
		if (t.dev[0]) printf("  %-8s %s\n", "dev", t.dev);
		for (i = 0; i < t.nvoters; i++) {
			char name[32];
			snprintf(name, sizeof name, "voter%zu", i);
			printf("  %-8s %s\n", name, t.voters[i]);
		}
		if (!t.dev[0]) printf("  dev\n");
	}
	json_decref(out);
	return CLI_OK;
}

/* ------------------------------------------------------------ status */

/* The nodes' chain_getInfo, asked by a few threads at once (99 nodes in well under a second). */
typedef struct {
	const testnet *t;
	bool up[TESTNET_MAX];
	json_t *info[TESTNET_MAX];
	atomic_size_t next;
} tn_probe;

#define TN_PROBE_THREADS 16

static void *tn_probe_main(void *arg)
{
	tn_probe *p = arg;
	size_t i;
	while ((i = atomic_fetch_add(&p->next, 1)) < p->t->n)
		if (p->up[i]) p->info[i] = tn_info(&p->t->nodes[i], 2000);
	return NULL;
}

/* Resident memory of a process in KiB (/proc/PID/status), 0 if unknown. */
static long tn_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = 0;
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f) return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
	fclose(f);
	return kib;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t jint(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? (uint64_t)v : 0;
}

/* The slot of a block made at time_ms (the chain's arithmetic: genesis g, slots of iv ms). */
static uint64_t tn_slot(uint64_t time_ms, uint64_t g, uint64_t iv)
{
	return time_ms <= g ? 0 : (time_ms - g) / iv;
}

/*
 * The summary of a running testnet, from the nodes' chain_getInfo and a few
 * blocks of the highest node `ref` (cl): rounds, slots with and without a
 * block, finality lag in slots (head slot − the final block's slot) across
 * the nodes, heads, participation (the producers of the blocks in the last
 * round's slots, of the set) and the largest resident memory. lag[i]: node i's
 * finality lag in slots, -1 if it is down.
 */
static json_t *tn_summary(const testnet *t, const tn_probe *p, const long *rss, long *lag)
{
	char path[1200];
	size_t set = 0, up = 0, ref = SIZE_MAX, nl = 0, heads = 0;
	uint64_t lags[TESTNET_MAX];
	long rss_max = 0;
	const char *head_ids[TESTNET_MAX];
	for (size_t i = 0; i < t->n; i++) {
		lag[i] = -1;
		set += t->nodes[i].producer;
		if (rss[i] > rss_max) rss_max = rss[i];
		if (!p->info[i]) continue;
		up++;
		if (ref == SIZE_MAX || jint(p->info[i], "height") > jint(p->info[ref], "height"))
			ref = i;
		const char *id = json_string_value(json_object_get(p->info[i], "head_id"));
		size_t k;
		for (k = 0; k < heads && strcmp(head_ids[k], id ? id : ""); k++) {}
		if (k == heads) head_ids[heads++] = id ? id : "";
	}
	if (!set) set = 1;
	json_t *sum = json_pack("{s:I, s:I, s:I, s:I, s:I}", "nodes", (json_int_t)t->n, "up",
	                        (json_int_t)up, "heads", (json_int_t)heads, "set_size",
	                        (json_int_t)set, "rss_kib_max", (json_int_t)rss_max);
	if (!sum) cli_oom();
	if (ref == SIZE_MAX) return sum;
	snprintf(path, sizeof path, "%s/genesis.json", t->dir);
	json_t *gj = json_load_file(path, 0, NULL);
	uint64_t g = jint(gj, "genesis_time"), iv = t->interval ? t->interval : 1;
	json_decref(gj);
	const json_t *ri = p->info[ref];
	const char *kind = json_string_value(json_object_get(json_object_get(ri, "consensus"), "kind"));
	json_object_set_new(sum, "consensus", json_string(kind ? kind : "?"));
	uint64_t height = jint(ri, "height"), now = ssp_now_ms();
	uint64_t head_slot = height ? tn_slot(jint(ri, "head_time"), g, iv) : 0;
	char url[96];
	ssp_rpc_client *cl = NULL;
	snprintf(url, sizeof url, "http://127.0.0.1:%u/rpc", t->nodes[ref].rpc);
	if (ssp_rpc_client_new(&cl, url, 2000)) cl = NULL;
	/* finality lag: the final blocks' slots from ref (a few distinct heights) */
	uint64_t fh[32], fs[32];
	size_t nf = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!p->info[i]) continue;
		uint64_t h = jint(p->info[i], "height"), f = jint(p->info[i], "finalized_height");
		uint64_t hs = h ? tn_slot(jint(p->info[i], "head_time"), g, iv) : 0, slot = 0;
		size_t k;
		for (k = 0; k < nf && fh[k] != f; k++) {}
		if (k < nf) {
			slot = fs[k];
		} else if (f) {
			json_t *b = cl ? tn_call(cl, "chain_getBlock", json_pack("{s:I}", "height",
			                                                         (json_int_t)f))
			               : NULL;
			/* unknown to ref: as many slots as blocks */
			slot = b ? jint(b, "slot") : (hs > h - f ? hs - (h - f) : 0);
			json_decref(b);
			if (b && nf < 32) {
				fh[nf] = f;
				fs[nf++] = slot;
			}
		}
		lags[nl++] = hs > slot ? hs - slot : 0;
		lag[i] = (long)lags[nl - 1];
	}
	qsort(lags, nl, sizeof *lags, cmp_u64);
	/* participation: the producers of the blocks in the last whole round (slots
	 * rN..rN+N-1, each producer's once in a round, rotating or round-robin), or in
	 * the slots so far before the first round is over (slot 0 never has a block) */
	uint64_t lo = 1, hi = head_slot;
	if (head_slot >= 2 * set) {
		lo = (head_slot / set - 1) * set;
		hi = lo + set - 1;
	} else if (head_slot >= set) {
		hi = set - 1;
	}
	size_t window = hi >= lo ? (size_t)(hi - lo + 1) : 0, nprod = 0;
	char(*prod)[96] = calloc(set, sizeof *prod);
	if (!prod) cli_oom();
	for (uint64_t h = height; cl && window && h > 0 && nprod < set; h--) {
		json_t *b = tn_call(cl, "chain_getBlock", json_pack("{s:I}", "height", (json_int_t)h));
		const char *who = json_string_value(json_object_get(b, "producer"));
		uint64_t slot = jint(b, "slot");
		if (!who || slot < lo) {
			json_decref(b);
			break;
		}
		if (slot > hi) {
			json_decref(b);
			continue;
		}
		size_t k;
		for (k = 0; k < nprod && strcmp(prod[k], who); k++) {}
		if (k == nprod) snprintf(prod[nprod++], sizeof prod[0], "%s", who);
		json_decref(b);
	}
	free(prod);
	ssp_rpc_client_free(cl);
	json_object_set_new(sum, "clock_slot", json_integer((json_int_t)tn_slot(now, g, iv)));
	json_object_set_new(sum, "head_slot", json_integer((json_int_t)head_slot));
	json_object_set_new(sum, "blocks", json_integer((json_int_t)height));
	json_object_set_new(sum, "missed_slots",
	                    json_integer((json_int_t)(head_slot > height ? head_slot - height : 0)));
	json_object_set_new(sum, "rounds", json_integer((json_int_t)(head_slot / set)));
	json_object_set_new(sum, "finality_lag_median", json_integer((json_int_t)lags[(nl - 1) / 2]));
	json_object_set_new(sum, "finality_lag_max", json_integer((json_int_t)lags[nl - 1]));
	json_object_set_new(sum, "producers_last_round", json_integer((json_int_t)nprod));
	json_object_set_new(sum, "participation",
	                    json_real(window ? (double)nprod / (double)window : 0.0));
	return sum;
}

static void tn_print_summary(const json_t *s)
{
	printf("%lld/%lld nodes up, %lld head(s)", (long long)jint(s, "up"), (long long)jint(s, "nodes"),
	       (long long)jint(s, "heads"));
	if (json_object_get(s, "head_slot")) {
		printf("; slot %llu, head at slot %llu: %llu blocks, %llu slots missed; %llu rounds "
		       "of %llu slots\n",
		       (unsigned long long)jint(s, "clock_slot"), (unsigned long long)jint(s, "head_slot"),
		       (unsigned long long)jint(s, "blocks"), (unsigned long long)jint(s, "missed_slots"),
		       (unsigned long long)jint(s, "rounds"), (unsigned long long)jint(s, "set_size"));
		printf("%s finality lag %llu slots (median of the nodes; max %llu); participation "
		       "%.0f%% (%llu producers made a block in the last whole round)",
		       json_string_value(json_object_get(s, "consensus")),
		       (unsigned long long)jint(s, "finality_lag_median"),
		       (unsigned long long)jint(s, "finality_lag_max"),
		       100 * json_real_value(json_object_get(s, "participation")),
		       (unsigned long long)jint(s, "producers_last_round"));
	}
	printf("; RSS max %.1f MiB\n", (double)jint(s, "rss_kib_max") / 1024);
}

int cli_cmd_testnet_status(cli_ctx *c, const cli_args *a)
{
	static testnet t;
	static tn_probe p;
	static long rss[TESTNET_MAX], lag[TESTNET_MAX];
	pthread_t th[TN_PROBE_THREADS];
	size_t nth = 0;
	bool only_summary = cli_opt(a, "summary") != NULL;
	dir_arg(&t, a);
	if (tn_load(&t)) return cli_fail("no testnet in %s (ssp testnet up)", t.dir);
	memset(&p, 0, sizeof p);
	p.t = &t;
	for (size_t i = 0; i < t.n; i++) {
		pid_t pid = tn_pid(&t, i);
		p.up[i] = pid != 0;
		rss[i] = pid ? tn_rss_kib(pid) : 0;
	}
	while (nth < TN_PROBE_THREADS && nth < t.n && !pthread_create(&th[nth], NULL, tn_probe_main, &p))
		nth++;
	tn_probe_main(&p); /* and this thread (all of it if no thread could start) */
	for (size_t k = 0; k < nth; k++) pthread_join(th[k], NULL);
	json_t *sum = tn_summary(&t, &p, rss, lag);
	json_t *out = json_array();
	if (!c->json && !only_summary)
		printf("%-8s %-5s %8s %-18s %8s %6s %6s %8s\n", "name", "state", "height", "head",
		       "final", "lag", "peers", "rss_MiB");
	for (size_t i = 0; i < t.n; i++) {
		json_t *info = p.info[i];
		json_t *row = json_pack("{s:s, s:b}", "name", t.nodes[i].name, "up", info != NULL);
		if (info) {
			json_object_set(row, "height", json_object_get(info, "height"));
			json_object_set(row, "head_id", json_object_get(info, "head_id"));
			json_object_set(row, "finalized_height",
			                json_object_get(info, "finalized_height"));
			json_object_set_new(row, "finality_lag", json_integer(lag[i]));
			json_object_set_new(row, "peers",
			                    json_integer((json_int_t)jint(json_object_get(info, "sync"),
			                                                  "peers")));
			json_object_set_new(row, "rss_kib", json_integer(rss[i]));
		}
		if (!c->json && !only_summary) {
			if (info)
				printf("%-8s %-5s %8llu %-18.16s %8llu %6ld %6llu %8.1f\n", t.nodes[i].name,
				       "up", (unsigned long long)jint(info, "height"),
				       json_string_value(json_object_get(info, "head_id")),
				       (unsigned long long)jint(info, "finalized_height"), lag[i],
				       (unsigned long long)jint(row, "peers"), (double)rss[i] / 1024);
			else
				printf("%-8s %-5s\n", t.nodes[i].name, "down");
		}
		json_array_append_new(out, row);
	}
	for (size_t i = 0; i < t.n; i++) json_decref(p.info[i]);
	if (c->json && only_summary) {
		json_t *o = json_pack("{s:o, s:o}", "summary", sum, "nodes", out);
		cli_print_json(o);
		json_decref(o);
		return CLI_OK;
	}
	if (c->json)
		cli_print_json(out);
	else
		tn_print_summary(sum);
	json_decref(sum);
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
