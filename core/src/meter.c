/*
** Metering: when the engine meters (orc_engine_config.meter), every
** execution has an orc_meter (cost.h) that a history hook feeds as events
** are appended, so billable units are counted whatever the history keeps.
** A distributed Map's children share their parent's meter: their
** transitions are the parent's bill, as on AWS.
*/
#include "execution_int.h"
#include "orchestra/cost.h"

static void meter_hook(void *ud, orc_execution *X, const orci_event *ev) {
  const orci_event_type *t = orci_event_type_of(X->E, ev->type);
  int first = -1; /* not an attempt event: the meter decides */
  (void)ud;
  if (X->meter == NULL) return;
  switch (ev->type) {
  case EV_TASK_SCHEDULED:
  case EV_LAMBDA_SCHEDULED:
  case EV_PARALLEL_STARTED:
  case EV_MAP_STARTED:
    first = (ev->lazy & ORCI_EV_RETRY) ? 0 : 1;
    break;
  default:
    break;
  }
  /* stored details are what model and tool calls carry; lazy ones (a
  ** state's payload) do not matter to the bill and are not made */
  if (X->budget_usd > 0 && X->meter_owned) {
    orc_meter_counts before, after;
    orc_meter_counts_get(X->meter, &before);
    orc_meter_add_event_ex(X->meter, t->name, (double)ev->ts_ms / 1000.0,
                           (ev->lazy & ORCI_EV_LAZY) ? NULL : ev->u.details,
                           first, NULL);
    orc_meter_counts_get(X->meter, &after);
    if (after.transitions != before.transitions ||
        after.model_calls != before.model_calls)
      orci_budget_after_unit(X);
    return;
  }
  orc_meter_add_event_ex(X->meter, t->name, (double)ev->ts_ms / 1000.0,
                         (ev->lazy & ORCI_EV_LAZY) ? NULL : ev->u.details,
                         first, NULL);
}

static int hooked(const orc_engine *E) {
  size_t i;
  for (i = 0; i < E->hooks.n; i++)
    if (ORCI_VEC_AT(&E->hooks, orci_hook, i).fn == meter_hook) return 1;
  return 0;
}

int orci_meter_register(orc_engine *E) {
  return E->cfg.meter || E->cfg.budget_usd > 0
             ? orci_history_hook(E, meter_hook, NULL)
             : ORC_OK;
}

int orci_meter_attach(orc_execution *X, orc_execution *of_parent) {
  if (of_parent) {
    if (of_parent->meter == NULL) return ORC_OK;
    X->meter = of_parent->meter;
    X->meter_owned = 0;
    return ORC_OK;
  }
  orci_budget_init(X, X->E->cfg.budget_usd);
  if (!X->E->cfg.meter && X->budget_usd <= 0) return ORC_OK;
  X->meter = orc_meter_new();
  X->meter_owned = 1;
  return X->meter ? ORC_OK : ORC_ENOMEM;
}

/* A meter for X, which started without one (a budget given later): it
** counts from now, ExecutionStarted included. */
int orci_meter_late(orc_execution *X) {
  orc_engine *E = X->E;
  if (X->meter) return ORC_OK;
  if (!hooked(E) && orci_history_hook(E, meter_hook, NULL) != ORC_OK)
    return ORC_ENOMEM;
  X->meter = orc_meter_new();
  if (X->meter == NULL) return ORC_ENOMEM;
  X->meter_owned = 1;
  if (X->agent) return ORC_OK; /* its start is not an ExecutionStarted */
  return orc_meter_add_event(X->meter, "ExecutionStarted",
                             (double)X->start_ms / 1000.0, NULL, NULL);
}

void orci_meter_detach(orc_execution *X) {
  if (X->meter_owned) orc_meter_free(X->meter);
  X->meter = NULL;
  X->meter_owned = 0;
}

orc_meter *orc_execution_meter(const orc_execution *X) {
  return X->meter;
}
