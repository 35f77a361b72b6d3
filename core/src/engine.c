/*
** The engine: lifecycle, clocks (real, virtual, manual), the step loop
** and its work bound, deadlines, and the random generator.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "execution_int.h"
#include "http_int.h"

/* {====== clock and random */

static int64_t real_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t orc_engine_now(const orc_engine *E) {
  return E->cfg.clock == ORC_CLOCK_REAL ? real_now_ms() : E->now_ms;
}

uint64_t orci_rng_next(orc_engine *E) { /* splitmix64 */
  uint64_t z = (E->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Random values for intrinsics are drawn here and remembered, so that the
** frame's next event records them for replay. */
uint64_t orci_env_random(void *ud) {
  orci_frame *F = (orci_frame *)ud;
  uint64_t v = orci_rng_next(F->X->E);
  if (F->ndrawn == F->capdrawn) {
    size_t cap = F->capdrawn ? F->capdrawn * 2 : 4;
    uint64_t *p = (uint64_t *)orci_realloc(
        F->X->E, F->drawn, F->capdrawn * sizeof *p, cap * sizeof *p);
    if (p == NULL) return v; /* not recorded for replay: step says so */
    F->drawn = p;
    F->capdrawn = cap;
  }
  F->drawn[F->ndrawn++] = v;
  return v;
}

void orci_put_hex(char *p, uint64_t v, int n) {
  static const char hex[] = "0123456789abcdef";
  while (n-- > 0) {
    p[n] = hex[v & 15u];
    v >>= 4;
  }
}

/* A version 4 UUID from the engine's generator (replayable). */
void orci_make_uuid(orc_engine *E, char *buf) {
  uint64_t a = orci_rng_next(E), b = orci_rng_next(E);
  orci_put_hex(buf, a >> 32, 8);
  buf[8] = '-';
  orci_put_hex(buf + 9, (a >> 16) & 0xFFFF, 4);
  buf[13] = '-';
  buf[14] = '4';
  orci_put_hex(buf + 15, a & 0xFFF, 3);
  buf[18] = '-';
  orci_put_hex(buf + 19, ((b >> 48) & 0x3FFF) | 0x8000, 4);
  buf[23] = '-';
  orci_put_hex(buf + 24, b & 0xFFFFFFFFFFFFull, 12);
  buf[36] = '\0';
}

/* }====== */

/* {====== memory */

/* lua_Alloc's contract over the C library (cfg.alloc NULL). */
static void *default_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(p);
    return NULL;
  }
  return realloc(p, nsize);
}

char *orci_strfmt(orc_engine *E, const char *fmt, ...) {
  va_list ap;
  int n;
  char *s;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || (s = (char *)orci_malloc(E, (size_t)n + 1)) == NULL) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *orci_str_adopt(orc_engine *E, char *s) {
  char *d = orci_strdup(E, s);
  free(s);
  return d;
}

size_t orc_engine_memory(const orc_engine *E) {
  return E->mem.nbytes;
}

/* }====== */

/* {====== engine */

void orc_engine_config_init(orc_engine_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->clock = ORC_CLOCK_REAL;
  cfg->max_payload_bytes = 262144;
  cfg->max_history_events = 25000;
  cfg->history = ORC_HISTORY_FULL;
  cfg->max_transitions_per_step = 300;
  cfg->map_concurrency = 40;
}

static void *engine_fail(orc_engine *E, orc_error *err) {
  orc_engine_free(E);
  orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  return NULL;
}

orc_engine *orc_engine_new(const orc_engine_config *cfg, orc_error *err) {
  orci_allocator A;
  orc_engine *E;
  int i;
  A.fn = cfg && cfg->alloc ? cfg->alloc : default_alloc;
  A.ud = cfg && cfg->alloc ? cfg->alloc_ud : NULL;
  A.nbytes = 0;
  A.failed = 0;
  if (cfg && cfg->clock != ORC_CLOCK_REAL && cfg->clock != ORC_CLOCK_VIRTUAL &&
      cfg->clock != ORC_CLOCK_MANUAL) {
    orci_error(err, ORC_EINVAL, NULL, "unknown clock %d", cfg->clock);
    return NULL;
  }
  if (cfg && !(cfg->budget_usd >= 0 && cfg->budget_usd < HUGE_VAL)) {
    orci_error(err, ORC_EINVAL, NULL,
               "budget_usd must be a finite number >= 0, not %g",
               cfg->budget_usd);
    return NULL;
  }
  E = (orc_engine *)orci_mem(&A, NULL, 0, sizeof *E);
  if (E == NULL) {
    orci_error(err, ORC_ENOMEM, NULL,
               "out of memory: the allocator refused the engine's %zu bytes",
               sizeof *E);
    return NULL;
  }
  memset(E, 0, sizeof *E);
  E->mem = A;
  E->sched.A = &E->mem;
  if (cfg)
    E->cfg = *cfg;
  else
    orc_engine_config_init(&E->cfg);
  if (E->cfg.max_transitions_per_step <= 0)
    E->cfg.max_transitions_per_step = 300;
  if (E->cfg.map_concurrency <= 0) E->cfg.map_concurrency = 40;
  snprintf(E->region, sizeof E->region, "%s",
           E->cfg.region ? E->cfg.region : "us-east-1");
  snprintf(E->account, sizeof E->account, "%s",
           E->cfg.account ? E->cfg.account : "123456789012");
  E->cfg.region = E->region;
  E->cfg.account = E->account;
  snprintf(E->role, sizeof E->role, "arn:aws:iam::%s:role/orchestra",
           E->account);
  E->role_json = orc_json_string(E->role, strlen(E->role));
  if (E->cfg.data_dir &&
      (E->cfg.data_dir = E->data_dir = orci_strdup(E, E->cfg.data_dir)) == NULL)
    return engine_fail(E, err);
  E->now_ms = E->cfg.start_time_ms ? E->cfg.start_time_ms : real_now_ms();
  E->target_ms = E->now_ms;
  E->rng = E->cfg.random_seed ? E->cfg.random_seed
                              : (uint64_t)real_now_ms() ^ (uint64_t)(size_t)E;
  for (i = 0; i < K_COUNT; i++)
    if ((E->keys[i] = orci_skey(orci_key_names[i])) == NULL)
      return engine_fail(E, err);
  E->not_truncated = orc_json_object_new(1);
  if (E->not_truncated == NULL) return engine_fail(E, err);
  orc_json_object_set(E->not_truncated, 0, orc_json_ref(E->keys[K_TRUNCATED]),
                      orc_json_bool(0));
  E->posts = orci_posts_new(&E->mem, E->cfg.clock == ORC_CLOCK_VIRTUAL);
  if (E->posts == NULL || orci_nested_register(E) != ORC_OK ||
      orci_bedrock_register(E) != ORC_OK || orci_meter_register(E) != ORC_OK)
    return engine_fail(E, err);
  return E;
}

orci_posts *orci_engine_posts(const orc_engine *E) {
  return E->posts;
}

void orc_engine_free(orc_engine *E) {
  orci_allocator A;
  int i;
  if (E == NULL) return;
  while (E->executions) {
    orc_execution *X = E->executions;
    E->executions = X->next_x;
    orci_execution_free(X);
  }
  while (E->machines) {
    orc_machine *M = E->machines;
    E->machines = M->next_machine;
    orci_machine_free(M);
  }
  orci_agents_free(E); /* after the executions: they point at agents */
  for (i = 0; i < K_COUNT; i++)
    orc_json_unref(E->keys[i]);
  orc_json_unref(E->not_truncated);
  orc_json_unref(E->role_json);
  orci_sched_free(&E->sched);
  orci_table_free(&E->mem, &E->tasks);
  orci_table_free(&E->mem, &E->names);
  orci_table_free(&E->mem, &E->expired);
  orci_vec_free(&E->mem, &E->resources);
  orci_vec_free(&E->mem, &E->hooks);
  orci_vec_free(&E->mem, &E->evtypes);
  orci_vec_free(&E->mem, &E->zombies);
  orci_posts_free(&E->mem, E->posts);
  orci_bedrock_free(E); /* after the HTTP client: no callback runs */
  orci_strfree(E, E->data_dir);
  A = E->mem; /* the engine's record is its last block */
  orci_mem(&A, E, sizeof *E, 0);
}

/* Manual clock: with nothing runnable and no timer before the target, the
** engine's time is the target. */
static void catch_up(orc_engine *E) {
  int64_t due = orci_timer_next(&E->sched);
  if (E->sched.nready == 0 && (due < 0 || due > E->target_ms))
    E->now_ms = E->target_ms;
}

int orc_engine_step(orc_engine *E, orc_error *err) {
  int budget = E->cfg.max_transitions_per_step;
  orci_sched *S = &E->sched;
  if (E->stepping)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "orc_engine_step called from inside a step");
  E->stepping = 1;
  orci_engine_enter(E);
  /* Under the virtual clock, time jumps to the next timer only when a step
  ** begins with nothing runnable and nothing posted: never inside the step
  ** that handed a task out, so the host always has the gap between two
  ** steps to answer it. */
  /* Under the manual clock it moves the same way, but never past the time
  ** the host advanced to: the timers one advance passes fire in order, each
  ** at its own due time. */
  /* Nor while HTTP transfers are in flight: their answers come in real
  ** time, and jumping would fire an agent's timeout before them. */
  if (E->cfg.clock != ORC_CLOCK_REAL && S->nready == 0 &&
      !orci_posts_pending(E->posts) &&
      (E->http == NULL || orci_http_ntransfers(E->http) == 0)) {
    int64_t due = orci_timer_next(S);
    if (E->cfg.clock == ORC_CLOCK_MANUAL)
      due = due >= 0 && due < E->target_ms ? due : E->target_ms;
    if (due > E->now_ms) E->now_ms = due;
  }
  orci_posts_drain(E, E->posts); /* answers from other threads */
  if (E->http && orci_http_ntransfers(E->http) > 0) {
    /* HTTP work counts against the bound like the rest: ready sockets,
    ** requests handed to libcurl, responses read and their tasks answered
    ** (ORCI_HTTP_W_*); with runnables waiting it takes half the budget at
    ** most, and what it leaves waits for the next step */
    int ndone, used = orci_http_step(
                   E->http, S->nready > 0 ? budget / 2 : budget, &ndone, err);
    if (used < 0)
      E->mem.failed = 1; /* libcurl's multi handle failed: err says why */
    else
      budget -= used;
  }
  /* a timer that fires is a unit of work like a transition: thousands of
  ** Waits ending at once are spread over several steps */
  budget -= orci_timers_fire(E, S, orc_engine_now(E), budget);
  if (E->nover_budget) orci_budget_enforce(E);
  while (budget > 0) {
    orci_runnable *r = orci_run_pop(S);
    uint64_t before = E->dispatched;
    if (r == NULL) break;
    r->run(r);
    /* executions a unit took over their budget stop here (budget.c) */
    if (E->nover_budget) orci_budget_enforce(E);
    /* a task handed to the host runs host code (a Lua handler: convert
    ** input and context, call, convert the result): it weighs
    ** ORC_TASK_WEIGHT transitions */
    budget -= 1 + (int)(E->dispatched - before) * (ORC_TASK_WEIGHT - 1);
  }
  if (E->cfg.clock == ORC_CLOCK_MANUAL) catch_up(E);
  E->stepping = 0;
  orci_engine_leave(E);
  if (E->mem.failed) { /* the allocator refused a request (since the
                          last report): some work was not done or stored */
    E->mem.failed = 0;
    return orci_error(err, ORC_ENOMEM, NULL,
                      "out of memory: the engine's allocator refused memory "
                      "(%zu bytes held); some of this step's work failed or "
                      "was not recorded",
                      E->mem.nbytes);
  }
  if (S->nready == 0 && S->nheap && orci_timer_next(S) <= orc_engine_now(E))
    return 1; /* due timers left for the next step */
  if (S->nready == 0 && E->http && orci_http_has_backlog(E->http))
    return 1; /* HTTP work left for the next step */
  return (int)(S->nready > 0x7fffffff ? 0x7fffffff : S->nready);
}

int64_t orc_engine_next_deadline(const orc_engine *E) {
  int64_t due, now, d;
  if (E->sched.nready) return 0;
  due = orci_timer_next(&E->sched);
  now = orc_engine_now(E);
  d = due < 0 ? -1 : due <= now ? 0 : due - now;
  if (E->http && orci_http_ntransfers(E->http) > 0) {
    /* transfers in flight: libcurl's deadline, or a second at most (the
    ** host's wait wakes earlier on the transfers' sockets) */
    long t = orci_http_timeout_ms(E->http);
    if (t < 0 || t > 1000) t = 1000;
    if (E->cfg.clock != ORC_CLOCK_REAL) return t; /* time stands still */
    if (d < 0 || t < d) d = t;
  }
  return d;
}

int orc_engine_advance(orc_engine *E, int64_t ms, orc_error *err) {
  if (E->cfg.clock != ORC_CLOCK_MANUAL)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "orc_engine_advance needs the manual clock");
  if (ms < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "time cannot go back (advance by %lld ms)",
                      (long long)ms);
  E->target_ms += ms; /* the next steps catch up, timer by timer */
  catch_up(E);
  return ORC_OK;
}

size_t orc_engine_nrunning(const orc_engine *E) {
  return E->nrunning;
}

void orc_engine_stats(const orc_engine *E, orc_engine_stats_t *st) {
  st->task_slots = E->tasks.cap;
  st->pending_tasks = E->tasks.n;
  st->name_slots = E->names.cap;
  st->executions = E->names.n;
  st->expired_tokens = E->expired.n;
  st->expired_slots = E->expired.cap;
  st->timers = orci_timers_count(&E->sched);
  st->timer_slots = E->sched.capslots;
}

/* }====== */
