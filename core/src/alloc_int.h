/*
** The engine's allocator (engine.c owns it, the containers of table.c and
** sched.c and every unit of the run-time allocate through it): the host's
** lua_Alloc-style function with its user data, and what it holds now.
** Sizes are exact: a block is freed or resized with the size it was given,
** so a host's counting allocator balances to 0 when the engine is freed.
*/
#ifndef ORCHESTRA_ALLOC_INT_H
#define ORCHESTRA_ALLOC_INT_H

#include <stddef.h>

#include "orchestra/orc.h"

typedef struct orci_allocator {
  orc_alloc fn;  /* never NULL: the host's, or realloc/free */
  void *ud;      /* fn's first argument */
  size_t nbytes; /* bytes held through fn */
  int failed;    /* a request was refused since the engine last said so */
} orci_allocator;

/* lua_Alloc's contract: p NULL allocates (osize 0), nsize 0 frees (returns
** NULL), else resizes (NULL on failure, p untouched). A refused request
** sets A->failed. */
static inline void *orci_mem(orci_allocator *A, void *p, size_t osize,
                             size_t nsize) {
  void *q;
  if (nsize == 0) {
    if (p == NULL) return NULL;
    A->fn(A->ud, p, osize, 0);
    A->nbytes -= osize;
    return NULL;
  }
  q = A->fn(A->ud, p, p ? osize : 0, nsize);
  if (q == NULL) {
    A->failed = 1;
    return NULL;
  }
  A->nbytes = A->nbytes - (p ? osize : 0) + nsize;
  return q;
}

#endif
