/*
** Tasks (task.c): what leaves the engine for the host or a built-in
** resource, their tokens, timeouts and heartbeats, and the resource table.
**
** Lifetime: a task is freed only when it is done (answered or abandoned)
** and no call that handed it out is still running (holds == 0). The engine
** holds a task while the host's handler (or a built-in resource) runs, so
** a handler that stops its own execution, answers its own token, or
** answers twice leaves the caller's pointer valid; a host that keeps a
** task across calls of its own retains it (orc_task_retain).
*/
#ifndef ORCHESTRA_TASK_INT_H
#define ORCHESTRA_TASK_INT_H

#include "orchestra/engine.h"

typedef struct orci_frame orci_frame;

#define ORCI_TASK_PENDING   0
#define ORCI_TASK_ANSWERED  1
#define ORCI_TASK_ABANDONED 2

#define ORCI_SYNC_AGENT 3 /* orc_task.sync: answered by invoke_agent.c */

/* The owner of a task that no frame waits on (the agent loop's model and
** tool calls): told once when the task is answered (output taken; error
** and cause borrowed) or abandoned (ok = -1), and asked for the context
** object a handler sees. */
typedef struct orci_task_owner {
  void (*done)(void *data, orc_task *T, int ok, orc_json *output,
               const char *error, const char *cause);
  orc_json *(*context)(void *data, const orc_task *T); /* returns owned */
} orci_task_owner;

struct orc_task {
  orc_engine *E;                /* whose memory it is */
  orci_frame *F;                /* the frame waiting on it; NULL once done */
  const orci_task_owner *owner; /* or this owner (F is NULL) */
  void *owner_data;
  orc_execution *X;
  const char *resource;   /* the state's (machines outlive tasks) */
  const char *state_name; /* the state's */
  orc_json *input;
  char token[40];
  void *ud;
  int done;             /* ORCI_TASK_* */
  int holds;            /* calls in progress that handed it out + retains */
  orc_execution *child; /* states:startExecution.sync: the child it awaits */
  int sync;             /* 1: .sync (Output as text), 2: .sync:2 (as JSON),
                           ORCI_SYNC_AGENT: invokeAgent's invocation */
  orc_task *sub; /* a task a built-in resource launched to answer this one
                    (model_route.c): abandoned with it */
};

/* A built-in resource: called instead of the host's handler for tasks
** whose Resource starts with prefix; the same contract as orc_task_fn (it
** answers now with orc_task_succeed/_fail, or later). */
typedef int (*orci_resource_fn)(void *ud, orc_task *T);
typedef struct orci_resource {
  const char *prefix; /* borrowed: lives as long as the engine */
  size_t len;
  orci_resource_fn start;
  void *ud;
} orci_resource;

/* Add an entry to E's resource table: ORC_OK or ORC_ENOMEM. The longest
** matching prefix wins. */
int orci_resource_add(orc_engine *E, const char *prefix, orci_resource_fn start,
                      void *ud);
/* The entry for resource, or NULL (the host's handler runs it). */
const orci_resource *orci_resource_find(const orc_engine *E,
                                        const char *resource);

/* Hand the frame's task out (first try or a retry). */
void orci_task_start(orci_frame *F);
/* A task of X owned by owner/data (no frame): resource and name are
** borrowed and must outlive the task (they belong to a compiled agent or
** machine); input is taken. It gets a fresh token, is put in the token
** table and handed to a built-in resource or the host's handler at once
** (the call may answer it before this returns: owner->done runs then).
** ORC_OK with *out (may be NULL) the task while it is still pending
** (valid until answered or abandoned), or NULL when it was answered
** already; ORC_ENOMEM (input released, owner not called). */
int orci_task_launch(orc_execution *X, const char *resource, const char *name,
                     orc_json *input, const orci_task_owner *owner, void *data,
                     orc_task **out);
/* The engine abandons T (its execution or frame ended): the host hears of
** it through task_drop; freed when no call holds it. */
void orci_drop_task(orc_engine *E, orc_task *T);
/* Answer T: output/error/cause are taken/copied. ORC_EMISUSE (output
** released) when T is done already. */
int orci_task_complete(orc_task *T, int ok, orc_json *output, const char *error,
                       const char *cause, orc_error *err);
/* Forget the timed-out tokens remembered for X (it is being freed). */
void orci_task_forget_expired(orc_engine *E, orc_execution *X);
void orci_make_token(orc_engine *E, char *buf);
/* TimeoutSeconds/HeartbeatSeconds timers of a frame fired. */
void orci_task_timeout_fired(orc_engine *E, void *data);
void orci_task_heartbeat_fired(orc_engine *E, void *data);

#endif
