/*
** The engine's scheduler (sched.c): one timer heap of generic entries and
** one run queue of generic items. Neither knows what a frame or an agent
** is: a timer is (due, callback, data) behind a handle with a generation,
** a runnable is a link its owner embeds. Its memory comes from the
** engine's allocator (A, set when the engine is made).
*/
#ifndef ORCHESTRA_SCHED_INT_H
#define ORCHESTRA_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc_int.h"

typedef struct orc_engine orc_engine;

/* {====== timers */

/* Called when the timer is due, inside orc_engine_step (the handle is
** already spent: the callback may set a new timer in the same place). */
typedef void (*orci_timer_fn)(orc_engine *E, void *data);

/* A timer handle: 0 means none. It names a slot and that slot's
** generation, so a handle whose timer fired or was cancelled is inert. */
typedef uint64_t orci_timer;

typedef struct orci_timer_slot {
  int64_t due;      /* engine-clock ms */
  uint64_t seq;     /* ties fire in the order they were set */
  orci_timer_fn fn; /* NULL: the slot is free */
  void *data;
  uint32_t gen; /* bumped when the slot is freed */
  uint32_t pos; /* index in the heap, or the next free slot */
} orci_timer_slot;

typedef struct orci_sched {
  orci_allocator *A; /* the engine's */
  orci_timer_slot *slots;
  uint32_t nslots, capslots, free_slot; /* free list head + 1 (0: none) */
  uint32_t *heap; /* slot indices, a binary min-heap on (due, seq);
                     capslots of them allocated */
  uint32_t nheap;
  uint64_t seq;
  struct orci_runnable *head, *tail; /* the run queue */
  size_t nready;
} orci_sched;

/* Arm a timer at due: *h (cancelled first if set) names it. ORC_OK or
** ORC_ENOMEM (then *h is 0). */
int orci_timer_set(orci_sched *S, int64_t due, orci_timer_fn fn, void *data,
                   orci_timer *h);
/* Cancel *h if it is still armed, and set it to 0. */
void orci_timer_cancel(orci_sched *S, orci_timer *h);
/* The due time of the earliest timer, or -1 when none is set. */
int64_t orci_timer_next(const orci_sched *S);
/* Fire timers due at or before now, at most max: returns how many. */
int orci_timers_fire(orc_engine *E, orci_sched *S, int64_t now, int max);
/* Number of armed timers. */
size_t orci_timers_count(const orci_sched *S);

/* }====== */

/* {====== the run queue */

typedef struct orci_runnable orci_runnable;
/* One turn of the item: it is off the queue while it runs. */
typedef void (*orci_run_fn)(orci_runnable *r);
struct orci_runnable {
  orci_runnable *next, *prev;
  orci_run_fn run;
  int queued;
};

/* Put r at the end of the queue (no-op when it is queued already). */
void orci_run_push(orci_sched *S, orci_runnable *r);
/* Take r off the queue (no-op when it is not queued). */
void orci_run_remove(orci_sched *S, orci_runnable *r);
/* The first item, taken off the queue, or NULL. */
orci_runnable *orci_run_pop(orci_sched *S);

/* }====== */

void orci_sched_free(orci_sched *S);

#endif
