/*
** Files behind a distributed Map (items.c): the ItemReader's sources (a
** JSON array, JSON Lines, CSV, or a listing of objects) read one item at a
** time, so that a million-line file streams in bounded memory; the default
** resolver from an S3 (bucket, key) to a path under a data directory; and
** the directories a ResultWriter's files need.
*/
#ifndef ORCHESTRA_ITEMS_INT_H
#define ORCHESTRA_ITEMS_INT_H

#include <stdint.h>

#include "orchestra/json.h"

typedef struct orci_reader orci_reader;

typedef struct orci_reader_config {
  int type;           /* ORCI_READ_* (asl_int.h) */
  const char *path;   /* the file; for ORCI_READ_LIST the bucket's root */
  const char *prefix; /* ORCI_READ_LIST: keys must start with it */
  int csv_given;      /* headers come from csv_headers */
  char *const *csv_headers;
  size_t ncsv_headers;
  char csv_delim;
  int64_t max_items; /* 0: all */
} orci_reader_config;

/* Opens a source; NULL with *cause (owned) set when it cannot be read. */
orci_reader *orci_reader_open(const orci_reader_config *cfg, char **cause);
/* The next item (owned) in *item: 1; 0 at the end; -1 with *cause (owned)
** set when the source is malformed. */
int orci_reader_next(orci_reader *R, orc_json **item, char **cause);
void orci_reader_close(orci_reader *R);

/* "<dir>/<bucket>/<key>" (owned), or NULL with *cause set when bucket or key
** would leave dir ("..", an absolute key, a '/' in the bucket). */
char *orci_default_resolve(const char *dir, const char *bucket, const char *key,
                           char **cause);
/* Creates the directories above path (mkdir -p of its dirname). 0 or -1. */
int orci_make_parents(const char *path);

#endif
