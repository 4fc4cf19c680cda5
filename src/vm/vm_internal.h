/*
 * vm_internal.h — private declarations of libssp_vm (the contract VM, "LVM").
 * Shared by the files of src/vm/ only: per-state and per-call contexts, the
 * gas table, the limits, and the entry points each file offers the others.
 * See docs/internals/vm.md for the design and docs/contracts.md for the
 * rules contracts see.
 */
#ifndef SSP_VM_INTERNAL_H
#define SSP_VM_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <setjmp.h>

#include "ssp/vm.h"

/* Gas counts VM instructions of exactly this release (ARCHITECTURE §7). */
#if LUA_VERSION_NUM != 504 || LUA_VERSION_RELEASE_NUM != 50404
#error "libssp_vm is calibrated on Lua 5.4.4 only: gas would differ on another release"
#endif
_Static_assert(sizeof(void *) == 8 && sizeof(lua_Integer) == 8, "64-bit hosts only");

/* ------------------------------------------------------------- gas table */
/* 1 gas ~ one Lua VM instruction. Documented in docs/contracts.md "Gas". */
#define VM_HOOK_CHUNK 1000     /* instructions per count-hook firing, charged when it fires */
#define VM_GAS_INSTR 3 /* gas per VM instruction (was 1: computation ran at 1/3 of host work per CPU-s) */
#define VM_GAS_CALL_BASE 3000 /* every ssp_vm_call (covers the unmetered last partial chunk) */
#define VM_GAS_CODE_SHIFT 6    /* + 1 per 64 bytes of source, every call */
#define VM_GAS_ALLOC_SHIFT 6   /* 1 per 64 bytes of new objects (rounded up per object) */
#define VM_GAS_LSTR_SHIFT 3    /* 1 per 8 bytes of a new long string (Lua hashes it once) */
#define VM_GAS_BYTES_SHIFT 4   /* string work: 1 per 16 bytes produced or scanned */
#define VM_GAS_CONV_SHIFT 2    /* string->number conversions: 1 per 4 bytes */
#define VM_GAS_CODEC_SHIFT 3   /* canonical encode/decode: 1 per 8 bytes */
#define VM_GAS_PATTERN_STEPS 1 /* pattern matcher: 1 per step */
#define VM_GAS_ELEM 1          /* per element moved by table functions / iteration snapshots */
#define VM_GAS_LEN_PROBE 2     /* per t[k] read by the border search of '#' */
/*
 * A float written as text, by any path (tostring, string.format, `..`, a
 * number coerced to a string): glibc converts the exact binary value, so
 * the work grows with the binary exponent as well as with the digits.
 * Charged by numfmt.c's printf handler, on the length the spec gives.
 */
#define VM_GAS_FLOAT_TEXT 16 /* + |binary exponent| / 4 + 2 per byte */
#define VM_GAS_FLOAT_EXP_DIV 4
#define VM_GAS_FLOAT_TEXT_B 2
/*
 * Comparisons and concatenations, rewritten at deploy into calls (rewrite.c
 * pass 2, ops.c): the call pays for what the VM instruction does in time
 * proportional to its operands.
 */
#define VM_GAS_CMP 6       /* per comparison call (`==` `~=` `<` `<=` `>` `>=`) */
#define VM_GAS_CMP_SHIFT 5 /* + 1 per 32 bytes of the shorter string compared */
#define VM_GAS_CAT 4       /* per concatenation (one `a .. b .. c` chain) */
#define VM_GAS_CAT_OP 20   /* + per operand (a number's text, the copy) */
#define VM_GAS_ENV 20           /* ssp.sender/origin/self/value/height/time */
#define VM_GAS_SHA256 60        /* + 1 per 4 bytes */
#define VM_GAS_VERIFY 15000     /* + 1 per 4 bytes of message */
#define VM_GAS_STORAGE_GET 200  /* + 1 per byte of key and value */
#define VM_GAS_STORAGE_SET 2000 /* + 10 per byte of key and value */
#define VM_GAS_STORAGE_SET_B 10
#define VM_GAS_STORAGE_DEL 500 /* + 1 per byte of key */
#define VM_GAS_EMIT 500        /* + 6 per byte of name and fields */
#define VM_GAS_EMIT_B 6
/* per byte of a transaction's encoded return value (kept in its receipt) */
#define VM_GAS_RET_B 6
#define VM_GAS_BALANCE 200
#define VM_GAS_TRANSFER 2000
#define VM_GAS_CALL 2000  /* + 1 per byte of args and return value, + the callee's gas */
#define VM_GAS_TOKEN 2000 /* + 1 per byte of args and return value */

/* ---------------------------------------------------------------- limits */
#define VM_STRING_MAX (16 * 1024)        /* any Lua string */
#define VM_MULTRET_MAX 256               /* values from unpack/byte/...; varargs per call */
#define VM_LUA_DEPTH_MAX 200             /* Lua call frames (checked by the count hook) */
#define VM_META_CHAIN_MAX 8              /* __index / __newindex table chains */
#define VM_KEY_MAX 256                   /* storage keys */
#define VM_STORAGE_VALUE_MAX (64 * 1024) /* encoded storage values */
#define VM_EVENT_MAX (16 * 1024)         /* encoded event fields */
#define VM_EVENT_NAME_MAX 64
#define VM_VALUE_MAX (1024 * 1024) /* encoded args / return values */
#define VM_MEM_DEFAULT (32u * 1024 * 1024)
#define VM_DEPTH_DEFAULT 8
#define VM_POOL_DEFAULT 16
#define VM_PHYS_FACTOR 4                  /* node-local live-memory cap = 4 x mem_limit */
#define VM_WORK_BASE (256u * 1024 * 1024) /* node-local cumulative allocation: base + */
#define VM_WORK_PER_GAS 64                /* 64 bytes per gas of the limit */
#define VM_FREE_BASE (64u * 1024) /* node-local: new uncharged blocks of >= 256 bytes (table */
#define VM_FREE_PER_GAS 32        /* parts) <= 64 KiB + the largest + 32 x gas used */
#define VM_FREE_MIN 256
/*
 * node-local: same-size rehashes (a new block of >= 96 bytes freed against
 * one of its size at once: a table rehashed into a hash part of the size it
 * had, i.e. delete/insert churn) <= 4 KiB + twice the largest such block
 * (an occasional rehash of the biggest table) + 2 bytes per gas used
 */
#define VM_CHURN_BASE (4u * 1024)
#define VM_CHURN_PER_GAS 2
#define VM_CHURN_MIN 96
#define VM_VALIDATE_SLACK 2 /* the caps x2 when validating another's block */
#define VM_COMPILE_MEM (256u * 1024 * 1024)
#define VM_CACHE_ENTRIES 256              /* compiled chunks kept per lua_State */
#define VM_CACHE_BYTES (8u * 1024 * 1024) /* total source bytes behind them */

/* Why a call was aborted (sticky, uncatchable by pcall). */
enum {
	VM_ABORT_NONE = 0,
	/* consensus outcomes: the status is one of SSP_ERR_VM_* */
	VM_ABORT_STATUS = 1,
	/* node-local resource limit: not a consensus result, ssp_vm_call returns an error */
	VM_ABORT_NODE = 2,
};

enum { VM_PHASE_TOP = 1, VM_PHASE_RUN = 2 };
enum { VM_MODE_CHECK = 0 }; /* besides SSP_VM_MODE_INIT/CALL/VIEW */

typedef struct vm_state vm_state;

/* One running contract call (ssp_vm_call or ssp_vm_check). */
typedef struct vm_call {
	vm_state *st;
	const ssp_vm_host *host; /* NULL in check mode */
	int mode, phase;
	uint64_t gas_limit, gas_used;
	uint64_t obj_used, obj_limit;   /* objective memory: bytes of new objects */
	uint64_t work_used, work_limit; /* node-local: cumulative bytes allocated */
	uint64_t free_used;             /* node-local: cumulative uncharged bytes allocated */
	uint64_t free_max;              /* node-local: the largest of those blocks */
	uint64_t churn_used;            /* node-local: bytes of same-size rehashes */
	uint64_t churn_max;             /* node-local: the largest of those blocks */
	size_t churn_armed;             /* size of the new block just allocated, or 0 */
	bool after_table;               /* the last event allocated a table object */
	unsigned slack;                 /* VM_VALIDATE_SLACK when validating, else 1 */
	size_t phys_limit;              /* node-local: live bytes of the lua_State */
	bool validating; /* node-local caps x VM_VALIDATE_SLACK (ssp_vm_host.validating) */
	bool top;        /* the outermost call: its return value is kept in the receipt */
	int abort;       /* VM_ABORT_* */
	int status;      /* SSP_ERR_VM_* when abort == STATUS */
	int node_err;    /* ssp_err when abort == NODE */
	char msg[200];   /* message of an abort */
	ssp_buf ret;     /* encoded return value */
} vm_call;

/* A warm lua_State with the sandbox built, owned by the pool of one ssp_vm. */
struct vm_state {
	lua_State *L;
	ssp_vm *vm;
	vm_state *next;
	size_t inuse;  /* live bytes allocated by this state */
	int metering;  /* allocation accounting on (a call is running) */
	int compiling; /* lua_load running: literal size and compile memory checks */
	int broken;    /* a panic happened: never reuse, never lua_close */
	vm_call *call; /* the running call, or NULL */
	unsigned cache_n;
	size_t cache_bytes;
	ssp_buf io;  /* scratch for host results; owned here so a Lua error cannot leak it */
	ssp_buf enc; /* scratch for encoding values */
	jmp_buf panic_jmp;
	int panic_armed;
};

typedef struct {
	ssp_addr self;
	vm_call *call;
} vm_frame;

struct ssp_vm {
	size_t mem_limit;
	unsigned max_depth, pool_size;
	vm_state *pool;
	unsigned pooled;
	unsigned long states_created;
	size_t shortstr_alloc; /* allocation size of a 40-byte (longest interned) string */
	vm_frame frames[64];
	unsigned nframes;
	/*
	 * Test-only switch: when set, calls run without the instruction count /
	 * call hook, so no per-instruction gas and no Lua depth or vararg bound
	 * (allocation accounting and C-function charges stay). Only
	 * bench/bench_vm.c sets it, to measure what the hook costs; the node and
	 * the CLI never do, and no public API reaches it.
	 */
	int bench_no_hook;
};

/* ---------------------------------------------------------------- gas.c */
void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
void vm_hook(lua_State *L, lua_Debug *ar);
vm_call *vm_cur(lua_State *L); /* the running call; raises if none (misuse) */
/* Adds gas; on exhaustion aborts the call (uncatchable) and raises. */
void vm_charge(lua_State *L, uint64_t gas);
void vm_charge_bytes(lua_State *L, size_t n, int shift);
/* Gas of writing the float x as len bytes of text (VM_GAS_FLOAT_TEXT). */
uint64_t vm_float_text_gas(lua_Number x, size_t len);
/*
 * Adds gas without raising (for code that must not longjmp): 0, or -1 when
 * the limit is passed; the call is then aborted and the next hook firing
 * or host function raises.
 */
int vm_add_gas(vm_call *c, uint64_t gas);
/* Records an abort (first one wins) without raising. */
void vm_set_abort(vm_call *c, int kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Raises the abort sentinel; the hook and the pcall wrappers keep re-raising it. */
_Noreturn void vm_throw(lua_State *L);
_Noreturn void vm_fail(lua_State *L, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vm_check_abort(lua_State *L); /* raises if the call is aborted */
int vm_pcall_wrap(lua_State *L);
int vm_xpcall_wrap(lua_State *L);
/* Calls a stock C function (upvalue 1) after charging for string arguments. */
int vm_stock_wrap(lua_State *L);
void vm_push_stock(lua_State *L, lua_CFunction f);
extern const char vm_abort_key;

/* ------------------------------------------------------------ sandbox.c */
vm_state *vm_state_new(ssp_vm *vm);
/* lua_pcall(f, ud) with the panic handler armed; VM_PANIC if Lua panicked (state broken). */
#define VM_PANIC (-1)
int vm_protected(vm_state *s, lua_CFunction f, void *ud);
void vm_state_free(vm_state *s);
/* Pushes a fresh globals table for one call (its __index is the library). */
void vm_push_env(lua_State *L);
/* Read-only proxy marker, checked by rawset. */
int vm_is_readonly(lua_State *L, int idx);
/* Registry keys of per-call tables (cleared after each call). */
extern const char vm_key_abi, vm_key_up_index, vm_key_up_newindex, vm_key_cache;
void vm_clear_call_tables(lua_State *L);
/* Strict integer argument: numbers only (no string coercion). */
lua_Integer vm_checkint(lua_State *L, int arg);
lua_Integer vm_optint(lua_State *L, int arg, lua_Integer def);

/* --------------------------------------------------------------- base.c */
void vm_open_base(lua_State *L, int lib);
/* tostring without addresses; pushes the result. */
void vm_tostring(lua_State *L, int idx);
/*
 * #v as an integer (luaL_len semantics) with a deterministic border for
 * tables: what `#` and the table library use instead of Lua's own.
 */
lua_Integer vm_len(lua_State *L, int idx);
/* Names starting so are reserved for the rewrite (rewrite.c); contracts may not use them. */
#define VM_RESERVED_PREFIX "__ssp_"
/* The global `#v` is rewritten to call (a name contracts may not use). */
#define VM_LEN_NAME "__ssp_len"
#define VM_LEN_NEST_MAX 64 /* '#' operators nested inside one another's operand */

/* ---------------------------------------------------------------- ops.c */
/* LIB.__ssp_eq/ne/lt/le/gt/ge/cat: what comparisons and `..` are rewritten to. */
void vm_open_ops(lua_State *L, int lib);
/*
 * a < b for the values at a and b with the operator's semantics (numbers,
 * strings by bytes, __lt, Lua's error); strings are charged by length, the
 * comparison itself is not (table.sort charges per element). May raise.
 */
int vm_less(lua_State *L, int a, int b);
/* Once per process: whether liblua falls back to __lt for <= (LUA_COMPAT_LT_LE). */
void vm_ops_init(void);

/* ------------------------------------------------------------- strlib.c */
void vm_open_string(lua_State *L, int lib, int strmeta_idx);

/* ------------------------------------------------------------ pattern.c */
int vm_str_find(lua_State *L);
int vm_str_match(lua_State *L);
int vm_str_gmatch(lua_State *L);
int vm_str_gsub(lua_State *L);

/* ------------------------------------------------------------- tablib.c */
void vm_open_table(lua_State *L, int lib);

/* ------------------------------------------------------------ mathlib.c */
void vm_open_math(lua_State *L, int lib);
void vm_open_utf8(lua_State *L, int lib);

/* ------------------------------------------------------------- numfmt.c */
/*
 * Installs (once per process) the printf conversions that print every NaN
 * as a positive one, and checks them: 0, or SSP_ERR_INTERNAL when the C
 * library does not honour them. Called by ssp_vm_new; thread-safe.
 */
int vm_numfmt_init(void) __attribute__((warn_unused_result));
/* The state whose call is running on this thread: its float text is charged (numfmt.c). */
extern _Thread_local vm_state *vm_fmt_state;
/* The one NaN string.pack writes: positive, quiet, no payload. */
lua_Number vm_canonical_nan(void);

/* ------------------------------------------------------------- bridge.c */
/* Encodes the value at idx into b (reset first); aborts with VM_VALUE on a bad value. */
void vm_encode(lua_State *L, int idx, ssp_buf *b, size_t max, const char *what);
/* Pushes the decoded canonical value; aborts with VM_VALUE when malformed. */
void vm_decode(lua_State *L, const uint8_t *p, size_t n, const char *what);
/* Pushes decoded args (a table 1..n) as n values; returns n. */
int vm_push_args(lua_State *L, const uint8_t *p, size_t n);

/* --------------------------------------------------------------- host.c */
void vm_open_host(lua_State *L, int lib);

/* ---------------------------------------------------------------- abi.c */
void vm_open_abi(lua_State *L, int lib);
/* Kind bits of the global function at the top of the stack (0 when unmarked). */
int vm_abi_kind(lua_State *L, int fidx);
/* Fills abi from the env at env_idx after the top level ran; raises on a bad ABI. */
void vm_abi_collect(lua_State *L, int env_idx, ssp_vm_abi *abi);
int vm_abi_name_ok(const char *s, size_t n);

/* ------------------------------------------------------------ rewrite.c */
/*
 * Deploy-time source check and rewrite: rejects bytecode and the '^'
 * operator, wraps numeric-for bounds as (e)*1. Returns 0 with *out malloc'd
 * (caller frees) or SSP_ERR_VM_BYTECODE / SSP_ERR_VM_SYNTAX / SSP_ERR_NOMEM
 * with a one-line message in err.
 */
int vm_rewrite(const char *src, size_t n, char **out, size_t *outn, char *err, size_t errlen);
/* vm_rewrite's result for a source its parser does not follow (Lua reports the syntax error). */
#define VM_REWRITE_UNPARSED 1

/* ----------------------------------------------------------------- vm.c */
/* Test hooks: lua_newstate calls so far, and the gas of the built-in calibration contract. */
unsigned long ssp_vm_states_created(const ssp_vm *vm);
int ssp_vm_selftest(ssp_vm *vm, uint64_t *gas);
#define VM_SELFTEST_GAS 393032ULL /* golden figure for Lua 5.4.4 (see vm.c) */

#endif
