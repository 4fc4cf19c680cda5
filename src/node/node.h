/*
 * node.h — the node daemon's private interface (node layer): configuration,
 * the node object owned by its libuv loop, the job queue through which RPC
 * threads reach the loop, the verify worker pool and the RPC method table.
 */
#ifndef SSP_NODE_H
#define SSP_NODE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <uv.h>

#include "ssp/chain.h"
#include "node/db.h"
#include "ssp/consensus.h"
#include "ssp/modules.h"
#include "ssp/net.h"
#include "ssp/rpc.h"

typedef struct {
	bool dev;
	char datadir[1024];
	char rpc_listen[128];
	char genesis[1024];
	char producer_key[1024];
	char reporter_key[1024]; /* keystore signing evidence txs ("": the producer key) */
	char follow[512]; /* follower mode: another node's RPC URL to pull blocks from */
	ssp_log_format log_format;
	ssp_log_level log_level;
	bool check_invariants;
	bool no_sync; /* benches only */
	unsigned rpc_threads;
	unsigned rpc_max_conns, rpc_conns_per_ip, rpc_request_ms; /* 0: the RPC defaults */
	size_t mempool_max;
	size_t rpc_max_body;
	unsigned verify_threads;
	size_t map_size;       /* bytes; 0 = store default */
	bool reinit;           /* accept an empty or missing database beside an existing identity */
	char verify_db[1024];  /* --verify-db DIR: check offline, do not run a node */
	long exec_budget_ms;   /* producer's execution budget per block; -1: the chain's default */
	char rpc_cors[1024];   /* --rpc-cors: allowed browser origins, comma-separated */
	unsigned dev_accounts; /* --dev: funded accounts of a new devnet (dev, dev1 …); 0 = 10 */
	bool reset;            /* --dev --reset: delete the devnet's chain and keys first */
	/* the P2P network (net_glue.c) */
	char p2p_listen[128];
#define SSP_NODE_PEERS_MAX 32
	char peers[SSP_NODE_PEERS_MAX][128];
	size_t npeers;
	unsigned p2p_max_inbound, p2p_max_outbound;
} ssp_node_config;

/* Parses argv (and the --config INI file; flags win). Prints usage/errors; returns 0, 1 (a usage
 * error: sspd exits 2) or
 * 2 (help). */
int ssp_node_config_parse(ssp_node_config *cfg, int argc, char **argv);

/* ------------------------------------------------------------------- jobs */

enum { JOB_SUBMIT, JOB_TX_STATUS, JOB_ACCOUNT_PENDING, JOB_MEMPOOL_INFO, JOB_NET_INFO };

typedef struct {
	const uint8_t *raw;
	size_t len;
	ssp_tx tx; /* decoded and checked by the RPC thread (borrows raw) when !err */
	bool verified;
	int err;
	ssp_hash txid;
} job_tx;

typedef struct job {
	int kind;
	job_tx *txs;
	size_t ntx;
	size_t at; /* SUBMIT: txs admitted so far (a big batch takes several turns of the loop) */
	ssp_hash txid;       /* TX_STATUS */
	ssp_addr addr;       /* ACCOUNT_PENDING */
	int status;          /* TX_STATUS: 1 pending, <0 rejected with error, 0 unknown */
	uint64_t nonce;      /* ACCOUNT_PENDING */
	size_t count, bytes; /* MEMPOOL_INFO */
	int err;             /* the job as a whole, e.g. SSP_ERR_BUSY while stopping */
	json_t *info, *peers; /* NET_INFO (new references) */
	sem_t done;
	struct job *next;
} job;

typedef struct ssp_node {
	ssp_node_config cfg;
	ssp_genesis *genesis;
	ssp_store *store;
	ssp_chain *chain;
	ssp_mempool *mempool;
	ssp_rpc_server *rpc;
	ssp_workpool *verify;
	bool producing;
	char not_producing[256]; /* why not, for the banner and /health ("" when producing) */
	bool should_produce; /* it was given a producer key (or --dev): not producing is a fault */
	int rpc_fd;          /* the RPC socket bound first thing (-1 once the server owns it) */
	_Atomic uint64_t source_height; /* follower: the source's head height last seen */
	ssp_seckey producer;
	ssp_modset *modset;      /* the modules' per-chain states (the chain's tx types) */
	ssp_module_env menv[16]; /* one per module, the ctx of its RPC methods */
	size_t nmodules;
	ssp_rpc_method *methods; /* node's and modules', combined */
	char dev_address[96];
	char dev_keyfile[1200];
	char dev_accounts[100][2][96]; /* name, address of each funded dev account */
	size_t ndev_accounts;

	uv_loop_t loop;
	uv_async_t wake;
	uv_signal_t sigint, sigterm;

	pthread_mutex_t qlock;
	job *qhead, *qtail;
	size_t qlen;
	bool stopping;
	bool loop_ready;

	/* the producer thread (node.c) */
	pthread_t producer_thread;
	bool producer_started;
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	bool pstop;
	_Atomic int fatal; /* set by the producer on a fatal error; the loop stops the node */

	/* the WebSocket notifier (notify.c) */
	pthread_t notifier;
	bool notify_started, notify_init;
	pthread_mutex_t nlock;
	pthread_cond_t ncond;
	bool nstop, nkick;

	/* metrics, written by the loop, read by RPC threads */
	_Atomic uint64_t blocks_produced, blocks_imported, txs_included, last_commit_ns,
	    last_apply_ns, txs_admitted, txs_rejected;
	/* the network (net_glue.c): net lives on the loop; the chain thread imports what it fetched */
	ssp_net *net;
	ssp_rr *rr;               /* round-robin producers when the genesis lists a set */
	ssp_bftc *bft;            /* or the BFT consensus (a "bft" genesis object): chain thread */
	ssp_node_elector *elector; /* its elections (a "dpos" genesis object) */
	size_t nproducers;        /* the set's size (1: the single genesis producer) */
	struct {
		uint8_t raw[SSP_BFTC_VOTE_LEN];
		uint64_t peer, ms;
	} * vpend;                /* votes for blocks not here yet (chain thread), up to VPEND_MAX */
	size_t nvpend;
	uint64_t vpend_blocks;
	size_t vpend_evict; /* the consensus' blocks_added when the waiting votes were last tried */
	_Atomic uint64_t bft_final, bft_justified, bft_votes_ok, bft_votes_bad, bft_votes_made,
	    bft_qcs, bft_evidence;
	ssp_pubkey producer_pub;
	/* the evidence reporter (evidence.c): its state is the chain thread's */
	struct ssp_node_ev *ev;
	ssp_seckey reporter; /* --reporter-key, else a copy of the producer key */
	ssp_pubkey reporter_pub;
	ssp_addr reporter_addr;
	bool has_reporter;
	_Atomic uint64_t ev_submitted, ev_failed, ev_not_delegate;
	pthread_mutex_t hlock;    /* guards hsnap, the head as last committed, and sched */
	/* blocks off the chain the BFT consensus took (the fork database's; ring, under hlock):
	 * a peer whose head is one of them is not ahead (ssp_net_synced) */
	ssp_hash judged[256];
	unsigned njudged;
	ssp_net_head hsnap;
	/* the producers of the slots after the head, through the end of the next round, on the
	 * head's branch (chain thread, for dpos_getSchedule); sched_fixed: the next round's
	 * order is fixed (its seed window is over) */
	struct {
		uint64_t slot;
		ssp_addr producer;
	} sched[2 * SSP_GENESIS_PRODUCERS_MAX];
	size_t nsched;
	bool sched_fixed;
	ssp_hash sched_head;
	bool blocks_pending;      /* under plock: the net has blocks for the chain thread */
	uint64_t signed_slot;     /* chain thread: the last slot signed (meta signed_slot) */
	_Atomic uint64_t sync_lag;
	/* forks (net_glue.c): the fork database and its state are the chain thread's */
	ssp_forkdb *forks;
	bool forks_changed;
	uint64_t forks_checked_ms;
	struct {
		uint64_t peer, from, ms;
	} asked[16]; /* ancestor requests sent lately (not repeated within 2 s) */
	_Atomic uint64_t reorgs, reorg_depth_last, reorg_depth_max, reorg_txs_back, fork_blocks,
	    fork_refused;
	/*
	 * Propagation (net_glue.c): for blocks from peers imported while in sync,
	 * the time from the block's timestamp to its commit here, in ms: a
	 * histogram over net_glue.c's PROP_LE_MS upper bounds, then +Inf.
	 */
	_Atomic uint64_t prop_bucket[10], prop_sum_ms;

	int exit_code;
	char why[4096]; /* the reason start-up failed, for main's one-line error */
} ssp_node;

/* chain_getInfo's "consensus": kind, producers, and for BFT justification, finality, votes. */
json_t *ssp_node_consensus_json(ssp_node *n);

SSP_WUR int ssp_node_start(ssp_node *n);
/* Runs the loop until a signal or a fatal error; returns the exit code. */
int ssp_node_run(ssp_node *n);
void ssp_node_free(ssp_node *n);

/* Queues a job for the loop and waits for it. Returns 0 or SSP_ERR_BUSY. */
int ssp_node_job(ssp_node *n, job *j);
/*
 * The checks of a tx from outside (RPC or a peer) that take no lock, on any
 * thread: decoding into tx (borrowing raw; tx->txid stays zero if it does not
 * decode), the stateless checks and the signature, with the sender's key from
 * the tx or the chain. *verified says the signature was checked; a sender
 * whose key is not on the chain (SSP_ERR_NOKEY: it may come with a pending tx)
 * passes unverified, for the mempool to check on admission — unless a pending
 * tx of the sender carried its key, or `hint` (may be NULL) is that key (taken
 * from another tx received with this one; decoding checked it hashes to the
 * sender's address, and so does this tx's check: a hint for another sender is
 * not used).
 */
int ssp_node_tx_precheck(ssp_node *n, ssp_tx *tx, const uint8_t *raw, size_t len,
                         const ssp_pubkey *hint, bool *verified);


/*
 * An RPC thread read altered data (SSP_ERR_DBCORRUPT): the node must not go
 * on serving or building on it. Sets `fatal` and wakes the loop, which
 * stops the node with exit 1. Any thread.
 */
void ssp_node_corrupt(ssp_node *n);

/*
 * sspd --verify-db (verify.c): walks the chain in cfg->verify_db offline and
 * prints "ok" with counts or the first bad height. Returns the exit code.
 */
int ssp_node_verify_db(const ssp_node_config *cfg);
/*
 * Start-up probe (verify.c): walks the datadir's store whole
 * (ssp_store_check) and opens the chain in a child process first.
 * SSP_ERR_DBCORRUPT with *sig set when that child died of a signal inside
 * the store library (a damaged page LMDB followed blindly), or with *sig 0
 * when the walk found damage (logged); 0 otherwise (the real open then
 * reports any ordinary error itself).
 */
int ssp_node_probe_db(const char *dir, const ssp_genesis *g, size_t map_size, int *sig);

/* State-proof methods (rpc_proof.c); ctx is the node. */
int ssp_node_m_state_getProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err);
int ssp_node_m_account_getProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err);
int ssp_node_m_token_getBalanceProof(void *ctx, json_t *params, json_t **res, ssp_rpc_error *err);

/* WebSocket subscriptions (notify.c): the topics, the notifier thread that publishes each
 * committed block (kicked by the chain thread), and admission results for txStatus. */
const ssp_rpc_topic *ssp_node_topics(size_t *n);
SSP_WUR int ssp_node_notify_start(ssp_node *n);
void ssp_node_notify_kick(ssp_node *n);
void ssp_node_notify_stop(ssp_node *n);
void ssp_node_notify_admitted(ssp_node *n, const job *j);
/* The network glue (net_glue.c). */
SSP_WUR int ssp_node_net_start(ssp_node *n); /* after the chain and the loop are set up */
void *ssp_node_net_chain_main(void *arg);    /* the chain thread when the net runs */
void ssp_node_net_publish_head(ssp_node *n); /* chain thread (or before it starts) */
json_t *ssp_node_sync_json(ssp_node *n);
char *ssp_node_net_metrics(ssp_node *n);     /* malloc'd Prometheus text, "" without a net */
const ssp_rpc_method *ssp_node_net_methods(size_t *count);
/* Whether pk is in the producer set (genesis "producers", or the single producer). */
bool ssp_node_is_producer(const ssp_node *n, const ssp_pubkey *pk);

/* The evidence reporter (evidence.c). init/free: start and end of the node. */
SSP_WUR int ssp_node_evidence_init(ssp_node *n);
void ssp_node_evidence_free(ssp_node *n);
/* Chain thread, after each consensus step: turns the evidence found into slashing txs. */
void ssp_node_evidence_step(ssp_node *n);
/* Any thread: tx was admitted to the mempool from a peer or RPC; an evidence tx among
 * them keeps this node from reporting the same delegate again while it is pending. */
void ssp_node_evidence_seen(ssp_node *n, const ssp_tx *tx);

/* The RPC method table (rpc_methods.c). */
const ssp_rpc_method *ssp_node_methods(size_t *n);
char *ssp_node_metrics(void *ctx);
/* GET /health: 200 with a summary, 503 with the reason when the node is not healthy. */
int ssp_node_health(void *ctx, char **json);
extern const char ssp_openrpc_json[];

#endif
