/*
** JSON Schema validation (a subset; see schema_int.h).
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_int.h"
#include "schema_int.h"

/* The JSON pointer being visited; segments are pushed and popped around
** each recursion. A pointer longer than the buffer is cut with "...". */
typedef struct ptr {
  char s[4096];
  size_t len;
  int cut; /* the pointer did not fit */
} ptr;

static size_t ptr_push(ptr *p, const char *seg, size_t n) {
  size_t old = p->len, i;
  if (p->len + 1 < sizeof p->s) p->s[p->len++] = '/';
  for (i = 0; i < n; i++) {
    const char *esc = seg[i] == '~' ? "~0" : seg[i] == '/' ? "~1" : NULL;
    size_t k = esc ? 2 : 1;
    if (p->len + k + 4 >= sizeof p->s) {
      p->cut = 1;
      break;
    }
    memcpy(p->s + p->len, esc ? esc : seg + i, k);
    p->len += k;
  }
  p->s[p->len] = '\0';
  return old;
}

static size_t ptr_push_index(ptr *p, size_t i) {
  char num[32];
  int n = snprintf(num, sizeof num, "%zu", i);
  return ptr_push(p, num, (size_t)n);
}

static void ptr_pop(ptr *p, size_t old) {
  p->len = old;
  p->s[old] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(orc_error *err, const ptr *p, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (err == NULL) return ORC_EINVAL;
  /* a long pointer shows its end in the message: the offending key */
  if (p->len > 100 || p->cut)
    orci_error(err, ORC_EINVAL, NULL, "...%s: %s", p->s + p->len - 97, what);
  else
    orci_error(err, ORC_EINVAL, NULL, "%s: %s", p->s[0] ? p->s : "(root)",
               what);
  /* a pointer longer than where holds is cut (the message shows its end) */
  if (snprintf(err->where, sizeof err->where, "%s", p->s) < 0)
    err->where[0] = '\0';
  return ORC_EINVAL;
}

static const orc_json *kw(const orc_json *schema, const char *name) {
  return orc_json_object_find(schema, name, strlen(name));
}

static int is_number(const orc_json *v) {
  orc_json_type t = orc_json_type_of(v);
  return t == ORC_JSON_INT || t == ORC_JSON_FLOAT;
}

/* The type name a value has in JSON Schema's vocabulary. */
static const char *type_of(const orc_json *v) {
  switch (orc_json_type_of(v)) {
  case ORC_JSON_NULL:
    return "null";
  case ORC_JSON_BOOL:
    return "boolean";
  case ORC_JSON_INT:
    return "integer";
  case ORC_JSON_FLOAT:
    return "number";
  case ORC_JSON_STRING:
    return "string";
  case ORC_JSON_ARRAY:
    return "array";
  default:
    return "object";
  }
}

static int has_type(const orc_json *v, const char *name, size_t n) {
  orc_json_type t = orc_json_type_of(v);
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
  if (IS("null")) return t == ORC_JSON_NULL;
  if (IS("boolean")) return t == ORC_JSON_BOOL;
  if (IS("string")) return t == ORC_JSON_STRING;
  if (IS("array")) return t == ORC_JSON_ARRAY;
  if (IS("object")) return t == ORC_JSON_OBJECT;
  if (IS("number")) return is_number(v);
  if (IS("integer")) {
    double d;
    if (t == ORC_JSON_INT) return 1;
    if (t != ORC_JSON_FLOAT) return 0;
    d = orc_json_number(v);
    return isfinite(d) && floor(d) == d;
  }
#undef IS
  return 0;
}

static int known_type(const char *name, size_t n) {
  static const char *const names[] = {"null",   "boolean", "string", "array",
                                      "object", "number",  "integer"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof *names; i++)
    if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0) return 1;
  return 0;
}

/* Code points in a valid UTF-8 string: bytes that do not continue one. */
static size_t codepoints(const orc_json *v) {
  size_t len, i, n = 0;
  const char *s = orc_json_string_value(v, &len);
  for (i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

/* {====== checking a schema */

static int check(const orc_json *s, ptr *p, orc_error *err);

static int check_nonneg_int(const orc_json *s, const char *name, ptr *p,
                            orc_error *err) {
  const orc_json *v = kw(s, name);
  size_t old;
  int rc = ORC_OK;
  if (v == NULL) return ORC_OK;
  old = ptr_push(p, name, strlen(name));
  if (!has_type(v, "integer", 7) || orc_json_number(v) < 0)
    rc = fail(err, p, "must be a non-negative integer, not %s", type_of(v));
  ptr_pop(p, old);
  return rc;
}

static int check_number(const orc_json *s, const char *name, ptr *p,
                        orc_error *err) {
  const orc_json *v = kw(s, name);
  size_t old;
  int rc = ORC_OK;
  if (v == NULL) return ORC_OK;
  old = ptr_push(p, name, strlen(name));
  if (!is_number(v)) rc = fail(err, p, "must be a number, not %s", type_of(v));
  ptr_pop(p, old);
  return rc;
}

static int check(const orc_json *s, ptr *p, orc_error *err) {
  const orc_json *v;
  size_t old, i;
  int rc = ORC_OK;
  static const char *const counts[] = {"minLength", "maxLength", "minItems",
                                       "maxItems"};
  static const char *const numbers[] = {"minimum", "maximum",
                                        "exclusiveMinimum", "exclusiveMaximum"};
  if (orc_json_type_of(s) == ORC_JSON_BOOL) return ORC_OK;
  if (orc_json_type_of(s) != ORC_JSON_OBJECT)
    return fail(err, p, "a schema must be an object or a boolean, not %s",
                type_of(s));
  if ((v = kw(s, "type")) != NULL) {
    old = ptr_push(p, "type", 4);
    if (orc_json_type_of(v) == ORC_JSON_STRING) {
      size_t n;
      const char *name = orc_json_string_value(v, &n);
      if (!known_type(name, n)) rc = fail(err, p, "unknown type \"%s\"", name);
    } else if (orc_json_type_of(v) == ORC_JSON_ARRAY) {
      for (i = 0; i < orc_json_len(v) && rc == ORC_OK; i++) {
        const orc_json *t = orc_json_array_get(v, i);
        size_t n, o2 = ptr_push_index(p, i);
        const char *name = orc_json_type_of(t) == ORC_JSON_STRING
                               ? orc_json_string_value(t, &n)
                               : NULL;
        if (name == NULL || !known_type(name, n))
          rc = fail(err, p, "must be a type name");
        ptr_pop(p, o2);
      }
    } else {
      rc = fail(err, p, "must be a type name or a list of them, not %s",
                type_of(v));
    }
    ptr_pop(p, old);
    if (rc) return rc;
  }
  if ((v = kw(s, "enum")) != NULL && orc_json_type_of(v) != ORC_JSON_ARRAY) {
    old = ptr_push(p, "enum", 4);
    rc = fail(err, p, "must be an array, not %s", type_of(v));
    ptr_pop(p, old);
    return rc;
  }
  if ((v = kw(s, "required")) != NULL) {
    old = ptr_push(p, "required", 8);
    if (orc_json_type_of(v) != ORC_JSON_ARRAY)
      rc = fail(err, p, "must be an array of strings, not %s", type_of(v));
    for (i = 0; rc == ORC_OK && i < orc_json_len(v); i++)
      if (orc_json_type_of(orc_json_array_get(v, i)) != ORC_JSON_STRING) {
        size_t o2 = ptr_push_index(p, i);
        rc = fail(err, p, "must be a string, not %s",
                  type_of(orc_json_array_get(v, i)));
        ptr_pop(p, o2);
      }
    ptr_pop(p, old);
    if (rc) return rc;
  }
  if ((v = kw(s, "properties")) != NULL) {
    old = ptr_push(p, "properties", 10);
    if (orc_json_type_of(v) != ORC_JSON_OBJECT)
      rc = fail(err, p, "must be an object of schemas, not %s", type_of(v));
    for (i = 0; rc == ORC_OK && i < orc_json_len(v); i++) {
      size_t n, o2;
      const char *key = orc_json_string_value(orc_json_object_key(v, i), &n);
      o2 = ptr_push(p, key, n);
      rc = check(orc_json_object_value(v, i), p, err);
      ptr_pop(p, o2);
    }
    ptr_pop(p, old);
    if (rc) return rc;
  }
  if ((v = kw(s, "additionalProperties")) != NULL) {
    old = ptr_push(p, "additionalProperties", 20);
    rc = check(v, p, err);
    ptr_pop(p, old);
    if (rc) return rc;
  }
  if ((v = kw(s, "items")) != NULL) {
    old = ptr_push(p, "items", 5);
    rc = check(v, p, err);
    ptr_pop(p, old);
    if (rc) return rc;
  }
  for (i = 0; i < 4; i++) {
    if ((rc = check_nonneg_int(s, counts[i], p, err)) != ORC_OK) return rc;
    if ((rc = check_number(s, numbers[i], p, err)) != ORC_OK) return rc;
  }
  return ORC_OK;
}

int orci_schema_check(const orc_json *schema, orc_error *err) {
  ptr p;
  p.s[0] = '\0';
  p.len = 0;
  p.cut = 0;
  return check(schema, &p, err);
}

/* }====== */

/* {====== validating a value */

/* A short quote of a value for messages: its JSON text, cut at 60 bytes. */
static void quote(const orc_json *v, char *buf, size_t size) {
  char *text = orc_json_print(v, 0, NULL);
  if (text == NULL) {
    snprintf(buf, size, "a %s", type_of(v));
    return;
  }
  if (strlen(text) > 60)
    snprintf(buf, size, "%.57s...", text);
  else
    snprintf(buf, size, "%s", text);
  orc_free(text);
}

static int validate(const orc_json *s, const orc_json *v, ptr *p,
                    orc_error *err) {
  const orc_json *k;
  size_t i;
  int rc;
  char num[40], q[72];

  if (orc_json_type_of(s) == ORC_JSON_BOOL)
    return orc_json_is_true(s) ? ORC_OK
                               : fail(err, p, "no value is allowed here");
  if (orc_json_type_of(s) != ORC_JSON_OBJECT) return ORC_OK;

  if ((k = kw(s, "type")) != NULL) {
    int ok = 0;
    if (orc_json_type_of(k) == ORC_JSON_STRING) {
      size_t n;
      const char *name = orc_json_string_value(k, &n);
      ok = has_type(v, name, n);
      if (!ok) return fail(err, p, "expected %s, got %s", name, type_of(v));
    } else if (orc_json_type_of(k) == ORC_JSON_ARRAY) {
      orci_buf names = {0};
      for (i = 0; i < orc_json_len(k) && !ok; i++) {
        size_t n;
        const orc_json *t = orc_json_array_get(k, i);
        const char *name;
        if (orc_json_type_of(t) != ORC_JSON_STRING) continue;
        name = orc_json_string_value(t, &n);
        ok = has_type(v, name, n);
        if (i > 0) orci_buf_adds(&names, " or ");
        orci_buf_add(&names, name, n);
      }
      if (!ok) {
        orci_buf_addc(&names, '\0');
        rc = fail(err, p, "expected %s, got %s",
                  names.failed ? "another type" : names.p, type_of(v));
        orci_buf_free(&names);
        return rc;
      }
      orci_buf_free(&names);
    }
  }

  if ((k = kw(s, "const")) != NULL && !orc_json_equal(k, v)) {
    quote(k, q, sizeof q);
    return fail(err, p, "must be %s", q);
  }
  if ((k = kw(s, "enum")) != NULL && orc_json_type_of(k) == ORC_JSON_ARRAY) {
    int found = 0;
    for (i = 0; i < orc_json_len(k) && !found; i++)
      found = orc_json_equal(orc_json_array_get(k, i), v);
    if (!found) {
      quote(k, q, sizeof q);
      return fail(err, p, "must be one of %s", q);
    }
  }

  if (is_number(v)) {
    double d = orc_json_number(v);
    static const char *const names[] = {"minimum", "maximum",
                                        "exclusiveMinimum", "exclusiveMaximum"};
    static const char *const says[] = {"at least", "at most", "greater than",
                                       "less than"};
    for (i = 0; i < 4; i++) {
      double lim;
      int bad;
      if ((k = kw(s, names[i])) == NULL || !is_number(k)) continue;
      lim = orc_json_number(k);
      bad = i == 0 ? d < lim : i == 1 ? d > lim : i == 2 ? d <= lim : d >= lim;
      if (orc_json_type_of(k) == ORC_JSON_INT &&
          orc_json_type_of(v) == ORC_JSON_INT) {
        int64_t a = orc_json_int_value(v), b = orc_json_int_value(k);
        bad = i == 0 ? a < b : i == 1 ? a > b : i == 2 ? a <= b : a >= b;
      }
      if (bad) {
        quote(k, num, sizeof num);
        return fail(err, p, "must be %s %s", says[i], num);
      }
    }
  }

  if (orc_json_type_of(v) == ORC_JSON_STRING) {
    size_t n = codepoints(v);
    if ((k = kw(s, "minLength")) != NULL && is_number(k) &&
        (double)n < orc_json_number(k)) {
      quote(k, num, sizeof num);
      return fail(err, p, "must be at least %s characters long", num);
    }
    if ((k = kw(s, "maxLength")) != NULL && is_number(k) &&
        (double)n > orc_json_number(k)) {
      quote(k, num, sizeof num);
      return fail(err, p, "must be at most %s characters long", num);
    }
  }

  if (orc_json_type_of(v) == ORC_JSON_ARRAY) {
    size_t n = orc_json_len(v);
    if ((k = kw(s, "minItems")) != NULL && is_number(k) &&
        (double)n < orc_json_number(k)) {
      quote(k, num, sizeof num);
      return fail(err, p, "must have at least %s items", num);
    }
    if ((k = kw(s, "maxItems")) != NULL && is_number(k) &&
        (double)n > orc_json_number(k)) {
      quote(k, num, sizeof num);
      return fail(err, p, "must have at most %s items", num);
    }
    if ((k = kw(s, "items")) != NULL) {
      for (i = 0; i < n; i++) {
        size_t old = ptr_push_index(p, i);
        rc = validate(k, orc_json_array_get(v, i), p, err);
        ptr_pop(p, old);
        if (rc) return rc;
      }
    }
  }

  if (orc_json_type_of(v) == ORC_JSON_OBJECT) {
    const orc_json *props = kw(s, "properties");
    const orc_json *extra = kw(s, "additionalProperties");
    if ((k = kw(s, "required")) != NULL &&
        orc_json_type_of(k) == ORC_JSON_ARRAY)
      for (i = 0; i < orc_json_len(k); i++) {
        size_t n;
        const orc_json *name = orc_json_array_get(k, i);
        const char *key;
        if (orc_json_type_of(name) != ORC_JSON_STRING) continue;
        key = orc_json_string_value(name, &n);
        if (orc_json_object_find(v, key, n) == NULL)
          return fail(err, p, "missing required property \"%s\"", key);
      }
    for (i = 0; i < orc_json_len(v); i++) {
      size_t n, old;
      const char *key = orc_json_string_value(orc_json_object_key(v, i), &n);
      const orc_json *sub = props ? orc_json_object_find(props, key, n) : NULL;
      old = ptr_push(p, key, n);
      if (sub != NULL)
        rc = validate(sub, orc_json_object_value(v, i), p, err);
      else if (extra != NULL && orc_json_type_of(extra) == ORC_JSON_BOOL)
        rc = orc_json_is_true(extra)
                 ? ORC_OK
                 : fail(err, p, "property \"%s\" is not allowed", key);
      else if (extra != NULL)
        rc = validate(extra, orc_json_object_value(v, i), p, err);
      else
        rc = ORC_OK;
      ptr_pop(p, old);
      if (rc) return rc;
    }
  }
  return ORC_OK;
}

int orci_schema_validate(const orc_json *schema, const orc_json *v,
                         orc_error *err) {
  ptr p;
  int rc = orci_schema_check(schema, err);
  if (rc != ORC_OK) {
    if (err) {
      char msg[sizeof err->message];
      if (snprintf(msg, sizeof msg, "invalid schema at %s", err->message) < 0)
        msg[0] = '\0';
      memcpy(err->message, msg, sizeof msg);
    }
    return rc;
  }
  p.s[0] = '\0';
  p.len = 0;
  p.cut = 0;
  return validate(schema, v, &p, err);
}

/* }====== */
