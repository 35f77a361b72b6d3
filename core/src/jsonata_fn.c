/*
** JSONata's function library: signatures (parsing and argument
** validation), $string's JSON text and JavaScript number formatting, and
** the string, numeric, boolean, array, object and higher-order functions.
** Date/time pictures live in jsonata_time.c, the AWS extensions in
** jsonata_aws.c.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_int.h"

#define UNDEF  orci_jundef()
#define ARG(i) ((i) < nargs ? args[(i)] : orci_jundef())

/* {====== utf-8 */

size_t orci_u8len(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
  return c;
}

size_t orci_u8off(const char *s, size_t n, size_t i) {
  size_t c = 0, k = 0;
  for (k = 0; k < n; k++) {
    if (((unsigned char)s[k] & 0xC0) != 0x80) {
      if (c == i) return k;
      c++;
    }
  }
  return n;
}

/* }====== */

/* {====== numbers as JavaScript prints them */

size_t orci_jnumfmt(double d, char *buf) {
  if (d == 0) return (size_t)sprintf(buf, "0");
  if (isnan(d)) return (size_t)sprintf(buf, "NaN");
  if (isinf(d)) return (size_t)sprintf(buf, d > 0 ? "Infinity" : "-Infinity");
  char tmp[40];
  int p;
  for (p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
    if (strtod(tmp, NULL) == d) break;
  }
  /* tmp: [-]d.ddde[+-]xx */
  char digits[24];
  int nd = 0, neg = 0;
  const char *q = tmp;
  if (*q == '-') neg = 1, q++;
  for (; *q && *q != 'e'; q++)
    if (*q >= '0' && *q <= '9') digits[nd++] = *q;
  int exp = atoi(q + 1);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = '\0';
  char *o = buf;
  if (neg) *o++ = '-';
  if (exp >= 21 || exp <= -7) {
    *o++ = digits[0];
    if (nd > 1) {
      *o++ = '.';
      memcpy(o, digits + 1, (size_t)nd - 1);
      o += nd - 1;
    }
    o += sprintf(o, "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  } else if (exp < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -exp - 1; i++)
      *o++ = '0';
    memcpy(o, digits, (size_t)nd);
    o += nd;
  } else {
    for (int i = 0; i <= exp; i++)
      *o++ = i < nd ? digits[i] : '0';
    if (nd > exp + 1) {
      *o++ = '.';
      memcpy(o, digits + exp + 1, (size_t)(nd - exp - 1));
      o += nd - exp - 1;
    }
  }
  *o = '\0';
  return (size_t)(o - buf);
}

/* }====== */

/* {====== JSON text ($string, messages) */

typedef struct sbuf {
  jctx *C;
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 64;
    while (nc < b->n + n + 1)
      nc *= 2;
    char *np = (char *)orci_jalloc(b->C, nc);
    if (b->n) memcpy(np, b->p, b->n);
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_adds(sbuf *b, const char *s) {
  sb_add(b, s, strlen(s));
}

static void sb_quote(sbuf *b, const char *s, size_t n) {
  sb_add(b, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[8];
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
      if (c < 0x20) {
        snprintf(u, sizeof u, "\\u%04x", c);
        esc = u;
      }
    }
    if (esc) {
      sb_add(b, s + run, i - run);
      sb_adds(b, esc);
      run = i + 1;
    }
  }
  sb_add(b, s + run, n - run);
  sb_add(b, "\"", 1);
}

static void indent(sbuf *b, int pretty, int level) {
  if (!pretty) return;
  sb_add(b, "\n", 1);
  for (int i = 0; i < level; i++)
    sb_add(b, "  ", 2);
}

static void stringify(sbuf *b, jv v, int pretty, int level) {
  char num[40];
  switch (v.t) {
  case JV_UNDEF:
  case JV_NULL:
    sb_adds(b, "null");
    break;
  case JV_BOOL:
    sb_adds(b, v.u.b ? "true" : "false");
    break;
  case JV_NUM: {
    double d = v.u.n;
    if (d != floor(d)) {
      /* jsonata-js prints non-integers to 15 significant digits */
      char t[40];
      snprintf(t, sizeof t, "%.15g", d);
      d = strtod(t, NULL);
    }
    if (!isfinite(d))
      orci_jthrow(b->C, "D1001", 0, NULL, "Infinity");
    else
      sb_add(b, num, orci_jnumfmt(d, num));
    break;
  }
  case JV_STR:
    sb_quote(b, v.u.s.p, v.u.s.n);
    break;
  case JV_FN:
    sb_adds(b, "\"\"");
    break;
  case JV_ARR:
  case JV_JARR: {
    size_t n = orci_jlen(v);
    if (v.t == JV_ARR && v.u.a->outer && n == 1) {
      stringify(b, v.u.a->items[0], pretty, level);
      break;
    }
    sb_add(b, "[", 1);
    if (n == 0) {
      sb_add(b, "]", 1);
      break;
    }
    for (size_t i = 0; i < n; i++) {
      if (i) sb_add(b, ",", 1);
      indent(b, pretty, level + 1);
      jv it = orci_jat(v, i);
      stringify(b, it, pretty, level + 1);
    }
    indent(b, pretty, level);
    sb_add(b, "]", 1);
    break;
  }
  case JV_OBJ:
  case JV_JOBJ: {
    size_t n = orci_jlen(v), k = 0;
    sb_add(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
      jv val = orci_jval(v, i);
      if (val.t == JV_UNDEF) continue;
      if (k++) sb_add(b, ",", 1);
      indent(b, pretty, level + 1);
      jkey key = orci_jkey(v, i);
      sb_quote(b, key.p, key.n);
      sb_add(b, pretty ? ": " : ":", pretty ? 2 : 1);
      stringify(b, val, pretty, level + 1);
    }
    if (k) indent(b, pretty, level);
    sb_add(b, "}", 1);
    break;
  }
  }
}

jv orci_jstringify(jctx *C, jv v, int pretty) {
  sbuf b;
  memset(&b, 0, sizeof b);
  b.C = C;
  stringify(&b, v, pretty, 0);
  return orci_jstr(b.p ? b.p : "", b.n);
}

void orci_jdescribe(jv v, char *buf, size_t len) {
  /* a small text for messages, without an evaluation context: numbers
  ** and strings exactly, containers by kind */
  switch (v.t) {
  case JV_UNDEF:
    snprintf(buf, len, "undefined");
    break;
  case JV_NULL:
    snprintf(buf, len, "null");
    break;
  case JV_BOOL:
    snprintf(buf, len, "%s", v.u.b ? "true" : "false");
    break;
  case JV_NUM: {
    char t[40];
    orci_jnumfmt(v.u.n, t);
    snprintf(buf, len, "%s", t);
    break;
  }
  case JV_STR:
    snprintf(buf, len, "\"%.*s\"", (int)(v.u.s.n > 80 ? 80 : v.u.s.n), v.u.s.p);
    break;
  case JV_FN:
    snprintf(buf, len, "a function");
    break;
  case JV_ARR:
  case JV_JARR:
    snprintf(buf, len, "an array");
    break;
  default:
    snprintf(buf, len, "an object");
    break;
  }
}

jv orci_jfn_string(jctx *C, jv v) {
  if (v.t == JV_UNDEF) return v;
  if (v.t == JV_STR) return v;
  if (v.t == JV_FN) return orci_jstr("", 0);
  if (v.t == JV_NUM && !isfinite(v.u.n)) orci_jthrow(C, "D3001", 0, NULL, NULL);
  return orci_jstringify(C, v, 0);
}

/* }====== */

/* {====== signatures */

typedef struct jparam {
  char type;    /* s n b l o a f j x, or '(' for a choice */
  char set[12]; /* symbols it accepts (with 'm' for missing) */
  char quant;   /* 0, '?' or '+' */
  char context; /* '-': the context value stands in when missing */
  char ctxset[12];
  char subtype[16];
} jparam;

struct jsig {
  jparam p[12];
  int n;
};

jsig *orci_jsig_parse(jarena *A, const char *s, size_t n, int *bad,
                      const char **code) {
  jsig *g = (jsig *)orci_arena_alloc(A, sizeof *g);
  if (!g) {
    *code = "U1001";
    *bad = 0;
    return NULL;
  }
  memset(g, 0, sizeof *g);
  jparam *prev = NULL;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (c == ':') break;
    jparam *p = g->n < 12 ? &g->p[g->n] : NULL;
    switch (c) {
    case 's':
    case 'n':
    case 'b':
    case 'l':
    case 'o':
      if (!p) break;
      p->type = c;
      p->set[0] = c;
      p->set[1] = 'm';
      prev = p;
      g->n++;
      break;
    case 'a':
    case 'x':
      if (!p) break;
      p->type = c;
      strcpy(p->set, "asnblfom");
      prev = p;
      g->n++;
      break;
    case 'f':
      if (!p) break;
      p->type = c;
      strcpy(p->set, "f");
      prev = p;
      g->n++;
      break;
    case 'j':
      if (!p) break;
      p->type = c;
      strcpy(p->set, "asnblom");
      prev = p;
      g->n++;
      break;
    case '-':
      if (prev) {
        prev->context = 1;
        strcpy(prev->ctxset, prev->set);
        prev->quant = '?';
      }
      break;
    case '?':
    case '+':
      if (prev) prev->quant = c;
      break;
    case '(': {
      size_t e = i + 1;
      while (e < n && s[e] != ')')
        e++;
      if (memchr(s + i, '<', e - i)) {
        *bad = (int)i;
        *code = "S0402";
        return NULL;
      }
      if (!p) break;
      p->type = '(';
      size_t k = 0;
      for (size_t j = i + 1; j < e && k < 10; j++)
        p->set[k++] = s[j];
      p->set[k] = 'm';
      prev = p;
      g->n++;
      i = e;
      break;
    }
    case '<': {
      if (!prev || (prev->type != 'a' && prev->type != 'f')) {
        *bad = (int)i;
        *code = "S0401";
        return NULL;
      }
      size_t e = i + 1;
      int depth = 1;
      for (; e < n; e++) {
        if (s[e] == '<')
          depth++;
        else if (s[e] == '>' && --depth == 0)
          break;
      }
      size_t len = e - i - 1;
      if (len > sizeof prev->subtype - 1) len = sizeof prev->subtype - 1;
      memcpy(prev->subtype, s + i + 1, len);
      prev->subtype[len] = '\0';
      i = e;
      break;
    }
    default:
      break;
    }
  }
  return g;
}

static char symbol_of(jv v) {
  switch (v.t) {
  case JV_FN:
    return 'f';
  case JV_STR:
    return 's';
  case JV_NUM:
    return 'n';
  case JV_BOOL:
    return 'b';
  case JV_NULL:
    return 'l';
  case JV_ARR:
  case JV_JARR:
    return 'a';
  case JV_OBJ:
  case JV_JOBJ:
    return 'o';
  default:
    return 'm';
  }
}

/* Backtracking match of the symbols against the parameters, greedy like
** the regex jsonata-js builds. to: the parameters that must match (all
** for validation, fewer for locating the bad argument); anchored: the
** symbols must be used up. Fills len[] per parameter. */
static int sig_match(const jsig *g, int pi, int to, const char *sym, int si,
                     int nsym, int anchored, int *len) {
  if (pi == to) return anchored ? si == nsym : 1;
  const jparam *p = &g->p[pi];
  int max = 0;
  while (si + max < nsym && strchr(p->set, sym[si + max])) {
    max++;
    if (p->quant != '+') break;
  }
  int min = p->quant == '?' ? 0 : 1;
  for (int k = max; k >= min; k--) {
    len[pi] = k;
    if (sig_match(g, pi + 1, to, sym, si + k, nsym, anchored, len)) return 1;
  }
  return 0;
}

static int prefix_len(const jsig *g, int to, const char *sym, int nsym,
                      int *len) {
  if (!sig_match(g, 0, to, sym, 0, nsym, 0, len)) return -1;
  int t = 0;
  for (int i = 0; i < to; i++)
    t += len[i];
  return t;
}

int orci_jsig_validate(jctx *C, const jsig *g, jv *in, int nin, jv *out,
                       jv context, int position, const char *token) {
  char sym[64];
  int len[16];
  char vb[200];
  if (nin > 60) nin = 60;
  for (int i = 0; i < nin; i++)
    sym[i] = symbol_of(in[i]);
  sym[nin] = '\0';
  if (!sig_match(g, 0, g->n, sym, 0, nin, 1, len)) {
    int good = 0;
    for (int k = 1; k <= g->n; k++) {
      int l = prefix_len(g, k, sym, nin, len);
      if (l < 0) break;
      good = l;
    }
    char ix[16];
    snprintf(ix, sizeof ix, "%d", good + 1);
    orci_jdescribe(good < nin ? in[good] : UNDEF, vb, sizeof vb);
    orci_jerror_fill(C->err, "T0410", position, token, vb, good + 1);
    longjmp(C->jmp, 1);
  }
  int ai = 0, no = 0;
  for (int pi = 0; pi < g->n; pi++) {
    const jparam *p = &g->p[pi];
    if (len[pi] == 0) {
      if (p->context) {
        if (strchr(p->ctxset, symbol_of(context))) {
          out[no++] = context;
        } else {
          orci_jdescribe(context, vb, sizeof vb);
          orci_jerror_fill(C->err, "T0411", position, token, vb, ai + 1);
          longjmp(C->jmp, 1);
        }
      } else {
        out[no++] = ai < nin ? in[ai] : UNDEF;
        ai++;
      }
      continue;
    }
    for (int k = 0; k < len[pi]; k++) {
      jv arg = in[ai];
      char single = sym[ai];
      if (p->type == 'a') {
        if (single == 'm') {
          arg = UNDEF;
        } else {
          int ok = 1;
          if (p->subtype[0]) {
            if (single != 'a' && !(len[pi] == 1 && single == p->subtype[0] &&
                                   p->subtype[1] == '\0')) {
              ok = 0;
            } else if (single == 'a') {
              size_t n = orci_jlen(arg);
              if (n > 0) {
                char it = symbol_of(orci_jat(arg, 0));
                if (it != p->subtype[0]) ok = 0;
                for (size_t q = 1; ok && q < n; q++)
                  if (symbol_of(orci_jat(arg, q)) != it) ok = 0;
              }
            }
          }
          if (!ok) {
            static const char *const names[] = {
                "a", "arrays",  "b", "booleans", "f", "functions",
                "n", "numbers", "o", "objects",  "s", "strings"};
            const char *tn = p->subtype;
            for (size_t q = 0; q < 12; q += 2)
              if (p->subtype[0] == names[q][0]) tn = names[q + 1];
            orci_jerror_fill(C->err, "T0412", position, token, tn, ai + 1);
            longjmp(C->jmp, 1);
          }
          if (single != 'a') {
            jarr *w = orci_jarr_new(C, 1);
            orci_jarr_push(C, w, arg);
            arg = orci_jarr_val(w);
          }
        }
      }
      out[no++] = arg;
      ai++;
    }
  }
  for (int i = no; i < no + 4; i++)
    out[i] = UNDEF;
  return no;
}

/* }====== */

/* {====== helpers */

static jv num(jctx *C, double d) {
  return orci_jnum(C, d);
}

static jv str_of(jctx *C, const char *p, size_t n) {
  (void)C;
  return orci_jstr(p, n);
}

static jv seq_new(jctx *C) {
  return orci_jseq(C);
}

static void seq_push(jctx *C, jv s, jv v) {
  orci_jarr_push(C, s.u.a, v);
}

static jv call(jctx *C, jv fn, jv *a, int n) {
  return orci_japply(C, fn, a, n, UNDEF, 0);
}

/* call fn with (v, i, arr) cut to its arity (hofFuncArgs) */
static jv call_hof(jctx *C, jv fn, jv v, jv i, jv arr) {
  jv a[3] = {v, i, arr};
  int ar = orci_jarity(fn);
  int n = ar >= 3 ? 3 : ar >= 2 ? 2 : 1;
  return call(C, fn, a, n);
}

/* }====== */

/* {====== aggregation */

static jv f_sum(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return UNDEF;
  double t = 0;
  for (size_t i = 0; i < orci_jlen(a); i++)
    t += orci_jat(a, i).u.n;
  return num(C, t);
}

static jv f_count(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return num(C, 0);
  return num(C, (double)orci_jlen(a));
}

static jv minmax(jctx *C, jv *args, int nargs, int max) {
  jv a = ARG(0);
  if (a.t == JV_UNDEF || orci_jlen(a) == 0) return UNDEF;
  double r = orci_jat(a, 0).u.n;
  for (size_t i = 1; i < orci_jlen(a); i++) {
    double d = orci_jat(a, i).u.n;
    if (max ? d > r : d < r) r = d;
  }
  return num(C, r);
}

static jv f_max(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return minmax(C, args, nargs, 1);
}

static jv f_min(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return minmax(C, args, nargs, 0);
}

static jv f_average(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF || orci_jlen(a) == 0) return UNDEF;
  double t = 0;
  for (size_t i = 0; i < orci_jlen(a); i++)
    t += orci_jat(a, i).u.n;
  return num(C, t / (double)orci_jlen(a));
}

/* }====== */

/* {====== strings */

static jv f_string(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), pretty = ARG(1);
  if (a.t == JV_UNDEF) return UNDEF;
  if (a.t == JV_STR) return a;
  if (a.t == JV_FN) return orci_jstr("", 0);
  if (a.t == JV_NUM && !isfinite(a.u.n)) orci_jthrow(C, "D3001", 0, NULL, NULL);
  return orci_jstringify(C, a, pretty.t == JV_BOOL && pretty.u.b);
}

static jv substr_cp(jctx *C, jv s, double start, double len, int has_len) {
  size_t n = orci_u8len(s.u.s.p, s.u.s.n);
  double st = start;
  if (st < 0) st = (double)n + st;
  if (st < 0) st = 0;
  if (st > (double)n) return str_of(C, "", 0);
  double end = (double)n;
  if (has_len) {
    if (len <= 0) return str_of(C, "", 0);
    end = st + len;
    if (end > (double)n) end = (double)n;
  }
  size_t bs = orci_u8off(s.u.s.p, s.u.s.n, (size_t)st);
  size_t be = orci_u8off(s.u.s.p, s.u.s.n, (size_t)end);
  return str_of(C, s.u.s.p + bs, be - bs);
}

static jv f_substring(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), st = ARG(1), ln = ARG(2);
  if (s.t == JV_UNDEF) return UNDEF;
  double start = trunc(st.u.n);
  int has = ln.t == JV_NUM;
  double len = has ? trunc(ln.u.n) : 0;
  /* jsonata-js: a negative start beyond the length counts from 0, and a
  ** length is measured from the adjusted start */
  return substr_cp(C, s, start, len, has);
}

static const char *memmem_(const char *h, size_t hn, const char *nd,
                           size_t nn) {
  if (nn == 0) return h;
  for (size_t i = 0; i + nn <= hn; i++)
    if (!memcmp(h + i, nd, nn)) return h + i;
  return NULL;
}

static jv f_substring_before(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), c = ARG(1);
  if (s.t == JV_UNDEF) return UNDEF;
  if (c.t == JV_UNDEF) return s;
  const char *p = memmem_(s.u.s.p, s.u.s.n, c.u.s.p, c.u.s.n);
  if (!p) return s;
  return str_of(C, s.u.s.p, (size_t)(p - s.u.s.p));
}

static jv f_substring_after(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), c = ARG(1);
  if (s.t == JV_UNDEF) return UNDEF;
  if (c.t == JV_UNDEF) return s;
  const char *p = memmem_(s.u.s.p, s.u.s.n, c.u.s.p, c.u.s.n);
  if (!p) return s;
  size_t off = (size_t)(p - s.u.s.p) + c.u.s.n;
  return str_of(C, s.u.s.p + off, s.u.s.n - off);
}

static jv change_case(jctx *C, jv s, int upper) {
  if (s.t == JV_UNDEF) return UNDEF;
  char *d = (char *)orci_jalloc(C, s.u.s.n * 2 + 1);
  size_t o = 0;
  for (size_t i = 0; i < s.u.s.n; i++) {
    unsigned char c = (unsigned char)s.u.s.p[i];
    /* ASCII, Latin-1 supplement and Greek/Cyrillic basic pairs */
    if (c < 0x80) {
      d[o++] = (char)(upper ? (c >= 'a' && c <= 'z' ? c - 32 : c)
                            : (c >= 'A' && c <= 'Z' ? c + 32 : c));
    } else if (c == 0xC3 && i + 1 < s.u.s.n) {
      unsigned char c2 = (unsigned char)s.u.s.p[i + 1];
      if (upper && c2 >= 0xA0 && c2 <= 0xBE && c2 != 0xB7)
        c2 -= 0x20;
      else if (!upper && c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97)
        c2 += 0x20;
      d[o++] = (char)c;
      d[o++] = (char)c2;
      i++;
    } else {
      d[o++] = (char)c;
    }
  }
  return str_of(C, d, o);
}

static jv f_lowercase(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return change_case(C, ARG(0), 0);
}

static jv f_uppercase(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return change_case(C, ARG(0), 1);
}

static jv f_length(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t == JV_UNDEF) return UNDEF;
  return num(C, (double)orci_u8len(s.u.s.p, s.u.s.n));
}

static jv f_trim(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t == JV_UNDEF) return UNDEF;
  char *d = (char *)orci_jalloc(C, s.u.s.n + 1);
  size_t o = 0;
  int space = 0;
  for (size_t i = 0; i < s.u.s.n; i++) {
    char c = s.u.s.p[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      space = 1;
    } else {
      if (space && o > 0) d[o++] = ' ';
      space = 0;
      d[o++] = c;
    }
  }
  return str_of(C, d, o);
}

static jv f_pad(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), w = ARG(1), ch = ARG(2);
  if (s.t == JV_UNDEF) return UNDEF;
  const char *pc = " ";
  size_t pn = 1;
  if (ch.t == JV_STR && ch.u.s.n > 0) pc = ch.u.s.p, pn = ch.u.s.n;
  double width = trunc(w.u.n);
  long padlen = (long)fabs(width) - (long)orci_u8len(s.u.s.p, s.u.s.n);
  if (padlen <= 0) return s;
  size_t pcl = orci_u8len(pc, pn);
  sbuf b;
  memset(&b, 0, sizeof b);
  b.C = C;
  if (width < 0) {
    for (long k = 0; k < padlen; k++) {
      size_t ci = (size_t)k % pcl;
      size_t o1 = orci_u8off(pc, pn, ci), o2 = orci_u8off(pc, pn, ci + 1);
      sb_add(&b, pc + o1, o2 - o1);
    }
    sb_add(&b, s.u.s.p, s.u.s.n);
  } else {
    sb_add(&b, s.u.s.p, s.u.s.n);
    for (long k = 0; k < padlen; k++) {
      size_t ci = (size_t)k % pcl;
      size_t o1 = orci_u8off(pc, pn, ci), o2 = orci_u8off(pc, pn, ci + 1);
      sb_add(&b, pc + o1, o2 - o1);
    }
  }
  return str_of(C, b.p, b.n);
}

static jv match_object(jctx *C, jv s, const jmatch *m, int with_index) {
  jobj *o = orci_jobj_new(C, 3);
  orci_jobj_set(C, o, "match", 5,
                str_of(C, s.u.s.p + m->start, m->end - m->start));
  if (with_index)
    orci_jobj_set(C, o, "index", 5,
                  num(C, (double)orci_u8len(s.u.s.p, m->start)));
  jarr *g = orci_jarr_new(C, (size_t)m->ngroups);
  for (int i = 0; i < m->ngroups; i++)
    orci_jarr_push(
        C, g,
        m->gstart[i] == (size_t)-1
            ? str_of(C, "", 0)
            : str_of(C, s.u.s.p + m->gstart[i], m->gend[i] - m->gstart[i]));
  orci_jobj_set(C, o, "groups", 6, orci_jarr_val(g));
  return orci_jobj_val(o);
}

static jv f_match(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), re = ARG(1), lim = ARG(2);
  char vb[64];
  if (s.t == JV_UNDEF) return UNDEF;
  if (lim.t == JV_NUM && lim.u.n < 0) {
    orci_jdescribe(lim, vb, sizeof vb);
    orci_jthrow(C, "D3040", 0, NULL, vb);
  }
  jv r = seq_new(C);
  if (lim.t == JV_NUM && lim.u.n == 0) return r;
  jmiter it;
  jmatch m;
  orci_jmiter_init(&it, re, s.u.s.p, s.u.s.n, 0);
  double count = 0;
  while ((lim.t != JV_NUM || count < lim.u.n) && orci_jmiter_next(C, &it, &m)) {
    seq_push(C, r, match_object(C, s, &m, 1));
    count++;
  }
  return r;
}

static jv f_contains(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), t = ARG(1);
  if (s.t == JV_UNDEF || t.t == JV_UNDEF) return UNDEF;
  if (t.t == JV_STR)
    return orci_jbool(memmem_(s.u.s.p, s.u.s.n, t.u.s.p, t.u.s.n) != NULL);
  jmiter it;
  jmatch m;
  orci_jmiter_init(&it, t, s.u.s.p, s.u.s.n, 0);
  return orci_jbool(orci_jmiter_next(C, &it, &m));
}

static void replace_dollars(sbuf *b, jv rep, jv s, const jmatch *m) {
  const char *r = rep.u.s.p;
  size_t n = rep.u.s.n, pos = 0;
  while (pos < n) {
    const char *d = memchr(r + pos, '$', n - pos);
    if (!d) break;
    size_t idx = (size_t)(d - r);
    sb_add(b, r + pos, idx - pos);
    pos = idx + 1;
    char c = pos < n ? r[pos] : '\0';
    if (c == '$') {
      sb_add(b, "$", 1);
      pos++;
    } else if (c == '0') {
      sb_add(b, s.u.s.p + m->start, m->end - m->start);
      pos++;
    } else {
      int ng = m->ngroups;
      int maxd = ng == 0 ? 1 : (int)floor(log10((double)ng)) + 1;
      int val = 0, nd = 0;
      while (nd < maxd && pos + (size_t)nd < n && r[pos + nd] >= '0' &&
             r[pos + nd] <= '9') {
        val = val * 10 + (r[pos + nd] - '0');
        nd++;
      }
      if (maxd > 1 && nd == maxd && val > ng) {
        val /= 10;
        nd--;
      }
      if (nd > 0) {
        if (ng > 0 && val >= 1 && val <= ng && m->gstart[val - 1] != (size_t)-1)
          sb_add(b, s.u.s.p + m->gstart[val - 1],
                 m->gend[val - 1] - m->gstart[val - 1]);
        /* jsonata-js advances by the digits of the parsed number */
        char t[16];
        pos += (size_t)snprintf(t, sizeof t, "%d", val);
      } else {
        sb_add(b, "$", 1);
      }
    }
  }
  sb_add(b, r + pos, n - pos);
}

static jv f_replace(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), pat = ARG(1), rep = ARG(2), lim = ARG(3);
  char vb[64];
  if (s.t == JV_UNDEF) return UNDEF;
  if (pat.t == JV_STR && pat.u.s.n == 0)
    orci_jthrow(C, "D3010", 0, NULL, "\"\"");
  if (lim.t == JV_NUM && lim.u.n < 0) {
    orci_jdescribe(lim, vb, sizeof vb);
    orci_jthrow(C, "D3011", 0, NULL, vb);
  }
  if (lim.t == JV_NUM && lim.u.n == 0) return s;
  sbuf b;
  memset(&b, 0, sizeof b);
  b.C = C;
  size_t pos = 0;
  double count = 0;
  if (pat.t == JV_STR) {
    const char *p;
    while ((lim.t != JV_NUM || count < lim.u.n) &&
           (p = memmem_(s.u.s.p + pos, s.u.s.n - pos, pat.u.s.p, pat.u.s.n)) !=
               NULL) {
      size_t idx = (size_t)(p - s.u.s.p);
      sb_add(&b, s.u.s.p + pos, idx - pos);
      if (rep.t == JV_STR) sb_add(&b, rep.u.s.p, rep.u.s.n);
      pos = idx + pat.u.s.n;
      count++;
    }
    sb_add(&b, s.u.s.p + pos, s.u.s.n - pos);
    return str_of(C, b.p ? b.p : "", b.n);
  }
  jmiter it;
  jmatch m;
  orci_jmiter_init(&it, pat, s.u.s.p, s.u.s.n, 0);
  while ((lim.t != JV_NUM || count < lim.u.n) && orci_jmiter_next(C, &it, &m)) {
    sb_add(&b, s.u.s.p + pos, m.start - pos);
    if (rep.t == JV_STR) {
      replace_dollars(&b, rep, s, &m);
    } else {
      jv mo = match_object(C, s, &m, 1);
      jobj *o = mo.u.o;
      orci_jobj_set(C, o, "start", 5,
                    num(C, (double)orci_u8len(s.u.s.p, m.start)));
      orci_jobj_set(C, o, "end", 3, num(C, (double)orci_u8len(s.u.s.p, m.end)));
      jv r = call(C, rep, &mo, 1);
      if (r.t != JV_STR) {
        orci_jdescribe(r, vb, sizeof vb);
        orci_jthrow(C, "D3012", 0, NULL, vb);
      }
      sb_add(&b, r.u.s.p, r.u.s.n);
    }
    pos = m.end;
    count++;
  }
  sb_add(&b, s.u.s.p + pos, s.u.s.n - pos);
  return str_of(C, b.p ? b.p : "", b.n);
}

static jv f_split(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), sep = ARG(1), lim = ARG(2);
  char vb[64];
  if (s.t == JV_UNDEF) return UNDEF;
  if (lim.t == JV_NUM && lim.u.n < 0) {
    orci_jdescribe(lim, vb, sizeof vb);
    orci_jthrow(C, "D3020", 0, NULL, vb);
  }
  jarr *r = orci_jarr_new(C, 0);
  double limit = lim.t == JV_NUM ? floor(lim.u.n) : 1e300;
  if (limit <= 0) return orci_jarr_val(r);
  if (sep.t == JV_STR) {
    if (sep.u.s.n == 0) {
      size_t n = orci_u8len(s.u.s.p, s.u.s.n);
      for (size_t i = 0; i < n && (double)r->n < limit; i++) {
        size_t a = orci_u8off(s.u.s.p, s.u.s.n, i);
        size_t b2 = orci_u8off(s.u.s.p, s.u.s.n, i + 1);
        orci_jarr_push(C, r, str_of(C, s.u.s.p + a, b2 - a));
      }
      return orci_jarr_val(r);
    }
    size_t pos = 0;
    const char *p;
    while ((double)r->n < limit &&
           (p = memmem_(s.u.s.p + pos, s.u.s.n - pos, sep.u.s.p, sep.u.s.n)) !=
               NULL) {
      size_t idx = (size_t)(p - s.u.s.p);
      orci_jarr_push(C, r, str_of(C, s.u.s.p + pos, idx - pos));
      pos = idx + sep.u.s.n;
    }
    if ((double)r->n < limit)
      orci_jarr_push(C, r, str_of(C, s.u.s.p + pos, s.u.s.n - pos));
    return orci_jarr_val(r);
  }
  jmiter it;
  jmatch m;
  size_t start = 0;
  double count = 0;
  orci_jmiter_init(&it, sep, s.u.s.p, s.u.s.n, 0);
  while (count < limit && orci_jmiter_next(C, &it, &m)) {
    orci_jarr_push(
        C, r,
        str_of(C, s.u.s.p + start, m.start > start ? m.start - start : 0));
    start = m.end;
    count++;
  }
  if (count < limit)
    orci_jarr_push(C, r, str_of(C, s.u.s.p + start, s.u.s.n - start));
  return orci_jarr_val(r);
}

static jv f_join(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), sep = ARG(1);
  if (a.t == JV_UNDEF) return UNDEF;
  sbuf b;
  memset(&b, 0, sizeof b);
  b.C = C;
  for (size_t i = 0; i < orci_jlen(a); i++) {
    if (i && sep.t == JV_STR) sb_add(&b, sep.u.s.p, sep.u.s.n);
    jv it = orci_jat(a, i);
    sb_add(&b, it.u.s.p, it.u.s.n);
  }
  return str_of(C, b.p ? b.p : "", b.n);
}

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static jv f_base64encode(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t == JV_UNDEF) return UNDEF;
  /* btoa works on Latin-1: code points below 256 become single bytes */
  unsigned char *bytes = (unsigned char *)orci_jalloc(C, s.u.s.n + 1);
  size_t nb = 0;
  for (size_t i = 0; i < s.u.s.n; i++) {
    unsigned char c = (unsigned char)s.u.s.p[i];
    if (c < 0x80)
      bytes[nb++] = c;
    else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.u.s.n) {
      bytes[nb++] = (unsigned char)(((c & 0x03) << 6) |
                                    ((unsigned char)s.u.s.p[++i] & 0x3F));
    } else {
      bytes[nb++] = c;
    }
  }
  char *o = (char *)orci_jalloc(C, (nb + 2) / 3 * 4 + 1);
  size_t k = 0;
  for (size_t i = 0; i < nb; i += 3) {
    unsigned v = (unsigned)bytes[i] << 16;
    if (i + 1 < nb) v |= (unsigned)bytes[i + 1] << 8;
    if (i + 2 < nb) v |= bytes[i + 2];
    o[k++] = B64[(v >> 18) & 63];
    o[k++] = B64[(v >> 12) & 63];
    o[k++] = i + 1 < nb ? B64[(v >> 6) & 63] : '=';
    o[k++] = i + 2 < nb ? B64[v & 63] : '=';
  }
  return str_of(C, o, k);
}

static jv f_base64decode(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t == JV_UNDEF) return UNDEF;
  char *o = (char *)orci_jalloc(C, s.u.s.n * 2 + 4);
  size_t k = 0;
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < s.u.s.n; i++) {
    const char *p = strchr(B64, s.u.s.p[i]);
    if (!p || !s.u.s.p[i]) continue;
    v = (v << 6) | (unsigned)(p - B64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      unsigned char c = (unsigned char)((v >> bits) & 0xFF);
      /* atob yields Latin-1 characters */
      if (c < 0x80)
        o[k++] = (char)c;
      else {
        o[k++] = (char)(0xC0 | (c >> 6));
        o[k++] = (char)(0x80 | (c & 0x3F));
      }
    }
  }
  return str_of(C, o, k);
}

static jv url_encode(jctx *C, jv s, const char *keep, const char *fname) {
  if (s.t == JV_UNDEF) return UNDEF;
  /* a lone surrogate cannot be in valid UTF-8, so only well-formed text
  ** arrives here */
  (void)fname;
  char *o = (char *)orci_jalloc(C, s.u.s.n * 3 + 1);
  size_t k = 0;
  for (size_t i = 0; i < s.u.s.n; i++) {
    unsigned char c = (unsigned char)s.u.s.p[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || (c && strchr(keep, c))) {
      o[k++] = (char)c;
    } else {
      k += (size_t)sprintf(o + k, "%%%02X", c);
    }
  }
  return str_of(C, o, k);
}

static jv f_encode_url_component(jctx *C, jv *args, int nargs, jv in,
                                 jframe *e) {
  (void)in, (void)e;
  return url_encode(C, ARG(0), "-_.!~*'()", "encodeUrlComponent");
}

static jv f_encode_url(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return url_encode(C, ARG(0), "-_.!~*'();/?:@&=+$,#", "encodeUrl");
}

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static jv url_decode(jctx *C, jv s, const char *reserved, const char *fname) {
  if (s.t == JV_UNDEF) return UNDEF;
  char *o = (char *)orci_jalloc(C, s.u.s.n + 1);
  size_t k = 0;
  char vb[120];
  for (size_t i = 0; i < s.u.s.n; i++) {
    if (s.u.s.p[i] == '%') {
      int h1 = i + 2 < s.u.s.n + 0 || i + 2 == s.u.s.n
                   ? (i + 1 < s.u.s.n ? hexv(s.u.s.p[i + 1]) : -1)
                   : -1;
      int h2 = i + 2 < s.u.s.n ? hexv(s.u.s.p[i + 2]) : -1;
      if (h1 < 0 || h2 < 0) {
        orci_jdescribe(s, vb, sizeof vb);
        orci_jthrow(C, "D3140", 0, fname, vb);
      }
      char c = (char)(h1 * 16 + h2);
      if (reserved && c && strchr(reserved, c)) {
        memcpy(o + k, s.u.s.p + i, 3);
        k += 3;
      } else {
        o[k++] = c;
      }
      i += 2;
    } else {
      o[k++] = s.u.s.p[i];
    }
  }
  if (orc_utf8_check(o, k) != (size_t)-1) {
    orci_jdescribe(s, vb, sizeof vb);
    orci_jthrow(C, "D3140", 0, fname, vb);
  }
  return str_of(C, o, k);
}

static jv f_decode_url_component(jctx *C, jv *args, int nargs, jv in,
                                 jframe *e) {
  (void)in, (void)e;
  return url_decode(C, ARG(0), NULL, "decodeUrlComponent");
}

static jv f_decode_url(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return url_decode(C, ARG(0), ";/?:@&=+$,#", "decodeUrl");
}

/* }====== */

/* {====== numbers */

jv orci_jfn_number(jctx *C, jv a, int position) {
  char vb[200];
  if (a.t == JV_UNDEF) return UNDEF;
  if (a.t == JV_NUM) return a;
  if (a.t == JV_BOOL) return num(C, a.u.b ? 1 : 0);
  if (a.t == JV_STR && a.u.s.n > 0 && a.u.s.n < 300) {
    char t[320];
    memcpy(t, a.u.s.p, a.u.s.n);
    t[a.u.s.n] = '\0';
    const char *p = t;
    /* -?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)? */
    if (*p == '-') p++;
    const char *d0 = p;
    while (*p >= '0' && *p <= '9')
      p++;
    int ok = p > d0;
    if (ok && *p == '.') {
      const char *f0 = ++p;
      while (*p >= '0' && *p <= '9')
        p++;
      ok = p > f0;
    }
    if (ok && (*p == 'e' || *p == 'E')) {
      p++;
      if (*p == '+' || *p == '-') p++;
      const char *e0 = p;
      while (*p >= '0' && *p <= '9')
        p++;
      ok = p > e0;
    }
    if (ok && *p == '\0') {
      double d = strtod(t, NULL);
      if (isfinite(d)) return num(C, d);
    }
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X' || t[1] == 'o' ||
                        t[1] == 'O' || t[1] == 'b' || t[1] == 'B')) {
      int base = (t[1] == 'x' || t[1] == 'X')   ? 16
                 : (t[1] == 'o' || t[1] == 'O') ? 8
                                                : 2;
      char *end;
      double d = (double)strtoull(t + 2, &end, base);
      if (*end == '\0' && end > t + 2) return num(C, d);
    }
  }
  orci_jdescribe(a, vb, sizeof vb);
  orci_jthrow(C, "D3030", position, NULL, vb);
}

static jv f_number(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return orci_jfn_number(C, ARG(0), 0);
}

static jv f_floor(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  return a.t == JV_UNDEF ? UNDEF : num(C, floor(a.u.n));
}

static jv f_ceil(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  return a.t == JV_UNDEF ? UNDEF : num(C, ceil(a.u.n));
}

static jv f_abs(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  return a.t == JV_UNDEF ? UNDEF : num(C, fabs(a.u.n));
}

static double shift10(double v, int by) {
  /* shift the decimal point in text, as jsonata-js does, so that 1.005
  ** does not become 100.49999 */
  char t[64];
  orci_jnumfmt(v, t);
  char *ep = strchr(t, 'e');
  int e = 0;
  if (ep) {
    e = atoi(ep + 1);
    *ep = '\0';
  }
  char u[96];
  snprintf(u, sizeof u, "%se%d", t, e + by);
  return strtod(u, NULL);
}

static double round_even(double v, int prec) {
  if (prec) v = shift10(v, prec);
  double r = floor(v + 0.5);
  double diff = r - v;
  if (fabs(diff) == 0.5 && fmod(fabs(r), 2) == 1) r -= 1;
  if (prec) r = shift10(r, -prec);
  if (r == 0) r = 0;
  return r;
}

static jv f_round(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), p = ARG(1);
  if (a.t == JV_UNDEF) return UNDEF;
  double v = a.u.n;
  int prec = p.t == JV_NUM ? (int)p.u.n : 0;
  if (prec) v = shift10(v, prec);
  double r = floor(v + 0.5);
  double diff = r - v;
  if (fabs(diff) == 0.5 && fmod(fabs(r), 2) == 1) r -= 1;
  if (prec) r = shift10(r, -prec);
  if (r == 0) r = 0;
  return num(C, r);
}

static jv f_sqrt(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  char vb[64];
  if (a.t == JV_UNDEF) return UNDEF;
  if (a.u.n < 0) {
    orci_jdescribe(a, vb, sizeof vb);
    orci_jthrow(C, "D3060", 0, NULL, vb);
  }
  return num(C, sqrt(a.u.n));
}

static jv f_power(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), x = ARG(1);
  char vb[120];
  if (a.t == JV_UNDEF) return UNDEF;
  double r = pow(a.u.n, x.u.n);
  if (!isfinite(r)) {
    char b1[40], b2[40];
    orci_jnumfmt(a.u.n, b1);
    orci_jnumfmt(x.u.n, b2);
    snprintf(vb, sizeof vb, "base=%s, exponent=%s", b1, b2);
    orci_jthrow(C, "D3061", 0, NULL, vb);
  }
  return num(C, r);
}

uint64_t orci_jrandom_u64(jctx *C);
uint64_t orci_jrandom_u64(jctx *C) {
  /* splitmix64: seeded per evaluation (orc_jsonata_limits.seed) */
  uint64_t z = (C->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double rnd(jctx *C) {
  return (double)(orci_jrandom_u64(C) >> 11) / 9007199254740992.0;
}

static jv f_random(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e, (void)args, (void)nargs;
  return num(C, rnd(C));
}

static jv f_format_base(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), r = ARG(1);
  char vb[64];
  if (a.t == JV_UNDEF) return UNDEF;
  double v = a.u.n;
  /* round half to even, like $round */
  double rv = floor(v + 0.5);
  if (fabs(rv - v) == 0.5 && fmod(fabs(rv), 2) == 1) rv -= 1;
  int radix = r.t == JV_NUM ? (int)r.u.n : 10;
  if (radix < 2 || radix > 36) {
    orci_jdescribe(r, vb, sizeof vb);
    orci_jthrow(C, "D3100", 0, NULL, vb);
  }
  char buf[80];
  int k = 0, neg = rv < 0;
  double m = fabs(rv);
  if (m == 0) buf[k++] = '0';
  while (m >= 1 && k < 78) {
    int dgt = (int)fmod(m, radix);
    buf[k++] = "0123456789abcdefghijklmnopqrstuvwxyz"[dgt];
    m = floor(m / radix);
  }
  if (neg) buf[k++] = '-';
  char *o = (char *)orci_jalloc(C, (size_t)k + 1);
  for (int i = 0; i < k; i++)
    o[i] = buf[k - 1 - i];
  return str_of(C, o, (size_t)k);
}

/* }====== */

/* {====== $formatNumber (XPath F&O 3.1 format-number, as jsonata-js) */

/* Strings of code points, so that pictures may hold any character. */
typedef struct cps {
  uint32_t *p;
  int n;
} cps;

static cps cps_from(jctx *C, const char *s, size_t n) {
  cps r;
  r.p = (uint32_t *)orci_jalloc(C, (n + 1) * sizeof(uint32_t));
  r.n = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + (size_t)len > n) len = 1;
    cp = len == 1   ? c
         : len == 2 ? (c & 0x1Fu)
         : len == 3 ? (c & 0x0Fu)
                    : (c & 0x07u);
    for (int k = 1; k < len; k++)
      cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3Fu);
    r.p[r.n++] = cp;
    i += (size_t)len;
  }
  return r;
}

static cps cps_sub(cps s, int a, int b) {
  cps r;
  if (a < 0) a = 0;
  if (b > s.n) b = s.n;
  if (b < a) b = a;
  r.p = s.p + a;
  r.n = b - a;
  return r;
}

static int cps_index(cps s, uint32_t c, int from) {
  for (int i = from < 0 ? 0 : from; i < s.n; i++)
    if (s.p[i] == c) return i;
  return -1;
}

static int cps_last(cps s, uint32_t c) {
  for (int i = s.n - 1; i >= 0; i--)
    if (s.p[i] == c) return i;
  return -1;
}

/* a mutable buffer of code points */
typedef struct cbuf {
  uint32_t p[600];
  int n;
} cbuf;

static void cb_insert(cbuf *b, int at, uint32_t c) {
  if (b->n >= 599 || at < 0 || at > b->n) return;
  memmove(b->p + at + 1, b->p + at, (size_t)(b->n - at) * sizeof(uint32_t));
  b->p[at] = c;
  b->n++;
}

static void cb_add(cbuf *b, cps s) {
  for (int i = 0; i < s.n && b->n < 599; i++)
    b->p[b->n++] = s.p[i];
}

static int cb_index(const cbuf *b, uint32_t c) {
  for (int i = 0; i < b->n; i++)
    if (b->p[i] == c) return i;
  return -1;
}

typedef struct fmtprops {
  uint32_t dec, grp, exp, minus, pct, pml, zero, digit, pat;
  cps infinity, nan;
} fmtprops;

typedef struct fmtpart {
  cps prefix, suffix, active, mantissa, exponent, integer, fraction, sub;
  int has_exp;
  int igroup[40], nigroup, fgroup[40], nfgroup, regular;
  int min_int, scaling, min_frac, max_frac, min_exp;
} fmtpart;

static int is_digit_fam(const fmtprops *P, uint32_t c) {
  return c >= P->zero && c < P->zero + 10;
}

static int is_active(const fmtprops *P, uint32_t c) {
  return is_digit_fam(P, c) || c == P->dec || c == P->exp || c == P->grp ||
         c == P->digit || c == P->pat;
}

static void split_part(const fmtprops *P, cps sub, fmtpart *x) {
  int i, pre = 0, suf = sub.n;
  memset(x, 0, sizeof *x);
  x->sub = sub;
  for (i = 0; i < sub.n; i++)
    if (is_active(P, sub.p[i]) && sub.p[i] != P->exp) break;
  pre = i < sub.n ? i : 0;
  for (i = sub.n - 1; i >= 0; i--)
    if (is_active(P, sub.p[i]) && sub.p[i] != P->exp) break;
  suf = i >= 0 ? i + 1 : sub.n;
  x->prefix = cps_sub(sub, 0, pre);
  x->suffix = cps_sub(sub, suf, sub.n);
  x->active = cps_sub(sub, pre, suf);
  int ep = cps_index(sub, P->exp, pre);
  if (ep == -1 || ep > suf) {
    x->mantissa = x->active;
    x->has_exp = 0;
  } else {
    x->mantissa = cps_sub(x->active, 0, ep);
    x->exponent = cps_sub(x->active, ep + 1, x->active.n);
    x->has_exp = 1;
  }
  int dp = cps_index(x->mantissa, P->dec, 0);
  if (dp == -1) {
    x->integer = x->mantissa;
    x->fraction = x->suffix;
  } else {
    x->integer = cps_sub(x->mantissa, 0, dp);
    x->fraction = cps_sub(x->mantissa, dp + 1, x->mantissa.n);
  }
}

static const char *validate_part(const fmtprops *P, const fmtpart *x) {
  const char *err = NULL;
  cps s = x->sub;
  int dp = cps_index(s, P->dec, 0);
  if (dp != cps_last(s, P->dec)) err = "D3081";
  if (cps_index(s, P->pct, 0) != cps_last(s, P->pct)) err = "D3082";
  if (cps_index(s, P->pml, 0) != cps_last(s, P->pml)) err = "D3083";
  if (cps_index(s, P->pct, 0) != -1 && cps_index(s, P->pml, 0) != -1)
    err = "D3084";
  int valid = 0;
  for (int i = 0; i < x->mantissa.n; i++)
    if (is_digit_fam(P, x->mantissa.p[i]) || x->mantissa.p[i] == P->digit)
      valid = 1;
  if (!valid) err = "D3085";
  for (int i = 0; i < x->active.n; i++)
    if (!is_active(P, x->active.p[i])) err = "D3086";
  if (dp != -1) {
    if ((dp > 0 && s.p[dp - 1] == P->grp) ||
        (dp + 1 < s.n && s.p[dp + 1] == P->grp))
      err = "D3087";
  } else if (x->integer.n > 0 && x->integer.p[x->integer.n - 1] == P->grp) {
    err = "D3088";
  }
  for (int i = 0; i + 1 < s.n; i++)
    if (s.p[i] == P->grp && s.p[i + 1] == P->grp) err = "D3089";
  int od = cps_index(x->integer, P->digit, 0);
  if (od != -1)
    for (int i = 0; i < od; i++)
      if (is_digit_fam(P, x->integer.p[i])) err = "D3090";
  od = cps_last(x->fraction, P->digit);
  if (od != -1)
    for (int i = od; i < x->fraction.n; i++)
      if (is_digit_fam(P, x->fraction.p[i])) err = "D3091";
  if (x->has_exp && x->exponent.n > 0 &&
      (cps_index(s, P->pct, 0) != -1 || cps_index(s, P->pml, 0) != -1))
    err = "D3092";
  if (x->has_exp) {
    int bad = x->exponent.n == 0;
    for (int i = 0; i < x->exponent.n; i++)
      if (!is_digit_fam(P, x->exponent.p[i])) bad = 1;
    if (bad) err = "D3093";
  }
  return err;
}

static int count_digits(const fmtprops *P, cps s, int optional_too) {
  int n = 0;
  for (int i = 0; i < s.n; i++)
    if (is_digit_fam(P, s.p[i]) || (optional_too && s.p[i] == P->digit)) n++;
  return n;
}

static int gcd_(int a, int b) {
  return b == 0 ? a : gcd_(b, a % b);
}

static void analyse_part(const fmtprops *P, fmtpart *x) {
  /* grouping positions; jsonata-js looks for the following separators in
  ** the integer part for both parts, and so do we */
  int gp = cps_index(x->integer, P->grp, 0);
  while (gp != -1 && x->nigroup < 40) {
    x->igroup[x->nigroup++] =
        count_digits(P, cps_sub(x->integer, gp, x->integer.n), 1);
    gp = cps_index(x->integer, P->grp, gp + 1);
  }
  gp = cps_index(x->fraction, P->grp, 0);
  while (gp != -1 && x->nfgroup < 40) {
    x->fgroup[x->nfgroup++] = count_digits(P, cps_sub(x->fraction, 0, gp), 1);
    gp = cps_index(x->integer, P->grp, gp + 1);
  }
  x->regular = 0;
  if (x->nigroup > 0) {
    int f = x->igroup[0];
    for (int i = 1; i < x->nigroup; i++)
      f = gcd_(f, x->igroup[i]);
    x->regular = f;
    for (int k = 1; k <= x->nigroup && f > 0; k++) {
      int found = 0;
      for (int i = 0; i < x->nigroup; i++)
        if (x->igroup[i] == k * f) found = 1;
      if (!found) x->regular = 0;
    }
  }
  x->min_int = count_digits(P, x->integer, 0);
  x->scaling = x->min_int;
  x->min_frac = count_digits(P, x->fraction, 0);
  x->max_frac = count_digits(P, x->fraction, 1);
  if (x->min_int == 0 && x->max_frac == 0) {
    if (x->has_exp)
      x->min_frac = x->max_frac = 1;
    else
      x->min_int = 1;
  }
  if (x->has_exp && x->min_int == 0 && cps_index(x->integer, P->digit, 0) != -1)
    x->min_int = 1;
  if (x->min_int == 0 && x->min_frac == 0) x->min_frac = 1;
  x->min_exp = x->has_exp ? count_digits(P, x->exponent, 0) : 0;
}

static void digits_to_family(const fmtprops *P, cbuf *b, const char *ascii) {
  for (const char *q = ascii; *q && b->n < 599; q++)
    b->p[b->n++] = (*q >= '0' && *q <= '9') ? P->zero + (uint32_t)(*q - '0')
                   : *q == '.'              ? '.'
                                            : (uint32_t)*q;
}

static jv cps_to_str(jctx *C, const uint32_t *p, int n) {
  char *o = (char *)orci_jalloc(C, (size_t)n * 4 + 1);
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    uint32_t c = p[i];
    if (c < 0x80)
      o[k++] = (char)c;
    else if (c < 0x800) {
      o[k++] = (char)(0xC0 | (c >> 6));
      o[k++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      o[k++] = (char)(0xE0 | (c >> 12));
      o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
      o[k++] = (char)(0x80 | (c & 0x3F));
    } else {
      o[k++] = (char)(0xF0 | (c >> 18));
      o[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
      o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
      o[k++] = (char)(0x80 | (c & 0x3F));
    }
  }
  return orci_jstr(o, k);
}

static uint32_t prop_char(jctx *C, jv opts, const char *name, uint32_t def) {
  jv v = orci_jget(opts, name, strlen(name));
  if (v.t != JV_STR || v.u.s.n == 0) return def;
  cps c = cps_from(C, v.u.s.p, v.u.s.n);
  return c.p[0];
}

static jv f_format_number(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv val = ARG(0), pic = ARG(1), opts = ARG(2);
  if (val.t == JV_UNDEF) return UNDEF;
  fmtprops P;
  P.dec = prop_char(C, opts, "decimal-separator", '.');
  P.grp = prop_char(C, opts, "grouping-separator", ',');
  P.exp = prop_char(C, opts, "exponent-separator", 'e');
  P.minus = prop_char(C, opts, "minus-sign", '-');
  P.pct = prop_char(C, opts, "percent", '%');
  P.pml = prop_char(C, opts, "per-mille", 0x2030);
  P.zero = prop_char(C, opts, "zero-digit", '0');
  P.digit = prop_char(C, opts, "digit", '#');
  P.pat = prop_char(C, opts, "pattern-separator", ';');
  cps picture = cps_from(C, pic.u.s.p, pic.u.s.n);
  int sep = cps_index(picture, P.pat, 0);
  if (sep != -1 && cps_index(picture, P.pat, sep + 1) != -1)
    orci_jthrow(C, "D3080", 0, NULL, NULL);
  fmtpart parts[2];
  int np = sep == -1 ? 1 : 2;
  split_part(&P, sep == -1 ? picture : cps_sub(picture, 0, sep), &parts[0]);
  if (np == 2) split_part(&P, cps_sub(picture, sep + 1, picture.n), &parts[1]);
  for (int i = 0; i < np; i++) {
    const char *err = validate_part(&P, &parts[i]);
    if (err) orci_jthrow(C, err, 0, NULL, NULL);
  }
  for (int i = 0; i < np; i++)
    analyse_part(&P, &parts[i]);
  uint32_t minus_prefix[64];
  if (np == 1) {
    parts[1] = parts[0];
    minus_prefix[0] = P.minus;
    int k = 1;
    for (int i = 0; i < parts[0].prefix.n && k < 63; i++)
      minus_prefix[k++] = parts[0].prefix.p[i];
    parts[1].prefix.p = minus_prefix;
    parts[1].prefix.n = k;
  }
  double value = val.u.n;
  fmtpart *x = value >= 0 ? &parts[0] : &parts[1];
  double adj = value;
  if (cps_index(x->sub, P.pct, 0) != -1)
    adj = value * 100;
  else if (cps_index(x->sub, P.pml, 0) != -1)
    adj = value * 1000;
  double mant = adj;
  int has_exp = x->min_exp != 0, expo = 0;
  if (has_exp) {
    double maxm = pow(10, x->scaling), minm = pow(10, x->scaling - 1);
    if (mant != 0) {
      while (fabs(mant) < minm)
        mant *= 10, expo--;
      while (fabs(mant) > maxm)
        mant /= 10, expo++;
    }
  }
  double rounded = round_even(mant, x->max_frac);
  char fixed[400];
  snprintf(fixed, sizeof fixed, "%.*f", x->max_frac > 100 ? 100 : x->max_frac,
           fabs(rounded));
  cbuf b;
  b.n = 0;
  digits_to_family(&P, &b, fixed);
  int dpos = cb_index(&b, '.');
  if (dpos == -1)
    b.p[b.n++] = P.dec;
  else
    b.p[dpos] = P.dec;
  while (b.n > 0 && b.p[0] == P.zero)
    memmove(b.p, b.p + 1, (size_t)--b.n * 4);
  while (b.n > 0 && b.p[b.n - 1] == P.zero)
    b.n--;
  dpos = cb_index(&b, P.dec);
  int padl = x->min_int - dpos, padr = x->min_frac - (b.n - dpos - 1);
  for (int i = 0; i < padl; i++)
    cb_insert(&b, 0, P.zero);
  for (int i = 0; i < padr && b.n < 599; i++)
    b.p[b.n++] = P.zero;
  dpos = cb_index(&b, P.dec);
  if (x->regular > 0) {
    int groups = (dpos - 1) / x->regular;
    for (int g = 1; g <= groups; g++)
      cb_insert(&b, dpos - g * x->regular, P.grp);
  } else {
    for (int i = 0; i < x->nigroup; i++) {
      cb_insert(&b, dpos - x->igroup[i], P.grp);
      dpos++;
    }
  }
  dpos = cb_index(&b, P.dec);
  for (int i = 0; i < x->nfgroup; i++)
    cb_insert(&b, x->fgroup[i] + dpos + 1, P.grp);
  dpos = cb_index(&b, P.dec);
  if (cps_index(x->sub, P.dec, 0) == -1 || dpos == b.n - 1) b.n--;
  if (has_exp) {
    char es[32];
    snprintf(es, sizeof es, "%d", expo < 0 ? -expo : expo);
    cbuf eb;
    eb.n = 0;
    digits_to_family(&P, &eb, es);
    b.p[b.n++] = P.exp;
    if (expo < 0) b.p[b.n++] = P.minus;
    for (int i = eb.n; i < x->min_exp && b.n < 599; i++)
      b.p[b.n++] = P.zero;
    for (int i = 0; i < eb.n && b.n < 599; i++)
      b.p[b.n++] = eb.p[i];
  }
  cbuf out;
  out.n = 0;
  cb_add(&out, x->prefix);
  for (int i = 0; i < b.n && out.n < 599; i++)
    out.p[out.n++] = b.p[i];
  cb_add(&out, x->suffix);
  return cps_to_str(C, out.p, out.n);
}

/* }====== */

/* {====== boolean */

static jv f_boolean(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  int defined;
  int b = orci_jtruthy(C, ARG(0), &defined);
  return defined ? orci_jbool(b) : UNDEF;
}

static jv f_not(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  int defined;
  int b = orci_jtruthy(C, ARG(0), &defined);
  return defined ? orci_jbool(!b) : UNDEF;
}

static jv f_exists(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)C, (void)in, (void)e;
  return orci_jbool(ARG(0).t != JV_UNDEF);
}

/* }====== */

/* {====== higher-order */

static jv f_map(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), fn = ARG(1);
  if (a.t == JV_UNDEF) return UNDEF;
  jv r = seq_new(C);
  for (size_t i = 0; i < orci_jlen(a); i++) {
    jv v = call_hof(C, fn, orci_jat(a, i), num(C, (double)i), a);
    if (v.t != JV_UNDEF) seq_push(C, r, v);
  }
  return r;
}

static jv f_filter(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), fn = ARG(1);
  if (a.t == JV_UNDEF) return UNDEF;
  jv r = seq_new(C);
  for (size_t i = 0; i < orci_jlen(a); i++) {
    jv it = orci_jat(a, i);
    jv v = call_hof(C, fn, it, num(C, (double)i), a);
    if (orci_jtruthy(C, v, NULL)) seq_push(C, r, it);
  }
  return r;
}

static jv f_single(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), fn = ARG(1), result = UNDEF;
  int found = 0;
  if (a.t == JV_UNDEF) return UNDEF;
  for (size_t i = 0; i < orci_jlen(a); i++) {
    jv it = orci_jat(a, i);
    int pos = 1;
    if (fn.t != JV_UNDEF)
      pos = orci_jtruthy(C, call_hof(C, fn, it, num(C, (double)i), a), NULL);
    if (pos) {
      if (found) orci_jthrow(C, "D3138", 0, NULL, NULL);
      result = it;
      found = 1;
    }
  }
  if (!found) orci_jthrow(C, "D3139", 0, NULL, NULL);
  return result;
}

static jv f_zip(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jarr *r = orci_jarr_new(C, 0);
  size_t len = nargs > 0 ? (size_t)-1 : 0;
  for (int i = 0; i < nargs; i++) {
    size_t l = orci_jis_array(args[i]) ? orci_jlen(args[i]) : 0;
    if (l < len) len = l;
  }
  for (size_t k = 0; k < len; k++) {
    jarr *t = orci_jarr_new(C, (size_t)nargs);
    for (int i = 0; i < nargs; i++)
      orci_jarr_push(C, t, orci_jat(args[i], k));
    orci_jarr_push(C, r, orci_jarr_val(t));
  }
  return orci_jarr_val(r);
}

static jv f_reduce(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), fn = ARG(1), init = ARG(2);
  if (a.t == JV_UNDEF) return UNDEF;
  int ar = orci_jarity(fn);
  if (ar < 2) orci_jthrow(C, "D3050", 0, NULL, NULL);
  size_t n = orci_jlen(a), i;
  jv result;
  if (init.t == JV_UNDEF && n > 0) {
    result = orci_jat(a, 0);
    i = 1;
  } else {
    result = init;
    i = 0;
  }
  for (; i < n; i++) {
    jv ca[4] = {result, orci_jat(a, i), num(C, (double)i), a};
    result = call(C, fn, ca, ar >= 4 ? 4 : ar >= 3 ? 3 : 2);
  }
  return result;
}

static jv f_sift(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv o = ARG(0), fn = ARG(1);
  if (o.t == JV_UNDEF) return UNDEF;
  jobj *r = orci_jobj_new(C, 0);
  for (size_t i = 0; i < orci_jlen(o); i++) {
    jkey k = orci_jkey(o, i);
    jv v = orci_jval(o, i);
    if (orci_jtruthy(C, call_hof(C, fn, v, str_of(C, k.p, k.n), o), NULL))
      orci_jobj_set(C, r, k.p, k.n, v);
  }
  return r->n ? orci_jobj_val(r) : UNDEF;
}

static jv f_each(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv o = ARG(0), fn = ARG(1);
  jv r = seq_new(C);
  if (!orci_jis_object(o)) return r;
  for (size_t i = 0; i < orci_jlen(o); i++) {
    jkey k = orci_jkey(o, i);
    jv v = call_hof(C, fn, orci_jval(o, i), str_of(C, k.p, k.n), o);
    if (v.t != JV_UNDEF) seq_push(C, r, v);
  }
  return r;
}

/* }====== */

/* {====== arrays and objects */

static void keys_into(jctx *C, jv v, jobj *seen, jv out) {
  if (orci_jis_array(v)) {
    for (size_t i = 0; i < orci_jlen(v); i++)
      keys_into(C, orci_jat(v, i), seen, out);
  } else if (orci_jis_object(v)) {
    for (size_t i = 0; i < orci_jlen(v); i++) {
      jkey k = orci_jkey(v, i);
      if (orci_jget(orci_jobj_val(seen), k.p, k.n).t != JV_UNDEF) continue;
      orci_jobj_set(C, seen, k.p, k.n, orci_jbool(1));
      seq_push(C, out, str_of(C, k.p, k.n));
    }
  }
}

static jv f_keys(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv r = seq_new(C);
  keys_into(C, ARG(0), orci_jobj_new(C, 0), r);
  return r;
}

static jv lookup(jctx *C, jv v, jv key) {
  if (orci_jis_array(v)) {
    jv r = seq_new(C);
    for (size_t i = 0; i < orci_jlen(v); i++) {
      jv x = lookup(C, orci_jat(v, i), key);
      if (x.t == JV_UNDEF) continue;
      if (orci_jis_array(x))
        for (size_t k = 0; k < orci_jlen(x); k++)
          seq_push(C, r, orci_jat(x, k));
      else
        seq_push(C, r, x);
    }
    return r;
  }
  return orci_jget(v, key.u.s.p, key.u.s.n);
}

static jv f_lookup(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return lookup(C, ARG(0), ARG(1));
}

static jv f_append(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return orci_jappend(C, ARG(0), ARG(1));
}

static jv spread(jctx *C, jv v) {
  if (orci_jis_array(v)) {
    jv r = seq_new(C);
    for (size_t i = 0; i < orci_jlen(v); i++)
      r = orci_jappend(C, r, spread(C, orci_jat(v, i)));
    return r;
  }
  if (orci_jis_object(v)) {
    jv r = seq_new(C);
    for (size_t i = 0; i < orci_jlen(v); i++) {
      jobj *o = orci_jobj_new(C, 1);
      jkey k = orci_jkey(v, i);
      orci_jobj_set(C, o, k.p, k.n, orci_jval(v, i));
      seq_push(C, r, orci_jobj_val(o));
    }
    return r;
  }
  return v;
}

static jv f_spread(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return spread(C, ARG(0));
}

static jv f_merge(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return UNDEF;
  jobj *r = orci_jobj_new(C, 0);
  for (size_t i = 0; i < orci_jlen(a); i++) {
    jv o = orci_jat(a, i);
    for (size_t k = 0; k < orci_jlen(o); k++) {
      jkey key = orci_jkey(o, k);
      orci_jobj_set(C, r, key.p, key.n, orci_jval(o, k));
    }
  }
  return orci_jobj_val(r);
}

static jv f_reverse(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return UNDEF;
  size_t n = orci_jlen(a);
  if (n <= 1) return a;
  jarr *r = orci_jarr_new(C, n);
  for (size_t i = 0; i < n; i++)
    orci_jarr_push(C, r, orci_jat(a, n - 1 - i));
  return orci_jarr_val(r);
}

static jv f_error(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv m = ARG(0);
  char buf[240];
  if (m.t == JV_STR)
    snprintf(buf, sizeof buf, "%.*s", (int)(m.u.s.n > 230 ? 230 : m.u.s.n),
             m.u.s.p);
  else
    snprintf(buf, sizeof buf, "$error() function evaluated");
  orci_jthrow(C, "D3137", 0, NULL, buf);
}

static jv f_assert(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv c = ARG(0), m = ARG(1);
  char buf[240];
  if (c.t == JV_BOOL && c.u.b) return UNDEF;
  if (m.t == JV_STR)
    snprintf(buf, sizeof buf, "%.*s", (int)(m.u.s.n > 230 ? 230 : m.u.s.n),
             m.u.s.p);
  else
    snprintf(buf, sizeof buf, "$assert() statement failed");
  orci_jthrow(C, "D3141", 0, NULL, buf);
}

static jv f_type(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e, (void)C;
  jv v = ARG(0);
  switch (v.t) {
  case JV_UNDEF:
    return UNDEF;
  case JV_NULL:
    return orci_jstr("null", 4);
  case JV_NUM:
    return orci_jstr("number", 6);
  case JV_STR:
    return orci_jstr("string", 6);
  case JV_BOOL:
    return orci_jstr("boolean", 7);
  case JV_ARR:
  case JV_JARR:
    return orci_jstr("array", 5);
  case JV_FN:
    return orci_jstr("function", 8);
  default:
    return orci_jstr("object", 6);
  }
}

typedef struct fsort {
  jctx *C;
  jv fn;
} fsort;

static int gt_default(void *ud, jv a, jv b) {
  (void)ud;
  if (a.t == JV_NUM) return a.u.n > b.u.n;
  size_t n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
  int c = memcmp(a.u.s.p, b.u.s.p, n);
  return c > 0 || (c == 0 && a.u.s.n > b.u.s.n);
}

static int gt_fn(void *ud, jv a, jv b) {
  fsort *S = (fsort *)ud;
  jv ab[2] = {a, b};
  jv r = call(S->C, S->fn, ab, 2);
  switch (r.t) {
  case JV_BOOL:
    return r.u.b;
  case JV_NUM:
    return r.u.n != 0;
  case JV_STR:
    return r.u.s.n > 0;
  case JV_UNDEF:
  case JV_NULL:
    return 0;
  default:
    return 1;
  }
}

jv orci_jfn_sort(jctx *C, jv a, jv fn, int position) {
  (void)position;
  if (a.t == JV_UNDEF) return UNDEF;
  size_t n = orci_jlen(a);
  if (n <= 1) return a;
  if (fn.t == JV_UNDEF) {
    int nums = 1, strs = 1;
    for (size_t i = 0; i < n; i++) {
      jv it = orci_jat(a, i);
      if (it.t != JV_NUM) nums = 0;
      if (it.t != JV_STR) strs = 0;
    }
    if (!nums && !strs) orci_jthrow(C, "D3070", 0, NULL, NULL);
    jv r = orci_jsort_with(C, a, gt_default, NULL);
    r.u.a->seq = 0;
    return r;
  }
  fsort S;
  S.C = C;
  S.fn = fn;
  jv r = orci_jsort_with(C, a, gt_fn, &S);
  r.u.a->seq = 0;
  return r;
}

static jv f_sort(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return orci_jfn_sort(C, ARG(0), ARG(1), 0);
}

static jv f_shuffle(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return UNDEF;
  size_t n = orci_jlen(a);
  if (n <= 1) return a;
  jarr *r = orci_jarr_new(C, n);
  r->n = n;
  for (size_t i = 0; i < n; i++) {
    size_t j = (size_t)floor(rnd(C) * (double)(i + 1));
    if (i != j) r->items[i] = r->items[j];
    r->items[j] = orci_jat(a, i);
  }
  return orci_jarr_val(r);
}

static jv f_distinct(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0);
  if (a.t == JV_UNDEF) return UNDEF;
  if (!orci_jis_array(a) || orci_jlen(a) <= 1) return a;
  jarr *r = orci_jarr_new(C, 0);
  r->seq = orci_jis_seq(a);
  for (size_t i = 0; i < orci_jlen(a); i++) {
    jv v = orci_jat(a, i);
    int dup = 0;
    for (size_t k = 0; k < r->n && !dup; k++)
      if (orci_jequal(v, r->items[k])) dup = 1;
    if (!dup) orci_jarr_push(C, r, v);
  }
  return orci_jarr_val(r);
}

/* Values are immutable (a transform copies what it changes), so a clone
** is the value itself. */
static jv f_clone(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e, (void)C;
  return ARG(0);
}

/* }====== */

/* {====== $eval */

static jv f_eval(jctx *C, jv *args, int nargs, jv in, jframe *env) {
  jv expr = ARG(0), focus = ARG(1);
  if (expr.t == JV_UNDEF) return UNDEF;
  jv input = in;
  if (nargs > 1 && focus.t != JV_UNDEF) {
    input = focus;
    if (orci_jis_array(input) && !orci_jis_seq(input)) {
      jarr *w = orci_jarr_new(C, 1);
      w->seq = w->outer = 1;
      orci_jarr_push(C, w, input);
      input = orci_jarr_val(w);
    }
  }
  /* parse and evaluate under a nested jump target so that errors are
  ** rewrapped as D3120/D3121 */
  jmp_buf saved;
  memcpy(&saved, &C->jmp, sizeof saved);
  orc_jsonata_error inner;
  orc_jsonata_error *outer = C->err;
  C->err = &inner;
  memset(&inner, 0, sizeof inner);
  volatile int phase = 0;
  volatile int depth = C->depth;
  jv r = UNDEF;
  if (setjmp(C->jmp) == 0) {
    jnode *root = orci_jparse(C, &C->A, expr.u.s.p, expr.u.s.n);
    phase = 1;
    r = orci_jeval_node(C, root, input, env ? env : C->root);
  } else {
    memcpy(&C->jmp, &saved, sizeof saved);
    C->err = outer;
    C->depth = depth;
    if (inner.status == ORC_ENOMEM) orci_jnomem(C);
    char msg[300];
    snprintf(msg, sizeof msg, "%s", inner.message);
    orci_jthrow(C, phase ? "D3121" : "D3120", 0, NULL, msg);
  }
  memcpy(&C->jmp, &saved, sizeof saved);
  C->err = outer;
  return r;
}

/* }====== */

/* {====== registry */

static jv f_now(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  return orci_jfn_from_millis(C, C->now_ms, ARG(0), ARG(1), 0);
}

static jv f_millis(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e, (void)args, (void)nargs;
  return num(C, C->now_ms);
}

static const jbuiltin BUILTINS[] = {
    {"sum", "<a<n>:n>", f_sum, 0},
    {"count", "<a:n>", f_count, 0},
    {"max", "<a<n>:n>", f_max, 0},
    {"min", "<a<n>:n>", f_min, 0},
    {"average", "<a<n>:n>", f_average, 0},
    {"string", "<x-b?:s>", f_string, 0},
    {"substring", "<s-nn?:s>", f_substring, 0},
    {"substringBefore", "<s-s:s>", f_substring_before, 0},
    {"substringAfter", "<s-s:s>", f_substring_after, 0},
    {"lowercase", "<s-:s>", f_lowercase, 0},
    {"uppercase", "<s-:s>", f_uppercase, 0},
    {"length", "<s-:n>", f_length, 0},
    {"trim", "<s-:s>", f_trim, 0},
    {"pad", "<s-ns?:s>", f_pad, 0},
    {"match", "<s-f<s:o>n?:a<o>>", f_match, 0},
    {"contains", "<s-(sf):b>", f_contains, 0},
    {"replace", "<s-(sf)(sf)n?:s>", f_replace, 0},
    {"split", "<s-(sf)n?:a<s>>", f_split, 0},
    {"join", "<a<s>s?:s>", f_join, 0},
    {"formatNumber", "<n-so?:s>", f_format_number, 0},
    {"formatBase", "<n-n?:s>", f_format_base, 0},
    {"number", "<(nsb)-:n>", f_number, 0},
    {"floor", "<n-:n>", f_floor, 0},
    {"ceil", "<n-:n>", f_ceil, 0},
    {"round", "<n-n?:n>", f_round, 0},
    {"abs", "<n-:n>", f_abs, 0},
    {"sqrt", "<n-:n>", f_sqrt, 0},
    {"power", "<n-n:n>", f_power, 0},
    {"random", "<:n>", f_random, 0},
    {"boolean", "<x-:b>", f_boolean, 0},
    {"not", "<x-:b>", f_not, 0},
    {"map", "<af>", f_map, 0},
    {"zip", "<a+>", f_zip, 0},
    {"filter", "<af>", f_filter, 0},
    {"single", "<af?>", f_single, 0},
    {"reduce", "<afj?:j>", f_reduce, 0},
    {"sift", "<o-f?:o>", f_sift, 0},
    {"keys", "<x-:a<s>>", f_keys, 0},
    {"lookup", "<x-s:x>", f_lookup, 0},
    {"append", "<xx:a>", f_append, 0},
    {"exists", "<x:b>", f_exists, 0},
    {"spread", "<x-:a<o>>", f_spread, 0},
    {"merge", "<a<o>:o>", f_merge, 0},
    {"reverse", "<a:a>", f_reverse, 0},
    {"each", "<o-f:a>", f_each, 0},
    {"error", "<s?:x>", f_error, 0},
    {"assert", "<bs?:x>", f_assert, 0},
    {"type", "<x:s>", f_type, 0},
    {"sort", "<af?:a>", f_sort, 0},
    {"shuffle", "<a:a>", f_shuffle, 0},
    {"distinct", "<x:x>", f_distinct, 0},
    {"base64encode", "<s-:s>", f_base64encode, 0},
    {"base64decode", "<s-:s>", f_base64decode, 0},
    {"encodeUrlComponent", "<s-:s>", f_encode_url_component, 0},
    {"encodeUrl", "<s-:s>", f_encode_url, 0},
    {"decodeUrlComponent", "<s-:s>", f_decode_url_component, 0},
    {"decodeUrl", "<s-:s>", f_decode_url, 0},
    {"eval", "<sx?:x>", f_eval, JB_NOT_AWS},
    {"clone", "<(oa)-:o>", f_clone, 0},
    {"now", "<s?s?:s>", f_now, 0},
    {"millis", "<:n>", f_millis, 0},
    {NULL, NULL, NULL, 0}};

const jbuiltin *orci_jbuiltin_find(const char *name, size_t n, int flags) {
  const jbuiltin *tabs[3] = {orci_jaws_builtins, BUILTINS, orci_jtime_builtins};
  for (int t = 0; t < 3; t++)
    for (const jbuiltin *b = tabs[t]; b->name; b++)
      if (strlen(b->name) == n && !memcmp(b->name, name, n)) {
        if (b->flags & JB_NOT_AWS) {
          if (!(flags & ORC_JSONATA_AWS)) return b;
        } else if ((b->flags & flags) == b->flags) {
          return b;
        }
      }
  return NULL;
}

/* A builtin's parsed signature, parsed once per evaluation. */
jsig *orci_jbuiltin_sig(jctx *C, const jbuiltin *b) {
  int bad;
  const char *code;
  for (int i = 0; i < C->nsig; i++)
    if (C->sigkey[i] == b) return C->sigval[i];
  jsig *g = orci_jsig_parse(&C->A, b->sig, strlen(b->sig), &bad, &code);
  if (!g) orci_jnomem(C);
  if (C->nsig < 32) {
    C->sigkey[C->nsig] = b;
    C->sigval[C->nsig++] = g;
  }
  return g;
}

/* }====== */
