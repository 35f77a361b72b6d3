/*
** A non-blocking HTTP client over one libcurl multi handle.
**
** The owner (the engine) drives it: orci_http_step moves the transfers on
** within a work budget and delivers completed ones to their callbacks,
** never blocking; orci_http_timeout_ms says when a step is next due (0
** while a step left work undone);
** orci_http_poll sleeps on the transfers' sockets. libcurl's own callbacks
** only append bytes to their transfer's buffers: completion callbacks run
** from orci_http_step only, on the owner's thread. Connections are kept
** alive and reused across requests to the same host (one multi handle);
** TLS verifies peers against the system CA store (libcurl's default
** bundle); CURLOPT_NOSIGNAL is set on every transfer. One thread at a time
** per client; only orci_http_wakeup may be called from another thread.
*/
#ifndef ORCHESTRA_HTTP_INT_H
#define ORCHESTRA_HTTP_INT_H

#include "orchestra/orc.h"

/* lua_Alloc's shape: (ud, ptr, osize, nsize); nsize 0 frees. */
typedef void *(*orci_alloc)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct orci_http orci_http;

/* Why a transfer failed (orci_http_response.error). */
typedef enum orci_http_error {
  ORCI_HTTP_OK = 0,    /* a complete response arrived (any HTTP status) */
  ORCI_HTTP_REFUSED,   /* connection refused: nothing listens there */
  ORCI_HTTP_DROPPED,   /* the connection closed or failed mid-exchange, or
                          the server sent nothing at all */
  ORCI_HTTP_TIMEOUT,   /* timeout_ms (or connect_timeout_ms) passed */
  ORCI_HTTP_TRUNCATED, /* the body ended before its announced length, or
                          a chunked body was cut */
  ORCI_HTTP_TOO_LARGE, /* the body passed max_response_bytes */
  ORCI_HTTP_RESOLVE,   /* the host name did not resolve */
  ORCI_HTTP_TLS,       /* TLS handshake or certificate check failed */
  ORCI_HTTP_OTHER      /* anything else libcurl reports */
} orci_http_error;

typedef struct orci_http_req {
  const char *method;         /* "POST", "GET", ...; NULL: POST when
                                 there is a body, else GET */
  const char *url;            /* absolute http:// or https:// URL */
  const char *const *headers; /* "Name: value" lines */
  size_t nheaders;
  const char *body; /* request payload, or NULL */
  size_t body_len;
  long timeout_ms;           /* the whole transfer; 0: none */
  long connect_timeout_ms;   /* 0: libcurl's default (300 s) */
  size_t max_response_bytes; /* 0: 64 MiB */
} orci_http_req;

/* A finished transfer, as its callback sees it. A view: valid only during
** the callback (copy what you keep). */
typedef struct orci_http_response {
  uint64_t id;           /* what orci_http_request returned */
  orci_http_error error; /* ORCI_HTTP_OK when a response arrived */
  int status;            /* HTTP status, 0 when none arrived */
  const char *message;   /* what failed and why ("connection refused:
                            Failed to connect to 127.0.0.1 port 9"),
                            "" on success; never holds request headers
                            or body */
  const char *headers;   /* the final response's header block
                            ("Name: value\r\n"...), NUL-terminated */
  size_t headers_len;
  const char *body; /* NUL-terminated (the NUL is not counted) */
  size_t body_len;
  double elapsed_ms; /* from start to completion */
} orci_http_response;

/* Work units of orci_http_step, on the engine's scale (a state transition
** is 1, about a microsecond; a Lua handler call ORC_TASK_WEIGHT): handing a
** request to libcurl (it opens a connection or takes a kept-alive one, and
** sends), acting on one ready socket (a few system calls and libcurl's
** bookkeeping), delivering one finished transfer (its callback parses the
** response and answers a task). Set from thread CPU times measured on
** loopback (bench/agent.lua, 200 requests in flight; medians): about 60,
** 27 and 20 microseconds on a 2-vCPU VM whose system calls cost 2.4 us
** each, so that a 300-unit step is about 300 us there, with room to spare
** under a millisecond when the machine is busy. */
#define ORCI_HTTP_W_START  60
#define ORCI_HTTP_W_SOCKET 25
#define ORCI_HTTP_W_DONE   20

/* Completion callback: runs inside orci_http_step. It may start or
** cancel requests; it must not free the client. */
typedef void (*orci_http_done)(void *ud, const orci_http_response *res);

/* CONSTRUCTOR. alloc may be NULL (realloc/free); it serves the client and
** its transfers' buffers (libcurl allocates with its own). Calls
** orc_global_init. Returns an owned client (orci_http_free), or NULL with
** err set (ORC_ENOMEM, ORC_EHTTP). */
orci_http *orci_http_new(orci_alloc alloc, void *alloc_ud, orc_error *err);

/* DESTRUCTOR. Aborts the transfers in flight without calling their
** callbacks and closes the kept-alive connections. NULL is a no-op. */
void orci_http_free(orci_http *h);

/* Start a request. req and everything it points to are borrowed: the URL,
** headers and body are copied. Returns its id (> 0), or 0 with err set
** (ORC_EINVAL: no URL; ORC_ENOMEM; ORC_EHTTP: libcurl refused an
** option). done(ud, res) is called exactly once, from a later
** orci_http_step, unless the request is canceled or the client freed
** first. The request waits in a queue until a step hands it to libcurl. */
uint64_t orci_http_request(orci_http *h, const orci_http_req *req,
                           orci_http_done done, void *ud, orc_error *err);

/* Cancel a request in flight: its transfer stops and its callback is never
** called. Returns ORC_OK, or ORC_EINVAL when id is not in flight (already
** delivered, canceled or unknown). */
int orci_http_cancel(orci_http *h, uint64_t id);

/* Move the transfers on without blocking and deliver finished ones to
** their callbacks, doing at most about budget units of work (ORCI_HTTP_W_*;
** at least one item): queued requests are handed to libcurl oldest first,
** the ready sockets are acted on from where the last step stopped, then
** libcurl's timer, then finished transfers are delivered. What is left
** waits for the next step (orci_http_has_backlog). Returns the units used
** (>= 0) with *ndone the number delivered, or ORC_EHTTP with err set when
** libcurl's multi handle fails. */
int orci_http_step(orci_http *h, int budget, int *ndone, orc_error *err);

/* Whether the last orci_http_step left ready work undone, or requests wait
** in the queue: the next step should come at once. */
int orci_http_has_backlog(const orci_http *h);

/* Steps without a bound until nothing is ready (tests' loops). Returns the
** number delivered (>= 0), or ORC_EHTTP with err set. */
int orci_http_perform(orci_http *h, orc_error *err);

/* Milliseconds until orci_http_step should run again: -1 when nothing
** is in flight or libcurl has no deadline, 0 when due now. */
long orci_http_timeout_ms(orci_http *h);

/* Sleep until a transfer's socket has activity, orci_http_wakeup is
** called, or ms pass (ms < 0: at most 1000 ms). Returns ORC_OK, or
** ORC_EHTTP. Never calls callbacks: run orci_http_step after it. */
int orci_http_poll(orci_http *h, long ms, orc_error *err);

/* Interrupt an orci_http_poll in progress (or make the next one return at
** once). Thread-safe. Returns ORC_OK or ORC_EHTTP. */
int orci_http_wakeup(orci_http *h);

/* Requests in flight. */
size_t orci_http_ntransfers(const orci_http *h);

/* Whether this libcurl resolves names asynchronously (without it a DNS
** lookup blocks orci_http_step). */
int orci_http_has_async_dns(const orci_http *h);

/* The value of header name (case-insensitive) in res, trimmed, as a view
** into res->headers with its length in *len; NULL when absent. */
const char *orci_http_header(const orci_http_response *res, const char *name,
                             size_t *len);

/* A short English name of e ("connection refused", "timeout", ...). */
const char *orci_http_error_name(orci_http_error e);

#endif
