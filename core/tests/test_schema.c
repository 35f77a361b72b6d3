/*
** JSON Schema validation of tool arguments: each keyword accepts what it
** should, rejects what it should, and the error names the JSON pointer of
** the offending value.
*/
#include <stdio.h>
#include <string.h>

#include "json_int.h"
#include "schema_int.h"

#include "check.h"

static orc_json *parse(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) {
    fprintf(stderr, "bad test JSON: %s\n", err.message);
    return NULL;
  }
  return v;
}

/* Validate value against schema; where/message NULL means "must pass". */
static void expect(const char *schema, const char *value, const char *where,
                   const char *message) {
  orc_json *s = parse(schema), *v = parse(value);
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  CHECK(s != NULL && v != NULL);
  if (s == NULL || v == NULL) goto out;
  rc = orci_schema_validate(s, v, &err);
  if (where == NULL) {
    CHECK(rc == ORC_OK);
    if (rc != ORC_OK)
      fprintf(stderr, "  %s against %s: unexpected: %s\n", value, schema,
              err.message);
  } else {
    CHECK(rc == ORC_EINVAL);
    CHECK(strcmp(err.where, where) == 0);
    CHECK(strcmp(err.message, message) == 0);
    if (rc != ORC_EINVAL || strcmp(err.where, where) != 0 ||
        strcmp(err.message, message) != 0)
      fprintf(stderr, "  %s against %s: got [%s] %s\n", value, schema,
              err.where, err.message);
  }
out:
  orc_json_unref(s);
  orc_json_unref(v);
}

static const char *order =
    "{\"type\":\"object\",\"properties\":{"
    "\"order_id\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":5},"
    "\"qty\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"
    "\"mode\":{\"enum\":[\"air\",\"sea\"]},"
    "\"items\":{\"type\":\"array\",\"maxItems\":3,\"items\":{\"type\":"
    "\"object\","
    "\"properties\":{\"sku\":{\"type\":\"string\"},\"price\":{\"type\":"
    "\"number\",\"exclusiveMinimum\":0}},\"required\":[\"sku\"],"
    "\"additionalProperties\":false}},"
    "\"a/b~c\":{\"type\":[\"string\",\"null\"]}},"
    "\"required\":[\"order_id\"],\"additionalProperties\":{\"type\":"
    "\"boolean\"}}";

static void check_keywords(void) {
  expect(order, "{\"order_id\":\"42\"}", NULL, NULL);
  expect(order,
         "{\"order_id\":\"ab\",\"qty\":10,\"mode\":\"sea\",\"items\":[{\"sku\":"
         "\"x\",\"price\":0.5}],\"a/b~c\":null,\"gift\":true}",
         NULL, NULL);
  expect(order, "[]", "", "(root): expected object, got array");
  expect(order, "{}", "", "(root): missing required property \"order_id\"");
  expect(order, "{\"order_id\":42}", "/order_id",
         "/order_id: expected string, got integer");
  expect(order, "{\"order_id\":\"a\"}", "/order_id",
         "/order_id: must be at least 2 characters long");
  expect(order, "{\"order_id\":\"abcdef\"}", "/order_id",
         "/order_id: must be at most 5 characters long");
  /* lengths count code points, not bytes: 5 two-byte letters pass */
  expect(order, "{\"order_id\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
         NULL, NULL);
  expect(order, "{\"order_id\":\"ab\",\"qty\":0}", "/qty",
         "/qty: must be at least 1");
  expect(order, "{\"order_id\":\"ab\",\"qty\":11}", "/qty",
         "/qty: must be at most 10");
  expect(order, "{\"order_id\":\"ab\",\"qty\":2.0}", NULL, NULL);
  expect(order, "{\"order_id\":\"ab\",\"qty\":2.5}", "/qty",
         "/qty: expected integer, got number");
  expect(order, "{\"order_id\":\"ab\",\"mode\":\"rail\"}", "/mode",
         "/mode: must be one of [\"air\",\"sea\"]");
  expect(order, "{\"order_id\":\"ab\",\"items\":[{\"sku\":\"a\"},{}]}",
         "/items/1", "/items/1: missing required property \"sku\"");
  expect(order, "{\"order_id\":\"ab\",\"items\":[{\"sku\":\"a\",\"price\":0}]}",
         "/items/0/price", "/items/0/price: must be greater than 0");
  expect(
      order, "{\"order_id\":\"ab\",\"items\":[{\"sku\":\"a\",\"colour\":1}]}",
      "/items/0/colour", "/items/0/colour: property \"colour\" is not allowed");
  expect(order,
         "{\"order_id\":\"ab\",\"items\":[{\"sku\":\"a\"},{\"sku\":"
         "\"b\"},{\"sku\":\"c\"},{\"sku\":\"d\"}]}",
         "/items", "/items: must have at most 3 items");
  expect(order, "{\"order_id\":\"ab\",\"gift\":\"yes\"}", "/gift",
         "/gift: expected boolean, got string");
  /* pointer escapes: '/' is ~1 and '~' is ~0 */
  expect(order, "{\"order_id\":\"ab\",\"a/b~c\":1}", "/a~1b~0c",
         "/a~1b~0c: expected string or null, got integer");
  expect("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2.0]}", NULL, NULL);
  expect("{\"const\":3}", "4", "", "(root): must be 3");
  expect("{\"minItems\":1}", "[]", "", "(root): must have at least 1 items");
  expect("{\"exclusiveMaximum\":1}", "1", "", "(root): must be less than 1");
  expect("true", "{\"x\":1}", NULL, NULL);
  expect("{\"properties\":{\"x\":false}}", "{\"x\":1}", "/x",
         "/x: no value is allowed here");
  /* unknown keywords are ignored */
  expect("{\"type\":\"string\",\"format\":\"email\",\"description\":\"d\"}",
         "\"x\"", NULL, NULL);
  /* big integers compare exactly */
  expect("{\"maximum\":9007199254740993}", "9007199254740994", "",
         "(root): must be at most 9007199254740993");
}

static void check_bad_schemas(void) {
  static const char *const cases[][3] = {
      {"[]", "", "(root): a schema must be an object or a boolean, not array"},
      {"{\"type\":\"float\"}", "/type", "/type: unknown type \"float\""},
      {"{\"type\":[\"string\",1]}", "/type/1", "/type/1: must be a type name"},
      {"{\"required\":\"x\"}", "/required",
       "/required: must be an array of strings, not string"},
      {"{\"properties\":{\"id\":{\"type\":3}}}", "/properties/id/type",
       "/properties/id/type: must be a type name or a list of them, not "
       "integer"},
      {"{\"items\":{\"minLength\":-1}}", "/items/minLength",
       "/items/minLength: must be a non-negative integer, not integer"},
      {"{\"maximum\":\"9\"}", "/maximum",
       "/maximum: must be a number, not string"},
      {"{\"enum\":{}}", "/enum", "/enum: must be an array, not object"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    orc_json *s = parse(cases[i][0]), *v = parse("1");
    orc_error err;
    char want[300];
    CHECK(orci_schema_check(s, &err) == ORC_EINVAL);
    CHECK(strcmp(err.where, cases[i][1]) == 0);
    CHECK(strcmp(err.message, cases[i][2]) == 0);
    if (strcmp(err.message, cases[i][2]) != 0)
      fprintf(stderr, "  %s: got [%s] %s\n", cases[i][0], err.where,
              err.message);
    CHECK(orci_schema_validate(s, v, &err) == ORC_EINVAL);
    snprintf(want, sizeof want, "invalid schema at %s", cases[i][2]);
    CHECK(strcmp(err.message, want) == 0);
    orc_json_unref(s);
    orc_json_unref(v);
  }
}

/* A pointer longer than the buffer is cut, never overflowed. */
static void check_deep(void) {
  char schema[8000], value[8000];
  size_t i, n = 200, a = 0, b = 0;
  orc_json *s, *v;
  orc_error err;
  for (i = 0; i < n; i++) {
    a += (size_t)snprintf(schema + a, sizeof schema - a,
                          "{\"properties\":{\"key%zu\":", i);
    b += (size_t)snprintf(value + b, sizeof value - b, "{\"key%zu\":", i);
  }
  a += (size_t)snprintf(schema + a, sizeof schema - a, "{\"type\":\"string\"}");
  b += (size_t)snprintf(value + b, sizeof value - b, "1");
  for (i = 0; i < n; i++) {
    a += (size_t)snprintf(schema + a, sizeof schema - a, "}}");
    b += (size_t)snprintf(value + b, sizeof value - b, "}");
  }
  s = parse(schema);
  v = parse(value);
  CHECK(s && v && orci_schema_validate(s, v, &err) == ORC_EINVAL);
  CHECK(strncmp(err.message, "...", 3) == 0);
  CHECK(strstr(err.message, "/key199: expected string, got integer") != NULL);
  CHECK(strncmp(err.where, "/key0/key1/key2/", 16) == 0);
  orc_json_unref(s);
  orc_json_unref(v);
}

int main(void) {
  check_keywords();
  check_bad_schemas();
  check_deep();
  printf("test_schema: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
