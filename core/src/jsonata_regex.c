/*
** JSONata regular expressions on PCRE2, and the matcher protocol.
**
** JSONata regexes are JavaScript regexes (/.../i, /.../m). PCRE2 accepts
** JavaScript's syntax with PCRE2_ALT_BSUX (\uHHHH, \xHH), unset
** back-references matching empty (PCRE2_MATCH_UNSET_BACKREF) and '$'
** matching only at the very end (PCRE2_DOLLAR_ENDONLY), and it is the
** well-kept, widely packaged engine (Debian's libpcre2-8) with Unicode
** support; POSIX regex lacks lazy quantifiers, look-around and \d \w \s.
** All of PCRE2's memory comes from an arena (the compiled expression's or
** the evaluation's) through a general context, so a JSONata error that
** unwinds past a match leaks nothing.
*/
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "jsonata_int.h"

static void *re_malloc(PCRE2_SIZE n, void *ud) {
  return orci_arena_alloc((jarena *)ud, n);
}

static void re_free(void *p, void *ud) {
  (void)p;
  (void)ud;
}

typedef struct jregex {
  pcre2_code *code;
  pcre2_general_context *gc;
} jregex;

void *orci_jregex_compile(jctx *C, jarena *A, const char *src, size_t n,
                          int flags, int position) {
  pcre2_general_context *gc =
      pcre2_general_context_create(re_malloc, re_free, A);
  if (!gc) orci_jnomem(C);
  pcre2_compile_context *cc = pcre2_compile_context_create(gc);
  if (!cc) orci_jnomem(C);
  uint32_t opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF |
                  PCRE2_DOLLAR_ENDONLY;
  if (flags & 1) opts |= PCRE2_CASELESS;
  if (flags & 2) opts |= PCRE2_MULTILINE;
  int ec;
  PCRE2_SIZE eo;
  pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, n, opts, &ec, &eo, cc);
  if (!code) {
    char msg[120], val[200];
    pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
    snprintf(val, sizeof val, "%s at offset %zu", msg, (size_t)eo);
    orci_jthrow(C, "S0303", position, NULL, val);
  }
  jregex *re = (jregex *)orci_arena_alloc(A, sizeof *re);
  if (!re) orci_jnomem(C);
  re->code = code;
  re->gc = gc;
  return re;
}

int orci_jregex_exec(jctx *C, void *rex, const char *s, size_t n, size_t from,
                     jmatch *m) {
  jregex *re = (jregex *)rex;
  pcre2_general_context *gc =
      pcre2_general_context_create(re_malloc, re_free, &C->A);
  if (!gc) orci_jnomem(C);
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, gc);
  if (!md) orci_jnomem(C);
  pcre2_match_context *mc = pcre2_match_context_create(gc);
  if (!mc) orci_jnomem(C);
  pcre2_set_match_limit(mc, 10000000);
  pcre2_set_depth_limit(mc, 100000);
  if (from > n) return 0;
  int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, from, 0, md, mc);
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc < 0) {
    char msg[120];
    pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
    if (rc == PCRE2_ERROR_NOMEMORY) orci_jnomem(C);
    orci_jthrow(C, "D1012", 0, NULL, msg);
  }
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
  uint32_t count = pcre2_get_ovector_count(md);
  m->start = ov[0];
  m->end = ov[1];
  m->ngroups = (int)count - 1;
  if (m->ngroups < 0) m->ngroups = 0;
  m->gstart =
      (size_t *)orci_jalloc(C, (size_t)(m->ngroups + 1) * sizeof(size_t));
  m->gend = (size_t *)orci_jalloc(C, (size_t)(m->ngroups + 1) * sizeof(size_t));
  for (int i = 0; i < m->ngroups; i++) {
    if (i + 1 < rc && ov[2 * (i + 1)] != PCRE2_UNSET) {
      m->gstart[i] = ov[2 * (i + 1)];
      m->gend[i] = ov[2 * (i + 1) + 1];
    } else {
      m->gstart[i] = m->gend[i] = (size_t)-1;
    }
  }
  return 1;
}

void orci_jmiter_init(jmiter *it, jv matcher, const char *s, size_t n,
                      int position) {
  memset(it, 0, sizeof *it);
  it->matcher = matcher;
  it->s = s;
  it->n = n;
  it->position = position;
}

static int custom_result(jctx *C, jmiter *it, jv res, jmatch *m) {
  if (res.t == JV_UNDEF) return 0;
  jv start = orci_jget(res, "start", 5), end = orci_jget(res, "end", 3);
  jv groups = orci_jget(res, "groups", 6), next = orci_jget(res, "next", 4);
  if (!orci_jis_object(res) ||
      !(start.t == JV_NUM || orci_jis_array(groups) || next.t == JV_FN))
    orci_jthrow(C, "T1010", it->position, NULL, NULL);
  it->last = res;
  m->start = start.t == JV_NUM && start.u.n > 0
                 ? orci_u8off(it->s, it->n, (size_t)start.u.n)
                 : 0;
  m->end = end.t == JV_NUM && end.u.n > 0
               ? orci_u8off(it->s, it->n, (size_t)end.u.n)
               : m->start;
  jv match = orci_jget(res, "match", 5);
  if (end.t != JV_NUM && match.t == JV_STR) m->end = m->start + match.u.s.n;
  size_t ng = orci_jis_array(groups) ? orci_jlen(groups) : 0;
  m->ngroups = (int)ng;
  m->gstart = (size_t *)orci_jalloc(C, (ng + 1) * sizeof(size_t));
  m->gend = (size_t *)orci_jalloc(C, (ng + 1) * sizeof(size_t));
  /* a custom matcher's groups are strings, not offsets: keep them in the
  ** subject when they occur there, else mark them unset */
  for (size_t i = 0; i < ng; i++) {
    jv g = orci_jat(groups, i);
    m->gstart[i] = m->gend[i] = (size_t)-1;
    if (g.t == JV_STR) {
      const char *hit = NULL;
      for (size_t k = m->start; k + g.u.s.n <= m->end && !hit; k++)
        if (!memcmp(it->s + k, g.u.s.p, g.u.s.n)) hit = it->s + k;
      if (hit) {
        m->gstart[i] = (size_t)(hit - it->s);
        m->gend[i] = m->gstart[i] + g.u.s.n;
      }
    }
  }
  return 1;
}

int orci_jmiter_next(jctx *C, jmiter *it, jmatch *m) {
  if (it->done) return 0;
  jfn *f = it->matcher.u.f;
  if (it->matcher.t == JV_FN && f->kind == F_REGEX) {
    if (it->started && it->from >= it->n) {
      it->done = 1;
      return 0;
    }
    if (!orci_jregex_exec(C, f->node->regex, it->s, it->n, it->from, m)) {
      it->done = 1;
      return 0;
    }
    if (it->started && m->end == m->start)
      orci_jthrow(C, "D1004", f->node->position, NULL, NULL);
    it->started = 1;
    it->from = m->end;
    return 1;
  }
  jv res;
  if (!it->started) {
    jv arg = orci_jstr(it->s, it->n);
    res = orci_japply(C, it->matcher, &arg, 1, orci_jundef(), it->position);
    it->started = 1;
  } else {
    jv next = orci_jget(it->last, "next", 4);
    if (next.t != JV_FN) {
      it->done = 1;
      return 0;
    }
    res = orci_japply(C, next, NULL, 0, orci_jundef(), it->position);
  }
  if (!custom_result(C, it, res, m)) {
    it->done = 1;
    return 0;
  }
  return 1;
}
