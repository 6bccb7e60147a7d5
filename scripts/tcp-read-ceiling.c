// The most a 4 MiB random-read benchmark can move over TCP on this machine, with no storage
// system in the way: OSDS sender processes each hold OBJECTS objects of 4 MiB in RAM; one
// receiver keeps INFLIGHT requests outstanding (spread over the senders), and each request is
// answered with one whole random object written straight from its memory. The receiver reads
// each answer into one of INFLIGHT 4 MiB buffers and, with --crc, checksums it (crc32c, as a
// messenger with data crcs must). It prints the bytes per second it received.
//
// Used by scripts/pool-benchmark.sh to put the 4 MiB read figures of Ceph and Loligo next to
// the machine's own ceiling. Build: cc -O2 -o tcp-read-ceiling tcp-read-ceiling.c -lisal
//   tcp-read-ceiling [--osds 3] [--objects 256] [--inflight 16] [--seconds 10] [--crc]
#include <arpa/inet.h>
#include <errno.h>
#include <isa-l/crc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OBJECT_BYTES (4u << 20)
#define MAX_OSDS 16

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

// One sender: answers each request byte with one random object, whole.
// The objects are in memory before the sender connects, so the receiver times reads only.
static void serve(const struct sockaddr_in *addr, int objects) {
  size_t total = (size_t)objects * OBJECT_BYTES;
  unsigned char *store = malloc(total);
  if (!store) die("malloc");
  for (size_t i = 0; i < total; i += 4096) store[i] = (unsigned char)(i >> 12);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr)) die("connect");
  unsigned int seed = (unsigned int)getpid();
  char requests[64];
  for (;;) {
    ssize_t n = read(fd, requests, sizeof requests);
    if (n <= 0) exit(0);
    for (ssize_t r = 0; r < n; r++) {
      const unsigned char *object = store + (size_t)(rand_r(&seed) % objects) * OBJECT_BYTES;
      size_t sent = 0;
      while (sent < OBJECT_BYTES) {
        ssize_t w = write(fd, object + sent, OBJECT_BYTES - sent);
        if (w <= 0) exit(0);
        sent += (size_t)w;
      }
    }
  }
}

int main(int argc, char **argv) {
  int osds = 3, objects = 256, inflight = 16, seconds = 10, crc = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--crc")) crc = 1;
    else if (i + 1 < argc && !strcmp(argv[i], "--osds")) osds = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(argv[i], "--objects")) objects = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(argv[i], "--inflight")) inflight = atoi(argv[++i]);
    else if (i + 1 < argc && !strcmp(argv[i], "--seconds")) seconds = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--osds N] [--objects N] [--inflight N] [--seconds N] [--crc]\n",
              argv[0]);
      return 2;
    }
  }
  if (osds < 1 || osds > MAX_OSDS || objects < 1 || inflight < osds || seconds < 1) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, MAX_OSDS) ||
      getsockname(listener, (struct sockaddr *)&addr, &len))
    die("listen");
  pid_t pids[MAX_OSDS];
  for (int i = 0; i < osds; i++) {
    pids[i] = fork();
    if (pids[i] == 0) serve(&addr, objects);
  }
  struct pollfd polls[MAX_OSDS];
  size_t got[MAX_OSDS] = {0};
  int outstanding[MAX_OSDS] = {0};
  unsigned char *buffers = malloc((size_t)inflight * OBJECT_BYTES);
  if (!buffers) die("malloc");
  memset(buffers, 0, (size_t)inflight * OBJECT_BYTES);
  int next_buffer[MAX_OSDS];
  for (int i = 0; i < osds; i++) {
    polls[i].fd = accept(listener, NULL, NULL);
    polls[i].events = POLLIN;
    if (polls[i].fd < 0) die("accept");
    next_buffer[i] = i;
  }
  // Spread the requests over the senders, as placement spreads objects over OSDs.
  for (int q = 0; q < inflight; q++) {
    int i = q % osds;
    outstanding[i]++;
    if (write(polls[i].fd, "r", 1) != 1) die("request");
  }
  double start = now_seconds(), end = start + seconds;
  uint64_t bytes = 0, answers = 0;
  uint32_t checksum = 0;
  while (now_seconds() < end) {
    if (poll(polls, (nfds_t)osds, 1000) < 0 && errno != EINTR) die("poll");
    for (int i = 0; i < osds; i++) {
      if (!(polls[i].revents & POLLIN)) continue;
      unsigned char *buffer = buffers + (size_t)next_buffer[i] * OBJECT_BYTES;
      ssize_t n = recv(polls[i].fd, buffer + got[i], OBJECT_BYTES - got[i], MSG_DONTWAIT);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) continue;
        die("recv");
      }
      if (crc) checksum = crc32_iscsi(buffer + got[i], (int)n, checksum);
      got[i] += (size_t)n;
      bytes += (uint64_t)n;
      if (got[i] == OBJECT_BYTES) {
        got[i] = 0;
        answers++;
        next_buffer[i] = (next_buffer[i] + osds) % inflight;
        if (write(polls[i].fd, "r", 1) != 1) die("request");
      }
    }
  }
  double elapsed = now_seconds() - start;
  printf("{\"osds\": %d, \"inflight\": %d, \"crc\": %s, \"seconds\": %.3f, \"objects_read\": %llu,"
         " \"MBps\": %.1f, \"checksum\": %u}\n",
         osds, inflight, crc ? "true" : "false", elapsed, (unsigned long long)answers,
         bytes / elapsed / 1e6, checksum);
  for (int i = 0; i < osds; i++) close(polls[i].fd);
  for (int i = 0; i < osds; i++) waitpid(pids[i], NULL, 0);
  return 0;
}
