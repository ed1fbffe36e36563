// A counting allocator for `bench/run.sh profile` (LD_PRELOAD): how many heap allocations the
// gateway makes per proxied request. Each call is passed to glibc's own allocator; the counts
// live in a file named by ALLOC_COUNT_FILE, mapped shared, so the bench reads them before and
// after a wrk run without stopping or signalling the process. Bench tooling only: never linked
// into the gateway.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void __libc_free(void*);
extern void* __libc_memalign(size_t, size_t);

// allocations, frees, bytes asked for: three 64-bit counters at the start of the file.
struct Counts {
    _Atomic uint64_t allocations;
    _Atomic uint64_t frees;
    _Atomic uint64_t bytes;
};

static struct Counts fallback;
static struct Counts* counts = &fallback;

__attribute__((constructor)) static void map_counts(void) {
    const char* path = getenv("ALLOC_COUNT_FILE");
    if (path == NULL) return;
    const int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) == 0) {
        void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) counts = (struct Counts*)p;
    }
    close(fd);
}

static void count(size_t bytes) {
    atomic_fetch_add_explicit(&counts->allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&counts->bytes, bytes, memory_order_relaxed);
}

void* malloc(size_t n) {
    count(n);
    return __libc_malloc(n);
}

void* calloc(size_t k, size_t n) {
    count(k * n);
    return __libc_calloc(k, n);
}

void* realloc(void* p, size_t n) {
    count(n);
    return __libc_realloc(p, n);
}

void free(void* p) {
    if (p != NULL) atomic_fetch_add_explicit(&counts->frees, 1, memory_order_relaxed);
    __libc_free(p);
}

int posix_memalign(void** out, size_t alignment, size_t n) {
    count(n);
    void* p = __libc_memalign(alignment, n);
    if (p == NULL) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void* aligned_alloc(size_t alignment, size_t n) {
    count(n);
    return __libc_memalign(alignment, n);
}

void* memalign(size_t alignment, size_t n) {
    count(n);
    return __libc_memalign(alignment, n);
}
