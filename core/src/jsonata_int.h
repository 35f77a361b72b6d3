/*
** JSONata internals shared by the jsonata*.c files: values, the syntax
** tree, the evaluation context and the error machinery.
**
** Memory: a compiled expression owns one arena (its tree); each evaluation
** owns another, freed as a whole when the evaluation ends. Every value made
** while evaluating lives in the evaluation arena, and values read from the
** input point into the input's orc_json tree (never copied). So no value
** has its own lifetime, and a JSONata error can unwind with longjmp from
** any depth back to orc_jsonata_eval: nothing but the arena is held, and
** the arena is released there. The jump never leaves the jsonata files.
*/
#ifndef ORCHESTRA_JSONATA_INT_H
#define ORCHESTRA_JSONATA_INT_H

#include <setjmp.h>
#include <stdint.h>

#include "json_int.h"
#include "orchestra/jsonata.h"

/* {====== arena */

typedef struct jblock jblock;
typedef struct jarena {
  jblock *head;  /* newest block */
  size_t used;   /* bytes handed out from head */
  size_t total;  /* bytes of all blocks */
  size_t limit;  /* total may not exceed this (0: no limit) */
  jblock *fixed; /* the caller's first block (not freed), or NULL */
} jarena;

/* NULL when out of memory or over the limit. */
void *orci_arena_alloc(jarena *A, size_t n);
void orci_arena_free(jarena *A);

/* }====== */

/* {====== values */

typedef enum jv_type {
  JV_UNDEF, /* JSONata's undefined (no value) */
  JV_NULL,
  JV_BOOL,
  JV_NUM,
  JV_STR,
  JV_ARR,  /* an array made while evaluating (jarr) */
  JV_JARR, /* an array of the input (orc_json), read in place */
  JV_OBJ,  /* an object made while evaluating (jobj) */
  JV_JOBJ, /* an object of the input (orc_json), read in place */
  JV_FN
} jv_type;

typedef struct jarr jarr;
typedef struct jobj jobj;
typedef struct jfn jfn;

typedef struct jv {
  uint8_t t; /* jv_type */
  union {
    int b;
    double n;
    struct {
      const char *p; /* UTF-8, not NUL-terminated */
      size_t n;
    } s;
    jarr *a;
    jobj *o;
    const orc_json *j;
    jfn *f;
  } u;
} jv;

struct jarr {
  jv *items;
  size_t n, cap;
  uint8_t seq;   /* a sequence (flattens, singleton collapses) */
  uint8_t keep;  /* keepSingleton: a singleton sequence stays an array */
  uint8_t cons;  /* made by an array constructor: not flattened by paths */
  uint8_t outer; /* the wrapper of an input array (outerWrapper) */
  uint8_t tuple; /* a tuple stream: items are JV_OBJ binding sets */
};

typedef struct jkey {
  const char *p;
  size_t n;
} jkey;

struct jobj {
  jkey *keys;
  jv *vals;
  size_t n, cap;
  int32_t *hash; /* open-addressing index once n grows, or NULL */
  size_t hcap;
};

/* }====== */

/* {====== syntax tree */

typedef enum jn_type {
  N_PATH,
  N_BINARY, /* op in ->op */
  N_NEG,
  N_ARRAY,  /* [a, b, ...] */
  N_OBJECT, /* {k: v, ...} (unary) */
  N_NAME,
  N_STRING,
  N_NUMBER,
  N_VALUE, /* true false null: ->num 1/0, ->op 'n' for null */
  N_WILDCARD,
  N_DESCENDANT,
  N_PARENT,
  N_CONDITION,
  N_BLOCK,
  N_BIND,
  N_REGEX,
  N_FUNCTION,
  N_PARTIAL,
  N_VARIABLE,
  N_LAMBDA,
  N_APPLY,
  N_TRANSFORM,
  N_SORT,
  N_PLACEHOLDER, /* ? in a partial application */
  N_FILTER,      /* stage: a predicate (lhs) */
  N_INDEX,       /* stage: #$var */
  /* raw parse nodes, gone after processing */
  N_RAW_DOT,
  N_RAW_PRED,
  N_RAW_GROUP,
  N_RAW_SORT,
  N_RAW_FOCUS,
  N_RAW_INDEXBIND,
  N_RAW_COALESCE,
  N_RAW_END /* the end of the text where an operand should be */
} jn_type;

/* binary operators */
enum {
  OP_ADD = 1,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_EQ,
  OP_NE,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_CONCAT,
  OP_AND,
  OP_OR,
  OP_IN,
  OP_RANGE
};

typedef struct jsig jsig;
typedef struct jslot {
  int label; /* the ancestor binding's number ("!n") */
  int level;
  int index;
} jslot;

typedef struct jnode jnode;
struct jnode {
  uint8_t type; /* jn_type */
  uint8_t op;   /* OP_* for N_BINARY; descending for sort terms */
  uint8_t keep_array, cons_array, keep_singleton, tuple, thunk;
  int position;
  const char *str; /* name, string, variable, regex source */
  size_t len;
  double num;
  jnode *lhs, *rhs, *third; /* operands; condition: lhs ? rhs : third */
  jnode **items; /* steps, expressions, arguments, pairs (k,v,k,v), terms */
  size_t n;
  jnode **stages; /* path step: filters and index bindings, in order */
  size_t nstages;
  jnode **preds; /* predicates of a non-path expression */
  size_t npreds;
  jnode *group;      /* N_OBJECT of a grouping {} after a step/path */
  const char *focus; /* @$name */
  size_t focuslen;
  const char *index; /* #$name */
  size_t indexlen;
  jslot *ancestor; /* %: binding made at this step */
  jslot **seeking; /* parent slots still unresolved */
  size_t nseeking;
  jslot *slot; /* N_PARENT */
  jsig *sig;   /* lambda signature */
  void *regex; /* compiled regex (jsonata_regex.c) */
  int regex_flags;
};

/* }====== */

/* {====== evaluation */

typedef struct jframe jframe;
struct jframe {
  jframe *parent;
  jkey *names;
  jv *vals;
  size_t n, cap;
};

typedef struct jbuiltin jbuiltin;
typedef struct jctx jctx;

typedef jv (*jbuiltin_fn)(jctx *C, jv *args, int nargs, jv input, jframe *env);

struct jbuiltin {
  const char *name;
  const char *sig; /* jsonata-js signature, e.g. "<s-nn?:s>" */
  jbuiltin_fn fn;
  int flags; /* 0, ORC_JSONATA_AWS (only then) or JB_NOT_AWS (never then) */
};

/* Step Functions implements JSONata 2.0.6 without $eval ($parse instead) */
#define JB_NOT_AWS 0x100

enum {
  F_LAMBDA,
  F_BUILTIN,
  F_PARTIAL,
  F_REGEX,
  F_TRANSFORM,
  F_CHAIN,
  F_NATIVE
};

struct jfn {
  uint8_t kind;
  uint8_t thunk;
  const jnode *node; /* lambda, regex or transform node */
  jframe *env;       /* closure environment */
  jv input;          /* lambda: the context it was made in */
  const jbuiltin *b; /* F_BUILTIN */
  jsig *sig;         /* validation (lambda signature or builtin's) */
  jfn *target;       /* F_PARTIAL: the function; F_CHAIN: first */
  jfn *second;       /* F_CHAIN */
  jv *args;          /* F_PARTIAL: bound arguments (UNDEF + hole flag) */
  uint8_t *holes;
  int nargs;
  int arity;
  jv (*native)(jctx *C, jfn *self, jv *args, int nargs); /* F_NATIVE */
  void *ud;
};

struct orc_jsonata {
  jarena A;
  jnode *root;
  int flags;
  const char *text; /* a copy, for $eval's errors and positions */
  size_t len;
};

struct jctx {
  jarena A;
  jmp_buf jmp;
  orc_jsonata_error *err;
  int flags;
  int depth, max_depth;
  int64_t steps, max_steps;
  double start_ms, timeout_ms;
  double now_ms;
  uint64_t rng;
  jframe *root;               /* bindings, $ */
  const jbuiltin *sigkey[32]; /* builtins whose signature is parsed */
  jsig *sigval[32];
  int nsig;
  const struct orc_jsonata *X;
  orc_jsonata_resolver resolve; /* the host's variables, or NULL */
  void *resolve_ud;
};

/* }====== */

/* {====== errors */

/* Record a JSONata error and unwind to the evaluation's (or compile's)
** setjmp. value, when not NULL, is shown in the message. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void orci_jthrow(jctx *C, const char *code, int position, const char *token,
                 const char *value);
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void orci_jnomem(jctx *C);
/* Fill err from a code with jsonata-js's message template. */
void orci_jerror_fill(orc_jsonata_error *err, const char *code, int position,
                      const char *token, const char *value, int index);

/* }====== */

/* {====== helpers shared across files */

void *orci_jalloc(jctx *C, size_t n);
jv orci_jundef(void);
jv orci_jnum(jctx *C, double d);
jv orci_jbool(int b);
jv orci_jnull(void);
jv orci_jstr(const char *p, size_t n);
jv orci_jstr_copy(jctx *C, const char *p, size_t n);
jv orci_jfromjson(const orc_json *j);

jarr *orci_jarr_new(jctx *C, size_t cap);
void orci_jarr_push(jctx *C, jarr *a, jv v);
jv orci_jarr_val(jarr *a);
jv orci_jseq(jctx *C);
jobj *orci_jobj_new(jctx *C, size_t cap);
void orci_jobj_set(jctx *C, jobj *o, const char *k, size_t kn, jv v);
int orci_jobj_del(jobj *o, const char *k, size_t kn);
jv orci_jobj_val(jobj *o);

int orci_jis_array(jv v);
int orci_jis_object(jv v);
int orci_jis_seq(jv v);
size_t orci_jlen(jv v);
jv orci_jat(jv v, size_t i);
jkey orci_jkey(jv o, size_t i);
jv orci_jval(jv o, size_t i);
/* The member named k of an object, or undefined. */
jv orci_jget(jv o, const char *k, size_t kn);

int orci_jtruthy(jctx *C, jv v, int *defined);
int orci_jequal(jv a, jv b);
jv orci_jflatten(jctx *C, jv v);
jv orci_jappend(jctx *C, jv a, jv b);
/* An array's contents as a fresh sequence jarr (for arrays only). */
jarr *orci_jto_arr(jctx *C, jv v);

/* JavaScript's Number#toString. buf: at least 32 bytes. */
size_t orci_jnumfmt(double d, char *buf);
/* $string: JSON text with jsonata-js's number rules; strings unquoted. */
jv orci_jstringify(jctx *C, jv v, int pretty);
/* JSON-ish text of v for error messages (truncated). */
void orci_jdescribe(jv v, char *buf, size_t len);

orc_json *orci_jto_json(jctx *C, jv v, int *ok);

/* Apply a function value to args. */
jv orci_japply(jctx *C, jv fn, jv *args, int nargs, jv input, int position);
int orci_jarity(jv fn);
jv orci_jeval_node(jctx *C, const jnode *n, jv input, jframe *env);
jframe *orci_jframe_new(jctx *C, jframe *parent);
void orci_jbind(jctx *C, jframe *f, const char *k, size_t kn, jv v);
int orci_jlookup(jframe *f, const char *k, size_t kn, jv *out);
void orci_jstep(jctx *C);

/* signatures */
jsig *orci_jsig_parse(jarena *A, const char *s, size_t n, int *bad_offset,
                      const char **code);
/* Validate args against sig; may replace args (context, array wrapping).
** Returns the new argument count. */
int orci_jsig_validate(jctx *C, const jsig *sig, jv *in, int nin, jv *out,
                       jv context, int position, const char *token);

/* builtins */
const jbuiltin *orci_jbuiltin_find(const char *name, size_t n, int flags);
jsig *orci_jbuiltin_sig(jctx *C, const jbuiltin *b);
jv orci_jfn_sort(jctx *C, jv arr, jv cmp, int position);
/* A copy of arr's items sorted stably; gt(ud, a, b) says "a after b". */
jv orci_jsort_with(jctx *C, jv arr, int (*gt)(void *, jv, jv), void *ud);
jv orci_jfn_string(jctx *C, jv v);
jv orci_jfn_number(jctx *C, jv v, int position);

/* parser */
jnode *orci_jparse(jctx *C, jarena *A, const char *text, size_t len);

/* regex (jsonata_regex.c) */
void *orci_jregex_compile(jctx *C, jarena *A, const char *src, size_t n,
                          int flags, int position);
/* Match re in s from byte offset `from`: 1 found (start/end byte offsets,
** groups), 0 none. */
typedef struct jmatch {
  size_t start, end;
  int ngroups;
  size_t *gstart, *gend; /* (size_t)-1 when a group did not take part */
} jmatch;
int orci_jregex_exec(jctx *C, void *re, const char *s, size_t n, size_t from,
                     jmatch *m);
/* Iterate the matches of a matcher (a regex value, or a function with
** JSONata's matcher protocol: {match, start, end, groups, next}) over s. */
typedef struct jmiter {
  jv matcher;
  jv last; /* custom matchers: the previous result object */
  const char *s;
  size_t n;
  size_t from; /* regex: byte offset of the next search */
  int started, done, position;
} jmiter;
void orci_jmiter_init(jmiter *it, jv matcher, const char *s, size_t n,
                      int position);
/* 1: the next match in m (byte offsets), 0: no more. */
int orci_jmiter_next(jctx *C, jmiter *it, jmatch *m);

/* date/time (jsonata_time.c) */
jv orci_jfn_from_millis(jctx *C, double ms, jv picture, jv tz, int position);
jv orci_jfn_to_millis(jctx *C, const char *s, size_t n, jv picture,
                      int position);
jv orci_jfn_format_integer(jctx *C, double v, const char *pic, size_t n,
                           int position);
jv orci_jfn_parse_integer(jctx *C, const char *s, size_t n, const char *pic,
                          size_t pn, int position);
extern const jbuiltin orci_jtime_builtins[];
extern const jbuiltin orci_jaws_builtins[];

/* utf-8 */
size_t orci_u8len(const char *s, size_t n);
/* byte offset of code point index i (clamped to n) */
size_t orci_u8off(const char *s, size_t n, size_t i);

/* }====== */

#endif
