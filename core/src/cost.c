/*
** The cost model's arithmetic: the price catalog, the meter over history
** events, breakdowns, scenarios, comparisons and sensitivity. See
** core/include/orchestra/cost.h for the contract.
*/
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost_int.h"
#include "json_int.h"

/* {====== small helpers */

double orci_cost_femto(double usd, double per) {
  /* prices carry at most 15 decimals of a dollar per unit: rounding to a
  ** whole femto-dollar recovers the decimal the catalog wrote */
  return (double)llround(usd * ORCI_FEMTO / per);
}

static double usd_of(double femto) {
  return femto / ORCI_FEMTO;
}

static const orc_json *member(const orc_json *o, const char *key) {
  if (o == NULL || orc_json_type_of(o) != ORC_JSON_OBJECT) return NULL;
  return orc_json_object_find(o, key, strlen(key));
}

static int is_number(const orc_json *v) {
  return v && (orc_json_type_of(v) == ORC_JSON_INT ||
               orc_json_type_of(v) == ORC_JSON_FLOAT);
}

static const char *string_of(const orc_json *v) {
  if (v == NULL || orc_json_type_of(v) != ORC_JSON_STRING) return NULL;
  return orc_json_string_value(v, NULL);
}

/* Append "/key" to a JSON pointer, escaping ~ and / (RFC 6901). */
static void ptr_push(char *ptr, size_t cap, const char *key) {
  size_t n = strlen(ptr);
  if (n + 1 < cap) ptr[n++] = '/';
  for (; *key && n + 2 < cap; key++) {
    if (*key == '~' || *key == '/') {
      ptr[n++] = '~';
      ptr[n++] = *key == '~' ? '0' : '1';
    } else {
      ptr[n++] = *key;
    }
  }
  ptr[n] = '\0';
}

/* A non-negative finite number at o.key into *out (left as is when
** absent). Errors name the member's pointer. */
static int get_number(const orc_json *o, const char *key, const char *base,
                      double *out, int required, orc_error *err) {
  char ptr[128];
  const orc_json *v = member(o, key);
  snprintf(ptr, sizeof ptr, "%s", base);
  ptr_push(ptr, sizeof ptr, key);
  if (v == NULL) {
    if (required)
      return orci_error(err, ORC_EINVAL, ptr, "%s: missing (a number)", ptr);
    return ORC_OK;
  }
  if (!is_number(v))
    return orci_error(err, ORC_EINVAL, ptr, "%s: must be a number, not %s", ptr,
                      orc_json_type_name(orc_json_type_of(v)));
  *out = orc_json_number(v);
  if (!isfinite(*out) || *out < 0)
    return orci_error(err, ORC_EINVAL, ptr, "%s: must be a non-negative number",
                      ptr);
  return ORC_OK;
}

static int get_bool(const orc_json *o, const char *key, const char *base,
                    int *out, orc_error *err) {
  char ptr[128];
  const orc_json *v = member(o, key);
  if (v == NULL) return ORC_OK;
  snprintf(ptr, sizeof ptr, "%s", base);
  ptr_push(ptr, sizeof ptr, key);
  if (orc_json_type_of(v) != ORC_JSON_BOOL)
    return orci_error(err, ORC_EINVAL, ptr, "%s: must be true or false", ptr);
  *out = orc_json_is_true(v);
  return ORC_OK;
}

static int get_string(const orc_json *o, const char *key, const char *base,
                      char *out, size_t cap, orc_error *err) {
  char ptr[128];
  const orc_json *v = member(o, key);
  size_t len;
  const char *s;
  if (v == NULL) return ORC_OK;
  snprintf(ptr, sizeof ptr, "%s", base);
  ptr_push(ptr, sizeof ptr, key);
  if (orc_json_type_of(v) != ORC_JSON_STRING)
    return orci_error(err, ORC_EINVAL, ptr, "%s: must be a string", ptr);
  s = orc_json_string_value(v, &len);
  if (len >= cap)
    return orci_error(err, ORC_EINVAL, ptr, "%s: longer than %zu bytes", ptr,
                      cap - 1);
  memcpy(out, s, len + 1);
  return ORC_OK;
}

/* Members of o must be among `allowed` (NULL-terminated): a typo in a
** scenario would otherwise be priced as a default silently. */
static int check_keys(const orc_json *o, const char *const *allowed,
                      const char *base, orc_error *err) {
  size_t i, k;
  if (orc_json_type_of(o) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, base, "%s: must be an object",
                      *base ? base : "(root)");
  for (i = 0; i < orc_json_len(o); i++) {
    const char *key = orc_json_string_value(orc_json_object_key(o, i), NULL);
    for (k = 0; allowed[k]; k++)
      if (strcmp(allowed[k], key) == 0) break;
    if (allowed[k] == NULL) {
      char ptr[128], list[200] = "";
      snprintf(ptr, sizeof ptr, "%s", base);
      ptr_push(ptr, sizeof ptr, key);
      for (k = 0; allowed[k]; k++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "", allowed[k]);
      }
      return orci_error(err, ORC_EINVAL, ptr, "%s: unknown field (expected %s)",
                        ptr, list);
    }
  }
  return ORC_OK;
}

/* JSON text writer: values are separated by commas automatically. */
static void jw_sep(orci_buf *b) {
  if (b->len > 0) {
    char c = b->p[b->len - 1];
    if (c != '{' && c != '[' && c != ':') orci_buf_addc(b, ',');
  }
}
static void jw_open(orci_buf *b, char c) {
  jw_sep(b);
  orci_buf_addc(b, c);
}
static void jw_key(orci_buf *b, const char *k) {
  jw_sep(b);
  orci_json_write_string(b, k, strlen(k));
  orci_buf_addc(b, ':');
}
static void jw_str(orci_buf *b, const char *s) {
  jw_sep(b);
  orci_json_write_string(b, s, strlen(s));
}
/* Whole numbers print as integers (counts), others as floats. */
static void jw_num(orci_buf *b, double d) {
  char tmp[40];
  jw_sep(b);
  if (d == floor(d) && fabs(d) < 9007199254740992.0) {
    snprintf(tmp, sizeof tmp, "%lld", (long long)d);
    orci_buf_adds(b, tmp);
  } else {
    orc_json_format_double(d, tmp);
    orci_buf_adds(b, tmp);
  }
}
/* Dollars always print as floats, so Lua 5.3+ sees one kind of number. */
static void jw_usd(orci_buf *b, double femto) {
  char tmp[40];
  jw_sep(b);
  orc_json_format_double(usd_of(femto), tmp);
  orci_buf_adds(b, tmp);
  if (!strpbrk(tmp, ".eEn")) orci_buf_adds(b, ".0");
}
static int jw_finish(orci_buf *b, orc_json **out, orc_error *err) {
  int rc;
  if (b->failed) {
    orci_buf_free(b);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  rc = orc_json_parse(b->p, b->len, NULL, out, err);
  orci_buf_free(b);
  return rc;
}

/* }====== */

/* {====== catalog */

typedef struct model_entry {
  const char *key, *name, *source, *as_of;
  const orc_json *aliases; /* array of strings or NULL */
  double in, out, cw, cr;  /* femto-dollars per token; -1: not listed */
  double batch_discount;   /* -1: none */
  int confirmed;
} model_entry;

typedef struct express_tier {
  double upto_units; /* 64-MB x 100-ms units at which the tier ends (inf) */
  double femto;      /* per 64-MB x 100-ms unit */
  int confirmed;
} express_tier;

#define MAX_TIERS 8

struct orc_cost_catalog {
  orc_json *doc; /* the merged document; entries point into it */
  int has_standard, has_express;
  double std_femto; /* per transition, us-east-1 (or the base price) */
  double free_tier; /* transitions per month */
  const orc_json *regions;
  double req_femto; /* Express, per request */
  double chunk_mb, round_ms;
  size_t ntiers;
  express_tier tier[MAX_TIERS];
  size_t nmodels;
  model_entry *models;
};

orc_cost_catalog *orc_cost_catalog_new(void) {
  return calloc(1, sizeof(orc_cost_catalog));
}

void orc_cost_catalog_free(orc_cost_catalog *C) {
  if (C == NULL) return;
  orc_json_unref(C->doc);
  free(C->models);
  free(C);
}

orc_json *orc_cost_catalog_json(const orc_cost_catalog *C) {
  return C->doc;
}

/* a merged with b: objects member by member, anything else b. Returns
** owned or NULL when out of memory. */
static orc_json *merge(orc_json *a, orc_json *b) {
  size_t i, n, k = 0;
  orc_json *o;
  if (a == NULL || orc_json_type_of(a) != ORC_JSON_OBJECT ||
      orc_json_type_of(b) != ORC_JSON_OBJECT)
    return orc_json_ref(b);
  n = orc_json_len(a);
  for (i = 0; i < orc_json_len(b); i++) {
    size_t len;
    const char *key = orc_json_string_value(orc_json_object_key(b, i), &len);
    if (orc_json_object_find(a, key, len) == NULL) n++;
  }
  o = orc_json_object_new(n);
  if (o == NULL) return NULL;
  for (i = 0; i < orc_json_len(a); i++) {
    size_t len;
    orc_json *key = orc_json_object_key(a, i);
    const char *ks = orc_json_string_value(key, &len);
    orc_json *bv = orc_json_object_find(b, ks, len);
    orc_json *v = bv ? merge(orc_json_object_value(a, i), bv)
                     : orc_json_ref(orc_json_object_value(a, i));
    if (v == NULL) {
      orc_json_unref(o);
      return NULL;
    }
    orc_json_object_set(o, k++, orc_json_ref(key), v);
  }
  for (i = 0; i < orc_json_len(b); i++) {
    size_t len;
    orc_json *key = orc_json_object_key(b, i);
    const char *ks = orc_json_string_value(key, &len);
    if (orc_json_object_find(a, ks, len) == NULL)
      orc_json_object_set(o, k++, orc_json_ref(key),
                          orc_json_ref(orc_json_object_value(b, i)));
  }
  return o;
}

static int parse_price(const orc_json *o, const char *key, const char *base,
                       double per, double *femto, orc_error *err) {
  double usd = -1;
  int rc = get_number(o, key, base, &usd, 0, err);
  if (rc != ORC_OK) return rc;
  *femto = usd < 0 ? -1 : orci_cost_femto(usd, per);
  return ORC_OK;
}

static int parse_standard(orc_cost_catalog *C, const orc_json *sfn,
                          orc_error *err) {
  const char *base = "/step_functions/standard";
  const orc_json *std = member(sfn, "standard");
  double p = -1;
  size_t i;
  int rc;
  if (std == NULL) return ORC_OK;
  if (orc_json_type_of(std) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, base, "%s: must be an object", base);
  if ((rc = get_number(std, "per_1000_transitions", base, &p, 1, err)))
    return rc;
  C->std_femto = orci_cost_femto(p, 1000);
  C->free_tier = 0;
  if ((rc = get_number(std, "free_tier_transitions_per_month", base,
                       &C->free_tier, 0, err)))
    return rc;
  C->regions = member(std, "regions");
  if (C->regions) {
    if (orc_json_type_of(C->regions) != ORC_JSON_OBJECT)
      return orci_error(err, ORC_EINVAL, "/step_functions/standard/regions",
                        "/step_functions/standard/regions: must be an object "
                        "mapping a region to its price per 1,000 "
                        "transitions");
    for (i = 0; i < orc_json_len(C->regions); i++) {
      double r = 0;
      const char *key =
          orc_json_string_value(orc_json_object_key(C->regions, i), NULL);
      if ((rc = get_number(C->regions, key, "/step_functions/standard/regions",
                           &r, 1, err)))
        return rc;
    }
  }
  C->has_standard = 1;
  return ORC_OK;
}

static int parse_express(orc_cost_catalog *C, const orc_json *sfn,
                         orc_error *err) {
  const char *base = "/step_functions/express";
  const orc_json *ex = member(sfn, "express"), *tiers;
  double p = -1, prev_units = 0;
  size_t i;
  int rc;
  if (ex == NULL) return ORC_OK;
  if (orc_json_type_of(ex) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, base, "%s: must be an object", base);
  if ((rc = get_number(ex, "per_million_requests", base, &p, 1, err)))
    return rc;
  C->req_femto = orci_cost_femto(p, 1e6);
  C->chunk_mb = 64;
  C->round_ms = 100;
  if ((rc = get_number(ex, "billing_chunk_mb", base, &C->chunk_mb, 0, err)) ||
      (rc = get_number(ex, "duration_rounding_ms", base, &C->round_ms, 0, err)))
    return rc;
  if (C->chunk_mb <= 0 || C->round_ms <= 0)
    return orci_error(err, ORC_EINVAL, base,
                      "%s: billing_chunk_mb and duration_rounding_ms must be "
                      "positive",
                      base);
  tiers = member(ex, "gb_second_tiers");
  if (tiers == NULL || orc_json_type_of(tiers) != ORC_JSON_ARRAY ||
      orc_json_len(tiers) == 0 || orc_json_len(tiers) > MAX_TIERS)
    return orci_error(err, ORC_EINVAL,
                      "/step_functions/express/gb_second_tiers",
                      "/step_functions/express/gb_second_tiers: must be an "
                      "array of 1 to %d tiers {up_to_gb_hours, per_gb_second}",
                      MAX_TIERS);
  C->ntiers = orc_json_len(tiers);
  for (i = 0; i < C->ntiers; i++) {
    char ptr[96];
    const orc_json *t = orc_json_array_get(tiers, i);
    double gbs = -1, upto = -1;
    int confirmed = 1;
    snprintf(ptr, sizeof ptr, "%s/gb_second_tiers/%zu", base, i);
    if (orc_json_type_of(t) != ORC_JSON_OBJECT)
      return orci_error(err, ORC_EINVAL, ptr, "%s: must be an object", ptr);
    if ((rc = get_number(t, "per_gb_second", ptr, &gbs, 1, err)) ||
        (rc = get_number(t, "up_to_gb_hours", ptr, &upto, i + 1 < C->ntiers,
                         err)) ||
        (rc = get_bool(t, "confirmed", ptr, &confirmed, err)))
      return rc;
    /* one unit is chunk_mb/1024 GB for round_ms/1000 s */
    C->tier[i].femto = orci_cost_femto(gbs, 1) * (C->chunk_mb / 1024.0) *
                       (C->round_ms / 1000.0);
    C->tier[i].upto_units =
        upto < 0
            ? INFINITY
            : upto * 3600.0 / ((C->chunk_mb / 1024.0) * (C->round_ms / 1000.0));
    C->tier[i].confirmed = confirmed;
    if (C->tier[i].upto_units <= prev_units)
      return orci_error(err, ORC_EINVAL, ptr,
                        "%s/up_to_gb_hours: tiers must be in increasing "
                        "order",
                        ptr);
    prev_units = C->tier[i].upto_units;
  }
  C->has_express = 1;
  return ORC_OK;
}

static int parse_models(orc_cost_catalog *C, const orc_json *models,
                        orc_error *err) {
  size_t i, j;
  int rc;
  if (models == NULL) return ORC_OK;
  if (orc_json_type_of(models) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, "/models",
                      "/models: must be an object mapping a model id to its "
                      "prices");
  C->nmodels = orc_json_len(models);
  C->models = calloc(C->nmodels ? C->nmodels : 1, sizeof(model_entry));
  if (C->models == NULL)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  for (i = 0; i < C->nmodels; i++) {
    model_entry *e = &C->models[i];
    const orc_json *m = orc_json_object_value(models, i);
    char base[128] = "/models";
    int confirmed = 1;
    e->key = orc_json_string_value(orc_json_object_key(models, i), NULL);
    ptr_push(base, sizeof base, e->key);
    if (orc_json_type_of(m) != ORC_JSON_OBJECT)
      return orci_error(err, ORC_EINVAL, base, "%s: must be an object", base);
    if ((rc = get_number(m, "input_per_million", base, &e->in, 1, err)) ||
        (rc = get_number(m, "output_per_million", base, &e->out, 1, err)))
      return rc;
    e->in = orci_cost_femto(e->in, 1e6);
    e->out = orci_cost_femto(e->out, 1e6);
    if ((rc = parse_price(m, "cache_write_per_million", base, 1e6, &e->cw,
                          err)) ||
        (rc = parse_price(m, "cache_read_per_million", base, 1e6, &e->cr, err)))
      return rc;
    e->batch_discount = -1;
    if ((rc =
             get_number(m, "batch_discount", base, &e->batch_discount, 0, err)))
      return rc;
    if (e->batch_discount > 1)
      return orci_error(err, ORC_EINVAL, base,
                        "%s/batch_discount: a fraction between 0 and 1 (0.5 "
                        "= half price)",
                        base);
    if ((rc = get_bool(m, "confirmed", base, &confirmed, err))) return rc;
    e->confirmed = confirmed && member(m, "disputed") == NULL;
    e->name = string_of(member(m, "name"));
    e->source = string_of(member(m, "source"));
    e->as_of = string_of(member(m, "as_of"));
    e->aliases = member(m, "aliases");
    if (e->aliases) {
      if (orc_json_type_of(e->aliases) != ORC_JSON_ARRAY)
        return orci_error(err, ORC_EINVAL, base,
                          "%s/aliases: must be an array of strings", base);
      for (j = 0; j < orc_json_len(e->aliases); j++)
        if (string_of(orc_json_array_get(e->aliases, j)) == NULL)
          return orci_error(err, ORC_EINVAL, base,
                            "%s/aliases/%zu: must be a string", base, j);
    }
  }
  return ORC_OK;
}

/* Fill C's parsed fields from doc (which C now holds). */
static int catalog_parse(orc_cost_catalog *C, orc_error *err) {
  const orc_json *sfn = member(C->doc, "step_functions");
  int rc;
  if (orc_json_type_of(C->doc) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, "", "a price catalog is a JSON object");
  if (sfn && orc_json_type_of(sfn) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, "/step_functions",
                      "/step_functions: must be an object");
  if ((rc = parse_standard(C, sfn, err)) || (rc = parse_express(C, sfn, err)))
    return rc;
  return parse_models(C, member(C->doc, "models"), err);
}

int orc_cost_catalog_load(orc_cost_catalog *C, orc_json *doc, orc_error *err) {
  orc_cost_catalog next;
  int rc;
  if (doc == NULL || orc_json_type_of(doc) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, "", "a price catalog is a JSON object");
  memset(&next, 0, sizeof next);
  next.doc = merge(C->doc, doc);
  if (next.doc == NULL)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  rc = catalog_parse(&next, err);
  if (rc != ORC_OK) {
    orc_json_unref(next.doc);
    free(next.models);
    return rc;
  }
  orc_json_unref(C->doc);
  free(C->models);
  *C = next;
  return ORC_OK;
}

int orc_cost_catalog_load_text(orc_cost_catalog *C, const char *text,
                               size_t len, orc_error *err) {
  orc_json *doc;
  int rc = orc_json_parse(text, len, NULL, &doc, err);
  if (rc != ORC_OK) return rc;
  rc = orc_cost_catalog_load(C, doc, err);
  orc_json_unref(doc);
  return rc;
}

static const model_entry *find_model(const orc_cost_catalog *C,
                                     const char *model, orc_error *err) {
  size_t i, j;
  for (i = 0; i < C->nmodels; i++)
    if (strcmp(C->models[i].key, model) == 0) return &C->models[i];
  for (i = 0; i < C->nmodels; i++) {
    const orc_json *a = C->models[i].aliases;
    for (j = 0; a && j < orc_json_len(a); j++)
      if (strcmp(string_of(orc_json_array_get(a, j)), model) == 0)
        return &C->models[i];
  }
  orci_error(err, ORC_EINVAL, NULL,
             "model '%s' has no price in the catalog (add it with "
             "orchestra.cost.catalog{models = {...}} or --prices FILE)",
             model);
  return NULL;
}

int orc_cost_catalog_model(const orc_cost_catalog *C, const char *model,
                           orc_cost_model_price *out, orc_error *err) {
  const model_entry *e = find_model(C, model, err);
  if (e == NULL) return ORC_EINVAL;
  out->key = e->key;
  out->name = e->name ? e->name : e->key;
  out->source = e->source ? e->source : "(no source given)";
  out->as_of = e->as_of ? e->as_of : "(no date given)";
  out->input = usd_of(e->in);
  out->output = usd_of(e->out);
  out->cache_write = e->cw < 0 ? -1 : usd_of(e->cw);
  out->cache_read = e->cr < 0 ? -1 : usd_of(e->cr);
  out->batch_discount = e->batch_discount;
  out->confirmed = e->confirmed;
  return ORC_OK;
}

/* }====== */

/* {====== arithmetic */

static int standard_price(const orc_cost_catalog *C, const char *region,
                          double *femto, orc_error *err) {
  if (!C->has_standard)
    return orci_error(err, ORC_EINVAL, NULL,
                      "the price catalog has no Step Functions Standard "
                      "price (/step_functions/standard/per_1000_transitions)");
  *femto = C->std_femto;
  if (region && *region && strcmp(region, "us-east-1") != 0) {
    const orc_json *r = member(C->regions, region);
    if (r == NULL)
      return orci_error(err, ORC_EINVAL, NULL,
                        "region '%s' has no Step Functions price in the "
                        "catalog (/step_functions/standard/regions)",
                        region);
    *femto = orci_cost_femto(orc_json_number(r), 1000);
  }
  return ORC_OK;
}

int orc_cost_standard(const orc_cost_catalog *C, const char *region,
                      double transitions, int free_tier, double *usd,
                      orc_error *err) {
  double femto;
  int rc = standard_price(C, region, &femto, err);
  if (rc != ORC_OK) return rc;
  if (!(transitions >= 0))
    return orci_error(err, ORC_EINVAL, NULL, "transitions must be >= 0");
  if (free_tier)
    transitions = transitions > C->free_tier ? transitions - C->free_tier : 0;
  *usd = usd_of(transitions * femto);
  return ORC_OK;
}

/* 64-MB x 100-ms units of one run. */
static double express_units(const orc_cost_catalog *C, double duration_ms,
                            double memory_mb) {
  double chunks = ceil(memory_mb / C->chunk_mb);
  double slices = ceil(duration_ms / C->round_ms);
  if (chunks < 1) chunks = 1;
  if (slices < 1) slices = 1; /* a run is billed at least one slice */
  return chunks * slices;
}

/* femto-dollars of `units` in one month, through the tiers. */
static double express_duration_femto(const orc_cost_catalog *C, double units,
                                     double kprice) {
  double femto = 0, start = 0;
  size_t i;
  for (i = 0; i < C->ntiers && units > start; i++) {
    double end = C->tier[i].upto_units;
    double in_tier = (units < end ? units : end) - start;
    femto += in_tier * C->tier[i].femto * kprice;
    start = end;
  }
  return femto;
}

static int express_check(const orc_cost_catalog *C, orc_error *err) {
  if (!C->has_express)
    return orci_error(err, ORC_EINVAL, NULL,
                      "the price catalog has no Step Functions Express "
                      "prices (/step_functions/express)");
  return ORC_OK;
}

int orc_cost_express(const orc_cost_catalog *C, double executions,
                     double duration_ms, double memory_mb, double *usd,
                     orc_error *err) {
  int rc = express_check(C, err);
  if (rc != ORC_OK) return rc;
  if (!(executions >= 0) || !(duration_ms >= 0) || !(memory_mb >= 0))
    return orci_error(err, ORC_EINVAL, NULL,
                      "executions, duration_ms and memory_mb must be >= 0");
  *usd =
      usd_of(executions * C->req_femto +
             express_duration_femto(
                 C, executions * express_units(C, duration_ms, memory_mb), 1));
  return ORC_OK;
}

/* femto-dollars of tokens t on model e. */
static int tokens_femto(const model_entry *e, const orc_cost_tokens *t,
                        int batch, double kin, double kout, double *femto,
                        orc_error *err) {
  double k = 1;
  if (batch) {
    if (e->batch_discount < 0)
      return orci_error(err, ORC_EINVAL, NULL,
                        "model '%s' has no batch discount in the catalog",
                        e->key);
    k = 1 - e->batch_discount;
  }
  if (t->cache_write > 0 && e->cw < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "model '%s' has no cache write price in the catalog",
                      e->key);
  if (t->cache_read > 0 && e->cr < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "model '%s' has no cache read price in the catalog",
                      e->key);
  *femto = t->input * e->in * kin * k + t->output * e->out * kout * k +
           (t->cache_write > 0 ? t->cache_write * e->cw * kin : 0) +
           (t->cache_read > 0 ? t->cache_read * e->cr * kin : 0);
  return ORC_OK;
}

int orc_cost_tokens_usd(const orc_cost_catalog *C, const char *model,
                        const orc_cost_tokens *t, int batch, double *usd,
                        orc_error *err) {
  double femto;
  const model_entry *e = find_model(C, model, err);
  int rc;
  if (e == NULL) return ORC_EINVAL;
  if ((rc = tokens_femto(e, t, batch, 1, 1, &femto, err))) return rc;
  *usd = usd_of(femto);
  return ORC_OK;
}

int orc_cost_model_call_bound(const orc_cost_catalog *C, const char *model,
                              double input_tokens, double max_tokens,
                              double *usd, orc_error *err) {
  orc_cost_tokens t = {0, 0, 0, 0};
  t.input = input_tokens;
  t.output = max_tokens;
  return orc_cost_tokens_usd(C, model, &t, 0, usd, err);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int orc_cost_summarize(const double *values, size_t n, orc_cost_summary *out,
                       orc_error *err) {
  double *v, sum = 0;
  size_t i;
  memset(out, 0, sizeof *out);
  if (n == 0) return ORC_OK;
  v = malloc(n * sizeof *v);
  if (v == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  memcpy(v, values, n * sizeof *v);
  qsort(v, n, sizeof *v, cmp_double);
  for (i = 0; i < n; i++)
    sum += v[i];
  out->n = n;
  out->mean = sum / (double)n;
  out->min = v[0];
  out->max = v[n - 1];
  /* nearest rank: the smallest value with at least p % of values <= it */
  out->p50 = v[(size_t)ceil(0.50 * (double)n) - 1];
  out->p95 = v[(size_t)ceil(0.95 * (double)n) - 1];
  out->p99 = v[(size_t)ceil(0.99 * (double)n) - 1];
  free(v);
  return ORC_OK;
}

/* }====== */

/* {====== the meter */

typedef struct meter_model {
  char *name;
  orc_cost_tokens t;
} meter_model;

struct orc_meter {
  orc_meter_counts c;
  uint64_t pending_task;  /* Task entries whose first attempt is unseen */
  uint64_t pending_group; /* Map/Parallel entries likewise */
  double started_at;      /* ExecutionStarted time of the running one */
  size_t cap;
  meter_model *models;
};

orc_meter *orc_meter_new(void) {
  orc_meter *m = calloc(1, sizeof *m);
  if (m) m->started_at = NAN;
  return m;
}

void orc_meter_reset(orc_meter *m) {
  size_t i;
  for (i = 0; i < m->c.nmodels; i++)
    free(m->models[i].name);
  free(m->models);
  memset(m, 0, sizeof *m);
  m->started_at = NAN;
}

void orc_meter_free(orc_meter *m) {
  if (m == NULL) return;
  orc_meter_reset(m);
  free(m);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* A token count at details[key] (absent: 0). */
static int usage(const orc_json *d, const char *key, double *out,
                 orc_error *err) {
  const orc_json *v = member(d, key);
  if (v == NULL) return ORC_OK;
  if (!is_number(v) || orc_json_number(v) < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "model call event: %s must be a non-negative number",
                      key);
  *out += orc_json_number(v);
  return ORC_OK;
}

static int add_model_call(orc_meter *m, const orc_json *d, orc_error *err) {
  const char *model = string_of(member(d, "gen_ai.request.model"));
  orc_cost_tokens t = {0, 0, 0, 0};
  size_t i;
  int rc;
  if (model == NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "model call event without gen_ai.request.model");
  if ((rc = usage(d, "gen_ai.usage.input_tokens", &t.input, err)) ||
      (rc = usage(d, "gen_ai.usage.output_tokens", &t.output, err)) ||
      (rc = usage(d, "gen_ai.usage.cache_creation.input_tokens", &t.cache_write,
                  err)) ||
      (rc = usage(d, "gen_ai.usage.cache_creation_input_tokens", &t.cache_write,
                  err)) ||
      (rc = usage(d, "gen_ai.usage.cache_read.input_tokens", &t.cache_read,
                  err)) ||
      (rc = usage(d, "gen_ai.usage.cache_read_input_tokens", &t.cache_read,
                  err)))
    return rc;
  for (i = 0; i < m->c.nmodels; i++)
    if (strcmp(m->models[i].name, model) == 0) break;
  if (i == m->c.nmodels) {
    if (m->c.nmodels == m->cap) {
      size_t cap = m->cap ? m->cap * 2 : 4;
      meter_model *p = realloc(m->models, cap * sizeof *p);
      if (p == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
      m->models = p;
      m->cap = cap;
    }
    m->models[i].name = malloc(strlen(model) + 1);
    if (m->models[i].name == NULL)
      return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    strcpy(m->models[i].name, model);
    memset(&m->models[i].t, 0, sizeof m->models[i].t);
    m->c.nmodels++;
  }
  m->models[i].t.input += t.input;
  m->models[i].t.output += t.output;
  m->models[i].t.cache_write += t.cache_write;
  m->models[i].t.cache_read += t.cache_read;
  m->c.model_calls++;
  return ORC_OK;
}

/* An attempt (a task scheduled, a Map or Parallel started): first is 1
** when the event's previous event is its state's entry, 0 when it is not
** (a retry), -1 when unknown (then the count of entries still waiting for
** their first attempt decides, which is exact in total as long as every
** entry makes an attempt). */
static void count_attempt(orc_meter *m, uint64_t *pending, int first) {
  if (first == 1 || (first < 0 && *pending > 0)) {
    if (*pending > 0) (*pending)--;
  } else {
    m->c.retries++;
    m->c.transitions++;
  }
}

int orc_meter_add_event_ex(orc_meter *m, const char *type, double timestamp,
                           const orc_json *details, int first, orc_error *err) {
  if (ends_with(type, "StateEntered")) {
    m->c.state_entries++;
    m->c.transitions++;
    if (strcmp(type, "TaskStateEntered") == 0) m->pending_task++;
    if (strcmp(type, "MapStateEntered") == 0 ||
        strcmp(type, "ParallelStateEntered") == 0)
      m->pending_group++;
  } else if (strcmp(type, "TaskScheduled") == 0 ||
             strcmp(type, "LambdaFunctionScheduled") == 0 ||
             strcmp(type, "ActivityScheduled") == 0) {
    count_attempt(m, &m->pending_task, first);
  } else if (strcmp(type, "MapStateStarted") == 0 ||
             strcmp(type, "ParallelStateStarted") == 0) {
    count_attempt(m, &m->pending_group, first);
  } else if (strcmp(type, "ExecutionStarted") == 0) {
    m->c.executions++;
    m->started_at = timestamp;
  } else if (strcmp(type, "ExecutionSucceeded") == 0 ||
             strcmp(type, "ExecutionFailed") == 0 ||
             strcmp(type, "ExecutionTimedOut") == 0 ||
             strcmp(type, "ExecutionAborted") == 0) {
    m->c.finished++;
    if (isfinite(m->started_at) && isfinite(timestamp)) {
      double ms = (timestamp - m->started_at) * 1000.0;
      uint64_t whole = ms > 0 ? (uint64_t)llround(ms) : 0;
      m->c.duration_ms += whole;
      m->c.billed_100ms += whole == 0 ? 1 : (whole + 99) / 100;
    }
    m->started_at = NAN;
  } else if (strcmp(type, "ModelCallSucceeded") == 0 ||
             strcmp(type, "ModelCallFailed") == 0) {
    if (details == NULL || (strcmp(type, "ModelCallFailed") == 0 &&
                            member(details, "gen_ai.request.model") == NULL))
      return ORC_OK; /* a failed call with no usage bills nothing */
    return add_model_call(m, details, err);
  } else if (strcmp(type, "ToolCallScheduled") == 0) {
    m->c.tool_calls++;
  }
  return ORC_OK;
}

int orc_meter_add_event(orc_meter *m, const char *type, double timestamp,
                        const orc_json *details, orc_error *err) {
  return orc_meter_add_event_ex(m, type, timestamp, details, -1, err);
}

/* The ...EventDetails member of a history event, or NULL. */
static const orc_json *event_details(const orc_json *ev) {
  size_t i;
  for (i = 0; i < orc_json_len(ev); i++) {
    const char *k = orc_json_string_value(orc_json_object_key(ev, i), NULL);
    if (ends_with(k, "EventDetails")) return orc_json_object_value(ev, i);
  }
  return NULL;
}

static int is_attempt(const char *type) {
  return strcmp(type, "TaskScheduled") == 0 ||
         strcmp(type, "LambdaFunctionScheduled") == 0 ||
         strcmp(type, "ActivityScheduled") == 0 ||
         strcmp(type, "MapStateStarted") == 0 ||
         strcmp(type, "ParallelStateStarted") == 0;
}

/* {====== bedrock:invokeModel calls: tokens from the response body */

/* The number at o.a (or o.a.b), or -1. */
static double num_at(const orc_json *o, const char *a, const char *b) {
  const orc_json *v = member(o, a);
  if (v && b) v = member(v, b);
  return is_number(v) ? orc_json_number(v) : -1;
}

int orci_meter_invoke_model(orc_meter *m, const char *model,
                            const orc_json *body, double timestamp) {
  static const char *const keys[] = {
      "gen_ai.request.model", "gen_ai.usage.input_tokens",
      "gen_ai.usage.output_tokens", "gen_ai.usage.cache_creation.input_tokens",
      "gen_ai.usage.cache_read.input_tokens"};
  orc_json *d;
  double t[4]; /* input, output, cache write, cache read */
  size_t i;
  int rc;
  if ((t[0] = num_at(body, "usage", "input_tokens")) >= 0) { /* Anthropic */
    t[1] = num_at(body, "usage", "output_tokens");
    t[2] = num_at(body, "usage", "cache_creation_input_tokens");
    t[3] = num_at(body, "usage", "cache_read_input_tokens");
  } else if ((t[0] = num_at(body, "usage", "inputTokens")) >= 0) { /* Nova */
    t[1] = num_at(body, "usage", "outputTokens");
    t[2] = num_at(body, "usage", "cacheWriteInputTokenCount");
    t[3] = num_at(body, "usage", "cacheReadInputTokenCount");
    if (t[2] < 0) t[2] = num_at(body, "usage", "cacheWriteInputTokens");
    if (t[3] < 0) t[3] = num_at(body, "usage", "cacheReadInputTokens");
  } else if ((t[0] = num_at(body, "prompt_token_count", NULL)) >= 0) {
    t[1] = num_at(body, "generation_token_count", NULL); /* Llama */
    t[2] = t[3] = -1;
  } else if ((t[0] = num_at(body, "usage", "prompt_tokens")) >= 0) {
    t[1] = num_at(body, "usage", "completion_tokens"); /* OpenAI's shape */
    t[2] = t[3] = -1;
  } else {
    return 0;
  }
  d = orc_json_object_new(5);
  if (d == NULL) return ORC_ENOMEM;
  orc_json_object_set(d, 0, orc_json_string(keys[0], strlen(keys[0])),
                      orc_json_string(model, strlen(model)));
  for (i = 0; i < 4; i++)
    orc_json_object_set(d, i + 1,
                        orc_json_string(keys[i + 1], strlen(keys[i + 1])),
                        orc_json_float(t[i] > 0 ? t[i] : 0));
  rc = orc_meter_add_event(m, "ModelCallSucceeded", timestamp, d, NULL);
  orc_json_unref(d);
  return rc == ORC_OK ? 1 : rc;
}

/* The event of history `events` with this id (ids normally equal
** positions + 1; otherwise the 64 events before `before` are searched),
** or NULL. */
static const orc_json *event_by_id(const orc_json *events, size_t before,
                                   const orc_json *id_value) {
  int64_t want;
  size_t j;
  if (id_value == NULL || orc_json_type_of(id_value) != ORC_JSON_INT)
    return NULL;
  want = orc_json_int_value(id_value);
  if (want >= 1 && (size_t)want <= before) {
    const orc_json *cand = orc_json_array_get(events, (size_t)want - 1);
    const orc_json *id = member(cand, "id");
    if (id && orc_json_type_of(id) == ORC_JSON_INT &&
        orc_json_int_value(id) == want)
      return cand;
  }
  for (j = before; j-- > 0 && before - j <= 64;) {
    const orc_json *cand = orc_json_array_get(events, j);
    const orc_json *id = member(cand, "id");
    if (id && orc_json_type_of(id) == ORC_JSON_INT &&
        orc_json_int_value(id) == want)
      return cand;
  }
  return NULL;
}

/* A history's TaskSucceeded of bedrock:invokeModel (event i): its output's
** Body usage, priced as the ModelId of its TaskScheduled (found through
** previousEventId: Succeeded -> Started -> Scheduled). Histories record
** no model call events for these tasks, so this is where their tokens
** come from. */
static int add_invoke_model(orc_meter *m, const orc_json *events, size_t i,
                            const orc_json *d, double ts, orc_error *err) {
  const orc_json *ev = orc_json_array_get(events, i), *started, *sched;
  const char *out = string_of(member(d, "output")), *params, *model;
  orc_json *o = NULL, *p = NULL;
  int rc = ORC_OK;
  started = event_by_id(events, i, member(ev, "previousEventId"));
  sched = started ? event_by_id(events, i, member(started, "previousEventId"))
                  : NULL;
  if (started && sched && string_of(member(sched, "type")) &&
      strcmp(string_of(member(sched, "type")), "TaskScheduled") != 0)
    sched = event_by_id(events, i, member(sched, "previousEventId"));
  params = string_of(member(event_details(sched), "parameters"));
  if (out == NULL || params == NULL) return ORC_OK; /* nothing to price */
  if (orc_json_parse(out, strlen(out), NULL, &o, NULL) == ORC_OK &&
      orc_json_parse(params, strlen(params), NULL, &p, NULL) == ORC_OK &&
      (model = string_of(member(p, "ModelId"))) != NULL) {
    rc = orci_meter_invoke_model(m, model, member(o, "Body"), ts);
    if (rc < 0)
      rc = orci_error(err, rc, NULL, "out of memory");
    else
      rc = ORC_OK;
  }
  orc_json_unref(o);
  orc_json_unref(p);
  return rc;
}

/* }====== */

/* Whether event i is an attempt whose previous event is its state's
** entry (1), another event (0), or unknown (-1: no ids to follow). Ids
** normally equal positions + 1; otherwise the 64 events before are
** searched. */
static int first_attempt(const orc_json *events, size_t i) {
  const orc_json *ev = orc_json_array_get(events, i);
  const orc_json *prev_id = member(ev, "previousEventId");
  const orc_json *prev = NULL;
  size_t j;
  int64_t want;
  if (prev_id == NULL || orc_json_type_of(prev_id) != ORC_JSON_INT) return -1;
  want = orc_json_int_value(prev_id);
  if (want >= 1 && (size_t)want <= i) {
    const orc_json *cand = orc_json_array_get(events, (size_t)want - 1);
    const orc_json *id = member(cand, "id");
    if (id && orc_json_type_of(id) == ORC_JSON_INT &&
        orc_json_int_value(id) == want)
      prev = cand;
  }
  for (j = i; prev == NULL && j-- > 0 && i - j <= 64;) {
    const orc_json *cand = orc_json_array_get(events, j);
    const orc_json *id = member(cand, "id");
    if (id && orc_json_type_of(id) == ORC_JSON_INT &&
        orc_json_int_value(id) == want)
      prev = cand;
  }
  if (prev == NULL) return -1;
  {
    const char *t = string_of(member(prev, "type"));
    return t && ends_with(t, "StateEntered") ? 1 : 0;
  }
}

int orc_meter_add_history(orc_meter *m, const orc_json *history,
                          orc_error *err) {
  const orc_json *events = history;
  size_t i;
  if (history && orc_json_type_of(history) == ORC_JSON_OBJECT)
    events = member(history, "events");
  if (events == NULL || orc_json_type_of(events) != ORC_JSON_ARRAY)
    return orci_error(err, ORC_EINVAL, "",
                      "a history is {\"events\": [...]} or an array of "
                      "events");
  for (i = 0; i < orc_json_len(events); i++) {
    const orc_json *ev = orc_json_array_get(events, i);
    const char *type = string_of(member(ev, "type"));
    const orc_json *ts = member(ev, "timestamp");
    char where[64];
    int rc;
    snprintf(where, sizeof where, "/events/%zu", i);
    if (type == NULL)
      return orci_error(err, ORC_EINVAL, where,
                        "%s: an event needs a string \"type\"", where);
    if (ts && !is_number(ts))
      return orci_error(err, ORC_EINVAL, where,
                        "%s/timestamp: must be a number (epoch seconds)",
                        where);
    rc = orc_meter_add_event_ex(
        m, type, ts ? orc_json_number(ts) : NAN, event_details(ev),
        is_attempt(type) ? first_attempt(events, i) : -1, err);
    if (rc == ORC_OK && strcmp(type, "TaskSucceeded") == 0) {
      const orc_json *d = event_details(ev);
      const char *rt = string_of(member(d, "resourceType"));
      const char *r = string_of(member(d, "resource"));
      if (rt && r && strcmp(rt, "bedrock") == 0 &&
          strcmp(r, "invokeModel") == 0)
        rc = add_invoke_model(m, events, i, d, ts ? orc_json_number(ts) : NAN,
                              err);
    }
    if (rc != ORC_OK) {
      if (err) snprintf(err->where, sizeof err->where, "%s", where);
      return rc;
    }
  }
  return ORC_OK;
}

void orc_meter_counts_get(const orc_meter *m, orc_meter_counts *out) {
  *out = m->c;
}

const char *orc_meter_model(const orc_meter *m, size_t i,
                            orc_cost_tokens *tokens) {
  if (i >= m->c.nmodels) return NULL;
  if (tokens) *tokens = m->models[i].t;
  return m->models[i].name;
}

/* }====== */

/* {====== lines and breakdowns */

static orci_cost_line *add_line(orci_cost_lines *L, const char *group,
                                const char *unit, double units,
                                double unit_femto, double femto) {
  orci_cost_line *l;
  if (L->n == ORCI_COST_MAXLINES) {
    L->truncated = 1; /* the caller reports it; never a NULL to write to */
    l = &L->spare;
  } else {
    l = &L->line[L->n++];
  }
  memset(l, 0, sizeof *l);
  l->group = group;
  l->unit = unit;
  l->units = units;
  l->unit_femto = unit_femto;
  l->femto = femto;
  return l;
}

static void write_lines(orci_buf *b, const orci_cost_lines *L) {
  size_t i;
  jw_key(b, "lines");
  jw_open(b, '[');
  for (i = 0; i < L->n; i++) {
    const orci_cost_line *l = &L->line[i];
    jw_open(b, '{');
    jw_key(b, "group");
    jw_str(b, l->group);
    jw_key(b, "item");
    jw_str(b, l->item);
    jw_key(b, "units");
    jw_num(b, l->units);
    jw_key(b, "unit");
    jw_str(b, l->unit);
    if (l->unit_femto > 0) {
      jw_key(b, "unit_usd");
      jw_usd(b, l->unit_femto);
    }
    jw_key(b, "usd");
    jw_usd(b, l->femto);
    if (l->note[0]) {
      jw_key(b, "note");
      jw_str(b, l->note);
    }
    orci_buf_addc(b, '}');
  }
  orci_buf_addc(b, ']');
}

static void write_subtotals(orci_buf *b, const orci_cost_lines *L) {
  static const char *const groups[] = {"workflow", "models", "tools", NULL};
  size_t g, i;
  jw_key(b, "subtotals");
  jw_open(b, '{');
  for (g = 0; groups[g]; g++) {
    double sum = 0;
    int any = 0;
    for (i = 0; i < L->n; i++)
      if (strcmp(L->line[i].group, groups[g]) == 0) {
        sum += L->line[i].femto;
        any = 1;
      }
    if (any) {
      jw_key(b, groups[g]);
      jw_usd(b, sum);
    }
  }
  orci_buf_addc(b, '}');
}

static double lines_total(const orci_cost_lines *L) {
  double sum = 0;
  size_t i;
  for (i = 0; i < L->n; i++)
    sum += L->line[i].femto;
  return sum;
}

typedef struct breakdown_opts {
  int express, free_tier, batch;
  char region[48];
  double memory_mb;
} breakdown_opts;

static int parse_breakdown_opts(const orc_json *o, breakdown_opts *b,
                                orc_error *err) {
  static const char *const keys[] = {"type",      "region", "memory_mb",
                                     "free_tier", "batch",  NULL};
  char type[16] = "STANDARD";
  int rc;
  memset(b, 0, sizeof *b);
  b->memory_mb = 64;
  if (o == NULL) return ORC_OK;
  if ((rc = check_keys(o, keys, "", err)) ||
      (rc = get_string(o, "type", "", type, sizeof type, err)) ||
      (rc = get_string(o, "region", "", b->region, sizeof b->region, err)) ||
      (rc = get_number(o, "memory_mb", "", &b->memory_mb, 0, err)) ||
      (rc = get_bool(o, "free_tier", "", &b->free_tier, err)) ||
      (rc = get_bool(o, "batch", "", &b->batch, err)))
    return rc;
  if (strcmp(type, "EXPRESS") == 0)
    b->express = 1;
  else if (strcmp(type, "STANDARD") != 0)
    return orci_error(err, ORC_EINVAL, "/type",
                      "/type: must be STANDARD or EXPRESS, not '%s'", type);
  return ORC_OK;
}

/* Lines of what the meter counted. */
static int meter_lines(const orc_meter *m, const orc_cost_catalog *C,
                       const breakdown_opts *o, orci_cost_lines *L,
                       orc_error *err) {
  orci_cost_line *l;
  size_t i;
  int rc;
  memset(L, 0, sizeof *L);
  if (!o->express) {
    double femto, billable = (double)m->c.transitions;
    if ((rc = standard_price(C, o->region, &femto, err))) return rc;
    if (o->free_tier)
      billable = billable > C->free_tier ? billable - C->free_tier : 0;
    l = add_line(L, "workflow", "transition", billable, femto,
                 billable * femto);
    snprintf(l->item, sizeof l->item, "Standard state transitions");
    snprintf(l->note, sizeof l->note, "%llu states entered + %llu retries%s",
             (unsigned long long)m->c.state_entries,
             (unsigned long long)m->c.retries,
             o->free_tier ? ", less the monthly free tier" : "");
  } else {
    double units, chunks;
    if ((rc = express_check(C, err))) return rc;
    chunks = ceil(o->memory_mb / C->chunk_mb);
    if (chunks < 1) chunks = 1;
    l = add_line(L, "workflow", "request", (double)m->c.executions,
                 C->req_femto, (double)m->c.executions * C->req_femto);
    snprintf(l->item, sizeof l->item, "Express requests");
    units = chunks * (double)m->c.billed_100ms;
    l = add_line(L, "workflow", "64MB-100ms", units, C->tier[0].femto,
                 express_duration_femto(C, units, 1));
    snprintf(l->item, sizeof l->item, "Express duration");
    snprintf(l->note, sizeof l->note,
             "%llu ms measured, billed as %llu x 100 ms at %g MB "
             "(%g chunks of %g MB)",
             (unsigned long long)m->c.duration_ms,
             (unsigned long long)m->c.billed_100ms, o->memory_mb, chunks,
             C->chunk_mb);
  }
  for (i = 0; i < m->c.nmodels; i++) {
    const meter_model *mm = &m->models[i];
    const model_entry *e = find_model(C, mm->name, err);
    double k;
    if (e == NULL) return ORC_EINVAL;
    if (o->batch && e->batch_discount < 0)
      return orci_error(err, ORC_EINVAL, NULL,
                        "model '%s' has no batch discount in the catalog",
                        e->key);
    k = o->batch ? 1 - e->batch_discount : 1;
    l = add_line(L, "models", "token", mm->t.input, e->in * k,
                 mm->t.input * e->in * k);
    snprintf(l->item, sizeof l->item, "%s input", mm->name);
    l = add_line(L, "models", "token", mm->t.output, e->out * k,
                 mm->t.output * e->out * k);
    snprintf(l->item, sizeof l->item, "%s output", mm->name);
    if (mm->t.cache_write > 0) {
      if (e->cw < 0)
        return orci_error(err, ORC_EINVAL, NULL,
                          "model '%s' has no cache write price in the "
                          "catalog",
                          e->key);
      l = add_line(L, "models", "token", mm->t.cache_write, e->cw,
                   mm->t.cache_write * e->cw);
      snprintf(l->item, sizeof l->item, "%s cache write", mm->name);
    }
    if (mm->t.cache_read > 0) {
      if (e->cr < 0)
        return orci_error(err, ORC_EINVAL, NULL,
                          "model '%s' has no cache read price in the catalog",
                          e->key);
      l = add_line(L, "models", "token", mm->t.cache_read, e->cr,
                   mm->t.cache_read * e->cr);
      snprintf(l->item, sizeof l->item, "%s cache read", mm->name);
    }
    if (L->truncated)
      return orci_error(err, ORC_EINVAL, NULL,
                        "too many models in one breakdown (at most %d "
                        "lines)",
                        ORCI_COST_MAXLINES);
  }
  if (m->c.tool_calls > 0) {
    l = add_line(L, "tools", "call", (double)m->c.tool_calls, 0, 0);
    snprintf(l->item, sizeof l->item, "tool calls");
    snprintf(l->note, sizeof l->note,
             "billed by the services the tools call, not priced here");
    if (L->truncated)
      return orci_error(err, ORC_EINVAL, NULL,
                        "too many lines in one breakdown (at most %d)",
                        ORCI_COST_MAXLINES);
  }
  return ORC_OK;
}

int orc_meter_breakdown(const orc_meter *m, const orc_cost_catalog *C,
                        const orc_json *options, orc_json **out,
                        orc_error *err) {
  breakdown_opts o;
  orci_cost_lines L;
  orci_buf b = {0};
  int rc;
  *out = NULL;
  if ((rc = parse_breakdown_opts(options, &o, err)) ||
      (rc = meter_lines(m, C, &o, &L, err)))
    return rc;
  jw_open(&b, '{');
  write_lines(&b, &L);
  write_subtotals(&b, &L);
  jw_key(&b, "total");
  jw_usd(&b, lines_total(&L));
  jw_key(&b, "counts");
  jw_open(&b, '{');
  jw_key(&b, "transitions");
  jw_num(&b, (double)m->c.transitions);
  jw_key(&b, "state_entries");
  jw_num(&b, (double)m->c.state_entries);
  jw_key(&b, "retries");
  jw_num(&b, (double)m->c.retries);
  jw_key(&b, "executions");
  jw_num(&b, (double)m->c.executions);
  jw_key(&b, "duration_ms");
  jw_num(&b, (double)m->c.duration_ms);
  jw_key(&b, "model_calls");
  jw_num(&b, (double)m->c.model_calls);
  jw_key(&b, "tool_calls");
  jw_num(&b, (double)m->c.tool_calls);
  orci_buf_addc(&b, '}');
  jw_key(&b, "assumptions");
  jw_open(&b, '[');
  if (!o.express) {
    jw_str(&b, "Standard workflow: billed transitions = states entered "
               "(Map iterations and Parallel branches included) + retries; "
               "AWS publishes no per-event formula");
    jw_str(&b, o.free_tier ? "the monthly free tier (4,000 transitions) is "
                             "taken off, assumed unused by other workflows"
                           : "no free tier taken off (the account's 4,000 "
                             "free transitions a month are shared by all "
                             "its workflows)");
  } else {
    jw_str(&b, "Express workflow: memory is not measured; the duration line "
               "assumes the memory_mb given");
  }
  if (o.region[0]) {
    char text[96];
    snprintf(text, sizeof text, "region %s", o.region);
    jw_str(&b, text);
  }
  jw_str(&b, "the work of the tasks themselves (Lambda, other services) is "
             "billed by those services and not included");
  orci_buf_addc(&b, ']');
  orci_buf_addc(&b, '}');
  return jw_finish(&b, out, err);
}

int orc_meter_total(const orc_meter *m, const orc_cost_catalog *C,
                    const orc_json *options, double *usd, orc_error *err) {
  breakdown_opts o;
  orci_cost_lines L;
  int rc;
  if ((rc = parse_breakdown_opts(options, &o, err)) ||
      (rc = meter_lines(m, C, &o, &L, err)))
    return rc;
  *usd = usd_of(lines_total(&L));
  return ORC_OK;
}

int orc_meter_would_exceed(const orc_meter *m, const orc_cost_catalog *C,
                           const orc_json *options, const char *model,
                           double input_tokens, double max_tokens,
                           double budget_usd, double *spent, orc_error *err) {
  double now, next;
  int rc;
  if ((rc = orc_meter_total(m, C, options, &now, err)) ||
      (rc = orc_cost_model_call_bound(C, model, input_tokens, max_tokens, &next,
                                      err)))
    return rc;
  if (spent) *spent = now;
  return now + next > budget_usd ? 1 : 0;
}

/* }====== */

/* {====== scenarios */

int orci_scenario_parse(const orc_json *j, orci_scenario *s, orc_error *err) {
  static const char *const top[] = {"name", "executions", "workflow", "agent",
                                    NULL};
  static const char *const wf[] = {"type",      "transitions", "duration_ms",
                                   "memory_mb", "region",      "free_tier",
                                   "runs",      NULL};
  static const char *const ag[] = {"model",
                                   "steps",
                                   "input_tokens",
                                   "output_tokens",
                                   "context_growth",
                                   "cache_hit_rate",
                                   "cache_write_rate",
                                   "batch",
                                   "invocations",
                                   "tool_calls_per_step",
                                   "tool_call_usd",
                                   NULL};
  const orc_json *w, *a;
  int rc;
  memset(s, 0, sizeof *s);
  s->executions = 1;
  s->k_transition = s->k_input = s->k_output = 1;
  if ((rc = check_keys(j, top, "", err)) ||
      (rc = get_string(j, "name", "", s->name, sizeof s->name, err)) ||
      (rc = get_number(j, "executions", "", &s->executions, 0, err)))
    return rc;
  w = member(j, "workflow");
  a = member(j, "agent");
  if (w == NULL && a == NULL)
    return orci_error(err, ORC_EINVAL, "",
                      "a scenario needs a workflow, an agent or both");
  if (w) {
    char type[16] = "STANDARD";
    s->has_workflow = 1;
    s->free_tier = 1;
    s->runs = 1;
    s->memory_mb = 64;
    if ((rc = check_keys(w, wf, "/workflow", err)) ||
        (rc = get_string(w, "type", "/workflow", type, sizeof type, err)) ||
        (rc = get_number(w, "transitions", "/workflow", &s->transitions, 0,
                         err)) ||
        (rc = get_number(w, "duration_ms", "/workflow", &s->duration_ms, 0,
                         err)) ||
        (rc = get_number(w, "memory_mb", "/workflow", &s->memory_mb, 0, err)) ||
        (rc = get_string(w, "region", "/workflow", s->region, sizeof s->region,
                         err)) ||
        (rc = get_bool(w, "free_tier", "/workflow", &s->free_tier, err)) ||
        (rc = get_number(w, "runs", "/workflow", &s->runs, 0, err)))
      return rc;
    if (strcmp(type, "EXPRESS") == 0) {
      s->express = 1;
      if (member(w, "duration_ms") == NULL)
        return orci_error(err, ORC_EINVAL, "/workflow/duration_ms",
                          "/workflow/duration_ms: an Express workflow needs "
                          "its duration");
    } else if (strcmp(type, "STANDARD") != 0) {
      return orci_error(err, ORC_EINVAL, "/workflow/type",
                        "/workflow/type: must be STANDARD or EXPRESS, not "
                        "'%s'",
                        type);
    } else if (member(w, "transitions") == NULL) {
      return orci_error(err, ORC_EINVAL, "/workflow/transitions",
                        "/workflow/transitions: a Standard workflow needs "
                        "its transitions per run");
    }
  }
  if (a) {
    s->has_agent = 1;
    s->invocations = 1;
    if ((rc = check_keys(a, ag, "/agent", err)) ||
        (rc = get_string(a, "model", "/agent", s->model, sizeof s->model,
                         err)) ||
        (rc = get_number(a, "steps", "/agent", &s->steps, 1, err)) ||
        (rc = get_number(a, "input_tokens", "/agent", &s->input_tokens, 1,
                         err)) ||
        (rc = get_number(a, "output_tokens", "/agent", &s->output_tokens, 1,
                         err)) ||
        (rc = get_number(a, "context_growth", "/agent", &s->context_growth, 0,
                         err)) ||
        (rc = get_number(a, "cache_hit_rate", "/agent", &s->cache_hit_rate, 0,
                         err)) ||
        (rc = get_number(a, "cache_write_rate", "/agent", &s->cache_write_rate,
                         0, err)) ||
        (rc = get_bool(a, "batch", "/agent", &s->batch, err)) ||
        (rc =
             get_number(a, "invocations", "/agent", &s->invocations, 0, err)) ||
        (rc = get_number(a, "tool_calls_per_step", "/agent",
                         &s->tool_calls_per_step, 0, err)) ||
        (rc = get_number(a, "tool_call_usd", "/agent", &s->tool_call_usd, 0,
                         err)))
      return rc;
    if (s->model[0] == '\0')
      return orci_error(err, ORC_EINVAL, "/agent/model",
                        "/agent/model: missing (a model id of the catalog)");
    if (s->cache_hit_rate + s->cache_write_rate > 1)
      return orci_error(err, ORC_EINVAL, "/agent/cache_hit_rate",
                        "/agent/cache_hit_rate: cache_hit_rate + "
                        "cache_write_rate must not exceed 1");
  }
  return ORC_OK;
}

int orci_scenario_eval(const orc_cost_catalog *C, const orci_scenario *s,
                       int monthly, orci_cost_lines *L, double *total_femto,
                       orc_error *err) {
  double n = monthly ? s->executions : 1; /* executions priced */
  orci_cost_line *l;
  int rc;
  memset(L, 0, sizeof *L);
  if (s->has_workflow && !s->express) {
    double femto, t = s->transitions * s->runs * n, billable = t;
    if ((rc = standard_price(C, s->region, &femto, err))) return rc;
    femto *= s->k_transition;
    if (monthly && s->free_tier)
      billable = t > C->free_tier ? t - C->free_tier : 0;
    l = add_line(L, "workflow", "transition", billable, femto,
                 billable * femto);
    snprintf(l->item, sizeof l->item, "Standard state transitions");
    if (monthly && s->free_tier && billable < t)
      snprintf(l->note, sizeof l->note,
               "%.15g transitions less the %.15g free each month", t,
               C->free_tier);
  } else if (s->has_workflow) {
    double runs = s->runs * n,
           per = express_units(C, s->duration_ms, s->memory_mb);
    if ((rc = express_check(C, err))) return rc;
    l = add_line(L, "workflow", "request", runs, C->req_femto,
                 runs * C->req_femto);
    snprintf(l->item, sizeof l->item, "Express requests");
    l = add_line(L, "workflow", "64MB-100ms", runs * per,
                 C->tier[0].femto * s->k_transition,
                 express_duration_femto(C, runs * per, s->k_transition));
    snprintf(l->item, sizeof l->item, "Express duration");
    snprintf(l->note, sizeof l->note,
             "%g ms rounded up to %g x 100 ms, %g MB as %g x 64 MB",
             s->duration_ms,
             ceil(s->duration_ms / C->round_ms) < 1
                 ? 1
                 : ceil(s->duration_ms / C->round_ms),
             s->memory_mb,
             ceil(s->memory_mb / C->chunk_mb) < 1
                 ? 1
                 : ceil(s->memory_mb / C->chunk_mb));
  }
  if (s->has_agent) {
    const model_entry *e = find_model(C, s->model, err);
    double calls, in, out, k = 1;
    if (e == NULL) {
      if (err) snprintf(err->where, sizeof err->where, "/agent/model");
      return ORC_EINVAL;
    }
    calls = s->invocations * n;
    /* step i (0-based) reads input_tokens + i * context_growth */
    in = (s->steps * s->input_tokens +
          s->context_growth * s->steps * (s->steps - 1) / 2) *
         calls;
    out = s->steps * s->output_tokens * calls;
    if (s->batch) {
      if (e->batch_discount < 0)
        return orci_error(err, ORC_EINVAL, "/agent/batch",
                          "/agent/batch: model '%s' has no batch discount "
                          "in the catalog",
                          e->key);
      k = 1 - e->batch_discount;
    }
    if (s->cache_hit_rate > 0 && e->cr < 0)
      return orci_error(err, ORC_EINVAL, "/agent/cache_hit_rate",
                        "/agent/cache_hit_rate: model '%s' has no cache read "
                        "price in the catalog",
                        e->key);
    if (s->cache_write_rate > 0 && e->cw < 0)
      return orci_error(err, ORC_EINVAL, "/agent/cache_write_rate",
                        "/agent/cache_write_rate: model '%s' has no cache "
                        "write price in the catalog",
                        e->key);
    {
      double fresh = in * (1 - s->cache_hit_rate - s->cache_write_rate);
      double pin = e->in * k * s->k_input, pout = e->out * k * s->k_output;
      l = add_line(L, "models", "token", fresh, pin, fresh * pin);
      snprintf(l->item, sizeof l->item, "%s input", e->key);
      if (s->batch)
        snprintf(l->note, sizeof l->note, "batch: %g %% off",
                 e->batch_discount * 100);
      l = add_line(L, "models", "token", out, pout, out * pout);
      snprintf(l->item, sizeof l->item, "%s output", e->key);
      if (s->cache_write_rate > 0) {
        double cw = in * s->cache_write_rate, p = e->cw * s->k_input;
        l = add_line(L, "models", "token", cw, p, cw * p);
        snprintf(l->item, sizeof l->item, "%s cache write", e->key);
      }
      if (s->cache_hit_rate > 0) {
        double cr = in * s->cache_hit_rate, p = e->cr * s->k_input;
        l = add_line(L, "models", "token", cr, p, cr * p);
        snprintf(l->item, sizeof l->item, "%s cache read", e->key);
      }
    }
    if (s->tool_calls_per_step > 0) {
      double tc = s->tool_calls_per_step * s->steps * calls;
      double p = orci_cost_femto(s->tool_call_usd, 1);
      l = add_line(L, "tools", "call", tc, p, tc * p);
      snprintf(l->item, sizeof l->item, "tool calls");
      if (p == 0)
        snprintf(l->note, sizeof l->note,
                 "billed by the services the tools call (tool_call_usd "
                 "not given)");
    }
  }
  *total_femto = lines_total(L);
  return ORC_OK;
}

static void write_assumptions(orci_buf *b, const orc_cost_catalog *C,
                              const orci_scenario *s) {
  char text[256];
  jw_key(b, "assumptions");
  jw_open(b, '[');
  if (s->has_workflow && !s->express) {
    snprintf(text, sizeof text,
             "Standard workflow: %.15g transitions per run, %.15g run(s) per "
             "execution, region %s",
             s->transitions, s->runs, s->region[0] ? s->region : "us-east-1");
    jw_str(b, text);
    jw_str(b, s->free_tier
                  ? "monthly totals take the 4,000 free transitions a month "
                    "off (the whole account's allowance)"
                  : "no free tier");
  } else if (s->has_workflow) {
    snprintf(text, sizeof text,
             "Express workflow: %g ms, %g MB per run; duration tiers beyond "
             "the first are %s",
             s->duration_ms, s->memory_mb,
             C->ntiers > 1 && !C->tier[1].confirmed
                 ? "not confirmed by the stored sources"
                 : "as the catalog lists them");
    jw_str(b, text);
  }
  if (s->has_agent) {
    snprintf(text, sizeof text,
             "agent: %.15g step(s) of %.15g input + %.15g output tokens%s, "
             "%.15g invocation(s) per execution",
             s->steps, s->input_tokens, s->output_tokens,
             s->context_growth > 0 ? ", the context growing each step" : "",
             s->invocations);
    jw_str(b, text);
    if (s->cache_hit_rate > 0 || s->cache_write_rate > 0) {
      snprintf(text, sizeof text,
               "%g %% of input tokens read from the cache, %g %% written to "
               "it",
               s->cache_hit_rate * 100, s->cache_write_rate * 100);
      jw_str(b, text);
    }
    {
      const model_entry *e = find_model(C, s->model, NULL);
      if (e) {
        snprintf(text, sizeof text, "%s prices as of %s (%s)%s", e->key,
                 e->as_of ? e->as_of : "?",
                 e->source ? e->source : "no source given",
                 e->confirmed ? "" : "; NOT CONFIRMED or disputed");
        jw_str(b, text);
      }
    }
  }
  jw_str(b, "the work of tasks and tools themselves (Lambda, other "
            "services) is not included unless priced here");
  orci_buf_addc(b, ']');
}

int orc_cost_scenario(const orc_cost_catalog *C, const orc_json *scenario,
                      orc_json **out, orc_error *err) {
  orci_scenario s;
  orci_cost_lines one, month;
  double t1, tm;
  orci_buf b = {0};
  int rc;
  *out = NULL;
  if ((rc = orci_scenario_parse(scenario, &s, err)) ||
      (rc = orci_scenario_eval(C, &s, 0, &one, &t1, err)) ||
      (rc = orci_scenario_eval(C, &s, 1, &month, &tm, err)))
    return rc;
  jw_open(&b, '{');
  jw_key(&b, "name");
  jw_str(&b, s.name);
  jw_key(&b, "executions");
  jw_num(&b, s.executions);
  jw_key(&b, "per_execution");
  jw_open(&b, '{');
  write_lines(&b, &one);
  write_subtotals(&b, &one);
  jw_key(&b, "total");
  jw_usd(&b, t1);
  orci_buf_addc(&b, '}');
  jw_key(&b, "monthly");
  jw_open(&b, '{');
  write_lines(&b, &month);
  write_subtotals(&b, &month);
  jw_key(&b, "total");
  jw_usd(&b, tm);
  orci_buf_addc(&b, '}');
  write_assumptions(&b, C, &s);
  orci_buf_addc(&b, '}');
  return jw_finish(&b, out, err);
}

static int monthly_femto(const orc_cost_catalog *C, orci_scenario *s,
                         double executions, double *femto, orc_error *err) {
  orci_cost_lines L;
  double keep = s->executions;
  int rc;
  s->executions = executions;
  rc = orci_scenario_eval(C, s, 1, &L, femto, err);
  s->executions = keep;
  return rc;
}

int orc_cost_monthly(const orc_cost_catalog *C, const orc_json *scenario,
                     double executions, double *usd, orc_error *err) {
  orci_scenario s;
  double femto;
  int rc;
  if ((rc = orci_scenario_parse(scenario, &s, err)) ||
      (rc = monthly_femto(C, &s, executions < 0 ? s.executions : executions,
                          &femto, err)))
    return rc;
  *usd = usd_of(femto);
  return ORC_OK;
}

#define MAX_OPTIONS 16

/* The smallest whole volume in (lo, hi] where a - b changes sign from
** sign(lo); lo's sign and hi's differ. */
static int bisect(const orc_cost_catalog *C, orci_scenario *a, orci_scenario *b,
                  double lo, double hi, double *at, orc_error *err) {
  double fa, fb, dlo;
  int rc;
  if ((rc = monthly_femto(C, a, lo, &fa, err)) ||
      (rc = monthly_femto(C, b, lo, &fb, err)))
    return rc;
  dlo = fa - fb;
  while (hi - lo > 1) {
    double mid = floor((lo + hi) / 2), d;
    if ((rc = monthly_femto(C, a, mid, &fa, err)) ||
        (rc = monthly_femto(C, b, mid, &fb, err)))
      return rc;
    d = fa - fb;
    if ((d > 0) == (dlo > 0) && d != 0)
      lo = mid;
    else
      hi = mid;
  }
  *at = hi;
  return ORC_OK;
}

int orc_cost_compare(const orc_cost_catalog *C, const orc_json *scenarios,
                     const double *volumes, size_t n, orc_json **out,
                     orc_error *err) {
  orci_scenario s[MAX_OPTIONS];
  size_t k, i, j, nopt;
  orci_buf b = {0};
  int rc;
  *out = NULL;
  if (scenarios == NULL || orc_json_type_of(scenarios) != ORC_JSON_ARRAY ||
      orc_json_len(scenarios) < 1 || orc_json_len(scenarios) > MAX_OPTIONS)
    return orci_error(err, ORC_EINVAL, "",
                      "compare needs an array of 1 to %d scenarios",
                      MAX_OPTIONS);
  nopt = orc_json_len(scenarios);
  for (k = 0; k < nopt; k++) {
    if ((rc = orci_scenario_parse(orc_json_array_get(scenarios, k), &s[k],
                                  err))) {
      if (err) { /* the pointer names the scenario in the array */
        char where[sizeof err->where + 24], message[sizeof err->message + 24];
        size_t len;
        snprintf(where, sizeof where, "/%zu%s", k, err->where);
        snprintf(message, sizeof message, "/%zu%s%s", k,
                 err->message[0] == '/' ? "" : ": ", err->message);
        len = strlen(where) < sizeof err->where ? strlen(where)
                                                : sizeof err->where - 1;
        memcpy(err->where, where, len);
        err->where[len] = '\0';
        len = strlen(message) < sizeof err->message ? strlen(message)
                                                    : sizeof err->message - 1;
        memcpy(err->message, message, len);
        err->message[len] = '\0';
      }
      return rc;
    }
    if (s[k].name[0] == '\0')
      snprintf(s[k].name, sizeof s[k].name, "option %zu", k + 1);
  }
  jw_open(&b, '{');
  jw_key(&b, "options");
  jw_open(&b, '[');
  for (k = 0; k < nopt; k++)
    jw_str(&b, s[k].name);
  orci_buf_addc(&b, ']');
  jw_key(&b, "volumes");
  jw_open(&b, '[');
  for (i = 0; i < n; i++)
    jw_num(&b, volumes[i]);
  orci_buf_addc(&b, ']');
  jw_key(&b, "monthly");
  jw_open(&b, '[');
  for (k = 0; k < nopt; k++) {
    jw_open(&b, '[');
    for (i = 0; i < n; i++) {
      double f;
      if ((rc = monthly_femto(C, &s[k], volumes[i], &f, err))) {
        orci_buf_free(&b);
        return rc;
      }
      jw_usd(&b, f);
    }
    orci_buf_addc(&b, ']');
  }
  orci_buf_addc(&b, ']');
  jw_key(&b, "break_even");
  jw_open(&b, '[');
  for (i = 0; i < nopt; i++)
    for (j = i + 1; j < nopt; j++) {
      /* scan a log grid (x1.25) from 1 to 1e12, bisect each sign change */
      double v = 1, prev_v = 0, prev_d = 0;
      while (v <= 1e12) {
        double fa, fb, d;
        if ((rc = monthly_femto(C, &s[i], v, &fa, err)) ||
            (rc = monthly_femto(C, &s[j], v, &fb, err))) {
          orci_buf_free(&b);
          return rc;
        }
        d = fa - fb;
        if (prev_v > 0 && d != 0 && prev_d != 0 && (d > 0) != (prev_d > 0)) {
          double at, ua, ub;
          if ((rc = bisect(C, &s[i], &s[j], prev_v, v, &at, err)) ||
              (rc = monthly_femto(C, &s[i], at, &ua, err)) ||
              (rc = monthly_femto(C, &s[j], at, &ub, err))) {
            orci_buf_free(&b);
            return rc;
          }
          jw_open(&b, '{');
          jw_key(&b, "a");
          jw_str(&b, s[i].name);
          jw_key(&b, "b");
          jw_str(&b, s[j].name);
          jw_key(&b, "executions");
          jw_num(&b, at);
          jw_key(&b, "usd");
          jw_usd(&b, (ua + ub) / 2);
          jw_key(&b, "cheaper_below");
          jw_str(&b, prev_d < 0 ? s[i].name : s[j].name);
          jw_key(&b, "cheaper_above");
          jw_str(&b, prev_d < 0 ? s[j].name : s[i].name);
          orci_buf_addc(&b, '}');
        }
        if (d != 0) {
          prev_d = d;
          prev_v = v;
        }
        v = v < 4 ? v + 1 : ceil(v * 1.25);
      }
    }
  orci_buf_addc(&b, ']');
  jw_key(&b, "assumptions");
  jw_open(&b, '[');
  jw_str(&b, "break-even volumes are executions per month where two "
             "options' monthly totals cross, searched from 1 to 1e12");
  for (k = 0; k < nopt; k++)
    if (s[k].has_workflow && !s[k].express && s[k].free_tier) {
      jw_str(&b, "Standard monthly totals take the 4,000 free transitions a "
                 "month off");
      break;
    }
  orci_buf_addc(&b, ']');
  orci_buf_addc(&b, '}');
  return jw_finish(&b, out, err);
}

typedef struct sens_input {
  const char *name;
  size_t offset; /* of a double in orci_scenario */
  int needs;     /* 1 workflow, 2 agent, 0 any */
} sens_input;

typedef struct sens_row {
  const char *name;
  double value, low, high, swing;
} sens_row;

static int cmp_swing(const void *a, const void *b) {
  double x = ((const sens_row *)a)->swing, y = ((const sens_row *)b)->swing;
  return x < y ? 1 : x > y ? -1 : 0;
}

int orc_cost_sensitivity(const orc_cost_catalog *C, const orc_json *scenario,
                         double delta, orc_json **out, orc_error *err) {
  static const sens_input inputs[] = {
      {"executions", offsetof(orci_scenario, executions), 0},
      {"workflow.transitions", offsetof(orci_scenario, transitions), 1},
      {"workflow.duration_ms", offsetof(orci_scenario, duration_ms), 1},
      {"workflow.memory_mb", offsetof(orci_scenario, memory_mb), 1},
      {"workflow.runs", offsetof(orci_scenario, runs), 1},
      {"workflow price (transition or GB-second)",
       offsetof(orci_scenario, k_transition), 1},
      {"agent.steps", offsetof(orci_scenario, steps), 2},
      {"agent.input_tokens", offsetof(orci_scenario, input_tokens), 2},
      {"agent.output_tokens", offsetof(orci_scenario, output_tokens), 2},
      {"agent.context_growth", offsetof(orci_scenario, context_growth), 2},
      {"agent.cache_hit_rate", offsetof(orci_scenario, cache_hit_rate), 2},
      {"agent.invocations", offsetof(orci_scenario, invocations), 2},
      {"model input price", offsetof(orci_scenario, k_input), 2},
      {"model output price", offsetof(orci_scenario, k_output), 2},
  };
  sens_row rows[sizeof inputs / sizeof inputs[0]];
  size_t nrows = 0, i;
  orci_scenario s;
  orci_cost_lines L;
  double base;
  orci_buf b = {0};
  int rc;
  *out = NULL;
  if (!(delta > 0 && delta < 1))
    return orci_error(err, ORC_EINVAL, NULL,
                      "sensitivity delta must be between 0 and 1 (0.2 for "
                      "+-20 %%)");
  if ((rc = orci_scenario_parse(scenario, &s, err)) ||
      (rc = orci_scenario_eval(C, &s, 1, &L, &base, err)))
    return rc;
  for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    double *field = (double *)(void *)((char *)&s + inputs[i].offset);
    double keep = *field, lo, hi;
    if ((inputs[i].needs == 1 && !s.has_workflow) ||
        (inputs[i].needs == 2 && !s.has_agent) || keep == 0)
      continue;
    if (inputs[i].offset == offsetof(orci_scenario, duration_ms) && !s.express)
      continue;
    if (inputs[i].offset == offsetof(orci_scenario, memory_mb) && !s.express)
      continue;
    *field = keep * (1 - delta);
    rc = orci_scenario_eval(C, &s, 1, &L, &lo, err);
    if (rc == ORC_OK) {
      *field = keep * (1 + delta);
      /* a rate pushed past 1 is clamped: it cannot exceed all tokens */
      if (inputs[i].offset == offsetof(orci_scenario, cache_hit_rate) &&
          *field + s.cache_write_rate > 1)
        *field = 1 - s.cache_write_rate;
      rc = orci_scenario_eval(C, &s, 1, &L, &hi, err);
    }
    *field = keep;
    if (rc != ORC_OK) return rc;
    rows[nrows].name = inputs[i].name;
    rows[nrows].value =
        (inputs[i].offset == offsetof(orci_scenario, k_transition) ||
         inputs[i].offset == offsetof(orci_scenario, k_input) ||
         inputs[i].offset == offsetof(orci_scenario, k_output))
            ? 1
            : keep;
    rows[nrows].low = lo;
    rows[nrows].high = hi;
    rows[nrows].swing = fabs(hi - lo);
    nrows++;
  }
  qsort(rows, nrows, sizeof rows[0], cmp_swing);
  jw_open(&b, '{');
  jw_key(&b, "name");
  jw_str(&b, s.name);
  jw_key(&b, "base");
  jw_usd(&b, base);
  jw_key(&b, "delta");
  jw_num(&b, delta);
  jw_key(&b, "inputs");
  jw_open(&b, '[');
  for (i = 0; i < nrows; i++) {
    jw_open(&b, '{');
    jw_key(&b, "input");
    jw_str(&b, rows[i].name);
    jw_key(&b, "value");
    jw_num(&b, rows[i].value);
    jw_key(&b, "low");
    jw_usd(&b, rows[i].low);
    jw_key(&b, "high");
    jw_usd(&b, rows[i].high);
    jw_key(&b, "swing");
    jw_usd(&b, rows[i].swing);
    orci_buf_addc(&b, '}');
  }
  orci_buf_addc(&b, ']');
  orci_buf_addc(&b, '}');
  return jw_finish(&b, out, err);
}

/* }====== */
