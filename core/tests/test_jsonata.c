/*
** C-level tests of the JSONata engine's internals: compile errors with
** codes and positions, evaluation that reads the input in place, the
** depth/step/memory budgets, the AWS extension flag, and reuse of one
** compiled expression.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_int.h"

#include "check.h"

static orc_json *J(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) {
    fprintf(stderr, "bad test JSON: %s\n", err.message);
    exit(2);
  }
  return v;
}

/* Evaluate expr on input (JSON text or NULL) and compare the compact JSON
** text of the result ("undefined" for none) with want. */
static int evals_to(const char *expr, const char *input, int flags,
                    const char *want) {
  orc_jsonata *x = NULL;
  orc_jsonata_error err;
  orc_json *in = input ? J(input) : NULL, *out = NULL;
  int ok = 0;
  if (orc_jsonata_compile(expr, strlen(expr), flags, &x, &err) == ORC_OK &&
      orc_jsonata_eval(x, in, NULL, NULL, &out, &err) == ORC_OK) {
    char *text = out ? orc_json_print(out, 0, NULL) : NULL;
    ok = !strcmp(text ? text : "undefined", want);
    if (!ok) fprintf(stderr, "%s => %s (want %s)\n", expr, text, want);
    orc_free(text);
  } else {
    fprintf(stderr, "%s => error %s: %s\n", expr, err.code, err.message);
  }
  orc_json_unref(out);
  orc_json_unref(in);
  orc_jsonata_free(x);
  return ok;
}

static int fails_with(const char *expr, const char *input,
                      const orc_jsonata_limits *lim, const char *code,
                      orc_jsonata_error *err) {
  orc_jsonata *x = NULL;
  orc_json *in = input ? J(input) : NULL, *out = NULL;
  int rc = orc_jsonata_compile(expr, strlen(expr), 0, &x, err);
  if (rc == ORC_OK) rc = orc_jsonata_eval(x, in, NULL, lim, &out, err);
  int ok = rc != ORC_OK && !strcmp(err->code, code) && out == NULL;
  if (!ok)
    fprintf(stderr, "%s => rc %d code %s (want %s)\n", expr, rc, err->code,
            code);
  orc_json_unref(out);
  orc_json_unref(in);
  orc_jsonata_free(x);
  return ok;
}

static void test_compile_errors(void) {
  orc_jsonata_error err;
  CHECK(fails_with("Account.", NULL, NULL, "S0207", &err));
  CHECK(fails_with("\"abc", NULL, NULL, "S0101", &err));
  CHECK(fails_with("[1,2", NULL, NULL, "S0203", &err));
  CHECK(fails_with("1 + ]", NULL, NULL, "S0211", &err));
  CHECK(!strcmp(err.token, "]"));
  CHECK(err.position == 5);
  CHECK(strstr(err.message, "cannot be used as a unary operator") != NULL);
  /* positions count characters, not bytes */
  CHECK(fails_with("\"\xC3\xA9\" + 1", NULL, NULL, "T2001", &err));
  CHECK(err.position == 5);
  CHECK(fails_with("/[a-/", NULL, NULL, "S0302", &err));
  CHECK(fails_with("/a**/", NULL, NULL, "S0303", &err));
  CHECK(fails_with("function($x, y){1}", NULL, NULL, "S0208", &err));
  CHECK(err.status == ORC_EINVAL);
}

static void test_paths_read_in_place(void) {
  orc_json *in = J("{\"a\":{\"b\":[1,2,{\"c\":true}]}}");
  orc_jsonata *x = NULL;
  orc_jsonata_error err;
  orc_json *out = NULL;
  CHECK(orc_jsonata_compile("a.b", 3, 0, &x, &err) == ORC_OK);
  CHECK(orc_jsonata_eval(x, in, NULL, NULL, &out, &err) == ORC_OK);
  /* the result is the input's own array, shared, not a copy */
  CHECK(out == orc_json_object_find(orc_json_object_find(in, "a", 1), "b", 1));
  orc_json_unref(out);
  /* the same compiled expression evaluates again on other input */
  orc_json *in2 = J("{\"a\":{\"b\":\"x\"}}");
  CHECK(orc_jsonata_eval(x, in2, NULL, NULL, &out, &err) == ORC_OK);
  CHECK(out && orc_json_type_of(out) == ORC_JSON_STRING);
  orc_json_unref(out);
  orc_json_unref(in2);
  orc_jsonata_free(x);
  orc_json_unref(in);
}

static void test_values(void) {
  const char *doc = "{\"items\":[{\"n\":\"a\",\"p\":2},{\"n\":\"b\",\"p\":5},"
                    "{\"n\":\"c\",\"p\":1}]}";
  CHECK(evals_to("$sum(items.p)", doc, 0, "8"));
  CHECK(evals_to("items^(p).n", doc, 0, "[\"c\",\"a\",\"b\"]"));
  CHECK(evals_to("items[p>1]{n: p}", doc, 0, "{\"a\":2,\"b\":5}"));
  CHECK(evals_to("items#$i[$i>0].n", doc, 0, "[\"b\",\"c\"]"));
  CHECK(evals_to("$map([1,2,3], function($v){$v*$v})", NULL, 0, "[1,4,9]"));
  CHECK(evals_to("1/4", NULL, 0, "0.25"));
  CHECK(evals_to("nothing", doc, 0, "undefined"));
  CHECK(evals_to("$replace(\"a-b-c\", /-(\\w)/, \"<$1>\")", NULL, 0,
                 "\"a<b><c>\""));
  CHECK(evals_to("$fromMillis(0)", NULL, 0, "\"1970-01-01T00:00:00.000Z\""));
  /* tail calls run in constant depth */
  CHECK(evals_to("($f := function($n, $a){$n = 0 ? $a : $f($n - 1, $a + 1)};"
                 " $f(5000, 0))",
                 NULL, 0, "5000"));
}

static void test_budgets(void) {
  orc_jsonata_error err;
  orc_jsonata_limits lim;
  memset(&lim, 0, sizeof lim);
  lim.max_depth = 50;
  CHECK(fails_with("($f := function($n){$n + $f($n)}; $f(1))", NULL, &lim,
                   "D1011", &err));
  memset(&lim, 0, sizeof lim);
  lim.max_steps = 100000;
  CHECK(
      fails_with("($f := function(){$f()}; $f())", NULL, &lim, "D1012", &err));
  memset(&lim, 0, sizeof lim);
  lim.timeout_ms = 50;
  CHECK(
      fails_with("($f := function(){$f()}; $f())", NULL, &lim, "D1012", &err));
  memset(&lim, 0, sizeof lim);
  lim.max_memory = 1 << 20;
  CHECK(fails_with("[1..1000000]", NULL, &lim, "U1001", &err));
  CHECK(err.status == ORC_ENOMEM);
  CHECK(fails_with("$error(\"boom\")", NULL, NULL, "D3137", &err));
  CHECK(!strcmp(err.message, "boom"));
  CHECK(fails_with("1 + \"a\"", NULL, NULL, "T2002", &err));
  CHECK(!strcmp(err.token, "+"));
}

static void test_aws_functions(void) {
  orc_jsonata_error err;
  /* without the flag the AWS functions do not exist */
  CHECK(fails_with("$uuid()", NULL, NULL, "T1006", &err));
  CHECK(evals_to("$partition([1,2,3,4,5], 2)", NULL, ORC_JSONATA_AWS,
                 "[[1,2],[3,4],[5]]"));
  CHECK(evals_to("$range(0, 10, 5)", NULL, ORC_JSONATA_AWS, "[0,5,10]"));
  CHECK(evals_to("$range(1, 1)", NULL, ORC_JSONATA_AWS, "1"));
  CHECK(evals_to("$hash(\"abc\", \"SHA-256\")", NULL, ORC_JSONATA_AWS,
                 "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2"
                 "0015ad\""));
  CHECK(evals_to("$parse('{\"a\":[1,{\"b\":null}]}').a[1]", NULL,
                 ORC_JSONATA_AWS, "{\"b\":null}"));
  CHECK(evals_to("$length($uuid())", NULL, ORC_JSONATA_AWS, "36"));
  CHECK(evals_to("$random(7) = $random(7)", NULL, ORC_JSONATA_AWS, "true"));
  /* Step Functions leaves $eval out */
  CHECK(evals_to("$eval('1+1')", NULL, 0, "2"));
  CHECK(!evals_to("$eval('1+1')", NULL, ORC_JSONATA_AWS, "2"));
}

int main(void) {
  test_compile_errors();
  test_paths_read_in_place();
  test_values();
  test_budgets();
  test_aws_functions();
  printf("test_jsonata: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
