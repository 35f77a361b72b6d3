/*
** bedrock:invokeModel answered through the engine's own model declarations
** (orc_engine_route_model): a ModelId that starts with a route's prefix
** (the longest wins) goes to that route's model instead of Bedrock.
**
** A Bedrock route sends the Body as it is (InvokeModel, native for every
** model family) to the route's model id, region and endpoint: bedrock.c does
** it. Other routes map: the Body, in the model family's native InvokeModel
** format, is read into the providers' conversation (llm_int.h), the route's
** provider answers it (an HTTP request to an OpenAI-compatible or Anthropic
** endpoint, or a task of the host's scripted model), and its turn is
** written back in the native response format, so the task's result is
** {"Body": <native response>, "ContentType": "application/json"} as Step
** Functions returns it. Mapped families: Anthropic Messages (anthropic.*
** model ids, inference profiles and ARNs included). A Body that cannot be
** mapped fails the task with States.TaskFailed naming the model id.
*/
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "execution_int.h"
#include "llm_int.h"
#include "model_route_int.h"
#include "orchestra/agent.h"

#define DEFAULT_TIMEOUT_MS 300000

struct orci_route {
  char *prefix;
  int kind;             /* ORC_MODEL_* */
  char *resource;       /* SCRIPTED: the host's model tasks */
  orci_llm_provider *P; /* OPENAI, ANTHROPIC: resolved when added */
  char *model, *region, *endpoint_url; /* BEDROCK: resolved per task */
  long timeout_ms;
  char *label; /* "the openai model routed for 'anthropic.'" */
};

typedef struct rcall { /* a mapped request in flight */
  struct rcall *prev, *next;
  orc_engine *E;
  orc_task *T; /* the invokeModel task (retained) */
  const orci_route *r;
  char *model_id;
  uint64_t http_id;
} rcall;

struct orci_routes {
  orci_route **list;
  size_t n;
  rcall *calls;
};

/* {====== small helpers */

static char *dup_opt(const char *s) {
  return s && s[0] ? strdup(s) : NULL;
}

static orc_json *jstr(const char *s) {
  return orc_json_string(s ? s : "", s ? strlen(s) : 0);
}

/* An object of n (key, value taken) pairs; NULL values are skipped. */
static orc_json *obj(int n, ...) {
  va_list ap;
  const char *keys[12];
  orc_json *vals[12];
  int i, k = 0;
  va_start(ap, n);
  for (i = 0; i < n && i < 12; i++) {
    const char *key = va_arg(ap, const char *);
    orc_json *v = va_arg(ap, orc_json *);
    if (v) {
      keys[k] = key;
      vals[k++] = v;
    }
  }
  va_end(ap);
  return orci_obj_of((size_t)k, keys, vals);
}

/* The type of v, null for an absent member (NULL). */
static orc_json_type type_of(const orc_json *v) {
  return v ? orc_json_type_of(v) : ORC_JSON_NULL;
}

/* A new reference to an immutable value seen through a const view
** (values are shared, never modified once published). */
static orc_json *cref(const orc_json *v) {
  return orc_json_ref((orc_json *)(uintptr_t)v);
}

static const char *str_of(const orc_json *v) {
  return v && type_of(v) == ORC_JSON_STRING ? orc_json_string_value(v, NULL)
                                            : NULL;
}

static const char *field_str(const orc_json *o, const char *k) {
  return o ? str_of(orc_json_object_find(o, k, strlen(k))) : NULL;
}

static void fail(orc_task *T, const char *error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(orc_task *T, const char *error, const char *fmt, ...) {
  char cause[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cause, sizeof cause, fmt, ap);
  va_end(ap);
  orci_task_complete(T, 0, NULL, error, cause, NULL);
}

/* }====== */

/* {====== routes */

static void route_free(orci_route *r) {
  free(r->prefix);
  free(r->resource);
  orci_llm_provider_free(r->P);
  free(r->model);
  free(r->region);
  free(r->endpoint_url);
  free(r->label);
  free(r);
}

static void rcall_free(orci_routes *R, rcall *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    R->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  orc_task_release(c->T);
  free(c->model_id);
  free(c);
}

void orci_routes_free(orci_routes *R) {
  size_t i;
  if (R == NULL) return;
  while (R->calls)
    rcall_free(R, R->calls);
  for (i = 0; i < R->n; i++)
    route_free(R->list[i]);
  free(R->list);
  free(R);
}

static const char *kind_name(int kind) {
  switch (kind) {
  case ORC_MODEL_SCRIPTED:
    return "scripted";
  case ORC_MODEL_OPENAI:
    return "openai";
  case ORC_MODEL_ANTHROPIC:
    return "anthropic";
  default:
    return "bedrock";
  }
}

int orci_route_add(orc_engine *E, orci_routes **RR, const char *prefix,
                   const orc_agent_model *m, const char **resource,
                   orc_error *err) {
  orci_routes *R = *RR;
  orci_route *r, **list;
  size_t i;
  (void)E;
  if (resource) *resource = NULL;
  if (prefix == NULL || prefix[0] == '\0')
    return orci_error(err, ORC_EINVAL, NULL,
                      "models: a model id or prefix must be a non-empty "
                      "string");
  if (m == NULL || m->kind < ORC_MODEL_SCRIPTED || m->kind > ORC_MODEL_BEDROCK)
    return orci_error(err, ORC_EINVAL, NULL, "models['%s']: unknown model kind",
                      prefix);
  if (R == NULL) {
    if ((R = (orci_routes *)calloc(1, sizeof *R)) == NULL)
      return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    *RR = R;
  }
  for (i = 0; i < R->n; i++)
    if (strcmp(R->list[i]->prefix, prefix) == 0)
      return orci_error(err, ORC_EINVAL, NULL,
                        "models['%s']: this prefix is routed already", prefix);
  r = (orci_route *)calloc(1, sizeof *r);
  if (r == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  r->kind = m->kind;
  r->timeout_ms = m->timeout_ms > 0 ? m->timeout_ms : DEFAULT_TIMEOUT_MS;
  r->prefix = strdup(prefix);
  if (r->prefix == NULL) goto nomem;
  if (m->kind == ORC_MODEL_SCRIPTED) {
    if (m->resource && m->resource[0])
      r->resource = strdup(m->resource);
    else if ((r->resource = (char *)malloc(strlen(prefix) + 32)) != NULL)
      sprintf(r->resource, "orchestra:model:invokeModel:%s", prefix);
    if (r->resource == NULL) goto nomem;
  } else if (m->kind == ORC_MODEL_BEDROCK) {
    if (m->model == NULL || m->model[0] == '\0') {
      route_free(r);
      return orci_error(err, ORC_EINVAL, NULL,
                        "models['%s']: the bedrock model needs its model_id",
                        prefix);
    }
    if ((r->model = dup_opt(m->model)) == NULL ||
        (m->region && (r->region = dup_opt(m->region)) == NULL) ||
        (m->endpoint_url &&
         (r->endpoint_url = dup_opt(m->endpoint_url)) == NULL))
      goto nomem;
  } else {
    orci_llm_config cfg;
    orc_error perr;
    memset(&cfg, 0, sizeof cfg);
    cfg.kind =
        m->kind == ORC_MODEL_OPENAI ? ORCI_LLM_OPENAI : ORCI_LLM_ANTHROPIC;
    cfg.model = m->model;
    cfg.base_url = m->base_url;
    cfg.api_key = m->api_key;
    cfg.anthropic_version = m->anthropic_version;
    if (orci_llm_provider_new(&cfg, NULL, NULL, &r->P, &perr) != ORC_OK) {
      route_free(r);
      return orci_error(err, perr.code, NULL, "models['%s']: %s", prefix,
                        perr.message);
    }
  }
  r->label = (char *)malloc(strlen(prefix) + 64);
  if (r->label == NULL) goto nomem;
  sprintf(r->label, "the %s model routed for '%s'", kind_name(m->kind), prefix);
  list = (orci_route **)realloc(R->list, (R->n + 1) * sizeof *list);
  if (list == NULL) goto nomem;
  R->list = list;
  R->list[R->n++] = r;
  if (resource) *resource = r->resource;
  return ORC_OK;
nomem:
  route_free(r);
  return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
}

const orci_route *orci_route_find(const orci_routes *R, const char *model_id) {
  const orci_route *best = NULL;
  size_t i, blen = 0;
  if (R == NULL || model_id == NULL) return NULL;
  for (i = 0; i < R->n; i++) {
    size_t len = strlen(R->list[i]->prefix);
    if (len > blen && strncmp(model_id, R->list[i]->prefix, len) == 0) {
      best = R->list[i];
      blen = len;
    }
  }
  return best;
}

int orci_route_bedrock(const orci_route *r, const char **model,
                       const char **region, const char **endpoint_url,
                       long *timeout_ms) {
  if (r->kind != ORC_MODEL_BEDROCK) return 0;
  *model = r->model;
  *region = r->region;
  *endpoint_url = r->endpoint_url;
  *timeout_ms = r->timeout_ms;
  return 1;
}

/* }====== */

/* {====== the native Anthropic Messages body, read and written */

/* Whether model_id names an Anthropic model: "anthropic.", a geographic
** inference profile ("us.anthropic.", "global.anthropic."), or an ARN whose
** resource is one of them. */
static int is_anthropic(const char *model_id) {
  const char *slash = strrchr(model_id, '/'), *dot;
  const char *s = slash ? slash + 1 : model_id;
  if (strncmp(s, "anthropic.", 10) == 0) return 1;
  dot = strchr(s, '.');
  return dot && strncmp(dot + 1, "anthropic.", 10) == 0;
}

/* The storage behind a conversation's views. */
typedef struct conv_store {
  orci_llm_message *msgs;
  orci_llm_part *parts;
  orci_llm_tool *tools;
  char *system;     /* joined system blocks, or NULL */
  orc_json **owned; /* joined tool results */
  size_t nowned;
} conv_store;

static void store_free(conv_store *s) {
  size_t i;
  free(s->msgs);
  free(s->parts);
  free(s->tools);
  free(s->system);
  for (i = 0; i < s->nowned; i++)
    orc_json_unref(s->owned[i]);
  free(s->owned);
  memset(s, 0, sizeof *s);
}

/* The texts of an array of {"type": "text", "text"} blocks, joined with
** blank lines; NULL (why says so) when a block is something else. */
static char *join_text_blocks(const orc_json *a, const char *where, char *why,
                              size_t n) {
  size_t i, len = 0;
  char *out;
  for (i = 0; i < orc_json_len(a); i++) {
    const orc_json *b = orc_json_array_get(a, i);
    const char *type = field_str(b, "type"), *text = field_str(b, "text");
    if (type == NULL || strcmp(type, "text") != 0 || text == NULL) {
      snprintf(why, n, "%s[%zu] is a '%s' block (only text blocks map)", where,
               i, type ? type : "?");
      return NULL;
    }
    len += strlen(text) + 2;
  }
  if ((out = (char *)malloc(len + 1)) == NULL) {
    snprintf(why, n, "out of memory");
    return NULL;
  }
  out[0] = '\0';
  for (i = 0; i < orc_json_len(a); i++) {
    if (i) strcat(out, "\n\n");
    strcat(out, field_str(orc_json_array_get(a, i), "text"));
  }
  return out;
}

/* Read an Anthropic Messages body into c (views into body and s). Returns
** 0, or -1 with why saying what cannot be mapped. */
static int read_anthropic(const orc_json *body, orci_llm_conversation *c,
                          conv_store *s, char *why, size_t n) {
  const orc_json *msgs = orc_json_object_find(body, "messages", 8);
  const orc_json *tools = orc_json_object_find(body, "tools", 5);
  const orc_json *sys = orc_json_object_find(body, "system", 6);
  const orc_json *v;
  size_t i, j, np = 0, k = 0;
  memset(c, 0, sizeof *c);
  if (type_of(body) != ORC_JSON_OBJECT) {
    snprintf(why, n, "the Body is %s, not an object",
             orc_json_type_name(type_of(body)));
    return -1;
  }
  if (type_of(msgs) != ORC_JSON_ARRAY || orc_json_len(msgs) == 0) {
    snprintf(why, n, "the Body has no messages (a non-empty array)");
    return -1;
  }
  if (sys && type_of(sys) == ORC_JSON_STRING) {
    c->system = orc_json_string_value(sys, NULL);
  } else if (sys && type_of(sys) == ORC_JSON_ARRAY) {
    if ((s->system = join_text_blocks(sys, "system", why, n)) == NULL)
      return -1;
    c->system = s->system;
  } else if (sys && type_of(sys) != ORC_JSON_NULL) {
    snprintf(why, n, "system is %s, not a string or text blocks",
             orc_json_type_name(type_of(sys)));
    return -1;
  }
  for (i = 0; i < orc_json_len(msgs); i++) {
    const orc_json *content =
        orc_json_object_find(orc_json_array_get(msgs, i), "content", 7);
    np += type_of(content) == ORC_JSON_ARRAY ? orc_json_len(content) : 1;
  }
  s->msgs = (orci_llm_message *)calloc(orc_json_len(msgs), sizeof *s->msgs);
  s->parts = (orci_llm_part *)calloc(np + 1, sizeof *s->parts);
  s->owned = (orc_json **)calloc(np + 1, sizeof *s->owned);
  if (s->msgs == NULL || s->parts == NULL || s->owned == NULL) {
    snprintf(why, n, "out of memory");
    return -1;
  }
  for (i = 0; i < orc_json_len(msgs); i++) {
    const orc_json *m = orc_json_array_get(msgs, i);
    const char *role = field_str(m, "role");
    const orc_json *content = orc_json_object_find(m, "content", 7);
    orci_llm_message *lm = &s->msgs[i];
    if (role == NULL || (strcmp(role, "user") && strcmp(role, "assistant"))) {
      snprintf(why, n, "messages[%zu].role is %s%s%s (user or assistant)", i,
               role ? "'" : "not a string", role ? role : "", role ? "'" : "");
      return -1;
    }
    lm->role = role[0] == 'a' ? ORCI_LLM_ASSISTANT : ORCI_LLM_USER;
    lm->parts = &s->parts[k];
    if (type_of(content) == ORC_JSON_STRING) {
      s->parts[k].type = ORCI_LLM_TEXT;
      s->parts[k++].text = orc_json_string_value(content, NULL);
      lm->nparts = 1;
      continue;
    }
    if (type_of(content) != ORC_JSON_ARRAY) {
      snprintf(why, n, "messages[%zu].content is %s, not a string or blocks", i,
               orc_json_type_name(type_of(content)));
      return -1;
    }
    for (j = 0; j < orc_json_len(content); j++) {
      const orc_json *b = orc_json_array_get(content, j);
      const char *type = field_str(b, "type");
      orci_llm_part *p = &s->parts[k++];
      if (type && !strcmp(type, "text") && field_str(b, "text")) {
        p->type = ORCI_LLM_TEXT;
        p->text = field_str(b, "text");
      } else if (type && !strcmp(type, "tool_use") &&
                 lm->role == ORCI_LLM_ASSISTANT && field_str(b, "id") &&
                 field_str(b, "name") &&
                 type_of(orc_json_object_find(b, "input", 5)) ==
                     ORC_JSON_OBJECT) {
        p->type = ORCI_LLM_TOOL_USE;
        p->id = field_str(b, "id");
        p->name = field_str(b, "name");
        p->input = orc_json_object_find(b, "input", 5);
      } else if (type && !strcmp(type, "tool_result") &&
                 lm->role == ORCI_LLM_USER && field_str(b, "tool_use_id")) {
        const orc_json *r = orc_json_object_find(b, "content", 7);
        p->type = ORCI_LLM_TOOL_RESULT;
        p->id = field_str(b, "tool_use_id");
        v = orc_json_object_find(b, "is_error", 8);
        p->is_error = v && orc_json_is_true(v);
        if (r == NULL || type_of(r) == ORC_JSON_STRING) {
          if (r == NULL) {
            if ((s->owned[s->nowned] = jstr("")) == NULL) {
              snprintf(why, n, "out of memory");
              return -1;
            }
            r = s->owned[s->nowned++];
          }
          p->result = r;
        } else if (type_of(r) == ORC_JSON_ARRAY) {
          char where[96], *text;
          snprintf(where, sizeof where, "messages[%zu].content[%zu].content", i,
                   j);
          if ((text = join_text_blocks(r, where, why, n)) == NULL) return -1;
          s->owned[s->nowned] = jstr(text);
          free(text);
          if (s->owned[s->nowned] == NULL) {
            snprintf(why, n, "out of memory");
            return -1;
          }
          p->result = s->owned[s->nowned++];
        } else {
          snprintf(why, n, "messages[%zu].content[%zu].content is %s", i, j,
                   orc_json_type_name(type_of(r)));
          return -1;
        }
      } else {
        snprintf(
            why, n,
            "messages[%zu].content[%zu] is a '%s' block%s (text, "
            "tool_use and tool_result blocks map)",
            i, j, type ? type : "?",
            type && (!strcmp(type, "tool_use") || !strcmp(type, "tool_result"))
                ? " in the wrong role or without its fields"
                : "");
        return -1;
      }
      lm->nparts++;
    }
  }
  c->messages = s->msgs;
  c->nmessages = orc_json_len(msgs);
  if (tools && type_of(tools) == ORC_JSON_ARRAY) {
    s->tools =
        (orci_llm_tool *)calloc(orc_json_len(tools) + 1, sizeof *s->tools);
    if (s->tools == NULL) {
      snprintf(why, n, "out of memory");
      return -1;
    }
    for (i = 0; i < orc_json_len(tools); i++) {
      const orc_json *t = orc_json_array_get(tools, i);
      if (field_str(t, "name") == NULL ||
          (field_str(t, "type") && strcmp(field_str(t, "type"), "custom"))) {
        snprintf(why, n,
                 "tools[%zu] is not a client tool {name, description, "
                 "input_schema}",
                 i);
        return -1;
      }
      s->tools[i].name = field_str(t, "name");
      s->tools[i].description = field_str(t, "description");
      s->tools[i].schema = orc_json_object_find(t, "input_schema", 12);
    }
    c->tools = s->tools;
    c->ntools = orc_json_len(tools);
  } else if (tools && type_of(tools) != ORC_JSON_NULL) {
    snprintf(why, n, "tools is %s, not an array",
             orc_json_type_name(type_of(tools)));
    return -1;
  }
  v = orc_json_object_find(body, "max_tokens", 10);
  if (v && type_of(v) == ORC_JSON_INT) c->max_tokens = orc_json_int_value(v);
  v = orc_json_object_find(body, "temperature", 11);
  c->temperature =
      v && (type_of(v) == ORC_JSON_INT || type_of(v) == ORC_JSON_FLOAT)
          ? orc_json_number(v)
          : -1;
  return 0;
}

/* The conversation as a scripted model's task sees it: {"messages" (the
** agents' transcript shape, which is Anthropic's), "tools" [{name,
** description, schema}], "instructions", "model_id", "max_tokens"}. */
static orc_json *scripted_input(const orci_llm_conversation *c,
                                const char *model_id) {
  orc_json *msgs = orc_json_array_new(c->nmessages), *tools;
  size_t i, j;
  if (msgs == NULL) return NULL;
  for (i = 0; i < c->nmessages; i++) {
    const orci_llm_message *m = &c->messages[i];
    orc_json *content = orc_json_array_new(m->nparts);
    if (content == NULL) break;
    for (j = 0; j < m->nparts; j++) {
      const orci_llm_part *p = &m->parts[j];
      orc_json *b;
      if (p->type == ORCI_LLM_TEXT)
        b = obj(2, "type", jstr("text"), "text", jstr(p->text));
      else if (p->type == ORCI_LLM_TOOL_USE)
        b = obj(4, "type", jstr("tool_use"), "id", jstr(p->id), "name",
                jstr(p->name), "input", cref(p->input));
      else
        b = obj(4, "type", jstr("tool_result"), "tool_use_id", jstr(p->id),
                "content", cref(p->result), "is_error",
                p->is_error ? orc_json_bool(1) : NULL);
      orc_json_array_set(content, j, b);
    }
    orc_json_array_set(
        msgs, i,
        obj(2, "role",
            jstr(m->role == ORCI_LLM_ASSISTANT ? "assistant" : "user"),
            "content", content));
  }
  tools = orc_json_array_new(c->ntools);
  for (i = 0; tools && i < c->ntools; i++)
    orc_json_array_set(
        tools, i,
        obj(3, "name", jstr(c->tools[i].name), "description",
            c->tools[i].description ? jstr(c->tools[i].description) : NULL,
            "schema",
            c->tools[i].schema ? cref(c->tools[i].schema)
                               : obj(1, "type", jstr("object"))));
  return obj(5, "messages", msgs, "tools", tools, "instructions",
             c->system ? jstr(c->system) : NULL, "model_id", jstr(model_id),
             "max_tokens",
             c->max_tokens > 0 ? orc_json_int(c->max_tokens) : NULL);
}

/* A scripted model's turn {text, tool_calls = [{id, name, arguments}],
** stop_reason, usage} read into t. Returns 0, or -1 with why. */
static int read_turn(const orc_json *v, orci_llm_turn *t, char *why, size_t n) {
  const orc_json *calls = v ? orc_json_object_find(v, "tool_calls", 10) : NULL;
  const orc_json *u = v ? orc_json_object_find(v, "usage", 5) : NULL;
  const char *stop = v ? field_str(v, "stop_reason") : NULL;
  static const char *const usage_keys[4] = {"input_tokens", "output_tokens",
                                            "cache_read_tokens",
                                            "cache_write_tokens"};
  int64_t *usage[4];
  size_t i;
  memset(t, 0, sizeof *t);
  t->usage.input_tokens = t->usage.output_tokens = -1;
  t->usage.cache_read_tokens = t->usage.cache_write_tokens = -1;
  if (type_of(v) != ORC_JSON_OBJECT) {
    snprintf(why, n, "the model's turn is %s, not an object",
             orc_json_type_name(type_of(v)));
    return -1;
  }
  if (field_str(v, "text") && (t->text = strdup(field_str(v, "text"))) == NULL)
    goto nomem;
  if (calls && type_of(calls) == ORC_JSON_ARRAY && orc_json_len(calls) > 0) {
    t->calls =
        (orci_llm_tool_call *)calloc(orc_json_len(calls), sizeof *t->calls);
    if (t->calls == NULL) goto nomem;
    for (i = 0; i < orc_json_len(calls); i++) {
      const orc_json *c = orc_json_array_get(calls, i);
      const orc_json *args = orc_json_object_find(c, "arguments", 9);
      char id[32];
      if (field_str(c, "name") == NULL) {
        snprintf(why, n, "tool_calls[%zu] has no name", i);
        return -1;
      }
      if (args && type_of(args) != ORC_JSON_OBJECT) {
        snprintf(why, n, "tool_calls[%zu].arguments is %s, not an object", i,
                 orc_json_type_name(type_of(args)));
        return -1;
      }
      snprintf(id, sizeof id, "toolu_%zu", i + 1);
      t->calls[i].id = strdup(field_str(c, "id") ? field_str(c, "id") : id);
      t->calls[i].name = strdup(field_str(c, "name"));
      t->calls[i].arguments = args ? cref(args) : orc_json_object_new(0);
      t->ncalls = i + 1;
      if (!t->calls[i].id || !t->calls[i].name || !t->calls[i].arguments)
        goto nomem;
    }
  }
  t->stop = t->ncalls ? ORCI_LLM_STOP_TOOL_USE : ORCI_LLM_STOP_END_TURN;
  if (stop) {
    if (!strcmp(stop, "max_tokens"))
      t->stop = ORCI_LLM_STOP_MAX_TOKENS;
    else if (!strcmp(stop, "stop_sequence"))
      t->stop = ORCI_LLM_STOP_STOP_SEQUENCE;
    else if (!strcmp(stop, "content_filter") || !strcmp(stop, "refusal"))
      t->stop = ORCI_LLM_STOP_CONTENT_FILTER;
  }
  usage[0] = &t->usage.input_tokens;
  usage[1] = &t->usage.output_tokens;
  usage[2] = &t->usage.cache_read_tokens;
  usage[3] = &t->usage.cache_write_tokens;
  for (i = 0; i < 4; i++) {
    const orc_json *x =
        u ? orc_json_object_find(u, usage_keys[i], strlen(usage_keys[i]))
          : NULL;
    if (x && (type_of(x) == ORC_JSON_INT || type_of(x) == ORC_JSON_FLOAT))
      *usage[i] = (int64_t)orc_json_number(x);
  }
  return 0;
nomem:
  snprintf(why, n, "out of memory");
  return -1;
}

/* A turn as Anthropic's native response body; NULL with why when it
** cannot be (a tool call whose arguments were not an object). */
static orc_json *write_anthropic(orc_engine *E, const orci_llm_turn *t,
                                 const char *model_id, char *why, size_t n) {
  static const char *const stops[] = {"end_turn",      "tool_use", "max_tokens",
                                      "stop_sequence", "refusal",  "end_turn"};
  int has_text = t->text && t->text[0];
  orc_json *content = orc_json_array_new((has_text ? 1 : 0) + t->ncalls);
  char id[48];
  size_t i, k = 0;
  const char *stop = stops[t->stop];
  if (content == NULL) {
    snprintf(why, n, "out of memory");
    return NULL;
  }
  if (has_text)
    orc_json_array_set(content, k++,
                       obj(2, "type", jstr("text"), "text", jstr(t->text)));
  for (i = 0; i < t->ncalls; i++) {
    if (t->calls[i].arguments == NULL ||
        type_of(t->calls[i].arguments) != ORC_JSON_OBJECT) {
      orc_json_unref(content);
      snprintf(why, n,
               "the model called '%s' with arguments that are not a JSON "
               "object: %.200s",
               t->calls[i].name ? t->calls[i].name : "?",
               t->calls[i].arguments_text ? t->calls[i].arguments_text : "");
      return NULL;
    }
    orc_json_array_set(content, k++,
                       obj(4, "type", jstr("tool_use"), "id",
                           jstr(t->calls[i].id), "name", jstr(t->calls[i].name),
                           "input", orc_json_ref(t->calls[i].arguments)));
  }
  if (t->ncalls && t->stop == ORCI_LLM_STOP_END_TURN) stop = "tool_use";
  if (t->id && strncmp(t->id, "msg_", 4) == 0) {
    snprintf(id, sizeof id, "%.40s", t->id);
  } else {
    char uuid[40];
    size_t a, b = 4;
    orci_make_uuid(E, uuid);
    memcpy(id, "msg_", 4);
    for (a = 0; uuid[a] && b < 28; a++)
      if (uuid[a] != '-') id[b++] = uuid[a];
    id[b] = '\0';
  }
  return obj(
      8, "id", jstr(id), "type", jstr("message"), "role", jstr("assistant"),
      "model", jstr(model_id), "content", content, "stop_reason", jstr(stop),
      "stop_sequence", orc_json_null(), "usage",
      obj(4, "input_tokens",
          orc_json_int(t->usage.input_tokens > 0 ? t->usage.input_tokens : 0),
          "output_tokens",
          orc_json_int(t->usage.output_tokens > 0 ? t->usage.output_tokens : 0),
          "cache_creation_input_tokens",
          orc_json_int(t->usage.cache_write_tokens > 0
                           ? t->usage.cache_write_tokens
                           : 0),
          "cache_read_input_tokens",
          orc_json_int(t->usage.cache_read_tokens > 0
                           ? t->usage.cache_read_tokens
                           : 0)));
}

/* }====== */

/* {====== answers */

/* Answer T with turn t written in the native format. */
static void answer_turn(orc_engine *E, orc_task *T, const orci_route *r,
                        const char *model_id, const orci_llm_turn *t) {
  static const char *const keys[] = {"Body", "ContentType"};
  orc_json *v[2];
  char why[512];
  if ((v[0] = write_anthropic(E, t, model_id, why, sizeof why)) == NULL) {
    fail(T, "States.TaskFailed",
         "bedrock:invokeModel: the answer of %s for model '%s' cannot be "
         "written as its native response: %s",
         r->label, model_id, why);
    return;
  }
  v[1] = orci_skey("application/json");
  orci_task_complete(T, 1, orci_obj_of(2, keys, v), NULL, NULL, NULL);
}

/* The Bedrock exception a workflow written for AWS catches for an HTTP
** failure of a routed provider. */
static const char *bedrock_error(const orci_llm_error *e) {
  if (e->status == 429 || strstr(e->type, "rate_limit"))
    return "Bedrock.ThrottlingException";
  if (e->status == 400 || e->status == 413 || e->status == 422)
    return "Bedrock.ValidationException";
  if (e->status == 401 || e->status == 403)
    return "Bedrock.AccessDeniedException";
  if (e->status == 404) return "Bedrock.ResourceNotFoundException";
  if (e->status == 503 || e->status == 529)
    return "Bedrock.ServiceUnavailableException";
  if (e->status >= 500) return "Bedrock.InternalServerException";
  return "States.TaskFailed"; /* no response: refused, dropped, timed out */
}

static void http_answered(void *ud, const orci_http_response *res) {
  rcall *c = (rcall *)ud;
  orci_routes *R = (orci_routes *)orci_bedrock_routes(c->E);
  orc_task *T = c->T;
  orci_llm_turn t;
  orci_llm_error e;
  c->http_id = 0;
  if (!orc_task_is_done(T)) {
    if (orci_llm_parse(c->r->P, res, (double)time(NULL), &t, &e) == ORC_OK) {
      answer_turn(c->E, T, c->r, c->model_id, &t);
      orci_llm_turn_free(&t);
    } else {
      fail(T, bedrock_error(&e), "bedrock:invokeModel: %s for model '%s': %s",
           c->r->label, c->model_id, e.message);
    }
  }
  rcall_free(R, c);
}

static void sub_done(void *data, orc_task *S, int ok, orc_json *output,
                     const char *error, const char *cause);
/* What the host's scripted model sees as ctx: the invokeModel task's
** execution and state, its ModelId and the route's prefix. */
static orc_json *sub_context(void *data, const orc_task *S) {
  rcall *c = (rcall *)data;
  orc_execution *X = c->T->X;
  return obj(5, "Task", obj(1, "Token", jstr(S->token)), "Execution",
             obj(2, "Id", jstr(X->arn), "Name", jstr(X->name)), "State",
             obj(1, "Name", jstr(c->T->state_name)), "ModelId",
             jstr(c->model_id), "Route", jstr(c->r->prefix));
}
static const orci_task_owner sub_owner = {sub_done, sub_context};

static void sub_done(void *data, orc_task *S, int ok, orc_json *output,
                     const char *error, const char *cause) {
  rcall *c = (rcall *)data;
  orci_routes *R = (orci_routes *)orci_bedrock_routes(c->E);
  orc_task *T = c->T;
  (void)S;
  if (T->sub == S) T->sub = NULL;
  if (ok >= 0 && !orc_task_is_done(T)) {
    if (ok) {
      orci_llm_turn t;
      char why[512];
      if (read_turn(output, &t, why, sizeof why) == 0)
        answer_turn(c->E, T, c->r, c->model_id, &t);
      else
        fail(T, "States.TaskFailed",
             "bedrock:invokeModel: %s for model '%s' gave a bad turn: %s",
             c->r->label, c->model_id, why);
      orci_llm_turn_free(&t);
    } else {
      orci_task_complete(T, 0, NULL, error ? error : "States.TaskFailed", cause,
                         NULL);
    }
  }
  orc_json_unref(output);
  rcall_free(R, c);
}

/* }====== */

int orci_route_invoke(orc_engine *E, const orci_route *r, orc_task *T,
                      const char *model_id, const orc_json *body) {
  orci_routes *R = (orci_routes *)orci_bedrock_routes(E);
  orci_llm_conversation conv;
  conv_store store;
  char why[512];
  rcall *c;
  memset(&store, 0, sizeof store);
  if (!is_anthropic(model_id)) {
    fail(T, "States.TaskFailed",
         "bedrock:invokeModel: the Body of model '%s' cannot be mapped to %s: "
         "orchestra maps the Anthropic Messages format (anthropic.* model "
         "ids); route other models to orchestra.models.bedrock, which sends "
         "the Body unchanged",
         model_id, r->label);
    return ORC_OK;
  }
  if (read_anthropic(body, &conv, &store, why, sizeof why) != 0) {
    store_free(&store);
    fail(T, "States.TaskFailed",
         "bedrock:invokeModel: the Body of model '%s' cannot be mapped to %s: "
         "%s",
         model_id, r->label, why);
    return ORC_OK;
  }
  c = (rcall *)calloc(1, sizeof *c);
  if (c == NULL || (c->model_id = strdup(model_id)) == NULL) {
    free(c);
    store_free(&store);
    return ORC_ENOMEM;
  }
  c->E = E;
  c->T = T;
  c->r = r;
  orc_task_retain(T);
  c->next = R->calls;
  if (R->calls) R->calls->prev = c;
  R->calls = c;
  if (r->kind == ORC_MODEL_SCRIPTED) {
    orc_task *S = NULL;
    orc_json *input = scripted_input(&conv, model_id);
    store_free(&store);
    if (input == NULL) {
      rcall_free(R, c);
      return ORC_ENOMEM;
    }
    /* the host's scripted model answers a task of its own; sub_done writes
    ** its turn back as T's answer (or the call runs before this returns) */
    if (orci_task_launch(T->X, r->resource, T->state_name, input, &sub_owner, c,
                         &S) != ORC_OK) {
      rcall_free(R, c);
      return ORC_ENOMEM;
    }
    if (S) T->sub = S;
    return ORC_OK;
  } else {
    orci_llm_http req;
    orci_http_req hr;
    orc_error err;
    orci_http *h = orci_engine_http(E, &err);
    int rc = h ? orci_llm_build(r->P, &conv, (int64_t)time(NULL), &req, &err)
               : err.code;
    store_free(&store);
    if (rc == ORC_OK) {
      orci_llm_http_as_req(&req, r->timeout_ms, &hr);
      c->http_id = orci_http_request(h, &hr, http_answered, c, &err);
      orci_llm_http_free(&req);
      if (c->http_id) return ORC_OK;
    }
    fail(T, "States.TaskFailed",
         "bedrock:invokeModel: %s for model '%s' cannot be called: %s",
         r->label, model_id, err.message);
    rcall_free(R, c);
    return ORC_OK;
  }
}
