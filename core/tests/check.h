/*
** The C tests' one assertion: CHECK(cond) counts the check and, when cond
** is false, counts a failure and prints where. main prints the totals and
** exits 1 when anything failed.
*/
#ifndef ORCHESTRA_TESTS_CHECK_H
#define ORCHESTRA_TESTS_CHECK_H

#include <stdio.h>

static int nfailed, nchecks;

#define CHECK(cond)                                                            \
  do {                                                                         \
    nchecks++;                                                                 \
    if (!(cond)) {                                                             \
      nfailed++;                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#endif
