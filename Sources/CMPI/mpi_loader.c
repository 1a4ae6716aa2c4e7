// Open MPI through dlopen. Its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses
// of predefined global objects exported by libmpi, so resolving those symbols gives the same
// values mpi.h would; MPI_IN_PLACE is (void *)1 in Open MPI's ABI.
#include "cmpi.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef void *handle;

static _Thread_local char last_error[1024];
const char *cmpi_last_error(void) { return last_error; }

static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return 1;
}

static void *library;
static char library_path[512];
static int initialized;

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*initialized)(int *);
    int (*finalize)(void);
    int (*comm_rank)(handle, int *);
    int (*comm_size)(handle, int *);
    int (*get_processor_name)(char *, int *);
    int (*allreduce)(const void *, void *, int, handle, handle, handle);
    int (*bcast)(void *, int, handle, int, handle);
    int (*allgather)(const void *, int, handle, void *, int, handle, handle);
    int (*barrier)(handle);
    int (*abort)(handle, int);
    int (*error_string)(int, char *, int *);
    int (*comm_set_errhandler)(handle, handle);
    int (*send)(const void *, int, handle, int, int, handle);
    int (*iprobe)(int, int, handle, int *, void *);
    int (*recv)(void *, int, handle, int, int, handle, void *);
    int (*get_count)(const void *, handle, int *);
    int (*iallreduce)(const void *, void *, int, handle, handle, handle, void **);
    int (*test)(void **, int *, void *);
    int (*wait)(void **, void *);
} mpi;

// Open MPI's MPI_Status (mpi.h): the three public fields, then its own.
typedef struct { int source, tag, error, cancelled; size_t ucount; } ompi_status;
#define OMPI_ANY_SOURCE (-1)
#define OMPI_ANY_TAG (-1)

static handle comm_world, errors_return;
static handle types[4];
static handle ops[3];

#define OMPI_IN_PLACE ((void *)1)
#define MPI_THREAD_FUNNELED 1

static int check(int code, const char *what) {
    if (code == 0) return 0;
    char text[512] = "";
    int length = 0;
    if (mpi.error_string) mpi.error_string(code, text, &length);
    return fail("%s failed: %s (MPI error %d)", what, text[0] ? text : "unknown error", code);
}

static int open_library(void) {
    if (library) return 0;
    const char *names[] = {"libmpi.so.40", "libmpi.so", "/usr/lib/x86_64-linux-gnu/libmpi.so.40",
                           "/usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so.40", NULL};
    // RTLD_GLOBAL: Open MPI's components are plugins that resolve libmpi's symbols from the global scope.
    for (int i = 0; names[i] && !library; i++) {
        if ((library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL))) snprintf(library_path, sizeof library_path, "%s", names[i]);
    }
    if (!library) {
        return fail("Open MPI's library (libmpi.so.40) was not found (tried libmpi.so.40, libmpi.so, /usr/lib/x86_64-linux-gnu); "
                    "install it with apt-get install libopenmpi-dev openmpi-bin");
    }
    struct { void **slot; const char *name; } symbols[] = {
        {(void **)&mpi.init_thread, "MPI_Init_thread"}, {(void **)&mpi.initialized, "MPI_Initialized"},
        {(void **)&mpi.finalize, "MPI_Finalize"}, {(void **)&mpi.comm_rank, "MPI_Comm_rank"},
        {(void **)&mpi.comm_size, "MPI_Comm_size"}, {(void **)&mpi.get_processor_name, "MPI_Get_processor_name"},
        {(void **)&mpi.allreduce, "MPI_Allreduce"}, {(void **)&mpi.bcast, "MPI_Bcast"},
        {(void **)&mpi.allgather, "MPI_Allgather"}, {(void **)&mpi.barrier, "MPI_Barrier"},
        {(void **)&mpi.abort, "MPI_Abort"}, {(void **)&mpi.error_string, "MPI_Error_string"},
        {(void **)&mpi.comm_set_errhandler, "MPI_Comm_set_errhandler"},
        {(void **)&mpi.send, "MPI_Send"}, {(void **)&mpi.iprobe, "MPI_Iprobe"}, {(void **)&mpi.recv, "MPI_Recv"},
        {(void **)&mpi.get_count, "MPI_Get_count"}, {(void **)&mpi.iallreduce, "MPI_Iallreduce"},
        {(void **)&mpi.test, "MPI_Test"}, {(void **)&mpi.wait, "MPI_Wait"},
        {&comm_world, "ompi_mpi_comm_world"}, {&errors_return, "ompi_mpi_errors_return"},
        {&types[CMPI_FLOAT], "ompi_mpi_float"}, {&types[CMPI_DOUBLE], "ompi_mpi_double"},
        {&types[CMPI_BYTE], "ompi_mpi_byte"}, {&types[CMPI_INT64], "ompi_mpi_int64_t"},
        {&ops[CMPI_SUM], "ompi_mpi_op_sum"}, {&ops[CMPI_MAX], "ompi_mpi_op_max"}, {&ops[CMPI_MIN], "ompi_mpi_op_min"},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (!(*symbols[i].slot = dlsym(library, symbols[i].name))) {
            int code = fail("%s has no symbol %s: only Open MPI (4.x or 5.x) is supported", library_path, symbols[i].name);
            dlclose(library);
            library = NULL;
            return code;
        }
    }
    return 0;
}

const char *cmpi_library_path(void) { return library_path; }
int cmpi_is_initialized(void) { return initialized; }

int cmpi_init(void) {
    if (initialized) return 0;
    if (open_library()) return 1;
    int provided = 0;
    if (check(mpi.init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread")) return 1;
    initialized = 1;
    return check(mpi.comm_set_errhandler(comm_world, errors_return), "MPI_Comm_set_errhandler");
}

static int ready(void) { return initialized ? 0 : fail("MPI is not initialised"); }

int cmpi_rank(int *rank) { return ready() || check(mpi.comm_rank(comm_world, rank), "MPI_Comm_rank"); }
int cmpi_size(int *size) { return ready() || check(mpi.comm_size(comm_world, size), "MPI_Comm_size"); }

int cmpi_processor_name(char *name, int capacity) {
    char buffer[256];  // MPI_MAX_PROCESSOR_NAME is 256 in Open MPI
    int length = 0;
    if (ready() || check(mpi.get_processor_name(buffer, &length), "MPI_Get_processor_name")) return 1;
    snprintf(name, (size_t)capacity, "%.*s", length, buffer);
    return 0;
}

// MPI counts are int: large buffers go in pieces below 2^31 elements.
#define PIECE ((int64_t)1 << 30)

static size_t type_size(cmpi_type type) { return type == CMPI_BYTE ? 1 : type == CMPI_FLOAT ? 4 : 8; }

int cmpi_allreduce(const void *send, void *receive, int64_t count, cmpi_type type, cmpi_op op) {
    if (ready()) return 1;
    size_t size = type_size(type);
    for (int64_t at = 0; at < count; at += PIECE) {
        int n = (int)(count - at < PIECE ? count - at : PIECE);
        const void *from = send ? (const char *)send + at * size : OMPI_IN_PLACE;
        if (check(mpi.allreduce(from, (char *)receive + at * size, n, types[type], ops[op], comm_world), "MPI_Allreduce")) return 1;
    }
    return 0;
}

int cmpi_broadcast(void *buffer, int64_t count, cmpi_type type, int root) {
    if (ready()) return 1;
    size_t size = type_size(type);
    for (int64_t at = 0; at < count; at += PIECE) {
        int n = (int)(count - at < PIECE ? count - at : PIECE);
        if (check(mpi.bcast((char *)buffer + at * size, n, types[type], root, comm_world), "MPI_Bcast")) return 1;
    }
    return 0;
}

int cmpi_allgather(const void *send, int64_t count, void *receive, cmpi_type type) {
    if (ready()) return 1;
    if (count >= PIECE) return fail("MPI_Allgather of %lld elements per rank: more than this layer sends at once", (long long)count);
    return check(mpi.allgather(send, (int)count, types[type], receive, (int)count, types[type], comm_world), "MPI_Allgather");
}

int cmpi_barrier(void) { return ready() || check(mpi.barrier(comm_world), "MPI_Barrier"); }

int cmpi_iallreduce(void *buffer, int64_t count, cmpi_type type, cmpi_op op, cmpi_request *request) {
    if (ready()) return 1;
    if (count >= PIECE) return fail("a non-blocking all-reduce of %lld elements: more than this layer sends at once", (long long)count);
    return check(mpi.iallreduce(OMPI_IN_PLACE, buffer, (int)count, types[type], ops[op], comm_world, request), "MPI_Iallreduce");
}

// MPI_STATUS_IGNORE is a null pointer in Open MPI's ABI.
int cmpi_test(cmpi_request *request, int *done) {
    if (ready()) return 1;
    return check(mpi.test(request, done, NULL), "MPI_Test");
}

int cmpi_wait(cmpi_request *request) {
    if (ready()) return 1;
    return check(mpi.wait(request, NULL), "MPI_Wait");
}

int cmpi_send(const void *bytes, int64_t count, int destination, int tag) {
    if (ready()) return 1;
    if (count >= PIECE) return fail("a message of %lld bytes: more than this layer sends at once", (long long)count);
    return check(mpi.send(bytes, (int)count, types[CMPI_BYTE], destination, tag, comm_world), "MPI_Send");
}

int cmpi_probe(int *waiting, int *source, int *tag, int64_t *count) {
    if (ready()) return 1;
    ompi_status status = {0};
    if (check(mpi.iprobe(OMPI_ANY_SOURCE, OMPI_ANY_TAG, comm_world, waiting, &status), "MPI_Iprobe")) return 1;
    if (!*waiting) return 0;
    int n = 0;
    if (check(mpi.get_count(&status, types[CMPI_BYTE], &n), "MPI_Get_count")) return 1;
    *source = status.source;
    *tag = status.tag;
    *count = n;
    return 0;
}

int cmpi_receive(void *bytes, int64_t count, int source, int tag) {
    if (ready()) return 1;
    ompi_status status = {0};
    return check(mpi.recv(bytes, (int)count, types[CMPI_BYTE], source, tag, comm_world, &status), "MPI_Recv");
}

int cmpi_finalize(void) {
    if (!initialized) return 0;
    initialized = 0;
    return check(mpi.finalize(), "MPI_Finalize");
}

void cmpi_abort(int code) {
    if (initialized) mpi.abort(comm_world, code);
}
