/*
** AWS Signature Version 4 (header signing) on OpenSSL libcrypto.
**
** Written from AWS's "Create a signed AWS API request" and proved against
** the AWS SigV4 test suite (core/tests/fixtures/sigv4, test_sigv4.c). We
** sign ourselves because libcurl's CURLOPT_AWS_SIGV4 mis-signs paths
** containing ':' before curl 8.9, and Bedrock model ids contain one.
*/
#ifndef ORCHESTRA_SIGV4_INT_H
#define ORCHESTRA_SIGV4_INT_H

#include "orchestra/orc.h"

/* One header of the request to sign. Names compare case-insensitively;
** repeated names are joined with ',' in the order given. */
typedef struct orci_sigv4_header {
  const char *name;  /* e.g. "Host", "Content-Type" */
  const char *value; /* trimmed and with inner space runs collapsed */
} orci_sigv4_header;

typedef struct orci_sigv4_request {
  const char *method; /* "POST" */
  const char *path;   /* as sent on the wire (may hold %XX), starts '/' */
  const char *query;  /* as sent, without '?'; NULL or "" for none */
  const orci_sigv4_header *headers; /* must include Host */
  size_t nheaders;
  const void *body; /* the payload, hashed; NULL with body_len 0 */
  size_t body_len;
} orci_sigv4_request;

#define ORCI_SIGV4_S3                                                          \
  1u                               /* path taken verbatim: not normalized,     \
                                      not encoded again (S3 only) */
#define ORCI_SIGV4_NO_NORMALIZE 2u /* keep "." / ".." / "//" in the path */
#define ORCI_SIGV4_SIGN_BODY    4u /* add and sign x-amz-content-sha256 */
#define ORCI_SIGV4_TOKEN_UNSIGNED                                              \
  8u /* x-amz-security-token is added after                                    \
        signing (a few services want that) */

typedef struct orci_sigv4_params {
  const char *access_key_id;     /* AWS_ACCESS_KEY_ID */
  const char *secret_access_key; /* AWS_SECRET_ACCESS_KEY: never copied out */
  const char *session_token;     /* AWS_SESSION_TOKEN, or NULL */
  const char *region;            /* "us-east-1" */
  const char *service;           /* signing name: "bedrock", not the host's
                                    "bedrock-runtime" */
  int64_t time;                  /* seconds since the Unix epoch, UTC */
  unsigned flags;                /* ORCI_SIGV4_* */
} orci_sigv4_params;

/* What signing produced. The strings are owned by the result; free it with
** orci_sigv4_result_free. None of them holds the secret key. */
typedef struct orci_sigv4_result {
  char *canonical_request;
  char *string_to_sign;
  char *authorization;       /* value of the Authorization header */
  char amz_date[17];         /* value of X-Amz-Date: "20150830T123600Z" */
  char signature[65];        /* lowercase hex */
  char payload_hash[65];     /* SHA-256 of the body, lowercase hex (the value
                                of x-amz-content-sha256 under SIGN_BODY) */
  const char *session_token; /* borrowed from params: send it as
                                X-Amz-Security-Token when not NULL */
} orci_sigv4_result;

/* Sign req (borrowed) with p (borrowed). On ORC_OK *out owns its strings;
** the caller sends X-Amz-Date, Authorization, X-Amz-Security-Token (when
** out->session_token is set) and, under SIGN_BODY, x-amz-content-sha256.
** ORC_EINVAL when a field is missing or malformed (no Host header, a path
** not starting with '/', a bad %XX escape), ORC_ENOMEM; *out is then
** zeroed. Error messages never contain the secret key or the token. */
int orci_sigv4_sign(const orci_sigv4_request *req, const orci_sigv4_params *p,
                    orci_sigv4_result *out, orc_error *err);

/* Frees the strings of r and zeroes it; NULL and a zeroed r are no-ops. */
void orci_sigv4_result_free(orci_sigv4_result *r);

/* Lowercase hex SHA-256 of len bytes (borrowed) into hex (65 bytes). */
void orci_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
