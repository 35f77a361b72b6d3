/*
** AWS Signature Version 4, header signing (see sigv4_int.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json_int.h"
#include "sigv4_int.h"

/* {====== hashing */

static void to_hex(const unsigned char *d, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[2 * n] = '\0';
}

void orci_sha256_hex(const void *data, size_t len, char hex[65]) {
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL);
  to_hex(md, 32, hex);
}

static void hmac(const unsigned char *key, size_t keylen, const char *msg,
                 size_t len, unsigned char out[32]) {
  unsigned int outlen = 32;
  HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, len, out,
       &outlen);
}

/* }====== */

/* {====== canonical parts */

static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* AWS's UriEncode: every byte but the unreserved ones as %XX (uppercase);
** '/' kept when keep_slash. */
static void uri_encode(orci_buf *b, const char *s, size_t n, int keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      orci_buf_addc(b, (char)c);
    } else {
      char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
      orci_buf_add(b, esc, 3);
    }
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode n bytes of s into b. Returns 0, or -1 on a bad escape. */
static int uri_decode(orci_buf *b, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
      int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return -1;
      orci_buf_addc(b, (char)(hi * 16 + lo));
      i += 2;
    } else {
      orci_buf_addc(b, s[i]);
    }
  }
  return 0;
}

/* The canonical URI. Except for S3 the wire path is normalized (empty and
** "." segments dropped, ".." pops; a trailing '/' kept) and URI-encoded
** once more, so a ':' sent raw signs as %3A and a %3A sent signs as
** %253A: AWS's rule that other services' paths are encoded twice. */
static void canonical_uri(orci_buf *b, const char *path, unsigned flags) {
  size_t n = strlen(path);
  const char **seg;
  size_t *seglen, nseg = 0, i = 0;
  if (flags & ORCI_SIGV4_S3) {
    orci_buf_add(b, path, n);
    return;
  }
  if (flags & ORCI_SIGV4_NO_NORMALIZE) {
    uri_encode(b, path, n, 1);
    return;
  }
  seg = (const char **)malloc((n + 1) * sizeof *seg);
  seglen = (size_t *)malloc((n + 1) * sizeof *seglen);
  if (seg == NULL || seglen == NULL) {
    free((void *)seg);
    free(seglen);
    b->failed = 1;
    return;
  }
  while (i <= n) {
    size_t j = i;
    while (j < n && path[j] != '/')
      j++;
    if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (nseg > 0) nseg--;
    } else if (j > i && !(j - i == 1 && path[i] == '.')) {
      seg[nseg] = path + i;
      seglen[nseg++] = j - i;
    }
    i = j + 1;
  }
  orci_buf_addc(b, '/');
  for (i = 0; i < nseg; i++) {
    if (i > 0) orci_buf_addc(b, '/');
    uri_encode(b, seg[i], seglen[i], 0);
  }
  if (nseg > 0 && n > 0 && path[n - 1] == '/') orci_buf_addc(b, '/');
  free((void *)seg);
  free(seglen);
}

typedef struct pair {
  char *key; /* encoded, NUL-terminated */
  char *value;
} pair;

static int pair_cmp(const void *a, const void *b) {
  const pair *x = (const pair *)a, *y = (const pair *)b;
  int c = strcmp(x->key, y->key);
  return c != 0 ? c : strcmp(x->value, y->value);
}

/* Decode then encode one query name or value: %XX and raw bytes sign the
** same. Returns an owned string, or NULL (*bad set on a bad escape). */
static char *requote(const char *s, size_t n, int *bad) {
  orci_buf dec = {0}, enc = {0};
  if (uri_decode(&dec, s, n) != 0) {
    orci_buf_free(&dec);
    *bad = 1;
    return NULL;
  }
  uri_encode(&enc, dec.p ? dec.p : "", dec.len, 0);
  orci_buf_addc(&enc, '\0');
  orci_buf_free(&dec);
  if (enc.failed) {
    orci_buf_free(&enc);
    return NULL;
  }
  return enc.p;
}

/* The canonical query string: parameters decoded, encoded, sorted by name
** then value, joined with '&'. Returns 0, or an ORC_E* status. */
static int canonical_query(orci_buf *b, const char *q, orc_error *err) {
  size_t n = q ? strlen(q) : 0, npairs = 0, i = 0, k;
  pair *pairs;
  int rc = ORC_OK, bad = 0;
  if (n == 0) return ORC_OK;
  pairs = (pair *)calloc(n + 1, sizeof *pairs);
  if (pairs == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  while (i <= n && rc == ORC_OK) {
    size_t j = i, eq;
    while (j < n && q[j] != '&')
      j++;
    if (j > i) {
      eq = i;
      while (eq < j && q[eq] != '=')
        eq++;
      pairs[npairs].key = requote(q + i, eq - i, &bad);
      pairs[npairs].value =
          requote(eq < j ? q + eq + 1 : "", eq < j ? j - eq - 1 : 0, &bad);
      npairs++;
      if (pairs[npairs - 1].key == NULL || pairs[npairs - 1].value == NULL)
        rc = bad ? orci_error(err, ORC_EINVAL, NULL,
                              "sigv4: bad %%-escape in the query string")
                 : orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    }
    i = j + 1;
  }
  if (rc == ORC_OK) {
    qsort(pairs, npairs, sizeof *pairs, pair_cmp);
    for (k = 0; k < npairs; k++) {
      if (k > 0) orci_buf_addc(b, '&');
      orci_buf_adds(b, pairs[k].key);
      orci_buf_addc(b, '=');
      orci_buf_adds(b, pairs[k].value);
    }
  }
  for (k = 0; k < npairs; k++) {
    free(pairs[k].key);
    free(pairs[k].value);
  }
  free(pairs);
  return rc;
}

typedef struct hdr {
  char *name;        /* lowercase, owned */
  const char *value; /* borrowed */
  size_t order;      /* position given: repeated names keep it */
} hdr;

static int hdr_cmp(const void *a, const void *b) {
  const hdr *x = (const hdr *)a, *y = (const hdr *)b;
  int c = strcmp(x->name, y->name);
  if (c != 0) return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* A header value with leading/trailing spaces trimmed and each inner run
** of spaces or tabs collapsed to one space. */
static void add_trimmed(orci_buf *b, const char *v) {
  int space = 0, started = 0;
  for (; *v; v++) {
    if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
      space = started;
      continue;
    }
    if (space) orci_buf_addc(b, ' ');
    space = 0;
    started = 1;
    orci_buf_addc(b, *v);
  }
}

/* }====== */

/* {====== signing */

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void civil(int64_t days, int *y, int *m, int *d) {
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void digits(char *p, unsigned v, int n) {
  while (n-- > 0) {
    p[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

/* "YYYYMMDDTHHMMSSZ" of t (years outside 0..9999 wrap: not dates AWS
** accepts anyway) */
static void amz_date(int64_t t, char out[17]) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  unsigned secs = (unsigned)(t - days * 86400);
  int y, m, d;
  civil(days, &y, &m, &d);
  digits(out, (unsigned)(y < 0 ? 0 : y), 4);
  digits(out + 4, (unsigned)m, 2);
  digits(out + 6, (unsigned)d, 2);
  out[8] = 'T';
  digits(out + 9, secs / 3600, 2);
  digits(out + 11, secs / 60 % 60, 2);
  digits(out + 13, secs % 60, 2);
  out[15] = 'Z';
  out[16] = '\0';
}

static char *take(orci_buf *b) {
  char *p;
  orci_buf_addc(b, '\0');
  if (b->failed) {
    orci_buf_free(b);
    return NULL;
  }
  p = b->p;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void orci_sigv4_result_free(orci_sigv4_result *r) {
  if (r == NULL) return;
  free(r->canonical_request);
  free(r->string_to_sign);
  free(r->authorization);
  memset(r, 0, sizeof *r);
}

static int missing(orc_error *err, const char *what) {
  return orci_error(err, ORC_EINVAL, NULL, "sigv4: %s is missing", what);
}

int orci_sigv4_sign(const orci_sigv4_request *req, const orci_sigv4_params *p,
                    orci_sigv4_result *out, orc_error *err) {
  orci_buf creq = {0}, sts = {0}, auth = {0}, signed_names = {0};
  hdr *hs = NULL;
  size_t nh = 0, i;
  int rc = ORC_OK, has_host = 0;
  char date8[9], creq_hash[65], scope[256];
  unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
  orci_buf secret = {0};

  memset(out, 0, sizeof *out);
  if (req->method == NULL || req->method[0] == '\0')
    return missing(err, "method");
  if (req->path == NULL || req->path[0] != '/')
    return orci_error(err, ORC_EINVAL, NULL,
                      "sigv4: the path must start with '/'");
  if (p->access_key_id == NULL || p->access_key_id[0] == '\0')
    return missing(err, "the access key id");
  if (p->secret_access_key == NULL || p->secret_access_key[0] == '\0')
    return missing(err, "the secret access key");
  if (p->region == NULL || p->region[0] == '\0') return missing(err, "region");
  if (p->service == NULL || p->service[0] == '\0')
    return missing(err, "service");

  amz_date(p->time, out->amz_date);
  memcpy(date8, out->amz_date, 8);
  date8[8] = '\0';
  orci_sha256_hex(req->body, req->body_len, out->payload_hash);
  if (p->session_token && p->session_token[0])
    out->session_token = p->session_token;
  if ((size_t)snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date8,
                       p->region, p->service) >= sizeof scope)
    return orci_error(err, ORC_EINVAL, NULL,
                      "sigv4: region or service name too long");

  /* headers: the caller's plus ours, lowercased and sorted */
  hs = (hdr *)calloc(req->nheaders + 3, sizeof *hs);
  if (hs == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  for (i = 0; i < req->nheaders + 3 && rc == ORC_OK; i++) {
    const char *name, *value;
    size_t k, len;
    if (i < req->nheaders) {
      name = req->headers[i].name;
      value = req->headers[i].value ? req->headers[i].value : "";
      if (name == NULL || name[0] == '\0') {
        rc = missing(err, "a header name");
        break;
      }
    } else if (i == req->nheaders) {
      name = "x-amz-date";
      value = out->amz_date;
    } else if (i == req->nheaders + 1) {
      if (!out->session_token || (p->flags & ORCI_SIGV4_TOKEN_UNSIGNED))
        continue;
      name = "x-amz-security-token";
      value = out->session_token;
    } else {
      if (!(p->flags & ORCI_SIGV4_SIGN_BODY)) continue;
      name = "x-amz-content-sha256";
      value = out->payload_hash;
    }
    len = strlen(name);
    hs[nh].name = (char *)malloc(len + 1);
    if (hs[nh].name == NULL) {
      rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
      break;
    }
    for (k = 0; k <= len; k++)
      hs[nh].name[k] =
          (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] - 'A' + 'a'
                                                    : name[k]);
    if (strcmp(hs[nh].name, "host") == 0) has_host = 1;
    hs[nh].value = value;
    hs[nh].order = nh;
    nh++;
  }
  if (rc == ORC_OK && !has_host) rc = missing(err, "the Host header");
  if (rc != ORC_OK) goto done;
  qsort(hs, nh, sizeof *hs, hdr_cmp);

  /* the canonical request */
  orci_buf_adds(&creq, req->method);
  orci_buf_addc(&creq, '\n');
  canonical_uri(&creq, req->path, p->flags);
  orci_buf_addc(&creq, '\n');
  rc = canonical_query(&creq, req->query, err);
  if (rc != ORC_OK) goto done;
  orci_buf_addc(&creq, '\n');
  for (i = 0; i < nh; i++) {
    int first = i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0;
    if (first) {
      if (i > 0) {
        orci_buf_addc(&creq, '\n');
        orci_buf_addc(&signed_names, ';');
      }
      orci_buf_adds(&creq, hs[i].name);
      orci_buf_addc(&creq, ':');
      orci_buf_adds(&signed_names, hs[i].name);
    } else {
      orci_buf_addc(&creq, ',');
    }
    add_trimmed(&creq, hs[i].value);
  }
  orci_buf_adds(&creq, "\n\n");
  orci_buf_add(&creq, signed_names.p, signed_names.len);
  orci_buf_addc(&creq, '\n');
  orci_buf_adds(&creq, out->payload_hash);
  orci_buf_addc(&signed_names, '\0');
  if (creq.failed || signed_names.failed) {
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    goto done;
  }

  /* the string to sign */
  orci_sha256_hex(creq.p, creq.len, creq_hash);
  orci_buf_adds(&sts, "AWS4-HMAC-SHA256\n");
  orci_buf_adds(&sts, out->amz_date);
  orci_buf_addc(&sts, '\n');
  orci_buf_adds(&sts, scope);
  orci_buf_addc(&sts, '\n');
  orci_buf_adds(&sts, creq_hash);

  /* the signing key and the signature */
  orci_buf_adds(&secret, "AWS4");
  orci_buf_adds(&secret, p->secret_access_key);
  if (sts.failed || secret.failed) {
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    goto done;
  }
  hmac((const unsigned char *)secret.p, secret.len, date8, 8, k1);
  hmac(k1, 32, p->region, strlen(p->region), k2);
  hmac(k2, 32, p->service, strlen(p->service), k3);
  hmac(k3, 32, "aws4_request", 12, k4);
  hmac(k4, 32, sts.p, sts.len, sig);
  to_hex(sig, 32, out->signature);

  orci_buf_adds(&auth, "AWS4-HMAC-SHA256 Credential=");
  orci_buf_adds(&auth, p->access_key_id);
  orci_buf_addc(&auth, '/');
  orci_buf_adds(&auth, scope);
  orci_buf_adds(&auth, ", SignedHeaders=");
  orci_buf_adds(&auth, signed_names.p);
  orci_buf_adds(&auth, ", Signature=");
  orci_buf_adds(&auth, out->signature);

  out->canonical_request = take(&creq);
  out->string_to_sign = take(&sts);
  out->authorization = take(&auth);
  if (!out->canonical_request || !out->string_to_sign || !out->authorization)
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");

done:
  if (secret.p) OPENSSL_cleanse(secret.p, secret.len);
  OPENSSL_cleanse(k1, sizeof k1);
  OPENSSL_cleanse(k2, sizeof k2);
  OPENSSL_cleanse(k3, sizeof k3);
  OPENSSL_cleanse(k4, sizeof k4);
  orci_buf_free(&secret);
  orci_buf_free(&creq);
  orci_buf_free(&sts);
  orci_buf_free(&auth);
  orci_buf_free(&signed_names);
  for (i = 0; i < nh; i++)
    free(hs[i].name);
  free(hs);
  if (rc != ORC_OK) orci_sigv4_result_free(out);
  return rc;
}

/* }====== */
