/*
 * bench_transfer.c — end-to-end signed-transaction throughput of one devnet
 * node (benchmark, links the chain, modules and rpc layers).
 *
 *   1. the raw libsodium Ed25519 verify rate on one core and on all cores
 *      (best of 3 short runs before and 3 after the transfers; skipped with
 *      --verify-seconds 0);
 *   2. a fresh datadir: K deterministic sender keys and one setup account
 *      funded out of the private-placement share, a producer keystore (empty
 *      password), a genesis with 8 MiB / 60,000-tx blocks every second; then
 *      `sspd --dev --datadir DIR --genesis DIR/genesis.json` as a child
 *      (durable commits: no --no-sync);
 *   3. --kind token|lua only, not timed: the setup account creates the native
 *      token BENCH (fixed supply, all to it) or deploys contracts/iot20.lua,
 *      and hands every sender its share with K token transfers / contract
 *      calls, waiting until they are committed (lua: one probe call first,
 *      whose gas_used x 2 becomes every call's gas limit);
 *   4. N transactions pre-signed on every core, round-robin across senders
 *      (SSP transfers, token transfers or iot20 `transfer` calls), each to
 *      the next sender, hex-encoded into tx_submitBatch bodies before the
 *      clock starts;
 *   5. two HTTP connections submit them (senders partitioned between the
 *      connections so each sender's nonces arrive in order), while the main
 *      thread polls chain_getBlock for every new height and sums tx_count;
 *   6. throughput = N / (first submission .. the block holding the last tx
 *      seen committed), its ratio to the all-core verify rate, the durable
 *      commit time per block (from the node's log), the node's RSS, and
 *      the CPU the node, the bench and other processes used meanwhile; a
 *      sample of receipts is checked (a failed contract call is included
 *      too, so it must not count as a transfer).
 *
 * Every figure is printed as `BENCH <name> <value> <unit>`; context lines
 * start with `#`. --kind ssp prints the transfer_* names, token and lua
 * their own (native_token_*, lua_token_*); bench/run.sh runs all three and
 * prints the ratios. Every wait has a deadline; any failure exits non-zero.
 *
 * usage: bench_transfer [options] DATADIR   (see usage[] below)
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssp/chain.h"
#include "ssp/contract.h"
#include "ssp/modules.h"
#include "ssp/rpc.h"
#include "ssp/token.h"

#ifndef SSP_SOURCE_DIR
#define SSP_SOURCE_DIR "."
#endif

static const char usage[] =
    "usage: bench_transfer [options] DATADIR\n"
    "  DATADIR              created for the run (must not exist or be empty); removed at the end\n"
    "  --kind K             ssp (native SSP transfers, default), token (IOT_Coin transfers of a\n"
    "                       native token) or lua (`transfer` calls of contracts/iot20.lua)\n"
    "  --contract PATH      iot20.lua for --kind lua (default " SSP_SOURCE_DIR
    "/contracts/iot20.lua)\n"
    "  --txs N              transactions to submit (default 1000000)\n"
    "  --senders K          sender accounts (default 2000)\n"
    "  --batch B            txs per tx_submitBatch call, 1..10000 (default 5000)\n"
    "  --connections C      concurrent HTTP connections (default 2)\n"
    "  --verify-seconds S   length of each verify baseline round, before and after (default 3;\n"
    "                       0: no baseline)\n"
    "  --timeout S          seconds allowed from the first submission to the last commit (900)\n"
    "  --max-pending P      pause a connection while more than P - C*B accepted txs are not yet\n"
    "                       in a block (default 150000, half the node's default mempool; 0: off)\n"
    "  --sspd PATH          node binary (default: sspd next to this program)\n"
    "  --key-type T         the senders' keys: ed25519 (default) or p256 (what devices sign\n"
    "                       with); the verify baseline is then P-256's and the figures are\n"
    "                       named transfer_p256_*\n"
    "  --p2p-sync           --kind ssp: after the run, a fresh sspd syncs the chain over P2P\n"
    "                       from a second sspd serving DATADIR (figures p2p_sync_*)\n"
    "  --keep               keep DATADIR (and the node log in it)\n";

/* ------------------------------------------------------------------ options */

enum { KIND_SSP, KIND_TOKEN, KIND_LUA };
static const char *const kind_name[] = {"ssp", "token", "lua"};
/* the prefix of a kind's BENCH names */
static const char *const kind_prefix[] = {"transfer", "native_token", "lua_token"};

static struct {
	const char *datadir;
	const char *sspd;
	int kind;
	const char *contract;
	size_t ntx;
	uint32_t nsenders;
	size_t batch;
	unsigned conns;
	double verify_s;
	double timeout_s;
	size_t max_pending;
	bool keep;
	bool p2p_sync;
	int key_type;
} opt = {.key_type = SSP_KEY_ED25519,
         .ntx = 1000000,
         .nsenders = 2000,
         .batch = 5000,
         .conns = 2,
         .verify_s = 3,
         .timeout_s = 900,
         .max_pending = 150000};

#define CHAIN_ID "ssp-bench"
#define BLOCK_INTERVAL_MS 1000
#define MAX_BLOCK_BYTES 8388608
#define MAX_BLOCK_TXS 60000
#define MAX_EXPIRY_BLOCKS 100000
#define EXPIRY_AHEAD 50000 /* blocks: far beyond the run, within max_expiry_blocks */
#define AMOUNT 1000        /* base units per transfer */
#define BIG_BLOCK_TXS 1000 /* blocks counted in the per-block figures */
/*
 * The default max_block_gas (200,000,000) would cap a block at ~10,000 iot20
 * calls of ~20,000 gas limit each: raised so only bytes and tx count bound a
 * block, as for the other kinds.
 */
#define MAX_BLOCK_GAS 5000000000LL
#define TOKEN_SYMBOL "BENCH"
#define TOKEN_SHARE 1000000000000ULL /* token base units each sender gets in the setup */
#define DEPLOY_GAS 1000000           /* iot20.lua: ~47,000 to store the code, + top level, init */
#define PROBE_GAS 200000             /* the first transfer call, to measure the real gas */
#define SAMPLE_RECEIPTS 64           /* receipts of the timed phase checked after the run */

/* ---------------------------------------------------------------- the node */

static pid_t g_node = -1;
static char g_log[1200];
static bool g_created_dir;

static double now_s(void)
{
	return (double)ssp_mono_ns() / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sends SIGTERM, waits up to `grace` seconds, then SIGKILL. Returns the wait status or -1. */
static int stop_node(double grace)
{
	int status = -1;
	if (g_node <= 0) return -1;
	kill(g_node, SIGTERM);
	double deadline = now_s() + grace;
	for (;;) {
		pid_t r = waitpid(g_node, &status, WNOHANG);
		if (r == g_node) break;
		if (r < 0) {
			status = -1;
			break;
		}
		if (now_s() > deadline) {
			fprintf(stderr, "bench_transfer: node did not stop in %.0f s: SIGKILL\n",
			        grace);
			kill(g_node, SIGKILL);
			waitpid(g_node, &status, 0);
			status = -1;
			break;
		}
		sleep_ms(20);
	}
	g_node = -1;
	return status;
}

static void print_log_tail(void)
{
	FILE *f = g_log[0] ? fopen(g_log, "r") : NULL;
	if (!f) return;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, sz > 4000 ? sz - 4000 : 0, SEEK_SET);
	char buf[4001];
	size_t n = fread(buf, 1, 4000, f);
	buf[n] = 0;
	fclose(f);
	fprintf(stderr, "---- tail of the node log %s ----\n%s\n----\n", g_log, buf);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_datadir(void)
{
	if (!opt.keep && g_created_dir && opt.datadir)
		nftw(opt.datadir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	static atomic_flag dying = ATOMIC_FLAG_INIT;
	va_list ap;
	if (atomic_flag_test_and_set(&dying))
		for (;;)
			pause(); /* another thread is already reporting and exiting */
	fprintf(stderr, "bench_transfer: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_node > 0) {
		stop_node(10);
		print_log_tail();
	}
	remove_datadir();
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) die("out of memory (%zu bytes)", n);
	return p;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) die("out of memory");
	return p;
}

static unsigned cores(void)
{
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c < 1 ? 1 : (unsigned)c;
}

/* ----------------------------------------------------- raw verify baseline */

#define VSIGS 64

typedef struct {
	double seconds;
	pthread_barrier_t *start;
	uint64_t count;
	double elapsed, cpu;
} vjob;

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The P-256 baseline: pre-made low-S signatures over 32-byte digests, ssp_verify_digest
 * (OpenSSL, the node's own path). */
static void *verify_thread_p256(void *arg)
{
	vjob *j = arg;
	enum { PSIGS = 64 };
	ssp_pubkey pk[PSIGS];
	ssp_hash msg[PSIGS];
	ssp_sig sig[PSIGS];
	for (int i = 0; i < PSIGS; i++) {
		ssp_seckey sk;
		if (ssp_key_generate(&sk, &pk[i], SSP_KEY_P256)) abort();
		randombytes_buf(msg[i].b, sizeof msg[i].b);
		if (ssp_sign_digest(&sig[i], &sk, &msg[i])) abort();
		ssp_seckey_wipe(&sk);
	}
	pthread_barrier_wait(j->start);
	double t0 = now_s(), t = t0, c0 = thread_cpu_s();
	uint64_t n = 0;
	while (t - t0 < j->seconds) {
		for (int i = 0; i < PSIGS; i++)
			if (ssp_verify_digest(&pk[i], &msg[i], &sig[i]) != 0) abort();
		n += PSIGS;
		t = now_s();
	}
	j->count = n;
	j->elapsed = t - t0;
	j->cpu = thread_cpu_s() - c0;
	return NULL;
}

static void *verify_thread(void *arg)
{
	vjob *j = arg;
	static _Thread_local uint8_t pk[VSIGS][32], sk[VSIGS][64], msg[VSIGS][32], sig[VSIGS][64];
	for (int i = 0; i < VSIGS; i++) {
		crypto_sign_keypair(pk[i], sk[i]);
		randombytes_buf(msg[i], sizeof msg[i]); /* a 32-byte digest, as ssp_verify checks */
		crypto_sign_detached(sig[i], NULL, msg[i], sizeof msg[i], sk[i]);
	}
	pthread_barrier_wait(j->start);
	double t0 = now_s(), t = t0, c0 = thread_cpu_s();
	uint64_t n = 0;
	while (t - t0 < j->seconds) {
		for (int i = 0; i < VSIGS; i++)
			if (crypto_sign_verify_detached(sig[i], msg[i], sizeof msg[i], pk[i]) != 0)
				abort(); /* a valid signature failed: libsodium is broken */
		n += VSIGS;
		t = now_s();
	}
	j->count = n;
	j->elapsed = t - t0;
	j->cpu = thread_cpu_s() - c0;
	return NULL;
}

/*
 * Verifies pre-made signatures on `threads` threads at once for `seconds`.
 * Returns the sum over threads of verifications per CPU-second the thread
 * got: the rate with every core to itself, which time-slicing by other
 * processes does not lower (sharing a core's pipeline or caches would).
 * *wall gets the plain wall-clock rate, *oncpu the share of the wall time
 * the threads were running.
 */
static double verify_rate(unsigned threads, double seconds, double *wall, double *oncpu)
{
	pthread_t *th = xcalloc(threads, sizeof *th);
	vjob *jobs = xcalloc(threads, sizeof *jobs);
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, threads);
	for (unsigned i = 0; i < threads; i++) {
		jobs[i] = (vjob){.seconds = seconds, .start = &bar};
		if (pthread_create(&th[i], NULL,
		                   opt.key_type == SSP_KEY_P256 ? verify_thread_p256 : verify_thread,
		                   &jobs[i]))
			die("cannot start a thread");
	}
	double rate = 0, wrate = 0, share = 0;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		rate += (double)jobs[i].count / jobs[i].cpu;
		wrate += (double)jobs[i].count / jobs[i].elapsed;
		share += jobs[i].cpu / jobs[i].elapsed / threads;
	}
	*wall = wrate;
	*oncpu = share;
	pthread_barrier_destroy(&bar);
	free(th);
	free(jobs);
	return rate;
}

typedef struct {
	double one, all;           /* per CPU-second, best */
	double one_wall, all_wall; /* wall clock, best */
	double on_all; /* share of the time the all-core run's threads ran, at its best */
} vbase;

/* Best of 3 short runs on one core and on all cores; raises b's figures if this round is better. */
static void baseline(unsigned ncores, vbase *b)
{
	for (int r = 0; r < 3; r++) {
		double w, on, v = verify_rate(1, opt.verify_s / 6, &w, &on);
		if (v > b->one) b->one = v;
		if (w > b->one_wall) b->one_wall = w;
	}
	for (int r = 0; r < 3; r++) {
		double w, on, v = verify_rate(ncores, opt.verify_s / 3, &w, &on);
		if (v > b->all) b->all = v;
		if (w > b->all_wall) b->all_wall = w, b->on_all = on;
	}
}

/* -------------------------------------------------------------- the chain */

typedef struct {
	ssp_seckey sk;
	ssp_addr addr;
} sender;

static sender *g_senders;
static sender g_setup; /* funds the remainder; creates / deploys and distributes the token */

static void derive_key(ssp_seckey *sk, ssp_pubkey *pk, const char *label)
{
	ssp_hash seed;
	ssp_sha256(&seed, label, strlen(label));
	/* senders sign with --key-type; the producer and the setup account stay Ed25519 */
	int type = strstr(label, "/sender/") ? opt.key_type : SSP_KEY_ED25519;
	if (ssp_seckey_from_raw(sk, type, seed.b, 32) || ssp_key_public(pk, sk))
		die("cannot derive key %s", label);
}

static void label_addr(ssp_addr *a, const char *label)
{
	ssp_hash h;
	ssp_sha256(&h, label, strlen(label));
	memcpy(a->b, h.b, SSP_ADDR_LEN);
}

static json_t *jamount(uint64_t v)
{
	char s[SSP_AMOUNT_STR];
	ssp_amount_format(s, sizeof s, v, SSP_DECIMALS);
	return json_string(s);
}

static json_t *alloc_entry(const char *cat, const ssp_addr *a, uint64_t amount)
{
	char text[96];
	json_t *o = json_pack("{s:s, s:o}", "category", cat, "amount", jamount(amount));
	if (!o) die("out of memory");
	if (a) {
		ssp_addr_encode(text, sizeof text, "dssp", a);
		json_object_set_new(o, "address", json_string(text));
	}
	return o;
}

/* Writes DIR/producer.key and DIR/genesis.json; derives the sender keys. */
static void make_datadir(void)
{
	char path[1200];
	struct stat st;
	if (stat(opt.datadir, &st) == 0) {
		DIR *d = opendir(opt.datadir);
		struct dirent *e;
		if (!d) die("cannot open %s: %s", opt.datadir, strerror(errno));
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				closedir(d);
				die("datadir %s is not empty", opt.datadir);
			}
		closedir(d);
	} else if (mkdir(opt.datadir, 0700)) {
		die("cannot create %s: %s", opt.datadir, strerror(errno));
	}
	g_created_dir = true;

	ssp_seckey psk;
	ssp_pubkey ppk;
	derive_key(&psk, &ppk, "smartshare/bench/producer");
	snprintf(path, sizeof path, "%s/producer.key", opt.datadir);
	int rc = ssp_keystore_write(path, "producer", &psk, "");
	ssp_seckey_wipe(&psk);
	if (rc) die("cannot write %s: %s", path, ssp_strerror(rc));

	g_senders = xcalloc(opt.nsenders, sizeof *g_senders);
	const uint64_t share = SSP_TOTAL_SUPPLY / 100 * 25;
	const uint64_t each = share / (opt.nsenders + 1) / SSP_COIN * SSP_COIN;
	json_t *allocs = json_array();
	for (uint32_t i = 0; i < opt.nsenders; i++) {
		char label[64];
		ssp_pubkey pk;
		snprintf(label, sizeof label, "smartshare/bench/sender/%u", i);
		derive_key(&g_senders[i].sk, &pk, label);
		ssp_addr_from_pubkey(&g_senders[i].addr, &pk);
		json_array_append_new(allocs,
		                      alloc_entry("private_placement", &g_senders[i].addr, each));
	}
	ssp_addr fnd, team;
	{
		ssp_pubkey pk;
		derive_key(&g_setup.sk, &pk, "smartshare/bench/setup");
		ssp_addr_from_pubkey(&g_setup.addr, &pk);
	}
	label_addr(&fnd, "smartshare/bench/foundation");
	label_addr(&team, "smartshare/bench/team");
	json_array_append_new(
	    allocs, alloc_entry("private_placement", &g_setup.addr, share - each * opt.nsenders));
	json_array_append_new(allocs, alloc_entry("foundation", &fnd, SSP_TOTAL_SUPPLY / 100 * 20));
	json_array_append_new(allocs, alloc_entry("team", &team, SSP_TOTAL_SUPPLY / 100 * 10));
	json_array_append_new(allocs,
	                      alloc_entry("ecosystem_pool", NULL, SSP_TOTAL_SUPPLY / 100 * 45));

	char prod[96];
	ssp_pubkey_text(prod, sizeof prod, &ppk);
	json_t *g = json_pack(
	    "{s:s, s:s, s:I, s:s, s:{s:i, s:i, s:i, s:s, s:s, s:i, s:i, s:I}, s:o}", "chain_id",
	    CHAIN_ID, "network", "dev", "genesis_time", (json_int_t)ssp_now_ms(), "producer", prod,
	    "params", "block_interval_ms", BLOCK_INTERVAL_MS, "max_block_bytes", MAX_BLOCK_BYTES,
	    "max_block_txs", MAX_BLOCK_TXS, "min_fee", "0.00001", "fee_per_byte", "0.0000001",
	    "month_seconds", 2592000, "max_expiry_blocks", MAX_EXPIRY_BLOCKS, "max_block_gas",
	    (json_int_t)MAX_BLOCK_GAS, "allocations", allocs);
	if (!g) die("cannot build the genesis JSON");
	char *text = json_dumps(g, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(g);
	if (!text) die("out of memory");
	/* validate it the way the node will */
	ssp_genesis *parsed;
	char why[512];
	rc = ssp_genesis_parse(&parsed, text, strlen(text), why, sizeof why);
	if (rc) die("the bench's genesis is invalid: %s", why);
	ssp_genesis_free(parsed);
	snprintf(path, sizeof path, "%s/genesis.json", opt.datadir);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) die("cannot write %s", path);
	free(text);
}

static unsigned free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		die("cannot find a free port: %s", strerror(errno));
	close(s);
	return ntohs(a.sin_port);
}

static char g_url[128];

static void start_node(void)
{
	char genesis[1200], listen[64], out[1200];
	unsigned port = free_port();
	snprintf(genesis, sizeof genesis, "%s/genesis.json", opt.datadir);
	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u/rpc", port);
	snprintf(g_log, sizeof g_log, "%s/node.log", opt.datadir);
	snprintf(out, sizeof out, "%s/node.out", opt.datadir);
	if (access(opt.sspd, X_OK)) die("node binary %s: %s", opt.sspd, strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the bench */
		int lo = open(g_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int oo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (lo < 0 || oo < 0) _exit(126);
		dup2(oo, 1);
		dup2(lo, 2);
		close(lo);
		close(oo);
		/* --reinit: the datadir is new, holding only the keys and genesis written above */
		execl(opt.sspd, opt.sspd, "--dev", "--datadir", opt.datadir, "--genesis", genesis,
		      "--rpc-listen", listen, "--reinit", (char *)NULL);
		_exit(127);
	}
	g_node = pid;
}

/*
 * A follower's import rate: every block the node committed, read into
 * memory first (a follower gets them from the network), then imported
 * into a fresh datadir through ssp_chain_import — decode, producer
 * signature, every tx signature in parallel on a pool of cores-1 threads
 * plus this one, execution, durable commit — the path sspd --follow and
 * P2P use. Returns txs per second (0 if the run could not be made).
 */
#define FOLLOW_BATCH 16 /* blocks per ssp_chain_import_many, like sspd --follow */

static double proc_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t g_sigs_at_exec; /* signatures the follower checked serially while executing */

static double follower_import(unsigned ncores, uint64_t *blocks_out, uint64_t *txs_out,
                              double *per_cpu_s)
{
	char gpath[1200], dst[1200], why[256];
	ssp_genesis *g = NULL;
	ssp_store *ss = NULL, *ds = NULL;
	ssp_modset *sm = NULL, *dm = NULL;
	ssp_chain *sc = NULL, *dc = NULL;
	ssp_workpool *pool = NULL;
	uint8_t **raw = NULL;
	size_t *len = NULL;
	uint64_t head = 0, txs = 0;
	double rate = 0;
	snprintf(gpath, sizeof gpath, "%s/genesis.json", opt.datadir);
	snprintf(dst, sizeof dst, "%s/follower", opt.datadir);
	ssp_store_opts so = {0};
	if (ssp_genesis_load(&g, gpath, why, sizeof why) || ssp_store_open(&ss, opt.datadir, &so) ||
	    ssp_modset_open_chain(&sc, &sm, ss, g) || mkdir(dst, 0700) ||
	    ssp_store_open(&ds, dst, &so) || ssp_modset_open_chain(&dc, &dm, ds, g) ||
	    ssp_workpool_new(&pool, ncores > 1 ? ncores - 1 : 0))
		goto out;
	ssp_chain_set_workpool(dc, pool);
	head = ssp_chain_head(sc)->height;
	raw = xcalloc(head + 1, sizeof *raw);
	len = xcalloc(head + 1, sizeof *len);
	for (uint64_t h = 1; h <= head; h++) {
		ssp_txn *rt;
		const uint8_t *p;
		if (ssp_store_read(ss, &rt)) goto out;
		int rc = ssp_chain_read_block(sc, rt, h, &p, &len[h]);
		if (!rc) {
			raw[h] = xcalloc(1, len[h]);
			memcpy(raw[h], p, len[h]);
		}
		ssp_txn_end(rt);
		if (rc) goto out;
	}
	double t0 = now_s(), c0 = proc_cpu_s();
	/* as sspd --follow does: batches, each pipelined (block h+1 checked while h commits) */
	for (uint64_t h = 1; h <= head; h += FOLLOW_BATCH) {
		ssp_block_info info[FOLLOW_BATCH];
		size_t nb = head - h + 1 < FOLLOW_BATCH ? (size_t)(head - h + 1) : FOLLOW_BATCH,
		       done;
		int rc = ssp_chain_import_many(dc, NULL, (const uint8_t *const *)&raw[h], &len[h],
		                               nb, info, &done);
		for (size_t k = 0; k < done; k++) {
			txs += info[k].ntx;
			g_sigs_at_exec += info[k].sigs_at_exec;
		}
		if (rc) {
			fprintf(stderr, "bench_transfer: follower import of block %llu: %s\n",
			        (unsigned long long)(h + done), ssp_strerror(rc));
			goto out;
		}
	}
	double dt = now_s() - t0, dc_s = proc_cpu_s() - c0;
	*per_cpu_s = dc_s > 0 ? (double)txs / dc_s : 0;
	if (memcmp(ssp_chain_head(dc)->state_root.b, ssp_chain_head(sc)->state_root.b, 32)) {
		fprintf(stderr, "bench_transfer: the follower's state root differs\n");
		goto out;
	}
	rate = dt > 0 ? (double)txs / dt : 0;
	*blocks_out = head;
	*txs_out = txs;
out:
	for (uint64_t h = 0; raw && h <= head; h++)
		free(raw[h]);
	free(raw);
	free(len);
	ssp_chain_close(dc);
	ssp_chain_close(sc);
	ssp_modset_free(dm);
	ssp_modset_free(sm);
	ssp_workpool_free(pool);
	ssp_store_close(ds);
	ssp_store_close(ss);
	ssp_genesis_free(g);
	return rate;
}

/* Waits until chain_getInfo answers; returns the info (caller decrefs). */
static json_t *wait_ready(ssp_rpc_client *cl, double deadline_s)
{
	double deadline = now_s() + deadline_s;
	for (;;) {
		json_t *res = NULL;
		ssp_rpc_error err = {0};
		int rc = ssp_rpc_call(cl, "chain_getInfo", NULL, &res, &err);
		json_decref(err.data);
		if (!rc) return res;
		int status;
		if (waitpid(g_node, &status, WNOHANG) == g_node) {
			g_node = -1;
			print_log_tail();
			die("the node exited during start-up (status %d)", status);
		}
		if (now_s() > deadline)
			die("the node did not answer chain_getInfo within %.0f s: %s", deadline_s,
			    err.message);
		sleep_ms(50);
	}
}

static uint64_t info_u64(json_t *info, const char *key)
{
	json_t *v = json_object_get(info, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0) die("chain_getInfo: no %s", key);
	return (uint64_t)json_integer_value(v);
}

static uint64_t info_amount(json_t *info, const char *key)
{
	json_t *v = json_object_get(info, key);
	uint64_t out;
	if (!json_is_string(v) || ssp_amount_parse(&out, json_string_value(v), SSP_DECIMALS))
		die("chain_getInfo: no %s", key);
	return out;
}

/* ---------------------------------------------------------------- signing */

static struct {
	char chain_id[SSP_CHAIN_ID_MAX + 1];
	char hrp[16];
	uint64_t min_fee, fee_per_byte, expiry;
	uint64_t gas_price, max_block_gas;
	uint64_t gas;       /* lua: every transfer call's gas limit (2 x the probe's gas_used) */
	uint64_t probe_gas; /* lua: gas_used of the probe call */
	ssp_addr contract;  /* lua: the iot20 contract */
	size_t len_plain, len_pk; /* encoded sizes without / with the pubkey */
	char *hex;                /* every tx's hex, back to back */
	size_t *off;              /* tx i's hex starts at hex + off[i]; off[N] = end */
} sg;

/* Appends the payload of an iot20 `transfer(to, amount)` call with this gas limit. */
static void lua_call_payload(ssp_buf *b, const ssp_addr *to, uint64_t amount, uint64_t gas)
{
	char text[96];
	ssp_buf args;
	ssp_addr_encode(text, sizeof text, sg.hrp, to);
	json_t *j = json_pack("[s, I]", text, (json_int_t)amount);
	ssp_buf_init(&args, 4096);
	if (!j || ssp_val_from_json(&args, j) || args.err) die("cannot encode the call's args");
	json_decref(j);
	ssp_contract_call k = {.contract = sg.contract,
	                       .fn = "transfer",
	                       .args = args.data,
	                       .args_len = (uint32_t)args.len,
	                       .value = 0,
	                       .gas_limit = gas};
	ssp_contract_call_encode(b, &k);
	ssp_buf_free(&args);
}

/* Appends the payload of sender s's timed tx (to the next sender); returns its tx type. */
static uint16_t timed_payload(ssp_buf *b, uint32_t s)
{
	const ssp_addr *to = &g_senders[(s + 1) % opt.nsenders].addr;
	switch (opt.kind) {
	case KIND_TOKEN: {
		ssp_token_payload p = {.symbol = TOKEN_SYMBOL, .to = *to, .amount = AMOUNT};
		ssp_token_payload_encode(b, SSP_TX_TOKEN_TRANSFER, &p);
		return SSP_TX_TOKEN_TRANSFER;
	}
	case KIND_LUA:
		lua_call_payload(b, to, AMOUNT, sg.gas);
		return SSP_TX_CONTRACT_CALL;
	default: {
		ssp_transfer t = {.to = *to, .amount = AMOUNT};
		ssp_transfer_encode(b, &t);
		return SSP_TX_TRANSFER;
	}
	}
}

/* Signs with ssp_tx_sign: sender s, nonce n, to the next sender; the pubkey on nonce 0. */
static int sign_full(uint32_t s, uint64_t nonce, uint64_t fee, uint8_t **raw, size_t *len)
{
	ssp_buf b;
	ssp_hash txid;
	ssp_buf_init(&b, 4096);
	uint16_t type = timed_payload(&b, s);
	if (b.err) {
		int rc = b.err;
		ssp_buf_free(&b);
		return rc;
	}
	ssp_tx_build tb = {.chain_id = sg.chain_id,
	                   .type = type,
	                   .nonce = nonce,
	                   .fee = fee,
	                   .expiry = sg.expiry,
	                   .payload = b.data,
	                   .payload_len = b.len,
	                   .include_pubkey = nonce == 0};
	int rc = ssp_tx_sign(raw, len, &txid, &tb, &g_senders[s].sk);
	ssp_buf_free(&b);
	return rc;
}

/* min_fee + fee_per_byte x len + gas x gas_price: what the CLI pays. */
static uint64_t fee_gas(size_t len, uint64_t gas)
{
	uint64_t per, fee, gf;
	if (ssp_mul_u64(&per, sg.fee_per_byte, len) || ssp_add_u64(&fee, sg.min_fee, per) ||
	    ssp_mul_u64(&gf, gas, sg.gas_price) || ssp_add_u64(&fee, fee, gf))
		die("the fee schedule overflows");
	return fee;
}

/* The fee of a timed tx of len bytes. */
static uint64_t fee_for(size_t len)
{
	return fee_gas(len, opt.kind == KIND_LUA ? sg.gas : 0);
}

/*
 * ssp_tx_sign re-derives the key pair on every call (a scalar multiplication
 * as dear as the signature), so the bench signs each sender's nonce-1 tx
 * with it once and derives the others by patching the nonce (fixed-width
 * little-endian at a fixed offset, include/ssp/chain.h) and re-signing the
 * signed part with ssp_sign. Ed25519 is deterministic: presign() checks the
 * result byte for byte against ssp_tx_sign.
 */
static uint8_t **g_tmpl; /* per sender: its nonce-1 tx (no pubkey) */

static size_t nonce_off(void)
{
	return 1 + 1 + strlen(sg.chain_id) + 2 +
	       SSP_ADDR_LEN; /* version, cid len, cid, type, from */
}

static void sign_patched(uint8_t *out, uint32_t s, uint64_t nonce)
{
	ssp_sig sig;
	size_t n = sg.len_plain - SSP_SIG_LEN;
	memcpy(out, g_tmpl[s], sg.len_plain);
	ssp_le64_put(out + nonce_off(), nonce);
	if (ssp_sign(&sig, &g_senders[s].sk, SSP_DOM_TX, sg.chain_id, out, n)) die("cannot sign");
	memcpy(out + n, sig.b, SSP_SIG_LEN);
}

static size_t tx_len(size_t i)
{
	return i < opt.nsenders ? sg.len_pk : sg.len_plain;
}

typedef struct {
	unsigned idx, nthreads;
	int err;
} sjob;

static void *sign_thread(void *arg)
{
	sjob *j = arg;
	uint64_t fee_pk = fee_for(sg.len_pk);
	uint8_t buf[1024];
	char hex[2 * sizeof buf + 1];
	for (size_t i = j->idx; i < opt.ntx; i += j->nthreads) {
		uint32_t s = (uint32_t)(i % opt.nsenders);
		uint64_t nonce = i / opt.nsenders;
		size_t len = tx_len(i);
		if (nonce == 0) {
			uint8_t *raw;
			size_t got;
			int rc = sign_full(s, 0, fee_pk, &raw, &got);
			if (rc || got != len) {
				if (!rc) free(raw);
				j->err = rc ? rc : SSP_ERR_INTERNAL;
				return NULL;
			}
			memcpy(buf, raw, len);
			free(raw);
		} else {
			sign_patched(buf, s, nonce);
		}
		ssp_hex_encode(hex, buf, len); /* not in place: its NUL would hit the next tx */
		memcpy(sg.hex + sg.off[i], hex, 2 * len);
	}
	return NULL;
}

/* Pre-signs all N transfers on every core into sg.hex. */
static void presign(void)
{
	uint8_t *raw, *ref, check[1024];
	size_t len;
	/* the encoded length does not depend on the fee's value: probe both shapes with fee 0 */
	if (sign_full(0, 0, 0, &raw, &sg.len_pk)) die("cannot sign a probe transaction");
	free(raw);
	if (sign_full(0, 1, 0, &raw, &sg.len_plain)) die("cannot sign a probe transaction");
	free(raw);
	if (sg.len_pk > sizeof check || sg.len_plain > sizeof check) die("transactions too long");
	uint64_t fee_plain = fee_for(sg.len_plain);
	g_tmpl = xcalloc(opt.nsenders, sizeof *g_tmpl);
	for (uint32_t s = 0; s < opt.nsenders; s++)
		if (sign_full(s, 1, fee_plain, &g_tmpl[s], &len) || len != sg.len_plain)
			die("cannot sign a template transaction");
	/* the shortcut must give exactly what ssp_tx_sign gives */
	if (sign_full(1, 7, fee_plain, &ref, &len) || len != sg.len_plain)
		die("cannot sign a check transaction");
	sign_patched(check, 1, 7);
	if (opt.key_type == SSP_KEY_ED25519 && memcmp(check, ref, len))
		die("internal error: patched signing differs from ssp_tx_sign");
	if (opt.key_type != SSP_KEY_ED25519) { /* ECDSA is randomised: same bytes but the sig */
		ssp_tx a, b2;
		ssp_pubkey pk;
		if (memcmp(check, ref, len - SSP_SIG_LEN) || ssp_tx_decode(&a, check, len) ||
		    ssp_tx_decode(&b2, ref, len) || ssp_key_public(&pk, &g_senders[1].sk) ||
		    ssp_verify(&pk, SSP_DOM_TX, sg.chain_id, check, a.signed_len, &a.sig))
			die("internal error: patched signing differs from ssp_tx_sign");
	}
	free(ref);

	sg.off = xmalloc((opt.ntx + 1) * sizeof *sg.off);
	size_t o = 0;
	for (size_t i = 0; i < opt.ntx; i++) {
		sg.off[i] = o;
		o += 2 * tx_len(i);
	}
	sg.off[opt.ntx] = o;
	sg.hex = xmalloc(o + 1);
	unsigned n = cores();
	pthread_t *th = xcalloc(n, sizeof *th);
	sjob *jobs = xcalloc(n, sizeof *jobs);
	for (unsigned t = 0; t < n; t++) {
		jobs[t] = (sjob){.idx = t, .nthreads = n};
		if (pthread_create(&th[t], NULL, sign_thread, &jobs[t]))
			die("cannot start a thread");
	}
	for (unsigned t = 0; t < n; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].err) die("signing failed: %s", ssp_strerror(jobs[t].err));
	}
	for (uint32_t s = 0; s < opt.nsenders; s++)
		free(g_tmpl[s]);
	free(g_tmpl);
	free(th);
	free(jobs);
}

/* ------------------------------------------------------------------ setup */

/* Calls method; dies on any failure. Returns the result (caller decrefs). */
static json_t *rpc(ssp_rpc_client *cl, const char *method, json_t *params)
{
	json_t *res = NULL;
	ssp_rpc_error err = {0};
	if (ssp_rpc_call(cl, method, params, &res, &err)) {
		char *d = err.data ? json_dumps(err.data, JSON_COMPACT) : NULL;
		die("%s: %s %s", method, err.message, d ? d : "");
	}
	return res;
}

static void addr_text(char *out, size_t cap, const ssp_addr *a)
{
	ssp_addr_encode(out, cap, sg.hrp, a);
}

/*
 * Signs a tx of the setup account (the pubkey on nonce 0) with the CLI's
 * fee for its size and gas; returns its hex (malloc'd) and its txid.
 */
static char *setup_tx(uint16_t type, const ssp_buf *pay, uint64_t nonce, uint64_t gas,
                      ssp_hash *txid)
{
	uint8_t *raw;
	size_t len;
	if (pay->err) die("cannot encode a setup payload: %s", ssp_strerror(pay->err));
	ssp_tx_build tb = {.chain_id = sg.chain_id,
	                   .type = type,
	                   .nonce = nonce,
	                   .fee = 0,
	                   .expiry = sg.expiry,
	                   .payload = pay->data,
	                   .payload_len = pay->len,
	                   .include_pubkey = nonce == 0};
	/* the size does not depend on the fee's value (fixed width) */
	if (ssp_tx_sign(&raw, &len, txid, &tb, &g_setup.sk)) die("cannot sign a setup tx");
	free(raw);
	tb.fee = fee_gas(len, gas);
	if (ssp_tx_sign(&raw, &len, txid, &tb, &g_setup.sk)) die("cannot sign a setup tx");
	char *hex = xmalloc(2 * len + 1);
	ssp_hex_encode(hex, raw, len);
	free(raw);
	return hex;
}

/* Waits until the chain's nonce of the setup account reaches `want` (all its txs committed). */
static void wait_setup_nonce(ssp_rpc_client *cl, uint64_t want, double deadline_s)
{
	char text[96];
	double deadline = now_s() + deadline_s;
	addr_text(text, sizeof text, &g_setup.addr);
	for (;;) {
		json_t *res = rpc(cl, "account_get", json_pack("{s:s}", "address", text));
		uint64_t nonce = info_u64(res, "nonce");
		json_decref(res);
		if (nonce >= want) return;
		if (now_s() > deadline)
			die("setup: only %llu of %llu setup txs committed after %.0f s",
			    (unsigned long long)nonce, (unsigned long long)want, deadline_s);
		sleep_ms(50);
	}
}

/*
 * Submits the setup account's txs hex[0..n) (nonces first..first+n) in
 * order, at most 4,000 pending at a time (the mempool keeps 4,096 per
 * sender), and waits until each chunk is committed. Frees hex[].
 */
static void setup_submit(ssp_rpc_client *cl, char **hex, size_t n, uint64_t first)
{
	for (size_t off = 0; off < n;) {
		size_t m = n - off < 4000 ? n - off : 4000;
		for (int attempt = 0;; attempt++) {
			json_t *arr = json_array();
			for (size_t k = 0; k < m; k++)
				json_array_append_new(arr, json_string(hex[off + k]));
			json_t *res = NULL;
			ssp_rpc_error err = {0};
			if (ssp_rpc_call(cl, "tx_submitBatch", json_pack("{s:o}", "txs", arr), &res,
			                 &err)) {
				json_decref(err.data);
				if (err.code == SSP_RPC_BUSY && attempt < 100) {
					sleep_ms(100);
					continue;
				}
				die("setup: tx_submitBatch: %s", err.message);
			}
			json_t *rs = json_object_get(res, "results");
			if (json_array_size(rs) != m)
				die("setup: tx_submitBatch: wrong result count");
			for (size_t k = 0; k < m; k++) {
				json_t *e = json_object_get(json_array_get(rs, k), "error");
				if (e)
					die("setup: tx %zu refused: %s (%s)", off + k,
					    json_string_value(json_object_get(e, "message")),
					    json_string_value(json_object_get(
					        json_object_get(e, "data"), "error")));
			}
			json_decref(res);
			break;
		}
		wait_setup_nonce(cl, first + off + m, 120);
		for (size_t k = 0; k < m; k++)
			free(hex[off + k]);
		off += m;
	}
}

/*
 * tx_get of a committed tx: dies unless it is in a block with an "ok"
 * receipt (a failed contract call is included too). Returns its gas_used.
 */
static uint64_t check_receipt(ssp_rpc_client *cl, const ssp_hash *txid, const char *what)
{
	char hex[65];
	ssp_hex_encode(hex, txid->b, 32);
	json_t *res = rpc(cl, "tx_get", json_pack("{s:s}", "txid", hex));
	const char *st = json_string_value(json_object_get(res, "status"));
	json_t *r = json_object_get(res, "receipt");
	const char *rst = json_string_value(json_object_get(r, "status"));
	if (!st || (strcmp(st, "included") && strcmp(st, "finalized")) || !rst ||
	    strcmp(rst, "ok")) {
		char *d = json_dumps(res, JSON_COMPACT);
		die("%s %s: not committed with an ok receipt: %.600s", what, hex, d ? d : "?");
	}
	json_t *g = json_object_get(r, "gas_used");
	uint64_t gas = json_is_integer(g) ? (uint64_t)json_integer_value(g) : 0;
	json_decref(res);
	return gas;
}

/* Dies unless the setup account holds no tokens any more: then every hand-out succeeded. */
static void check_setup_empty(ssp_rpc_client *cl)
{
	char text[96];
	addr_text(text, sizeof text, &g_setup.addr);
	json_t *res;
	if (opt.kind == KIND_TOKEN) {
		res = rpc(cl, "token_balance",
		          json_pack("{s:s, s:s}", "symbol", TOKEN_SYMBOL, "address", text));
		const char *bal = json_string_value(json_object_get(res, "balance"));
		if (!bal || strcmp(bal, "0")) die("setup: the setup account still holds %s", bal);
	} else {
		char caddr[96];
		addr_text(caddr, sizeof caddr, &sg.contract);
		res = rpc(cl, "contract_query",
		          json_pack("{s:s, s:s, s:[s]}", "address", caddr, "function", "balanceOf",
		                    "args", text));
		json_t *v = json_object_get(res, "return");
		if (!json_is_integer(v) || json_integer_value(v) != 0)
			die("setup: the setup account still holds iot20 tokens");
	}
	json_decref(res);
}

/* --kind token: create BENCH (fixed supply, all to the setup account), one share per sender. */
static void setup_token(ssp_rpc_client *cl)
{
	size_t n = opt.nsenders;
	char **hex = xcalloc(n + 1, sizeof *hex);
	ssp_hash txid;
	ssp_buf b;
	ssp_buf_init(&b, 4096);
	/* not MINTABLE: the whole max_supply goes to the creator */
	ssp_token_payload p = {.symbol = TOKEN_SYMBOL,
	                       .name = "Bench token",
	                       .decimals = 0,
	                       .max_supply = TOKEN_SHARE * n,
	                       .flags = SSP_TOKEN_FLAG_BURNABLE};
	ssp_token_payload_encode(&b, SSP_TX_TOKEN_CREATE, &p);
	hex[0] = setup_tx(SSP_TX_TOKEN_CREATE, &b, 0, 0, &txid);
	for (uint32_t s = 0; s < n; s++) {
		ssp_token_payload q = {
		    .symbol = TOKEN_SYMBOL, .to = g_senders[s].addr, .amount = TOKEN_SHARE};
		ssp_buf_reset(&b);
		ssp_token_payload_encode(&b, SSP_TX_TOKEN_TRANSFER, &q);
		hex[s + 1] = setup_tx(SSP_TX_TOKEN_TRANSFER, &b, s + 1, 0, &txid);
	}
	ssp_buf_free(&b);
	setup_submit(cl, hex, n + 1, 0);
	free(hex);
	check_receipt(cl, &txid, "setup: the last hand-out");
	check_setup_empty(cl);
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) die("cannot open %s: %s (give --contract)", path, strerror(errno));
	char *buf = xmalloc(SSP_VM_SOURCE_MAX + 1);
	*n = fread(buf, 1, SSP_VM_SOURCE_MAX + 1, f);
	fclose(f);
	if (*n == 0 || *n > SSP_VM_SOURCE_MAX)
		die("%s: empty or over %d bytes", path, SSP_VM_SOURCE_MAX);
	return buf;
}

/*
 * --kind lua: deploy iot20.lua with init("BENCH", "Bench token", 0, supply,
 * supply) (all to the setup account), probe one transfer call's gas, then
 * one share per sender with the gas limit every timed call uses.
 */
static void setup_lua(ssp_rpc_client *cl)
{
	size_t n = opt.nsenders, srclen;
	ssp_hash txid;
	ssp_buf b, args;
	char *src = read_file(opt.contract, &srclen);
	json_t *ja = json_pack("[s, s, i, I, I]", TOKEN_SYMBOL, "Bench token", 0,
	                       (json_int_t)(TOKEN_SHARE * n), (json_int_t)(TOKEN_SHARE * n));
	ssp_buf_init(&args, 4096);
	if (!ja || ssp_val_from_json(&args, ja) || args.err) die("cannot encode the init args");
	json_decref(ja);
	ssp_contract_deploy d = {.gas_limit = DEPLOY_GAS,
	                         .src = (const uint8_t *)src,
	                         .src_len = (uint32_t)srclen,
	                         .args = args.data,
	                         .args_len = (uint32_t)args.len};
	ssp_buf_init(&b, SSP_VM_SOURCE_MAX + 8192);
	ssp_contract_deploy_encode(&b, &d);
	char *hex = setup_tx(SSP_TX_CONTRACT_DEPLOY, &b, 0, DEPLOY_GAS, &txid);
	ssp_buf_free(&args);
	free(src);
	setup_submit(cl, &hex, 1, 0);
	uint64_t deploy_gas = check_receipt(cl, &txid, "setup: the deploy of iot20.lua");
	ssp_contract_address(&sg.contract, &g_setup.addr, 0);

	/* the probe: one share to sender 0 with a generous limit; its gas_used sizes the rest */
	ssp_buf_reset(&b);
	lua_call_payload(&b, &g_senders[0].addr, TOKEN_SHARE, PROBE_GAS);
	hex = setup_tx(SSP_TX_CONTRACT_CALL, &b, 1, PROBE_GAS, &txid);
	setup_submit(cl, &hex, 1, 1);
	sg.probe_gas = check_receipt(cl, &txid, "setup: the probe call");
	sg.gas = 2 * sg.probe_gas;
	if (sg.gas == 0 || sg.gas > PROBE_GAS)
		die("setup: odd gas_used %llu of the probe call", (unsigned long long)sg.probe_gas);

	char **hx = xcalloc(n, sizeof *hx);
	for (uint32_t s = 1; s < n; s++) {
		ssp_buf_reset(&b);
		lua_call_payload(&b, &g_senders[s].addr, TOKEN_SHARE, sg.gas);
		hx[s - 1] = setup_tx(SSP_TX_CONTRACT_CALL, &b, s + 1, sg.gas, &txid);
	}
	ssp_buf_free(&b);
	setup_submit(cl, hx, n - 1, 2);
	free(hx);
	check_receipt(cl, &txid, "setup: the last hand-out");
	check_setup_empty(cl);
	char caddr[96];
	addr_text(caddr, sizeof caddr, &sg.contract);
	printf("# lua: iot20.lua (%zu bytes) deployed at %s with %llu gas; a transfer call uses "
	       "%llu gas (the probe), so every call's gas limit is %llu (2x) and pays %llu base "
	       "units of gas fee up front (the unused half is refunded)\n",
	       srclen, caddr, (unsigned long long)deploy_gas, (unsigned long long)sg.probe_gas,
	       (unsigned long long)sg.gas, (unsigned long long)(sg.gas * sg.gas_price));
	printf("# lua: max_block_gas %llu in the bench genesis: %llu calls per block by gas "
	       "(the default 200,000,000 would allow only %llu, below max_block_txs %d)\n",
	       (unsigned long long)sg.max_block_gas,
	       (unsigned long long)(sg.max_block_gas / sg.gas),
	       (unsigned long long)(200000000ULL / sg.gas), MAX_BLOCK_TXS);
}

/* ------------------------------------------------------------- submission */

typedef struct {
	char *p;
	size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 1 << 16;
		while (c < b->len + n + 1)
			c *= 2;
		char *np = realloc(b->p, c);
		if (!np) die("out of memory");
		b->p = np;
		b->cap = c;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static const char body_head[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx_submitBatch\",\"params\":{\"txs\":[";

/* The request body for txs idx[0..n). */
static void build_body(sbuf *b, const uint32_t *idx, size_t n)
{
	b->len = 0;
	sb_puts(b, body_head);
	for (size_t k = 0; k < n; k++) {
		if (k) sb_puts(b, ",");
		sb_puts(b, "\"");
		sb_put(b, sg.hex + sg.off[idx[k]], sg.off[idx[k] + 1] - sg.off[idx[k]]);
		sb_puts(b, "\"");
	}
	sb_puts(b, "]}}");
}

typedef struct {
	unsigned id;
	uint32_t *idx; /* this connection's txs, in submission order */
	size_t n;
	sbuf *bodies; /* pre-built, one per batch */
	size_t nbatches;
	pthread_barrier_t *start;
	/* results */
	size_t accepted, rejected, retried, busy, paused;
	char first_error[256];
	json_t *errnames; /* error name -> count */
	double done_at;
} conn;

static _Atomic size_t g_accepted, g_included;

/*
 * Flow control: a tx the node acknowledged can still be evicted from a full
 * mempool by a richer one (mempool.c); a sender's first tx, carrying its key
 * at the minimum fee, pays less per byte than its later ones, so evictions
 * would strand whole senders. Keeping well below the mempool's size avoids it.
 */
static void wait_for_room(conn *c)
{
	double deadline = now_s() + 120;
	bool counted = false;
	while (opt.max_pending) {
		size_t acc = atomic_load(&g_accepted), inc = atomic_load(&g_included);
		size_t pend = acc > inc ? acc - inc : 0;
		if (pend == 0 || pend + opt.conns * opt.batch <= opt.max_pending) return;
		if (now_s() > deadline)
			die("connection %u: %zu txs pending for 120 s", c->id, pend);
		if (!counted) c->paused++;
		counted = true;
		sleep_ms(5);
	}
}
static _Atomic unsigned g_conns_done;

static size_t on_reply(char *p, size_t size, size_t nmemb, void *ud)
{
	sb_put(ud, p, size * nmemb);
	return size * nmemb;
}

static size_t count_str(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = hay, *end = hay + len;
	while ((p = memmem(p, (size_t)(end - p), needle, nl))) {
		n++;
		p += nl;
	}
	return n;
}

static void note_error(conn *c, const char *name, const char *msg)
{
	json_t *v = json_object_get(c->errnames, name);
	json_object_set_new(c->errnames, name, json_integer(v ? json_integer_value(v) + 1 : 1));
	if (!c->first_error[0])
		snprintf(c->first_error, sizeof c->first_error, "%s: %s", name, msg);
}

/* POSTs body; returns the reply in `reply` (dies on a transport failure). */
static void post(CURL *h, const sbuf *body, sbuf *reply)
{
	long status = 0;
	for (int attempt = 0;; attempt++) {
		reply->len = 0;
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
		CURLcode rc = curl_easy_perform(h);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (status == 200) return;
			die("tx_submitBatch: HTTP %ld: %.300s", status, reply->p ? reply->p : "");
		}
		if (attempt >= 3) die("tx_submitBatch: %s", curl_easy_strerror(rc));
		sleep_ms(200);
	}
}

static void *submit_thread(void *arg)
{
	conn *c = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	sbuf reply = {0}, retry_body = {0};
	if (!h) die("curl_easy_init failed");
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, g_url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
	uint32_t *pending = xmalloc(opt.batch * sizeof *pending);
	uint32_t *again = xmalloc(opt.batch * sizeof *again);
	bool *blocked = xcalloc(opt.nsenders, sizeof *blocked);
	pthread_barrier_wait(c->start);

	for (size_t b = 0; b < c->nbatches; b++) {
		size_t first = b * opt.batch;
		size_t n = c->n - first < opt.batch ? c->n - first : opt.batch;
		memcpy(pending, c->idx + first, n * sizeof *pending);
		const sbuf *body = &c->bodies[b];
		unsigned backoff = 5;
		wait_for_room(c);
		double deadline = now_s() + 120;
		for (;;) {
			post(h, body, &reply);
			/* fast path: every tx accepted */
			if (!memmem(reply.p, reply.len, "\"error\"", 7)) {
				size_t ok = count_str(reply.p, reply.len, "\"txid\"");
				if (ok != n) die("tx_submitBatch: %zu txids for %zu txs", ok, n);
				c->accepted += n;
				atomic_fetch_add(&g_accepted, n);
				break;
			}
			json_error_t je;
			json_t *res = json_loadb(reply.p, reply.len, 0, &je);
			if (!res) die("tx_submitBatch: reply is not JSON: %s", je.text);
			json_t *e = json_object_get(res, "error");
			size_t nagain = 0;
			if (e) {
				json_int_t code = json_integer_value(json_object_get(e, "code"));
				if (code != SSP_RPC_BUSY)
					die("tx_submitBatch: error %lld: %s", (long long)code,
					    json_string_value(json_object_get(e, "message")));
				c->busy++;
				memcpy(again, pending, n * sizeof *again);
				nagain = n;
			} else {
				json_t *rs =
				    json_object_get(json_object_get(res, "result"), "results");
				if (json_array_size(rs) != n)
					die("tx_submitBatch: %zu results for %zu txs",
					    json_array_size(rs), n);
				for (size_t k = 0; k < n; k++) {
					json_t *r = json_array_get(rs, k);
					json_t *re = json_object_get(r, "error");
					uint32_t s = (uint32_t)(pending[k] % opt.nsenders);
					if (!re) {
						c->accepted++;
						atomic_fetch_add(&g_accepted, 1);
						continue;
					}
					const char *name = json_string_value(
					    json_object_get(json_object_get(re, "data"), "error"));
					const char *msg =
					    json_string_value(json_object_get(re, "message"));
					if (!name) name = "?";
					if (!msg) msg = "?";
					if (!strcmp(name, "MEMPOOL_FULL") ||
					    (blocked[s] && !strcmp(name, "NONCE_GAP"))) {
						/* its predecessors were refused for space: resend
						 * in order */
						blocked[s] = true;
						again[nagain++] = pending[k];
					} else {
						c->rejected++;
						note_error(c, name, msg);
					}
				}
			}
			json_decref(res);
			if (!nagain) break;
			c->retried += nagain;
			if (now_s() > deadline)
				die("connection %u: the node kept refusing a batch for 120 s",
				    c->id);
			sleep_ms(backoff);
			if (backoff < 200) backoff *= 2;
			for (size_t k = 0; k < nagain; k++)
				blocked[again[k] % opt.nsenders] = false;
			memcpy(pending, again, nagain * sizeof *pending);
			n = nagain;
			build_body(&retry_body, pending, n);
			body = &retry_body;
		}
		free(c->bodies[b].p); /* sent: give the memory back */
		c->bodies[b].p = NULL;
	}
	c->done_at = now_s();
	atomic_fetch_add(&g_conns_done, 1);
	free(pending);
	free(again);
	free(blocked);
	free(reply.p);
	free(retry_body.p);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

/* ----------------------------------------------------------------- results */

/* CPU time, in seconds, of the whole machine (busy, idle) and of a process. */
typedef struct {
	double busy, idle, node, self;
} cpusnap;

static double proc_cpu(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the comm may contain spaces */
	unsigned long long ut = 0, st = 0;
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static cpusnap cpu_snap(void)
{
	cpusnap c = {0};
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		           &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
			memset(v, 0, sizeof v);
		fclose(f);
	}
	double hz = (double)sysconf(_SC_CLK_TCK);
	c.idle = (double)(v[3] + v[4]) / hz;
	c.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
	c.node = proc_cpu(g_node);
	c.self = proc_cpu(getpid());
	return c;
}

typedef struct {
	uint64_t height;
	uint64_t ntx;
	double seen_at;
} blockrec;

static uint64_t read_vm(pid_t pid, const char *key)
{
	char path[64], line[256];
	uint64_t kb = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) die("cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			kb = strtoull(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	if (!kb) die("no %s in %s", key, path);
	return kb;
}

/* ------------------------------------------------------------- P2P sync */

/* Starts sspd with argv (NULL-terminated, argv[0] unused), stdout and stderr to log. */
static pid_t spawn_sspd(const char *log, const char *const *argv)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the bench */
		int lo = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (lo < 0) _exit(126);
		dup2(lo, 1);
		dup2(lo, 2);
		close(lo);
		execv(opt.sspd, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int stop_pid(pid_t pid, double grace)
{
	int status = -1;
	kill(pid, SIGTERM);
	double deadline = now_s() + grace;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(20);
	}
	return status;
}

/* chain_getInfo's height and head id, or false if the node does not answer (yet). */
static bool head_of(ssp_rpc_client *cl, uint64_t *height, char id[65])
{
	json_t *res = NULL;
	ssp_rpc_error err = {0};
	if (ssp_rpc_call(cl, "chain_getInfo", NULL, &res, &err)) {
		json_decref(err.data);
		return false;
	}
	json_t *h = json_object_get(res, "height");
	const char *hid = json_string_value(json_object_get(res, "head_id"));
	bool ok = json_is_integer(h) && hid && strlen(hid) == 64;
	if (ok) {
		*height = (uint64_t)json_integer_value(h);
		memcpy(id, hid, 65);
	}
	json_decref(res);
	return ok;
}

typedef struct {
	uint64_t blocks, txs;
	double wall, start_s;  /* start_s: until the syncing node answered RPC */
	double cpu, src_cpu;   /* CPU-seconds of the syncing and the serving node */
	uint64_t rss_kb;       /* the syncing node's peak RSS */
} p2psync;

/*
 * A fresh node syncing the run's chain over P2P from one peer: the datadir
 * just measured is served by `sspd --genesis G --datadir DATADIR
 * --p2p-listen` (no producer key: a full node), and a second sspd given
 * only the genesis and that address fetches, verifies (every signature, on
 * all cores) and applies every block into DATADIR/p2psync with durable
 * commits, as any node joining the network does. The window runs from the
 * syncing node's start to its head id equal to the server's. False if it
 * could not be run.
 */
static bool p2p_sync_run(p2psync *r)
{
	char genesis[1200], dst[1200], slog[1200], dlog[1200], p2p[64], rpc1[64], rpc2[64],
	    url1[96], url2[96], id1[65], id2[65];
	uint64_t h1 = 0, h2 = 0;
	bool ok = false;
	snprintf(genesis, sizeof genesis, "%s/genesis.json", opt.datadir);
	snprintf(dst, sizeof dst, "%s/p2psync", opt.datadir);
	snprintf(slog, sizeof slog, "%s/p2p-source.log", opt.datadir);
	snprintf(dlog, sizeof dlog, "%s/p2p-sync.log", opt.datadir);
	snprintf(p2p, sizeof p2p, "127.0.0.1:%u", free_port());
	unsigned port1 = free_port(), port2 = free_port();
	snprintf(rpc1, sizeof rpc1, "127.0.0.1:%u", port1);
	snprintf(rpc2, sizeof rpc2, "127.0.0.1:%u", port2);
	snprintf(url1, sizeof url1, "http://%s/rpc", rpc1);
	snprintf(url2, sizeof url2, "http://%s/rpc", rpc2);
	const char *sargv[] = {opt.sspd, "--genesis", genesis, "--datadir", opt.datadir,
	                       "--rpc-listen", rpc1, "--p2p-listen", p2p, NULL};
	const char *dargv[] = {opt.sspd, "--genesis", genesis, "--datadir", dst,
	                       "--rpc-listen", rpc2, "--peer", p2p, NULL};
	ssp_rpc_client *c1 = NULL, *c2 = NULL;
	pid_t src = -1, dn = -1;
	*r = (p2psync){0};
	if (ssp_rpc_client_new(&c1, url1, 10000) || ssp_rpc_client_new(&c2, url2, 10000)) goto out;
	src = spawn_sspd(slog, sargv);
	for (double dl = now_s() + 60; !head_of(c1, &h1, id1); sleep_ms(50))
		if (now_s() > dl || waitpid(src, NULL, WNOHANG) == src) {
			fprintf(stderr, "bench_transfer: the serving node did not start (%s)\n", slog);
			goto out;
		}
	for (uint64_t h = 1; h <= h1; h++) { /* the txs to sync */
		json_t *res = NULL;
		ssp_rpc_error err = {0};
		if (ssp_rpc_call(c1, "chain_getBlock", json_pack("{s:I}", "height", (json_int_t)h),
		                 &res, &err)) {
			json_decref(err.data);
			goto out;
		}
		r->txs += (uint64_t)json_integer_value(json_object_get(res, "tx_count"));
		json_decref(res);
	}
	double src_cpu0 = proc_cpu(src), t0 = now_s(), last = t0;
	dn = spawn_sspd(dlog, dargv);
	bool up = false;
	for (;;) {
		uint64_t hh;
		if (head_of(c2, &hh, id2)) {
			if (!up) r->start_s = now_s() - t0;
			up = true;
			if (hh > h2) last = now_s();
			h2 = hh;
			if (h2 >= h1) break;
		}
		if (waitpid(dn, NULL, WNOHANG) == dn) {
			dn = -1;
			fprintf(stderr, "bench_transfer: the syncing node exited (%s)\n", dlog);
			goto out;
		}
		if (now_s() - last > 60) {
			fprintf(stderr, "bench_transfer: P2P sync stuck at %llu of %llu\n",
			        (unsigned long long)h2, (unsigned long long)h1);
			goto out;
		}
		sleep_ms(10);
	}
	r->wall = now_s() - t0;
	r->cpu = proc_cpu(dn);
	r->src_cpu = proc_cpu(src) - src_cpu0;
	r->rss_kb = read_vm(dn, "VmHWM");
	r->blocks = h1;
	ok = !strcmp(id1, id2);
	if (!ok) fprintf(stderr, "bench_transfer: the synced head differs from the served one\n");
out:
	if (dn > 0 && stop_pid(dn, 30) != 0) ok = false;
	if (src > 0 && stop_pid(src, 30) != 0) ok = false;
	ssp_rpc_client_free(c1);
	ssp_rpc_client_free(c2);
	return ok;
}

typedef struct {
	size_t blocks;
	double commit_sum, commit_max, apply_sum, apply_max;
	uint64_t txs;
	double root_sum; /* the state tree's update (inside apply), when the log has it */
	uint64_t root_keys;
} logstats;

/* Parses "block H: N txs, B bytes, apply A ms, commit C ms" for heights in (from, to]. */
static logstats parse_log(uint64_t from, uint64_t to)
{
	logstats ls = {0};
	FILE *f = fopen(g_log, "r");
	char line[1024];
	if (!f) die("cannot read the node log %s", g_log);
	while (fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "] block ");
		unsigned long long h;
		unsigned ntx;
		size_t bytes;
		double apply, commit;
		if (!p ||
		    sscanf(p + 2, "block %llu: %u txs, %zu bytes, apply %lf ms, commit %lf ms", &h,
		           &ntx, &bytes, &apply, &commit) != 5)
			continue;
		if (h <= from || h > to || ntx < BIG_BLOCK_TXS) continue;
		ls.blocks++;
		ls.txs += ntx;
		ls.commit_sum += commit;
		ls.apply_sum += apply;
		const char *sr = strstr(p, ", state root ");
		double root;
		unsigned keys;
		if (sr && sscanf(sr, ", state root %lf ms for %u keys", &root, &keys) == 2) {
			ls.root_sum += root;
			ls.root_keys += keys;
		}
		if (commit > ls.commit_max) ls.commit_max = commit;
		if (apply > ls.apply_max) ls.apply_max = apply;
	}
	fclose(f);
	return ls;
}

/* -------------------------------------------------------------------- main */

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "--keep")) {
			opt.keep = true;
			continue;
		} else if (!strcmp(a, "--p2p-sync")) {
			opt.p2p_sync = true;
			continue;
		} else if (strncmp(a, "--", 2)) {
			if (opt.datadir) die("unexpected argument %s\n%s", a, usage);
			opt.datadir = a;
			continue;
		}
		if (!v) die("%s needs a value", a);
		i++;
		errno = 0;
		if (!strcmp(a, "--sspd")) {
			opt.sspd = v;
			continue;
		}
		if (!strcmp(a, "--contract")) {
			opt.contract = v;
			continue;
		}
		if (!strcmp(a, "--key-type")) {
			opt.key_type = ssp_key_type_parse(v);
			if (opt.key_type != SSP_KEY_ED25519 && opt.key_type != SSP_KEY_P256)
				die("--key-type must be ed25519 or p256");
			continue;
		}
		if (!strcmp(a, "--kind")) {
			int k;
			for (k = 0; k < 3 && strcmp(v, kind_name[k]); k++)
				;
			if (k == 3) die("--kind must be ssp, token or lua");
			opt.kind = k;
			continue;
		}
		double d = strtod(v, &end);
		if (errno || *end || d < 0 || d > 1e12) die("%s: bad value %s", a, v);
		if (!strcmp(a, "--txs"))
			opt.ntx = (size_t)d;
		else if (!strcmp(a, "--senders"))
			opt.nsenders = (uint32_t)d;
		else if (!strcmp(a, "--batch"))
			opt.batch = (size_t)d;
		else if (!strcmp(a, "--connections"))
			opt.conns = (unsigned)d;
		else if (!strcmp(a, "--verify-seconds"))
			opt.verify_s = d;
		else if (!strcmp(a, "--timeout"))
			opt.timeout_s = d;
		else if (!strcmp(a, "--max-pending"))
			opt.max_pending = (size_t)d;
		else
			die("unknown option %s\n%s", a, usage);
	}
	if (!opt.datadir) die("give a DATADIR\n%s", usage);
	if (opt.verify_s < 0 || opt.timeout_s <= 0)
		die("--verify-seconds must be >= 0 and --timeout > 0");
	if (opt.batch < 1 || opt.batch > 10000) die("--batch must be 1..10000");
	if (opt.nsenders < 2 || opt.nsenders > 20000) die("--senders must be 2..20000");
	if (opt.conns < 1 || opt.conns > 64 || opt.conns > opt.nsenders)
		die("--connections must be 1..64");
	if (opt.ntx < 1 || opt.ntx > 50000000) die("--txs must be 1..50000000");
	if ((opt.ntx + opt.nsenders - 1) / opt.nsenders > 4000)
		die("--txs / --senders must stay under the mempool's 4096 pending per sender");
}

static char *default_sspd(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
	if (n <= 0) die("cannot find my own path; give --sspd");
	path[n] = 0;
	char *slash = strrchr(path, '/');
	snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "sspd");
	return path;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv);
	if (!opt.sspd) opt.sspd = default_sspd();
	if (!opt.contract) opt.contract = SSP_SOURCE_DIR "/contracts/iot20.lua";
	if (ssp_core_init()) die("cannot initialise libsodium");
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) die("cannot initialise libcurl");
	unsigned ncores = cores();

	/* 1. the baseline, with nothing else running */
	const char *kn = kind_name[opt.kind], *px = kind_prefix[opt.kind];
	char pxbuf[64], knbuf[64];
	if (opt.key_type == SSP_KEY_P256) { /* device-signed: its own names */
		snprintf(pxbuf, sizeof pxbuf, "%s_p256", px);
		snprintf(knbuf, sizeof knbuf, "%s/p256", kn);
		px = pxbuf;
		kn = knbuf;
	}
	printf("# [%s] cores: %u\n", kn, ncores);
	/* the baseline now and again after the transfer run: the best counts */
	vbase vb = {0};
	if (opt.verify_s > 0) baseline(ncores, &vb);

	/* 2. datadir, genesis, node */
	double t_setup = now_s();
	make_datadir();
	start_node();
	ssp_rpc_client *cl;
	if (ssp_rpc_client_new(&cl, g_url, 60000)) die("cannot create an RPC client");
	json_t *info = wait_ready(cl, 60);
	const char *cid = json_string_value(json_object_get(info, "chain_id"));
	if (!cid || strcmp(cid, CHAIN_ID))
		die("the node runs chain %s, not %s", cid ? cid : "?", CHAIN_ID);
	snprintf(sg.chain_id, sizeof sg.chain_id, "%s", cid);
	sg.min_fee = info_amount(info, "min_fee");
	sg.fee_per_byte = info_amount(info, "fee_per_byte");
	sg.gas_price = info_amount(info, "gas_price");
	sg.max_block_gas = info_u64(info, "max_block_gas");
	{
		const char *hrp = json_string_value(json_object_get(info, "hrp"));
		if (!hrp || strlen(hrp) >= sizeof sg.hrp) die("chain_getInfo: no hrp");
		snprintf(sg.hrp, sizeof sg.hrp, "%s", hrp);
	}
	uint64_t start_height = info_u64(info, "height");
	json_decref(info);
	sg.expiry = start_height + EXPIRY_AHEAD;
	printf("# [%s] node: pid %d, %s, started in %.1f s\n", kn, (int)g_node, g_url,
	       now_s() - t_setup);
	printf("# [%s] blocks: block_interval_ms %d, max_block_bytes %d, max_block_txs %d "
	       "(bigger than the default devnet's 1 MiB / 20000: the 10,000-tx blocks of "
	       "ARCHITECTURE.md section 11), max_block_gas %llu; commits durable (no --no-sync)\n",
	       kn, BLOCK_INTERVAL_MS, MAX_BLOCK_BYTES, MAX_BLOCK_TXS,
	       (unsigned long long)sg.max_block_gas);

	/* 3. the token kinds: create/deploy and hand out the token (not timed) */
	if (opt.kind != KIND_SSP) {
		double t_tok = now_s();
		if (opt.kind == KIND_TOKEN)
			setup_token(cl);
		else
			setup_lua(cl);
		printf("# [%s] setup: %s, %u shares of %llu handed out and committed in %.1f s\n",
		       kn,
		       opt.kind == KIND_TOKEN ? "native token " TOKEN_SYMBOL
		                                " created (fixed supply, 100 SSP fee)"
		                              : "iot20.lua deployed",
		       opt.nsenders, (unsigned long long)TOKEN_SHARE, now_s() - t_tok);
	}

	/* 4. pre-sign and pre-build the request bodies */
	double t_sign = now_s();
	presign();
	double sign_s = now_s() - t_sign;
	conn *cs = xcalloc(opt.conns, sizeof *cs);
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, opt.conns + 1);
	for (unsigned c = 0; c < opt.conns; c++) {
		cs[c].id = c;
		cs[c].idx = xmalloc(opt.ntx * sizeof *cs[c].idx);
		cs[c].start = &bar;
		cs[c].errnames = json_object();
	}
	for (size_t i = 0; i < opt.ntx; i++) {
		conn *c = &cs[(i % opt.nsenders) % opt.conns];
		c->idx[c->n++] = (uint32_t)i;
	}
	for (unsigned c = 0; c < opt.conns; c++) {
		cs[c].nbatches = (cs[c].n + opt.batch - 1) / opt.batch;
		cs[c].bodies = xcalloc(cs[c].nbatches, sizeof *cs[c].bodies);
		for (size_t b = 0; b < cs[c].nbatches; b++) {
			size_t first = b * opt.batch;
			size_t n = cs[c].n - first < opt.batch ? cs[c].n - first : opt.batch;
			build_body(&cs[c].bodies[b], cs[c].idx + first, n);
		}
	}
	printf("# [%s] txs: %zu %s from %u senders (%zu/%zu bytes with/without pubkey), "
	       "pre-signed on %u threads in %.1f s; batches of %zu over %u connections\n",
	       kn, opt.ntx,
	       opt.kind == KIND_SSP     ? "SSP transfers"
	       : opt.kind == KIND_TOKEN ? "token_transfer txs of " TOKEN_SYMBOL
	                                : "iot20 transfer calls",
	       opt.nsenders, sg.len_pk, sg.len_plain, ncores, sign_s, opt.batch, opt.conns);

	/* 5. submit on opt.conns connections; count what the chain commits */
	info = NULL;
	{
		ssp_rpc_error err = {0};
		if (ssp_rpc_call(cl, "chain_getInfo", NULL, &info, &err))
			die("chain_getInfo: %s", err.message);
		start_height = info_u64(info, "height");
		json_decref(info);
	}
	pthread_t *th = xcalloc(opt.conns, sizeof *th);
	for (unsigned c = 0; c < opt.conns; c++)
		if (pthread_create(&th[c], NULL, submit_thread, &cs[c]))
			die("cannot start a thread");
	pthread_barrier_wait(&bar);
	const double t0 = now_s();
	const cpusnap c0 = cpu_snap();
	const double deadline = t0 + opt.timeout_s;
	size_t nblocks = 0, capblocks = 1024;
	blockrec *blocks = xmalloc(capblocks * sizeof *blocks);
	uint64_t seen = start_height, included = 0;
	double t_last = 0, last_progress = t0;
	for (;;) {
		bool all_sent = atomic_load(&g_conns_done) == opt.conns;
		size_t target = atomic_load(&g_accepted);
		if (all_sent && included >= target) break;
		double now = now_s();
		if (now > deadline)
			die("only %llu of %zu txs committed after %.0f s",
			    (unsigned long long)included, target, opt.timeout_s);
		if (now - last_progress > 60)
			die("no progress for 60 s: %llu of %zu accepted txs committed",
			    (unsigned long long)included, target);
		json_t *res = NULL;
		ssp_rpc_error err = {0};
		if (ssp_rpc_call(cl, "chain_getInfo", NULL, &res, &err))
			die("chain_getInfo: %s", err.message);
		uint64_t height = info_u64(res, "height");
		json_decref(res);
		if (height == seen) {
			sleep_ms(20);
			continue;
		}
		while (seen < height) {
			ssp_rpc_error e2 = {0};
			res = NULL;
			if (ssp_rpc_call(cl, "chain_getBlock",
			                 json_pack("{s:I}", "height", (json_int_t)(seen + 1)), &res,
			                 &e2))
				die("chain_getBlock %llu: %s", (unsigned long long)(seen + 1),
				    e2.message);
			seen++;
			json_t *tc = json_object_get(res, "tx_count");
			if (!json_is_integer(tc)) die("chain_getBlock: no tx_count");
			uint64_t ntx = (uint64_t)json_integer_value(tc);
			json_decref(res);
			double at = now_s();
			if (nblocks == capblocks) {
				capblocks *= 2;
				blocks = realloc(blocks, capblocks * sizeof *blocks);
				if (!blocks) die("out of memory");
			}
			blocks[nblocks++] = (blockrec){.height = seen, .ntx = ntx, .seen_at = at};
			if (ntx) {
				included += ntx;
				atomic_store(&g_included, included);
				t_last = at;
				last_progress = at;
			}
		}
		if (atomic_load(&g_accepted) != target) last_progress = now_s();
	}
	const double window = t_last - t0;
	const cpusnap c1 = cpu_snap();
	const double wall = now_s() - t0;
	const uint64_t last_height = seen;

	/* RSS right after everything is in, before anything else touches the node */
	uint64_t rss_kb = read_vm(g_node, "VmRSS"), hwm_kb = read_vm(g_node, "VmHWM");
	uint64_t anon_kb = read_vm(g_node, "RssAnon"), file_kb = read_vm(g_node, "RssFile");
	for (unsigned c = 0; c < opt.conns; c++)
		pthread_join(th[c], NULL);
	size_t accepted = 0, rejected = 0, retried = 0, busy = 0, paused = 0;
	double sent_at = t0;
	for (unsigned c = 0; c < opt.conns; c++) {
		accepted += cs[c].accepted;
		rejected += cs[c].rejected;
		retried += cs[c].retried;
		busy += cs[c].busy;
		paused += cs[c].paused;
		if (cs[c].done_at > sent_at) sent_at = cs[c].done_at;
	}

	/* a sample of receipts: in a block, and ok (a failed contract call is included too) */
	uint64_t sample_gas = 0;
	size_t nsample = opt.ntx < SAMPLE_RECEIPTS ? opt.ntx : SAMPLE_RECEIPTS;
	if (!rejected)
		for (size_t k = 0; k < nsample; k++) {
			size_t i = nsample > 1 ? (opt.ntx - 1) * k / (nsample - 1) : 0;
			size_t len = (sg.off[i + 1] - sg.off[i]) / 2;
			uint8_t raw[1024];
			ssp_tx tx;
			if (len > sizeof raw ||
			    ssp_hex_decode(raw, len, sg.hex + sg.off[i], 2 * len) ||
			    ssp_tx_decode(&tx, raw, len))
				die("cannot decode pre-signed tx %zu", i);
			sample_gas += check_receipt(cl, &tx.txid, "a timed tx");
		}

	/* 6. stop the node (cleanly: its exit status is checked), then report */
	int status = stop_node(30);
	logstats ls = parse_log(start_height, last_height);
	double v1 = 0, vall = 0;
	if (opt.verify_s > 0) {
		baseline(ncores, &vb);
		v1 = vb.one;
		vall = vb.all;
		printf("# verify baseline: 32-byte digests, best of 3 runs before and 3 after the "
		       "transfers, counted per CPU-second each thread got; by the wall clock: one "
		       "core %.0f, all cores %.0f (threads on a CPU %.0f%% of the time)\n",
		       vb.one_wall, vb.all_wall, vb.on_all * 100);
		const char *alg = opt.key_type == SSP_KEY_P256 ? "p256" : "ed25519";
		printf("BENCH %s_verify_one_core %.0f verify/s\n", alg, v1);
		printf("BENCH %s_verify_all_cores %.0f verify/s\n", alg, vall);
	}

	double tps = (double)included / window;
	printf("# [%s] window: first submission .. block %llu (holding the last tx) seen "
	       "committed: %.2f s; all submitted after %.2f s; heights %llu..%llu\n",
	       kn, (unsigned long long)last_height, window, sent_at - t0,
	       (unsigned long long)start_height + 1, (unsigned long long)last_height);
	printf("# [%s] submission: %zu accepted, %zu rejected, %zu resent after MEMPOOL_FULL, %zu "
	       "busy replies, %zu batches held back by --max-pending %zu\n",
	       kn, accepted, rejected, retried, busy, paused, opt.max_pending);
	if (nsample && !rejected)
		printf(
		    "# [%s] receipts: %zu sampled evenly over the run, all committed with status "
		    "ok; mean gas_used %.0f\n",
		    kn, nsample, (double)sample_gas / (double)nsample);
	printf("# [%s] cpu in the window, in cores of %u: node %.2f, bench %.2f, other processes "
	       "%.2f, idle %.2f\n",
	       kn, ncores, (c1.node - c0.node) / wall, (c1.self - c0.self) / wall,
	       ((c1.busy - c0.busy) - (c1.node - c0.node) - (c1.self - c0.self)) / wall,
	       (c1.idle - c0.idle) / wall);
	double other = ((c1.busy - c0.busy) - (c1.node - c0.node) - (c1.self - c0.self)) / wall;
	if (other > 0.1 * ncores)
		printf("# [%s] warning: other processes took %.2f cores during the window: %s_tps "
		       "is lowered by them\n",
		       kn, other, px);
	double node_cores = (c1.node - c0.node) / wall;
	printf("BENCH %s_tps %.0f tx/s\n", px, tps);
	if (vall > 0) printf("BENCH %s_vs_verify %.3f ratio\n", px, tps / vall);
	/* robust to other load: what the node does per CPU-second it actually got */
	printf("BENCH %s_per_node_cpu_s %.0f tx/cpu-s\n", px, tps / node_cores);
	if (v1 > 0) printf("BENCH %s_cpu_vs_verify_cpu %.3f ratio\n", px, tps / node_cores / v1);
	/* the SSP kind keeps its historical names; the others are prefixed */
	bool plain = opt.kind == KIND_SSP && opt.key_type == SSP_KEY_ED25519;
	const char *bp = plain ? "" : px, *bs = plain ? "" : "_";
	if (ls.blocks) {
		printf("BENCH %s%sblock_commit_ms_mean %.1f ms\n", bp, bs,
		       ls.commit_sum / (double)ls.blocks);
		printf("BENCH %s%sblock_commit_ms_max %.1f ms\n", bp, bs, ls.commit_max);
		printf("BENCH %s%sblock_apply_ms_mean %.1f ms\n", bp, bs,
		       ls.apply_sum / (double)ls.blocks);
		if (ls.root_keys) {
			printf("BENCH %s%sstate_root_ms_mean %.1f ms\n", bp, bs,
			       ls.root_sum / (double)ls.blocks);
			printf("BENCH %s%sstate_root_us_per_key %.2f us\n", bp, bs,
			       ls.root_sum * 1000 / (double)ls.root_keys);
		}
		printf("BENCH %s%stxs_per_block_mean %.0f tx\n", bp, bs,
		       (double)ls.txs / (double)ls.blocks);
		printf("# [%s] per-block figures over the %zu blocks with >= %d txs; apply per tx "
		       "%.1f us\n",
		       kn, ls.blocks, BIG_BLOCK_TXS, ls.apply_sum * 1000 / (double)ls.txs);
	} else {
		fprintf(stderr,
		        "bench_transfer: warning: no block with >= %d txs in the node log\n",
		        BIG_BLOCK_TXS);
	}
	if (opt.kind == KIND_SSP && opt.key_type == SSP_KEY_ED25519 && status == 0 && !rejected) {
		uint64_t fb = 0, ft = 0;
		double fcpu = 0, fr = follower_import(ncores, &fb, &ft, &fcpu);
		if (fr > 0) {
			printf("# [%s] follower: %llu blocks (%llu txs) imported from raw bytes "
			       "into a "
			       "fresh datadir, durable commits, signatures on %u threads (%llu of "
			       "them checked serially at execution)\n",
			       kn, (unsigned long long)fb, (unsigned long long)ft, ncores,
			       (unsigned long long)g_sigs_at_exec);
			printf("BENCH follower_import_tps %.0f tx/s\n", fr);
			if (vall > 0)
				printf("BENCH follower_import_vs_verify %.3f ratio\n", fr / vall);
			/* per CPU-second this process got: robust to other load on the machine */
			printf("BENCH follower_import_per_cpu_s %.0f tx/cpu-s\n", fcpu);
			if (v1 > 0)
				printf("BENCH follower_import_cpu_vs_verify_cpu %.3f ratio\n",
				       fcpu / v1);
		} else {
			fprintf(stderr,
			        "bench_transfer: warning: the follower import run failed\n");
		}
	}
	int exit_code = 0;
	if (opt.p2p_sync && opt.kind == KIND_SSP && opt.key_type == SSP_KEY_ED25519 && status == 0 &&
	    !rejected) {
		p2psync ps;
		if (p2p_sync_run(&ps)) {
			double stps = (double)ps.txs / ps.wall;
			printf("# [%s] p2p sync: %llu blocks (%llu txs) fetched from one peer over "
			       "loopback, verified and committed (durable) by a fresh sspd in %.2f s "
			       "(%.2f s of it starting up); it used %.2f CPU-s (%.2f cores), the serving "
			       "node %.2f CPU-s; peak RSS %.0f MiB\n",
			       kn, (unsigned long long)ps.blocks, (unsigned long long)ps.txs, ps.wall,
			       ps.start_s, ps.cpu, ps.cpu / ps.wall, ps.src_cpu,
			       (double)ps.rss_kb / 1024);
			printf("BENCH p2p_sync_tps %.0f tx/s\n", stps);
			if (vall > 0) printf("BENCH p2p_sync_vs_verify %.3f ratio\n", stps / vall);
			printf("BENCH p2p_sync_per_node_cpu_s %.0f tx/cpu-s\n", (double)ps.txs / ps.cpu);
			if (v1 > 0)
				printf("BENCH p2p_sync_cpu_vs_verify_cpu %.3f ratio\n",
				       (double)ps.txs / ps.cpu / v1);
		} else {
			fprintf(stderr, "bench_transfer: warning: the P2P sync run failed\n");
			exit_code = 1;
		}
	}
	if (opt.kind == KIND_SSP) {
		printf("BENCH node_rss_after_%zu_transfers %.1f MiB\n", opt.ntx,
		       (double)rss_kb / 1024);
		printf("BENCH node_rss_peak %.1f MiB\n", (double)hwm_kb / 1024);
	} else {
		printf("# [%s] node RSS after the %zu txs: %.1f MiB, peak %.1f MiB\n", kn, opt.ntx,
		       (double)rss_kb / 1024, (double)hwm_kb / 1024);
	}
	printf("# [%s] node RSS: %.1f MiB anonymous (heap), %.1f MiB file-backed (mostly LMDB's "
	       "memory map: page cache, reclaimable)\n",
	       kn, (double)anon_kb / 1024, (double)file_kb / 1024);
	if (rejected) {
		fprintf(stderr, "bench_transfer: error: %zu txs rejected:", rejected);
		for (unsigned c = 0; c < opt.conns; c++) {
			const char *k;
			json_t *v;
			json_object_foreach(cs[c].errnames, k, v)
			    fprintf(stderr, " %s x%lld", k, (long long)json_integer_value(v));
			if (cs[c].first_error[0])
				fprintf(stderr, " (first: %s)", cs[c].first_error);
		}
		fputc('\n', stderr);
		exit_code = 1;
	}
	if (status != 0) {
		fprintf(stderr,
		        "bench_transfer: error: the node did not exit cleanly (wait status %d)\n",
		        status);
		print_log_tail();
		exit_code = 1;
	}
	ssp_rpc_client_free(cl);
	for (unsigned c = 0; c < opt.conns; c++) {
		free(cs[c].idx);
		free(cs[c].bodies);
		json_decref(cs[c].errnames);
	}
	free(cs);
	free(th);
	free(blocks);
	free(sg.hex);
	free(sg.off);
	free(g_senders);
	pthread_barrier_destroy(&bar);
	remove_datadir();
	curl_global_cleanup();
	return exit_code;
}
