#define _GNU_SOURCE
#include "CLoligoSys.h"
#include <spawn.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <isa-l/crc.h>

uint32_t loligo_crc32c(uint32_t seed, const void *data, size_t length) {
    // crc32_iscsi takes an int length; feed larger inputs in pieces.
    const unsigned char *p = (const unsigned char *)data;
    uint32_t crc = seed;
    while (length > 0) {
        size_t piece = length > (1u << 30) ? (1u << 30) : length;
        crc = crc32_iscsi((unsigned char *)p, (int)piece, crc);
        p += piece;
        length -= piece;
    }
    return crc;
}

uint64_t loligo_process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int32_t loligo_thread_id(void) {
    return (int32_t)syscall(SYS_gettid);
}

void loligo_flush_stdout(void) {
    fflush(stdout);
}

short loligo_posix_spawn_setsid(void) {
    return POSIX_SPAWN_SETSID;
}

int loligo_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

void loligo_tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
