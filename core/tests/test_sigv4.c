/*
** SigV4 against AWS's published test suite (fixtures/sigv4, header
** signing): for every vector the canonical request, the string to sign,
** the signature and the Authorization header must match byte for byte.
** Then the cases Bedrock needs: a ':' in the model id, raw or %3A.
*/
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "sigv4_int.h"

#include "check.h"

#ifndef ORC_TEST_FIXTURES
#define ORC_TEST_FIXTURES "core/tests/fixtures"
#endif

/* Reads a whole file; returns an owned NUL-terminated string or NULL. */
static char *slurp(const char *dir, const char *name, size_t *len) {
  char path[1024];
  FILE *f;
  char *p = NULL;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (p = (char *)malloc((size_t)n + 1))) {
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
      free(p);
      p = NULL;
    } else {
      p[n] = '\0';
      if (len) *len = (size_t)n;
    }
  }
  fclose(f);
  return p;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static const char *str_member(const orc_json *o, const char *key) {
  const orc_json *v = orc_json_object_find(o, key, strlen(key));
  return v && orc_json_type_of(v) == ORC_JSON_STRING
             ? orc_json_string_value(v, NULL)
             : NULL;
}

static int bool_member(const orc_json *o, const char *key) {
  const orc_json *v = orc_json_object_find(o, key, strlen(key));
  return v && orc_json_is_true(v);
}

#define MAXH 16

/* One vector: parse request.txt, sign, compare. Returns 1 when it ran. */
static int run_vector(const char *dir, const char *name) {
  char *ctx_text = slurp(dir, "context.json", NULL);
  char *req_text = slurp(dir, "request.txt", NULL);
  char *want_creq = slurp(dir, "header-canonical-request.txt", NULL);
  char *want_sts = slurp(dir, "header-string-to-sign.txt", NULL);
  char *want_sig = slurp(dir, "header-signature.txt", NULL);
  char *signed_req = slurp(dir, "header-signed-request.txt", NULL);
  orc_json *ctx = NULL;
  const orc_json *cred;
  orci_sigv4_header hs[MAXH];
  char *names[MAXH], *values[MAXH], *line, *next, *sp, *path, *query, *body;
  char want_auth[1024] = "", *a;
  size_t nh = 0, i;
  orci_sigv4_request req;
  orci_sigv4_params p;
  orci_sigv4_result r;
  orc_error err;
  const char *ts;
  int y, mo, d, hh, mm, ss, rc;

  if (!ctx_text || !req_text || !want_creq || !want_sts || !want_sig ||
      !signed_req ||
      orc_json_parse(ctx_text, strlen(ctx_text), NULL, &ctx, &err) != ORC_OK) {
    fprintf(stderr, "%s: unreadable vector\n", name);
    CHECK(0);
    goto out;
  }
  memset(&req, 0, sizeof req);
  memset(&p, 0, sizeof p);

  /* request line: METHOD SP path[?query] SP HTTP/1.1 (paths hold spaces) */
  next = strchr(req_text, '\n');
  if (next) *next++ = '\0';
  sp = strchr(req_text, ' ');
  line = strstr(req_text, " HTTP/1.1");
  CHECK(sp != NULL && line != NULL);
  if (!sp || !line) goto out;
  *sp = '\0';
  *line = '\0';
  req.method = req_text;
  path = sp + 1;
  query = strchr(path, '?');
  if (query) *query++ = '\0';
  req.path = path;
  req.query = query;

  /* headers until an empty line; a continuation line (obs-fold) continues
  ** the value, and the signer collapses the fold's spaces */
  body = NULL;
  while (next && *next) {
    line = next;
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (*line == '\0') {
      body = next;
      break;
    }
    if ((*line == ' ' || *line == '\t') && nh > 0) {
      size_t old = strlen(values[nh - 1]);
      char *v = (char *)realloc(values[nh - 1], old + strlen(line) + 2);
      if (v == NULL) goto out;
      v[old] = ' ';
      strcpy(v + old + 1, line + strspn(line, " \t"));
      values[nh - 1] = v;
      continue;
    }
    sp = strchr(line, ':');
    if (sp == NULL || nh == MAXH) break;
    *sp = '\0';
    names[nh] = line;
    values[nh] = (char *)malloc(strlen(sp + 1) + 1);
    if (values[nh] == NULL) goto out;
    strcpy(values[nh], sp + 1);
    nh++;
  }
  for (i = 0; i < nh; i++) {
    hs[i].name = names[i];
    hs[i].value = values[i];
  }
  req.headers = hs;
  req.nheaders = nh;
  if (body) {
    req.body = body;
    req.body_len = strlen(body);
  }

  cred = orc_json_object_find(ctx, "credentials", 11);
  p.access_key_id = str_member(cred, "access_key_id");
  p.secret_access_key = str_member(cred, "secret_access_key");
  p.session_token = str_member(cred, "token");
  p.region = str_member(ctx, "region");
  p.service = str_member(ctx, "service");
  ts = str_member(ctx, "timestamp");
  CHECK(ts &&
        sscanf(ts, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &hh, &mm, &ss) == 6);
  if (!ts) goto out;
  p.time = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
  if (!bool_member(ctx, "normalize")) p.flags |= ORCI_SIGV4_NO_NORMALIZE;
  if (bool_member(ctx, "sign_body")) p.flags |= ORCI_SIGV4_SIGN_BODY;
  if (bool_member(ctx, "omit_session_token"))
    p.flags |= ORCI_SIGV4_TOKEN_UNSIGNED;

  a = strstr(signed_req, "\nAuthorization:");
  if (a) {
    size_t n = strcspn(a + 15, "\r\n");
    if (n < sizeof want_auth) {
      memcpy(want_auth, a + 15, n);
      want_auth[n] = '\0';
    }
  }
  want_sig[strcspn(want_sig, "\r\n")] = '\0';

  rc = orci_sigv4_sign(&req, &p, &r, &err);
  CHECK(rc == ORC_OK);
  if (rc != ORC_OK) {
    fprintf(stderr, "%s: %s\n", name, err.message);
    goto out;
  }
#define SAME(got, want)                                                        \
  do {                                                                         \
    CHECK(strcmp(got, want) == 0);                                             \
    if (strcmp(got, want) != 0)                                                \
      fprintf(stderr, "%s: %s\n--- got:\n%s\n--- want:\n%s\n", name, #want,    \
              got, want);                                                      \
  } while (0)
  SAME(r.canonical_request, want_creq);
  SAME(r.string_to_sign, want_sts);
  SAME(r.signature, want_sig);
  SAME(r.authorization, want_auth);
  CHECK(strstr(r.canonical_request, p.secret_access_key) == NULL);
  orci_sigv4_result_free(&r);

out:
  for (i = 0; i < nh; i++)
    free(values[i]);
  orc_json_unref(ctx);
  free(ctx_text);
  free(req_text);
  free(want_creq);
  free(want_sts);
  free(want_sig);
  free(signed_req);
  return 1;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_suite(void) {
  const char *root = ORC_TEST_FIXTURES "/sigv4";
  DIR *dir = opendir(root);
  struct dirent *e;
  char *names[128];
  size_t n = 0, i;
  int nrun = 0;
  CHECK(dir != NULL);
  if (dir == NULL) return 0;
  while ((e = readdir(dir)) != NULL && n < 128) {
    char sub[1024];
    FILE *f;
    if (e->d_name[0] == '.') continue;
    snprintf(sub, sizeof sub, "%s/%s/context.json", root, e->d_name);
    if ((f = fopen(sub, "r")) == NULL) continue;
    fclose(f);
    names[n] = (char *)malloc(strlen(e->d_name) + 1);
    if (names[n]) strcpy(names[n++], e->d_name);
  }
  closedir(dir);
  qsort(names, n, sizeof *names, by_name);
  for (i = 0; i < n; i++) {
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", root, names[i]);
    nrun += run_vector(sub, names[i]);
    free(names[i]);
  }
  return nrun;
}

/* Bedrock: service "bedrock", path with the model id's ':'. AWS encodes
** non-S3 paths twice: a raw ':' signs as %3A, a %3A as %253A. */
static void check_bedrock_paths(void) {
  orci_sigv4_header hs[2] = {
      {"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
      {"Content-Type", "application/json"}};
  orci_sigv4_request req = {"POST", NULL, NULL, hs, 2, "{}", 2};
  orci_sigv4_params p = {"AKIDEXAMPLE",
                         "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                         "TOKEN123",
                         "us-east-1",
                         "bedrock",
                         1440938160,
                         0};
  orci_sigv4_result r;
  orc_error err;
  req.path = "/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_OK);
  CHECK(strncmp(r.canonical_request,
                "POST\n/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/"
                "converse\n\ncontent-type:application/json\nhost:bedrock-"
                "runtime.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                "x-amz-security-token:TOKEN123\n\ncontent-type;host;x-amz-date;"
                "x-amz-security-token\n",
                201) == 0);
  CHECK(strstr(r.authorization, "/20150830/us-east-1/bedrock/aws4_request, "
                                "SignedHeaders=content-type;host;x-amz-date;"
                                "x-amz-security-token, Signature=") != NULL);
  CHECK(strcmp(r.amz_date, "20150830T123600Z") == 0);
  CHECK(strcmp(r.session_token, "TOKEN123") == 0);
  CHECK(strstr(r.authorization, "TOKEN123") == NULL);
  CHECK(strstr(r.authorization, "EXAMPLEKEY") == NULL);
  orci_sigv4_result_free(&r);

  req.path = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Afoundation-model"
             "%2Fx/converse";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_OK);
  CHECK(strstr(r.canonical_request,
               "\n/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253A"
               "foundation-model%252Fx/converse\n") != NULL);
  orci_sigv4_result_free(&r);

  /* S3 signs the path verbatim */
  p.flags = ORCI_SIGV4_S3;
  req.path = "/a%3Ab//c";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_OK);
  CHECK(strstr(r.canonical_request, "\n/a%3Ab//c\n") != NULL);
  orci_sigv4_result_free(&r);
}

static void check_errors(void) {
  orci_sigv4_header host = {"Host", "h"}, other = {"Accept", "x"};
  orci_sigv4_request req = {"GET", "/", NULL, &other, 1, NULL, 0};
  orci_sigv4_params p = {"AK", "SECRETSECRET", NULL, "us-east-1", "s", 0, 0};
  orci_sigv4_result r;
  orc_error err;
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_EINVAL);
  CHECK(strcmp(err.message, "sigv4: the Host header is missing") == 0);
  CHECK(r.authorization == NULL);
  req.headers = &host;
  req.path = "no-slash";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_EINVAL);
  CHECK(strstr(err.message, "must start with '/'") != NULL);
  req.path = "/";
  req.query = "a=%zz";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_EINVAL);
  CHECK(strstr(err.message, "bad %-escape") != NULL);
  CHECK(strstr(err.message, "SECRET") == NULL);
  req.query = NULL;
  p.secret_access_key = "";
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_EINVAL);
  CHECK(strcmp(err.message, "sigv4: the secret access key is missing") == 0);
  /* the epoch and a far date format */
  p.secret_access_key = "k";
  p.time = 0;
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_OK);
  CHECK(strcmp(r.amz_date, "19700101T000000Z") == 0);
  orci_sigv4_result_free(&r);
  p.time = 4107542399; /* 2100-02-28T23:59:59Z */
  CHECK(orci_sigv4_sign(&req, &p, &r, &err) == ORC_OK);
  CHECK(strcmp(r.amz_date, "21000228T235959Z") == 0);
  orci_sigv4_result_free(&r);
  orci_sigv4_result_free(NULL);
}

int main(void) {
  int nvectors = run_suite();
  CHECK(nvectors >= 38);
  check_bedrock_paths();
  check_errors();
  printf("test_sigv4: %d vectors, %d checks, %d failed\n", nvectors, nchecks,
         nfailed);
  return nfailed ? 1 : 0;
}
