/*
** JSONata lexer and parser: text to the syntax tree the evaluator walks.
**
** A Pratt (top-down operator precedence) parser with jsonata-js's binding
** powers builds a raw tree; a post-pass (process) then folds location
** paths into step lists with their predicates, stages, focus/index
** bindings, groupings and sort steps, resolves the parent operator (%)
** to ancestor bindings and marks tail calls inside lambdas. The tree lives
** in the compiled expression's arena; errors unwind to the caller's jctx.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_int.h"

enum { T_END, T_NAME, T_VAR, T_OP, T_STR, T_NUM, T_VALUE, T_REGEX };

typedef struct tok {
  int type;
  const char *p; /* operator / name / string bytes */
  size_t n;
  double num;
  int value;    /* T_VALUE: 1 true, 0 false, 2 null */
  int position; /* offset just past the token, as jsonata-js reports */
  int rflags;   /* T_REGEX flags */
} tok;

typedef struct parser {
  jctx *C;
  jarena *A;
  const char *s;
  size_t n, pos;
  tok t; /* the current token ("node" in jsonata-js) */
  int ancestor_label, ancestor_index;
  jnode **ancestry; /* parent nodes, by slot index */
  size_t nancestry, cancestry;
} parser;

static void *palloc(parser *P, size_t n) {
  void *p = orci_arena_alloc(P->A, n);
  if (!p) orci_jnomem(P->C);
  memset(p, 0, n);
  return p;
}

static jnode *newnode(parser *P, int type, int position) {
  jnode *x = (jnode *)palloc(P, sizeof(jnode));
  x->type = (uint8_t)type;
  x->position = position;
  return x;
}

static char *pstrdup(parser *P, const char *s, size_t n) {
  char *d = (char *)palloc(P, n + 1);
  memcpy(d, s, n);
  return d;
}

/* {====== lexer */

static const char *const OPS1 = ".[]{}(),@#;:?+-*/%|=<>^&!~";

static int is_op_char(char c) {
  return c != '\0' && strchr(OPS1, c) != NULL;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

static void lex_error(parser *P, const char *code, size_t pos,
                      const char *token) {
  orci_jthrow(P->C, code, (int)pos, token, NULL);
}

static void utf8_put(char *buf, size_t *len, unsigned cp) {
  if (cp < 0x80) {
    buf[(*len)++] = (char)cp;
  } else if (cp < 0x800) {
    buf[(*len)++] = (char)(0xC0 | (cp >> 6));
    buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    buf[(*len)++] = (char)(0xE0 | (cp >> 12));
    buf[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    buf[(*len)++] = (char)(0xF0 | (cp >> 18));
    buf[(*len)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[(*len)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *p, size_t avail, unsigned *out) {
  unsigned v = 0;
  if (avail < 4) return 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

static void lex_string(parser *P, tok *t) {
  char q = P->s[P->pos++];
  char *buf = (char *)palloc(P, P->n - P->pos + 1);
  size_t len = 0;
  while (P->pos < P->n) {
    char c = P->s[P->pos];
    if (c == '\\') {
      P->pos++;
      c = P->pos < P->n ? P->s[P->pos] : '\0';
      switch (c) {
      case '"':
        buf[len++] = '"';
        break;
      case '\\':
        buf[len++] = '\\';
        break;
      case '/':
        buf[len++] = '/';
        break;
      case 'b':
        buf[len++] = '\b';
        break;
      case 'f':
        buf[len++] = '\f';
        break;
      case 'n':
        buf[len++] = '\n';
        break;
      case 'r':
        buf[len++] = '\r';
        break;
      case 't':
        buf[len++] = '\t';
        break;
      case 'u': {
        unsigned cp, lo;
        if (!hex4(P->s + P->pos + 1, P->n - P->pos - 1, &cp))
          lex_error(P, "S0104", P->pos, NULL);
        P->pos += 4;
        /* a surrogate pair written as two escapes is one code point */
        if (cp >= 0xD800 && cp < 0xDC00 && P->pos + 6 < P->n + 0 &&
            P->s[P->pos + 1] == '\\' && P->s[P->pos + 2] == 'u' &&
            hex4(P->s + P->pos + 3, P->n - P->pos - 3, &lo) && lo >= 0xDC00 &&
            lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          P->pos += 6;
        } else if (cp >= 0xD800 && cp < 0xE000) {
          cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
        }
        utf8_put(buf, &len, cp);
        break;
      }
      default: {
        char tk[2] = {c, 0};
        lex_error(P, "S0103", P->pos, tk);
      }
      }
    } else if (c == q) {
      P->pos++;
      t->type = T_STR;
      t->p = buf;
      t->n = len;
      return;
    } else {
      buf[len++] = c;
    }
    P->pos++;
  }
  lex_error(P, "S0101", P->pos, NULL);
}

static void lex_regex(parser *P, tok *t) {
  size_t start = P->pos;
  int depth = 0;
  while (P->pos < P->n) {
    char c = P->s[P->pos];
    if (c == '/' && depth == 0) {
      size_t bs = 0;
      while (P->pos >= bs + 1 && P->s[P->pos - bs - 1] == '\\')
        bs++;
      if (bs % 2 == 0) {
        size_t plen = P->pos - start;
        int flags = 0;
        if (plen == 0) lex_error(P, "S0301", P->pos, NULL);
        P->pos++;
        while (P->pos < P->n && (P->s[P->pos] == 'i' || P->s[P->pos] == 'm')) {
          flags |= P->s[P->pos] == 'i' ? 1 : 2;
          P->pos++;
        }
        t->type = T_REGEX;
        t->p = P->s + start;
        t->n = plen;
        t->rflags = flags;
        return;
      }
    }
    if ((c == '(' || c == '[' || c == '{') &&
        (P->pos == 0 || P->s[P->pos - 1] != '\\'))
      depth++;
    if ((c == ')' || c == ']' || c == '}') &&
        (P->pos == 0 || P->s[P->pos - 1] != '\\'))
      depth--;
    P->pos++;
  }
  lex_error(P, "S0302", P->pos, NULL);
}

/* Next token into P->t. prefix: an operand may not start here, so '/' is
** division rather than a regex. */
static void lex(parser *P, int infix) {
  tok *t = &P->t;
  const char *s = P->s;
  memset(t, 0, sizeof *t);
  for (;;) {
    while (P->pos < P->n && is_space(s[P->pos]))
      P->pos++;
    if (P->pos + 1 < P->n && s[P->pos] == '/' && s[P->pos + 1] == '*') {
      size_t cstart = P->pos;
      P->pos += 2;
      for (;;) {
        if (P->pos + 1 >= P->n) lex_error(P, "S0106", cstart, NULL);
        if (s[P->pos] == '*' && s[P->pos + 1] == '/') break;
        P->pos++;
      }
      P->pos += 2;
      continue;
    }
    break;
  }
  if (P->pos >= P->n) {
    t->type = T_END;
    t->position = (int)P->n;
    return;
  }
  char c = s[P->pos], d = P->pos + 1 < P->n ? s[P->pos + 1] : '\0';
  if (!infix && c == '/') {
    P->pos++;
    lex_regex(P, t);
    t->position = (int)P->pos;
    return;
  }
  static const char *const two[] = {
      "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
  for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
    if (c == two[i][0] && d == two[i][1]) {
      t->type = T_OP;
      t->p = two[i];
      t->n = 2;
      P->pos += 2;
      t->position = (int)P->pos;
      return;
    }
  }
  if (is_op_char(c)) {
    t->type = T_OP;
    t->p = s + P->pos;
    t->n = 1;
    P->pos++;
    t->position = (int)P->pos;
    return;
  }
  if (c == '"' || c == '\'') {
    lex_string(P, t);
    t->position = (int)P->pos;
    return;
  }
  if ((c >= '0' && c <= '9') || (c == '-' && d >= '0' && d <= '9')) {
    /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? */
    size_t i = P->pos;
    if (s[i] == '-') i++;
    if (s[i] == '0')
      i++;
    else
      while (i < P->n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i + 1 < P->n && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
      i++;
      while (i < P->n && s[i] >= '0' && s[i] <= '9')
        i++;
    }
    if (i < P->n && (s[i] == 'e' || s[i] == 'E')) {
      size_t j = i + 1;
      if (j < P->n && (s[j] == '+' || s[j] == '-')) j++;
      if (j < P->n && s[j] >= '0' && s[j] <= '9') {
        while (j < P->n && s[j] >= '0' && s[j] <= '9')
          j++;
        i = j;
      }
    }
    char *num = pstrdup(P, s + P->pos, i - P->pos);
    double v = strtod(num, NULL);
    if (!isfinite(v)) lex_error(P, "S0102", P->pos, num);
    t->type = T_NUM;
    t->num = v;
    P->pos = i;
    t->position = (int)P->pos;
    return;
  }
  if (c == '`') {
    size_t start = ++P->pos;
    while (P->pos < P->n && s[P->pos] != '`')
      P->pos++;
    if (P->pos >= P->n) lex_error(P, "S0105", P->n, NULL);
    t->type = T_NAME;
    t->p = s + start;
    t->n = P->pos - start;
    P->pos++;
    t->position = (int)P->pos;
    return;
  }
  size_t i = P->pos;
  while (i < P->n && !is_space(s[i]) && !is_op_char(s[i]))
    i++;
  if (s[P->pos] == '$') {
    t->type = T_VAR;
    t->p = s + P->pos + 1;
    t->n = i - P->pos - 1;
  } else {
    size_t n = i - P->pos;
    const char *w = s + P->pos;
    t->type = T_NAME;
    t->p = w;
    t->n = n;
    if ((n == 2 && !memcmp(w, "or", 2)) || (n == 2 && !memcmp(w, "in", 2)) ||
        (n == 3 && !memcmp(w, "and", 3)))
      t->type = T_OP;
    else if (n == 4 && !memcmp(w, "true", 4))
      t->type = T_VALUE, t->value = 1;
    else if (n == 5 && !memcmp(w, "false", 5))
      t->type = T_VALUE, t->value = 0;
    else if (n == 4 && !memcmp(w, "null", 4))
      t->type = T_VALUE, t->value = 2;
  }
  P->pos = i;
  t->position = (int)P->pos;
}

/* }====== */

/* {====== Pratt parser */

static int is_op(const tok *t, const char *op) {
  return t->type == T_OP && t->n == strlen(op) && !memcmp(t->p, op, t->n);
}

/* Left binding power of the current token (0 for operands and closers). */
static int lbp(const tok *t) {
  static const struct {
    const char *op;
    int bp;
  } tab[] = {{".", 75},  {"[", 80},  {"{", 70},  {"(", 80},   {"@", 80},
             {"#", 80},  {"?", 20},  {"+", 50},  {"-", 50},   {"*", 60},
             {"/", 60},  {"%", 60},  {"=", 40},  {"<", 40},   {">", 40},
             {"^", 40},  {":=", 10}, {"!=", 40}, {"<=", 40},  {">=", 40},
             {"~>", 40}, {"?:", 40}, {"??", 40}, {"and", 30}, {"or", 25},
             {"in", 40}, {"&", 50}};
  if (t->type != T_OP) return 0;
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (is_op(t, tab[i].op)) return tab[i].bp;
  return 0;
}

static int known_op(const tok *t) {
  static const char *const known[] = {
      ".",  "[",  "]",  "{",  "}",  "(",  ")",  ",",  "@",   "#",  ";",  ":",
      "?",  "+",  "-",  "*",  "/",  "%",  "|",  "=",  "<",   ">",  "^",  "**",
      "..", ":=", "!=", "<=", ">=", "~>", "?:", "??", "and", "or", "in", "&"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (is_op(t, known[i])) return 1;
  return 0;
}

static const char *tok_text(parser *P, const tok *t) {
  switch (t->type) {
  case T_END:
    return "(end)";
  case T_NUM: {
    char *b = (char *)palloc(P, 32);
    orci_jnumfmt(t->num, b);
    return b;
  }
  case T_VALUE:
    return t->value == 1 ? "true" : t->value ? "null" : "false";
  default:
    return pstrdup(P, t->p, t->n < 60 ? t->n : 60);
  }
}

static void advance(parser *P, const char *id, int infix) {
  if (id) {
    int ok = is_op(&P->t, id);
    if (!ok) {
      const char *code = P->t.type == T_END ? "S0203" : "S0202";
      char tokbuf[64];
      snprintf(tokbuf, sizeof tokbuf, "%s", tok_text(P, &P->t));
      orci_jthrow(P->C, code, P->t.position, tokbuf, id);
    }
  }
  lex(P, infix);
  if (P->t.type == T_OP && !known_op(&P->t))
    orci_jthrow(P->C, "S0204", P->t.position, tok_text(P, &P->t), NULL);
}

static jnode *expression(parser *P, int rbp);

static jnode **grow(parser *P, jnode **items, size_t n, size_t *cap) {
  if (n < *cap) return items;
  size_t nc = *cap ? *cap * 2 : 4;
  jnode **ni = (jnode **)palloc(P, nc * sizeof *ni);
  if (n) memcpy(ni, items, n * sizeof *ni);
  *cap = nc;
  return ni;
}

#define PUSH(P, arr, n, cap, x)                                                \
  do {                                                                         \
    (arr) = grow((P), (arr), (n), &(cap));                                     \
    (arr)[(n)++] = (x);                                                        \
  } while (0)

static jnode *parse_object(parser *P, jnode *x, jnode *left) {
  size_t cap = 0;
  if (!is_op(&P->t, "}")) {
    for (;;) {
      jnode *k = expression(P, 0);
      advance(P, ":", 0);
      jnode *v = expression(P, 0);
      PUSH(P, x->items, x->n, cap, k);
      PUSH(P, x->items, x->n, cap, v);
      if (!is_op(&P->t, ",")) break;
      advance(P, ",", 0);
    }
  }
  advance(P, "}", 1);
  if (left) {
    x->type = N_RAW_GROUP;
    x->lhs = left;
  } else {
    x->type = N_OBJECT;
  }
  return x;
}

static jnode *nud(parser *P, tok t) {
  jnode *x;
  switch (t.type) {
  case T_END:
    /* like jsonata-js, the end is an operand here: a closer the caller
    ** expects next reports S0203, else processing reports S0207 */
    return newnode(P, N_RAW_END, t.position);
  case T_NAME:
    x = newnode(P, N_NAME, t.position);
    x->str = pstrdup(P, t.p, t.n);
    x->len = t.n;
    return x;
  case T_VAR:
    x = newnode(P, N_VARIABLE, t.position);
    x->str = pstrdup(P, t.p, t.n);
    x->len = t.n;
    return x;
  case T_STR:
    x = newnode(P, N_STRING, t.position);
    x->str = t.p;
    x->len = t.n;
    return x;
  case T_NUM:
    x = newnode(P, N_NUMBER, t.position);
    x->num = t.num;
    return x;
  case T_VALUE:
    x = newnode(P, N_VALUE, t.position);
    x->num = t.value;
    return x;
  case T_REGEX:
    x = newnode(P, N_REGEX, t.position);
    x->str = pstrdup(P, t.p, t.n);
    x->len = t.n;
    x->regex_flags = t.rflags;
    x->regex = orci_jregex_compile(P->C, P->A, t.p, t.n, t.rflags, t.position);
    return x;
  default:
    break;
  }
  /* operators used in prefix position */
  if (is_op(&t, "and") || is_op(&t, "or") || is_op(&t, "in")) {
    x = newnode(P, N_NAME, t.position);
    x->str = pstrdup(P, t.p, t.n);
    x->len = t.n;
    return x;
  }
  if (is_op(&t, "-")) {
    x = newnode(P, N_NEG, t.position);
    x->lhs = expression(P, 70);
    return x;
  }
  if (is_op(&t, "*")) return newnode(P, N_WILDCARD, t.position);
  if (is_op(&t, "**")) return newnode(P, N_DESCENDANT, t.position);
  if (is_op(&t, "%")) return newnode(P, N_PARENT, t.position);
  if (is_op(&t, "(")) {
    size_t cap = 0;
    x = newnode(P, N_BLOCK, t.position);
    while (!is_op(&P->t, ")")) {
      PUSH(P, x->items, x->n, cap, expression(P, 0));
      if (!is_op(&P->t, ";")) break;
      advance(P, ";", 0);
    }
    advance(P, ")", 1);
    return x;
  }
  if (is_op(&t, "[")) {
    size_t cap = 0;
    x = newnode(P, N_ARRAY, t.position);
    if (!is_op(&P->t, "]")) {
      for (;;) {
        jnode *item = expression(P, 0);
        if (is_op(&P->t, "..")) {
          jnode *r = newnode(P, N_BINARY, P->t.position);
          r->op = OP_RANGE;
          r->lhs = item;
          advance(P, "..", 0);
          r->rhs = expression(P, 0);
          item = r;
        }
        PUSH(P, x->items, x->n, cap, item);
        if (!is_op(&P->t, ",")) break;
        advance(P, ",", 0);
      }
    }
    advance(P, "]", 1);
    return x;
  }
  if (is_op(&t, "{"))
    return parse_object(P, newnode(P, N_OBJECT, t.position), NULL);
  if (is_op(&t, "|")) {
    x = newnode(P, N_TRANSFORM, t.position);
    x->lhs = expression(P, 0);
    advance(P, "|", 0);
    x->rhs = expression(P, 0);
    if (is_op(&P->t, ",")) {
      advance(P, ",", 0);
      x->third = expression(P, 0);
    }
    advance(P, "|", 0);
    return x;
  }
  orci_jthrow(P->C, "S0211", t.position, tok_text(P, &t), NULL);
}

static int binop(const tok *t) {
  static const struct {
    const char *op;
    int code;
  } tab[] = {{"+", OP_ADD},   {"-", OP_SUB}, {"*", OP_MUL}, {"/", OP_DIV},
             {"%", OP_MOD},   {"=", OP_EQ},  {"!=", OP_NE}, {"<", OP_LT},
             {"<=", OP_LE},   {">", OP_GT},  {">=", OP_GE}, {"&", OP_CONCAT},
             {"and", OP_AND}, {"or", OP_OR}, {"in", OP_IN}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (is_op(t, tab[i].op)) return tab[i].code;
  return 0;
}

static jnode *led(parser *P, tok t, jnode *left) {
  jnode *x;
  int bp = lbp(&t), op = binop(&t);
  if (op) {
    x = newnode(P, N_BINARY, t.position);
    x->op = (uint8_t)op;
    x->lhs = left;
    x->rhs = expression(P, bp);
    return x;
  }
  if (is_op(&t, ".")) {
    x = newnode(P, N_RAW_DOT, t.position);
    x->lhs = left;
    x->rhs = expression(P, bp);
    return x;
  }
  if (is_op(&t, "~>")) {
    x = newnode(P, N_APPLY, t.position);
    x->lhs = left;
    x->rhs = expression(P, bp);
    return x;
  }
  if (is_op(&t, "??") || is_op(&t, "?:")) {
    x = newnode(P, N_CONDITION, t.position);
    x->op = is_op(&t, "??") ? 2 : 1;
    x->lhs = left;
    x->third = expression(P, 0);
    return x;
  }
  if (is_op(&t, "?")) {
    x = newnode(P, N_CONDITION, t.position);
    x->lhs = left;
    x->rhs = expression(P, 0);
    if (is_op(&P->t, ":")) {
      advance(P, ":", 0);
      x->third = expression(P, 0);
    }
    return x;
  }
  if (is_op(&t, "(")) {
    size_t cap = 0;
    x = newnode(P, N_FUNCTION, t.position);
    x->lhs = left;
    if (!is_op(&P->t, ")")) {
      for (;;) {
        if (is_op(&P->t, "?")) {
          x->type = N_PARTIAL;
          PUSH(P, x->items, x->n, cap,
               newnode(P, N_PLACEHOLDER, P->t.position));
          advance(P, "?", 0);
        } else {
          PUSH(P, x->items, x->n, cap, expression(P, 0));
        }
        if (!is_op(&P->t, ",")) break;
        advance(P, ",", 0);
      }
    }
    advance(P, ")", 1);
    if (left->type == N_NAME &&
        ((left->len == 8 && !memcmp(left->str, "function", 8)) ||
         (left->len == 2 && !memcmp(left->str, "\xCE\xBB", 2)))) {
      for (size_t i = 0; i < x->n; i++) {
        if (x->items[i]->type != N_VARIABLE) {
          char v[24];
          snprintf(v, sizeof v, "%zu", i + 1);
          orci_jthrow(P->C, "S0208", x->items[i]->position,
                      x->items[i]->str ? x->items[i]->str : "", v);
        }
      }
      x->type = N_LAMBDA;
      if (is_op(&P->t, "<")) {
        /* the signature's text runs to the matching '>' */
        size_t start = P->pos - 1, end = start;
        int depth = 0;
        for (end = start; end < P->n; end++) {
          if (P->s[end] == '<')
            depth++;
          else if (P->s[end] == '>' && --depth == 0)
            break;
          else if (P->s[end] == '{' && depth <= 1)
            break;
        }
        if (end >= P->n || P->s[end] != '>')
          orci_jthrow(P->C, "S0202", (int)end, "{", ">");
        int bad = 0;
        const char *code = NULL;
        x->sig =
            orci_jsig_parse(P->A, P->s + start, end - start + 1, &bad, &code);
        if (!x->sig) orci_jthrow(P->C, code, (int)(start + bad), NULL, NULL);
        P->pos = end + 1;
        lex(P, 1);
      }
      advance(P, "{", 0);
      x->rhs = expression(P, 0);
      advance(P, "}", 1);
    }
    return x;
  }
  if (is_op(&t, "[")) {
    if (is_op(&P->t, "]")) {
      jnode *step = left;
      while (step && step->type == N_RAW_PRED)
        step = step->lhs;
      step->keep_array = 1;
      advance(P, "]", 1);
      return left;
    }
    x = newnode(P, N_RAW_PRED, t.position);
    x->lhs = left;
    x->rhs = expression(P, 0);
    advance(P, "]", 1);
    return x;
  }
  if (is_op(&t, "^")) {
    size_t cap = 0;
    x = newnode(P, N_RAW_SORT, t.position);
    x->lhs = left;
    advance(P, "(", 0);
    for (;;) {
      jnode *term = newnode(P, N_FILTER, P->t.position);
      if (is_op(&P->t, "<")) {
        advance(P, "<", 0);
      } else if (is_op(&P->t, ">")) {
        term->op = 1;
        advance(P, ">", 0);
      }
      term->lhs = expression(P, 0);
      PUSH(P, x->items, x->n, cap, term);
      if (!is_op(&P->t, ",")) break;
      advance(P, ",", 0);
    }
    advance(P, ")", 1);
    return x;
  }
  if (is_op(&t, "{"))
    return parse_object(P, newnode(P, N_OBJECT, t.position), left);
  if (is_op(&t, ":=")) {
    if (left->type != N_VARIABLE)
      orci_jthrow(P->C, "S0212", left->position, left->str, NULL);
    x = newnode(P, N_BIND, t.position);
    x->lhs = left;
    x->rhs = expression(P, 9);
    return x;
  }
  if (is_op(&t, "@") || is_op(&t, "#")) {
    x = newnode(P, is_op(&t, "@") ? N_RAW_FOCUS : N_RAW_INDEXBIND, t.position);
    x->lhs = left;
    x->rhs = expression(P, 80);
    if (x->rhs->type != N_VARIABLE)
      orci_jthrow(P->C, "S0214", x->rhs->position, is_op(&t, "@") ? "@" : "#",
                  NULL);
    return x;
  }
  orci_jthrow(P->C, "S0201", t.position, tok_text(P, &t), NULL);
}

static jnode *expression(parser *P, int rbp) {
  tok t = P->t;
  orci_jstep(P->C); /* deeply nested text is bounded like evaluation */
  advance(P, NULL, 1);
  jnode *left = nud(P, t);
  while (rbp < lbp(&P->t)) {
    t = P->t;
    advance(P, NULL, 0);
    left = led(P, t, left);
  }
  P->C->depth--;
  return left;
}

/* }====== */

/* {====== post-processing (jsonata-js's processAST) */

static void push_slot(parser *P, jnode *x, jslot *s) {
  jslot **ns = (jslot **)palloc(P, (x->nseeking + 1) * sizeof *ns);
  if (x->nseeking) memcpy(ns, x->seeking, x->nseeking * sizeof *ns);
  ns[x->nseeking++] = s;
  x->seeking = ns;
}

static void push_ancestry(parser *P, jnode *result, jnode *value) {
  if (!value) return;
  for (size_t i = 0; i < value->nseeking; i++)
    push_slot(P, result, value->seeking[i]);
  if (value->type == N_PARENT) push_slot(P, result, value->slot);
}

static jslot *seek_parent(parser *P, jnode *node, jslot *slot) {
  switch (node->type) {
  case N_NAME:
  case N_WILDCARD:
    slot->level--;
    if (slot->level == 0) {
      if (node->ancestor) {
        /* reuse the existing label */
        P->ancestry[slot->index]->slot->label = node->ancestor->label;
      }
      node->ancestor = slot;
      node->tuple = 1;
    }
    break;
  case N_PARENT:
    slot->level++;
    break;
  case N_BLOCK:
    if (node->n > 0) {
      node->tuple = 1;
      slot = seek_parent(P, node->items[node->n - 1], slot);
    }
    break;
  case N_PATH: {
    node->tuple = 1;
    long index = (long)node->n - 1;
    slot = seek_parent(P, node->items[index--], slot);
    while (slot->level > 0 && index >= 0)
      slot = seek_parent(P, node->items[index--], slot);
    break;
  }
  default:
    orci_jthrow(P->C, "S0217", node->position, "parent", NULL);
  }
  return slot;
}

static void resolve_ancestry(parser *P, jnode *path) {
  jnode *last = path->items[path->n - 1];
  size_t nslots = last->nseeking + (last->type == N_PARENT ? 1 : 0);
  jslot **slots = (jslot **)palloc(P, (nslots + 1) * sizeof *slots);
  for (size_t i = 0; i < last->nseeking; i++)
    slots[i] = last->seeking[i];
  if (last->type == N_PARENT) slots[last->nseeking] = last->slot;
  for (size_t is = 0; is < nslots; is++) {
    jslot *slot = slots[is];
    long index = (long)path->n - 2;
    while (slot->level > 0) {
      if (index < 0) {
        push_slot(P, path, slot);
        break;
      }
      jnode *step = path->items[index--];
      while (index >= 0 && step->focus && path->items[index]->focus)
        step = path->items[index--];
      slot = seek_parent(P, step, slot);
    }
  }
}

static void add_stage(parser *P, jnode *step, jnode *stage) {
  jnode **ns = (jnode **)palloc(P, (step->nstages + 1) * sizeof *ns);
  if (step->nstages) memcpy(ns, step->stages, step->nstages * sizeof *ns);
  ns[step->nstages++] = stage;
  step->stages = ns;
}

static void add_pred(parser *P, jnode *step, jnode *stage) {
  jnode **ns = (jnode **)palloc(P, (step->npreds + 1) * sizeof *ns);
  if (step->npreds) memcpy(ns, step->preds, step->npreds * sizeof *ns);
  ns[step->npreds++] = stage;
  step->preds = ns;
}

static jnode *as_path(parser *P, jnode *x) {
  if (x->type == N_PATH) return x;
  jnode *p = newnode(P, N_PATH, x->position);
  p->items = (jnode **)palloc(P, sizeof(jnode *));
  p->items[0] = x;
  p->n = 1;
  return p;
}

static void path_push(parser *P, jnode *path, jnode *step) {
  jnode **ns = (jnode **)palloc(P, (path->n + 1) * sizeof *ns);
  if (path->n) memcpy(ns, path->items, path->n * sizeof *ns);
  ns[path->n++] = step;
  path->items = ns;
}

static jnode *tail_call(jnode *x) {
  if (x->type == N_FUNCTION && !x->npreds) {
    jnode *thunk = x; /* evaluated lazily by apply's trampoline */
    thunk->thunk = 1;
    return thunk;
  }
  if (x->type == N_CONDITION && x->op == 0) {
    x->rhs = tail_call(x->rhs);
    if (x->third) x->third = tail_call(x->third);
  } else if (x->type == N_BLOCK && x->n > 0) {
    x->items[x->n - 1] = tail_call(x->items[x->n - 1]);
  }
  return x;
}

static jnode *process(parser *P, jnode *x);

static void steps_from_predicates(jnode *x) {
  /* a step's predicates become stages (filters evaluated per step) */
  if (x->npreds) {
    x->stages = x->preds;
    x->nstages = x->npreds;
    x->preds = NULL;
    x->npreds = 0;
  }
}

static jnode *process(parser *P, jnode *x) {
  jnode *result = x, *step;
  orci_jstep(P->C);
  switch (x->type) {
  case N_RAW_DOT: {
    jnode *lstep = process(P, x->lhs);
    if (lstep->type == N_PATH) {
      result = lstep;
    } else {
      result = as_path(P, lstep);
    }
    if (lstep->type == N_PARENT) push_slot(P, result, lstep->slot);
    jnode *rest = process(P, x->rhs);
    if (rest->type == N_PATH) {
      for (size_t i = 0; i < rest->n; i++)
        path_push(P, result, rest->items[i]);
    } else {
      steps_from_predicates(rest);
      path_push(P, result, rest);
    }
    for (size_t i = 0; i < result->n; i++) {
      jnode *s = result->items[i];
      if (s->type == N_NUMBER || s->type == N_VALUE) {
        const char *v = s->type == N_NUMBER ? "number"
                        : s->num == 1       ? "true"
                        : s->num == 0       ? "false"
                                            : "null";
        orci_jthrow(P->C, "S0213", s->position, NULL, v);
      }
      if (s->type == N_STRING) s->type = N_NAME;
      if (s->keep_array) result->keep_singleton = 1;
    }
    if (result->items[0]->type == N_ARRAY) result->items[0]->cons_array = 1;
    if (result->items[result->n - 1]->type == N_ARRAY)
      result->items[result->n - 1]->cons_array = 1;
    resolve_ancestry(P, result);
    break;
  }
  case N_RAW_PRED: {
    result = process(P, x->lhs);
    int is_path = result->type == N_PATH;
    step = is_path ? result->items[result->n - 1] : result;
    if (step->group) orci_jthrow(P->C, "S0209", x->position, NULL, NULL);
    jnode *pred = process(P, x->rhs);
    if (pred->nseeking) {
      for (size_t i = 0; i < pred->nseeking; i++) {
        jslot *slot = pred->seeking[i];
        if (slot->level == 1)
          seek_parent(P, step, slot);
        else
          slot->level--;
      }
      push_ancestry(P, step, pred);
    }
    jnode *f = newnode(P, N_FILTER, x->position);
    f->lhs = pred;
    if (is_path)
      add_stage(P, step, f);
    else
      add_pred(P, step, f);
    break;
  }
  case N_RAW_GROUP: {
    result = process(P, x->lhs);
    if (result->group) orci_jthrow(P->C, "S0210", x->position, NULL, NULL);
    jnode *g = newnode(P, N_OBJECT, x->position);
    g->items = x->items;
    g->n = x->n;
    for (size_t i = 0; i < g->n; i++)
      g->items[i] = process(P, g->items[i]);
    result->group = g;
    break;
  }
  case N_RAW_SORT: {
    result = as_path(P, process(P, x->lhs));
    jnode *s = newnode(P, N_SORT, x->position);
    s->items = x->items;
    s->n = x->n;
    for (size_t i = 0; i < s->n; i++) {
      s->items[i]->lhs = process(P, s->items[i]->lhs);
      push_ancestry(P, s, s->items[i]->lhs);
    }
    path_push(P, result, s);
    resolve_ancestry(P, result);
    break;
  }
  case N_BIND:
    x->lhs = process(P, x->lhs);
    x->rhs = process(P, x->rhs);
    push_ancestry(P, x, x->rhs);
    break;
  case N_RAW_FOCUS: {
    result = process(P, x->lhs);
    step = result->type == N_PATH ? result->items[result->n - 1] : result;
    if (step->nstages || step->npreds)
      orci_jthrow(P->C, "S0215", x->position, NULL, NULL);
    if (step->type == N_SORT)
      orci_jthrow(P->C, "S0216", x->position, NULL, NULL);
    if (x->keep_array) step->keep_array = 1;
    step->focus = x->rhs->str;
    step->focuslen = x->rhs->len;
    step->tuple = 1;
    break;
  }
  case N_RAW_INDEXBIND: {
    result = process(P, x->lhs);
    if (result->type == N_PATH) {
      step = result->items[result->n - 1];
    } else {
      step = result;
      result = as_path(P, result);
      steps_from_predicates(step);
    }
    if (!step->nstages) {
      step->index = x->rhs->str;
      step->indexlen = x->rhs->len;
    } else {
      jnode *ix = newnode(P, N_INDEX, x->position);
      ix->str = x->rhs->str;
      ix->len = x->rhs->len;
      add_stage(P, step, ix);
    }
    step->tuple = 1;
    break;
  }
  case N_APPLY:
    x->lhs = process(P, x->lhs);
    x->rhs = process(P, x->rhs);
    x->keep_array = x->lhs->keep_array || x->rhs->keep_array;
    break;
  case N_BINARY:
    x->lhs = process(P, x->lhs);
    x->rhs = process(P, x->rhs);
    push_ancestry(P, x, x->lhs);
    push_ancestry(P, x, x->rhs);
    break;
  case N_ARRAY:
    for (size_t i = 0; i < x->n; i++) {
      x->items[i] = process(P, x->items[i]);
      push_ancestry(P, x, x->items[i]);
    }
    break;
  case N_OBJECT:
    for (size_t i = 0; i < x->n; i++) {
      x->items[i] = process(P, x->items[i]);
      push_ancestry(P, x, x->items[i]);
    }
    break;
  case N_NEG:
    x->lhs = process(P, x->lhs);
    if (x->lhs->type == N_NUMBER) {
      result = x->lhs;
      result->num = -result->num;
    } else {
      push_ancestry(P, x, x->lhs);
    }
    break;
  case N_FUNCTION:
  case N_PARTIAL:
    for (size_t i = 0; i < x->n; i++) {
      x->items[i] = process(P, x->items[i]);
      push_ancestry(P, x, x->items[i]);
    }
    x->lhs = process(P, x->lhs);
    break;
  case N_LAMBDA:
    x->rhs = tail_call(process(P, x->rhs));
    break;
  case N_CONDITION:
    x->lhs = process(P, x->lhs);
    push_ancestry(P, x, x->lhs);
    if (x->rhs) {
      x->rhs = process(P, x->rhs);
      push_ancestry(P, x, x->rhs);
    }
    if (x->third) {
      x->third = process(P, x->third);
      push_ancestry(P, x, x->third);
    }
    break;
  case N_TRANSFORM:
    x->lhs = process(P, x->lhs);
    x->rhs = process(P, x->rhs);
    if (x->third) x->third = process(P, x->third);
    break;
  case N_BLOCK:
    for (size_t i = 0; i < x->n; i++) {
      x->items[i] = process(P, x->items[i]);
      push_ancestry(P, x, x->items[i]);
      if (x->items[i]->cons_array ||
          (x->items[i]->type == N_PATH && x->items[i]->items[0]->cons_array))
        x->cons_array = 1;
    }
    break;
  case N_NAME:
    result = as_path(P, x);
    if (x->keep_array) result->keep_singleton = 1;
    break;
  case N_PARENT: {
    jslot *slot = (jslot *)palloc(P, sizeof *slot);
    slot->label = P->ancestor_label++;
    slot->level = 1;
    slot->index = P->ancestor_index++;
    x->slot = slot;
    if (P->nancestry == P->cancestry) {
      size_t nc = P->cancestry ? P->cancestry * 2 : 8;
      jnode **na = (jnode **)palloc(P, nc * sizeof *na);
      if (P->nancestry) memcpy(na, P->ancestry, P->nancestry * sizeof *na);
      P->ancestry = na;
      P->cancestry = nc;
    }
    P->ancestry[P->nancestry++] = x;
    break;
  }
  case N_RAW_END:
    orci_jthrow(P->C, "S0207", x->position, NULL, NULL);
  default:
    break;
  }
  if (x->keep_array) result->keep_array = 1;
  P->C->depth--;
  return result;
}

/* }====== */

jnode *orci_jparse(jctx *C, jarena *A, const char *text, size_t len) {
  parser P;
  memset(&P, 0, sizeof P);
  P.C = C;
  P.A = A;
  P.s = text;
  P.n = len;
  advance(&P, NULL, 0);
  jnode *x = expression(&P, 0);
  if (P.t.type != T_END)
    orci_jthrow(C, "S0201", P.t.position, tok_text(&P, &P.t), NULL);
  x = process(&P, x);
  if (x->type == N_PARENT || x->nseeking)
    orci_jthrow(C, "S0217", x->position, "parent", NULL);
  return x;
}
