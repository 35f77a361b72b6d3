/*
** Retry and Catch: what an error in a state does next.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execution_int.h"

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
    /* AWS's recording (LocalStack's test_states_errors snapshot) shows a
    ** task's DataLimitExceeded caught by a lone States.ALL, though the docs
    ** call it terminal; States.TaskFailed does not match it */
    if (!strcmp(e, "States.ALL")) return 1;
    if (datalimit) continue;
    if (!strcmp(e, "States.TaskFailed") && strcmp(name, "States.Timeout"))
      return 1;
    if (heartbeat && !strcmp(e, "States.HeartbeatTimeout")) return 1;
  }
  return 0;
}

/* fail_event: the ...StateFailed event of a Map/Parallel, recorded only
** when the state is not retried (as AWS does), or -1. error may be NULL (a
** Fail state without Error). */
void orci_handle_error_ev(orci_frame *F, const char *error, const char *cause,
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
      if (F->attempts == NULL &&
          (F->attempts = (int64_t *)orci_calloc(
               E, s->nretry * sizeof *F->attempts)) != NULL)
        F->nattempts = s->nretry;
      if (F->attempts && F->attempts[i] < r->max_attempts) {
        double delay =
            (double)r->interval_s * pow(r->backoff, (double)F->attempts[i]);
        int64_t ms;
        if (r->max_delay_s && delay > (double)r->max_delay_s)
          delay = (double)r->max_delay_s;
        if (r->jitter_full)
          delay = delay * (double)(orci_rng_next(E) >> 11) / 9007199254740992.0;
        ms = (int64_t)(delay * 1000.0);
        F->attempts[i]++;
        F->retry_count++;
        orc_json_unref(F->ctx);
        F->ctx = NULL;
        F->phase = PH_TIMER;
        if (orci_timer_set(&E->sched, orc_engine_now(E) + ms, orci_wake_fired,
                           F, &F->t_wake) != ORC_OK)
          orci_fail_frame(F, "States.Runtime", "out of memory");
        return;
      }
      break; /* the first matching retrier decides */
    }
  }
  if (fail_event >= 0)
    F->last_event =
        orci_add_event(ORCI_FRAME_HISTORY(F), F->last_event, fail_event, NULL);
  if (strcmp(name, "States.Runtime") != 0) {
    for (i = 0; i < s->ncatch; i++) {
      const orci_catcher *ct = &s->catch_[i];
      orc_json *info, *out;
      orci_failure f = {NULL, NULL};
      if (!error_matches(ct->errors, ct->nerrors, name, F->heartbeat_expired))
        continue;
      info = orc_json_object_new(2);
      if (info == NULL) break;
      orc_json_object_set(info, 0, orci_skey("Error"), orci_skey(name));
      orc_json_object_set(info, 1, orci_skey("Cause"),
                          orci_skey(cause ? cause : ""));
      if (s->jsonata) { /* Assign and Output see $states.errorOutput */
        orci_query_exit(F, ct->assign, ct->output, NULL, info, ct->next);
        orc_json_unref(info);
        return;
      }
      if (orci_eval_assign(F, ct->assign, info, &f) < 0)
        out = NULL;
      else
        out = orci_apply_result_path(F, ct->result_path, ct->result_discard,
                                     F->input, info, &f);
      orc_json_unref(info);
      if (out == NULL) {
        orci_fail_frame(F, f.error ? f.error : "States.Runtime", f.cause);
        orci_strfree(E, f.cause);
        return;
      }
      orci_exit_state(F, out, ct->next);
      return;
    }
  }
  orci_fail_frame(F, error, cause);
}

void orci_handle_error(orci_frame *F, const char *error, const char *cause) {
  orci_handle_error_ev(F, error, cause, -1);
}

void orci_fail_with(orci_frame *F, orci_failure *f) {
  orc_engine *E = F->X->E; /* F may be freed by the handling */
  orci_handle_error(F, f->error ? f->error : "States.Runtime",
                    f->cause ? f->cause : "out of memory");
  orci_strfree(E, f->cause);
}

/* Send the task to the host. */
