/*
 * store.c — the LMDB wrapper (store layer). One environment per datadir in
 * DIR/chain.mdb, guarded by an exclusive flock on DIR/LOCK so two nodes can
 * never share a datadir. Errors are mapped to ssp_err; a write transaction
 * that failed once is poisoned and can only be aborted.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ssp/store.h"

#define NEARLY_FULL ((uint64_t)1 << 20) /* free bytes under which a failed write is ENOSPC */

struct ssp_store {
	MDB_env *env;
	int lock_fd;
	char path[4096]; /* DIR/chain.mdb, for messages */
};

struct ssp_txn {
	MDB_txn *t;
	const ssp_store *s;
	int write;
	int err; /* sticky: a failed write poisons the txn */
};

static int map_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return SSP_ERR_NOTFOUND;
	case MDB_MAP_FULL:
		return SSP_ERR_MAPFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	/* LMDB blocks a txn after a page it could not find (the failure itself is
	 * not always returned, e.g. when a cursor refreshes a table's root) */
	case MDB_BAD_TXN:
		return SSP_ERR_DBCORRUPT;
	case MDB_VERSION_MISMATCH:
		return SSP_ERR_DBVERSION;
	case ENOMEM:
		return SSP_ERR_NOMEM;
	case MDB_KEYEXIST:
		return SSP_ERR_EXISTS;
	case MDB_BAD_VALSIZE:
		return SSP_ERR_TOOBIG;
	case ENOSPC:
	case EDQUOT:
		return SSP_ERR_NOSPACE;
	default:
		return SSP_ERR_IO;
	}
}

/*
 * A file shorter than LMDB's last used page would be mapped past its end,
 * and the first access there is a SIGBUS: refuse it at open instead.
 */
static int check_size(MDB_env *env, const char *path)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fs;
	if (mdb_env_info(env, &info) || mdb_env_stat(env, &st) || stat(path, &fs)) {
		SSP_LOGE("store", "cannot inspect %s", path);
		return SSP_ERR_IO;
	}
	unsigned long long need = ((unsigned long long)info.me_last_pgno + 1) * st.ms_psize;
	if ((unsigned long long)fs.st_size < need) {
		SSP_LOGE(
		    "store",
		    "database corrupt: %s is truncated (%lld bytes, its last page ends at %llu)",
		    path, (long long)fs.st_size, need);
		return SSP_ERR_DBCORRUPT;
	}
	return 0;
}

int ssp_store_open(ssp_store **out, const char *dir, const ssp_store_opts *o)
{
	ssp_store *s = NULL;
	char path[4096];
	int rc, dead = 0;
	*out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		SSP_LOGE("store", "cannot create %s: %s", dir, strerror(errno));
		return SSP_ERR_IO;
	}
	s = ssp_calloc(1, sizeof *s);
	if (!s) return SSP_ERR_NOMEM;
	s->lock_fd = -1;
	snprintf(path, sizeof path, "%s/LOCK", dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		SSP_LOGE("store", "cannot open %s: %s", path, strerror(errno));
		rc = SSP_ERR_IO;
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = SSP_ERR_DBLOCKED;
		goto fail;
	}
	rc = mdb_env_create(&s->env);
	if (rc) goto fail_mdb;
	size_t map = o && o->map_size ? o->map_size : (size_t)256 << 30;
	unsigned maxdbs = o && o->max_tables ? o->max_tables : 64;
	if ((rc = mdb_env_set_mapsize(s->env, map)) || (rc = mdb_env_set_maxdbs(s->env, maxdbs)) ||
	    (rc = mdb_env_set_maxreaders(s->env, 256)))
		goto fail_mdb;
	unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NORDAHEAD;
	if (o && o->no_sync) flags |= MDB_NOSYNC;
	snprintf(path, sizeof path, "%s/chain.mdb", dir);
	snprintf(s->path, sizeof s->path, "%s", path);
	rc = mdb_env_open(s->env, path, flags, 0600);
	if (rc) goto fail_mdb;
	rc = check_size(s->env, path);
	if (rc) goto fail;
	rc = mdb_reader_check(s->env, &dead);
	if (rc) goto fail_mdb;
	if (dead) SSP_LOGI("store", "cleared %d stale reader slot(s)", dead);
	*out = s;
	return 0;
fail_mdb:
	SSP_LOGE("store", "%s: %s", path, mdb_strerror(rc));
	rc = map_err(rc);
fail:
	ssp_store_close(s);
	return rc;
}

typedef struct {
	uintptr_t base; /* the map, as the first leaf page seen places it (0: none yet) */
	size_t psize;
	uint64_t npages; /* used pages: me_last_pgno + 1 */
	uint64_t entries;
} walk_bounds;

/*
 * Whether an entry lies inside the file's used pages. LMDB does not say
 * where its map is (me_mapaddr is only set for a fixed map), so each leaf
 * page places it: a key lies in its leaf page, whose header names its page
 * number, and every page must agree on where page 0 is. An inline value
 * lies in the same page; a big one at the start of an overflow page.
 */
static bool entry_in_file(walk_bounds *b, const MDB_val *k, const MDB_val *v)
{
	uintptr_t kp = (uintptr_t)k->mv_data, vp = (uintptr_t)v->mv_data;
	uintptr_t page = kp & ~(uintptr_t)(b->psize - 1);
	uint64_t pgno;
	memcpy(&pgno, (const void *)page, sizeof pgno); /* the page header's mp_pgno */
	if (pgno >= b->npages || page < pgno * b->psize) return false;
	uintptr_t base = page - pgno * b->psize, end = base + b->npages * b->psize;
	if (!b->base) b->base = base;
	if (base != b->base || k->mv_size > page + b->psize - kp) return false;
	if (vp >= page && vp <= page + b->psize) return v->mv_size <= page + b->psize - vp;
	return vp >= base + 16 && vp < end && (vp - base) % b->psize == 16 &&
	       v->mv_size <= end - vp;
}

/* Visits every entry of dbi; MDB_CORRUPTED when one lies outside the used pages. */
static int walk_table(MDB_txn *t, MDB_dbi dbi, walk_bounds *b, const char *name, const char *path)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t, dbi, &c);
	if (rc) return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (!rc) {
		if (!entry_in_file(b, &k, &v)) {
			SSP_LOGE("store", "database corrupt: %s: an entry of table %s lies outside the "
			         "file (a damaged page)", path, name);
			rc = MDB_CORRUPTED;
			break;
		}
		b->entries++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int ssp_store_check(ssp_store *s, const char *const *known, size_t n, uint64_t *entries)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_dbi main_dbi;
	MDB_val k, v;
	char name[256];
	int rc;
	if ((rc = mdb_env_info(s->env, &info)) || (rc = mdb_env_stat(s->env, &st)))
		return map_err(rc);
	walk_bounds b = {.psize = st.ms_psize, .npages = (uint64_t)info.me_last_pgno + 1};
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t))) return map_err(rc);
	rc = mdb_dbi_open(t, NULL, 0, &main_dbi);
	if (!rc) rc = walk_table(t, main_dbi, &b, "(tables)", s->path);
	if (!rc) rc = mdb_cursor_open(t, main_dbi, &c);
	if (!rc) rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (!rc) {
		size_t i = 0;
		if (k.mv_size < sizeof name) {
			memcpy(name, k.mv_data, k.mv_size);
			name[k.mv_size] = 0;
			for (i = 0; i < n && strcmp(name, known[i]); i++)
				;
		}
		if (k.mv_size >= sizeof name || i == n || memchr(k.mv_data, 0, k.mv_size)) {
			SSP_LOGE("store", "database corrupt: %s: the table of tables names an unknown "
			         "table (a damaged page)", s->path);
			rc = MDB_CORRUPTED;
			break;
		}
		/*
		 * The table's record (LMDB's MDB_db: u32 pad, u16 flags, u16 depth, u64 branch,
		 * leaf and overflow pages, u64 entries, u64 root). ssp_store_table creates plain
		 * tables: pad and flags are 0 (any flag is damage, even the duplicate-sort ones
		 * that would change nothing on a table without duplicates), and the entries
		 * LMDB counts must be those the walk finds.
		 */
		uint32_t pad = 1;
		uint16_t flags = 1;
		uint64_t counted = 0, before = b.entries;
		if (v.mv_size == 48) {
			memcpy(&pad, v.mv_data, 4);
			memcpy(&flags, (const char *)v.mv_data + 4, 2);
			memcpy(&counted, (const char *)v.mv_data + 32, 8);
		}
		if (pad || flags) {
			SSP_LOGE("store", "database corrupt: %s: table %s has flags 0x%x (a damaged page)",
			         s->path, name, (unsigned)flags);
			rc = MDB_CORRUPTED;
			break;
		}
		MDB_dbi dbi;
		rc = mdb_dbi_open(t, name, 0, &dbi);
		if (!rc) rc = walk_table(t, dbi, &b, name, s->path);
		if (!rc && b.entries - before != counted) {
			SSP_LOGE("store", "database corrupt: %s: table %s holds %llu entries, its record "
			         "says %llu (a damaged page)", s->path, name,
			         (unsigned long long)(b.entries - before), (unsigned long long)counted);
			rc = MDB_CORRUPTED;
			break;
		}
		if (rc) {
			if (rc != MDB_CORRUPTED)
				SSP_LOGE("store", "database corrupt: %s: table %s: %s", s->path, name,
				         mdb_strerror(rc));
			rc = rc == ENOMEM ? rc : MDB_CORRUPTED;
			break;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (c) mdb_cursor_close(c);
	mdb_txn_abort(t);
	if (rc == MDB_NOTFOUND) rc = 0;
	if (rc && rc != MDB_CORRUPTED && rc != ENOMEM)
		SSP_LOGE("store", "database corrupt: %s: %s", s->path, mdb_strerror(rc));
	if (entries) *entries = b.entries;
	return rc == ENOMEM ? SSP_ERR_NOMEM : rc ? SSP_ERR_DBCORRUPT : 0;
}

void ssp_store_close(ssp_store *s)
{
	if (!s) return;
	if (s->env) mdb_env_close(s->env);
	if (s->lock_fd >= 0) close(s->lock_fd);
	free(s);
}

int ssp_store_table(ssp_store *s, const char *name, ssp_table *out)
{
	MDB_txn *t;
	MDB_dbi dbi;
	int rc = mdb_txn_begin(s->env, NULL, 0, &t);
	if (rc) return map_err(rc);
	rc = mdb_dbi_open(t, name, MDB_CREATE, &dbi);
	if (rc) {
		mdb_txn_abort(t);
		return map_err(rc);
	}
	rc = mdb_txn_commit(t);
	if (rc) return map_err(rc);
	*out = dbi;
	return 0;
}

static int txn_begin(ssp_store *s, ssp_txn **out, int write)
{
	ssp_txn *x = ssp_calloc(1, sizeof *x);
	if (!x) return SSP_ERR_NOMEM;
	int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &x->t);
	if (rc) {
		free(x);
		return map_err(rc);
	}
	x->write = write;
	x->s = s;
	*out = x;
	return 0;
}

int ssp_store_read(ssp_store *s, ssp_txn **out)
{
	return txn_begin(s, out, 0);
}

int ssp_store_write(ssp_store *s, ssp_txn **out)
{
	return txn_begin(s, out, 1);
}

int ssp_txn_get(ssp_txn *t, ssp_table tb, const void *key, size_t klen, const void **val,
                size_t *vlen)
{
	MDB_val k = {klen, (void *)key}, v;
	if (t->err) return t->err;
	int rc = mdb_get(t->t, tb, &k, &v);
	if (rc) return map_err(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int ssp_txn_put(ssp_txn *t, ssp_table tb, const void *key, size_t klen, const void *val,
                size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	if (t->err) return t->err;
	int rc = ssp_fault_hit(SSP_FAULT_WRITE) ? EIO : mdb_put(t->t, tb, &k, &v, 0);
	if (rc) t->err = map_err(rc);
	return t->err;
}

int ssp_txn_table_bytes(ssp_txn *t, ssp_table tb, uint64_t *bytes)
{
	MDB_stat st;
	int rc = mdb_stat(t->t, tb, &st);
	if (rc) return map_err(rc);
	*bytes = (uint64_t)st.ms_psize * (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages);
	return 0;
}

int ssp_txn_del(ssp_txn *t, ssp_table tb, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	if (t->err) return t->err;
	int rc = ssp_fault_hit(SSP_FAULT_WRITE) ? EIO : mdb_del(t->t, tb, &k, NULL);
	if (rc == MDB_NOTFOUND) return 0;
	if (rc) t->err = map_err(rc);
	return t->err;
}

int ssp_txn_scan(ssp_txn *t, ssp_table tb, const void *start, size_t slen, ssp_txn_visit fn,
                 void *arg)
{
	MDB_cursor *c;
	MDB_val k = {slen, (void *)start}, v;
	if (t->err) return t->err;
	int rc = mdb_cursor_open(t->t, tb, &c);
	if (rc) return map_err(rc);
	rc = mdb_cursor_get(c, &k, &v, start ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		int r = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r) {
			mdb_cursor_close(c);
			return r;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : map_err(rc);
}

/* Bytes free for us on the filesystem holding path; UINT64_MAX if unknown. */
static uint64_t free_bytes(const char *path)
{
	struct statvfs v;
	return statvfs(path, &v) == 0 ? (uint64_t)v.f_bavail * v.f_frsize : UINT64_MAX;
}

/*
 * Maps a failed commit, naming the cause and the file. LMDB reports a short
 * write — what a full filesystem gives — as EIO, so an EIO with (almost)
 * nothing left free is a full disk too: "no space left on device", not a
 * bare "I/O error" that sends the operator looking for a broken drive.
 */
static int commit_err(const ssp_store *s, int rc)
{
	if (!rc || rc == MDB_MAP_FULL) return map_err(rc);
	if (rc == EIO && free_bytes(s->path) < NEARLY_FULL) rc = ENOSPC;
	SSP_LOGE("store", "cannot commit to %s: %s", s->path, mdb_strerror(rc));
	return map_err(rc);
}

int ssp_txn_commit(ssp_txn *t)
{
	int rc;
	if (t->err) {
		rc = t->err;
		mdb_txn_abort(t->t);
	} else if (ssp_fault_hit(SSP_FAULT_WRITE)) {
		rc = SSP_ERR_IO; /* an injected failed commit: nothing reaches the disk */
		mdb_txn_abort(t->t);
	} else {
		rc = commit_err(t->s, mdb_txn_commit(t->t));
	}
	free(t);
	return rc;
}

void ssp_txn_end(ssp_txn *t)
{
	if (!t) return;
	mdb_txn_abort(t->t);
	free(t);
}
