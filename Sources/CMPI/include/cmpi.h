// Open MPI opened at run time: a single-process run never needs the library, and the build needs
// no MPI headers. Functions return 0 on success; on failure cmpi_last_error() says why.
#ifndef CMPI_H
#define CMPI_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CMPI_FLOAT = 0, CMPI_DOUBLE = 1, CMPI_BYTE = 2, CMPI_INT64 = 3 } cmpi_type;
typedef enum { CMPI_SUM = 0, CMPI_MAX = 1, CMPI_MIN = 2 } cmpi_op;

const char *cmpi_last_error(void);
// Opens libmpi (Open MPI) and calls MPI_Init_thread (funneled); errors return instead of aborting.
int cmpi_init(void);
int cmpi_is_initialized(void);
const char *cmpi_library_path(void);
int cmpi_rank(int *rank);
int cmpi_size(int *size);
int cmpi_processor_name(char *name, int capacity);
// In place when send == NULL.
int cmpi_allreduce(const void *send, void *receive, int64_t count, cmpi_type type, cmpi_op op);
int cmpi_broadcast(void *buffer, int64_t count, cmpi_type type, int root);
int cmpi_allgather(const void *send, int64_t count, void *receive, cmpi_type type);
int cmpi_barrier(void);
// A non-blocking in-place all-reduce (count below 2^30): started here, completed by cmpi_wait;
// cmpi_test lets MPI progress it meanwhile (*done = 1 once complete; the request is then freed).
typedef void *cmpi_request;
int cmpi_iallreduce(void *buffer, int64_t count, cmpi_type type, cmpi_op op, cmpi_request *request);
int cmpi_test(cmpi_request *request, int *done);
int cmpi_wait(cmpi_request *request);
// Messages between two ranks (bytes, with a tag): a blocking send, a test for a waiting message
// from any rank (*waiting = 1 with its source, tag and size), and the receive of that message.
int cmpi_send(const void *bytes, int64_t count, int destination, int tag);
int cmpi_probe(int *waiting, int *source, int *tag, int64_t *count);
int cmpi_receive(void *bytes, int64_t count, int source, int tag);
int cmpi_finalize(void);
// Ends every rank of the job (MPI_Abort on the world).
void cmpi_abort(int code);

#endif
