/*
** The distributed Map: child execution records, the ItemReader's items
** and the ResultWriter's files.
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

/* {====== a distributed Map's child executions */

void orci_sub_free(orc_execution *S) {
  orci_history_free(S);
  orci_meter_detach(S);
  orc_json_unref(S->input);
  orc_json_unref(S->output);
  orc_json_unref(S->ctx_execution);
  free(S->error);
  free(S->cause);
  free(S->arn);
  free(S->parent_arn);
  free(S->map_run_arn);
  free(S);
}

/* The execution record of a distributed Map's child, with its own
** ExecutionStarted. */
orc_execution *orci_sub_new(orci_frame *F, const orci_state *s,
                            orc_json *input) {
  orc_execution *X = F->X, *S = (orc_execution *)calloc(1, sizeof *S);
  orc_engine *E = X->E;
  const char *parent = F->sub ? F->sub->arn : X->arn;
  char uuid[40];
  size_t n;
  if (S == NULL) return NULL;
  orci_make_uuid(E, uuid);
  S->E = E;
  S->M = X->M;
  S->input = orc_json_ref(input);
  n = strlen(X->M->name) + strlen(s->label ? s->label : s->name) +
      strlen(E->region) + strlen(E->account) + 80;
  S->arn = (char *)malloc(n);
  S->parent_arn = strdup(parent);
  S->map_run_arn = strdup(F->G->run_arn ? F->G->run_arn : "");
  if (S->arn == NULL || S->parent_arn == NULL || S->map_run_arn == NULL) {
    orci_sub_free(S);
    return NULL;
  }
  snprintf(S->arn, n, "arn:aws:states:%s:%s:execution:%s/%s:%s", E->region,
           E->account, X->M->name, s->label ? s->label : s->name, uuid);
  S->name = S->arn + strlen(S->arn) - strlen(uuid); /* the ARN's tail */
  S->status = ORC_STATUS_RUNNING;
  S->start_ms = orc_engine_now(E);
  S->next_id = 1;
  orci_meter_attach(S, X); /* the parent's bill */
  orci_add_event_ex(S, 0, EV_EXECUTION_STARTED, NULL, &orci_start_marker,
                    orc_json_ref(input));
  return S;
}

/* The child execution ends: its status and last event. */
void orci_sub_end(orci_frame *C, int status, orc_json *output,
                  const char *error, const char *cause) {
  orc_execution *S = C->sub;
  orc_engine *E = S->E;
  int type = status == ORC_STATUS_SUCCEEDED ? EV_EXECUTION_SUCCEEDED
             : status == ORC_STATUS_FAILED  ? EV_EXECUTION_FAILED
                                            : EV_EXECUTION_ABORTED;
  if (S->status != ORC_STATUS_RUNNING) return;
  S->status = status;
  if (status == ORC_STATUS_SUCCEEDED) {
    S->output = orc_json_ref(output);
    orci_add_event(S, C->last_event, type,
                   orci_kv_object(E, 2, K_OUTPUT, orc_json_ref(output),
                                  K_OUTPUT_DETAILS,
                                  orc_json_ref(E->not_truncated)));
  } else {
    orci_set_str(&S->error, error);
    orci_set_str(&S->cause, cause);
    orci_add_event(S, C->last_event, type,
                   status == ORC_STATUS_ABORTED
                       ? NULL
                       : orci_kv_object(E, 2, K_ERROR, orci_str_or_null(error),
                                        K_CAUSE, orci_str_or_null(cause)));
  }
}

/* The child frame goes: keep its record (full history) or free it. */
void orci_sub_release(orci_frame *C) {
  orc_execution *S = C->sub, *X = C->X;
  C->sub = NULL;
  if (S->status == ORC_STATUS_RUNNING) {
    C->sub = S; /* orci_sub_end reads it */
    orci_sub_end(C, ORC_STATUS_ABORTED, NULL, NULL, NULL);
    C->sub = NULL;
  }
  if (X->E->cfg.history != ORC_HISTORY_FULL) {
    orci_sub_free(S);
    return;
  }
  if (orci_vec_push(&X->subs, sizeof S, &S) != ORC_OK) orci_sub_free(S);
}

/* }====== */
/* {====== ItemReader and ResultWriter */

/* An S3 (bucket, key) as a local path (owned), or NULL with *cause. */
static char *resolve(orc_engine *E, const char *bucket, const char *key,
                     int write, char **cause) {
  char *path;
  *cause = NULL;
  if (E->cfg.resolve) {
    orc_error err;
    err.message[0] = '\0';
    path = E->cfg.resolve(E->cfg.resolve_ud, bucket, key, write, &err);
    if (path == NULL)
      *cause = strdup(err.message[0] ? err.message : "the resolver failed");
  } else {
    path = orci_default_resolve(E->cfg.data_dir ? E->cfg.data_dir : ".", bucket,
                                key, cause);
  }
  if (path && write && orci_make_parents(path) != 0) {
    *cause = (char *)malloc(strlen(path) + 200);
    if (*cause)
      sprintf(*cause, "cannot create the directories of '%s': %s", path,
              strerror(errno));
    free(path);
    return NULL;
  }
  return path;
}

/* A string member of the evaluated Parameters, or NULL. */
static const char *param_str(orc_json *p, const char *name) {
  orc_json *v = orc_json_type_of(p) == ORC_JSON_OBJECT
                    ? orc_json_object_find(p, name, strlen(name))
                    : NULL;
  return v && orc_json_type_of(v) == ORC_JSON_STRING
             ? orc_json_string_value(v, NULL)
             : NULL;
}

/* Open the ItemReader's source into G->reader; -1 with *f set. */
int orci_x_reader_open(orci_frame *F, orci_group *G, const orci_state *s,
                       orci_failure *f) {
  orc_engine *E = F->X->E;
  orci_reader_config rc;
  orc_json *p = orci_eval_tmpl(F, s->reader_params, F->effective, f);
  const char *bucket, *key;
  char *path, *cause = NULL;
  double mi = (double)s->reader_max_items;
  if (p == NULL) return -1;
  bucket = param_str(p, "Bucket");
  key = param_str(p, s->reader == ORCI_READ_LIST ? "Prefix" : "Key");
  if (s->reader == ORCI_READ_LIST && key == NULL &&
      !orc_json_object_find(p, "Prefix", 6))
    key = "";
  if (bucket == NULL || key == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = strdup(s->reader == ORCI_READ_LIST
                          ? "the ItemReader's Parameters need a string Bucket "
                            "(and Prefix)"
                          : "the ItemReader's Parameters need a string Bucket "
                            "and Key");
    orc_json_unref(p);
    return -1;
  }
  if (s->reader_max_items_path) {
    orci_failure g = {NULL, NULL};
    if (orci_map_number(F, s->reader_max_items_path, "MaxItemsPath", "integer",
                        &mi, &g) < 0) {
      *f = g;
      orc_json_unref(p);
      return -1;
    }
    if (mi <= 0) {
      f->error = "States.ItemReaderFailed";
      f->cause = strdup("field MaxItems must be positive");
      orc_json_unref(p);
      return -1;
    }
  }
  path = resolve(E, bucket, s->reader == ORCI_READ_LIST ? "" : key, 0, &cause);
  if (path == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
    orc_json_unref(p);
    return -1;
  }
  memset(&rc, 0, sizeof rc);
  rc.type = s->reader;
  rc.path = path;
  rc.prefix = key;
  rc.csv_given = s->csv_given;
  rc.csv_headers = s->csv_headers;
  rc.ncsv_headers = s->ncsv_headers;
  rc.csv_delim = s->csv_delim;
  rc.max_items = (int64_t)mi;
  G->reader = orci_reader_open(&rc, &cause);
  free(path);
  /* the listing copied the prefix; files do not need it after opening */
  orc_json_unref(p);
  if (G->reader == NULL) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
    return -1;
  }
  return 0;
}

/* Open the ResultWriter's files; -1 with *f set. */
int orci_writer_open(orci_frame *F, orci_group *G, const orci_state *s,
                     const char *run_id, orci_failure *f) {
  orc_engine *E = F->X->E;
  orc_json *p = orci_eval_tmpl(F, s->writer_params, F->effective, f);
  const char *bucket, *prefix;
  static const char *const names[2] = {"SUCCEEDED_0", "FAILED_0"};
  size_t n;
  int k;
  if (p == NULL) return -1;
  bucket = param_str(p, "Bucket");
  prefix = param_str(p, "Prefix");
  if (bucket == NULL) {
    f->error = "States.ResultWriterFailed";
    f->cause = strdup("the ResultWriter's Parameters need a string Bucket");
    orc_json_unref(p);
    return -1;
  }
  if (prefix == NULL) prefix = "";
  n = strlen(prefix) + strlen(run_id) + 3;
  G->bucket = strdup(bucket);
  G->dir_key = (char *)malloc(n);
  if (G->bucket == NULL || G->dir_key == NULL) {
    orc_json_unref(p);
    f->error = "States.ResultWriterFailed";
    f->cause = strdup("out of memory");
    return -1;
  }
  snprintf(G->dir_key, n, "%s%s%s", prefix,
           prefix[0] && prefix[strlen(prefix) - 1] != '/' ? "/" : "", run_id);
  orc_json_unref(p);
  for (k = 0; k < 2; k++) {
    char key[1200], *cause = NULL;
    snprintf(key, sizeof key, "%s/%s.json%s", G->dir_key, names[k],
             s->writer_jsonl ? "l" : "");
    G->out_path[k] = resolve(E, G->bucket, key, 1, &cause);
    if (G->out_path[k] == NULL ||
        (G->out[k] = fopen(G->out_path[k], "wb")) == NULL) {
      f->error = "States.ResultWriterFailed";
      if (cause == NULL) {
        cause = (char *)malloc(strlen(key) + 200);
        if (cause)
          sprintf(cause, "cannot write '%s': %s", key, strerror(errno));
      }
      f->cause = cause;
      return -1;
    }
  }
  return 0;
}

/* The record of a finished child as the ResultWriter's Transformation wants
** it (owned). */
orc_json *orci_child_record(const orci_state *s, orc_execution *S,
                            orc_json *output, const char *error,
                            const char *cause) {
  if (s->writer_transform == ORCI_WRITE_NONE && S) return orci_describe(S, 1);
  if (output) return orc_json_ref(output);
  {
    orc_json *o = orc_json_object_new(2);
    if (o) {
      orc_json_object_set(o, 0, orci_skey("Error"), orci_str_or_null(error));
      orc_json_object_set(o, 1, orci_skey("Cause"), orci_str_or_null(cause));
    }
    return o;
  }
}

/* Append a record (borrowed) to file k (0 SUCCEEDED, 1 FAILED). */
void orci_write_record(orci_group *G, const orci_state *s, int k,
                       orc_json *rec) {
  size_t len, i, n = 1;
  orc_json *one = rec;
  int flatten = s->writer_transform == ORCI_WRITE_FLATTEN && k == 0 &&
                orc_json_type_of(rec) == ORC_JSON_ARRAY;
  if (G->out[k] == NULL || rec == NULL) return;
  if (flatten) n = orc_json_len(rec);
  for (i = 0; i < n; i++) {
    char *text;
    if (flatten) one = orc_json_array_get(rec, i);
    text = orc_json_print(one, 0, &len);
    if (text == NULL) continue;
    if (s->writer_jsonl) {
      fwrite(text, 1, len, G->out[k]);
      fputc('\n', G->out[k]);
    } else {
      fputc(G->nout[k] ? ',' : '[', G->out[k]);
      fwrite(text, 1, len, G->out[k]);
    }
    G->nout[k]++;
    orc_free(text);
  }
}

/* Close the files and write the manifest; the state's result (owned) or
** NULL with *f set. */
orc_json *orci_writer_finish(orci_frame *F, orci_group *G, orci_failure *f) {
  static const char *const kinds[2] = {"SUCCEEDED", "FAILED"};
  const orci_state *s = &F->B->states[F->state];
  orc_engine *E = F->X->E;
  orc_json *files[2], *rf, *man, *det, *out;
  char key[1200], *path, *cause = NULL, *text;
  size_t len;
  int k, bad = 0;
  FILE *mf;
  for (k = 0; k < 2; k++) {
    long size = 0;
    if (G->nout[k] && !s->writer_jsonl) fputc(']', G->out[k]);
    if (G->nout[k]) size = ftell(G->out[k]);
    if (fclose(G->out[k]) != 0) bad = 1;
    G->out[k] = NULL;
    if (G->nout[k] == 0) { /* only files with results are listed */
      remove(G->out_path[k]);
      files[k] = orc_json_array_new(0);
      continue;
    }
    snprintf(key, sizeof key, "%s/%s_0.json%s", G->dir_key, kinds[k],
             s->writer_jsonl ? "l" : "");
    files[k] = orc_json_array_new(1);
    if (files[k]) {
      orc_json *o = orc_json_object_new(2);
      if (o) {
        orc_json_object_set(o, 0, orci_skey("Key"), orci_skey(key));
        orc_json_object_set(o, 1, orci_skey("Size"), orc_json_int(size));
      }
      orc_json_array_set(files[k], 0, o);
    }
  }
  rf = orc_json_object_new(3);
  if (rf) {
    orc_json_object_set(rf, 0, orci_skey("FAILED"), files[1]);
    orc_json_object_set(rf, 1, orci_skey("PENDING"), orc_json_array_new(0));
    orc_json_object_set(rf, 2, orci_skey("SUCCEEDED"), files[0]);
  } else {
    orc_json_unref(files[0]);
    orc_json_unref(files[1]);
  }
  man = orc_json_object_new(3);
  if (man) {
    orc_json_object_set(man, 0, orci_skey("DestinationBucket"),
                        orci_skey(G->bucket));
    orc_json_object_set(man, 1, orci_skey("MapRunArn"), orci_skey(G->run_arn));
    orc_json_object_set(man, 2, orci_skey("ResultFiles"), rf);
  } else {
    orc_json_unref(rf);
  }
  snprintf(key, sizeof key, "%s/manifest.json", G->dir_key);
  path = resolve(E, G->bucket, key, 1, &cause);
  text = man ? orc_json_print(man, 0, &len) : NULL;
  orc_json_unref(man);
  if (path == NULL || text == NULL || bad || (mf = fopen(path, "wb")) == NULL ||
      fwrite(text, 1, len, mf) != len || fclose(mf) != 0) {
    f->error = "States.ResultWriterFailed";
    if (cause == NULL) {
      cause = (char *)malloc(strlen(key) + 200);
      if (cause) sprintf(cause, "cannot write '%s'", key);
    }
    f->cause = cause;
    free(path);
    orc_free(text);
    return NULL;
  }
  free(path);
  orc_free(text);
  det = orc_json_object_new(2);
  if (det) {
    orc_json_object_set(det, 0, orci_skey("Bucket"), orci_skey(G->bucket));
    orc_json_object_set(det, 1, orci_skey("Key"), orci_skey(key));
  }
  out = orc_json_object_new(2);
  if (out) {
    orc_json_object_set(out, 0, orci_skey("MapRunArn"), orci_skey(G->run_arn));
    orc_json_object_set(out, 1, orci_skey("ResultWriterDetails"), det);
  } else {
    orc_json_unref(det);
  }
  return out;
}

/* One item from the reader: 1, 0 at the end, -1 with *f. */
static int read_one(orci_group *G, orc_json **item, orci_failure *f) {
  char *cause = NULL;
  int rc;
  if (G->peek) {
    *item = G->peek;
    G->peek = NULL;
    return 1;
  }
  rc = orci_reader_next(G->reader, item, &cause);
  if (rc < 0) {
    f->error = "States.ItemReaderFailed";
    f->cause = cause;
  }
  return rc;
}

/* The next item (or batch) of a Map (owned): 1, 0 when there are no more,
** -1 with *f set. */
int orci_next_item(orci_frame *F, orci_group *G, const orci_state *s,
                   orc_json **out, orci_failure *f) {
  orc_json **list = NULL, *arr, *b, *x;
  size_t cnt = 0, cap = 0, bytes = 2, k;
  int rc;
  *out = NULL;
  if (G->reader == NULL) {
    if (G->next >= G->n) return 0;
    *out = orc_json_ref(orc_json_array_get(G->items, G->next));
    return 1;
  }
  if (!s->batched) return read_one(G, out, f);
  for (;;) {
    size_t sz;
    if ((rc = read_one(G, &x, f)) < 0) {
      while (cnt > 0)
        orc_json_unref(list[--cnt]);
      free(list);
      return -1;
    }
    if (rc == 0) break;
    sz = orci_json_size(x) + 1;
    if (cnt > 0 &&
        ((G->batch_items && (int64_t)cnt >= G->batch_items) ||
         (G->batch_bytes && (int64_t)(bytes + sz) > G->batch_bytes))) {
      G->peek = x;
      break;
    }
    if (cnt == cap) {
      size_t nc = cap ? cap * 2 : 16;
      orc_json **l = (orc_json **)realloc(list, nc * sizeof *l);
      if (l == NULL) {
        orc_json_unref(x);
        break;
      }
      list = l;
      cap = nc;
    }
    list[cnt++] = x;
    bytes += sz;
  }
  if (cnt == 0) {
    free(list);
    return 0;
  }
  arr = orc_json_array_new(cnt);
  for (k = 0; k < cnt; k++)
    if (arr)
      orc_json_array_set(arr, k, list[k]);
    else
      orc_json_unref(list[k]);
  free(list);
  b = orc_json_object_new(G->batch_input ? 2 : 1);
  if (b == NULL || arr == NULL) {
    orc_json_unref(arr);
    orc_json_unref(b);
    f->error = "States.Runtime";
    f->cause = strdup("out of memory");
    return -1;
  }
  orc_json_object_set(b, 0, orci_skey("Items"), arr);
  if (G->batch_input)
    orc_json_object_set(b, 1, orci_skey("BatchInput"),
                        orc_json_ref(G->batch_input));
  (void)F;
  *out = b;
  return 1;
}

/* }====== */
