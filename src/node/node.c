/*
 * node.c — the sspd node (node layer): datadir and devnet set-up, the
 * libuv loop that admits transactions into the mempool, the producer
 * thread that builds and commits a block at each slot (the chain's only
 * writer), and the job queue through which RPC threads reach the loop.
 * RPC threads never touch the chain or the mempool directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/node.h"

#define LOG "node"
#define QUEUE_MAX 256 /* jobs waiting for the loop; beyond this RPC answers busy */

static void init_loop(ssp_node *n);
static void stop_node(ssp_node *n, int code);
static void module_fatal(void *ctx, int rc);

/* Logs a start-up failure and keeps it as the one-line reason main prints. */
#define NODE_ERR(n, ...)                                         \
	do {                                                     \
		snprintf((n)->why, sizeof(n)->why, __VA_ARGS__); \
		SSP_LOGE(LOG, "%s", (n)->why);                   \
	} while (0)

/* ----------------------------------------------------------------- set-up */

static int ensure_dir(ssp_node *n, const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
	NODE_ERR(n, "cannot create %s: %s", path, strerror(errno));
	return SSP_ERR_IO;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Loads a keystore or, when missing and `create`, makes a fresh ed25519 one. */
static int load_or_create_key(ssp_node *n, const char *path, const char *name, const char *password,
                              bool create, ssp_seckey *sk, ssp_pubkey *pk)
{
	int rc;
	if (!file_exists(path)) {
		if (!create) {
			NODE_ERR(n, "key file %s does not exist", path);
			return SSP_ERR_NOTFOUND;
		}
		rc = ssp_key_generate(sk, pk, SSP_KEY_ED25519);
		if (!rc) rc = ssp_keystore_write(path, name, sk, password);
		ssp_seckey_wipe(sk);
		if (rc) {
			NODE_ERR(n, "cannot write key file %s: %s", path, ssp_strerror(rc));
			return rc;
		}
	}
	rc = ssp_keystore_read(path, password, sk, pk);
	if (rc) NODE_ERR(n, "cannot read key file %s: %s", path, ssp_strerror(rc));
	return rc;
}

static int write_file(const char *path, const char *text)
{
	char tmp[1300]; /* path (< 1200) + ".tmp" */
	int rc = SSP_ERR_IO, e = 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		e = errno;
		goto out;
	}
	if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) e = errno ? errno : EIO;
	if (fclose(f) != 0 && !e) e = errno;
	if (!e && rename(tmp, path)) e = errno;
	if (e)
		unlink(tmp);
	else
		rc = 0;
out:
	/* a full disk is named as such: the message says what to fix */
	if (e == ENOSPC || e == EDQUOT) rc = SSP_ERR_NOSPACE;
	return rc;
}

/* Size of a file, -1 when it does not exist. */
static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * A datadir that has an identity (genesis.json, keys) had a chain: if its
 * database is empty or missing, history was lost, and starting a new chain
 * from genesis would hide that. Refused unless --reinit. A database that
 * exists but lacks the producer key stops too: generating a new key would
 * make a node that silently never produces.
 */
static int check_datadir(ssp_node *n)
{
	char db[1100], path[1100];
	const char *d = n->cfg.datadir;
	snprintf(db, sizeof db, "%s/chain.mdb", d);
	long long dbsize = file_size(db);
	bool identity = false;
	static const char *const ids[] = {"genesis.json", "producer.key", "dev-keys/dev"};
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(path, sizeof path, "%s/%s", d, ids[i]);
		identity |= file_exists(path);
	}
	if (identity && dbsize <= 0 && !n->cfg.reinit) {
		NODE_ERR(n,
		         "%s has an identity (genesis, keys) but its database %s is %s: history "
		         "is lost; restore it, or start a new chain with --reinit",
		         d, db, dbsize < 0 ? "missing" : "empty");
		return SSP_ERR_DBCORRUPT;
	}
	snprintf(path, sizeof path, "%s/producer.key", d);
	if (n->cfg.dev && dbsize > 0 && !file_exists(path)) {
		NODE_ERR(n,
		         "the producer key %s is missing on an existing chain: restore it (a new "
		         "key could not produce this chain's blocks)",
		         path);
		return SSP_ERR_NOTFOUND;
	}
	return 0;
}

#define DEV_ACCOUNTS 10          /* a new devnet funds dev, dev1 … dev9 (--dev-accounts) */
#define DEV_EXTRA_SSP 1000000ull /* each account beyond dev gets this; dev the rest of 25% */

/*
 * The accounts a devnet funds beyond `dev`: keys dev1 … devN-1 (empty
 * passwords) created with a new devnet, listed with their addresses for the
 * banner. On later starts the keys that exist are listed.
 */
static int dev_extra_accounts(ssp_node *n, const char *dir, bool create)
{
	unsigned want = n->cfg.dev_accounts ? n->cfg.dev_accounts : DEV_ACCOUNTS;
	char path[1200], name[16];
	ssp_seckey sk;
	ssp_pubkey pk;
	ssp_addr a;
	int rc = 0;

	for (unsigned i = 1; i < 100 && (create ? i < want : true); i++) {
		snprintf(name, sizeof name, "dev%u", i);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (!file_exists(path)) {
			if (!create) break;
			rc = ssp_key_generate(&sk, &pk, SSP_KEY_ED25519);
			if (!rc) rc = ssp_keystore_write(path, name, &sk, "");
			ssp_seckey_wipe(&sk);
			if (rc) {
				NODE_ERR(n, "cannot write key file %s: %s", path, ssp_strerror(rc));
				return rc;
			}
		} else if ((rc = ssp_keystore_info(path, &pk, NULL, 0))) {
			continue; /* not ours to judge: listed only if readable */
		}
		ssp_addr_from_pubkey(&a, &pk);
		size_t k = n->ndev_accounts++;
		snprintf(n->dev_accounts[k][0], sizeof n->dev_accounts[k][0], "%s", name);
		ssp_addr_encode(n->dev_accounts[k][1], sizeof n->dev_accounts[k][1], "dssp", &a);
	}
	return 0;
}

/* The devnet genesis with dev's 25% split among the dev accounts. */
static char *dev_genesis(ssp_node *n, const ssp_addr *dev, const ssp_pubkey *prodpk)
{
	char *g = ssp_genesis_dev_json(dev, prodpk, ssp_now_ms()), *out = NULL;
	json_t *doc = g ? json_loads(g, 0, NULL) : NULL;
	json_t *allocs = json_object_get(doc, "allocations"), *first = json_array_get(allocs, 0);
	char amount[32];
	size_t extra = n->ndev_accounts - 1; /* dev1 … */

	free(g);
	if (!first) goto out;
	snprintf(amount, sizeof amount, "%llu", 2500000000ull - extra * DEV_EXTRA_SSP);
	json_object_set_new(first, "amount", json_string(amount));
	snprintf(amount, sizeof amount, "%llu", DEV_EXTRA_SSP);
	for (size_t i = 0; i < extra; i++)
		json_array_insert_new(allocs, 1 + i,
		                      json_pack("{s:s, s:s, s:s}", "category", "private_placement",
		                                "address", n->dev_accounts[i + 1][1], "amount",
		                                amount));
	out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(doc);
	return out;
}

/*
 * --dev --reset: a fresh devnet in the same datadir. Refused while a node
 * runs on it (the LOCK is held); removes only what a devnet creates.
 */
static int reset_dev(ssp_node *n)
{
	static const char *const files[] = {"chain.mdb", "chain.mdb-lock", "genesis.json",
	                                    "producer.key"};
	char path[1200];
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	snprintf(path, sizeof path, "%s/LOCK", n->cfg.datadir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		NODE_ERR(n, "cannot reset %s: a node is running on it", n->cfg.datadir);
		close(fd);
		return SSP_ERR_DBLOCKED;
	}
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", n->cfg.datadir, files[i]);
		if (unlink(path) && errno != ENOENT) rc = SSP_ERR_IO;
	}
	snprintf(path, sizeof path, "%s/dev-keys", n->cfg.datadir);
	if ((d = opendir(path))) {
		while ((e = readdir(d))) {
			char f[1500];
			if (e->d_name[0] == '.') continue;
			snprintf(f, sizeof f, "%s/%s", path, e->d_name);
			if (unlink(f)) rc = SSP_ERR_IO;
		}
		closedir(d);
	}
	if (fd >= 0) close(fd); /* releases the lock */
	if (rc)
		NODE_ERR(n, "cannot reset %s: %s", n->cfg.datadir, strerror(errno));
	else
		SSP_LOGI(LOG, "reset: a new devnet in %s", n->cfg.datadir);
	return rc;
}

static int setup_dev(ssp_node *n, char *genesis_path, size_t cap)
{
	char dir[1100], path[1200];
	ssp_seckey sk;
	ssp_pubkey devpk, prodpk;
	ssp_addr dev;
	int rc;
	snprintf(dir, sizeof dir, "%s/dev-keys", n->cfg.datadir);
	if ((rc = ensure_dir(n, dir))) return rc;
	snprintf(n->dev_keyfile, sizeof n->dev_keyfile, "%s/dev", dir);
	rc = load_or_create_key(n, n->dev_keyfile, "dev", "", true, &sk, &devpk);
	ssp_seckey_wipe(&sk);
	if (rc) return rc;
	ssp_addr_from_pubkey(&dev, &devpk);
	ssp_addr_encode(n->dev_address, sizeof n->dev_address, "dssp", &dev);
	snprintf(n->dev_accounts[0][0], sizeof n->dev_accounts[0][0], "dev");
	snprintf(n->dev_accounts[0][1], sizeof n->dev_accounts[0][1], "%s", n->dev_address);
	n->ndev_accounts = 1;
	snprintf(path, sizeof path, "%s/genesis.json", n->cfg.datadir);
	/* the extra accounts are funded only by a genesis this node writes now */
	if ((rc = dev_extra_accounts(n, dir, !n->cfg.genesis[0] && !file_exists(path)))) return rc;
	snprintf(path, sizeof path, "%s/producer.key", n->cfg.datadir);
	rc = load_or_create_key(n, path, "producer", "", true, &n->producer, &prodpk);
	if (rc) return rc;
	n->producing = true;
	if (n->cfg.genesis[0]) {
		snprintf(genesis_path, cap, "%s", n->cfg.genesis);
		return 0;
	}
	snprintf(genesis_path, cap, "%s/genesis.json", n->cfg.datadir);
	if (file_exists(genesis_path)) return 0;
	char *g = dev_genesis(n, &dev, &prodpk);
	if (!g) return SSP_ERR_NOMEM;
	rc = write_file(genesis_path, g);
	free(g);
	if (rc) NODE_ERR(n, "cannot write %s: %s", genesis_path, ssp_strerror(rc));
	return rc;
}

int ssp_node_start(ssp_node *n)
{
	char gpath[1200], why[512];
	int rc;
	pthread_mutex_init(&n->qlock, NULL);
	pthread_mutex_init(&n->plock, NULL);
	pthread_mutex_init(&n->hlock, NULL);
	pthread_cond_init(&n->pcond, NULL);
	/* The port first: a node that cannot serve says so before it writes anything */
	n->rpc_fd = -1;
	if ((rc = ssp_rpc_listen(&n->rpc_fd, n->cfg.rpc_listen, why, sizeof why))) {
		NODE_ERR(n, "cannot listen on %s: %s", n->cfg.rpc_listen, why);
		return rc;
	}
	if ((rc = ensure_dir(n, n->cfg.datadir))) return rc;
	if (n->cfg.reset && (rc = reset_dev(n))) return rc;
	if ((rc = check_datadir(n))) return rc;
	if (n->cfg.dev) {
		rc = setup_dev(n, gpath, sizeof gpath);
		if (rc) return rc;
	} else {
		snprintf(gpath, sizeof gpath, "%s", n->cfg.genesis);
	}
	rc = ssp_genesis_load(&n->genesis, gpath, why, sizeof why);
	if (rc) {
		NODE_ERR(n, "%s", why);
		return rc;
	}
	if (!n->producing)
		snprintf(n->not_producing, sizeof n->not_producing, "%s",
		         n->cfg.follow[0] ? "a follower (--follow) imports blocks, never produces"
		                          : "no producer key (--producer-key FILE)");
	if (n->cfg.follow[0] && (n->cfg.dev || n->cfg.producer_key[0])) {
		NODE_ERR(n, "--follow makes a follower: it cannot be combined with --dev or "
		            "--producer-key");
		return SSP_ERR_INVAL;
	}
	if (n->cfg.follow[0] && (n->cfg.p2p_listen[0] || n->cfg.npeers)) {
		NODE_ERR(n, "--follow pulls blocks over RPC: it cannot be combined with "
		            "--p2p-listen or --peer");
		return SSP_ERR_INVAL;
	}
	if (!n->cfg.dev && n->cfg.producer_key[0]) {
		const char *pw = getenv("SSP_PRODUCER_PASSWORD");
		ssp_pubkey pk;
		rc = load_or_create_key(n, n->cfg.producer_key, "producer", pw ? pw : "", false,
		                        &n->producer, &pk);
		if (rc) return rc;
		n->producing = true;
	}
	/* who signs the evidence txs this node submits: --reporter-key, else the producer key */
	if (n->cfg.reporter_key[0]) {
		const char *pw = getenv("SSP_REPORTER_PASSWORD");
		rc = load_or_create_key(n, n->cfg.reporter_key, "reporter", pw ? pw : "", false,
		                        &n->reporter, &n->reporter_pub);
		if (rc) return rc;
		n->has_reporter = true;
	} else if (n->producing) {
		n->reporter = n->producer;
		n->has_reporter = !ssp_key_public(&n->reporter_pub, &n->reporter);
	}
	if (n->has_reporter) ssp_addr_from_pubkey(&n->reporter_addr, &n->reporter_pub);
	if ((rc = ssp_node_evidence_init(n))) return rc;
	n->should_produce = n->producing;
	if (n->producing) {
		ssp_pubkey pk;
		ssp_addr a;
		if ((rc = ssp_key_public(&pk, &n->producer))) return rc;
		ssp_addr_from_pubkey(&a, &pk);
		/* the genesis producer or one of its set; under BFT with elections any key may be
		 * elected (the consensus decides slot by slot) */
		bool elected = ssp_genesis_bft(n->genesis, NULL, NULL) && ssp_genesis_has_dpos(n->genesis);
		if (!elected && !ssp_node_is_producer(n, &pk)) {
			char want[96];
			ssp_addr_encode(want, sizeof want, ssp_genesis_hrp(n->genesis),
			                ssp_genesis_producer(n->genesis));
			snprintf(n->not_producing, sizeof n->not_producing,
			         "the producer key is not this chain's producer (genesis names %s)",
			         want);
			SSP_LOGW(LOG, "not producing: %s", n->not_producing);
			n->producing = false;
		}
	}
	int sig;
	if (ssp_node_probe_db(n->cfg.datadir, n->genesis, n->cfg.map_size, &sig)) {
		if (sig)
			NODE_ERR(n, "database corrupt: opening %s/chain.mdb crashed the store library "
			            "(%s): its B-tree pages are damaged (restore it, or sync again)",
			         n->cfg.datadir, strsignal(sig));
		else
			NODE_ERR(n, "database corrupt: %s/chain.mdb has damaged B-tree pages (see the log "
			            "above; restore it, or sync again)",
			         n->cfg.datadir);
		return SSP_ERR_DBCORRUPT;
	}
	ssp_store_opts so = {.no_sync = n->cfg.no_sync, .map_size = n->cfg.map_size};
	rc = ssp_store_open(&n->store, n->cfg.datadir, &so);
	if (rc) {
		NODE_ERR(n, "cannot open the database in %s: %s", n->cfg.datadir, ssp_strerror(rc));
		return rc;
	}
	size_t ntypes;
	rc = ssp_modset_new(&n->modset, n->genesis);
	if (rc) {
		NODE_ERR(n, "cannot set up the modules: %s", ssp_strerror(rc));
		return rc;
	}
	const ssp_txreg *types = ssp_modset_txtypes(n->modset, &ntypes);
	rc = ssp_chain_open(&n->chain, n->store, n->genesis, types, ntypes);
	if (!rc) rc = ssp_modset_attach(n->modset, n->chain);
	if (rc) {
		NODE_ERR(n, "cannot open the chain: %s%s", ssp_strerror(rc),
		         rc == SSP_ERR_MAPFULL     ? " (raise --map-size)"
		         : rc == SSP_ERR_DBCORRUPT ? " (see the log above; sspd --verify-db "
		                                     "checks the whole datadir)"
		                                   : "");
		return rc;
	}
	if (n->cfg.check_invariants) ssp_chain_set_check_invariants(n->chain, true);
	if (n->cfg.exec_budget_ms >= 0)
		ssp_chain_set_exec_budget(n->chain, (uint64_t)n->cfg.exec_budget_ms * 1000u);
	size_t nmod;
	const ssp_module *const *mods = ssp_modules_all(&nmod);
	for (size_t i = 0; i < nmod && i < 16; i++) {
		n->menv[i] = (ssp_module_env){.chain = n->chain,
		                              .store = n->store,
		                              .genesis = n->genesis,
		                              .chain_state = ssp_modset_state(n->modset, i),
		                              .on_fatal = module_fatal,
		                              .fatal_ctx = n};
		if (mods[i]->init && (rc = mods[i]->init(&n->menv[i]))) {
			NODE_ERR(n, "module %s: %s", mods[i]->name, ssp_strerror(rc));
			return rc;
		}
		n->nmodules = i + 1;
	}
	ssp_mempool_opts mo = {.max_count = n->cfg.mempool_max};
	if ((rc = ssp_mempool_new(&n->mempool, n->chain, &mo))) return rc;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1) cores = 1;
	if ((rc = ssp_workpool_new(&n->verify, (unsigned)(cores > 1 ? cores - 1 : 0)))) return rc;
	ssp_chain_set_workpool(n->chain, n->verify); /* imported blocks' signatures */

	init_loop(n); /* before RPC: handlers wake the loop */
	if ((n->cfg.p2p_listen[0] || n->cfg.npeers) && (rc = ssp_node_net_start(n))) {
		char w[600];
		snprintf(w, sizeof w, "%.500s", n->why[0] ? n->why : ssp_strerror(rc));
		NODE_ERR(n, "cannot start the P2P network: %s", w);
		return rc;
	}
	size_t nm, total, nnet;
	const ssp_rpc_method *own = ssp_node_methods(&nm);
	const ssp_rpc_method *netm = ssp_node_net_methods(&nnet);
	total = nm + nnet;
	for (size_t i = 0; i < n->nmodules; i++)
		total += mods[i]->nmethods;
	n->methods = calloc(total, sizeof *n->methods);
	if (!n->methods) return SSP_ERR_NOMEM;
	memcpy(n->methods, own, nm * sizeof *own);
	memcpy(n->methods + nm, netm, nnet * sizeof *netm);
	for (size_t i = 0, k = nm + nnet; i < n->nmodules; i++)
		for (size_t j = 0; j < mods[i]->nmethods; j++, k++) {
			n->methods[k] = mods[i]->methods[j];
			n->methods[k].ctx = &n->menv[i];
		}
	ssp_rpc_config rc_cfg = {
	    .listen = n->cfg.rpc_listen,
	    .max_body = n->cfg.rpc_max_body,
	    .max_batch = 100,
	    .max_depth = 32,
	    .threads = n->cfg.rpc_threads, /* 0: the server's default */
	    .max_conns = n->cfg.rpc_max_conns,
	    .max_conns_per_ip = n->cfg.rpc_conns_per_ip,
	    .request_ms = n->cfg.rpc_request_ms,
	    .ctx = n,
	    .metrics = ssp_node_metrics,
	    .health = ssp_node_health,
	    .listen_fd = n->rpc_fd,
	    .cors = n->cfg.rpc_cors,
	};
	rc_cfg.topics = ssp_node_topics(&rc_cfg.ntopics);
	rc_cfg.methods = n->methods;
	rc_cfg.nmethods = total;
	n->rpc_fd = -1; /* the server's now, even if it fails */
	rc = ssp_rpc_server_start(&n->rpc, &rc_cfg);
	if (rc) {
		NODE_ERR(n, "cannot serve RPC on %s: %s", n->cfg.rpc_listen, ssp_strerror(rc));
		return rc;
	}
	if ((rc = ssp_node_notify_start(n))) {
		NODE_ERR(n, "cannot start the WebSocket notifier");
		return rc;
	}
	const ssp_head *h = ssp_chain_head(n->chain);
	char gh[65];
	ssp_hex_encode(gh, ssp_genesis_hash(n->genesis)->b, 32);
	char host[128];
	snprintf(host, sizeof host, "%s", n->cfg.rpc_listen);
	char *colon = strrchr(host, ':');
	if (colon) *colon = 0;
	printf("Smartshare node %s\n", SSP_VERSION);
	printf("  chain:       %s (%s network, genesis %.16s…)\n", ssp_genesis_chain_id(n->genesis),
	       ssp_genesis_network(n->genesis), gh);
	printf("  height:      %llu\n", (unsigned long long)h->height);
	printf("  datadir:     %s\n", n->cfg.datadir);
	printf("  RPC:         http://%s:%u/rpc\n", host, ssp_rpc_server_port(n->rpc));
	if (n->producing)
		printf("  producing:   yes\n");
	else
		printf("  producing:   no — %s\n", n->not_producing);
	if (n->cfg.rpc_cors[0]) printf("  CORS:        %s\n", n->cfg.rpc_cors);
	if (n->cfg.follow[0]) printf("  following:   %s\n", n->cfg.follow);
	if (n->net)
		printf("  p2p:         %s, %zu peers configured\n",
		       n->cfg.p2p_listen[0] ? n->cfg.p2p_listen : "(outbound only)", n->cfg.npeers);
	if (n->cfg.dev) {
		printf("  dev account: %s\n", n->dev_address);
		printf("  dev key:     %s (keystore, empty password)\n", n->dev_keyfile);
		if (n->ndev_accounts > 1) {
			printf("  dev accounts (keys in %s/dev-keys, empty passwords):\n",
			       n->cfg.datadir);
			for (size_t i = 0; i < n->ndev_accounts; i++)
				printf("    %-6s %s\n", n->dev_accounts[i][0],
				       n->dev_accounts[i][1]);
		}
		printf("  try:         build/bin/ssp --keystore %s/dev-keys balance dev\n",
		       n->cfg.datadir);
	}
	fflush(stdout);
	if (strncmp(host, "127.", 4) && strcmp(host, "localhost") && strcmp(host, "::1"))
		SSP_LOGW(LOG, "RPC listens on %s, beyond loopback: put it behind a firewall", host);
	return 0;
}

/* ------------------------------------------------------------------- jobs */

/*
 * A module's RPC method read altered state (ssp_module_env.on_fatal, an RPC
 * thread): the height is the committed head its read saw at the latest.
 */
static void module_fatal(void *ctx, int rc)
{
	ssp_node *n = ctx;
	ssp_txn *rt;
	ssp_head h = {0};
	if (!ssp_store_read(n->store, &rt)) {
		if (ssp_chain_read_head(n->chain, rt, &h)) h.height = 0;
		ssp_txn_end(rt);
	}
	SSP_LOGE(LOG,
	         "database corrupt at height %llu: a module's state read failed (%s); "
	         "sspd --verify-db checks the whole datadir",
	         (unsigned long long)h.height, ssp_strerror(rc));
	ssp_node_corrupt(n);
}

#define ADMIT_PER_TURN 1024 /* submitted txs admitted per turn of the loop (drain) */

static void on_wake(uv_async_t *a);
static void on_signal(uv_signal_t *s, int sig);

int ssp_node_job(ssp_node *n, job *j)
{
	sem_init(&j->done, 0, 0);
	pthread_mutex_lock(&n->qlock);
	if (n->stopping || n->qlen >= QUEUE_MAX) {
		pthread_mutex_unlock(&n->qlock);
		sem_destroy(&j->done);
		return SSP_ERR_BUSY;
	}
	j->next = NULL;
	if (n->qtail)
		n->qtail->next = j;
	else
		n->qhead = j;
	n->qtail = j;
	n->qlen++;
	pthread_mutex_unlock(&n->qlock);
	uv_async_send(&n->wake);
	while (sem_wait(&j->done) != 0 && errno == EINTR)
		;
	sem_destroy(&j->done);
	return j->err;
}

int ssp_node_tx_precheck(ssp_node *n, ssp_tx *tx, const uint8_t *raw, size_t len,
                         const ssp_pubkey *hint, bool *verified)
{
	ssp_txn *rt = NULL;
	*verified = false;
	memset(&tx->txid, 0, sizeof tx->txid);
	int rc = ssp_tx_decode(tx, raw, len);
	if (!rc) rc = ssp_chain_check_tx(n->chain, tx);
	if (!rc && !tx->has_pubkey) rc = ssp_store_read(n->store, &rt);
	if (!rc) rc = ssp_chain_verify_tx(n->chain, rt, tx);
	if (rt) ssp_txn_end(rt);
	if (rc == SSP_ERR_NOKEY) {
		/* the key a pending tx of the sender carried (its first): checked here, not by
		 * the mempool's owner (the loop) */
		ssp_pubkey key;
		ssp_addr a;
		if (hint) ssp_addr_from_pubkey(&a, hint);
		if (hint && !memcmp(a.b, tx->from.b, sizeof a.b))
			key = *hint;
		else if (!n->mempool || !ssp_mempool_sender_key(n->mempool, &tx->from, &key))
			return 0;
		rc = ssp_tx_verify(tx, &key);
	}
	*verified = !rc;
	return rc;
}

/* Admits a submission's txs [j->at, to) into the mempool (loop). */
static void admit_some(ssp_node *n, job *j, size_t to)
{
	for (size_t i = j->at; i < to; i++) {
			job_tx *t = &j->txs[i];
			if (!t->err)
				t->err = ssp_mempool_add_checked(n->mempool, &t->tx, t->verified,
				                                 &t->txid);
			else if (!ssp_hash_is_zero(&t->txid))
				ssp_mempool_note_invalid(n->mempool, &t->txid, t->err);
			if (t->err)
				atomic_fetch_add(&n->txs_rejected, 1);
			else
				atomic_fetch_add(&n->txs_admitted, 1);
			if (!t->err && n->net) ssp_net_tx_added(n->net, t->raw, t->len, &t->txid);
			if (!t->err) ssp_node_evidence_seen(n, &t->tx);
	}
	j->at = to;
}

static void run_job(ssp_node *n, job *j)
{
	switch (j->kind) {
	case JOB_SUBMIT:
		admit_some(n, j, j->ntx);
		ssp_node_notify_admitted(n, j);
		break;
	case JOB_TX_STATUS:
		if (ssp_mempool_has(n->mempool, &j->txid))
			j->status = 1;
		else
			j->status = ssp_mempool_rejected(n->mempool, &j->txid);
		break;
	case JOB_ACCOUNT_PENDING:
		j->nonce = ssp_mempool_pending_nonce(n->mempool, &j->addr);
		break;
	case JOB_MEMPOOL_INFO:
		j->count = ssp_mempool_count(n->mempool);
		j->bytes = ssp_mempool_bytes(n->mempool);
		break;
	case JOB_NET_INFO:
		j->info = ssp_net_info_json(n->net);
		j->peers = ssp_net_peers_json(n->net);
		break;
	}
}

/* Takes the queue; with `fail`, completes every job with SSP_ERR_BUSY instead. */
/*
 * Runs the queued jobs (loop). Submissions are admitted ADMIT_PER_TURN txs per
 * turn of the loop: a batch of 10,000 held the loop (and so the P2P traffic: a
 * producer's block announcement, blocks and txs from peers) for ~100 ms; the
 * rest of the queue waits for the next turn, in order.
 */
static void drain(ssp_node *n, bool fail)
{
	size_t budget = ADMIT_PER_TURN;
	pthread_mutex_lock(&n->qlock);
	job *j = n->qhead;
	n->qhead = n->qtail = NULL;
	n->qlen = 0;
	if (n->stopping) budget = SIZE_MAX; /* (the wake handle is closed: no next turn) */
	pthread_mutex_unlock(&n->qlock);
	while (j) {
		job *next = j->next; /* j belongs to its RPC thread once posted */
		if (fail) {
			j->err = SSP_ERR_BUSY;
		} else if (j->kind == JOB_SUBMIT && j->ntx - j->at > budget) {
			admit_some(n, j, j->at + budget);
			/* j and the rest back at the head of the queue, for the next turn */
			job *last = j;
			size_t k = 1;
			for (; last->next; last = last->next)
				k++;
			pthread_mutex_lock(&n->qlock);
			last->next = n->qhead;
			n->qhead = j;
			if (!n->qtail) n->qtail = last;
			n->qlen += k;
			if (!n->stopping) uv_async_send(&n->wake);
			pthread_mutex_unlock(&n->qlock);
			return;
		} else {
			if (j->kind == JOB_SUBMIT) budget -= j->ntx - j->at;
			run_job(n, j);
		}
		sem_post(&j->done);
		j = next;
	}
}

void ssp_node_corrupt(ssp_node *n)
{
	SSP_LOGE(LOG, "altered data read from the database: stopping");
	atomic_store(&n->fatal, 1);
	pthread_mutex_lock(&n->qlock); /* the wake handle is closed once stopping */
	if (!n->stopping) uv_async_send(&n->wake);
	pthread_mutex_unlock(&n->qlock);
}

static void on_wake(uv_async_t *a)
{
	ssp_node *n = a->data;
	if (atomic_load(&n->fatal)) {
		stop_node(n, 1);
		return;
	}
	drain(n, false);
}

/* ------------------------------------------------------------- production */

/*
 * The producer thread: at each slot boundary it builds, applies, signs and
 * commits a block (ssp_produce_block). It is the chain's only writer; the
 * loop keeps admitting into the (thread-safe) mempool meanwhile, so RPC
 * threads never wait for a block to be built or fsync'd. A fatal error
 * (disk full, I/O) wakes the loop, which stops the node.
 */
static void *producer_main(void *arg)
{
	ssp_node *n = arg;
	uint64_t g = ssp_genesis_time_ms(n->genesis);
	pthread_mutex_lock(&n->plock);
	while (!n->pstop) {
		uint64_t now = ssp_now_ms();
		/* the chain's slot arithmetic, so the producer and the import rule agree */
		uint64_t next =
		    ssp_chain_slot_start(n->chain, ssp_chain_slot_at(n->chain, now) + 1);
		struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
		while (!n->pstop && ssp_now_ms() < next)
			pthread_cond_timedwait(&n->pcond, &n->plock, &until);
		if (n->pstop) break;
		pthread_mutex_unlock(&n->plock);
		now = ssp_now_ms();
		uint64_t slot = ssp_chain_slot_at(n->chain, now);
		const ssp_head *h = ssp_chain_head(n->chain);
		int rc = 0;
		if (now > g && now > h->timestamp_ms && (slot > h->slot || h->height == 0)) {
			ssp_block_info info;
			ssp_signer signer;
			ssp_signer_soft(&signer, &n->producer);
			rc = ssp_produce_block(n->chain, n->mempool, &signer, slot, now, &info);
			if (!rc) {
				ssp_node_notify_kick(n); /* WebSocket subscribers */
				atomic_fetch_add(&n->blocks_produced, 1);
				atomic_fetch_add(&n->txs_included, info.ntx);
				atomic_store(&n->last_commit_ns, info.commit_ns);
				atomic_store(&n->last_apply_ns, info.apply_ns);
				if (info.ntx)
					SSP_LOGI(LOG,
					         "block %llu: %u txs, %zu bytes, apply %.1f ms, "
					         "commit %.1f ms, state root %.1f ms for %u keys",
					         (unsigned long long)info.height, info.ntx,
					         info.bytes, info.apply_ns / 1e6,
					         info.commit_ns / 1e6, info.root_ns / 1e6,
					         info.root_keys);
				else
					SSP_LOGD(LOG, "block %llu (empty)",
					         (unsigned long long)info.height);
			}
		}
		pthread_mutex_lock(&n->plock);
		if (rc == SSP_ERR_DBCORRUPT) {
			SSP_LOGE(LOG,
			         "database corrupt at height %llu: stopping (sspd --verify-db "
			         "finds the first bad height)",
			         (unsigned long long)ssp_chain_head(n->chain)->height);
		} else if (rc) {
			SSP_LOGE(LOG, "block production failed: %s", ssp_strerror(rc));
		}
		if (rc) {
			atomic_store(&n->fatal, 1);
			uv_async_send(&n->wake); /* the loop stops the node */
			break;
		}
	}
	pthread_mutex_unlock(&n->plock);
	return NULL;
}

#define FOLLOW_BATCH 16 /* blocks fetched, then imported as one pipeline */

/* Waits up to ms on the chain thread's condition; false once the node stops. */
static bool chain_wait(ssp_node *n, uint64_t ms)
{
	uint64_t until_ms = ssp_now_ms() + ms;
	struct timespec until = {(time_t)(until_ms / 1000), (long)(until_ms % 1000) * 1000000L};
	pthread_mutex_lock(&n->plock);
	while (!n->pstop && ssp_now_ms() < until_ms)
		pthread_cond_timedwait(&n->pcond, &n->plock, &until);
	bool go = !n->pstop;
	pthread_mutex_unlock(&n->plock);
	return go;
}

/* Fetches the encoded block at height from the source; SSP_ERR_NOTFOUND if it has none yet. */
static int fetch_block(ssp_rpc_client *cl, uint64_t height, uint8_t **raw, size_t *len)
{
	json_t *res = NULL;
	ssp_rpc_error e = {0};
	int rc =
	    ssp_rpc_call(cl, "chain_getBlock",
	                 json_pack("{s:I, s:b}", "height", (json_int_t)height, "raw", 1), &res, &e);
	if (rc == SSP_ERR_RPC) {
		json_decref(e.data);
		return e.code == SSP_RPC_NOT_FOUND ? SSP_ERR_NOTFOUND : SSP_ERR_RPC;
	}
	if (rc) return rc;
	const char *hex = json_string_value(json_object_get(res, "raw"));
	size_t hl = hex ? strlen(hex) : 0;
	*raw = NULL;
	*len = hl / 2;
	if (!hex || hl % 2 || !hl) {
		rc = SSP_ERR_DECODE;
	} else if (!(*raw = malloc(*len))) {
		rc = SSP_ERR_NOMEM;
	} else if (ssp_hex_decode(*raw, *len, hex, hl)) {
		rc = SSP_ERR_DECODE;
		free(*raw);
		*raw = NULL;
	}
	json_decref(res);
	return rc;
}

/*
 * Follower mode: the chain thread pulls each next block from another
 * node's RPC (--follow URL) and imports it through ssp_chain_import, the
 * path P2P will use: every block is checked (producer, slot, signatures,
 * roots) before it is committed. A source that is down or has nothing
 * new is polled again; a block this node finds invalid is refused and
 * retried later (the source may be replaced); a local failure stops the
 * node.
 */
static void *follower_main(void *arg)
{
	ssp_node *n = arg;
	ssp_rpc_client *cl = NULL;
	uint64_t iv = ssp_genesis_params(n->genesis)->block_interval_ms;
	uint64_t poll = iv / 4 < 50 ? 50 : iv / 4;
	bool warned = false;
	int rc = ssp_rpc_client_new(&cl, n->cfg.follow, 10000);
	if (rc) {
		SSP_LOGE(LOG, "cannot follow %s: %s", n->cfg.follow, ssp_strerror(rc));
		atomic_store(&n->fatal, 1);
		uv_async_send(&n->wake);
		return NULL;
	}
	SSP_LOGI(LOG, "following %s from height %llu", n->cfg.follow,
	         (unsigned long long)ssp_chain_head(n->chain)->height);
	uint64_t info_at = 0;
	while (!n->pstop) {
		uint64_t h = ssp_chain_head(n->chain)->height + 1;
		if (ssp_now_ms() - info_at >= 1000) {
			/* the source's head, so /health can tell "behind" from "caught up" */
			json_t *res = NULL;
			ssp_rpc_error e = {0};
			info_at = ssp_now_ms();
			if (ssp_rpc_call(cl, "chain_getInfo", NULL, &res, &e) == 0) {
				json_t *sh = json_object_get(res, "height");
				if (json_is_integer(sh))
					atomic_store(&n->source_height,
					             (uint64_t)json_integer_value(sh));
			}
			json_decref(res);
			json_decref(e.data);
		}
		uint8_t *raw[FOLLOW_BATCH];
		size_t len[FOLLOW_BATCH], nb = 0, done = 0;
		ssp_block_info info[FOLLOW_BATCH];
		/* a batch of what the source has (it may be far ahead while syncing) */
		while (nb < FOLLOW_BATCH) {
			rc = fetch_block(cl, h + nb, &raw[nb], &len[nb]);
			if (rc) break;
			nb++;
		}
		if (!nb && rc == SSP_ERR_NOTFOUND) {
			warned = false;
			if (!chain_wait(n, poll)) break;
			continue;
		}
		if (!nb) {
			if (!warned)
				SSP_LOGW(LOG, "%s: %s; retrying", n->cfg.follow, ssp_strerror(rc));
			warned = true;
			if (!chain_wait(n, 1000)) break;
			continue;
		}
		warned = false;
		/* block h+1 is checked (signatures) while block h executes and commits */
		rc = ssp_chain_import_many(n->chain, n->mempool, (const uint8_t *const *)raw, len,
		                           nb, info, &done);
		for (size_t k = 0; k < nb; k++)
			free(raw[k]);
		if (done) ssp_node_notify_kick(n);
		for (size_t k = 0; k < done; k++) {
			atomic_fetch_add(&n->blocks_imported, 1);
			atomic_fetch_add(&n->txs_included, info[k].ntx);
			atomic_store(&n->last_commit_ns, info[k].commit_ns);
			atomic_store(&n->last_apply_ns, info[k].apply_ns);
		}
		if (done)
			SSP_LOGD(LOG, "imported blocks %llu..%llu", (unsigned long long)h,
			         (unsigned long long)(h + done - 1));
		if (!rc) continue;
		h += done;
		if (ssp_chain_fatal(n->chain)) {
			if (rc == SSP_ERR_DBCORRUPT)
				SSP_LOGE(LOG, "database corrupt at height %llu",
				         (unsigned long long)ssp_chain_head(n->chain)->height);
			SSP_LOGE(LOG, "cannot import block %llu: %s — stopping",
			         (unsigned long long)h, ssp_strerror(rc));
			atomic_store(&n->fatal, 1);
			uv_async_send(&n->wake);
			break;
		}
		if (rc == SSP_ERR_BLOCK_EARLY) {
			if (!chain_wait(n, poll)) break;
			continue;
		}
		SSP_LOGE(LOG, "block %llu from %s is invalid: %s — refused, retrying in 5 s",
		         (unsigned long long)h, n->cfg.follow, ssp_strerror(rc));
		if (!chain_wait(n, 5000)) break;
	}
	ssp_rpc_client_free(cl);
	return NULL;
}

static int start_producer(ssp_node *n)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 16u << 20); /* contracts run here: the Lua VM wants C stack */
	int rc = pthread_create(&n->producer_thread, &a,
	                        n->net            ? ssp_node_net_chain_main
	                        : n->cfg.follow[0] ? follower_main
	                                           : producer_main,
	                        n);
	pthread_attr_destroy(&a);
	if (rc) return SSP_ERR_NOMEM;
	n->producer_started = true;
	return 0;
}

static void stop_producer(ssp_node *n)
{
	if (!n->producer_started) return;
	pthread_mutex_lock(&n->plock);
	n->pstop = true;
	pthread_cond_broadcast(&n->pcond);
	pthread_mutex_unlock(&n->plock);
	pthread_join(n->producer_thread, NULL);
	n->producer_started = false;
}

/* --------------------------------------------------------------- run, stop */

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

/*
 * A node stopping because of a local failure (a damaged database above all)
 * gets a deadline: a thread still inside liblmdb on a damaged B-tree (a page
 * pointer cycle makes a cursor walk forever) must not keep the process up
 * and its port taken. What is committed is on disk; the write txn in flight,
 * if any, dies with the process, which is what LMDB is built for.
 */
#define FATAL_STOP_SECONDS 10

static void *stop_watchdog(void *arg)
{
	int code = (int)(intptr_t)arg;
	struct timespec ts = {FATAL_STOP_SECONDS, 0};
	while (nanosleep(&ts, &ts) != 0) {
	}
	SSP_LOGE(LOG, "could not stop within %d s (a thread is stuck, likely reading the damaged "
	              "database): exiting now",
	         FATAL_STOP_SECONDS);
	fflush(stderr);
	_exit(code);
	return NULL;
}

static void stop_node(ssp_node *n, int code)
{
	if (n->stopping) return;
	if (code) n->exit_code = code;
	if (code) {
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &a, stop_watchdog, (void *)(intptr_t)code))
			SSP_LOGW(LOG, "cannot start the stop deadline's thread");
		pthread_attr_destroy(&a);
	}
	pthread_mutex_lock(&n->qlock);
	n->stopping = true;
	pthread_mutex_unlock(&n->qlock);
	drain(n, true);
	ssp_net_stop(n->net); /* closes its connections and handles; freed after the loop */
	uv_signal_stop(&n->sigint);
	uv_signal_stop(&n->sigterm);
	uv_close((uv_handle_t *)&n->wake, close_cb);
	uv_close((uv_handle_t *)&n->sigint, close_cb);
	uv_close((uv_handle_t *)&n->sigterm, close_cb);
}

static void on_signal(uv_signal_t *s, int sig)
{
	ssp_node *n = s->data;
	SSP_LOGI(LOG, "signal %d: stopping", sig);
	stop_node(n, 0);
}

static void init_loop(ssp_node *n)
{
	uv_loop_init(&n->loop);
	uv_async_init(&n->loop, &n->wake, on_wake);
	uv_signal_init(&n->loop, &n->sigint);
	uv_signal_init(&n->loop, &n->sigterm);
	n->wake.data = n->sigint.data = n->sigterm.data = n;
	uv_signal_start(&n->sigint, on_signal, SIGINT);
	uv_signal_start(&n->sigterm, on_signal, SIGTERM);
	n->loop_ready = true;
}

int ssp_node_run(ssp_node *n)
{
	if ((n->producing || n->cfg.follow[0] || n->net) && start_producer(n)) {
		SSP_LOGE(LOG, "cannot start the producer thread");
		stop_node(n, 1);
	}
	uv_run(&n->loop, UV_RUN_DEFAULT);
	stop_producer(n); /* finishes the block it may be committing */
	ssp_node_notify_stop(n);
	/* stop RPC with the queue refusing work, so no handler waits on the loop */
	if (n->rpc) ssp_rpc_server_stop(n->rpc);
	n->rpc = NULL;
	drain(n, true);
	uv_loop_close(&n->loop);
	SSP_LOGI(LOG, "stopped at height %llu",
	         (unsigned long long)ssp_chain_head(n->chain)->height);
	return n->exit_code;
}

void ssp_node_free(ssp_node *n)
{
	if (n->rpc_fd > 0) close(n->rpc_fd); /* start-up failed before the server took it */
	n->rpc_fd = -1;
	stop_producer(n);
	ssp_node_notify_stop(n);
	if (n->rpc) ssp_rpc_server_stop(n->rpc);
	if (n->loop_ready && !n->stopping) {
		/* start-up failed after the loop was set up: close its handles */
		stop_node(n, 0);
		uv_run(&n->loop, UV_RUN_DEFAULT);
		uv_loop_close(&n->loop);
	}
	ssp_net_free(n->net); /* the loop has run its handles' close callbacks */
	n->net = NULL;
	ssp_forkdb_free(n->forks);
	ssp_rr_free(n->rr);
	ssp_bftc_free(n->bft);
	ssp_node_elector_free(n->elector);
	free(n->vpend);
	ssp_workpool_free(n->verify);
	size_t nmod;
	const ssp_module *const *mods = ssp_modules_all(&nmod);
	for (size_t i = 0; i < n->nmodules; i++)
		if (mods[i]->fini) mods[i]->fini(&n->menv[i]);
	free(n->methods);
	ssp_mempool_free(n->mempool);
	ssp_chain_close(n->chain);
	ssp_modset_free(n->modset);
	ssp_store_close(n->store);
	ssp_genesis_free(n->genesis);
	ssp_seckey_wipe(&n->producer);
	ssp_node_evidence_free(n);
	pthread_mutex_destroy(&n->qlock);
	pthread_mutex_destroy(&n->plock);
	pthread_mutex_destroy(&n->hlock);
	pthread_cond_destroy(&n->pcond);
}
