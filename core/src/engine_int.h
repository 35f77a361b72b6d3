/*
** The engine (engine.c): lifecycle, clocks, the step loop and its work
** bound, deadlines, and the engine-wide random generator. Other units
** reach the engine's parts through this structure.
*/
#ifndef ORCHESTRA_ENGINE_INT_H
#define ORCHESTRA_ENGINE_INT_H

#include "history_int.h"
#include "http_int.h"
#include "post_int.h"
#include "sched_int.h"
#include "table_int.h"
#include "task_int.h"

struct orc_engine {
  orc_engine_config cfg;
  char region[64], account[32];
  int64_t now_ms;    /* the virtual or manual clock */
  int64_t target_ms; /* manual clock: where engine:advance has taken it */
  orc_machine *machines;
  orc_execution *executions;
  size_t nrunning;
  orci_sched sched; /* timers and the run queue */
  uint64_t rng;
  orc_json *keys[K_COUNT];
  orc_json *not_truncated; /* {"truncated": false} */
  int stepping;
  int failed;          /* an engine failure (ORC_ENOMEM) to report */
  int busy;            /* nested pieces of work in progress (enter/leave) */
  orci_vec zombies;    /* orc_execution *: closed while busy */
  orci_table tasks;    /* pending tasks by token */
  orci_table names;    /* executions held, by (machine, name) */
  orci_table expired;  /* timed-out tokens of executions still held */
  orci_posts *posts;   /* answers posted by other threads (post.c) */
  char *data_dir;      /* copy of cfg.data_dir */
  char role[96];       /* the executions' RoleArn */
  uint64_t dispatched; /* tasks handed to the host (they weigh more) */
  orc_json *role_json; /* role as a JSON string, shared */
  orci_vec resources;  /* orci_resource: built-in task resources */
  orci_vec hooks;      /* orci_hook: see every appended event */
  orci_vec evtypes;    /* const orci_event_type *: types past EV_COUNT */
  void *agents;        /* agent.c's registry, made with the first agent */
  /* the model calls' HTTP client (agent.c), made on first use */
  struct orci_http *http;
  /* bedrock:invokeModel's settings and calls in flight (bedrock.c) */
  struct orci_bedrock *bedrock;
};

uint64_t orci_rng_next(orc_engine *E);
void orci_put_hex(char *p, uint64_t v, int n);
/* A version 4 UUID from the engine's generator (replayable). */
void orci_make_uuid(orc_engine *E, char *buf);
/* Random values for intrinsics (ud is the drawing frame). */
uint64_t orci_env_random(void *ud);

/* The engine's HTTP client, made on first use (enghttp.c): NULL with err
** set when libcurl fails. Freed by orci_agents_free. */
orci_http *orci_engine_http(orc_engine *E, orc_error *err);

/* bedrock:invokeModel (bedrock.c): register the resource; free the
** settings and release the calls in flight. */
int orci_bedrock_register(orc_engine *E);
/* invokeAgent (invoke_agent.c): the resource's start, registered by
** orci_bedrock_register, and its answer when the invocation C ends. */
int orci_invoke_agent_start(void *ud, orc_task *T);
void orci_invoke_agent_done(orc_execution *C);
void orci_bedrock_free(orc_engine *E);

#endif
