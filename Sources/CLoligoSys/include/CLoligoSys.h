#ifndef CLOLIGOSYS_H
#define CLOLIGOSYS_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

/// Reads the CPU's time-stamp counter. Not serializing (like Ceph's Cycles::rdtsc).
/// On aarch64 this is the virtual counter; elsewhere 0, which Cycles treats as "no TSC".
static inline uint64_t loligo_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("isb; mrs %0, cntvct_el0; isb" : "=r"(v) : : "memory");
    return v;
#else
    return 0;
#endif
}

/// Reads the time-stamp counter after all earlier instructions have retired (rdtscp).
static inline uint64_t loligo_rdtscp(void) {
#if defined(__x86_64__)
    unsigned int aux;
    return __rdtscp(&aux);
#else
    return loligo_rdtsc();
#endif
}

/// Frequency of the aarch64 virtual counter (0 elsewhere: x86 needs calibration).
static inline uint64_t loligo_counter_frequency(void) {
#if defined(__aarch64__)
    uint64_t f;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
#else
    return 0;
#endif
}

/// CLOCK_MONOTONIC_RAW in nanoseconds: not slewed by NTP, the reference for TSC calibration.
static inline uint64_t loligo_monotonic_raw_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// CLOCK_MONOTONIC in nanoseconds.
static inline uint64_t loligo_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// CRC32C (Castagnoli) with Ceph's convention: `seed` is the raw starting register, the
/// result is not inverted. Implemented by ISA-L's crc32_iscsi.
uint32_t loligo_crc32c(uint32_t seed, const void *data, size_t length);

/// The CRC32C (as `loligo_crc32c`, each from `seed`) of each `block` bytes of `data`, the last
/// piece possibly shorter, into `out` (room for ceil(length / block) values). As fast for 4 KiB
/// blocks as one call over the whole buffer. Does nothing when `block` is 0 or over 1 GiB.
void loligo_crc32c_blocks(uint32_t seed, const void *data, size_t length, size_t block,
                          uint32_t *out);

/// CPU time (user + system) consumed by this process, in nanoseconds.
uint64_t loligo_process_cpu_ns(void);

/// fflush(stdout): Swift 6 cannot name the C global `stdout` safely.
void loligo_flush_stdout(void);

#include <spawn.h>

/// Closes every descriptor from `lowest` up in a spawned child, so a daemon inherits no pipe or
/// socket of the process that started it (glibc's posix_spawn_file_actions_addclosefrom_np).
int loligo_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// Keeps large buffers (messages of several MiB) on the heap instead of fresh mmaps, so
/// freeing and allocating them again costs no page faults and no page zeroing.
void loligo_tune_malloc(void);

/// glibc's POSIX_SPAWN_SETSID (only visible to C with _GNU_SOURCE).
short loligo_posix_spawn_setsid(void);

/// The kernel's id of the calling thread (for logs and traces).
int32_t loligo_thread_id(void);

#endif
