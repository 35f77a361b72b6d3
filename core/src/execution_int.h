/*
** Executions and what runs inside them: frames (threads of control: the
** root, a Map iteration, a Parallel branch), groups (a running Map's or
** Parallel's children), and the functions of the units that run them:
** execution.c, state.c, choice.c, recover.c, group.c, dmap.c, nested.c.
*/
#ifndef ORCHESTRA_EXECUTION_INT_H
#define ORCHESTRA_EXECUTION_INT_H

#include <stddef.h>
#include <stdio.h>

#include "engine_int.h"
#include "items_int.h"

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

#define N_UNKNOWN ((size_t)-1) /* items still being read */

typedef struct orci_group orci_group;

/* A runtime failure: a static error name and an owned cause (the engine's
** string: orci_strfree). */
typedef struct orci_failure {
  const char *error;
  char *cause;
} orci_failure;

struct orci_frame {
  orci_runnable run; /* on the engine's run queue */
  orc_execution *X;
  int state; /* index of the current state */
  int phase;
  orc_json *input;     /* the state's raw input */
  orc_json *effective; /* after InputPath and Parameters (Task) */
  int64_t entered_id;  /* id of this state's Entered event */
  int64_t last_event;  /* previousEventId of this frame's next event */
  int64_t entered_ms;
  int64_t *attempts;   /* per retrier of the current state */
  size_t nattempts;    /* their number (the state's retriers) */
  int retry_count;     /* $$.State.RetryCount */
  orc_task *task;      /* the task out with the host */
  orc_json *result;    /* the task's answer */
  char *error, *cause; /* or its failure */
  int task_ok;
  orci_timer t_wake;      /* a Wait state's end or a retry's back-off */
  orci_timer t_timeout;   /* the running task's TimeoutSeconds */
  orci_timer t_heartbeat; /* the running task's HeartbeatSeconds */
  int64_t heartbeat_s;    /* the running task's HeartbeatSeconds, or 0 */
  int heartbeat_expired;  /* the error being handled is a heartbeat expiry */
  uint64_t *drawn;        /* random values drawn since the last event */
  size_t ndrawn, capdrawn;
  orc_json *ctx;        /* $$ of the current state, built on demand */
  const orci_branch *B; /* the states this frame runs */
  orci_frame *parent;   /* the Map/Parallel frame that started it, or NULL */
  size_t index;         /* branch or iteration index in the parent */
  orci_group *G;        /* the children of a running Map/Parallel */
  char token[40];       /* a Task state's task token ($$.Task.Token), or "" */
  orc_json *vars;       /* variables assigned in this scope, or NULL */
  orc_json *assigned;   /* the current state's Assign result, for its exit */
  orc_json *q_result;   /* JSONata: $states.result while evaluating, or NULL */
  orc_json *q_error;    /* JSONata: $states.errorOutput (in a Catch) */
  int quiet;          /* a distributed Map's child: records no parent events */
  orc_execution *sub; /* a distributed Map's child: its execution record */
  orci_frame *next_sib, *prev_sib; /* the group's running children */
  orci_frame *next_child;          /* the execution's list of child frames */
  orci_frame *prev_child;
};

#define ORCI_FRAME_OF(r)                                                       \
  ((orci_frame *)(void *)((char *)(r)-offsetof(orci_frame, run)))

/* Where F's events go: its distributed child's record, nowhere (a
** distributed child records nothing in its parent's history), or its
** execution. */
#define ORCI_FRAME_HISTORY(F) ((F)->sub ? (F)->sub : (F)->quiet ? NULL : (F)->X)

/* The children of a running Map or Parallel state. */
struct orci_group {
  size_t n;    /* branches or iterations */
  size_t next; /* the next iteration to start */
  size_t running, done, failed;
  size_t max_running;       /* concurrency cap (Map) */
  orc_json **results;       /* output per child */
  orc_json *items;          /* Map: the items (or batches) */
  orci_frame *first, *last; /* running children, in index order */
  int keep;                 /* results are kept for the state's output */
  size_t cap;               /* results allocated */
  orci_reader *reader;      /* items read on demand (ItemReader), or NULL */
  orc_json *peek;           /* an item read ahead while batching */
  orc_json *batch_input;    /* BatchInput, evaluated once */
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
};

struct orc_execution {
  orc_engine *E;
  orc_machine *M;
  char *name, *arn;
  int status;
  orc_json *input, *output;
  char *error, *cause;
  int64_t start_ms;
  orci_event *events;
  size_t nevents, cap, first; /* events[first..nevents) are kept */
  int64_t next_id;
  size_t total_events;
  size_t lost_events;      /* numbered but not stored (out of memory) */
  orc_json *ctx_execution; /* $$.Execution, made when needed */
  orci_frame root;
  orci_timer t_timeout;    /* the execution's TimeoutSeconds */
  orc_task *parent_task;   /* a .sync task of another execution awaiting it */
  orci_frame *children;    /* child frames alive (Map iterations, branches) */
  orci_vec subs;           /* orc_execution *: finished distributed children
                              kept (full history) */
  char *parent_arn;        /* the execution that started this one */
  char *map_run_arn;       /* a distributed Map's child: its map run */
  orci_vec nested;         /* char *: ARNs of executions its tasks started */
  uint64_t transitions;    /* states entered, children's included */
  void *expired;           /* timed-out tokens remembered for it (task.c) */
  struct orc_meter *meter; /* billable units (meter.c), or NULL */
  int meter_owned;         /* 0: a distributed child's, its parent's meter */
  double budget_usd;       /* 0: none (budget.c) */
  int over_budget;         /* 1: to be stopped by the step loop, 2: done */
  int holds;               /* host calls in progress inside it */
  int closing;             /* closed during such a call: freed after it */
  void *agent;             /* an agent invocation's loop (agent.c), or NULL */
  orc_execution *prev_x, *next_x; /* engine's list */
};

/* machine.c */
void orci_machine_free(orc_machine *M);

/* execution.c */
/* *dst (the engine's string, or NULL) becomes a copy of s. */
void orci_set_str(orc_engine *E, char **dst, const char *s);
/* A name Step Functions accepts (executions, machines): 1 to 80
** characters, no whitespace or any of < > { } [ ] ? * " # % \ ^ ~ $ & , ; :
** / | ` */
int orci_valid_name(const char *s);
orc_execution *orci_name_find(const orc_engine *E, const orc_machine *M,
                              const char *name);
void orci_frame_free(orci_frame *F);
/* Free the current state's retry counters. */
void orci_frame_free_attempts(orci_frame *F);
void orci_execution_free(orc_execution *X);
/* A new running execution of M, named, in the engine's tables, with no
** event and nothing queued: orc_execution_start and agent invocations
** start from it. */
int orci_execution_open(orc_machine *M, orc_json *input, const char *name,
                        orc_execution **out, orc_error *err);
/* The execution ends with status (output borrowed). */
void orci_finish(orc_execution *X, int status, orc_json *output,
                 const char *error, const char *cause, int64_t prev);
/* The engine is at work (a step, a stop, a close) / done: an execution
** closed meanwhile (by host code the engine called) becomes a zombie,
** freed when the outermost piece of work ends, so that nothing up the stack
** holds a freed frame or task. */
void orci_engine_enter(orc_engine *E);
void orci_engine_leave(orc_engine *E);
/* Frame F has work: put it on the run queue. */
void orci_enqueue(orci_frame *F);
void orci_unqueue(orci_frame *F);
/* Cancel every timer of F. */
void orci_frame_cancel_timers(orci_frame *F);
/* The execution's TimeoutSeconds fired. */
void orci_execution_timeout_fired(orc_engine *E, void *data);

/* state.c */
orc_json *orci_frame_context(orci_frame *F);
void orci_frame_env(orci_frame *F, orci_env *env, orc_json *input);
/* A States.Runtime-style cause naming F's state (the engine's string:
** orci_strfree), or NULL when refused. */
char *orci_runtime_cause(orci_frame *F, const char *fmt, ...);
/* JSON text of v for a message, and a value as causes quote it: printed
** for a moment, so they come from the C library's allocator (free()). */
char *orci_compact(orc_json *v);
char *orci_raw_text(orc_json *v);
orc_json *orci_apply_path(orci_frame *F, orci_path *p, int is_null,
                          orc_json *in, orci_failure *f);
orc_json *orci_eval_tmpl(orci_frame *F, const orci_tmpl *t, orc_json *in,
                         orci_failure *f);
orc_json *orci_apply_result_path(orci_frame *F, orci_path *p, int discard,
                                 orc_json *in, orc_json *result,
                                 orci_failure *f);
void orci_fail_frame(orci_frame *F, const char *error, const char *cause);
int orci_eval_assign(orci_frame *F, const orci_tmpl *assign, orc_json *in,
                     orci_failure *f);
void orci_exit_state(orci_frame *F, orc_json *output, int next);
/* A Task's, Map's or Parallel's result (taken): ResultSelector, Assign,
** ResultPath, OutputPath, then the state's exit (or its error). */
void orci_state_result(orci_frame *F, orc_json *result);
size_t orci_json_size(const orc_json *v);
void orci_frame_run(orci_runnable *r);
void orci_attach_replay(orci_frame *F);
/* A Wait state's end or a retry's back-off fired. */
void orci_wake_fired(orc_engine *E, void *data);

/* A workflow variable visible to F ("$name"; borrowed), or NULL. */
orc_json *orci_frame_var(const orci_frame *F, const char *name, size_t len);

/* query.c: JSONata states */
/* The value of a "{% %}" expression (owned), or NULL with f set. */
orc_json *orci_query_leaf(orci_frame *F, const orci_tmpl *t, orci_failure *f);
/* Record EvaluationFailed and set f to States.QueryEvaluationError. */
void orci_query_fail(orci_frame *F, const char *location, orci_failure *f,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int orci_query_int(orci_frame *F, const orci_tmpl *t, int64_t lo, int64_t hi,
                   int64_t *out, orci_failure *f);
int orci_query_num(orci_frame *F, const orci_tmpl *t, double lo, double hi,
                   double *out, orci_failure *f);
/* A JSONata Map's items (owned), or NULL with f set. */
orc_json *orci_query_items(orci_frame *F, orci_failure *f);
/* Assign, then Output (default: result, else error_output, else the
** input), then the exit to next. result and error_output are borrowed. */
void orci_query_exit(orci_frame *F, const orci_tmpl *assign,
                     const orci_tmpl *output, orc_json *result,
                     orc_json *error_output, int next);
/* A JSONata state entered: its whole flow. */
void orci_query_enter(orci_frame *F);

/* choice.c */
int orci_ts_of(const orc_json *v, int64_t *ms);
int orci_rule_eval(orci_frame *F, const orci_rule *r, orc_json *in,
                   orci_failure *f);

/* choice_hook.c: the host's override of Choice state s (input eff): -1
** none, i < s->nchoices that rule, s->nchoices the Default; -2 failure
** (f set). */
int orci_choice_pick(orci_frame *F, const orci_state *s, orc_json *eff,
                     orci_failure *f);

/* recover.c: an error in the current state: Retry, Catch, or the end */
void orci_handle_error_ev(orci_frame *F, const char *error, const char *cause,
                          int fail_event);
void orci_handle_error(orci_frame *F, const char *error, const char *cause);
void orci_fail_with(orci_frame *F, orci_failure *f);

/* group.c */
void orci_group_free(orc_engine *E, orci_group *G);
int orci_map_number(orci_frame *F, orci_path *p, const char *field,
                    const char *kind, double *out, orci_failure *f);
void orci_group_spawn(orci_frame *F, int64_t prev);
void orci_group_start(orci_frame *F);
void orci_child_done(orci_frame *C, orc_json *output);
void orci_child_failed(orci_frame *C, const char *error, const char *cause);
void orci_group_finish(orci_frame *F);

/* dmap.c */
void orci_sub_free(orc_execution *S);
orc_execution *orci_sub_new(orci_frame *F, const orci_state *s,
                            orc_json *input);
void orci_sub_end(orci_frame *C, int status, orc_json *output,
                  const char *error, const char *cause);
void orci_sub_release(orci_frame *C);
int orci_x_reader_open(orci_frame *F, orci_group *G, const orci_state *s,
                       orci_failure *f);
int orci_writer_open(orci_frame *F, orci_group *G, const orci_state *s,
                     const char *run_id, orci_failure *f);
orc_json *orci_child_record(const orci_state *s, orc_execution *S,
                            orc_json *output, const char *error,
                            const char *cause);
void orci_write_record(orci_group *G, const orci_state *s, int k,
                       orc_json *rec);
orc_json *orci_writer_finish(orci_frame *F, orci_group *G, orci_failure *f);
int orci_next_item(orci_frame *F, orci_group *G, const orci_state *s,
                   orc_json **out, orci_failure *f);

/* meter.c: metering through the history hook */
int orci_meter_register(orc_engine *E);
/* X gets a meter of its own (of_parent NULL) or shares of_parent's. */
int orci_meter_attach(orc_execution *X, orc_execution *of_parent);
void orci_meter_detach(orc_execution *X);
/* X gets a meter now (a budget set after its start); ORC_ENOMEM. */
int orci_meter_late(orc_execution *X);

/* budget.c */
/* X's budget becomes usd (the meter is attached by the caller). */
void orci_budget_init(orc_execution *X, double usd);
/* After the meter counted a billable event of X: flag X when its total is
** over its budget (the step loop stops it: orci_budget_enforce). */
void orci_budget_after_unit(orc_execution *X);
/* End X, over its budget, FAILED with Cost.BudgetExceeded (or
** Cost.UnknownPrice) after event prev. */
void orci_budget_fail(orc_execution *X, int64_t prev);
/* Stop the executions flagged over budget (a safe point of the step). */
void orci_budget_enforce(orc_engine *E);
/* Whether a model call of input_tokens and max_tokens on model fits X's
** budget: NULL it fits (or X has none), else the error name
** (ORC_COST_BUDGET_EXCEEDED or ORC_COST_UNKNOWN_PRICE) with the cause in
** why. */
const char *orci_budget_check_call(orc_execution *X, const char *model,
                                   double input_tokens, double max_tokens,
                                   char *why, size_t n);

/* nested.c */
orc_json *orci_describe(orc_execution *X, int mode);
void orci_complete_parent(orc_execution *X);
/* Register the states:startExecution resources in E's resource table. */
int orci_nested_register(orc_engine *E);

#endif
