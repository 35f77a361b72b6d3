/*
** The executor's extension points, used the way the agent loop and the
** cost model use them: a built-in resource added to the engine's resource
** table (a test-only resource that answers some tasks at once and leaves
** others pending, answered later by token) runs without the host's
** handler; a history hook counts every event, with history = none as well
** as full, and sees the same types the history shows; an event type
** registered by another unit is named in the history.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execution_int.h"

#include "check.h"

static const char *const DEF =
    "{\"StartAt\":\"Echo\",\"States\":{"
    "\"Echo\":{\"Type\":\"Task\",\"Resource\":\"test:echo\",\"Next\":\"Later\"}"
    ","
    "\"Later\":{\"Type\":\"Task\",\"Resource\":\"test:later\","
    "\"TimeoutSeconds\":60,\"Next\":\"Host\"},"
    "\"Host\":{\"Type\":\"Task\",\"Resource\":\"host:thing\",\"End\":true}}}";

typedef struct counts {
  int echo, later, host;
  char token[64];
  int events, by_type[EV_COUNT + 4];
  int custom_events;
} counts;

/* test:echo answers with its input wrapped as {"echo": input} */
static int echo_start(void *ud, orc_task *T) {
  counts *c = (counts *)ud;
  orc_json *o = orc_json_object_new(1);
  c->echo++;
  orc_json_object_set(o, 0, orc_json_string("echo", 4),
                      orc_json_ref(orc_task_input(T)));
  return orc_task_succeed(T, o, NULL);
}

/* test:later keeps the token: answered from outside between steps */
static int later_start(void *ud, orc_task *T) {
  counts *c = (counts *)ud;
  c->later++;
  snprintf(c->token, sizeof c->token, "%s", orc_task_token(T));
  return ORC_OK;
}

static int host_task(void *ud, orc_task *T) {
  counts *c = (counts *)ud;
  c->host++;
  return orc_task_succeed(T, orc_json_string("host", 4), NULL);
}

static void hook(void *ud, orc_execution *X, const orci_event *ev) {
  counts *c = (counts *)ud;
  (void)X;
  c->events++;
  if (ev->type < EV_COUNT + 4) c->by_type[ev->type]++;
}

static int run(int history, counts *c, orc_json **history_out) {
  orc_engine_config cfg;
  orc_engine *E;
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_json *in = orc_json_object_new(0);
  int status, i;
  memset(c, 0, sizeof *c);
  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_VIRTUAL;
  cfg.history = history;
  cfg.task = host_task;
  cfg.task_ud = c;
  E = orc_engine_new(&cfg, NULL);
  CHECK(E != NULL);
  CHECK(orci_resource_add(E, "test:echo", echo_start, c) == ORC_OK);
  CHECK(orci_resource_add(E, "test:later", later_start, c) == ORC_OK);
  CHECK(orci_history_hook(E, hook, c) == ORC_OK);
  CHECK(orc_machine_load(E, DEF, strlen(DEF), "Rooms", &M, NULL, NULL) ==
        ORC_OK);
  CHECK(orc_execution_start(M, in, NULL, &X, NULL) == ORC_OK);
  orc_json_unref(in);
  /* step until test:later holds its task (the virtual clock would time it
  ** out on the first idle step after that: answer in between) */
  for (i = 0; i < 10 && c->later == 0; i++)
    orc_engine_step(E, NULL);
  CHECK(c->echo == 1 && c->later == 1 && c->host == 0);
  CHECK(orc_execution_status(X) == ORC_STATUS_RUNNING);
  {
    orc_task *T = orc_engine_find_task(E, c->token);
    CHECK(T != NULL);
    if (T)
      CHECK(orc_task_succeed(T, orc_json_string("later", 5), NULL) == ORC_OK);
  }
  for (i = 0; i < 10; i++)
    orc_engine_step(E, NULL);
  status = orc_execution_status(X);
  CHECK(c->host == 1);
  CHECK(orc_execution_nevents(X) == (size_t)c->events);
  if (history_out) *history_out = orc_execution_history(X);
  orc_engine_free(E);
  return status;
}

/* An event type of another unit, named in the history. */
static void test_extension_type(void) {
  static const orci_event_type probe_type = {
      "ProbeRecorded", "probeRecordedEventDetails", NULL, 0};
  orc_engine *E = orc_engine_new(NULL, NULL);
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_json *h, *events, *last;
  const char *pass = "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                     "\"Pass\",\"End\":true}}}";
  int id;
  CHECK(E != NULL);
  id = orci_history_add_type(E, &probe_type);
  CHECK(id >= EV_COUNT);
  CHECK(orc_machine_load(E, pass, strlen(pass), NULL, &M, NULL, NULL) ==
        ORC_OK);
  CHECK(orc_execution_start(M, NULL, NULL, &X, NULL) == ORC_OK);
  orci_add_event(X, 1, id,
                 orci_kv_object(E, 1, K_NAME, orc_json_string("x", 1)));
  h = orc_execution_history(X);
  events = orc_json_object_find(h, "events", 6);
  last = orc_json_array_get(events, orc_json_len(events) - 1);
  CHECK(
      strcmp(orc_json_string_value(orc_json_object_find(last, "type", 4), NULL),
             "ProbeRecorded") == 0);
  CHECK(orc_json_object_find(last, "probeRecordedEventDetails", 25) != NULL);
  orc_json_unref(h);
  orc_engine_free(E);
}

int main(void) {
  counts full, none;
  orc_json *h = NULL;
  size_t i, n;
  CHECK(run(ORC_HISTORY_FULL, &full, &h) == ORC_STATUS_SUCCEEDED);
  CHECK(run(ORC_HISTORY_NONE, &none, NULL) == ORC_STATUS_SUCCEEDED);
  /* the hook sees the same events whether the history keeps them or not */
  CHECK(full.events > 10);
  CHECK(full.events == none.events);
  CHECK(memcmp(full.by_type, none.by_type, sizeof full.by_type) == 0);
  CHECK(full.by_type[EV_TASK_SCHEDULED] == 3);
  CHECK(full.by_type[EV_TASK_SUCCEEDED] == 3);
  CHECK(full.by_type[EV_EXECUTION_SUCCEEDED] == 1);
  /* and the history shows what the hook counted */
  n = orc_json_len(orc_json_object_find(h, "events", 6));
  CHECK(n == (size_t)full.events);
  for (i = 0; i < n; i++) {
    orc_json *ev = orc_json_array_get(orc_json_object_find(h, "events", 6), i);
    orc_json *d = orc_json_object_find(ev, "taskSucceededEventDetails", 25);
    if (d && i == 5) /* Echo's answer: {"echo": {}} as JSON text */
      CHECK(strcmp(orc_json_string_value(orc_json_object_find(d, "output", 6),
                                         NULL),
                   "{\"echo\":{}}") == 0);
  }
  orc_json_unref(h);
  test_extension_type();
  printf("%d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
