/*
** JSONPath and reference paths as AWS Step Functions evaluates them
** (Jayway JsonPath semantics), compiled once and evaluated many times.
**
** A path's root is the state input ("$"), the context object ("$$") or a
** workflow variable ("$name", the 2024 Variables addition). Evaluation reads
** the root from an orci_env.
*/
#ifndef ORCHESTRA_PATH_INT_H
#define ORCHESTRA_PATH_INT_H

#include "json_int.h"

typedef struct orci_path orci_path;

/* Where a path starts. */
#define ORCI_ROOT_INPUT    0 /* $   */
#define ORCI_ROOT_CONTEXT  1 /* $$  */
#define ORCI_ROOT_VARIABLE 2 /* $name */

/* What a path may contain. */
#define ORCI_PATH_JSONPATH  0 /* everything: wildcards, slices, filters, .. */
#define ORCI_PATH_REFERENCE 1 /* one node: members and non-negative indexes */

/* What a path or intrinsic may read while being evaluated. All borrowed. */
typedef struct orci_env {
  orc_json *input;   /* "$" */
  orc_json *context; /* "$$" (may be NULL: then get_context, or {}) */
  /* Builds "$$" on first use (borrowed result), so that states whose paths
  ** never read it do not pay for it. May be NULL. */
  orc_json *(*get_context)(void *ud);
  /* Variable lookup for "$name" paths; returns a borrowed value or NULL
  ** when the variable is not defined. May be NULL (no variables). */
  orc_json *(*variable)(void *ud, const char *name, size_t len);
  void *ud;
  /* Random source for States.MathRandom and States.UUID: returns 64 random
  ** bits. The engine records what it returns so that a replay gives the
  ** same values. May be NULL (then a fixed-seed generator is used). */
  uint64_t (*random)(void *ud);
} orci_env;

/* Compile len bytes of path text. kind is ORCI_PATH_JSONPATH or
** ORCI_PATH_REFERENCE. Returns an owned path, or NULL with a message naming
** the problem and its character offset written into msg. */
orci_path *orci_path_compile(const char *text, size_t len, int kind, char *msg,
                             size_t msglen);
void orci_path_free(orci_path *p);

/* The text the path was compiled from (NUL-terminated). */
const char *orci_path_text(const orci_path *p);
/* ORCI_ROOT_INPUT, ORCI_ROOT_CONTEXT or ORCI_ROOT_VARIABLE. */
int orci_path_root(const orci_path *p);
/* For ORCI_ROOT_VARIABLE: the variable's name (without "$"). */
const char *orci_path_variable(const orci_path *p, size_t *len);
/* 1 when the path can select at most one node (Jayway's "definite" path:
** members, ['a','b'] and single indexes; no wildcard, slice, filter, index
** union or deep scan). */
int orci_path_is_definite(const orci_path *p);
/* 1 when the path is just its root ("$", "$$", "$name"). */
int orci_path_is_root(const orci_path *p);

/* Evaluate p. A definite path gives the node it selects (*out owns one
** reference) or ORC_EINVAL with *out NULL when nothing matches; an
** indefinite path gives a new array of every match, in document order
** (possibly empty). As in Jayway 1.x, which Step Functions runs, a missing
** last member or an index out of range fails an indefinite path too,
** unless "[*]" over an array skips that element ("$.a[*].x" skips items
** without x, "$.a[?(@.ok)].x" fails on them). A "$name" path whose variable
** is undefined gives ORC_EINVAL. */
int orci_path_eval(const orci_path *p, const orci_env *env, orc_json **out);

/* After orci_path_eval failed with ORC_EINVAL: write why into msg in
** Jayway's words, as Step Functions quotes them after "Invalid path '...' :
** " ("No results for path: $['a']['b']", "Missing property in path
** $['a']"), or that the variable is undefined. Writes "" if p succeeds. */
void orci_path_explain(const orci_path *p, const orci_env *env, char *msg,
                       size_t msglen);

/* ResultPath: return (in *out, owned) a copy of root with value placed at
** the reference path p, creating missing objects on the way. Untouched
** sub-trees are shared with root, not copied. Takes nothing: root and value
** are borrowed (the result holds its own references). Returns ORC_EINVAL
** with a cause in msg when the path crosses a non-object, or indexes past
** an array's end. "$" gives value itself. */
int orci_path_set(const orci_path *p, orc_json *root, orc_json *value,
                  orc_json **out, char *msg, size_t msglen);

#endif
