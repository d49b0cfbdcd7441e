/*
 * LD_PRELOAD allocation counter for the glance-share benchmarks.
 *
 * glance-share uses Rust's default (system) allocator, so every heap allocation goes through
 * glibc's malloc family. This shim counts the calls and the requested bytes into a small
 * memory-mapped file named by BENCH_ALLOC_COUNTERS, which the benchmark reads before and after
 * a batch of requests: (after - before) / requests = allocations per request. No change to
 * the Rust code is needed. Counters (little-endian u64):
 *   [0] new blocks (malloc, calloc, posix_memalign, aligned_alloc, memalign, realloc of NULL)
 *   [1] bytes requested by all allocation calls, reallocs included
 *   [2] free calls with a non-null pointer
 *   [3] reallocs of an existing block (grow or shrink: neither a new block nor a free)
 * Built by bench/run with `gcc -O2 -shared -fPIC` into the run's temporary directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static unsigned long long fallback[8];
static unsigned long long *counters = fallback;

__attribute__((constructor)) static void open_counters(void) {
    const char *path = getenv("BENCH_ALLOC_COUNTERS");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, 4096) != 0) {
        close(fd);
        return;
    }
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m != MAP_FAILED) counters = (unsigned long long *)m;
}

static inline void count(size_t n) {
    __atomic_fetch_add(&counters[0], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&counters[1], (unsigned long long)n, __ATOMIC_RELAXED);
}

void *malloc(size_t n) {
    count(n);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b) {
    count(a * b);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    if (p) {
        __atomic_fetch_add(&counters[3], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&counters[1], (unsigned long long)n, __ATOMIC_RELAXED);
    } else {
        count(n);
    }
    return __libc_realloc(p, n);
}

void free(void *p) {
    if (p) __atomic_fetch_add(&counters[2], 1, __ATOMIC_RELAXED);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    count(n);
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    count(n);
    return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n) {
    count(n);
    return __libc_memalign(align, n);
}
