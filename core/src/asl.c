/*
** Loading and validating Amazon States Language definitions: every problem
** is reported with the JSON pointer of its node, and a valid definition is
** compiled once into an orc_machine (states in an array, transitions as
** indexes, paths, templates and rules pre-parsed).
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asl_int.h"

/* {====== diagnostics */

int orci_diag_add(orc_diagnostics *d, const char *pointer, const char *fmt,
                  ...) {
  char msg[512];
  va_list ap;
  orc_diagnostic *items;
  if (d == NULL) return 0;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  items = (orc_diagnostic *)realloc(d->items, (d->n + 1) * sizeof *items);
  if (items == NULL) return -1;
  d->items = items;
  items[d->n].pointer = strdup(pointer);
  items[d->n].message = strdup(msg);
  if (items[d->n].pointer == NULL || items[d->n].message == NULL) {
    free(items[d->n].pointer);
    free(items[d->n].message);
    return -1;
  }
  d->n++;
  return 0;
}

void orc_diagnostics_free(orc_diagnostics *d) {
  size_t i;
  if (d == NULL) return;
  for (i = 0; i < d->n; i++) {
    free(d->items[i].pointer);
    free(d->items[i].message);
  }
  free(d->items);
  d->items = NULL;
  d->n = 0;
}

/* }====== */

/* {====== timestamps */

static int digits(const char *s, size_t n, int *out) {
  int v = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int orci_parse_timestamp(const char *s, size_t len, int64_t *ms) {
  int y, mo, d, h, mi, sec, frac_ms = 0, off = 0;
  size_t i = 19;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (len < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
      s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T') ||
      digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
      s[16] != ':' || digits(s + 17, 2, &sec))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
      sec > 60)
    return -1;
  if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return -1;
  if (s[i] == '.') {
    int nd = 0;
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (nd < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
      nd++;
      i++;
    }
    if (nd == 0) return -1;
    while (nd < 3) {
      frac_ms *= 10;
      nd++;
    }
  }
  if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i + 6 == len && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
        digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
      return -1;
    off = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return -1;
  }
  if (i != len) return -1;
  *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
         (int64_t)off * 60) *
            1000 +
        frac_ms;
  return 0;
}

static char *put_digits(char *p, unsigned v, int n) {
  int i;
  for (i = n - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10u);
    v /= 10u;
  }
  return p + n;
}

/* Written out by hand: this runs for every event and context object, and
** snprintf + gmtime_r were a third of a Pass state's cost. */
void orci_format_timestamp(int64_t ms, char *buf) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400, z, era, doe, yoe, y, doy, mp;
  unsigned msr = (unsigned)(ms - secs * 1000), d, m;
  char *p = buf;
  /* the civil date of a day count (days since 1970-01-01), by 400-year
  ** eras of 146097 days starting on March 1st */
  z = days + 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  if (m <= 2) y++;
  p = put_digits(p, (unsigned)(y % 10000 + 10000) % 10000u, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = 'T';
  p = put_digits(p, (unsigned)(sod / 3600), 2);
  *p++ = ':';
  p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
  *p++ = ':';
  p = put_digits(p, (unsigned)(sod % 60), 2);
  *p++ = '.';
  p = put_digits(p, msr % 1000u, 3);
  *p++ = 'Z';
  *p = '\0';
}

/* }====== */

/* {====== compile context */

typedef struct cc {
  orc_machine *M;
  orc_diagnostics *diag;
  int nerrors;
  int oom;
  int unsupported;   /* a feature not supported yet */
  int jsonata_top;   /* the machine's QueryLanguage is JSONata */
  int jsonata;       /* the state being compiled is a JSONata state */
  size_t state_plen; /* pointer length of that state (for locations) */
  char ptr[1024];    /* JSON pointer of the node being compiled */
  size_t plen;
  /* state name -> index, sorted for bsearch */
  struct name_ix {
    const char *name;
    size_t len;
    int ix;
  } * names;
  size_t nnames;
  struct seen_name { /* every state of every branch, for uniqueness */
    const char *name;
    size_t len;
    char *pointer;
  } * all;
  size_t nall, capall;
} cc;

static void problem(cc *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void problem(cc *c, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->nerrors++;
  if (orci_diag_add(c->diag, c->ptr, "%s", msg) < 0) c->oom = 1;
}

/* Descend into key (RFC 6901 escaped); returns the old length to restore. */
static size_t push_key(cc *c, const char *key, size_t len) {
  size_t old = c->plen, i;
  if (c->plen + 1 < sizeof c->ptr) c->ptr[c->plen++] = '/';
  for (i = 0; i < len && c->plen + 3 < sizeof c->ptr; i++) {
    if (key[i] == '~' || key[i] == '/') {
      c->ptr[c->plen++] = '~';
      c->ptr[c->plen++] = key[i] == '~' ? '0' : '1';
    } else {
      c->ptr[c->plen++] = key[i];
    }
  }
  c->ptr[c->plen] = '\0';
  return old;
}

static size_t push_index(cc *c, size_t i) {
  char num[24];
  int n = snprintf(num, sizeof num, "%zu", i);
  return push_key(c, num, (size_t)n);
}

static void pop(cc *c, size_t old) {
  c->plen = old;
  c->ptr[old] = '\0';
}

static orc_json *field(orc_json *obj, const char *name) {
  return orc_json_object_find(obj, name, strlen(name));
}

static char *dupstr(cc *c, const char *s, size_t len) {
  char *p = (char *)malloc(len + 1);
  if (p == NULL) {
    c->oom = 1;
    return NULL;
  }
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

static int is_type(orc_json *v, orc_json_type t) {
  return v && orc_json_type_of(v) == t;
}

static int is_number(orc_json *v) {
  return v && (orc_json_type_of(v) == ORC_JSON_INT ||
               orc_json_type_of(v) == ORC_JSON_FLOAT);
}

/* An integer-valued number (1 or 1.0) in [lo, hi]. */
static int get_int(orc_json *v, int64_t lo, int64_t hi, int64_t *out) {
  double d;
  if (!is_number(v)) return 0;
  if (orc_json_type_of(v) == ORC_JSON_INT) {
    int64_t i = orc_json_int_value(v);
    if (i < lo || i > hi) return 0;
    *out = i;
    return 1;
  }
  d = orc_json_number(v);
  if (d != (double)(int64_t)d || d < (double)lo || d > (double)hi) return 0;
  *out = (int64_t)d;
  return 1;
}

/* Workflow variables (Assign, "$name" paths) arrive with the executor's
** second part: until then a definition using them is refused, never run
** with them ignored. */
static orci_tmpl *compile_template(cc *c, orc_json *obj, const char *name);

/* Assign: an object template whose values become workflow variables. */
static orci_tmpl *compile_assign(cc *c, orc_json *obj) {
  orc_json *v = orc_json_object_find(obj, "Assign", 6);
  if (v == NULL) return NULL;
  if (!is_type(v, ORC_JSON_OBJECT)) {
    size_t old = push_key(c, "Assign", 6);
    problem(c, "Assign must be an object");
    pop(c, old);
    return NULL;
  }
  return compile_template(c, obj, "Assign");
}

/* Check every member of obj is in allowed (NULL-terminated). */
static void check_fields(cc *c, orc_json *obj, const char *const *allowed,
                         const char *what) {
  size_t i, n = orc_json_len(obj);
  for (i = 0; i < n; i++) {
    size_t kl;
    const char *k = orc_json_string_value(orc_json_object_key(obj, i), &kl);
    const char *const *a;
    for (a = allowed; *a; a++)
      if (strlen(*a) == kl && memcmp(*a, k, kl) == 0) break;
    if (*a == NULL) {
      size_t old = push_key(c, k, kl);
      problem(c, "field '%s' is not allowed in %s", k, what);
      pop(c, old);
    }
  }
}

/* A state's fields: JSONPath states take jp, JSONata states ja; a JSONPath
** field in a JSONata state is named as such. */
static void state_fields(cc *c, orc_json *obj, const char *const *jp,
                         const char *const *ja, const char *what) {
  size_t i, n = orc_json_len(obj);
  if (!c->jsonata) {
    for (i = 0; i < n; i++) { /* a JSONata field in a JSONPath state */
      size_t kl, old;
      const char *k = orc_json_string_value(orc_json_object_key(obj, i), &kl);
      const char *const *a;
      int in_ja = 0, in_jp = 0;
      for (a = jp; *a; a++)
        if (strlen(*a) == kl && memcmp(*a, k, kl) == 0) in_jp = 1;
      for (a = ja; *a; a++)
        if (strlen(*a) == kl && memcmp(*a, k, kl) == 0) in_ja = 1;
      if (in_jp) continue;
      old = push_key(c, k, kl);
      if (in_ja)
        problem(c,
                "The QueryLanguage is set to 'JSONPath', but field '%s' is "
                "only supported for the 'JSONata' QueryLanguage",
                k);
      else
        problem(c, "field '%s' is not allowed in %s", k, what);
      pop(c, old);
    }
    return;
  }
  for (i = 0; i < n; i++) {
    size_t kl, old;
    const char *k = orc_json_string_value(orc_json_object_key(obj, i), &kl);
    const char *const *a;
    int in_jp = 0;
    for (a = ja; *a; a++)
      if (strlen(*a) == kl && memcmp(*a, k, kl) == 0) break;
    if (*a) continue;
    for (a = jp; *a; a++)
      if (strlen(*a) == kl && memcmp(*a, k, kl) == 0) in_jp = 1;
    old = push_key(c, k, kl);
    if (in_jp)
      problem(c,
              "The QueryLanguage is set to 'JSONata', but field '%s' is only "
              "supported for the 'JSONPath' QueryLanguage",
              k);
    else
      problem(c, "field '%s' is not allowed in %s written in JSONata", k, what);
    pop(c, old);
  }
}

/* Compile the path at member name of obj (a string, or null when
** null_ok). Returns the path, or NULL (absent, null, or invalid). */
static orci_path *compile_path(cc *c, orc_json *obj, const char *name, int kind,
                               int null_ok, int *is_null) {
  orc_json *v = field(obj, name);
  size_t old, len;
  const char *s;
  orci_path *p;
  char msg[256];
  if (is_null) *is_null = 0;
  if (v == NULL) return NULL;
  old = push_key(c, name, strlen(name));
  if (orc_json_type_of(v) == ORC_JSON_NULL && null_ok) {
    if (is_null) *is_null = 1;
    pop(c, old);
    return NULL;
  }
  if (!is_type(v, ORC_JSON_STRING)) {
    problem(c, "%s must be a string%s", name, null_ok ? " or null" : "");
    pop(c, old);
    return NULL;
  }
  s = orc_json_string_value(v, &len);
  p = orci_path_compile(s, len, kind, msg, sizeof msg);
  if (p == NULL) problem(c, "%s", msg);
  pop(c, old);
  return p;
}

static void expect_string(cc *c, orc_json *obj, const char *name) {
  orc_json *v = field(obj, name);
  if (v && !is_type(v, ORC_JSON_STRING)) {
    size_t old = push_key(c, name, strlen(name));
    problem(c, "%s must be a string", name);
    pop(c, old);
  }
}

/* }====== */

/* {====== templates */

static void tmpl_free(orci_tmpl *t) {
  size_t i;
  if (t == NULL) return;
  orc_json_unref(t->value);
  orci_path_free(t->path);
  orci_intrinsic_free(t->fn);
  orc_jsonata_free(t->expr);
  free(t->qpath);
  free(t->field);
  for (i = 0; i < t->n; i++) {
    if (t->keys) orc_json_unref(t->keys[i]);
    tmpl_free(t->items[i]);
  }
  free(t->keys);
  free(t->items);
  free(t);
}

static orci_tmpl *tmpl_new(cc *c, int kind) {
  orci_tmpl *t = (orci_tmpl *)calloc(1, sizeof *t);
  if (t == NULL)
    c->oom = 1;
  else
    t->kind = kind;
  return t;
}

/* Compile the dynamic value of "key.$" (a path or an intrinsic call). */
static orci_tmpl *tmpl_dynamic(cc *c, orc_json *v, const char *key,
                               size_t keylen) {
  size_t len;
  const char *s;
  char msg[256];
  orci_tmpl *t;
  if (!is_type(v, ORC_JSON_STRING)) {
    problem(c,
            "the value of '%.*s' must be a JSONPath or an intrinsic "
            "function (a string)",
            (int)keylen, key);
    return NULL;
  }
  s = orc_json_string_value(v, &len);
  if (orci_intrinsic_is_call(s, len)) {
    orci_intrinsic *fn = orci_intrinsic_compile(s, len, msg, sizeof msg);
    if (fn == NULL) {
      problem(c, "%s", msg);
      return NULL;
    }
    t = tmpl_new(c, ORCI_T_INTRINSIC);
    if (t == NULL) {
      orci_intrinsic_free(fn);
      return NULL;
    }
    t->fn = fn;
  } else {
    orci_path *p =
        orci_path_compile(s, len, ORCI_PATH_JSONPATH, msg, sizeof msg);
    if (p == NULL) {
      problem(c, "%s", msg);
      return NULL;
    }
    t = tmpl_new(c, ORCI_T_PATH);
    if (t == NULL) {
      orci_path_free(p);
      return NULL;
    }
    t->path = p;
  }
  t->field = dupstr(c, key, keylen);
  return t;
}

/* A JSONata state's string "{% expression %}" (the whole string). */
static int is_q_expr(orc_json *v) {
  size_t n;
  const char *p;
  if (!is_type(v, ORC_JSON_STRING)) return 0;
  p = orc_json_string_value(v, &n);
  return n >= 4 && p[0] == '{' && p[1] == '%' && p[n - 2] == '%' &&
         p[n - 1] == '}';
}

/* A name of a JSONata path step: letters, digits and '_', not a digit
** first. Returns its length (0: not one). */
static size_t q_name(const char *p, const char *end) {
  const char *q = p;
  if (q == end ||
      !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '_'))
    return 0;
  while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                     (*q >= '0' && *q <= '9') || *q == '_'))
    q++;
  return (size_t)(q - p);
}

/* Recognise "$states.input.a.b" and "$var.a.b" (t->qroot, t->qpath). */
static void q_fast_path(cc *c, orci_tmpl *t, const char *s, size_t n) {
  const char *p = s + 1, *end = s + n;
  size_t k, names = 0;
  char *out, *o;
  if (n < 2 || s[0] != '$') return;
  for (k = 0;; k++) { /* check the shape: names joined by '.' */
    size_t l = q_name(p, end);
    if (l == 0) return;
    p += l;
    names++;
    if (p == end) break;
    if (*p != '.') return;
    p++;
  }
  out = o = (char *)malloc(n + 1);
  if (out == NULL) {
    c->oom = 1;
    return;
  }
  for (p = s + 1; p < end;) { /* names, NUL-separated */
    size_t l = q_name(p, end);
    memcpy(o, p, l);
    o[l] = '\0';
    o += l + 1;
    p += l;
    if (p < end) p++; /* the '.' */
  }
  if (!strcmp(out, "states")) {
    static const char *const roots[] = {"input", "result", "errorOutput",
                                        "context"};
    const char *second = out + 7;
    int r = 0;
    for (k = 0; names > 1 && k < 4; k++)
      if (!strcmp(second, roots[k])) r = (int)k + 1;
    if (r == 0) {
      free(out);
      return;
    }
    t->qroot = r;
    t->nq = names - 2;
    memmove(out, second + strlen(second) + 1,
            (size_t)(o - second) - strlen(second) - 1);
  } else {
    t->qroot = ORCI_QR_VAR;
    t->nq = names - 1;
  }
  t->qpath = out;
}

/* "OPERAND OP OPERAND" where each operand is such a path or a number:
** the operands become t->items (the evaluator decides whenever they are
** not both numbers). */
static void q_fast_binary(cc *c, orci_tmpl *t, const char *s, size_t n) {
  static const char *const ops[] = {"<=", ">=", "!=", "+", "-",
                                    "*",  "/",  "<",  ">", "="};
  static const char codes[] = "lg!+-*/<>=";
  const char *end = s + n, *p = s, *a0, *a1, *b0;
  size_t k, ol = 0;
  int op = 0, side;
  orci_tmpl *operand[2] = {NULL, NULL};
  for (side = 0; side < 2; side++) {
    while (p < end && *p == ' ')
      p++;
    a0 = p;
    if (p < end && *p == '$') {
      p++;
      for (;;) {
        size_t l = q_name(p, end);
        if (l == 0) goto fail;
        p += l;
        if (p < end && *p == '.')
          p++;
        else
          break;
      }
    } else {
      while (p < end && *p >= '0' && *p <= '9')
        p++;
      if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
          p++;
      }
      if (p == a0 || p[-1] == '.') goto fail;
    }
    a1 = p;
    operand[side] = tmpl_new(c, a0[0] == '$' ? ORCI_T_JSONATA : ORCI_T_CONST);
    if (operand[side] == NULL) break;
    if (a0[0] == '$') {
      q_fast_path(c, operand[side], a0, (size_t)(a1 - a0));
      if (operand[side]->qroot == ORCI_QR_NONE) break;
    } else {
      char num[64];
      size_t l = (size_t)(a1 - a0) < sizeof num - 1 ? (size_t)(a1 - a0)
                                                    : sizeof num - 1;
      memcpy(num, a0, l);
      num[l] = '\0';
      operand[side]->value = strchr(num, '.')
                                 ? orc_json_float(strtod(num, NULL))
                                 : orc_json_int(strtoll(num, NULL, 10));
      if (operand[side]->value == NULL) break;
    }
    while (p < end && *p == ' ')
      p++;
    if (side == 1) break;
    b0 = p;
    for (k = 0; k < sizeof ops / sizeof ops[0]; k++) {
      ol = strlen(ops[k]);
      if ((size_t)(end - b0) >= ol && !memcmp(b0, ops[k], ol)) {
        op = codes[k];
        break;
      }
    }
    if (op == 0) break;
    p = b0 + ol;
  }
  if (op && operand[0] && operand[1] && p == end &&
      (operand[0]->kind == ORCI_T_CONST || operand[0]->qroot) &&
      (operand[1]->kind == ORCI_T_CONST || operand[1]->qroot) &&
      (t->items = (orci_tmpl **)calloc(2, sizeof *t->items)) != NULL) {
    t->items[0] = operand[0];
    t->items[1] = operand[1];
    t->n = 2;
    t->qop = op;
    return;
  }
fail:
  tmpl_free(operand[0]);
  tmpl_free(operand[1]);
}

/* Compile "{% expression %}" at the current pointer; its location (the
** field as causes name it, "Output/result") is the pointer below the
** state. */
static orci_tmpl *q_leaf(cc *c, orc_json *v) {
  size_t n;
  const char *p = orc_json_string_value(v, &n), *b = p + 2, *e = p + n - 2;
  const char *loc = c->plen > c->state_plen ? c->ptr + c->state_plen + 1 : "";
  orc_jsonata *x = NULL;
  orc_jsonata_error je;
  orci_tmpl *t;
  while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'))
    b++;
  while (e > b &&
         (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
    e--;
  if (e == b) {
    problem(c, "the JSONata expression is empty ('{%%' and '%%}' with nothing "
               "between them)");
    return NULL;
  }
  if (orc_jsonata_compile(b, (size_t)(e - b), ORC_JSONATA_AWS, &x, &je) !=
      ORC_OK) {
    if (je.status == ORC_ENOMEM)
      c->oom = 1;
    else
      problem(c, "invalid JSONata expression '%.*s': %s: %s (character %d)",
              (int)(e - b), b, je.code, je.message, je.position);
    return NULL;
  }
  {
    char name[64];
    if (orc_jsonata_reads_root(x, name, sizeof name)) {
      /* AWS refuses it when the machine is created */
      problem(c,
              "Reference to '%s' at the top level is not supported: JSONata "
              "in Step Functions has no root document (read the input as "
              "$states.input%s%s)",
              name, name[0] == '$' || name[0] == '*' ? "" : ".",
              name[0] == '$' || name[0] == '*' ? "" : name);
      orc_jsonata_free(x);
      return NULL;
    }
    if (strstr(orc_jsonata_text(x, NULL), "$states.errorOutput") &&
        !strstr(c->ptr, "/Catch/")) {
      problem(c, "Field '$states.errorOutput' does not exist here: it is only "
                 "available in a catcher's Output and Assign");
      orc_jsonata_free(x);
      return NULL;
    }
  }
  t = tmpl_new(c, ORCI_T_JSONATA);
  if (t == NULL) {
    orc_jsonata_free(x);
    return NULL;
  }
  t->expr = x;
  t->field = dupstr(c, loc, strlen(loc));
  q_fast_path(c, t, b, (size_t)(e - b));
  if (t->qroot == ORCI_QR_NONE) q_fast_binary(c, t, b, (size_t)(e - b));
  { /* what it reads, to build only that ($states.context is costly) */
    char *text = dupstr(c, b, (size_t)(e - b));
    if (text) {
      if (strstr(text, "context") || strstr(text, "$states[") ||
          strstr(text, "$states ") || strstr(text, "$states)") ||
          strstr(text, "$states,") || !strcmp(text, "$states"))
        t->qflags |= ORCI_Q_CONTEXT;
      if (strstr(text, "$random") || strstr(text, "$uuid") ||
          strstr(text, "$shuffle"))
        t->qflags |= ORCI_Q_RANDOM;
      free(text);
    }
  }
  return t;
}

static orci_tmpl *tmpl_compile(cc *c, orc_json *v) {
  orc_json_type ty = orc_json_type_of(v);
  size_t i, n = orc_json_len(v);
  int dynamic = 0;
  orci_tmpl *t;
  if (c->jsonata && is_q_expr(v)) return q_leaf(c, v);
  if (ty != ORC_JSON_OBJECT && ty != ORC_JSON_ARRAY) {
    t = tmpl_new(c, ORCI_T_CONST);
    if (t) t->value = orc_json_ref(v);
    return t;
  }
  t = tmpl_new(c, ty == ORC_JSON_OBJECT ? ORCI_T_OBJECT : ORCI_T_ARRAY);
  if (t == NULL) return NULL;
  t->items = (orci_tmpl **)calloc(n ? n : 1, sizeof *t->items);
  if (ty == ORC_JSON_OBJECT)
    t->keys = (orc_json **)calloc(n ? n : 1, sizeof *t->keys);
  if (t->items == NULL || (ty == ORC_JSON_OBJECT && t->keys == NULL)) {
    c->oom = 1;
    tmpl_free(t);
    return NULL;
  }
  t->n = n;
  for (i = 0; i < n; i++) {
    orci_tmpl *item;
    size_t old;
    if (ty == ORC_JSON_OBJECT) {
      size_t kl;
      const char *k = orc_json_string_value(orc_json_object_key(v, i), &kl);
      orc_json *mv = orc_json_object_value(v, i);
      old = push_key(c, k, kl);
      if (!c->jsonata && kl >= 2 && memcmp(k + kl - 2, ".$", 2) == 0) {
        item = tmpl_dynamic(c, mv, k, kl);
        t->keys[i] = orc_json_string(k, kl - 2);
        dynamic = 1;
      } else {
        item = tmpl_compile(c, mv);
        t->keys[i] = orc_json_ref(orc_json_object_key(v, i));
      }
      if (t->keys[i] == NULL) c->oom = 1;
    } else {
      old = push_index(c, i);
      item = tmpl_compile(c, orc_json_array_get(v, i));
    }
    pop(c, old);
    t->items[i] = item;
    if (item && item->kind != ORCI_T_CONST) dynamic = 1;
  }
  if (ty == ORC_JSON_OBJECT) { /* "a" and "a.$" would both make "a" */
    size_t a, b;
    for (a = 0; a < n; a++)
      for (b = a + 1; b < n; b++)
        if (t->keys[a] && t->keys[b] &&
            orc_json_equal(t->keys[a], t->keys[b])) {
          size_t kl, old;
          const char *k = orc_json_string_value(orc_json_object_key(v, b), &kl);
          old = push_key(c, k, kl);
          problem(c,
                  "field '%s' duplicates another field once '.$' is "
                  "removed",
                  k);
          pop(c, old);
        }
  }
  if (!dynamic) { /* nothing to evaluate: share the value itself */
    tmpl_free(t);
    t = tmpl_new(c, ORCI_T_CONST);
    if (t) t->value = orc_json_ref(v);
  }
  return t;
}

/* Compile a template field (Parameters, ResultSelector). */
static orci_tmpl *compile_template(cc *c, orc_json *obj, const char *name) {
  orc_json *v = field(obj, name);
  size_t old;
  orci_tmpl *t;
  if (v == NULL) return NULL;
  old = push_key(c, name, strlen(name));
  if (name[0] == 'R' && !is_type(v, ORC_JSON_OBJECT)) { /* ResultSelector */
    problem(c, "%s must be an object", name);
    pop(c, old);
    return NULL;
  }
  t = tmpl_compile(c, v);
  pop(c, old);
  return t;
}

/* }====== */

/* {====== Choice rules */

static const struct {
  const char *name;
  int op;
  int operand; /* 's' string, 'n' number, 'b' boolean, 't' timestamp */
  int is_path;
} comparators[] = {
    {"StringEquals", ORCI_OP_STRING_EQ, 's', 0},
    {"StringEqualsPath", ORCI_OP_STRING_EQ, 's', 1},
    {"StringLessThan", ORCI_OP_STRING_LT, 's', 0},
    {"StringLessThanPath", ORCI_OP_STRING_LT, 's', 1},
    {"StringGreaterThan", ORCI_OP_STRING_GT, 's', 0},
    {"StringGreaterThanPath", ORCI_OP_STRING_GT, 's', 1},
    {"StringLessThanEquals", ORCI_OP_STRING_LE, 's', 0},
    {"StringLessThanEqualsPath", ORCI_OP_STRING_LE, 's', 1},
    {"StringGreaterThanEquals", ORCI_OP_STRING_GE, 's', 0},
    {"StringGreaterThanEqualsPath", ORCI_OP_STRING_GE, 's', 1},
    {"StringMatches", ORCI_OP_STRING_MATCHES, 's', 0},
    {"NumericEquals", ORCI_OP_NUMERIC_EQ, 'n', 0},
    {"NumericEqualsPath", ORCI_OP_NUMERIC_EQ, 'n', 1},
    {"NumericLessThan", ORCI_OP_NUMERIC_LT, 'n', 0},
    {"NumericLessThanPath", ORCI_OP_NUMERIC_LT, 'n', 1},
    {"NumericGreaterThan", ORCI_OP_NUMERIC_GT, 'n', 0},
    {"NumericGreaterThanPath", ORCI_OP_NUMERIC_GT, 'n', 1},
    {"NumericLessThanEquals", ORCI_OP_NUMERIC_LE, 'n', 0},
    {"NumericLessThanEqualsPath", ORCI_OP_NUMERIC_LE, 'n', 1},
    {"NumericGreaterThanEquals", ORCI_OP_NUMERIC_GE, 'n', 0},
    {"NumericGreaterThanEqualsPath", ORCI_OP_NUMERIC_GE, 'n', 1},
    {"BooleanEquals", ORCI_OP_BOOLEAN_EQ, 'b', 0},
    {"BooleanEqualsPath", ORCI_OP_BOOLEAN_EQ, 'b', 1},
    {"TimestampEquals", ORCI_OP_TIMESTAMP_EQ, 't', 0},
    {"TimestampEqualsPath", ORCI_OP_TIMESTAMP_EQ, 't', 1},
    {"TimestampLessThan", ORCI_OP_TIMESTAMP_LT, 't', 0},
    {"TimestampLessThanPath", ORCI_OP_TIMESTAMP_LT, 't', 1},
    {"TimestampGreaterThan", ORCI_OP_TIMESTAMP_GT, 't', 0},
    {"TimestampGreaterThanPath", ORCI_OP_TIMESTAMP_GT, 't', 1},
    {"TimestampLessThanEquals", ORCI_OP_TIMESTAMP_LE, 't', 0},
    {"TimestampLessThanEqualsPath", ORCI_OP_TIMESTAMP_LE, 't', 1},
    {"TimestampGreaterThanEquals", ORCI_OP_TIMESTAMP_GE, 't', 0},
    {"TimestampGreaterThanEqualsPath", ORCI_OP_TIMESTAMP_GE, 't', 1},
    {"IsNull", ORCI_OP_IS_NULL, 'b', 0},
    {"IsPresent", ORCI_OP_IS_PRESENT, 'b', 0},
    {"IsNumeric", ORCI_OP_IS_NUMERIC, 'b', 0},
    {"IsString", ORCI_OP_IS_STRING, 'b', 0},
    {"IsBoolean", ORCI_OP_IS_BOOLEAN, 'b', 0},
    {"IsTimestamp", ORCI_OP_IS_TIMESTAMP, 'b', 0},
};

static void tmpl_free(orci_tmpl *t);

static void rule_free(orci_rule *r) {
  size_t i;
  if (r == NULL) return;
  tmpl_free(r->assign);
  tmpl_free(r->condition);
  tmpl_free(r->output);
  orci_path_free(r->variable);
  orci_path_free(r->operand_path);
  orc_json_unref(r->operand);
  for (i = 0; i < r->n; i++)
    rule_free(r->children[i]);
  free(r->children);
  free(r);
}

static int resolve(cc *c, orc_json *name_v, const char *what);

static orci_tmpl *compile_assign(cc *c, orc_json *obj);

/* A new rule for the object v (-1: no Next yet), or NULL with the problem
** recorded. */
static orci_rule *rule_new(cc *c, orc_json *v) {
  orci_rule *r;
  if (!is_type(v, ORC_JSON_OBJECT)) {
    problem(c, "a Choice rule must be an object");
    return NULL;
  }
  r = (orci_rule *)calloc(1, sizeof *r);
  if (r == NULL) {
    c->oom = 1;
    return NULL;
  }
  r->next = -1;
  return r;
}

/* A JSONata Choice rule: Condition, Next, and optionally Assign, Output. */
static orci_rule *rule_compile_q(cc *c, orc_json *v) {
  static const char *const jp[] = {"Variable", "And", "Or", "Not", NULL};
  static const char *const ja[] = {"Condition", "Next",   "Comment",
                                   "Assign",    "Output", NULL};
  orci_rule *r;
  orc_json *x;
  if ((r = rule_new(c, v)) == NULL) return NULL;
  r->op = ORCI_OP_CONDITION;
  state_fields(c, v, jp, ja, "a Choice rule");
  if ((x = field(v, "Condition")) == NULL) {
    problem(c, "a Choice rule written in JSONata needs Condition (true, "
               "false or a {%% %%} expression)");
  } else {
    size_t old = push_key(c, "Condition", 9);
    if (is_type(x, ORC_JSON_BOOL) || is_q_expr(x))
      r->condition = tmpl_compile(c, x);
    else
      problem(c, "Condition must be true, false or a JSONata expression "
                 "\"{%% ... %%}\"");
    pop(c, old);
  }
  r->assign = compile_assign(c, v);
  r->output = compile_template(c, v, "Output");
  if ((x = field(v, "Next")) == NULL) {
    problem(c, "a top-level Choice rule needs Next");
  } else {
    size_t old = push_key(c, "Next", 4);
    r->next = resolve(c, x, "Next");
    pop(c, old);
  }
  return r;
}

static orci_rule *rule_compile(cc *c, orc_json *v, int top) {
  orci_rule *r;
  size_t i, n, ncomp = 0;
  const char *comp = NULL;
  orc_json *x;
  if (top && c->jsonata) return rule_compile_q(c, v);
  if ((r = rule_new(c, v)) == NULL) return NULL;
  n = orc_json_len(v);
  for (i = 0; i < n; i++) { /* find the comparator(s) and check fields */
    size_t kl, k;
    const char *key = orc_json_string_value(orc_json_object_key(v, i), &kl);
    int known = 0;
    if (!strcmp(key, "And") || !strcmp(key, "Or") || !strcmp(key, "Not")) {
      ncomp++;
      comp = key;
      continue;
    }
    for (k = 0; k < sizeof comparators / sizeof comparators[0]; k++)
      if (!strcmp(key, comparators[k].name)) {
        ncomp++;
        comp = key;
        known = 1;
        break;
      }
    if (known || !strcmp(key, "Variable") || !strcmp(key, "Comment") ||
        (top && (!strcmp(key, "Next") || !strcmp(key, "Assign"))))
      continue;
    {
      size_t old = push_key(c, key, kl);
      if (!strcmp(key, "Next"))
        problem(c, "Next is only allowed in a top-level Choice rule");
      else
        problem(c, "field '%s' is not allowed in a Choice rule", key);
      pop(c, old);
    }
  }
  if (ncomp == 0) {
    problem(c, "a Choice rule needs a comparison operator (e.g. "
               "StringEquals, NumericLessThan, IsPresent) or And/Or/Not");
    rule_free(r);
    return NULL;
  }
  if (ncomp > 1) {
    problem(c, "a Choice rule must have exactly one comparison operator");
    rule_free(r);
    return NULL;
  }
  if (top) r->assign = compile_assign(c, v);
  if (top) {
    x = field(v, "Next");
    if (x == NULL) {
      problem(c, "a top-level Choice rule needs Next");
    } else {
      size_t old = push_key(c, "Next", 4);
      r->next = resolve(c, x, "Next");
      pop(c, old);
    }
  }
  x = field(v, comp);
  if (!strcmp(comp, "And") || !strcmp(comp, "Or") || !strcmp(comp, "Not")) {
    size_t old = push_key(c, comp, strlen(comp));
    r->op = comp[0] == 'A'   ? ORCI_OP_AND
            : comp[0] == 'O' ? ORCI_OP_OR
                             : ORCI_OP_NOT;
    if (field(v, "Variable")) {
      size_t o2 = push_key(c, "Variable", 8);
      pop(c, old);
      o2 = push_key(c, "Variable", 8);
      problem(c, "Variable is not allowed beside %s", comp);
      pop(c, o2);
      old = push_key(c, comp, strlen(comp));
    }
    if (r->op == ORCI_OP_NOT) {
      r->children = (orci_rule **)calloc(1, sizeof *r->children);
      if (r->children == NULL)
        c->oom = 1;
      else {
        r->n = 1;
        r->children[0] = rule_compile(c, x, 0);
      }
    } else if (!is_type(x, ORC_JSON_ARRAY) || orc_json_len(x) == 0) {
      problem(c, "%s must be a non-empty array of Choice rules", comp);
    } else {
      r->n = orc_json_len(x);
      r->children = (orci_rule **)calloc(r->n, sizeof *r->children);
      if (r->children == NULL) {
        c->oom = 1;
        r->n = 0;
      }
      for (i = 0; i < r->n; i++) {
        size_t o2 = push_index(c, i);
        r->children[i] = rule_compile(c, orc_json_array_get(x, i), 0);
        pop(c, o2);
      }
    }
    pop(c, old);
    return r;
  }
  for (i = 0; i < sizeof comparators / sizeof comparators[0]; i++)
    if (!strcmp(comp, comparators[i].name)) break;
  r->op = comparators[i].op;
  if (field(v, "Variable") == NULL)
    problem(c, "a Choice rule with %s needs Variable", comp);
  else
    r->variable = compile_path(c, v, "Variable", ORCI_PATH_JSONPATH, 0, NULL);
  if (comparators[i].is_path) {
    r->operand_path = compile_path(c, v, comp, ORCI_PATH_REFERENCE, 0, NULL);
  } else {
    size_t old = push_key(c, comp, strlen(comp));
    int t = comparators[i].operand, ok;
    ok = t == 's'   ? is_type(x, ORC_JSON_STRING)
         : t == 'n' ? is_number(x)
         : t == 'b' ? is_type(x, ORC_JSON_BOOL)
                    : is_type(x, ORC_JSON_STRING);
    if (!ok) {
      problem(c, "%s needs a %s", comp,
              t == 's'   ? "string"
              : t == 'n' ? "number"
              : t == 'b' ? "boolean"
                         : "timestamp string");
    } else if (t == 't') {
      int64_t ms;
      size_t len;
      const char *s = orc_json_string_value(x, &len);
      if (orci_parse_timestamp(s, len, &ms) < 0)
        problem(c,
                "%s needs an RFC 3339 timestamp such as "
                "2024-01-31T12:00:00Z, not '%s'",
                comp, s);
    }
    r->operand = orc_json_ref(x);
    pop(c, old);
  }
  return r;
}

/* }====== */

/* {====== states */

static int name_cmp(const void *a, const void *b) {
  const struct name_ix *x = (const struct name_ix *)a;
  const struct name_ix *y = (const struct name_ix *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int r = memcmp(x->name, y->name, n);
  return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* The index of the state named by name_v (a string), or -1 with a problem
** recorded at the current pointer. */
static int resolve(cc *c, orc_json *name_v, const char *what) {
  struct name_ix key, *hit;
  if (!is_type(name_v, ORC_JSON_STRING)) {
    problem(c, "%s must be a string naming a state", what);
    return -1;
  }
  key.name = orc_json_string_value(name_v, &key.len);
  hit = (struct name_ix *)bsearch(&key, c->names, c->nnames, sizeof key,
                                  name_cmp);
  if (hit == NULL) {
    problem(c, "%s names state '%s', which does not exist", what, key.name);
    return -1;
  }
  return hit->ix;
}

static int error_list(cc *c, orc_json *obj, char ***out, size_t *nout,
                      int *has_all) {
  orc_json *v = field(obj, "ErrorEquals");
  size_t i, n, old;
  *has_all = 0;
  if (v == NULL) {
    problem(c, "ErrorEquals is required");
    return -1;
  }
  old = push_key(c, "ErrorEquals", 11);
  if (!is_type(v, ORC_JSON_ARRAY) || orc_json_len(v) == 0) {
    problem(c, "ErrorEquals must be a non-empty array of error names");
    pop(c, old);
    return -1;
  }
  n = orc_json_len(v);
  *out = (char **)calloc(n, sizeof **out);
  if (*out == NULL) {
    c->oom = 1;
    pop(c, old);
    return -1;
  }
  *nout = n;
  for (i = 0; i < n; i++) {
    orc_json *e = orc_json_array_get(v, i);
    size_t len, o2 = push_index(c, i);
    if (!is_type(e, ORC_JSON_STRING)) {
      problem(c, "an error name must be a string");
    } else {
      const char *s = orc_json_string_value(e, &len);
      (*out)[i] = dupstr(c, s, len);
      if (!strcmp(s, "States.ALL")) {
        *has_all = 1;
        if (n > 1) problem(c, "States.ALL must appear alone in ErrorEquals");
      }
    }
    pop(c, o2);
  }
  pop(c, old);
  return 0;
}

static void compile_retry(cc *c, orc_json *st, orci_state *s) {
  orc_json *v = field(st, "Retry");
  size_t i, old;
  static const char *const allowed[] = {
      "ErrorEquals",     "IntervalSeconds", "MaxAttempts", "BackoffRate",
      "MaxDelaySeconds", "JitterStrategy",  "Comment",     NULL};
  if (v == NULL) return;
  old = push_key(c, "Retry", 5);
  if (!is_type(v, ORC_JSON_ARRAY)) {
    problem(c, "Retry must be an array of retriers");
    pop(c, old);
    return;
  }
  s->nretry = orc_json_len(v);
  s->retry =
      (orci_retrier *)calloc(s->nretry ? s->nretry : 1, sizeof *s->retry);
  if (s->retry == NULL) {
    c->oom = 1;
    s->nretry = 0;
  }
  for (i = 0; i < s->nretry; i++) {
    orc_json *r = orc_json_array_get(v, i), *x;
    orci_retrier *rt = &s->retry[i];
    size_t o2 = push_index(c, i), o3;
    int all;
    rt->interval_s = 1;
    rt->max_attempts = 3;
    rt->backoff = 2.0;
    if (!is_type(r, ORC_JSON_OBJECT)) {
      problem(c, "a retrier must be an object");
      pop(c, o2);
      continue;
    }
    check_fields(c, r, allowed, "a retrier");
    error_list(c, r, &rt->errors, &rt->nerrors, &all);
    if (all && i + 1 < s->nretry) {
      problem(c, "a retrier with States.ALL must be the last one");
    }
    if ((x = field(r, "IntervalSeconds")) != NULL) {
      o3 = push_key(c, "IntervalSeconds", 15);
      if (!get_int(x, 1, 99999999, &rt->interval_s))
        problem(c, "IntervalSeconds must be a positive integer");
      pop(c, o3);
    }
    if ((x = field(r, "MaxAttempts")) != NULL) {
      o3 = push_key(c, "MaxAttempts", 11);
      if (!get_int(x, 0, 99999999, &rt->max_attempts))
        problem(c, "MaxAttempts must be a non-negative integer");
      pop(c, o3);
    }
    if ((x = field(r, "BackoffRate")) != NULL) {
      o3 = push_key(c, "BackoffRate", 11);
      if (!is_number(x) || orc_json_number(x) < 1.0)
        problem(c, "BackoffRate must be a number not less than 1.0");
      else
        rt->backoff = orc_json_number(x);
      pop(c, o3);
    }
    if ((x = field(r, "MaxDelaySeconds")) != NULL) {
      o3 = push_key(c, "MaxDelaySeconds", 15);
      if (!get_int(x, 1, 31622400, &rt->max_delay_s))
        problem(c, "MaxDelaySeconds must be a positive integer");
      pop(c, o3);
    }
    if ((x = field(r, "JitterStrategy")) != NULL) {
      o3 = push_key(c, "JitterStrategy", 14);
      if (is_type(x, ORC_JSON_STRING) &&
          !strcmp(orc_json_string_value(x, NULL), "FULL"))
        rt->jitter_full = 1;
      else if (!is_type(x, ORC_JSON_STRING) ||
               strcmp(orc_json_string_value(x, NULL), "NONE"))
        problem(c, "JitterStrategy must be \"FULL\" or \"NONE\"");
      pop(c, o3);
    }
    pop(c, o2);
  }
  pop(c, old);
}

static void compile_catch(cc *c, orc_json *st, orci_state *s) {
  orc_json *v = field(st, "Catch");
  size_t i, old;
  static const char *const allowed[] = {"ErrorEquals", "Next",   "ResultPath",
                                        "Comment",     "Assign", NULL};
  static const char *const q_allowed[] = {"ErrorEquals", "Next",   "Output",
                                          "Comment",     "Assign", NULL};
  if (v == NULL) return;
  old = push_key(c, "Catch", 5);
  if (!is_type(v, ORC_JSON_ARRAY)) {
    problem(c, "Catch must be an array of catchers");
    pop(c, old);
    return;
  }
  s->ncatch = orc_json_len(v);
  s->catch_ =
      (orci_catcher *)calloc(s->ncatch ? s->ncatch : 1, sizeof *s->catch_);
  if (s->catch_ == NULL) {
    c->oom = 1;
    s->ncatch = 0;
  }
  for (i = 0; i < s->ncatch; i++) {
    orc_json *r = orc_json_array_get(v, i), *x;
    orci_catcher *ct = &s->catch_[i];
    size_t o2 = push_index(c, i);
    int all;
    ct->next = -1;
    if (!is_type(r, ORC_JSON_OBJECT)) {
      problem(c, "a catcher must be an object");
      pop(c, o2);
      continue;
    }
    state_fields(c, r, allowed, q_allowed, "a catcher");
    ct->assign = compile_assign(c, r);
    if (c->jsonata) ct->output = compile_template(c, r, "Output");
    error_list(c, r, &ct->errors, &ct->nerrors, &all);
    if (all && i + 1 < s->ncatch)
      problem(c, "a catcher with States.ALL must be the last one");
    if ((x = field(r, "Next")) == NULL) {
      problem(c, "a catcher needs Next");
    } else {
      size_t o3 = push_key(c, "Next", 4);
      ct->next = resolve(c, x, "Next");
      pop(c, o3);
    }
    ct->result_path = compile_path(c, r, "ResultPath", ORCI_PATH_REFERENCE, 1,
                                   &ct->result_discard);
    pop(c, o2);
  }
  pop(c, old);
}

/* Field sets per state type (Type and Comment are allowed everywhere). */
static const char *const pass_fields[] = {
    "Type",       "Comment",    "Next",          "End",
    "InputPath",  "OutputPath", "Result",        "ResultPath",
    "Parameters", "Assign",     "QueryLanguage", NULL};
static const char *const task_fields[] = {"Type",
                                          "Comment",
                                          "Next",
                                          "End",
                                          "InputPath",
                                          "OutputPath",
                                          "ResultPath",
                                          "Parameters",
                                          "ResultSelector",
                                          "Retry",
                                          "Catch",
                                          "Resource",
                                          "TimeoutSeconds",
                                          "TimeoutSecondsPath",
                                          "HeartbeatSeconds",
                                          "HeartbeatSecondsPath",
                                          "Credentials",
                                          "Assign",
                                          "QueryLanguage",
                                          NULL};
static const char *const choice_fields[] = {
    "Type",       "Comment", "Choices",       "Default", "InputPath",
    "OutputPath", "Assign",  "QueryLanguage", NULL};
static const char *const wait_fields[] = {
    "Type",       "Comment",       "Next",      "End",         "InputPath",
    "OutputPath", "Seconds",       "Timestamp", "SecondsPath", "TimestampPath",
    "Assign",     "QueryLanguage", NULL};
static const char *const succeed_fields[] = {
    "Type", "Comment", "InputPath", "OutputPath", "QueryLanguage", NULL};
static const char *const fail_fields[] = {
    "Type",      "Comment",   "Error",         "Cause",
    "ErrorPath", "CausePath", "QueryLanguage", NULL};

/* The same for JSONata states. */
static const char *const q_pass_fields[] = {
    "Type",   "Comment", "Next",          "End",
    "Output", "Assign",  "QueryLanguage", NULL};
static const char *const q_task_fields[] = {
    "Type",        "Comment",        "Next",
    "End",         "Resource",       "Arguments",
    "Output",      "Assign",         "Retry",
    "Catch",       "TimeoutSeconds", "HeartbeatSeconds",
    "Credentials", "QueryLanguage",  NULL};
static const char *const q_choice_fields[] = {
    "Type",   "Comment", "Choices",       "Default",
    "Output", "Assign",  "QueryLanguage", NULL};
static const char *const q_wait_fields[] = {
    "Type",      "Comment", "Next",   "End",           "Seconds",
    "Timestamp", "Output",  "Assign", "QueryLanguage", NULL};
static const char *const q_succeed_fields[] = {"Type", "Comment", "Output",
                                               "QueryLanguage", NULL};
static const char *const q_fail_fields[] = {"Type",  "Comment",       "Error",
                                            "Cause", "QueryLanguage", NULL};

static void compile_next_end(cc *c, orc_json *st, orci_state *s) {
  orc_json *next = field(st, "Next"), *end = field(st, "End");
  int is_end = 0;
  s->next = -1;
  if (end) {
    size_t old = push_key(c, "End", 3);
    if (!is_type(end, ORC_JSON_BOOL))
      problem(c, "End must be a boolean");
    else
      is_end = orc_json_is_true(end);
    pop(c, old);
  }
  if (next && is_end) {
    problem(c, "a state cannot have both Next and End: true");
  } else if (next) {
    size_t old = push_key(c, "Next", 4);
    s->next = resolve(c, next, "Next");
    pop(c, old);
  } else if (!is_end) {
    static const char *const tn[] = {"Pass",    "Task", "Choice", "Wait",
                                     "Succeed", "Fail", "Map",    "Parallel"};
    problem(c, "a %s state needs Next or \"End\": true", tn[s->type]);
  }
}

static void compile_io(cc *c, orc_json *st, orci_state *s, int result_path) {
  s->input_path =
      compile_path(c, st, "InputPath", ORCI_PATH_JSONPATH, 1, &s->input_null);
  s->output_path =
      compile_path(c, st, "OutputPath", ORCI_PATH_JSONPATH, 1, &s->output_null);
  if (result_path)
    s->result_path = compile_path(c, st, "ResultPath", ORCI_PATH_REFERENCE, 1,
                                  &s->result_discard);
}

static void classify_resource(cc *c, orci_state *s) {
  const char *r = s->resource;
  static const char svc[] = "arn:aws:states:::";
  if (strncmp(r, svc, sizeof svc - 1) == 0) {
    const char *rest = r + sizeof svc - 1, *colon = strrchr(rest, ':');
    s->resource_kind = ORCI_RES_SERVICE;
    /* "service:action" (aws-sdk:s3:getObject: "aws-sdk:s3", "getObject");
    ** a version suffix stays with its action (startExecution.sync:2) */
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
      const char *p = colon;
      while (p > rest && p[-1] != ':')
        p--;
      colon = p > rest ? p - 1 : NULL;
    }
    if (colon) {
      s->resource_type = dupstr(c, rest, (size_t)(colon - rest));
      s->resource_name = dupstr(c, colon + 1, strlen(colon + 1));
    } else {
      s->resource_type = dupstr(c, rest, strlen(rest));
      s->resource_name = dupstr(c, rest, strlen(rest));
    }
  } else if (strncmp(r, "arn:aws:lambda:", 15) == 0 &&
             strstr(r, ":function:") != NULL) {
    s->resource_kind = ORCI_RES_LAMBDA;
    s->resource_type = dupstr(c, "lambda", 6);
    s->resource_name = dupstr(c, r, strlen(r));
  } else {
    s->resource_kind = ORCI_RES_OTHER;
    s->resource_type = dupstr(c, "custom", 6);
    s->resource_name = dupstr(c, r, strlen(r));
  }
}

/* A positive integer field or its *Path form (not both). */
/* A JSONata state's field given as "{% expression %}": compiled into *q
** (1), or 0 when it is absent or a literal. */
static int q_field(cc *c, orc_json *st, const char *name, orci_tmpl **q) {
  orc_json *v = field(st, name);
  size_t old;
  if (!c->jsonata || !is_q_expr(v)) return 0;
  old = push_key(c, name, strlen(name));
  *q = q_leaf(c, v);
  pop(c, old);
  return 1;
}

static void seconds_pair(cc *c, orc_json *st, const char *name,
                         const char *pname, int64_t *secs, orci_path **path,
                         orci_tmpl **q) {
  orc_json *v = field(st, name);
  if (q_field(c, st, name, q)) return;
  if (v) {
    size_t old = push_key(c, name, strlen(name));
    if (!get_int(v, 1, 99999999, secs))
      problem(c, "%s must be a positive integer", name);
    pop(c, old);
  }
  *path = compile_path(c, st, pname, ORCI_PATH_REFERENCE, 0, NULL);
  if (v && field(st, pname))
    problem(c, "a state cannot have both %s and %s", name, pname);
}

static void compile_branch(cc *c, orc_json *def, orci_branch *B);
static void branch_release(orci_branch *B);

static const char *const parallel_fields[] = {
    "Type",           "Comment",       "Next",       "End",
    "InputPath",      "OutputPath",    "ResultPath", "Parameters",
    "ResultSelector", "Retry",         "Catch",      "Branches",
    "Assign",         "QueryLanguage", NULL};
static const char *const q_parallel_fields[] = {
    "Type",   "Comment", "Next",  "End",      "Arguments",     "Output",
    "Assign", "Retry",   "Catch", "Branches", "QueryLanguage", NULL};
static const char *const q_map_fields[] = {"Type",
                                           "Comment",
                                           "Next",
                                           "End",
                                           "Output",
                                           "Assign",
                                           "Retry",
                                           "Catch",
                                           "ItemProcessor",
                                           "Iterator",
                                           "Items",
                                           "ItemSelector",
                                           "ItemReader",
                                           "ItemBatcher",
                                           "ResultWriter",
                                           "MaxConcurrency",
                                           "ToleratedFailurePercentage",
                                           "ToleratedFailureCount",
                                           "Label",
                                           "QueryLanguage",
                                           NULL};
static const char *const map_fields[] = {"Type",
                                         "Comment",
                                         "Next",
                                         "End",
                                         "InputPath",
                                         "OutputPath",
                                         "ResultPath",
                                         "Parameters",
                                         "ResultSelector",
                                         "Retry",
                                         "Catch",
                                         "Iterator",
                                         "ItemProcessor",
                                         "ItemsPath",
                                         "ItemSelector",
                                         "ItemReader",
                                         "ItemBatcher",
                                         "ResultWriter",
                                         "MaxConcurrency",
                                         "MaxConcurrencyPath",
                                         "ToleratedFailurePercentage",
                                         "ToleratedFailurePercentagePath",
                                         "ToleratedFailureCount",
                                         "ToleratedFailureCountPath",
                                         "Label",
                                         "Assign",
                                         "QueryLanguage",
                                         NULL};

/* A state list object (a branch or an ItemProcessor) at member name. */
static orci_branch *compile_sub(cc *c, orc_json *v, int processor,
                                int *distributed) {
  orci_branch *B = (orci_branch *)calloc(1, sizeof *B);
  static const char *const branch_fields[] = {"StartAt", "States", "Comment",
                                              "QueryLanguage", NULL};
  static const char *const proc_fields[] = {
      "StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage", NULL};
  if (B == NULL) {
    c->oom = 1;
    return NULL;
  }
  B->start = -1;
  if (!is_type(v, ORC_JSON_OBJECT)) {
    problem(c, "must be an object with StartAt and States");
    return B;
  }
  check_fields(c, v, processor ? proc_fields : branch_fields,
               processor ? "an ItemProcessor" : "a branch");
  if (processor) {
    orc_json *pc = field(v, "ProcessorConfig");
    if (pc) {
      size_t old = push_key(c, "ProcessorConfig", 15);
      orc_json *mode = is_type(pc, ORC_JSON_OBJECT) ? field(pc, "Mode") : NULL;
      if (!is_type(pc, ORC_JSON_OBJECT)) {
        problem(c, "ProcessorConfig must be an object");
      } else if (mode && is_type(mode, ORC_JSON_STRING) &&
                 !strcmp(orc_json_string_value(mode, NULL), "DISTRIBUTED")) {
        *distributed = 1;
      } else if (mode &&
                 !(is_type(mode, ORC_JSON_STRING) &&
                   !strcmp(orc_json_string_value(mode, NULL), "INLINE"))) {
        size_t o2 = push_key(c, "Mode", 4);
        problem(c, "Mode must be \"INLINE\" or \"DISTRIBUTED\"");
        pop(c, o2);
      }
      pop(c, old);
    }
  }
  compile_branch(c, v, B);
  return B;
}

/* A non-negative integer field or its *Path form (not both). */
static void count_pair(cc *c, orc_json *st, const char *name, const char *pname,
                       int64_t *out, orci_path **path, orci_tmpl **q) {
  orc_json *v = field(st, name);
  if (q_field(c, st, name, q)) return;
  if (v) {
    size_t old = push_key(c, name, strlen(name));
    if (!get_int(v, 0, 99999999, out))
      problem(c, "%s must be a non-negative integer", name);
    pop(c, old);
  }
  *path = compile_path(c, st, pname, ORCI_PATH_REFERENCE, 0, NULL);
  if (v && field(st, pname))
    problem(c, "a state cannot have both %s and %s", name, pname);
}

static void compile_parallel(cc *c, orc_json *st, orci_state *s) {
  orc_json *x = field(st, "Branches");
  size_t i, old;
  s->type = ORCI_ST_PARALLEL;
  state_fields(c, st, parallel_fields, q_parallel_fields, "a Parallel state");
  compile_next_end(c, st, s);
  compile_io(c, st, s, 1);
  s->parameters = compile_template(c, st, "Parameters");
  s->result_selector = compile_template(c, st, "ResultSelector");
  compile_retry(c, st, s);
  compile_catch(c, st, s);
  if (x == NULL) {
    problem(c, "a Parallel state needs Branches");
    return;
  }
  old = push_key(c, "Branches", 8);
  if (!is_type(x, ORC_JSON_ARRAY) || orc_json_len(x) == 0) {
    problem(c, "Branches must be a non-empty array of state machines");
    pop(c, old);
    return;
  }
  s->nbranches = orc_json_len(x);
  s->branches = (orci_branch *)calloc(s->nbranches, sizeof *s->branches);
  if (s->branches == NULL) {
    c->oom = 1;
    s->nbranches = 0;
  }
  for (i = 0; i < s->nbranches; i++) {
    size_t o2 = push_index(c, i);
    orci_branch *b = compile_sub(c, orc_json_array_get(x, i), 0, NULL);
    if (b) {
      s->branches[i] = *b;
      free(b);
    }
    pop(c, o2);
  }
  pop(c, old);
}

/* A string field that must be one of names (NULL-terminated): its index,
** -1 when absent, -2 when invalid (a problem is recorded). */
static int enum_field(cc *c, orc_json *obj, const char *name,
                      const char *const *names) {
  orc_json *v = field(obj, name);
  size_t old, i;
  if (v == NULL) return -1;
  if (is_type(v, ORC_JSON_STRING))
    for (i = 0; names[i]; i++)
      if (!strcmp(orc_json_string_value(v, NULL), names[i])) return (int)i;
  old = push_key(c, name, strlen(name));
  {
    char list[256] = "";
    for (i = 0; names[i]; i++) {
      if (i) strcat(list, ", ");
      strcat(list, "\"");
      strcat(list, names[i]);
      strcat(list, "\"");
    }
    problem(c, "%s must be one of %s", name, list);
  }
  pop(c, old);
  return -2;
}

/* ItemReader: where a distributed Map reads its items. */
static void compile_reader(cc *c, orc_json *st, orci_state *s) {
  static const char *const reader_fields[] = {
      "Resource", "Parameters", "ReaderConfig", "Arguments", NULL};
  static const char *const config_fields[] = {
      "InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter",
      "MaxItems",  "MaxItemsPath",      NULL};
  static const char *const types[] = {"JSON",     "JSONL",   "CSV",
                                      "MANIFEST", "PARQUET", NULL};
  static const char *const locations[] = {"FIRST_ROW", "GIVEN", NULL};
  static const char *const delims[] = {"COMMA", "PIPE", "SEMICOLON",
                                       "SPACE", "TAB",  NULL};
  static const char delim_chars[] = ",|; \t";
  orc_json *r = field(st, "ItemReader"), *res, *cfg;
  const char *rs;
  size_t old;
  if (r == NULL) return;
  old = push_key(c, "ItemReader", 10);
  s->csv_delim = ',';
  if (!is_type(r, ORC_JSON_OBJECT)) {
    problem(c, "ItemReader must be an object with Resource and Parameters");
    pop(c, old);
    return;
  }
  check_fields(c, r, reader_fields, "an ItemReader");
  if (field(r, c->jsonata ? "Parameters" : "Arguments")) {
    size_t o2 = push_key(c, c->jsonata ? "Parameters" : "Arguments",
                         c->jsonata ? 10 : 9);
    problem(c, c->jsonata
                   ? "Parameters belongs to JSONPath states; use Arguments"
                   : "Arguments belongs to JSONata states; use Parameters");
    pop(c, o2);
  }
  if (!s->distributed)
    problem(c, "an ItemReader needs a distributed Map (ItemProcessor's "
               "ProcessorConfig Mode \"DISTRIBUTED\")");
  if (field(st, "ItemsPath"))
    problem(c, "a Map with an ItemReader cannot have ItemsPath (the reader "
               "gives the items)");
  res = field(r, "Resource");
  rs = is_type(res, ORC_JSON_STRING) ? orc_json_string_value(res, NULL) : NULL;
  cfg = field(r, "ReaderConfig");
  if (cfg && !is_type(cfg, ORC_JSON_OBJECT)) {
    size_t o2 = push_key(c, "ReaderConfig", 12);
    problem(c, "ReaderConfig must be an object");
    pop(c, o2);
    cfg = NULL;
  }
  if (rs == NULL) {
    size_t o2 = push_key(c, "Resource", 8);
    problem(c, "an ItemReader needs Resource (\"arn:aws:states:::s3:getObject\""
               " or \"arn:aws:states:::s3:listObjectsV2\")");
    pop(c, o2);
  } else if (!strcmp(rs, "arn:aws:states:::s3:listObjectsV2")) {
    s->reader = ORCI_READ_LIST;
    if (cfg && field(cfg, "InputType")) {
      size_t o2 = push_key(c, "ReaderConfig", 12), o3;
      o3 = push_key(c, "InputType", 9);
      problem(c, "s3:listObjectsV2 lists objects: InputType does not apply");
      pop(c, o3);
      pop(c, o2);
    }
  } else if (!strcmp(rs, "arn:aws:states:::s3:getObject")) {
    int t = -1;
    size_t o2 = push_key(c, "ReaderConfig", 12);
    if (cfg) {
      check_fields(c, cfg, config_fields, "a ReaderConfig");
      t = enum_field(c, cfg, "InputType", types);
    }
    if (t == -1)
      problem(c, "s3:getObject needs ReaderConfig.InputType (\"JSON\", "
                 "\"JSONL\" or \"CSV\")");
    else if (t == 3 || t == 4) {
      size_t o3 = push_key(c, "InputType", 9);
      problem(c, "InputType %s is not supported yet (JSON, JSONL and CSV are)",
              types[t]);
      c->unsupported = 1;
      pop(c, o3);
    } else if (t >= 0) {
      s->reader = t == 0   ? ORCI_READ_JSON
                  : t == 1 ? ORCI_READ_JSONL
                           : ORCI_READ_CSV;
    }
    if (cfg && s->reader == ORCI_READ_CSV) {
      int loc = enum_field(c, cfg, "CSVHeaderLocation", locations);
      int d = enum_field(c, cfg, "CSVDelimiter", delims);
      orc_json *h = field(cfg, "CSVHeaders");
      if (d >= 0) s->csv_delim = delim_chars[d];
      if (loc == -1)
        problem(c, "a CSV ItemReader needs CSVHeaderLocation (\"FIRST_ROW\" "
                   "or \"GIVEN\")");
      s->csv_given = loc == 1;
      if (loc == 1 && h == NULL) {
        problem(c, "CSVHeaderLocation \"GIVEN\" needs CSVHeaders");
      } else if (h && loc != 1) {
        size_t o3 = push_key(c, "CSVHeaders", 10);
        problem(c, "CSVHeaders needs CSVHeaderLocation \"GIVEN\"");
        pop(c, o3);
      } else if (h) {
        size_t o3 = push_key(c, "CSVHeaders", 10), i, k;
        if (!is_type(h, ORC_JSON_ARRAY) || orc_json_len(h) == 0) {
          problem(c, "CSVHeaders must be a non-empty array of strings");
        } else {
          s->ncsv_headers = orc_json_len(h);
          s->csv_headers = (char **)calloc(s->ncsv_headers, sizeof(char *));
          if (s->csv_headers == NULL) c->oom = 1;
          for (i = 0; s->csv_headers && i < s->ncsv_headers; i++) {
            orc_json *e = orc_json_array_get(h, i);
            if (!is_type(e, ORC_JSON_STRING)) {
              size_t o4 = push_index(c, i);
              problem(c, "a CSV header must be a string");
              pop(c, o4);
              continue;
            }
            s->csv_headers[i] =
                dupstr(c, orc_json_string_value(e, NULL), orc_json_len(e));
            for (k = 0; k < i; k++)
              if (s->csv_headers[k] && s->csv_headers[i] &&
                  !strcmp(s->csv_headers[k], s->csv_headers[i])) {
                size_t o4 = push_index(c, i);
                problem(c, "CSV headers cannot contain duplicates ('%s')",
                        s->csv_headers[i]);
                pop(c, o4);
              }
          }
        }
        pop(c, o3);
      }
    } else if (cfg &&
               (field(cfg, "CSVHeaderLocation") || field(cfg, "CSVHeaders") ||
                field(cfg, "CSVDelimiter"))) {
      problem(c, "CSVHeaderLocation, CSVHeaders and CSVDelimiter apply to "
                 "InputType \"CSV\" only");
    }
    pop(c, o2);
  } else {
    size_t o2 = push_key(c, "Resource", 8);
    problem(c, "ItemReader Resource must be \"arn:aws:states:::s3:getObject\" "
               "or \"arn:aws:states:::s3:listObjectsV2\"");
    pop(c, o2);
  }
  if (cfg && s->reader == ORCI_READ_LIST)
    check_fields(c, cfg, config_fields, "a ReaderConfig");
  if (cfg) {
    size_t o2 = push_key(c, "ReaderConfig", 12);
    orc_json *mi = field(cfg, "MaxItems");
    if (q_field(c, cfg, "MaxItems", &s->q_reader_max_items)) mi = NULL;
    if (mi) {
      size_t o3 = push_key(c, "MaxItems", 8);
      if (!get_int(mi, 1, 100000000, &s->reader_max_items))
        problem(c, "MaxItems must be an integer from 1 to 100000000");
      pop(c, o3);
    }
    s->reader_max_items_path =
        compile_path(c, cfg, "MaxItemsPath", ORCI_PATH_REFERENCE, 0, NULL);
    if (mi && s->reader_max_items_path)
      problem(c, "a ReaderConfig cannot have both MaxItems and MaxItemsPath");
    pop(c, o2);
  }
  {
    const char *pn = c->jsonata ? "Arguments" : "Parameters";
    if (field(r, pn) == NULL)
      problem(c, "an ItemReader needs %s with Bucket and %s", pn,
              s->reader == ORCI_READ_LIST ? "Prefix" : "Key");
    else if (!is_type(field(r, pn), ORC_JSON_OBJECT) &&
             !(c->jsonata && is_q_expr(field(r, pn)))) {
      size_t o2 = push_key(c, pn, strlen(pn));
      problem(c, "%s must be an object", pn);
      pop(c, o2);
    } else
      s->reader_params = compile_template(c, r, pn);
  }
  pop(c, old);
}

/* ResultWriter: where a distributed Map writes its children's results. */
static void compile_writer(cc *c, orc_json *st, orci_state *s) {
  static const char *const writer_fields[] = {"Resource", "Parameters",
                                              "WriterConfig", NULL};
  static const char *const q_writer_fields[] = {"Resource", "Arguments",
                                                "WriterConfig", NULL};
  const char *pn = c->jsonata ? "Arguments" : "Parameters";
  static const char *const config_fields[] = {"OutputType", "Transformation",
                                              NULL};
  static const char *const outputs[] = {"JSON", "JSONL", NULL};
  static const char *const transforms[] = {"NONE", "COMPACT", "FLATTEN", NULL};
  orc_json *w = field(st, "ResultWriter"), *res, *cfg;
  size_t old;
  if (w == NULL) return;
  old = push_key(c, "ResultWriter", 12);
  s->writer = 1;
  if (!is_type(w, ORC_JSON_OBJECT)) {
    problem(c, "ResultWriter must be an object with Resource and Parameters");
    pop(c, old);
    return;
  }
  state_fields(c, w, writer_fields, q_writer_fields, "a ResultWriter");
  if (!s->distributed)
    problem(c, "a ResultWriter needs a distributed Map (ItemProcessor's "
               "ProcessorConfig Mode \"DISTRIBUTED\")");
  res = field(w, "Resource");
  cfg = field(w, "WriterConfig");
  if (res && !(is_type(res, ORC_JSON_STRING) &&
               !strcmp(orc_json_string_value(res, NULL),
                       "arn:aws:states:::s3:putObject"))) {
    size_t o2 = push_key(c, "Resource", 8);
    problem(c, "ResultWriter Resource must be "
               "\"arn:aws:states:::s3:putObject\"");
    pop(c, o2);
  }
  if (cfg) {
    size_t o2 = push_key(c, "WriterConfig", 12);
    if (!is_type(cfg, ORC_JSON_OBJECT)) {
      problem(c, "WriterConfig must be an object");
    } else {
      int o, t;
      check_fields(c, cfg, config_fields, "a WriterConfig");
      o = enum_field(c, cfg, "OutputType", outputs);
      t = enum_field(c, cfg, "Transformation", transforms);
      s->writer_jsonl = o == 1;
      s->writer_transform = t == 1   ? ORCI_WRITE_COMPACT
                            : t == 2 ? ORCI_WRITE_FLATTEN
                                     : ORCI_WRITE_NONE;
    }
    pop(c, o2);
  }
  if (res == NULL && cfg == NULL)
    problem(c, "a ResultWriter needs Resource and Parameters (or a "
               "WriterConfig)");
  if (res && !is_type(field(w, pn), ORC_JSON_OBJECT) &&
      !(c->jsonata && is_q_expr(field(w, pn))))
    problem(c, "a ResultWriter with a Resource needs %s with Bucket and Prefix",
            pn);
  else if (field(w, pn))
    s->writer_params = compile_template(c, w, pn);
  pop(c, old);
}

static void compile_map(cc *c, orc_json *st, orci_state *s) {
  orc_json *x, *proc = field(st, "ItemProcessor"),
               *iter = field(st, "Iterator");
  size_t old;
  s->type = ORCI_ST_MAP;
  s->tolerated_percent = -1;
  s->tolerated_count = -1;
  state_fields(c, st, map_fields, q_map_fields, "a Map state");
  compile_next_end(c, st, s);
  compile_io(c, st, s, 1);
  s->result_selector = compile_template(c, st, "ResultSelector");
  compile_retry(c, st, s);
  compile_catch(c, st, s);
  s->items_path =
      compile_path(c, st, "ItemsPath", ORCI_PATH_REFERENCE, 0, NULL);
  if (c->jsonata && (x = field(st, "Items")) != NULL) {
    old = push_key(c, "Items", 5);
    if (is_type(x, ORC_JSON_ARRAY) || is_q_expr(x))
      s->q_items = tmpl_compile(c, x);
    else
      problem(c, "Items must be an array or a JSONata expression "
                 "\"{%% ... %%}\"");
    pop(c, old);
  }
  if (field(st, "ItemSelector") && field(st, "Parameters"))
    problem(c, "a Map state cannot have both ItemSelector and Parameters");
  /* in a Map, Parameters is the legacy name of ItemSelector */
  s->item_selector = compile_template(
      c, st, field(st, "ItemSelector") ? "ItemSelector" : "Parameters");
  if (proc && iter) {
    problem(c, "a Map state cannot have both ItemProcessor and Iterator");
  } else if (!proc && !iter) {
    problem(c, "a Map state needs ItemProcessor (or the legacy Iterator)");
  } else {
    old = push_key(c, proc ? "ItemProcessor" : "Iterator", proc ? 13 : 8);
    s->processor = compile_sub(c, proc ? proc : iter, 1, &s->distributed);
    pop(c, old);
  }
  compile_reader(c, st, s);
  compile_writer(c, st, s);
  if ((x = field(st, "Label")) != NULL) {
    old = push_key(c, "Label", 5);
    if (!is_type(x, ORC_JSON_STRING) || orc_json_len(x) > 40)
      problem(c, "Label must be a string of at most 40 characters");
    else
      s->label = dupstr(c, orc_json_string_value(x, NULL), orc_json_len(x));
    pop(c, old);
  }
  count_pair(c, st, "MaxConcurrency", "MaxConcurrencyPath", &s->max_concurrency,
             &s->max_concurrency_path, &s->q_max_concurrency);
  count_pair(c, st, "ToleratedFailureCount", "ToleratedFailureCountPath",
             &s->tolerated_count, &s->tolerated_count_path,
             &s->q_tolerated_count);
  if (q_field(c, st, "ToleratedFailurePercentage", &s->q_tolerated_percent)) {
    x = NULL;
  } else if ((x = field(st, "ToleratedFailurePercentage")) != NULL) {
    old = push_key(c, "ToleratedFailurePercentage", 26);
    if (!is_number(x) || orc_json_number(x) < 0 || orc_json_number(x) > 100)
      problem(c, "ToleratedFailurePercentage must be a number from 0 to 100");
    else
      s->tolerated_percent = orc_json_number(x);
    pop(c, old);
  }
  s->tolerated_percent_path = compile_path(
      c, st, "ToleratedFailurePercentagePath", ORCI_PATH_REFERENCE, 0, NULL);
  if (x && s->tolerated_percent_path)
    problem(c, "a state cannot have both ToleratedFailurePercentage and "
               "ToleratedFailurePercentagePath");
  if ((x = field(st, "ItemBatcher")) != NULL) {
    static const char *const batch_fields[] = {"MaxItemsPerBatch",
                                               "MaxItemsPerBatchPath",
                                               "MaxInputBytesPerBatch",
                                               "MaxInputBytesPerBatchPath",
                                               "BatchInput",
                                               NULL};
    old = push_key(c, "ItemBatcher", 11);
    s->batched = 1;
    if (!is_type(x, ORC_JSON_OBJECT)) {
      problem(c, "ItemBatcher must be an object");
    } else {
      check_fields(c, x, batch_fields, "an ItemBatcher");
      count_pair(c, x, "MaxItemsPerBatch", "MaxItemsPerBatchPath",
                 &s->batch_max_items, &s->batch_max_items_path,
                 &s->q_batch_items);
      count_pair(c, x, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath",
                 &s->batch_max_bytes, &s->batch_max_bytes_path,
                 &s->q_batch_bytes);
      s->batch_input = compile_template(c, x, "BatchInput");
      if (!field(x, "MaxItemsPerBatch") && !field(x, "MaxItemsPerBatchPath") &&
          !field(x, "MaxInputBytesPerBatch") &&
          !field(x, "MaxInputBytesPerBatchPath"))
        problem(c, "an ItemBatcher needs MaxItemsPerBatch or "
                   "MaxInputBytesPerBatch (or their Path forms)");
    }
    pop(c, old);
  }
}

static void compile_state_body(cc *c, orc_json *st, orci_state *s);

static void compile_state(cc *c, orc_json *st, orci_state *s) {
  int saved = c->jsonata; /* a Map or Parallel compiles its states inside */
  size_t saved_plen = c->state_plen;
  compile_state_body(c, st, s);
  c->jsonata = saved;
  c->state_plen = saved_plen;
}

static void compile_state_body(cc *c, orc_json *st, orci_state *s) {
  orc_json *type = field(st, "Type"), *x, *ql;
  const char *t;
  size_t old;
  if (!is_type(st, ORC_JSON_OBJECT)) {
    problem(c, "a state must be an object");
    return;
  }
  c->jsonata = c->jsonata_top;
  c->state_plen = c->plen;
  ql = field(st, "QueryLanguage");
  if (ql) {
    old = push_key(c, "QueryLanguage", 13);
    if (is_type(ql, ORC_JSON_STRING) &&
        !strcmp(orc_json_string_value(ql, NULL), "JSONata"))
      c->jsonata = 1;
    else if (!is_type(ql, ORC_JSON_STRING) ||
             strcmp(orc_json_string_value(ql, NULL), "JSONPath"))
      problem(c, "QueryLanguage must be \"JSONPath\" or \"JSONata\"");
    else if (c->jsonata_top)
      problem(c, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
                 "for whole state machine");
    pop(c, old);
  }
  s->jsonata = c->jsonata;
  if (type == NULL) {
    problem(c, "a state needs Type");
    return;
  }
  if (!is_type(type, ORC_JSON_STRING)) {
    old = push_key(c, "Type", 4);
    problem(c, "Type must be a string");
    pop(c, old);
    return;
  }
  t = orc_json_string_value(type, NULL);
  expect_string(c, st, "Comment");
  s->assign = compile_assign(c, st);
  if (!strcmp(t, "Pass")) {
    s->type = ORCI_ST_PASS;
    state_fields(c, st, pass_fields, q_pass_fields, "a Pass state");
    compile_next_end(c, st, s);
    compile_io(c, st, s, 1);
    s->parameters = compile_template(c, st, "Parameters");
    if ((x = field(st, "Result")) != NULL) s->result = orc_json_ref(x);
  } else if (!strcmp(t, "Task")) {
    s->type = ORCI_ST_TASK;
    state_fields(c, st, task_fields, q_task_fields, "a Task state");
    compile_next_end(c, st, s);
    compile_io(c, st, s, 1);
    s->parameters = compile_template(c, st, "Parameters");
    s->result_selector = compile_template(c, st, "ResultSelector");
    x = field(st, "Resource");
    if (x == NULL) {
      problem(c, "a Task state needs Resource");
    } else if (!is_type(x, ORC_JSON_STRING) || orc_json_len(x) == 0) {
      old = push_key(c, "Resource", 8);
      problem(c, "Resource must be a non-empty string (a URI)");
      pop(c, old);
    } else {
      size_t len;
      const char *r = orc_json_string_value(x, &len);
      s->resource = dupstr(c, r, len);
      if (s->resource) classify_resource(c, s);
    }
    seconds_pair(c, st, "TimeoutSeconds", "TimeoutSecondsPath", &s->timeout_s,
                 &s->timeout_path, &s->q_timeout);
    seconds_pair(c, st, "HeartbeatSeconds", "HeartbeatSecondsPath",
                 &s->heartbeat_s, &s->heartbeat_path, &s->q_heartbeat);
    if (s->timeout_s && s->heartbeat_s && s->heartbeat_s >= s->timeout_s) {
      old = push_key(c, "HeartbeatSeconds", 16);
      problem(c, "HeartbeatSeconds must be smaller than TimeoutSeconds");
      pop(c, old);
    }
    compile_retry(c, st, s);
    compile_catch(c, st, s);
  } else if (!strcmp(t, "Choice")) {
    size_t i;
    s->type = ORCI_ST_CHOICE;
    s->next = -1;
    s->default_next = -1;
    state_fields(c, st, choice_fields, q_choice_fields, "a Choice state");
    compile_io(c, st, s, 0);
    x = field(st, "Choices");
    old = push_key(c, "Choices", 7);
    if (x == NULL) {
      pop(c, old);
      problem(c, "a Choice state needs Choices");
    } else if (!is_type(x, ORC_JSON_ARRAY) || orc_json_len(x) == 0) {
      problem(c, "Choices must be a non-empty array of rules");
      pop(c, old);
    } else {
      s->nchoices = orc_json_len(x);
      s->choices = (orci_rule **)calloc(s->nchoices, sizeof *s->choices);
      if (s->choices == NULL) {
        c->oom = 1;
        s->nchoices = 0;
      }
      for (i = 0; i < s->nchoices; i++) {
        size_t o2 = push_index(c, i);
        s->choices[i] = rule_compile(c, orc_json_array_get(x, i), 1);
        pop(c, o2);
      }
      pop(c, old);
    }
    if ((x = field(st, "Default")) != NULL) {
      old = push_key(c, "Default", 7);
      s->default_next = resolve(c, x, "Default");
      pop(c, old);
    }
  } else if (!strcmp(t, "Wait")) {
    int n = 0;
    s->type = ORCI_ST_WAIT;
    s->wait_seconds = -1;
    state_fields(c, st, wait_fields, q_wait_fields, "a Wait state");
    compile_next_end(c, st, s);
    compile_io(c, st, s, 0);
    if (q_field(c, st, "Seconds", &s->q_seconds)) {
      n++;
    } else if ((x = field(st, "Seconds")) != NULL) {
      n++;
      old = push_key(c, "Seconds", 7);
      if (!get_int(x, 0, 99999999, &s->wait_seconds))
        problem(c, "Seconds must be a non-negative integer");
      pop(c, old);
    }
    if (q_field(c, st, "Timestamp", &s->q_timestamp)) {
      n++;
    } else if ((x = field(st, "Timestamp")) != NULL) {
      n++;
      old = push_key(c, "Timestamp", 9);
      if (!is_type(x, ORC_JSON_STRING) ||
          orci_parse_timestamp(orc_json_string_value(x, NULL), orc_json_len(x),
                               &s->wait_timestamp_ms) < 0)
        problem(c, "Timestamp must be an RFC 3339 timestamp such as "
                   "2024-01-31T12:00:00Z");
      else
        s->wait_timestamp =
            dupstr(c, orc_json_string_value(x, NULL), orc_json_len(x));
      pop(c, old);
    }
    if (field(st, "SecondsPath")) {
      n++;
      s->seconds_path =
          compile_path(c, st, "SecondsPath", ORCI_PATH_REFERENCE, 0, NULL);
    }
    if (field(st, "TimestampPath")) {
      n++;
      s->timestamp_path =
          compile_path(c, st, "TimestampPath", ORCI_PATH_REFERENCE, 0, NULL);
    }
    if (n != 1)
      problem(c, c->jsonata ? "a Wait state needs exactly one of Seconds and "
                              "Timestamp"
                            : "a Wait state needs exactly one of Seconds, "
                              "Timestamp, SecondsPath and TimestampPath");
  } else if (!strcmp(t, "Succeed")) {
    s->type = ORCI_ST_SUCCEED;
    s->next = -1;
    state_fields(c, st, succeed_fields, q_succeed_fields, "a Succeed state");
    compile_io(c, st, s, 0);
  } else if (!strcmp(t, "Fail")) {
    s->type = ORCI_ST_FAIL;
    s->next = -1;
    state_fields(c, st, fail_fields, q_fail_fields, "a Fail state");
    expect_string(c, st, "Error");
    expect_string(c, st, "Cause");
    if (!q_field(c, st, "Error", &s->q_error) && (x = field(st, "Error")) &&
        is_type(x, ORC_JSON_STRING))
      s->error = dupstr(c, orc_json_string_value(x, NULL), orc_json_len(x));
    if (!q_field(c, st, "Cause", &s->q_cause) && (x = field(st, "Cause")) &&
        is_type(x, ORC_JSON_STRING))
      s->cause = dupstr(c, orc_json_string_value(x, NULL), orc_json_len(x));
    if ((x = field(st, "ErrorPath")) != NULL) {
      size_t len;
      char msg[256];
      old = push_key(c, "ErrorPath", 9);
      if (is_type(x, ORC_JSON_STRING) &&
          orci_intrinsic_is_call(orc_json_string_value(x, &len),
                                 orc_json_len(x))) {
        s->error_fn = orci_intrinsic_compile(orc_json_string_value(x, NULL),
                                             len, msg, sizeof msg);
        if (s->error_fn == NULL) problem(c, "%s", msg);
        pop(c, old);
      } else {
        pop(c, old);
        s->error_path =
            compile_path(c, st, "ErrorPath", ORCI_PATH_REFERENCE, 0, NULL);
      }
      if (field(st, "Error"))
        problem(c, "a Fail state cannot have both Error and ErrorPath");
    }
    if ((x = field(st, "CausePath")) != NULL) {
      size_t len;
      char msg[256];
      old = push_key(c, "CausePath", 9);
      if (is_type(x, ORC_JSON_STRING) &&
          orci_intrinsic_is_call(orc_json_string_value(x, &len),
                                 orc_json_len(x))) {
        s->cause_fn = orci_intrinsic_compile(orc_json_string_value(x, NULL),
                                             len, msg, sizeof msg);
        if (s->cause_fn == NULL) problem(c, "%s", msg);
        pop(c, old);
      } else {
        pop(c, old);
        s->cause_path =
            compile_path(c, st, "CausePath", ORCI_PATH_REFERENCE, 0, NULL);
      }
      if (field(st, "Cause"))
        problem(c, "a Fail state cannot have both Cause and CausePath");
    }
  } else if (!strcmp(t, "Parallel")) {
    compile_parallel(c, st, s);
  } else if (!strcmp(t, "Map")) {
    compile_map(c, st, s);
  } else {
    old = push_key(c, "Type", 4);
    problem(c,
            "unknown state type '%s' (expected Pass, Task, Choice, Wait, "
            "Succeed, Fail, Map or Parallel)",
            t);
    pop(c, old);
    return;
  }
  if (c->jsonata) {
    if (s->type == ORCI_ST_TASK || s->type == ORCI_ST_PARALLEL) {
      tmpl_free(s->parameters); /* a Parameters already reported */
      s->parameters = compile_template(c, st, "Arguments");
    }
    if (s->type != ORCI_ST_FAIL) s->output = compile_template(c, st, "Output");
  }
}

static void state_release(orci_state *s) {
  size_t i, k;
  free(s->name);
  orc_json_unref(s->name_json);
  orci_path_free(s->input_path);
  orci_path_free(s->output_path);
  orci_path_free(s->result_path);
  tmpl_free(s->parameters);
  tmpl_free(s->result_selector);
  orc_json_unref(s->result);
  free(s->resource);
  free(s->resource_type);
  free(s->resource_name);
  orci_path_free(s->timeout_path);
  orci_path_free(s->heartbeat_path);
  for (i = 0; i < s->nretry; i++) {
    for (k = 0; k < s->retry[i].nerrors; k++)
      free(s->retry[i].errors[k]);
    free(s->retry[i].errors);
  }
  free(s->retry);
  for (i = 0; i < s->ncatch; i++) {
    for (k = 0; k < s->catch_[i].nerrors; k++)
      free(s->catch_[i].errors[k]);
    free(s->catch_[i].errors);
    orci_path_free(s->catch_[i].result_path);
    tmpl_free(s->catch_[i].assign);
    tmpl_free(s->catch_[i].output);
  }
  free(s->catch_);
  for (i = 0; i < s->nchoices; i++)
    rule_free(s->choices[i]);
  free(s->choices);
  free(s->wait_timestamp);
  orci_path_free(s->seconds_path);
  orci_path_free(s->timestamp_path);
  free(s->error);
  free(s->cause);
  orci_path_free(s->error_path);
  orci_path_free(s->cause_path);
  orci_intrinsic_free(s->error_fn);
  orci_intrinsic_free(s->cause_fn);
  for (i = 0; i < s->nbranches; i++)
    branch_release(&s->branches[i]);
  free(s->branches);
  branch_release(s->processor);
  free(s->processor);
  orci_path_free(s->items_path);
  tmpl_free(s->item_selector);
  orci_path_free(s->max_concurrency_path);
  orci_path_free(s->tolerated_percent_path);
  orci_path_free(s->tolerated_count_path);
  orci_path_free(s->batch_max_items_path);
  orci_path_free(s->batch_max_bytes_path);
  tmpl_free(s->batch_input);
  free(s->label);
  tmpl_free(s->assign);
  tmpl_free(s->reader_params);
  for (i = 0; i < s->ncsv_headers; i++)
    free(s->csv_headers[i]);
  free(s->csv_headers);
  orci_path_free(s->reader_max_items_path);
  tmpl_free(s->writer_params);
  tmpl_free(s->output);
  tmpl_free(s->q_timeout);
  tmpl_free(s->q_heartbeat);
  tmpl_free(s->q_seconds);
  tmpl_free(s->q_timestamp);
  tmpl_free(s->q_error);
  tmpl_free(s->q_cause);
  tmpl_free(s->q_items);
  tmpl_free(s->q_max_concurrency);
  tmpl_free(s->q_tolerated_count);
  tmpl_free(s->q_tolerated_percent);
  tmpl_free(s->q_batch_items);
  tmpl_free(s->q_batch_bytes);
  tmpl_free(s->q_reader_max_items);
}

void orci_machine_release(orc_machine *M) {
  branch_release(&M->top);
  orc_json_unref(M->definition);
  orc_json_unref(M->ctx);
  M->ctx = NULL;
  M->definition = NULL; /* name and arn are machine.c's */
}

/* Mark the states reachable from start. */
static void reach(const orci_branch *M, int start, unsigned char *seen) {
  int *stack = (int *)malloc((M->nstates + 1) * sizeof *stack);
  size_t top = 0, i, k;
  if (stack == NULL || start < 0) goto done;
  stack[top++] = start;
  seen[start] = 1;
  while (top) {
    const orci_state *s = &M->states[stack[--top]];
    int targets[3];
    size_t nt = 0;
#define PUSH(ix)                                                               \
  do {                                                                         \
    int ix_ = (ix);                                                            \
    if (ix_ >= 0 && !seen[ix_]) {                                              \
      seen[ix_] = 1;                                                           \
      stack[top++] = ix_;                                                      \
    }                                                                          \
  } while (0)
    targets[nt++] = s->next;
    targets[nt++] = s->default_next;
    for (i = 0; i < nt; i++)
      PUSH(targets[i]);
    for (k = 0; k < s->nchoices; k++)
      if (s->choices[k]) PUSH(s->choices[k]->next);
    for (k = 0; k < s->ncatch; k++)
      PUSH(s->catch_[k].next);
#undef PUSH
  }
done:
  free(stack);
}

static int seen_cmp(const void *a, const void *b) {
  const struct seen_name *x = (const struct seen_name *)a;
  const struct seen_name *y = (const struct seen_name *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int r = memcmp(x->name, y->name, n);
  return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* Compile a state list with its StartAt (the machine's top level, a
** Parallel branch or a Map's ItemProcessor) into B. Names resolve inside
** the list only. */
static void compile_branch(cc *c, orc_json *def, orci_branch *B) {
  orc_json *states, *x;
  size_t i, n;
  struct name_ix *saved_names = c->names;
  size_t saved_nnames = c->nnames;
  int errors_before = c->nerrors;
  B->start = -1;
  states = field(def, "States");
  if (states == NULL) {
    problem(c, "a state machine needs States");
  } else if (!is_type(states, ORC_JSON_OBJECT) || orc_json_len(states) == 0) {
    size_t old = push_key(c, "States", 6);
    problem(c, "States must be a non-empty object of named states");
    pop(c, old);
    states = NULL;
  }
  n = states ? orc_json_len(states) : 0;
  B->states = (orci_state *)calloc(n ? n : 1, sizeof *B->states);
  c->names = (struct name_ix *)calloc(n ? n : 1, sizeof *c->names);
  if (B->states == NULL || c->names == NULL) {
    free(c->names);
    free(B->states);
    B->states = NULL;
    c->names = saved_names;
    c->nnames = saved_nnames;
    c->oom = 1;
    return;
  }
  B->nstates = n;
  for (i = 0; i < n; i++) {
    size_t len;
    const char *nm =
        orc_json_string_value(orc_json_object_key(states, i), &len);
    B->states[i].name = dupstr(c, nm, len);
    B->states[i].name_json = orc_json_ref(orc_json_object_key(states, i));
    B->states[i].next = -1;
    B->states[i].default_next = -1;
    c->names[i].name = nm;
    c->names[i].len = len;
    c->names[i].ix = (int)i;
    if (c->nall == c->capall) {
      size_t cap = c->capall ? c->capall * 2 : 16;
      struct seen_name *p =
          (struct seen_name *)realloc(c->all, cap * sizeof *p);
      if (p == NULL) {
        c->oom = 1;
      } else {
        c->all = p;
        c->capall = cap;
      }
    }
    if (c->nall < c->capall) {
      size_t old = push_key(c, "States", 6), o2 = push_key(c, nm, len);
      c->all[c->nall].name = nm;
      c->all[c->nall].len = len;
      c->all[c->nall].pointer = strdup(c->ptr);
      c->nall++;
      pop(c, o2);
      pop(c, old);
    }
    if (len == 0 || len > 80) {
      size_t old = push_key(c, "States", 6), o2 = push_key(c, nm, len);
      problem(c, "a state name must be 1 to 80 characters long");
      pop(c, o2);
      pop(c, old);
    }
  }
  c->nnames = n;
  qsort(c->names, n, sizeof *c->names, name_cmp);
  x = field(def, "StartAt");
  if (x == NULL) {
    problem(c, "a state machine needs StartAt");
  } else {
    size_t old = push_key(c, "StartAt", 7);
    if (n)
      B->start = resolve(c, x, "StartAt");
    else if (!is_type(x, ORC_JSON_STRING))
      problem(c, "StartAt must be a string naming a state");
    pop(c, old);
  }
  for (i = 0; i < n; i++) {
    size_t len, old = push_key(c, "States", 6), o2;
    const char *nm =
        orc_json_string_value(orc_json_object_key(states, i), &len);
    o2 = push_key(c, nm, len);
    compile_state(c, orc_json_object_value(states, i), &B->states[i]);
    pop(c, o2);
    pop(c, old);
  }
  free(c->names);
  c->names = saved_names;
  c->nnames = saved_nnames;
  if (c->nerrors == errors_before && n) {
    unsigned char *seen = (unsigned char *)calloc(n, 1);
    if (seen == NULL) {
      c->oom = 1;
      return;
    }
    reach(B, B->start, seen);
    for (i = 0; i < n; i++) {
      if (!seen[i]) {
        size_t old = push_key(c, "States", 6),
               o2 = push_key(c, B->states[i].name, strlen(B->states[i].name));
        problem(c, "state '%s' is not reachable from StartAt",
                B->states[i].name);
        pop(c, o2);
        pop(c, old);
      }
    }
    free(seen);
  }
}

static void branch_release(orci_branch *B) {
  size_t i;
  if (B == NULL) return;
  for (i = 0; i < B->nstates; i++)
    state_release(&B->states[i]);
  free(B->states);
  B->states = NULL;
  B->nstates = 0;
}

int orci_machine_compile(orc_machine *M, orc_json *def, orc_diagnostics *diag,
                         orc_error *err) {
  cc c;
  orc_json *x;
  static const char *const top_fields[] = {
      "Comment", "StartAt",       "States", "TimeoutSeconds",
      "Version", "QueryLanguage", NULL};
  memset(&c, 0, sizeof c);
  c.M = M;
  c.diag = diag;
  M->top.start = -1;
  if (!is_type(def, ORC_JSON_OBJECT)) {
    problem(&c, "a state machine definition must be a JSON object");
    return orci_error(err, ORC_EINVAL, "", "invalid definition: %s",
                      "not a JSON object");
  }
  M->definition = orc_json_ref(def);
  x = field(def, "QueryLanguage");
  if (x) {
    size_t old = push_key(&c, "QueryLanguage", 13);
    if (is_type(x, ORC_JSON_STRING) &&
        !strcmp(orc_json_string_value(x, NULL), "JSONata")) {
      c.jsonata_top = 1;
    } else if (!is_type(x, ORC_JSON_STRING) ||
               strcmp(orc_json_string_value(x, NULL), "JSONPath")) {
      problem(&c, "QueryLanguage must be \"JSONPath\" or \"JSONata\"");
    }
    pop(&c, old);
  }
  check_fields(&c, def, top_fields, "a state machine");
  expect_string(&c, def, "Comment");
  expect_string(&c, def, "Version");
  if ((x = field(def, "TimeoutSeconds")) != NULL) {
    size_t old = push_key(&c, "TimeoutSeconds", 14);
    if (!get_int(x, 1, 99999999, &M->timeout_s))
      problem(&c, "TimeoutSeconds must be a positive integer");
    pop(&c, old);
  }
  compile_branch(&c, def, &M->top);
  if (c.nall > 1) { /* state names are unique across all branches */
    size_t i, k;
    qsort(c.all, c.nall, sizeof *c.all, seen_cmp);
    for (i = 1; i < c.nall; i++) {
      if (seen_cmp(&c.all[i - 1], &c.all[i]) != 0) continue;
      for (k = 0; c.all[i].pointer && c.all[i].pointer[k]; k++)
        ;
      snprintf(c.ptr, sizeof c.ptr, "%s",
               c.all[i].pointer ? c.all[i].pointer : "");
      c.plen = strlen(c.ptr);
      problem(&c,
              "state name '%.*s' is used more than once (names must be "
              "unique in the whole machine, branches included)",
              (int)c.all[i].len, c.all[i].name);
    }
    c.ptr[0] = '\0';
    c.plen = 0;
  }
  {
    size_t i;
    for (i = 0; i < c.nall; i++)
      free(c.all[i].pointer);
    free(c.all);
  }
  if (c.oom) return orci_error(err, ORC_ENOMEM, "", "out of memory");
  if (c.nerrors) {
    const orc_diagnostic *d0 = diag && diag->n ? &diag->items[0] : NULL;
    return orci_error(
        err, c.unsupported ? ORC_EUNSUPPORT : ORC_EINVAL, d0 ? d0->pointer : "",
        "invalid definition (%d problem%s)%s%s%s%s", c.nerrors,
        c.nerrors == 1 ? "" : "s", d0 ? ": " : "", d0 ? d0->pointer : "",
        d0 ? ": " : "", d0 ? d0->message : "");
  }
  return ORC_OK;
}

/* }====== */
