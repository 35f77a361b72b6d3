/*
** C-level tests of orc_json: parsing, printing, sharing and errors.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"

#include "check.h"

/* Parse text and print it back compactly; returns an owned string or NULL. */
static char *reprint(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  char *out;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) return NULL;
  out = orc_json_print(v, 0, NULL);
  orc_json_unref(v);
  return out;
}

/* The counted size of the compact text is the printed length. */
static void check_size(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  char *out;
  size_t len = 0;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) return;
  out = orc_json_print(v, 0, &len);
  CHECK(out != NULL && orci_json_text_size(v) == len);
  orc_free(out);
  orc_json_unref(v);
}

static void check_roundtrip(const char *text, const char *expect) {
  char *out = reprint(text);
  check_size(text);
  CHECK(out != NULL);
  if (out && strcmp(out, expect) != 0) {
    nfailed++;
    fprintf(stderr, "roundtrip of %s: got %s, want %s\n", text, out, expect);
  }
  orc_free(out);
}

static void check_error(const char *text, const char *fragment) {
  orc_json *v = NULL;
  orc_error err;
  int rc = orc_json_parse(text, strlen(text), NULL, &v, &err);
  CHECK(rc == ORC_EJSON);
  CHECK(v == NULL);
  if (rc == ORC_EJSON && strstr(err.message, fragment) == NULL) {
    nfailed++;
    fprintf(stderr, "error for %s: got \"%s\", want \"%s\"\n", text,
            err.message, fragment);
  }
}

static void test_numbers(void) {
  char buf[40];
  check_roundtrip("[1,1.0,-0.0,1e300,0.1,9007199254740993]",
                  "[1,1.0,-0.0,1e+300,0.1,9007199254740993]");
  check_roundtrip("[-9223372036854775808,9223372036854775807]",
                  "[-9223372036854775808,9223372036854775807]");
  check_roundtrip("9223372036854775808", "9.223372036854776e+18");
  check_roundtrip("2.5E-3", "0.0025");
  CHECK(orc_json_format_double(1.0 / 3, buf) == strlen("0.3333333333333333"));
  CHECK(strcmp(buf, "0.3333333333333333") == 0);
  orc_json_format_double(100.0, buf);
  CHECK(strcmp(buf, "100.0") == 0);
  orc_json_format_double(1e21, buf);
  CHECK(strcmp(buf, "1e+21") == 0);
}

static void test_structure(void) {
  check_roundtrip(" { \"b\" : [ ] , \"a\" : { } } ", "{\"b\":[],\"a\":{}}");
  check_roundtrip("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
  check_roundtrip("\"\\u00e9\\ud83d\\ude00\\n\\\"\"", "\"é😀\\n\\\"\"");
  check_roundtrip("\"\\u001f\"", "\"\\u001f\"");
}

static void test_errors(void) {
  check_error("", "the text holds no value");
  check_error("[1,", "byte 3 (line 1, column 4): unexpected end of input");
  check_error("{\"a\":\n  x}", "byte 8 (line 2, column 3)");
  check_error("[01]", "leading zeros");
  check_error("[1]]", "unexpected character ']'");
  check_error("\"\\ud800\"", "lone UTF-16 surrogate");
  check_error("\"\xC0\xAF\"", "invalid UTF-8");
  {
    orc_json_limits lim = {4, 0, 0};
    orc_json *v = NULL;
    orc_error err;
    CHECK(orc_json_parse("[1,2]", 5, &lim, &v, &err) == ORC_EJSON);
    CHECK(strstr(err.message, "over the limit of 4 bytes") != NULL);
  }
  {
    orc_json_limits lim = {0, 2, 0};
    orc_json *v = NULL;
    CHECK(orc_json_parse("[[[1]]]", 7, &lim, &v, NULL) == ORC_EJSON);
    CHECK(orc_json_parse("[[1]]", 5, &lim, &v, NULL) == ORC_OK);
    orc_json_unref(v);
  }
}

static void test_sharing(void) {
  /* One sub-tree referenced by two parents: no copy, freed once. */
  orc_json *shared = NULL, *a, *b, *k;
  char *out;
  CHECK(orc_json_parse("{\"doc\":[1,2,3]}", 15, NULL, &shared, NULL) == ORC_OK);
  a = orc_json_array_new(2);
  orc_json_array_set(a, 0, orc_json_ref(shared));
  orc_json_array_set(a, 1, orc_json_ref(shared));
  b = orc_json_object_new(1);
  k = orc_json_string("x", 1);
  orc_json_object_set(b, 0, k, orc_json_ref(shared));
  CHECK(shared->refs == 4);
  out = orc_json_print(a, 0, NULL);
  CHECK(out && strcmp(out, "[{\"doc\":[1,2,3]},{\"doc\":[1,2,3]}]") == 0);
  orc_free(out);
  CHECK(orc_json_equal(orc_json_array_get(a, 0), orc_json_object_value(b, 0)));
  CHECK(orc_json_object_find(b, "x", 1) == shared);
  CHECK(orc_json_object_find(b, "y", 1) == NULL);
  orc_json_unref(a);
  orc_json_unref(b);
  CHECK(shared->refs == 1);
  orc_json_unref(shared);
}

static void test_utf8(void) {
  CHECK(orc_utf8_check("abc", 3) == (size_t)-1);
  CHECK(orc_utf8_check("\xE2\x82\xAC", 3) == (size_t)-1); /* euro sign */
  CHECK(orc_utf8_check("a\xED\xA0\x80", 4) == 1);         /* surrogate */
  CHECK(orc_utf8_check("\xF4\x90\x80\x80", 4) == 0);      /* > U+10FFFF */
  CHECK(orc_utf8_check("\xE2\x82", 2) == 0);              /* truncated */
}

static void test_equal(void) {
  orc_json *a = NULL, *b = NULL;
  orc_json_parse("{\"a\":[1,2.0],\"b\":null}", 22, NULL, &a, NULL);
  orc_json_parse("{\"b\":null,\"a\":[1.0,2]}", 22, NULL, &b, NULL);
  CHECK(a && b && orc_json_equal(a, b));
  orc_json_unref(a);
  orc_json_unref(b);
}

static void test_sizes(void) {
  static const char *const texts[] = {
      "null",
      "true",
      "0",
      "-12",
      "9007199254740993",
      "1.5e300",
      "0.1",
      "-0.0",
      "\"\"",
      "\"a\\\"b\\\\c\\n\\u0001\\u00e9\\ud83d\\ude00\"",
      "[]",
      "{}",
      "[1,[2,[3]],{\"k\":\"v\"}]",
      "{\"a\":{\"b\":[true,false,null,1e-7]},\"\\t\":\"\\u2028\"}"};
  size_t i;
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
    check_size(texts[i]);
}

/* The cached text size equals the printed length, for fresh values, for
** values built from cached children, and asked twice. */
static void test_text_size(void) {
  static const char *const texts[] = {
      "null",
      "true",
      "false",
      "0",
      "-12345678901234",
      "1.5",
      "1e300",
      "\"\"",
      "\"a\\\"b\\u0001\\n\u00e9\"",
      "[]",
      "{}",
      "[1,[2,[3,{\"k\":\"v\"}]],null]",
      "{\"a\":{\"b\":[true,false,0.25]},\"c\":\"\\t\"}"};
  size_t i;
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    orc_json *v = NULL, *arr;
    size_t len;
    char *printed;
    CHECK(orc_json_parse(texts[i], strlen(texts[i]), NULL, &v, NULL) == ORC_OK);
    if (v == NULL) continue;
    printed = orc_json_print(v, 0, &len);
    CHECK(orci_json_text_size(v) == len);
    CHECK(orci_json_text_size(v) == len); /* cached */
    arr = orc_json_array_new(2);          /* a new node over cached children */
    orc_json_array_set(arr, 0, orc_json_ref(v));
    orc_json_array_set(arr, 1, orc_json_ref(v));
    CHECK(orci_json_text_size(arr) == 2 * len + 3);
    orc_free(printed);
    orc_json_unref(arr);
    orc_json_unref(v);
  }
}

int main(void) {
  test_text_size();
  test_sizes();
  test_numbers();
  test_structure();
  test_errors();
  test_sharing();
  test_utf8();
  test_equal();
  printf("test_json: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
