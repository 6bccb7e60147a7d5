// The recovery benchmark's client load on Ceph: what Loligo's recovery profile does in
// process (Sources/LoligoBench/Recovery), through librados.
//
//   recovery-load prefill --conf C --pool P --objects N --object-size S --block B --threads T
//       writes recovery_object0 .. recovery_object<N-1> whole (S bytes, every block at
//       version 0), T in flight; stdout {"objects": N, "seconds": s}
//   recovery-load run --conf C --pool P --objects N --object-size S --block B --threads T
//                     --log FILE
//       overwrites one B-byte block of the dataset per op, T ops in flight, each slot owning
//       the objects whose index is its own modulo T and issuing its next write from the
//       previous one's completion (so writes to a block never overlap and the last
//       acknowledged version of every block is known); a slot walks its objects before it
//       moves to the next block. Runs until SIGTERM or SIGINT (or the first failed write),
//       then drains, writes one line per acknowledged write to FILE ("<completion
//       CLOCK_MONOTONIC ns> <latency ns>"), reads every object back and checks each block holds
//       its last acknowledged version (or a later one whose write failed: its outcome is
//       unknown). stdout one JSON line: {"acknowledged", "errors", "first_error", "verify":
//       {"objects_read", "objects_unreadable", "blocks", "blocks_current",
//       "blocks_unacknowledged_version", "blocks_lost", "seconds", "passed", "examples"}}
// A block's bytes are a function of (object, block, version), as RecoveryDataset fills them,
// so an older version, another block or zeroes never pass. Exit status 0 when nothing failed
// and nothing was lost.
//
// Build: cc -O2 -Wall -o recovery-load recovery-load.c -lrados -lpthread
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <rados/librados.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *conf, *pool, *log_path;
static uint64_t objects;
static size_t object_size, block = 4096;
static int threads = 16;
static rados_ioctx_t ioctx;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained = PTHREAD_COND_INITIALIZER;
static volatile sig_atomic_t stopping;
static uint64_t acknowledged, errors, in_flight, next_object;
static int first_error;
static uint32_t *acked_versions, *sent_versions;  // per block: object * blocks + block
static uint64_t *entries;  // pairs: completion time, latency
static size_t entries_used, entries_size;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t blocks_per_object(void) { return object_size / block; }

// splitmix64's finaliser, as RecoveryDataset.mix.
static uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Block `b` of object `o` at version `v`: little-endian words of a chain of mixes.
static void fill(unsigned char *out, uint64_t o, uint64_t b, uint32_t v) {
  uint64_t state = mix(mix(mix(o) ^ b) ^ v);
  size_t i = 0;
  for (; i + 8 <= block; i += 8) {
    state = mix(state);
    for (int k = 0; k < 8; k++) out[i + k] = (unsigned char)(state >> (8 * k));
  }
  if (i < block) {
    uint64_t last = mix(state);
    for (int k = 0; i < block; i++, k++) out[i] = (unsigned char)(last >> (8 * k));
  }
}

static void object_name(char *name, size_t size, uint64_t o) {
  snprintf(name, size, "recovery_object%" PRIu64, o);
}

struct slot {
  int index;
  uint64_t ops;  // writes issued
  uint64_t object, block_index;
  uint32_t version;
  unsigned char *data;
  uint64_t started;
  rados_completion_t completion;
};

static int write_mode;  // run: overwrites; prefill: whole objects

static void issue(struct slot *slot);

static void finished(rados_completion_t completion, void *arg) {
  struct slot *slot = arg;
  int result = rados_aio_get_return_value(completion);
  uint64_t done = now_ns();
  rados_aio_release(completion);
  pthread_mutex_lock(&lock);
  if (result < 0) {
    if (!errors++) first_error = result;
  } else {
    acknowledged++;
    if (write_mode) {
      acked_versions[slot->object * blocks_per_object() + slot->block_index] = slot->version;
      if (entries_used + 2 > entries_size) {
        entries_size = entries_size ? entries_size * 2 : 1 << 20;
        entries = realloc(entries, entries_size * sizeof *entries);
        if (!entries) abort();
      }
      entries[entries_used++] = done;
      entries[entries_used++] = done - slot->started;
    }
  }
  // The first failure ends the load, as in rados bench.
  int again = !stopping && errors == 0 && (write_mode || next_object < objects);
  if (again) {
    issue(slot);
  } else {
    in_flight--;
    if (in_flight == 0) pthread_cond_signal(&drained);
  }
  pthread_mutex_unlock(&lock);
}

// Called with the lock held; the slot counts as in flight already.
static void issue(struct slot *slot) {
  char name[64];
  size_t blocks = blocks_per_object();
  int r;
  if (rados_aio_create_completion2(slot, finished, &slot->completion) < 0) abort();
  if (write_mode) {
    uint64_t owned = (objects - (uint64_t)slot->index + (uint64_t)threads - 1) / (uint64_t)threads;
    uint64_t op = slot->ops++;
    slot->object = (uint64_t)slot->index + (uint64_t)threads * (op % owned);
    slot->block_index = (op / owned) % blocks;
    slot->version = ++sent_versions[slot->object * blocks + slot->block_index];
    fill(slot->data, slot->object, slot->block_index, slot->version);
    object_name(name, sizeof name, slot->object);
    slot->started = now_ns();
    r = rados_aio_write(ioctx, name, slot->completion, (const char *)slot->data, block,
                        slot->block_index * block);
  } else {
    slot->object = next_object++;
    for (size_t b = 0; b < blocks; b++) fill(slot->data + b * block, slot->object, b, 0);
    object_name(name, sizeof name, slot->object);
    r = rados_aio_write_full(ioctx, name, slot->completion, (const char *)slot->data, object_size);
  }
  if (r < 0) {
    if (!errors++) first_error = r;
    rados_aio_release(slot->completion);
    in_flight--;
    if (in_flight == 0) pthread_cond_signal(&drained);
  }
}

static void on_signal(int sig) { (void)sig; stopping = 1; }

// Runs `threads` slots until they have all stopped.
static void run_slots(void) {
  struct slot *slots = calloc((size_t)threads, sizeof *slots);
  if (!slots) abort();
  pthread_mutex_lock(&lock);
  for (int i = 0; i < threads; i++) {
    slots[i].index = i;
    slots[i].data = malloc(write_mode ? block : object_size);
    if (!slots[i].data) abort();
    if (!write_mode && next_object >= objects) continue;
    in_flight++;
    issue(&slots[i]);
  }
  // Signals only set a flag: wake up now and then to see it; completions then drain.
  while (in_flight > 0) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    pthread_cond_timedwait(&drained, &lock, &until);
  }
  pthread_mutex_unlock(&lock);
}

struct verification {
  uint64_t objects_read, objects_unreadable, blocks, current, unacknowledged, lost;
  char examples[10][160];
  int example_count;
};

static void example(struct verification *v, const char *text) {
  if (v->example_count < 10) snprintf(v->examples[v->example_count++], 160, "%s", text);
}

// Reads every object back (synchronously: the load is over) and checks each block.
static void verify(struct verification *v) {
  size_t blocks = blocks_per_object();
  unsigned char *data = malloc(object_size), *expected = malloc(block);
  char name[64], text[160];
  if (!data || !expected) abort();
  for (uint64_t o = 0; o < objects; o++) {
    object_name(name, sizeof name, o);
    int r = rados_read(ioctx, name, (char *)data, object_size, 0);
    v->blocks += blocks;
    if (r < 0) {
      v->objects_unreadable++;
      v->lost += blocks;
      snprintf(text, sizeof text, "%s: %s", name, strerror(-r));
      example(v, text);
      continue;
    }
    v->objects_read++;
    for (size_t b = 0; b < blocks; b++) {
      uint32_t acked = acked_versions[o * blocks + b], sent = sent_versions[o * blocks + b];
      if ((size_t)r < (b + 1) * block) {
        v->lost++;
        snprintf(text, sizeof text, "%s@%zu: the object is %d bytes", name, b * block, r);
        example(v, text);
        continue;
      }
      fill(expected, o, b, acked);
      if (memcmp(expected, data + b * block, block) == 0) {
        v->current++;
        continue;
      }
      int later = 0;
      for (uint32_t version = acked + 1; version <= sent && !later; version++) {
        fill(expected, o, b, version);
        later = memcmp(expected, data + b * block, block) == 0;
      }
      if (later) {
        v->unacknowledged++;
        continue;
      }
      v->lost++;
      int older = -1;
      for (uint32_t version = 0; version < acked && older < 0; version++) {
        fill(expected, o, b, version);
        if (memcmp(expected, data + b * block, block) == 0) older = (int)version;
      }
      if (older >= 0)
        snprintf(text, sizeof text, "%s@%zu: version %d instead of %u", name, b * block, older, acked);
      else
        snprintf(text, sizeof text, "%s@%zu: not version %u nor any earlier one", name, b * block, acked);
      example(v, text);
    }
  }
  free(data);
  free(expected);
}

static void usage(void) {
  fprintf(stderr,
          "usage: recovery-load prefill|run --conf C --pool P --objects N --object-size S "
          "[--block B] [--threads T] [--log FILE (run)]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  write_mode = strcmp(argv[1], "run") == 0;
  if (!write_mode && strcmp(argv[1], "prefill") != 0) usage();
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--conf")) conf = argv[i + 1];
    else if (!strcmp(argv[i], "--pool")) pool = argv[i + 1];
    else if (!strcmp(argv[i], "--objects")) objects = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--object-size")) object_size = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--block")) block = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--log")) log_path = argv[i + 1];
    else usage();
  }
  if (!conf || !pool || objects == 0 || block == 0 || object_size == 0 || threads < 1) usage();
  if (object_size % block != 0 || objects < (uint64_t)threads) usage();
  if (write_mode != (log_path != NULL)) usage();

  rados_t cluster;
  int r = rados_create(&cluster, NULL);
  if (r == 0) r = rados_conf_read_file(cluster, conf);
  if (r == 0) r = rados_connect(cluster);
  if (r == 0) r = rados_ioctx_create(cluster, pool, &ioctx);
  if (r < 0) {
    fprintf(stderr, "recovery-load: connecting to pool %s: %s\n", pool, strerror(-r));
    return 1;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  size_t total_blocks = objects * blocks_per_object();
  acked_versions = calloc(total_blocks, sizeof *acked_versions);
  sent_versions = calloc(total_blocks, sizeof *sent_versions);
  if (!acked_versions || !sent_versions) abort();

  uint64_t started = now_ns();
  run_slots();
  int status = errors ? 1 : 0;
  if (!write_mode) {
    printf("{\"objects\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"first_error\": %d, "
           "\"seconds\": %.3f}\n",
           acknowledged, errors, first_error, (double)(now_ns() - started) / 1e9);
  } else {
    FILE *out = fopen(log_path, "w");
    if (!out) { perror(log_path); return 1; }
    for (size_t i = 0; i + 1 < entries_used; i += 2)
      fprintf(out, "%" PRIu64 " %" PRIu64 "\n", entries[i], entries[i + 1]);
    fclose(out);
    struct verification v = {0};
    uint64_t verify_started = now_ns();
    verify(&v);
    int passed = v.lost == 0 && v.objects_unreadable == 0 && v.blocks > 0;
    printf("{\"acknowledged\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"first_error\": %d, "
           "\"verify\": {\"objects_read\": %" PRIu64 ", \"objects_unreadable\": %" PRIu64
           ", \"blocks\": %" PRIu64 ", \"blocks_current\": %" PRIu64
           ", \"blocks_unacknowledged_version\": %" PRIu64 ", \"blocks_lost\": %" PRIu64
           ", \"seconds\": %.3f, \"passed\": %s, \"examples\": [",
           acknowledged, errors, first_error, v.objects_read, v.objects_unreadable, v.blocks,
           v.current, v.unacknowledged, v.lost, (double)(now_ns() - verify_started) / 1e9,
           passed ? "true" : "false");
    for (int i = 0; i < v.example_count; i++) printf("%s\"%s\"", i ? ", " : "", v.examples[i]);
    printf("]}}\n");
    if (!passed) status = 1;
  }
  rados_ioctx_destroy(ioctx);
  rados_shutdown(cluster);
  return status;
}
