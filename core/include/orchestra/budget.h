/*
** Budgets: an execution (a state machine's or an agent invocation) can be
** given a budget in US dollars. The engine's meter (cost.h) prices what
** the execution has used with the engine's price catalog and stops it
** with Cost.BudgetExceeded:
**
** - before a model call that could take the total over the budget: the
**   call's bound is its input tokens (estimated as the request's bytes / 4
**   rounded up until the provider has reported usage; then the last
**   reported input plus bytes / 4 of what was added since) at the model's
**   input price, plus its max_tokens at the output price. An agent makes
**   that check before each model call (the invocation fails, its cause
**   carries the transcript, the partial text and the usage as for the
**   other Agent.* limits); a workflow's bedrock:invokeModel task makes it
**   before the request is sent (the task fails with Cost.BudgetExceeded,
**   which Retry and Catch see like any task error);
** - after each billable unit of a workflow (a state entered, a retry, an
**   invokeModel call's tokens): a unit that takes the total over the
**   budget fails the execution with Cost.BudgetExceeded at the end of the
**   unit of work that recorded it (the history is kept).
**
** A call the catalog cannot price (a model without a price, an
** invokeModel Body without a max tokens field) fails with Cost.UnknownPrice
** instead of passing unchecked.
*/
#ifndef ORCHESTRA_BUDGET_H
#define ORCHESTRA_BUDGET_H

#include "orchestra/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct orc_cost_catalog;

#define ORC_COST_BUDGET_EXCEEDED "Cost.BudgetExceeded"
#define ORC_COST_UNKNOWN_PRICE   "Cost.UnknownPrice"

/* Output tokens an agent's model call is bounded by (and asks for) when a
** budget is set and the agent has no max_tokens. */
#define ORC_BUDGET_DEFAULT_MAX_TOKENS 4096

/* The catalog E prices budgets with (borrowed: it must stay valid, and
** unchanged while a step runs, until E is freed or another catalog is
** set; NULL removes it). The same as orc_engine_config.catalog. */
ORC_API void orc_engine_set_catalog(orc_engine *E,
                                    const struct orc_cost_catalog *C);
ORC_API const struct orc_cost_catalog *orc_engine_catalog(const orc_engine *E);

/* Give X a budget of usd dollars (0: none), replacing the one it started
** with (orc_engine_config.budget_usd, or an agent's budget_usd). X gets a
** meter if its engine does not meter. ORC_EINVAL when usd is negative or
** not finite, when the engine has no catalog, or when X is a distributed
** Map's child (it counts into its parent's bill); ORC_EMISUSE when X is
** not running; ORC_ENOMEM. */
ORC_API int orc_execution_set_budget(orc_execution *X, double usd,
                                     orc_error *err);
/* X's budget in dollars (0: none). */
ORC_API double orc_execution_budget(const orc_execution *X);

/* The input tokens a request of len bytes is estimated at: len / 4
** rounded up. */
ORC_API double orc_budget_estimate_tokens(size_t len);

#ifdef __cplusplus
}
#endif

#endif
