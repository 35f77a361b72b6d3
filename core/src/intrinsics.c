/*
** Intrinsic functions of the States Language ("States.Format('{}', $.x)"):
** a call is compiled once into a tree of literals, paths and nested calls,
** and evaluated with the rules AWS Step Functions applies. Behaviour that
** the specification leaves open follows recorded AWS executions; the notes
** at each function say which.
**
** How a ".$" value is told to be an intrinsic (orci_intrinsic_is_call):
** after optional JSON whitespace the text starts with "States.", a name of
** letters and digits, optional whitespace and "(". Paths start with "$", so
** nothing is ambiguous; a call to an unknown name is still treated as a call
** and fails to compile with a message that names it.
**
** What fails when. The compiler rejects what AWS rejects when a state
** machine is created: unknown functions and malformed text (quotes, escapes,
** numbers, parentheses, paths). AWS accepts wrong argument counts and
** literal arguments of the wrong type at creation and fails the execution
** when the call runs, so those are run-time errors here too. Every run-time
** failure is States.Runtime (AWS does not raise States.IntrinsicFailure for
** intrinsics: a bad argument fails with States.Runtime, which Catch cannot
** take), and the cause reads
**   The function '<call as written>' had the following error: <detail>
** where detail is "Invalid arguments in States.X" for a bad argument, or
** "The JsonPath argument for the field '<path>' could not be found in the
** input '<state input>'" for a path that matches nothing (that whole text
** was captured from AWS; for bad arguments only the detail was). The
** executor puts "An error occurred while executing the state ..." in front.
*/
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "intrinsics_int.h"

#define ERR_RUNTIME "States.Runtime"
#define MAX_DEPTH   64    /* nesting of calls the compiler accepts */
#define MAX_CHARS   10000 /* input limit of Base64/Hash, in UTF-16 units */
#define MAX_RANGE   1000  /* most items States.ArrayRange may make */
#define NONE        ((size_t)-1)

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* orci_buf_add, skipping empty pieces (memcpy from an empty piece into a
** buffer not yet allocated is undefined). */
static void add(orci_buf *b, const void *s, size_t n) {
  if (n) orci_buf_add(b, s, n);
}

/* {====== the call tree */

enum {
  F_FORMAT,
  F_STRING_TO_JSON,
  F_JSON_TO_STRING,
  F_ARRAY,
  F_ARRAY_PARTITION,
  F_ARRAY_CONTAINS,
  F_ARRAY_RANGE,
  F_ARRAY_GET_ITEM,
  F_ARRAY_LENGTH,
  F_ARRAY_UNIQUE,
  F_BASE64_ENCODE,
  F_BASE64_DECODE,
  F_HASH,
  F_JSON_MERGE,
  F_MATH_RANDOM,
  F_MATH_ADD,
  F_STRING_SPLIT,
  F_UUID
};

typedef struct fninfo {
  const char *name;
  int nmin, nmax; /* argument counts accepted; nmax -1: no limit */
} fninfo;

/* Indexed by the F_ constants. States.UUID ignores its arguments, as AWS
** does. */
static const fninfo functions[] = {
    {"States.Format", 1, -1},        {"States.StringToJson", 1, 1},
    {"States.JsonToString", 1, 1},   {"States.Array", 0, -1},
    {"States.ArrayPartition", 2, 2}, {"States.ArrayContains", 2, 2},
    {"States.ArrayRange", 3, 3},     {"States.ArrayGetItem", 2, 2},
    {"States.ArrayLength", 1, 1},    {"States.ArrayUnique", 1, 1},
    {"States.Base64Encode", 1, 1},   {"States.Base64Decode", 1, 1},
    {"States.Hash", 2, 2},           {"States.JsonMerge", 3, 3},
    {"States.MathRandom", 2, 3},     {"States.MathAdd", 2, 2},
    {"States.StringSplit", 2, 2},    {"States.UUID", 0, -1}};

#define NFUNCTIONS (sizeof functions / sizeof functions[0])

/* A States.Format template cut into literal pieces and placeholders. */
typedef struct tpart {
  size_t off, len; /* piece of tmpl.text; len NONE: a placeholder */
} tpart;

typedef struct tmpl {
  char *text; /* the literal pieces, unescaped, one after the other */
  tpart *parts;
  size_t nparts, nholes;
  const char *error; /* why the template is malformed (static), or NULL */
} tmpl;

enum { N_LITERAL, N_PATH, N_CALL };

typedef struct node node;
struct node {
  int kind;
  int fn;          /* N_CALL: index in functions[] */
  orc_json *value; /* N_LITERAL */
  orci_path *path; /* N_PATH */
  node **args;     /* N_CALL */
  size_t nargs;
  tmpl *format;   /* States.Format with a literal template: cut once */
  size_t raw_off; /* string literal: its text as written, inside quotes */
  size_t raw_len; /* (compile time only) */
};

struct orci_intrinsic {
  node *root;
  char *text; /* the call as written, NUL-terminated, for causes */
};

static void tmpl_free(tmpl *t) {
  if (t == NULL) return;
  free(t->text);
  free(t->parts);
}

static void node_free(node *n) {
  size_t i;
  if (n == NULL) return;
  orc_json_unref(n->value);
  orci_path_free(n->path);
  for (i = 0; i < n->nargs; i++)
    node_free(n->args[i]);
  free(n->args);
  tmpl_free(n->format);
  free(n->format);
  free(n);
}

void orci_intrinsic_free(orci_intrinsic *f) {
  if (f == NULL) return;
  node_free(f->root);
  free(f->text);
  free(f);
}

/* Append a piece (len bytes at off) or a placeholder (len NONE). */
static int tmpl_push(tmpl *t, size_t *cap, size_t off, size_t len) {
  if (len == 0) return 0;
  if (t->nparts == *cap) {
    size_t ncap = *cap ? *cap * 2 : 8;
    tpart *p = (tpart *)realloc(t->parts, ncap * sizeof *p);
    if (p == NULL) return -1;
    t->parts = p;
    *cap = ncap;
  }
  t->parts[t->nparts].off = off;
  t->parts[t->nparts].len = len;
  t->nparts++;
  if (len == NONE) t->nholes++;
  return 0;
}

/* Cut a template into pieces and "{}" placeholders. "\{", "\}" and "\\"
** stand for the character itself ("\'" too in a literal, where the compiler
** has already refused any other escape); in a template that comes from
** data, another backslash is kept as is. A "{" that does not open "{}" or
** a lone "}" makes the template malformed (t->error). Returns 0, or -1 when
** out of memory; either way the caller frees t with tmpl_free. */
static int tmpl_cut(const char *s, size_t len, int literal, tmpl *t) {
  size_t i = 0, n = 0, cap = 0;
  size_t piece = 0; /* where the pending literal piece starts in t->text */
  memset(t, 0, sizeof *t);
  t->text = (char *)malloc(len + 1);
  if (t->text == NULL) return -1;
  while (i < len) {
    char c = s[i];
    if (c == '\\' && i + 1 < len &&
        (s[i + 1] == '{' || s[i + 1] == '}' || s[i + 1] == '\\' ||
         (literal && s[i + 1] == '\''))) {
      t->text[n++] = s[i + 1];
      i += 2;
    } else if (c == '{') {
      if (i + 1 >= len || s[i + 1] != '}') {
        t->error = "matching '}' not found for '{'.";
        return 0;
      }
      if (tmpl_push(t, &cap, piece, n - piece) < 0 ||
          tmpl_push(t, &cap, 0, NONE) < 0)
        return -1;
      piece = n;
      i += 2;
    } else if (c == '}') {
      t->error = "unmatched '}'.";
      return 0;
    } else {
      t->text[n++] = c;
      i++;
    }
  }
  return tmpl_push(t, &cap, piece, n - piece);
}

/* }====== */

/* {====== compiler */

typedef struct parser {
  const char *s;
  size_t len, pos;
  const char *where; /* the function being read, for messages */
  char *msg;
  size_t msglen;
} parser;

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void skip_space(parser *p) {
  while (p->pos < p->len && is_space(p->s[p->pos]))
    p->pos++;
}

/* "<function>: <what> at offset <n>" into p->msg. Returns NULL. */
static node *perr(parser *p, size_t at, const char *fmt, ...) PRINTF_LIKE(3, 4);

static node *perr(parser *p, size_t at, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (p->msg && p->msglen)
    snprintf(p->msg, p->msglen, "%s: %s at offset %zu", p->where, what, at);
  return NULL;
}

static node *node_new(parser *p, int kind) {
  node *n = (node *)calloc(1, sizeof *n);
  if (n == NULL) return perr(p, p->pos, "out of memory");
  n->kind = kind;
  return n;
}

static node *parse_call(parser *p, int depth);

/* 'text' with the escapes \' \{ \} \\ (any other backslash is an error,
** as in AWS). */
static node *parse_string(parser *p) {
  const char *s = p->s;
  size_t start = p->pos, i = p->pos + 1, run = i;
  orci_buf b = {NULL, 0, 0, 0};
  node *n;
  for (;;) {
    if (i >= p->len) {
      orci_buf_free(&b);
      return perr(p, start, "unterminated string literal");
    }
    if (s[i] == '\'') break;
    if (s[i] == '\\') {
      char c = i + 1 < p->len ? s[i + 1] : '\0';
      if (c != '\'' && c != '{' && c != '}' && c != '\\') {
        orci_buf_free(&b);
        if (c >= 0x20 && c < 0x7F)
          return perr(p, i, "invalid escape '\\%c' in a string literal", c);
        return perr(p, i, "invalid escape in a string literal");
      }
      add(&b, s + run, i - run);
      orci_buf_addc(&b, c);
      i += 2;
      run = i;
      continue;
    }
    i++;
  }
  add(&b, s + run, i - run);
  if (b.failed) {
    orci_buf_free(&b);
    return perr(p, start, "out of memory");
  }
  if (orc_utf8_check(b.p, b.len) != (size_t)-1) {
    orci_buf_free(&b);
    return perr(p, start, "invalid UTF-8 in a string literal");
  }
  n = node_new(p, N_LITERAL);
  if (n) {
    n->value = orc_json_string(b.p ? b.p : "", b.len);
    n->raw_off = start + 1;
    n->raw_len = i - start - 1;
    if (n->value == NULL) {
      node_free(n);
      n = perr(p, start, "out of memory");
    }
  }
  orci_buf_free(&b);
  p->pos = i + 1;
  return n;
}

/* A JSON number: an integer when it has no fraction or exponent and fits
** 64 bits, otherwise a float. */
static node *parse_number(parser *p) {
  const char *s = p->s;
  size_t start = p->pos, i = p->pos;
  int is_int = 1;
  char small[64], *buf;
  orc_json *v;
  node *n;
  if (s[i] == '-') i++;
  if (i >= p->len || !is_digit(s[i])) return perr(p, start, "malformed number");
  if (s[i] == '0')
    i++;
  else
    while (i < p->len && is_digit(s[i]))
      i++;
  if (i < p->len && s[i] == '.') {
    is_int = 0;
    if (++i >= p->len || !is_digit(s[i]))
      return perr(p, start, "malformed number");
    while (i < p->len && is_digit(s[i]))
      i++;
  }
  if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
    is_int = 0;
    i++;
    if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= p->len || !is_digit(s[i]))
      return perr(p, start, "malformed number");
    while (i < p->len && is_digit(s[i]))
      i++;
  }
  buf = i - start < sizeof small ? small : (char *)malloc(i - start + 1);
  if (buf == NULL) return perr(p, start, "out of memory");
  memcpy(buf, s + start, i - start);
  buf[i - start] = '\0';
  v = NULL;
  if (is_int) {
    long long ll;
    errno = 0;
    ll = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
      is_int = 0; /* beyond 64 bits: a float, as JSON values are */
    else
      v = orc_json_int((int64_t)ll);
  }
  if (!is_int) {
    double d = strtod(buf, NULL);
    if (isinf(d)) {
      if (buf != small) free(buf);
      return perr(p, start, "number out of range");
    }
    v = orc_json_float(d);
  }
  if (buf != small) free(buf);
  if (v == NULL) return perr(p, start, "out of memory");
  n = node_new(p, N_LITERAL);
  if (n == NULL) {
    orc_json_unref(v);
    return NULL;
  }
  n->value = v;
  p->pos = i;
  return n;
}

/* A path runs to the first ',', ')' or space outside brackets, parentheses
** and quotes; the path compiler judges the rest. */
static node *parse_path(parser *p) {
  const char *s = p->s;
  size_t start = p->pos, i = p->pos;
  int depth = 0;
  char quote = 0, pmsg[160];
  orci_path *path;
  node *n;
  for (; i < p->len; i++) {
    char c = s[i];
    if (quote) {
      if (c == '\\' && i + 1 < p->len)
        i++;
      else if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '(') {
      depth++;
    } else if (c == ']' || c == ')') {
      if (depth == 0) break;
      depth--;
    } else if (depth == 0 && (c == ',' || is_space(c))) {
      break;
    }
  }
  pmsg[0] = '\0';
  path = orci_path_compile(s + start, i - start, ORCI_PATH_JSONPATH, pmsg,
                           sizeof pmsg);
  if (path == NULL)
    return perr(p, start, "invalid path '%.*s' (%s)", (int)(i - start),
                s + start, pmsg);
  n = node_new(p, N_PATH);
  if (n == NULL) {
    orci_path_free(path);
    return NULL;
  }
  n->path = path;
  p->pos = i;
  return n;
}

static node *parse_arg(parser *p, int depth) {
  const char *s = p->s;
  size_t i = p->pos;
  char c;
  if (i >= p->len) return perr(p, i, "missing ')'");
  c = s[i];
  if (c == '\'') return parse_string(p);
  if (c == '$') return parse_path(p);
  if (c == '-' || is_digit(c)) return parse_number(p);
  if (p->len - i >= 7 && memcmp(s + i, "States.", 7) == 0)
    return parse_call(p, depth + 1);
  if (is_alnum(c)) {
    size_t j = i;
    orc_json *v = NULL;
    node *n;
    while (j < p->len && is_alnum(s[j]))
      j++;
    if (j - i == 4 && memcmp(s + i, "true", 4) == 0)
      v = orc_json_bool(1);
    else if (j - i == 5 && memcmp(s + i, "false", 5) == 0)
      v = orc_json_bool(0);
    else if (j - i == 4 && memcmp(s + i, "null", 4) == 0)
      v = orc_json_null();
    else
      return perr(p, i, "unexpected '%.*s'", (int)(j - i), s + i);
    n = node_new(p, N_LITERAL);
    if (n == NULL) return NULL;
    n->value = v;
    p->pos = j;
    return n;
  }
  if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F)
    return perr(p, i, "unexpected character '%c'", c);
  return perr(p, i, "unexpected byte 0x%02X", (unsigned char)c);
}

static int add_arg(node *call, node *arg) {
  node **a = (node **)realloc(call->args, (call->nargs + 1) * sizeof *a);
  if (a == NULL) return -1;
  a[call->nargs++] = arg;
  call->args = a;
  return 0;
}

/* States.Name(arg, ...) */
static node *parse_call(parser *p, int depth) {
  const char *s = p->s, *outer = p->where;
  size_t start = p->pos, i = p->pos + 7, k;
  int fn = -1;
  node *n;
  if (p->len - start < 7 || memcmp(s + start, "States.", 7) != 0)
    return perr(p, start, "expected an intrinsic function call");
  while (i < p->len && is_alnum(s[i]))
    i++;
  for (k = 0; k < NFUNCTIONS; k++) {
    if (strlen(functions[k].name) == i - start &&
        memcmp(functions[k].name, s + start, i - start) == 0) {
      fn = (int)k;
      break;
    }
  }
  if (fn < 0) {
    if (p->msg && p->msglen)
      snprintf(p->msg, p->msglen,
               "unknown intrinsic function '%.*s' at offset %zu",
               (int)(i - start), s + start, start);
    return NULL;
  }
  p->where = functions[fn].name;
  if (depth > MAX_DEPTH) {
    perr(p, start, "calls nested deeper than %d", MAX_DEPTH);
    p->where = outer;
    return NULL;
  }
  p->pos = i;
  skip_space(p);
  if (p->pos >= p->len || s[p->pos] != '(') {
    perr(p, p->pos, "expected '(' after the function name");
    p->where = outer;
    return NULL;
  }
  p->pos++;
  n = node_new(p, N_CALL);
  if (n == NULL) goto fail;
  n->fn = fn;
  skip_space(p);
  if (p->pos < p->len && s[p->pos] == ')') {
    p->pos++;
  } else {
    for (;;) {
      node *a = parse_arg(p, depth);
      if (a == NULL) goto fail;
      if (add_arg(n, a) < 0) {
        node_free(a);
        perr(p, p->pos, "out of memory");
        goto fail;
      }
      skip_space(p);
      if (p->pos < p->len && s[p->pos] == ',') {
        p->pos++;
        skip_space(p);
        continue;
      }
      if (p->pos < p->len && s[p->pos] == ')') {
        p->pos++;
        break;
      }
      if (p->pos >= p->len)
        perr(p, p->pos, "missing ')'");
      else
        perr(p, p->pos, "expected ',' or ')'");
      goto fail;
    }
  }
  /* A literal template is cut once, here; malformed ones fail when the
  ** call runs, as in AWS. */
  if (fn == F_FORMAT && n->nargs > 0 && n->args[0]->kind == N_LITERAL &&
      orc_json_type_of(n->args[0]->value) == ORC_JSON_STRING) {
    n->format = (tmpl *)malloc(sizeof *n->format);
    if (n->format == NULL || tmpl_cut(s + n->args[0]->raw_off,
                                      n->args[0]->raw_len, 1, n->format) < 0) {
      perr(p, start, "out of memory");
      goto fail;
    }
  }
  p->where = outer;
  return n;
fail:
  node_free(n);
  p->where = outer;
  return NULL;
}

orci_intrinsic *orci_intrinsic_compile(const char *text, size_t len, char *msg,
                                       size_t msglen) {
  parser p;
  orci_intrinsic *f;
  if (msg && msglen) msg[0] = '\0';
  p.s = text;
  p.len = len;
  p.pos = 0;
  p.where = "intrinsic function";
  p.msg = msg;
  p.msglen = msglen;
  f = (orci_intrinsic *)calloc(1, sizeof *f);
  if (f) f->text = (char *)malloc(len + 1);
  if (f == NULL || f->text == NULL) {
    free(f);
    perr(&p, 0, "out of memory");
    return NULL;
  }
  memcpy(f->text, text, len);
  f->text[len] = '\0';
  skip_space(&p);
  f->root = parse_call(&p, 1);
  if (f->root == NULL) {
    orci_intrinsic_free(f);
    return NULL;
  }
  skip_space(&p);
  if (p.pos < len) {
    p.where = functions[f->root->fn].name;
    perr(&p, p.pos, "unexpected text after the call");
    orci_intrinsic_free(f);
    return NULL;
  }
  return f;
}

int orci_intrinsic_is_call(const char *text, size_t len) {
  size_t i = 0, name;
  while (i < len && is_space(text[i]))
    i++;
  if (len - i < 7 || memcmp(text + i, "States.", 7) != 0) return 0;
  i += 7;
  name = i;
  while (i < len && is_alnum(text[i]))
    i++;
  if (i == name) return 0;
  while (i < len && is_space(text[i]))
    i++;
  return i < len && text[i] == '(';
}

/* }====== */

/* {====== evaluation: errors, text helpers */

typedef struct ev {
  const orci_intrinsic *f;
  const orci_env *env;
  char *error, *cause;
  size_t errlen, causelen;
  uint64_t rng; /* fixed-seed generator state when env->random is NULL */
  int rc;       /* ORC_EINVAL or ORC_ENOMEM once something failed */
} ev;

/* Record a failure: "The function '<call>' had the following error: ..."
** Returns NULL. */
static orc_json *fail(ev *e, int rc, const char *fmt, ...) PRINTF_LIKE(3, 4);

static orc_json *fail(ev *e, int rc, const char *fmt, ...) {
  va_list ap;
  int n;
  e->rc = rc;
  if (e->error && e->errlen) snprintf(e->error, e->errlen, "%s", ERR_RUNTIME);
  if (e->cause == NULL || e->causelen == 0) return NULL;
  n = snprintf(e->cause, e->causelen,
               "The function '%s' had the following error: ", e->f->text);
  if (n >= 0 && (size_t)n < e->causelen) {
    va_start(ap, fmt);
    vsnprintf(e->cause + n, e->causelen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return NULL;
}

static orc_json *invalid(ev *e, int fn) {
  return fail(e, ORC_EINVAL, "Invalid arguments in %s", functions[fn].name);
}

static orc_json *nomem(ev *e) {
  return fail(e, ORC_ENOMEM, "out of memory");
}

/* A path argument that matched nothing. AWS names the path as written, a
** "$$" path rewritten against "$", and the state input. */
static orc_json *path_miss(ev *e, const orci_path *path) {
  const char *text = orci_path_text(path);
  char *input =
      orc_json_print(e->env->input ? e->env->input : orc_json_null(), 0, NULL);
  if (input == NULL) return nomem(e);
  fail(e, ORC_EINVAL,
       "The JsonPath argument for the field '%s%s' could not be found in "
       "the input '%s'",
       strncmp(text, "$$", 2) == 0 ? "$" : "",
       strncmp(text, "$$", 2) == 0 ? text + 2 : text, input);
  orc_free(input);
  return NULL;
}

/* The code point at s[*i] (valid UTF-8 of n bytes); advances *i. */
static uint32_t utf8_next(const char *s, size_t n, size_t *i) {
  const unsigned char *u = (const unsigned char *)s + *i;
  size_t left = n - *i;
  uint32_t c = u[0];
  if (c < 0x80 || left < 2) {
    *i += 1;
  } else if (c < 0xE0 || left < 3) {
    c = ((c & 0x1F) << 6) | (u[1] & 0x3F);
    *i += 2;
  } else if (c < 0xF0 || left < 4) {
    c = ((c & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    *i += 3;
  } else {
    c = ((c & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
        ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
    *i += 4;
  }
  return c;
}

/* Length in UTF-16 units, as Java's String.length() counts characters. */
static size_t utf16_len(const char *s, size_t n) {
  size_t i, units = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) != 0x80) units++;
    if (c >= 0xF0) units++; /* a surrogate pair */
  }
  return units;
}

/* Append n bytes as UTF-8, replacing each malformed sequence (its longest
** valid prefix) with U+FFFD, as Java decodes bytes into a String. */
static void utf8_repair(orci_buf *b, const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t need = 0, k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      orci_buf_addc(b, (char)c);
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    for (k = 1; k <= need && i + k < n; k++) {
      unsigned d = s[i + k];
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) break;
    }
    if (need > 0 && k == need + 1) {
      add(b, s + i, need + 1);
      i += need + 1;
    } else {
      add(b, "\xEF\xBF\xBD", 3);
      i += need > 0 ? k : 1;
    }
  }
}

/* Java's Double.toString: plain decimals for 1e-3 <= |d| < 1e7, otherwise
** "d.dddE<n>"; always a digit after the point; the shortest digits that
** read back as d. buf holds at least 32 bytes. */
static size_t java_double(double d, char *buf) {
  char tmp[40], digits[24];
  const char *p;
  int prec, exp10, nd = 0, i;
  size_t k = 0;
  double ad = fabs(d);
  if (d == 0) {
    strcpy(buf, signbit(d) ? "-0.0" : "0.0");
    return strlen(buf);
  }
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    if (strtod(tmp, NULL) == d) break;
  }
  p = tmp;
  if (*p == '-') {
    buf[k++] = '-';
    p++;
  }
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  exp10 = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  if (ad >= 1e-3 && ad < 1e7) {
    if (exp10 >= 0) {
      for (i = 0; i <= exp10; i++)
        buf[k++] = i < nd ? digits[i] : '0';
      buf[k++] = '.';
      if (nd > exp10 + 1)
        for (i = exp10 + 1; i < nd; i++)
          buf[k++] = digits[i];
      else
        buf[k++] = '0';
    } else {
      buf[k++] = '0';
      buf[k++] = '.';
      for (i = 0; i < -exp10 - 1; i++)
        buf[k++] = '0';
      for (i = 0; i < nd; i++)
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return k;
  }
  buf[k++] = digits[0];
  buf[k++] = '.';
  if (nd > 1)
    for (i = 1; i < nd; i++)
      buf[k++] = digits[i];
  else
    buf[k++] = '0';
  k += (size_t)snprintf(buf + k, 8, "E%d", exp10);
  return k;
}

/* A value as Java's String.valueOf prints the object AWS holds: strings
** bare, null as "null", arrays "[a, b]", objects "{k=v, k2=v2}". This is
** how States.Format prints its arguments, and what States.ArrayContains
** and States.Hash compare and hash. */
static void java_str(orci_buf *b, const orc_json *v) {
  char num[40];
  size_t i, n, len;
  const char *s;
  switch (orc_json_type_of(v)) {
  case ORC_JSON_NULL:
    add(b, "null", 4);
    break;
  case ORC_JSON_BOOL:
    orci_buf_adds(b, orc_json_is_true(v) ? "true" : "false");
    break;
  case ORC_JSON_INT:
    n = (size_t)snprintf(num, sizeof num, "%lld",
                         (long long)orc_json_int_value(v));
    add(b, num, n);
    break;
  case ORC_JSON_FLOAT:
    n = java_double(orc_json_number(v), num);
    add(b, num, n);
    break;
  case ORC_JSON_STRING:
    s = orc_json_string_value(v, &len);
    add(b, s, len);
    break;
  case ORC_JSON_ARRAY:
    orci_buf_addc(b, '[');
    for (i = 0; i < orc_json_len(v); i++) {
      if (i) add(b, ", ", 2);
      java_str(b, orc_json_array_get(v, i));
    }
    orci_buf_addc(b, ']');
    break;
  case ORC_JSON_OBJECT:
    orci_buf_addc(b, '{');
    for (i = 0; i < orc_json_len(v); i++) {
      if (i) add(b, ", ", 2);
      s = orc_json_string_value(orc_json_object_key(v, i), &len);
      add(b, s, len);
      orci_buf_addc(b, '=');
      java_str(b, orc_json_object_value(v, i));
    }
    orci_buf_addc(b, '}');
    break;
  }
}

/* A string value made from a buffer; takes the buffer. */
static orc_json *buf_string(ev *e, orci_buf *b) {
  orc_json *v = b->failed ? NULL : orc_json_string(b->p ? b->p : "", b->len);
  orci_buf_free(b);
  return v ? v : nomem(e);
}

static int is_type(const orc_json *v, orc_json_type t) {
  return orc_json_type_of(v) == t;
}

/* A number cut to an int as Java's (int) cast does with a fraction
** (towards zero); 0 when it is not a number or outside 32 bits. */
static int to_int32(const orc_json *v, int32_t *out) {
  double d;
  if (is_type(v, ORC_JSON_INT)) {
    int64_t i = orc_json_int_value(v);
    if (i < INT32_MIN || i > INT32_MAX) return 0;
    *out = (int32_t)i;
    return 1;
  }
  if (!is_type(v, ORC_JSON_FLOAT)) return 0;
  d = trunc(orc_json_number(v));
  if (d < (double)INT32_MIN || d > (double)INT32_MAX) return 0;
  *out = (int32_t)d;
  return 1;
}

/* 64 random bits: the host's source, or a fixed-seed SplitMix64 stream
** that restarts at every evaluation (deterministic without a host). */
static uint64_t random64(ev *e) {
  uint64_t z;
  if (e->env->random) return e->env->random(e->env->ud);
  z = (e->rng += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* }====== */

/* {====== Java collections: the orders AWS's HashMap and HashSet give */

/* String.hashCode over UTF-16 units. */
static uint32_t jhash_string(const char *s, size_t n) {
  uint32_t h = 0;
  size_t i = 0;
  while (i < n) {
    uint32_t c = utf8_next(s, n, &i);
    if (c >= 0x10000) {
      c -= 0x10000;
      h = 31 * h + (0xD800 + (c >> 10));
      h = 31 * h + (0xDC00 + (c & 0x3FF));
    } else {
      h = 31 * h + c;
    }
  }
  return h;
}

/* hashCode of the Java object a JSON value becomes: Integer or Long,
** Double, Boolean, String, List, Map (null: 0). */
static uint32_t jhash(const orc_json *v) {
  uint32_t h;
  uint64_t bits;
  size_t i, len;
  const char *s;
  int64_t x;
  double d;
  switch (orc_json_type_of(v)) {
  case ORC_JSON_BOOL:
    return orc_json_is_true(v) ? 1231 : 1237;
  case ORC_JSON_INT:
    x = orc_json_int_value(v);
    if (x >= INT32_MIN && x <= INT32_MAX) return (uint32_t)x;
    return (uint32_t)((uint64_t)x ^ ((uint64_t)x >> 32));
  case ORC_JSON_FLOAT:
    d = orc_json_number(v);
    memcpy(&bits, &d, sizeof bits);
    return (uint32_t)(bits ^ (bits >> 32));
  case ORC_JSON_STRING:
    s = orc_json_string_value(v, &len);
    return jhash_string(s, len);
  case ORC_JSON_ARRAY:
    h = 1;
    for (i = 0; i < orc_json_len(v); i++)
      h = 31 * h + jhash(orc_json_array_get(v, i));
    return h;
  case ORC_JSON_OBJECT:
    h = 0;
    for (i = 0; i < orc_json_len(v); i++) {
      s = orc_json_string_value(orc_json_object_key(v, i), &len);
      h += jhash_string(s, len) ^ jhash(orc_json_object_value(v, i));
    }
    return h;
  default:
    return 0;
  }
}

/* HashMap.hash: the high half folded into the low one. */
static uint32_t jspread(uint32_t h) {
  return h ^ (h >> 16);
}

/* Object.equals between the Java objects: an Integer never equals a
** Double (1 and 1.0 differ), maps ignore member order. */
static int java_equal(const orc_json *a, const orc_json *b) {
  size_t i, n, la, lb;
  const char *sa, *sb;
  orc_json_type t = orc_json_type_of(a);
  if (t != orc_json_type_of(b)) return 0;
  switch (t) {
  case ORC_JSON_NULL:
    return 1;
  case ORC_JSON_BOOL:
    return orc_json_is_true(a) == orc_json_is_true(b);
  case ORC_JSON_INT:
    return orc_json_int_value(a) == orc_json_int_value(b);
  case ORC_JSON_FLOAT: {
    double x = orc_json_number(a), y = orc_json_number(b);
    return memcmp(&x, &y, sizeof x) == 0;
  }
  case ORC_JSON_STRING:
    sa = orc_json_string_value(a, &la);
    sb = orc_json_string_value(b, &lb);
    return la == lb && memcmp(sa, sb, la) == 0;
  case ORC_JSON_ARRAY:
    n = orc_json_len(a);
    if (n != orc_json_len(b)) return 0;
    for (i = 0; i < n; i++)
      if (!java_equal(orc_json_array_get(a, i), orc_json_array_get(b, i)))
        return 0;
    return 1;
  default: /* ORC_JSON_OBJECT */
    n = orc_json_len(a);
    if (n != orc_json_len(b)) return 0;
    for (i = 0; i < n; i++) {
      const orc_json *other;
      sa = orc_json_string_value(orc_json_object_key(a, i), &la);
      other = orc_json_object_find(b, sa, la);
      if (other == NULL || !java_equal(orc_json_object_value(a, i), other))
        return 0;
    }
    return 1;
  }
}

/* HashMap.tableSizeFor: the power of two at or above c (at least 1). */
static size_t table_size_for(size_t c) {
  size_t n = 1;
  while (n < c)
    n <<= 1;
  return n;
}

/* Entries in insertion order, found again by hash: a chained table whose
** bucket count only serves lookups. */
typedef struct jtable {
  size_t nbuckets, n;
  size_t *head, *next;
  uint32_t *hash;  /* spread hash of each entry */
  orc_json **item; /* what entries are compared by (borrowed) */
  orc_json **value;
} jtable;

static int jtable_init(jtable *t, size_t max) {
  size_t i;
  memset(t, 0, sizeof *t);
  t->nbuckets = table_size_for(max ? max : 1);
  t->head = (size_t *)malloc(t->nbuckets * sizeof *t->head);
  t->next = (size_t *)malloc((max ? max : 1) * sizeof *t->next);
  t->hash = (uint32_t *)malloc((max ? max : 1) * sizeof *t->hash);
  t->item = (orc_json **)malloc((max ? max : 1) * sizeof *t->item);
  t->value = (orc_json **)malloc((max ? max : 1) * sizeof *t->value);
  if (!t->head || !t->next || !t->hash || !t->item || !t->value) return -1;
  for (i = 0; i < t->nbuckets; i++)
    t->head[i] = NONE;
  return 0;
}

static void jtable_free(jtable *t) {
  free(t->head);
  free(t->next);
  free(t->hash);
  free(t->item);
  free(t->value);
}

/* The entry equal to item, or the new entry made for it (*added set). */
static size_t jtable_put(jtable *t, orc_json *item, int *added) {
  uint32_t h = jspread(jhash(item));
  size_t *link = &t->head[h & (t->nbuckets - 1)];
  while (*link != NONE) {
    size_t k = *link;
    if (t->hash[k] == h && java_equal(t->item[k], item)) {
      *added = 0;
      return k;
    }
    link = &t->next[k];
  }
  *link = t->n;
  t->next[t->n] = NONE;
  t->hash[t->n] = h;
  t->item[t->n] = item;
  t->value[t->n] = item;
  *added = 1;
  return t->n++;
}

/* The iteration order of a Java HashMap holding t's entries in a table of
** cap buckets: buckets in turn, insertion order within a bucket (a resize
** keeps that order, so only the final capacity matters). Returns a new
** permutation of the entries, or NULL when out of memory. */
static size_t *jtable_order(const jtable *t, size_t cap) {
  size_t *count = (size_t *)calloc(cap + 1, sizeof *count);
  size_t *order = (size_t *)malloc((t->n ? t->n : 1) * sizeof *order);
  size_t i;
  if (count == NULL || order == NULL) {
    free(count);
    free(order);
    return NULL;
  }
  for (i = 0; i < t->n; i++)
    count[(t->hash[i] & (cap - 1)) + 1]++;
  for (i = 1; i <= cap; i++)
    count[i] += count[i - 1];
  for (i = 0; i < t->n; i++)
    order[count[t->hash[i] & (cap - 1)]++] = i;
  free(count);
  return order;
}

/* }====== */

/* {====== the functions */

/* Arguments arrive evaluated in a[] (borrowed); each returns an owned value
** or NULL after fail(). */

/* Placeholders take the arguments' Java renderings (java_str); "{}" counts
** must match the arguments. */
static orc_json *fn_format(ev *e, const node *n, orc_json **a) {
  tmpl local;
  const tmpl *t = n->format;
  orci_buf b = {NULL, 0, 0, 0};
  size_t i, hole = 1;
  if (t == NULL) {
    const char *s;
    size_t len;
    if (!is_type(a[0], ORC_JSON_STRING)) return invalid(e, F_FORMAT);
    s = orc_json_string_value(a[0], &len);
    if (tmpl_cut(s, len, 0, &local) < 0) {
      tmpl_free(&local);
      return nomem(e);
    }
    t = &local;
  }
  if (t->error) {
    fail(e, ORC_EINVAL, "Invalid template in States.Format: %s", t->error);
  } else if (t->nholes != n->nargs - 1) {
    fail(e, ORC_EINVAL,
         "Invalid arguments in States.Format: number of arguments do not "
         "match the occurrences of {}.");
  } else {
    for (i = 0; i < t->nparts; i++) {
      if (t->parts[i].len == NONE)
        java_str(&b, a[hole++]);
      else
        add(&b, t->text + t->parts[i].off, t->parts[i].len);
    }
  }
  if (t == &local) tmpl_free(&local);
  if (e->rc) {
    orci_buf_free(&b);
    return NULL;
  }
  return buf_string(e, &b);
}

/* Text holding nothing but whitespace (the empty string too) gives null, as
** recorded on AWS; anything else must be one JSON value. */
static orc_json *fn_string_to_json(ev *e, orc_json **a) {
  const char *s;
  size_t len, i;
  orc_json *v = NULL;
  orc_error err;
  int rc;
  if (!is_type(a[0], ORC_JSON_STRING)) return invalid(e, F_STRING_TO_JSON);
  s = orc_json_string_value(a[0], &len);
  for (i = 0; i < len && is_space(s[i]); i++)
    ;
  if (i == len) return orc_json_null();
  rc = orc_json_parse(s, len, NULL, &v, &err);
  if (rc == ORC_ENOMEM) return nomem(e);
  if (rc != ORC_OK) return invalid(e, F_STRING_TO_JSON);
  return v;
}

static orc_json *fn_json_to_string(ev *e, orc_json **a) {
  size_t len;
  char *text = orc_json_print(a[0], 0, &len);
  orc_json *v;
  if (text == NULL) return nomem(e);
  v = orc_json_string(text, len);
  orc_free(text);
  return v ? v : nomem(e);
}

static orc_json *fn_array(ev *e, const node *n, orc_json **a) {
  orc_json *out = orc_json_array_new(n->nargs);
  size_t i;
  if (out == NULL) return nomem(e);
  for (i = 0; i < n->nargs; i++)
    orc_json_array_set(out, i, orc_json_ref(a[i]));
  return out;
}

/* Chunks of the given size, the last one shorter. A fractional size is
** cut towards zero (2.6 works as 2 on AWS); below 1 it is refused. */
static orc_json *fn_array_partition(ev *e, orc_json **a) {
  int32_t size;
  size_t len, nchunks, i, j;
  orc_json *out;
  if (!is_type(a[0], ORC_JSON_ARRAY) || !to_int32(a[1], &size) || size < 1)
    return invalid(e, F_ARRAY_PARTITION);
  len = orc_json_len(a[0]);
  nchunks = len / (size_t)size + (len % (size_t)size ? 1 : 0);
  out = orc_json_array_new(nchunks);
  if (out == NULL) return nomem(e);
  for (i = 0; i < nchunks; i++) {
    size_t from = i * (size_t)size;
    size_t k = len - from < (size_t)size ? len - from : (size_t)size;
    orc_json *chunk = orc_json_array_new(k);
    if (chunk == NULL) {
      orc_json_unref(out);
      return nomem(e);
    }
    for (j = 0; j < k; j++)
      orc_json_array_set(chunk, j,
                         orc_json_ref(orc_json_array_get(a[0], from + j)));
    orc_json_array_set(out, i, chunk);
  }
  return out;
}

/* AWS compares the Java renderings of the items: true matches "true", 5
** matches "5", and objects match only with their members in the same
** order (all recorded on AWS). */
static orc_json *fn_array_contains(ev *e, orc_json **a) {
  orci_buf want = {NULL, 0, 0, 0}, item = {NULL, 0, 0, 0};
  size_t i;
  int found = 0;
  if (!is_type(a[0], ORC_JSON_ARRAY)) return invalid(e, F_ARRAY_CONTAINS);
  java_str(&want, a[1]);
  for (i = 0; i < orc_json_len(a[0]) && !found; i++) {
    item.len = 0;
    java_str(&item, orc_json_array_get(a[0], i));
    found = !item.failed && item.len == want.len &&
            (want.len == 0 || memcmp(item.p, want.p, want.len) == 0);
  }
  i = want.failed || item.failed;
  orci_buf_free(&want);
  orci_buf_free(&item);
  if (i) return nomem(e);
  return orc_json_bool(found);
}

/* Both ends included; the step may be negative but not zero; at most 1000
** items. Fractions are cut towards zero, as recorded on AWS. */
static orc_json *fn_array_range(ev *e, orc_json **a) {
  int32_t first, last, step;
  int64_t count = 0, i;
  orc_json *out;
  if (!to_int32(a[0], &first) || !to_int32(a[1], &last) ||
      !to_int32(a[2], &step) || step == 0)
    return invalid(e, F_ARRAY_RANGE);
  if (step > 0 && first <= last)
    count = ((int64_t)last - first) / step + 1;
  else if (step < 0 && first >= last)
    count = ((int64_t)first - last) / -(int64_t)step + 1;
  if (count > MAX_RANGE) return invalid(e, F_ARRAY_RANGE);
  out = orc_json_array_new((size_t)count);
  if (out == NULL) return nomem(e);
  for (i = 0; i < count; i++) {
    orc_json *v = orc_json_int((int64_t)first + i * step);
    if (v == NULL) {
      orc_json_unref(out);
      return nomem(e);
    }
    orc_json_array_set(out, (size_t)i, v);
  }
  return out;
}

/* A fractional index is cut towards zero. Past the end fails, except that
** AWS returns null for any index into an empty array. */
static orc_json *fn_array_get_item(ev *e, orc_json **a) {
  int32_t index;
  size_t len;
  if (!is_type(a[0], ORC_JSON_ARRAY) || !to_int32(a[1], &index) || index < 0)
    return invalid(e, F_ARRAY_GET_ITEM);
  len = orc_json_len(a[0]);
  if (len == 0) return orc_json_null();
  if ((size_t)index >= len) return invalid(e, F_ARRAY_GET_ITEM);
  return orc_json_ref(orc_json_array_get(a[0], (size_t)index));
}

static orc_json *fn_array_length(ev *e, orc_json **a) {
  orc_json *v;
  if (!is_type(a[0], ORC_JSON_ARRAY)) return invalid(e, F_ARRAY_LENGTH);
  v = orc_json_int((int64_t)orc_json_len(a[0]));
  return v ? v : nomem(e);
}

/* AWS puts the items in a java.util.HashSet built from the list, so the
** result comes in hash order ([true, false] gives [false, true]) and 1
** and 1.0 stay apart. */
static orc_json *fn_array_unique(ev *e, orc_json **a) {
  jtable t;
  size_t n, cap, i, *order = NULL;
  orc_json *out = NULL;
  if (!is_type(a[0], ORC_JSON_ARRAY)) return invalid(e, F_ARRAY_UNIQUE);
  n = orc_json_len(a[0]);
  /* new HashSet<>(c): capacity max(size / .75f + 1, 16) */
  cap = (size_t)((double)n / 0.75) + 1;
  cap = table_size_for(cap < 16 ? 16 : cap);
  if (jtable_init(&t, n) == 0) {
    for (i = 0; i < n; i++) {
      int added;
      jtable_put(&t, orc_json_array_get(a[0], i), &added);
    }
    order = jtable_order(&t, cap);
    if (order) out = orc_json_array_new(t.n);
    if (out)
      for (i = 0; i < t.n; i++)
        orc_json_array_set(out, i, orc_json_ref(t.item[order[i]]));
  }
  jtable_free(&t);
  free(order);
  return out ? out : nomem(e);
}

/* Standard Base64 of the UTF-8 bytes; at most 10000 characters in. */
static orc_json *fn_base64_encode(ev *e, orc_json **a) {
  const char *s;
  size_t len;
  unsigned char *out;
  int n;
  orc_json *v;
  if (!is_type(a[0], ORC_JSON_STRING)) return invalid(e, F_BASE64_ENCODE);
  s = orc_json_string_value(a[0], &len);
  if (utf16_len(s, len) > MAX_CHARS) return invalid(e, F_BASE64_ENCODE);
  out = (unsigned char *)malloc(4 * ((len + 2) / 3) + 1);
  if (out == NULL) return nomem(e);
  n = EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
  v = n >= 0 ? orc_json_string((const char *)out, (size_t)n) : NULL;
  free(out);
  return v ? v : nomem(e);
}

/* AWS decodes leniently: characters outside the alphabet are skipped (the
** URL-safe '-' and '_' count as '+' and '/'), the first '=' ends the data,
** missing padding is fine and a last lone character is dropped (so
** "!!!invalid!!!", "abc" and " YWJjZA== " all decode). The bytes become a
** string as Java decodes UTF-8, malformed sequences turning into U+FFFD. */
static orc_json *fn_base64_decode(ev *e, orc_json **a) {
  const char *s;
  size_t len, i, k = 0, pad;
  unsigned char *in, *out;
  int n;
  orci_buf b = {NULL, 0, 0, 0};
  if (!is_type(a[0], ORC_JSON_STRING)) return invalid(e, F_BASE64_DECODE);
  s = orc_json_string_value(a[0], &len);
  if (utf16_len(s, len) > MAX_CHARS) return invalid(e, F_BASE64_DECODE);
  in = (unsigned char *)malloc(len + 4);
  out = (unsigned char *)malloc(len / 4 * 3 + 3);
  if (in == NULL || out == NULL) {
    free(in);
    free(out);
    return nomem(e);
  }
  for (i = 0; i < len && s[i] != '='; i++) {
    char c = s[i];
    if (is_alnum(c) || c == '+' || c == '/')
      in[k++] = (unsigned char)c;
    else if (c == '-')
      in[k++] = '+';
    else if (c == '_')
      in[k++] = '/';
  }
  if (k % 4 == 1) k--;
  pad = (4 - k % 4) % 4;
  for (i = 0; i < pad; i++)
    in[k++] = '=';
  n = k ? EVP_DecodeBlock(out, in, (int)k) : 0;
  if (n >= 0) utf8_repair(&b, out, (size_t)n - pad);
  free(in);
  free(out);
  if (n < 0) {
    orci_buf_free(&b);
    return invalid(e, F_BASE64_DECODE);
  }
  return buf_string(e, &b);
}

/* Lowercase hex digest of the UTF-8 bytes. A number or an object is hashed
** in its Java rendering, as AWS does; null is refused. At most 10000
** characters. */
static orc_json *fn_hash(ev *e, orc_json **a) {
  static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
  } algorithms[] = {{"MD5", EVP_md5},
                    {"SHA-1", EVP_sha1},
                    {"SHA-256", EVP_sha256},
                    {"SHA-384", EVP_sha384},
                    {"SHA-512", EVP_sha512}};
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;
  char text[2 * EVP_MAX_MD_SIZE];
  const EVP_MD *type = NULL;
  orci_buf b = {NULL, 0, 0, 0};
  const char *s, *name;
  size_t len, k;
  int ok;
  orc_json *v;
  if (is_type(a[0], ORC_JSON_NULL) || !is_type(a[1], ORC_JSON_STRING))
    return invalid(e, F_HASH);
  name = orc_json_string_value(a[1], &len);
  for (k = 0; k < sizeof algorithms / sizeof algorithms[0]; k++)
    if (strlen(algorithms[k].name) == len &&
        memcmp(algorithms[k].name, name, len) == 0)
      type = algorithms[k].md();
  if (type == NULL) return invalid(e, F_HASH);
  if (is_type(a[0], ORC_JSON_STRING)) {
    s = orc_json_string_value(a[0], &len);
  } else {
    java_str(&b, a[0]);
    if (b.failed) {
      orci_buf_free(&b);
      return nomem(e);
    }
    s = b.p ? b.p : "";
    len = b.len;
  }
  if (utf16_len(s, len) > MAX_CHARS) {
    orci_buf_free(&b);
    return invalid(e, F_HASH);
  }
  ok = EVP_Digest(s, len, md, &mdlen, type, NULL);
  orci_buf_free(&b);
  if (!ok) return invalid(e, F_HASH);
  for (i = 0; i < mdlen; i++) {
    text[2 * i] = hex[md[i] >> 4];
    text[2 * i + 1] = hex[md[i] & 15];
  }
  v = orc_json_string(text, 2 * (size_t)mdlen);
  return v ? v : nomem(e);
}

/* Shallow merge, the second object's members winning. AWS only merges
** shallowly: true as the third argument fails (any other value merges
** shallowly). The result is a java.util.HashMap made as new
** HashMap<>(first) then putAll(second), and comes in that map's order:
** {"a":..,"b":..,"d":..} merged with {"a":..,"c":..} gives a, b, c, d. */
static orc_json *fn_json_merge(ev *e, orc_json **a) {
  jtable t;
  size_t n1, n2, i, cap, *order = NULL;
  orc_json *out = NULL;
  if (!is_type(a[0], ORC_JSON_OBJECT) || !is_type(a[1], ORC_JSON_OBJECT) ||
      orc_json_is_true(a[2]))
    return invalid(e, F_JSON_MERGE);
  n1 = orc_json_len(a[0]);
  n2 = orc_json_len(a[1]);
  if (jtable_init(&t, n1 + n2) == 0) {
    for (i = 0; i < n1 + n2; i++) {
      orc_json *src = i < n1 ? a[0] : a[1];
      size_t j = i < n1 ? i : i - n1, k;
      int added;
      k = jtable_put(&t, orc_json_object_key(src, j), &added);
      t.value[k] = orc_json_object_value(src, j);
    }
    /* the table is sized for the first map (or, when that is empty, the
    ** second), then doubles while the entries pass 3/4 of it */
    cap = (size_t)((double)(n1 ? n1 : n2) / 0.75 + 1.0);
    cap = table_size_for(cap);
    while (t.n > cap * 3 / 4) /* HashMap's threshold: (int)(cap * .75f) */
      cap <<= 1;
    order = jtable_order(&t, cap);
    if (order) out = orc_json_object_new(t.n);
    if (out)
      for (i = 0; i < t.n; i++)
        orc_json_object_set(out, i, orc_json_ref(t.item[order[i]]),
                            orc_json_ref(t.value[order[i]]));
  }
  jtable_free(&t);
  free(order);
  return out ? out : nomem(e);
}

/* java.util.Random, which AWS seeds with the third argument. */
static int32_t jrandom_next(uint64_t *seed, int bits) {
  *seed = (*seed * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
  return (int32_t)(*seed >> (48 - bits));
}

static int32_t jrandom_int(int64_t seed, int32_t bound) {
  uint64_t s = ((uint64_t)seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
  int32_t bits, val;
  if ((bound & -bound) == bound)
    return (int32_t)(((int64_t)bound * jrandom_next(&s, 31)) >> 31);
  do {
    bits = jrandom_next(&s, 31);
    val = bits % bound;
  } while ((int64_t)bits - val + (bound - 1) > INT32_MAX);
  return val;
}

/* start <= n < end, from new java.util.Random(seed).nextInt(end - start),
** which gives AWS's numbers for a seeded call (seed 42 over [-5, 5) gives
** -5). Without a seed the seed comes from the host's random source. Bounds
** are cut towards zero; start must stay below end. */
static orc_json *fn_math_random(ev *e, const node *n, orc_json **a) {
  int32_t start, end;
  int64_t seed, range;
  orc_json *v;
  if (!to_int32(a[0], &start) || !to_int32(a[1], &end) || start >= end)
    return invalid(e, F_MATH_RANDOM);
  range = (int64_t)end - start;
  if (range > INT32_MAX) return invalid(e, F_MATH_RANDOM);
  if (n->nargs == 3) {
    double d;
    if (is_type(a[2], ORC_JSON_INT)) {
      seed = orc_json_int_value(a[2]);
    } else if (is_type(a[2], ORC_JSON_FLOAT) &&
               fabs(d = trunc(orc_json_number(a[2]))) < 0x1p63) {
      seed = (int64_t)d;
    } else {
      return invalid(e, F_MATH_RANDOM);
    }
  } else {
    seed = (int64_t)random64(e);
  }
  v = orc_json_int((int64_t)start + jrandom_int(seed, (int32_t)range));
  return v ? v : nomem(e);
}

/* Java's Math.round: halves go up (-1.5 gives -1, 2.5 gives 3). */
static int round_int32(const orc_json *v, int32_t *out) {
  double d, r;
  if (is_type(v, ORC_JSON_INT)) return to_int32(v, out);
  if (!is_type(v, ORC_JSON_FLOAT)) return 0;
  d = orc_json_number(v);
  r = floor(d);
  if (d - r >= 0.5) r += 1;
  if (r < (double)INT32_MIN || r > (double)INT32_MAX) return 0;
  *out = (int32_t)r;
  return 1;
}

/* Each operand rounded half up, as recorded on AWS (1.49 + 1.5 = 3); the
** operands and the sum must fit 32 bits. */
static orc_json *fn_math_add(ev *e, orc_json **a) {
  int32_t x, y;
  int64_t sum;
  orc_json *v;
  if (!round_int32(a[0], &x) || !round_int32(a[1], &y))
    return invalid(e, F_MATH_ADD);
  sum = (int64_t)x + y;
  if (sum < INT32_MIN || sum > INT32_MAX) return invalid(e, F_MATH_ADD);
  v = orc_json_int(sum);
  return v ? v : nomem(e);
}

/* Every character of the second string is a delimiter, and empty pieces
** are dropped (", , ," on "," gives [" ", " "]; "" gives []), as recorded
** on AWS. */
static orc_json *fn_string_split(ev *e, orc_json **a) {
  const char *s, *d;
  size_t len, dlen, i = 0, start = 0, npieces = 0, cap = 0, k;
  size_t *pieces = NULL; /* start and end of each piece */
  orc_json *out = NULL;
  if (!is_type(a[0], ORC_JSON_STRING) || !is_type(a[1], ORC_JSON_STRING))
    return invalid(e, F_STRING_SPLIT);
  s = orc_json_string_value(a[0], &len);
  d = orc_json_string_value(a[1], &dlen);
  while (i <= len) {
    size_t at = i;
    int cut = i == len;
    if (!cut) {
      uint32_t c = utf8_next(s, len, &i);
      size_t j = 0;
      while (j < dlen && !cut)
        cut = utf8_next(d, dlen, &j) == c;
    } else {
      i++;
    }
    if (!cut) continue;
    if (at > start) {
      if (npieces == cap) {
        size_t ncap = cap ? cap * 2 : 8;
        size_t *p = (size_t *)realloc(pieces, 2 * ncap * sizeof *p);
        if (p == NULL) {
          free(pieces);
          return nomem(e);
        }
        pieces = p;
        cap = ncap;
      }
      pieces[2 * npieces] = start;
      pieces[2 * npieces + 1] = at;
      npieces++;
    }
    start = i;
  }
  out = orc_json_array_new(npieces);
  for (k = 0; out && k < npieces; k++) {
    orc_json *piece =
        orc_json_string(s + pieces[2 * k], pieces[2 * k + 1] - pieces[2 * k]);
    if (piece == NULL) {
      orc_json_unref(out);
      out = NULL;
    } else {
      orc_json_array_set(out, k, piece);
    }
  }
  free(pieces);
  return out ? out : nomem(e);
}

/* A version 4 UUID from 128 random bits. */
static orc_json *fn_uuid(ev *e) {
  static const char hex[] = "0123456789abcdef";
  unsigned char u[16];
  char text[36];
  uint64_t hi = random64(e), lo = random64(e);
  size_t i, k = 0;
  orc_json *v;
  for (i = 0; i < 8; i++) {
    u[i] = (unsigned char)(hi >> (56 - 8 * i));
    u[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
  }
  u[6] = (unsigned char)((u[6] & 0x0F) | 0x40); /* version 4 */
  u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text[k++] = '-';
    text[k++] = hex[u[i] >> 4];
    text[k++] = hex[u[i] & 15];
  }
  v = orc_json_string(text, sizeof text);
  return v ? v : nomem(e);
}

/* }====== */

/* {====== evaluation */

static orc_json *eval_node(ev *e, const node *n);

static orc_json *call(ev *e, const node *n, orc_json **a) {
  switch (n->fn) {
  case F_FORMAT:
    return fn_format(e, n, a);
  case F_STRING_TO_JSON:
    return fn_string_to_json(e, a);
  case F_JSON_TO_STRING:
    return fn_json_to_string(e, a);
  case F_ARRAY:
    return fn_array(e, n, a);
  case F_ARRAY_PARTITION:
    return fn_array_partition(e, a);
  case F_ARRAY_CONTAINS:
    return fn_array_contains(e, a);
  case F_ARRAY_RANGE:
    return fn_array_range(e, a);
  case F_ARRAY_GET_ITEM:
    return fn_array_get_item(e, a);
  case F_ARRAY_LENGTH:
    return fn_array_length(e, a);
  case F_ARRAY_UNIQUE:
    return fn_array_unique(e, a);
  case F_BASE64_ENCODE:
    return fn_base64_encode(e, a);
  case F_BASE64_DECODE:
    return fn_base64_decode(e, a);
  case F_HASH:
    return fn_hash(e, a);
  case F_JSON_MERGE:
    return fn_json_merge(e, a);
  case F_MATH_RANDOM:
    return fn_math_random(e, n, a);
  case F_MATH_ADD:
    return fn_math_add(e, a);
  default: /* F_STRING_SPLIT */
    return fn_string_split(e, a);
  }
}

static orc_json *eval_call(ev *e, const node *n) {
  const fninfo *info = &functions[n->fn];
  orc_json *small[8], **a = small, *out = NULL;
  size_t i, done = 0;
  if (n->fn == F_UUID) return fn_uuid(e);
  if (n->nargs < (size_t)info->nmin ||
      (info->nmax >= 0 && n->nargs > (size_t)info->nmax))
    return invalid(e, n->fn);
  if (n->nargs > sizeof small / sizeof small[0]) {
    a = (orc_json **)malloc(n->nargs * sizeof *a);
    if (a == NULL) return nomem(e);
  }
  for (done = 0; done < n->nargs; done++) {
    a[done] = eval_node(e, n->args[done]);
    if (a[done] == NULL) break;
  }
  if (done == n->nargs) out = call(e, n, a);
  for (i = 0; i < done; i++)
    orc_json_unref(a[i]);
  if (a != small) free(a);
  return out;
}

static orc_json *eval_node(ev *e, const node *n) {
  orc_json *out = NULL;
  int rc;
  switch (n->kind) {
  case N_LITERAL:
    return orc_json_ref(n->value);
  case N_PATH:
    rc = orci_path_eval(n->path, e->env, &out);
    if (rc == ORC_OK) return out;
    orc_json_unref(out);
    return rc == ORC_ENOMEM ? nomem(e) : path_miss(e, n->path);
  default:
    return eval_call(e, n);
  }
}

int orci_intrinsic_eval(const orci_intrinsic *f, const orci_env *env,
                        orc_json **out, char *error, size_t errlen, char *cause,
                        size_t causelen) {
  ev e;
  e.f = f;
  e.env = env;
  e.error = error;
  e.errlen = errlen;
  e.cause = cause;
  e.causelen = causelen;
  e.rng = 0x6F72636865737472ULL; /* "orchestr": any fixed seed will do */
  e.rc = 0;
  if (error && errlen) error[0] = '\0';
  if (cause && causelen) cause[0] = '\0';
  *out = eval_node(&e, f->root);
  if (*out) return ORC_OK;
  return e.rc ? e.rc : ORC_EINVAL;
}

/* }====== */
