// A counting allocator for `bench/run.sh profile` (LD_PRELOAD): how many heap allocations the
// gateway makes per proxied request. Each call is passed on to the allocator that comes next
// (jemalloc where the gateway is linked with it, else glibc's), C++ operator new and delete
// included, since jemalloc defines its own; the counts live in a file named by
// ALLOC_COUNT_FILE, mapped shared, so the bench reads them before and after a wrk run without
// stopping or signalling the process. Bench tooling only: never linked into the gateway.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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

// The next allocator's functions, looked up once. dlsym may itself allocate: while it runs,
// requests are served from a small static arena that free() recognises and ignores.
static void* (*next_malloc)(size_t);
static void* (*next_calloc)(size_t, size_t);
static void* (*next_realloc)(void*, size_t);
static void (*next_free)(void*);
static int (*next_posix_memalign)(void**, size_t, size_t);

static _Alignas(16) char bootstrap[4096];
static size_t bootstrap_used;
static int resolving;

static int in_bootstrap(const void* p) {
    return (const char*)p >= bootstrap && (const char*)p < bootstrap + sizeof bootstrap;
}

static void* bootstrap_alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (bootstrap_used + n > sizeof bootstrap) return NULL;
    void* p = bootstrap + bootstrap_used;
    bootstrap_used += n;
    return p;
}

static void resolve(void) {
    if (next_malloc != NULL) return;
    resolving = 1;
    next_calloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void* (*)(void*, size_t))dlsym(RTLD_NEXT, "realloc");
    next_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
    next_posix_memalign = (int (*)(void**, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    next_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
    if (!next_malloc || !next_calloc || !next_realloc || !next_free || !next_posix_memalign) abort();
}

static void* counted_malloc(size_t n) {
    if (resolving) return bootstrap_alloc(n);
    resolve();
    count(n);
    return next_malloc(n);
}

static void* counted_aligned(size_t alignment, size_t n) {
    resolve();
    count(n);
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    void* p = NULL;
    return next_posix_memalign(&p, alignment, n) == 0 ? p : NULL;
}

static void counted_free(void* p) {
    if (p == NULL || in_bootstrap(p)) return;
    resolve();
    atomic_fetch_add_explicit(&counts->frees, 1, memory_order_relaxed);
    next_free(p);
}

void* malloc(size_t n) { return counted_malloc(n); }

void* calloc(size_t k, size_t n) {
    if (resolving) {
        void* p = bootstrap_alloc(k * n);  // static storage: already zero
        return p;
    }
    resolve();
    count(k * n);
    return next_calloc(k, n);
}

void* realloc(void* p, size_t n) {
    resolve();
    count(n);
    return next_realloc(p, n);
}

void free(void* p) { counted_free(p); }

int posix_memalign(void** out, size_t alignment, size_t n) {
    void* p = counted_aligned(alignment, n);
    if (p == NULL) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void* aligned_alloc(size_t alignment, size_t n) { return counted_aligned(alignment, n); }
void* memalign(size_t alignment, size_t n) { return counted_aligned(alignment, n); }
void* valloc(size_t n) { return counted_aligned(4096, n); }

// C++ operator new and delete (Itanium names): the plain, nothrow, array and aligned forms, and
// the sized deletes. Without these, jemalloc's own would take the C++ allocations uncounted.
void* _Znwm(size_t n) { return counted_malloc(n); }
void* _Znam(size_t n) { return counted_malloc(n); }
void* _ZnwmRKSt9nothrow_t(size_t n, const void* tag) { (void)tag; return counted_malloc(n); }
void* _ZnamRKSt9nothrow_t(size_t n, const void* tag) { (void)tag; return counted_malloc(n); }
void* _ZnwmSt11align_val_t(size_t n, size_t alignment) { return counted_aligned(alignment, n); }
void* _ZnamSt11align_val_t(size_t n, size_t alignment) { return counted_aligned(alignment, n); }
void _ZdlPv(void* p) { counted_free(p); }
void _ZdaPv(void* p) { counted_free(p); }
void _ZdlPvm(void* p, size_t n) { (void)n; counted_free(p); }
void _ZdaPvm(void* p, size_t n) { (void)n; counted_free(p); }
void _ZdlPvSt11align_val_t(void* p, size_t a) { (void)a; counted_free(p); }
void _ZdaPvSt11align_val_t(void* p, size_t a) { (void)a; counted_free(p); }
void _ZdlPvmSt11align_val_t(void* p, size_t n, size_t a) { (void)n; (void)a; counted_free(p); }
void _ZdaPvmSt11align_val_t(void* p, size_t n, size_t a) { (void)n; (void)a; counted_free(p); }
