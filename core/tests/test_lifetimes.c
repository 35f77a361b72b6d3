/*
** Task lifetimes (issue 8, part 1): a C task handler that answers its task
** twice, answers and then heartbeats, answers through the token, stops its
** own execution or closes it, all inside the call that handed the task out.
** None of these may read freed memory (`make test-asan` runs this file
** under AddressSanitizer) and each has one outcome: the first answer wins
** and a later one returns ORC_EMISUSE; a stop wins over any answer given
** after it (the execution ends ABORTED with ExecutionAborted last).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestra/engine.h"

#include "check.h"

enum mode {
  SUCCEED_TWICE,
  SUCCEED_THEN_FAIL,
  FAIL_THEN_SUCCEED,
  FAIL_TWICE,
  HEARTBEAT_AFTER_ANSWER,
  ANSWER_BY_TOKEN_THEN_SUCCEED,
  STOP_THEN_RETURN,
  STOP_THEN_SUCCEED,
  STOP_THEN_FAIL,
  STOP_THEN_ERROR_STATUS,
  CLOSE_IN_HANDLER
};

/* What the handler did, for the checks after the run. */
typedef struct probe {
  orc_engine *E;
  enum mode mode;
  int calls, drops;
  int rc1, rc2; /* the first and the second call's status */
  int found_same, found_after;
} probe;

static orc_json *number_object(int n) {
  orc_json *o = orc_json_object_new(1);
  orc_json_object_set(o, 0, orc_json_string("n", 1), orc_json_int(n));
  return o;
}

static int on_task(void *ud, orc_task *T) {
  probe *p = (probe *)ud;
  orc_execution *X = orc_task_execution(T);
  char token[128];
  orc_task *found;
  p->calls++;
  snprintf(token, sizeof token, "%s", orc_task_token(T));
  switch (p->mode) {
  case SUCCEED_TWICE:
    p->rc1 = orc_task_succeed(T, number_object(1), NULL);
    p->rc2 = orc_task_succeed(T, number_object(2), NULL);
    break;
  case SUCCEED_THEN_FAIL:
    p->rc1 = orc_task_succeed(T, number_object(1), NULL);
    p->rc2 = orc_task_fail(T, "Late.Failure", "after the success", NULL);
    break;
  case FAIL_THEN_SUCCEED:
    p->rc1 = orc_task_fail(T, "First.Failure", "the first answer", NULL);
    p->rc2 = orc_task_succeed(T, number_object(2), NULL);
    break;
  case FAIL_TWICE:
    p->rc1 = orc_task_fail(T, "First.Failure", "the first answer", NULL);
    p->rc2 = orc_task_fail(T, "Second.Failure", "the second answer", NULL);
    break;
  case HEARTBEAT_AFTER_ANSWER:
    p->rc1 = orc_task_succeed(T, number_object(1), NULL);
    p->rc2 = orc_task_heartbeat(T, NULL);
    p->found_after = orc_engine_find_task(p->E, token) != NULL;
    break;
  case ANSWER_BY_TOKEN_THEN_SUCCEED:
    found = orc_engine_find_task(p->E, token);
    p->found_same = found == T;
    p->rc1 = found ? orc_task_succeed(found, number_object(1), NULL) : -100;
    p->rc2 = orc_task_succeed(T, number_object(2), NULL);
    p->found_after = orc_engine_find_task(p->E, token) != NULL;
    break;
  case STOP_THEN_RETURN:
    p->rc1 = orc_execution_stop(X, "Stopped", "by its own handler", NULL);
    break;
  case STOP_THEN_SUCCEED:
    p->rc1 = orc_execution_stop(X, "Stopped", "by its own handler", NULL);
    p->rc2 = orc_task_succeed(T, number_object(2), NULL);
    p->found_after = orc_engine_find_task(p->E, token) != NULL;
    break;
  case STOP_THEN_FAIL:
    p->rc1 = orc_execution_stop(X, "Stopped", "by its own handler", NULL);
    p->rc2 = orc_task_fail(T, "Late.Failure", "after the stop", NULL);
    break;
  case STOP_THEN_ERROR_STATUS:
    p->rc1 = orc_execution_stop(X, "Stopped", "by its own handler", NULL);
    return ORC_ENOMEM; /* an internal failure after the stop: ignored */
  case CLOSE_IN_HANDLER:
    orc_execution_close(X);
    break;
  }
  return ORC_OK;
}

static void on_drop(void *ud, orc_task *T) {
  (void)T;
  ((probe *)ud)->drops++;
}

static const char one_task[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:states:::sqs:sendMessage\",\"End\":true}}}";

static const char one_pass[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
    "\"Result\":\"ok\",\"End\":true}}}";

static orc_engine *new_engine(probe *p) {
  orc_engine_config cfg;
  orc_error err;
  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_VIRTUAL;
  cfg.start_time_ms = 1700000000000;
  cfg.random_seed = 1;
  cfg.task = on_task;
  cfg.task_drop = on_drop;
  cfg.task_ud = p;
  p->E = orc_engine_new(&cfg, &err);
  return p->E;
}

static void run_all(orc_engine *E) {
  orc_error err;
  int guard = 0;
  while (orc_engine_nrunning(E) > 0 && guard++ < 100)
    CHECK(orc_engine_step(E, &err) >= 0);
  CHECK(orc_engine_nrunning(E) == 0);
}

/* The type of the history's last event and how many events have type t. */
static void history_facts(orc_execution *X, const char *t, char *last,
                          size_t lastsz, int *count) {
  orc_json *h = orc_execution_history(X);
  orc_json *events = h ? orc_json_object_find(h, "events", 6) : NULL;
  size_t i, n = events ? orc_json_len(events) : 0;
  *count = 0;
  last[0] = '\0';
  for (i = 0; i < n; i++) {
    orc_json *ty =
        orc_json_object_find(orc_json_array_get(events, i), "type", 4);
    const char *s = ty ? orc_json_string_value(ty, NULL) : NULL;
    if (s && strcmp(s, t) == 0) (*count)++;
    if (s && i + 1 == n) snprintf(last, lastsz, "%s", s);
  }
  orc_json_unref(h);
}

/* The engine still runs a fresh execution after the case. */
static void check_engine_goes_on(orc_engine *E) {
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_error err;
  CHECK(orc_machine_load(E, one_pass, sizeof one_pass - 1, "After", &M, NULL,
                         &err) == ORC_OK);
  if (M == NULL) return;
  CHECK(orc_execution_start(M, NULL, NULL, &X, &err) == ORC_OK);
  run_all(E);
  CHECK(X && orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
}

/* Runs the one-Task machine with the handler in mode m; returns the
** execution (owned by p->E, which the caller frees). */
static orc_execution *run_mode(probe *p, enum mode m) {
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_error err;
  memset(p, 0, sizeof *p);
  p->mode = m;
  p->rc1 = p->rc2 = -100;
  if (new_engine(p) == NULL) {
    CHECK(!"orc_engine_new failed");
    return NULL;
  }
  CHECK(orc_machine_load(p->E, one_task, sizeof one_task - 1, "One", &M, NULL,
                         &err) == ORC_OK);
  if (M == NULL) return NULL;
  CHECK(orc_execution_start(M, NULL, NULL, &X, &err) == ORC_OK);
  run_all(p->E);
  CHECK(p->calls == 1);
  return X;
}

static int output_n(orc_execution *X) {
  orc_json *out = orc_execution_output(X);
  orc_json *n = out ? orc_json_object_find(out, "n", 1) : NULL;
  return n ? (int)orc_json_int_value(n) : -1;
}

static int error_is(orc_execution *X, const char *e) {
  const char *s = orc_execution_error(X);
  return s && strcmp(s, e) == 0;
}

static void test_succeed_twice(void) {
  probe p;
  orc_execution *X = run_mode(&p, SUCCEED_TWICE);
  char last[64];
  int n;
  if (X == NULL) return;
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  CHECK(output_n(X) == 1);
  history_facts(X, "TaskSucceeded", last, sizeof last, &n);
  CHECK(n == 1);
  CHECK(strcmp(last, "ExecutionSucceeded") == 0);
  CHECK(p.drops == 0);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_succeed_then_fail(void) {
  probe p;
  orc_execution *X = run_mode(&p, SUCCEED_THEN_FAIL);
  char last[64];
  int n;
  if (X == NULL) return;
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  CHECK(output_n(X) == 1);
  history_facts(X, "TaskFailed", last, sizeof last, &n);
  CHECK(n == 0);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_fail_then_succeed(void) {
  probe p;
  orc_execution *X = run_mode(&p, FAIL_THEN_SUCCEED);
  char last[64];
  int n;
  if (X == NULL) return;
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(orc_execution_status(X) == ORC_STATUS_FAILED);
  CHECK(error_is(X, "First.Failure"));
  history_facts(X, "TaskSucceeded", last, sizeof last, &n);
  CHECK(n == 0);
  CHECK(strcmp(last, "ExecutionFailed") == 0);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_fail_twice(void) {
  probe p;
  orc_execution *X = run_mode(&p, FAIL_TWICE);
  if (X == NULL) return;
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(orc_execution_status(X) == ORC_STATUS_FAILED);
  CHECK(error_is(X, "First.Failure"));
  orc_engine_free(p.E);
}

static void test_heartbeat_after_answer(void) {
  probe p;
  orc_execution *X = run_mode(&p, HEARTBEAT_AFTER_ANSWER);
  if (X == NULL) return;
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(p.found_after == 0);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  CHECK(output_n(X) == 1);
  orc_engine_free(p.E);
}

/* The Lua case "answers its own task by token, then returns" in C. */
static void test_answer_by_token(void) {
  probe p;
  orc_execution *X = run_mode(&p, ANSWER_BY_TOKEN_THEN_SUCCEED);
  if (X == NULL) return;
  CHECK(p.found_same == 1);
  CHECK(p.rc1 == ORC_OK);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(p.found_after == 0);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  CHECK(output_n(X) == 1);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

/* ABORTED by the handler's stop, ExecutionAborted last, no task result. */
static void check_stopped(probe *p, orc_execution *X) {
  char last[64];
  int n;
  const char *cause = orc_execution_cause(X);
  CHECK(p->rc1 == ORC_OK);
  CHECK(orc_execution_status(X) == ORC_STATUS_ABORTED);
  CHECK(error_is(X, "Stopped"));
  CHECK(cause && strcmp(cause, "by its own handler") == 0);
  CHECK(orc_execution_output(X) == NULL);
  history_facts(X, "TaskSucceeded", last, sizeof last, &n);
  CHECK(n == 0);
  CHECK(strcmp(last, "ExecutionAborted") == 0);
  history_facts(X, "TaskFailed", last, sizeof last, &n);
  CHECK(n == 0);
  CHECK(p->drops <= 1);
}

static void test_stop_then_return(void) {
  probe p;
  orc_execution *X = run_mode(&p, STOP_THEN_RETURN);
  if (X == NULL) return;
  check_stopped(&p, X);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_stop_then_succeed(void) {
  probe p;
  orc_execution *X = run_mode(&p, STOP_THEN_SUCCEED);
  if (X == NULL) return;
  check_stopped(&p, X);
  CHECK(p.rc2 == ORC_EMISUSE);
  CHECK(p.found_after == 0);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_stop_then_fail(void) {
  probe p;
  orc_execution *X = run_mode(&p, STOP_THEN_FAIL);
  if (X == NULL) return;
  check_stopped(&p, X);
  CHECK(p.rc2 == ORC_EMISUSE);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static void test_stop_then_error_status(void) {
  probe p;
  orc_execution *X = run_mode(&p, STOP_THEN_ERROR_STATUS);
  if (X == NULL) return;
  check_stopped(&p, X);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

/* orc_execution_close on the handler's own execution: the engine goes on
** without reading the closed execution or its task. */
static void test_close_in_handler(void) {
  probe p;
  if (run_mode(&p, CLOSE_IN_HANDLER) == NULL) return;
  CHECK(orc_engine_nrunning(p.E) == 0);
  check_engine_goes_on(p.E);
  orc_engine_free(p.E);
}

static const struct {
  const char *name;
  void (*fn)(void);
} cases[] = {{"succeed_twice", test_succeed_twice},
             {"succeed_then_fail", test_succeed_then_fail},
             {"fail_then_succeed", test_fail_then_succeed},
             {"fail_twice", test_fail_twice},
             {"heartbeat_after_answer", test_heartbeat_after_answer},
             {"answer_by_token", test_answer_by_token},
             {"stop_then_return", test_stop_then_return},
             {"stop_then_succeed", test_stop_then_succeed},
             {"stop_then_fail", test_stop_then_fail},
             {"stop_then_error_status", test_stop_then_error_status},
             {"close_in_handler", test_close_in_handler}};

/* With no argument every case runs; `test_lifetimes NAME` runs one (a
** crash in one case then does not hide the others). */
int main(int argc, char **argv) {
  size_t i, ran = 0;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
      cases[i].fn();
      ran++;
    }
  CHECK(ran > 0);
  printf("%d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
