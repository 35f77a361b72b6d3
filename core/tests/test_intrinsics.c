/*
** C-level tests of the intrinsic functions: the grammar, compile errors,
** each function against what AWS Step Functions recorded, run-time errors
** and their causes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intrinsics_int.h"

#include "check.h"

/* The context object the tests evaluate "$$" paths against. */
static const char *const context_text =
    "{\"Execution\":{\"Id\":\"arn:aws:states:us-east-1:1:execution:"
    "my-machine:run-7\",\"Name\":\"run-7\",\"Input\":{\"csv\":\"x,y,z\"}},"
    "\"StateMachine\":{\"Id\":\"arn:aws:states:us-east-1:1:stateMachine:"
    "my-machine\",\"Name\":\"my-machine\"}}";

/* Workflow variables for "$name" paths. */
static orc_json *variables;

static orc_json *lookup_variable(void *ud, const char *name, size_t len) {
  (void)ud;
  return orc_json_object_find(variables, name, len);
}

/* A random source counting up from 1, so results are predictable. */
static uint64_t counter;

static uint64_t next_random(void *ud) {
  (void)ud;
  return ++counter;
}

static orc_json *parse(const char *text) {
  orc_json *v = NULL;
  if (orc_json_parse(text, strlen(text), NULL, &v, NULL) != ORC_OK) {
    fprintf(stderr, "test JSON does not parse: %s\n", text);
    exit(2);
  }
  return v;
}

typedef struct result {
  int rc;         /* compile failure: 1 */
  char *json;     /* the value as compact JSON (ORC_OK) */
  char error[64]; /* or the error name and cause */
  char cause[1024];
  char msg[256]; /* the compile message */
} result;

/* Compile expr and evaluate it against input (JSON text). */
static result run(const char *expr, const char *input, int with_random) {
  result r;
  orci_env env;
  orci_intrinsic *f;
  orc_json *out = NULL;
  memset(&r, 0, sizeof r);
  f = orci_intrinsic_compile(expr, strlen(expr), r.msg, sizeof r.msg);
  if (f == NULL) {
    r.rc = 1;
    return r;
  }
  memset(&env, 0, sizeof env);
  env.input = parse(input);
  env.context = parse(context_text);
  env.variable = lookup_variable;
  if (with_random) env.random = next_random;
  r.rc = orci_intrinsic_eval(f, &env, &out, r.error, sizeof r.error, r.cause,
                             sizeof r.cause);
  if (r.rc == ORC_OK) {
    r.json = orc_json_print(out, 0, NULL);
    orc_json_unref(out);
  }
  orc_json_unref(env.input);
  orc_json_unref(env.context);
  orci_intrinsic_free(f);
  return r;
}

static void check_ok(const char *expr, const char *input, const char *want) {
  result r = run(expr, input, 1);
  nchecks++;
  if (r.rc != ORC_OK || strcmp(r.json, want) != 0) {
    nfailed++;
    fprintf(stderr, "%s on %s:\n  got  %s%s%s%s\n  want %s\n", expr, input,
            r.json      ? r.json
            : r.rc == 1 ? r.msg
                        : r.error,
            r.json ? "" : " / ", r.json || r.rc == 1 ? "" : r.cause, "", want);
  }
  orc_free(r.json);
}

/* A run-time failure: States.Runtime and a cause holding fragment. */
static void check_fail(const char *expr, const char *input,
                       const char *fragment) {
  result r = run(expr, input, 1);
  nchecks++;
  if (r.rc != ORC_EINVAL || strcmp(r.error, "States.Runtime") != 0 ||
      strstr(r.cause, fragment) == NULL) {
    nfailed++;
    fprintf(stderr, "%s on %s:\n  got  rc %d %s %s %s\n  want cause with %s\n",
            expr, input, r.rc, r.json ? r.json : "", r.error,
            r.rc == 1 ? r.msg : r.cause, fragment);
  }
  orc_free(r.json);
}

static void check_invalid(const char *expr, const char *input,
                          const char *fname) {
  char want[128];
  snprintf(want, sizeof want,
           "had the following error: Invalid arguments in %s", fname);
  check_fail(expr, input, want);
}

static void check_compile_error(const char *expr, const char *fragment) {
  char msg[256];
  orci_intrinsic *f =
      orci_intrinsic_compile(expr, strlen(expr), msg, sizeof msg);
  nchecks++;
  if (f != NULL || strstr(msg, fragment) == NULL) {
    nfailed++;
    fprintf(stderr, "compile %s:\n  got  %s\n  want %s\n", expr,
            f ? "success" : msg, fragment);
  }
  orci_intrinsic_free(f);
}

static void test_is_call(void) {
  static const char *const yes[] = {"States.Format('x')", "  States.UUID()",
                                    "States.Foo (", "\nStates.Array(1)"};
  static const char *const no[] = {
      "$.a",      "$$.Execution.Id", "States.",          "States.Format",
      "States.(", "$States.X(",      "Statesx.Format()", ""};
  size_t i;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    CHECK(orci_intrinsic_is_call(yes[i], strlen(yes[i])) == 1);
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    CHECK(orci_intrinsic_is_call(no[i], strlen(no[i])) == 0);
  /* the length is respected, not a NUL */
  CHECK(orci_intrinsic_is_call("States.UUID()", 11) == 0);
}

static void test_grammar(void) {
  check_ok("States.Array()", "{}", "[]");
  check_ok("  States.Array( )  ", "{}", "[]");
  check_ok("States.Array(1, -2, 0, 1.5, -0.25, 1e3, 2E-2, true, false, null)",
           "{}", "[1,-2,0,1.5,-0.25,1000.0,0.02,true,false,null]");
  check_ok("States.Array(9223372036854775807, 9223372036854775808)", "{}",
           "[9223372036854775807,9.223372036854776e+18]");
  check_ok("States.Array('a', '', 'it\\'s', '\\{\\}', 'back\\\\slash')", "{}",
           "[\"a\",\"\",\"it's\",\"{}\",\"back\\\\slash\"]");
  check_ok("States.Array('with, comma', 'par(en)s', '\"q\"')", "{}",
           "[\"with, comma\",\"par(en)s\",\"\\\"q\\\"\"]");
  check_ok("States.Array('Hello\nWorld', 'é😀')", "{}",
           "[\"Hello\\nWorld\",\"é😀\"]");
  check_ok("States.Array($.a,$.b , $.c)", "{\"a\":1,\"b\":[2],\"c\":{\"d\":3}}",
           "[1,[2],{\"d\":3}]");
  check_ok("States.Array($, $$.Execution.Name, $greeting)", "{\"x\":1}",
           "[{\"x\":1},\"run-7\",\"hi\"]");
  check_ok("States.Array(States.Array(1, States.Array(2)), 3)", "{}",
           "[[1,[2]],3]");
  /* an indefinite path gives an array, possibly empty */
  check_ok("States.ArrayLength($.items[*].nope)", "{\"items\":[1,2]}", "0");
  check_ok("States.Array($.items[*].a)",
           "{\"items\":[{\"a\":1},{\"b\":2},{\"a\":3}]}", "[[1,3]]");
}

static void test_compile_errors(void) {
  check_compile_error("States.Foo(1)",
                      "unknown intrinsic function 'States.Foo' at offset 0");
  check_compile_error("States.Array(States.Nope())",
                      "unknown intrinsic function 'States.Nope' at offset 13");
  check_compile_error("States.Format('abc", "States.Format: unterminated");
  check_compile_error("States.Format('a\\\"b')",
                      "States.Format: invalid escape '\\\"' in a string "
                      "literal at offset 16");
  check_compile_error("States.Format('a\\nb')", "invalid escape '\\n'");
  check_compile_error("States.Array(1", "States.Array: missing ')'");
  check_compile_error("States.Array(1 2)", "expected ',' or ')' at offset 15");
  check_compile_error("States.Array(1,)", "States.Array: unexpected char");
  check_compile_error("States.Array(,)", "unexpected character ','");
  check_compile_error("States.Array(1.)", "malformed number at offset 13");
  check_compile_error("States.Array(.5)", "unexpected character '.'");
  check_compile_error("States.Array(01)", "expected ',' or ')'");
  check_compile_error("States.Array(1e400)", "number out of range");
  check_compile_error("States.Array(True)", "unexpected 'True'");
  check_compile_error("States.Array(1) x", "unexpected text after the call");
  check_compile_error("States.Array", "expected '(' after the function name");
  check_compile_error("States.UUID)", "expected '('");
  check_compile_error("States.Array(\"a\")", "unexpected character '\"'");
  check_compile_error("States.Array($.a.)", "States.Array: invalid path");
  check_compile_error("$.a", "expected an intrinsic function call");
  check_compile_error("States.Array(States.Array(1)", "missing ')'");
  /* nesting deeper than the compiler's limit */
  {
    char deep[2048];
    size_t i, k = 0;
    for (i = 0; i < 70; i++)
      k += (size_t)sprintf(deep + k, "States.Array(");
    deep[k++] = '1';
    for (i = 0; i < 70; i++)
      deep[k++] = ')';
    deep[k] = '\0';
    check_compile_error(deep, "nested deeper than");
  }
}

static void test_format(void) {
  /* recorded on AWS */
  static const char *const inputs[][2] = {
      {"\"\"", "Formatting argument ."},
      {"\" \"", "Formatting argument  ."},
      {"\"HelloWorld\"", "Formatting argument HelloWorld."},
      {"null", "Formatting argument null."},
      {"1", "Formatting argument 1."},
      {"1.1", "Formatting argument 1.1."},
      {"\"{\\\"Arg1\\\": 1, \\\"Arg2\\\": []}\"",
       "Formatting argument {\\\"Arg1\\\": 1, \\\"Arg2\\\": []}."}};
  size_t i;
  for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char input[128], want[128];
    snprintf(input, sizeof input, "{\"FunctionInput\":%s}", inputs[i][0]);
    snprintf(want, sizeof want, "\"%s\"", inputs[i][1]);
    check_ok("States.Format('Formatting argument {}.', $.FunctionInput)", input,
             want);
  }
  check_ok("States.Format('fst={} and snd={}.', $.fst, $.snd)",
           "{\"fst\":{\"Arg1\":1,\"Arg2\":[]},\"snd\":[null,true,\"x\",1.5]}",
           "\"fst={Arg1=1, Arg2=[]} and snd=[null, true, x, 1.5].\"");
  check_ok("States.Format('fst={} and snd={}.', $$.Execution.Name, "
           "$$.StateMachine)",
           "{}",
           "\"fst=run-7 and snd={Id=arn:aws:states:us-east-1:1:stateMachine:"
           "my-machine, Name=my-machine}.\"");
  /* escapes in the template */
  check_ok("States.Format('\\{\\} {} \\\\ \\'q\\'', 1)", "{}",
           "\"{} 1 \\\\ 'q'\"");
  check_ok("States.Format('no placeholders')", "{}", "\"no placeholders\"");
  check_ok("States.Format('{}{}', 'a', 'b')", "{}", "\"ab\"");
  /* Java's rendering of floats */
  check_ok("States.Format('{} {} {} {} {} {}', 1e20, 100.0, 0.001, 0.0001, "
           "-2.5e-7, 12345678.9)",
           "{}", "\"1.0E20 100.0 0.001 1.0E-4 -2.5E-7 1.23456789E7\"");
  check_ok("States.Format('{}', $.z)", "{\"z\":-0.0}", "\"-0.0\"");
  check_ok("States.Format('{} {}', true, 9007199254740993)", "{}",
           "\"true 9007199254740993\"");
  /* a template from the input, escapes included */
  check_ok("States.Format($.tpl, 1)", "{\"tpl\":\"n={}\"}", "\"n=1\"");
  check_ok("States.Format($.tpl, 1)", "{\"tpl\":\"a\\\\{\\\\}b\\\\c{}\"}",
           "\"a{}b\\\\c1\"");
  counter = 0;
  check_ok("States.Format('{}', States.UUID())", "{}",
           "\"00000000-0000-4001-8000-000000000002\"");
  check_fail("States.Format('{} {}', 1)", "{}",
             "had the following error: Invalid arguments in States.Format: "
             "number of arguments do not match the occurrences of {}.");
  check_fail("States.Format('{}', 1, 2)", "{}", "number of arguments");
  check_fail("States.Format('Hello {', 1)", "{}",
             "Invalid template in States.Format: matching '}' not found for "
             "'{'.");
  check_fail("States.Format('Hello {{}}', 1)", "{}", "Invalid template");
  check_fail("States.Format('}')", "{}", "Invalid template");
  check_fail("States.Format($.tpl, 1)", "{\"tpl\":\"x{\"}", "Invalid template");
  check_invalid("States.Format($.tpl, 1)", "{\"tpl\":123}", "States.Format");
  check_invalid("States.Format(1)", "{}", "States.Format");
  check_invalid("States.Format()", "{}", "States.Format");
}

static void test_json_functions(void) {
  static const char *const parsed[][2] = {
      {"\"\"", "null"},
      {"\" \"", "null"},
      {"\"\\t\\n \"", "null"},
      {"\"null\"", "null"},
      {"\"-0\"", "0"},
      {"\"1\"", "1"},
      {"\"1.1\"", "1.1"},
      {"\"true\"", "true"},
      {"\"\\\"HelloWorld\\\"\"", "\"HelloWorld\""},
      {"\"[1, 2, \\\"HelloWorld\\\"]\"", "[1,2,\"HelloWorld\"]"},
      {"\"{\\\"Arg1\\\": 1, \\\"Arg2\\\": []}\"", "{\"Arg1\":1,\"Arg2\":[]}"},
      {"\" {\\\"a\\\":1} \"", "{\"a\":1}"}};
  static const char *const printed[][2] = {
      {"null", "\"null\""},
      {"0", "\"0\""},
      {"1.1", "\"1.1\""},
      {"true", "\"true\""},
      {"\"HelloWorld\"", "\"\\\"HelloWorld\\\"\""},
      {"[1, 2, \"HelloWorld\"]", "\"[1,2,\\\"HelloWorld\\\"]\""},
      {"{\"Arg1\": 1, \"Arg2\": []}", "\"{\\\"Arg1\\\":1,\\\"Arg2\\\":[]}\""}};
  size_t i;
  char input[128];
  for (i = 0; i < sizeof parsed / sizeof parsed[0]; i++) {
    snprintf(input, sizeof input, "{\"s\":%s}", parsed[i][0]);
    check_ok("States.StringToJson($.s)", input, parsed[i][1]);
  }
  for (i = 0; i < sizeof printed / sizeof printed[0]; i++) {
    snprintf(input, sizeof input, "{\"v\":%s}", printed[i][0]);
    check_ok("States.JsonToString($.v)", input, printed[i][1]);
  }
  check_ok("States.JsonToString('x')", "{}", "\"\\\"x\\\"\"");
  check_ok("States.StringToJson(States.JsonToString($))", "{\"a\":[1,{}]}",
           "{\"a\":[1,{}]}");
  check_invalid("States.StringToJson($.s)", "{\"s\":\"{bad json}\"}",
                "States.StringToJson");
  check_invalid("States.StringToJson($.s)", "{\"s\":\"{\\\"a\\\":1\"}",
                "States.StringToJson");
  check_invalid("States.StringToJson($.s)", "{\"s\":\"undefined\"}",
                "States.StringToJson");
  check_invalid("States.StringToJson($.s)", "{\"s\":123}",
                "States.StringToJson");
  check_invalid("States.StringToJson()", "{}", "States.StringToJson");
  check_invalid("States.JsonToString($.a, $.a)", "{\"a\":1}",
                "States.JsonToString");

  /* JsonMerge: shallow, the second object winning, in java.util.HashMap's
  ** order (both results recorded on AWS) */
  check_ok("States.JsonMerge($.fst, $.snd, false)",
           "{\"fst\":{\"a\":{\"a1\":1,\"a2\":2},\"b\":2,\"d\":3},"
           "\"snd\":{\"a\":{\"a3\":1,\"a4\":2},\"c\":3,\"d\":4}}",
           "{\"a\":{\"a3\":1,\"a4\":2},\"b\":2,\"c\":3,\"d\":4}");
  check_ok("States.JsonMerge(States.StringToJson('\\{\"constant_in_literal\": "
           "\"false\"\\}'), $$.Execution.Input, false)",
           "{}", "{\"constant_in_literal\":\"false\",\"csv\":\"x,y,z\"}");
  check_ok("States.JsonMerge($.a, $.b, false)",
           "{\"a\":{\"constant_in_literal\":\"false\"},"
           "\"b\":{\"constant_input_field\":\"constant_value\"}}",
           "{\"constant_input_field\":\"constant_value\","
           "\"constant_in_literal\":\"false\"}");
  check_ok("States.JsonMerge($.a, $.b, false)", "{\"a\":{},\"b\":{}}", "{}");
  check_ok("States.JsonMerge($.a, $.b, false)", "{\"a\":{},\"b\":{\"x\":1}}",
           "{\"x\":1}");
  check_ok("States.JsonMerge($.a, $.b, 'false')",
           "{\"a\":{\"y\":1},\"b\":{\"x\":null}}", "{\"x\":null,\"y\":1}");
  /* 13 keys: the table grows past 16 buckets */
  check_ok("States.JsonMerge($.a, $.b, false)",
           "{\"a\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
           "\"k7\":7},\"b\":{\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,"
           "\"k12\":12,\"k13\":13}}",
           "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k11\":11,"
           "\"k6\":6,\"k10\":10,\"k7\":7,\"k13\":13,\"k8\":8,\"k12\":12,"
           "\"k9\":9}");
  check_invalid("States.JsonMerge($.a, $.b, true)", "{\"a\":{},\"b\":{}}",
                "States.JsonMerge");
  check_invalid("States.JsonMerge($.a, $.b, false)", "{\"a\":null,\"b\":{}}",
                "States.JsonMerge");
  check_invalid("States.JsonMerge($.a, $.b, false)", "{\"a\":{},\"b\":[]}",
                "States.JsonMerge");
  check_invalid("States.JsonMerge($.a, $.b)", "{\"a\":{},\"b\":{}}",
                "States.JsonMerge");
}

static void test_arrays(void) {
  char input[128], want[128];
  int n, size;
  /* ArrayPartition over [] .. [0,1,2,3] and sizes 1..5, recorded on AWS */
  static const char *const partitions[5][5] = {
      {"[]", "[]", "[]", "[]", "[]"},
      {"[[0]]", "[[0]]", "[[0]]", "[[0]]", "[[0]]"},
      {"[[0],[1]]", "[[0,1]]", "[[0,1]]", "[[0,1]]", "[[0,1]]"},
      {"[[0],[1],[2]]", "[[0,1],[2]]", "[[0,1,2]]", "[[0,1,2]]", "[[0,1,2]]"},
      {"[[0],[1],[2],[3]]", "[[0,1],[2,3]]", "[[0,1,2],[3]]", "[[0,1,2,3]]",
       "[[0,1,2,3]]"}};
  static const char *const arrays[] = {"[]", "[0]", "[0,1]", "[0,1,2]",
                                       "[0,1,2,3]"};
  for (n = 0; n < 5; n++) {
    for (size = 1; size <= 5; size++) {
      snprintf(input, sizeof input, "{\"fst\":%s,\"snd\":%d}", arrays[n], size);
      check_ok("States.ArrayPartition($.fst, $.snd)", input,
               partitions[n][size - 1]);
    }
  }
  check_ok("States.ArrayPartition($.a, 2.6)", "{\"a\":[1,2,3,4,5]}",
           "[[1,2],[3,4],[5]]");
  check_ok("States.ArrayPartition(States.Array(1,2,3), 2147483647)", "{}",
           "[[1,2,3]]");
  check_invalid("States.ArrayPartition($.a, 0.6)", "{\"a\":[1]}",
                "States.ArrayPartition");
  check_invalid("States.ArrayPartition($.a, -1)", "{\"a\":[1]}",
                "States.ArrayPartition");
  check_invalid("States.ArrayPartition($.a, '2')", "{\"a\":[1]}",
                "States.ArrayPartition");
  check_invalid("States.ArrayPartition('x', 2)", "{}", "States.ArrayPartition");

  /* ArrayContains: recorded on AWS, plus the Java-rendering comparison */
  check_ok("States.ArrayContains($.a, $.v)", "{\"a\":[],\"v\":null}", "false");
  check_ok("States.ArrayContains($.a, $.v)", "{\"a\":[],\"v\":[]}", "false");
  check_ok("States.ArrayContains($.a, $.v)", "{\"a\":[[1,2,3],2],\"v\":null}",
           "false");
  check_ok("States.ArrayContains($.a, $.v)",
           "{\"a\":[[1,2,3],2],\"v\":[1,2,3]}", "true");
  check_ok("States.ArrayContains($.a, $.v)",
           "{\"a\":[{\"1\":2,\"2\":[]}],\"v\":[]}", "false");
  check_ok("States.ArrayContains($.a, $.v)",
           "{\"a\":[{\"1\":2,\"2\":[]}],\"v\":{\"1\":2,\"2\":[]}}", "true");
  check_ok("States.ArrayContains($.a, true)", "{\"a\":[true,false]}", "true");
  check_ok("States.ArrayContains($.a, false)", "{\"a\":[true,false]}", "true");
  check_ok("States.ArrayContains($.a, true)", "{\"a\":[\"true\"]}", "true");
  check_ok("States.ArrayContains($.a, false)", "{\"a\":[0,1,-1]}", "false");
  check_ok("States.ArrayContains($.a, 9007199254740991)",
           "{\"a\":[\"9007199254740991\"]}", "true");
  check_ok("States.ArrayContains($.a, $.v)",
           "{\"a\":[{\"a\":1,\"b\":2}],\"v\":{\"b\":2,\"a\":1}}", "false");
  check_ok("States.ArrayContains(States.Array(1, 2, 3), 2)", "{}", "true");
  check_invalid("States.ArrayContains('x', 'x')", "{}", "States.ArrayContains");
  check_invalid("States.ArrayContains($.a)", "{\"a\":[]}",
                "States.ArrayContains");

  /* ArrayRange: both ends included, recorded on AWS */
  check_ok("States.ArrayRange(0, 9, 3)", "{}", "[0,3,6,9]");
  check_ok("States.ArrayRange(0, 10, 3)", "{}", "[0,3,6,9]");
  check_ok("States.ArrayRange(1, 9, 9)", "{}", "[1]");
  check_ok("States.ArrayRange(1, 9, 2)", "{}", "[1,3,5,7,9]");
  check_ok("States.ArrayRange(-2, 2, 2)", "{}", "[-2,0,2]");
  check_ok("States.ArrayRange(3, 3, -1)", "{}", "[3]");
  check_ok("States.ArrayRange(5, 1, -2)", "{}", "[5,3,1]");
  check_ok("States.ArrayRange(5, 1, 1)", "{}", "[]");
  check_ok("States.ArrayRange(1, 5, -1)", "{}", "[]");
  check_ok("States.ArrayRange(1.4, 5.6, 2.2)", "{}", "[1,3,5]");
  check_ok("States.ArrayRange(1.6, 1.4, 1)", "{}", "[1]");
  check_ok("States.ArrayRange(5.4, -0.6, -2.4)", "{}", "[5,3,1]");
  check_ok("States.ArrayLength(States.ArrayRange(1, 1000, 1))", "{}", "1000");
  check_ok("States.ArrayLength(States.ArrayRange(1000, 1, -1))", "{}", "1000");
  check_invalid("States.ArrayRange(1, 1001, 1)", "{}", "States.ArrayRange");
  check_invalid("States.ArrayRange(1001, 1, -1)", "{}", "States.ArrayRange");
  check_invalid("States.ArrayRange(1, 10, 0)", "{}", "States.ArrayRange");
  check_invalid("States.ArrayRange(1, 10, 0.49)", "{}", "States.ArrayRange");
  check_invalid("States.ArrayRange('a', 5, 1)", "{}", "States.ArrayRange");
  check_invalid("States.ArrayRange(1, 5)", "{}", "States.ArrayRange");

  /* ArrayGetItem */
  check_ok("States.ArrayGetItem($.fst, $.snd)",
           "{\"fst\":[1,2,3,4,5,6,7,8,9],\"snd\":5}", "6");
  check_ok("States.ArrayGetItem($.a, 1.2)", "{\"a\":[10,20,30]}", "20");
  check_ok("States.ArrayGetItem($.a, 999)", "{\"a\":[]}", "null");
  check_ok("States.ArrayGetItem(States.Array('x', 'y', 'z'), 1)", "{}",
           "\"y\"");
  check_invalid("States.ArrayGetItem($.a, 3)", "{\"a\":[10,20,30]}",
                "States.ArrayGetItem");
  check_invalid("States.ArrayGetItem($.a, -1)", "{\"a\":[10,20,30]}",
                "States.ArrayGetItem");
  check_invalid("States.ArrayGetItem($.a, '1')", "{\"a\":[10,20,30]}",
                "States.ArrayGetItem");
  check_invalid("States.ArrayGetItem('x', 0)", "{}", "States.ArrayGetItem");

  /* ArrayLength */
  check_ok("States.ArrayLength($.FunctionInput)",
           "{\"FunctionInput\":[1,2,3,4,5,6,7,8,9]}", "9");
  check_ok("States.ArrayLength(States.Array())", "{}", "0");
  check_invalid("States.ArrayLength($.o)", "{\"o\":{\"k\":1}}",
                "States.ArrayLength");

  /* ArrayUnique in java.util.HashSet order */
  check_ok("States.ArrayUnique($.a)", "{\"a\":[1,2,3,3,3,3,3,3,4]}",
           "[1,2,3,4]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[\"a\",\"b\",\"a\",\"c\",\"b\"]}",
           "[\"a\",\"b\",\"c\"]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[true,false,true,false]}",
           "[false,true]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[[1,2],[1,2],[2,1]]}",
           "[[2,1],[1,2]]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[null,null,1,null]}", "[null,1]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[1,\"1\",1,\"01\"]}",
           "[1,\"1\",\"01\"]");
  check_ok("States.ArrayUnique($.a)",
           "{\"a\":[{\"a\":1,\"b\":2},"
           "{\"b\":2,\"a\":1},{\"a\":1,\"b\":1}]}",
           "[{\"a\":1,\"b\":2},{\"a\":1,\"b\":1}]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[1,1.0,1]}", "[1.0,1]");
  check_ok("States.ArrayUnique($.a)", "{\"a\":[]}", "[]");
  check_invalid("States.ArrayUnique('x')", "{}", "States.ArrayUnique");
  /* 20 items: 32 buckets */
  check_ok("States.ArrayUnique($.a)",
           "{\"a\":[31,15,16,0,47,32,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}",
           "[0,32,1,15,47,16,31]");

  /* Array */
  check_ok("States.Array($.fst, $.snd)",
           "{\"fst\":{\"Arg1\":1,\"Arg2\":[]},\"snd\":null}",
           "[{\"Arg1\":1,\"Arg2\":[]},null]");
  snprintf(want, sizeof want, "%s", "[1,2,3,4,5,6,7,8,9,10]");
  check_ok("States.Array(1,2,3,4,5,6,7,8,9,10)", "{}", want);
}

static void test_encoding(void) {
  char input[20100];
  size_t i;
  check_ok("States.Base64Encode($.s)", "{\"s\":\"Data to encode\"}",
           "\"RGF0YSB0byBlbmNvZGU=\"");
  check_ok("States.Base64Encode('')", "{}", "\"\"");
  check_ok("States.Base64Encode($.s)", "{\"s\":\"✓\"}", "\"4pyT\"");
  check_ok("States.Base64Encode('🚀')", "{}", "\"8J+agA==\"");
  /* input JSON cannot hold U+0000: a decoded string can */
  check_ok("States.Base64Encode(States.Base64Decode('YWJjAGRlZg=='))", "{}",
           "\"YWJjAGRlZg==\"");
  check_ok("States.Base64Decode($.s)", "{\"s\":\"RGF0YSB0byBlbmNvZGU=\"}",
           "\"Data to encode\"");
  check_ok("States.Base64Decode('')", "{}", "\"\"");
  check_ok("States.Base64Decode('4pyT')", "{}", "\"✓\"");
  check_ok("States.Base64Decode('YWJjAGRlZg==')", "{}", "\"abc\\u0000def\"");
  check_ok("States.Base64Decode(States.Base64Encode('🚀 x'))", "{}", "\"🚀 x\"");
  /* lenient, as AWS decodes */
  check_ok("States.Base64Decode(' YWJjZA== ')", "{}", "\"abcd\"");
  check_ok("States.Base64Decode('YWJjZA')", "{}", "\"abcd\"");
  check_ok("States.Base64Decode('ab==cd')", "{}", "\"i\"");
  check_ok("States.Base64Decode('abc')", "{}", "\"i\xEF\xBF\xBD\"");
  check_ok("States.Base64Decode('!!!invalid!!!')", "{}",
           "\"\xEF\xBF\xBD{\xDA\x96'\"");
  check_ok("States.Base64Decode('-_8')", "{}", "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  check_ok("States.Base64Decode('YQ')", "{}", "\"a\"");
  check_ok("States.Base64Decode('Y')", "{}", "\"\"");
  check_invalid("States.Base64Encode(123)", "{}", "States.Base64Encode");
  check_invalid("States.Base64Encode($.a)", "{\"a\":[\"x\"]}",
                "States.Base64Encode");
  check_invalid("States.Base64Encode('a', 'b')", "{}", "States.Base64Encode");
  check_invalid("States.Base64Decode(123)", "{}", "States.Base64Decode");
  /* the 10000-character limit */
  strcpy(input, "{\"s\":\"");
  for (i = 0; i < 10000; i++)
    input[6 + i] = 'a';
  strcpy(input + 6 + 10000, "\"}");
  {
    result r = run("States.Base64Encode($.s)", input, 0);
    CHECK(r.rc == ORC_OK);
    orc_free(r.json);
    r = run("States.Hash($.s, 'SHA-256')", input, 0);
    CHECK(r.rc == ORC_OK);
    orc_free(r.json);
  }
  strcpy(input + 6 + 10000, "a\"}");
  check_invalid("States.Base64Encode($.s)", input, "States.Base64Encode");
  check_invalid("States.Base64Decode($.s)", input, "States.Base64Decode");
  check_invalid("States.Hash($.s, 'MD5')", input, "States.Hash");
  /* 5000 two-unit characters are 10000 UTF-16 units */
  strcpy(input, "{\"s\":\"");
  for (i = 0; i < 5000; i++)
    memcpy(input + 6 + 4 * i, "\xF0\x9F\x9A\x80", 4);
  strcpy(input + 6 + 20000, "\"}");
  {
    result r = run("States.Base64Encode($.s)", input, 0);
    CHECK(r.rc == ORC_OK);
    orc_free(r.json);
  }
  strcpy(input + 6 + 20000, "x\"}");
  check_invalid("States.Base64Encode($.s)", input, "States.Base64Encode");
}

static void test_hash(void) {
  static const char *const digests[][2] = {
      {"MD5", "812f45842bc6d66ee14572ce20db8e86"},
      {"SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"},
      {"SHA-256",
       "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"},
      {"SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c7"
                  "56511b87525bdc835ebb27e1fb9e9374a15562"},
      {"SHA-512", "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f"
                  "47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f9131"
                  "6d871303aac4"}};
  size_t i;
  for (i = 0; i < sizeof digests / sizeof digests[0]; i++) {
    char input[128], want[160];
    snprintf(input, sizeof input, "{\"fst\":\"input data\",\"snd\":\"%s\"}",
             digests[i][0]);
    snprintf(want, sizeof want, "\"%s\"", digests[i][1]);
    check_ok("States.Hash($.fst, $.snd)", input, want);
  }
  check_ok("States.Hash('', 'SHA-256')", "{}",
           "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
           "\"");
  check_ok("States.Hash('🚀', 'SHA-256')", "{}",
           "\"ebbc0b2870eb323f2b6cffa5c493ceef81ae7eb36afc73d4e0367301631daec5"
           "\"");
  /* AWS hashes a number or an object in its Java rendering */
  check_ok("States.Hash(123, 'SHA-256')", "{}",
           "\"a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"
           "\"");
  check_ok("States.Hash($.o, 'MD5')", "{\"o\":{\"a\":1}}",
           "\"055524e8a3618ce3fa9b3bd7d233be87\"");
  check_invalid("States.Hash('data', 'sha-256')", "{}", "States.Hash");
  check_invalid("States.Hash('data', 'SHA256')", "{}", "States.Hash");
  check_invalid("States.Hash('data', '')", "{}", "States.Hash");
  check_invalid("States.Hash('hello', 123)", "{}", "States.Hash");
  check_invalid("States.Hash(null, 'MD5')", "{}", "States.Hash");
  check_invalid("States.Hash('hello')", "{}", "States.Hash");
}

static void test_math(void) {
  /* MathAdd, every case recorded on AWS: operands round half up */
  static const char *const sums[][3] = {
      {"-9", "3", "-6"},       {"1.49", "1.5", "3"},
      {"1.5", "1.51", "4"},    {"-1.49", "-1.5", "-2"},
      {"-1.5", "-1.51", "-3"}, {"1.49", "0", "1"},
      {"1.49", "-1.49", "0"},  {"1.5", "0", "2"},
      {"1.51", "0", "2"},      {"-1.49", "0", "-1"},
      {"-1.5", "0", "-1"},     {"-1.51", "0", "-2"},
      {"0.5", "0", "1"},       {"2.5", "0", "3"},
      {"3.5", "0", "4"},       {"-0.5", "0.5", "1"},
      {"-0.5", "0", "0"},      {"-2.5", "0", "-2"},
      {"-3.5", "0", "-3"},     {"0.49999999999999994", "0", "0"}};
  size_t i;
  result r;
  for (i = 0; i < sizeof sums / sizeof sums[0]; i++) {
    char input[128];
    snprintf(input, sizeof input, "{\"fst\":%s,\"snd\":%s}", sums[i][0],
             sums[i][1]);
    check_ok("States.MathAdd($.fst, $.snd)", input, sums[i][2]);
  }
  check_ok("States.MathAdd(2147483646, 1)", "{}", "2147483647");
  check_ok("States.MathAdd(-2147483647, -1)", "{}", "-2147483648");
  check_ok("States.MathAdd(States.MathAdd($.x, 1), 2)", "{\"x\":5}", "8");
  check_invalid("States.MathAdd(2147483647, 1)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd(3000000000, 1)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd('1', 2)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd(null, 1)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd(true, 1)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd(1)", "{}", "States.MathAdd");
  check_invalid("States.MathAdd(1, 2, 3)", "{}", "States.MathAdd");

  /* MathRandom: java.util.Random(seed).nextInt(end - start) + start */
  check_ok("States.MathRandom(-5, 5, 42)", "{}", "-5");
  check_ok("States.MathRandom(1, 999, 42)", "{}", "255");
  check_ok("States.MathRandom(1, 10, -10)", "{}", "1");
  check_ok("States.MathRandom(1, 10, 0)", "{}", "7");
  check_ok("States.MathRandom(100, 116, 7)", "{}", "111");
  check_ok("States.MathRandom(100, 116, 7.9)", "{}", "111");
  check_ok("States.Array(States.MathRandom(1, 10, 42), "
           "States.MathRandom(1, 10, 42))",
           "{}", "[9,9]");
  check_ok("States.MathRandom(1.6, 5.4, 3)", "{}", "3");
  for (i = 0; i < 50; i++) {
    long v;
    r = run("States.MathRandom($.fst, $.snd)", "{\"fst\":12.5,\"snd\":44.51}",
            1);
    CHECK(r.rc == ORC_OK && r.json);
    v = r.json ? strtol(r.json, NULL, 10) : -1;
    CHECK(v >= 12 && v < 44);
    orc_free(r.json);
  }
  r = run("States.MathRandom(-99999, -9999)", "{}", 0);
  CHECK(r.rc == ORC_OK && r.json && strtol(r.json, NULL, 10) >= -99999 &&
        strtol(r.json, NULL, 10) < -9999);
  orc_free(r.json);
  check_invalid("States.MathRandom(1, 1)", "{}", "States.MathRandom");
  check_invalid("States.MathRandom(10, 5)", "{}", "States.MathRandom");
  check_invalid("States.MathRandom(1.4, 1.6)", "{}", "States.MathRandom");
  check_invalid("States.MathRandom(1, 10, null)", "{}", "States.MathRandom");
  check_invalid("States.MathRandom(1, 10, 'seed')", "{}", "States.MathRandom");
  check_invalid("States.MathRandom($.a, 10)", "{\"a\":null}",
                "States.MathRandom");
  check_invalid("States.MathRandom(-2147483648, 2147483647)", "{}",
                "States.MathRandom");
  check_invalid("States.MathRandom(1)", "{}", "States.MathRandom");
}

static void test_strings(void) {
  /* recorded on AWS */
  static const char *const splits[][3] = {
      {"\" \"", "\",\"", "[\" \"]"},
      {"\" , \"", "\",\"", "[\" \",\" \"]"},
      {"\", , ,\"", "\",\"", "[\" \",\" \"]"},
      {"\",,,,\"", "\",\"", "[]"},
      {"\"1,2,3,4,5\"", "\",\"", "[\"1\",\"2\",\"3\",\"4\",\"5\"]"},
      {"\"This.is+a,test=string\"", "\".+,=\"",
       "[\"This\",\"is\",\"a\",\"test\",\"string\"]"},
      {"\"split on T and \\nnew line\"", "\"T\\n\"",
       "[\"split on \",\" and \",\"new line\"]"},
      {"\"\"", "\",\"", "[]"},
      {"\"abc\"", "\"\"", "[\"abc\"]"},
      {"\"1a2b3ab4\"", "\"ab\"", "[\"1\",\"2\",\"3\",\"4\"]"},
      {"\"x€y😀z€\"", "\"😀€\"", "[\"x\",\"y\",\"z\"]"}};
  size_t i;
  for (i = 0; i < sizeof splits / sizeof splits[0]; i++) {
    char input[160];
    snprintf(input, sizeof input, "{\"fst\":%s,\"snd\":%s}", splits[i][0],
             splits[i][1]);
    check_ok("States.StringSplit($.fst, $.snd)", input, splits[i][2]);
  }
  check_ok(
      "States.StringSplit($.s, ',')",
      "{\"s\":\"Value1,Value2,Value3\\nValue4,Value5,Value6\\n,,,\\n"
      "true,1,'HelloWorld'\\nNull,None,\\n   \\n\"}",
      "[\"Value1\",\"Value2\",\"Value3\\nValue4\",\"Value5\",\"Value6\\n\","
      "\"\\ntrue\",\"1\",\"'HelloWorld'\\nNull\",\"None\",\"\\n   \\n\"]");
  check_ok("States.StringSplit('Hello\nWorld', '\n')", "{}",
           "[\"Hello\",\"World\"]");
  check_invalid("States.StringSplit($.s, ',')", "{\"s\":123}",
                "States.StringSplit");
  check_invalid("States.StringSplit('a,b', $.d)", "{\"d\":null}",
                "States.StringSplit");
  check_invalid("States.StringSplit('a,b', $.d)", "{\"d\":[\",\"]}",
                "States.StringSplit");
  check_invalid("States.StringSplit('a,b')", "{}", "States.StringSplit");
}

static void test_nested(void) {
  /* recorded on AWS with a state machine named "<name>-<suffix>" */
  check_ok("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, "
           "'-'), 0)",
           "{}", "\"my\"");
  check_ok("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, "
           "'-'), States.MathAdd(States.ArrayLength(States.StringSplit("
           "$$.StateMachine.Name, '-')), -1))",
           "{}", "\"machine\"");
  check_ok("States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit("
           "States.ArrayGetItem(States.StringSplit($.Arn, '/'), 2), '.'), 0), "
           "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
           "States.StringSplit($.Arn, '/'), 2), '.'), 1), 'z')",
           "{\"Arn\":\"arn:aws:imagebuilder:r:1:image-recipe/name/1.2.3\"}",
           "\"1.2.z\"");
}

static void test_uuid(void) {
  result r;
  const char *s;
  size_t i;
  counter = 0;
  check_ok("States.UUID()", "{}", "\"00000000-0000-4001-8000-000000000002\"");
  /* AWS ignores arguments to States.UUID, even ones that would fail */
  check_ok("States.UUID($.missing, 'x', 1)", "{}",
           "\"00000000-0000-4003-8000-000000000004\"");
  /* without a random source: a fixed-seed generator, the same each time */
  r = run("States.Array(States.UUID(), States.UUID())", "{}", 0);
  CHECK(r.rc == ORC_OK && r.json && strlen(r.json) == 2 + 2 * 38 + 1);
  if (r.json) {
    result again = run("States.Array(States.UUID(), States.UUID())", "{}", 0);
    CHECK(again.json && strcmp(r.json, again.json) == 0);
    CHECK(strncmp(r.json + 2, r.json + 41, 36) != 0); /* two different */
    s = r.json + 2;
    for (i = 0; i < 36; i++) {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        CHECK(s[i] == '-');
      else
        CHECK(strchr("0123456789abcdef", s[i]) != NULL);
    }
    CHECK(s[14] == '4');
    CHECK(strchr("89ab", s[19]) != NULL);
    orc_free(again.json);
  }
  orc_free(r.json);
}

static void test_paths(void) {
  check_fail("States.Format('{}', $.nope)", "{\"other\":1}",
             "The function 'States.Format('{}', $.nope)' had the following "
             "error: The JsonPath argument for the field '$.nope' could not "
             "be found in the input '{\"other\":1}'");
  check_fail("States.Format('{}',$.nope)", "{\"other\":1}",
             "The function 'States.Format('{}',$.nope)' had the following");
  check_fail("States.Format('{}', States.Format('{}', $.nope))",
             "{\"other\":1}",
             "The function 'States.Format('{}', States.Format('{}', $.nope))'"
             " had the following error: The JsonPath argument for the field "
             "'$.nope' could not be found in the input '{\"other\":1}'");
  check_fail("States.Format('{}', $.items[5])", "{\"items\":[1,2]}",
             "for the field '$.items[5]' could not be found in the input "
             "'{\"items\":[1,2]}'");
  check_fail("States.Format('{}', $$.Nope.Deep)", "{\"other\":1}",
             "for the field '$.Nope.Deep' could not be found in the input "
             "'{\"other\":1}'");
  check_fail("States.Array($undefined)", "{}",
             "for the field '$undefined' could not be found");
  check_fail("States.MathAdd(1, $.nope)", "{}",
             "The JsonPath argument for the field '$.nope'");
  /* an explicit null is a value */
  check_ok("States.Format('{}', $.nul)", "{\"nul\":null}", "\"null\"");
  /* arity is checked before arguments are evaluated */
  check_invalid("States.ArrayLength($.nope, 1)", "{}", "States.ArrayLength");
}

static void test_errors_and_buffers(void) {
  orci_intrinsic *f;
  orci_env env;
  orc_json *out = (orc_json *)&env, *input = parse("{}");
  char error[8], cause[24];
  memset(&env, 0, sizeof env);
  env.input = input;
  f = orci_intrinsic_compile("States.MathAdd('a', 1)", 22, NULL, 0);
  CHECK(f != NULL);
  if (f) {
    /* small buffers are cut, not overrun; NULL buffers are accepted */
    CHECK(orci_intrinsic_eval(f, &env, &out, error, sizeof error, cause,
                              sizeof cause) == ORC_EINVAL);
    CHECK(out == NULL);
    CHECK(strcmp(error, "States.") == 0);
    CHECK(strlen(cause) == sizeof cause - 1);
    CHECK(orci_intrinsic_eval(f, &env, &out, NULL, 0, NULL, 0) == ORC_EINVAL);
  }
  orci_intrinsic_free(f);
  orci_intrinsic_free(NULL);
  CHECK(orci_intrinsic_compile("States.Nope()", 13, NULL, 0) == NULL);
  /* compile once, evaluate many times */
  {
    const char *text = "States.Format('{}-{}', $.a, States.MathAdd($.a, 1))";
    f = orci_intrinsic_compile(text, strlen(text), NULL, 0);
  }
  CHECK(f != NULL);
  if (f) {
    int i;
    for (i = 0; i < 3; i++) {
      char text[32];
      orc_json *in;
      snprintf(text, sizeof text, "{\"a\":%d}", i);
      in = parse(text);
      env.input = in;
      CHECK(orci_intrinsic_eval(f, &env, &out, error, sizeof error, NULL, 0) ==
            ORC_OK);
      snprintf(text, sizeof text, "%d-%d", i, i + 1);
      CHECK(out && strcmp(orc_json_string_value(out, NULL), text) == 0);
      orc_json_unref(out);
      orc_json_unref(in);
    }
  }
  orci_intrinsic_free(f);
  orc_json_unref(input);
}

int main(void) {
  variables = parse("{\"greeting\":\"hi\"}");
  test_is_call();
  test_grammar();
  test_compile_errors();
  test_format();
  test_json_functions();
  test_arrays();
  test_encoding();
  test_hash();
  test_math();
  test_strings();
  test_nested();
  test_uuid();
  test_paths();
  test_errors_and_buffers();
  orc_json_unref(variables);
  printf("test_intrinsics: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
