/*
** The engine (engine.c): lifecycle, clocks, the step loop and its work
** bound, deadlines, and the engine-wide random generator. Other units
** reach the engine's parts through this structure.
*/
#ifndef ORCHESTRA_ENGINE_INT_H
#define ORCHESTRA_ENGINE_INT_H

#include <string.h>

#include "alloc_int.h"
#include "history_int.h"
#include "http_int.h"
#include "post_int.h"
#include "sched_int.h"
#include "table_int.h"
#include "task_int.h"

struct orc_engine {
  orci_allocator mem; /* every block below comes from it (alloc_int.h) */
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
  size_t nover_budget;     /* executions over budget, to stop (budget.c) */
  orc_choice_fn choice_fn; /* Choice override (choice_hook.c), or NULL */
  void *choice_ud;
};

/* {====== the engine's memory: exact sizes (see alloc_int.h); a refused
** request is reported by the next orc_engine_step */

static inline void *orci_malloc(orc_engine *E, size_t n) {
  return orci_mem(&E->mem, NULL, 0, n);
}
static inline void *orci_calloc(orc_engine *E, size_t n) {
  void *p = orci_mem(&E->mem, NULL, 0, n);
  if (p) memset(p, 0, n);
  return p;
}
/* Resize p from old to n bytes: NULL (p untouched) when refused. */
static inline void *orci_realloc(orc_engine *E, void *p, size_t old, size_t n) {
  return orci_mem(&E->mem, p, old, n);
}
/* Free p, a block of n bytes (NULL is ignored). */
static inline void orci_free(orc_engine *E, void *p, size_t n) {
  orci_mem(&E->mem, p, n, 0);
}
/* A copy of s (NULL: NULL) of strlen(s) + 1 bytes: free with orci_strfree,
** so such a string must never be shortened in place. */
static inline char *orci_strdup(orc_engine *E, const char *s) {
  size_t n;
  char *d;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  d = (char *)orci_mem(&E->mem, NULL, 0, n);
  if (d) memcpy(d, s, n);
  return d;
}
static inline void orci_strfree(orc_engine *E, char *s) {
  if (s) orci_mem(&E->mem, s, strlen(s) + 1, 0);
}
/* A formatted string of exactly its length + 1 bytes (orci_strfree), or
** NULL. */
char *orci_strfmt(orc_engine *E, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* s (made by the C library's allocator: a resolver's path, a reader's
** cause, printed JSON) copied into the engine's memory; s is freed with
** free() either way. NULL when s is NULL or the copy is refused. */
char *orci_str_adopt(orc_engine *E, char *s);

/* }====== */

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
