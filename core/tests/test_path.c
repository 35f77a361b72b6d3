/*
** C-level tests of JSONPath as Step Functions evaluates it (Jayway 1.x):
** compiling, definite and indefinite evaluation, filters, deep scan,
** context and variables, the error texts, and ResultPath's copy-on-write
** update.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path_int.h"

#include "check.h"

/* A Goessner-style document most tests read. */
static const char *const store =
    "{\"store\":{\"book\":["
    "{\"category\":\"reference\",\"author\":\"Nigel Rees\","
    "\"title\":\"Sayings of the Century\",\"price\":8.95},"
    "{\"category\":\"fiction\",\"author\":\"Evelyn Waugh\","
    "\"title\":\"Sword of Honour\",\"price\":12.99},"
    "{\"category\":\"fiction\",\"author\":\"Herman Melville\","
    "\"title\":\"Moby Dick\",\"isbn\":\"0-553-21311-3\",\"price\":8.99},"
    "{\"category\":\"fiction\",\"author\":\"J. R. R. Tolkien\","
    "\"title\":\"The Lord of the Rings\",\"isbn\":\"0-395-19395-8\","
    "\"price\":22.99}],"
    "\"bicycle\":{\"color\":\"red\",\"price\":19.95}},"
    "\"expensive\":10}";

static orc_json *J(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) {
    fprintf(stderr, "bad test JSON %s: %s\n", text, err.message);
    abort();
  }
  return v;
}

static orci_path *compile(const char *text, int kind) {
  char msg[256];
  orci_path *p = orci_path_compile(text, strlen(text), kind, msg, sizeof msg);
  if (p == NULL) fprintf(stderr, "compile %s: %s\n", text, msg);
  return p;
}

static orci_path *compile_quiet(const char *text) {
  return orci_path_compile(text, strlen(text), ORCI_PATH_JSONPATH, NULL, 0);
}

/* Variables of the tests' environment: $x and $list. */
static orc_json *test_variable(void *ud, const char *name, size_t len) {
  orc_json **vars = (orc_json **)ud;
  if (len == 1 && name[0] == 'x') return vars[0];
  if (len == 4 && memcmp(name, "list", 4) == 0) return vars[1];
  return NULL;
}

/* Evaluates path on input (and context); the result printed compactly,
** "EINVAL" when nothing matches, "COMPILE" when the path is rejected. */
static char *run_env(const char *path, const char *input, const char *context) {
  orc_json *in = J(input), *ctx = context ? J(context) : NULL, *out = NULL;
  orc_json *vars[2];
  orci_env env;
  orci_path *p = compile_quiet(path);
  char *s;
  int rc;
  vars[0] = J("{\"a\":{\"b\":[10,20]}}");
  vars[1] = J("[{\"n\":1},{\"n\":2},{\"n\":3}]");
  memset(&env, 0, sizeof env);
  env.input = in;
  env.context = ctx;
  env.variable = test_variable;
  env.ud = vars;
  if (p == NULL) {
    s = (char *)malloc(8);
    strcpy(s, "COMPILE");
  } else {
    char why[256];
    rc = orci_path_eval(p, &env, &out);
    /* the explaining evaluation must agree with the fast one */
    orci_path_explain(p, &env, why, sizeof why);
    CHECK((rc == ORC_OK) == (why[0] == '\0'));
    if (rc == ORC_OK) {
      s = orc_json_print(out, 0, NULL);
    } else {
      CHECK(rc == ORC_EINVAL && out == NULL);
      s = (char *)malloc(8);
      strcpy(s, "EINVAL");
    }
  }
  orc_json_unref(out);
  orci_path_free(p);
  orc_json_unref(in);
  orc_json_unref(ctx);
  orc_json_unref(vars[0]);
  orc_json_unref(vars[1]);
  return s;
}

static void check_env(const char *path, const char *input, const char *context,
                      const char *expect, int line) {
  char *got = run_env(path, input, context);
  nchecks++;
  if (strcmp(got, expect) != 0) {
    nfailed++;
    fprintf(stderr, "%s:%d: %s: got %s, want %s\n", __FILE__, line, path, got,
            expect);
  }
  free(got);
}

#define EVAL(path, input, expect) check_env(path, input, NULL, expect, __LINE__)
#define EVALC(path, input, ctx, expect)                                        \
  check_env(path, input, ctx, expect, __LINE__)

/* orci_path_explain's text for a failed evaluation. */
static void check_explain(const char *path, const char *input,
                          const char *expect, int line) {
  orc_json *in = J(input);
  orci_env env;
  orci_path *p = compile(path, ORCI_PATH_JSONPATH);
  char msg[512];
  memset(&env, 0, sizeof env);
  env.input = in;
  CHECK(p != NULL);
  if (p) {
    orc_json *out = NULL;
    CHECK(orci_path_eval(p, &env, &out) == ORC_EINVAL);
    orc_json_unref(out);
    orci_path_explain(p, &env, msg, sizeof msg);
    nchecks++;
    if (strcmp(msg, expect) != 0) {
      nfailed++;
      fprintf(stderr, "%s:%d: explain %s: got \"%s\", want \"%s\"\n", __FILE__,
              line, path, msg, expect);
    }
  }
  orci_path_free(p);
  orc_json_unref(in);
}

#define EXPLAIN(path, input, expect)                                           \
  check_explain(path, input, expect, __LINE__)

/* A compile error whose message holds fragment. */
static void check_bad(const char *path, int kind, const char *fragment,
                      int line) {
  char msg[256];
  orci_path *p = orci_path_compile(path, strlen(path), kind, msg, sizeof msg);
  nchecks++;
  if (p != NULL) {
    nfailed++;
    fprintf(stderr, "%s:%d: %s compiled, want an error\n", __FILE__, line,
            path);
    orci_path_free(p);
  } else if (strstr(msg, fragment) == NULL) {
    nfailed++;
    fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__, line,
            path, msg, fragment);
  }
}

#define BAD(path, fragment)                                                    \
  check_bad(path, ORCI_PATH_JSONPATH, fragment, __LINE__)
#define BADREF(path, fragment)                                                 \
  check_bad(path, ORCI_PATH_REFERENCE, fragment, __LINE__)

static void test_definite(void) {
  const char *doc = "{\"a\":{\"b\":[1,{\"c\":true},null]},\"s\":\"str\","
                    "\"n\":null,\"e\":{},\"a b\":1,\"x.y\":3}";
  EVAL("$", doc,
       "{\"a\":{\"b\":[1,{\"c\":true},null]},\"s\":\"str\",\"n\":"
       "null,\"e\":{},\"a b\":1,\"x.y\":3}");
  EVAL("$.a.b[0]", doc, "1");
  EVAL("$.a.b[1].c", doc, "true");
  EVAL("$.a.b[2]", doc, "null"); /* a null that exists is a match */
  EVAL("$.n", doc, "null");
  EVAL("$['a']['b'][0]", doc, "1");
  EVAL("$[\"a\"][\"b\"][0]", doc, "1");
  EVAL("$.['a'].b[0]", doc, "1"); /* a dot before brackets is allowed */
  EVAL("$['a b']", doc, "1");
  EVAL("$['x.y']", doc, "3");
  EVAL("$[ 'a' ]['b'][ 1 ].c", doc, "true");
  EVAL("$[ 'a' ] [ 'b' ]", doc, "COMPILE"); /* no space between tokens */
  EVAL("$.e", doc, "{}");
  /* an index from the end: Jayway 1.x's [(@.length-n)], which works in
  ** Step Functions where [-1] does not */
  EVAL("$.a.b[(@.length-1)]", doc, "null");
  EVAL("$.a.b[(@.length - 3)]", doc, "1");
  EVAL("$.a.b[ ( @.size() - 2 ) ].c", doc, "true");
  EVAL("$.a.b[(@.length-4)]", doc, "EINVAL");
  EVAL("$.e[(@.length-1)]", doc, "EINVAL");
  /* nothing selected */
  EVAL("$.missing", doc, "EINVAL");
  EVAL("$.a.missing", doc, "EINVAL");
  EVAL("$.a.b[3]", doc, "EINVAL");
  EVAL("$.a.b[-1]", doc, "EINVAL");    /* out of bounds in Jayway 1.x */
  EVAL("$.s[0]", doc, "EINVAL");       /* indexing a non-array */
  EVAL("$.s.x", doc, "EINVAL");        /* member of a non-object */
  EVAL("$.a.b.x", doc, "EINVAL");      /* member of an array */
  EVAL("$.n.x", doc, "EINVAL");        /* member of null */
  EVAL("$.n[0]", doc, "EINVAL");       /* index into null */
  EVAL("$.a.length()", doc, "EINVAL"); /* a member named "length()" */
  EVAL("$.f()", "{\"f()\":1}", "1");
  /* names: dot notation reads up to '.' or '['; brackets take the text
  ** between the quotes as written (no escapes) */
  EVAL("$.a-b", "{\"a-b\":1}", "1");
  EVAL("$.$x", "{\"$x\":1}", "1");
  EVAL("$['Test\\\"\"Name\"']", "{\"Test\\\\\\\"\\\"Name\\\"\":\"v\"}",
       "\"v\"");
  EVAL("$['a\\n']", "{\"a\\\\n\":1}", "1");
  EVAL("$[\"it's\"]", "{\"it's\":1}", "1");
  EVAL("$.\xc3\xa9", "{\"\xc3\xa9\":8}", "8");
  EVAL("$['']", "{\"\":9}", "9");
  EVAL("$.a ", "{\"a\":1}", "1"); /* trailing blanks are trimmed */
  /* an array at the root */
  EVAL("$[1]", "[5,6,7]", "6");
  EVAL("$[0][1]", "[[1,2]]", "2");
}

static void test_no_copy(void) {
  /* a definite path hands back the node itself, one reference more */
  orc_json *in = J("{\"a\":{\"b\":[{\"deep\":1}]}}"), *out = NULL;
  orc_json *node = orc_json_array_get(
      orc_json_object_find(orc_json_object_find(in, "a", 1), "b", 1), 0);
  orci_path *p = compile("$.a.b[0]", ORCI_PATH_JSONPATH);
  orci_env env;
  memset(&env, 0, sizeof env);
  env.input = in;
  CHECK(p && orci_path_is_definite(p) && !orci_path_is_root(p));
  CHECK(orci_path_eval(p, &env, &out) == ORC_OK);
  CHECK(out == node);
  CHECK(node->refs == 2);
  orc_json_unref(out);
  CHECK(node->refs == 1);
  orci_path_free(p);
  p = compile("$", ORCI_PATH_JSONPATH);
  CHECK(p && orci_path_is_root(p) && orci_path_is_definite(p));
  CHECK(orci_path_eval(p, &env, &out) == ORC_OK && out == in);
  orc_json_unref(out);
  orci_path_free(p);
  /* indefinite results share the matched nodes too */
  p = compile("$..b[*]", ORCI_PATH_JSONPATH);
  CHECK(p && !orci_path_is_definite(p));
  CHECK(orci_path_eval(p, &env, &out) == ORC_OK);
  CHECK(out && orc_json_len(out) == 1 && orc_json_array_get(out, 0) == node);
  orc_json_unref(out);
  orci_path_free(p);
  orc_json_unref(in);
}

static void test_indefinite(void) {
  const char *arr = "{\"a\":[0,1,2,3,4]}";
  EVAL("$.a[*]", arr, "[0,1,2,3,4]");
  EVAL("$.a.*", arr, "[0,1,2,3,4]");
  EVAL("$.a[ * ]", arr, "[0,1,2,3,4]");
  EVAL("$.*", "{\"x\":1,\"y\":[2],\"z\":{\"w\":3}}", "[1,[2],{\"w\":3}]");
  EVAL("$.*", "\"scalar\"", "[]");
  EVAL("$.a[0,2]", arr, "[0,2]");
  EVAL("$.a[4, 0 ,3]", arr, "[4,0,3]");
  EVAL("$.a[0,9]", arr, "EINVAL"); /* an index out of range fails */
  EVAL("$.a[-1,0]", arr, "EINVAL");
  /* slices, with Jayway 1.x's rules */
  EVAL("$.a[1:3]", arr, "[1,2]");
  EVAL("$.a[-2:]", arr, "[3,4]");
  EVAL("$.a[:2]", arr, "[0,1]");
  EVAL("$.a[:-1]", arr, "[0,1,2,3]");
  EVAL("$.a[3:]", arr, "[3,4]");
  EVAL("$.a[2:100]", arr, "[2,3,4]");
  EVAL("$.a[-10:]", arr, "[0,1,2,3,4]");
  EVAL("$.a[:100]", arr, "[0,1,2,3,4]");
  EVAL("$.a[5:]", arr, "[]");
  EVAL("$.a[1:-1]", arr, "[]");         /* [a:b] takes b as written */
  EVAL("$.a[-2:-1]", arr, "EINVAL");    /* and a negative a is out of bounds */
  EVAL("$.a[0:4:2]", arr, "[0,1,2,3]"); /* a step is ignored */
  EVAL("$.a[ 1 : 3 ]", arr, "[1,2]");
  EVAL("$.a[1:3]", "{\"a\":[]}", "[]");
  /* "[*]" over an array skips elements that lack the rest of the path */
  EVAL("$[*].x", "[{\"x\":1},{\"y\":2},{\"x\":3},5,null]", "[1,3]");
  EVAL("$[*].x.y", "[{\"x\":1},{\"x\":{\"y\":2}},{}]", "[2]");
  EVAL("$[*][0]", "[[1],[],[2,3],null]", "[1,2]");
  EVAL("$[*][0]", "[[1],{\"a\":1}]", "EINVAL"); /* but not a non-array */
  EVAL("$.a[*].x", arr, "[]");
  EVAL("$.a[*].x[*]", arr, "[]");
  /* elsewhere a missing last member fails the path */
  EVAL("$.*.x", "{\"a\":{\"x\":1},\"b\":{}}", "EINVAL");
  EVAL("$.*.x", "{\"a\":{\"x\":1},\"b\":{\"x\":2}}", "[1,2]");
  EVAL("$[0,1].x", "[{\"x\":1},{}]", "EINVAL");
  EVAL("$[0:2].x", "[{\"x\":1},{\"x\":2},{}]", "[1,2]");
  /* a missing member before an indefinite token just matches nothing */
  EVAL("$.missing[*]", arr, "[]");
  EVAL("$.m.n[*]", arr, "[]");
  EVAL("$.a.x[*]", arr, "EINVAL"); /* a member of an array fails */
  EVAL("$.b[0].x[*]", "{\"b\":\"s\"}", "EINVAL");
  EVAL("$.a[9][*]", arr, "EINVAL");
  /* unions of names: only as the last token, merged into one object */
  EVAL("$['a','b']", "{\"a\":1,\"b\":2,\"c\":3}", "{\"a\":1,\"b\":2}");
  EVAL("$['a', 'b']", "{\"a\":1,\"b\":null}", "{\"a\":1,\"b\":null}");
  EVAL("$['a','z']", "{\"a\":1,\"b\":2}", "{\"a\":1}");
  EVAL("$['z','y']", "{\"a\":1}", "{}");
  EVAL("$['b','a','b']", "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}");
  EVAL("$['a','b'].c", "{\"a\":{\"c\":1},\"b\":{\"c\":2}}", "EINVAL");
  EVAL("$['a','b']", "[1]", "EINVAL");
  EVAL("$[*]['a','b']", "[{\"a\":1,\"b\":2},{\"b\":3},4]",
       "[{\"a\":1,\"b\":2},{\"b\":3}]");
  {
    orci_path *p = compile("$['a','b']", ORCI_PATH_JSONPATH);
    CHECK(p && orci_path_is_definite(p));
    orci_path_free(p);
    p = compile("$.a[(@.length-1)].b", ORCI_PATH_JSONPATH);
    CHECK(p && orci_path_is_definite(p));
    orci_path_free(p);
    p = compile("$.a[0,1]", ORCI_PATH_JSONPATH);
    CHECK(p && !orci_path_is_definite(p));
    orci_path_free(p);
  }
}

static void test_scan(void) {
  const char *doc = "{\"name\":1,\"a\":{\"name\":2,\"b\":{\"name\":3}},"
                    "\"c\":[{\"name\":4},{\"x\":{\"name\":5}}],\"d\":6}";
  EVAL("$..name", doc, "[1,2,3,4,5]");
  EVAL("$..['name']", doc, "[1,2,3,4,5]");
  EVAL("$.a..name", doc, "[2,3]");
  EVAL("$..nothing", doc, "[]");
  EVAL("$..*", "{\"a\":{\"b\":1},\"c\":[2,{\"d\":3}]}",
       "[{\"b\":1},[2,{\"d\":3}],1,2,{\"d\":3},3]");
  EVAL("$..[0]", "{\"a\":[[1,2],[3]],\"b\":{\"c\":[4]}}", "[[1,2],1,3,4]");
  /* Jayway 1.x: on an array the token before the last is skipped */
  EVAL("$..[0].x", "{\"a\":[{\"x\":1},{\"x\":2}],\"b\":[{\"x\":3}]}",
       "[1,2,3]");
  EVAL("$..author", store,
       "[\"Nigel Rees\",\"Evelyn Waugh\",\"Herman Melville\","
       "\"J. R. R. Tolkien\"]");
  EVAL("$.store..price", store, "[8.95,12.99,8.99,22.99,19.95]");
  EVAL("$..book[2].title", store, "[\"Moby Dick\"]");
  EVAL("$..book[-1:].title", store, "[\"The Lord of the Rings\"]");
  EVAL("$..book[(@.length-1)].title", store, "[\"The Lord of the Rings\"]");
  EVAL("$..book[0,1].title", store,
       "[\"Sayings of the Century\",\"Sword of Honour\"]");
  EVAL("$..book[?(@.isbn)].title", store,
       "[\"Moby Dick\",\"The Lord of the Rings\"]");
  EVAL("$..[?(@.price > 19)].price", store, "[22.99,19.95]");
  EVAL("$..book[*].isbn", store, "[\"0-553-21311-3\",\"0-395-19395-8\"]");
  EVAL("$..a.b", "{\"a\":{\"b\":1},\"c\":[{\"a\":{\"b\":2}}]}", "[1,2]");
  /* the inner name holds 1, whose .name fails the path (Jayway 1.x) */
  EVAL("$..name.name", "{\"name\":{\"name\":1}}", "EINVAL");
  EVAL("$..a.b", "{\"a\":{\"b\":1},\"c\":{\"a\":{}}}", "EINVAL");
  /* a name holding its own name: outer match first, then inner */
  EVAL("$..n", "{\"n\":{\"n\":{\"n\":0}}}", "[{\"n\":{\"n\":0}},{\"n\":0},0]");
}

static void test_filters(void) {
  EVAL("$.store.book[?(@.price < 10)].title", store,
       "[\"Sayings of the Century\",\"Moby Dick\"]");
  EVAL("$.store.book[?(@.price <= 8.99)].price", store, "[8.95,8.99]");
  EVAL("$.store.book[?(@.price > 12.99)].price", store, "[22.99]");
  EVAL("$.store.book[?(@.price >= 12.99)].price", store, "[12.99,22.99]");
  EVAL("$.store.book[?(@.price == 8.95)].price", store, "[8.95]");
  EVAL("$.store.book[?(@.price != 8.95)].price", store, "[12.99,8.99,22.99]");
  EVAL("$.store.book[?(@.category == 'reference')].author", store,
       "[\"Nigel Rees\"]");
  EVAL("$.store.book[?(@.category == \"reference\")].author", store,
       "[\"Nigel Rees\"]");
  EVAL("$.store.book[?(@.author > 'I')].author", store,
       "[\"Nigel Rees\",\"J. R. R. Tolkien\"]");
  EVAL("$.store.book[?(@.category == 'fiction' && @.price < 10)].title", store,
       "[\"Moby Dick\"]");
  EVAL("$.store.book[?(@.price < 9 || @.price > 20)].price", store,
       "[8.95,8.99,22.99]");
  /* a missing last member fails the path, but not under [*] */
  EVAL("$.store.book[?(@.price < 10)].isbn", store, "EINVAL");
  EVAL("$.store.book[?(@.price > 8.98)].isbn", store, "EINVAL");
  EVAL("$.store.book[?(@.price > 20)].isbn", store, "[\"0-395-19395-8\"]");
  /* && binds tighter than ||; parentheses and ! are our additions */
  EVAL("$[?(@.a == 1 || @.b == 1 && @.c == 1)].id",
       "[{\"id\":1,\"a\":1},{\"id\":2,\"b\":1},{\"id\":3,\"b\":1,\"c\":1}]",
       "[1,3]");
  EVAL("$[?(@.a == 1 && @.b == 1 || @.c == 1)].id",
       "[{\"id\":1,\"a\":1},{\"id\":2,\"a\":1,\"b\":1},{\"id\":3,\"c\":1}]",
       "[2,3]");
  EVAL("$[?((@.a == 1 || @.b == 1) && @.c == 1)].id",
       "[{\"id\":1,\"a\":1},{\"id\":2,\"b\":1,\"c\":1}]", "[2]");
  EVAL("$[?(!(@.a == 1))].id", "[{\"id\":1,\"a\":1},{\"id\":2,\"a\":2}]",
       "[2]");
  /* existence: a member holding null does not exist (Jayway 1.x) */
  EVAL("$.store.book[?(@.isbn)].price", store, "[8.99,22.99]");
  EVAL("$.store.book[?(!@.isbn)].price", store, "[8.95,12.99]");
  EVAL("$[?(@.a)].id", "[{\"id\":1,\"a\":0},{\"id\":2,\"a\":null},{\"id\":3}]",
       "[1]");
  EVAL("$[?(!@.a)].id", "[{\"id\":1,\"a\":0},{\"id\":2,\"a\":null},{\"id\":3}]",
       "[2,3]");
  EVAL("$[?(!@.a == 0)].id", "[{\"id\":1,\"a\":0},{\"id\":2,\"a\":1}]",
       "[1]"); /* before an operator, Jayway 1.x drops the '!' */
  EVAL("$[?(@.a.b)].id", "[{\"id\":1,\"a\":{\"b\":0}},{\"id\":2,\"a\":5}]",
       "[1]");
  /* comparisons with other paths, "$" being the document */
  EVAL("$.store.book[?(@.price > $.expensive)].price", store, "[12.99,22.99]");
  EVAL("$[?(@.a == @.b)].id", "[{\"id\":1,\"a\":2,\"b\":2},{\"id\":2,\"a\":1}]",
       "[1]");
  /* Jayway 1.x compares a literal as text, read as a number against a
  ** number and as Boolean.valueOf against a boolean */
  EVAL("$[?(@.v == true)].id",
       "[{\"id\":1,\"v\":true},{\"id\":2,\"v\":\"true\"},{\"id\":3},"
       "{\"id\":4,\"v\":false}]",
       "[1,2]");
  EVAL("$[?(@.v == false)].id",
       "[{\"id\":1,\"v\":false},{\"id\":2,\"v\":\"no\"}]", "[1]");
  EVAL("$[?(@.v == false)].id", "[{\"id\":1,\"v\":0}]", "EINVAL");
  EVAL("$[?(@.v == 'TRUE')].id", "[{\"id\":1,\"v\":true}]", "[1]");
  EVAL("$[?(@.v == -1.5)].id", "[{\"id\":1,\"v\":-1.5}]", "[1]");
  EVAL("$[?(@.v == 2)].id", "[{\"id\":1,\"v\":2.0},{\"id\":2,\"v\":2}]",
       "[1,2]");
  EVAL("$[?(@.v == 5)].id", "[{\"id\":1,\"v\":5},{\"id\":2,\"v\":\"5\"}]",
       "[1,2]");
  EVAL("$[?(@.v == '5')].id", "[{\"id\":1,\"v\":5},{\"id\":2,\"v\":\"5\"}]",
       "[1,2]");
  EVAL("$[?(@.v < 6)].id", "[{\"id\":1,\"v\":5},{\"id\":2,\"v\":\"50\"}]",
       "[1,2]"); /* "6" > "50" as text */
  EVAL("$[?(@.v == 5)].id", "[{\"id\":1,\"v\":{}},{\"id\":2,\"v\":[5]}]", "[]");
  /* null and the text "null" sort before everything */
  EVAL("$[?(@.v == null)].id",
       "[{\"id\":1,\"v\":null},{\"id\":2},{\"id\":3,\"v\":\"null\"},"
       "{\"id\":4,\"v\":0}]",
       "[1,3]");
  EVAL("$[?(@.v > null)].id", "[{\"id\":1,\"v\":null},{\"id\":2,\"v\":0}]",
       "[2]");
  EVAL("$[?(@.v < 1)].id", "[{\"id\":1,\"v\":null},{\"id\":2,\"v\":0}]", "[2]");
  /* a missing operand fails every comparison, != included */
  EVAL("$[?(@.v != 1)].id",
       "[{\"id\":1,\"v\":1},{\"id\":2},{\"id\":3,\"v\":2}]", "[3]");
  /* text against a number that is no number: Java throws, the path fails */
  EVAL("$.store.book[?(@.price == 'cheap')]", store, "EINVAL");
  EVAL("$[?(@.v == 'x')].id", "[{\"id\":1,\"v\":\"x\"}]", "[1]");
  /* a number against text (a path on the right) cannot be compared */
  EVAL("$.l[?(@.v == $.n)].id", "{\"n\":5,\"l\":[{\"id\":1,\"v\":\"5\"}]}",
       "[]");
  EVAL("$.l[?(@.v == $.n)].id", "{\"n\":\"5\",\"l\":[{\"id\":1,\"v\":5}]}",
       "[1]");
  /* regular expressions match the whole text (Java's matches()) */
  EVAL("$.store.book[?(@.author =~ /.*REES/i)].author", store,
       "[\"Nigel Rees\"]");
  EVAL("$.store.book[?(@.author =~ /Rees/)].author", store, "[]");
  EVAL("$[?(@.v =~ /\\d+-\\w\\/x/)].id",
       "[{\"id\":1,\"v\":\"12-a/x\"},{\"id\":2,\"v\":\"1-/x\"}]", "[1]");
  EVAL("$[?(@.v =~ /[\\d]{2}/)].id",
       "[{\"id\":1,\"v\":\"12\"},{\"id\":2,\"v\":12},{\"id\":3,\"v\":\"1\"}]",
       "[1,2]");
  EVAL("$[?(@.v =~ /1\\.0E21|8\\.95|true/)].id",
       "[{\"id\":1,\"v\":1e21},{\"id\":2,\"v\":8.95},{\"id\":3,\"v\":true},"
       "{\"id\":4,\"v\":null}]",
       "[1,2,3]");
  EVAL("$[?(@.v =~ 'x')].id", "[{\"id\":1,\"v\":\"x\"}]", "EINVAL");
  /* in, nin and the other word operators: our additions */
  EVAL("$[?(@.v in ['a','b'])].id",
       "[{\"id\":1,\"v\":\"a\"},{\"id\":2,\"v\":\"c\"},{\"id\":3}]", "[1]");
  EVAL("$[?(@.v nin ['a','b'])].id",
       "[{\"id\":1,\"v\":\"a\"},{\"id\":2,\"v\":\"c\"},{\"id\":3}]", "[2]");
  EVAL("$[?(@.v IN [1, 2])].id", "[{\"id\":1,\"v\":2},{\"id\":2,\"v\":3}]",
       "[1]");
  EVAL("$.items[?(@.v in $.ok)].id",
       "{\"ok\":[3],\"items\":[{\"id\":1,\"v\":3},{\"id\":2,\"v\":4}]}", "[1]");
  EVAL("$[?(@.t subsetof ['a','b','c'])].id",
       "[{\"id\":1,\"t\":[\"a\",\"c\"]},{\"id\":2,\"t\":[\"a\",\"d\"]}]",
       "[1]");
  EVAL("$[?(@.t anyof ['x','c'])].id",
       "[{\"id\":1,\"t\":[\"a\",\"c\"]},{\"id\":2,\"t\":[\"a\",\"d\"]}]",
       "[1]");
  EVAL("$[?(@.t noneof ['x','c'])].id",
       "[{\"id\":1,\"t\":[\"a\",\"c\"]},{\"id\":2,\"t\":[\"a\",\"d\"]}]",
       "[2]");
  EVAL("$[?(@.t contains 'c')].id",
       "[{\"id\":1,\"t\":[\"a\",\"c\"]},{\"id\":2,\"t\":\"abc\"},"
       "{\"id\":3,\"t\":\"ab\"}]",
       "[1,2]");
  EVAL("$[?(@.t size 2)].id",
       "[{\"id\":1,\"t\":[1,2]},{\"id\":2,\"t\":\"ab\"},{\"id\":3,\"t\":[]}]",
       "[1,2]");
  EVAL("$[?(@.t empty true)].id",
       "[{\"id\":1,\"t\":[]},{\"id\":2,\"t\":\"\"},{\"id\":3,\"t\":[0]}]",
       "[1,2]");
  /* a filter on an object tests the object itself */
  EVAL("$.o[?(@.a == 1)]", "{\"o\":{\"a\":1}}", "[{\"a\":1}]");
  EVAL("$.o[?(@.a == 2)]", "{\"o\":{\"a\":1}}", "[]");
  /* Step Functions: "@ does not match scalar values, only objects" */
  EVAL("$.a[?(@ > 1)]", "{\"a\":[1,2,3]}", "[]");
  EVAL("$.a[?(@.x)]", "{\"a\":[1,{\"x\":0},\"s\"]}", "[{\"x\":0}]");
  EVAL("$.a[?(!@.x)]", "{\"a\":[1,{\"y\":0}]}", "[{\"y\":0}]");
  /* a filter on a scalar is an error */
  EVAL("$.a[?(@.x)]", "{\"a\":5}", "EINVAL");
  /* an index into a non-array inside a filter fails the path */
  EVAL("$[?(@.s[0] == 1)]", "[{\"s\":\"x\"}]", "EINVAL");
  EVAL("$[?(@.s[0] == 1)]", "[{\"s\":[1]},{\"s\":[]},{}]", "[{\"s\":[1]}]");
  /* the AWS documentation's example */
  EVAL("$.jar[?(@.a >= 5)]",
       "{\"jar\":[{\"a\":1},{\"a\":5},{\"a\":2},{\"a\":7},{\"a\":3}]}",
       "[{\"a\":5},{\"a\":7}]");
  /* LocalStack's recorded filters: "$.[?(...)]" is accepted */
  EVAL("$.[?(@.year < 1999)].name",
       "[{\"year\":1998,\"name\":\"a\"},{\"year\":1999,\"name\":\"b\"}]",
       "[\"a\"]");
  EVAL("$.users[?(@.status == 0)]",
       "{\"users\":[{\"status\":0},{\"status\":1}]}", "[{\"status\":0}]");
}

static void test_roots(void) {
  const char *ctx = "{\"Execution\":{\"Id\":\"arn:x\",\"Input\":{\"k\":[1]}},"
                    "\"State\":{\"Name\":\"S\"}}";
  EVALC("$$", "{}", ctx, ctx);
  EVALC("$$.Execution.Id", "{}", ctx, "\"arn:x\"");
  EVALC("$$.Execution.Input.k[0]", "{}", ctx, "1");
  EVALC("$$['State']['Name']", "{}", ctx, "\"S\"");
  EVALC("$$.Missing", "{}", ctx, "EINVAL");
  EVALC("$$..Name", "{}", ctx, "[\"S\"]");
  EVAL("$$", "{}", "{}"); /* no context: an empty object */
  EVAL("$$.Execution", "{}", "EINVAL");
  /* variables */
  EVAL("$x", "{}", "{\"a\":{\"b\":[10,20]}}");
  EVAL("$x.a.b[1]", "{}", "20");
  EVAL("$x['a'].b[(@.length-1)]", "{}", "20");
  EVAL("$list[*].n", "{}", "[1,2,3]");
  EVAL("$list[?(@.n > 1)].n", "{}", "[2,3]");
  EVAL("$list[?(@.n == $[0].n)].n", "{}", "[1]"); /* "$" is the variable */
  EVAL("$undefined", "{}", "EINVAL");
  EVAL("$undefined.a", "{}", "EINVAL");
  {
    orci_path *p = compile("$my_var2.a", ORCI_PATH_REFERENCE);
    size_t len = 0;
    const char *name;
    CHECK(p && orci_path_root(p) == ORCI_ROOT_VARIABLE);
    name = p ? orci_path_variable(p, &len) : NULL;
    CHECK(name && len == 7 && memcmp(name, "my_var2", 7) == 0);
    CHECK(p && strcmp(orci_path_text(p), "$my_var2.a") == 0);
    CHECK(p && orci_path_is_definite(p) && !orci_path_is_root(p));
    orci_path_free(p);
    p = compile("$$", ORCI_PATH_REFERENCE);
    CHECK(p && orci_path_root(p) == ORCI_ROOT_CONTEXT && orci_path_is_root(p));
    CHECK(p && orci_path_variable(p, &len) == NULL);
    orci_path_free(p);
    p = compile("$_", ORCI_PATH_JSONPATH);
    CHECK(p && orci_path_root(p) == ORCI_ROOT_VARIABLE && orci_path_is_root(p));
    orci_path_free(p);
    p = compile("$.a", ORCI_PATH_JSONPATH);
    CHECK(p && orci_path_root(p) == ORCI_ROOT_INPUT);
    orci_path_free(p);
  }
}

static void test_explain(void) {
  /* the texts Step Functions puts after "Invalid path '...' : " (AWS
  ** recordings from LocalStack's snapshots and public reports) */
  EXPLAIN("$.NoSuchInputPath", "{}",
          "No results for path: $['NoSuchInputPath']");
  EXPLAIN("$.no.such.result.path", "{}", "Missing property in path $['no']");
  EXPLAIN("$['a', 'b'].v", "{\"a\":{\"v\":1},\"b\":{\"v\":2}}",
          "Multi properties can only be used as path leafs: $['a', 'b']");
  /* and the others of Jayway 1.x */
  EXPLAIN("$.a.b[5].c", "{\"a\":{\"b\":[1]}}",
          "Index out of bounds when evaluating path $['a']['b'][5]");
  EXPLAIN("$.array[-1].name", "{\"array\":[{\"name\":\"x\"}]}",
          "Index out of bounds when evaluating path $['array'][-1]");
  EXPLAIN("$.a[(@.length-2)]", "{\"a\":[1]}",
          "Index out of bounds when evaluating path $['a'][-1]");
  EXPLAIN("$[\"a\"].x", "{\"a\":{}}", "No results for path: $['a']['x']");
  EXPLAIN("$.a.b", "{\"a\":\"str\"}",
          "Property ['b'] not found in path $['a']");
  EXPLAIN("$.a[0]", "{\"a\":null}", "The path $['a'] is null");
  EXPLAIN("$.a[0].b", "{\"a\":{\"x\":1}}",
          "Filter: [0]['b'] can only be applied to arrays. Current context "
          "is: {\"x\":1}");
  EXPLAIN("$.a[?(@.x)]", "{\"a\":5}",
          "Filter: [?] can not be applied to primitives. Current context "
          "is: 5");
  EXPLAIN("$.a[?(@.x)]", "{\"a\":8.5}",
          "Filter: [?] can not be applied to primitives. Current context "
          "is: 8.5");
  /* failures inside indefinite paths name the element */
  EXPLAIN("$.items[?(@.ok == true)].name",
          "{\"items\":[{\"ok\":true,\"name\":\"a\"},{\"ok\":false},"
          "{\"ok\":true}]}",
          "No results for path: $['items'][2]['name']");
  EXPLAIN("$.m.*.x", "{\"m\":{\"a\":{\"x\":1},\"b\":{}}}",
          "No results for path: $['m']['b']['x']");
  EXPLAIN("$..a.b", "{\"c\":[{\"a\":{}}]}",
          "No results for path: $['c'][0]['a']['b']");
  EXPLAIN("$[?(@.s[0] == 1)]", "[{\"s\":\"x\"}]",
          "Filter: [0] can only be applied to arrays. Current context is: x");
  {
    orci_env env;
    orci_path *p = compile("$nope.a", ORCI_PATH_JSONPATH);
    orc_json *in = J("{\"a\":[1]}");
    char msg[128];
    memset(&env, 0, sizeof env);
    orci_path_explain(p, &env, msg, sizeof msg);
    CHECK(strcmp(msg, "The variable '$nope' is not defined") == 0);
    orci_path_free(p);
    /* a path that succeeds explains nothing, even after skipped failures */
    env.input = in;
    p = compile("$.a[*].x", ORCI_PATH_JSONPATH);
    orci_path_explain(p, &env, msg, sizeof msg);
    CHECK(msg[0] == '\0');
    orci_path_free(p);
    orc_json_unref(in);
  }
}

static void test_compile_errors(void) {
  BAD("$.a[", "invalid JSONPath '$.a[': unclosed '[' at offset 3");
  BAD("", "a path must start with '$' at offset 0");
  BAD("a.b", "a path must start with '$' at offset 0");
  BAD(" $.a", "a path must start with '$' at offset 0");
  BAD("$.", "must not end with '.' at offset 1");
  BAD("$.a.", "must not end with '.' at offset 3");
  BAD("$..", "must not end with '..' at offset 1");
  BAD("$...a", "unexpected '.' at offset 3");
  BAD("$.a b", "needs brackets");
  BAD("$a-b", "unexpected character '-' (expected '.' or '[') at offset 2");
  BAD("$1", "unexpected character '1'");
  BAD("$*", "unexpected character '*'");
  BAD("$['a']b", "unexpected character 'b' (expected '.' or '[') at offset 6");
  BAD("$['a'", "unclosed '[' at offset 1");
  BAD("$['a]", "unclosed quote ' at offset 2");
  BAD("$['a',]", "empty name in brackets");
  BAD("$['a',,'b']", "empty name in brackets");
  BAD("$['a' 'b']", "expected ',' or ']'");
  BAD("$[0", "unclosed '['");
  BAD("$[x]", "unexpected character 'x' after '['");
  BAD("$[]", "unexpected character ']' after '['");
  BAD("$[1a]", "unexpected character 'a' in brackets");
  BAD("$[1 2]", "malformed array index");
  BAD("$[1,]", "malformed array index");
  BAD("$[:]", "a slice needs a start or an end");
  BAD("$[1,2:3]", "unexpected character ',' in a slice");
  BAD("$[(@.length)]", "expected '-' in [(@.length-n)]");
  BAD("$[(@.length+1)]", "expected '-' in [(@.length-n)]");
  BAD("$[(@.foo-1)]", "only [(@.length-n)] may be written in brackets");
  BAD("$[(@.length-x)]", "expected a number in [(@.length-n)]");
  BAD("$[(@.length-1]", "expected ')' in [(@.length-n)]");
  BAD("$[?(@.a[*] == 1)]", "a path in a filter must be definite");
  BAD("$[?(@..a)]", "a path in a filter must be definite");
  BAD("$[?(@.a === 1)]", "unknown operator '===' in a filter");
  BAD("$[?(@.a == !@.b)]", "'!' only negates [?(!@.x)]");
  BAD("$[99999999999]", "malformed array index");
  BAD("$[*", "expected ']' after '*'");
  BAD("$[?(@.a]", "unclosed '(' in a filter");
  BAD("$[?@.a]", "a filter must be written [?(...)]");
  BAD("$[?(@.a)", "expected ']' after a filter");
  BAD("$[?(@.a <)]", "unexpected ')' in a filter at offset 9");
  BAD("$[?(@.a == 'x)]", "unclosed '(' in a filter");
  BAD("$[?(@.a == x)]", "unexpected 'x' in a filter");
  BAD("$[?(@.a == 1.2.3)]", "malformed number");
  BAD("$[?(@.a === )]", "unknown operator '==='");
  BAD("$[?(@.a ~= 1)]", "unknown operator '~=' in a filter at offset 8");
  BAD("$[?(@.a == 1 &&)]", "unexpected ')' in a filter");
  BAD("$[?(1)]", "expected a comparison operator");
  BAD("$[?(@.a =~ /(?=x)/)]", "unsupported regular expression");
  BAD("$[?(@.a in [1,)]", "unclosed '[' in a filter");
  BAD("$[?(@.a in [1,])]", "malformed JSON literal");
  BAD("$[?(a.b)]", "unexpected 'a' in a filter");
  BAD("$[?($$.a)]", "unexpected character '$'");
  /* reference paths: one node, by names and non-negative indexes */
  BADREF("$.a[*]", "invalid reference path '$.a[*]': a wildcard (*) is not "
                   "allowed in a reference path at offset 3");
  BADREF("$.*", "a wildcard (*) is not allowed");
  BADREF("$..a", "a deep scan (..) is not allowed in a reference path at "
                 "offset 1");
  BADREF("$.a[1:2]", "a slice ([a:b]) is not allowed");
  BADREF("$.a[0,1]", "a union of indexes ([0,1]) is not allowed");
  BADREF("$['a','b']", "a union of names (['a','b']) is not allowed");
  BADREF("$.a[-1]", "a negative index is not allowed in a reference path at "
                    "offset 3");
  BADREF("$.a[?(@.b)]", "a filter ([?(...)]) is not allowed");
  BADREF("$.a[(@.length-1)]", "an index from the end ([(@.length-1)]) is "
                              "not allowed in a reference path at offset 3");
  BADREF("$.a[", "invalid reference path '$.a[': unclosed '['");
  {
    /* and what they may be */
    static const char *const ok[] = {"$",        "$$",          "$v",
                                     "$.a",      "$['a b'].c",  "$.a[0]",
                                     "$.a[0].b", "$$.Map.Item", "$v.x[2]"};
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
      orci_path *p = compile(ok[i], ORCI_PATH_REFERENCE);
      CHECK(p != NULL && orci_path_is_definite(p));
      orci_path_free(p);
    }
  }
  {
    /* msg may be NULL; a long text is cut in the message */
    char big[600], msg[64];
    memset(big, 'a', sizeof big);
    big[0] = '$';
    big[1] = '[';
    CHECK(orci_path_compile(big, sizeof big, ORCI_PATH_JSONPATH, NULL, 0) ==
          NULL);
    CHECK(orci_path_compile(big, sizeof big, ORCI_PATH_JSONPATH, msg,
                            sizeof msg) == NULL);
    CHECK(strlen(msg) == sizeof msg - 1);
  }
}

/* ResultPath: set and print, or the cause. */
static void check_set(const char *path, const char *root, const char *value,
                      const char *expect, int line) {
  orc_json *r = J(root), *v = J(value), *out = NULL;
  orci_path *p = compile(path, ORCI_PATH_REFERENCE);
  char msg[256], *got;
  int rc;
  CHECK(p != NULL);
  if (p == NULL) return;
  rc = orci_path_set(p, r, v, &out, msg, sizeof msg);
  if (rc == ORC_OK) {
    got = orc_json_print(out, 0, NULL);
  } else {
    CHECK(rc == ORC_EINVAL && out == NULL);
    got = (char *)malloc(strlen(msg) + 1);
    strcpy(got, msg);
  }
  nchecks++;
  if (strcmp(got, expect) != 0) {
    nfailed++;
    fprintf(stderr, "%s:%d: set %s: got %s, want %s\n", __FILE__, line, path,
            got, expect);
  }
  free(got);
  orc_json_unref(out);
  orc_json_unref(r);
  orc_json_unref(v);
  orci_path_free(p);
}

#define SET(path, root, value, expect)                                         \
  check_set(path, root, value, expect, __LINE__)

static void test_set(void) {
  SET("$", "{\"a\":1}", "\"x\"", "\"x\"");
  SET("$.r", "{\"a\":1}", "2", "{\"a\":1,\"r\":2}");
  SET("$.a", "{\"a\":1,\"b\":2}", "3", "{\"a\":3,\"b\":2}"); /* in place */
  SET("$.b", "{\"a\":1,\"b\":2,\"c\":3}", "{}", "{\"a\":1,\"b\":{},\"c\":3}");
  SET("$.x.y.z", "{\"a\":1}", "true", "{\"a\":1,\"x\":{\"y\":{\"z\":true}}}");
  SET("$.a.y", "{\"a\":{\"x\":1}}", "2", "{\"a\":{\"x\":1,\"y\":2}}");
  SET("$['a b']['c']", "{}", "1", "{\"a b\":{\"c\":1}}");
  SET("$.l[1]", "{\"l\":[1,2,3]}", "\"x\"", "{\"l\":[1,\"x\",3]}");
  SET("$.l[0].k", "{\"l\":[{\"k\":1,\"j\":2}]}", "9",
      "{\"l\":[{\"k\":9,\"j\":2}]}");
  SET("$[1]", "[1,2]", "3", "[1,3]");
  SET("$.a", "{}", "null", "{\"a\":null}");
  /* failures: Step Functions' States.ReferencePathConflict causes */
  SET("$.result", "\"hello\"", "1",
      "Unable to apply ReferencePath $.result to input \"hello\"");
  SET("$.someTaskResult", "\"input1\"", "1",
      "Unable to apply ReferencePath $.someTaskResult to input \"input1\"");
  SET("$.a", "[1,2]", "1", "Unable to apply ReferencePath $.a to input [1,2]");
  SET("$.a.b", "{\"a\":\"str\"}", "1",
      "Unable to apply step \"b\" to input {\"a\":\"str\"}");
  SET("$.a.b.c", "{\"a\":{\"b\":[1]}}", "1",
      "Unable to apply step \"c\" to input {\"a\":{\"b\":[1]}}");
  SET("$.a.b", "{\"a\":null}", "1",
      "Unable to apply step \"b\" to input {\"a\":null}");
  SET("$.l[3]", "{\"l\":[1,2,3]}", "1",
      "Unable to apply ReferencePath $.l[3] to input {\"l\":[1,2,3]}");
  SET("$.l[0]", "{\"l\":{}}", "1",
      "Unable to apply ReferencePath $.l[0] to input {\"l\":{}}");
  SET("$.m[0]", "{}", "1", "Unable to apply ReferencePath $.m[0] to input {}");
  {
    /* untouched sub-trees are shared, the input is left as it was */
    orc_json *in = J("{\"keep\":{\"deep\":[1,2]},\"path\":{\"sib\":[3],"
                     "\"old\":1},\"tail\":\"t\"}");
    orc_json *v = J("{\"new\":true}"), *out = NULL;
    orc_json *keep = orc_json_object_find(in, "keep", 4);
    orc_json *path = orc_json_object_find(in, "path", 4);
    orc_json *sib = orc_json_object_find(path, "sib", 3);
    orc_json *tail = orc_json_object_find(in, "tail", 4);
    orci_path *p = compile("$.path.old", ORCI_PATH_REFERENCE);
    char msg[128], *s;
    CHECK(orci_path_set(p, in, v, &out, msg, sizeof msg) == ORC_OK);
    CHECK(out != in);
    CHECK(orc_json_object_find(out, "keep", 4) == keep);
    CHECK(orc_json_object_find(out, "tail", 4) == tail);
    CHECK(orc_json_object_find(out, "path", 4) != path);
    CHECK(orc_json_object_find(orc_json_object_find(out, "path", 4), "sib",
                               3) == sib);
    CHECK(orc_json_object_find(orc_json_object_find(out, "path", 4), "old",
                               3) == v);
    CHECK(orc_json_object_key(out, 0) == orc_json_object_key(in, 0));
    CHECK(keep->refs == 2 && sib->refs == 2 && v->refs == 2);
    CHECK(in->refs == 1 && path->refs == 1);
    s = orc_json_print(in, 0, NULL);
    CHECK(s && strcmp(s, "{\"keep\":{\"deep\":[1,2]},\"path\":{\"sib\":[3],"
                         "\"old\":1},\"tail\":\"t\"}") == 0);
    orc_free(s);
    s = orc_json_print(out, 0, NULL);
    CHECK(s && strcmp(s, "{\"keep\":{\"deep\":[1,2]},\"path\":{\"sib\":[3],"
                         "\"old\":{\"new\":true}},\"tail\":\"t\"}") == 0);
    orc_free(s);
    orc_json_unref(out);
    CHECK(keep->refs == 1 && sib->refs == 1 && v->refs == 1);
    orci_path_free(p);
    /* "$" is the value itself */
    p = compile("$", ORCI_PATH_REFERENCE);
    CHECK(orci_path_set(p, in, v, &out, msg, sizeof msg) == ORC_OK);
    CHECK(out == v && v->refs == 2);
    orc_json_unref(out);
    orci_path_free(p);
    /* only input reference paths can be set */
    p = compile("$$.a", ORCI_PATH_REFERENCE);
    CHECK(orci_path_set(p, in, v, &out, msg, sizeof msg) == ORC_EINVAL);
    CHECK(out == NULL && strstr(msg, "not a reference path") != NULL);
    orci_path_free(p);
    p = compile("$.a[*]", ORCI_PATH_JSONPATH);
    CHECK(orci_path_set(p, in, v, &out, NULL, 0) == ORC_EINVAL);
    orci_path_free(p);
    orc_json_unref(in);
    orc_json_unref(v);
  }
}

int main(void) {
  test_definite();
  test_no_copy();
  test_indefinite();
  test_scan();
  test_filters();
  test_roots();
  test_explain();
  test_compile_errors();
  test_set();
  printf("test_path: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
