/*
** A non-blocking HTTP client over one libcurl multi handle (http_int.h).
**
** libcurl runs in its socket mode: it tells us which sockets to watch
** (on_socket) and when its timer is due (on_timer), and each step acts on
** the sockets poll(2) finds ready, one curl_multi_socket_action each, so a
** step's cost follows the transfers that have something to do, not the
** number in flight (curl_multi_perform visits every transfer and polls
** each one's socket). The work of one step is bounded: new requests wait
** in a queue and are handed to libcurl a few per step (connecting and
** sending is what costs), ready sockets past the budget and finished
** transfers past it are left to the next step, which starts where this one
** stopped.
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* curl_easy_setopt goes through our SET macro: libcurl's type-checking
** wrapper (GCC statement expressions with _Pragma) does not nest in it */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "http_int.h"
#include "json_int.h"

#define DEFAULT_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

/* A growable buffer in the client's allocator. */
typedef struct abuf {
  char *p;
  size_t len, cap;
} abuf;

typedef struct transfer {
  struct transfer *prev, *next; /* in the client's queue or in-flight list */
  orci_http *h;
  uint64_t id;
  CURL *easy;
  struct curl_slist *headers; /* libcurl-allocated list of copies */
  char *body;                 /* our copy of the request payload */
  size_t body_len;
  abuf resp_headers, resp_body;
  size_t max_bytes; /* response body cap */
  int too_large;    /* the write callback refused more bytes */
  int added;        /* handed to libcurl (else waiting in the queue) */
  orci_http_done done;
  void *ud;
  char errbuf[CURL_ERROR_SIZE]; /* libcurl writes its message here */
} transfer;

struct orci_http {
  orci_alloc alloc;
  void *alloc_ud;
  CURLM *multi;
  transfer *head;          /* handed to libcurl */
  transfer *qhead, *qtail; /* waiting to be handed to libcurl, oldest first */
  size_t ntransfers;       /* both lists */
  uint64_t last_id;
  int async_dns; /* curl_version_info has CURL_VERSION_ASYNCHDNS */
  /* the sockets libcurl asked us to watch: pfds[i] is one, and libcurl
  ** holds i + 1 as its socketp (curl_multi_assign) */
  struct pollfd *pfds;
  size_t nsocks, capsocks;
  size_t next_sock;  /* where the next step starts looking (fairness) */
  int64_t timer_due; /* monotonic ms of libcurl's timer; -1: none */
  int backlog;       /* the last step left ready work undone */
  int lost_socket;   /* a socket could not be recorded (out of memory) */
};

/* {====== memory */

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

static void *mem(orci_http *h, void *p, size_t osize, size_t nsize) {
  return h->alloc(h->alloc_ud, p, osize, nsize);
}

/* Append n bytes, keeping a NUL after them. Returns 0, or -1 when out of
** memory. */
static int abuf_add(orci_http *h, abuf *b, const char *s, size_t n) {
  if (n + 1 > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap - b->len < n + 1) {
      if (cap > SIZE_MAX / 2) return -1;
      cap *= 2;
    }
    p = (char *)mem(h, b->p, b->cap, cap);
    if (p == NULL) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static void abuf_free(orci_http *h, abuf *b) {
  if (b->p) mem(h, b->p, b->cap, 0);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* }====== */

/* {====== libcurl callbacks: they only append bytes */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  transfer *t = (transfer *)ud;
  size_t len = size * n;
  if (t->resp_body.len + len > t->max_bytes) {
    t->too_large = 1;
    return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
  }
  return abuf_add(t->h, &t->resp_body, data, len) == 0 ? len : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  transfer *t = (transfer *)ud;
  size_t len = size * n;
  /* a new status line starts a new response (after 100 Continue or a
  ** redirect): keep only the last one's headers */
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) t->resp_headers.len = 0;
  return abuf_add(t->h, &t->resp_headers, data, len) == 0 ? len : 0;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Room for n watched sockets. Returns 0, or -1 when out of memory. */
static int reserve_socks(orci_http *h, size_t n) {
  size_t cap = h->capsocks ? h->capsocks : 16;
  struct pollfd *p;
  if (n <= h->capsocks) return 0;
  while (cap < n)
    cap *= 2;
  p = (struct pollfd *)mem(h, h->pfds, h->capsocks * sizeof *p,
                           cap * sizeof *p);
  if (p == NULL) return -1;
  h->pfds = p;
  h->capsocks = cap;
  return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl waits on, or stop. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *ud,
                     void *socketp) {
  orci_http *h = (orci_http *)ud;
  size_t i = (size_t)(uintptr_t)socketp; /* slot + 1; 0: not watched yet */
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (i == 0 || i > h->nsocks || h->pfds[i - 1].fd != s) return 0;
    /* the last slot moves into the freed one and libcurl learns its new
    ** slot (curl_multi_assign is a lookup: callbacks may call it) */
    h->pfds[i - 1] = h->pfds[--h->nsocks];
    if (i - 1 < h->nsocks)
      curl_multi_assign(h->multi, h->pfds[i - 1].fd, (void *)(uintptr_t)i);
    return 0;
  }
  if (i == 0 || i > h->nsocks || h->pfds[i - 1].fd != s) {
    if (reserve_socks(h, h->nsocks + 1) != 0) {
      h->lost_socket = 1; /* the transfer can only end by its timeout */
      return -1;
    }
    i = ++h->nsocks;
    h->pfds[i - 1].fd = s;
    curl_multi_assign(h->multi, s, (void *)(uintptr_t)i);
  }
  h->pfds[i - 1].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
                                  ((what & CURL_POLL_OUT) ? POLLOUT : 0));
  h->pfds[i - 1].revents = 0;
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants curl_multi_socket_action with
** CURL_SOCKET_TIMEOUT in ms milliseconds (-1: never). */
static int on_timer(CURLM *multi, long ms, void *ud) {
  orci_http *h = (orci_http *)ud;
  (void)multi;
  h->timer_due = ms < 0 ? -1 : mono_ms() + ms;
  return 0;
}

/* }====== */

orci_http *orci_http_new(orci_alloc alloc, void *alloc_ud, orc_error *err) {
  orci_http *h;
  const curl_version_info_data *info;
  if (orc_global_init(err) != ORC_OK) return NULL;
  if (alloc == NULL) alloc = default_alloc;
  h = (orci_http *)alloc(alloc_ud, NULL, 0, sizeof *h);
  if (h == NULL) {
    orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  memset(h, 0, sizeof *h);
  h->alloc = alloc;
  h->alloc_ud = alloc_ud;
  h->multi = curl_multi_init();
  if (h->multi == NULL) {
    alloc(alloc_ud, h, sizeof *h, 0);
    orci_error(err, ORC_EHTTP, NULL, "curl_multi_init failed");
    return NULL;
  }
  h->timer_due = -1;
  if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket) !=
          CURLM_OK ||
      curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, (void *)h) != CURLM_OK ||
      curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer) !=
          CURLM_OK ||
      curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, (void *)h) != CURLM_OK) {
    curl_multi_cleanup(h->multi);
    alloc(alloc_ud, h, sizeof *h, 0);
    orci_error(err, ORC_EHTTP, NULL, "curl_multi_setopt refused socket mode");
    return NULL;
  }
  info = curl_version_info(CURLVERSION_NOW);
  h->async_dns = info && (info->features & CURL_VERSION_ASYNCHDNS) != 0;
  return h;
}

static void transfer_free(orci_http *h, transfer *t) {
  if (t->easy) {
    if (t->added) curl_multi_remove_handle(h->multi, t->easy);
    curl_easy_cleanup(t->easy);
  }
  curl_slist_free_all(t->headers);
  if (t->body) mem(h, t->body, t->body_len + 1, 0);
  abuf_free(h, &t->resp_headers);
  abuf_free(h, &t->resp_body);
  mem(h, t, sizeof *t, 0);
}

static void unlink_transfer(orci_http *h, transfer *t) {
  if (t->prev)
    t->prev->next = t->next;
  else if (t->added)
    h->head = t->next;
  else
    h->qhead = t->next;
  if (t->next)
    t->next->prev = t->prev;
  else if (!t->added)
    h->qtail = t->prev;
  t->prev = t->next = NULL;
  h->ntransfers--;
}

void orci_http_free(orci_http *h) {
  if (h == NULL) return;
  while (h->head || h->qhead) {
    transfer *t = h->head ? h->head : h->qhead;
    unlink_transfer(h, t);
    transfer_free(h, t);
  }
  curl_multi_cleanup(h->multi);
  if (h->pfds) mem(h, h->pfds, h->capsocks * sizeof *h->pfds, 0);
  h->alloc(h->alloc_ud, h, sizeof *h, 0);
}

uint64_t orci_http_request(orci_http *h, const orci_http_req *req,
                           orci_http_done done, void *ud, orc_error *err) {
  transfer *t;
  CURLcode c = CURLE_OK;
  size_t i;
  const char *method;
  if (req == NULL || req->url == NULL || req->url[0] == '\0') {
    orci_error(err, ORC_EINVAL, NULL, "http: the request has no URL");
    return 0;
  }
  t = (transfer *)mem(h, NULL, 0, sizeof *t);
  if (t == NULL) goto nomem;
  memset(t, 0, sizeof *t);
  t->h = h;
  t->done = done;
  t->ud = ud;
  t->max_bytes =
      req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
  t->easy = curl_easy_init();
  if (t->easy == NULL) {
    mem(h, t, sizeof *t, 0);
    goto nomem;
  }
  if (req->body) {
    t->body = (char *)mem(h, NULL, 0, req->body_len + 1);
    if (t->body == NULL) goto nomem_t;
    memcpy(t->body, req->body, req->body_len);
    t->body[req->body_len] = '\0';
    t->body_len = req->body_len;
  }
  for (i = 0; i < req->nheaders; i++) {
    struct curl_slist *l = curl_slist_append(t->headers, req->headers[i]);
    if (l == NULL) goto nomem_t;
    t->headers = l;
  }
  {
    /* no "Expect: 100-continue" round trip before a large body: libcurl
    ** 7.88 would wait up to a second for the server's go-ahead */
    struct curl_slist *l = curl_slist_append(t->headers, "Expect:");
    if (l == NULL) goto nomem_t;
    t->headers = l;
  }

  method = req->method ? req->method : req->body ? "POST" : "GET";
#define SET(opt, val)                                                          \
  if (c == CURLE_OK) c = curl_easy_setopt(t->easy, opt, val)
  SET(CURLOPT_URL, req->url);
  SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SET(CURLOPT_HTTPHEADER, t->headers);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, (void *)t);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, (void *)t);
  SET(CURLOPT_ERRORBUFFER, t->errbuf);
  SET(CURLOPT_PRIVATE, (void *)t);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl decodes */
  if (req->timeout_ms > 0) SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
  if (req->connect_timeout_ms > 0)
    SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
  if (t->body) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
    SET(CURLOPT_POSTFIELDS, t->body);
  }
  if (strcmp(method, "GET") == 0) {
    if (t->body) SET(CURLOPT_CUSTOMREQUEST, "GET");
  } else if (strcmp(method, "POST") == 0) {
    if (!t->body) {
      SET(CURLOPT_POST, 1L);
      SET(CURLOPT_POSTFIELDSIZE, 0L);
    }
  } else {
    if (strcmp(method, "HEAD") == 0) SET(CURLOPT_NOBODY, 1L);
    SET(CURLOPT_CUSTOMREQUEST, method);
  }
#undef SET
  if (c != CURLE_OK) {
    orci_error(err, ORC_EHTTP, NULL, "http: libcurl refused an option: %s",
               curl_easy_strerror(c));
    transfer_free(h, t);
    return 0;
  }
  /* room for its sockets now (two while a dual-stack connect races), so
  ** that the socket callback has nothing to allocate */
  if (reserve_socks(h, h->nsocks + 2 * (h->ntransfers + 1)) != 0) {
    transfer_free(h, t);
    goto nomem;
  }
  /* queued: a later orci_http_step hands it to libcurl */
  t->id = ++h->last_id;
  t->prev = h->qtail;
  if (h->qtail)
    h->qtail->next = t;
  else
    h->qhead = t;
  h->qtail = t;
  h->ntransfers++;
  return t->id;

nomem_t:
  transfer_free(h, t);
nomem:
  orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  return 0;
}

int orci_http_cancel(orci_http *h, uint64_t id) {
  transfer *t;
  int pass;
  for (pass = 0; pass < 2; pass++)
    for (t = pass ? h->qhead : h->head; t; t = t->next)
      if (t->id == id) {
        unlink_transfer(h, t);
        transfer_free(h, t);
        return ORC_OK;
      }
  return ORC_EINVAL;
}

const char *orci_http_error_name(orci_http_error e) {
  switch (e) {
  case ORCI_HTTP_OK:
    return "ok";
  case ORCI_HTTP_REFUSED:
    return "connection refused";
  case ORCI_HTTP_DROPPED:
    return "connection dropped";
  case ORCI_HTTP_TIMEOUT:
    return "timeout";
  case ORCI_HTTP_TRUNCATED:
    return "truncated response";
  case ORCI_HTTP_TOO_LARGE:
    return "response too large";
  case ORCI_HTTP_RESOLVE:
    return "host not found";
  case ORCI_HTTP_TLS:
    return "TLS failure";
  default:
    return "transfer failed";
  }
}

static orci_http_error classify(CURLcode c, const transfer *t) {
  switch (c) {
  case CURLE_OK:
    return ORCI_HTTP_OK;
  case CURLE_COULDNT_CONNECT:
    return ORCI_HTTP_REFUSED;
  case CURLE_OPERATION_TIMEDOUT:
    return ORCI_HTTP_TIMEOUT;
  case CURLE_PARTIAL_FILE:
    return ORCI_HTTP_TRUNCATED;
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
    return ORCI_HTTP_DROPPED;
  case CURLE_RECV_ERROR:
    /* a cut chunked body reads as a receive error once headers came */
    return t->resp_headers.len > 0 ? ORCI_HTTP_TRUNCATED : ORCI_HTTP_DROPPED;
  case CURLE_WRITE_ERROR:
    return t->too_large ? ORCI_HTTP_TOO_LARGE : ORCI_HTTP_OTHER;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return ORCI_HTTP_RESOLVE;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
    return ORCI_HTTP_TLS;
  default:
    return ORCI_HTTP_OTHER;
  }
}

/* Deliver one finished transfer: it leaves the list before its callback
** runs, so the callback may start or cancel others. */
static void finish(orci_http *h, transfer *t, CURLcode c) {
  orci_http_response r;
  char message[CURL_ERROR_SIZE + 64];
  long status = 0;
  curl_off_t total_us = 0;
  memset(&r, 0, sizeof r);
  r.id = t->id;
  r.error = classify(c, t);
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
  r.status = (int)status;
  r.elapsed_ms = (double)total_us / 1000.0;
  if (r.error == ORCI_HTTP_OK) {
    message[0] = '\0';
  } else if (r.error == ORCI_HTTP_TOO_LARGE) {
    snprintf(message, sizeof message,
             "response too large: the body passed %zu bytes", t->max_bytes);
  } else {
    snprintf(message, sizeof message, "%s: %s", orci_http_error_name(r.error),
             t->errbuf[0] ? t->errbuf : curl_easy_strerror(c));
  }
  r.message = message;
  r.headers = t->resp_headers.p ? t->resp_headers.p : "";
  r.headers_len = t->resp_headers.len;
  r.body = t->resp_body.p ? t->resp_body.p : "";
  r.body_len = t->resp_body.len;
  unlink_transfer(h, t);
  curl_multi_remove_handle(h->multi, t->easy);
  t->added = 0;
  if (t->done) t->done(t->ud, &r);
  transfer_free(h, t);
}

/* Hand the oldest queued transfer to libcurl (its connection starts at
** the next timer action). When libcurl refuses it, its callback is told. */
static void admit(orci_http *h) {
  transfer *t = h->qhead;
  CURLMcode mc;
  unlink_transfer(h, t);
  t->added = 1;
  t->next = h->head;
  if (h->head) h->head->prev = t;
  h->head = t;
  h->ntransfers++;
  mc = curl_multi_add_handle(h->multi, t->easy);
  if (mc != CURLM_OK) {
    snprintf(t->errbuf, sizeof t->errbuf, "curl_multi_add_handle: %s",
             curl_multi_strerror(mc));
    finish(h, t, CURLE_FAILED_INIT);
  }
}

/* A poll(2) event mask as curl_multi_socket_action's. */
static int curl_events(short revents) {
  int ev = 0;
  if (revents & (POLLIN | POLLHUP)) ev |= CURL_CSELECT_IN;
  if (revents & POLLOUT) ev |= CURL_CSELECT_OUT;
  if (revents & (POLLERR | POLLNVAL)) ev |= CURL_CSELECT_ERR;
  return ev;
}

#define MAX_READY 64 /* ready sockets gathered per round */

int orci_http_step(orci_http *h, int budget, int *ndone, orc_error *err) {
  int used = 0, running = 0, left = 0, nadmitted = 0;
  CURLMsg *m;
  CURLMcode mc = CURLM_OK;
  *ndone = 0;
  h->backlog = 0;
  /* the sockets that are ready, from where the last step stopped */
  if (h->nsocks > 0) {
    struct {
      curl_socket_t fd;
      int ev;
    } ready[MAX_READY];
    size_t n = h->nsocks, start = h->next_sock % n, k, nready = 0;
    if (poll(h->pfds, (nfds_t)n, 0) > 0) {
      for (k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        if (h->pfds[i].revents == 0) continue;
        if (nready == MAX_READY ||
            (nready > 0 && (int)(nready + 1) * ORCI_HTTP_W_SOCKET > budget)) {
          h->backlog = 1;
          h->next_sock = i; /* the next step begins with it */
          break;
        }
        ready[nready].fd = h->pfds[i].fd;
        ready[nready].ev = curl_events(h->pfds[i].revents);
        nready++;
        h->next_sock = i + 1;
      }
      /* act after gathering: an action may move the watched sockets */
      for (k = 0; k < nready && mc == CURLM_OK; k++) {
        used += ORCI_HTTP_W_SOCKET;
        mc = curl_multi_socket_action(h->multi, ready[k].fd, ready[k].ev,
                                      &running);
      }
    }
  }
  /* new requests, one at least: connecting and sending (the timer action
  ** below) is where they cost */
  while (mc == CURLM_OK && h->qhead &&
         (nadmitted == 0 || used + ORCI_HTTP_W_START <= budget)) {
    used += ORCI_HTTP_W_START;
    nadmitted++;
    admit(h);
  }
  if (h->qhead) h->backlog = 1;
  /* libcurl's timer: the new transfers, timeouts, retries */
  if (mc == CURLM_OK && h->timer_due >= 0 && h->timer_due <= mono_ms()) {
    used += ORCI_HTTP_W_SOCKET;
    mc = curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  if (mc != CURLM_OK)
    return orci_error(err, ORC_EHTTP, NULL,
                      "http: curl_multi_socket_action: %s",
                      curl_multi_strerror(mc));
  /* finished transfers, one at least: their callbacks read the responses */
  while ((*ndone == 0 || used < budget) &&
         (m = curl_multi_info_read(h->multi, &left)) != NULL) {
    transfer *t = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL) continue;
    used += ORCI_HTTP_W_DONE;
    finish(h, t, m->data.result);
    (*ndone)++;
  }
  if (left > 0) h->backlog = 1;
  return used;
}

int orci_http_perform(orci_http *h, orc_error *err) {
  int ndone = 0, total = 0, rc;
  do { /* no bound: a test's loop, not an engine's step */
    rc = orci_http_step(h, INT_MAX / 2, &ndone, err);
    if (rc < 0) return rc;
    total += ndone;
  } while (h->backlog);
  return total;
}

int orci_http_has_backlog(const orci_http *h) {
  return h->backlog || h->qhead != NULL;
}

long orci_http_timeout_ms(orci_http *h) {
  int64_t d;
  if (h->ntransfers == 0) return -1;
  if (orci_http_has_backlog(h)) return 0;
  if (h->timer_due < 0) return -1;
  d = h->timer_due - mono_ms();
  return d <= 0 ? 0 : d > LONG_MAX ? LONG_MAX : (long)d;
}

int orci_http_poll(orci_http *h, long ms, orc_error *err) {
  int nfds = 0;
  CURLMcode mc;
  if (ms < 0 || ms > 1000 * 1000) ms = 1000;
  mc = curl_multi_poll(h->multi, NULL, 0, (int)ms, &nfds);
  if (mc != CURLM_OK)
    return orci_error(err, ORC_EHTTP, NULL, "http: curl_multi_poll: %s",
                      curl_multi_strerror(mc));
  return ORC_OK;
}

int orci_http_wakeup(orci_http *h) {
  return curl_multi_wakeup(h->multi) == CURLM_OK ? ORC_OK : ORC_EHTTP;
}

size_t orci_http_ntransfers(const orci_http *h) {
  return h->ntransfers;
}

int orci_http_has_async_dns(const orci_http *h) {
  return h->async_dns;
}

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

const char *orci_http_header(const orci_http_response *res, const char *name,
                             size_t *len) {
  const char *p = res->headers, *end = res->headers + res->headers_len;
  size_t n = strlen(name);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    if ((size_t)(line_end - p) > n && p[n] == ':') {
      size_t i;
      for (i = 0;
           i < n && lower((unsigned char)p[i]) == lower((unsigned char)name[i]);
           i++)
        ;
      if (i == n) {
        const char *v = p + n + 1, *e = line_end;
        while (v < e && (*v == ' ' || *v == '\t'))
          v++;
        while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
          e--;
        if (len) *len = (size_t)(e - v);
        return v;
      }
    }
    p = eol ? eol + 1 : end;
  }
  return NULL;
}
