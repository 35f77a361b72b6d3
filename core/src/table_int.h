/*
** Containers shared by the engine's files (table.c): a hash table of
** pointers with open addressing that rehashes in place when deleted slots
** dominate and shrinks when sparse (memory stays flat under churn), and a
** growable vector. Both take their memory from the engine's allocator A,
** passed to every call that may allocate or free.
*/
#ifndef ORCHESTRA_TABLE_INT_H
#define ORCHESTRA_TABLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc_int.h"

typedef struct orci_table_slot {
  size_t hash;
  void *item; /* NULL: empty; ORCI_TABLE_TOMB: deleted */
} orci_table_slot;

typedef struct orci_table {
  orci_table_slot *slots;
  size_t cap, n, ntomb;
} orci_table;

#define ORCI_TABLE_TOMB ((void *)(uintptr_t)1)

/* Is item the one looked for by key? */
typedef int (*orci_table_eq)(const void *item, const void *key);

/* The item with this hash for which eq(item, key) holds, or NULL. */
void *orci_table_find(const orci_table *T, size_t hash, const void *key,
                      orci_table_eq eq);
/* Add item (not already present) under hash: ORC_OK or ORC_ENOMEM. */
int orci_table_put(orci_allocator *A, orci_table *T, size_t hash, void *item);
/* Remove item (compared by address) stored under hash; no-op if absent. */
void orci_table_del(orci_allocator *A, orci_table *T, size_t hash,
                    const void *item);
void orci_table_free(orci_allocator *A, orci_table *T);

/* FNV-1a of a NUL-terminated string. */
size_t orci_hash_str(const char *s);

typedef struct orci_vec {
  void *items;
  size_t n, cap;
  size_t elem_size; /* set by the first push; every element has it */
} orci_vec;

/* Append the elem_size bytes at elem: ORC_OK or ORC_ENOMEM. */
int orci_vec_push(orci_allocator *A, orci_vec *V, size_t elem_size,
                  const void *elem);
#define ORCI_VEC_AT(V, type, i) (((type *)(V)->items)[i])
void orci_vec_free(orci_allocator *A, orci_vec *V);

#endif
