/*
 * ssp/store.h — the public API of libssp_store: a thin, strict wrapper over
 * LMDB. One environment per datadir, named tables, many concurrent read
 * transactions and one write transaction at a time. The chain writes a block
 * and all of its state changes in one write transaction, so a crash at any
 * moment leaves the last committed block whole.
 */
#ifndef SSP_STORE_H
#define SSP_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "ssp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssp_store ssp_store;
typedef struct ssp_txn ssp_txn; /* an LMDB transaction, read or write */
typedef unsigned ssp_table;     /* a named table handle, valid for the store's life */

typedef struct {
	size_t map_size;     /* bytes of address space to reserve; 0 = 256 GiB */
	unsigned max_tables; /* 0 = 64 */
	bool no_sync;        /* tests/benches only: skip fsync at commit */
} ssp_store_opts;

/*
 * Opens (creating) the LMDB environment in dir/chain.mdb. Clears stale
 * reader slots (mdb_reader_check). Fails with SSP_ERR_DBLOCKED when another
 * process holds the datadir's lock.
 */
SSP_WUR int ssp_store_open(ssp_store **out, const char *dir, const ssp_store_opts *o);
void ssp_store_close(ssp_store *s);

/* Opens or creates a named table; call during start-up, before other threads use the store. */
SSP_WUR int ssp_store_table(ssp_store *s, const char *name, ssp_table *out);

/*
 * Walks the whole file without trusting it, for a process that may die of it
 * (sspd runs it in a child, src/node/verify.c): every table named in the
 * table of tables must be one of `known` (n names) and open as a plain table
 * (no LMDB flags: ssp_store_table creates no other kind) holding as many
 * entries as its record says, and
 * every entry of every table must lie inside the file's used pages (a
 * damaged node flag or page number makes LMDB hand out a pointer anywhere in
 * the map: serving it later would fault). Creates nothing. *entries (may be
 * NULL): the entries seen. SSP_ERR_DBCORRUPT (logged) on any damage.
 */
SSP_WUR int ssp_store_check(ssp_store *s, const char *const *known, size_t n, uint64_t *entries);

/* Read transactions: any thread, many at once; results borrowed until ssp_txn_end. */
SSP_WUR int ssp_store_read(ssp_store *s, ssp_txn **out);
/* The single write transaction; only the owner thread. */
SSP_WUR int ssp_store_write(ssp_store *s, ssp_txn **out);

/*
 * Looks up a key. *val points into the map and stays valid until the txn
 * ends or (write txn) the next change. Returns 0 or SSP_ERR_NOTFOUND.
 */
SSP_WUR int ssp_txn_get(ssp_txn *t, ssp_table tb, const void *key, size_t klen, const void **val,
                        size_t *vlen);
SSP_WUR int ssp_txn_put(ssp_txn *t, ssp_table tb, const void *key, size_t klen, const void *val,
                        size_t vlen);
SSP_WUR int ssp_txn_del(ssp_txn *t, ssp_table tb, const void *key, size_t klen); /* NOTFOUND ok */

/*
 * Visits keys >= start (all keys when start is NULL) in byte order until the
 * callback returns non-zero (which is returned) or the table ends (0).
 */
typedef int (*ssp_txn_visit)(void *arg, const void *key, size_t klen, const void *val, size_t vlen);
SSP_WUR int ssp_txn_scan(ssp_txn *t, ssp_table tb, const void *start, size_t slen, ssp_txn_visit fn,
                         void *arg);

/* Bytes of pages a table uses (branch, leaf and overflow pages) as txn t sees it. */
SSP_WUR int ssp_txn_table_bytes(ssp_txn *t, ssp_table tb, uint64_t *bytes);

/* Commits a write txn (durable unless no_sync) and frees it, or on failure aborts it. */
SSP_WUR int ssp_txn_commit(ssp_txn *t);
/* Ends a read txn or aborts a write txn. */
void ssp_txn_end(ssp_txn *t);

#ifdef __cplusplus
}
#endif
#endif
