/*
** Choice rules: comparisons, type tests, And/Or/Not.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execution_int.h"

/* {====== Choice */

static int is_number(const orc_json *v) {
  return v && (orc_json_type_of(v) == ORC_JSON_INT ||
               orc_json_type_of(v) == ORC_JSON_FLOAT);
}

static int str_cmp(const orc_json *a, const orc_json *b) {
  size_t la, lb;
  const char *sa = orc_json_string_value(a, &la);
  const char *sb = orc_json_string_value(b, &lb);
  int r = memcmp(sa, sb, la < lb ? la : lb);
  return r ? r : (la > lb) - (la < lb);
}

/* StringMatches: '*' matches any run; '\*' and '\\' are literal. */
static int glob(const char *p, const char *pe, const char *s, const char *se) {
  while (p < pe) {
    if (*p == '*') {
      p++;
      if (p == pe) return 1;
      for (; s <= se; s++)
        if (glob(p, pe, s, se)) return 1;
      return 0;
    }
    if (*p == '\\' && p + 1 < pe) p++;
    if (s == se || *s != *p) return 0;
    p++;
    s++;
  }
  return s == se;
}

int orci_ts_of(const orc_json *v, int64_t *ms) {
  size_t len;
  const char *s;
  if (v == NULL || orc_json_type_of(v) != ORC_JSON_STRING) return 0;
  s = orc_json_string_value(v, &len);
  return orci_parse_timestamp(s, len, ms) == 0;
}

static int cmp_result(int op_base, int op, int c) {
  switch (op - op_base) {
  case 0:
    return c == 0;
  case 1:
    return c < 0;
  case 2:
    return c > 0;
  case 3:
    return c <= 0;
  default:
    return c >= 0;
  }
}

/* 1 match, 0 no match, -1 runtime failure (f set). */
int orci_rule_eval(orci_frame *F, const orci_rule *r, orc_json *in,
                   orci_failure *f) {
  orci_env env;
  orc_json *v = NULL, *operand = NULL;
  size_t i;
  int res = 0, c;
  switch (r->op) {
  case ORCI_OP_AND:
    for (i = 0; i < r->n; i++) {
      int x = orci_rule_eval(F, r->children[i], in, f);
      if (x <= 0) return x;
    }
    return 1;
  case ORCI_OP_OR:
    for (i = 0; i < r->n; i++) {
      int x = orci_rule_eval(F, r->children[i], in, f);
      if (x != 0) return x;
    }
    return 0;
  case ORCI_OP_NOT: {
    int x = orci_rule_eval(F, r->children[0], in, f);
    return x < 0 ? x : !x;
  }
  default:
    break;
  }
  orci_frame_env(F, &env, in);
  if (orci_path_eval(r->variable, &env, &v) != ORC_OK) v = NULL;
  if (r->op == ORCI_OP_IS_PRESENT) {
    res = (v != NULL) == orc_json_is_true(r->operand);
    orc_json_unref(v);
    return res;
  }
  if (v == NULL) {
    char *text = orci_compact(in);
    f->error = "States.Runtime";
    f->cause = orci_runtime_cause(F,
                                  "Invalid path '%s': The choice state's "
                                  "condition path references an invalid "
                                  "value.",
                                  orci_path_text(r->variable));
    free(text);
    return -1;
  }
  if (r->operand_path) {
    if (orci_path_eval(r->operand_path, &env, &operand) != ORC_OK) {
      orc_json_unref(v);
      f->error = "States.Runtime";
      f->cause = orci_runtime_cause(F,
                                    "Invalid path '%s': The choice state's "
                                    "condition path references an invalid "
                                    "value.",
                                    orci_path_text(r->operand_path));
      return -1;
    }
  } else {
    operand = orc_json_ref(r->operand);
  }
  switch (r->op) {
  case ORCI_OP_IS_NULL:
    res = (orc_json_type_of(v) == ORC_JSON_NULL) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_NUMERIC:
    res = is_number(v) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_STRING:
    res = (orc_json_type_of(v) == ORC_JSON_STRING) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_BOOLEAN:
    res = (orc_json_type_of(v) == ORC_JSON_BOOL) == orc_json_is_true(operand);
    break;
  case ORCI_OP_IS_TIMESTAMP: {
    int64_t ms;
    res = orci_ts_of(v, &ms) == orc_json_is_true(operand);
    break;
  }
  case ORCI_OP_STRING_MATCHES:
    if (orc_json_type_of(v) == ORC_JSON_STRING &&
        orc_json_type_of(operand) == ORC_JSON_STRING) {
      size_t pl, sl;
      const char *p = orc_json_string_value(operand, &pl);
      const char *s = orc_json_string_value(v, &sl);
      res = glob(p, p + pl, s, s + sl);
    }
    break;
  case ORCI_OP_BOOLEAN_EQ:
    res = orc_json_type_of(v) == ORC_JSON_BOOL &&
          orc_json_type_of(operand) == ORC_JSON_BOOL &&
          orc_json_is_true(v) == orc_json_is_true(operand);
    break;
  default:
    if (r->op >= ORCI_OP_STRING_EQ && r->op <= ORCI_OP_STRING_GE) {
      if (orc_json_type_of(v) == ORC_JSON_STRING &&
          orc_json_type_of(operand) == ORC_JSON_STRING)
        res = cmp_result(ORCI_OP_STRING_EQ, r->op, str_cmp(v, operand));
    } else if (r->op >= ORCI_OP_NUMERIC_EQ && r->op <= ORCI_OP_NUMERIC_GE) {
      if (is_number(v) && is_number(operand)) {
        if (orc_json_type_of(v) == ORC_JSON_INT &&
            orc_json_type_of(operand) == ORC_JSON_INT) {
          int64_t a = orc_json_int_value(v), b = orc_json_int_value(operand);
          c = (a > b) - (a < b);
        } else {
          double a = orc_json_number(v), b = orc_json_number(operand);
          c = (a > b) - (a < b);
        }
        res = cmp_result(ORCI_OP_NUMERIC_EQ, r->op, c);
      }
    } else { /* timestamps */
      int64_t a, b;
      if (orci_ts_of(v, &a) && orci_ts_of(operand, &b))
        res = cmp_result(ORCI_OP_TIMESTAMP_EQ, r->op, (a > b) - (a < b));
    }
    break;
  }
  orc_json_unref(v);
  orc_json_unref(operand);
  return res;
}

/* }====== */
