/*
** Internals of the cost model shared by cost.c and its C tests: femto-
** dollar conversion, cost lines and the parsed form of a scenario.
*/
#ifndef ORCHESTRA_COST_INT_H
#define ORCHESTRA_COST_INT_H

#include "orchestra/cost.h"

/* Femto-dollars per dollar: catalog prices become whole numbers of them. */
#define ORCI_FEMTO 1e15

/* A catalog price in USD per `per` units, as whole femto-dollars per unit
** (0.025 per 1000 transitions -> 25,000,000,000). */
double orci_cost_femto(double usd, double per);

/* One line of a breakdown: units x unit price = amount. */
typedef struct orci_cost_line {
  const char *group; /* "workflow", "models", "tools" */
  char item[96];     /* what is counted, readable */
  const char *unit;  /* "transition", "token", ... */
  double units;
  double unit_femto; /* price of one unit (0 when the line is tiered) */
  double femto;      /* the line's amount */
  char note[160];    /* "" or why the line is what it is */
} orci_cost_line;

#define ORCI_COST_MAXLINES 16

typedef struct orci_cost_lines {
  size_t n;
  int truncated; /* a line did not fit (written to `spare`) */
  orci_cost_line line[ORCI_COST_MAXLINES];
  orci_cost_line spare;
} orci_cost_lines;

/* A scenario after parsing and validation (see cost.h). */
typedef struct orci_scenario {
  char name[96];
  double executions;
  int has_workflow, express, free_tier;
  char region[48];
  double transitions, duration_ms, memory_mb, runs;
  int has_agent, batch;
  char model[128];
  double steps, input_tokens, output_tokens, context_growth;
  double cache_hit_rate, cache_write_rate, invocations;
  double tool_calls_per_step, tool_call_usd;
  /* price multipliers, 1 unless a sensitivity run moves them */
  double k_transition, k_input, k_output;
} orci_scenario;

int orci_scenario_parse(const orc_json *j, orci_scenario *s, orc_error *err);
/* Lines of one execution (monthly = 0) or of a month at s->executions. */
int orci_scenario_eval(const orc_cost_catalog *C, const orci_scenario *s,
                       int monthly, orci_cost_lines *out, double *total_femto,
                       orc_error *err);

/* Count an InvokeModel response body's usage (borrowed; Anthropic's,
** Nova's, Llama's or the OpenAI shape's names) as a model call of model at
** timestamp: 1 counted, 0 the body has no usage, < 0 an error. */
int orci_meter_invoke_model(orc_meter *m, const char *model,
                            const orc_json *body, double timestamp);

#endif
