/*
** The host's override of Choice states (orc_engine_set_choice_hook): a
** cost simulation decides branches by stated probabilities instead of the
** data. state.c asks orci_choice_pick before it evaluates a Choice's
** rules; everything else (history, Assign, OutputPath) stays the state's.
*/
#include <string.h>

#include "execution_int.h"

void orc_engine_set_choice_hook(orc_engine *E, orc_choice_fn fn, void *ud) {
  E->choice_fn = fn;
  E->choice_ud = fn ? ud : NULL;
}

int orci_choice_pick(orci_frame *F, const orci_state *s, orc_json *eff,
                     orci_failure *f) {
  orc_engine *E = F->X->E;
  const orci_state *states = F->B->states;
  const char **nexts;
  size_t i, j, n = 0;
  size_t size;
  int pick = -1, rc;
  orc_error err;
  if (E->choice_fn == NULL) return -1;
  size = (s->nchoices + 1) * sizeof *nexts;
  nexts = (const char **)orci_malloc(E, size);
  if (nexts == NULL) {
    f->error = "States.Runtime";
    f->cause = orci_runtime_cause(F, "out of memory");
    return -2;
  }
  for (i = 0; i <= s->nchoices; i++) {
    int k = i < s->nchoices ? s->choices[i]->next : s->default_next;
    if (k < 0) continue;
    for (j = 0; j < n && strcmp(nexts[j], states[k].name) != 0; j++)
      ;
    if (j == n) nexts[n++] = states[k].name;
  }
  err.message[0] = '\0';
  rc = E->choice_fn(E->choice_ud, F->X, s->name, eff, nexts, n, &pick, &err);
  if (rc < 0 || pick < -1 || pick >= (int)n) {
    f->error = "States.Runtime";
    f->cause =
        rc < 0
            ? orci_runtime_cause(F, "The choice hook failed: %s", err.message)
            : orci_runtime_cause(F, "The choice hook picked branch %d of %zu.",
                                 pick, n);
    orci_free(E, (void *)nexts, size);
    return -2;
  }
  if (pick >= 0) {
    const char *name = nexts[pick];
    for (i = 0; i < s->nchoices; i++)
      if (strcmp(states[s->choices[i]->next].name, name) == 0) break;
    pick = (int)i; /* s->nchoices: the Default */
  }
  orci_free(E, (void *)nexts, size);
  return pick;
}
