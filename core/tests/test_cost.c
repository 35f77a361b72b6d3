/*
** The cost model's C API without Lua: a catalog from text, the reference
** test vectors (exact where base 10 is exact), a meter fed event by
** event, the budget bound, errors with JSON pointers, and merges that
** leave the catalog unchanged on error.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "orchestra/cost.h"

#include "check.h"

static const char CATALOG[] =
    "{\"step_functions\": {"
    "  \"standard\": {\"per_1000_transitions\": 0.025,"
    "    \"free_tier_transitions_per_month\": 4000,"
    "    \"regions\": {\"us-west-1\": 0.0279}},"
    "  \"express\": {\"per_million_requests\": 1.0,"
    "    \"gb_second_tiers\": ["
    "      {\"up_to_gb_hours\": 1000, \"per_gb_second\": 0.0000166667},"
    "      {\"up_to_gb_hours\": 5000, \"per_gb_second\": 0.0000083333},"
    "      {\"per_gb_second\": 0.0000045833}]}},"
    " \"models\": {"
    "  \"sonnet\": {\"input_per_million\": 3, \"output_per_million\": 15,"
    "    \"cache_write_per_million\": 3.75, \"cache_read_per_million\": 0.3,"
    "    \"batch_discount\": 0.5, \"aliases\": [\"s35\"]},"
    "  \"sonnet-v2\": {\"input_per_million\": 6, \"output_per_million\": 30}"
    "}}";

static orc_cost_catalog *load(void) {
  orc_cost_catalog *C = orc_cost_catalog_new();
  orc_error err;
  CHECK(C != NULL);
  CHECK(orc_cost_catalog_load_text(C, CATALOG, strlen(CATALOG), &err) ==
        ORC_OK);
  return C;
}

static void test_vectors(orc_cost_catalog *C) {
  orc_cost_tokens t = {10000, 2500, 0, 0};
  double usd = -1;
  orc_error err;
  CHECK(orc_cost_standard(C, NULL, 10, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.00025);
  CHECK(orc_cost_standard(C, NULL, 10000, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.25);
  CHECK(orc_cost_standard(C, NULL, 5000, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.125);
  CHECK(orc_cost_standard(C, NULL, 1000000, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 25.0);
  CHECK(orc_cost_standard(C, NULL, 10000, 1, &usd, &err) == ORC_OK);
  CHECK(usd == 0.15);
  CHECK(orc_cost_standard(C, "us-west-1", 1000, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.0279);
  CHECK(orc_cost_standard(C, "xx-1", 1000, 0, &usd, &err) == ORC_EINVAL);
  CHECK(strstr(err.message, "region 'xx-1'") != NULL);
  CHECK(orc_cost_express(C, 1, 1000, 64, &usd, &err) == ORC_OK);
  CHECK(fabs(usd - 2.04166875e-6) < 1e-21);
  CHECK(orc_cost_express(C, 1, 1001, 65, &usd, &err) == ORC_OK);
  CHECK(fabs(usd - (1e-6 + 22 * 104166875e-15)) < 1e-21);
  CHECK(orc_cost_tokens_usd(C, "s35", &t, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.0675);
  CHECK(orc_cost_tokens_usd(C, "sonnet", &t, 1, &usd, &err) == ORC_OK);
  CHECK(usd == 0.03375);
  CHECK(orc_cost_tokens_usd(C, "sonnet-v2", &t, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.135);
  CHECK(orc_cost_tokens_usd(C, "sonnet-v2", &t, 1, &usd, &err) == ORC_EINVAL);
  CHECK(strstr(err.message, "no batch discount") != NULL);
  t.input = 17500;
  CHECK(orc_cost_tokens_usd(C, "sonnet", &t, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.09);
  CHECK(orc_cost_model_call_bound(C, "sonnet", 2000, 1000, &usd, &err) ==
        ORC_OK);
  CHECK(usd == 0.021);
}

static void test_meter(orc_cost_catalog *C) {
  orc_meter *m = orc_meter_new();
  orc_meter_counts c;
  orc_json *d = NULL;
  double total = 0, spent = 0;
  orc_error err;
  const char *usage = "{\"gen_ai.request.model\": \"sonnet\","
                      "\"gen_ai.usage.input_tokens\": 10000,"
                      "\"gen_ai.usage.output_tokens\": 2500}";
  CHECK(m != NULL);
  CHECK(orc_meter_add_event(m, "ExecutionStarted", 100.0, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "TaskStateEntered", 100.0, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "TaskScheduled", 100.0, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "TaskFailed", 100.1, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "TaskScheduled", 101.0, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "TaskStateExited", 101.0, NULL, &err) == 0);
  CHECK(orc_meter_add_event(m, "PassStateEntered", 101.0, NULL, &err) == 0);
  CHECK(orc_json_parse(usage, strlen(usage), NULL, &d, &err) == ORC_OK);
  CHECK(orc_meter_add_event(m, "ModelCallSucceeded", 101.2, d, &err) == 0);
  CHECK(orc_meter_add_event(m, "ExecutionSucceeded", 101.25, NULL, &err) == 0);
  orc_meter_counts_get(m, &c);
  CHECK(c.transitions == 3 && c.state_entries == 2 && c.retries == 1);
  CHECK(c.executions == 1 && c.finished == 1);
  CHECK(c.duration_ms == 1250 && c.billed_100ms == 13);
  CHECK(c.model_calls == 1 && c.nmodels == 1);
  CHECK(orc_meter_total(m, C, NULL, &total, &err) == ORC_OK);
  CHECK(fabs(total - (0.000075 + 0.0675)) < 1e-15);
  CHECK(orc_meter_would_exceed(m, C, NULL, "sonnet", 2000, 1000, 0.088, &spent,
                               &err) == 1);
  CHECK(orc_meter_would_exceed(m, C, NULL, "sonnet", 2000, 1000, 0.089, &spent,
                               &err) == 0);
  orc_json_unref(d);
  orc_meter_free(m);
  /* interleaved entries: the caller's flag decides */
  m = orc_meter_new();
  CHECK(orc_meter_add_event_ex(m, "TaskStateEntered", 0, NULL, -1, &err) == 0);
  CHECK(orc_meter_add_event_ex(m, "TaskStateEntered", 0, NULL, -1, &err) == 0);
  CHECK(orc_meter_add_event_ex(m, "TaskScheduled", 0, NULL, 1, &err) == 0);
  CHECK(orc_meter_add_event_ex(m, "TaskScheduled", 0, NULL, 0, &err) == 0);
  orc_meter_counts_get(m, &c);
  CHECK(c.transitions == 3 && c.retries == 1);
  orc_meter_free(m);
}

static void test_errors(orc_cost_catalog *C) {
  orc_error err;
  double usd = 0;
  const char *bad = "{\"models\": {\"x/y\": {\"input_per_million\": -1,"
                    "\"output_per_million\": 1}}}";
  CHECK(orc_cost_catalog_load_text(C, bad, strlen(bad), &err) == ORC_EINVAL);
  CHECK(strcmp(err.where, "/models/x~1y/input_per_million") == 0);
  CHECK(strstr(err.message, "non-negative") != NULL);
  /* the catalog is unchanged */
  CHECK(orc_cost_standard(C, NULL, 10, 0, &usd, &err) == ORC_OK);
  CHECK(usd == 0.00025);
  {
    orc_cost_catalog *E = orc_cost_catalog_new();
    CHECK(orc_cost_standard(E, NULL, 1, 0, &usd, &err) == ORC_EINVAL);
    CHECK(strstr(err.message, "no Step Functions Standard price") != NULL);
    orc_cost_catalog_free(E);
  }
}

static void test_summary(void) {
  double v[] = {5, 1, 4, 2, 3};
  orc_cost_summary s;
  CHECK(orc_cost_summarize(v, 5, &s, NULL) == ORC_OK);
  CHECK(s.mean == 3 && s.p50 == 3 && s.p95 == 5 && s.min == 1);
  CHECK(v[0] == 5); /* the input is not sorted in place */
}

int main(void) {
  orc_cost_catalog *C = load();
  test_vectors(C);
  test_meter(C);
  test_errors(C);
  test_summary();
  orc_cost_catalog_free(C);
  orc_cost_catalog_free(NULL);
  orc_meter_free(NULL);
  printf("test_cost: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
