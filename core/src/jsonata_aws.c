/*
** Step Functions' JSONata extension functions, compiled in only with
** ORC_JSONATA_AWS: $partition, $range, $hash, $random (with an optional
** seed), $uuid and $parse. Argument checks follow AWS's documentation:
** a wrong type or value is an error naming the function (the executor
** reports it as States.QueryEvaluationError).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "jsonata_int.h"

#define UNDEF  orci_jundef()
#define ARG(i) ((i) < nargs ? args[(i)] : orci_jundef())

uint64_t orci_jrandom_u64(jctx *C);

static void bad(jctx *C, const char *fn, const char *why) {
  char m[200];
  snprintf(m, sizeof m, "$%s: %s", fn, why);
  orci_jthrow(C, "D3137", 0, fn, m);
}

static int is_int(jv v) {
  return v.t == JV_NUM && v.u.n == floor(v.u.n);
}

/* $partition(array, size): the array cut into arrays of size items */
static jv f_partition(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv a = ARG(0), size = ARG(1);
  if (!orci_jis_array(a))
    bad(C, "partition", "the first argument must be an array");
  if (!is_int(size) || size.u.n <= 0)
    bad(C, "partition", "the chunk size must be a positive integer");
  size_t n = orci_jlen(a), k = (size_t)size.u.n;
  jarr *r = orci_jarr_new(C, n / k + 1);
  for (size_t i = 0; i < n; i += k) {
    jarr *c = orci_jarr_new(C, k);
    for (size_t j = i; j < n && j < i + k; j++)
      orci_jarr_push(C, c, orci_jat(a, j));
    orci_jarr_push(C, r, orci_jarr_val(c));
  }
  return orci_jarr_val(r);
}

/* $range(start, end, step): start, start+step, ... up to end inclusive
** (like States.ArrayRange), at most 1000 items */
static jv f_range(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0), en = ARG(1), st = ARG(2);
  if (!is_int(s) || !is_int(en))
    bad(C, "range", "start and end must be integers");
  double step = 1;
  if (st.t != JV_UNDEF) {
    if (!is_int(st) || st.u.n == 0)
      bad(C, "range", "the step must be a non-zero integer");
    step = st.u.n;
  }
  double count = floor((en.u.n - s.u.n) / step) + 1;
  if (count < 0) count = 0;
  if (count > 1000) bad(C, "range", "the range has more than 1000 items");
  jarr *r = orci_jarr_new(C, (size_t)count);
  r->seq = 1; /* a one-item range collapses to its value, as AWS shows */
  for (double i = 0; i < count; i++)
    orci_jarr_push(C, r, orci_jnum(C, s.u.n + i * step));
  return orci_jarr_val(r);
}

/* $hash(value, algorithm): hex digest; MD5, SHA-1, SHA-256, SHA-384,
** SHA-512 (default SHA-256) */
static jv f_hash(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv v = ARG(0), alg = ARG(1);
  if (v.t != JV_STR) bad(C, "hash", "the value must be a string");
  const EVP_MD *md = NULL;
  const char *name = alg.t == JV_STR ? alg.u.s.p : "SHA-256";
  size_t nl = alg.t == JV_STR ? alg.u.s.n : 7;
  if (alg.t != JV_UNDEF && alg.t != JV_STR)
    bad(C, "hash", "the algorithm must be a string");
  if (nl == 3 && !memcmp(name, "MD5", 3))
    md = EVP_md5();
  else if (nl == 5 && !memcmp(name, "SHA-1", 5))
    md = EVP_sha1();
  else if (nl == 7 && !memcmp(name, "SHA-256", 7))
    md = EVP_sha256();
  else if (nl == 7 && !memcmp(name, "SHA-384", 7))
    md = EVP_sha384();
  else if (nl == 7 && !memcmp(name, "SHA-512", 7))
    md = EVP_sha512();
  else
    bad(C, "hash",
        "the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, "
        "SHA-512");
  unsigned char dig[EVP_MAX_MD_SIZE];
  unsigned int dl = 0;
  if (!EVP_Digest(v.u.s.p, v.u.s.n, dig, &dl, md, NULL))
    bad(C, "hash", "the digest failed");
  char *hex = (char *)orci_jalloc(C, dl * 2 + 1);
  for (unsigned i = 0; i < dl; i++)
    sprintf(hex + 2 * i, "%02x", dig[i]);
  return orci_jstr(hex, dl * 2);
}

/* java.util.Random's generator (its documented 48-bit LCG): AWS's
** $random(seed) is new Random(seed).nextDouble(). */
static int32_t java_next(uint64_t *s, int bits) {
  *s = (*s * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
  return (int32_t)(*s >> (48 - bits));
}

/* $random(seed?): a number in [0, 1); the same seed gives the same number */
static jv f_random(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv seed = ARG(0);
  if (seed.t != JV_UNDEF) {
    uint64_t s;
    int64_t hi, lo;
    if (!is_int(seed)) bad(C, "random", "the seed must be an integer");
    s = ((uint64_t)(int64_t)seed.u.n ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
    hi = (int64_t)(uint32_t)java_next(&s, 26);
    lo = (int64_t)(uint32_t)java_next(&s, 27);
    return orci_jnum(C, (double)((hi << 27) + lo) / 9007199254740992.0);
  }
  return orci_jnum(C, (double)(orci_jrandom_u64(C) >> 11) / 9007199254740992.0);
}

/* $uuid(): a version 4 UUID */
static jv f_uuid(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e, (void)args, (void)nargs;
  unsigned char b[16];
  uint64_t r1 = orci_jrandom_u64(C), r2 = orci_jrandom_u64(C);
  memcpy(b, &r1, 8);
  memcpy(b + 8, &r2, 8);
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
  char *o = (char *)orci_jalloc(C, 37);
  snprintf(o, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
  return orci_jstr(o, 36);
}

/* A copy of j in the evaluation's arena (the parsed tree is released when
** $parse returns, so nothing may point into it). */
static jv to_arena(jctx *C, const orc_json *j) {
  switch (orc_json_type_of(j)) {
  case ORC_JSON_STRING: {
    size_t n;
    const char *p = orc_json_string_value(j, &n);
    return orci_jstr_copy(C, p, n);
  }
  case ORC_JSON_ARRAY: {
    size_t n = orc_json_len(j);
    jarr *a = orci_jarr_new(C, n);
    for (size_t i = 0; i < n; i++)
      orci_jarr_push(C, a, to_arena(C, orc_json_array_get(j, i)));
    return orci_jarr_val(a);
  }
  case ORC_JSON_OBJECT: {
    size_t n = orc_json_len(j);
    jobj *o = orci_jobj_new(C, n);
    for (size_t i = 0; i < n; i++) {
      jv k = to_arena(C, orc_json_object_key(j, i));
      orci_jobj_set(C, o, k.u.s.p, k.u.s.n,
                    to_arena(C, orc_json_object_value(j, i)));
    }
    return orci_jobj_val(o);
  }
  default:
    return orci_jfromjson(j);
  }
}

/* $parse(text): the JSON value of a JSON text */
static jv f_parse(jctx *C, jv *args, int nargs, jv in, jframe *e) {
  (void)in, (void)e;
  jv s = ARG(0);
  if (s.t != JV_STR) bad(C, "parse", "the argument must be a string");
  orc_json *j = NULL;
  orc_error err;
  if (orc_json_parse(s.u.s.p, s.u.s.n, NULL, &j, &err) != ORC_OK) {
    char m[200];
    snprintf(m, sizeof m, "not valid JSON: %.150s", err.message);
    bad(C, "parse", m);
  }
  /* to_arena only allocates from the arena; on ENOMEM it unwinds, so
  ** copy under a guard that releases j first */
  jmp_buf saved;
  memcpy(&saved, &C->jmp, sizeof saved);
  if (setjmp(C->jmp)) {
    memcpy(&C->jmp, &saved, sizeof saved);
    orc_json_unref(j);
    longjmp(C->jmp, 1);
  }
  jv r = to_arena(C, j);
  memcpy(&C->jmp, &saved, sizeof saved);
  orc_json_unref(j);
  return r;
}

const jbuiltin orci_jaws_builtins[] = {
    {"partition", "<xn:a>", f_partition, ORC_JSONATA_AWS},
    {"range", "<nnn?:a>", f_range, ORC_JSONATA_AWS},
    {"hash", "<ss?:s>", f_hash, ORC_JSONATA_AWS},
    {"random", "<n?:n>", f_random, ORC_JSONATA_AWS},
    {"uuid", "<:s>", f_uuid, ORC_JSONATA_AWS},
    {"parse", "<s:j>", f_parse, ORC_JSONATA_AWS},
    {NULL, NULL, NULL, 0}};
