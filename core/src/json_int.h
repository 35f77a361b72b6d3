/*
** Internal layout of orc_json values and helpers shared by core files.
*/
#ifndef ORCHESTRA_JSON_INT_H
#define ORCHESTRA_JSON_INT_H

#include "orchestra/json.h"

#define ORCI_JSON_STATIC UINT32_MAX /* refs of the shared constants */

typedef struct orci_member {
  orc_json *key; /* a string value */
  orc_json *value;
} orci_member;

/* text_size caches the length of the value's compact JSON text (values are
** immutable): 0 until computed, ORCI_JSON_TSIZE_BIG from that size on (then
** it is computed again when asked). The shared constants never cache. */
#define ORCI_JSON_TSIZE_BIG 0xFFFFFFu
#define ORCI_JSON_TSIZE(v)  ((uint32_t)(v)->tsize_hi << 16 | (v)->tsize_lo)

struct orc_json {
  uint32_t refs;     /* references held; ORCI_JSON_STATIC for constants */
  uint8_t type;      /* orc_json_type */
  uint8_t tsize_hi;  /* text size cache (see above), bits 16..23 */
  uint16_t tsize_lo; /* and bits 0..15 */
  size_t n;          /* string bytes, array items or object members */
  union {
    int b;
    int64_t i;
    double d;
    char *s;              /* inline after the header, NUL-terminated */
    orc_json **items;     /* inline after the header */
    orci_member *members; /* inline after the header */
  } u;
};

/* A growable byte buffer for printers. On allocation failure `failed` is
** set and further appends are ignored, so callers check once at the end. */
typedef struct orci_buf {
  char *p;
  size_t len, cap;
  int failed;
} orci_buf;

/* A buffer whose failed is ORCI_BUF_COUNT only counts the bytes added. */
#define ORCI_BUF_COUNT 2

void orci_buf_add(orci_buf *b, const void *s, size_t n);
void orci_buf_addc(orci_buf *b, char c);
void orci_buf_adds(orci_buf *b, const char *s);
void orci_buf_free(orci_buf *b);

/* Append v as JSON text (compact unless ORC_JSON_PRINT_INDENT). */
void orci_json_write(orci_buf *b, const orc_json *v, int flags);
/* The length of v's compact JSON text, without making it. */
size_t orci_json_text_size(const orc_json *v);
/* Append s (len bytes) as a quoted JSON string. */
void orci_json_write_string(orci_buf *b, const char *s, size_t len);

/* Fill err (may be NULL) with a formatted message. Returns code. */
int orci_error(orc_error *err, int code, const char *where, const char *fmt,
               ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
