/*
** The state machine engine: compiled machines, executions driven by the
** host through orc_engine_step, tasks handed to the host, and the
** execution history in Step Functions' GetExecutionHistory shape.
**
** An engine is used by one thread at a time. Its steps never block:
** the host calls orc_engine_step (once a frame, or in a loop with
** orc_engine_next_deadline and orc_engine_wait) and answers tasks when it
** can. Other threads may only post answers (orc_engine_post_*).
*/
#ifndef ORCHESTRA_ENGINE_H
#define ORCHESTRA_ENGINE_H

#include "orchestra/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orc_engine orc_engine;
typedef struct orc_machine orc_machine;
typedef struct orc_execution orc_execution;
typedef struct orc_task orc_task;

/* Called when an execution reaches a Task state. The handler may complete
** the task at once (orc_task_succeed / orc_task_fail inside the call) or
** later; until then the task is pending. The task stays valid during the
** call whatever the handler does (answers it, twice, or stops or closes
** its execution: the first answer or the stop wins, a later answer is
** ORC_EMISUSE). After the call it stays valid until it is answered or
** abandoned (task_drop), unless the host retains it (orc_task_retain).
** Return ORC_OK, or a negative status for an internal failure (the task
** then fails with States.TaskFailed). */
typedef int (*orc_task_fn)(void *ud, orc_task *task);

/* Called once per task the engine abandons without an answer (execution
** stopped or timed out) so the host can drop what it holds for it. */
typedef void (*orc_task_drop_fn)(void *ud, orc_task *task);

/* Maps an S3 object that a distributed Map reads (ItemReader) or writes
** (ResultWriter) to a local file: returns a path (malloc'd; the engine
** frees it) or NULL with err set. write is 1 for a ResultWriter's file
** (the engine creates the directories above it). For s3:listObjectsV2 the
** key is "" and the path names the bucket's directory. */
typedef char *(*orc_resolve_fn)(void *ud, const char *bucket, const char *key,
                                int write, orc_error *err);

/* Work units of a task dispatched to the host in a step's bound (a Lua
** handler call costs about ten transitions). */
#define ORC_TASK_WEIGHT 10

#define ORC_CLOCK_REAL    0 /* the system clock */
#define ORC_CLOCK_VIRTUAL 1 /* jumps to the next timer when idle */
#define ORC_CLOCK_MANUAL  2 /* moves only by orc_engine_advance */

#define ORC_HISTORY_FULL 0 /* keep every event */
#define ORC_HISTORY_NONE 1 /* keep none (status and output only) */
#define ORC_HISTORY_LAST 2 /* keep the last history_keep events */

/* The engine's memory. Every block the engine's run-time keeps comes from
** alloc (with alloc_ud), with lua_Alloc's contract (orc.h) and exact sizes,
** so a counting allocator balances to 0 when the engine is freed: the
** engine itself, machine records, executions, frames, Map/Parallel groups,
** tasks (the agent loop's included), timers and the run queue, hash
** tables and vectors, history events arrays, retry counters, drawn random
** values, error/cause/ARN/name strings, remembered timed-out tokens, the
** distributed Map's records, run ARNs, result file names and batches,
** nested execution ARNs and the completion queue. A host (a game) can thus
** account for and cap what the engine holds (orc_engine_memory): a request
** the allocator refuses makes orc_execution_start fail with ORC_ENOMEM,
** and one refused during a step (or between steps, by an answer) makes the
** next orc_engine_step return ORC_ENOMEM with a message; neither crashes.
** Not covered: orc_json payload values (json.h: they are shared with the
** host and between engines, so they use the process allocator, as does
** JSON text printed for a moment), a machine's compiled definition
** (states, paths, intrinsics) and diagnostics, the ItemReader's file
** buffers (items.c), a JSONata evaluation's working memory (an arena per
** evaluation, freed when it returns, capped by its own 256 MiB budget),
** cJSON's and libcurl's own allocations, paths a
** resolver returns (malloc'd, copied), and answers posted by other threads
** (orc_engine_post_*: made on the posting thread). The allocator is called
** on the engine's thread only. NULL: the C library's realloc and free. */

typedef struct orc_engine_config {
  orc_alloc alloc;          /* the engine's allocator, or NULL (realloc/free) */
  void *alloc_ud;           /* its first argument */
  int clock;                /* ORC_CLOCK_REAL (default), _VIRTUAL or
                               _MANUAL */
  int64_t start_time_ms;    /* virtual/manual clock start, Unix ms
                               (0: now) */
  size_t max_payload_bytes; /* default 262144 (AWS); 0 = unlimited */
  size_t max_history_events;    /* default 25000 (AWS); 0 = unlimited */
  int history;                  /* ORC_HISTORY_FULL / _NONE / _LAST */
  size_t history_keep;          /* events kept with ORC_HISTORY_LAST */
  int max_transitions_per_step; /* work bound of one step, in units: a
                                   transition or a fired timer is 1, a task
                                   handed to the host ORC_TASK_WEIGHT
                                   (default 300: well under a millisecond) */
  int map_concurrency;    /* iterations of an inline Map running at once when
                             MaxConcurrency is 0 (default 40, like AWS) */
  uint64_t random_seed;   /* seed of MathRandom/UUID (0: from time) */
  const char *region;     /* for ARNs (default "us-east-1") */
  const char *account;    /* for ARNs (default "123456789012") */
  const char *data_dir;   /* the default resolver's root: an S3 object
                             (bucket, key) is <data_dir>/<bucket>/<key>
                             (default ".") */
  orc_resolve_fn resolve; /* or the host's own resolver */
  void *resolve_ud;
  int meter;         /* 1: every execution meters its billable units (state
                        transitions, retries, model tokens, tool calls) as
                        its events are appended, whatever the history keeps
                        (orc_execution_meter); 0 (default): off */
  double budget_usd; /* > 0: every execution and agent invocation starts
                        with this budget in dollars (budget.h; an agent's
                        own budget_usd wins); it implies meter. 0: none */
  const struct orc_cost_catalog *catalog; /* prices of budgets (borrowed:
                        must outlive the engine; orc_engine_set_catalog) */
  orc_task_fn task; /* task handler (required to run Tasks) */
  orc_task_drop_fn task_drop;
  void *task_ud;
} orc_engine_config;

/* Fill cfg with the defaults. */
ORC_API void orc_engine_config_init(orc_engine_config *cfg);

/* Returns an owned engine (orc_engine_free) or NULL with err set. cfg is
** copied; NULL means defaults. */
ORC_API orc_engine *orc_engine_new(const orc_engine_config *cfg,
                                   orc_error *err);
/* Frees the engine, its machines and executions. Pending tasks are dropped
** (task_drop is called for each); a task the host retained must be
** released before (its memory is the engine's). NULL is ignored. */
ORC_API void orc_engine_free(orc_engine *E);
/* Bytes the engine holds through its allocator (cfg.alloc) now: the sum of
** the sizes of its live blocks, the engine's own record included. */
ORC_API size_t orc_engine_memory(const orc_engine *E);

/* {====== definitions */

/* One validation problem: a JSON pointer into the definition and why. */
typedef struct orc_diagnostic {
  char *pointer;
  char *message;
} orc_diagnostic;

typedef struct orc_diagnostics {
  size_t n;
  orc_diagnostic *items;
} orc_diagnostics;

ORC_API void orc_diagnostics_free(orc_diagnostics *d);

/* Compile a definition (len bytes of JSON text, borrowed). On ORC_OK *out
** is a machine owned by the engine (valid until orc_engine_free; machines
** are immutable). On ORC_EINVAL *out is NULL and diag (if not NULL) holds
** every problem found (the caller frees it with orc_diagnostics_free);
** ORC_EJSON for text that is not JSON; ORC_EUNSUPPORT for JSONata.
** name names the machine in ARNs (NULL: "StateMachine"). */
ORC_API int orc_machine_load(orc_engine *E, const char *text, size_t len,
                             const char *name, orc_machine **out,
                             orc_diagnostics *diag, orc_error *err);
/* The same from a parsed definition (borrowed). */
ORC_API int orc_machine_load_json(orc_engine *E, orc_json *def,
                                  const char *name, orc_machine **out,
                                  orc_diagnostics *diag, orc_error *err);
/* Validate without keeping a machine. Returns ORC_OK, ORC_EINVAL (see
** diag), ORC_EJSON or ORC_EUNSUPPORT. */
ORC_API int orc_validate(const char *text, size_t len, orc_diagnostics *diag,
                         orc_error *err);

ORC_API const char *orc_machine_name(const orc_machine *M);
ORC_API const char *orc_machine_arn(const orc_machine *M);
/* The definition as loaded (borrowed view). */
ORC_API orc_json *orc_machine_definition(const orc_machine *M);

/* }====== */

/* {====== executions */

#define ORC_STATUS_RUNNING   0
#define ORC_STATUS_SUCCEEDED 1
#define ORC_STATUS_FAILED    2
#define ORC_STATUS_TIMED_OUT 3
#define ORC_STATUS_ABORTED   4

/* Start an execution of M with input (borrowed; the engine keeps its own
** reference). name may be NULL (a UUID is made). The execution is owned by
** the engine; it runs on later steps. ORC_EINVAL when the name is taken or
** invalid, or the input is over the payload limit. */
ORC_API int orc_execution_start(orc_machine *M, orc_json *input,
                                const char *name, orc_execution **out,
                                orc_error *err);
ORC_API int orc_execution_status(const orc_execution *X);
ORC_API const char *orc_status_text(int status); /* "RUNNING", ... */
/* Output of a SUCCEEDED execution (borrowed), else NULL. */
ORC_API orc_json *orc_execution_output(const orc_execution *X);
/* Error and cause of a FAILED/TIMED_OUT/ABORTED execution, else NULL. */
ORC_API const char *orc_execution_error(const orc_execution *X);
ORC_API const char *orc_execution_cause(const orc_execution *X);
ORC_API const char *orc_execution_name(const orc_execution *X);
ORC_API const char *orc_execution_arn(const orc_execution *X);
ORC_API orc_json *orc_execution_input(const orc_execution *X);
ORC_API orc_machine *orc_execution_machine(const orc_execution *X);
/* Stop a running execution: it ends ABORTED with error/cause (may be NULL).
** ORC_EMISUSE when it is not running. */
ORC_API int orc_execution_stop(orc_execution *X, const char *error,
                               const char *cause, orc_error *err);
/* The history as {"events":[...]} in GetExecutionHistory shape (returns
** owned). */
ORC_API orc_json *orc_execution_history(const orc_execution *X);
/* States entered so far, those of Map iterations, Parallel branches and
** distributed Map children included (whatever the history keeps). */
ORC_API uint64_t orc_execution_transitions(const orc_execution *X);
/* Number of events recorded (including dropped ones). */
ORC_API size_t orc_execution_nevents(const orc_execution *X);
/* The child executions that this execution's distributed Map states ran,
** in start order (kept with ORC_HISTORY_FULL only; running ones are not
** listed). Each is a read-only execution (status, input, output, error,
** cause, name, arn, history); it lives as long as its parent and must not
** be closed or stopped. */
ORC_API size_t orc_execution_nchildren(const orc_execution *X);
ORC_API orc_execution *orc_execution_child(const orc_execution *X, size_t i);
/* The ARN of the execution whose distributed Map or states:startExecution
** task started X, or NULL. */
ORC_API const char *orc_execution_parent_arn(const orc_execution *X);
/* A distributed Map child's map run ARN, else NULL. */
ORC_API const char *orc_execution_map_run(const orc_execution *X);
/* The ARNs of the executions that X's states:startExecution tasks started,
** in start order (find them with orc_engine_find_execution). */
ORC_API size_t orc_execution_nnested(const orc_execution *X);
ORC_API const char *orc_execution_nested_arn(const orc_execution *X, size_t i);
/* The execution of this ARN the engine still holds (borrowed), or NULL. */
ORC_API orc_execution *orc_engine_find_execution(orc_engine *E,
                                                 const char *arn);
/* The meter of X (borrowed; cost.h), or NULL when the engine does not meter
** (orc_engine_config.meter). A distributed Map's children count into their
** parent's meter. */
ORC_API struct orc_meter *orc_execution_meter(const orc_execution *X);

/* The tasks of X out with the host (borrowed views, valid until answered
** or abandoned): up to max of them are stored in out; returns how many
** there are. */
ORC_API size_t orc_execution_pending_tasks(const orc_execution *X,
                                           orc_task **out, size_t max);
/* Release a finished execution (its name becomes free). Running
** executions are stopped first. NULL is ignored. */
ORC_API void orc_execution_close(orc_execution *X);

/* }====== */

/* {====== tasks */

ORC_API const char *orc_task_resource(const orc_task *T);
/* The task's effective input (borrowed). */
ORC_API orc_json *orc_task_input(const orc_task *T);
/* The context object "$$" as the task sees it (returns owned). */
ORC_API orc_json *orc_task_context(const orc_task *T);
ORC_API orc_execution *orc_task_execution(const orc_task *T);
ORC_API const char *orc_task_state_name(const orc_task *T);
/* Host data attached to a task (e.g. a Lua registry ref). */
ORC_API void orc_task_set_userdata(orc_task *T, void *ud);
ORC_API void *orc_task_userdata(const orc_task *T);
/* Complete a task. output is taken. ORC_EMISUSE (output released) if it
** was answered or abandoned already: the first answer wins. */
ORC_API int orc_task_succeed(orc_task *T, orc_json *output, orc_error *err);
ORC_API int orc_task_fail(orc_task *T, const char *error, const char *cause,
                          orc_error *err);
/* The task's token ($$.Task.Token): the host may keep it and answer later
** through orc_engine_find_task. Valid while the task is. */
ORC_API const char *orc_task_token(const orc_task *T);
/* The pending task with this token, or NULL (unknown, answered, or
** abandoned). */
ORC_API orc_task *orc_engine_find_task(orc_engine *E, const char *token);
/* 1 when token belonged to a task that timed out (Step Functions answers
** TaskTimedOut then, TaskDoesNotExist for unknown tokens). Timed-out
** tokens are remembered while their execution is held: closing it forgets
** them (lookups are constant-time). */
ORC_API int orc_engine_task_expired(const orc_engine *E, const char *token);
/* The host is still working on T: restarts its HeartbeatSeconds clock.
** ORC_EMISUSE once T is answered or abandoned. */
ORC_API int orc_task_heartbeat(orc_task *T, orc_error *err);
/* Keep T's memory valid across calls that may end it (a host that resumes
** its own handler later): every retain is paired with a release. A done
** task (orc_task_is_done) can still be read but not answered. */
ORC_API void orc_task_retain(orc_task *T);
ORC_API void orc_task_release(orc_task *T);
/* 1 once T was answered or abandoned. */
ORC_API int orc_task_is_done(const orc_task *T);

/* }====== */

/* {====== driving */

/* Advance ready work: fire due timers, run transitions and task dispatches,
** at most the configured bound. Returns the number of runnable items left
** (0: idle until a timer or a task answer), or a negative status. Under the
** virtual clock, when nothing is runnable, time jumps to the next timer. */
ORC_API int orc_engine_step(orc_engine *E, orc_error *err);
/* Milliseconds until the next timer is due: -1 none, 0 now. */
ORC_API int64_t orc_engine_next_deadline(const orc_engine *E);
/* Current engine time (Unix ms; simulated under the virtual clock). */
ORC_API int64_t orc_engine_now(const orc_engine *E);
/* Number of executions still running. */
ORC_API size_t orc_engine_nrunning(const orc_engine *E);
/* Under ORC_CLOCK_MANUAL, move the engine's time forward by ms (>= 0):
** timers it passes fire, in order, on the next steps; history timestamps
** follow. ORC_EMISUSE under another clock, ORC_EINVAL for ms < 0. */
ORC_API int orc_engine_advance(orc_engine *E, int64_t ms, orc_error *err);

/* Sizes of the engine's internal tables, for hosts that watch memory. */
typedef struct orc_engine_stats_t {
  size_t task_slots;     /* capacity of the pending-task table */
  size_t pending_tasks;  /* tasks out with the host */
  size_t name_slots;     /* capacity of the execution-name table */
  size_t executions;     /* executions held (running or not yet closed) */
  size_t expired_tokens; /* timed-out tokens remembered (see task_success) */
  size_t expired_slots;  /* capacity of their table */
  size_t timers;         /* timers armed */
  size_t timer_slots;    /* capacity of the timer table */
} orc_engine_stats_t;
ORC_API void orc_engine_stats(const orc_engine *E, orc_engine_stats_t *st);

/* Block the engine's thread until a post (below) or orc_engine_wakeup
** arrives, or timeout_ms passes: < 0 waits for a post, 0 returns at once.
** Returns at once while posts wait to be applied. The only call that
** sleeps: a host whose step returned 0 calls orc_engine_wait(E,
** orc_engine_next_deadline(E)) and steps again. Under the virtual clock it
** never sleeps while a timer is set (step jumps time instead); with no
** timer it waits for a post, at most timeout_ms. Returns ORC_OK
** (ORC_EINVAL when E is NULL). */
ORC_API int orc_engine_wait(orc_engine *E, int64_t timeout_ms);

/* }====== */

/* {====== completions from other threads
**
** The functions of this section (orc_engine_post_* and orc_engine_wakeup)
** are the only ones another thread may call, at any time between
** orc_engine_new and orc_engine_free (join the posting threads before
** freeing the engine). A post copies its arguments into a thread-safe
** queue and wakes orc_engine_wait; the engine's thread applies the queue,
** in posting order, at the start of its next orc_engine_step, as
** orc_task_succeed / orc_task_fail / orc_task_heartbeat would. Nothing
** here reads the engine's tasks: ORC_OK means "queued", and a post whose
** token names no pending task when it is applied (unknown, answered,
** abandoned or timed out) is dropped silently. A host that must tell those
** cases apart answers on the engine's thread with orc_engine_find_task and
** orc_engine_task_expired instead. */

/* Queue a success for the task of token (borrowed, copied). output_json is
** len bytes of JSON text (borrowed), parsed here on the posting thread:
** ORC_EJSON with err set when it is malformed, and nothing is queued. NULL
** output_json means null. The parsed value belongs to the queue and then
** to the engine; it is never shared between threads. Returns ORC_OK,
** ORC_EJSON, ORC_EINVAL (E or token NULL) or ORC_ENOMEM. */
ORC_API int orc_engine_post_success(orc_engine *E, const char *token,
                                    const char *output_json, size_t len,
                                    orc_error *err);
/* Queue a failure: error and cause (borrowed, copied; may be NULL). */
ORC_API int orc_engine_post_failure(orc_engine *E, const char *token,
                                    const char *error, const char *cause,
                                    orc_error *err);
/* Queue a heartbeat (restarts the task's HeartbeatSeconds clock). */
ORC_API int orc_engine_post_heartbeat(orc_engine *E, const char *token,
                                      orc_error *err);
/* Wake a thread blocked in orc_engine_wait (or make its next wait return
** at once). Callable from any thread (not from a signal handler); NULL is
** ignored. */
ORC_API void orc_engine_wakeup(orc_engine *E);

/* }====== */

/* {====== choice overrides (cost simulation) */

/* Called when an execution of E reaches a Choice state, before its rules:
** state is the state's name, input its effective input (borrowed),
** nexts[0..n) the distinct states it may go to (its Choices' Next in rule
** order, then its Default). Set *pick to an index of nexts to go there
** (the first rule with that Next matches, with its Assign; the Default's
** Assign for the Default) or leave it -1 to evaluate the rules. The
** history records the state as usual. A negative return fails the
** execution with States.Runtime and err's message as the cause. */
typedef int (*orc_choice_fn)(void *ud, orc_execution *X, const char *state,
                             orc_json *input, const char *const *nexts,
                             size_t n, int *pick, orc_error *err);
/* Set (fn NULL: remove) E's Choice override. */
ORC_API void orc_engine_set_choice_hook(orc_engine *E, orc_choice_fn fn,
                                        void *ud);

/* }====== */

/* The engine's executions, newest first: NULL gives the first, X the one
** after X; NULL after the last. Started executions (nested ones included,
** not a distributed Map's children) until orc_execution_close or
** orc_engine_free. The list must not change during a walk. */
ORC_API orc_execution *orc_engine_next_execution(const orc_engine *E,
                                                 const orc_execution *X);

#ifdef __cplusplus
}
#endif

#endif
