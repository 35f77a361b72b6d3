/*
** orchestra -- an embeddable orchestration engine.
** Common definitions: version, export macro, status codes, error record.
** This header includes only <stddef.h> and <stdint.h>.
*/
#ifndef ORCHESTRA_ORC_H
#define ORCHESTRA_ORC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORC_VERSION_MAJOR 0
#define ORC_VERSION_MINOR 1
#define ORC_VERSION_PATCH 0
#define ORC_VERSION       "0.1.0"
#define ORC_VERSION_NUM                                                        \
  (ORC_VERSION_MAJOR * 10000 + ORC_VERSION_MINOR * 100 + ORC_VERSION_PATCH)

#if defined(_WIN32)
#define ORC_API __declspec(dllexport)
#elif defined(__GNUC__)
#define ORC_API __attribute__((visibility("default")))
#else
#define ORC_API
#endif

/* Status codes. ORC_OK and ORC_PENDING are successes; negatives are errors. */
#define ORC_OK         0
#define ORC_PENDING    1  /* progress was made, more work is ready */
#define ORC_ENOMEM     -1 /* an allocation failed */
#define ORC_EINVAL     -2 /* an argument or input is invalid */
#define ORC_EMISUSE    -3 /* the API was called in a wrong state */
#define ORC_EJSON      -4 /* JSON text is malformed or breaks a limit */
#define ORC_EHTTP      -5 /* an HTTP transfer failed */
#define ORC_ETIMEOUT   -6 /* a deadline passed */
#define ORC_ECANCELED  -7 /* the operation was canceled */
#define ORC_EUNSUPPORT -8 /* valid input that this build does not support */

/* One error. The buffers are inline so that reporting ENOMEM never allocates.
** A caller owns it (usually on its stack); every API taking `orc_error *err`
** accepts NULL. `where` is a JSON pointer (validation) or empty. */
typedef struct orc_error {
  int code;          /* one of the ORC_E* statuses, 0 when clear */
  char message[256]; /* what went wrong and why, NUL-terminated */
  char where[128];   /* JSON pointer of the offending node, or "" */
} orc_error;

/* A memory allocator with lua_Alloc's contract, so a Lua host can pass
** lua_getallocf's function and user data through. ptr NULL: allocate nsize
** bytes (osize is then 0). nsize 0: free ptr (a block of osize bytes) and
** return NULL. Otherwise resize ptr from osize to nsize bytes, keeping its
** contents (return NULL, leaving ptr intact, when that fails). A request
** for nsize > 0 that returns NULL is an out-of-memory failure; freeing
** never fails. */
typedef void *(*orc_alloc)(void *ud, void *ptr, size_t osize, size_t nsize);

/* The version of the linked library, to compare with ORC_VERSION_NUM. */
ORC_API int orc_version_num(void);
ORC_API const char *orc_version(void);

/* Process-wide initialisation (libcurl's global init, which also loads the
** TLS library: about 7 MB of resident memory). Only HTTP needs it, so the
** Lua module does not call it when it loads: the HTTP client calls it on
** first use, and a threaded host that makes HTTP calls should call it once
** before starting threads. Idempotent. Returns ORC_OK or a negative
** status. */
ORC_API int orc_global_init(orc_error *err);

/* Name of a status code ("ENOMEM", ...); never NULL. */
ORC_API const char *orc_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif
