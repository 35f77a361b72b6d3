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

static orc_machine *machine_named(const orc_engine *E, const char *name) {
  orc_machine *M;
  for (M = E->machines; M; M = M->next_machine)
    if (strcmp(M->name, name) == 0) return M;
  return NULL;
}

int orc_machine_load_json(orc_engine *E, orc_json *def, const char *name,
                          orc_machine **out, orc_diagnostics *diag,
                          orc_error *err) {
  orc_machine *M;
  int rc;
  size_t n;
  char auto_name[32]; /* "StateMachine-2"... for the unnamed */
  *out = NULL;
  /* Names follow Step Functions' rules, and one name is one machine: its
  ** ARN is what states:startExecution and orc_engine_find_execution look
  ** up. The unnamed are numbered. */
  if (name != NULL && !orci_valid_name(name))
    return orci_error(err, ORC_EINVAL, NULL,
                      "InvalidName: invalid state machine name '%s': 1 to 80 "
                      "characters, no whitespace or any of < > { } [ ] ? * "
                      "\" # %% \\ ^ ~ $ & , ; : / | `",
                      name);
  if (name != NULL && machine_named(E, name) != NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "StateMachineAlreadyExists: this engine already has a "
                      "state machine named '%s' (its ARN would name both)",
                      name);
  if (name == NULL) {
    unsigned k = 1;
    snprintf(auto_name, sizeof auto_name, "StateMachine");
    while (machine_named(E, auto_name) != NULL)
      snprintf(auto_name, sizeof auto_name, "StateMachine-%u", ++k);
    name = auto_name;
  }
  M = (orc_machine *)calloc(1, sizeof *M);
  if (M == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  M->E = E;
  rc = orci_machine_compile(M, def, diag, err);
  if (rc != ORC_OK) {
    orci_machine_release(M);
    free(M);
    return rc;
  }
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
