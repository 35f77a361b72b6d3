/*
** JSONata evaluator: walks the tree of jsonata_parse.c over jv values with
** jsonata-js's sequence semantics (singleton collapse, flattening, tuple
** streams for focus/index/parent bindings), environments of frames,
** function application with a trampoline for tail calls, and the public
** compile/eval entry points.
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonata_int.h"

/* {====== arena */

struct jblock {
  jblock *next;
  size_t size;
  /* data follows, max-aligned */
};

#define JALIGN     16
#define JBLOCK_HDR ((sizeof(jblock) + JALIGN - 1) & ~(size_t)(JALIGN - 1))

void *orci_arena_alloc(jarena *A, size_t n) {
  n = (n + JALIGN - 1) & ~(size_t)(JALIGN - 1);
  if (n == 0) n = JALIGN;
  if (!A->head || A->used + n > A->head->size) {
    size_t size = A->head ? A->head->size * 2 : 4096;
    if (size > (size_t)1 << 22) size = (size_t)1 << 22;
    if (size < n) size = n;
    if (A->limit && A->total + size > A->limit) return NULL;
    jblock *b = (jblock *)malloc(JBLOCK_HDR + size);
    if (!b) return NULL;
    b->next = A->head;
    b->size = size;
    A->head = b;
    A->used = 0;
    A->total += size;
  }
  void *p = (char *)A->head + JBLOCK_HDR + A->used;
  A->used += n;
  return p;
}

void orci_arena_free(jarena *A) {
  jblock *b = A->head;
  while (b) {
    jblock *next = b->next;
    if (b != A->fixed) free(b);
    b = next;
  }
  A->head = NULL;
  A->used = A->total = 0;
}

/* }====== */

/* {====== errors */

static const struct {
  const char *code;
  const char *msg;
} ERRORS[] = {
    {"S0101", "String literal must be terminated by a matching quote"},
    {"S0102", "Number out of range: {{token}}"},
    {"S0103", "Unsupported escape sequence: \\{{token}}"},
    {"S0104", "The escape sequence \\u must be followed by 4 hex digits"},
    {"S0105", "Quoted property name must be terminated with a backquote (`)"},
    {"S0106", "Comment has no closing tag"},
    {"S0201", "Syntax error: {{token}}"},
    {"S0202", "Expected {{value}}, got {{token}}"},
    {"S0203", "Expected {{value}} before end of expression"},
    {"S0204", "Unknown operator: {{token}}"},
    {"S0205", "Unexpected token: {{token}}"},
    {"S0207", "Unexpected end of expression"},
    {"S0208", "Parameter {{value}} of function definition must be a variable "
              "name (start with $)"},
    {"S0209", "A predicate cannot follow a grouping expression in a step"},
    {"S0210", "Each step can only have one grouping expression"},
    {"S0211", "The symbol {{token}} cannot be used as a unary operator"},
    {"S0212", "The left side of := must be a variable name (start with $)"},
    {"S0213", "The literal value {{value}} cannot be used as a step within a "
              "path expression"},
    {"S0214", "The right side of {{token}} must be a variable name (start "
              "with $)"},
    {"S0215", "A context variable binding must precede any predicates on a "
              "step"},
    {"S0216", "A context variable binding must precede the 'order-by' clause "
              "on a step"},
    {"S0217", "The object representing the 'parent' cannot be derived from "
              "this expression"},
    {"S0301", "Empty regular expressions are not allowed"},
    {"S0302", "No terminating / in regular expression"},
    {"S0303", "Invalid regular expression: {{value}}"},
    {"S0401", "Type parameters can only be applied to functions and arrays"},
    {"S0402", "Choice groups containing parameterized types are not "
              "supported"},
    {"T0410", "Argument {{index}} of function {{token}} does not match "
              "function signature"},
    {"T0411", "Context value is not a compatible type with argument "
              "{{index}} of function {{token}}"},
    {"T0412", "Argument {{index}} of function {{token}} must be an array of "
              "{{value}}"},
    {"D1001", "Number out of range: {{value}}"},
    {"D1002", "Cannot negate a non-numeric value: {{value}}"},
    {"T1003", "Key in object structure must evaluate to a string; got: "
              "{{value}}"},
    {"D1004", "Regular expression matches zero length string"},
    {"T1005", "Attempted to invoke a non-function. Did you mean "
              "${{token}}?"},
    {"T1006", "Attempted to invoke a non-function"},
    {"T1007", "Attempted to partially apply a non-function. Did you mean "
              "${{token}}?"},
    {"T1008", "Attempted to partially apply a non-function"},
    {"D1009", "Multiple key definitions evaluate to same key: {{value}}"},
    {"T1010", "The matcher function argument passed to function {{token}} "
              "does not return the correct object structure"},
    {"D1011", "Stack overflow. Check for non-terminating recursive function. "
              " Consider rewriting as tail-recursive"},
    {"D1012", "Evaluation timeout after {{value}}. Check for infinite loop"},
    {"D1013", "Object property names starting with _jsonata_ are reserved "
              "for internal use: {{value}}"},
    {"T2001", "The left side of the {{token}} operator must evaluate to a "
              "number"},
    {"T2002", "The right side of the {{token}} operator must evaluate to a "
              "number"},
    {"T2003", "The left side of the range operator (..) must evaluate to an "
              "integer"},
    {"T2004", "The right side of the range operator (..) must evaluate to an "
              "integer"},
    {"T2006", "The right side of the function application operator ~> must "
              "be a function"},
    {"T2007", "Type mismatch when comparing values {{value}} in order-by "
              "clause"},
    {"T2008", "The expressions within an order-by clause must evaluate to "
              "numeric or string values"},
    {"T2009", "The values {{value}} either side of operator {{token}} must "
              "be of the same data type"},
    {"T2010", "The expressions either side of operator {{token}} must "
              "evaluate to numeric or string values"},
    {"T2011", "The insert/update clause of the transform expression must "
              "evaluate to an object: {{value}}"},
    {"T2012", "The delete clause of the transform expression must evaluate "
              "to a string or array of strings: {{value}}"},
    {"T2013", "The transform expression clones the input object using the "
              "$clone() function.  This has been overridden in the current "
              "scope by a non-function."},
    {"D2014", "The size of the sequence allocated by the range operator (..) "
              "must not exceed 1e7.  Attempted to allocate {{value}}."},
    {"D3001", "Attempting to invoke string function on Infinity or NaN"},
    {"D3010", "Second argument of replace function cannot be an empty "
              "string"},
    {"D3011", "Fourth argument of replace function must evaluate to a "
              "positive number"},
    {"D3012", "Attempted to replace a matched string with a non-string "
              "value"},
    {"D3020", "Third argument of split function must evaluate to a positive "
              "number"},
    {"D3030", "Unable to cast value to a number: {{value}}"},
    {"D3040", "Third argument of match function must evaluate to a positive "
              "number"},
    {"D3050", "The second argument of reduce function must be a function "
              "with at least two arguments"},
    {"D3060", "The sqrt function cannot be applied to a negative number: "
              "{{value}}"},
    {"D3061", "The power function has resulted in a value that cannot be "
              "represented as a JSON number: {{value}}"},
    {"D3070", "The single argument form of the sort function can only be "
              "applied to an array of strings or an array of numbers.  Use "
              "the second argument to specify a comparison function"},
    {"D3080", "The picture string must only contain a maximum of two "
              "sub-pictures"},
    {"D3081", "The sub-picture must not contain more than one instance of "
              "the 'decimal-separator' character"},
    {"D3082", "The sub-picture must not contain more than one instance of "
              "the 'percent' character"},
    {"D3083", "The sub-picture must not contain more than one instance of "
              "the 'per-mille' character"},
    {"D3084", "The sub-picture must not contain both a 'percent' and a "
              "'per-mille' character"},
    {"D3085", "The mantissa part of a sub-picture must contain at least one "
              "character that is either an 'optional digit character' or a "
              "member of the 'decimal digit family'"},
    {"D3086", "The sub-picture must not contain a passive character that is "
              "preceded by an active character and that is followed by "
              "another active character"},
    {"D3087", "The sub-picture must not contain a 'grouping-separator' "
              "character that appears adjacent to a 'decimal-separator' "
              "character"},
    {"D3088", "The sub-picture must not contain a 'grouping-separator' at "
              "the end of the integer part"},
    {"D3089", "The sub-picture must not contain two adjacent instances of "
              "the 'grouping-separator' character"},
    {"D3090", "The integer part of the sub-picture must not contain a member "
              "of the 'decimal digit family' that is followed by an instance "
              "of the 'optional digit character'"},
    {"D3091", "The fractional part of the sub-picture must not contain an "
              "instance of the 'optional digit character' that is followed "
              "by a member of the 'decimal digit family'"},
    {"D3092", "A sub-picture that contains a 'percent' or 'per-mille' "
              "character must not contain a character treated as an "
              "'exponent-separator'"},
    {"D3093", "The exponent part of the sub-picture must comprise only of "
              "one or more characters that are members of the 'decimal digit "
              "family'"},
    {"D3100", "The radix of the formatBase function must be between 2 and "
              "36.  It was given {{value}}"},
    {"D3110", "The argument of the toMillis function must be an ISO 8601 "
              "formatted timestamp. Given {{value}}"},
    {"D3120", "Syntax error in expression passed to function eval: "
              "{{value}}"},
    {"D3121", "Dynamic error evaluating the expression passed to function "
              "eval: {{value}}"},
    {"D3130", "Formatting or parsing an integer as a sequence starting with "
              "{{value}} is not supported by this implementation"},
    {"D3131", "In a decimal digit pattern, all digits must be from the same "
              "decimal group"},
    {"D3132", "Unknown component specifier {{value}} in date/time picture "
              "string"},
    {"D3133", "The 'name' modifier can only be applied to months and days in "
              "the date/time picture string, not {{value}}"},
    {"D3134", "The timezone integer format specifier cannot have more than "
              "four digits"},
    {"D3135", "No matching closing bracket ']' in date/time picture string"},
    {"D3136", "The date/time picture string is missing specifiers required "
              "to parse the timestamp"},
    {"D3137", "{{value}}"},
    {"D3138", "The $single() function expected exactly 1 matching result.  "
              "Instead it matched more."},
    {"D3139", "The $single() function expected exactly 1 matching result.  "
              "Instead it matched 0."},
    {"D3140", "Malformed URL passed to ${{token}}(): {{value}}"},
    {"D3141", "{{value}}"},
    {"U1001", "Out of memory: the evaluation exceeded its memory budget"},
    {"States.Runtime", "{{value}}"},
};

void orci_jerror_fill(orc_jsonata_error *err, const char *code, int position,
                      const char *token, const char *value, int index) {
  const char *tmpl = NULL;
  char ix[16];
  if (!err) return;
  err->status = ORC_EINVAL;
  snprintf(err->code, sizeof err->code, "%s", code);
  err->position = position;
  snprintf(err->token, sizeof err->token, "%s", token ? token : "");
  for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
    if (!strcmp(ERRORS[i].code, code)) tmpl = ERRORS[i].msg;
  if (!tmpl) tmpl = "{{value}}";
  snprintf(ix, sizeof ix, "%d", index);
  size_t o = 0;
  char *m = err->message;
  size_t cap = sizeof err->message - 1;
  for (const char *p = tmpl; *p && o < cap;) {
    const char *sub = NULL;
    size_t skip = 0;
    if (!strncmp(p, "{{token}}", 9))
      sub = token ? token : "", skip = 9;
    else if (!strncmp(p, "{{value}}", 9))
      sub = value ? value : "", skip = 9;
    else if (!strncmp(p, "{{index}}", 9))
      sub = ix, skip = 9;
    if (sub) {
      size_t l = strlen(sub);
      if (l > cap - o) l = cap - o;
      memcpy(m + o, sub, l);
      o += l;
      p += skip;
    } else {
      m[o++] = *p++;
    }
  }
  m[o] = '\0';
}

void orci_jthrow(jctx *C, const char *code, int position, const char *token,
                 const char *value) {
  orci_jerror_fill(C->err, code, position, token, value, 0);
  longjmp(C->jmp, 1);
}

void orci_jnomem(jctx *C) {
  if (C->err) {
    orci_jerror_fill(C->err, "U1001", 0, NULL, NULL, 0);
    C->err->status = ORC_ENOMEM;
  }
  longjmp(C->jmp, 1);
}

static double now_ms_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Every evaluation of a node passes here: the depth, step and time
** budgets. The caller decrements depth when the node is done. */
void orci_jstep(jctx *C) {
  if (++C->depth > C->max_depth) {
    char v[32];
    snprintf(v, sizeof v, "%d", C->max_depth);
    orci_jthrow(C, "D1011", 0, NULL, v);
  }
  if (++C->steps > C->max_steps) {
    char v[64];
    snprintf(v, sizeof v, "%lld steps", (long long)C->max_steps);
    orci_jthrow(C, "D1012", 0, NULL, v);
  }
  if ((C->steps & 1023) == 0 && C->timeout_ms > 0 &&
      now_ms_real() - C->start_ms > C->timeout_ms) {
    char v[64];
    snprintf(v, sizeof v, "%.0f milliseconds", C->timeout_ms);
    orci_jthrow(C, "D1012", 0, NULL, v);
  }
}

/* }====== */

/* {====== values */

void *orci_jalloc(jctx *C, size_t n) {
  void *p = orci_arena_alloc(&C->A, n);
  if (!p) orci_jnomem(C);
  return p;
}

jv orci_jundef(void) {
  jv v;
  memset(&v, 0, sizeof v);
  return v;
}

jv orci_jnum(jctx *C, double d) {
  jv v;
  if (!isfinite(d)) {
    char b[32];
    snprintf(b, sizeof b, "%s",
             isnan(d) ? "NaN"
             : d > 0  ? "Infinity"
                      : "-Infinity");
    orci_jthrow(C, "D1001", 0, NULL, b);
  }
  v.t = JV_NUM;
  v.u.n = d;
  return v;
}

jv orci_jbool(int b) {
  jv v;
  v.t = JV_BOOL;
  v.u.b = b != 0;
  return v;
}

jv orci_jnull(void) {
  jv v;
  v.t = JV_NULL;
  v.u.n = 0;
  return v;
}

jv orci_jstr(const char *p, size_t n) {
  jv v;
  v.t = JV_STR;
  v.u.s.p = p;
  v.u.s.n = n;
  return v;
}

jv orci_jstr_copy(jctx *C, const char *p, size_t n) {
  char *d = (char *)orci_jalloc(C, n + 1);
  if (n) memcpy(d, p, n);
  d[n] = '\0';
  return orci_jstr(d, n);
}

jv orci_jfromjson(const orc_json *j) {
  jv v;
  memset(&v, 0, sizeof v);
  if (!j) return v;
  switch (j->type) {
  case ORC_JSON_NULL:
    v.t = JV_NULL;
    break;
  case ORC_JSON_BOOL:
    v.t = JV_BOOL, v.u.b = j->u.b;
    break;
  case ORC_JSON_INT:
    v.t = JV_NUM, v.u.n = (double)j->u.i;
    break;
  case ORC_JSON_FLOAT:
    v.t = JV_NUM, v.u.n = j->u.d;
    break;
  case ORC_JSON_STRING:
    v.t = JV_STR, v.u.s.p = j->u.s, v.u.s.n = j->n;
    break;
  case ORC_JSON_ARRAY:
    v.t = JV_JARR, v.u.j = j;
    break;
  case ORC_JSON_OBJECT:
    v.t = JV_JOBJ, v.u.j = j;
    break;
  }
  return v;
}

jarr *orci_jarr_new(jctx *C, size_t cap) {
  jarr *a = (jarr *)orci_jalloc(C, sizeof *a);
  memset(a, 0, sizeof *a);
  if (cap) {
    a->items = (jv *)orci_jalloc(C, cap * sizeof(jv));
    a->cap = cap;
  }
  return a;
}

void orci_jarr_push(jctx *C, jarr *a, jv v) {
  if (a->n == a->cap) {
    size_t nc = a->cap ? a->cap * 2 : 4;
    jv *ni = (jv *)orci_jalloc(C, nc * sizeof(jv));
    if (a->n) memcpy(ni, a->items, a->n * sizeof(jv));
    a->items = ni;
    a->cap = nc;
  }
  a->items[a->n++] = v;
}

jv orci_jarr_val(jarr *a) {
  jv v;
  v.t = JV_ARR;
  v.u.a = a;
  return v;
}

jv orci_jseq(jctx *C) {
  jarr *a = orci_jarr_new(C, 0);
  a->seq = 1;
  return orci_jarr_val(a);
}

static jv seq1(jctx *C, jv item) {
  jarr *a = orci_jarr_new(C, 1);
  a->seq = 1;
  orci_jarr_push(C, a, item);
  return orci_jarr_val(a);
}

jobj *orci_jobj_new(jctx *C, size_t cap) {
  jobj *o = (jobj *)orci_jalloc(C, sizeof *o);
  memset(o, 0, sizeof *o);
  if (cap) {
    o->keys = (jkey *)orci_jalloc(C, cap * sizeof(jkey));
    o->vals = (jv *)orci_jalloc(C, cap * sizeof(jv));
    o->cap = cap;
  }
  return o;
}

static uint32_t khash(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)p[i]) * 16777619u;
  return h;
}

static void obj_rehash(jctx *C, jobj *o) {
  size_t hc = 16;
  while (hc < o->n * 2 + 2)
    hc *= 2;
  o->hash = (int32_t *)orci_jalloc(C, hc * sizeof(int32_t));
  o->hcap = hc;
  for (size_t i = 0; i < hc; i++)
    o->hash[i] = -1;
  for (size_t i = 0; i < o->n; i++) {
    size_t h = khash(o->keys[i].p, o->keys[i].n) & (hc - 1);
    while (o->hash[h] >= 0)
      h = (h + 1) & (hc - 1);
    o->hash[h] = (int32_t)i;
  }
}

static long obj_find(const jobj *o, const char *k, size_t kn) {
  if (o->hash) {
    size_t h = khash(k, kn) & (o->hcap - 1);
    while (o->hash[h] >= 0) {
      const jkey *key = &o->keys[o->hash[h]];
      if (key->n == kn && !memcmp(key->p, k, kn)) return o->hash[h];
      h = (h + 1) & (o->hcap - 1);
    }
    return -1;
  }
  for (size_t i = 0; i < o->n; i++)
    if (o->keys[i].n == kn && !memcmp(o->keys[i].p, k, kn)) return (long)i;
  return -1;
}

void orci_jobj_set(jctx *C, jobj *o, const char *k, size_t kn, jv v) {
  long i = obj_find(o, k, kn);
  if (i >= 0) {
    o->vals[i] = v;
    return;
  }
  if (o->n == o->cap) {
    size_t nc = o->cap ? o->cap * 2 : 4;
    jkey *nk = (jkey *)orci_jalloc(C, nc * sizeof(jkey));
    jv *nv = (jv *)orci_jalloc(C, nc * sizeof(jv));
    if (o->n) {
      memcpy(nk, o->keys, o->n * sizeof(jkey));
      memcpy(nv, o->vals, o->n * sizeof(jv));
    }
    o->keys = nk;
    o->vals = nv;
    o->cap = nc;
  }
  o->keys[o->n].p = k;
  o->keys[o->n].n = kn;
  o->vals[o->n] = v;
  o->n++;
  if (o->hash && o->n * 2 + 2 <= o->hcap) {
    size_t h = khash(k, kn) & (o->hcap - 1);
    while (o->hash[h] >= 0)
      h = (h + 1) & (o->hcap - 1);
    o->hash[h] = (int32_t)(o->n - 1);
  } else if (o->n > 12) {
    obj_rehash(C, o);
  }
}

int orci_jobj_del(jobj *o, const char *k, size_t kn) {
  long i = obj_find(o, k, kn);
  if (i < 0) return 0;
  memmove(o->keys + i, o->keys + i + 1, (o->n - (size_t)i - 1) * sizeof(jkey));
  memmove(o->vals + i, o->vals + i + 1, (o->n - (size_t)i - 1) * sizeof(jv));
  o->n--;
  o->hash = NULL; /* rebuilt on the next growth */
  o->hcap = 0;
  return 1;
}

jv orci_jobj_val(jobj *o) {
  jv v;
  v.t = JV_OBJ;
  v.u.o = o;
  return v;
}

int orci_jis_array(jv v) {
  return v.t == JV_ARR || v.t == JV_JARR;
}
int orci_jis_object(jv v) {
  return v.t == JV_OBJ || v.t == JV_JOBJ;
}
int orci_jis_seq(jv v) {
  return v.t == JV_ARR && v.u.a->seq;
}

size_t orci_jlen(jv v) {
  switch (v.t) {
  case JV_ARR:
    return v.u.a->n;
  case JV_OBJ:
    return v.u.o->n;
  case JV_JARR:
  case JV_JOBJ:
    return v.u.j->n;
  default:
    return 0;
  }
}

jv orci_jat(jv v, size_t i) {
  if (v.t == JV_ARR) return v.u.a->items[i];
  return orci_jfromjson(v.u.j->u.items[i]);
}

jkey orci_jkey(jv o, size_t i) {
  if (o.t == JV_OBJ) return o.u.o->keys[i];
  jkey k;
  k.p = o.u.j->u.members[i].key->u.s;
  k.n = o.u.j->u.members[i].key->n;
  return k;
}

jv orci_jval(jv o, size_t i) {
  if (o.t == JV_OBJ) return o.u.o->vals[i];
  return orci_jfromjson(o.u.j->u.members[i].value);
}

jv orci_jget(jv o, const char *k, size_t kn) {
  if (o.t == JV_OBJ) {
    long i = obj_find(o.u.o, k, kn);
    return i >= 0 ? o.u.o->vals[i] : orci_jundef();
  }
  if (o.t == JV_JOBJ) return orci_jfromjson(orc_json_object_find(o.u.j, k, kn));
  return orci_jundef();
}

/* utils.isNumeric: NaN is not a number; an infinity is an error */
static int is_numeric(jctx *C, jv v) {
  if (v.t != JV_NUM || isnan(v.u.n)) return 0;
  if (!isfinite(v.u.n))
    orci_jthrow(C, "D1001", 0, NULL, v.u.n > 0 ? "Infinity" : "-Infinity");
  return 1;
}

/* fn.boolean: *defined is 0 for undefined. */
int orci_jtruthy(jctx *C, jv v, int *defined) {
  if (defined) *defined = 1;
  switch (v.t) {
  case JV_UNDEF:
    if (defined) *defined = 0;
    return 0;
  case JV_NULL:
    return 0;
  case JV_BOOL:
    return v.u.b;
  case JV_NUM:
    return v.u.n != 0;
  case JV_STR:
    return v.u.s.n > 0;
  case JV_FN:
    return 0;
  case JV_OBJ:
  case JV_JOBJ:
    return orci_jlen(v) > 0;
  case JV_ARR:
  case JV_JARR: {
    size_t n = orci_jlen(v);
    if (n == 1) return orci_jtruthy(C, orci_jat(v, 0), NULL);
    for (size_t i = 0; i < n; i++)
      if (orci_jtruthy(C, orci_jat(v, i), NULL)) return 1;
    return 0;
  }
  }
  return 0;
}

int orci_jequal(jv a, jv b) {
  if (orci_jis_array(a) && orci_jis_array(b)) {
    size_t n = orci_jlen(a);
    if (n != orci_jlen(b)) return 0;
    for (size_t i = 0; i < n; i++)
      if (!orci_jequal(orci_jat(a, i), orci_jat(b, i))) return 0;
    return 1;
  }
  if (orci_jis_object(a) && orci_jis_object(b)) {
    size_t n = orci_jlen(a);
    if (n != orci_jlen(b)) return 0;
    for (size_t i = 0; i < n; i++) {
      jkey k = orci_jkey(a, i);
      jv bv = orci_jget(b, k.p, k.n);
      if (bv.t == JV_UNDEF || !orci_jequal(orci_jval(a, i), bv)) return 0;
    }
    return 1;
  }
  if (a.t != b.t) return 0;
  switch (a.t) {
  case JV_UNDEF:
  case JV_NULL:
    return 1;
  case JV_BOOL:
    return a.u.b == b.u.b;
  case JV_NUM:
    return a.u.n == b.u.n;
  case JV_STR:
    return a.u.s.n == b.u.s.n && !memcmp(a.u.s.p, b.u.s.p, a.u.s.n);
  case JV_FN:
    return a.u.f == b.u.f;
  default:
    return 0;
  }
}

static void flatten_into(jctx *C, jv v, jarr *out) {
  if (orci_jis_array(v)) {
    size_t n = orci_jlen(v);
    for (size_t i = 0; i < n; i++)
      flatten_into(C, orci_jat(v, i), out);
  } else {
    orci_jarr_push(C, out, v);
  }
}

jv orci_jflatten(jctx *C, jv v) {
  jarr *out = orci_jarr_new(C, 0);
  flatten_into(C, v, out);
  return orci_jarr_val(out);
}

/* fn.append: a plain (non-sequence) array of a's and b's items. */
jv orci_jappend(jctx *C, jv a, jv b) {
  if (a.t == JV_UNDEF) return b;
  if (b.t == JV_UNDEF) return a;
  size_t na = orci_jis_array(a) ? orci_jlen(a) : 1;
  size_t nb = orci_jis_array(b) ? orci_jlen(b) : 1;
  jarr *r = orci_jarr_new(C, na + nb);
  if (orci_jis_array(a))
    for (size_t i = 0; i < na; i++)
      orci_jarr_push(C, r, orci_jat(a, i));
  else
    orci_jarr_push(C, r, a);
  if (orci_jis_array(b))
    for (size_t i = 0; i < nb; i++)
      orci_jarr_push(C, r, orci_jat(b, i));
  else
    orci_jarr_push(C, r, b);
  return orci_jarr_val(r);
}

jarr *orci_jto_arr(jctx *C, jv v) {
  if (v.t == JV_ARR) return v.u.a;
  jarr *a = orci_jarr_new(C, orci_jlen(v));
  if (v.t == JV_JARR)
    for (size_t i = 0; i < v.u.j->n; i++)
      orci_jarr_push(C, a, orci_jfromjson(v.u.j->u.items[i]));
  else if (v.t != JV_UNDEF)
    orci_jarr_push(C, a, v);
  return a;
}

/* }====== */

/* {====== frames */

jframe *orci_jframe_new(jctx *C, jframe *parent) {
  jframe *f = (jframe *)orci_jalloc(C, sizeof *f);
  memset(f, 0, sizeof *f);
  f->parent = parent;
  return f;
}

void orci_jbind(jctx *C, jframe *f, const char *k, size_t kn, jv v) {
  for (size_t i = 0; i < f->n; i++)
    if (f->names[i].n == kn && !memcmp(f->names[i].p, k, kn)) {
      f->vals[i] = v;
      return;
    }
  if (f->n == f->cap) {
    size_t nc = f->cap ? f->cap * 2 : 4;
    jkey *nk = (jkey *)orci_jalloc(C, nc * sizeof(jkey));
    jv *nv = (jv *)orci_jalloc(C, nc * sizeof(jv));
    if (f->n) {
      memcpy(nk, f->names, f->n * sizeof(jkey));
      memcpy(nv, f->vals, f->n * sizeof(jv));
    }
    f->names = nk;
    f->vals = nv;
    f->cap = nc;
  }
  f->names[f->n].p = k;
  f->names[f->n].n = kn;
  f->vals[f->n++] = v;
}

int orci_jlookup(jframe *f, const char *k, size_t kn, jv *out) {
  for (; f; f = f->parent)
    for (size_t i = 0; i < f->n; i++)
      if (f->names[i].n == kn && !memcmp(f->names[i].p, k, kn)) {
        *out = f->vals[i];
        return 1;
      }
  return 0;
}

static jv builtin_value(jctx *C, const jbuiltin *b) {
  jfn *f = (jfn *)orci_jalloc(C, sizeof *f);
  memset(f, 0, sizeof *f);
  f->kind = F_BUILTIN;
  f->b = b;
  jv v;
  v.t = JV_FN;
  v.u.f = f;
  return v;
}

/* A variable: frames first, then the function library. */
static jv lookup_var(jctx *C, jframe *env, const char *k, size_t kn) {
  jv v;
  if (orci_jlookup(env, k, kn, &v)) return v;
  if (C->resolve) {
    const orc_json *h = C->resolve(C->resolve_ud, k, kn);
    if (h) return orci_jfromjson(h);
  }
  const jbuiltin *b = orci_jbuiltin_find(k, kn, C->flags);
  if (b) return builtin_value(C, b);
  return orci_jundef();
}

static jframe *frame_from_tuple(jctx *C, jframe *env, jv tuple) {
  jframe *f = orci_jframe_new(C, env);
  jobj *o = tuple.u.o;
  for (size_t i = 0; i < o->n; i++)
    orci_jbind(C, f, o->keys[i].p, o->keys[i].n, o->vals[i]);
  return f;
}

static jv tuple_at(jv tuple) {
  return orci_jget(tuple, "@", 1);
}

static jobj *tuple_copy(jctx *C, jv tuple) {
  jobj *src = tuple.u.o, *o = orci_jobj_new(C, src->n + 2);
  for (size_t i = 0; i < src->n; i++)
    orci_jobj_set(C, o, src->keys[i].p, src->keys[i].n, src->vals[i]);
  return o;
}

/* }====== */

/* {====== evaluation */

static jv eval(jctx *C, const jnode *x, jv input, jframe *env);

static jv eval_filter(jctx *C, const jnode *pred, jv input, jframe *env) {
  jarr *results = orci_jarr_new(C, 0);
  results->seq = 1;
  int tuple = input.t == JV_ARR && input.u.a->tuple;
  if (tuple) results->tuple = 1;
  if (!orci_jis_array(input)) input = seq1(C, input);
  size_t n = orci_jlen(input);
  if (pred->type == N_NUMBER) {
    double idx = floor(pred->num);
    if (idx < 0) idx += (double)n;
    if (idx >= 0 && idx < (double)n) {
      jv item = orci_jat(input, (size_t)idx);
      if (item.t != JV_UNDEF) {
        if (orci_jis_array(item)) return item;
        orci_jarr_push(C, results, item);
      }
    }
    return orci_jarr_val(results);
  }
  for (size_t i = 0; i < n; i++) {
    jv item = orci_jat(input, i), context = item;
    jframe *e = env;
    if (tuple) {
      context = tuple_at(item);
      e = frame_from_tuple(C, env, item);
    }
    jv res = eval(C, pred, context, e);
    if (res.t == JV_NUM) res = seq1(C, res);
    int allnum = orci_jis_array(res);
    if (allnum) {
      size_t rn = orci_jlen(res);
      for (size_t k = 0; k < rn; k++)
        if (orci_jat(res, k).t != JV_NUM) allnum = 0;
    }
    if (allnum) {
      size_t rn = orci_jlen(res);
      for (size_t k = 0; k < rn; k++) {
        double ii = floor(orci_jat(res, k).u.n);
        if (ii < 0) ii += (double)n;
        if (ii == (double)i) orci_jarr_push(C, results, item);
      }
    } else if (orci_jtruthy(C, res, NULL)) {
      orci_jarr_push(C, results, item);
    }
  }
  return orci_jarr_val(results);
}

static jv eval_group(jctx *C, const jnode *g, jv input, jframe *env);
static jv eval_sort(jctx *C, const jnode *x, jv input, jframe *env);

static jv eval_stages(jctx *C, const jnode *step, jv input, jframe *env) {
  jv result = input;
  for (size_t s = 0; s < step->nstages; s++) {
    const jnode *st = step->stages[s];
    if (st->type == N_FILTER) {
      result = eval_filter(C, st->lhs, result, env);
    } else if (result.t == JV_ARR) { /* index binding over tuples */
      for (size_t i = 0; i < result.u.a->n; i++)
        orci_jobj_set(C, result.u.a->items[i].u.o, st->str, st->len,
                      orci_jnum(C, (double)i));
    }
  }
  return result;
}

static jv eval_step(jctx *C, const jnode *step, jv input, jframe *env,
                    int last) {
  if (step->type == N_SORT) {
    jv r = eval_sort(C, step, input, env);
    if (step->nstages) r = eval_stages(C, step, r, env);
    return r;
  }
  size_t n = orci_jlen(input);
  jarr *result = orci_jarr_new(C, n);
  for (size_t i = 0; i < n; i++) {
    jv res = eval(C, step, orci_jat(input, i), env);
    for (size_t s = 0; s < step->nstages; s++)
      if (step->stages[s]->type == N_FILTER)
        res = eval_filter(C, step->stages[s]->lhs, res, env);
    if (res.t != JV_UNDEF) orci_jarr_push(C, result, res);
  }
  if (last && result->n == 1 && orci_jis_array(result->items[0]) &&
      !orci_jis_seq(result->items[0]))
    return result->items[0];
  jarr *out = orci_jarr_new(C, result->n);
  out->seq = 1;
  for (size_t i = 0; i < result->n; i++) {
    jv res = result->items[i];
    if (!orci_jis_array(res) || (res.t == JV_ARR && res.u.a->cons)) {
      orci_jarr_push(C, out, res);
    } else {
      size_t rn = orci_jlen(res);
      for (size_t k = 0; k < rn; k++)
        orci_jarr_push(C, out, orci_jat(res, k));
    }
  }
  return orci_jarr_val(out);
}

static jv eval_tuple_step(jctx *C, const jnode *step, jv input, jv bindings,
                          jframe *env) {
  if (step->type == N_SORT) {
    jv result;
    if (bindings.t != JV_UNDEF) {
      result = eval_sort(C, step, bindings, env);
    } else {
      jv sorted = eval_sort(C, step, input, env);
      jarr *r = orci_jarr_new(C, orci_jlen(sorted));
      r->seq = r->tuple = 1;
      for (size_t i = 0; i < orci_jlen(sorted); i++) {
        jobj *t = orci_jobj_new(C, 2);
        orci_jobj_set(C, t, "@", 1, orci_jat(sorted, i));
        if (step->index)
          orci_jobj_set(C, t, step->index, step->indexlen,
                        orci_jnum(C, (double)i));
        orci_jarr_push(C, r, orci_jobj_val(t));
      }
      result = orci_jarr_val(r);
    }
    if (step->nstages) result = eval_stages(C, step, result, env);
    return result;
  }
  jarr *result = orci_jarr_new(C, 0);
  result->seq = result->tuple = 1;
  if (bindings.t == JV_UNDEF) {
    size_t n = orci_jlen(input);
    jarr *b = orci_jarr_new(C, n);
    for (size_t i = 0; i < n; i++) {
      jobj *t = orci_jobj_new(C, 2);
      orci_jobj_set(C, t, "@", 1, orci_jat(input, i));
      orci_jarr_push(C, b, orci_jobj_val(t));
    }
    bindings = orci_jarr_val(b);
  }
  size_t nb = orci_jlen(bindings);
  for (size_t e = 0; e < nb; e++) {
    jv tb = orci_jat(bindings, e);
    jframe *stepenv = frame_from_tuple(C, env, tb);
    jv res = eval(C, step, tuple_at(tb), stepenv);
    if (res.t == JV_UNDEF) continue;
    int rtuple = res.t == JV_ARR && res.u.a->tuple;
    if (!orci_jis_array(res)) res = seq1(C, res);
    size_t rn = orci_jlen(res);
    for (size_t k = 0; k < rn; k++) {
      jobj *t = tuple_copy(C, tb);
      jv rk = orci_jat(res, k);
      if (rtuple) {
        jobj *src = rk.u.o;
        for (size_t m = 0; m < src->n; m++)
          orci_jobj_set(C, t, src->keys[m].p, src->keys[m].n, src->vals[m]);
      } else {
        if (step->focus) {
          orci_jobj_set(C, t, step->focus, step->focuslen, rk);
          orci_jobj_set(C, t, "@", 1, tuple_at(tb));
        } else {
          orci_jobj_set(C, t, "@", 1, rk);
        }
        if (step->index)
          orci_jobj_set(C, t, step->index, step->indexlen,
                        orci_jnum(C, (double)k));
        if (step->ancestor) {
          char *lab = (char *)orci_jalloc(C, 16);
          int ln = snprintf(lab, 16, "!%d", step->ancestor->label);
          orci_jobj_set(C, t, lab, (size_t)ln, tuple_at(tb));
        }
      }
      orci_jarr_push(C, result, orci_jobj_val(t));
    }
  }
  jv r = orci_jarr_val(result);
  if (step->nstages) r = eval_stages(C, step, r, env);
  return r;
}

static jv eval_path(jctx *C, const jnode *x, jv input, jframe *env) {
  jv inseq, resseq = orci_jundef(), tuples = orci_jundef();
  int is_tuple = 0;
  if (orci_jis_array(input) && x->items[0]->type != N_VARIABLE)
    inseq = input;
  else
    inseq = seq1(C, input);
  for (size_t i = 0; i < x->n; i++) {
    const jnode *step = x->items[i];
    if (step->tuple) is_tuple = 1;
    if (i == 0 && step->cons_array) {
      resseq = eval(C, step, inseq, env);
    } else if (is_tuple) {
      tuples = eval_tuple_step(C, step, inseq, tuples, env);
    } else {
      resseq = eval_step(C, step, inseq, env, i == x->n - 1);
    }
    if (!is_tuple && (resseq.t == JV_UNDEF ||
                      (orci_jis_array(resseq) && orci_jlen(resseq) == 0)))
      break;
    if (!step->focus) {
      inseq = is_tuple ? tuples : resseq;
      if (!orci_jis_array(inseq)) inseq = seq1(C, inseq);
    }
  }
  if (is_tuple) {
    if (x->tuple) {
      resseq = tuples;
    } else {
      jarr *r = orci_jarr_new(C, orci_jlen(tuples));
      r->seq = 1;
      for (size_t i = 0; i < orci_jlen(tuples); i++)
        orci_jarr_push(C, r, tuple_at(orci_jat(tuples, i)));
      resseq = orci_jarr_val(r);
    }
  }
  if (x->keep_singleton && resseq.t != JV_UNDEF) {
    if (resseq.t == JV_ARR && resseq.u.a->cons && !resseq.u.a->seq) {
      resseq = seq1(C, resseq);
    } else if (resseq.t != JV_ARR) {
      jarr *c = orci_jto_arr(C, resseq);
      if (resseq.t != JV_JARR) c->seq = 1;
      resseq = orci_jarr_val(c);
    }
    resseq.u.a->keep = 1;
  }
  if (x->group)
    resseq = eval_group(C, x->group, is_tuple ? tuples : resseq, env);
  return resseq;
}

static jv eval_name(jctx *C, jv input, const char *k, size_t kn) {
  if (orci_jis_array(input)) {
    jarr *r = orci_jarr_new(C, 0);
    r->seq = 1;
    size_t n = orci_jlen(input);
    for (size_t i = 0; i < n; i++) {
      jv res = eval_name(C, orci_jat(input, i), k, kn);
      if (res.t == JV_UNDEF) continue;
      if (orci_jis_array(res)) {
        size_t rn = orci_jlen(res);
        for (size_t m = 0; m < rn; m++)
          orci_jarr_push(C, r, orci_jat(res, m));
      } else {
        orci_jarr_push(C, r, res);
      }
    }
    return orci_jarr_val(r);
  }
  return orci_jget(input, k, kn);
}

static jv eval_wildcard(jctx *C, jv input) {
  jv results = orci_jseq(C);
  if (input.t == JV_ARR && input.u.a->outer && input.u.a->n > 0)
    input = input.u.a->items[0];
  if (orci_jis_object(input) || orci_jis_array(input)) {
    size_t n = orci_jlen(input);
    for (size_t i = 0; i < n; i++) {
      jv v = orci_jis_object(input) ? orci_jval(input, i) : orci_jat(input, i);
      if (orci_jis_array(v)) {
        results = orci_jappend(C, results, orci_jflatten(C, v));
      } else {
        orci_jarr_push(C, results.u.a, v);
      }
    }
  }
  return results;
}

static void descend(jctx *C, jv v, jarr *out) {
  if (!orci_jis_array(v)) orci_jarr_push(C, out, v);
  if (orci_jis_array(v)) {
    size_t n = orci_jlen(v);
    for (size_t i = 0; i < n; i++)
      descend(C, orci_jat(v, i), out);
  } else if (orci_jis_object(v)) {
    size_t n = orci_jlen(v);
    for (size_t i = 0; i < n; i++)
      descend(C, orci_jval(v, i), out);
  }
}

static void describe_pair(jv a, jv b, char *buf, size_t len) {
  char x[100], y[100];
  orci_jdescribe(a, x, sizeof x);
  orci_jdescribe(b, y, sizeof y);
  snprintf(buf, len, "%s and %s", x, y);
}

static const char *op_name(int op) {
  static const char *const names[] = {
      "",   "+", "-",  "*", "/",   "%",  "=",  "!=", "<",
      "<=", ">", ">=", "&", "and", "or", "in", ".."};
  return names[op];
}

static int strcmp_js(jv a, jv b) {
  /* UTF-8 byte order equals code point order; JavaScript compares UTF-16
  ** units, which differs only between astral and U+E000..U+FFFF. */
  size_t n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
  int c = memcmp(a.u.s.p, b.u.s.p, n);
  if (c) return c;
  return a.u.s.n < b.u.s.n ? -1 : a.u.s.n > b.u.s.n;
}

static jv eval_binary(jctx *C, const jnode *x, jv input, jframe *env) {
  jv lhs = eval(C, x->lhs, input, env), rhs;
  int op = x->op;
  char vb[220];
  if (op == OP_AND || op == OP_OR) {
    int l = orci_jtruthy(C, lhs, NULL);
    if (op == OP_AND && !l) return orci_jbool(0);
    if (op == OP_OR && l) return orci_jbool(1);
    return orci_jbool(orci_jtruthy(C, eval(C, x->rhs, input, env), NULL));
  }
  rhs = eval(C, x->rhs, input, env);
  switch (op) {
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_MOD: {
    if (lhs.t != JV_UNDEF && !is_numeric(C, lhs)) {
      orci_jdescribe(lhs, vb, sizeof vb);
      orci_jthrow(C, "T2001", x->position, op_name(op), vb);
    }
    if (rhs.t != JV_UNDEF && !is_numeric(C, rhs)) {
      orci_jdescribe(rhs, vb, sizeof vb);
      orci_jthrow(C, "T2002", x->position, op_name(op), vb);
    }
    if (lhs.t == JV_UNDEF || rhs.t == JV_UNDEF) return orci_jundef();
    double a = lhs.u.n, b = rhs.u.n, r = 0;
    switch (op) {
    case OP_ADD:
      r = a + b;
      break;
    case OP_SUB:
      r = a - b;
      break;
    case OP_MUL:
      r = a * b;
      break;
    case OP_DIV:
      r = a / b;
      break;
    case OP_MOD:
      r = fmod(a, b);
      break;
    }
    /* like jsonata-js, an infinite result is only an error where it is
    ** used as a number (D1001) or printed ($string: D3001) */
    jv rv;
    rv.t = JV_NUM;
    rv.u.n = r;
    return rv;
  }
  case OP_EQ:
  case OP_NE:
    if (lhs.t == JV_UNDEF || rhs.t == JV_UNDEF) return orci_jbool(0);
    return orci_jbool(orci_jequal(lhs, rhs) == (op == OP_EQ));
  case OP_LT:
  case OP_LE:
  case OP_GT:
  case OP_GE: {
    int lc = lhs.t == JV_UNDEF || lhs.t == JV_STR || lhs.t == JV_NUM;
    int rc = rhs.t == JV_UNDEF || rhs.t == JV_STR || rhs.t == JV_NUM;
    if (!lc || !rc) {
      orci_jdescribe(!lc ? lhs : rhs, vb, sizeof vb);
      orci_jthrow(C, "T2010", x->position, op_name(op), vb);
    }
    if (lhs.t == JV_UNDEF || rhs.t == JV_UNDEF) return orci_jundef();
    if (lhs.t != rhs.t) {
      describe_pair(lhs, rhs, vb, sizeof vb);
      orci_jthrow(C, "T2009", x->position, op_name(op), vb);
    }
    int c;
    if (lhs.t == JV_NUM)
      c = lhs.u.n < rhs.u.n ? -1 : lhs.u.n > rhs.u.n ? 1 : 0;
    else
      c = strcmp_js(lhs, rhs);
    switch (op) {
    case OP_LT:
      return orci_jbool(c < 0);
    case OP_LE:
      return orci_jbool(c <= 0);
    case OP_GT:
      return orci_jbool(c > 0);
    default:
      return orci_jbool(c >= 0);
    }
  }
  case OP_CONCAT: {
    jv ls = lhs.t == JV_UNDEF ? orci_jstr("", 0) : orci_jfn_string(C, lhs);
    jv rs = rhs.t == JV_UNDEF ? orci_jstr("", 0) : orci_jfn_string(C, rhs);
    char *buf = (char *)orci_jalloc(C, ls.u.s.n + rs.u.s.n + 1);
    memcpy(buf, ls.u.s.p, ls.u.s.n);
    memcpy(buf + ls.u.s.n, rs.u.s.p, rs.u.s.n);
    return orci_jstr(buf, ls.u.s.n + rs.u.s.n);
  }
  case OP_IN: {
    if (lhs.t == JV_UNDEF || rhs.t == JV_UNDEF) return orci_jbool(0);
    if (!orci_jis_array(rhs)) rhs = seq1(C, rhs);
    size_t n = orci_jlen(rhs);
    for (size_t i = 0; i < n; i++) {
      jv r = orci_jat(rhs, i);
      if (r.t == lhs.t && r.t != JV_ARR && r.t != JV_JARR && r.t != JV_OBJ &&
          r.t != JV_JOBJ && orci_jequal(r, lhs))
        return orci_jbool(1);
      if (r.t == lhs.t && (r.t == JV_JARR || r.t == JV_JOBJ) &&
          r.u.j == lhs.u.j)
        return orci_jbool(1);
      if (r.t == lhs.t && r.t == JV_ARR && r.u.a == lhs.u.a)
        return orci_jbool(1);
      if (r.t == lhs.t && r.t == JV_OBJ && r.u.o == lhs.u.o)
        return orci_jbool(1);
    }
    return orci_jbool(0);
  }
  case OP_RANGE: {
    if (lhs.t != JV_UNDEF && (lhs.t != JV_NUM || lhs.u.n != floor(lhs.u.n))) {
      orci_jdescribe(lhs, vb, sizeof vb);
      orci_jthrow(C, "T2003", x->position, "..", vb);
    }
    if (rhs.t != JV_UNDEF && (rhs.t != JV_NUM || rhs.u.n != floor(rhs.u.n))) {
      orci_jdescribe(rhs, vb, sizeof vb);
      orci_jthrow(C, "T2004", x->position, "..", vb);
    }
    if (lhs.t == JV_UNDEF || rhs.t == JV_UNDEF) return orci_jundef();
    if (lhs.u.n > rhs.u.n) return orci_jundef();
    double size = rhs.u.n - lhs.u.n + 1;
    if (size > 1e7) {
      snprintf(vb, sizeof vb, "%.0f", size);
      orci_jthrow(C, "D2014", x->position, "..", vb);
    }
    jarr *r = orci_jarr_new(C, (size_t)size);
    r->seq = 1;
    for (size_t i = 0; i < (size_t)size; i++) {
      jv v;
      v.t = JV_NUM;
      v.u.n = lhs.u.n + (double)i;
      r->items[i] = v;
    }
    r->n = (size_t)size;
    return orci_jarr_val(r);
  }
  }
  return orci_jundef();
}

static jv eval_group(jctx *C, const jnode *g, jv input, jframe *env) {
  int reduce = input.t == JV_ARR && input.u.a->tuple;
  jobj *groups = orci_jobj_new(C, 0); /* key -> index into data/expr */
  jarr *data = orci_jarr_new(C, 0);
  size_t *exprix = NULL, cap = 0;
  char vb[220];
  if (!orci_jis_array(input)) input = seq1(C, input);
  if (orci_jlen(input) == 0 && !reduce) input = seq1(C, orci_jundef());
  size_t n = orci_jlen(input);
  for (size_t i = 0; i < n; i++) {
    jv item = orci_jat(input, i);
    jframe *e = reduce ? frame_from_tuple(C, env, item) : env;
    for (size_t p = 0; p < g->n / 2; p++) {
      jv key = eval(C, g->items[2 * p], reduce ? tuple_at(item) : item, e);
      if (key.t == JV_UNDEF) continue;
      if (key.t != JV_STR) {
        orci_jdescribe(key, vb, sizeof vb);
        orci_jthrow(C, "T1003", g->position, NULL, vb);
      }
      jv have = orci_jget(orci_jobj_val(groups), key.u.s.p, key.u.s.n);
      if (have.t != JV_UNDEF) {
        size_t gi = (size_t)have.u.n;
        if (exprix[gi] != p) {
          orci_jdescribe(key, vb, sizeof vb);
          orci_jthrow(C, "D1009", g->position, NULL, vb);
        }
        data->items[gi] = orci_jappend(C, data->items[gi], item);
      } else {
        if (data->n == cap) {
          size_t nc = cap ? cap * 2 : 8;
          size_t *ne = (size_t *)orci_jalloc(C, nc * sizeof *ne);
          if (data->n) memcpy(ne, exprix, data->n * sizeof *ne);
          exprix = ne;
          cap = nc;
        }
        exprix[data->n] = p;
        orci_jobj_set(C, groups, key.u.s.p, key.u.s.n,
                      orci_jnum(C, (double)data->n));
        orci_jarr_push(C, data, item);
      }
    }
  }
  jobj *result = orci_jobj_new(C, groups->n);
  for (size_t k = 0; k < groups->n; k++) {
    jv context = data->items[k];
    jframe *e = env;
    if (reduce) {
      /* merge the group's tuples: each binding becomes the sequence of
      ** its values */
      jobj *t;
      if (!orci_jis_array(context)) {
        t = tuple_copy(C, context);
      } else {
        t = tuple_copy(C, orci_jat(context, 0));
        for (size_t m = 1; m < orci_jlen(context); m++) {
          jobj *src = orci_jat(context, m).u.o;
          for (size_t q = 0; q < src->n; q++) {
            jv prev =
                orci_jget(orci_jobj_val(t), src->keys[q].p, src->keys[q].n);
            orci_jobj_set(C, t, src->keys[q].p, src->keys[q].n,
                          orci_jappend(C, prev, src->vals[q]));
          }
        }
      }
      context = orci_jget(orci_jobj_val(t), "@", 1);
      orci_jobj_del(t, "@", 1);
      e = frame_from_tuple(C, env, orci_jobj_val(t));
    }
    jv value = eval(C, g->items[2 * exprix[k] + 1], context, e);
    if (value.t != JV_UNDEF)
      orci_jobj_set(C, result, groups->keys[k].p, groups->keys[k].n, value);
  }
  return orci_jobj_val(result);
}

/* order-by: a stable merge sort whose comparator evaluates the terms */
typedef struct sortctx {
  jctx *C;
  const jnode *x;
  jframe *env;
  int tuple;
} sortctx;

static int sort_gt(sortctx *S, jv a, jv b) {
  jctx *C = S->C;
  char vb[220];
  for (size_t t = 0; t < S->x->n; t++) {
    const jnode *term = S->x->items[t];
    jv ca = a, cb = b;
    jframe *ea = S->env, *eb = S->env;
    if (S->tuple) {
      ca = tuple_at(a);
      ea = frame_from_tuple(C, S->env, a);
      cb = tuple_at(b);
      eb = frame_from_tuple(C, S->env, b);
    }
    jv aa = eval(C, term->lhs, ca, ea), bb = eval(C, term->lhs, cb, eb);
    int comp;
    if (aa.t == JV_UNDEF) {
      comp = bb.t == JV_UNDEF ? 0 : 1;
      if (comp) return 1;
      continue;
    }
    if (bb.t == JV_UNDEF) return 0;
    if (!(aa.t == JV_STR || aa.t == JV_NUM) ||
        !(bb.t == JV_STR || bb.t == JV_NUM)) {
      orci_jdescribe(!(aa.t == JV_STR || aa.t == JV_NUM) ? aa : bb, vb,
                     sizeof vb);
      orci_jthrow(C, "T2008", S->x->position, NULL, vb);
    }
    if (aa.t != bb.t) {
      describe_pair(aa, bb, vb, sizeof vb);
      orci_jthrow(C, "T2007", S->x->position, NULL, vb);
    }
    if (aa.t == JV_NUM)
      comp = aa.u.n == bb.u.n ? 0 : aa.u.n < bb.u.n ? -1 : 1;
    else
      comp = strcmp_js(aa, bb);
    if (comp == 0) continue;
    comp = comp < 0 ? -1 : 1;
    if (term->op) comp = -comp;
    return comp == 1;
  }
  return 0;
}

static void merge_sort(sortctx *S, jv *a, jv *tmp, size_t n,
                       int (*gt)(void *, jv, jv), void *ud) {
  if (n < 2) return;
  size_t h = n / 2;
  merge_sort(S, a, tmp, h, gt, ud);
  merge_sort(S, a + h, tmp, n - h, gt, ud);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) {
    if (gt(ud, a[i], a[j]))
      tmp[k++] = a[j++];
    else
      tmp[k++] = a[i++];
  }
  while (i < h)
    tmp[k++] = a[i++];
  while (j < n)
    tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof(jv));
}

static int sort_gt_cb(void *ud, jv a, jv b) {
  return sort_gt((sortctx *)ud, a, b);
}

/* Sort the items of arr (copied) with gt(a, b) meaning "a after b". */
jv orci_jsort_with(jctx *C, jv arr, int (*gt)(void *, jv, jv), void *ud) {
  size_t n = orci_jlen(arr);
  jarr *r = orci_jarr_new(C, n);
  for (size_t i = 0; i < n; i++)
    r->items[i] = orci_jat(arr, i);
  r->n = n;
  if (arr.t == JV_ARR) {
    r->seq = arr.u.a->seq;
    r->tuple = arr.u.a->tuple;
  }
  jv *tmp = (jv *)orci_jalloc(C, (n + 1) * sizeof(jv));
  merge_sort(NULL, r->items, tmp, n, gt, ud);
  return orci_jarr_val(r);
}

static jv eval_sort(jctx *C, const jnode *x, jv input, jframe *env) {
  sortctx S;
  S.C = C;
  S.x = x;
  S.env = env;
  S.tuple = input.t == JV_ARR && input.u.a->tuple;
  if (!orci_jis_array(input)) {
    if (input.t == JV_UNDEF) return input;
    input = seq1(C, input);
  }
  return orci_jsort_with(C, input, sort_gt_cb, &S);
}

static jv eval_array(jctx *C, const jnode *x, jv input, jframe *env) {
  if (x->n == 1 && x->items[0]->type == N_BINARY &&
      x->items[0]->op == OP_RANGE) {
    /* [a..b]: the range's sequence is new and unshared, so it becomes the
    ** array itself instead of being copied (ten million items fit the
    ** default memory budget once, not twice) */
    jv v = eval(C, x->items[0], input, env);
    if (v.t == JV_ARR && v.u.a->seq && !v.u.a->keep) {
      v.u.a->seq = 0;
      v.u.a->cons = x->cons_array;
      return v;
    }
    jarr *r = orci_jarr_new(C, 1);
    if (v.t != JV_UNDEF) orci_jarr_push(C, r, v);
    if (x->cons_array) r->cons = 1;
    return orci_jarr_val(r);
  }
  jarr *r = orci_jarr_new(C, x->n);
  for (size_t i = 0; i < x->n; i++) {
    jv v = eval(C, x->items[i], input, env);
    if (v.t == JV_UNDEF) continue;
    if (x->items[i]->type == N_ARRAY || !orci_jis_array(v)) {
      orci_jarr_push(C, r, v);
    } else {
      size_t n = orci_jlen(v);
      for (size_t k = 0; k < n; k++)
        orci_jarr_push(C, r, orci_jat(v, k));
    }
  }
  if (x->cons_array) r->cons = 1;
  return orci_jarr_val(r);
}

static jv make_fn(jctx *C, int kind, const jnode *node, jframe *env, jv input) {
  jfn *f = (jfn *)orci_jalloc(C, sizeof *f);
  memset(f, 0, sizeof *f);
  f->kind = (uint8_t)kind;
  f->node = node;
  f->env = env;
  f->input = input;
  if (kind == F_LAMBDA) {
    f->sig = node->sig;
    f->arity = (int)node->n;
  }
  jv v;
  v.t = JV_FN;
  v.u.f = f;
  return v;
}

static const char *proc_name(jctx *C, const jnode *proc) {
  const jnode *p = proc;
  if (p->type == N_PATH) p = p->items[0];
  if (!p->str) return NULL;
  char *s = (char *)orci_jalloc(C, p->len + 1);
  memcpy(s, p->str, p->len);
  s[p->len] = '\0';
  return s;
}

static jv eval_function(jctx *C, const jnode *x, jv input, jframe *env,
                        const jv *context) {
  jv proc = eval(C, x->lhs, input, env);
  if (proc.t == JV_UNDEF && x->lhs->type == N_PATH) {
    const jnode *s0 = x->lhs->items[0];
    jv tmp;
    if (s0->str && (orci_jlookup(env, s0->str, s0->len, &tmp) ||
                    orci_jbuiltin_find(s0->str, s0->len, C->flags)))
      orci_jthrow(C, "T1005", x->position, proc_name(C, x->lhs), NULL);
  }
  int nargs = (int)x->n + (context ? 1 : 0), k = 0;
  jv *args = (jv *)orci_jalloc(C, (size_t)(nargs + 1) * sizeof(jv));
  if (context) args[k++] = *context;
  for (size_t i = 0; i < x->n; i++)
    args[k++] = eval(C, x->items[i], input, env);
  if (proc.t != JV_FN)
    orci_jthrow(C, "T1006", x->position, proc_name(C, x->lhs), NULL);
  return orci_japply(C, proc, args, nargs, input, x->position);
}

static jv eval_partial(jctx *C, const jnode *x, jv input, jframe *env) {
  int n = (int)x->n;
  jv *args = (jv *)orci_jalloc(C, (size_t)(n + 1) * sizeof(jv));
  uint8_t *holes = (uint8_t *)orci_jalloc(C, (size_t)n + 1);
  int nholes = 0;
  for (int i = 0; i < n; i++) {
    holes[i] = x->items[i]->type == N_PLACEHOLDER;
    nholes += holes[i];
    args[i] = holes[i] ? orci_jundef() : eval(C, x->items[i], input, env);
  }
  jv proc = eval(C, x->lhs, input, env);
  if (proc.t == JV_UNDEF && x->lhs->type == N_PATH) {
    const jnode *s0 = x->lhs->items[0];
    jv tmp;
    if (s0->str && (orci_jlookup(env, s0->str, s0->len, &tmp) ||
                    orci_jbuiltin_find(s0->str, s0->len, C->flags)))
      orci_jthrow(C, "T1007", x->position, proc_name(C, x->lhs), NULL);
  }
  if (proc.t != JV_FN)
    orci_jthrow(C, "T1008", x->position, proc_name(C, x->lhs), NULL);
  jfn *f = (jfn *)orci_jalloc(C, sizeof *f);
  memset(f, 0, sizeof *f);
  f->kind = F_PARTIAL;
  f->target = proc.u.f;
  f->args = args;
  f->holes = holes;
  f->nargs = n;
  /* the target's parameters beyond those given stay open too */
  int tar = orci_jarity(proc);
  f->arity = nholes + (tar > n ? tar - n : 0);
  jv v;
  v.t = JV_FN;
  v.u.f = f;
  return v;
}

static jv eval_apply(jctx *C, const jnode *x, jv input, jframe *env) {
  jv lhs = eval(C, x->lhs, input, env);
  if (x->rhs->type == N_FUNCTION)
    return eval_function(C, x->rhs, input, env, &lhs);
  jv fn = eval(C, x->rhs, input, env);
  if (fn.t != JV_FN) {
    char vb[220];
    orci_jdescribe(fn, vb, sizeof vb);
    orci_jthrow(C, "T2006", x->position, NULL, vb);
  }
  if (lhs.t == JV_FN) {
    jfn *f = (jfn *)orci_jalloc(C, sizeof *f);
    memset(f, 0, sizeof *f);
    f->kind = F_CHAIN;
    f->target = lhs.u.f;
    f->second = fn.u.f;
    f->arity = 1;
    jv v;
    v.t = JV_FN;
    v.u.f = f;
    return v;
  }
  return orci_japply(C, fn, &lhs, 1, input, x->position);
}

static jv eval_variable(jctx *C, const jnode *x, jv input, jframe *env) {
  if (x->len == 0) {
    if (input.t == JV_ARR && input.u.a->outer && input.u.a->n)
      return input.u.a->items[0];
    return input;
  }
  return lookup_var(C, env, x->str, x->len);
}

static jv eval(jctx *C, const jnode *x, jv input, jframe *env) {
  jv r = orci_jundef();
  orci_jstep(C);
  switch (x->type) {
  case N_PATH:
    r = eval_path(C, x, input, env);
    break;
  case N_BINARY:
    r = eval_binary(C, x, input, env);
    break;
  case N_NEG: {
    r = eval(C, x->lhs, input, env);
    if (r.t == JV_UNDEF) break;
    if (r.t != JV_NUM) {
      char vb[220];
      orci_jdescribe(r, vb, sizeof vb);
      orci_jthrow(C, "D1002", x->position, "-", vb);
    }
    r.u.n = -r.u.n;
    break;
  }
  case N_ARRAY:
    r = eval_array(C, x, input, env);
    break;
  case N_OBJECT:
    r = eval_group(C, x, input, env);
    break;
  case N_NAME:
    r = eval_name(C, input, x->str, x->len);
    break;
  case N_STRING:
    r = orci_jstr(x->str, x->len);
    break;
  case N_NUMBER:
    r = orci_jnum(C, x->num);
    break;
  case N_VALUE:
    r = x->num == 2 ? orci_jnull() : orci_jbool(x->num == 1);
    break;
  case N_WILDCARD:
    r = eval_wildcard(C, input);
    break;
  case N_DESCENDANT:
    if (input.t != JV_UNDEF) {
      jarr *out = orci_jarr_new(C, 0);
      out->seq = 1;
      descend(C, input, out);
      r = out->n == 1 ? out->items[0] : orci_jarr_val(out);
    }
    break;
  case N_PARENT: {
    char lab[16];
    int ln = snprintf(lab, sizeof lab, "!%d", x->slot->label);
    orci_jlookup(env, lab, (size_t)ln, &r);
    break;
  }
  case N_CONDITION:
    if (x->op == 2) { /* ?? */
      r = eval(C, x->lhs, input, env);
      if (r.t == JV_UNDEF) r = eval(C, x->third, input, env);
    } else if (x->op == 1) { /* ?: */
      r = eval(C, x->lhs, input, env);
      if (!orci_jtruthy(C, r, NULL)) r = eval(C, x->third, input, env);
    } else if (orci_jtruthy(C, eval(C, x->lhs, input, env), NULL)) {
      r = eval(C, x->rhs, input, env);
    } else if (x->third) {
      r = eval(C, x->third, input, env);
    }
    break;
  case N_BLOCK: {
    jframe *f = orci_jframe_new(C, env);
    for (size_t i = 0; i < x->n; i++)
      r = eval(C, x->items[i], input, f);
    break;
  }
  case N_BIND:
    r = eval(C, x->rhs, input, env);
    orci_jbind(C, env, x->lhs->str, x->lhs->len, r);
    break;
  case N_REGEX:
    r = make_fn(C, F_REGEX, x, env, input);
    break;
  case N_FUNCTION:
    if (x->thunk) {
      r = make_fn(C, F_LAMBDA, x, env, input);
      r.u.f->thunk = 1;
    } else {
      r = eval_function(C, x, input, env, NULL);
    }
    break;
  case N_PARTIAL:
    r = eval_partial(C, x, input, env);
    break;
  case N_VARIABLE:
    r = eval_variable(C, x, input, env);
    break;
  case N_LAMBDA:
    r = make_fn(C, F_LAMBDA, x, env, input);
    break;
  case N_APPLY:
    r = eval_apply(C, x, input, env);
    break;
  case N_TRANSFORM:
    r = make_fn(C, F_TRANSFORM, x, env, input);
    r.u.f->arity = 1;
    break;
  default:
    break;
  }
  for (size_t i = 0; i < x->npreds; i++)
    r = eval_filter(C, x->preds[i]->lhs, r, env);
  if (x->type != N_PATH && x->group) r = eval_group(C, x->group, r, env);
  if (r.t == JV_ARR && r.u.a->seq && !r.u.a->tuple) {
    if (x->keep_array) r.u.a->keep = 1;
    if (r.u.a->n == 0)
      r = orci_jundef();
    else if (r.u.a->n == 1 && !r.u.a->keep)
      r = r.u.a->items[0];
  }
  C->depth--;
  return r;
}

jv orci_jeval_node(jctx *C, const jnode *n, jv input, jframe *env) {
  return eval(C, n, input, env);
}

/* }====== */

/* {====== function application */

int orci_jarity(jv fn) {
  if (fn.t != JV_FN) return 0;
  jfn *f = fn.u.f;
  switch (f->kind) {
  case F_LAMBDA:
    return (int)f->node->n;
  case F_BUILTIN: {
    /* the number of parameters in the signature */
    int n = 0;
    const char *s = f->b->sig + 1;
    int depth = 0;
    for (; *s && *s != ':'; s++) {
      if (*s == '<' || *s == '(')
        depth++;
      else if (*s == '>' || *s == ')') {
        depth--;
        if (*s == ')' && depth == 0) n++;
      } else if (depth == 0 && strchr("snbloafjx", *s))
        n++;
    }
    if (!strcmp(f->b->name, "string")) return 1;
    return n;
  }
  default:
    return f->arity;
  }
}

static jv clone_mutable(jctx *C, jv v) {
  if (orci_jis_array(v)) {
    size_t n = orci_jlen(v);
    jarr *a = orci_jarr_new(C, n);
    for (size_t i = 0; i < n; i++)
      orci_jarr_push(C, a, clone_mutable(C, orci_jat(v, i)));
    return orci_jarr_val(a);
  }
  if (orci_jis_object(v)) {
    size_t n = orci_jlen(v);
    jobj *o = orci_jobj_new(C, n);
    for (size_t i = 0; i < n; i++) {
      jkey k = orci_jkey(v, i);
      orci_jobj_set(C, o, k.p, k.n, clone_mutable(C, orci_jval(v, i)));
    }
    return orci_jobj_val(o);
  }
  return v;
}

static jv apply_transform(jctx *C, jfn *f, jv obj) {
  const jnode *x = f->node;
  char vb[220];
  if (obj.t == JV_UNDEF) return obj;
  jv clonefn;
  if (orci_jlookup(f->env, "clone", 5, &clonefn) && clonefn.t != JV_FN)
    orci_jthrow(C, "T2013", x->position, NULL, NULL);
  jv result = clone_mutable(C, obj);
  jv matches = eval(C, x->lhs, result, f->env);
  if (matches.t == JV_UNDEF) return result;
  if (!orci_jis_array(matches)) matches = seq1(C, matches);
  size_t n = orci_jlen(matches);
  for (size_t i = 0; i < n; i++) {
    jv match = orci_jat(matches, i);
    jv update = eval(C, x->rhs, match, f->env);
    if (update.t != JV_UNDEF) {
      if (!orci_jis_object(update)) {
        orci_jdescribe(update, vb, sizeof vb);
        orci_jthrow(C, "T2011", x->rhs->position, NULL, vb);
      }
      if (match.t == JV_OBJ) {
        size_t un = orci_jlen(update);
        for (size_t k = 0; k < un; k++) {
          jkey key = orci_jkey(update, k);
          orci_jobj_set(C, match.u.o, key.p, key.n, orci_jval(update, k));
        }
      }
    }
    if (x->third) {
      jv del = eval(C, x->third, match, f->env);
      if (del.t != JV_UNDEF) {
        jv d = orci_jis_array(del) ? del : seq1(C, del);
        size_t dn = orci_jlen(d);
        for (size_t k = 0; k < dn; k++)
          if (orci_jat(d, k).t != JV_STR) {
            orci_jdescribe(del, vb, sizeof vb);
            orci_jthrow(C, "T2012", x->third->position, NULL, vb);
          }
        if (match.t == JV_OBJ)
          for (size_t k = 0; k < dn; k++) {
            jv s = orci_jat(d, k);
            orci_jobj_del(match.u.o, s.u.s.p, s.u.s.n);
          }
      }
    }
  }
  return result;
}

static jv apply_regex(jctx *C, jfn *f, jv *args, int nargs) {
  /* a regex called directly: the matcher protocol's first match */
  if (nargs < 1 || args[0].t != JV_STR) return orci_jundef();
  jmatch m;
  jv re;
  re.t = JV_FN;
  re.u.f = f;
  jmiter it;
  orci_jmiter_init(&it, re, args[0].u.s.p, args[0].u.s.n, f->node->position);
  if (!orci_jmiter_next(C, &it, &m)) return orci_jundef();
  jobj *o = orci_jobj_new(C, 4);
  orci_jobj_set(C, o, "match", 5,
                orci_jstr(args[0].u.s.p + m.start, m.end - m.start));
  orci_jobj_set(C, o, "start", 5,
                orci_jnum(C, (double)orci_u8len(args[0].u.s.p, m.start)));
  orci_jobj_set(C, o, "end", 3,
                orci_jnum(C, (double)orci_u8len(args[0].u.s.p, m.end)));
  jarr *g = orci_jarr_new(C, (size_t)m.ngroups);
  for (int i = 0; i < m.ngroups; i++)
    orci_jarr_push(
        C, g,
        m.gstart[i] == (size_t)-1
            ? orci_jstr("", 0)
            : orci_jstr(args[0].u.s.p + m.gstart[i], m.gend[i] - m.gstart[i]));
  orci_jobj_set(C, o, "groups", 6, orci_jarr_val(g));
  return orci_jobj_val(o);
}

static jv apply_inner(jctx *C, jv proc, jv *args, int nargs, jv input,
                      int position) {
  jfn *f = proc.u.f;
  jv *vargs = args;
  int nv = nargs;
  if (proc.t != JV_FN) orci_jthrow(C, "T1006", position, NULL, NULL);
  if (f->kind == F_BUILTIN && !f->sig) f->sig = orci_jbuiltin_sig(C, f->b);
  if (f->sig) {
    /* room for every parameter (a signature has at most 12) and the
    ** undefined padding validation adds */
    vargs = (jv *)orci_jalloc(C, (size_t)(nargs + 20) * sizeof(jv));
    nv = orci_jsig_validate(C, f->sig, args, nargs, vargs, input, position,
                            f->kind == F_BUILTIN ? f->b->name : NULL);
  }
  switch (f->kind) {
  case F_LAMBDA: {
    jframe *e = orci_jframe_new(C, f->env);
    const jnode *x = f->node;
    for (size_t i = 0; i < x->n; i++)
      orci_jbind(C, e, x->items[i]->str, x->items[i]->len,
                 (int)i < nv ? vargs[i] : orci_jundef());
    return eval(C, x->rhs, f->input, e);
  }
  case F_BUILTIN: {
    jv r;
    int saved = C->depth;
    r = f->b->fn(C, vargs, nv, input, f->env);
    C->depth = saved;
    return r;
  }
  case F_PARTIAL: {
    int total = f->nargs, k = 0;
    int tar = orci_jarity((jv){.t = JV_FN, .u.f = f->target});
    if (tar > total) total = tar;
    jv *full = (jv *)orci_jalloc(C, (size_t)(total + 1) * sizeof(jv));
    for (int i = 0; i < total; i++) {
      if (i < f->nargs && !f->holes[i])
        full[i] = f->args[i];
      else
        full[i] = k < nv ? vargs[k++] : orci_jundef();
    }
    /* trailing undefined arguments are not passed at all */
    while (total > 0 && full[total - 1].t == JV_UNDEF)
      total--;
    jv t;
    t.t = JV_FN;
    t.u.f = f->target;
    return orci_japply(C, t, full, total, input, position);
  }
  case F_CHAIN: {
    jv t, s;
    t.t = s.t = JV_FN;
    t.u.f = f->target;
    s.u.f = f->second;
    jv mid = orci_japply(C, t, vargs, nv, input, position);
    return orci_japply(C, s, &mid, 1, input, position);
  }
  case F_REGEX:
    return apply_regex(C, f, vargs, nv);
  case F_TRANSFORM:
    return apply_transform(C, f, nv > 0 ? vargs[0] : orci_jundef());
  case F_NATIVE:
    return f->native(C, f, vargs, nv);
  }
  return orci_jundef();
}

jv orci_japply(jctx *C, jv fn, jv *args, int nargs, jv input, int position) {
  if (fn.t != JV_FN) orci_jthrow(C, "T1006", position, NULL, NULL);
  jv r = apply_inner(C, fn, args, nargs, input, position);
  /* trampoline: a lambda's tail call comes back as a thunk */
  while (r.t == JV_FN && r.u.f->thunk) {
    jfn *th = r.u.f;
    const jnode *call = th->node;
    orci_jstep(C);
    jv next = eval(C, call->lhs, th->input, th->env);
    int n = (int)call->n;
    jv *a = (jv *)orci_jalloc(C, (size_t)(n + 1) * sizeof(jv));
    for (int i = 0; i < n; i++)
      a[i] = eval(C, call->items[i], th->input, th->env);
    C->depth--;
    if (next.t != JV_FN) {
      if (next.t == JV_UNDEF && call->lhs->type == N_PATH)
        orci_jthrow(C, "T1005", call->position, proc_name(C, call->lhs), NULL);
      orci_jthrow(C, "T1006", call->position, proc_name(C, call->lhs), NULL);
    }
    r = apply_inner(C, next, a, n, th->input, call->position);
  }
  return r;
}

/* }====== */

/* {====== output */

orc_json *orci_jto_json(jctx *C, jv v, int *ok) {
  switch (v.t) {
  case JV_UNDEF:
  case JV_NULL:
    return orc_json_null();
  case JV_BOOL:
    return orc_json_bool(v.u.b);
  case JV_NUM: {
    double d = v.u.n;
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
      return orc_json_int((int64_t)d);
    return orc_json_float(d);
  }
  case JV_STR:
    return orc_json_string(v.u.s.p, v.u.s.n);
  case JV_FN:
    return orc_json_string("", 0);
  case JV_JARR:
  case JV_JOBJ:
    return orc_json_ref((orc_json *)(uintptr_t)v.u.j);
  case JV_ARR: {
    jarr *a = v.u.a;
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
      n += a->items[i].t != JV_UNDEF;
    orc_json *r = orc_json_array_new(n);
    if (!r) {
      *ok = 0;
      return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
      if (a->items[i].t == JV_UNDEF) continue;
      orc_json *item = orci_jto_json(C, a->items[i], ok);
      if (!item) {
        orc_json_unref(r);
        *ok = 0;
        return NULL;
      }
      orc_json_array_set(r, k++, item);
    }
    return r;
  }
  case JV_OBJ: {
    jobj *o = v.u.o;
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++)
      n += o->vals[i].t != JV_UNDEF;
    orc_json *r = orc_json_object_new(n);
    if (!r) {
      *ok = 0;
      return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++) {
      if (o->vals[i].t == JV_UNDEF) continue;
      orc_json *key = orc_json_string(o->keys[i].p, o->keys[i].n);
      orc_json *val = key ? orci_jto_json(C, o->vals[i], ok) : NULL;
      if (!val) {
        orc_json_unref(key);
        orc_json_unref(r);
        *ok = 0;
        return NULL;
      }
      orc_json_object_set(r, k++, key, val);
    }
    return r;
  }
  }
  return NULL;
}

/* }====== */

/* {====== public API */

/* Errors carry byte offsets inside; callers get character offsets. */
static void char_position(orc_jsonata_error *err, const char *text,
                          size_t len) {
  if (!err || err->position <= 0 || !text) return;
  size_t pos = (size_t)err->position < len ? (size_t)err->position : len;
  err->position = (int)orci_u8len(text, pos);
}

int orc_jsonata_compile(const char *text, size_t len, int flags,
                        orc_jsonata **out, orc_jsonata_error *err) {
  jctx C;
  orc_jsonata *volatile x;
  *out = NULL;
  if (err) memset(err, 0, sizeof *err);
  if (!text) {
    if (err) {
      err->status = ORC_EMISUSE;
      snprintf(err->message, sizeof err->message, "no expression text");
    }
    return ORC_EMISUSE;
  }
  x = (orc_jsonata *)calloc(1, sizeof *x);
  if (!x) {
    if (err) {
      err->status = ORC_ENOMEM;
      snprintf(err->message, sizeof err->message, "out of memory");
    }
    return ORC_ENOMEM;
  }
  x->flags = flags;
  memset(&C, 0, sizeof C);
  C.err = err;
  C.flags = flags;
  C.max_depth = 1000;
  C.max_steps = INT64_MAX;
  if (setjmp(C.jmp)) {
    int st = err ? err->status : ORC_EINVAL;
    char_position(err, text, len);
    orci_arena_free(&C.A);
    orc_jsonata_free(x);
    return st ? st : ORC_EINVAL;
  }
  char *copy = (char *)orci_arena_alloc(&x->A, len + 1);
  if (!copy) orci_jnomem(&C);
  memcpy(copy, text, len);
  copy[len] = '\0';
  x->text = copy;
  x->len = len;
  x->root = orci_jparse(&C, &x->A, copy, len);
  orci_arena_free(&C.A);
  *out = x;
  return ORC_OK;
}

void orc_jsonata_free(orc_jsonata *x) {
  if (!x) return;
  orci_arena_free(&x->A); /* the tree, its strings and regexes */
  free(x);
}

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)(ts.tv_nsec / 1000000);
}

int orc_jsonata_eval(const orc_jsonata *x, const orc_json *input,
                     const orc_json *bindings, const orc_jsonata_limits *limits,
                     orc_json **out, orc_jsonata_error *err) {
  orc_jsonata_env env;
  memset(&env, 0, sizeof env);
  env.bindings = bindings;
  env.lim = limits;
  return orc_jsonata_eval_env(x, input, &env, out, err);
}

/* The first node of n that reads the root document when top says n is
** evaluated against it, or NULL. */
static const jnode *root_reader(const jnode *n, int top) {
  const jnode *r = NULL;
  size_t i;
  if (n == NULL || !top) return NULL;
  switch (n->type) {
  case N_NAME:
  case N_WILDCARD:
  case N_DESCENDANT:
    return n;
  case N_VARIABLE:
    return n->len == 0 || (n->len == 1 && n->str[0] == '$') ? n : NULL;
  case N_PATH: /* later steps read what the first one gives */
    return n->n ? root_reader(n->items[0], 1) : NULL;
  case N_BINARY:
  case N_APPLY:
    r = root_reader(n->lhs, 1);
    return r ? r : root_reader(n->rhs, 1);
  case N_NEG:
    return root_reader(n->lhs, 1);
  case N_CONDITION:
    r = root_reader(n->lhs, 1);
    if (!r) r = root_reader(n->rhs, 1);
    return r ? r : root_reader(n->third, 1);
  case N_BIND:
    return root_reader(n->rhs, 1);
  case N_FUNCTION:
  case N_PARTIAL:
  case N_BLOCK:
  case N_ARRAY:
  case N_OBJECT:
    if (n->type == N_FUNCTION || n->type == N_PARTIAL)
      r = root_reader(n->lhs, 1);
    for (i = 0; !r && i < n->n; i++)
      r = root_reader(n->items[i], 1);
    return r;
  default: /* literals, lambdas (their bodies read their arguments) */
    return NULL;
  }
}

int orc_jsonata_reads_root(const orc_jsonata *x, char *name, size_t cap) {
  const jnode *r = x ? root_reader(x->root, 1) : NULL;
  if (r == NULL) return 0;
  if (cap) {
    const char *s = r->type == N_WILDCARD     ? "*"
                    : r->type == N_DESCENDANT ? "**"
                    : r->type == N_VARIABLE   ? (r->len ? "$$" : "$")
                                              : NULL;
    if (s)
      snprintf(name, cap, "%s", s);
    else
      snprintf(name, cap, "%.*s", (int)r->len, r->str);
  }
  return 1;
}

const char *orc_jsonata_text(const orc_jsonata *x, size_t *len) {
  if (len) *len = x ? x->len : 0;
  return x ? x->text : NULL;
}

int orc_jsonata_eval_env(const orc_jsonata *x, const orc_json *input,
                         orc_jsonata_env *env, orc_json **out,
                         orc_jsonata_error *err) {
  jctx C;
  /* the first block on the stack: most evaluations need nothing more */
  union {
    jblock b;
    double align[(JBLOCK_HDR + 3072) / sizeof(double)];
  } first;
  const orc_json *bindings = env ? env->bindings : NULL;
  const orc_jsonata_limits *limits = env ? env->lim : NULL;
  *out = NULL;
  if (env) env->is_function = 0;
  if (err) memset(err, 0, sizeof *err);
  if (!x) {
    if (err) {
      err->status = ORC_EMISUSE;
      snprintf(err->message, sizeof err->message, "no compiled expression");
    }
    return ORC_EMISUSE;
  }
  memset(&C, 0, sizeof C);
  C.err = err;
  C.flags = x->flags;
  C.X = x;
  if (env) {
    C.resolve = env->resolve;
    C.resolve_ud = env->ud;
  }
  C.max_depth = limits && limits->max_depth > 0 ? limits->max_depth : 1000;
  C.max_steps = limits && limits->max_steps > 0 ? limits->max_steps : 10000000;
  C.timeout_ms = limits && limits->timeout_ms > 0 ? limits->timeout_ms : 10000;
  C.A.limit = limits && limits->max_memory ? limits->max_memory
                                           : (size_t)256 * 1024 * 1024;
  first.b.next = NULL;
  first.b.size = sizeof first - JBLOCK_HDR;
  C.A.head = C.A.fixed = &first.b;
  C.start_ms = now_ms_real();
  C.now_ms = limits && limits->now_ms > 0 ? limits->now_ms : wall_ms();
  C.rng = limits && limits->seed
              ? limits->seed
              : (uint64_t)(C.start_ms * 1000.0) ^ 0x9E3779B97F4A7C15ull;
  if (setjmp(C.jmp)) {
    int st = err ? err->status : ORC_EINVAL;
    char_position(err, x->text, x->len);
    orci_arena_free(&C.A);
    return st ? st : ORC_EINVAL;
  }
  jframe *root = orci_jframe_new(&C, NULL);
  if (bindings && bindings->type == ORC_JSON_OBJECT)
    for (size_t i = 0; i < bindings->n; i++)
      orci_jbind(&C, root, bindings->u.members[i].key->u.s,
                 bindings->u.members[i].key->n,
                 orci_jfromjson(bindings->u.members[i].value));
  jv in = orci_jfromjson(input);
  if (in.t == JV_JARR) {
    jv w = seq1(&C, in);
    w.u.a->outer = 1;
    in = w;
  }
  orci_jbind(&C, root, "$", 1, in);
  C.root = root;
  jv r = eval(&C, x->root, in, root);
  if (r.t == JV_ARR && r.u.a->outer && r.u.a->n == 1) r = r.u.a->items[0];
  if (r.t == JV_NUM && !isfinite(r.u.n))
    orci_jthrow(&C, "D1001", 0, NULL, isnan(r.u.n) ? "NaN" : "Infinity");
  int ok = 1;
  if (r.t == JV_FN && env) {
    env->is_function = 1;
  } else if (r.t != JV_UNDEF) {
    *out = orci_jto_json(&C, r, &ok);
    if (!ok || !*out) {
      orci_arena_free(&C.A);
      if (err) {
        orci_jerror_fill(err, "U1001", 0, NULL, NULL, 0);
        err->status = ORC_ENOMEM;
      }
      return ORC_ENOMEM;
    }
  }
  orci_arena_free(&C.A);
  return ORC_OK;
}

/* }====== */
