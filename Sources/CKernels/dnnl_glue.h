// oneDNN plumbing shared by the conv, batch-norm, pooling and resampling kernels.
#ifndef CK_DNNL_GLUE_H
#define CK_DNNL_GLUE_H

#include "internal.h"
#include <oneapi/dnnl/dnnl.h>

#define CK_DNNL_MAX_ARGS 10

// A cached primitive with the memory descriptors of its operands. For each operand slot the
// entry knows the plain (NCHW / OIHW) layout the caller uses and the layout the primitive
// wants; when they differ the slot carries a reorder and a scratch buffer is used.
typedef struct {
    int used;
    unsigned char key[256];   // each kernel's key struct asserts that it fits
    size_t key_size;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    int nslots;
    int arg[CK_DNNL_MAX_ARGS];         // DNNL_ARG_* of each slot
    int is_output[CK_DNNL_MAX_ARGS];
    dnnl_memory_desc_t plain[CK_DNNL_MAX_ARGS];
    dnnl_memory_desc_t chosen[CK_DNNL_MAX_ARGS];
    dnnl_primitive_t reorder[CK_DNNL_MAX_ARGS];  // NULL when plain == chosen
    size_t chosen_bytes[CK_DNNL_MAX_ARGS];
    dnnl_memory_desc_t scratchpad;      // the primitive's own workspace, when it was made in user mode
    size_t scratchpad_bytes;
} ck_prim_entry;

dnnl_engine_t ck_engine(void);
// Attributes with the scratchpad in user mode: executions then use one grow-only buffer of ours
// instead of oneDNN allocating and freeing its workspace per call (large bfloat16 backward-weights
// workspaces came back as fresh pages every step). The caller destroys it.
dnnl_primitive_attr_t ck_attr_create(void);
dnnl_stream_t ck_stream(void);
void ck_dnnl_lock(void);
void ck_dnnl_unlock(void);

// Finds the entry for key, or NULL. The caller holds the lock.
ck_prim_entry *ck_cache_find(const void *key, size_t key_size);
// Takes ownership of pd; creates the primitive and an entry. The caller then adds slots.
ck_prim_entry *ck_cache_insert(const void *key, size_t key_size, dnnl_primitive_desc_t pd);
// Declares an operand: its DNNL_ARG, the plain layout of the caller's buffer and the query
// that yields the primitive's own layout.
int ck_entry_add_slot(ck_prim_entry *e, int arg, const dnnl_memory_desc_t *plain, dnnl_query_t query,
                      int is_output);

// Runs the primitive on the caller's plain buffers (in slot order), reordering through scratch
// buffers where the primitive wants another layout.
int ck_entry_execute(ck_prim_entry *e, void *const *buffers, const char *what);
// As ck_entry_execute, but slot 0's input is already in the primitive's layout in slot 0's scratch
// buffer (the previous execution reordered the same data there): its reorder is skipped.
int ck_entry_execute_reusing_slot0(ck_prim_entry *e, void *const *buffers, const char *what);
// As ck_entry_execute, but the slots whose bit is set in `native` hold buffers already in the
// primitive's layout: they are read or written as they are.
int ck_entry_execute_native(ck_prim_entry *e, void *const *buffers, unsigned native, const char *what);
// Whether slot 0 of both entries reorders into the same layout (so the second can reuse the first's).
int ck_entry_slot0_shared(const ck_prim_entry *a, const ck_prim_entry *b);

int ck_dnnl_fail(dnnl_status_t st, const char *what);
void ck_md_nchw(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w);
void ck_md_1d(dnnl_memory_desc_t *md, int64_t n);
// Float32 [n][c/16][h][w][16] (oneDNN's nChw16c).
void ck_md_blocked16(dnnl_memory_desc_t *md, int64_t n, int64_t c, int64_t h, int64_t w);

#endif
