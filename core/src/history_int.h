/*
** The execution history (history.c): events in Step Functions'
** GetExecutionHistory shape, an event-type table (name, details key, how
** lazy details are made), retention, and hooks that see every appended
** event, whether the history keeps it or not.
*/
#ifndef ORCHESTRA_HISTORY_INT_H
#define ORCHESTRA_HISTORY_INT_H

#include "asl_int.h"

/* The core's event types: indexes into the type table. Entered/Exited
** come in one entry per state type (EV_STATE_ENTERED + ORCI_ST_*). */
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
  EV_EVALUATION_FAILED, /* JSONata: an expression failed */
  EV_COUNT /* types registered by other units (orci_history_add_type) follow */
};

typedef struct orci_event orci_event;

/* How an event type looks in the history. */
typedef struct orci_event_type {
  const char *name;        /* "TaskScheduled" */
  const char *details_key; /* "taskScheduledEventDetails", or NULL */
  /* Makes the details of an event recorded as (state, payload), when the
  ** history is read (returns owned); NULL: the event stores its details. */
  orc_json *(*lazy)(orc_engine *E, const orci_event *ev);
  int payload_key; /* K_INPUT or K_OUTPUT: where a lazy payload goes */
} orci_event_type;

#define ORCI_EV_LAZY  1
#define ORCI_EV_RETRY 2

struct orci_event { /* 48 bytes: a million of them fit in 48 MB */
  int64_t id, ts_ms;
  uint32_t back; /* id - previousEventId */
  uint16_t type; /* index into the type table */
  uint16_t lazy; /* ORCI_EV_LAZY: st and data make the details
                    (type->lazy); ORCI_EV_RETRY: a retry's Scheduled or
                    Started event (the meter bills retries) */
  union {
    orc_json *details;    /* an object; input/output members hold values */
    const orci_state *st; /* lazy: the state whose run the event records */
  } u;
  orc_json *data;   /* lazy: the payload (input, output, parameters) */
  orc_json *replay; /* inputs a replay needs that AWS's fields lack, or
                       NULL; exported as "orchestraReplay" */
};

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
  K_LOCATION,
  K_STATE,
  K_CONTEXT,
  K_RESULT,
  K_ERROR_OUTPUT,
  K_STATES,
  K_COUNT
};
extern const char *const orci_key_names[K_COUNT];

/* The "state" of a lazy ExecutionStarted event (it has none). */
extern const orci_state orci_start_marker;

/* A hook sees every event appended to any execution of the engine, after
** it is numbered and before retention drops it (ev is valid during the
** call only; lazy details can be made with orci_event_details). It must
** not append events itself. */
typedef void (*orci_hook_fn)(void *ud, orc_execution *X, const orci_event *ev);
typedef struct orci_hook {
  orci_hook_fn fn;
  void *ud;
} orci_hook;

/* Register a hook: ORC_OK or ORC_ENOMEM. */
int orci_history_hook(orc_engine *E, orci_hook_fn fn, void *ud);
/* Register an event type of another unit (type is borrowed and must live
** as long as the engine): its id, or -1 when out of memory. */
int orci_history_add_type(orc_engine *E, const orci_event_type *type);
/* The type of an id. */
const orci_event_type *orci_event_type_of(const orc_engine *E, int type);
/* The details of ev as the history shows them (returns owned; may be
** NULL when the type has none). */
orc_json *orci_event_details(orc_engine *E, const orci_event *ev);

/* Append an event to X's history (X may be NULL: the caller records
** nothing, e.g. a distributed Map's child in its parent's history). takes
** details and data (st and data: an event of a state's run whose details
** are made when the history is read). Returns the event's id, or prev when
** X is NULL. When the event cannot be stored (out of memory) the id is
** still used and X->lost_events counts it. */
int64_t orci_add_event_ex(orc_execution *X, int64_t prev, int type,
                          orc_json *details, const orci_state *st,
                          orc_json *data);
int64_t orci_add_event(orc_execution *X, int64_t prev, int type,
                       orc_json *details);
/* The same with flags (ORCI_EV_RETRY) for the hooks. */
int64_t orci_add_event_flags(orc_execution *X, int64_t prev, int type,
                             orc_json *details, const orci_state *st,
                             orc_json *data, int flags);
void orci_event_release(orci_event *ev);
/* Release every event X holds. */
void orci_history_free(orc_execution *X);

/* An object of n pairs (key index, value taken); NULL values are skipped. */
orc_json *orci_kv_object(orc_engine *E, int n, ...);
orc_json *orci_str_or_null(const char *s);
orc_json *orci_state_details(orc_engine *E, const orci_state *s, int key,
                             orc_json *data);
orc_json *orci_skey(const char *s);
/* An object of n members (keys borrowed, values taken). */
orc_json *orci_obj_of(size_t n, const char *const *keys, orc_json **vals);

#endif
