/*
** Machines: loading and validating definitions.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execution_int.h"

/* {====== machines and executions */

int orc_machine_load_json(orc_engine *E, orc_json *def, const char *name,
                          orc_machine **out, orc_diagnostics *diag,
                          orc_error *err) {
  orc_machine *M = (orc_machine *)calloc(1, sizeof *M);
  int rc;
  size_t n;
  *out = NULL;
  if (M == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  M->E = E;
  rc = orci_machine_compile(M, def, diag, err);
  if (rc != ORC_OK) {
    orci_machine_release(M);
    free(M);
    return rc;
  }
  if (name == NULL) name = "StateMachine";
  M->name = strdup(name);
  n = strlen(name) + strlen(E->region) + strlen(E->account) + 40;
  M->arn = (char *)malloc(n);
  if (M->name == NULL || M->arn == NULL) {
    orci_machine_release(M);
    free(M);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  snprintf(M->arn, n, "arn:aws:states:%s:%s:stateMachine:%s", E->region,
           E->account, name);
  M->next_machine = E->machines;
  E->machines = M;
  *out = M;
  return ORC_OK;
}

int orc_machine_load(orc_engine *E, const char *text, size_t len,
                     const char *name, orc_machine **out, orc_diagnostics *diag,
                     orc_error *err) {
  orc_json *def = NULL;
  orc_json_limits lim = {0, 0, 1}; /* duplicate state names are errors */
  int rc;
  *out = NULL;
  rc = orc_json_parse(text, len, &lim, &def, err);
  if (rc != ORC_OK) {
    if (diag && err) orci_diag_add(diag, err->where, "%s", err->message);
    return rc;
  }
  rc = orc_machine_load_json(E, def, name, out, diag, err);
  orc_json_unref(def);
  return rc;
}

int orc_validate(const char *text, size_t len, orc_diagnostics *diag,
                 orc_error *err) {
  orc_engine *E = orc_engine_new(NULL, err);
  orc_machine *M = NULL;
  int rc;
  if (E == NULL) return ORC_ENOMEM;
  rc = orc_machine_load(E, text, len, NULL, &M, diag, err);
  orc_engine_free(E);
  return rc;
}

const char *orc_machine_name(const orc_machine *M) {
  return M->name;
}

const char *orc_machine_arn(const orc_machine *M) {
  return M->arn;
}

orc_json *orc_machine_definition(const orc_machine *M) {
  return M->definition;
}
