/*
** A hash table of pointers (open addressing, linear probing, the hash kept
** beside each item) and a growable vector. The table never doubles because
** of tombstones alone: when deleted slots dominate it rehashes at the same
** size, and it halves when three quarters of it would be empty, so a
** long-running host that adds and removes forever keeps a flat footprint.
*/
#include <string.h>

#include "orchestra/orc.h"
#include "table_int.h"

#define MIN_CAP 64

static int resize(orci_allocator *A, orci_table *T, size_t cap) {
  orci_table_slot *slots =
      (orci_table_slot *)orci_mem(A, NULL, 0, cap * sizeof *slots);
  size_t i;
  if (slots == NULL) return ORC_ENOMEM;
  memset(slots, 0, cap * sizeof *slots);
  for (i = 0; i < T->cap; i++) {
    orci_table_slot *s = &T->slots[i];
    size_t k;
    if (s->item == NULL || s->item == ORCI_TABLE_TOMB) continue;
    for (k = s->hash & (cap - 1); slots[k].item; k = (k + 1) & (cap - 1))
      ;
    slots[k] = *s;
  }
  orci_mem(A, T->slots, T->cap * sizeof *T->slots, 0);
  T->slots = slots;
  T->cap = cap;
  T->ntomb = 0;
  return ORC_OK;
}

void *orci_table_find(const orci_table *T, size_t hash, const void *key,
                      orci_table_eq eq) {
  size_t k;
  if (T->cap == 0) return NULL;
  for (k = hash & (T->cap - 1); T->slots[k].item; k = (k + 1) & (T->cap - 1)) {
    const orci_table_slot *s = &T->slots[k];
    if (s->hash == hash && s->item != ORCI_TABLE_TOMB && eq(s->item, key))
      return s->item;
  }
  return NULL;
}

int orci_table_put(orci_allocator *A, orci_table *T, size_t hash, void *item) {
  size_t k;
  if ((T->n + T->ntomb + 1) * 2 > T->cap) {
    /* full of live items: double; full of tombstones: clean in place */
    size_t cap = T->cap == 0               ? MIN_CAP
                 : (T->n + 1) * 4 > T->cap ? T->cap * 2
                                           : T->cap;
    if (resize(A, T, cap) != ORC_OK) return ORC_ENOMEM;
  }
  for (k = hash & (T->cap - 1);
       T->slots[k].item && T->slots[k].item != ORCI_TABLE_TOMB;
       k = (k + 1) & (T->cap - 1))
    ;
  if (T->slots[k].item == ORCI_TABLE_TOMB) T->ntomb--;
  T->slots[k].hash = hash;
  T->slots[k].item = item;
  T->n++;
  return ORC_OK;
}

void orci_table_del(orci_allocator *A, orci_table *T, size_t hash,
                    const void *item) {
  size_t k;
  if (T->cap == 0) return;
  for (k = hash & (T->cap - 1); T->slots[k].item; k = (k + 1) & (T->cap - 1))
    if (T->slots[k].item == item) {
      T->slots[k].item = ORCI_TABLE_TOMB;
      T->n--;
      T->ntomb++;
      if (T->cap > MIN_CAP && T->n * 8 < T->cap)
        resize(A, T, T->cap / 2); /* on failure it stays as it is */
      return;
    }
}

void orci_table_free(orci_allocator *A, orci_table *T) {
  orci_mem(A, T->slots, T->cap * sizeof *T->slots, 0);
  memset(T, 0, sizeof *T);
}

size_t orci_hash_str(const char *s) {
  size_t h = (size_t)1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
  return h;
}

int orci_vec_push(orci_allocator *A, orci_vec *V, size_t elem_size,
                  const void *elem) {
  if (V->n == V->cap) {
    size_t cap = V->cap ? V->cap * 2 : 4;
    void *p = orci_mem(A, V->items, V->cap * elem_size, cap * elem_size);
    if (p == NULL) return ORC_ENOMEM;
    V->elem_size = elem_size;
    V->items = p;
    V->cap = cap;
  }
  memcpy((char *)V->items + V->n * elem_size, elem, elem_size);
  V->n++;
  return ORC_OK;
}

void orci_vec_free(orci_allocator *A, orci_vec *V) {
  orci_mem(A, V->items, V->cap * V->elem_size, 0);
  memset(V, 0, sizeof *V);
}
