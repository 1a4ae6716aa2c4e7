#include "dnnl_glue.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void init_engine(void) {
    dnnl_engine_create(&engine, dnnl_cpu, 0);
    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
}

dnnl_engine_t ck_engine(void) { pthread_once(&once, init_engine); return engine; }
dnnl_stream_t ck_stream(void) { pthread_once(&once, init_engine); return stream; }
// Recursive use never happens; one lock keeps the cache and scratch buffers consistent if
// several threads run kernels.
void ck_dnnl_lock(void) { pthread_mutex_lock(&lock); }
void ck_dnnl_unlock(void) { pthread_mutex_unlock(&lock); }

int ck_dnnl_fail(dnnl_status_t st, const char *what) {
    const char *reason = st == dnnl_out_of_memory ? "out of memory"
                       : st == dnnl_invalid_arguments ? "invalid arguments"
                       : st == dnnl_unimplemented ? "no implementation for these shapes"
                       : "runtime error";
    return ck_fail("oneDNN %s failed: %s (status %d)", what, reason, (int)st);
}

void ck_md_nchw(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w) {
    dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_nchw);
}

void ck_md_1d(dnnl_memory_desc_t *md, int64_t n) {
    dnnl_dims_t dims = {n};
    dnnl_memory_desc_init_by_tag(md, 1, dims, dnnl_f32, dnnl_a);
}

// ---- primitive cache -----------------------------------------------------------------------

#define CACHE_SIZE 512
static ck_prim_entry cache[CACHE_SIZE];
static int next_victim;

static void release(ck_prim_entry *e) {
    if (!e->used) return;
    for (int s = 0; s < e->nslots; s++)
        if (e->reorder[s]) dnnl_primitive_destroy(e->reorder[s]);
    dnnl_primitive_destroy(e->prim);
    dnnl_primitive_desc_destroy(e->pd);
    memset(e, 0, sizeof *e);
}

ck_prim_entry *ck_cache_find(const void *key, size_t key_size) {
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].used && cache[i].key_size == key_size && memcmp(cache[i].key, key, key_size) == 0)
            return &cache[i];
    return NULL;
}

dnnl_primitive_attr_t ck_attr_create(void) {
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    return attr;
}

ck_prim_entry *ck_cache_insert(const void *key, size_t key_size, dnnl_primitive_desc_t pd) {
    ck_prim_entry *e = NULL;
    for (int i = 0; i < CACHE_SIZE && !e; i++)
        if (!cache[i].used) e = &cache[i];
    if (!e) {
        e = &cache[next_victim];
        next_victim = (next_victim + 1) % CACHE_SIZE;
        release(e);
    }
    dnnl_primitive_t prim;
    dnnl_status_t st = dnnl_primitive_create(&prim, pd);
    if (st != dnnl_success) {
        dnnl_primitive_desc_destroy(pd);
        ck_dnnl_fail(st, "primitive creation");
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->used = 1;
    memcpy(e->key, key, key_size);
    e->key_size = key_size;
    e->pd = pd;
    e->prim = prim;
    const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (pad) {
        e->scratchpad = *pad;
        e->scratchpad_bytes = dnnl_memory_desc_get_size(pad);
    }
    return e;
}

int ck_entry_add_slot(ck_prim_entry *e, int arg, const dnnl_memory_desc_t *plain, dnnl_query_t query,
                      int is_output) {
    int s = e->nslots++;
    e->arg[s] = arg;
    e->is_output[s] = is_output;
    e->plain[s] = *plain;
    const dnnl_memory_desc_t *chosen = query ? dnnl_primitive_desc_query_md(e->pd, query, 0) : plain;
    e->chosen[s] = chosen ? *chosen : *plain;
    e->chosen_bytes[s] = dnnl_memory_desc_get_size(&e->chosen[s]);
    e->reorder[s] = NULL;
    if (!dnnl_memory_desc_equal(&e->plain[s], &e->chosen[s])) {
        dnnl_primitive_desc_t rpd;
        const dnnl_memory_desc_t *from = is_output ? &e->chosen[s] : &e->plain[s];
        const dnnl_memory_desc_t *to = is_output ? &e->plain[s] : &e->chosen[s];
        dnnl_status_t st = dnnl_reorder_primitive_desc_create(&rpd, from, ck_engine(), to, ck_engine(), NULL);
        if (st != dnnl_success) return ck_dnnl_fail(st, "reorder");
        st = dnnl_primitive_create(&e->reorder[s], rpd);
        dnnl_primitive_desc_destroy(rpd);
        if (st != dnnl_success) return ck_dnnl_fail(st, "reorder");
    }
    return 0;
}

// Grow-only buffers reused across calls (no allocation per operation): *buffer holds at least
// `bytes` afterwards, or is NULL when that much could not be had.
static void *grown(void **buffer, size_t *capacity, size_t bytes) {
    if (*capacity < bytes) {
        free(*buffer);
        size_t rounded = (bytes + 4095) & ~(size_t)4095;
        *buffer = aligned_alloc(64, rounded);
        *capacity = *buffer ? rounded : 0;
    }
    return *buffer;
}

// One scratch buffer per slot for the reorders, and one for the primitives' own workspaces.
static void *scratch[CK_DNNL_MAX_ARGS];
static size_t scratch_bytes[CK_DNNL_MAX_ARGS];
static void *scratchpad;
static size_t scratchpad_bytes;

static int reorder_run(dnnl_primitive_t r, const dnnl_memory_desc_t *from_md, void *from,
                       const dnnl_memory_desc_t *to_md, void *to) {
    dnnl_memory_t a, b;
    dnnl_memory_create(&a, from_md, ck_engine(), from);
    dnnl_memory_create(&b, to_md, ck_engine(), to);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
    dnnl_status_t st = dnnl_primitive_execute(r, ck_stream(), 2, args);
    dnnl_memory_destroy(a);
    dnnl_memory_destroy(b);
    return st == dnnl_success ? 0 : ck_dnnl_fail(st, "reorder");
}

// native: a bit per slot whose caller buffer is already in the primitive's layout (no reorder).
static int execute(ck_prim_entry *e, void *const *buffers, const char *what, int reuse_slot0, unsigned native) {
    void *bufs[CK_DNNL_MAX_ARGS];
    dnnl_memory_t mems[CK_DNNL_MAX_ARGS + 1];
    dnnl_exec_arg_t args[CK_DNNL_MAX_ARGS + 1];
    int rc = 0;
    for (int s = 0; s < e->nslots; s++) {
        bufs[s] = buffers[s];
        if (e->reorder[s] && !(native & (1u << s))) {
            bufs[s] = grown(&scratch[s], &scratch_bytes[s], e->chosen_bytes[s]);
            if (!bufs[s]) return ck_fail("%s: out of memory for a %zu-byte reorder buffer", what, e->chosen_bytes[s]);
            if (s == 0 && reuse_slot0) continue;
            if (!e->is_output[s] && (rc = reorder_run(e->reorder[s], &e->plain[s], buffers[s], &e->chosen[s], bufs[s])))
                return rc;
        }
    }
    int nargs = e->nslots;
    for (int s = 0; s < e->nslots; s++) {
        dnnl_memory_create(&mems[s], &e->chosen[s], ck_engine(), bufs[s]);
        args[s].arg = e->arg[s];
        args[s].memory = mems[s];
    }
    if (e->scratchpad_bytes > 0) {
        void *pad = grown(&scratchpad, &scratchpad_bytes, e->scratchpad_bytes);
        if (!pad) {
            for (int s = 0; s < nargs; s++) dnnl_memory_destroy(mems[s]);
            return ck_fail("%s: out of memory for a %zu-byte workspace", what, e->scratchpad_bytes);
        }
        dnnl_memory_create(&mems[nargs], &e->scratchpad, ck_engine(), pad);
        args[nargs].arg = DNNL_ARG_SCRATCHPAD;
        args[nargs].memory = mems[nargs];
        nargs++;
    }
    dnnl_status_t st = dnnl_primitive_execute(e->prim, ck_stream(), nargs, args);
    for (int s = 0; s < nargs; s++) dnnl_memory_destroy(mems[s]);
    if (st != dnnl_success) return ck_dnnl_fail(st, what);
    for (int s = 0; s < e->nslots; s++)
        if (e->reorder[s] && !(native & (1u << s)) && e->is_output[s] &&
            (rc = reorder_run(e->reorder[s], &e->chosen[s], bufs[s], &e->plain[s], buffers[s])))
            return rc;
    dnnl_stream_wait(ck_stream());
    return 0;
}

int ck_entry_execute(ck_prim_entry *e, void *const *buffers, const char *what) { return execute(e, buffers, what, 0, 0); }

int ck_entry_execute_reusing_slot0(ck_prim_entry *e, void *const *buffers, const char *what) {
    return execute(e, buffers, what, 1, 0);
}

int ck_entry_execute_native(ck_prim_entry *e, void *const *buffers, unsigned native, const char *what) {
    return execute(e, buffers, what, 0, native);
}

// ---- the 16-channel blocked layout ----------------------------------------------------------

void ck_md_blocked16(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w) {
    dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_nChw16c);
}

typedef struct {
    int tag;   // tells these keys from the kernels' own (their key structs are of other sizes too)
    int to_blocked;
    int64_t n, c, h, w;
} blocked_reorder_key;
_Static_assert(sizeof(blocked_reorder_key) <= sizeof(((ck_prim_entry *)0)->key), "reorder key does not fit");

int ck_reorder_blocked16(int to_blocked, int64_t n, int64_t c, int64_t h, int64_t w, const float *src, float *dst) {
    if (c % 16) return ck_fail("blocked layout: %lld channels are not a multiple of 16", (long long)c);
    blocked_reorder_key key;
    memset(&key, 0, sizeof key);
    key.tag = 0x726f7264;
    key.to_blocked = to_blocked != 0;
    key.n = n; key.c = c; key.h = h; key.w = w;
    dnnl_memory_desc_t plain, blocked;
    ck_md_nchw(&plain, n, c, h, w);
    ck_md_blocked16(&blocked, n, c, h, w);
    const dnnl_memory_desc_t *from = to_blocked ? &plain : &blocked, *to = to_blocked ? &blocked : &plain;
    ck_dnnl_lock();
    ck_prim_entry *e = ck_cache_find(&key, sizeof key);
    if (!e) {
        dnnl_primitive_desc_t pd;
        dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, ck_engine(), to, ck_engine(), NULL);
        if (st != dnnl_success) {
            ck_dnnl_unlock();
            return ck_dnnl_fail(st, "reorder");
        }
        e = ck_cache_insert(&key, sizeof key, pd);
    }
    int rc = e ? reorder_run(e->prim, from, (void *)src, to, dst) : 1;
    if (rc == 0) dnnl_stream_wait(ck_stream());
    ck_dnnl_unlock();
    return rc;
}

int ck_entry_slot0_shared(const ck_prim_entry *a, const ck_prim_entry *b) {
    return a->nslots > 0 && b->nslots > 0 && a->reorder[0] && b->reorder[0] && !a->is_output[0] && !b->is_output[0] &&
           dnnl_memory_desc_equal(&a->plain[0], &b->plain[0]) && dnnl_memory_desc_equal(&a->chosen[0], &b->chosen[0]);
}
