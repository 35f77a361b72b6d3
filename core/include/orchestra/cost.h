/*
** The cost model: a price catalog, a meter that counts billable units from
** history events, and what-if scenarios (per execution, per month, sweeps
** over volumes, break-even volumes, sensitivity).
**
** Money is computed in femto-dollars (1e-15 USD) held in doubles: every
** catalog price becomes an integral number of femto-dollars per unit, so
** sums of lines stay exact in base 10 while they fit 2^53 femto-dollars
** (about $9) and keep 16 significant digits beyond that. Dollar figures
** that cross this API are plain doubles.
**
** Results that have many parts (breakdowns, scenarios, comparisons) come
** back as JSON values the caller owns (orc_json_unref); their shape is
** documented at each function. Inputs that describe a scenario are JSON
** objects (borrowed); a bad field gives ORC_EINVAL with err->where set to
** its JSON pointer.
**
** A catalog and a meter are used by one thread at a time; neither touches
** an engine.
*/
#ifndef ORCHESTRA_COST_H
#define ORCHESTRA_COST_H

#include "orchestra/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orc_cost_catalog orc_cost_catalog;
typedef struct orc_meter orc_meter;

/* {====== catalog */

/* CONSTRUCTOR. An empty catalog (no prices: pricing fails with a message
** naming what is missing until orc_cost_catalog_load adds them). Returns
** NULL when out of memory. */
ORC_API orc_cost_catalog *orc_cost_catalog_new(void);
/* DESTRUCTOR. NULL is ignored. */
ORC_API void orc_cost_catalog_free(orc_cost_catalog *C);

/* Merge doc (borrowed; the shape of data/prices.json) into the catalog:
** objects merge member by member, so a document holding one model adds or
** replaces that model and keeps the rest; arrays and numbers replace. The
** merged catalog is validated as a whole; on error the catalog is left as
** it was and err->where is the JSON pointer of the bad member (in the
** merged document, which has doc's paths). */
ORC_API int orc_cost_catalog_load(orc_cost_catalog *C, orc_json *doc,
                                  orc_error *err);
/* The same from JSON text (len bytes, borrowed). ORC_EJSON for bad text. */
ORC_API int orc_cost_catalog_load_text(orc_cost_catalog *C, const char *text,
                                       size_t len, orc_error *err);
/* The merged catalog document (borrowed view, valid until the next load). */
ORC_API orc_json *orc_cost_catalog_json(const orc_cost_catalog *C);

/* Prices of one model, in USD per token (negative: not listed). */
typedef struct orc_cost_model_price {
  const char *key;    /* the catalog key (views valid until the next load) */
  const char *name;   /* a readable name, or the key */
  const char *source; /* where the figures come from */
  const char *as_of;  /* the date the source states */
  double input, output, cache_write, cache_read;
  double batch_discount; /* fraction taken off in batch mode, or -1 */
  int confirmed;         /* 0 when the catalog says the figure is not
                            confirmed or sources disagree */
} orc_cost_model_price;

/* Look up a model by key or alias. ORC_EINVAL (naming the model) when the
** catalog does not price it. */
ORC_API int orc_cost_catalog_model(const orc_cost_catalog *C, const char *model,
                                   orc_cost_model_price *out, orc_error *err);

/* }====== */

/* {====== arithmetic */

/* Step Functions Standard: `transitions` in one month in `region` (NULL:
** us-east-1; a region the catalog does not list is an error). With
** free_tier the monthly free transitions are taken off first. */
ORC_API int orc_cost_standard(const orc_cost_catalog *C, const char *region,
                              double transitions, int free_tier, double *usd,
                              orc_error *err);

/* Step Functions Express: `executions` runs of duration_ms and memory_mb
** each in one month: requests, plus GB-seconds with the duration rounded
** up to the next 100 ms and memory to the next 64-MB chunk, priced by the
** catalog's monthly GB-hour tiers. */
ORC_API int orc_cost_express(const orc_cost_catalog *C, double executions,
                             double duration_ms, double memory_mb, double *usd,
                             orc_error *err);

/* Token counts of model calls, by kind. input excludes cached tokens
** (Anthropic's and Converse's convention; an OpenAI prompt_tokens count
** minus its cached_tokens). */
typedef struct orc_cost_tokens {
  double input, output, cache_write, cache_read;
} orc_cost_tokens;

/* The price of tokens `t` on `model`; with batch the model's batch
** discount applies to input and output (an error when it has none). A
** cache kind with tokens but no price in the catalog is an error. */
ORC_API int orc_cost_tokens_usd(const orc_cost_catalog *C, const char *model,
                                const orc_cost_tokens *t, int batch,
                                double *usd, orc_error *err);

/* The most a model call can cost before it is made: input_tokens at the
** input price plus max_tokens at the output price (what a budget checks
** before a call; see orc_meter_would_exceed). */
ORC_API int orc_cost_model_call_bound(const orc_cost_catalog *C,
                                      const char *model, double input_tokens,
                                      double max_tokens, double *usd,
                                      orc_error *err);

/* Mean and percentiles of n values (borrowed; not modified). */
typedef struct orc_cost_summary {
  size_t n;
  double mean, min, max, p50, p95, p99; /* nearest-rank percentiles */
} orc_cost_summary;
ORC_API int orc_cost_summarize(const double *values, size_t n,
                               orc_cost_summary *out, orc_error *err);

/* }====== */

/* {====== the meter */

/* CONSTRUCTOR. Returns NULL when out of memory. */
ORC_API orc_meter *orc_meter_new(void);
/* DESTRUCTOR. NULL is ignored. */
ORC_API void orc_meter_free(orc_meter *m);
ORC_API void orc_meter_reset(orc_meter *m);

/* Count one history event: type is its Step Functions type
** ("TaskStateEntered", ...), timestamp its time in epoch seconds (NaN when
** unknown), details its ...EventDetails object (borrowed; may be NULL).
** Billable state transitions: every *StateEntered event (states in Map
** iterations and Parallel branches included) and every retry: a
** TaskScheduled / LambdaFunctionScheduled / ActivityScheduled beyond the
** first of a Task state's entry, a ParallelStateStarted / MapStateStarted
** beyond the first of its entry. Not billed: ExecutionStarted and the
** execution's end, *StateExited, task Started/Succeeded/Failed, Map
** iteration and map run events, Wait time. ExecutionStarted and the end
** events give the execution's duration (for Express). ModelCallSucceeded
** and ModelCallFailed carry gen_ai.request.model and gen_ai.usage.*
** tokens; ToolCallScheduled counts a tool call. Other types are ignored.
** ORC_EINVAL when a model call's details are malformed (err says which
** member). */
ORC_API int orc_meter_add_event(orc_meter *m, const char *type,
                                double timestamp, const orc_json *details,
                                orc_error *err);
/* The same when the caller knows whether an attempt event (TaskScheduled,
** LambdaFunctionScheduled, ActivityScheduled, MapStateStarted,
** ParallelStateStarted) is its state entry's first attempt: first_attempt
** 1 (the first), 0 (a retry) or -1 (unknown: other events, or no way to
** tell). With -1 the meter counts entries still waiting for their first
** attempt, which is exact in total when every entry makes one (a Task
** whose input processing fails ends the execution before any attempt);
** with several executions' events interleaved into one meter, pass the
** flag (the executor knows it from the state's retry count; a history's
** previousEventId tells it too, which orc_meter_add_history uses). */
ORC_API int orc_meter_add_event_ex(orc_meter *m, const char *type,
                                   double timestamp, const orc_json *details,
                                   int first_attempt, orc_error *err);
/* Count a whole history: {"events": [...]} or the array itself, events in
** GetExecutionHistory shape (borrowed). err->where names a bad event. */
ORC_API int orc_meter_add_history(orc_meter *m, const orc_json *history,
                                  orc_error *err);

typedef struct orc_meter_counts {
  uint64_t transitions;   /* billable: state_entries + retries */
  uint64_t state_entries; /* *StateEntered events */
  uint64_t retries;       /* attempts beyond a state entry's first */
  uint64_t executions;    /* ExecutionStarted events */
  uint64_t finished;      /* executions that ended */
  uint64_t duration_ms;   /* summed wall time of finished executions */
  uint64_t billed_100ms;  /* summed durations, each rounded up to 100 ms */
  uint64_t model_calls, tool_calls;
  size_t nmodels; /* distinct models (orc_meter_model) */
} orc_meter_counts;
ORC_API void orc_meter_counts_get(const orc_meter *m, orc_meter_counts *out);
/* The i-th model seen (0 <= i < nmodels): its name (view valid until the
** next add) and its tokens. */
ORC_API const char *orc_meter_model(const orc_meter *m, size_t i,
                                    orc_cost_tokens *tokens);

/* Options of a breakdown, as a JSON object (borrowed, may be NULL):
** "type": "STANDARD" (default) or "EXPRESS"; "region"; "memory_mb"
** (Express, default 64); "free_tier" (default false: a breakdown prices
** the units it saw, not a month); "batch" (default false). */

/* The cost of what the meter counted (returns owned in *out):
** {"lines": [{"group", "item", "units", "unit", "unit_usd", "usd",
** "note"?}], "subtotals": {group: usd}, "total": usd, "counts": {...},
** "assumptions": [text]}. ORC_EINVAL for a model without a price. */
ORC_API int orc_meter_breakdown(const orc_meter *m, const orc_cost_catalog *C,
                                const orc_json *options, orc_json **out,
                                orc_error *err);
/* The total of that breakdown in USD. */
ORC_API int orc_meter_total(const orc_meter *m, const orc_cost_catalog *C,
                            const orc_json *options, double *usd,
                            orc_error *err);
/* Budgets: whether a model call of input_tokens with max_tokens would take
** the metered total over budget_usd (1: it would; 0: it fits); *spent
** (may be NULL) gets the total so far. */
ORC_API int orc_meter_would_exceed(const orc_meter *m,
                                   const orc_cost_catalog *C,
                                   const orc_json *options, const char *model,
                                   double input_tokens, double max_tokens,
                                   double budget_usd, double *spent,
                                   orc_error *err);

/* }====== */

/* {====== scenarios
**
** A scenario is a JSON object:
**   name        (string) label in comparisons
**   executions  (number) executions per month (default 1)
**   workflow    {type "STANDARD"|"EXPRESS", transitions per run,
**                duration_ms, memory_mb (Express), region, free_tier
**                (default true: the monthly totals take the 4,000 free
**                transitions off), runs (per execution, default 1)}
**   agent       {model, steps, input_tokens and output_tokens per step,
**                context_growth (input tokens added per step: step k reads
**                input_tokens + k * context_growth), cache_hit_rate and
**                cache_write_rate (fractions of input tokens read from /
**                written to the cache), batch, invocations (per execution,
**                default 1), tool_calls_per_step, tool_call_usd}
** Either part or both (a hybrid: a workflow with N agent states is
** agent.invocations = N; an agent calling a workflow as a tool is
** workflow.runs = the calls).
*/

/* Per execution and per month (returns owned):
** {"name", "executions", "per_execution": {"lines", "total"},
** "monthly": {"lines", "subtotals", "total"}, "assumptions": [...]}. */
ORC_API int orc_cost_scenario(const orc_cost_catalog *C,
                              const orc_json *scenario, orc_json **out,
                              orc_error *err);
/* The monthly total at `executions` per month (the scenario's own volume
** when executions < 0). */
ORC_API int orc_cost_monthly(const orc_cost_catalog *C,
                             const orc_json *scenario, double executions,
                             double *usd, orc_error *err);
/* Monthly totals of several scenarios (a JSON array, borrowed) at each of
** n volumes, and the volumes where two of them cost the same (returns
** owned): {"options": [names], "volumes": [...], "monthly": [[usd per
** volume] per option], "break_even": [{"a", "b", "executions",
** "usd", "cheaper_below", "cheaper_above"}], "assumptions": [...]}.
** Break-even volumes are searched from 1 to 1e12 executions a month and
** given to the nearest whole execution. */
ORC_API int orc_cost_compare(const orc_cost_catalog *C,
                             const orc_json *scenarios, const double *volumes,
                             size_t n, orc_json **out, orc_error *err);
/* Which input moves the monthly total most: each numeric input (and the
** model and transition prices) multiplied by 1 - delta and 1 + delta
** (delta 0.2 for +-20 %), ranked by the swing (returns owned):
** {"base": usd, "delta": d, "inputs": [{"input", "value", "low",
** "high", "swing"}]}. */
ORC_API int orc_cost_sensitivity(const orc_cost_catalog *C,
                                 const orc_json *scenario, double delta,
                                 orc_json **out, orc_error *err);

/* }====== */

#ifdef __cplusplus
}
#endif

#endif
