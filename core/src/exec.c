/*
** The executor: engines, executions, frames (threads of control inside an
** execution), timers, task dispatch, Retry/Catch, and the history.
**
** The host drives everything through orc_engine_step. A frame runs one
** state per turn and goes back to the end of the run queue, so executions
** interleave fairly and a step's work is bounded.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "asl_int.h"
#include "items_int.h"
#include "post_int.h"

/* {====== event types */

enum {
  EV_EXECUTION_STARTED,
  EV_EXECUTION_SUCCEEDED,
  EV_EXECUTION_FAILED,
  EV_EXECUTION_ABORTED,
  EV_EXECUTION_TIMED_OUT,
  EV_STATE_ENTERED, /* + state type */
  EV_STATE_EXITED = EV_STATE_ENTERED + 8,
  EV_TASK_SCHEDULED = EV_STATE_EXITED + 8,
  EV_TASK_STARTED,
  EV_TASK_SUCCEEDED,
  EV_TASK_FAILED,
  EV_LAMBDA_SCHEDULED,
  EV_LAMBDA_STARTED,
  EV_LAMBDA_SUCCEEDED,
  EV_LAMBDA_FAILED,
  EV_TASK_TIMED_OUT,
  EV_LAMBDA_TIMED_OUT,
  EV_PARALLEL_STARTED,
  EV_PARALLEL_SUCCEEDED,
  EV_PARALLEL_FAILED,
  EV_MAP_STARTED,
  EV_MAP_SUCCEEDED,
  EV_MAP_FAILED,
  EV_MAP_ITER_STARTED,
  EV_MAP_ITER_SUCCEEDED,
  EV_MAP_ITER_FAILED,
  EV_MAP_ITER_ABORTED,
  EV_MAP_RUN_STARTED,
  EV_MAP_RUN_SUCCEEDED,
  EV_MAP_RUN_FAILED,
  EV_TASK_SUBMITTED,
  EV_COUNT
};

static const char *const state_type_names[] = {
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Map", "Parallel"};

static const char *event_type_name(int t, char *buf) {
  switch (t) {
  case EV_EXECUTION_STARTED:
    return "ExecutionStarted";
  case EV_EXECUTION_SUCCEEDED:
    return "ExecutionSucceeded";
  case EV_EXECUTION_FAILED:
    return "ExecutionFailed";
  case EV_EXECUTION_ABORTED:
    return "ExecutionAborted";
  case EV_EXECUTION_TIMED_OUT:
    return "ExecutionTimedOut";
  case EV_TASK_SCHEDULED:
    return "TaskScheduled";
  case EV_TASK_STARTED:
    return "TaskStarted";
  case EV_TASK_SUCCEEDED:
    return "TaskSucceeded";
  case EV_TASK_FAILED:
    return "TaskFailed";
  case EV_LAMBDA_SCHEDULED:
    return "LambdaFunctionScheduled";
  case EV_LAMBDA_STARTED:
    return "LambdaFunctionStarted";
  case EV_LAMBDA_SUCCEEDED:
    return "LambdaFunctionSucceeded";
  case EV_LAMBDA_FAILED:
    return "LambdaFunctionFailed";
  case EV_TASK_TIMED_OUT:
    return "TaskTimedOut";
  case EV_PARALLEL_STARTED:
    return "ParallelStateStarted";
  case EV_PARALLEL_SUCCEEDED:
    return "ParallelStateSucceeded";
  case EV_PARALLEL_FAILED:
    return "ParallelStateFailed";
  case EV_MAP_STARTED:
    return "MapStateStarted";
  case EV_MAP_SUCCEEDED:
    return "MapStateSucceeded";
  case EV_MAP_FAILED:
    return "MapStateFailed";
  case EV_MAP_ITER_STARTED:
    return "MapIterationStarted";
  case EV_MAP_ITER_SUCCEEDED:
    return "MapIterationSucceeded";
  case EV_MAP_ITER_FAILED:
    return "MapIterationFailed";
  case EV_MAP_ITER_ABORTED:
    return "MapIterationAborted";
  case EV_MAP_RUN_STARTED:
    return "MapRunStarted";
  case EV_MAP_RUN_SUCCEEDED:
    return "MapRunSucceeded";
  case EV_MAP_RUN_FAILED:
    return "MapRunFailed";
  case EV_TASK_SUBMITTED:
    return "TaskSubmitted";
  case EV_LAMBDA_TIMED_OUT:
    return "LambdaFunctionTimedOut";
  default:
    if (t >= EV_STATE_ENTERED && t < EV_STATE_EXITED) {
      snprintf(buf, 48, "%sStateEntered",
               state_type_names[t - EV_STATE_ENTERED]);
      return buf;
    }
    snprintf(buf, 48, "%sStateExited", state_type_names[t - EV_STATE_EXITED]);
    return buf;
  }
}

static const char *event_details_key(int t) {
  switch (t) {
  case EV_EXECUTION_STARTED:
    return "executionStartedEventDetails";
  case EV_EXECUTION_SUCCEEDED:
    return "executionSucceededEventDetails";
  case EV_EXECUTION_FAILED:
    return "executionFailedEventDetails";
  case EV_EXECUTION_ABORTED:
    return "executionAbortedEventDetails";
  case EV_EXECUTION_TIMED_OUT:
    return "executionTimedOutEventDetails";
  case EV_TASK_SCHEDULED:
    return "taskScheduledEventDetails";
  case EV_TASK_STARTED:
    return "taskStartedEventDetails";
  case EV_TASK_SUCCEEDED:
    return "taskSucceededEventDetails";
  case EV_TASK_FAILED:
    return "taskFailedEventDetails";
  case EV_LAMBDA_SCHEDULED:
    return "lambdaFunctionScheduledEventDetails";
  case EV_LAMBDA_STARTED:
    return NULL;
  case EV_LAMBDA_SUCCEEDED:
    return "lambdaFunctionSucceededEventDetails";
  case EV_LAMBDA_FAILED:
    return "lambdaFunctionFailedEventDetails";
  case EV_TASK_TIMED_OUT:
    return "taskTimedOutEventDetails";
  case EV_PARALLEL_STARTED:
  case EV_PARALLEL_SUCCEEDED:
  case EV_PARALLEL_FAILED:
  case EV_MAP_SUCCEEDED:
  case EV_MAP_FAILED:
    return NULL;
  case EV_MAP_STARTED:
    return "mapStateStartedEventDetails";
  case EV_MAP_ITER_STARTED:
    return "mapIterationStartedEventDetails";
  case EV_MAP_ITER_SUCCEEDED:
    return "mapIterationSucceededEventDetails";
  case EV_MAP_ITER_FAILED:
    return "mapIterationFailedEventDetails";
  case EV_MAP_ITER_ABORTED:
    return "mapIterationAbortedEventDetails";
  case EV_MAP_RUN_STARTED:
    return "mapRunStartedEventDetails";
  case EV_MAP_RUN_SUCCEEDED:
    return NULL;
  case EV_MAP_RUN_FAILED:
    return "mapRunFailedEventDetails";
  case EV_TASK_SUBMITTED:
    return "taskSubmittedEventDetails";
  case EV_LAMBDA_TIMED_OUT:
    return "lambdaFunctionTimedOutEventDetails";
  default:
    return t < EV_STATE_EXITED ? "stateEnteredEventDetails"
                               : "stateExitedEventDetails";
  }
}

/* }====== */

/* {====== structures */

typedef struct event { /* 48 bytes: a million of them fit in 48 MB */
  int64_t id, ts_ms;
  uint32_t back; /* id - previousEventId */
  uint16_t type;
  uint16_t lazy; /* 1: st and data make the details (lazy_details) */
  union {
    orc_json *details;    /* an object; input/output members hold values */
    const orci_state *st; /* lazy: the state whose run the event records */
  } u;
  orc_json *data;   /* lazy: the payload (input, output, parameters) */
  orc_json *replay; /* inputs a replay needs that AWS's fields lack, or
                       NULL; exported as "orchestraReplay" */
} event;

/* K_INPUT or K_OUTPUT: the payload key of a lazy Entered/Exited event */
#define EV_DATA_KEY(ev) ((ev)->type < EV_STATE_EXITED ? K_INPUT : K_OUTPUT)

typedef struct frame frame;

/* The "state" of a lazy ExecutionStarted event (it has none). */
static const orci_state start_marker;

#define PH_ENTER      0 /* about to enter the state */
#define PH_TASK_START 1 /* schedule the task (first try or a retry) */
#define PH_TASK_WAIT  2 /* a task is out with the host */
#define PH_TASK_DONE  3 /* the task answered: process it */
#define PH_TIMER      4 /* waiting on a timer (Wait state or back-off) */
#define PH_WAIT_DONE  5 /* a Wait state's timer fired */
#define PH_DONE       6
#define PH_GROUP_WAIT 7 /* a Map's or Parallel's children are running */
#define PH_GROUP_DONE 8 /* they all ended (or one failed): finish the state */
#define PH_GROUP_MORE 9 /* more children to start on a later turn */

/* Children a Map starts in one unit of work: a distributed Map may run
** 10,000 at once, and starting them all in one go would stall the step. */
#define SPAWN_BATCH 64

struct orc_task {
  frame *F; /* NULL once abandoned */
  orc_execution *X;
  const char *resource;   /* the state's (machines outlive tasks) */
  const char *state_name; /* the state's */
  orc_json *input;
  char token[40];
  void *ud;
  int completed;
  orc_execution *child; /* states:startExecution.sync: the child it awaits */
  int sync;             /* 1: .sync (Output as text), 2: .sync:2 (as JSON) */
};

struct frame {
  orc_execution *X;
  int state; /* index of the current state */
  int phase;
  orc_json *input;     /* the state's raw input */
  orc_json *effective; /* after InputPath and Parameters (Task) */
  int64_t entered_id;  /* id of this state's Entered event */
  int64_t last_event;  /* previousEventId of this frame's next event */
  int64_t entered_ms;
  int64_t *attempts;   /* per retrier of the current state */
  int retry_count;     /* $$.State.RetryCount */
  orc_task *task;      /* the task out with the host */
  orc_json *result;    /* the task's answer */
  char *error, *cause; /* or its failure */
  int task_ok;
  int queued;            /* on the run queue */
  uint32_t ntimers;      /* timer heap entries that point at this frame */
  uint32_t timer_gen;    /* bumps invalidate stale timer entries */
  uint32_t task_gen;     /* the task attempt a timeout belongs to */
  uint32_t hb_gen;       /* the heartbeat a heartbeat timer belongs to */
  int64_t heartbeat_s;   /* the running task's HeartbeatSeconds, or 0 */
  int heartbeat_expired; /* the error being handled is a heartbeat expiry */
  uint64_t *drawn;       /* random values drawn since the last event */
  size_t ndrawn, capdrawn;
  orc_json *ctx; /* $$ of the current state, built on demand */
  frame *next_ready, *prev_ready;
  const orci_branch *B; /* the states this frame runs */
  frame *parent;        /* the Map/Parallel frame that started it, or NULL */
  size_t index;         /* branch or iteration index in the parent */
  struct group *G;      /* the children of a running Map/Parallel */
  char token[40];       /* a Task state's task token ($$.Task.Token), or \"\" */
  orc_json *vars;       /* variables assigned in this scope, or NULL */
  orc_json *assigned;   /* the current state's Assign result, for its exit */
  int quiet;          /* a distributed Map's child: records no parent events */
  orc_execution *sub; /* a distributed Map's child: its execution record */
  frame *next_sib, *prev_sib; /* the group's running children */
  frame *next_child;          /* the execution's list of child frames */
  frame *prev_child;
};

/* The children of a running Map or Parallel state. */
typedef struct group {
  size_t n;    /* branches or iterations */
  size_t next; /* the next iteration to start */
  size_t running, done, failed;
  size_t max_running;    /* concurrency cap (Map) */
  orc_json **results;    /* output per child */
  orc_json *items;       /* Map: the items (or batches) */
  frame *first, *last;   /* running children, in index order */
  int keep;              /* results are kept for the state's output */
  size_t cap;            /* results allocated */
  orci_reader *reader;   /* items read on demand (ItemReader), or NULL */
  orc_json *peek;        /* an item read ahead while batching */
  orc_json *batch_input; /* BatchInput, evaluated once */
  int64_t batch_items, batch_bytes;
  char *run_arn;          /* a distributed Map's map run */
  char *bucket, *dir_key; /* ResultWriter: where the files go */
  FILE *out[2];           /* ResultWriter: SUCCEEDED_0, FAILED_0 */
  char *out_path[2];
  size_t nout[2];          /* records written to each */
  int64_t tolerated_count; /* -1: none */
  double tolerated_pct;    /* -1: none */
  int64_t last_event;      /* the latest child event, for the end events */
  int failing;             /* a child failed past tolerance: stop the rest */
  char *error, *cause;     /* that child's error */
} group;

struct orc_execution {
  orc_engine *E;
  orc_machine *M;
  char *name, *arn;
  int status;
  orc_json *input, *output;
  char *error, *cause;
  int64_t start_ms;
  event *events;
  size_t nevents, cap, first; /* events[first..nevents) are kept */
  int64_t next_id;
  size_t total_events;
  orc_json *ctx_execution; /* $$.Execution, made when needed (exec_ctx) */
  frame root;
  uint32_t timeout_gen;
  orc_task *parent_task; /* a .sync task of another execution awaiting it */
  frame *children;       /* child frames alive (Map iterations, branches) */
  int quiet;             /* the running frame records no events */
  orc_execution *sink;   /* the running frame's events go there (a
                            distributed Map's child execution) */
  orc_execution **subs;  /* finished child executions kept (full history) */
  size_t nsubs, capsubs;
  char *parent_arn;     /* the execution that started this one */
  char *map_run_arn;    /* a distributed Map's child: its map run */
  char **nested;        /* ARNs of executions its tasks started */
  uint64_t transitions; /* states entered, children's included */
  size_t nnested, capnested;
  orc_execution *prev_x, *next_x; /* engine's list */
};

#define TK_WAKE      0 /* a Wait state or a retry back-off ends */
#define TK_TIMEOUT   1 /* a task's TimeoutSeconds */
#define TK_HEARTBEAT 2 /* a task's HeartbeatSeconds */
#define TK_EXEC      3 /* the execution's TimeoutSeconds */

typedef struct timer {
  int64_t due;
  uint64_t seq;
  int kind; /* TK_* */
  frame *F; /* the frame (the root frame for TK_EXEC) */
  orc_execution *X;
  uint32_t gen; /* matches the generation it was armed for */
} timer;

/* Keys used in event details, made once per engine. */
enum {
  K_NAME,
  K_INPUT,
  K_OUTPUT,
  K_INPUT_DETAILS,
  K_OUTPUT_DETAILS,
  K_ERROR,
  K_CAUSE,
  K_RESOURCE,
  K_RESOURCE_TYPE,
  K_REGION,
  K_PARAMETERS,
  K_ROLE_ARN,
  K_TRUNCATED,
  K_LENGTH,
  K_INDEX,
  K_MAP_RUN_ARN,
  K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "name",          "input",  "output",     "inputDetails",
    "outputDetails", "error",  "cause",      "resource",
    "resourceType",  "region", "parameters", "roleArn",
    "truncated",     "length", "index",      "mapRunArn"};

struct orc_engine {
  orc_engine_config cfg;
  char region[64], account[32];
  int64_t now_ms; /* virtual clock */
  orc_machine *machines;
  orc_execution *executions;
  size_t nrunning;
  frame *rq_head, *rq_tail; /* run queue */
  size_t nready;
  timer *heap;
  size_t nheap, capheap;
  uint64_t seq;
  uint64_t rng;
  orc_json *keys[K_COUNT];
  orc_json *not_truncated; /* {"truncated": false} */
  int stepping;
  orc_task **tasks; /* pending tasks by token: open addressing */
  size_t taskcap, ntasks, ntomb;
  orc_execution **names; /* executions held, by (machine, name) */
  size_t namecap, nnames, nametomb;
  char (*expired)[40]; /* tokens of tasks that timed out */
  size_t nexpired, capexpired;
  orci_posts *posts;   /* answers posted by other threads (post.c) */
  char *data_dir;      /* copy of cfg.data_dir */
  char role[96];       /* the executions' RoleArn */
  uint64_t dispatched; /* tasks handed to the host (they weigh more) */
  orc_json *role_json; /* role as a JSON string, shared */
};

#define TOMB ((orc_task *)(uintptr_t)1) /* a deleted slot */

/* }====== */

/* {====== clock and random */

static int64_t real_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t orc_engine_now(const orc_engine *E) {
  return E->cfg.clock == ORC_CLOCK_VIRTUAL ? E->now_ms : real_now_ms();
}

static uint64_t rng_next(orc_engine *E) { /* splitmix64 */
  uint64_t z = (E->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Random values for intrinsics are drawn here and remembered, so that the
** frame's next event records them for replay. */
static uint64_t env_random(void *ud) {
  frame *F = (frame *)ud;
  uint64_t v = rng_next(F->X->E);
  if (F->ndrawn == F->capdrawn) {
    size_t cap = F->capdrawn ? F->capdrawn * 2 : 4;
    uint64_t *p = (uint64_t *)realloc(F->drawn, cap * sizeof *p);
    if (p == NULL) return v;
    F->drawn = p;
    F->capdrawn = cap;
  }
  F->drawn[F->ndrawn++] = v;
  return v;
}

/* }====== */

/* {====== timers (a binary min-heap on (due, seq)) */

static int timer_less(const timer *a, const timer *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(orc_engine *E, timer t) {
  size_t i;
  if (E->nheap == E->capheap) {
    size_t cap = E->capheap ? E->capheap * 2 : 64;
    timer *h = (timer *)realloc(E->heap, cap * sizeof *h);
    if (h == NULL) return ORC_ENOMEM;
    E->heap = h;
    E->capheap = cap;
  }
  t.seq = E->seq++;
  i = E->nheap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!timer_less(&t, &E->heap[p])) break;
    E->heap[i] = E->heap[p];
    i = p;
  }
  E->heap[i] = t;
  return ORC_OK;
}

static timer heap_pop(orc_engine *E) {
  timer top = E->heap[0], last = E->heap[--E->nheap];
  size_t i = 0;
  if (top.F) top.F->ntimers--;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const timer *best = &last;
    if (l < E->nheap && timer_less(&E->heap[l], best)) {
      m = l;
      best = &E->heap[l];
    }
    if (r < E->nheap && timer_less(&E->heap[r], best)) m = r;
    if (m == i) break;
    E->heap[i] = E->heap[m];
    i = m;
  }
  if (E->nheap) E->heap[i] = last;
  return top;
}

static void sift_down(orc_engine *E, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    timer tmp;
    if (l < E->nheap && timer_less(&E->heap[l], &E->heap[m])) m = l;
    if (r < E->nheap && timer_less(&E->heap[r], &E->heap[m])) m = r;
    if (m == i) return;
    tmp = E->heap[i];
    E->heap[i] = E->heap[m];
    E->heap[m] = tmp;
    i = m;
  }
}

/* Drop the timers of frame F (or, when F is NULL, of execution X) so that
** nothing reads them after the frame or execution is freed. */
static void heap_purge(orc_engine *E, frame *F, const orc_execution *X) {
  size_t i, k = 0;
  if (F) {
    if (F->ntimers == 0) return; /* the usual case: no scan */
    F->ntimers = 0;
  }
  for (i = 0; i < E->nheap; i++)
    if (F ? E->heap[i].F != F : E->heap[i].X != X) E->heap[k++] = E->heap[i];
  if (k == E->nheap) return;
  E->nheap = k;
  for (i = k / 2; i-- > 0;)
    sift_down(E, i);
}

/* A heap entry still meaning something (not superseded or finished). */
static int timer_live(const timer *t) {
  if (t->X->status != ORC_STATUS_RUNNING) return 0;
  switch (t->kind) {
  case TK_WAKE:
    return t->F->phase == PH_TIMER && t->F->timer_gen == t->gen;
  case TK_TIMEOUT:
    return t->F->phase == PH_TASK_WAIT && t->F->task_gen == t->gen;
  case TK_HEARTBEAT:
    return t->F->phase == PH_TASK_WAIT && t->F->hb_gen == t->gen;
  default:
    return t->X->timeout_gen == t->gen;
  }
}

static int push_timer(orc_engine *E, int kind, int64_t due, frame *F,
                      orc_execution *X, uint32_t gen) {
  timer t;
  t.due = due;
  t.kind = kind;
  t.F = F;
  t.X = X;
  t.gen = gen;
  if (heap_push(E, t) != ORC_OK) return ORC_ENOMEM;
  if (F) F->ntimers++;
  return ORC_OK;
}

/* }====== */

/* {====== run queue */

static void enqueue(frame *F) {
  orc_engine *E = F->X->E;
  if (F->queued) return;
  F->queued = 1;
  F->next_ready = NULL;
  F->prev_ready = E->rq_tail;
  if (E->rq_tail)
    E->rq_tail->next_ready = F;
  else
    E->rq_head = F;
  E->rq_tail = F;
  E->nready++;
}

static void unqueue(frame *F) {
  orc_engine *E = F->X->E;
  if (!F->queued) return;
  if (F->prev_ready)
    F->prev_ready->next_ready = F->next_ready;
  else
    E->rq_head = F->next_ready;
  if (F->next_ready)
    F->next_ready->prev_ready = F->prev_ready;
  else
    E->rq_tail = F->prev_ready;
  F->queued = 0;
  E->nready--;
}

static frame *dequeue(orc_engine *E) {
  frame *F = E->rq_head;
  if (F == NULL) return NULL;
  unqueue(F);
  return F;
}

/* }====== */

/* {====== history */

static orc_json *kv_object(orc_engine *E, int n, ...) {
  /* n pairs of (key index, value taken); NULL values are skipped */
  va_list ap;
  orc_json *o;
  int i, k = 0, count = 0;
  int keys[16];
  orc_json *vals[16];
  va_start(ap, n);
  for (i = 0; i < n && i < 16; i++) {
    keys[count] = va_arg(ap, int);
    vals[count] = va_arg(ap, orc_json *);
    if (vals[count]) count++;
  }
  va_end(ap);
  o = orc_json_object_new((size_t)count);
  if (o == NULL) {
    for (i = 0; i < count; i++)
      orc_json_unref(vals[i]);
    return NULL;
  }
  for (i = 0; i < count; i++)
    orc_json_object_set(o, (size_t)k++, orc_json_ref(E->keys[keys[i]]),
                        vals[i]);
  return o;
}

static orc_json *str_or_null(const char *s) {
  return s ? orc_json_string(s, strlen(s)) : NULL;
}

/* Append an event; details is taken. Returns its id (0 when the history
** keeps nothing). */
static void event_release(event *ev) {
  if (!ev->lazy) orc_json_unref(ev->u.details);
  orc_json_unref(ev->replay);
  orc_json_unref(ev->data);
}

/* Record an event; takes details and data (st and data: an event of a
** state's run whose details are made when the history is read). */
static int64_t add_event_ex(orc_execution *X, int64_t prev, int type,
                            orc_json *details, const orci_state *st,
                            orc_json *data) {
  orc_engine *E = X->E;
  event *ev;
  int64_t id;
  if (X->sink) {
    X = X->sink; /* a distributed Map's child records its own history */
  } else if (X->quiet) {
    orc_json_unref(details);
    orc_json_unref(data);
    return prev;
  }
  id = X->next_id++;
  X->total_events++;
  if (E->cfg.history == ORC_HISTORY_NONE) {
    orc_json_unref(details);
    orc_json_unref(data);
    return id;
  }
  if (E->cfg.history == ORC_HISTORY_LAST && E->cfg.history_keep &&
      X->nevents - X->first >= E->cfg.history_keep) {
    event_release(&X->events[X->first]);
    X->first++;
    if (X->first * 2 >= X->nevents) { /* compact */
      memmove(X->events, X->events + X->first,
              (X->nevents - X->first) * sizeof *X->events);
      X->nevents -= X->first;
      X->first = 0;
    }
  }
  if (X->nevents == X->cap) {
    size_t cap = X->cap ? X->cap * 2 : 4; /* 100,000 suspended
                                              executions hold few */
    event *p = (event *)realloc(X->events, cap * sizeof *p);
    if (p == NULL) {
      orc_json_unref(details);
      orc_json_unref(data);
      return id;
    }
    X->events = p;
    X->cap = cap;
  }
  ev = &X->events[X->nevents++];
  ev->id = id;
  ev->back = (uint32_t)(id - prev);
  ev->ts_ms = orc_engine_now(E);
  ev->type = (uint16_t)type;
  ev->replay = NULL;
  ev->data = data;
  ev->lazy = st != NULL;
  if (st)
    ev->u.st = st;
  else
    ev->u.details = details;
  return id;
}

static int64_t add_event(orc_execution *X, int64_t prev, int type,
                         orc_json *details) {
  return add_event_ex(X, prev, type, details, NULL, NULL);
}

/* Attach the random values F drew to the last event recorded (its own). */
static void attach_replay(frame *F) {
  orc_execution *X = F->X;
  orc_json *arr, *o;
  size_t i;
  if (F->ndrawn == 0) return;
  if (X->nevents > X->first && X->events[X->nevents - 1].replay == NULL &&
      (arr = orc_json_array_new(F->ndrawn)) != NULL) {
    for (i = 0; i < F->ndrawn; i++) {
      char hex[24];
      int n =
          snprintf(hex, sizeof hex, "%016llx", (unsigned long long)F->drawn[i]);
      orc_json_array_set(arr, i, orc_json_string(hex, (size_t)n));
    }
    o = orc_json_object_new(1);
    if (o) {
      orc_json_object_set(o, 0, orc_json_string("random", 6), arr);
      X->events[X->nevents - 1].replay = o;
    } else {
      orc_json_unref(arr);
    }
  }
  F->ndrawn = 0;
}

static orc_json *state_details(orc_engine *E, const orci_state *s, int key,
                               orc_json *data) {
  return kv_object(E, 3, K_NAME, orc_json_ref(s->name_json), key,
                   orc_json_ref(data),
                   key == K_INPUT ? K_INPUT_DETAILS : K_OUTPUT_DETAILS,
                   orc_json_ref(E->not_truncated));
}

/* Export one event in GetExecutionHistory shape: input/output/parameters
** become JSON text, as AWS returns them. */
static orc_json *export_value(orc_json *v, int depth) {
  size_t i, n;
  orc_json *o;
  if (depth > 0 || orc_json_type_of(v) != ORC_JSON_OBJECT)
    return orc_json_ref(v);
  n = orc_json_len(v);
  o = orc_json_object_new(n);
  if (o == NULL) return NULL;
  for (i = 0; i < n; i++) {
    orc_json *k = orc_json_object_key(v, i), *val = orc_json_object_value(v, i);
    size_t kl;
    const char *ks = orc_json_string_value(k, &kl);
    orc_json *nv;
    if ((kl == 5 && !memcmp(ks, "input", 5)) ||
        (kl == 6 && !memcmp(ks, "output", 6)) ||
        (kl == 10 && !memcmp(ks, "parameters", 10))) {
      size_t tl;
      char *text = orc_json_print(val, 0, &tl);
      nv = text ? orc_json_string(text, tl) : NULL;
      orc_free(text);
    } else {
      nv = orc_json_ref(val);
    }
    orc_json_object_set(o, i, orc_json_ref(k), nv);
  }
  return o;
}

static orc_json *skey(const char *s) {
  return orc_json_string(s, strlen(s));
}

/* The details of an event recorded as (state, payload). */
static orc_json *lazy_details(orc_engine *E, const event *ev) {
  const orci_state *s = ev->u.st;
  int key = EV_DATA_KEY(ev);
  orc_json *data = ev->data ? orc_json_ref(ev->data) : NULL;
  switch (ev->type) {
  case EV_EXECUTION_STARTED: /* s is start_marker */
    return kv_object(E, 3, K_INPUT, data, K_INPUT_DETAILS,
                     orc_json_ref(E->not_truncated), K_ROLE_ARN,
                     orc_json_ref(E->role_json));
  case EV_LAMBDA_SCHEDULED:
    return kv_object(E, 3, K_RESOURCE, skey(s->resource), K_INPUT, data,
                     K_INPUT_DETAILS, orc_json_ref(E->not_truncated));
  case EV_TASK_SCHEDULED:
    return kv_object(E, 4, K_RESOURCE_TYPE, skey(s->resource_type), K_RESOURCE,
                     skey(s->resource_name), K_REGION, skey(E->region),
                     K_PARAMETERS, data);
  case EV_TASK_STARTED:
    orc_json_unref(data);
    return kv_object(E, 2, K_RESOURCE_TYPE, skey(s->resource_type), K_RESOURCE,
                     skey(s->resource_name));
  case EV_LAMBDA_SUCCEEDED:
    return kv_object(E, 2, K_OUTPUT, data, K_OUTPUT_DETAILS,
                     orc_json_ref(E->not_truncated));
  case EV_TASK_SUCCEEDED:
    return kv_object(E, 4, K_RESOURCE_TYPE, skey(s->resource_type), K_RESOURCE,
                     skey(s->resource_name), K_OUTPUT, data, K_OUTPUT_DETAILS,
                     orc_json_ref(E->not_truncated));
  case EV_MAP_ITER_STARTED:
  case EV_MAP_ITER_SUCCEEDED:
  case EV_MAP_ITER_FAILED:
  case EV_MAP_ITER_ABORTED: /* data: the iteration's index */
    return kv_object(E, 2, K_NAME, orc_json_ref(s->name_json), K_INDEX, data);
  default: /* a state's Entered or Exited */
    return kv_object(E, 3, K_NAME, orc_json_ref(s->name_json), key, data,
                     key == K_INPUT ? K_INPUT_DETAILS : K_OUTPUT_DETAILS,
                     orc_json_ref(E->not_truncated));
  }
}

orc_json *orc_execution_history(const orc_execution *X) {
  size_t i, n = X->nevents - X->first;
  orc_json *arr = orc_json_array_new(n), *root;
  if (arr == NULL) return NULL;
  for (i = 0; i < n; i++) {
    const event *ev = &X->events[X->first + i];
    const char *dk = event_details_key(ev->type);
    char buf[48];
    const char *tn = event_type_name(ev->type, buf);
    orc_json *o = orc_json_object_new((dk ? 5u : 4u) + (ev->replay ? 1u : 0u));
    if (o == NULL) continue;
    orc_json_object_set(o, 0, skey("id"), orc_json_int(ev->id));
    orc_json_object_set(o, 1, skey("previousEventId"),
                        orc_json_int(ev->id - (int64_t)ev->back));
    orc_json_object_set(o, 2, skey("timestamp"),
                        orc_json_float((double)ev->ts_ms / 1000.0));
    orc_json_object_set(o, 3, skey("type"), skey(tn));
    if (dk && ev->lazy) { /* made now, not per step */
      orc_json *d = lazy_details(X->E, ev);
      orc_json_object_set(o, 4, skey(dk),
                          d ? export_value(d, 0) : orc_json_object_new(0));
      orc_json_unref(d);
    } else if (dk)
      orc_json_object_set(o, 4, skey(dk),
                          ev->u.details ? export_value(ev->u.details, 0)
                                        : orc_json_object_new(0));
    if (ev->replay)
      orc_json_object_set(o, dk ? 5 : 4, skey("orchestraReplay"),
                          orc_json_ref(ev->replay));
    orc_json_array_set(arr, i, o);
  }
  root = orc_json_object_new(1);
  if (root == NULL) {
    orc_json_unref(arr);
    return NULL;
  }
  orc_json_object_set(root, 0, skey("events"), arr);
  return root;
}

size_t orc_execution_nevents(const orc_execution *X) {
  return X->total_events;
}

/* }====== */

/* {====== context object ($$) */

static orc_json *obj_of(size_t n, const char *const *keys, orc_json **vals) {
  orc_json *o = orc_json_object_new(n);
  size_t i;
  if (o == NULL) {
    for (i = 0; i < n; i++)
      orc_json_unref(vals[i]);
    return NULL;
  }
  for (i = 0; i < n; i++)
    orc_json_object_set(o, i, skey(keys[i]), vals[i]);
  return o;
}

/* $$.Execution of X (borrowed), made when first needed: an execution
** waiting on a task drops it (it is the same when made again). */
static orc_json *exec_ctx(orc_execution *X) {
  static const char *const ek[] = {"Id", "Input", "Name", "RoleArn",
                                   "StartTime"};
  orc_json *ev[5];
  char ts[40];
  if (X->ctx_execution) return X->ctx_execution;
  orci_format_timestamp(X->start_ms, ts);
  ev[0] = skey(X->arn);
  ev[1] = orc_json_ref(X->input);
  ev[2] = skey(X->name);
  ev[3] = orc_json_ref(X->E->role_json);
  ev[4] = skey(ts);
  X->ctx_execution = obj_of(5, ek, ev);
  return X->ctx_execution;
}

/* $$.StateMachine (borrowed): the same for every execution of M. */
static orc_json *machine_ctx(orc_machine *M) {
  static const char *const mk[] = {"Id", "Name"};
  orc_json *mv[2];
  if (M->ctx == NULL) {
    mv[0] = skey(M->arn);
    mv[1] = skey(M->name);
    M->ctx = obj_of(2, mk, mv);
  }
  return M->ctx;
}

static orc_json *frame_context(frame *F) {
  static const char *const sk[] = {"EnteredTime", "Name", "RetryCount"};
  static const char *const tk[] = {"Token"};
  static const char *const ck[] = {"Execution", "State", "StateMachine",
                                   "Task"};
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  orc_json *sv[3], *cv[4];
  char ts[40];
  size_t n = 3;
  if (F->ctx) return F->ctx;
  orci_format_timestamp(F->entered_ms, ts);
  sv[0] = skey(ts);
  sv[1] = orc_json_ref(s->name_json);
  sv[2] = orc_json_int(F->retry_count);
  cv[0] = orc_json_ref(exec_ctx(F->sub ? F->sub : X));
  cv[1] = obj_of(3, sk, sv);
  cv[2] = orc_json_ref(machine_ctx(X->M));
  if (F->token[0]) {
    orc_json *tv = skey(F->token);
    cv[3] = obj_of(1, tk, &tv);
    n = 4;
  }
  F->ctx = obj_of(n, ck, cv);
  return F->ctx;
}

/* "$name": the innermost scope first; a Map's or Parallel's children see
** the variables of the scopes around them, read-only. */
static orc_json *var_lookup(void *ud, const char *name, size_t len) {
  const frame *F;
  for (F = (const frame *)ud; F; F = F->parent) {
    orc_json *v = F->vars ? orc_json_object_find(F->vars, name, len) : NULL;
    if (v) return v;
  }
  return NULL;
}

static orc_json *context_of(void *ud) {
  return frame_context((frame *)ud);
}

static void frame_env(frame *F, orci_env *env, orc_json *input) {
  env->input = input;
  env->context = F->ctx; /* built by context_of when a path reads "$$" */
  env->get_context = context_of;
  env->variable = var_lookup;
  env->ud = F;
  env->random = env_random;
}

/* }====== */

/* {====== ending executions */

static void drop_task(orc_engine *E, orc_task *T);

static void set_str(char **dst, const char *s) {
  free(*dst);
  *dst = s ? strdup(s) : NULL;
}

static int task_complete(orc_task *T, int ok, orc_json *output,
                         const char *error, const char *cause, orc_error *err);
static char *compact(orc_json *v);

/* DescribeExecution's answer for a finished child, as .sync tasks return
** it (mode 1: Input/Output as JSON text; mode 2: as JSON). */
static orc_json *describe(orc_execution *X, int mode) {
  static const char *const keys[] = {
      "ExecutionArn", "Input",         "InputDetails", "Name",
      "Output",       "OutputDetails", "StartDate",    "StateMachineArn",
      "Status",       "StopDate",      "Error",        "Cause"};
  orc_json *v[12], *inc;
  char start[40], stop[40];
  size_t n = 10, i;
  orci_format_timestamp(X->start_ms, start);
  orci_format_timestamp(orc_engine_now(X->E), stop);
  inc = orc_json_object_new(1);
  if (inc) orc_json_object_set(inc, 0, skey("Included"), orc_json_bool(1));
  v[0] = skey(X->arn);
  if (mode == 2) {
    v[1] = orc_json_ref(X->input);
    v[4] = X->output ? orc_json_ref(X->output) : orc_json_null();
  } else {
    char *ti = compact(X->input), *to = X->output ? compact(X->output) : NULL;
    v[1] = skey(ti);
    v[4] = to ? skey(to) : orc_json_null();
    free(ti);
    free(to);
  }
  v[2] = orc_json_ref(inc);
  v[3] = skey(X->name);
  v[5] = inc;
  v[6] = skey(start);
  v[7] = skey(X->M->arn);
  v[8] = skey(orc_status_text(X->status));
  v[9] = skey(stop);
  if (X->status != ORC_STATUS_SUCCEEDED) {
    v[n++] = X->error ? skey(X->error) : orc_json_null();
    v[n++] = X->cause ? skey(X->cause) : orc_json_null();
  }
  for (i = 0; i < n; i++)
    if (v[i] == NULL) v[i] = orc_json_null();
  return obj_of(n, keys, v);
}

/* A child started by states:startExecution.sync ended: answer the parent's
** task (a failed child fails it with States.TaskFailed, as AWS does). */
static void complete_parent(orc_execution *X) {
  orc_task *T = X->parent_task;
  orc_json *d = describe(X, T->sync);
  X->parent_task = NULL;
  T->child = NULL;
  if (X->status == ORC_STATUS_SUCCEEDED) {
    task_complete(T, 1, d, NULL, NULL, NULL);
  } else {
    char *cause = d ? compact(d) : NULL;
    orc_json_unref(d);
    task_complete(T, 0, NULL, "States.TaskFailed", cause, NULL);
    free(cause);
  }
}

static void finish(orc_execution *X, int status, orc_json *output,
                   const char *error, const char *cause, int64_t prev) {
  orc_engine *E = X->E;
  frame *F = &X->root;
  int type = status == ORC_STATUS_SUCCEEDED   ? EV_EXECUTION_SUCCEEDED
             : status == ORC_STATUS_FAILED    ? EV_EXECUTION_FAILED
             : status == ORC_STATUS_TIMED_OUT ? EV_EXECUTION_TIMED_OUT
                                              : EV_EXECUTION_ABORTED;
  orc_json *details;
  if (X->status != ORC_STATUS_RUNNING) return;
  X->status = status;
  E->nrunning--;
  if (status == ORC_STATUS_SUCCEEDED) {
    X->output = orc_json_ref(output);
    details = kv_object(E, 2, K_OUTPUT, orc_json_ref(output), K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
  } else {
    set_str(&X->error, error);
    set_str(&X->cause, cause);
    details = kv_object(E, 2, K_ERROR, str_or_null(error), K_CAUSE,
                        str_or_null(cause));
  }
  add_event(X, prev, type, details);
  if (X->parent_task) complete_parent(X);
  F->phase = PH_DONE;
  F->timer_gen++;
  if (F->task) {
    drop_task(E, F->task);
    F->task = NULL;
  }
  for (F = X->children; F; F = F->next_child) /* inert from now on */
    if (F->task) {
      drop_task(E, F->task);
      F->task = NULL;
    }
}

/* "An error occurred while executing the state 'S' (entered at the event
** id #N). <detail>" -- the prefix of Step Functions' runtime causes. */
static char *runtime_cause(frame *F, const char *fmt, ...) {
  const orci_state *s = &F->B->states[F->state];
  char head[256], *out;
  va_list ap;
  int hn, dn;
  hn = snprintf(head, sizeof head,
                "An error occurred while executing the state '%s' (entered "
                "at the event id #%lld). ",
                s->name, (long long)F->entered_id);
  va_start(ap, fmt);
  dn = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  out = (char *)malloc((size_t)hn + (size_t)dn + 1);
  if (out == NULL) return NULL;
  memcpy(out, head, (size_t)hn);
  va_start(ap, fmt);
  vsnprintf(out + hn, (size_t)dn + 1, fmt, ap);
  va_end(ap);
  return out;
}

/* }====== */

/* {====== input and output processing */

typedef struct failure {
  const char *error; /* static error name */
  char *cause;       /* owned */
} failure;

static char *compact(orc_json *v) {
  char *s = orc_json_print(v, 0, NULL);
  return s ? s : strdup("?");
}

/* A value as Step Functions quotes it in causes: strings bare, the rest as
** compact JSON. Returns owned text. */
static char *raw_text(orc_json *v) {
  if (orc_json_type_of(v) == ORC_JSON_STRING)
    return strdup(orc_json_string_value(v, NULL));
  return compact(v);
}

/* InputPath / OutputPath. Returns an owned value, or NULL with f set. */
static orc_json *apply_path(frame *F, orci_path *p, int is_null, orc_json *in,
                            failure *f) {
  orci_env env;
  orc_json *out = NULL;
  if (is_null) return orc_json_object_new(0); /* a null path gives {} */
  if (p == NULL) return orc_json_ref(in);
  frame_env(F, &env, in);
  if (orci_path_eval(p, &env, &out) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return NULL;
  }
  return out;
}

/* Evaluate a payload template against input. */
static orc_json *eval_tmpl(frame *F, const orci_tmpl *t, orc_json *in,
                           failure *f) {
  orci_env env;
  orc_json *out = NULL;
  size_t i;
  switch (t->kind) {
  case ORCI_T_CONST:
    return orc_json_ref(t->value);
  case ORCI_T_PATH:
    frame_env(F, &env, in);
    if (orci_path_eval(t->path, &env, &out) != ORC_OK) {
      char *text = compact(
          orci_path_root(t->path) == ORCI_ROOT_CONTEXT ? frame_context(F) : in);
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "The JSONPath '%s' specified for the field "
                               "'%s' could not be found in the input '%s'",
                               orci_path_text(t->path), t->field, text);
      free(text);
      return NULL;
    }
    return out;
  case ORCI_T_INTRINSIC: {
    char err[64], cause[1024];
    frame_env(F, &env, in);
    if (orci_intrinsic_eval(t->fn, &env, &out, err, sizeof err, cause,
                            sizeof cause) != ORC_OK) {
      f->error = strcmp(err, "States.Runtime") == 0 ? "States.Runtime"
                                                    : "States.IntrinsicFailure";
      f->cause = runtime_cause(F, "%s", cause);
      return NULL;
    }
    return out;
  }
  case ORCI_T_OBJECT:
    out = orc_json_object_new(t->n);
    if (out == NULL) return NULL;
    for (i = 0; i < t->n; i++) {
      orc_json *v = eval_tmpl(F, t->items[i], in, f);
      if (v == NULL) {
        orc_json_unref(out);
        return NULL;
      }
      orc_json_object_set(out, i, orc_json_ref(t->keys[i]), v);
    }
    return out;
  default: /* ORCI_T_ARRAY */
    out = orc_json_array_new(t->n);
    if (out == NULL) return NULL;
    for (i = 0; i < t->n; i++) {
      orc_json *v = eval_tmpl(F, t->items[i], in, f);
      if (v == NULL) {
        orc_json_unref(out);
        return NULL;
      }
      orc_json_array_set(out, i, v);
    }
    return out;
  }
}

/* ResultPath: place result into input. */
static orc_json *apply_result_path(frame *F, orci_path *p, int discard,
                                   orc_json *in, orc_json *result, failure *f) {
  char msg[512];
  orc_json *out = NULL;
  if (discard) return orc_json_ref(in);
  if (p == NULL) return orc_json_ref(result);
  if (orci_path_set(p, in, result, &out, msg, sizeof msg) != ORC_OK) {
    /* the name AWS reports (the docs' States.ResultPathMatchFailure is
    ** not what executions record) */
    f->error = "States.ReferencePathConflict";
    f->cause = runtime_cause(F, "%s", msg);
    return NULL;
  }
  return out;
}

/* }====== */

/* {====== Choice */

static int is_number(const orc_json *v) {
  return v && (orc_json_type_of(v) == ORC_JSON_INT ||
               orc_json_type_of(v) == ORC_JSON_FLOAT);
}

static int str_cmp(const orc_json *a, const orc_json *b) {
  size_t la, lb;
  const char *sa = orc_json_string_value(a, &la);
  const char *sb = orc_json_string_value(b, &lb);
  int r = memcmp(sa, sb, la < lb ? la : lb);
  return r ? r : (la > lb) - (la < lb);
}

/* StringMatches: '*' matches any run; '\*' and '\\' are literal. */
static int glob(const char *p, const char *pe, const char *s, const char *se) {
  while (p < pe) {
    if (*p == '*') {
      p++;
      if (p == pe) return 1;
      for (; s <= se; s++)
        if (glob(p, pe, s, se)) return 1;
      return 0;
    }
    if (*p == '\\' && p + 1 < pe) p++;
    if (s == se || *s != *p) return 0;
    p++;
    s++;
  }
  return s == se;
}

static int ts_of(const orc_json *v, int64_t *ms) {
  size_t len;
  const char *s;
  if (v == NULL || orc_json_type_of(v) != ORC_JSON_STRING) return 0;
  s = orc_json_string_value(v, &len);
  return orci_parse_timestamp(s, len, ms) == 0;
}

static int cmp_result(int op_base, int op, int c) {
  switch (op - op_base) {
  case 0:
    return c == 0;
  case 1:
    return c < 0;
  case 2:
    return c > 0;
  case 3:
    return c <= 0;
  default:
    return c >= 0;
  }
}

/* 1 match, 0 no match, -1 runtime failure (f set). */
static int rule_eval(frame *F, const orci_rule *r, orc_json *in, failure *f) {
  orci_env env;
  orc_json *v = NULL, *operand = NULL;
  size_t i;
  int res = 0, c;
  switch (r->op) {
  case ORCI_OP_AND:
    for (i = 0; i < r->n; i++) {
      int x = rule_eval(F, r->children[i], in, f);
      if (x <= 0) return x;
    }
    return 1;
  case ORCI_OP_OR:
    for (i = 0; i < r->n; i++) {
      int x = rule_eval(F, r->children[i], in, f);
      if (x != 0) return x;
    }
    return 0;
  case ORCI_OP_NOT: {
    int x = rule_eval(F, r->children[0], in, f);
    return x < 0 ? x : !x;
  }
  default:
    break;
  }
  frame_env(F, &env, in);
  if (orci_path_eval(r->variable, &env, &v) != ORC_OK) v = NULL;
  if (r->op == ORCI_OP_IS_PRESENT) {
    res = (v != NULL) == orc_json_is_true(r->operand);
    orc_json_unref(v);
    return res;
  }
  if (v == NULL) {
    char *text = compact(in);
    f->error = "States.Runtime";
    f->cause = runtime_cause(F,
                             "Invalid path '%s': The choice state's "
                             "condition path references an invalid "
                             "value.",
                             orci_path_text(r->variable));
    free(text);
    return -1;
  }
  if (r->operand_path) {
    if (orci_path_eval(r->operand_path, &env, &operand) != ORC_OK) {
      orc_json_unref(v);
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "Invalid path '%s': The choice state's "
                               "condition path references an invalid "
                               "value.",
                               orci_path_text(r->operand_path));
      return -1;
    }
  } else {
    operand = orc_json_ref(r->operand);
  }
  switch (r->op) {
  case ORCI_OP_IS_NULL:
    res = (orc_json_type_of(v) == ORC_JSON_NULL) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_NUMERIC:
    res = is_number(v) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_STRING:
    res = (orc_json_type_of(v) == ORC_JSON_STRING) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_BOOLEAN:
    res = (orc_json_type_of(v) == ORC_JSON_BOOL) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_TIMESTAMP: {
    int64_t ms;
    res = ts_of(v, &ms) == orc_json_is_true(operand);
    break;
  }
  case ORCI_OP_STRING_MATCHES:
    if (orc_json_type_of(v) == ORC_JSON_STRING &&
        orc_json_type_of(operand) == ORC_JSON_STRING) {
      size_t pl, sl;
      const char *p = orc_json_string_value(operand, &pl);
      const char *s = orc_json_string_value(v, &sl);
      res = glob(p, p + pl, s, s + sl);
    }
    break;
  case ORCI_OP_BOOLEAN_EQ:
    res = orc_json_type_of(v) == ORC_JSON_BOOL &&
          orc_json_type_of(operand) == ORC_JSON_BOOL &&
          orc_json_is_true(v) == orc_json_is_true(operand);
    break;
  default:
    if (r->op >= ORCI_OP_STRING_EQ && r->op <= ORCI_OP_STRING_GE) {
      if (orc_json_type_of(v) == ORC_JSON_STRING &&
          orc_json_type_of(operand) == ORC_JSON_STRING)
        res = cmp_result(ORCI_OP_STRING_EQ, r->op, str_cmp(v, operand));
    } else if (r->op >= ORCI_OP_NUMERIC_EQ && r->op <= ORCI_OP_NUMERIC_GE) {
      if (is_number(v) && is_number(operand)) {
        if (orc_json_type_of(v) == ORC_JSON_INT &&
            orc_json_type_of(operand) == ORC_JSON_INT) {
          int64_t a = orc_json_int_value(v), b = orc_json_int_value(operand);
          c = (a > b) - (a < b);
        } else {
          double a = orc_json_number(v), b = orc_json_number(operand);
          c = (a > b) - (a < b);
        }
        res = cmp_result(ORCI_OP_NUMERIC_EQ, r->op, c);
      }
    } else { /* timestamps */
      int64_t a, b;
      if (ts_of(v, &a) && ts_of(operand, &b))
        res = cmp_result(ORCI_OP_TIMESTAMP_EQ, r->op, (a > b) - (a < b));
    }
    break;
  }
  orc_json_unref(v);
  orc_json_unref(operand);
  return res;
}

/* }====== */

/* {====== tasks */

static void task_free(orc_task *T);

/* The engine abandons a task (its execution ended): the host hears of it
** through task_drop and must forget the pointer; it is freed here. */
static void task_table_del(orc_engine *E, orc_task *T);

static void finish(orc_execution *X, int status, orc_json *output,
                   const char *error, const char *cause, int64_t prev);

static void drop_task(orc_engine *E, orc_task *T) {
  task_table_del(E, T);
  if (T->child) { /* a .sync child outlives no parent task: stop it */
    orc_execution *C = T->child;
    T->child = NULL;
    C->parent_task = NULL;
    finish(C, ORC_STATUS_ABORTED, NULL, NULL, NULL, C->root.last_event);
  }
  if (E->cfg.task_drop) E->cfg.task_drop(E->cfg.task_ud, T);
  task_free(T);
}

static void task_free(orc_task *T) {
  if (T == NULL) return;
  orc_json_unref(T->input);
  free(T);
}

const char *orc_task_resource(const orc_task *T) {
  return T->resource;
}

orc_json *orc_task_input(const orc_task *T) {
  return T->input;
}

orc_json *orc_task_context(const orc_task *T) {
  /* made from the frame when asked (a pending task keeps no copy) */
  return T->F ? orc_json_ref(frame_context(T->F)) : NULL;
}

orc_execution *orc_task_execution(const orc_task *T) {
  return T->X;
}

const char *orc_task_state_name(const orc_task *T) {
  return T->state_name;
}

void orc_task_set_userdata(orc_task *T, void *ud) {
  T->ud = ud;
}

void *orc_task_userdata(const orc_task *T) {
  return T->ud;
}

static int task_complete(orc_task *T, int ok, orc_json *output,
                         const char *error, const char *cause, orc_error *err) {
  frame *F = T->F;
  if (T->completed) {
    orc_json_unref(output);
    return orci_error(err, ORC_EMISUSE, NULL,
                      "the task was already completed or abandoned");
  }
  T->completed = 1;
  task_table_del(F->X->E, T);
  F->task_ok = ok;
  F->result = output;
  F->error = error ? strdup(error) : NULL;
  F->cause = cause ? strdup(cause) : NULL;
  F->phase = PH_TASK_DONE;
  F->task = NULL;
  task_free(T);
  enqueue(F);
  return ORC_OK;
}

int orc_task_succeed(orc_task *T, orc_json *output, orc_error *err) {
  return task_complete(T, 1, output ? output : orc_json_null(), NULL, NULL,
                       err);
}

int orc_task_fail(orc_task *T, const char *error, const char *cause,
                  orc_error *err) {
  return task_complete(T, 0, NULL, error, cause, err);
}

/* {====== the pending tasks by token */

static size_t token_hash(const char *t) {
  size_t h = 1469598103934665603ull;
  for (; *t; t++)
    h = (h ^ (unsigned char)*t) * 1099511628211ull;
  return h;
}

static int task_table_grow(orc_engine *E) {
  size_t cap = E->taskcap ? E->taskcap * 2 : 64, i;
  orc_task **slots = (orc_task **)calloc(cap, sizeof *slots);
  if (slots == NULL) return ORC_ENOMEM;
  for (i = 0; i < E->taskcap; i++) {
    orc_task *T = E->tasks[i];
    size_t k;
    if (T == NULL || T == TOMB) continue;
    for (k = token_hash(T->token) & (cap - 1); slots[k];
         k = (k + 1) & (cap - 1))
      ;
    slots[k] = T;
  }
  free(E->tasks);
  E->tasks = slots;
  E->taskcap = cap;
  E->ntomb = 0;
  return ORC_OK;
}

static int task_table_put(orc_engine *E, orc_task *T) {
  size_t k;
  if ((E->ntasks + E->ntomb + 1) * 2 > E->taskcap &&
      task_table_grow(E) != ORC_OK)
    return ORC_ENOMEM;
  for (k = token_hash(T->token) & (E->taskcap - 1);
       E->tasks[k] && E->tasks[k] != TOMB; k = (k + 1) & (E->taskcap - 1))
    ;
  if (E->tasks[k] == TOMB) E->ntomb--;
  E->tasks[k] = T;
  E->ntasks++;
  return ORC_OK;
}

static size_t task_table_slot(const orc_engine *E, const char *token) {
  size_t k;
  if (E->taskcap == 0) return (size_t)-1;
  for (k = token_hash(token) & (E->taskcap - 1); E->tasks[k];
       k = (k + 1) & (E->taskcap - 1))
    if (E->tasks[k] != TOMB && strcmp(E->tasks[k]->token, token) == 0) return k;
  return (size_t)-1;
}

static void task_table_del(orc_engine *E, orc_task *T) {
  size_t k = task_table_slot(E, T->token);
  if (k == (size_t)-1 || E->tasks[k] != T) return;
  E->tasks[k] = TOMB;
  E->ntasks--;
  E->ntomb++;
}

/* {====== executions by (machine, name): names are unique per machine */

static size_t name_hash(const orc_machine *M, const char *name) {
  return token_hash(name) ^ ((size_t)(uintptr_t)M * 0x9E3779B97F4A7C15ull);
}

#define XTOMB ((orc_execution *)(uintptr_t)1)

static int name_table_grow(orc_engine *E) {
  size_t cap = E->namecap ? E->namecap * 2 : 64, i;
  orc_execution **slots = (orc_execution **)calloc(cap, sizeof *slots);
  if (slots == NULL) return ORC_ENOMEM;
  for (i = 0; i < E->namecap; i++) {
    orc_execution *X = E->names[i];
    size_t k;
    if (X == NULL || X == XTOMB) continue;
    for (k = name_hash(X->M, X->name) & (cap - 1); slots[k];
         k = (k + 1) & (cap - 1))
      ;
    slots[k] = X;
  }
  free(E->names);
  E->names = slots;
  E->namecap = cap;
  E->nametomb = 0;
  return ORC_OK;
}

static orc_execution *name_find(const orc_engine *E, const orc_machine *M,
                                const char *name) {
  size_t k;
  if (E->namecap == 0) return NULL;
  for (k = name_hash(M, name) & (E->namecap - 1); E->names[k];
       k = (k + 1) & (E->namecap - 1)) {
    orc_execution *X = E->names[k];
    if (X != XTOMB && X->M == M && strcmp(X->name, name) == 0) return X;
  }
  return NULL;
}

static int name_put(orc_engine *E, orc_execution *X) {
  size_t k;
  if ((E->nnames + E->nametomb + 1) * 2 > E->namecap &&
      name_table_grow(E) != ORC_OK)
    return ORC_ENOMEM;
  for (k = name_hash(X->M, X->name) & (E->namecap - 1);
       E->names[k] && E->names[k] != XTOMB; k = (k + 1) & (E->namecap - 1))
    ;
  if (E->names[k] == XTOMB) E->nametomb--;
  E->names[k] = X;
  E->nnames++;
  return ORC_OK;
}

static void name_del(orc_engine *E, orc_execution *X) {
  size_t k;
  if (E->namecap == 0) return;
  for (k = name_hash(X->M, X->name) & (E->namecap - 1); E->names[k];
       k = (k + 1) & (E->namecap - 1))
    if (E->names[k] == X) {
      E->names[k] = XTOMB;
      E->nnames--;
      E->nametomb++;
      return;
    }
}

/* }====== */

orc_task *orc_engine_find_task(orc_engine *E, const char *token) {
  size_t k = task_table_slot(E, token);
  return k == (size_t)-1 ? NULL : E->tasks[k];
}

int orc_engine_task_expired(const orc_engine *E, const char *token) {
  size_t i;
  for (i = 0; i < E->nexpired; i++)
    if (strcmp(E->expired[i], token) == 0) return 1;
  return 0;
}

static void remember_expired(orc_engine *E, const char *token) {
  if (E->nexpired == E->capexpired) {
    size_t cap = E->capexpired ? E->capexpired * 2 : 16;
    char(*p)[40] = (char(*)[40])realloc(E->expired, cap * sizeof *p);
    if (p == NULL) return;
    E->expired = p;
    E->capexpired = cap;
  }
  snprintf(E->expired[E->nexpired++], 40, "%s", token);
}

const char *orc_task_token(const orc_task *T) {
  return T->token;
}

/* }====== */

static void put_hex(char *p, uint64_t v, int n) {
  static const char hex[] = "0123456789abcdef";
  while (n-- > 0) {
    p[n] = hex[v & 15u];
    v >>= 4;
  }
}

/* 32 hex digits (one per task: snprintf cost more than the rest of it) */
static void make_token(orc_engine *E, char *buf) {
  put_hex(buf, rng_next(E), 16);
  put_hex(buf + 16, rng_next(E), 16);
  buf[32] = '\0';
}

/* }====== */

/* {====== states */

static void child_done(frame *C, orc_json *output);
static void child_failed(frame *C, const char *error, const char *cause);

static void fail_frame(frame *F, const char *error, const char *cause) {
  if (F->parent) {
    child_failed(F, error, cause); /* frees F */
    return;
  }
  finish(F->X, ORC_STATUS_FAILED, NULL, error, cause, F->last_event);
  attach_replay(F);
}

/* Leave the current state with output: Exited event, then the next state
** (or the end of the execution). */
/* Evaluate an Assign template with $ = input into F->assigned: 0, or -1
** with f set. Values see the variables as they were before this state. */
static orc_json *eval_tmpl(frame *F, const orci_tmpl *t, orc_json *in,
                           failure *f);

static int eval_assign(frame *F, const orci_tmpl *assign, orc_json *in,
                       failure *f) {
  orc_json_unref(F->assigned);
  F->assigned = NULL;
  if (assign == NULL) return 0;
  F->assigned = eval_tmpl(F, assign, in, f);
  return F->assigned ? 0 : -1;
}

/* Merge the state's assigned variables into the frame's scope, and return
** them as {name: JSON text} for the Exited event (or NULL). */
static orc_json *apply_assigned(frame *F) {
  orc_json *a = F->assigned, *old = F->vars, *merged, *texts;
  size_t i, k, n, na;
  F->assigned = NULL;
  if (a == NULL) return NULL;
  na = orc_json_len(a);
  n = old ? orc_json_len(old) : 0;
  merged = orc_json_object_new(n + na);
  texts = orc_json_object_new(na);
  if (merged == NULL || texts == NULL) {
    orc_json_unref(merged);
    orc_json_unref(texts);
    orc_json_unref(a);
    return NULL;
  }
  for (i = 0, k = 0; i < n; i++) { /* the old ones not reassigned */
    orc_json *key = orc_json_object_key(old, i);
    size_t kl;
    const char *ks = orc_json_string_value(key, &kl);
    if (orc_json_object_find(a, ks, kl)) continue;
    orc_json_object_set(merged, k++, orc_json_ref(key),
                        orc_json_ref(orc_json_object_value(old, i)));
  }
  for (i = 0; i < na; i++) {
    size_t tl;
    char *text = orc_json_print(orc_json_object_value(a, i), 0, &tl);
    orc_json_object_set(merged, k++, orc_json_ref(orc_json_object_key(a, i)),
                        orc_json_ref(orc_json_object_value(a, i)));
    orc_json_object_set(texts, i, orc_json_ref(orc_json_object_key(a, i)),
                        text ? orc_json_string(text, tl) : NULL);
    orc_free(text);
  }
  merged->n = k; /* members past k were never set */
  orc_json_unref(old);
  orc_json_unref(a);
  F->vars = merged;
  return texts;
}

static void exit_state(frame *F, orc_json *output, int next) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orc_json *assigned = apply_assigned(F);
  orc_json *details = assigned ? state_details(E, s, K_OUTPUT, output) : NULL;
  if (assigned && details) { /* add assignedVariables to the details */
    size_t i, n = orc_json_len(details);
    orc_json *d = orc_json_object_new(n + 2), *flag = orc_json_object_new(1);
    if (d && flag) {
      for (i = 0; i < n; i++)
        orc_json_object_set(d, i, orc_json_ref(orc_json_object_key(details, i)),
                            orc_json_ref(orc_json_object_value(details, i)));
      orc_json_object_set(d, n, skey("assignedVariables"), assigned);
      orc_json_object_set(flag, 0, orc_json_ref(E->keys[K_TRUNCATED]),
                          orc_json_bool(0));
      orc_json_object_set(d, n + 1, skey("assignedVariablesDetails"), flag);
      orc_json_unref(details);
      details = d;
      assigned = NULL;
    } else {
      orc_json_unref(d);
      orc_json_unref(flag);
    }
  }
  orc_json_unref(assigned);
  if (details)
    F->last_event =
        add_event(X, F->last_event, EV_STATE_EXITED + s->type, details);
  else
    F->last_event = add_event_ex(X, F->last_event, EV_STATE_EXITED + s->type,
                                 NULL, s, orc_json_ref(output));
  attach_replay(F);
  orc_json_unref(F->input);
  orc_json_unref(F->effective);
  F->effective = NULL;
  orc_json_unref(F->ctx);
  F->ctx = NULL;
  free(F->attempts);
  F->attempts = NULL;
  F->retry_count = 0;
  if (next < 0) {
    F->input = NULL;
    if (F->parent) {
      child_done(F, output); /* takes output; frees F */
      return;
    }
    finish(X, ORC_STATUS_SUCCEEDED, output, NULL, NULL, F->last_event);
    orc_json_unref(output);
    return;
  }
  F->input = output;
  F->state = next;
  F->phase = PH_ENTER;
  enqueue(F);
}

/* An error in the current state: Retry, Catch, or the end. */
static int error_matches(char **errors, size_t n, const char *name,
                         int heartbeat) {
  size_t i;
  int runtime = !strcmp(name, "States.Runtime");
  int datalimit = !strcmp(name, "States.DataLimitExceeded");
  for (i = 0; i < n; i++) {
    const char *e = errors[i];
    if (e == NULL) continue;
    if (runtime) return 0; /* never retried or caught, even by name */
    if (!strcmp(e, name)) return 1;
    if (datalimit) continue; /* terminal: only its own name matches */
    if (!strcmp(e, "States.ALL")) return 1;
    if (!strcmp(e, "States.TaskFailed") && strcmp(name, "States.Timeout"))
      return 1;
    if (heartbeat && !strcmp(e, "States.HeartbeatTimeout")) return 1;
  }
  return 0;
}

/* fail_event: the ...StateFailed event of a Map/Parallel, recorded only
** when the state is not retried (as AWS does), or -1. error may be NULL (a
** Fail state without Error). */
static void handle_error_ev(frame *F, const char *error, const char *cause,
                            int fail_event) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  const char *name = error ? error : "";
  size_t i;
  if (strcmp(name, "States.Runtime") != 0) {
    for (i = 0; i < s->nretry; i++) {
      const orci_retrier *r = &s->retry[i];
      if (!error_matches(r->errors, r->nerrors, name, F->heartbeat_expired))
        continue;
      if (F->attempts == NULL)
        F->attempts = (int64_t *)calloc(s->nretry, sizeof *F->attempts);
      if (F->attempts && F->attempts[i] < r->max_attempts) {
        double delay =
            (double)r->interval_s * pow(r->backoff, (double)F->attempts[i]);
        int64_t ms;
        if (r->max_delay_s && delay > (double)r->max_delay_s)
          delay = (double)r->max_delay_s;
        if (r->jitter_full)
          delay = delay * (double)(rng_next(E) >> 11) / 9007199254740992.0;
        ms = (int64_t)(delay * 1000.0);
        F->attempts[i]++;
        F->retry_count++;
        orc_json_unref(F->ctx);
        F->ctx = NULL;
        F->phase = PH_TIMER;
        if (push_timer(E, TK_WAKE, orc_engine_now(E) + ms, F, X,
                       ++F->timer_gen) != ORC_OK)
          fail_frame(F, "States.Runtime", "out of memory");
        return;
      }
      break; /* the first matching retrier decides */
    }
  }
  if (fail_event >= 0)
    F->last_event = add_event(X, F->last_event, fail_event, NULL);
  if (strcmp(name, "States.Runtime") != 0) {
    for (i = 0; i < s->ncatch; i++) {
      const orci_catcher *ct = &s->catch_[i];
      orc_json *info, *out;
      failure f = {NULL, NULL};
      if (!error_matches(ct->errors, ct->nerrors, name, F->heartbeat_expired))
        continue;
      info = orc_json_object_new(2);
      if (info == NULL) break;
      orc_json_object_set(info, 0, skey("Error"), skey(name));
      orc_json_object_set(info, 1, skey("Cause"), skey(cause ? cause : ""));
      if (eval_assign(F, ct->assign, info, &f) < 0)
        out = NULL;
      else
        out = apply_result_path(F, ct->result_path, ct->result_discard,
                                F->input, info, &f);
      orc_json_unref(info);
      if (out == NULL) {
        fail_frame(F, f.error ? f.error : "States.Runtime", f.cause);
        free(f.cause);
        return;
      }
      exit_state(F, out, ct->next);
      return;
    }
  }
  fail_frame(F, error, cause);
}

static void handle_error(frame *F, const char *error, const char *cause) {
  handle_error_ev(F, error, cause, -1);
}

static void fail_with(frame *F, failure *f) {
  handle_error(F, f->error ? f->error : "States.Runtime",
               f->cause ? f->cause : "out of memory");
  free(f->cause);
}

/* Send the task to the host. */
/* TimeoutSeconds / HeartbeatSeconds, literal or from a path (0: none). */
static int task_seconds(frame *F, int64_t lit, orci_path *p, const char *field,
                        int64_t *out, failure *f) {
  orci_env env;
  orc_json *v = NULL;
  *out = lit;
  if (p == NULL) return 0;
  frame_env(F, &env, F->input);
  if (orci_path_eval(p, &env, &v) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return -1;
  }
  if (orc_json_type_of(v) != ORC_JSON_INT || orc_json_int_value(v) <= 0) {
    char *text = raw_text(v);
    f->error = "States.Runtime";
    f->cause = runtime_cause(F,
                             "The %s parameter does not reference a "
                             "positive integer: %s == %s",
                             field, orci_path_text(p), text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = orc_json_int_value(v);
  orc_json_unref(v);
  return 0;
}

/* Task states with Resource arn:aws:states:::states:startExecution (and
** .sync, .sync:2, .waitForTaskToken) start another machine of this engine,
** named by StateMachineArn (or its name). */
static void start_child(frame *F, orc_task *T, const orci_state *s) {
  orc_execution *X = F->X, *C = NULL;
  orc_engine *E = X->E;
  const char *suffix = s->resource + 38;
  orc_json *p = F->effective, *arn_v, *in_v, *name_v, *resp, *input = NULL;
  const char *arn, *name = NULL;
  orc_machine *M;
  orc_error err;
  char date[40];
  static const char *const rk[] = {"ExecutionArn", "StartDate"};
  orc_json *rv[2];
  int mode = !strcmp(suffix, ".sync")               ? 1
             : !strcmp(suffix, ".sync:2")           ? 2
             : !strcmp(suffix, ".waitForTaskToken") ? 3
             : !strcmp(suffix, "")                  ? 0
                                                    : -1;
  if (mode < 0 || orc_json_type_of(p) != ORC_JSON_OBJECT ||
      (arn_v = orc_json_object_find(p, "StateMachineArn", 15)) == NULL ||
      orc_json_type_of(arn_v) != ORC_JSON_STRING) {
    task_complete(T, 0, NULL, "States.Runtime",
                  mode < 0 ? "unknown form of states:startExecution"
                           : "states:startExecution needs Parameters with "
                             "StateMachineArn",
                  NULL);
    return;
  }
  arn = orc_json_string_value(arn_v, NULL);
  for (M = E->machines; M; M = M->next_machine)
    if (!strcmp(M->arn, arn) || !strcmp(M->name, arn)) break;
  if (M == NULL) {
    char cause[400];
    snprintf(cause, sizeof cause, "State Machine Does Not Exist: '%s'", arn);
    task_complete(T, 0, NULL, "StepFunctions.StateMachineDoesNotExistException",
                  cause, NULL);
    return;
  }
  in_v = orc_json_object_find(p, "Input", 5);
  if (in_v && orc_json_type_of(in_v) == ORC_JSON_STRING) {
    size_t len;
    const char *txt = orc_json_string_value(in_v, &len);
    if (orc_json_parse(txt, len, NULL, &input, &err) != ORC_OK) {
      task_complete(T, 0, NULL, "StepFunctions.InvalidExecutionInputException",
                    err.message, NULL);
      return;
    }
  } else if (in_v) {
    input = orc_json_ref(in_v);
  }
  name_v = orc_json_object_find(p, "Name", 4);
  if (name_v && orc_json_type_of(name_v) == ORC_JSON_STRING)
    name = orc_json_string_value(name_v, NULL);
  if (orc_execution_start(M, input, name, &C, &err) != ORC_OK) {
    orc_json_unref(input);
    task_complete(T, 0, NULL,
                  strstr(err.message, "ExecutionAlreadyExists")
                      ? "StepFunctions.ExecutionAlreadyExistsException"
                      : "StepFunctions.InvalidExecutionInputException",
                  err.message, NULL);
    return;
  }
  orc_json_unref(input);
  free(C->parent_arn);
  C->parent_arn = strdup(X->arn);
  if (X->nnested == X->capnested) {
    size_t cap = X->capnested ? X->capnested * 2 : 4;
    char **np = (char **)realloc(X->nested, cap * sizeof *np);
    if (np) {
      X->nested = np;
      X->capnested = cap;
    }
  }
  if (X->nnested < X->capnested && (X->nested[X->nnested] = strdup(C->arn)))
    X->nnested++;
  orci_format_timestamp(C->start_ms, date);
  rv[0] = skey(C->arn);
  rv[1] = skey(date);
  resp = obj_of(2, rk, rv);
  if (mode == 0) {
    task_complete(T, 1, resp, NULL, NULL, NULL);
    return;
  }
  F->last_event =
      add_event(X, F->last_event, EV_TASK_SUBMITTED,
                kv_object(E, 4, K_RESOURCE_TYPE, skey(s->resource_type),
                          K_RESOURCE, skey(s->resource_name), K_OUTPUT, resp,
                          K_OUTPUT_DETAILS, orc_json_ref(E->not_truncated)));
  if (mode == 3) return; /* answered by token, usually by the child */
  T->child = C;
  T->sync = mode;
  C->parent_task = T;
}

static void task_start(frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orc_task *T;
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  int64_t timeout_s, heartbeat_s;
  failure f = {NULL, NULL};
  if (task_seconds(F, s->timeout_s, s->timeout_path, "TimeoutSecondsPath",
                   &timeout_s, &f) < 0 ||
      task_seconds(F, s->heartbeat_s, s->heartbeat_path, "HeartbeatSecondsPath",
                   &heartbeat_s, &f) < 0) {
    fail_with(F, &f);
    return;
  }
  F->heartbeat_expired = 0;
  F->last_event = add_event_ex(X, F->last_event,
                               lambda ? EV_LAMBDA_SCHEDULED : EV_TASK_SCHEDULED,
                               NULL, s, orc_json_ref(F->effective));
  attach_replay(F);
  if (lambda)
    F->last_event = add_event(X, F->last_event, EV_LAMBDA_STARTED, NULL);
  else
    F->last_event =
        add_event_ex(X, F->last_event, EV_TASK_STARTED, NULL, s, NULL);
  T = (orc_task *)calloc(1, sizeof *T);
  if (T == NULL) {
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  T->F = F;
  T->X = X;
  T->resource = s->resource;
  T->state_name = s->name;
  T->input = orc_json_ref(F->effective);
  /* one token per state entry: a retry keeps the token Parameters saw */
  memcpy(T->token, F->token, sizeof F->token); /* NUL-terminated */
  if (task_table_put(E, T) != ORC_OK) {
    task_free(T);
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  F->task = T;
  F->phase = PH_TASK_WAIT;
  F->task_gen = ++F->timer_gen;
  F->heartbeat_s = heartbeat_s;
  if (timeout_s > 0 &&
      push_timer(E, TK_TIMEOUT, orc_engine_now(E) + timeout_s * 1000, F, X,
                 F->task_gen) != ORC_OK) {
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  if (heartbeat_s > 0 &&
      push_timer(E, TK_HEARTBEAT, orc_engine_now(E) + heartbeat_s * 1000, F, X,
                 F->hb_gen = ++F->timer_gen) != ORC_OK) {
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  if (strncmp(s->resource, "arn:aws:states:::states:startExecution", 38) == 0) {
    start_child(F, T, s);
    return;
  }
  if (E->cfg.task == NULL) {
    task_complete(T, 0, NULL, "States.TaskFailed",
                  "no task handler is set on the engine", NULL);
    return;
  }
  E->dispatched++;
  if (E->cfg.task(E->cfg.task_ud, T) < 0 && F->task == T)
    task_complete(T, 0, NULL, "States.TaskFailed",
                  "the task handler failed internally", NULL);
  if (F->task == T && F->phase == PH_TASK_WAIT) {
    /* still pending, maybe for long: "$$" is made again if a path needs it
    ** later (100,000 waiting executions would each keep ~0.5 KB of it).
    ** $$.Execution stays while other frames of the execution run (a Map's
    ** iterations share it, and a host caches its conversion). */
    orc_json_unref(F->ctx);
    F->ctx = NULL;
    if (F == &X->root && X->children == NULL) {
      orc_json_unref(X->ctx_execution);
      X->ctx_execution = NULL;
    }
  }
}

/* A task's timeout or heartbeat expired: the host's task is abandoned and
** the state fails with States.Timeout (a heartbeat expiry also matches
** States.HeartbeatTimeout in Retry and Catch). */
static void task_expire(frame *F, int heartbeat) {
  orc_execution *X = F->X;
  X->quiet = F->quiet; /* a distributed child's events are its own */
  X->sink = F->sub;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  if (F->task) {
    remember_expired(E, F->task->token);
    drop_task(E, F->task);
    F->task = NULL;
  }
  F->last_event = add_event(
      X, F->last_event, lambda ? EV_LAMBDA_TIMED_OUT : EV_TASK_TIMED_OUT,
      lambda
          ? kv_object(E, 1, K_ERROR, skey("States.Timeout"))
          : kv_object(E, 3, K_RESOURCE_TYPE, skey(s->resource_type), K_RESOURCE,
                      skey(s->resource_name), K_ERROR, skey("States.Timeout")));
  F->heartbeat_expired = heartbeat;        /* reset by the next task_start */
  handle_error(F, "States.Timeout", NULL); /* may free F (a child) */
  X->quiet = 0;
  X->sink = NULL;
}

int orc_task_heartbeat(orc_task *T, orc_error *err) {
  frame *F = T->F;
  if (T->completed)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "the task was already completed or abandoned");
  if (F->heartbeat_s > 0)
    return push_timer(F->X->E, TK_HEARTBEAT,
                      orc_engine_now(F->X->E) + F->heartbeat_s * 1000, F, F->X,
                      F->hb_gen = ++F->timer_gen);
  return ORC_OK;
}

static size_t json_size(const orc_json *v) {
  return orci_json_text_size(v); /* counted, not printed */
}

static void task_done(frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  orc_json *result = F->result, *sel, *out, *final;
  failure f = {NULL, NULL};
  F->result = NULL;
  if (!F->task_ok) {
    char *error = F->error, *cause = F->cause;
    orc_json *d =
        lambda ? kv_object(E, 2, K_ERROR, str_or_null(error), K_CAUSE,
                           str_or_null(cause))
               : kv_object(E, 4, K_RESOURCE_TYPE, skey(s->resource_type),
                           K_RESOURCE, skey(s->resource_name), K_ERROR,
                           str_or_null(error), K_CAUSE, str_or_null(cause));
    F->error = F->cause = NULL;
    F->last_event = add_event(X, F->last_event,
                              lambda ? EV_LAMBDA_FAILED : EV_TASK_FAILED, d);
    handle_error(F, error ? error : "States.TaskFailed", cause);
    free(error);
    free(cause);
    return;
  }
  if (E->cfg.max_payload_bytes &&
      json_size(result) > E->cfg.max_payload_bytes) {
    char *cause = NULL;
    size_t n = strlen(s->name) + 128;
    cause = (char *)malloc(n);
    if (cause)
      snprintf(cause, n,
               "The state/task '%s' returned a result with a size exceeding "
               "the maximum number of bytes service limit.",
               lambda ? s->resource : s->name);
    orc_json_unref(result);
    F->last_event =
        add_event(X, F->last_event, lambda ? EV_LAMBDA_FAILED : EV_TASK_FAILED,
                  kv_object(E, 2, K_ERROR, skey("States.DataLimitExceeded"),
                            K_CAUSE, str_or_null(cause)));
    handle_error(F, "States.DataLimitExceeded", cause);
    free(cause);
    return;
  }
  F->last_event = add_event_ex(X, F->last_event,
                               lambda ? EV_LAMBDA_SUCCEEDED : EV_TASK_SUCCEEDED,
                               NULL, s, orc_json_ref(result));
  sel = s->result_selector ? eval_tmpl(F, s->result_selector, result, &f)
                           : orc_json_ref(result);
  orc_json_unref(result);
  if (sel == NULL || eval_assign(F, s->assign, sel, &f) < 0) {
    orc_json_unref(sel);
    fail_with(F, &f);
    return;
  }
  out = apply_result_path(F, s->result_path, s->result_discard, F->input, sel,
                          &f);
  orc_json_unref(sel);
  if (out == NULL) {
    fail_with(F, &f);
    return;
  }
  final = apply_path(F, s->output_path, s->output_null, out, &f);
  orc_json_unref(out);
  if (final == NULL) {
    fail_with(F, &f);
    return;
  }
  exit_state(F, final, s->next);
}

/* Seconds or a timestamp from a Wait state's fields. */
static int wait_due(frame *F, const orci_state *s, orc_json *in, int64_t *due,
                    failure *f) {
  orc_engine *E = F->X->E;
  orci_env env;
  orc_json *v = NULL;
  int64_t now = orc_engine_now(E);
  if (s->wait_seconds >= 0) {
    *due = now + s->wait_seconds * 1000;
    return 0;
  }
  if (s->wait_timestamp) {
    *due = s->wait_timestamp_ms;
    return 0;
  }
  frame_env(F, &env, in);
  if (s->seconds_path) {
    const char *pt = orci_path_text(s->seconds_path);
    char *text;
    if (orci_path_eval(s->seconds_path, &env, &v) != ORC_OK) {
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "The SecondsPath parameter does not "
                               "reference an input value: %s",
                               pt);
      return -1;
    }
    text = raw_text(v);
    if (orc_json_type_of(v) != ORC_JSON_INT) {
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "The SecondsPath parameter cannot be parsed "
                               "as a long value: %s == %s",
                               pt, text);
    } else if (orc_json_int_value(v) < 0) {
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "The SecondsPath parameter references a "
                               "negative value: %s == %s",
                               pt, text);
    } else {
      *due = now + orc_json_int_value(v) * 1000;
    }
    free(text);
    orc_json_unref(v);
    return f->error ? -1 : 0;
  }
  if (orci_path_eval(s->timestamp_path, &env, &v) != ORC_OK) {
    f->error = "States.Runtime";
    f->cause = runtime_cause(F,
                             "The TimestampPath parameter does not "
                             "reference an input value: %s",
                             orci_path_text(s->timestamp_path));
    return -1;
  }
  if (!ts_of(v, due)) {
    char *text = raw_text(v);
    f->error = "States.Runtime";
    f->cause = runtime_cause(F,
                             "The TimestampPath parameter does not "
                             "reference a valid ISO-8601 extended offset "
                             "date-time format string: %s == %s",
                             orci_path_text(s->timestamp_path), text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  orc_json_unref(v);
  return 0;
}

/* A Fail state's Error or Cause from its literal, path or intrinsic: 0 with
** *out owned (NULL when the field is absent), or -1 with f set. */
static int fail_field(frame *F, const char *field, const char *lit,
                      orci_path *p, orci_intrinsic *fn, char **out,
                      failure *f) {
  orci_env env;
  orc_json *v = NULL;
  *out = NULL;
  if (lit) {
    *out = strdup(lit);
    return 0;
  }
  if (p == NULL && fn == NULL) return 0;
  frame_env(F, &env, F->input);
  if (p) {
    if (orci_path_eval(p, &env, &v) != ORC_OK) {
      char *text = compact(F->input);
      f->error = "States.Runtime";
      f->cause = runtime_cause(F,
                               "The JSONPath '%s' specified for the field "
                               "'%s' could not be found in the input '%s'",
                               orci_path_text(p), field, text);
      free(text);
      return -1;
    }
  } else {
    char e[64], c[1024];
    if (orci_intrinsic_eval(fn, &env, &v, e, sizeof e, c, sizeof c) != ORC_OK) {
      f->error = strcmp(e, "States.Runtime") == 0 ? "States.Runtime"
                                                  : "States.IntrinsicFailure";
      f->cause = runtime_cause(F, "%s", c);
      return -1;
    }
  }
  *out = raw_text(v);
  orc_json_unref(v);
  return 0;
}

/* {====== Map and Parallel */

static void child_done(frame *C, orc_json *output);
static void child_failed(frame *C, const char *error, const char *cause);

#define N_UNKNOWN ((size_t)-1) /* items still being read */

static void group_free(group *G) {
  size_t i;
  int k;
  if (G == NULL) return;
  for (i = 0; i < G->cap; i++)
    orc_json_unref(G->results[i]);
  free(G->results);
  orc_json_unref(G->items);
  orci_reader_close(G->reader);
  orc_json_unref(G->peek);
  orc_json_unref(G->batch_input);
  for (k = 0; k < 2; k++) {
    if (G->out[k]) fclose(G->out[k]);
    free(G->out_path[k]);
  }
  free(G->run_arn);
  free(G->bucket);
  free(G->dir_key);
  free(G->error);
  free(G->cause);
  free(G);
}

/* {====== a distributed Map's child executions */

static void sub_free(orc_execution *S) {
  size_t i;
  for (i = S->first; i < S->nevents; i++)
    event_release(&S->events[i]);
  free(S->events);
  orc_json_unref(S->input);
  orc_json_unref(S->output);
  orc_json_unref(S->ctx_execution);
  free(S->error);
  free(S->cause);
  free(S->arn);
  free(S->parent_arn);
  free(S->map_run_arn);
  free(S);
}

/* A version 4 UUID from the engine's generator (replayable). */
static void make_uuid(orc_engine *E, char *buf) {
  uint64_t a = rng_next(E), b = rng_next(E);
  put_hex(buf, a >> 32, 8);
  buf[8] = '-';
  put_hex(buf + 9, (a >> 16) & 0xFFFF, 4);
  buf[13] = '-';
  buf[14] = '4';
  put_hex(buf + 15, a & 0xFFF, 3);
  buf[18] = '-';
  put_hex(buf + 19, ((b >> 48) & 0x3FFF) | 0x8000, 4);
  buf[23] = '-';
  put_hex(buf + 24, b & 0xFFFFFFFFFFFFull, 12);
  buf[36] = '\0';
}

/* The execution record of a distributed Map's child, with its own
** ExecutionStarted. */
static orc_execution *sub_new(frame *F, const orci_state *s, orc_json *input) {
  orc_execution *X = F->X, *S = (orc_execution *)calloc(1, sizeof *S);
  orc_engine *E = X->E;
  const char *parent = F->sub ? F->sub->arn : X->arn;
  char uuid[40];
  size_t n;
  if (S == NULL) return NULL;
  make_uuid(E, uuid);
  S->E = E;
  S->M = X->M;
  S->input = orc_json_ref(input);
  n = strlen(X->M->name) + strlen(s->label ? s->label : s->name) +
      strlen(E->region) + strlen(E->account) + 80;
  S->arn = (char *)malloc(n);
  S->parent_arn = strdup(parent);
  S->map_run_arn = strdup(F->G->run_arn ? F->G->run_arn : "");
  if (S->arn == NULL || S->parent_arn == NULL || S->map_run_arn == NULL) {
    sub_free(S);
    return NULL;
  }
  snprintf(S->arn, n, "arn:aws:states:%s:%s:execution:%s/%s:%s", E->region,
           E->account, X->M->name, s->label ? s->label : s->name, uuid);
  S->name = S->arn + strlen(S->arn) - strlen(uuid); /* the ARN's tail */
  S->status = ORC_STATUS_RUNNING;
  S->start_ms = orc_engine_now(E);
  S->next_id = 1;
  add_event_ex(S, 0, EV_EXECUTION_STARTED, NULL, &start_marker,
               orc_json_ref(input));
  return S;
}

/* The child execution ends: its status and last event. */
static void sub_end(frame *C, int status, orc_json *output, const char *error,
                    const char *cause) {
  orc_execution *S = C->sub;
  orc_engine *E = S->E;
  int type = status == ORC_STATUS_SUCCEEDED ? EV_EXECUTION_SUCCEEDED
             : status == ORC_STATUS_FAILED  ? EV_EXECUTION_FAILED
                                            : EV_EXECUTION_ABORTED;
  if (S->status != ORC_STATUS_RUNNING) return;
  S->status = status;
  if (status == ORC_STATUS_SUCCEEDED) {
    S->output = orc_json_ref(output);
    add_event(S, C->last_event, type,
              kv_object(E, 2, K_OUTPUT, orc_json_ref(output), K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated)));
  } else {
    set_str(&S->error, error);
    set_str(&S->cause, cause);
    add_event(S, C->last_event, type,
              status == ORC_STATUS_ABORTED
                  ? NULL
                  : kv_object(E, 2, K_ERROR, str_or_null(error), K_CAUSE,
                              str_or_null(cause)));
  }
}

/* The child frame goes: keep its record (full history) or free it. */
static void sub_release(frame *C) {
  orc_execution *S = C->sub, *X = C->X;
  C->sub = NULL;
  if (S->status == ORC_STATUS_RUNNING) {
    C->sub = S; /* sub_end reads it */
    sub_end(C, ORC_STATUS_ABORTED, NULL, NULL, NULL);
    C->sub = NULL;
  }
  if (X->E->cfg.history != ORC_HISTORY_FULL) {
    sub_free(S);
    return;
  }
  if (X->nsubs == X->capsubs) {
    size_t cap = X->capsubs ? X->capsubs * 2 : 16;
    orc_execution **p = (orc_execution **)realloc(X->subs, cap * sizeof *p);
    if (p == NULL) {
      sub_free(S);
      return;
    }
    X->subs = p;
    X->capsubs = cap;
  }
  X->subs[X->nsubs++] = S;
}

/* }====== */

/* Free a child frame (and, first, any children of its own). */
static void frame_free(frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  if (F->G) {
    while (F->G->first)
      frame_free(F->G->first);
    group_free(F->G);
    F->G = NULL;
  }
  unqueue(F);
  heap_purge(E, F, NULL);
  if (F->task) {
    drop_task(E, F->task);
    F->task = NULL;
  }
  if (F->parent && F->parent->G) { /* leave the parent's running list */
    group *G = F->parent->G;
    if (F->prev_sib)
      F->prev_sib->next_sib = F->next_sib;
    else if (G->first == F)
      G->first = F->next_sib;
    if (F->next_sib)
      F->next_sib->prev_sib = F->prev_sib;
    else if (G->last == F)
      G->last = F->prev_sib;
  }
  if (F->sub && (F->parent == NULL || F->parent->sub != F->sub)) sub_release(F);
  orc_json_unref(F->input);
  orc_json_unref(F->effective);
  orc_json_unref(F->result);
  orc_json_unref(F->ctx);
  orc_json_unref(F->vars);
  orc_json_unref(F->assigned);
  free(F->error);
  free(F->cause);
  free(F->attempts);
  free(F->drawn);
  if (F->prev_child)
    F->prev_child->next_child = F->next_child;
  else
    X->children = F->next_child;
  if (F->next_child) F->next_child->prev_child = F->prev_child;
  free(F);
}

/* A value of a Map's numeric *Path field: 0 with *out set, or -1. */
static int map_number(frame *F, orci_path *p, const char *field,
                      const char *kind, double *out, failure *f) {
  orci_env env;
  orc_json *v = NULL;
  frame_env(F, &env, F->input);
  if (orci_path_eval(p, &env, &v) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return -1;
  }
  if (orc_json_type_of(v) == ORC_JSON_STRING) { /* "1" is accepted too */
    const char *txt = orc_json_string_value(v, NULL);
    char *end = NULL;
    double d = strtod(txt, &end);
    if (*txt && end && *end == '\0' &&
        (kind[0] == 'f' || d == (double)(int64_t)d)) {
      *out = d;
      orc_json_unref(v);
      return 0;
    }
  }
  if ((kind[0] == 'i' && orc_json_type_of(v) != ORC_JSON_INT) ||
      (kind[0] == 'f' && orc_json_type_of(v) != ORC_JSON_INT &&
       orc_json_type_of(v) != ORC_JSON_FLOAT)) {
    char *text = raw_text(v);
    f->error = "States.Runtime";
    f->cause = runtime_cause(F,
                             "The %s field refers to value \"%s\" which is "
                             "not a valid %s: %s",
                             field, text, kind, orci_path_text(p));
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = orc_json_number(v);
  orc_json_unref(v);
  return 0;
}

/* The context object for an ItemSelector: $$ plus Map.Item.Index/Value. */
static orc_json *item_context(frame *F, size_t index, orc_json *item) {
  orc_json *base = frame_context(F), *ctx, *it, *map;
  size_t i, n = orc_json_len(base);
  static const char *const ik[] = {"Index", "Value"};
  static const char *const mk[] = {"Item"};
  orc_json *iv[2];
  iv[0] = orc_json_int((int64_t)index);
  iv[1] = orc_json_ref(item);
  it = obj_of(2, ik, iv);
  map = it ? obj_of(1, mk, &it) : NULL;
  ctx = map ? orc_json_object_new(n + 1) : NULL;
  if (ctx == NULL) {
    orc_json_unref(map);
    return NULL;
  }
  for (i = 0; i < n; i++)
    orc_json_object_set(ctx, i, orc_json_ref(orc_json_object_key(base, i)),
                        orc_json_ref(orc_json_object_value(base, i)));
  orc_json_object_set(ctx, n, skey("Map"), map);
  return ctx;
}

/* Group items into batches of {"Items": [...] (, "BatchInput": ...)}. */
static orc_json *make_batches(frame *F, const orci_state *s, orc_json *items,
                              int64_t max_items, int64_t max_bytes,
                              failure *f) {
  size_t n = orc_json_len(items), i = 0, nb = 0, k;
  orc_json **batches = (orc_json **)calloc(n ? n : 1, sizeof *batches);
  orc_json *bi = NULL, *out;
  if (batches == NULL) return NULL;
  if (s->batch_input) {
    bi = eval_tmpl(F, s->batch_input, F->effective, f);
    if (bi == NULL) {
      free(batches);
      return NULL;
    }
  }
  while (i < n) {
    size_t start = i, bytes = 2, cnt;
    orc_json *arr, *b;
    while (i < n) {
      size_t sz = json_size(orc_json_array_get(items, i)) + 1;
      if (i > start && ((max_items && (int64_t)(i - start) >= max_items) ||
                        (max_bytes && (int64_t)(bytes + sz) > max_bytes)))
        break;
      bytes += sz;
      i++;
    }
    cnt = i - start;
    arr = orc_json_array_new(cnt);
    for (k = 0; arr && k < cnt; k++)
      orc_json_array_set(arr, k,
                         orc_json_ref(orc_json_array_get(items, start + k)));
    b = orc_json_object_new(bi ? 2 : 1);
    if (b) {
      orc_json_object_set(b, 0, skey("Items"), arr);
      if (bi) orc_json_object_set(b, 1, skey("BatchInput"), orc_json_ref(bi));
    } else {
      orc_json_unref(arr);
    }
    batches[nb++] = b;
  }
  orc_json_unref(bi);
  out = orc_json_array_new(nb);
  for (k = 0; k < nb; k++)
    if (out)
      orc_json_array_set(out, k, batches[k]);
    else
      orc_json_unref(batches[k]);
  free(batches);
  return out;
}

/* {====== ItemReader and ResultWriter */

/* An S3 (bucket, key) as a local path (owned), or NULL with *cause. */
static char *resolve(orc_engine *E, const char *bucket, const char *key,
                     int write, char **cause) {
  char *path;
  *cause = NULL;
  if (E->cfg.resolve) {
    orc_error err;
    err.message[0] = '\0';
    path = E->cfg.resolve(E->cfg.resolve_ud, bucket, key, write, &err);
    if (path == NULL)
      *cause = strdup(err.message[0] ? err.message : "the resolver failed");
  } else {
    path = orci_default_resolve(E->cfg.data_dir ? E->cfg.data_dir : ".", bucket,
                                key, cause);
  }
  if (path && write && orci_make_parents(path) != 0) {
    *cause = (char *)malloc(strlen(path) + 200);
    if (*cause)
      sprintf(*cause, "cannot create the directories of '%s': %s", path,
              strerror(errno));
    free(path);
    return NULL;
  }
  return path;
}

/* A string member of the evaluated Parameters, or NULL. */
static const char *param_str(orc_json *p, const char *name) {
  orc_json *v = orc_json_type_of(p) == ORC_JSON_OBJECT
                    ? orc_json_object_find(p, name, strlen(name))
                    : NULL;
  return v && orc_json_type_of(v) == ORC_JSON_STRING
             ? orc_json_string_value(v, NULL)
             : NULL;
}

/* Open the ItemReader's source into G->reader; -1 with *f set. */
static int reader_open(frame *F, group *G, const orci_state *s, failure *f) {
  orc_engine *E = F->X->E;
  orci_reader_config rc;
  orc_json *p = eval_tmpl(F, s->reader_params, F->effective, f);
  const char *bucket, *key;
  char *path, *cause = NULL;
  double mi = (double)s->reader_max_items;
  if (p == NULL) return -1;
  bucket = param_str(p, "Bucket");
  key = param_str(p, s->reader == ORCI_READ_LIST ? "Prefix" : "Key");
  if (s->reader == ORCI_READ_LIST && key == NULL &&
      !orc_json_object_find(p, "Prefix", 6))
    key = "";
  if (bucket == NULL || key == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = strdup(s->reader == ORCI_READ_LIST
                          ? "the ItemReader's Parameters need a string Bucket "
                            "(and Prefix)"
                          : "the ItemReader's Parameters need a string Bucket "
                            "and Key");
    orc_json_unref(p);
    return -1;
  }
  if (s->reader_max_items_path) {
    failure g = {NULL, NULL};
    if (map_number(F, s->reader_max_items_path, "MaxItemsPath", "integer", &mi,
                   &g) < 0) {
      *f = g;
      orc_json_unref(p);
      return -1;
    }
    if (mi <= 0) {
      f->error = "States.ItemReaderFailed";
      f->cause = strdup("field MaxItems must be positive");
      orc_json_unref(p);
      return -1;
    }
  }
  path = resolve(E, bucket, s->reader == ORCI_READ_LIST ? "" : key, 0, &cause);
  if (path == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
    orc_json_unref(p);
    return -1;
  }
  memset(&rc, 0, sizeof rc);
  rc.type = s->reader;
  rc.path = path;
  rc.prefix = key;
  rc.csv_given = s->csv_given;
  rc.csv_headers = s->csv_headers;
  rc.ncsv_headers = s->ncsv_headers;
  rc.csv_delim = s->csv_delim;
  rc.max_items = (int64_t)mi;
  G->reader = orci_reader_open(&rc, &cause);
  free(path);
  /* the listing copied the prefix; files do not need it after opening */
  orc_json_unref(p);
  if (G->reader == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
    return -1;
  }
  return 0;
}

/* Open the ResultWriter's files; -1 with *f set. */
static int writer_open(frame *F, group *G, const orci_state *s,
                       const char *run_id, failure *f) {
  orc_engine *E = F->X->E;
  orc_json *p = eval_tmpl(F, s->writer_params, F->effective, f);
  const char *bucket, *prefix;
  static const char *const names[2] = {"SUCCEEDED_0", "FAILED_0"};
  size_t n;
  int k;
  if (p == NULL) return -1;
  bucket = param_str(p, "Bucket");
  prefix = param_str(p, "Prefix");
  if (bucket == NULL) {
    f->error = "States.ResultWriterFailed";
    f->cause = strdup("the ResultWriter's Parameters need a string Bucket");
    orc_json_unref(p);
    return -1;
  }
  if (prefix == NULL) prefix = "";
  n = strlen(prefix) + strlen(run_id) + 3;
  G->bucket = strdup(bucket);
  G->dir_key = (char *)malloc(n);
  if (G->bucket == NULL || G->dir_key == NULL) {
    orc_json_unref(p);
    f->error = "States.ResultWriterFailed";
    f->cause = strdup("out of memory");
    return -1;
  }
  snprintf(G->dir_key, n, "%s%s%s", prefix,
           prefix[0] && prefix[strlen(prefix) - 1] != '/' ? "/" : "", run_id);
  orc_json_unref(p);
  for (k = 0; k < 2; k++) {
    char key[1200], *cause = NULL;
    snprintf(key, sizeof key, "%s/%s.json%s", G->dir_key, names[k],
             s->writer_jsonl ? "l" : "");
    G->out_path[k] = resolve(E, G->bucket, key, 1, &cause);
    if (G->out_path[k] == NULL ||
        (G->out[k] = fopen(G->out_path[k], "wb")) == NULL) {
      f->error = "States.ResultWriterFailed";
      if (cause == NULL) {
        cause = (char *)malloc(strlen(key) + 200);
        if (cause)
          sprintf(cause, "cannot write '%s': %s", key, strerror(errno));
      }
      f->cause = cause;
      return -1;
    }
  }
  return 0;
}

/* The record of a finished child as the ResultWriter's Transformation wants
** it (owned). */
static orc_json *child_record(const orci_state *s, orc_execution *S,
                              orc_json *output, const char *error,
                              const char *cause) {
  if (s->writer_transform == ORCI_WRITE_NONE && S) return describe(S, 1);
  if (output) return orc_json_ref(output);
  {
    orc_json *o = orc_json_object_new(2);
    if (o) {
      orc_json_object_set(o, 0, skey("Error"), str_or_null(error));
      orc_json_object_set(o, 1, skey("Cause"), str_or_null(cause));
    }
    return o;
  }
}

/* Append a record (borrowed) to file k (0 SUCCEEDED, 1 FAILED). */
static void write_record(group *G, const orci_state *s, int k, orc_json *rec) {
  size_t len, i, n = 1;
  orc_json *one = rec;
  int flatten = s->writer_transform == ORCI_WRITE_FLATTEN && k == 0 &&
                orc_json_type_of(rec) == ORC_JSON_ARRAY;
  if (G->out[k] == NULL || rec == NULL) return;
  if (flatten) n = orc_json_len(rec);
  for (i = 0; i < n; i++) {
    char *text;
    if (flatten) one = orc_json_array_get(rec, i);
    text = orc_json_print(one, 0, &len);
    if (text == NULL) continue;
    if (s->writer_jsonl) {
      fwrite(text, 1, len, G->out[k]);
      fputc('\n', G->out[k]);
    } else {
      fputc(G->nout[k] ? ',' : '[', G->out[k]);
      fwrite(text, 1, len, G->out[k]);
    }
    G->nout[k]++;
    orc_free(text);
  }
}

/* Close the files and write the manifest; the state's result (owned) or
** NULL with *f set. */
static orc_json *writer_finish(frame *F, group *G, failure *f) {
  static const char *const kinds[2] = {"SUCCEEDED", "FAILED"};
  const orci_state *s = &F->B->states[F->state];
  orc_engine *E = F->X->E;
  orc_json *files[2], *rf, *man, *det, *out;
  char key[1200], *path, *cause = NULL, *text;
  size_t len;
  int k, bad = 0;
  FILE *mf;
  for (k = 0; k < 2; k++) {
    long size = 0;
    if (G->nout[k] && !s->writer_jsonl) fputc(']', G->out[k]);
    if (G->nout[k]) size = ftell(G->out[k]);
    if (fclose(G->out[k]) != 0) bad = 1;
    G->out[k] = NULL;
    if (G->nout[k] == 0) { /* only files with results are listed */
      remove(G->out_path[k]);
      files[k] = orc_json_array_new(0);
      continue;
    }
    snprintf(key, sizeof key, "%s/%s_0.json%s", G->dir_key, kinds[k],
             s->writer_jsonl ? "l" : "");
    files[k] = orc_json_array_new(1);
    if (files[k]) {
      orc_json *o = orc_json_object_new(2);
      if (o) {
        orc_json_object_set(o, 0, skey("Key"), skey(key));
        orc_json_object_set(o, 1, skey("Size"), orc_json_int(size));
      }
      orc_json_array_set(files[k], 0, o);
    }
  }
  rf = orc_json_object_new(3);
  if (rf) {
    orc_json_object_set(rf, 0, skey("FAILED"), files[1]);
    orc_json_object_set(rf, 1, skey("PENDING"), orc_json_array_new(0));
    orc_json_object_set(rf, 2, skey("SUCCEEDED"), files[0]);
  } else {
    orc_json_unref(files[0]);
    orc_json_unref(files[1]);
  }
  man = orc_json_object_new(3);
  if (man) {
    orc_json_object_set(man, 0, skey("DestinationBucket"), skey(G->bucket));
    orc_json_object_set(man, 1, skey("MapRunArn"), skey(G->run_arn));
    orc_json_object_set(man, 2, skey("ResultFiles"), rf);
  } else {
    orc_json_unref(rf);
  }
  snprintf(key, sizeof key, "%s/manifest.json", G->dir_key);
  path = resolve(E, G->bucket, key, 1, &cause);
  text = man ? orc_json_print(man, 0, &len) : NULL;
  orc_json_unref(man);
  if (path == NULL || text == NULL || bad || (mf = fopen(path, "wb")) == NULL ||
      fwrite(text, 1, len, mf) != len || fclose(mf) != 0) {
    f->error = "States.ResultWriterFailed";
    if (cause == NULL) {
      cause = (char *)malloc(strlen(key) + 200);
      if (cause) sprintf(cause, "cannot write '%s'", key);
    }
    f->cause = cause;
    free(path);
    orc_free(text);
    return NULL;
  }
  free(path);
  orc_free(text);
  det = orc_json_object_new(2);
  if (det) {
    orc_json_object_set(det, 0, skey("Bucket"), skey(G->bucket));
    orc_json_object_set(det, 1, skey("Key"), skey(key));
  }
  out = orc_json_object_new(2);
  if (out) {
    orc_json_object_set(out, 0, skey("MapRunArn"), skey(G->run_arn));
    orc_json_object_set(out, 1, skey("ResultWriterDetails"), det);
  } else {
    orc_json_unref(det);
  }
  return out;
}

/* One item from the reader: 1, 0 at the end, -1 with *f. */
static int read_one(group *G, orc_json **item, failure *f) {
  char *cause = NULL;
  int rc;
  if (G->peek) {
    *item = G->peek;
    G->peek = NULL;
    return 1;
  }
  rc = orci_reader_next(G->reader, item, &cause);
  if (rc < 0) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
  }
  return rc;
}

/* The next item (or batch) of a Map (owned): 1, 0 when there are no more,
** -1 with *f set. */
static int next_item(frame *F, group *G, const orci_state *s, orc_json **out,
                     failure *f) {
  orc_json **list = NULL, *arr, *b, *x;
  size_t cnt = 0, cap = 0, bytes = 2, k;
  int rc;
  *out = NULL;
  if (G->reader == NULL) {
    if (G->next >= G->n) return 0;
    *out = orc_json_ref(orc_json_array_get(G->items, G->next));
    return 1;
  }
  if (!s->batched) return read_one(G, out, f);
  for (;;) {
    size_t sz;
    if ((rc = read_one(G, &x, f)) < 0) {
      while (cnt > 0)
        orc_json_unref(list[--cnt]);
      free(list);
      return -1;
    }
    if (rc == 0) break;
    sz = json_size(x) + 1;
    if (cnt > 0 &&
        ((G->batch_items && (int64_t)cnt >= G->batch_items) ||
         (G->batch_bytes && (int64_t)(bytes + sz) > G->batch_bytes))) {
      G->peek = x;
      break;
    }
    if (cnt == cap) {
      size_t nc = cap ? cap * 2 : 16;
      orc_json **l = (orc_json **)realloc(list, nc * sizeof *l);
      if (l == NULL) {
        orc_json_unref(x);
        break;
      }
      list = l;
      cap = nc;
    }
    list[cnt++] = x;
    bytes += sz;
  }
  if (cnt == 0) {
    free(list);
    return 0;
  }
  arr = orc_json_array_new(cnt);
  for (k = 0; k < cnt; k++)
    if (arr)
      orc_json_array_set(arr, k, list[k]);
    else
      orc_json_unref(list[k]);
  free(list);
  b = orc_json_object_new(G->batch_input ? 2 : 1);
  if (b == NULL || arr == NULL) {
    orc_json_unref(arr);
    orc_json_unref(b);
    f->error = "States.Runtime";
    f->cause = strdup("out of memory");
    return -1;
  }
  orc_json_object_set(b, 0, skey("Items"), arr);
  if (G->batch_input)
    orc_json_object_set(b, 1, skey("BatchInput"), orc_json_ref(G->batch_input));
  (void)F;
  *out = b;
  return 1;
}

/* }====== */

/* Stop the running children (another one failed past tolerance, or the
** items could not be read); the state then ends with G's error. */
static void group_abort(frame *F) {
  group *G = F->G;
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  int inline_map = s->type == ORCI_ST_MAP && !s->distributed;
  G->failing = 1;
  while (G->first) {
    frame *other = G->first;
    if (inline_map)
      G->last_event =
          add_event_ex(X, other->last_event, EV_MAP_ITER_ABORTED, NULL, s,
                       orc_json_int((int64_t)other->index));
    G->running--;
    frame_free(other);
  }
  F->phase = PH_GROUP_DONE;
  enqueue(F);
}

/* Every child has ended: the state goes on. */
static void group_check(frame *F) {
  group *G = F->G;
  if (!G->failing && G->n != N_UNKNOWN && G->done + G->failed == G->n &&
      F->phase == PH_GROUP_WAIT) {
    F->phase = PH_GROUP_DONE;
    enqueue(F);
  }
}

/* Start children while the concurrency cap allows. */
static void group_spawn(frame *F, int64_t prev) {
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  group *G = F->G;
  int started = 0;
  while (!G->failing && (G->max_running == 0 || G->running < G->max_running)) {
    size_t i;
    if (started++ == SPAWN_BATCH) { /* go on with the next turn */
      F->phase = PH_GROUP_MORE;
      enqueue(F);
      return;
    }
    frame *C;
    orc_json *input;
    const orci_branch *B;
    int64_t first_prev = prev;
    failure f = {NULL, NULL};
    if (s->type == ORCI_ST_PARALLEL) {
      if (G->next >= G->n) break;
      i = G->next++;
      B = &s->branches[i];
      input = orc_json_ref(F->effective);
    } else {
      orc_json *item = NULL;
      int rc;
      if (G->n != N_UNKNOWN && G->next >= G->n) break;
      rc = next_item(F, G, s, &item, &f);
      if (rc == 0) {
        G->n = G->next; /* the reader is at its end */
        break;
      }
      if (rc < 0) {
        G->error = strdup(f.error ? f.error : "States.Runtime");
        G->cause = f.cause;
        group_abort(F);
        return;
      }
      i = G->next++;
      if (G->keep && i >= G->cap) {
        size_t nc = G->cap ? G->cap * 2 : 64;
        orc_json **r = (orc_json **)realloc(G->results, nc * sizeof *r);
        if (r == NULL) {
          orc_json_unref(item);
          G->error = strdup("States.Runtime");
          G->cause = strdup("out of memory");
          group_abort(F);
          return;
        }
        memset(r + G->cap, 0, (nc - G->cap) * sizeof *r);
        G->results = r;
        G->cap = nc;
      }
      B = s->processor;
      if (s->item_selector && !s->batched) {
        orc_json *saved;
        frame_context(F); /* the state's "$$", kept on F: made first, so
                             that item_context finds it there */
        saved = F->ctx;
        F->ctx = item_context(F, i, item);
        input =
            F->ctx ? eval_tmpl(F, s->item_selector, F->effective, &f) : NULL;
        orc_json_unref(F->ctx);
        F->ctx = saved;
        orc_json_unref(item);
        if (input == NULL) {
          G->error = strdup(f.error ? f.error : "States.Runtime");
          G->cause = f.cause;
          group_abort(F);
          return;
        }
      } else {
        input = item;
      }
      if (!s->distributed)
        first_prev = add_event_ex(X, prev, EV_MAP_ITER_STARTED, NULL, s,
                                  orc_json_int((int64_t)i));
    }
    C = (frame *)calloc(1, sizeof *C);
    if (C == NULL) {
      orc_json_unref(input);
      G->error = strdup("States.Runtime");
      G->cause = strdup("out of memory");
      group_abort(F);
      return;
    }
    C->X = X;
    C->B = B;
    C->state = B->start;
    C->phase = PH_ENTER;
    C->input = input;
    C->last_event = first_prev;
    C->parent = F;
    C->index = i;
    C->quiet = F->quiet || s->distributed;
    C->sub = F->sub;
    C->next_child = X->children;
    if (X->children) X->children->prev_child = C;
    X->children = C;
    C->prev_sib = G->last;
    if (G->last)
      G->last->next_sib = C;
    else
      G->first = C;
    G->last = C;
    G->running++;
    if (s->distributed) {
      C->sub = sub_new(F, s, input);
      C->last_event = 0; /* its first state's Entered points at 0 */
      if (C->sub == NULL) {
        G->error = strdup("States.Runtime");
        G->cause = strdup("out of memory");
        group_abort(F);
        return;
      }
    }
    enqueue(C);
  }
  group_check(F);
}

/* Enter a Map or Parallel state's work (first try or a retry). */
static void group_start(frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  group *G = (group *)calloc(1, sizeof *G);
  failure f = {NULL, NULL};
  size_t n;
  if (G == NULL) {
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  G->tolerated_count = -1;
  G->tolerated_pct = -1;
  G->keep = 1;
  if (s->type == ORCI_ST_PARALLEL) {
    n = s->nbranches;
    F->last_event = add_event(X, F->last_event, EV_PARALLEL_STARTED, NULL);
  } else {
    orc_json *items = NULL;
    double mc = (double)s->max_concurrency, tc = (double)s->tolerated_count,
           tp = s->tolerated_percent;
    int64_t bi = s->batch_max_items, bb = s->batch_max_bytes;
    size_t nitems = (size_t)-1; /* known once the items are an array */
    if (s->reader) {
      nitems = 0; /* read later: AWS records MapStateStarted {length: 0} */
    } else if (s->items_path) {
      orci_env env;
      frame_env(F, &env, F->effective);
      if (orci_path_eval(s->items_path, &env, &items) != ORC_OK) {
        char why[512];
        orci_path_explain(s->items_path, &env, why, sizeof why);
        f.error = "States.Runtime";
        f.cause = runtime_cause(F, "Invalid path '%s' : %s",
                                orci_path_text(s->items_path), why);
      }
    } else {
      items = orc_json_ref(F->effective);
    }
    if (f.error == NULL && items && orc_json_type_of(items) != ORC_JSON_ARRAY) {
      char *text = compact(items);
      f.error = "States.Runtime";
      f.cause = runtime_cause(F, "Map state input must be an array but was: %s",
                              text);
      free(text);
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->max_concurrency_path &&
        map_number(F, s->max_concurrency_path, "MaxConcurrencyPath", "integer",
                   &mc, &f) < 0) {
      orc_json_unref(items);
      items = NULL;
    }
    /* AWS records MapStateStarted before it reads the tolerances */
    if (f.error == NULL && items) nitems = orc_json_len(items);
    if (f.error == NULL &&
        ((s->tolerated_count_path &&
          map_number(F, s->tolerated_count_path, "ToleratedFailureCountPath",
                     "integer", &tc, &f) < 0) ||
         (s->tolerated_percent_path &&
          map_number(F, s->tolerated_percent_path,
                     "ToleratedFailurePercentagePath", "float", &tp,
                     &f) < 0))) {
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->tolerated_count_path && tc < 0) {
      f.error = "States.Runtime";
      f.cause = runtime_cause(F, "ToleratedFailureCount cannot be negative.");
      orc_json_unref(items);
      items = NULL;
    } else if (f.error == NULL && s->tolerated_percent_path &&
               (tp < 0 || tp > 100)) {
      f.error = "States.Runtime";
      f.cause = runtime_cause(
          F, "ToleratedFailurePercentage must be between 0 and 100.");
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->batched) {
      double v;
      if (s->batch_max_items_path &&
          map_number(F, s->batch_max_items_path, "MaxItemsPerBatchPath",
                     "integer", &v, &f) == 0)
        bi = (int64_t)v;
      if (f.error == NULL && s->batch_max_bytes_path &&
          map_number(F, s->batch_max_bytes_path, "MaxInputBytesPerBatchPath",
                     "integer", &v, &f) == 0)
        bb = (int64_t)v;
      if (f.error == NULL && s->reader) {
        G->batch_items = bi;
        G->batch_bytes = bb;
        if (s->batch_input &&
            (G->batch_input = eval_tmpl(F, s->batch_input, F->effective, &f)) ==
                NULL &&
            f.error == NULL) {
          f.error = "States.Runtime";
          f.cause = strdup("out of memory");
        }
      } else if (f.error == NULL) {
        orc_json *batches = make_batches(F, s, items, bi, bb, &f);
        orc_json_unref(items);
        items = batches;
        if (items == NULL && f.error == NULL) {
          f.error = "States.Runtime";
          f.cause = strdup("out of memory");
        }
      } else {
        orc_json_unref(items);
        items = NULL;
      }
    }
    if (f.error) {
      group_free(G);
      if (nitems != (size_t)-1) /* AWS records the start, then the failure */
        F->last_event =
            add_event(X, F->last_event, EV_MAP_STARTED,
                      kv_object(E, 1, K_LENGTH, orc_json_int((int64_t)nitems)));
      fail_with(F, &f);
      return;
    }
    G->items = items;
    n = items ? orc_json_len(items) : N_UNKNOWN;
    if (s->distributed && mc <= 0) mc = 10000; /* AWS runs up to 10,000 */
    G->max_running = mc > 0 ? (size_t)mc : (size_t)E->cfg.map_concurrency;
    G->tolerated_count =
        s->tolerated_count_path || s->tolerated_count >= 0 ? (int64_t)tc : -1;
    G->tolerated_pct = tp;
    G->keep = !(s->writer && s->writer_params);
    F->last_event = add_event(
        X, F->last_event, EV_MAP_STARTED,
        kv_object(E, 1, K_LENGTH, orc_json_int(items ? (int64_t)n : 0)));
    if (s->distributed) {
      char arn[512], id[40];
      make_uuid(E, id);
      snprintf(arn, sizeof arn, "arn:aws:states:%s:%s:mapRun:%s/%s:%s",
               E->region, E->account, X->M->name, s->label ? s->label : s->name,
               id);
      G->run_arn = strdup(arn);
      F->last_event = add_event(X, F->last_event, EV_MAP_RUN_STARTED,
                                kv_object(E, 1, K_MAP_RUN_ARN, skey(arn)));
      if ((s->reader && reader_open(F, G, s, &f) < 0) ||
          (s->writer && s->writer_params && writer_open(F, G, s, id, &f) < 0)) {
        G->error = strdup(f.error);
        G->cause = f.cause;
        G->failing = 1;
        G->last_event = F->last_event;
        F->G = G;
        F->phase = PH_GROUP_DONE;
        enqueue(F);
        return;
      }
    }
  }
  G->n = n;
  if (n != N_UNKNOWN && G->keep) {
    G->cap = n;
    G->results = (orc_json **)calloc(n ? n : 1, sizeof *G->results);
    if (G->results == NULL) {
      group_free(G);
      fail_frame(F, "States.Runtime", "out of memory");
      return;
    }
  }
  G->last_event = F->last_event;
  F->G = G;
  F->phase = PH_GROUP_WAIT;
  if (n == 0) {
    F->phase = PH_GROUP_DONE;
    enqueue(F);
    return;
  }
  group_spawn(F, F->last_event);
}

static int tolerated(const group *G) {
  double total = (double)(G->n == N_UNKNOWN ? G->next : G->n);
  if (G->tolerated_count < 0 && G->tolerated_pct < 0) return 0;
  if (G->tolerated_count >= 0 && (int64_t)G->failed > G->tolerated_count)
    return 0;
  if (G->tolerated_pct >= 0 &&
      (double)G->failed * 100.0 > G->tolerated_pct * total)
    return 0;
  return 1;
}

static void child_done(frame *C, orc_json *output) {
  frame *F = C->parent;
  group *G = F->G;
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  size_t i = C->index;
  if (s->distributed) {
    sub_end(C, ORC_STATUS_SUCCEEDED, output, NULL, NULL);
    if (s->writer) {
      orc_json *rec = child_record(s, C->sub, output, NULL, NULL);
      if (G->keep) {
        G->results[i] = rec;
        rec = NULL;
      } else {
        write_record(G, s, 0, rec);
      }
      orc_json_unref(rec);
      orc_json_unref(output);
      output = NULL;
    }
  } else {
    G->last_event = C->last_event;
  }
  if (G->keep && output)
    G->results[i] = output;
  else
    orc_json_unref(output);
  if (s->type == ORCI_ST_MAP && !s->distributed)
    G->last_event = add_event_ex(X, C->last_event, EV_MAP_ITER_SUCCEEDED, NULL,
                                 s, orc_json_int((int64_t)i));
  G->running--;
  G->done++;
  frame_free(C);
  group_spawn(F, G->last_event);
}

static void child_failed(frame *C, const char *error, const char *cause) {
  frame *F = C->parent;
  group *G = F->G;
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  size_t i = C->index;
  int map = s->type == ORCI_ST_MAP;
  if (s->distributed) {
    sub_end(C, ORC_STATUS_FAILED, NULL, error, cause);
  } else {
    G->last_event = C->last_event;
    if (map)
      G->last_event = add_event_ex(X, C->last_event, EV_MAP_ITER_FAILED, NULL,
                                   s, orc_json_int((int64_t)i));
  }
  G->running--;
  G->failed++;
  if (s->distributed && s->writer && !G->keep) {
    orc_json *rec = child_record(s, C->sub, NULL, error, cause);
    write_record(G, s, 1, rec);
    orc_json_unref(rec);
  }
  if (map && tolerated(G)) {
    if (G->keep)
      G->results[i] = s->distributed && s->writer
                          ? child_record(s, C->sub, NULL, error, cause)
                          : child_record(s, NULL, NULL, error, cause);
    frame_free(C);
    group_spawn(F, G->last_event);
    return;
  }
  if (map && (G->tolerated_count >= 0 || G->tolerated_pct >= 0)) {
    G->error = strdup("States.ExceedToleratedFailureThreshold");
    G->cause = strdup("The specified tolerated failure threshold was "
                      "exceeded");
  } else {
    G->error = error ? strdup(error) : NULL;
    G->cause = cause ? strdup(cause) : NULL;
  }
  frame_free(C);
  group_abort(F);
}

/* All children ended, or one failed: the Map/Parallel state goes on. */
static void group_finish(frame *F) {
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  group *G = F->G;
  int map = s->type == ORCI_ST_MAP;
  orc_json *result, *sel, *out, *final;
  failure f = {NULL, NULL};
  size_t i;
  F->G = NULL;
  if (G->failing) {
    char *error = G->error, *cause = G->cause;
    G->error = G->cause = NULL;
    F->last_event = G->last_event;
    group_free(G);
    if (s->distributed)
      F->last_event = add_event(X, F->last_event, EV_MAP_RUN_FAILED,
                                kv_object(X->E, 2, K_ERROR, str_or_null(error),
                                          K_CAUSE, str_or_null(cause)));
    handle_error_ev(F, error, cause, map ? EV_MAP_FAILED : EV_PARALLEL_FAILED);
    free(error);
    free(cause);
    return;
  }
  if (s->distributed && s->writer && !G->keep) {
    result = writer_finish(F, G, &f);
    if (result == NULL) { /* the map run fails with ResultWriterFailed */
      F->last_event = G->last_event;
      group_free(G);
      F->last_event = add_event(X, F->last_event, EV_MAP_RUN_FAILED,
                                kv_object(X->E, 2, K_ERROR, skey(f.error),
                                          K_CAUSE, str_or_null(f.cause)));
      handle_error_ev(F, f.error, f.cause, EV_MAP_FAILED);
      free(f.cause);
      return;
    }
  } else {
    size_t k = 0, total = G->n;
    int flatten = s->writer && s->writer_transform == ORCI_WRITE_FLATTEN;
    if (flatten) { /* arrays of the children's outputs are spliced in */
      total = 0;
      for (i = 0; i < G->n; i++)
        total += orc_json_type_of(G->results[i]) == ORC_JSON_ARRAY
                     ? orc_json_len(G->results[i])
                     : 1;
    }
    result = orc_json_array_new(total);
    for (i = 0; result && i < G->n; i++) {
      if (flatten && orc_json_type_of(G->results[i]) == ORC_JSON_ARRAY) {
        size_t j;
        for (j = 0; j < orc_json_len(G->results[i]); j++)
          orc_json_array_set(
              result, k++, orc_json_ref(orc_json_array_get(G->results[i], j)));
        continue;
      }
      orc_json_array_set(result, k++, G->results[i]);
      G->results[i] = NULL;
    }
  }
  if (s->distributed)
    G->last_event = add_event(X, G->last_event, EV_MAP_RUN_SUCCEEDED, NULL);
  F->last_event = add_event(
      X, G->last_event, map ? EV_MAP_SUCCEEDED : EV_PARALLEL_SUCCEEDED, NULL);
  group_free(G);
  if (result == NULL) {
    fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  sel = s->result_selector ? eval_tmpl(F, s->result_selector, result, &f)
                           : orc_json_ref(result);
  orc_json_unref(result);
  if (sel == NULL || eval_assign(F, s->assign, sel, &f) < 0) {
    orc_json_unref(sel);
    fail_with(F, &f);
    return;
  }
  out = apply_result_path(F, s->result_path, s->result_discard, F->input, sel,
                          &f);
  orc_json_unref(sel);
  if (out == NULL) {
    fail_with(F, &f);
    return;
  }
  final = apply_path(F, s->output_path, s->output_null, out, &f);
  orc_json_unref(out);
  if (final == NULL) {
    fail_with(F, &f);
    return;
  }
  exit_state(F, final, s->next);
}

/* }====== */

static void enter_state(frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orc_json *eff, *res, *out, *final;
  failure f = {NULL, NULL};
  size_t i;
  F->entered_ms = orc_engine_now(E);
  F->token[0] = '\0';
  X->transitions++;
  if (F->sub) F->sub->transitions++;
  if (s->type == ORCI_ST_TASK) make_token(E, F->token);
  F->entered_id = add_event_ex(X, F->last_event, EV_STATE_ENTERED + s->type,
                               NULL, s, orc_json_ref(F->input));
  F->last_event = F->entered_id;
  if (s->type == ORCI_ST_FAIL) {
    char *error = NULL, *cause = NULL;
    if (fail_field(F, "ErrorPath", s->error, s->error_path, s->error_fn, &error,
                   &f) < 0 ||
        fail_field(F, "CausePath", s->cause, s->cause_path, s->cause_fn, &cause,
                   &f) < 0) {
      free(error);
      fail_frame(F, f.error, f.cause);
      free(f.cause);
      return;
    }
    fail_frame(F, error, cause);
    free(error);
    free(cause);
    return;
  }
  eff = apply_path(F, s->input_path, s->input_null, F->input, &f);
  if (eff == NULL) {
    fail_with(F, &f);
    return;
  }
  if (s->parameters && s->type != ORCI_ST_MAP) {
    orc_json *p = eval_tmpl(F, s->parameters, eff, &f);
    orc_json_unref(eff);
    if (p == NULL) {
      fail_with(F, &f);
      return;
    }
    eff = p;
  }
  switch (s->type) {
  case ORCI_ST_TASK:
    F->effective = eff;
    task_start(F);
    return;
  case ORCI_ST_PARALLEL:
  case ORCI_ST_MAP:
    F->effective = eff;
    group_start(F);
    return;
  case ORCI_ST_PASS:
    res = s->result ? orc_json_ref(s->result) : orc_json_ref(eff);
    orc_json_unref(eff);
    if (eval_assign(F, s->assign, res, &f) < 0) {
      orc_json_unref(res);
      fail_with(F, &f);
      return;
    }
    out = apply_result_path(F, s->result_path, s->result_discard, F->input, res,
                            &f);
    orc_json_unref(res);
    break;
  case ORCI_ST_CHOICE: {
    int next = -1;
    for (i = 0; i < s->nchoices; i++) {
      int m = rule_eval(F, s->choices[i], eff, &f);
      if (m < 0) {
        orc_json_unref(eff);
        fail_with(F, &f);
        return;
      }
      if (m) {
        next = s->choices[i]->next;
        if (eval_assign(F, s->choices[i]->assign, eff, &f) < 0) {
          orc_json_unref(eff);
          fail_with(F, &f);
          return;
        }
        break;
      }
    }
    if (next < 0) {
      next = s->default_next;
      if (next >= 0 && eval_assign(F, s->assign, eff, &f) < 0) {
        orc_json_unref(eff);
        fail_with(F, &f);
        return;
      }
    }
    if (next < 0) {
      orc_json_unref(eff);
      f.error = "States.NoChoiceMatched";
      f.cause = runtime_cause(F, "No Matches!");
      fail_with(F, &f);
      return;
    }
    final = apply_path(F, s->output_path, s->output_null, eff, &f);
    orc_json_unref(eff);
    if (final == NULL) {
      fail_with(F, &f);
      return;
    }
    exit_state(F, final, next);
    return;
  }
  case ORCI_ST_WAIT: {
    int64_t due;
    if (wait_due(F, s, eff, &due, &f) < 0) {
      orc_json_unref(eff);
      fail_with(F, &f);
      return;
    }
    F->effective = eff;
    F->phase = PH_TIMER;
    if (push_timer(E, TK_WAKE, due, F, X, ++F->timer_gen) != ORC_OK)
      fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  default: /* Succeed */
    out = eff;
    break;
  }
  if (out == NULL) {
    fail_with(F, &f);
    return;
  }
  final = apply_path(F, s->output_path, s->output_null, out, &f);
  orc_json_unref(out);
  if (final == NULL) {
    fail_with(F, &f);
    return;
  }
  exit_state(F, final, s->next);
}

/* Run one turn of a frame. */
static void frame_run(frame *F) {
  orc_execution *X = F->X;
  const orci_state *s;
  failure f = {NULL, NULL};
  orc_json *final;
  if (X->status != ORC_STATUS_RUNNING) return;
  if (X->E->cfg.max_history_events &&
      X->total_events >= X->E->cfg.max_history_events) {
    char cause[160];
    snprintf(cause, sizeof cause,
             "The execution reached the limit of %zu history events.",
             X->E->cfg.max_history_events);
    fail_frame(F, "States.Runtime", cause);
    return;
  }
  s = &F->B->states[F->state];
  X->quiet = F->quiet;
  X->sink = F->sub;
  switch (F->phase) {
  case PH_ENTER:
    enter_state(F);
    break;
  case PH_TASK_START:
    task_start(F);
    break;
  case PH_TASK_DONE:
    task_done(F);
    break;
  case PH_GROUP_DONE:
    group_finish(F);
    break;
  case PH_GROUP_MORE:
    F->phase = PH_GROUP_WAIT;
    group_spawn(F, F->G->last_event);
    break;
  case PH_WAIT_DONE:
    if (s->type == ORCI_ST_WAIT) {
      final =
          eval_assign(F, s->assign, F->effective, &f) < 0
              ? NULL
              : apply_path(F, s->output_path, s->output_null, F->effective, &f);
      if (final == NULL)
        fail_with(F, &f);
      else
        exit_state(F, final, s->next);
    } else if (s->type == ORCI_ST_MAP || s->type == ORCI_ST_PARALLEL) {
      group_start(F); /* a retry: a new ...StateStarted */
    } else {          /* a retry's back-off ended */
      task_start(F);
    }
    break;
  default:
    break;
  }
  X->quiet = 0;
  X->sink = NULL;
}

/* }====== */

/* {====== engine */

void orc_engine_config_init(orc_engine_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->clock = ORC_CLOCK_REAL;
  cfg->max_payload_bytes = 262144;
  cfg->max_history_events = 25000;
  cfg->history = ORC_HISTORY_FULL;
  cfg->max_transitions_per_step = 300;
  cfg->map_concurrency = 40;
}

orc_engine *orc_engine_new(const orc_engine_config *cfg, orc_error *err) {
  orc_engine *E = (orc_engine *)calloc(1, sizeof *E);
  int i;
  if (E == NULL) {
    orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  if (cfg)
    E->cfg = *cfg;
  else
    orc_engine_config_init(&E->cfg);
  if (E->cfg.max_transitions_per_step <= 0)
    E->cfg.max_transitions_per_step = 300;
  if (E->cfg.map_concurrency <= 0) E->cfg.map_concurrency = 40;
  snprintf(E->region, sizeof E->region, "%s",
           E->cfg.region ? E->cfg.region : "us-east-1");
  snprintf(E->account, sizeof E->account, "%s",
           E->cfg.account ? E->cfg.account : "123456789012");
  E->cfg.region = E->region;
  E->cfg.account = E->account;
  snprintf(E->role, sizeof E->role, "arn:aws:iam::%s:role/orchestra",
           E->account);
  E->role_json = orc_json_string(E->role, strlen(E->role));
  if (E->cfg.data_dir &&
      (E->cfg.data_dir = E->data_dir = strdup(E->cfg.data_dir)) == NULL) {
    free(E);
    orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  E->now_ms = E->cfg.start_time_ms ? E->cfg.start_time_ms : real_now_ms();
  E->rng = E->cfg.random_seed ? E->cfg.random_seed
                              : (uint64_t)real_now_ms() ^ (uint64_t)(size_t)E;
  for (i = 0; i < K_COUNT; i++) {
    E->keys[i] = skey(key_names[i]);
    if (E->keys[i] == NULL) {
      orc_engine_free(E);
      orci_error(err, ORC_ENOMEM, NULL, "out of memory");
      return NULL;
    }
  }
  E->not_truncated = orc_json_object_new(1);
  if (E->not_truncated == NULL) {
    orc_engine_free(E);
    orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  orc_json_object_set(E->not_truncated, 0, orc_json_ref(E->keys[K_TRUNCATED]),
                      orc_json_bool(0));
  E->posts = orci_posts_new(E->cfg.clock == ORC_CLOCK_VIRTUAL);
  if (E->posts == NULL) {
    orc_engine_free(E);
    orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  return E;
}

orci_posts *orci_engine_posts(const orc_engine *E) {
  return E->posts;
}

static void frame_free(frame *F);
static void group_free(group *G);

static void execution_free(orc_execution *X) {
  size_t i;
  frame *F = &X->root;
  if (X->name) name_del(X->E, X);
  if (X->parent_task) { /* its parent's .sync task no longer waits on it */
    X->parent_task->child = NULL;
    X->parent_task = NULL;
  }
  while (X->children)
    frame_free(X->children);
  group_free(F->G);
  F->G = NULL;
  for (i = X->first; i < X->nevents; i++)
    event_release(&X->events[i]);
  free(X->events);
  if (F->task) {
    drop_task(X->E, F->task);
    F->task = NULL;
  }
  orc_json_unref(F->input);
  orc_json_unref(F->effective);
  orc_json_unref(F->result);
  orc_json_unref(F->ctx);
  orc_json_unref(F->vars);
  orc_json_unref(F->assigned);
  free(F->error);
  free(F->cause);
  free(F->drawn);
  free(F->attempts);
  orc_json_unref(X->input);
  orc_json_unref(X->output);
  orc_json_unref(X->ctx_execution);
  free(X->error);
  free(X->cause);
  free(X->arn);
  free(X->parent_arn);
  free(X->map_run_arn);
  for (i = 0; i < X->nsubs; i++)
    sub_free(X->subs[i]);
  free(X->subs);
  for (i = 0; i < X->nnested; i++)
    free(X->nested[i]);
  free(X->nested);
  free(X);
}

void orc_engine_free(orc_engine *E) {
  int i;
  if (E == NULL) return;
  while (E->executions) {
    orc_execution *X = E->executions;
    E->executions = X->next_x;
    execution_free(X);
  }
  while (E->machines) {
    orc_machine *M = E->machines;
    E->machines = M->next_machine;
    orci_machine_release(M);
    free(M);
  }
  for (i = 0; i < K_COUNT; i++)
    orc_json_unref(E->keys[i]);
  orc_json_unref(E->not_truncated);
  orc_json_unref(E->role_json);
  free(E->heap);
  free(E->tasks);
  free(E->names);
  free(E->expired);
  orci_posts_free(E->posts);
  free(E->data_dir);
  free(E);
}

/* Fire due timers, at most max (a step's work bound): returns how many. */
static int fire_due(orc_engine *E, int64_t now, int max) {
  int fired = 0;
  while (E->nheap && E->heap[0].due <= now && fired < max) {
    timer t = heap_pop(E);
    if (!timer_live(&t)) continue;
    fired++;
    switch (t.kind) {
    case TK_WAKE:
      t.F->phase = PH_WAIT_DONE;
      enqueue(t.F);
      break;
    case TK_TIMEOUT:
    case TK_HEARTBEAT:
      task_expire(t.F, t.kind == TK_HEARTBEAT);
      break;
    default:
      finish(t.X, ORC_STATUS_TIMED_OUT, NULL, "States.Timeout",
             "The execution exceeded its TimeoutSeconds.",
             t.X->root.last_event);
      break;
    }
  }
  return fired;
}

int orc_engine_step(orc_engine *E, orc_error *err) {
  int budget = E->cfg.max_transitions_per_step;
  (void)err;
  if (E->stepping)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "orc_engine_step called from inside a step");
  E->stepping = 1;
  orci_posts_drain(E, E->posts); /* answers from other threads */
  /* a timer that fires is a unit of work like a transition: thousands of
  ** Waits ending at once are spread over several steps */
  budget -= fire_due(E, orc_engine_now(E), budget);
  while (budget > 0) {
    frame *F = dequeue(E);
    uint64_t before = E->dispatched;
    if (F == NULL) break;
    frame_run(F);
    /* a task handed to the host runs host code (a Lua handler: convert
    ** input and context, call, convert the result): it weighs
    ** ORC_TASK_WEIGHT transitions */
    budget -= 1 + (int)(E->dispatched - before) * (ORC_TASK_WEIGHT - 1);
  }
  if (E->nready == 0 && budget > 0 && E->cfg.clock == ORC_CLOCK_VIRTUAL) {
    /* nothing runnable: jump to the next live timer */
    while (E->nheap && !timer_live(&E->heap[0]))
      heap_pop(E);
    if (E->nheap) {
      if (E->heap[0].due > E->now_ms) E->now_ms = E->heap[0].due;
      fire_due(E, E->now_ms, budget);
    }
  }
  E->stepping = 0;
  if (E->nready == 0 && E->nheap && timer_live(&E->heap[0]) &&
      E->heap[0].due <= orc_engine_now(E))
    return 1; /* due timers left for the next step */
  return (int)(E->nready > 0x7fffffff ? 0x7fffffff : E->nready);
}

int64_t orc_engine_next_deadline(const orc_engine *E) {
  size_t i;
  int64_t best = -1, now;
  if (E->nready) return 0;
  for (i = 0; i < E->nheap; i++) { /* the top may be stale: find a live one */
    if (timer_live(&E->heap[i]) && (best < 0 || E->heap[i].due < best))
      best = E->heap[i].due;
    if (i == 0 && best >= 0) break;
  }
  if (best < 0) return -1;
  now = orc_engine_now(E);
  return best <= now ? 0 : best - now;
}

size_t orc_engine_nrunning(const orc_engine *E) {
  return E->nrunning;
}

/* }====== */

/* {====== machines and executions */

static int valid_name(const char *s);

static orc_machine *machine_named(const orc_engine *E, const char *name) {
  orc_machine *M;
  for (M = E->machines; M; M = M->next_machine)
    if (strcmp(M->name, name) == 0) return M;
  return NULL;
}

int orc_machine_load_json(orc_engine *E, orc_json *def, const char *name,
                          orc_machine **out, orc_diagnostics *diag,
                          orc_error *err) {
  orc_machine *M;
  int rc;
  size_t n;
  char auto_name[32]; /* "StateMachine-2"... for the unnamed */
  *out = NULL;
  /* Names follow Step Functions' rules, and one name is one machine: its
  ** ARN is what states:startExecution and orc_engine_find_execution look
  ** up. The unnamed are numbered. */
  if (name != NULL && !valid_name(name))
    return orci_error(err, ORC_EINVAL, NULL,
                      "InvalidName: invalid state machine name '%s': 1 to 80 "
                      "characters, no whitespace or any of < > { } [ ] ? * "
                      "\" # %% \\ ^ ~ $ & , ; : / | `",
                      name);
  if (name != NULL && machine_named(E, name) != NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "StateMachineAlreadyExists: this engine already has a "
                      "state machine named '%s' (its ARN would name both)",
                      name);
  if (name == NULL) {
    unsigned k = 1;
    snprintf(auto_name, sizeof auto_name, "StateMachine");
    while (machine_named(E, auto_name) != NULL)
      snprintf(auto_name, sizeof auto_name, "StateMachine-%u", ++k);
    name = auto_name;
  }
  M = (orc_machine *)calloc(1, sizeof *M);
  if (M == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  M->E = E;
  rc = orci_machine_compile(M, def, diag, err);
  if (rc != ORC_OK) {
    orci_machine_release(M);
    free(M);
    return rc;
  }
  M->name = strdup(name);
  n = strlen(name) + strlen(E->region) + strlen(E->account) + 40;
  M->arn = (char *)malloc(n);
  if (M->name == NULL || M->arn == NULL) {
    orci_machine_release(M);
    free(M);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  snprintf(M->arn, n, "arn:aws:states:%s:%s:stateMachine:%s", E->region,
           E->account, name);
  M->next_machine = E->machines;
  E->machines = M;
  *out = M;
  return ORC_OK;
}

int orc_machine_load(orc_engine *E, const char *text, size_t len,
                     const char *name, orc_machine **out, orc_diagnostics *diag,
                     orc_error *err) {
  orc_json *def = NULL;
  orc_json_limits lim = {0, 0, 1}; /* duplicate state names are errors */
  int rc;
  *out = NULL;
  rc = orc_json_parse(text, len, &lim, &def, err);
  if (rc != ORC_OK) {
    if (diag && err) orci_diag_add(diag, err->where, "%s", err->message);
    return rc;
  }
  rc = orc_machine_load_json(E, def, name, out, diag, err);
  orc_json_unref(def);
  return rc;
}

int orc_validate(const char *text, size_t len, orc_diagnostics *diag,
                 orc_error *err) {
  orc_engine *E = orc_engine_new(NULL, err);
  orc_machine *M = NULL;
  int rc;
  if (E == NULL) return ORC_ENOMEM;
  rc = orc_machine_load(E, text, len, NULL, &M, diag, err);
  orc_engine_free(E);
  return rc;
}

const char *orc_machine_name(const orc_machine *M) {
  return M->name;
}

const char *orc_machine_arn(const orc_machine *M) {
  return M->arn;
}

orc_json *orc_machine_definition(const orc_machine *M) {
  return M->definition;
}

static int valid_name(const char *s) {
  size_t n = strlen(s), i;
  if (n == 0 || n > 80) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7F || strchr("<>{}[]?*\"#%\\^~$&,;:/|`", c))
      return 0;
  }
  return 1;
}

int orc_execution_start(orc_machine *M, orc_json *input, const char *name,
                        orc_execution **out, orc_error *err) {
  orc_engine *E = M->E;
  orc_execution *X, *o;
  char uuid[40];
  size_t n;
  *out = NULL;
  if (name == NULL) {
    make_uuid(E, uuid);
    name = uuid;
  } else if (!valid_name(name)) {
    return orci_error(err, ORC_EINVAL, NULL,
                      "invalid execution name '%s': 1 to 80 characters, no "
                      "whitespace or any of < > { } [ ] ? * \" # %% \\ ^ ~ $ "
                      "& , ; : / | `",
                      name);
  }
  if ((o = name_find(E, M, name)) != NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "ExecutionAlreadyExists: an execution named '%s' of "
                      "state machine '%s' already exists",
                      name, M->name);
  if (input == NULL)
    input = orc_json_object_new(0);
  else
    orc_json_ref(input);
  if (input == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  if (E->cfg.max_payload_bytes && json_size(input) > E->cfg.max_payload_bytes) {
    orc_json_unref(input);
    return orci_error(err, ORC_EINVAL, NULL,
                      "States.DataLimitExceeded: the execution input is "
                      "larger than the payload limit of %zu bytes",
                      E->cfg.max_payload_bytes);
  }
  X = (orc_execution *)calloc(1, sizeof *X);
  if (X == NULL) {
    orc_json_unref(input);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  X->E = E;
  X->M = M;
  X->input = input;
  n = strlen(name) + strlen(M->name) + strlen(E->region) + strlen(E->account) +
      40;
  X->arn = (char *)malloc(n);
  if (X->arn == NULL) {
    execution_free(X);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  snprintf(X->arn, n, "arn:aws:states:%s:%s:execution:%s:%s", E->region,
           E->account, M->name, name);
  X->name = X->arn + strlen(X->arn) - strlen(name); /* the ARN's tail */
  X->status = ORC_STATUS_RUNNING;
  X->start_ms = orc_engine_now(E);
  X->next_id = 1;
  {
    add_event_ex(X, 0, EV_EXECUTION_STARTED, NULL, &start_marker,
                 orc_json_ref(input));
  }
  X->root.X = X;
  X->root.B = &M->top;
  X->root.state = M->top.start;
  X->root.phase = PH_ENTER;
  X->root.input = orc_json_ref(input);
  X->root.last_event = 0; /* the first state's Entered points at 0 */
  if (name_put(E, X) != ORC_OK) {
    execution_free(X);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  X->next_x = E->executions;
  if (E->executions) E->executions->prev_x = X;
  E->executions = X;
  E->nrunning++;
  if (M->timeout_s) {
    push_timer(E, TK_EXEC, X->start_ms + M->timeout_s * 1000, &X->root, X,
               X->timeout_gen);
  }
  enqueue(&X->root);
  *out = X;
  return ORC_OK;
}

int orc_execution_status(const orc_execution *X) {
  return X->status;
}

const char *orc_status_text(int status) {
  static const char *const names[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "ABORTED"};
  return status >= 0 && status <= 4 ? names[status] : "UNKNOWN";
}

orc_json *orc_execution_output(const orc_execution *X) {
  return X->output;
}

const char *orc_execution_error(const orc_execution *X) {
  return X->error;
}

const char *orc_execution_cause(const orc_execution *X) {
  return X->cause;
}

const char *orc_execution_name(const orc_execution *X) {
  return X->name;
}

const char *orc_execution_arn(const orc_execution *X) {
  return X->arn;
}

orc_json *orc_execution_input(const orc_execution *X) {
  return X->input;
}

orc_machine *orc_execution_machine(const orc_execution *X) {
  return X->M;
}

int orc_execution_stop(orc_execution *X, const char *error, const char *cause,
                       orc_error *err) {
  if (X->status != ORC_STATUS_RUNNING)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "execution '%s' is not running (%s)", X->name,
                      orc_status_text(X->status));
  finish(X, ORC_STATUS_ABORTED, NULL, error, cause, X->root.last_event);
  return ORC_OK;
}

void orc_execution_close(orc_execution *X) {
  orc_engine *E;
  frame *F;
  if (X == NULL) return;
  E = X->E;
  if (X->status == ORC_STATUS_RUNNING)
    finish(X, ORC_STATUS_ABORTED, NULL, NULL, NULL, X->root.last_event);
  unqueue(&X->root);
  for (F = X->children; F; F = F->next_child)
    unqueue(F);
  heap_purge(E, NULL, X);
  if (X->prev_x)
    X->prev_x->next_x = X->next_x;
  else
    E->executions = X->next_x;
  if (X->next_x) X->next_x->prev_x = X->prev_x;
  execution_free(X);
}

/* }====== */

size_t orc_execution_nchildren(const orc_execution *X) {
  return X->nsubs;
}

orc_execution *orc_execution_child(const orc_execution *X, size_t i) {
  return i < X->nsubs ? X->subs[i] : NULL;
}

const char *orc_execution_parent_arn(const orc_execution *X) {
  return X->parent_arn;
}

const char *orc_execution_map_run(const orc_execution *X) {
  return X->map_run_arn;
}

size_t orc_execution_nnested(const orc_execution *X) {
  return X->nnested;
}

const char *orc_execution_nested_arn(const orc_execution *X, size_t i) {
  return i < X->nnested ? X->nested[i] : NULL;
}

orc_execution *orc_engine_find_execution(orc_engine *E, const char *arn) {
  const char *name = strrchr(arn, ':'), *mk = strstr(arn, ":execution:");
  orc_machine *M;
  size_t mlen;
  if (name == NULL || mk == NULL || name <= mk + 11) return NULL;
  mk += 11;
  mlen = (size_t)(name - mk);
  for (M = E->machines; M; M = M->next_machine)
    if (strlen(M->name) == mlen && !strncmp(M->name, mk, mlen))
      return name_find(E, M, name + 1);
  return NULL;
}

uint64_t orc_execution_transitions(const orc_execution *X) {
  return X->transitions;
}

orc_execution *orc_engine_next_execution(const orc_engine *E,
                                         const orc_execution *X) {
  return X == NULL ? E->executions : X->next_x;
}
