/*
** orchestra JSONata: the expression language of Step Functions' JSONata
** mode (JSONata 2.x as the reference implementation, jsonata-js, defines
** it), compiled once and evaluated many times over orc_json values.
**
** An expression is compiled to an immutable tree (orc_jsonata_compile) and
** evaluated any number of times (orc_jsonata_eval), also from several
** threads at once: evaluation never modifies the compiled expression.
** Evaluation reads the input by reference (it is never copied) and is
** bounded: a nesting depth, a number of evaluation steps, a wall-clock time
** and a memory budget; a runaway expression fails with D1011 (depth) or
** D1012 (steps, time), never hangs.
*/
#ifndef ORCHESTRA_JSONATA_H
#define ORCHESTRA_JSONATA_H

#include "orchestra/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orc_jsonata orc_jsonata;

/* Compile flags. */
#define ORC_JSONATA_AWS                                                        \
  1 /* add Step Functions' $partition, $range, $hash,                          \
       $random, $uuid and $parse */

/* A JSONata error: its code as jsonata-js names it ("S0201", "T2001",
** "D3030", ...), the character offset in the expression where it was
** found, the token involved and a message. status is ORC_EINVAL for
** JSONata errors (compile or evaluation), ORC_ENOMEM when memory ran out. */
typedef struct orc_jsonata_error {
  int status;        /* ORC_EINVAL, ORC_ENOMEM, ORC_EMISUSE */
  char code[8];      /* JSONata error code, NUL-terminated */
  int position;      /* character offset (1-based, as jsonata-js), 0 none */
  char token[64];    /* the token or function name involved, or "" */
  char message[256]; /* "what and why", NUL-terminated */
} orc_jsonata_error;

/* Bounds of one evaluation. Zero fields mean "the default". */
typedef struct orc_jsonata_limits {
  int max_depth;     /* deepest nesting of evaluation (default 1000) */
  int64_t max_steps; /* evaluation steps (default 10,000,000) */
  double timeout_ms; /* wall-clock budget (default 10,000 ms) */
  size_t max_memory; /* bytes of working memory (default 256 MiB) */
  double now_ms;     /* $now()/$millis(): Unix ms; 0 = the real clock */
  uint64_t seed;     /* $random, $shuffle, $uuid; 0 = from the clock */
} orc_jsonata_limits;

/* Compile len bytes of UTF-8 expression text (borrowed). flags:
** ORC_JSONATA_*. On ORC_OK *out owns the compiled expression
** (orc_jsonata_free). On error *out is NULL and err (may be NULL) says
** what, where and why. */
ORC_API int orc_jsonata_compile(const char *text, size_t len, int flags,
                                orc_jsonata **out, orc_jsonata_error *err);

/* DESTRUCTOR. NULL is a no-op. */
ORC_API void orc_jsonata_free(orc_jsonata *x);

/* Evaluate x against input (borrowed; NULL means "no input", JSONata's
** undefined). bindings (borrowed, may be NULL) is an object whose members
** become variables ($name). limits may be NULL. On ORC_OK *out is owned by
** the caller, or NULL when the result is undefined. On error *out is NULL
** and err is filled. */
ORC_API int orc_jsonata_eval(const orc_jsonata *x, const orc_json *input,
                             const orc_json *bindings,
                             const orc_jsonata_limits *limits, orc_json **out,
                             orc_jsonata_error *err);

/* Looks up a variable ($name) that the expression's own bindings do not
** define: a borrowed value that stays valid for the whole evaluation, or
** NULL (undefined). */
typedef const orc_json *(*orc_jsonata_resolver)(void *ud, const char *name,
                                                size_t len);

/* Everything an evaluation may be given besides its input (all optional). */
typedef struct orc_jsonata_env {
  const orc_json *bindings;      /* as orc_jsonata_eval's bindings */
  orc_jsonata_resolver resolve;  /* variables not in bindings, or NULL */
  void *ud;                      /* for resolve */
  const orc_jsonata_limits *lim; /* NULL: the defaults */
  int is_function;               /* out: the result was a function */
} orc_jsonata_env;

/* orc_jsonata_eval with variables looked up through env->resolve (after
** bindings, before the function library) and env->is_function set when
** the result is a function (a function has no JSON form: *out is then
** NULL). */
ORC_API int orc_jsonata_eval_env(const orc_jsonata *x, const orc_json *input,
                                 orc_jsonata_env *env, orc_json **out,
                                 orc_jsonata_error *err);

/* Whether x reads its root document at the top level: a field name, `*`,
** `**`, `$` or `$$` evaluated against the input itself (not inside a path
** step, a predicate or a function body). Returns 1 and copies the first
** such reference into name (NUL-terminated, cut to cap), else 0. Step
** Functions refuses these in JSONata states: it binds no root document. */
ORC_API int orc_jsonata_reads_root(const orc_jsonata *x, char *name,
                                   size_t cap);

/* The expression's text as it was compiled (borrowed; len may be NULL). */
ORC_API const char *orc_jsonata_text(const orc_jsonata *x, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
