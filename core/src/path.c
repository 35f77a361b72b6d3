/*
** JSONPath as AWS Step Functions evaluates it. Step Functions runs Jayway
** JsonPath 1.x (its recorded errors are 1.x's words, "[(@.length-1)]" works
** and "[-1]" does not), so this follows 1.x: every property is definite, a
** missing leaf or an index out of range is an error wherever it happens
** (only "[*]" over an array skips such elements), and filter comparisons
** use 1.x's loose ordering. Paths compile once into a flat token array and
** evaluate over immutable orc_json trees; ResultPath is a copy-on-write
** update.
*/
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path_int.h"

/* {====== compiled form */

enum {
  T_MEMBER,  /* .name or ['name'] */
  T_MEMBERS, /* ['a','b']: as the last token, one object of those found */
  T_INDEX,   /* [i] */
  T_LAST,    /* [(@.length-n)]: index n from the end */
  T_INDEXES, /* [i,j,...] */
  T_SLICE,   /* [a:b], [a:], [:b] */
  T_WILD,    /* .* or [*] */
  T_SCAN,    /* .. */
  T_FILTER   /* [?(...)] */
};

typedef struct pname {
  size_t off, len; /* bytes in orci_path.pool */
} pname;

typedef struct filter filter;

typedef struct ptok {
  uint8_t op;
  uint8_t strict; /* this token and all from the one before it to the end
                     are definite: then a missing member is an error even
                     before the last token (Jayway 1.x isUpstreamDefinite) */
  uint8_t has_from, has_to; /* T_SLICE bounds present */
  uint32_t n;               /* names or indexes of the token */
  size_t first;     /* first entry in orci_path.names (names) or orci_path.ints
                       (T_INDEXES) */
  int64_t from, to; /* T_INDEX: the index; T_LAST: minus n; T_SLICE */
  filter *f;        /* T_FILTER */
  size_t at;        /* offset in the text, for messages */
} ptok;

struct orci_path {
  char *text; /* NUL-terminated copy */
  size_t len;
  int root;      /* ORCI_ROOT_* */
  int current;   /* "@..." inside a filter: starts at the item under test */
  int definite;  /* selects at most one node */
  size_t varlen; /* ORCI_ROOT_VARIABLE: name at text + 1 */
  ptok *toks;
  size_t ntoks;
  pname *names;
  size_t nnames;
  int64_t *ints;
  size_t nints;
  char *pool; /* names */
  size_t npool;
};

/* Filter expressions: a tree of nodes in one array. */
enum { FN_OR, FN_AND, FN_NOT, FN_REL };
enum { FV_NONE, FV_PATH, FV_LIT, FV_REGEX };
enum {
  R_EXISTS,
  R_EQ,
  R_NE,
  R_LT,
  R_LE,
  R_GT,
  R_GE,
  R_REGEX,
  R_IN,
  R_NIN,
  R_SUBSETOF,
  R_ANYOF,
  R_NONEOF,
  R_CONTAINS,
  R_SIZE,
  R_EMPTY
};

typedef struct fval {
  uint8_t kind;    /* FV_* */
  uint8_t negate;  /* "!@.x": the existence test is inverted */
  orci_path *path; /* FV_PATH */
  orc_json *lit;   /* FV_LIT: the text of a literal as a string (Jayway 1.x
                      keeps 5, true, null and 'x' all as text), or a JSON
                      array or object for the list operators */
  regex_t *re;     /* FV_REGEX: anchored at both ends (Java matches()) */
} fval;

typedef struct fnode {
  uint8_t op;   /* FN_* */
  uint8_t rel;  /* FN_REL: R_* */
  int32_t l, r; /* FN_OR, FN_AND, FN_NOT (l only): child nodes */
  fval a, b;    /* FN_REL operands */
} fnode;

struct filter {
  fnode *nodes;
  size_t n, cap;
  int32_t top;
};

static void fval_free(fval *v) {
  orci_path_free(v->path);
  orc_json_unref(v->lit);
  if (v->re) {
    regfree(v->re);
    free(v->re);
  }
}

static void filter_free(filter *f) {
  size_t i;
  if (f == NULL) return;
  for (i = 0; i < f->n; i++) {
    fval_free(&f->nodes[i].a);
    fval_free(&f->nodes[i].b);
  }
  free(f->nodes);
  free(f);
}

void orci_path_free(orci_path *p) {
  size_t i;
  if (p == NULL) return;
  for (i = 0; i < p->ntoks; i++)
    filter_free(p->toks[i].f);
  free(p->toks);
  free(p->names);
  free(p->ints);
  free(p->pool);
  free(p->text);
  free(p);
}

const char *orci_path_text(const orci_path *p) {
  return p->text;
}

int orci_path_root(const orci_path *p) {
  return p->root;
}

const char *orci_path_variable(const orci_path *p, size_t *len) {
  if (len) *len = p->varlen;
  return p->root == ORCI_ROOT_VARIABLE ? p->text + 1 : NULL;
}

int orci_path_is_definite(const orci_path *p) {
  return p->definite;
}

int orci_path_is_root(const orci_path *p) {
  return p->ntoks == 0;
}

/* }====== */

/* {====== compiler */

typedef struct comp {
  const char *s; /* the whole text: sub-paths of filters index into it */
  size_t len;
  int kind;  /* ORCI_PATH_* */
  char *msg; /* where the first error goes */
  size_t msglen;
  int failed;
} comp;

/* One path being built (the main one or a filter's sub-path). */
typedef struct build {
  comp *c;
  orci_path *p;
  size_t captoks, capnames, capints, cappool;
} build;

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
fail(comp *c, size_t at, const char *fmt, ...) {
  char why[160];
  va_list ap;
  if (c->failed) return -1;
  c->failed = 1;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (c->msg && c->msglen)
    snprintf(c->msg, c->msglen, "invalid %s '%.*s': %s at offset %zu",
             c->kind == ORCI_PATH_REFERENCE ? "reference path" : "JSONPath",
             (int)(c->len > 200 ? 200 : c->len), c->s, why, at);
  return -1;
}

static int oom(comp *c, size_t at) {
  return fail(c, at, "out of memory");
}

/* Returns arr (n of *cap elements of size sz used) with room for one more,
** moved if it had to grow; NULL when out of memory (arr is then intact). */
static void *grow(void *arr, size_t *cap, size_t n, size_t sz) {
  void *q;
  size_t ncap;
  if (n < *cap) return arr;
  ncap = *cap ? *cap * 2 : 8;
  q = realloc(arr, ncap * sz);
  if (q != NULL) *cap = ncap;
  return q;
}

static ptok *add_tok(build *b, int op, size_t at) {
  orci_path *p = b->p;
  ptok *t = (ptok *)grow(p->toks, &b->captoks, p->ntoks, sizeof *t);
  if (t == NULL) {
    oom(b->c, at);
    return NULL;
  }
  p->toks = t;
  t = &p->toks[p->ntoks++];
  memset(t, 0, sizeof *t);
  t->op = (uint8_t)op;
  t->at = at;
  return t;
}

static int pool_add(build *b, const char *s, size_t n, size_t at) {
  orci_path *p = b->p;
  while (p->npool + n > b->cappool) {
    size_t ncap = b->cappool ? b->cappool * 2 : 64;
    char *q = (char *)realloc(p->pool, ncap);
    if (q == NULL) return oom(b->c, at);
    p->pool = q;
    b->cappool = ncap;
  }
  if (n) memcpy(p->pool + p->npool, s, n);
  p->npool += n;
  return 0;
}

/* Adds text[from, to) to the path's name table. Names are taken as written:
** Jayway 1.x has no escapes in brackets, and Step Functions reads
** $['Test\""Name"'] as the key Test\""Name". */
static int add_name(build *b, size_t from, size_t to) {
  orci_path *p = b->p;
  pname *nm = (pname *)grow(p->names, &b->capnames, p->nnames, sizeof *nm);
  size_t off = p->npool;
  if (nm == NULL) return oom(b->c, from);
  p->names = nm;
  if (pool_add(b, b->c->s + from, to - from, from) < 0) return -1;
  nm = &p->names[p->nnames++];
  nm->off = off;
  nm->len = to - from;
  return 0;
}

/* Offset of the next character after i that is not a space, or end. */
static size_t next_sig(const comp *c, size_t i, size_t end) {
  i++;
  while (i < end && c->s[i] == ' ')
    i++;
  return i;
}

/* Offset of the next q after i that is not escaped by a backslash, or end. */
static size_t next_unescaped(const comp *c, size_t i, size_t end, char q) {
  int esc = 0;
  for (i++; i < end; i++) {
    if (esc)
      esc = 0;
    else if (c->s[i] == '\\')
      esc = 1;
    else if (c->s[i] == q)
      return i;
  }
  return end;
}

/* Offset of the close character matching the open one at i, skipping quoted
** strings (and /regexes/ when skip_re), or end. */
static size_t match_close(const comp *c, size_t i, size_t end, char open,
                          char close, int skip_re) {
  int depth = 1;
  for (i++; i < end; i++) {
    char ch = c->s[i];
    if (ch == '\'' || ch == '"' || (skip_re && ch == '/')) {
      i = next_unescaped(c, i, end, ch);
      if (i >= end) return end;
      continue;
    }
    if (ch == open)
      depth++;
    else if (ch == close && --depth == 0)
      return i;
  }
  return end;
}

/* Parses a decimal int32 (Java's Integer.parseInt) in text[from, to). */
static int parse_int32(const comp *c, size_t from, size_t to, int64_t *out) {
  size_t i = from;
  int neg = 0;
  int64_t v = 0;
  if (i < to && c->s[i] == '-') {
    neg = 1;
    i++;
  }
  if (i >= to) return -1;
  for (; i < to; i++) {
    if (!is_digit(c->s[i])) return -1;
    v = v * 10 + (c->s[i] - '0');
    if (v > 2147483648LL) return -1;
  }
  if (neg) v = -v;
  if (v > 2147483647LL) return -1;
  *out = v;
  return 0;
}

static const char *reference_ban(const ptok *t) {
  switch (t->op) {
  case T_MEMBERS:
    return "a union of names (['a','b']) is";
  case T_INDEX:
    return t->from < 0 ? "a negative index is" : NULL;
  case T_LAST:
    return "an index from the end ([(@.length-1)]) is";
  case T_INDEXES:
    return "a union of indexes ([0,1]) is";
  case T_SLICE:
    return "a slice ([a:b]) is";
  case T_WILD:
    return "a wildcard (*) is";
  case T_SCAN:
    return "a deep scan (..) is";
  case T_FILTER:
    return "a filter ([?(...)]) is";
  default:
    return NULL;
  }
}

static orci_path *compile_at(comp *c, size_t from, size_t to, int in_filter);
static filter *compile_filter(comp *c, size_t lp, size_t rp);

/* [(@.length-n)] or [(@.size()-n)] (spaces allowed) at i, whose '(' is at
** k: Jayway 1.x's only script, an index counted from the end. */
static size_t parse_from_end(build *b, size_t i, size_t k, size_t end) {
  comp *c = b->c;
  const char *s = c->s;
  size_t j = next_sig(c, k, end), d;
  ptok *t;
  int64_t n;
  if (end - j > 9 && memcmp(s + j, "@.length", 8) == 0)
    j += 8;
  else if (end - j > 9 && memcmp(s + j, "@.size()", 8) == 0)
    j += 8;
  else
    return fail(c, k, "only [(@.length-n)] may be written in brackets"), 0;
  while (j < end && s[j] == ' ')
    j++;
  if (j >= end || s[j] != '-')
    return fail(c, j, "expected '-' in [(@.length-n)]"), 0;
  j = next_sig(c, j, end);
  for (d = j; d < end && is_digit(s[d]); d++)
    ;
  if (d == j || parse_int32(c, j, d, &n) < 0)
    return fail(c, j, "expected a number in [(@.length-n)]"), 0;
  j = d;
  while (j < end && s[j] == ' ')
    j++;
  if (j >= end || s[j] != ')')
    return fail(c, j, "expected ')' in [(@.length-n)]"), 0;
  j = next_sig(c, j, end);
  if (j >= end || s[j] != ']') return fail(c, i, "unclosed '['"), 0;
  t = add_tok(b, T_LAST, i);
  if (t == NULL) return 0;
  t->from = -n;
  return j + 1;
}

/* [...] at i: names, indexes, slice, wildcard or filter. Returns the offset
** after the closing bracket, or 0 on error. */
static size_t parse_bracket(build *b, size_t i, size_t end) {
  comp *c = b->c;
  const char *s = c->s;
  size_t k = next_sig(c, i, end), r, j;
  ptok *t;
  if (k >= end) return fail(c, i, "unclosed '['"), 0;
  if (s[k] == '\'' || s[k] == '"') {
    char q = s[k];
    size_t first = b->p->nnames;
    uint32_t n = 0;
    j = k;
    for (;;) {
      size_t m;
      for (m = j + 1; m < end && s[m] != q; m++)
        ;
      if (m >= end) return fail(c, j, "unclosed quote %c", q), 0;
      if (add_name(b, j + 1, m) < 0) return 0;
      n++;
      j = next_sig(c, m, end);
      if (j >= end) return fail(c, i, "unclosed '['"), 0;
      if (s[j] == ']') break;
      if (s[j] != ',')
        return fail(c, j, "expected ',' or ']' after a quoted name"), 0;
      j = next_sig(c, j, end);
      if (j >= end) return fail(c, i, "unclosed '['"), 0;
      if (s[j] == ',' || s[j] == ']')
        return fail(c, j, "empty name in brackets"), 0;
      if (s[j] != q) return fail(c, j, "expected a name quoted with %c", q), 0;
    }
    t = add_tok(b, n == 1 ? T_MEMBER : T_MEMBERS, i);
    if (t == NULL) return 0;
    t->first = first;
    t->n = n;
    return j + 1;
  }
  if (s[k] == '(') return parse_from_end(b, i, k, end);
  if (is_digit(s[k]) || s[k] == '-' || s[k] == ':') {
    size_t lo, hi, colon = 0, ncolon = 0;
    for (r = i + 1; r < end && s[r] != ']'; r++)
      ;
    if (r >= end) return fail(c, i, "unclosed '['"), 0;
    for (lo = i + 1; lo < r && s[lo] == ' '; lo++)
      ;
    for (hi = r; hi > lo && s[hi - 1] == ' '; hi--)
      ;
    for (j = lo; j < hi; j++) {
      char ch = s[j];
      if (!is_digit(ch) && ch != ',' && ch != '-' && ch != ':' && ch != ' ')
        return fail(c, j, "unexpected character '%c' in brackets", ch), 0;
      if (ch == ':' && ncolon++ == 0) colon = j;
    }
    if (ncolon) {
      /* [a:b:c] ignores c, as Jayway does */
      size_t e2;
      t = add_tok(b, T_SLICE, i);
      if (t == NULL) return 0;
      for (j = lo; j < hi; j++)
        if (s[j] == ',')
          return fail(c, j, "unexpected character ',' in a slice"), 0;
      for (e2 = colon + 1; e2 < hi && s[e2] != ':'; e2++)
        ;
      {
        size_t a = lo, z = colon;
        while (z > a && s[z - 1] == ' ')
          z--;
        if (z > a) {
          if (parse_int32(c, a, z, &t->from) < 0)
            return fail(c, a, "malformed slice start"), 0;
          t->has_from = 1;
        }
        a = colon + 1;
        z = e2;
        while (a < z && s[a] == ' ')
          a++;
        while (z > a && s[z - 1] == ' ')
          z--;
        if (z > a) {
          if (parse_int32(c, a, z, &t->to) < 0)
            return fail(c, a, "malformed slice end"), 0;
          t->has_to = 1;
        }
      }
      if (!t->has_from && !t->has_to)
        return fail(c, lo, "a slice needs a start or an end"), 0;
      return r + 1;
    }
    {
      size_t first = b->p->nints;
      uint32_t n = 0;
      j = lo;
      for (;;) {
        size_t a = j, z;
        int64_t v;
        while (j < hi && s[j] != ',')
          j++;
        for (z = j; z > a && s[z - 1] == ' '; z--)
          ;
        while (a < z && s[a] == ' ')
          a++;
        if (parse_int32(c, a, z, &v) < 0)
          return fail(c, a, "malformed array index"), 0;
        {
          int64_t *ints = (int64_t *)grow(b->p->ints, &b->capints, b->p->nints,
                                          sizeof *ints);
          if (ints == NULL) return oom(c, a), 0;
          b->p->ints = ints;
          ints[b->p->nints++] = v;
        }
        n++;
        if (j >= hi) break;
        j++;
      }
      t = add_tok(b, n == 1 ? T_INDEX : T_INDEXES, i);
      if (t == NULL) return 0;
      t->n = n;
      t->first = first;
      t->from = b->p->ints[first];
      if (n == 1) b->p->nints--; /* kept in from */
      return r + 1;
    }
  }
  if (s[k] == '*') {
    j = next_sig(c, k, end);
    if (j >= end || s[j] != ']') return fail(c, k, "expected ']' after '*'"), 0;
    return add_tok(b, T_WILD, i) ? j + 1 : 0;
  }
  if (s[k] == '?') {
    size_t lp = next_sig(c, k, end), rp;
    if (lp >= end || s[lp] != '(')
      return fail(c, k, "a filter must be written [?(...)]"), 0;
    rp = match_close(c, lp, end, '(', ')', 1);
    if (rp >= end) return fail(c, lp, "unclosed '(' in a filter"), 0;
    j = next_sig(c, rp, end);
    if (j >= end || s[j] != ']')
      return fail(c, rp + 1, "expected ']' after a filter"), 0;
    t = add_tok(b, T_FILTER, i);
    if (t == NULL) return 0;
    t->f = compile_filter(c, lp, rp);
    return t->f ? j + 1 : 0;
  }
  for (r = k; r < end && s[r] != ']'; r++)
    ;
  if (r >= end) return fail(c, i, "unclosed '['"), 0;
  return fail(c, k, "unexpected character '%c' after '['", s[k]), 0;
}

/* A dot-notation name at i: everything up to '.', '[' or the end, as in
** Jayway 1.x ("$.a.length()" names a member "length()": no functions). */
static size_t parse_name(build *b, size_t i, size_t end) {
  comp *c = b->c;
  const char *s = c->s;
  size_t j = i;
  ptok *t;
  for (; j < end; j++) {
    char ch = s[j];
    if (ch == ' ')
      return fail(c, j, "a name with spaces needs brackets (['a b'])"), 0;
    if (ch == '.' || ch == '[') break;
  }
  t = add_tok(b, T_MEMBER, i);
  if (t == NULL) return 0;
  t->first = b->p->nnames;
  t->n = 1;
  return add_name(b, i, j) < 0 ? 0 : j;
}

/* Classifies the tokens as Jayway 1.x does (members and single indexes are
** definite), then checks what a reference path may hold. */
static int finish(build *b, int in_filter) {
  orci_path *p = b->p;
  size_t i;
  int suffix = 1;        /* tokens i+1.. are all definite */
  if (p->pool == NULL) { /* names may all be "" and still need a base */
    p->pool = (char *)malloc(1);
    if (p->pool == NULL) return oom(b->c, 0);
  }
  for (i = p->ntoks; i-- > 0;) {
    ptok *t = &p->toks[i];
    int def = t->op == T_MEMBER || t->op == T_MEMBERS || t->op == T_INDEX ||
              t->op == T_LAST;
    /* for token i+1 Jayway asks whether token i and all after it are
    ** definite; for the first token, whether the whole path is */
    if (i + 1 < p->ntoks) p->toks[i + 1].strict = (uint8_t)(def && suffix);
    suffix = def && suffix;
  }
  if (p->ntoks) p->toks[0].strict = (uint8_t)suffix;
  p->definite = suffix;
  for (i = 0; i < p->ntoks && b->c->kind == ORCI_PATH_REFERENCE && !in_filter;
       i++) {
    const char *ban = reference_ban(&p->toks[i]);
    if (ban)
      return fail(b->c, p->toks[i].at, "%s not allowed in a reference path",
                  ban);
  }
  return 0;
}

/* Compiles text[from, to) of c into a path. In a filter the root is "@" or
** "$" (no context or variables). */
static orci_path *compile_at(comp *c, size_t from, size_t to, int in_filter) {
  const char *s = c->s;
  build b;
  orci_path *p;
  size_t i = from;
  p = (orci_path *)calloc(1, sizeof *p);
  if (p == NULL) return oom(c, from), NULL;
  memset(&b, 0, sizeof b);
  b.c = c;
  b.p = p;
  p->len = to - from;
  p->text = (char *)malloc(p->len + 1);
  if (p->text == NULL) {
    oom(c, from);
    goto error;
  }
  memcpy(p->text, s + from, p->len);
  p->text[p->len] = '\0';
  p->root = ORCI_ROOT_INPUT;
  if (i >= to || (s[i] != '$' && !(in_filter && s[i] == '@'))) {
    fail(c, i,
         in_filter ? "a path must start with '@' or '$'"
                   : "a path must start with '$'");
    goto error;
  }
  p->current = s[i] == '@';
  i++;
  if (!in_filter && i < to && s[i] == '$') {
    p->root = ORCI_ROOT_CONTEXT;
    i++;
  } else if (!in_filter && i < to && is_name_start(s[i])) {
    size_t j = i;
    while (j < to && (is_name_start(s[j]) || is_digit(s[j])))
      j++;
    p->root = ORCI_ROOT_VARIABLE;
    p->varlen = j - i;
    i = j;
  }
  if (i < to && s[i] != '.' && s[i] != '[') {
    fail(c, i, "unexpected character '%c' (expected '.' or '[')", s[i]);
    goto error;
  }
  while (i < to) {
    char ch = s[i];
    if (ch == '.') {
      if (i + 1 < to && s[i + 1] == '.') {
        if (!add_tok(&b, T_SCAN, i)) goto error;
        i += 2;
        if (i >= to) {
          fail(c, i - 2, "a path must not end with '..'");
          goto error;
        }
      } else if (++i >= to) {
        fail(c, i - 1, "a path must not end with '.'");
        goto error;
      }
      ch = s[i];
      if (ch == '.') {
        fail(c, i, "unexpected '.'");
        goto error;
      } else if (ch == '[') {
        continue;
      } else if (ch == '*') {
        if (!add_tok(&b, T_WILD, i)) goto error;
        i++;
      } else if (ch == ' ') {
        fail(c, i, "unexpected space");
        goto error;
      } else if ((i = parse_name(&b, i, to)) == 0) {
        goto error;
      }
    } else if (ch == '[') {
      if ((i = parse_bracket(&b, i, to)) == 0) goto error;
    } else {
      fail(c, i, "unexpected character '%c' (expected '.' or '[')", ch);
      goto error;
    }
  }
  if (finish(&b, in_filter) < 0) goto error;
  return p;
error:
  orci_path_free(p);
  return NULL;
}

orci_path *orci_path_compile(const char *text, size_t len, int kind, char *msg,
                             size_t msglen) {
  comp c;
  size_t end = len;
  c.s = text;
  c.len = len;
  c.kind = kind;
  c.msg = msg;
  c.msglen = msglen;
  c.failed = 0;
  if (msg && msglen) msg[0] = '\0';
  while (end > 0 && text[end - 1] == ' ') /* Jayway trims the path */
    end--;
  return compile_at(&c, 0, end, 0);
}

/* }====== */

/* {====== filter compiler */

typedef struct fparse {
  comp *c;
  filter *f;
  size_t i, end; /* position, and the end of the filter's "(...)" */
} fparse;

static size_t skip_blanks(fparse *fp) {
  while (fp->i < fp->end && fp->c->s[fp->i] == ' ')
    fp->i++;
  return fp->i;
}

static int32_t add_node(fparse *fp, int op, size_t at) {
  fnode *n = (fnode *)grow(fp->f->nodes, &fp->f->cap, fp->f->n, sizeof *n);
  if (n == NULL) return oom(fp->c, at);
  fp->f->nodes = n;
  n = &fp->f->nodes[fp->f->n];
  memset(n, 0, sizeof *n);
  n->op = (uint8_t)op;
  return (int32_t)fp->f->n++;
}

/* Java regex to POSIX ERE, anchored at both ends: Jayway uses matches(),
** which must match the whole input. Covers the escapes people write (\d \w
** \s and their negations, \/, control escapes); what ERE lacks (lookaround,
** lazy quantifiers) makes regcomp fail, which is reported. */
static int translate_regex(comp *c, size_t from, size_t to, orci_buf *out) {
  const char *s = c->s;
  size_t i;
  int inclass = 0;
  orci_buf_adds(out, "^(");
  for (i = from; i < to; i++) {
    char ch = s[i];
    if (ch == '\\' && i + 1 < to) {
      char e = s[++i];
      const char *rep = NULL;
      switch (e) {
      case 'd':
        rep = inclass ? "0-9" : "[0-9]";
        break;
      case 'w':
        rep = inclass ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
        break;
      case 's':
        rep = inclass ? " \t\n\r\f\v" : "[ \t\n\r\f\v]";
        break;
      case 'D':
      case 'W':
      case 'S':
        if (inclass)
          return fail(c, i - 1, "\\%c inside [...] is not supported", e);
        rep = e == 'D'   ? "[^0-9]"
              : e == 'W' ? "[^A-Za-z0-9_]"
                         : "[^ \t\n\r\f\v]";
        break;
      case 't':
        rep = "\t";
        break;
      case 'n':
        rep = "\n";
        break;
      case 'r':
        rep = "\r";
        break;
      case 'f':
        rep = "\f";
        break;
      case '/':
        rep = "/";
        break;
      default:
        break;
      }
      if (rep)
        orci_buf_adds(out, rep);
      else if (inclass) /* a backslash is literal inside POSIX brackets */
        orci_buf_addc(out, e);
      else {
        orci_buf_addc(out, '\\');
        orci_buf_addc(out, e);
      }
      continue;
    }
    if (!inclass && ch == '[') {
      inclass = 1;
      orci_buf_addc(out, ch);
      if (i + 1 < to && s[i + 1] == '^') orci_buf_addc(out, s[++i]);
      if (i + 1 < to && s[i + 1] == ']') orci_buf_addc(out, s[++i]);
      continue;
    }
    if (inclass && ch == ']') inclass = 0;
    orci_buf_addc(out, ch);
  }
  orci_buf_adds(out, ")$");
  orci_buf_addc(out, '\0');
  return out->failed ? oom(c, from) : 0;
}

/* A JSON literal of a filter ([...] or {...}) in text[from, to]: Jayway
** parses it permissively, so 'single-quoted' strings become JSON strings
** before the strict parser sees them. */
static orc_json *json_literal(comp *c, size_t from, size_t to) {
  const char *s = c->s;
  orci_buf b = {NULL, 0, 0, 0};
  orc_json *v = NULL;
  size_t i;
  for (i = from; i <= to; i++) {
    if (s[i] == '\'') {
      size_t m = next_unescaped(c, i, to + 1, '\'');
      orci_buf_addc(&b, '"');
      for (i++; i < m; i++) {
        if (s[i] == '\\' && i + 1 < m && s[i + 1] == '\'') {
          orci_buf_addc(&b, '\'');
          i++;
        } else if (s[i] == '\\' && i + 1 < m) {
          orci_buf_addc(&b, '\\');
          orci_buf_addc(&b, s[++i]);
        } else if (s[i] == '"') {
          orci_buf_adds(&b, "\\\"");
        } else {
          orci_buf_addc(&b, s[i]);
        }
      }
      orci_buf_addc(&b, '"');
    } else if (s[i] == '"') {
      size_t m = next_unescaped(c, i, to + 1, '"');
      orci_buf_add(&b, s + i, m - i + 1);
      i = m;
    } else {
      orci_buf_addc(&b, s[i]);
    }
  }
  if (b.failed)
    oom(c, from);
  else if (orc_json_parse(b.p, b.len, NULL, &v, NULL) != ORC_OK)
    fail(c, from, "malformed JSON literal in a filter");
  orci_buf_free(&b);
  return v;
}

/* A number literal, kept as its text (Jayway 1.x compares literals as
** text, read as a BigDecimal only against a number). */
static orc_json *number_literal(comp *c, size_t from, size_t to) {
  const char *s = c->s;
  size_t i = from, digits = 0, dots = 0;
  if (i < to && s[i] == '-') i++;
  for (; i < to; i++) {
    if (is_digit(s[i]))
      digits++;
    else if (s[i] == '.' && dots++ == 0)
      continue;
    else
      break;
  }
  if (i < to || digits == 0)
    return fail(c, from, "malformed number '%.*s' in a filter",
                (int)(to - from), s + from),
           NULL;
  return orc_json_string(s + from, to - from);
}

static int parse_or(fparse *fp);

/* A value of a comparison: a path, a literal or a /regex/. */
static int parse_value(fparse *fp, fval *v) {
  comp *c = fp->c;
  const char *s = c->s;
  size_t i = skip_blanks(fp), end = fp->end, m;
  char ch;
  if (i >= end) return fail(c, i, "a filter value is missing");
  ch = s[i];
  if (ch == '!') {
    fp->i++;
    i = skip_blanks(fp);
    if (i >= end || (s[i] != '@' && s[i] != '$'))
      return fail(c, i, "expected a path after '!'");
    v->negate = 1;
    ch = s[i];
  }
  if (ch == '@' || ch == '$') {
    /* a path in a filter runs up to a space, an operator character or a
    ** ')', brackets included whole */
    size_t j = i + 1;
    while (j < end) {
      char d = s[j];
      if (d == '[') {
        j = match_close(c, j, end, '[', ']', 0);
        if (j >= end) return fail(c, i, "unclosed '[' in a filter path");
        j++;
        continue;
      }
      if (d == ' ' || d == ')' || (d && strchr("<>=~!", d))) break;
      j++;
    }
    v->kind = FV_PATH;
    v->path = compile_at(c, i, j, 1);
    fp->i = j;
    if (v->path && !v->path->definite)
      return fail(c, i, "a path in a filter must be definite");
    return v->path ? 0 : -1;
  }
  v->kind = FV_LIT;
  if (ch == '\'' || ch == '"') {
    /* the text between the quotes, as written: no escapes in Jayway 1.x */
    m = next_unescaped(c, i, end, ch);
    if (m >= end) return fail(c, i, "unclosed string in a filter");
    v->lit = orc_json_string(s + i + 1, m - i - 1);
    fp->i = m + 1;
  } else if (ch == 't' || ch == 'f' || ch == 'n') {
    const char *word = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
    size_t n = strlen(word);
    if (end - i < n || memcmp(s + i, word, n) != 0)
      return fail(c, i, "unexpected '%c' in a filter", ch);
    v->lit = orc_json_string(word, n);
    fp->i = i + n;
  } else if (ch == '[' || ch == '{') {
    m = match_close(c, i, end, ch, ch == '[' ? ']' : '}', 0);
    if (m >= end) return fail(c, i, "unclosed '%c' in a filter", ch);
    v->lit = json_literal(c, i, m);
    if (v->lit == NULL) return -1;
    fp->i = m + 1;
  } else if (ch == '/') {
    orci_buf re = {NULL, 0, 0, 0};
    int icase, rc;
    m = next_unescaped(c, i, end, '/');
    if (m >= end) return fail(c, i, "unclosed regular expression");
    icase = m + 1 < end && s[m + 1] == 'i';
    if (translate_regex(c, i + 1, m, &re) < 0) {
      orci_buf_free(&re);
      return -1;
    }
    v->kind = FV_REGEX;
    v->re = (regex_t *)malloc(sizeof *v->re);
    if (v->re == NULL) {
      orci_buf_free(&re);
      return oom(c, i);
    }
    rc = regcomp(v->re, re.p,
                 REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
    orci_buf_free(&re);
    if (rc != 0) {
      free(v->re);
      v->re = NULL;
      return fail(c, i, "unsupported regular expression");
    }
    fp->i = m + 1 + (size_t)icase;
    return 0;
  } else {
    size_t j = i;
    while (j < end && (is_digit(s[j]) || s[j] == '-' || s[j] == '.'))
      j++;
    if (j == i) return fail(c, i, "unexpected '%c' in a filter", ch);
    v->lit = number_literal(c, i, j);
    if (v->lit == NULL) return -1;
    fp->i = j;
  }
  return v->lit ? 0 : oom(c, i);
}

static const struct {
  const char *name;
  uint8_t rel;
} relops[] = {{"==", R_EQ},
              {"!=", R_NE},
              {"<", R_LT},
              {"<=", R_LE},
              {">", R_GT},
              {">=", R_GE},
              {"=~", R_REGEX},
              {"in", R_IN},
              {"nin", R_NIN},
              {"subsetof", R_SUBSETOF},
              {"anyof", R_ANYOF},
              {"noneof", R_NONEOF},
              {"contains", R_CONTAINS},
              {"size", R_SIZE},
              {"empty", R_EMPTY}};

/* The operator at fp->i, as Jayway reads it: a run of "<>=~!" characters,
** or else a word up to the next space (case-insensitive). -1 when there is
** none (fp->i is then unchanged), -2 for an unknown run of symbols. */
static int parse_relop(fparse *fp) {
  const char *s = fp->c->s;
  size_t i = skip_blanks(fp), j = i, k, n;
  int symbols = j < fp->end && s[j] && strchr("<>=~!", s[j]);
  if (symbols) {
    while (j < fp->end && s[j] && strchr("<>=~!", s[j]))
      j++;
  } else {
    while (j < fp->end && s[j] != ' ')
      j++;
  }
  n = j - i;
  for (k = 0; k < sizeof relops / sizeof relops[0]; k++) {
    const char *name = relops[k].name;
    size_t x;
    if (strlen(name) != n) continue;
    for (x = 0; x < n; x++) {
      char ch = s[i + x];
      if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
      if (ch != name[x]) break;
    }
    if (x == n) {
      fp->i = j;
      return relops[k].rel;
    }
  }
  return symbols ? -2 : -1;
}

static int parse_relation(fparse *fp) {
  size_t at = skip_blanks(fp), save;
  int32_t k = add_node(fp, FN_REL, at);
  fval a, b;
  int rel;
  if (k < 0) return -1;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  if (parse_value(fp, &a) < 0) {
    fval_free(&a);
    return -1;
  }
  save = fp->i;
  rel = parse_relop(fp);
  if (rel == -2) {
    size_t j = fp->i;
    while (j < fp->end && fp->c->s[j] && strchr("<>=~!", fp->c->s[j]))
      j++;
    fval_free(&a);
    return fail(fp->c, fp->i, "unknown operator '%.*s' in a filter",
                (int)(j - fp->i), fp->c->s + fp->i);
  }
  if (rel < 0) {
    fp->i = save;
    if (a.kind != FV_PATH) {
      fval_free(&a);
      return fail(fp->c, save, "expected a comparison operator");
    }
    rel = R_EXISTS;
  } else {
    /* "!@.x == 1" compares @.x: Jayway drops the '!' before an operator */
    a.negate = 0;
    if (parse_value(fp, &b) < 0 ||
        (b.negate && fail(fp->c, save, "'!' only negates [?(!@.x)]") < 0)) {
      fval_free(&a);
      fval_free(&b);
      return -1;
    }
  }
  fp->f->nodes[k].rel = (uint8_t)rel;
  fp->f->nodes[k].a = a;
  fp->f->nodes[k].b = b;
  return k;
}

static int parse_operand(fparse *fp) {
  const char *s = fp->c->s;
  size_t i = skip_blanks(fp);
  if (i < fp->end && s[i] == '!') {
    size_t j = next_sig(fp->c, i, fp->end);
    if (j >= fp->end || (s[j] != '@' && s[j] != '$')) {
      int32_t k, x;
      fp->i = i + 1;
      x = parse_operand(fp);
      if (x < 0) return -1;
      k = add_node(fp, FN_NOT, i);
      if (k < 0) return -1;
      fp->f->nodes[k].l = x;
      return k;
    }
  }
  if (i < fp->end && s[i] == '(') {
    int x;
    fp->i = i + 1;
    x = parse_or(fp);
    if (x < 0) return -1;
    i = skip_blanks(fp);
    if (i >= fp->end || s[i] != ')') return fail(fp->c, i, "expected ')'");
    fp->i = i + 1;
    return x;
  }
  return parse_relation(fp);
}

/* One of && or || chains (Jayway: && binds tighter). */
static int parse_chain(fparse *fp, int op) {
  const char *s = fp->c->s;
  const char *tok = op == FN_OR ? "||" : "&&";
  int32_t l = op == FN_OR ? parse_chain(fp, FN_AND) : parse_operand(fp);
  while (l >= 0) {
    size_t i = skip_blanks(fp), save = i;
    int32_t r, k;
    if (!(i + 1 < fp->end && s[i] == tok[0] && s[i + 1] == tok[1])) {
      fp->i = save;
      break;
    }
    fp->i = i + 2;
    r = op == FN_OR ? parse_chain(fp, FN_AND) : parse_operand(fp);
    if (r < 0) return -1;
    k = add_node(fp, op, i);
    if (k < 0) return -1;
    fp->f->nodes[k].l = l;
    fp->f->nodes[k].r = r;
    l = k;
  }
  return l;
}

static int parse_or(fparse *fp) {
  return parse_chain(fp, FN_OR);
}

/* The filter expression text[lp..rp], both parentheses included. */
static filter *compile_filter(comp *c, size_t lp, size_t rp) {
  fparse fp;
  int32_t top;
  fp.c = c;
  fp.i = lp;
  fp.end = rp + 1;
  fp.f = (filter *)calloc(1, sizeof *fp.f);
  if (fp.f == NULL) return oom(c, lp), NULL;
  top = parse_or(&fp);
  if (top >= 0 && skip_blanks(&fp) < fp.end) {
    fail(c, fp.i, "unexpected '%c' in a filter", c->s[fp.i]);
    top = -1;
  }
  if (top < 0) {
    filter_free(fp.f);
    return NULL;
  }
  fp.f->top = top;
  return fp.f;
}

/* }====== */

/* {====== messages in Jayway's words */

/* Appends the fragments of tokens [from, upto) as Jayway 1.x prints a
** path ("['a', 'b'][0][@.size()-1][1:][*]..[?]"). */
static void put_tokens(orci_buf *b, const orci_path *p, size_t from,
                       size_t upto) {
  size_t i, k;
  char num[48];
  for (i = from; i < upto; i++) {
    const ptok *t = &p->toks[i];
    switch (t->op) {
    case T_MEMBER:
    case T_MEMBERS:
      orci_buf_addc(b, '[');
      for (k = 0; k < t->n; k++) {
        const pname *nm = &p->names[t->first + k];
        if (k) orci_buf_adds(b, ", ");
        orci_buf_addc(b, '\'');
        orci_buf_add(b, p->pool + nm->off, nm->len);
        orci_buf_addc(b, '\'');
      }
      orci_buf_addc(b, ']');
      break;
    case T_INDEX:
    case T_INDEXES:
      orci_buf_addc(b, '[');
      for (k = 0; k < (t->op == T_INDEX ? 1 : t->n); k++) {
        snprintf(
            num, sizeof num, "%s%lld", k ? "," : "",
            (long long)(t->op == T_INDEX ? t->from : p->ints[t->first + k]));
        orci_buf_adds(b, num);
      }
      orci_buf_addc(b, ']');
      break;
    case T_LAST:
      snprintf(num, sizeof num, "[@.size()%lld]", (long long)t->from);
      orci_buf_adds(b, num);
      break;
    case T_SLICE:
      if (t->has_from && t->has_to)
        snprintf(num, sizeof num, "[%lld:%lld]", (long long)t->from,
                 (long long)t->to);
      else if (t->has_from)
        snprintf(num, sizeof num, "[%lld:]", (long long)t->from);
      else
        snprintf(num, sizeof num, "[:%lld]", (long long)t->to);
      orci_buf_adds(b, num);
      break;
    case T_WILD:
      orci_buf_adds(b, "[*]");
      break;
    case T_SCAN:
      orci_buf_adds(b, "..");
      break;
    default:
      orci_buf_adds(b, "[?]");
      break;
    }
  }
}

/* Java's Double.toString: "8.95", "100.0", "1.0E21", "1.0E-5". */
static size_t java_double(double d, char *buf) {
  char e[40], digits[24];
  int prec, exp10, nd = 0, k;
  size_t n = 0;
  const char *p;
  double a = d < 0 ? -d : d;
  if (a == 0)
    return (size_t)snprintf(buf, 40, "%s", d < 0 || 1 / d < 0 ? "-0.0" : "0.0");
  for (prec = 0; prec <= 16; prec++) { /* the shortest digits that round-trip */
    snprintf(e, sizeof e, "%.*e", prec, d);
    if (strtod(e, NULL) == d) break;
  }
  for (p = e; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') digits[nd++] = *p;
  exp10 = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  if (d < 0) buf[n++] = '-';
  if (a >= 1e-3 && a < 1e7) {
    if (exp10 < 0) {
      buf[n++] = '0';
      buf[n++] = '.';
      for (k = -1; k > exp10; k--)
        buf[n++] = '0';
      for (k = 0; k < nd; k++)
        buf[n++] = digits[k];
    } else {
      for (k = 0; k <= exp10; k++)
        buf[n++] = k < nd ? digits[k] : '0';
      buf[n++] = '.';
      if (nd > exp10 + 1)
        for (k = exp10 + 1; k < nd; k++)
          buf[n++] = digits[k];
      else
        buf[n++] = '0';
    }
    buf[n] = '\0';
    return n;
  }
  buf[n++] = digits[0];
  buf[n++] = '.';
  if (nd > 1)
    for (k = 1; k < nd; k++)
      buf[n++] = digits[k];
  else
    buf[n++] = '0';
  n += (size_t)snprintf(buf + n, 16, "E%d", exp10);
  return n;
}

/* How the Java value behind v prints (its toString()), for messages and
** regex matching. */
static void put_java_value(orci_buf *b, const orc_json *v) {
  char num[48];
  switch (orc_json_type_of(v)) {
  case ORC_JSON_STRING:
    orci_buf_add(b, v->u.s, v->n);
    break;
  case ORC_JSON_INT:
    snprintf(num, sizeof num, "%lld", (long long)v->u.i);
    orci_buf_adds(b, num);
    break;
  case ORC_JSON_FLOAT:
    orci_buf_add(b, num, java_double(v->u.d, num));
    break;
  default:
    orci_json_write(b, v, 0);
    break;
  }
}

/* }====== */

/* {====== evaluation */

/* How an evaluation fails, after Jayway 1.x's exceptions. */
enum {
  E_NONE,
  E_NOTFOUND, /* PathNotFoundException: "[*]" over an array skips it, a
                 filter operand that raises it is a failed comparison */
  E_INVALID,  /* any other exception: the evaluation fails */
  E_NOMEM
};

/* Why, for the message. */
enum {
  W_NO_RESULTS, /* a missing last member */
  W_MISSING,    /* a missing member before the last token */
  W_PROPERTY,   /* a member of a non-object */
  W_MULTI,      /* ['a','b'] before the last token */
  W_NULL,       /* an index into null */
  W_BOUNDS,     /* an index out of range */
  W_NOT_ARRAY,  /* an index into a non-array */
  W_SCALAR,     /* a filter on a scalar */
  W_COMPARE     /* a filter comparison Java cannot make */
};

/* One step of the path walked so far: a member name, or an index when
** name is NULL. Kept only to explain a failure. */
typedef struct crumb {
  const char *name;
  size_t len;
  int64_t index;
} crumb;

typedef struct walk {
  const orci_path *p;
  orc_json *doc;  /* "$" inside filters */
  orc_json **res; /* matches so far, each an owned reference */
  size_t nres, cap;
  int err;   /* E_* */
  char *msg; /* explanation of the failure, or NULL not to explain */
  size_t msglen;
  crumb *trail; /* the evaluation path so far (with msg only) */
  size_t ntrail, captrail;
} walk;

static int run(const orci_path *p, orc_json *start, orc_json *doc,
               orc_json **out, char *msg, size_t msglen);

/* Records the failure of token i on node; the message names the evaluation
** path so far, plus a member name or an index for some. */
static void walk_fail(walk *w, int err, int why, size_t i, const orc_json *node,
                      const char *name, size_t len, int64_t index) {
  orci_buf b = {NULL, 0, 0, 0};
  size_t k;
  char num[32];
  w->err = err;
  if (w->msg == NULL || w->msglen == 0) return;
  switch (why) {
  case W_NO_RESULTS:
    orci_buf_adds(&b, "No results for path: ");
    break;
  case W_MISSING:
    orci_buf_adds(&b, "Missing property in path ");
    break;
  case W_PROPERTY:
    orci_buf_adds(&b, "Property ");
    put_tokens(&b, w->p, i, i + 1);
    orci_buf_adds(&b, " not found in path ");
    break;
  case W_MULTI:
    orci_buf_adds(&b, "Multi properties can only be used as path leafs: ");
    break;
  case W_NULL:
    orci_buf_adds(&b, "The path ");
    break;
  case W_BOUNDS:
    orci_buf_adds(&b, "Index out of bounds when evaluating path ");
    break;
  default:
    orci_buf_adds(&b, "Filter: ");
    put_tokens(&b, w->p, i, w->p->ntoks);
    orci_buf_adds(
        &b, why == W_NOT_ARRAY ? " can only be applied to arrays. Current "
                                 "context is: "
            : why == W_SCALAR  ? " can not be applied to primitives. Current "
                                 "context is: "
                               : " could not compare the values of ");
    put_java_value(&b, node);
    break;
  }
  if (why <= W_BOUNDS) { /* those that end in the evaluation path */
    orci_buf_addc(&b, '$');
    for (k = 0; k < w->ntrail; k++) {
      const crumb *cr = &w->trail[k];
      if (cr->name) {
        orci_buf_adds(&b, "['");
        orci_buf_add(&b, cr->name, cr->len);
        orci_buf_adds(&b, "']");
      } else {
        snprintf(num, sizeof num, "[%lld]", (long long)cr->index);
        orci_buf_adds(&b, num);
      }
    }
    if (why == W_NO_RESULTS || why == W_MISSING) {
      orci_buf_adds(&b, "['");
      orci_buf_add(&b, name, len);
      orci_buf_adds(&b, "']");
    } else if (why == W_MULTI) {
      put_tokens(&b, w->p, i, i + 1);
    } else if (why == W_BOUNDS) {
      snprintf(num, sizeof num, "[%lld]", (long long)index);
      orci_buf_adds(&b, num);
    } else if (why == W_NULL) {
      orci_buf_adds(&b, " is null");
    }
  }
  orci_buf_addc(&b, '\0');
  snprintf(w->msg, w->msglen, "%s", b.failed ? "out of memory" : b.p);
  orci_buf_free(&b);
}

/* Takes v. */
static void add_result(walk *w, orc_json *v) {
  orc_json **res;
  if (v == NULL) {
    w->err = E_NOMEM;
    return;
  }
  res = (orc_json **)grow(w->res, &w->cap, w->nres, sizeof *res);
  if (res == NULL) {
    orc_json_unref(v);
    w->err = E_NOMEM;
    return;
  }
  w->res = res;
  res[w->nres++] = v;
}

/* 1 when name k of token t repeats an earlier one (['a','a']). */
static int name_repeats(const orci_path *p, const ptok *t, uint32_t k) {
  const pname *nm = &p->names[t->first + k];
  uint32_t d;
  for (d = 0; d < k; d++) {
    const pname *o = &p->names[t->first + d];
    if (o->len == nm->len &&
        memcmp(p->pool + o->off, p->pool + nm->off, nm->len) == 0)
      return 1;
  }
  return 0;
}

/* ['a','b'] as the last token: a new object of the members that exist. */
static orc_json *merge(const orci_path *p, const ptok *t, const orc_json *o) {
  orc_json *m;
  uint32_t k, n = 0;
  for (k = 0; k < t->n; k++) {
    const pname *nm = &p->names[t->first + k];
    if (orc_json_object_find(o, p->pool + nm->off, nm->len) &&
        !name_repeats(p, t, k))
      n++;
  }
  m = orc_json_object_new(n);
  if (m == NULL) return NULL;
  n = 0;
  for (k = 0; k < t->n; k++) {
    const pname *nm = &p->names[t->first + k];
    const char *name = p->pool + nm->off;
    orc_json *v = orc_json_object_find(o, name, nm->len), *key;
    if (v == NULL || name_repeats(p, t, k)) continue;
    key = orc_json_string(name, nm->len);
    if (key == NULL) {
      orc_json_unref(m);
      return NULL;
    }
    orc_json_object_set(m, n++, key, orc_json_ref(v));
  }
  return m;
}

/* A definite path when nothing is to be explained: a loop over the tokens
** that allocates nothing (but the object of a trailing ['a','b']). */
static int run_definite(const orci_path *p, orc_json *cur, orc_json **out) {
  size_t i;
  for (i = 0; i < p->ntoks; i++) {
    const ptok *t = &p->toks[i];
    if (t->op == T_MEMBER) {
      const pname *nm = &p->names[t->first];
      if (cur->type != ORC_JSON_OBJECT) return E_NOTFOUND;
      cur = orc_json_object_find(cur, p->pool + nm->off, nm->len);
      if (cur == NULL) return E_NOTFOUND;
    } else if (t->op == T_MEMBERS) {
      if (cur->type != ORC_JSON_OBJECT) return E_NOTFOUND;
      if (i + 1 < p->ntoks) return E_INVALID;
      *out = merge(p, t, cur);
      return *out ? E_NONE : E_NOMEM;
    } else { /* T_INDEX, T_LAST */
      int64_t k = t->from;
      if (cur->type == ORC_JSON_NULL) return E_NOTFOUND;
      if (cur->type != ORC_JSON_ARRAY) return E_INVALID;
      if (t->op == T_LAST) k += (int64_t)cur->n;
      if (k < 0 || (uint64_t)k >= cur->n) return E_NOTFOUND;
      cur = cur->u.items[k];
    }
  }
  *out = orc_json_ref(cur);
  return E_NONE;
}

/* {------ filters */

enum { V_MISSING, V_NULL, V_BOOL, V_NUM, V_STR, V_OTHER, V_RE };

/* A filter operand once evaluated. */
typedef struct val {
  int k;       /* V_* */
  orc_json *j; /* the value (V_NULL to V_OTHER) */
  int own;     /* j is a reference to release */
  const regex_t *re;
} val;

static void val_set(val *v, orc_json *j, int own) {
  static const int kinds[] = {V_NULL, V_BOOL,  V_NUM,  V_NUM,
                              V_STR,  V_OTHER, V_OTHER};
  v->k = kinds[j->type];
  v->j = j;
  v->own = own;
  v->re = NULL;
}

static void val_release(val *v) {
  if (v->own) orc_json_unref(v->j);
  v->own = 0;
}

/* -1, 0 or 1 as a < b, numbers of either kind. */
static int num_cmp(const orc_json *a, const orc_json *b) {
  if (a->type == ORC_JSON_INT && b->type == ORC_JSON_INT)
    return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
  {
    long double x = a->type == ORC_JSON_INT ? (long double)a->u.i : a->u.d;
    long double y = b->type == ORC_JSON_INT ? (long double)b->u.i : b->u.d;
    return x < y ? -1 : x > y;
  }
}

/* A string read as Java's BigDecimal reads it ("1", "-2.5", ".5", "1e3");
** 0 when it is not a number. */
static int str_number(const orc_json *s, orc_json *out) {
  const char *p = s->u.s;
  size_t i = 0, n = s->n, digits = 0;
  int dot = 0;
  if (i < n && (p[i] == '+' || p[i] == '-')) i++;
  for (; i < n; i++) {
    if (p[i] >= '0' && p[i] <= '9')
      digits++;
    else if (p[i] == '.' && !dot)
      dot = 1;
    else
      break;
  }
  if (digits == 0) return 0;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    if (++i < n && (p[i] == '+' || p[i] == '-')) i++;
    if (i >= n || !(p[i] >= '0' && p[i] <= '9')) return 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
      i++;
  }
  if (i != n) return 0;
  memset(out, 0, sizeof *out);
  if (!dot && i == n && digits < 19 && strpbrk(p, "eE") == NULL) {
    out->type = ORC_JSON_INT;
    out->u.i = strtoll(p, NULL, 10);
  } else {
    out->type = ORC_JSON_FLOAT;
    out->u.d = strtod(p, NULL); /* strings are NUL-terminated */
  }
  return 1;
}

static int nullish(const val *v) {
  return v->k == V_NULL ||
         (v->k == V_STR && v->j->n == 4 && memcmp(v->j->u.s, "null", 4) == 0);
}

static int str_true(const orc_json *s) { /* Boolean.valueOf */
  const char *p = s->u.s;
  return s->n == 4 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'r' &&
         (p[2] | 0x20) == 'u' && (p[3] | 0x20) == 'e';
}

#define CMP_NONE  2 /* Jayway's ValueCompareException: the test is false */
#define CMP_ERROR 3 /* NumberFormatException: the evaluation fails */

/* Jayway 1.x's Criteria.safeCompare(x, y), as a filter calls it (x the
** right operand, y the left one): null and the text "null" sort first,
** text against a number is read as a number, text against a boolean as
** Boolean.valueOf; -1, 0, 1 or CMP_*. */
static int safe_compare(const val *x, const val *y) {
  int nx, ny;
  if (x->j != NULL && x->j == y->j) return 0;
  nx = nullish(x);
  ny = nullish(y);
  if (nx || ny) return nx && ny ? 0 : nx ? -1 : 1;
  if (x->k == V_STR && y->k == V_STR) {
    size_t n = x->j->n < y->j->n ? x->j->n : y->j->n;
    int c = memcmp(x->j->u.s, y->j->u.s, n);
    if (c) return c < 0 ? -1 : 1;
    return x->j->n < y->j->n ? -1 : x->j->n > y->j->n;
  }
  if (x->k == V_NUM && y->k == V_NUM) return num_cmp(x->j, y->j);
  if (x->k == V_STR && y->k == V_NUM) {
    orc_json num;
    if (!str_number(x->j, &num)) return CMP_ERROR;
    return num_cmp(&num, y->j);
  }
  if (x->k == V_STR && y->k == V_BOOL) {
    int a = str_true(x->j), b = y->j->u.b != 0;
    return a < b ? -1 : a > b;
  }
  if (x->k == V_BOOL && y->k == V_BOOL) {
    int a = x->j->u.b != 0, b = y->j->u.b != 0;
    return a < b ? -1 : a > b;
  }
  return CMP_NONE;
}

/* Element equality of the list operators (our additions). */
static int same(orc_json *x, const val *y) {
  val e;
  val_set(&e, x, 0);
  return safe_compare(&e, y) == 0;
}

static int list_has(const orc_json *list, const val *x) {
  size_t i;
  for (i = 0; i < list->n; i++)
    if (same(list->u.items[i], x)) return 1;
  return 0;
}

/* Length of a string in UTF-16 units, as Java counts it. */
static int64_t utf16_len(const orc_json *s) {
  size_t i;
  int64_t n = 0;
  for (i = 0; i < s->n; i++) {
    unsigned char ch = (unsigned char)s->u.s[i];
    if ((ch & 0xC0) != 0x80) n += ch >= 0xF0 ? 2 : 1;
  }
  return n;
}

/* Applies a relational operator to the left (a) and right (b) operands:
** 1, 0, or -1 when Java would throw. */
static int relate(int rel, const val *a, const val *b) {
  int c;
  size_t i;
  if (a->k == V_MISSING || b->k == V_MISSING) return 0; /* PathNotFound */
  switch (rel) {
  case R_EQ:
  case R_NE:
    c = safe_compare(b, a);
    if (c == CMP_ERROR) return -1;
    if (c == CMP_NONE) return 0;
    return rel == R_EQ ? c == 0 : c != 0;
  case R_LT:
  case R_LE:
  case R_GT:
  case R_GE:
    if ((a->k == V_NULL) != (b->k == V_NULL)) return 0;
    c = safe_compare(b, a);
    if (c == CMP_ERROR) return -1;
    if (c == CMP_NONE) return 0;
    return rel == R_LT   ? c > 0
           : rel == R_LE ? c >= 0
           : rel == R_GT ? c < 0
                         : c <= 0;
  case R_REGEX: {
    const val *pat = a->k == V_RE ? a : b, *in = a->k == V_RE ? b : a;
    orci_buf text = {NULL, 0, 0, 0};
    int r;
    if (pat->k != V_RE) return -1; /* Java: ClassCastException */
    if (in->k == V_NULL) return 0;
    if (in->k != V_RE) put_java_value(&text, in->j);
    orci_buf_addc(&text, '\0');
    if (text.failed) {
      orci_buf_free(&text);
      return -1;
    }
    r = regexec(pat->re, text.p, 0, NULL, 0) == 0;
    orci_buf_free(&text);
    return r;
  }
  case R_IN:
  case R_NIN:
    if (b->k != V_OTHER || b->j->type != ORC_JSON_ARRAY) return 0;
    c = list_has(b->j, a);
    return rel == R_IN ? c : !c;
  case R_SUBSETOF:
  case R_ANYOF:
  case R_NONEOF:
    if (a->k != V_OTHER || a->j->type != ORC_JSON_ARRAY || b->k != V_OTHER ||
        b->j->type != ORC_JSON_ARRAY)
      return 0;
    for (i = 0; i < a->j->n; i++) {
      val e;
      val_set(&e, a->j->u.items[i], 0);
      c = list_has(b->j, &e);
      if (rel == R_SUBSETOF && !c) return 0;
      if (rel == R_ANYOF && c) return 1;
      if (rel == R_NONEOF && c) return 0;
    }
    return rel != R_ANYOF;
  case R_CONTAINS:
    if (a->k == V_STR && b->k == V_STR) {
      if (b->j->n == 0) return 1;
      for (i = 0; i + b->j->n <= a->j->n; i++)
        if (memcmp(a->j->u.s + i, b->j->u.s, b->j->n) == 0) return 1;
      return 0;
    }
    if (a->k == V_OTHER && a->j->type == ORC_JSON_ARRAY)
      return list_has(a->j, b);
    return 0;
  case R_SIZE: {
    orc_json want;
    int64_t n;
    if (b->k != V_STR || !str_number(b->j, &want) || want.type != ORC_JSON_INT)
      return 0;
    if (a->k == V_STR)
      n = utf16_len(a->j);
    else if (a->k == V_OTHER && a->j->type == ORC_JSON_ARRAY)
      n = (int64_t)a->j->n;
    else
      return 0;
    return n == want.u.i;
  }
  case R_EMPTY: {
    int empty;
    if (b->k != V_STR) return 0;
    if (a->k == V_STR || (a->k == V_OTHER && a->j->type == ORC_JSON_ARRAY))
      empty = a->j->n == 0;
    else
      return 0;
    return empty == str_true(b->j);
  }
  default:
    return 0;
  }
}

/* Evaluates a filter operand against item; -1 (w->err set) when the
** evaluation must stop. */
static int operand(walk *w, const fval *fv, orc_json *item, val *out) {
  orc_json *r = NULL;
  int err;
  memset(out, 0, sizeof *out);
  if (fv->kind == FV_LIT) {
    val_set(out, fv->lit, 0);
    return 0;
  }
  if (fv->kind == FV_REGEX) {
    out->k = V_RE;
    out->re = fv->re;
    return 0;
  }
  if (fv->kind != FV_PATH) return 0;
  err = run(fv->path, fv->path->current ? item : w->doc, w->doc, &r, w->msg,
            w->msglen);
  if (err == E_NONE) {
    val_set(out, r, 1);
  } else if (err != E_NOTFOUND) {
    w->err = err;
    return -1;
  }
  return 0; /* not found: V_MISSING */
}

/* 1 or 0; -1 (w->err set) when the evaluation must stop. */
static int fnode_test(walk *w, size_t i, const filter *f, int32_t k,
                      orc_json *item) {
  const fnode *n = &f->nodes[k];
  int x;
  switch (n->op) {
  case FN_OR:
  case FN_AND:
    x = fnode_test(w, i, f, n->l, item);
    if (x < 0 || x == (n->op == FN_OR)) return x;
    return fnode_test(w, i, f, n->r, item);
  case FN_NOT:
    x = fnode_test(w, i, f, n->l, item);
    return x < 0 ? x : !x;
  default:
    if (n->rel == R_EXISTS) {
      /* Jayway 1.x: a member holding null does not exist */
      orc_json *r = NULL;
      int err = run(n->a.path, n->a.path->current ? item : w->doc, w->doc, &r,
                    w->msg, w->msglen);
      int exists = err == E_NONE && r->type != ORC_JSON_NULL;
      orc_json_unref(r);
      if (err != E_NONE && err != E_NOTFOUND) {
        w->err = err;
        return -1;
      }
      return exists != n->a.negate;
    } else {
      val a, b;
      if (operand(w, &n->a, item, &a) < 0) return -1;
      if (operand(w, &n->b, item, &b) < 0) {
        val_release(&a);
        return -1;
      }
      x = relate(n->rel, &a, &b);
      if (x < 0) walk_fail(w, E_INVALID, W_COMPARE, i, item, NULL, 0, 0);
      val_release(&a);
      val_release(&b);
      return x;
    }
  }
}

/* }------ */

static void step(walk *w, size_t i, orc_json *node);

/* step() one level down, recording where for messages. */
static void descend(walk *w, size_t i, orc_json *node, const char *name,
                    size_t len, int64_t index) {
  if (w->msg) {
    crumb *t = (crumb *)grow(w->trail, &w->captrail, w->ntrail, sizeof *t);
    if (t == NULL) {
      w->err = E_NOMEM;
      return;
    }
    w->trail = t;
    t[w->ntrail].name = name;
    t[w->ntrail].len = len;
    t[w->ntrail++].index = index;
  }
  step(w, i, node);
  if (w->msg) w->ntrail--;
}

/* Element k of array a for token i (Jayway's handleArrayIndex). */
static void step_index(walk *w, size_t i, orc_json *a, int64_t k) {
  if (k < 0 || (uint64_t)k >= a->n)
    walk_fail(w, E_NOTFOUND, W_BOUNDS, i, a, NULL, 0, k);
  else
    descend(w, i + 1, a->u.items[k], NULL, 0, k);
}

/* 1 when the deep scan applies token i to node (Jayway's scan
** predicates). */
static int scan_match(walk *w, size_t i, orc_json *node) {
  const orci_path *p = w->p;
  const ptok *t = &p->toks[i];
  uint32_t k;
  switch (t->op) {
  case T_MEMBER:
  case T_MEMBERS:
    if (node->type != ORC_JSON_OBJECT) return 0;
    for (k = 0; k < t->n; k++) {
      const pname *nm = &p->names[t->first + k];
      if (!orc_json_object_find(node, p->pool + nm->off, nm->len)) return 0;
    }
    return 1;
  case T_WILD:
    return 1;
  case T_FILTER:
    return fnode_test(w, i, t->f, t->f->top, node) > 0;
  default: /* indexes and slices */
    return node->type == ORC_JSON_ARRAY;
  }
}

/* Jayway's deep scan: in document order, each object or array that token i
** applies to gets it applied, then its children are scanned. On an array
** that matches, a token before the last is skipped and the rest applied to
** each element, as Jayway 1.x does ("$..[0].x" reads x of every element). */
static void scan(walk *w, size_t i, orc_json *node) {
  size_t k;
  int is_obj = node->type == ORC_JSON_OBJECT;
  if (!is_obj && node->type != ORC_JSON_ARRAY) return;
  if (scan_match(w, i, node)) {
    if (is_obj || i + 1 == w->p->ntoks)
      step(w, i, node);
    else
      for (k = 0; k < node->n && !w->err; k++)
        descend(w, i + 1, node->u.items[k], NULL, 0, (int64_t)k);
  }
  for (k = 0; k < node->n && !w->err; k++) {
    if (w->msg) { /* the trail for the level below */
      crumb *t = (crumb *)grow(w->trail, &w->captrail, w->ntrail, sizeof *t);
      if (t == NULL) {
        w->err = E_NOMEM;
        return;
      }
      w->trail = t;
      t[w->ntrail].name = is_obj ? node->u.members[k].key->u.s : NULL;
      t[w->ntrail].len = is_obj ? node->u.members[k].key->n : 0;
      t[w->ntrail++].index = (int64_t)k;
    }
    scan(w, i, is_obj ? node->u.members[k].value : node->u.items[k]);
    if (w->msg) w->ntrail--;
  }
}

/* Applies token i to node; past the last token node is a match. */
static void step(walk *w, size_t i, orc_json *node) {
  const orci_path *p = w->p;
  const ptok *t;
  size_t k;
  int leaf;
  if (w->err) return;
  if (i == p->ntoks) {
    add_result(w, orc_json_ref(node));
    return;
  }
  t = &p->toks[i];
  leaf = i + 1 == p->ntoks;
  switch (t->op) {
  case T_MEMBER: {
    const pname *nm = &p->names[t->first];
    const char *name = p->pool + nm->off;
    orc_json *v;
    if (node->type != ORC_JSON_OBJECT) {
      walk_fail(w, E_NOTFOUND, W_PROPERTY, i, node, NULL, 0, 0);
      return;
    }
    v = orc_json_object_find(node, name, nm->len);
    if (v != NULL)
      descend(w, i + 1, v, name, nm->len, 0);
    else if (leaf)
      walk_fail(w, E_NOTFOUND, W_NO_RESULTS, i, node, name, nm->len, 0);
    else if (t->strict)
      walk_fail(w, E_NOTFOUND, W_MISSING, i, node, name, nm->len, 0);
    return;
  }
  case T_MEMBERS:
    if (node->type != ORC_JSON_OBJECT)
      walk_fail(w, E_NOTFOUND, W_PROPERTY, i, node, NULL, 0, 0);
    else if (!leaf)
      walk_fail(w, E_INVALID, W_MULTI, i, node, NULL, 0, 0);
    else
      add_result(w, merge(p, t, node));
    return;
  case T_INDEX:
  case T_LAST:
  case T_INDEXES:
  case T_SLICE: {
    int64_t len, from, to, x;
    if (node->type == ORC_JSON_NULL) {
      walk_fail(w, E_NOTFOUND, W_NULL, i, node, NULL, 0, 0);
      return;
    }
    if (node->type != ORC_JSON_ARRAY) {
      walk_fail(w, E_INVALID, W_NOT_ARRAY, i, node, NULL, 0, 0);
      return;
    }
    len = (int64_t)node->n;
    if (t->op == T_INDEX || t->op == T_LAST) {
      step_index(w, i, node, t->op == T_LAST ? len + t->from : t->from);
      return;
    }
    if (t->op == T_INDEXES) {
      for (k = 0; k < t->n && !w->err; k++)
        step_index(w, i, node, p->ints[t->first + k]);
      return;
    }
    /* Jayway 1.x's slices: [a:] and [:b] count negatives from the end,
    ** [a:b] does not (a negative a is out of bounds) */
    if (t->has_from && !t->has_to) {
      from = t->from < 0 ? len + t->from : t->from;
      if (from < 0) from = 0;
      to = len;
    } else if (!t->has_from) {
      from = 0;
      to = t->to < 0 ? len + t->to : t->to;
      if (to > len) to = len;
    } else {
      from = t->from;
      to = t->to < len ? t->to : len;
    }
    for (x = from; x < to && !w->err; x++)
      step_index(w, i, node, x);
    return;
  }
  case T_WILD:
    if (node->type == ORC_JSON_OBJECT) {
      for (k = 0; k < node->n && !w->err; k++)
        descend(w, i + 1, node->u.members[k].value, node->u.members[k].key->u.s,
                node->u.members[k].key->n, 0);
    } else if (node->type == ORC_JSON_ARRAY) {
      for (k = 0; k < node->n && w->err != E_INVALID && w->err != E_NOMEM;
           k++) {
        w->err = E_NONE; /* Jayway skips elements that lack the rest */
        descend(w, i + 1, node->u.items[k], NULL, 0, (int64_t)k);
      }
      if (w->err == E_NOTFOUND) w->err = E_NONE;
    }
    return;
  case T_SCAN:
    scan(w, i + 1, node);
    return;
  default: /* T_FILTER */
    if (node->type == ORC_JSON_OBJECT) {
      int x = fnode_test(w, i, t->f, t->f->top, node);
      if (x > 0) step(w, i + 1, node);
    } else if (node->type == ORC_JSON_ARRAY) {
      /* Step Functions: "@ does not match scalar values, only objects" */
      for (k = 0; k < node->n && !w->err; k++) {
        orc_json *item = node->u.items[k];
        if (item->type >= ORC_JSON_ARRAY &&
            fnode_test(w, i, t->f, t->f->top, item) > 0)
          step_index(w, i, node, (int64_t)k);
      }
    } else {
      walk_fail(w, E_INVALID, W_SCALAR, i, node, NULL, 0, 0);
    }
    return;
  }
}

/* Evaluates p from start ("$" of filters is doc); an E_* code. A definite
** path gives its node, an indefinite one a new array. */
static int run(const orci_path *p, orc_json *start, orc_json *doc,
               orc_json **out, char *msg, size_t msglen) {
  walk w;
  orc_json *a = NULL;
  size_t i;
  *out = NULL;
  if (p->definite && msg == NULL) return run_definite(p, start, out);
  memset(&w, 0, sizeof w);
  w.p = p;
  w.doc = doc;
  w.msg = msg && msglen ? msg : NULL;
  w.msglen = msglen;
  step(&w, 0, start);
  if (!w.err && p->definite) {
    a = w.nres ? w.res[0] : NULL; /* exactly one */
    w.nres = 0;
  } else if (!w.err) {
    a = orc_json_array_new(w.nres);
    if (a == NULL) w.err = E_NOMEM;
  }
  for (i = 0; i < w.nres; i++) {
    if (a && !w.err)
      orc_json_array_set(a, i, w.res[i]);
    else
      orc_json_unref(w.res[i]);
  }
  free(w.res);
  free(w.trail);
  *out = a;
  return w.err;
}

/* The value the path starts from: *tmp owns it when it had to be made. */
static int path_start(const orci_path *p, const orci_env *env, orc_json **start,
                      orc_json **tmp, char *msg, size_t msglen) {
  *tmp = NULL;
  *start = NULL;
  if (p->root == ORCI_ROOT_INPUT) {
    *start = env->input;
  } else if (p->root == ORCI_ROOT_CONTEXT) {
    *start = env->context;
    if (*start == NULL && env->get_context) *start = env->get_context(env->ud);
    if (*start == NULL) {
      *start = *tmp = orc_json_object_new(0);
      if (*tmp == NULL) return ORC_ENOMEM;
    }
  } else {
    *start =
        env->variable ? env->variable(env->ud, p->text + 1, p->varlen) : NULL;
    if (*start == NULL && msg && msglen)
      snprintf(msg, msglen, "The variable '$%.*s' is not defined",
               (int)p->varlen, p->text + 1);
  }
  return *start ? ORC_OK : ORC_EINVAL;
}

int orci_path_eval(const orci_path *p, const orci_env *env, orc_json **out) {
  orc_json *start, *tmp;
  int rc = path_start(p, env, &start, &tmp, NULL, 0);
  *out = NULL;
  if (rc != ORC_OK) return rc;
  rc = run(p, start, start, out, NULL, 0);
  orc_json_unref(tmp);
  return rc == E_NONE ? ORC_OK : rc == E_NOMEM ? ORC_ENOMEM : ORC_EINVAL;
}

void orci_path_explain(const orci_path *p, const orci_env *env, char *msg,
                       size_t msglen) {
  orc_json *start, *tmp, *out = NULL;
  int err;
  if (msg == NULL || msglen == 0) return;
  msg[0] = '\0';
  if (path_start(p, env, &start, &tmp, msg, msglen) != ORC_OK) return;
  err = run(p, start, start, &out, msg, msglen);
  if (err == E_NONE)
    msg[0] = '\0';
  else if (err == E_NOMEM)
    snprintf(msg, msglen, "out of memory");
  orc_json_unref(out);
  orc_json_unref(tmp);
}

/* }====== */

/* {====== ResultPath */

/* The causes Step Functions gives (error States.ReferencePathConflict):
** "Unable to apply ReferencePath $.x to input \"text\"" when the input is
** no object, "Unable to apply step \"b\" to input {...}" when a step lands
** on a non-object; the input is printed whole, as compact JSON. */
static int set_fail(const orci_path *p, const orc_json *root, const ptok *t,
                    char *msg, size_t msglen) {
  char *json;
  size_t n = 0;
  if (msg == NULL || msglen == 0) return ORC_EINVAL;
  json = orc_json_print(root, 0, &n);
  if (t && t->op == T_MEMBER) {
    const pname *nm = &p->names[t->first];
    snprintf(msg, msglen, "Unable to apply step \"%.*s\" to input %s",
             (int)nm->len, p->pool + nm->off, json ? json : "(?)");
  } else {
    snprintf(msg, msglen, "Unable to apply ReferencePath %s to input %s",
             p->text, json ? json : "(?)");
  }
  orc_free(json);
  return ORC_EINVAL;
}

/* Builds node with tokens [i, ntoks) set to value; node is NULL where the
** path goes beyond what exists. *bad gets the failing token. */
static int set_rec(const orci_path *p, size_t i, orc_json *node,
                   orc_json *value, orc_json **out, size_t *bad) {
  const ptok *t;
  orc_json *child = NULL, *nc = NULL, *o;
  size_t k, n, at;
  int rc;
  *out = NULL;
  if (i == p->ntoks) {
    *out = orc_json_ref(value);
    return ORC_OK;
  }
  t = &p->toks[i];
  if (t->op == T_INDEX) {
    if (node == NULL || node->type != ORC_JSON_ARRAY ||
        (uint64_t)t->from >= node->n) {
      *bad = i;
      return ORC_EINVAL;
    }
    rc = set_rec(p, i + 1, node->u.items[t->from], value, &nc, bad);
    if (rc != ORC_OK) return rc;
    o = orc_json_array_new(node->n);
    if (o == NULL) {
      orc_json_unref(nc);
      return ORC_ENOMEM;
    }
    for (k = 0; k < node->n; k++)
      orc_json_array_set(
          o, k, k == (size_t)t->from ? nc : orc_json_ref(node->u.items[k]));
    *out = o;
    return ORC_OK;
  }
  if (node != NULL && node->type != ORC_JSON_OBJECT) {
    *bad = i;
    return ORC_EINVAL;
  }
  {
    const pname *nm = &p->names[t->first];
    const char *name = p->pool + nm->off;
    n = node ? node->n : 0;
    at = n;
    for (k = 0; k < n; k++) {
      const orc_json *key = node->u.members[k].key;
      if (key->n == nm->len && memcmp(key->u.s, name, nm->len) == 0) {
        at = k;
        child = node->u.members[k].value;
        break;
      }
    }
    rc = set_rec(p, i + 1, child, value, &nc, bad);
    if (rc != ORC_OK) return rc;
    o = orc_json_object_new(at == n ? n + 1 : n);
    if (o == NULL) {
      orc_json_unref(nc);
      return ORC_ENOMEM;
    }
    for (k = 0; k < n; k++)
      orc_json_object_set(o, k, orc_json_ref(node->u.members[k].key),
                          k == at ? nc
                                  : orc_json_ref(node->u.members[k].value));
    if (at == n) {
      orc_json *key = orc_json_string(name, nm->len);
      if (key == NULL) {
        orc_json_unref(nc);
        orc_json_unref(o);
        return ORC_ENOMEM;
      }
      orc_json_object_set(o, n, key, nc);
    }
  }
  *out = o;
  return ORC_OK;
}

int orci_path_set(const orci_path *p, orc_json *root, orc_json *value,
                  orc_json **out, char *msg, size_t msglen) {
  size_t i, bad = 0;
  int rc;
  *out = NULL;
  if (msg && msglen) msg[0] = '\0';
  for (i = 0; i < p->ntoks; i++) {
    const ptok *t = &p->toks[i];
    if (t->op != T_MEMBER && !(t->op == T_INDEX && t->from >= 0)) break;
  }
  if (p->root != ORCI_ROOT_INPUT || i < p->ntoks) {
    if (msg && msglen)
      snprintf(msg, msglen, "'%s' is not a reference path into the input",
               p->text);
    return ORC_EINVAL;
  }
  if (p->ntoks == 0) {
    *out = orc_json_ref(value);
    return ORC_OK;
  }
  if (root->type != ORC_JSON_OBJECT && p->toks[0].op == T_MEMBER)
    return set_fail(p, root, NULL, msg, msglen);
  rc = set_rec(p, 0, root, value, out, &bad);
  if (rc == ORC_EINVAL) return set_fail(p, root, &p->toks[bad], msg, msglen);
  if (rc == ORC_ENOMEM && msg && msglen) snprintf(msg, msglen, "out of memory");
  return rc;
}

/* }====== */
