/*
** Completions from other threads. A post copies its answer into a node of
** a FIFO guarded by the queue's mutex and signals the condition variable
** that orc_engine_wait sleeps on. The engine's thread takes the whole list
** under the lock at the start of a step and applies it without the lock,
** through the same calls a host makes on that thread. Nothing here reads
** or writes the engine's other state from a posting thread: a posted value
** is owned by exactly one thread at a time (the poster, then the queue,
** then the engine), and the mutex orders the hand-over.
*/
#define _POSIX_C_SOURCE 200809L /* pthread_condattr_setclock, strdup */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_int.h"
#include "json_int.h"
#include "post_int.h"

#define P_SUCCESS   0
#define P_FAILURE   1
#define P_HEARTBEAT 2

typedef struct post {
  struct post *next;
  int kind;            /* P_* */
  orc_json *output;    /* P_SUCCESS: owned */
  char *error, *cause; /* P_FAILURE: owned copies, NULL when absent */
  char token[];        /* NUL-terminated copy */
} post;

struct orci_posts {
  pthread_mutex_t lock;
  pthread_cond_t cond; /* a post or a wakeup arrived */
  clockid_t clk;       /* the clock of cond's timed waits */
  int virtual_clock;   /* set at creation, read-only */
  post *head, *tail;   /* under lock: posts not yet applied */
  int woken;           /* under lock: a wakeup no wait has seen yet */
  orci_http *http;     /* under lock: the engine's HTTP client, or NULL */
};

void orci_posts_set_http(orci_posts *Q, orci_http *h) {
  pthread_mutex_lock(&Q->lock);
  Q->http = h;
  pthread_mutex_unlock(&Q->lock);
}

/* {====== the queue */

orci_posts *orci_posts_new(int virtual_clock) {
  orci_posts *Q = (orci_posts *)calloc(1, sizeof *Q);
  pthread_condattr_t ca;
  if (Q == NULL) return NULL;
  Q->virtual_clock = virtual_clock;
  if (pthread_mutex_init(&Q->lock, NULL) != 0) {
    free(Q);
    return NULL;
  }
  if (pthread_condattr_init(&ca) != 0) {
    pthread_mutex_destroy(&Q->lock);
    free(Q);
    return NULL;
  }
  /* time out on the monotonic clock where the condition variable can, so
  ** that setting the system clock does not stretch a wait */
  Q->clk = CLOCK_REALTIME;
#if !defined(__APPLE__)
  if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0)
    Q->clk = CLOCK_MONOTONIC;
#endif
  if (pthread_cond_init(&Q->cond, &ca) != 0) {
    pthread_condattr_destroy(&ca);
    pthread_mutex_destroy(&Q->lock);
    free(Q);
    return NULL;
  }
  pthread_condattr_destroy(&ca);
  return Q;
}

static void post_free(post *p) {
  orc_json_unref(p->output);
  free(p->error);
  free(p->cause);
  free(p);
}

void orci_posts_free(orci_posts *Q) {
  if (Q == NULL) return;
  while (Q->head) {
    post *p = Q->head;
    Q->head = p->next;
    post_free(p);
  }
  pthread_cond_destroy(&Q->cond);
  pthread_mutex_destroy(&Q->lock);
  free(Q);
}

int orci_posts_pending(orci_posts *Q) {
  int any;
  pthread_mutex_lock(&Q->lock);
  any = Q->head != NULL;
  pthread_mutex_unlock(&Q->lock);
  return any;
}

void orci_posts_drain(orc_engine *E, orci_posts *Q) {
  post *p;
  pthread_mutex_lock(&Q->lock);
  p = Q->head;
  Q->head = Q->tail = NULL;
  pthread_mutex_unlock(&Q->lock);
  while (p) {
    post *next = p->next;
    orc_task *T = orc_engine_find_task(E, p->token);
    if (T != NULL) { /* else: unknown, answered, abandoned or timed out */
      switch (p->kind) {
      case P_SUCCESS:
        orc_task_succeed(T, p->output, NULL); /* takes the output */
        p->output = NULL;
        break;
      case P_FAILURE:
        orc_task_fail(T, p->error, p->cause, NULL);
        break;
      default:
        orc_task_heartbeat(T, NULL);
        break;
      }
    }
    post_free(p);
    p = next;
  }
}

/* }====== */

/* {====== posting (any thread) */

static int post_new(orc_engine *E, int kind, const char *token, post **out,
                    orc_error *err) {
  size_t n;
  post *p;
  *out = NULL;
  if (E == NULL || token == NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "orc_engine_post: the engine and token are required");
  n = strlen(token);
  p = (post *)malloc(sizeof *p + n + 1);
  if (p == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  p->next = NULL;
  p->kind = kind;
  p->output = NULL;
  p->error = p->cause = NULL;
  memcpy(p->token, token, n + 1);
  *out = p;
  return ORC_OK;
}

static int post_push(orc_engine *E, post *p) {
  orci_posts *Q = orci_engine_posts(E);
  pthread_mutex_lock(&Q->lock);
  if (Q->tail)
    Q->tail->next = p;
  else
    Q->head = p;
  Q->tail = p;
  pthread_cond_broadcast(&Q->cond);
  if (Q->http) orci_http_wakeup(Q->http);
  pthread_mutex_unlock(&Q->lock);
  return ORC_OK;
}

int orc_engine_post_success(orc_engine *E, const char *token,
                            const char *output_json, size_t len,
                            orc_error *err) {
  orc_json *output = NULL;
  post *p;
  int rc = post_new(E, P_SUCCESS, token, &p, err);
  if (rc != ORC_OK) return rc;
  if (output_json == NULL)
    output = orc_json_null();
  else if ((rc = orc_json_parse(output_json, len, NULL, &output, err)) !=
           ORC_OK) {
    post_free(p);
    return rc;
  }
  p->output = output;
  return post_push(E, p);
}

int orc_engine_post_failure(orc_engine *E, const char *token, const char *error,
                            const char *cause, orc_error *err) {
  post *p;
  int rc = post_new(E, P_FAILURE, token, &p, err);
  if (rc != ORC_OK) return rc;
  if ((error && (p->error = strdup(error)) == NULL) ||
      (cause && (p->cause = strdup(cause)) == NULL)) {
    post_free(p);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  return post_push(E, p);
}

int orc_engine_post_heartbeat(orc_engine *E, const char *token,
                              orc_error *err) {
  post *p;
  int rc = post_new(E, P_HEARTBEAT, token, &p, err);
  if (rc != ORC_OK) return rc;
  return post_push(E, p);
}

void orc_engine_wakeup(orc_engine *E) {
  orci_posts *Q;
  if (E == NULL) return;
  Q = orci_engine_posts(E);
  pthread_mutex_lock(&Q->lock);
  Q->woken = 1;
  pthread_cond_broadcast(&Q->cond);
  if (Q->http) orci_http_wakeup(Q->http);
  pthread_mutex_unlock(&Q->lock);
}

/* }====== */

/* {====== the engine's sleep */

int orc_engine_wait(orc_engine *E, int64_t timeout_ms) {
  orci_posts *Q;
  struct timespec until;
  if (E == NULL) return ORC_EINVAL;
  Q = orci_engine_posts(E);
  if (Q->http && orci_http_ntransfers(Q->http) > 0) {
    /* model calls in flight: sleep on their sockets (a post or a wakeup
    ** interrupts the poll), at most until libcurl's own deadline */
    long t = orci_http_timeout_ms(Q->http);
    int64_t ms = timeout_ms;
    int pending;
    pthread_mutex_lock(&Q->lock);
    pending = Q->head != NULL || Q->woken;
    Q->woken = 0;
    pthread_mutex_unlock(&Q->lock);
    if (pending || timeout_ms == 0) return ORC_OK;
    if (Q->virtual_clock || ms < 0 || ms > 1000) ms = 1000;
    if (t >= 0 && t < ms) ms = t;
    orci_http_poll(Q->http, (long)ms, NULL);
    return ORC_OK;
  }
  /* virtual time does not pass by sleeping: step jumps to the timer */
  if (Q->virtual_clock && orc_engine_next_deadline(E) >= 0) timeout_ms = 0;
  if (timeout_ms > (int64_t)INT32_MAX * 1000) timeout_ms = -1; /* 68 years */
  if (timeout_ms > 0) {
    clock_gettime(Q->clk, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&Q->lock);
  while (Q->head == NULL && !Q->woken && timeout_ms != 0) {
    if (timeout_ms < 0)
      pthread_cond_wait(&Q->cond, &Q->lock);
    else if (pthread_cond_timedwait(&Q->cond, &Q->lock, &until) == ETIMEDOUT)
      break;
  }
  Q->woken = 0;
  pthread_mutex_unlock(&Q->lock);
  return ORC_OK;
}

/* }====== */
