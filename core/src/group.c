/*
** Map and Parallel states: their children (iterations, branches),
** concurrency, tolerated failures, and the state's result.
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

/* {====== Map and Parallel */

#define N_UNKNOWN ((size_t)-1) /* items still being read */

void orci_group_free(orc_engine *E, orci_group *G) {
  size_t i;
  int k;
  if (G == NULL) return;
  for (i = 0; i < G->cap; i++)
    orc_json_unref(G->results[i]);
  orci_free(E, G->results, G->cap * sizeof *G->results);
  orc_json_unref(G->items);
  orci_reader_close(G->reader);
  orc_json_unref(G->peek);
  orc_json_unref(G->batch_input);
  for (k = 0; k < 2; k++) {
    if (G->out[k]) fclose(G->out[k]);
    orci_strfree(E, G->out_path[k]);
  }
  orci_strfree(E, G->run_arn);
  orci_strfree(E, G->bucket);
  orci_strfree(E, G->dir_key);
  orci_strfree(E, G->error);
  orci_strfree(E, G->cause);
  orci_free(E, G, sizeof *G);
}

int orci_map_number(orci_frame *F, orci_path *p, const char *field,
                    const char *kind, double *out, orci_failure *f) {
  orci_env env;
  orc_json *v = NULL;
  orci_frame_env(F, &env, F->input);
  if (orci_path_eval(p, &env, &v) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        orci_runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return -1;
  }
  if (orc_json_type_of(v) == ORC_JSON_STRING) { /* "1" is accepted too */
    const char *txt = orc_json_string_value(v, NULL);
    char *end = NULL;
    double d = strtod(txt, &end);
    if (*txt && end && *end == '\0' &&
        (kind[0] == 'f' || d == (double)(int64_t)d)) {
      *out = d;
      orc_json_unref(v);
      return 0;
    }
  }
  if ((kind[0] == 'i' && orc_json_type_of(v) != ORC_JSON_INT) ||
      (kind[0] == 'f' && orc_json_type_of(v) != ORC_JSON_INT &&
       orc_json_type_of(v) != ORC_JSON_FLOAT)) {
    char *text = orci_raw_text(v);
    f->error = "States.Runtime";
    f->cause =
        orci_runtime_cause(F,
                           "The %s field refers to value \"%s\" which is "
                           "not a valid %s: %s",
                           field, text, kind, orci_path_text(p));
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = orc_json_number(v);
  orc_json_unref(v);
  return 0;
}

/* The context object for an ItemSelector: $$ plus Map.Item.Index/Value. */
static orc_json *item_context(orci_frame *F, size_t index, orc_json *item) {
  orc_json *base = orci_frame_context(F), *ctx, *it, *map;
  size_t i, n = orc_json_len(base);
  static const char *const ik[] = {"Index", "Value"};
  static const char *const mk[] = {"Item"};
  orc_json *iv[2];
  iv[0] = orc_json_int((int64_t)index);
  iv[1] = orc_json_ref(item);
  it = orci_obj_of(2, ik, iv);
  map = it ? orci_obj_of(1, mk, &it) : NULL;
  ctx = map ? orc_json_object_new(n + 1) : NULL;
  if (ctx == NULL) {
    orc_json_unref(map);
    return NULL;
  }
  for (i = 0; i < n; i++)
    orc_json_object_set(ctx, i, orc_json_ref(orc_json_object_key(base, i)),
                        orc_json_ref(orc_json_object_value(base, i)));
  orc_json_object_set(ctx, n, orci_skey("Map"), map);
  return ctx;
}

/* Group items into batches of {"Items": [...] (, "BatchInput": ...)}. */
static orc_json *make_batches(orci_frame *F, const orci_state *s,
                              orc_json *items, int64_t max_items,
                              int64_t max_bytes, orci_failure *f) {
  orc_engine *E = F->X->E;
  size_t n = orc_json_len(items), i = 0, nb = 0, k;
  size_t size = (n ? n : 1) * sizeof(orc_json *); /* at most n batches */
  orc_json **batches = (orc_json **)orci_malloc(E, size);
  orc_json *bi = NULL, *out;
  if (batches == NULL) return NULL;
  if (s->batch_input) {
    bi = orci_eval_tmpl(F, s->batch_input, F->effective, f);
    if (bi == NULL) {
      orci_free(E, batches, size);
      return NULL;
    }
  }
  while (i < n) {
    size_t start = i, bytes = 2, cnt;
    orc_json *arr, *b;
    while (i < n) {
      size_t sz = orci_json_size(orc_json_array_get(items, i)) + 1;
      if (i > start && ((max_items && (int64_t)(i - start) >= max_items) ||
                        (max_bytes && (int64_t)(bytes + sz) > max_bytes)))
        break;
      bytes += sz;
      i++;
    }
    cnt = i - start;
    arr = orc_json_array_new(cnt);
    for (k = 0; arr && k < cnt; k++)
      orc_json_array_set(arr, k,
                         orc_json_ref(orc_json_array_get(items, start + k)));
    b = orc_json_object_new(bi ? 2 : 1);
    if (b) {
      orc_json_object_set(b, 0, orci_skey("Items"), arr);
      if (bi)
        orc_json_object_set(b, 1, orci_skey("BatchInput"), orc_json_ref(bi));
    } else {
      orc_json_unref(arr);
    }
    batches[nb++] = b;
  }
  orc_json_unref(bi);
  out = orc_json_array_new(nb);
  for (k = 0; k < nb; k++)
    if (out)
      orc_json_array_set(out, k, batches[k]);
    else
      orc_json_unref(batches[k]);
  orci_free(E, batches, size);
  return out;
}

/* Stop the running children (another one failed past tolerance, or the
** items could not be read); the state then ends with G's error. */
static void group_abort(orci_frame *F) {
  orci_group *G = F->G;
  const orci_state *s = &F->B->states[F->state];
  int inline_map = s->type == ORCI_ST_MAP && !s->distributed;
  G->failing = 1;
  while (G->first) {
    orci_frame *other = G->first;
    if (inline_map)
      G->last_event = orci_add_event_ex(
          ORCI_FRAME_HISTORY(F), other->last_event, EV_MAP_ITER_ABORTED, NULL,
          s, orc_json_int((int64_t)other->index));
    G->running--;
    orci_frame_free(other);
  }
  F->phase = PH_GROUP_DONE;
  orci_enqueue(F);
}

/* Every child has ended: the state goes on. */
static void group_check(orci_frame *F) {
  orci_group *G = F->G;
  if (!G->failing && G->n != N_UNKNOWN && G->done + G->failed == G->n &&
      F->phase == PH_GROUP_WAIT) {
    F->phase = PH_GROUP_DONE;
    orci_enqueue(F);
  }
}

/* Start children while the concurrency cap allows. */
void orci_group_spawn(orci_frame *F, int64_t prev) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orci_group *G = F->G;
  int started = 0;
  while (!G->failing && (G->max_running == 0 || G->running < G->max_running)) {
    size_t i;
    if (started++ == SPAWN_BATCH) { /* go on with the next turn */
      F->phase = PH_GROUP_MORE;
      orci_enqueue(F);
      return;
    }
    orci_frame *C;
    orc_json *input;
    const orci_branch *B;
    int64_t first_prev = prev;
    orci_failure f = {NULL, NULL};
    if (s->type == ORCI_ST_PARALLEL) {
      if (G->next >= G->n) break;
      i = G->next++;
      B = &s->branches[i];
      input = orc_json_ref(F->effective);
    } else {
      orc_json *item = NULL;
      int rc;
      if (G->n != N_UNKNOWN && G->next >= G->n) break;
      rc = orci_next_item(F, G, s, &item, &f);
      if (rc == 0) {
        G->n = G->next; /* the reader is at its end */
        break;
      }
      if (rc < 0) {
        G->error = orci_strdup(E, f.error ? f.error : "States.Runtime");
        G->cause = f.cause;
        group_abort(F);
        return;
      }
      i = G->next++;
      if (G->keep && i >= G->cap) {
        size_t nc = G->cap ? G->cap * 2 : 64;
        orc_json **r = (orc_json **)orci_realloc(
            E, G->results, G->cap * sizeof *r, nc * sizeof *r);
        if (r == NULL) {
          orc_json_unref(item);
          G->error = orci_strdup(E, "States.Runtime");
          G->cause = orci_strdup(E, "out of memory");
          group_abort(F);
          return;
        }
        memset(r + G->cap, 0, (nc - G->cap) * sizeof *r);
        G->results = r;
        G->cap = nc;
      }
      B = s->processor;
      if (s->item_selector && !s->batched) {
        orc_json *saved;
        orci_frame_context(F); /* the state's "$$", kept on F: made first, so
                             that item_context finds it there */
        saved = F->ctx;
        F->ctx = item_context(F, i, item);
        input = F->ctx ? orci_eval_tmpl(F, s->item_selector, F->effective, &f)
                       : NULL;
        orc_json_unref(F->ctx);
        F->ctx = saved;
        orc_json_unref(item);
        if (input == NULL) {
          G->error = orci_strdup(E, f.error ? f.error : "States.Runtime");
          G->cause = f.cause;
          group_abort(F);
          return;
        }
      } else {
        input = item;
      }
      if (!s->distributed)
        first_prev =
            orci_add_event_ex(ORCI_FRAME_HISTORY(F), prev, EV_MAP_ITER_STARTED,
                              NULL, s, orc_json_int((int64_t)i));
    }
    C = (orci_frame *)orci_calloc(E, sizeof *C);
    if (C) C->run.run = orci_frame_run;
    if (C == NULL) {
      orc_json_unref(input);
      G->error = orci_strdup(E, "States.Runtime");
      G->cause = orci_strdup(E, "out of memory");
      group_abort(F);
      return;
    }
    C->X = X;
    C->B = B;
    C->state = B->start;
    C->phase = PH_ENTER;
    C->input = input;
    C->last_event = first_prev;
    C->parent = F;
    C->index = i;
    C->quiet = F->quiet || s->distributed;
    C->sub = F->sub;
    C->next_child = X->children;
    if (X->children) X->children->prev_child = C;
    X->children = C;
    C->prev_sib = G->last;
    if (G->last)
      G->last->next_sib = C;
    else
      G->first = C;
    G->last = C;
    G->running++;
    if (s->distributed) {
      C->sub = orci_sub_new(F, s, input);
      C->last_event = 0; /* its first state's Entered points at 0 */
      if (C->sub == NULL) {
        G->error = orci_strdup(E, "States.Runtime");
        G->cause = orci_strdup(E, "out of memory");
        group_abort(F);
        return;
      }
    }
    orci_enqueue(C);
  }
  group_check(F);
}

/* Enter a Map or Parallel state's work (first try or a retry). */
void orci_group_start(orci_frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orci_group *G = (orci_group *)orci_calloc(E, sizeof *G);
  orci_failure f = {NULL, NULL};
  size_t n;
  if (G == NULL) {
    orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  G->tolerated_count = -1;
  G->tolerated_pct = -1;
  G->keep = 1;
  if (s->type == ORCI_ST_PARALLEL) {
    n = s->nbranches;
    F->last_event = orci_add_event_flags(
        ORCI_FRAME_HISTORY(F), F->last_event, EV_PARALLEL_STARTED, NULL, NULL,
        NULL, F->retry_count > 0 ? ORCI_EV_RETRY : 0);
  } else {
    orc_json *items = NULL;
    double mc = (double)s->max_concurrency, tc = (double)s->tolerated_count,
           tp = s->tolerated_percent;
    int64_t bi = s->batch_max_items, bb = s->batch_max_bytes;
    size_t nitems = (size_t)-1; /* known once the items are an array */
    if (s->reader) {
      nitems = 0; /* read later: AWS records MapStateStarted {length: 0} */
    } else if (s->jsonata) {
      items = orci_query_items(F, &f);
    } else if (s->items_path) {
      orci_env env;
      orci_frame_env(F, &env, F->effective);
      if (orci_path_eval(s->items_path, &env, &items) != ORC_OK) {
        char why[512];
        orci_path_explain(s->items_path, &env, why, sizeof why);
        f.error = "States.Runtime";
        f.cause = orci_runtime_cause(F, "Invalid path '%s' : %s",
                                     orci_path_text(s->items_path), why);
      }
    } else {
      items = orc_json_ref(F->effective);
    }
    if (f.error == NULL && items && orc_json_type_of(items) != ORC_JSON_ARRAY) {
      char *text = orci_compact(items);
      f.error = "States.Runtime";
      f.cause = orci_runtime_cause(
          F, "Map state input must be an array but was: %s", text);
      free(text);
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->max_concurrency_path &&
        orci_map_number(F, s->max_concurrency_path, "MaxConcurrencyPath",
                        "integer", &mc, &f) < 0) {
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->q_max_concurrency) {
      int64_t v;
      if (orci_query_int(F, s->q_max_concurrency, 0, 99999999, &v, &f) < 0) {
        orc_json_unref(items);
        items = NULL;
      }
      mc = (double)v;
    }
    /* AWS records MapStateStarted before it reads the tolerances */
    if (f.error == NULL && items) nitems = orc_json_len(items);
    if (f.error == NULL && ((s->tolerated_count_path &&
                             orci_map_number(F, s->tolerated_count_path,
                                             "ToleratedFailureCountPath",
                                             "integer", &tc, &f) < 0) ||
                            (s->tolerated_percent_path &&
                             orci_map_number(F, s->tolerated_percent_path,
                                             "ToleratedFailurePercentagePath",
                                             "float", &tp, &f) < 0))) {
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->q_tolerated_count) {
      int64_t v = 0;
      if (orci_query_int(F, s->q_tolerated_count, 0, 99999999, &v, &f) < 0) {
        orc_json_unref(items);
        items = NULL;
      }
      tc = (double)v;
    }
    if (f.error == NULL && s->q_tolerated_percent &&
        orci_query_num(F, s->q_tolerated_percent, 0, 100, &tp, &f) < 0) {
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->tolerated_count_path && tc < 0) {
      f.error = "States.Runtime";
      f.cause =
          orci_runtime_cause(F, "ToleratedFailureCount cannot be negative.");
      orc_json_unref(items);
      items = NULL;
    } else if (f.error == NULL && s->tolerated_percent_path &&
               (tp < 0 || tp > 100)) {
      f.error = "States.Runtime";
      f.cause = orci_runtime_cause(
          F, "ToleratedFailurePercentage must be between 0 and 100.");
      orc_json_unref(items);
      items = NULL;
    }
    if (f.error == NULL && s->batched) {
      double v;
      if (s->batch_max_items_path &&
          orci_map_number(F, s->batch_max_items_path, "MaxItemsPerBatchPath",
                          "integer", &v, &f) == 0)
        bi = (int64_t)v;
      if (f.error == NULL && s->batch_max_bytes_path &&
          orci_map_number(F, s->batch_max_bytes_path,
                          "MaxInputBytesPerBatchPath", "integer", &v, &f) == 0)
        bb = (int64_t)v;
      if (f.error == NULL && s->q_batch_items)
        orci_query_int(F, s->q_batch_items, 0, 99999999, &bi, &f);
      if (f.error == NULL && s->q_batch_bytes)
        orci_query_int(F, s->q_batch_bytes, 0, 262144, &bb, &f);
      if (f.error == NULL && s->reader) {
        G->batch_items = bi;
        G->batch_bytes = bb;
        if (s->batch_input &&
            (G->batch_input =
                 orci_eval_tmpl(F, s->batch_input, F->effective, &f)) == NULL &&
            f.error == NULL) {
          f.error = "States.Runtime";
          f.cause = orci_strdup(E, "out of memory");
        }
      } else if (f.error == NULL) {
        orc_json *batches = make_batches(F, s, items, bi, bb, &f);
        orc_json_unref(items);
        items = batches;
        if (items == NULL && f.error == NULL) {
          f.error = "States.Runtime";
          f.cause = orci_strdup(E, "out of memory");
        }
      } else {
        orc_json_unref(items);
        items = NULL;
      }
    }
    if (f.error) {
      orci_group_free(E, G);
      if (nitems != (size_t)-1) /* AWS records the start, then the failure */
        F->last_event = orci_add_event_flags(
            ORCI_FRAME_HISTORY(F), F->last_event, EV_MAP_STARTED,
            orci_kv_object(E, 1, K_LENGTH, orc_json_int((int64_t)nitems)), NULL,
            NULL, F->retry_count > 0 ? ORCI_EV_RETRY : 0);
      if (s->jsonata) { /* AWS records MapStateFailed after the evaluation */
        orci_handle_error_ev(F, f.error, f.cause, EV_MAP_FAILED);
        orci_strfree(E, f.cause);
        return;
      }
      orci_fail_with(F, &f);
      return;
    }
    G->items = items;
    n = items ? orc_json_len(items) : N_UNKNOWN;
    if (s->distributed && mc <= 0) mc = 10000; /* AWS runs up to 10,000 */
    G->max_running = mc > 0 ? (size_t)mc : (size_t)E->cfg.map_concurrency;
    G->tolerated_count = s->tolerated_count_path || s->q_tolerated_count ||
                                 s->tolerated_count >= 0
                             ? (int64_t)tc
                             : -1;
    G->tolerated_pct = tp;
    G->keep = !(s->writer && s->writer_params);
    F->last_event = orci_add_event_flags(
        ORCI_FRAME_HISTORY(F), F->last_event, EV_MAP_STARTED,
        orci_kv_object(E, 1, K_LENGTH, orc_json_int(items ? (int64_t)n : 0)),
        NULL, NULL, F->retry_count > 0 ? ORCI_EV_RETRY : 0);
    if (s->distributed) {
      char arn[512], id[40];
      orci_make_uuid(E, id);
      snprintf(arn, sizeof arn, "arn:aws:states:%s:%s:mapRun:%s/%s:%s",
               E->region, E->account, X->M->name, s->label ? s->label : s->name,
               id);
      G->run_arn = orci_strdup(E, arn);
      F->last_event = orci_add_event(
          ORCI_FRAME_HISTORY(F), F->last_event, EV_MAP_RUN_STARTED,
          orci_kv_object(E, 1, K_MAP_RUN_ARN, orci_skey(arn)));
      if (G->run_arn == NULL) { /* refused: the map run cannot go on */
        f.error = "States.Runtime";
        f.cause = orci_strdup(E, "out of memory");
      }
      if (f.error || (s->reader && orci_x_reader_open(F, G, s, &f) < 0) ||
          (s->writer && s->writer_params &&
           orci_writer_open(F, G, s, id, &f) < 0)) {
        G->error = orci_strdup(E, f.error);
        G->cause = f.cause;
        G->failing = 1;
        G->last_event = F->last_event;
        F->G = G;
        F->phase = PH_GROUP_DONE;
        orci_enqueue(F);
        return;
      }
    }
  }
  G->n = n;
  if (n != N_UNKNOWN && n > 0 && G->keep) {
    G->results = (orc_json **)orci_calloc(E, n * sizeof *G->results);
    if (G->results == NULL) {
      orci_group_free(E, G);
      orci_fail_frame(F, "States.Runtime", "out of memory");
      return;
    }
    G->cap = n;
  }
  G->last_event = F->last_event;
  F->G = G;
  F->phase = PH_GROUP_WAIT;
  if (n == 0) {
    F->phase = PH_GROUP_DONE;
    orci_enqueue(F);
    return;
  }
  orci_group_spawn(F, F->last_event);
}

static int tolerated(const orci_group *G) {
  double total = (double)(G->n == N_UNKNOWN ? G->next : G->n);
  if (G->tolerated_count < 0 && G->tolerated_pct < 0) return 0;
  if (G->tolerated_count >= 0 && (int64_t)G->failed > G->tolerated_count)
    return 0;
  if (G->tolerated_pct >= 0 &&
      (double)G->failed * 100.0 > G->tolerated_pct * total)
    return 0;
  return 1;
}

void orci_child_done(orci_frame *C, orc_json *output) {
  orci_frame *F = C->parent;
  orci_group *G = F->G;
  const orci_state *s = &F->B->states[F->state];
  size_t i = C->index;
  if (s->distributed) {
    orci_sub_end(C, ORC_STATUS_SUCCEEDED, output, NULL, NULL);
    if (s->writer) {
      orc_json *rec = orci_child_record(s, C->sub, output, NULL, NULL);
      if (G->keep) {
        G->results[i] = rec;
        rec = NULL;
      } else {
        orci_write_record(G, s, 0, rec);
      }
      orc_json_unref(rec);
      orc_json_unref(output);
      output = NULL;
    }
  } else {
    G->last_event = C->last_event;
  }
  if (G->keep && output)
    G->results[i] = output;
  else
    orc_json_unref(output);
  if (s->type == ORCI_ST_MAP && !s->distributed)
    G->last_event = orci_add_event_ex(ORCI_FRAME_HISTORY(F), C->last_event,
                                      EV_MAP_ITER_SUCCEEDED, NULL, s,
                                      orc_json_int((int64_t)i));
  G->running--;
  G->done++;
  orci_frame_free(C);
  orci_group_spawn(F, G->last_event);
}

void orci_child_failed(orci_frame *C, const char *error, const char *cause) {
  orc_engine *E = C->X->E;
  orci_frame *F = C->parent;
  orci_group *G = F->G;
  const orci_state *s = &F->B->states[F->state];
  size_t i = C->index;
  int map = s->type == ORCI_ST_MAP;
  if (s->distributed) {
    orci_sub_end(C, ORC_STATUS_FAILED, NULL, error, cause);
  } else {
    G->last_event = C->last_event;
    if (map)
      G->last_event = orci_add_event_ex(ORCI_FRAME_HISTORY(F), C->last_event,
                                        EV_MAP_ITER_FAILED, NULL, s,
                                        orc_json_int((int64_t)i));
  }
  G->running--;
  G->failed++;
  if (s->distributed && s->writer && !G->keep) {
    orc_json *rec = orci_child_record(s, C->sub, NULL, error, cause);
    orci_write_record(G, s, 1, rec);
    orc_json_unref(rec);
  }
  if (map && tolerated(G)) {
    if (G->keep)
      G->results[i] = s->distributed && s->writer
                          ? orci_child_record(s, C->sub, NULL, error, cause)
                          : orci_child_record(s, NULL, NULL, error, cause);
    orci_frame_free(C);
    orci_group_spawn(F, G->last_event);
    return;
  }
  if (map && (G->tolerated_count >= 0 || G->tolerated_pct >= 0)) {
    G->error = orci_strdup(E, "States.ExceedToleratedFailureThreshold");
    G->cause = orci_strdup(E, "The specified tolerated failure threshold "
                              "was exceeded");
  } else {
    G->error = orci_strdup(E, error);
    G->cause = orci_strdup(E, cause);
  }
  orci_frame_free(C);
  group_abort(F);
}

/* All children ended, or one failed: the Map/Parallel state goes on. */
void orci_group_finish(orci_frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orci_group *G = F->G;
  int map = s->type == ORCI_ST_MAP;
  orc_json *result;
  orci_failure f = {NULL, NULL};
  size_t i;
  F->G = NULL;
  if (G->failing) {
    char *error = G->error, *cause = G->cause;
    G->error = G->cause = NULL;
    F->last_event = G->last_event;
    orci_group_free(E, G);
    if (s->distributed)
      F->last_event = orci_add_event(
          ORCI_FRAME_HISTORY(F), F->last_event, EV_MAP_RUN_FAILED,
          orci_kv_object(E, 2, K_ERROR, orci_str_or_null(error), K_CAUSE,
                         orci_str_or_null(cause)));
    orci_handle_error_ev(F, error, cause,
                         map ? EV_MAP_FAILED : EV_PARALLEL_FAILED);
    orci_strfree(E, error);
    orci_strfree(E, cause);
    return;
  }
  if (s->distributed && s->writer && !G->keep) {
    result = orci_writer_finish(F, G, &f);
    if (result == NULL) { /* the map run fails with ResultWriterFailed */
      F->last_event = G->last_event;
      orci_group_free(E, G);
      F->last_event = orci_add_event(
          ORCI_FRAME_HISTORY(F), F->last_event, EV_MAP_RUN_FAILED,
          orci_kv_object(E, 2, K_ERROR, orci_skey(f.error), K_CAUSE,
                         orci_str_or_null(f.cause)));
      orci_handle_error_ev(F, f.error, f.cause, EV_MAP_FAILED);
      orci_strfree(E, f.cause);
      return;
    }
  } else {
    size_t k = 0, total = G->n;
    int flatten = s->writer && s->writer_transform == ORCI_WRITE_FLATTEN;
    if (flatten) { /* arrays of the children's outputs are spliced in */
      total = 0;
      for (i = 0; i < G->n; i++)
        total += orc_json_type_of(G->results[i]) == ORC_JSON_ARRAY
                     ? orc_json_len(G->results[i])
                     : 1;
    }
    result = orc_json_array_new(total);
    for (i = 0; result && i < G->n; i++) {
      if (flatten && orc_json_type_of(G->results[i]) == ORC_JSON_ARRAY) {
        size_t j;
        for (j = 0; j < orc_json_len(G->results[i]); j++)
          orc_json_array_set(
              result, k++, orc_json_ref(orc_json_array_get(G->results[i], j)));
        continue;
      }
      orc_json_array_set(result, k++, G->results[i]);
      G->results[i] = NULL;
    }
  }
  if (s->distributed)
    G->last_event = orci_add_event(ORCI_FRAME_HISTORY(F), G->last_event,
                                   EV_MAP_RUN_SUCCEEDED, NULL);
  F->last_event =
      orci_add_event(ORCI_FRAME_HISTORY(F), G->last_event,
                     map ? EV_MAP_SUCCEEDED : EV_PARALLEL_SUCCEEDED, NULL);
  orci_group_free(E, G);
  if (result == NULL) {
    orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  orci_state_result(F, result);
}

/* }====== */
