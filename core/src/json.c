/*
** orc_json: immutable reference-counted JSON values, the strict parser
** (cJSON for structure and string unescaping, a lexical pass of our own for
** what cJSON is lax or lossy about) and the printer with exact numbers.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_int.h"

/* {====== values */

static orc_json json_null = {.refs = ORCI_JSON_STATIC, .type = ORC_JSON_NULL};
static orc_json json_false = {.refs = ORCI_JSON_STATIC, .type = ORC_JSON_BOOL};
static orc_json json_true = {
    .refs = ORCI_JSON_STATIC, .type = ORC_JSON_BOOL, .u = {.b = 1}};

static orc_json *json_alloc(orc_json_type t, size_t extra) {
  orc_json *v = (orc_json *)malloc(sizeof(orc_json) + extra);
  if (v == NULL) return NULL;
  v->refs = 1;
  v->type = (uint8_t)t;
  v->tsize_hi = 0;
  v->tsize_lo = 0;
  v->n = 0;
  return v;
}

orc_json *orc_json_null(void) {
  return &json_null;
}

orc_json *orc_json_bool(int b) {
  return b ? &json_true : &json_false;
}

orc_json *orc_json_int(int64_t i) {
  orc_json *v = json_alloc(ORC_JSON_INT, 0);
  if (v) v->u.i = i;
  return v;
}

orc_json *orc_json_float(double d) {
  orc_json *v = json_alloc(ORC_JSON_FLOAT, 0);
  if (v) v->u.d = d;
  return v;
}

orc_json *orc_json_string(const char *s, size_t len) {
  orc_json *v;
  if (len > SIZE_MAX - sizeof(orc_json) - 1) return NULL;
  v = json_alloc(ORC_JSON_STRING, len + 1);
  if (v == NULL) return NULL;
  v->n = len;
  v->u.s = (char *)(v + 1);
  if (len) memcpy(v->u.s, s, len);
  v->u.s[len] = '\0';
  return v;
}

orc_json *orc_json_array_new(size_t n) {
  orc_json *v;
  size_t i;
  if (n > (SIZE_MAX - sizeof(orc_json)) / sizeof(orc_json *)) return NULL;
  v = json_alloc(ORC_JSON_ARRAY, n * sizeof(orc_json *));
  if (v == NULL) return NULL;
  v->n = n;
  v->u.items = (orc_json **)(v + 1);
  for (i = 0; i < n; i++)
    v->u.items[i] = &json_null;
  return v;
}

void orc_json_array_set(orc_json *a, size_t i, orc_json *item) {
  orc_json *old = a->u.items[i];
  a->u.items[i] = item ? item : &json_null;
  orc_json_unref(old);
}

orc_json *orc_json_object_new(size_t n) {
  orc_json *v;
  size_t i;
  if (n > (SIZE_MAX - sizeof(orc_json)) / sizeof(orci_member)) return NULL;
  v = json_alloc(ORC_JSON_OBJECT, n * sizeof(orci_member));
  if (v == NULL) return NULL;
  v->n = n;
  v->u.members = (orci_member *)(v + 1);
  for (i = 0; i < n; i++) {
    v->u.members[i].key = NULL;
    v->u.members[i].value = &json_null;
  }
  return v;
}

void orc_json_object_set(orc_json *o, size_t i, orc_json *key,
                         orc_json *value) {
  orci_member *m = &o->u.members[i];
  orc_json_unref(m->key);
  orc_json_unref(m->value);
  m->key = key;
  m->value = value ? value : &json_null;
}

orc_json *orc_json_ref(orc_json *v) {
  if (v && v->refs != ORCI_JSON_STATIC) v->refs++;
  return v;
}

void orc_json_unref(orc_json *v) {
  size_t i;
  if (v == NULL || v->refs == ORCI_JSON_STATIC || --v->refs > 0) return;
  if (v->type == ORC_JSON_ARRAY) {
    for (i = 0; i < v->n; i++)
      orc_json_unref(v->u.items[i]);
  } else if (v->type == ORC_JSON_OBJECT) {
    for (i = 0; i < v->n; i++) {
      orc_json_unref(v->u.members[i].key);
      orc_json_unref(v->u.members[i].value);
    }
  }
  free(v);
}

orc_json_type orc_json_type_of(const orc_json *v) {
  return (orc_json_type)v->type;
}

const char *orc_json_type_name(orc_json_type t) {
  static const char *const names[] = {"null",   "boolean", "integer", "float",
                                      "string", "array",   "object"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int orc_json_is_true(const orc_json *v) {
  return v->type == ORC_JSON_BOOL && v->u.b;
}

int64_t orc_json_int_value(const orc_json *v) {
  return v->type == ORC_JSON_INT ? v->u.i : (int64_t)v->u.d;
}

double orc_json_number(const orc_json *v) {
  return v->type == ORC_JSON_INT ? (double)v->u.i : v->u.d;
}

const char *orc_json_string_value(const orc_json *v, size_t *len) {
  if (len) *len = v->n;
  return v->u.s;
}

size_t orc_json_len(const orc_json *v) {
  return v->type >= ORC_JSON_STRING ? v->n : 0;
}

orc_json *orc_json_array_get(const orc_json *a, size_t i) {
  return a->u.items[i];
}

orc_json *orc_json_object_key(const orc_json *o, size_t i) {
  return o->u.members[i].key;
}

orc_json *orc_json_object_value(const orc_json *o, size_t i) {
  return o->u.members[i].value;
}

orc_json *orc_json_object_find(const orc_json *o, const char *key, size_t len) {
  size_t i;
  if (o->type != ORC_JSON_OBJECT) return NULL; /* callers may probe */
  for (i = 0; i < o->n; i++) {
    const orc_json *k = o->u.members[i].key;
    if (k->n == len && memcmp(k->u.s, key, len) == 0)
      return o->u.members[i].value;
  }
  return NULL;
}

int orc_json_equal(const orc_json *a, const orc_json *b) {
  size_t i;
  int an = a->type == ORC_JSON_INT || a->type == ORC_JSON_FLOAT;
  int bn = b->type == ORC_JSON_INT || b->type == ORC_JSON_FLOAT;
  if (a == b) return 1;
  if (an && bn) {
    if (a->type == ORC_JSON_INT && b->type == ORC_JSON_INT)
      return a->u.i == b->u.i;
    return orc_json_number(a) == orc_json_number(b);
  }
  if (a->type != b->type) return 0;
  switch (a->type) {
  case ORC_JSON_NULL:
    return 1;
  case ORC_JSON_BOOL:
    return a->u.b == b->u.b;
  case ORC_JSON_STRING:
    return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
  case ORC_JSON_ARRAY:
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++)
      if (!orc_json_equal(a->u.items[i], b->u.items[i])) return 0;
    return 1;
  case ORC_JSON_OBJECT:
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++) {
      const orc_json *k = a->u.members[i].key;
      const orc_json *bv = orc_json_object_find(b, k->u.s, k->n);
      if (bv == NULL || !orc_json_equal(a->u.members[i].value, bv)) return 0;
    }
    return 1;
  default:
    return 0;
  }
}

void orc_free(void *p) {
  free(p);
}

/* }====== */

/* {====== UTF-8 */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
    unsigned hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xF4 ? 0x8F : 0xBF; /* at most U+10FFFF */
    return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
                   (s[3] & 0xC0) == 0x80
               ? 4
               : 0;
  }
  return 0;
}

size_t orc_utf8_check(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    size_t k;
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    k = utf8_seq(p + i, len - i);
    if (k == 0) return i;
    i += k;
  }
  return (size_t)-1;
}

/* }====== */

/* {====== parser */

typedef struct numtok {
  int is_int;
  int64_t i;
  double d;
} numtok;

/* A string holding U+0000, decoded by the lexer: cJSON's strings end at
** their first NUL. */
typedef struct nulstr {
  size_t index; /* among the text's strings (keys included), in order */
  orc_json *value;
} nulstr;

typedef struct lexer {
  const char *text;
  size_t len;
  int max_depth;
  numtok *nums; /* every number of the text, in document order */
  size_t nnums, capnums;
  size_t nstrings; /* strings (keys included) seen so far */
  nulstr *nulstrs; /* those holding U+0000, in document order */
  size_t nnulstrs, capnulstrs;
  size_t err_at;      /* offset of the first error found, or SIZE_MAX */
  size_t err_tok;     /* start of the token holding that error */
  const char *errmsg; /* static text describing it */
  int depth;          /* nesting left open at the end of the text */
  char msgbuf[96];
} lexer;

static int lex_fail(lexer *lx, size_t at, const char *msg) {
  lx->err_at = at;
  lx->errmsg = msg;
  return -1;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int lex_number(lexer *lx, size_t *pi) {
  const char *t = lx->text;
  size_t i = *pi, start = i, n = lx->len;
  int is_int = 1;
  numtok tok;
  char small[64], *buf;
  if (t[i] == '-') i++;
  if (i >= n || !is_digit(t[i]))
    return lex_fail(lx, i, "a minus sign must be followed by digits");
  if (t[i] == '0') {
    i++;
    if (i < n && is_digit(t[i]))
      return lex_fail(lx, i, "numbers must not have leading zeros");
  } else {
    while (i < n && is_digit(t[i]))
      i++;
  }
  if (i < n && t[i] == '.') {
    is_int = 0;
    i++;
    if (i >= n || !is_digit(t[i]))
      return lex_fail(lx, i, "a decimal point must be followed by digits");
    while (i < n && is_digit(t[i]))
      i++;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    is_int = 0;
    i++;
    if (i < n && (t[i] == '+' || t[i] == '-')) i++;
    if (i >= n || !is_digit(t[i]))
      return lex_fail(lx, i, "an exponent must have digits");
    while (i < n && is_digit(t[i]))
      i++;
  }
  if (i < n &&
      (t[i] == '.' || t[i] == '+' || t[i] == '-' || t[i] == 'e' || t[i] == 'E'))
    return lex_fail(lx, i, "malformed number");
  /* strtod/strtoll need a terminated copy: the text is not terminated */
  buf = i - start < sizeof small ? small : (char *)malloc(i - start + 1);
  if (buf == NULL) return lex_fail(lx, start, "out of memory");
  memcpy(buf, t + start, i - start);
  buf[i - start] = '\0';
  tok.is_int = is_int;
  tok.i = 0;
  tok.d = 0;
  if (is_int) {
    errno = 0;
    tok.i = strtoll(buf, NULL, 10);
    if (errno == ERANGE) /* beyond int64: keep it as a float */
      tok.is_int = 0;
  }
  if (!tok.is_int)
    tok.d = strtod(buf, NULL); /* ERANGE overflow gives +-HUGE_VAL */
  if (buf != small) free(buf);
  if (!tok.is_int && isinf(tok.d))
    return lex_fail(lx, start, "number is too large for a double");
  if (lx->nnums == lx->capnums) {
    size_t cap = lx->capnums ? lx->capnums * 2 : 16;
    numtok *p = (numtok *)realloc(lx->nums, cap * sizeof *p);
    if (p == NULL) return lex_fail(lx, start, "out of memory");
    lx->nums = p;
    lx->capnums = cap;
  }
  lx->nums[lx->nnums++] = tok;
  *pi = i;
  return 0;
}

/* 1 when h[0] is the hex digit d (either case) and h[1] one of set. */
static int strncasecmp_hex(const char *h, char d, const char *set) {
  char c0 = (char)(h[0] | 0x20), c1 = (char)(h[1] | 0x20);
  return c0 == d && c1 != '\0' && strchr(set, c1) != NULL;
}

static unsigned hex4(const char *h) {
  unsigned v = 0;
  int k;
  for (k = 0; k < 4; k++) {
    char c = h[k];
    v = v * 16 + (unsigned)(is_digit(c) ? c - '0'
                            : c >= 'a'  ? c - 'a' + 10
                                        : c - 'A' + 10);
  }
  return v;
}

/* Decode the string token text[from, to) (quotes excluded, already
** checked) into an owned value. */
static orc_json *decode_string(const char *t, size_t from, size_t to) {
  char *buf = (char *)malloc(to - from + 1), *o = buf;
  orc_json *v;
  size_t i = from;
  if (buf == NULL) return NULL;
  while (i < to) {
    unsigned cp;
    if (t[i] != '\\') {
      *o++ = t[i++];
      continue;
    }
    switch (t[i + 1]) {
    case 'b':
      *o++ = '\b';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'u':
      cp = hex4(t + i + 2);
      if (cp >= 0xD800 && cp <= 0xDBFF) { /* a pair: checked by the lexer */
        cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(t + i + 8) - 0xDC00);
        i += 6;
      }
      if (cp < 0x80) {
        *o++ = (char)cp;
      } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
      } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
      }
      i += 6;
      continue;
    default: /* " \ / */
      *o++ = t[i + 1];
      break;
    }
    i += 2;
  }
  v = orc_json_string(buf, (size_t)(o - buf));
  free(buf);
  return v;
}

static int lex_string(lexer *lx, size_t *pi) {
  const char *t = lx->text;
  size_t i = *pi + 1, n = lx->len;
  int has_nul = 0; /* an escaped U+0000: cJSON would cut the string */
  while (i < n) {
    unsigned char c = (unsigned char)t[i];
    if (c == '"') {
      if (has_nul) {
        nulstr *ns;
        if (lx->nnulstrs == lx->capnulstrs) {
          size_t cap = lx->capnulstrs ? lx->capnulstrs * 2 : 4;
          ns = (nulstr *)realloc(lx->nulstrs, cap * sizeof *ns);
          if (ns == NULL) return lex_fail(lx, *pi, "out of memory");
          lx->nulstrs = ns;
          lx->capnulstrs = cap;
        }
        ns = &lx->nulstrs[lx->nnulstrs];
        ns->index = lx->nstrings;
        ns->value = decode_string(t, *pi + 1, i);
        if (ns->value == NULL) return lex_fail(lx, *pi, "out of memory");
        lx->nnulstrs++;
      }
      lx->nstrings++;
      *pi = i + 1;
      return 0;
    }
    if (c < 0x20) {
      snprintf(lx->msgbuf, sizeof lx->msgbuf,
               "control character U+%04X must be escaped in a string", c);
      return lex_fail(lx, i, lx->msgbuf);
    }
    if (c == '\\') {
      if (i + 1 >= n) break;
      switch (t[i + 1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        i += 2;
        continue;
      case 'u':
        if (i + 5 >= n || !is_hex(t[i + 2]) || !is_hex(t[i + 3]) ||
            !is_hex(t[i + 4]) || !is_hex(t[i + 5]))
          return lex_fail(lx, i, "\\u must be followed by four hex digits");
        if (memcmp(t + i + 2, "0000", 4) == 0) has_nul = 1;
        if (strncasecmp_hex(t + i + 2, 'd', "89ab")) { /* high surrogate */
          if (i + 11 >= n || t[i + 6] != '\\' || t[i + 7] != 'u' ||
              !strncasecmp_hex(t + i + 8, 'd', "cdef") || !is_hex(t[i + 10]) ||
              !is_hex(t[i + 11]))
            return lex_fail(lx, i, "lone UTF-16 surrogate in a string");
          i += 12;
          continue;
        }
        if (strncasecmp_hex(t + i + 2, 'd', "cdef"))
          return lex_fail(lx, i, "lone UTF-16 surrogate in a string");
        i += 6;
        continue;
      default:
        return lex_fail(lx, i, "invalid escape sequence in a string");
      }
    }
    if (c >= 0x80) {
      size_t k = utf8_seq((const unsigned char *)t + i, n - i);
      if (k == 0) return lex_fail(lx, i, "invalid UTF-8 in a string");
      i += k;
      continue;
    }
    i++;
  }
  return lex_fail(lx, *pi, "unterminated string");
}

static void lex_free(lexer *lx) {
  size_t i;
  for (i = 0; i < lx->nnulstrs; i++)
    orc_json_unref(lx->nulstrs[i].value);
  free(lx->nulstrs);
  free(lx->nums);
}

/* What the grammar allows next (RFC 8259). */
enum {
  X_VALUE,       /* a value (after ':' or ',' in an array, or at the top) */
  X_FIRST_VALUE, /* a value or ']' (after '[') */
  X_FIRST_KEY,   /* a key or '}' (after '{') */
  X_KEY,         /* a key (after ',' in an object) */
  X_COLON,       /* ':' after a key */
  X_NEXT,        /* ',' or the container's close */
  X_END          /* nothing but whitespace */
};

static const char *const expected_text[] = {
    "a value", "a value or ']'", "a string key or '}'", "a string key",
    "':'",     "',' or a close", "the end of the text"};

/* Fail at i naming the byte found and what the grammar wanted. */
static int lex_unexpected(lexer *lx, size_t i, int expect, char close) {
  unsigned char c = (unsigned char)lx->text[i];
  const char *want = expected_text[expect];
  char wbuf[24];
  if (expect == X_NEXT) {
    snprintf(wbuf, sizeof wbuf, "',' or '%c'", close);
    want = wbuf;
  }
  if (c >= 0x20 && c < 0x7F)
    snprintf(lx->msgbuf, sizeof lx->msgbuf,
             "unexpected character '%c' (expected %s)", c, want);
  else
    snprintf(lx->msgbuf, sizeof lx->msgbuf,
             "unexpected byte 0x%02X (expected %s)", c, want);
  return lex_fail(lx, i, lx->msgbuf);
}

/* The lexical and grammatical pass: strict numbers (with their exact
** values), strings (control characters, escapes, UTF-8), literals,
** structure and nesting depth, so every error is reported at the byte
** that makes it. cJSON then builds the tree of a text known to be valid.
** Returns 0, or -1 with lx->err_at/errmsg set. */
static int lex(lexer *lx) {
  const char *t = lx->text;
  size_t i = 0, n = lx->len;
  int depth = 0, expect = X_VALUE;
  char stack[ORC_JSON_MAX_DEPTH + 1]; /* '[' or '{' per open container */
  if (n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
    i = 3; /* a byte order mark may be ignored (RFC 8259) */
  while (i < n) {
    char c = t[i];
    char close = depth > 0 ? (stack[depth - 1] == '[' ? ']' : '}') : 0;
    int value = expect == X_VALUE || expect == X_FIRST_VALUE;
    lx->err_tok = i;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
      continue;
    }
    if (c == '"' && (value || expect == X_KEY || expect == X_FIRST_KEY)) {
      if (lex_string(lx, &i) < 0) return -1;
      if (!value) {
        expect = X_COLON;
        continue;
      }
    } else if ((c == '-' || is_digit(c)) && value) {
      if (lex_number(lx, &i) < 0) return -1;
    } else if ((c == 't' || c == 'f' || c == 'n') && value) {
      const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
      size_t k = strlen(lit), j;
      for (j = 0; j < k; j++)
        if (i + j >= n || t[i + j] != lit[j]) break;
      if (j < k) {
        if (i + j >= n)
          snprintf(lx->msgbuf, sizeof lx->msgbuf,
                   "unexpected end of input inside the literal %s", lit);
        else
          snprintf(lx->msgbuf, sizeof lx->msgbuf,
                   "unexpected character '%c' inside the literal %s", t[i + j],
                   lit);
        return lex_fail(lx, i + j, lx->msgbuf);
      }
      i += k;
    } else if ((c == '[' || c == '{') && value) {
      if (depth >= lx->max_depth) {
        snprintf(lx->msgbuf, sizeof lx->msgbuf,
                 "nesting is deeper than the limit of %d", lx->max_depth);
        return lex_fail(lx, i, lx->msgbuf);
      }
      stack[depth++] = c;
      expect = c == '[' ? X_FIRST_VALUE : X_FIRST_KEY;
      i++;
      continue;
    } else if (c == close &&
               (expect == X_NEXT ||
                expect == (c == ']' ? X_FIRST_VALUE : X_FIRST_KEY))) {
      depth--;
      i++;
    } else if (c == ':' && expect == X_COLON) {
      expect = X_VALUE;
      i++;
      continue;
    } else if (c == ',' && expect == X_NEXT) {
      expect = close == ']' ? X_VALUE : X_KEY;
      i++;
      continue;
    } else if ((unsigned char)c >= 0x80 && expect != X_END) {
      return lex_fail(lx, i, "unexpected byte outside a string");
    } else {
      return lex_unexpected(lx, i, expect, close);
    }
    expect = depth > 0 ? X_NEXT : X_END; /* a value ended */
  }
  lx->depth = depth;
  lx->err_tok = n;
  if (expect == X_END) return 0;
  if (expect == X_VALUE && depth == 0)
    return lex_fail(lx, n, "the text holds no value");
  return lex_fail(lx, n, "unexpected end of input");
}

typedef struct convert {
  numtok *nums;
  size_t nnums, next; /* next number token to consume */
  const nulstr *nulstrs;
  size_t nnulstrs, nextnul; /* the next string holding U+0000 */
  size_t nstrings;          /* strings (keys included) converted so far */
  int unique_keys;
  const cJSON *path[ORC_JSON_MAX_DEPTH + 1]; /* nodes from the root */
  int depth;
  char dup[512];       /* "duplicate key 'k' at /a/b" when unique_keys failed */
  char dupptr[200];    /* the pointer of that key */
  orc_json *keys[256]; /* recent object keys: an array of objects shares
                          one string per key name */
} convert;

/* The key string (owned) for s, shared with earlier members of the same
** name when the cache has it. */
static orc_json *key_of(convert *cv, const char *s) {
  size_t n = strlen(s), i;
  uint32_t h = 2166136261u;
  orc_json **slot;
  if (cv->nextnul < cv->nnulstrs &&
      cv->nulstrs[cv->nextnul].index == cv->nstrings++)
    return orc_json_ref(cv->nulstrs[cv->nextnul++].value);
  if (n > 64) return orc_json_string(s, n); /* long keys are rare */
  for (i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  slot = &cv->keys[h & 255u];
  if (*slot && (*slot)->n == n && memcmp((*slot)->u.s, s, n) == 0)
    return orc_json_ref(*slot);
  orc_json_unref(*slot);
  *slot = orc_json_string(s, n);
  return orc_json_ref(*slot);
}

/* The JSON pointer of cv->path[1..depth) followed by key, into buf. */
static void pointer_of(const convert *cv, const char *key, char *buf,
                       size_t n) {
  size_t len = 0;
  int d;
  buf[0] = '\0';
  for (d = 1; d <= cv->depth + 1 && len + 2 < n; d++) {
    const cJSON *node = d <= cv->depth ? cv->path[d] : NULL;
    const char *seg = node ? node->string : key;
    char idx[24];
    if (node && node->string == NULL) { /* an array item: count its index */
      const cJSON *e = cv->path[d - 1]->child;
      int i = 0;
      for (; e && e != node; e = e->next)
        i++;
      snprintf(idx, sizeof idx, "%d", i);
      seg = idx;
    }
    if (seg == NULL) break;
    buf[len++] = '/';
    for (; *seg && len + 3 < n; seg++) {
      if (*seg == '~' || *seg == '/') {
        buf[len++] = '~';
        buf[len++] = *seg == '~' ? '0' : '1';
      } else {
        buf[len++] = *seg;
      }
    }
    buf[len] = '\0';
  }
}

static int key_cmp(const void *a, const void *b) {
  const orci_member *x = *(const orci_member *const *)a;
  const orci_member *y = *(const orci_member *const *)b;
  size_t n = x->key->n < y->key->n ? x->key->n : y->key->n;
  int c = memcmp(x->key->u.s, y->key->u.s, n);
  if (c) return c;
  if (x->key->n != y->key->n) return x->key->n < y->key->n ? -1 : 1;
  return x < y ? -1 : x > y; /* stable: document order */
}

/* Duplicate keys: the first position keeps the last value (as Jackson's
** ObjectNode does); later duplicates are dropped. Returns the new count. */
static size_t dedupe_members(orc_json *o) {
  orci_member *m = o->u.members, **idx;
  size_t n = o->n, i, j, out;
  unsigned char *drop;
  if (n < 2) return n;
  if (n <= 16) { /* the usual small object: look for a duplicate first */
    int dup = 0;
    for (i = 1; i < n && !dup; i++)
      for (j = 0; j < i; j++)
        if (m[i].key == m[j].key ||
            (m[i].key->n == m[j].key->n &&
             memcmp(m[i].key->u.s, m[j].key->u.s, m[i].key->n) == 0)) {
          dup = 1;
          break;
        }
    if (!dup) return n;
  }
  idx = (orci_member **)malloc(n * sizeof *idx);
  drop = (unsigned char *)calloc(n, 1);
  if (idx == NULL || drop == NULL) {
    free(idx);
    free(drop);
    return (size_t)-1;
  }
  for (i = 0; i < n; i++)
    idx[i] = &m[i];
  qsort(idx, n, sizeof *idx, key_cmp);
  for (i = 0; i < n; i = j) {
    for (j = i + 1;
         j < n && idx[j]->key->n == idx[i]->key->n &&
         memcmp(idx[j]->key->u.s, idx[i]->key->u.s, idx[i]->key->n) == 0;
         j++)
      ;
    if (j - i > 1) { /* idx[i] is the first, idx[j-1] the last */
      orc_json *last = idx[j - 1]->value;
      idx[j - 1]->value = idx[i]->value;
      idx[i]->value = last;
      for (size_t k = i + 1; k < j; k++)
        drop[idx[k] - m] = 1;
    }
  }
  for (i = 0, out = 0; i < n; i++) {
    if (drop[i]) {
      orc_json_unref(m[i].key);
      orc_json_unref(m[i].value);
    } else {
      m[out++] = m[i];
    }
  }
  free(idx);
  free(drop);
  return out;
}

static int cjson_key_cmp(const void *a, const void *b) {
  return strcmp((*(const cJSON *const *)a)->string,
                (*(const cJSON *const *)b)->string);
}

static orc_json *from_cjson(convert *cv, const cJSON *c) {
  orc_json *v;
  const cJSON *e;
  size_t n = 0, i = 0;
  if (cJSON_IsNull(c)) return &json_null;
  if (cJSON_IsFalse(c)) return &json_false;
  if (cJSON_IsTrue(c)) return &json_true;
  if (cJSON_IsNumber(c)) {
    numtok *t;
    if (cv->next >= cv->nnums)
      return NULL; /* cannot happen: both passes see every number */
    t = &cv->nums[cv->next++];
    return t->is_int ? orc_json_int(t->i) : orc_json_float(t->d);
  }
  if (cJSON_IsString(c)) {
    if (cv->nextnul < cv->nnulstrs &&
        cv->nulstrs[cv->nextnul].index == cv->nstrings++)
      return orc_json_ref(cv->nulstrs[cv->nextnul++].value);
    return orc_json_string(c->valuestring, strlen(c->valuestring));
  }
  for (e = c->child; e; e = e->next)
    n++;
  if (cJSON_IsArray(c)) {
    cJSON *next, *arr = (cJSON *)(uintptr_t)c;
    v = orc_json_array_new(n);
    if (v == NULL) return NULL;
    for (e = c->child; e; e = next, i++) {
      orc_json *item;
      cJSON *done = (cJSON *)(uintptr_t)e;
      next = e->next;
      cv->path[++cv->depth] = e;
      item = from_cjson(cv, e);
      cv->depth--;
      if (item == NULL) {
        orc_json_unref(v);
        return NULL;
      }
      v->u.items[i] = item;
      /* free the converted element now: a large array is never held twice
      ** (cJSON's tree and ours) */
      arr->child = next;
      if (next) next->prev = done->prev;
      done->next = NULL;
      done->prev = done;
      cJSON_Delete(done);
    }
    return v;
  }
  v = orc_json_object_new(n);
  if (v == NULL) return NULL;
  for (e = c->child; e; e = e->next, i++) {
    orc_json *key = key_of(cv, e->string);
    orc_json *val;
    cv->path[++cv->depth] = e;
    val = key ? from_cjson(cv, e) : NULL;
    cv->depth--;
    if (val == NULL) {
      orc_json_unref(key);
      v->n = i; /* free only what was set */
      orc_json_unref(v);
      return NULL;
    }
    v->u.members[i].key = key;
    v->u.members[i].value = val;
  }
  if (cv->unique_keys && cv->dup[0] == '\0' && n > 1) {
    const cJSON **keys = (const cJSON **)malloc(n * sizeof *keys);
    size_t k = 0;
    if (keys == NULL) {
      orc_json_unref(v);
      return NULL;
    }
    for (e = c->child; e; e = e->next)
      keys[k++] = e;
    qsort(keys, n, sizeof *keys, cjson_key_cmp);
    for (k = 1; k < n; k++)
      if (strcmp(keys[k - 1]->string, keys[k]->string) == 0) {
        pointer_of(cv, keys[k]->string, cv->dupptr, sizeof cv->dupptr);
        snprintf(cv->dup, sizeof cv->dup, "duplicate key \"%.60s\" at %s",
                 keys[k]->string, cv->dupptr);
        break;
      }
    free(keys);
  }
  n = dedupe_members(v);
  if (n == (size_t)-1) {
    orc_json_unref(v);
    return NULL;
  }
  v->n = n;
  return v;
}

/* Appends a printable rendering of text[from, to) to b: control bytes and
** quotes are escaped so the excerpt stays on one line. */
static void add_excerpt(orci_buf *b, const char *text, size_t from, size_t to) {
  size_t i;
  for (i = from; i < to; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n')
      orci_buf_adds(b, "\\n");
    else if (c == '\r')
      orci_buf_adds(b, "\\r");
    else if (c == '\t')
      orci_buf_adds(b, "\\t");
    else if (c < 0x20 || c == 0x7F) {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02X", c);
      orci_buf_adds(b, hex);
    } else
      orci_buf_addc(b, (char)c);
  }
}

/* "invalid JSON at byte 12 (line 1, column 13): why; near: <before>>>HERE<<"
** The excerpt shows up to 24 bytes on each side of the error. */
static int parse_error(orc_error *err, const char *text, size_t len, size_t at,
                       const char *why) {
  size_t line = 1, col = 1, i, from, to;
  orci_buf b = {NULL, 0, 0, 0};
  char head[160];
  if (at > len) at = len;
  for (i = 0; i < at; i++) {
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
      col++; /* columns count characters, not UTF-8 continuation bytes */
    }
  }
  from = at > 24 ? at - 24 : 0;
  to = len - at > 24 ? at + 24 : len;
  snprintf(head, sizeof head,
           "invalid JSON at byte %zu (line %zu, column %zu): %s; near: ", at,
           line, col, why);
  orci_buf_adds(&b, head);
  if (from > 0) orci_buf_adds(&b, "...");
  add_excerpt(&b, text, from, at);
  orci_buf_adds(&b, " >>> ");
  add_excerpt(&b, text, at, to);
  if (to < len) orci_buf_adds(&b, "...");
  orci_buf_addc(&b, '\0');
  orci_error(err, ORC_EJSON, NULL, "%s",
             b.failed ? "invalid JSON (out of memory describing it)" : b.p);
  orci_buf_free(&b);
  return ORC_EJSON;
}

int orc_json_parse(const char *text, size_t len, const orc_json_limits *limits,
                   orc_json **out, orc_error *err) {
  lexer lx;
  cJSON *tree;
  const char *end = NULL;
  size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes
                                                 : ORC_JSON_DEFAULT_MAX_BYTES;
  int max_depth = limits && limits->max_depth > 0 ? limits->max_depth
                                                  : ORC_JSON_DEFAULT_MAX_DEPTH;
  convert cv;
  *out = NULL;
  if (max_depth > ORC_JSON_MAX_DEPTH) max_depth = ORC_JSON_MAX_DEPTH;
  if (len > max_bytes)
    return orci_error(err, ORC_EJSON, NULL,
                      "JSON text of %zu bytes is over the limit of %zu bytes",
                      len, max_bytes);
  memset(&lx, 0, sizeof lx);
  lx.text = text;
  lx.len = len;
  lx.max_depth = max_depth;
  lx.err_at = SIZE_MAX;
  if (lex(&lx) < 0) {
    int rc = parse_error(err, text, len, lx.err_at, lx.errmsg);
    lex_free(&lx);
    return rc;
  }
  /* the lexer checked the whole grammar: cJSON sees a valid text (after
  ** the byte order mark, which it does not know) */
  {
    size_t bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    tree = cJSON_ParseWithLengthOpts(text + bom, len - bom, &end, 0);
  }
  if (tree == NULL) {
    lex_free(&lx);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory parsing JSON");
  }
  cv.nums = lx.nums;
  cv.nnums = lx.nnums;
  cv.nulstrs = lx.nulstrs;
  cv.nnulstrs = lx.nnulstrs;
  cv.nextnul = 0;
  cv.nstrings = 0;
  cv.next = 0;
  cv.unique_keys = limits && limits->unique_keys;
  cv.depth = 0;
  cv.path[0] = tree;
  cv.dup[0] = '\0';
  memset(cv.keys, 0, sizeof cv.keys);
  *out = from_cjson(&cv, tree);
  cJSON_Delete(tree);
  {
    size_t k;
    for (k = 0; k < 256; k++)
      orc_json_unref(cv.keys[k]);
  }
  lex_free(&lx);
  if (*out == NULL)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory parsing JSON");
  if (cv.dup[0]) {
    orc_json_unref(*out);
    *out = NULL;
    return orci_error(err, ORC_EJSON, cv.dupptr, "%s", cv.dup);
  }
  return ORC_OK;
}

/* }====== */

/* {====== printer */

void orci_buf_add(orci_buf *b, const void *s, size_t n) {
  if (b->failed) {
    if (b->failed == ORCI_BUF_COUNT) b->len += n;
    return;
  }
  if (n == 0) return;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 64;
    char *p;
    while (cap - b->len < n) {
      if (cap > SIZE_MAX / 2) {
        b->failed = 1;
        return;
      }
      cap *= 2;
    }
    p = (char *)realloc(b->p, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

void orci_buf_addc(orci_buf *b, char c) {
  if (b->len < b->cap && !b->failed)
    b->p[b->len++] = c;
  else
    orci_buf_add(b, &c, 1);
}

void orci_buf_adds(orci_buf *b, const char *s) {
  orci_buf_add(b, s, strlen(s));
}

/* The compact text's length, from the children's cached lengths: a value
** built from a large one by a few new nodes (ResultPath, Parameters) costs
** those nodes, not the whole text. */
size_t orci_json_text_size(const orc_json *v) {
  size_t n, i;
  char num[40];
  n = ORCI_JSON_TSIZE(v);
  if (n != 0 && n != ORCI_JSON_TSIZE_BIG) return n;
  switch (v->type) {
  case ORC_JSON_NULL:
    n = 4;
    break;
  case ORC_JSON_BOOL:
    n = v->u.b ? 4 : 5;
    break;
  case ORC_JSON_INT: { /* digits counted, not written */
    uint64_t u = v->u.i < 0 ? 0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
    n = 1 + (v->u.i < 0);
    while (u >= 10) {
      u /= 10;
      n++;
    }
    break;
  }
  case ORC_JSON_FLOAT:
    n = orc_json_format_double(v->u.d, num);
    break;
  case ORC_JSON_STRING: /* as orci_json_write_string escapes it */
    n = 2 + v->n;
    for (i = 0; i < v->n; i++) {
      unsigned char c = (unsigned char)v->u.s[i];
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      n += c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
                   c == '\r' || c == '\t'
               ? 1
               : 5;
    }
    break;
  case ORC_JSON_ARRAY:
    n = 2 + (v->n ? v->n - 1 : 0);
    for (i = 0; i < v->n; i++)
      n += orci_json_text_size(v->u.items[i]);
    break;
  default: /* object: {"k":v,...} */
    n = 2 + (v->n ? v->n - 1 : 0) + v->n;
    for (i = 0; i < v->n; i++)
      n += orci_json_text_size(v->u.members[i].key) +
           orci_json_text_size(v->u.members[i].value);
    break;
  }
  if (v->refs != ORCI_JSON_STATIC) { /* a cache in an immutable value */
    orc_json *w = (orc_json *)(uintptr_t)v;
    uint32_t c = n < ORCI_JSON_TSIZE_BIG ? (uint32_t)n : ORCI_JSON_TSIZE_BIG;
    w->tsize_hi = (uint8_t)(c >> 16);
    w->tsize_lo = (uint16_t)(c & 0xFFFFu);
  }
  return n;
}

void orci_buf_free(orci_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

size_t orc_json_format_double(double d, char *buf) {
  int prec;
  size_t n = 0;
  for (prec = 15; prec <= 17; prec++) {
    n = (size_t)snprintf(buf, 32, "%.*g", prec, d);
    if (strtod(buf, NULL) == d) break;
  }
  /* Keep floats recognisable as floats: 1.0, not 1. */
  if (strpbrk(buf, ".eEni") == NULL) {
    buf[n++] = '.';
    buf[n++] = '0';
    buf[n] = '\0';
  }
  return n;
}

static size_t format_int(int64_t i, char *buf) {
  char tmp[24];
  size_t n = 0, k = 0;
  uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (i < 0) buf[k++] = '-';
  while (n)
    buf[k++] = tmp[--n];
  buf[k] = '\0';
  return k;
}

void orci_json_write_string(orci_buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  orci_buf_addc(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[6];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    orci_buf_add(b, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"':
      esc = "\\\"";
      break;
    case '\\':
      esc = "\\\\";
      break;
    case '\b':
      esc = "\\b";
      break;
    case '\f':
      esc = "\\f";
      break;
    case '\n':
      esc = "\\n";
      break;
    case '\r':
      esc = "\\r";
      break;
    case '\t':
      esc = "\\t";
      break;
    default:
      u[0] = '\\';
      u[1] = 'u';
      u[2] = '0';
      u[3] = '0';
      u[4] = hex[c >> 4];
      u[5] = hex[c & 15];
      orci_buf_add(b, u, 6);
      continue;
    }
    orci_buf_adds(b, esc);
  }
  orci_buf_add(b, s + run, len - run);
  orci_buf_addc(b, '"');
}

static void newline(orci_buf *b, int depth) {
  orci_buf_addc(b, '\n');
  while (depth-- > 0)
    orci_buf_add(b, "  ", 2);
}

static void write_value(orci_buf *b, const orc_json *v, int flags, int depth) {
  char num[40];
  size_t i, n;
  int indent = flags & ORC_JSON_PRINT_INDENT;
  switch (v->type) {
  case ORC_JSON_NULL:
    orci_buf_add(b, "null", 4);
    break;
  case ORC_JSON_BOOL:
    if (v->u.b)
      orci_buf_add(b, "true", 4);
    else
      orci_buf_add(b, "false", 5);
    break;
  case ORC_JSON_INT:
    n = format_int(v->u.i, num);
    orci_buf_add(b, num, n);
    break;
  case ORC_JSON_FLOAT:
    n = orc_json_format_double(v->u.d, num);
    orci_buf_add(b, num, n);
    break;
  case ORC_JSON_STRING:
    orci_json_write_string(b, v->u.s, v->n);
    break;
  case ORC_JSON_ARRAY:
    orci_buf_addc(b, '[');
    for (i = 0; i < v->n; i++) {
      if (i) orci_buf_addc(b, ',');
      if (indent) newline(b, depth + 1);
      write_value(b, v->u.items[i], flags, depth + 1);
    }
    if (indent && v->n) newline(b, depth);
    orci_buf_addc(b, ']');
    break;
  case ORC_JSON_OBJECT:
    orci_buf_addc(b, '{');
    for (i = 0; i < v->n; i++) {
      const orc_json *k = v->u.members[i].key;
      if (i) orci_buf_addc(b, ',');
      if (indent) newline(b, depth + 1);
      orci_json_write_string(b, k->u.s, k->n);
      if (indent)
        orci_buf_add(b, ": ", 2);
      else
        orci_buf_addc(b, ':');
      write_value(b, v->u.members[i].value, flags, depth + 1);
    }
    if (indent && v->n) newline(b, depth);
    orci_buf_addc(b, '}');
    break;
  }
}

void orci_json_write(orci_buf *b, const orc_json *v, int flags) {
  write_value(b, v, flags, 0);
}

char *orc_json_print(const orc_json *v, int flags, size_t *len) {
  orci_buf b = {NULL, 0, 0, 0};
  write_value(&b, v, flags, 0);
  orci_buf_addc(&b, '\0');
  if (b.failed) {
    orci_buf_free(&b);
    return NULL;
  }
  if (len) *len = b.len - 1;
  return b.p;
}

/* }====== */
