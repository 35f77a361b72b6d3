/*
** Intrinsic functions of the States Language ("States.Format('{}', $.x)"),
** compiled once into a call tree and evaluated with Step Functions' rules.
*/
#ifndef ORCHESTRA_INTRINSICS_INT_H
#define ORCHESTRA_INTRINSICS_INT_H

#include "path_int.h"

typedef struct orci_intrinsic orci_intrinsic;

/* 1 when the text looks like an intrinsic call ("States.X(" after optional
** spaces): how a ".$" value is told apart from a path. */
int orci_intrinsic_is_call(const char *text, size_t len);

/* Compile len bytes of call text: the function name must be known, the
** argument count and literal argument types plausible, paths valid. Returns
** an owned tree, or NULL with a message (what and where) in msg. */
orci_intrinsic *orci_intrinsic_compile(const char *text, size_t len, char *msg,
                                       size_t msglen);
void orci_intrinsic_free(orci_intrinsic *f);

/* Evaluate f. On ORC_OK *out owns the result. On failure returns ORC_EINVAL
** and writes the Step Functions error name (e.g. "States.IntrinsicFailure",
** "States.Runtime") into error and the cause text into cause. */
int orci_intrinsic_eval(const orci_intrinsic *f, const orci_env *env,
                        orc_json **out, char *error, size_t errlen, char *cause,
                        size_t causelen);

#endif
