/*
** The scheduler: a timer heap whose entries are generic (due, callback,
** data) slots named by handles with generations, and a FIFO run queue of
** generic items. Cancelling removes the entry from the heap at once, so
** everything in the heap is live: the next deadline is the top.
*/
#include <string.h>

#include "orchestra/orc.h"
#include "sched_int.h"

/* {====== timers */

#define SLOT_OF(h) ((uint32_t)((h)&0xFFFFFFFFu) - 1u)
#define GEN_OF(h)  ((uint32_t)((h) >> 32))

static int less(const orci_sched *S, uint32_t a, uint32_t b) {
  const orci_timer_slot *x = &S->slots[a], *y = &S->slots[b];
  return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

static void place(orci_sched *S, uint32_t pos, uint32_t slot) {
  S->heap[pos] = slot;
  S->slots[slot].pos = pos;
}

static void sift_up(orci_sched *S, uint32_t pos) {
  uint32_t slot = S->heap[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!less(S, slot, S->heap[parent])) break;
    place(S, pos, S->heap[parent]);
    pos = parent;
  }
  place(S, pos, slot);
}

static void sift_down(orci_sched *S, uint32_t pos) {
  uint32_t slot = S->heap[pos];
  for (;;) {
    uint32_t l = 2 * pos + 1, r = l + 1, m = pos;
    uint32_t best = slot;
    if (l < S->nheap && less(S, S->heap[l], best)) {
      m = l;
      best = S->heap[l];
    }
    if (r < S->nheap && less(S, S->heap[r], best)) m = r;
    if (m == pos) break;
    place(S, pos, S->heap[m]);
    pos = m;
  }
  place(S, pos, slot);
}

/* Take the slot at heap position pos out of the heap and free it. */
static void remove_at(orci_sched *S, uint32_t pos) {
  uint32_t slot = S->heap[pos], last = S->heap[--S->nheap];
  orci_timer_slot *t = &S->slots[slot];
  if (pos < S->nheap) {
    place(S, pos, last);
    if (pos > 0 && less(S, last, S->heap[(pos - 1) / 2]))
      sift_up(S, pos);
    else
      sift_down(S, pos);
  }
  t->fn = NULL;
  t->data = NULL;
  t->gen++;
  t->pos = S->free_slot;
  S->free_slot = slot + 1;
}

/* Double the slots and the heap together (both have capslots entries): the
** new heap is allocated first, so a refusal leaves both as they were. */
static int grow(orci_sched *S) {
  uint32_t cap = S->capslots ? S->capslots * 2 : 64;
  orci_timer_slot *ns;
  uint32_t *nh;
  if (cap > 0x7FFFFFFFu) return ORC_ENOMEM;
  nh = (uint32_t *)orci_mem(S->A, NULL, 0, cap * sizeof *nh);
  if (nh == NULL) return ORC_ENOMEM;
  ns = (orci_timer_slot *)orci_mem(S->A, S->slots, S->capslots * sizeof *ns,
                                   cap * sizeof *ns);
  if (ns == NULL) {
    orci_mem(S->A, nh, cap * sizeof *nh, 0);
    return ORC_ENOMEM;
  }
  if (S->nheap) memcpy(nh, S->heap, S->nheap * sizeof *nh);
  orci_mem(S->A, S->heap, S->capslots * sizeof *nh, 0);
  S->slots = ns;
  S->heap = nh;
  S->capslots = cap;
  return ORC_OK;
}

int orci_timer_set(orci_sched *S, int64_t due, orci_timer_fn fn, void *data,
                   orci_timer *h) {
  uint32_t slot;
  orci_timer_slot *t;
  orci_timer_cancel(S, h);
  if (S->free_slot) {
    slot = S->free_slot - 1;
    S->free_slot = S->slots[slot].pos;
  } else {
    if (S->nslots == S->capslots && grow(S) != ORC_OK) return ORC_ENOMEM;
    slot = S->nslots++;
    S->slots[slot].gen = 1;
  }
  t = &S->slots[slot];
  t->due = due;
  t->seq = S->seq++;
  t->fn = fn;
  t->data = data;
  S->heap[S->nheap] = slot;
  t->pos = S->nheap++;
  sift_up(S, t->pos);
  *h = ((uint64_t)t->gen << 32) | (uint64_t)(slot + 1);
  return ORC_OK;
}

void orci_timer_cancel(orci_sched *S, orci_timer *h) {
  uint32_t slot;
  if (*h == 0) return;
  slot = SLOT_OF(*h);
  if (slot < S->nslots && S->slots[slot].gen == GEN_OF(*h) &&
      S->slots[slot].fn != NULL)
    remove_at(S, S->slots[slot].pos);
  *h = 0;
}

int64_t orci_timer_next(const orci_sched *S) {
  return S->nheap ? S->slots[S->heap[0]].due : -1;
}

size_t orci_timers_count(const orci_sched *S) {
  return S->nheap;
}

int orci_timers_fire(orc_engine *E, orci_sched *S, int64_t now, int max) {
  int fired = 0;
  while (S->nheap && fired < max && S->slots[S->heap[0]].due <= now) {
    orci_timer_slot *t = &S->slots[S->heap[0]];
    orci_timer_fn fn = t->fn;
    void *data = t->data;
    remove_at(S, 0); /* the handle is spent before the callback runs */
    fired++;
    fn(E, data);
  }
  return fired;
}

/* }====== */

/* {====== run queue */

void orci_run_push(orci_sched *S, orci_runnable *r) {
  if (r->queued) return;
  r->queued = 1;
  r->next = NULL;
  r->prev = S->tail;
  if (S->tail)
    S->tail->next = r;
  else
    S->head = r;
  S->tail = r;
  S->nready++;
}

void orci_run_remove(orci_sched *S, orci_runnable *r) {
  if (!r->queued) return;
  if (r->prev)
    r->prev->next = r->next;
  else
    S->head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    S->tail = r->prev;
  r->queued = 0;
  S->nready--;
}

orci_runnable *orci_run_pop(orci_sched *S) {
  orci_runnable *r = S->head;
  if (r) orci_run_remove(S, r);
  return r;
}

/* }====== */

void orci_sched_free(orci_sched *S) {
  orci_allocator *A = S->A;
  if (A) {
    orci_mem(A, S->slots, S->capslots * sizeof *S->slots, 0);
    orci_mem(A, S->heap, S->capslots * sizeof *S->heap, 0);
  }
  memset(S, 0, sizeof *S);
  S->A = A;
}
