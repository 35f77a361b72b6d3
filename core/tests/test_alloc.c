/*
** The engine's allocator hook (orc_engine_config.alloc): a counting
** allocator that keeps every live block with its size sees machines
** loaded, executions run through Map, Parallel, Retry, Catch, Wait, task
** and execution timeouts, tasks answered later by token, a distributed Map
** with an ItemReader and a ResultWriter, nested executions, stops and
** closes. Every free and resize must name the size the block was given,
** orc_engine_memory must equal the allocator's count at every point, and
** the count must be 0 once the engine is freed.
**
** Then a cap: an allocator that refuses past N bytes, for a range of N.
** Starts and steps then fail with ORC_ENOMEM and a message; nothing may
** crash or leak (`make test-asan` runs this file under ASan and UBSan).
*/
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "orchestra/engine.h"

#include "check.h"

/* {====== a counting allocator with a map of live blocks */

typedef struct block {
  void *p; /* NULL: empty; TOMB: deleted */
  size_t size;
} block;

#define TOMB ((void *)(uintptr_t)1)

typedef struct counter {
  size_t inuse, peak, calls;
  size_t nrequests;     /* calls that ask for memory (nsize > 0) */
  size_t limit;         /* 0: no cap */
  size_t fail_at;       /* refuse only the request of this number, or 0 */
  size_t refused;       /* requests refused by the cap */
  size_t bad_size;      /* frees/resizes whose osize was not the block's */
  size_t unknown;       /* frees/resizes of blocks it never gave */
  block *map;           /* open addressing on the pointer */
  size_t cap, n, ntomb; /* map slots, live blocks, deleted slots */
} counter;

static size_t hash_ptr(const void *p) {
  return (size_t)(((uintptr_t)p >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull);
}

static block *map_find(counter *c, const void *p) {
  size_t k;
  if (c->cap == 0) return NULL;
  for (k = hash_ptr(p) & (c->cap - 1); c->map[k].p; k = (k + 1) & (c->cap - 1))
    if (c->map[k].p == p) return &c->map[k];
  return NULL;
}

static void map_put(counter *c, void *p, size_t size) {
  size_t k;
  if ((c->n + c->ntomb + 1) * 2 > c->cap) { /* rehash (grows when full) */
    size_t cap = c->cap ? c->cap : 1024, i;
    block *old = c->map, *nm;
    if ((c->n + 1) * 4 > cap) cap *= 2;
    nm = (block *)calloc(cap, sizeof *nm);
    if (nm == NULL) abort(); /* the test's own memory */
    for (i = 0; i < c->cap; i++)
      if (old[i].p && old[i].p != TOMB) {
        for (k = hash_ptr(old[i].p) & (cap - 1); nm[k].p;
             k = (k + 1) & (cap - 1))
          ;
        nm[k] = old[i];
      }
    free(old);
    c->map = nm;
    c->cap = cap;
    c->ntomb = 0;
  }
  for (k = hash_ptr(p) & (c->cap - 1); c->map[k].p && c->map[k].p != TOMB;
       k = (k + 1) & (c->cap - 1))
    ;
  if (c->map[k].p == TOMB) c->ntomb--;
  c->map[k].p = p;
  c->map[k].size = size;
  c->n++;
}

static void map_del(counter *c, block *b) {
  b->p = TOMB;
  c->n--;
  c->ntomb++;
}

static void *counting_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  counter *c = (counter *)ud;
  block *b = NULL;
  void *q;
  c->calls++;
  if (p) {
    b = map_find(c, p);
    if (b == NULL) {
      c->unknown++;
      return NULL; /* never touch what is not ours */
    }
    if (b->size != osize) c->bad_size++;
    osize = b->size; /* keep the count true whatever was passed */
  } else {
    osize = 0;
  }
  if (nsize == 0) {
    map_del(c, b);
    c->inuse -= osize;
    free(p);
    return NULL;
  }
  c->nrequests++;
  if ((c->limit && nsize > osize && c->inuse - osize + nsize > c->limit) ||
      c->nrequests == c->fail_at) {
    c->refused++;
    return NULL;
  }
  q = realloc(p, nsize);
  if (q == NULL) return NULL;
  if (b) map_del(c, b);
  map_put(c, q, nsize);
  c->inuse = c->inuse - osize + nsize;
  if (c->inuse > c->peak) c->peak = c->inuse;
  return q;
}

static void counter_reset(counter *c, size_t limit) {
  free(c->map);
  memset(c, 0, sizeof *c);
  c->limit = limit;
}

/* }====== */

/* {====== definitions and task handlers */

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"

/* Map with Retry and Catch in its iterations, a Wait, a task that fails
** into a Catch, random values drawn by intrinsics, a task answered later
** by token, one that times out into a Catch, and a batched Map. */
static const char kitchen[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"End\":true,"
    "\"Branches\":["
    /* an inline Map whose iterations retry and catch */
    "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"ItemsPath\":"
    "\"$.items\",\"MaxConcurrency\":2,\"End\":true,\"ItemProcessor\":{"
    "\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "flaky\",\"Retry\":[{\"ErrorEquals\":[\"Flaky\"],"
    "\"IntervalSeconds\":1,\"MaxAttempts\":3}],\"Catch\":[{\"ErrorEquals\":"
    "[\"States.ALL\"],\"ResultPath\":\"$.caught\",\"Next\":\"C\"}],"
    "\"Next\":\"W\"},\"W\":{\"Type\":\"Wait\",\"Seconds\":2,\"Next\":\"C\"},"
    "\"C\":{\"Type\":\"Pass\",\"End\":true}}}}}},"
    /* a task that fails into a Catch, then intrinsics that draw */
    "{\"StartAt\":\"B\",\"States\":{\"B\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "boom\",\"Catch\":[{\"ErrorEquals\":[\"Boom\"],\"ResultPath\":"
    "\"$.err\",\"Next\":\"R\"}],\"End\":true},\"R\":{\"Type\":\"Pass\","
    "\"Parameters\":{\"id.$\":\"States.UUID()\",\"n.$\":"
    "\"States.MathRandom(1, 100)\"},\"End\":true}}},"
    /* a task answered later by token */
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "later\",\"TimeoutSeconds\":100,\"End\":true}}},"
    /* a task that times out into a Catch */
    "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "never\",\"TimeoutSeconds\":5,\"HeartbeatSeconds\":3,"
    "\"Catch\":[{\"ErrorEquals\":[\"States.Timeout\"],\"Next\":\"D\"}],"
    "\"End\":true},\"D\":{\"Type\":\"Pass\",\"End\":true}}},"
    /* a batched Map */
    "{\"StartAt\":\"BM\",\"States\":{\"BM\":{\"Type\":\"Map\",\"ItemsPath\":"
    "\"$.items\",\"ItemBatcher\":{\"MaxItemsPerBatch\":2},\"End\":true,"
    "\"ItemProcessor\":{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":"
    "\"Pass\",\"End\":true}}}}}}"
    "]}}}";

/* Failures: a Choice on a path that is not there (a runtime cause), then
** a Fail state whose Error and Cause come from paths. */
static const char failing[] =
    "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
    "[{\"Variable\":\"$.missing\",\"NumericEquals\":1,\"Next\":\"F\"}],"
    "\"Default\":\"F\"},\"F\":{\"Type\":\"Fail\",\"ErrorPath\":\"$.e\","
    "\"CausePath\":\"$.c\"}}}";

static const char fail_state[] =
    "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\",\"ErrorPath\":"
    "\"$.e\",\"CausePath\":\"$.c\"}}}";

/* A distributed Map over a JSON Lines file, with tolerated failures and a
** ResultWriter. */
static const char distributed[] =
    "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"End\":true,"
    "\"ToleratedFailurePercentage\":50,"
    "\"ItemReader\":{\"Resource\":\"arn:aws:states:::s3:getObject\","
    "\"ReaderConfig\":{\"InputType\":\"JSONL\"},\"Parameters\":{\"Bucket\":"
    "\"bkt\",\"Key\":\"in.jsonl\"}},"
    "\"ResultWriter\":{\"Resource\":\"arn:aws:states:::s3:putObject\","
    "\"Parameters\":{\"Bucket\":\"out\",\"Prefix\":\"runs\"}},"
    "\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\","
    "\"ExecutionType\":\"STANDARD\"},\"StartAt\":\"K\",\"States\":{\"K\":{"
    "\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$\",\"NumericEquals\":"
    "2,\"Next\":\"Bad\"}],\"Default\":\"Ok\"},\"Bad\":{\"Type\":\"Fail\","
    "\"Error\":\"Two\",\"Cause\":\"two is bad\"},\"Ok\":{\"Type\":\"Pass\","
    "\"End\":true}}}}}}";

/* A nested execution (startExecution.sync:2) of the machine "Child", and
** one started without waiting. */
static const char parent[] =
    "{\"StartAt\":\"N\",\"States\":{\"N\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::states:startExecution.sync:2\",\"Parameters\":{"
    "\"StateMachineArn\":\"Child\",\"Input\":{\"x\":1}},\"Next\":\"N2\"},"
    "\"N2\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::states:startExecution\",\"Parameters\":{"
    "\"StateMachineArn\":\"Child\"},\"End\":true}}}";

static const char child[] =
    "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":1,"
    "\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"End\":true}}}";

/* An execution that times out in a Wait. */
static const char timing_out[] =
    "{\"TimeoutSeconds\":3,\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":"
    "\"Wait\",\"Seconds\":10,\"End\":true}}}";

/* Tokens of tasks left pending by "later", answered between steps. */
typedef struct host {
  char tokens[256][40];
  int ntokens;
  int flaky_calls;
} host;

static int on_task(void *ud, orc_task *T) {
  host *h = (host *)ud;
  const char *r = orc_task_resource(T);
  const char *fn = strrchr(r, ':') + 1;
  if (!strcmp(fn, "flaky")) {
    /* fails every other call: the Retry of the Map's iteration absorbs it */
    if (h->flaky_calls++ % 2 == 0)
      orc_task_fail(T, "Flaky", "try again", NULL);
    else
      orc_task_succeed(T, orc_json_ref(orc_task_input(T)), NULL);
  } else if (!strcmp(fn, "boom")) {
    orc_task_fail(T, "Boom", "the boom task always fails", NULL);
  } else if (!strcmp(fn, "later")) {
    if (h->ntokens < 256)
      snprintf(h->tokens[h->ntokens++], 40, "%s", orc_task_token(T));
  } else if (!strcmp(fn, "never")) {
    /* left pending: times out */
  } else {
    orc_task_succeed(T, orc_json_ref(orc_task_input(T)), NULL);
  }
  return ORC_OK;
}

/* Answer the tokens saved so far (those of ended tasks are gone). */
static void answer_later(orc_engine *E, host *h) {
  int i;
  for (i = 0; i < h->ntokens; i++) {
    orc_task *T = orc_engine_find_task(E, h->tokens[i]);
    if (T) orc_task_succeed(T, orc_json_string("answered", 8), NULL);
  }
  h->ntokens = 0;
}

/* }====== */

/* {====== one workload */

static char data_dir[64];

static void write_file(const char *rel, const char *text) {
  char path[256], dir[256];
  FILE *f;
  snprintf(dir, sizeof dir, "%s/bkt", data_dir);
  mkdir(dir, 0700);
  snprintf(dir, sizeof dir, "%s/out", data_dir);
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/%s", data_dir, rel);
  f = fopen(path, "wb");
  if (f == NULL) abort();
  fputs(text, f);
  fclose(f);
}

typedef struct outcome {
  int engine_refused;  /* orc_engine_new returned NULL (ENOMEM) */
  int load_refused;    /* a machine could not be loaded (ENOMEM) */
  int start_enomem;    /* starts that failed with ORC_ENOMEM */
  int step_enomem;     /* steps that returned ORC_ENOMEM */
  int bad_messages;    /* ENOMEM without a message, or another error */
  int memory_mismatch; /* orc_engine_memory != the allocator's count */
  int over_cap;        /* the engine held more than the cap */
  int succeeded, failed, timed_out, aborted;
} outcome;

#define NX 64

static void check_memory(orc_engine *E, counter *c, outcome *o) {
  if (orc_engine_memory(E) != c->inuse) o->memory_mismatch++;
  if (c->limit && orc_engine_memory(E) > c->limit) o->over_cap++;
}

/* Load the machines, start executions of each, run them to their end
** (answering tokens between steps, stopping one), close them all and free
** the engine. */
static void workload(counter *c, int history, outcome *o) {
  static const char *const defs[] = {kitchen, failing, fail_state, distributed,
                                     parent,  child,   timing_out};
  static const char *const names[] = {"Kitchen", "Failing", "FailState", "Dmap",
                                      "Parent",  "Child",   "TimingOut"};
  const size_t ndefs = sizeof defs / sizeof defs[0];
  orc_machine *M[sizeof defs / sizeof defs[0]];
  orc_execution *X[NX];
  orc_engine_config cfg;
  orc_engine *E;
  orc_error err;
  host h;
  size_t i;
  int nx = 0, round, guard;
  memset(&h, 0, sizeof h);
  memset(M, 0, sizeof M);
  orc_engine_config_init(&cfg);
  cfg.alloc = counting_alloc;
  cfg.alloc_ud = c;
  cfg.clock = ORC_CLOCK_VIRTUAL;
  cfg.start_time_ms = 1700000000000;
  cfg.random_seed = 3;
  cfg.history = history;
  cfg.history_keep = 3;
  cfg.data_dir = data_dir;
  cfg.task = on_task;
  cfg.task_ud = &h;
  E = orc_engine_new(&cfg, &err);
  if (E == NULL) {
    o->engine_refused++;
    if (err.code != ORC_ENOMEM || err.message[0] == '\0') o->bad_messages++;
    return;
  }
  check_memory(E, c, o);
  for (i = 0; i < ndefs; i++) {
    int rc = orc_machine_load(E, defs[i], strlen(defs[i]), names[i], &M[i],
                              NULL, &err);
    if (rc == ORC_ENOMEM) {
      o->load_refused++;
      if (err.message[0] == '\0') o->bad_messages++;
    } else if (rc != ORC_OK) {
      fprintf(stderr, "load %s: %s\n", names[i], err.message);
      o->bad_messages++;
    }
    check_memory(E, c, o);
  }
  for (round = 0; round < 3; round++)
    for (i = 0; i < ndefs; i++) {
      orc_json *in = NULL;
      orc_error e2;
      int rc;
      if (M[i] == NULL || defs[i] == child || nx == NX) continue;
      if (defs[i] == kitchen) {
        orc_json *items = orc_json_array_new(5);
        int k;
        for (k = 0; items && k < 5; k++)
          orc_json_array_set(items, (size_t)k, orc_json_int(k + 1));
        in = orc_json_object_new(1);
        if (in)
          orc_json_object_set(in, 0, orc_json_string("items", 5), items);
        else
          orc_json_unref(items);
      } else if (defs[i] == fail_state || defs[i] == failing) {
        in = orc_json_object_new(2);
        if (in) {
          orc_json_object_set(in, 0, orc_json_string("e", 1),
                              orc_json_string("My.Error", 8));
          orc_json_object_set(in, 1, orc_json_string("c", 1),
                              orc_json_string("my cause", 8));
        }
      }
      memset(&e2, 0, sizeof e2);
      rc = orc_execution_start(M[i], in, NULL, &X[nx], &e2);
      orc_json_unref(in);
      if (rc == ORC_OK) {
        nx++;
      } else if (rc == ORC_ENOMEM) {
        o->start_enomem++;
        if (strstr(e2.message, "out of memory") == NULL) o->bad_messages++;
      } else {
        fprintf(stderr, "start %s: %s\n", names[i], e2.message);
        o->bad_messages++;
      }
      check_memory(E, c, o);
    }
  /* stop the last execution if it still runs: a stop with a cause */
  if (nx > 0 && orc_execution_status(X[nx - 1]) == ORC_STATUS_RUNNING)
    orc_execution_stop(X[nx - 1], "Stopped", "by the test", NULL);
  for (guard = 0; orc_engine_nrunning(E) > 0 && guard < 2000; guard++) {
    int rc;
    memset(&err, 0, sizeof err);
    rc = orc_engine_step(E, &err);
    if (rc == ORC_ENOMEM) {
      o->step_enomem++;
      if (strstr(err.message, "out of memory") == NULL) o->bad_messages++;
    } else if (rc < 0) {
      fprintf(stderr, "step: %s\n", err.message);
      o->bad_messages++;
    }
    check_memory(E, c, o);
    if (guard % 3 == 2) answer_later(E, &h);
  }
  for (i = 0; i < (size_t)nx; i++) {
    switch (orc_execution_status(X[i])) {
    case ORC_STATUS_SUCCEEDED:
      o->succeeded++;
      break;
    case ORC_STATUS_FAILED:
      o->failed++;
      break;
    case ORC_STATUS_TIMED_OUT:
      o->timed_out++;
      break;
    case ORC_STATUS_ABORTED:
      o->aborted++;
      break;
    default: /* still running (a capped engine may be stuck): stopped */
      orc_execution_stop(X[i], NULL, NULL, NULL);
      break;
    }
  }
  /* close half of them; the engine frees the rest */
  for (i = 0; i < (size_t)nx; i += 2)
    orc_execution_close(X[i]);
  check_memory(E, c, o);
  /* a refusal outside a step (a close that could not be deferred, an
  ** answer's copy) is reported by the next one */
  if (orc_engine_step(E, &err) == ORC_ENOMEM) {
    o->step_enomem++;
    if (strstr(err.message, "out of memory") == NULL) o->bad_messages++;
  }
  orc_engine_free(E);
}

/* }====== */

static void test_balance(int history, const char *label) {
  counter c;
  outcome o;
  memset(&c, 0, sizeof c);
  memset(&o, 0, sizeof o);
  workload(&c, history, &o);
  printf("%s: %zu calls, peak %zu bytes, %zu blocks left, %zu bytes left; "
         "%d succeeded, %d failed, %d timed out, %d aborted\n",
         label, c.calls, c.peak, c.n, c.inuse, o.succeeded, o.failed,
         o.timed_out, o.aborted);
  CHECK(c.calls > 100);
  CHECK(c.peak > 10000);
  CHECK(c.bad_size == 0);
  CHECK(c.unknown == 0);
  CHECK(c.inuse == 0);
  CHECK(c.n == 0);
  CHECK(o.memory_mismatch == 0);
  CHECK(o.bad_messages == 0);
  CHECK(o.start_enomem == 0 && o.step_enomem == 0);
  /* 3 rounds: kitchen, failing, fail_state, dmap, parent, timing_out */
  CHECK(o.succeeded + o.failed + o.timed_out + o.aborted == 18);
  CHECK(o.succeeded == 9); /* kitchen, dmap, parent: 3 each */
  CHECK(o.failed == 6);    /* failing, fail_state: 3 each */
  CHECK(o.timed_out == 2);
  CHECK(o.aborted == 1); /* the last one started (timing_out), stopped */
  counter_reset(&c, 0);
}

/* Caps from nothing to past the workload's peak: nothing crashes, every
** refusal is reported, and the count is 0 at the end. */
static void test_caps(void) {
  counter c;
  outcome total;
  size_t peak, limit, step;
  int runs = 0;
  memset(&c, 0, sizeof c);
  memset(&total, 0, sizeof total);
  {
    outcome o;
    memset(&o, 0, sizeof o);
    workload(&c, ORC_HISTORY_FULL, &o);
    peak = c.peak;
    counter_reset(&c, 0);
  }
  step = peak / 150 > 0 ? peak / 150 : 1;
  for (limit = 0; limit <= peak + step; limit += limit < 4096 ? 97 : step) {
    outcome o;
    memset(&o, 0, sizeof o);
    counter_reset(&c, limit ? limit : 1);
    workload(&c,
             runs % 3 == 0   ? ORC_HISTORY_FULL
             : runs % 3 == 1 ? ORC_HISTORY_NONE
                             : ORC_HISTORY_LAST,
             &o);
    runs++;
    CHECK(c.bad_size == 0);
    CHECK(c.unknown == 0);
    CHECK(c.inuse == 0);
    CHECK(o.memory_mismatch == 0);
    CHECK(o.over_cap == 0);
    CHECK(o.bad_messages == 0);
    if (c.bad_size || c.inuse || o.bad_messages)
      fprintf(stderr, "  at a cap of %zu bytes\n", limit);
    total.engine_refused += o.engine_refused;
    total.load_refused += o.load_refused;
    total.start_enomem += o.start_enomem;
    total.step_enomem += o.step_enomem;
    total.succeeded += o.succeeded;
  }
  printf("caps: %d runs up to %zu bytes: %d engines and %d loads refused, "
         "%d starts and %d steps failed with ORC_ENOMEM, %d executions "
         "succeeded\n",
         runs, peak, total.engine_refused, total.load_refused,
         total.start_enomem, total.step_enomem, total.succeeded);
  /* every kind of refusal was met somewhere in the range */
  CHECK(total.engine_refused > 0);
  CHECK(total.load_refused > 0);
  CHECK(total.start_enomem > 0);
  CHECK(total.step_enomem > 0);
  CHECK(total.succeeded > 0);
  counter_reset(&c, 0);
}

/* One refusal at a time: the k-th request of the workload is refused, for
** every k, so that each allocation's failure path runs once. */
static void test_each_refusal(int history, const char *label) {
  counter c;
  size_t k, ncalls;
  int bad = 0, reported = 0;
  memset(&c, 0, sizeof c);
  {
    outcome o;
    memset(&o, 0, sizeof o);
    workload(&c, history, &o);
    ncalls = c.nrequests;
    counter_reset(&c, 0);
  }
  for (k = 1; k <= ncalls; k++) {
    outcome o;
    memset(&o, 0, sizeof o);
    counter_reset(&c, 0);
    c.fail_at = k;
    workload(&c, history, &o);
    if (c.bad_size || c.unknown || c.inuse || o.memory_mismatch ||
        o.bad_messages) {
      if (bad++ < 5)
        fprintf(stderr,
                "refusing request %zu: %zu bad sizes, %zu unknown, "
                "%zu bytes left, %d messages wrong\n",
                k, c.bad_size, c.unknown, c.inuse, o.bad_messages);
    }
    if (o.engine_refused + o.load_refused + o.start_enomem + o.step_enomem > 0)
      reported++;
  }
  printf("each refusal (%s): %zu runs, %d reported the refusal\n", label,
         ncalls, reported);
  CHECK(bad == 0);
  CHECK((size_t)reported == ncalls);
  counter_reset(&c, 0);
}

/* The default allocator (cfg.alloc NULL) counts the same way. */
static void test_default(void) {
  orc_engine *E = orc_engine_new(NULL, NULL);
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  size_t before;
  CHECK(E != NULL);
  before = orc_engine_memory(E);
  CHECK(before > 0);
  CHECK(orc_machine_load(E, child, strlen(child), "Child", &M, NULL, NULL) ==
        ORC_OK);
  CHECK(orc_execution_start(M, NULL, "one", &X, NULL) == ORC_OK);
  CHECK(orc_engine_memory(E) > before);
  orc_execution_close(X);
  orc_engine_free(E);
}

int main(void) {
  char cmd[128];
  /* the distributed Map writes files in every run: in memory if we can */
  snprintf(data_dir, sizeof data_dir, "/dev/shm/orc_alloc_XXXXXX");
  if (mkdtemp(data_dir) == NULL) {
    snprintf(data_dir, sizeof data_dir, "/tmp/orc_alloc_XXXXXX");
    if (mkdtemp(data_dir) == NULL) return 1;
  }
  write_file("bkt/in.jsonl", "1\n2\n3\n4\n");
  test_default();
  test_balance(ORC_HISTORY_FULL, "full history");
  test_balance(ORC_HISTORY_NONE, "no history");
  test_balance(ORC_HISTORY_LAST, "last 3 events");
  test_caps();
  test_each_refusal(ORC_HISTORY_FULL, "full history");
  test_each_refusal(ORC_HISTORY_NONE, "no history");
  test_each_refusal(ORC_HISTORY_LAST, "last 3 events");
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", data_dir);
  printf("%d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
