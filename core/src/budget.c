/*
** Budgets (orchestra/budget.h): an execution's budget in dollars, checked
** against its meter priced with the engine's catalog. The meter's history
** hook flags an execution whose billable units take it over; the step
** loop stops flagged executions at its next safe point (the end of the
** unit of work), because a hook may not end an execution while an event
** is being appended. Model calls are checked before they are made by
** their callers (agent.c, bedrock.c) through orci_budget_check_call.
*/
#include <math.h>
#include <stdio.h>

#include "agent_int.h"
#include "execution_int.h"
#include "orchestra/budget.h"
#include "orchestra/cost.h"

void orc_engine_set_catalog(orc_engine *E, const orc_cost_catalog *C) {
  E->cfg.catalog = C;
}

const orc_cost_catalog *orc_engine_catalog(const orc_engine *E) {
  return E->cfg.catalog;
}

double orc_budget_estimate_tokens(size_t len) {
  return (double)((len + 3) / 4);
}

void orci_budget_init(orc_execution *X, double usd) {
  X->budget_usd = usd > 0 ? usd : 0;
  X->over_budget = 0;
}

double orc_execution_budget(const orc_execution *X) {
  return X->budget_usd;
}

int orc_execution_set_budget(orc_execution *X, double usd, orc_error *err) {
  if (!isfinite(usd) || usd < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "budget_usd must be a finite number >= 0, not %g", usd);
  if (X->status != ORC_STATUS_RUNNING)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "execution '%s' is not running (%s)", X->name,
                      orc_status_text(X->status));
  if (X->map_run_arn)
    return orci_error(err, ORC_EINVAL, NULL,
                      "execution '%s' is a distributed Map's child: it "
                      "counts into its parent's budget",
                      X->name);
  if (usd > 0 && X->E->cfg.catalog == NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "budget_usd needs a price catalog: the engine has none "
                      "(orc_engine_set_catalog)");
  if (usd > 0 && orci_agent_check_budget(X, usd, err) != ORC_OK)
    return ORC_EINVAL;
  if (usd > 0 && orci_meter_late(X) != ORC_OK)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  X->budget_usd = usd;
  if (X->over_budget == 1) X->over_budget = 0; /* a new budget decides */
  if (usd > 0) orci_budget_after_unit(X);      /* maybe over already */
  return ORC_OK;
}

void orci_budget_after_unit(orc_execution *X) {
  double spent;
  if (X->budget_usd <= 0 || X->over_budget || X->agent || X->meter == NULL)
    return;
  /* a total that cannot be priced is stopped too (Cost.UnknownPrice) */
  if (X->E->cfg.catalog == NULL ||
      orc_meter_total(X->meter, X->E->cfg.catalog, NULL, &spent, NULL) !=
          ORC_OK ||
      spent > X->budget_usd) {
    X->over_budget = 1;
    X->E->nover_budget++;
  }
}

/* Stop X, flagged over its budget: FAILED with the error and a cause that
** says what was spent (prev: the event the end follows). */
void orci_budget_fail(orc_execution *X, int64_t prev) {
  orc_meter_counts c;
  orc_error err;
  char cause[512];
  double spent = 0;
  const char *error = ORC_COST_BUDGET_EXCEEDED;
  orc_meter_counts_get(X->meter, &c);
  if (X->E->cfg.catalog == NULL) {
    error = ORC_COST_UNKNOWN_PRICE;
    snprintf(cause, sizeof cause,
             "budget_usd %.10g is set but the engine has no price catalog",
             X->budget_usd);
  } else if (orc_meter_total(X->meter, X->E->cfg.catalog, NULL, &spent, &err) !=
             ORC_OK) {
    error = ORC_COST_UNKNOWN_PRICE;
    snprintf(cause, sizeof cause,
             "budget_usd %.10g is set but what the execution used cannot be "
             "priced: %s",
             X->budget_usd, err.message);
  } else {
    snprintf(cause, sizeof cause,
             "the execution's metered cost $%.10g (%llu billed transitions, "
             "%llu model calls) is over its budget_usd $%.10g",
             spent, (unsigned long long)c.transitions,
             (unsigned long long)c.model_calls, X->budget_usd);
  }
  X->over_budget = 2;
  orci_finish(X, ORC_STATUS_FAILED, NULL, error, cause, prev);
}

void orci_budget_enforce(orc_engine *E) {
  orc_execution *X;
  orci_engine_enter(E); /* a task's drop callback may close X */
  for (X = E->executions; X; X = X->next_x)
    if (X->over_budget == 1) {
      if (X->status == ORC_STATUS_RUNNING)
        orci_budget_fail(X, X->root.last_event);
      X->over_budget = 2;
    }
  E->nover_budget = 0;
  orci_engine_leave(E);
}

const char *orci_budget_check_call(orc_execution *X, const char *model,
                                   double input_tokens, double max_tokens,
                                   char *why, size_t n) {
  const orc_cost_catalog *C = X->E->cfg.catalog;
  double spent = 0, bound;
  orc_error err;
  if (X->budget_usd <= 0) return NULL;
  if (C == NULL) {
    snprintf(why, n,
             "budget_usd %.10g is set but the engine has no price catalog",
             X->budget_usd);
    return ORC_COST_UNKNOWN_PRICE;
  }
  if (orc_cost_model_call_bound(C, model, input_tokens, max_tokens, &bound,
                                &err) != ORC_OK) {
    snprintf(why, n,
             "budget_usd %.10g is set but the model call cannot be priced: "
             "%s",
             X->budget_usd, err.message);
    return ORC_COST_UNKNOWN_PRICE;
  }
  if (X->meter && orc_meter_total(X->meter, C, NULL, &spent, &err) != ORC_OK) {
    snprintf(why, n,
             "budget_usd %.10g is set but what was used cannot be priced: %s",
             X->budget_usd, err.message);
    return ORC_COST_UNKNOWN_PRICE;
  }
  if (spent + bound > X->budget_usd) {
    snprintf(why, n,
             "the next model call on %s could cost up to $%.10g (%.0f input "
             "tokens, estimated, + %.0f max_tokens): with $%.10g spent, that "
             "is over the budget of $%.10g",
             model, bound, input_tokens, max_tokens, spent, X->budget_usd);
    return ORC_COST_BUDGET_EXCEEDED;
  }
  return NULL;
}
