/*
** Budgets and Choice overrides from a C host (no Lua): a catalog set on
** the engine, an execution's budget that stops a workflow after the
** transition that takes it over, and a choice hook that picks a branch.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "orchestra/budget.h"
#include "orchestra/cost.h"
#include "orchestra/engine.h"

#include "check.h"

static const char CATALOG[] =
    "{\"step_functions\": {\"standard\": {\"per_1000_transitions\": 0.025,"
    "  \"free_tier_transitions_per_month\": 4000}},"
    " \"models\": {\"sonnet\": {\"input_per_million\": 3,"
    "  \"output_per_million\": 15}}}";

/* A -> B -> C -> D -> E (Pass states). */
static const char CHAIN[] = "{\"StartAt\": \"A\", \"States\": {"
                            " \"A\": {\"Type\": \"Pass\", \"Next\": \"B\"},"
                            " \"B\": {\"Type\": \"Pass\", \"Next\": \"C\"},"
                            " \"C\": {\"Type\": \"Pass\", \"Next\": \"D\"},"
                            " \"D\": {\"Type\": \"Pass\", \"Next\": \"E\"},"
                            " \"E\": {\"Type\": \"Pass\", \"End\": true}}}";

/* Check sends the data to Big or Small; the hook overrides it. */
static const char BRANCH[] =
    "{\"StartAt\": \"Check\", \"States\": {"
    " \"Check\": {\"Type\": \"Choice\", \"Choices\": [{\"Variable\": \"$.n\","
    "   \"NumericGreaterThan\": 10, \"Next\": \"Big\"}], \"Default\": "
    "   \"Small\"},"
    " \"Big\": {\"Type\": \"Pass\", \"Result\": \"big\", \"End\": true},"
    " \"Small\": {\"Type\": \"Pass\", \"Result\": \"small\", \"End\": true}}}";

static void run(orc_engine *E) {
  orc_error err;
  int guard = 0;
  while (orc_engine_step(E, &err) > 0 && guard++ < 1000)
    ;
}

static orc_json *parse(const char *text) {
  orc_json *v = NULL;
  CHECK(orc_json_parse(text, strlen(text), NULL, &v, NULL) == ORC_OK);
  return v;
}

static void test_budget(orc_cost_catalog *C) {
  orc_engine_config cfg;
  orc_engine *E;
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_error err;
  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_VIRTUAL;
  E = orc_engine_new(&cfg, &err);
  CHECK(E != NULL);
  CHECK(orc_machine_load(E, CHAIN, strlen(CHAIN), NULL, &M, NULL, &err) ==
        ORC_OK);
  CHECK(orc_execution_start(M, NULL, "x1", &X, &err) == ORC_OK);
  /* no catalog yet: refused, and named */
  CHECK(orc_execution_set_budget(X, 0.00005, &err) == ORC_EINVAL);
  CHECK(strstr(err.message, "needs a price catalog") != NULL);
  CHECK(orc_execution_set_budget(X, -1, &err) == ORC_EINVAL);
  orc_engine_set_catalog(E, C);
  CHECK(orc_engine_catalog(E) == C);
  /* $0.000025 a transition: 2 fit $0.00005, the 3rd takes it over */
  CHECK(orc_execution_set_budget(X, 0.00005, &err) == ORC_OK);
  CHECK(orc_execution_budget(X) == 0.00005);
  run(E);
  CHECK(orc_execution_status(X) == ORC_STATUS_FAILED);
  CHECK(strcmp(orc_execution_error(X), ORC_COST_BUDGET_EXCEEDED) == 0);
  CHECK(strcmp(orc_execution_cause(X),
               "the execution's metered cost $7.5e-05 (3 billed transitions, "
               "0 model calls) is over its budget_usd $5e-05") == 0);
  CHECK(orc_execution_transitions(X) == 3);
  CHECK(orc_execution_set_budget(X, 1, &err) == ORC_EMISUSE);
  /* the engine-wide default, from the config */
  orc_engine_free(E);
  cfg.budget_usd = 0.0001;
  cfg.catalog = C;
  E = orc_engine_new(&cfg, &err);
  CHECK(E != NULL);
  CHECK(orc_machine_load(E, CHAIN, strlen(CHAIN), NULL, &M, NULL, &err) ==
        ORC_OK);
  CHECK(orc_execution_start(M, NULL, "x2", &X, &err) == ORC_OK);
  CHECK(orc_execution_budget(X) == 0.0001);
  run(E);
  CHECK(orc_execution_status(X) == ORC_STATUS_FAILED);
  CHECK(orc_execution_transitions(X) == 5);
  /* the engine's default lifted (0) for one execution */
  CHECK(orc_execution_start(M, NULL, "x4", &X, &err) == ORC_OK);
  CHECK(orc_execution_set_budget(X, 0, &err) == ORC_OK);
  CHECK(orc_execution_budget(X) == 0);
  run(E);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  /* a budget that holds: 5 transitions = $0.000125 */
  CHECK(orc_execution_start(M, NULL, "x3", &X, &err) == ORC_OK);
  CHECK(orc_execution_set_budget(X, 0.000125, &err) == ORC_OK);
  run(E);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  orc_engine_free(E);
  cfg.budget_usd = -0.5;
  CHECK(orc_engine_new(&cfg, &err) == NULL);
  CHECK(strstr(err.message, "budget_usd must be") != NULL);
}

static int pick_second(void *ud, orc_execution *X, const char *state,
                       orc_json *input, const char *const *nexts, size_t n,
                       int *pick, orc_error *err) {
  int *calls = (int *)ud;
  (void)X;
  (void)input;
  (*calls)++;
  if (strcmp(state, "Check") != 0 || n != 2 || strcmp(nexts[0], "Big") ||
      strcmp(nexts[1], "Small")) {
    snprintf(err->message, sizeof err->message, "unexpected call");
    return ORC_EINVAL;
  }
  *pick = 1; /* Small, whatever the data say */
  return ORC_OK;
}

static int fail_hook(void *ud, orc_execution *X, const char *state,
                     orc_json *input, const char *const *nexts, size_t n,
                     int *pick, orc_error *err) {
  (void)ud, (void)X, (void)state, (void)input, (void)nexts, (void)n;
  (void)pick;
  snprintf(err->message, sizeof err->message, "no luck");
  return ORC_EINVAL;
}

static void test_choice_hook(void) {
  orc_engine_config cfg;
  orc_engine *E;
  orc_machine *M = NULL;
  orc_execution *X = NULL;
  orc_json *in = parse("{\"n\": 50}"), *out;
  orc_error err;
  int calls = 0;
  orc_engine_config_init(&cfg);
  cfg.clock = ORC_CLOCK_VIRTUAL;
  E = orc_engine_new(&cfg, &err);
  CHECK(orc_machine_load(E, BRANCH, strlen(BRANCH), NULL, &M, NULL, &err) ==
        ORC_OK);
  orc_engine_set_choice_hook(E, pick_second, &calls);
  CHECK(orc_execution_start(M, in, "h1", &X, &err) == ORC_OK);
  run(E);
  CHECK(calls == 1);
  CHECK(orc_execution_status(X) == ORC_STATUS_SUCCEEDED);
  out = orc_execution_output(X);
  CHECK(out && orc_json_type_of(out) == ORC_JSON_STRING &&
        strcmp(orc_json_string_value(out, NULL), "small") == 0);
  orc_engine_set_choice_hook(E, fail_hook, NULL);
  CHECK(orc_execution_start(M, in, "h2", &X, &err) == ORC_OK);
  run(E);
  CHECK(orc_execution_status(X) == ORC_STATUS_FAILED);
  CHECK(strcmp(orc_execution_error(X), "States.Runtime") == 0);
  CHECK(strstr(orc_execution_cause(X), "The choice hook failed: no luck") !=
        NULL);
  orc_engine_set_choice_hook(E, NULL, NULL); /* the rules again */
  CHECK(orc_execution_start(M, in, "h3", &X, &err) == ORC_OK);
  run(E);
  out = orc_execution_output(X);
  CHECK(out && strcmp(orc_json_string_value(out, NULL), "big") == 0);
  orc_json_unref(in);
  orc_engine_free(E);
}

int main(void) {
  orc_cost_catalog *C = orc_cost_catalog_new();
  orc_error err;
  CHECK(orc_cost_catalog_load_text(C, CATALOG, strlen(CATALOG), &err) ==
        ORC_OK);
  test_budget(C);
  test_choice_hook();
  orc_cost_catalog_free(C);
  printf("test_budget: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
