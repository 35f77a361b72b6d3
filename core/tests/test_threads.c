/*
** Completions from other threads: 10,000 pending tasks answered by 4
** threads through orc_engine_post_* while the engine's thread keeps
** stepping and waiting. Run under ThreadSanitizer by `make test-tsan`.
** Checks that every execution ends with the answer posted for it, that
** failures and heartbeats arrive too, that posts for unknown tokens are
** dropped, and that malformed JSON is refused on the posting thread.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestra/engine.h"

#include "check.h"

#define NTASKS   10000
#define NTHREADS 4

/* Tokens copied on the engine's thread before the posting threads start:
** read-only while they run. */
static char tokens[NTASKS][64];
static int ntokens;

static int on_task(void *ud, orc_task *T) {
  (void)ud;
  if (ntokens < NTASKS) {
    snprintf(tokens[ntokens], sizeof tokens[0], "%s", orc_task_token(T));
    orc_task_set_userdata(T, (void *)(intptr_t)ntokens);
    ntokens++;
  }
  return ORC_OK; /* pending: answered by a thread */
}

typedef struct worker {
  orc_engine *E;
  int first, last; /* tokens [first, last) */
  int rc;          /* first unexpected status */
} worker;

/* Task i: every 10th fails, every 7th gets a heartbeat first, the rest
** succeed with {"i": i}. */
static void *post_answers(void *arg) {
  worker *w = (worker *)arg;
  char buf[64];
  int i, rc;
  for (i = w->first; i < w->last; i++) {
    if (i % 7 == 0 &&
        (rc = orc_engine_post_heartbeat(w->E, tokens[i], NULL)) != ORC_OK)
      w->rc = rc;
    if (i % 10 == 0) {
      snprintf(buf, sizeof buf, "cause %d", i);
      rc = orc_engine_post_failure(w->E, tokens[i], "Worker.Failed", buf, NULL);
    } else {
      int n = snprintf(buf, sizeof buf, "{\"i\":%d}", i);
      rc = orc_engine_post_success(w->E, tokens[i], buf, (size_t)n, NULL);
    }
    if (rc != ORC_OK) w->rc = rc;
  }
  return NULL;
}

static const char def[] =
    "{\"StartAt\":\"Work\",\"States\":{\"Work\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:function:work\","
    "\"HeartbeatSeconds\":3600,\"End\":true}}}";

static void test_many_threads(void) {
  orc_engine_config cfg;
  orc_engine *E;
  orc_machine *M = NULL;
  orc_execution **xs;
  pthread_t th[NTHREADS];
  worker ws[NTHREADS];
  orc_error err;
  int i, guard = 0;

  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_REAL;
  cfg.task = on_task;
  E = orc_engine_new(&cfg, &err);
  CHECK(E != NULL);
  if (E == NULL) return;
  CHECK(orc_machine_load(E, def, sizeof def - 1, "Work", &M, NULL, &err) ==
        ORC_OK);
  xs = (orc_execution **)calloc(NTASKS, sizeof *xs);
  for (i = 0; i < NTASKS; i++) {
    orc_json *in = orc_json_int(i);
    CHECK(orc_execution_start(M, in, NULL, &xs[i], &err) == ORC_OK);
    orc_json_unref(in);
  }
  while (ntokens < NTASKS && guard++ < 100000)
    CHECK(orc_engine_step(E, &err) >= 0);
  CHECK(ntokens == NTASKS);
  CHECK(orc_engine_nrunning(E) == NTASKS);

  for (i = 0; i < NTHREADS; i++) {
    ws[i].E = E;
    ws[i].first = i * (NTASKS / NTHREADS);
    ws[i].last = (i + 1) * (NTASKS / NTHREADS);
    ws[i].rc = ORC_OK;
    CHECK(pthread_create(&th[i], NULL, post_answers, &ws[i]) == 0);
  }
  /* the engine's thread keeps stepping while the answers arrive */
  guard = 0;
  while (orc_engine_nrunning(E) > 0 && guard++ < 1000000) {
    int n = orc_engine_step(E, &err);
    CHECK(n >= 0);
    if (n == 0) orc_engine_wait(E, 50);
  }
  for (i = 0; i < NTHREADS; i++) {
    CHECK(pthread_join(th[i], NULL) == 0);
    CHECK(ws[i].rc == ORC_OK);
  }
  CHECK(orc_engine_nrunning(E) == 0);

  for (i = 0; i < NTASKS; i++) {
    /* the executions started in order; the i-th task is execution i's */
    if (i % 10 == 0) {
      char cause[32];
      snprintf(cause, sizeof cause, "cause %d", i);
      CHECK(orc_execution_status(xs[i]) == ORC_STATUS_FAILED);
      CHECK(orc_execution_error(xs[i]) &&
            strcmp(orc_execution_error(xs[i]), "Worker.Failed") == 0);
      CHECK(orc_execution_cause(xs[i]) &&
            strcmp(orc_execution_cause(xs[i]), cause) == 0);
    } else {
      orc_json *out = orc_execution_output(xs[i]);
      orc_json *v = out ? orc_json_object_find(out, "i", 1) : NULL;
      CHECK(orc_execution_status(xs[i]) == ORC_STATUS_SUCCEEDED);
      CHECK(v != NULL && orc_json_type_of(v) == ORC_JSON_INT &&
            orc_json_int_value(v) == i);
    }
  }
  free(xs);
  orc_engine_free(E);
}

/* Posts that cannot be applied: an unknown token is dropped when the queue
** is drained, malformed JSON is refused at once, NULL arguments too. */
static void test_bad_posts(void) {
  orc_engine_config cfg;
  orc_engine *E;
  orc_error err;
  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_VIRTUAL;
  E = orc_engine_new(&cfg, &err);
  CHECK(E != NULL);
  if (E == NULL) return;
  CHECK(orc_engine_post_success(E, "no-such-token", "1", 1, &err) == ORC_OK);
  CHECK(orc_engine_post_failure(E, "no-such-token", NULL, NULL, &err) ==
        ORC_OK);
  CHECK(orc_engine_post_success(E, "t", "{bad", 4, &err) == ORC_EJSON);
  CHECK(orc_engine_post_success(NULL, "t", "1", 1, &err) == ORC_EINVAL);
  CHECK(orc_engine_post_heartbeat(E, NULL, &err) == ORC_EINVAL);
  CHECK(orc_engine_step(E, &err) == 0); /* drains and drops both */
  /* a wait with posts pending or a wakeup seen returns at once */
  orc_engine_wakeup(E);
  CHECK(orc_engine_wait(E, -1) == ORC_OK);
  CHECK(orc_engine_wait(NULL, 0) == ORC_EINVAL);
  orc_engine_free(E);
}

int main(void) {
  test_bad_posts();
  test_many_threads();
  printf("%d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
