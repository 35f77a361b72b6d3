/*
** orchestra JSON values: immutable, reference-counted trees.
**
** Every payload the engine moves (state inputs, results, outputs, history
** details) is an orc_json value. Once published a value never changes, so a
** sub-tree can be shared by any number of parents: building a new object
** that differs in one member references the unchanged members instead of
** copying them. Integers and floats are distinct (1 and 1.0 print
** differently) and integers are exact to 64 bits.
**
** Ownership: a function documented "returns owned" hands the caller one
** reference, released with orc_json_unref. "Takes" means the reference
** passes to the callee even when the call fails. Values are not
** thread-safe: a value may move to another thread but not be shared.
*/
#ifndef ORCHESTRA_JSON_H
#define ORCHESTRA_JSON_H

#include "orchestra/orc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orc_json orc_json;

typedef enum orc_json_type {
  ORC_JSON_NULL,
  ORC_JSON_BOOL,
  ORC_JSON_INT,    /* written without fraction or exponent, fits int64 */
  ORC_JSON_FLOAT,  /* any other number */
  ORC_JSON_STRING, /* UTF-8 bytes with a length; may hold NUL */
  ORC_JSON_ARRAY,
  ORC_JSON_OBJECT /* ordered members; keys unique */
} orc_json_type;

/* Limits applied by orc_json_parse. Zero fields mean "the default". */
typedef struct orc_json_limits {
  size_t max_bytes; /* longest text accepted (default 64 MiB) */
  int max_depth;    /* deepest nesting of arrays/objects (default 512, at
                       most 1000) */
  int unique_keys;  /* 1: a duplicated object key is an error (naming its
                       JSON pointer); 0: the last value wins */
} orc_json_limits;

#define ORC_JSON_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define ORC_JSON_DEFAULT_MAX_DEPTH 512
#define ORC_JSON_MAX_DEPTH         1000

/* {====== construction */

/* Scalars. Returns owned, or NULL when out of memory. null/true/false are
** shared constants that never fail. */
ORC_API orc_json *orc_json_null(void);
ORC_API orc_json *orc_json_bool(int b);
ORC_API orc_json *orc_json_int(int64_t i);
ORC_API orc_json *orc_json_float(double d);
/* Copies len bytes of s. The caller guarantees valid UTF-8 (see
** orc_utf8_check). */
ORC_API orc_json *orc_json_string(const char *s, size_t len);

/* Arrays and objects are made with their final size, filled with the set
** functions, then published: after the first orc_json_ref (or once handed
** to anything else) they must not be modified. Unset slots read as null. */
ORC_API orc_json *orc_json_array_new(size_t n);
/* Takes item. */
ORC_API void orc_json_array_set(orc_json *a, size_t i, orc_json *item);
ORC_API orc_json *orc_json_object_new(size_t n);
/* Takes key (a string value) and value. Keys must be unique. */
ORC_API void orc_json_object_set(orc_json *o, size_t i, orc_json *key,
                                 orc_json *value);

/* Adds a reference; returns v. */
ORC_API orc_json *orc_json_ref(orc_json *v);
/* Drops a reference and frees the tree when it was the last; NULL is
** ignored. */
ORC_API void orc_json_unref(orc_json *v);

/* }====== */

/* {====== access (borrowed views, valid while the value is alive) */

ORC_API orc_json_type orc_json_type_of(const orc_json *v);
ORC_API const char *orc_json_type_name(orc_json_type t);
ORC_API int orc_json_is_true(const orc_json *v);
ORC_API int64_t orc_json_int_value(const orc_json *v);
/* The number as a double (ints are converted). */
ORC_API double orc_json_number(const orc_json *v);
ORC_API const char *orc_json_string_value(const orc_json *v, size_t *len);
/* Elements of an array or members of an object. */
ORC_API size_t orc_json_len(const orc_json *v);
ORC_API orc_json *orc_json_array_get(const orc_json *a, size_t i);
ORC_API orc_json *orc_json_object_key(const orc_json *o, size_t i);
ORC_API orc_json *orc_json_object_value(const orc_json *o, size_t i);
/* The member named key (len bytes), or NULL (also when o is not an
** object). */
ORC_API orc_json *orc_json_object_find(const orc_json *o, const char *key,
                                       size_t len);
/* Deep equality; ints and floats compare by numeric value (1 == 1.0). */
ORC_API int orc_json_equal(const orc_json *a, const orc_json *b);

/* }====== */

/* {====== text */

/* Parse len bytes of JSON text (RFC 8259: strict numbers, valid UTF-8, no
** trailing garbage). On ORC_OK *out is owned by the caller. On ORC_EJSON
** err->message names the byte offset, line and column, and quotes the text
** around the error. limits may be NULL. */
ORC_API int orc_json_parse(const char *text, size_t len,
                           const orc_json_limits *limits, orc_json **out,
                           orc_error *err);

#define ORC_JSON_PRINT_INDENT 1 /* two-space indentation, newlines */

/* Print v as JSON text. Numbers round-trip exactly: ints print all their
** digits; floats print the shortest text that reads back as the same double
** and always show they are floats (1.0, 1e+300). Returns an owned
** NUL-terminated string (free with orc_free), its length in *len (may be
** NULL), or NULL when out of memory. */
ORC_API char *orc_json_print(const orc_json *v, int flags, size_t *len);

/* Shortest round-trip text of a double into buf (at least 32 bytes); returns
** the length. NaN and infinities are not JSON: the caller rejects them. */
ORC_API size_t orc_json_format_double(double d, char *buf);

/* Frees memory returned by orchestra functions documented so. */
ORC_API void orc_free(void *p);

/* Check that len bytes are valid UTF-8 (no overlongs, surrogates, or code
** points above U+10FFFF). Returns the offset of the first bad byte, or
** (size_t)-1 when the text is valid. */
ORC_API size_t orc_utf8_check(const char *s, size_t len);

/* }====== */

#ifdef __cplusplus
}
#endif

#endif
