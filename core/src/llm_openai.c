/*
** OpenAI-compatible Chat Completions (also llama.cpp server, vLLM, Ollama).
*/
#include <stdio.h>
#include <string.h>

#include "llm_wire_int.h"

static void number(orci_buf *b, double d) {
  char buf[40];
  orci_buf_add(b, buf, orc_json_format_double(d, buf));
}

static void integer(orci_buf *b, int64_t i) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)i);
  orci_buf_add(b, buf, (size_t)n);
}

/* The text parts of m joined with "\n" as one JSON string, or null. */
static void joined_text(orci_buf *b, const orci_llm_message *m) {
  orci_buf text = {0};
  size_t k;
  int any = 0;
  for (k = 0; k < m->nparts; k++)
    if (m->parts[k].type == ORCI_LLM_TEXT) {
      if (any) orci_buf_addc(&text, '\n');
      orci_buf_adds(&text, m->parts[k].text);
      any = 1;
    }
  if (text.failed) b->failed = 1;
  if (any)
    orci_json_write_string(b, text.p ? text.p : "", text.len);
  else
    orci_buf_adds(b, "null");
  orci_buf_free(&text);
}

int orci_llm_openai_body(const orci_llm_provider *P,
                         const orci_llm_conversation *c, orci_buf *b,
                         orc_error *err) {
  size_t i, k;
  int first = 1;
  (void)err;
  orci_buf_addc(b, '{');
  orci_llm_key(b, "model");
  orci_llm_str(b, P->model);
  orci_buf_addc(b, ',');
  orci_llm_key(b, "messages");
  orci_buf_addc(b, '[');
#define SEP() (first ? (void)(first = 0) : orci_buf_addc(b, ','))
  if (c->system) {
    SEP();
    orci_buf_adds(b, "{\"role\":\"system\",\"content\":");
    orci_llm_str(b, c->system);
    orci_buf_addc(b, '}');
  }
  for (i = 0; i < c->nmessages; i++) {
    const orci_llm_message *m = &c->messages[i];
    size_t ntext = 0, nuse = 0;
    for (k = 0; k < m->nparts; k++) {
      ntext += m->parts[k].type == ORCI_LLM_TEXT;
      nuse += m->parts[k].type == ORCI_LLM_TOOL_USE;
    }
    if (m->role == ORCI_LLM_ASSISTANT) {
      int firstcall = 1;
      SEP();
      orci_buf_adds(b, "{\"role\":\"assistant\",\"content\":");
      joined_text(b, m);
      if (nuse) {
        orci_buf_adds(b, ",\"tool_calls\":[");
        for (k = 0; k < m->nparts; k++) {
          const orci_llm_part *p = &m->parts[k];
          if (p->type != ORCI_LLM_TOOL_USE) continue;
          if (!firstcall) orci_buf_addc(b, ',');
          firstcall = 0;
          orci_buf_adds(b, "{\"id\":");
          orci_llm_str(b, p->id);
          orci_buf_adds(b, ",\"type\":\"function\",\"function\":{\"name\":");
          orci_llm_str(b, p->name);
          orci_buf_adds(b, ",\"arguments\":");
          if (p->input_text)
            orci_llm_str(b, p->input_text);
          else if (p->input)
            orci_llm_result_text(b, p->input);
          else
            orci_llm_str(b, "{}");
          orci_buf_adds(b, "}}");
        }
        orci_buf_addc(b, ']');
      }
      orci_buf_addc(b, '}');
      continue;
    }
    /* a user turn: each tool result is a "tool" message of its own, and
    ** they come right after the assistant's calls, before any text */
    for (k = 0; k < m->nparts; k++) {
      const orci_llm_part *p = &m->parts[k];
      if (p->type != ORCI_LLM_TOOL_RESULT) continue;
      SEP();
      orci_buf_adds(b, "{\"role\":\"tool\",\"tool_call_id\":");
      orci_llm_str(b, p->id);
      orci_buf_adds(b, ",\"content\":");
      orci_llm_result_text(b, p->result);
      orci_buf_addc(b, '}');
    }
    if (ntext) {
      SEP();
      orci_buf_adds(b, "{\"role\":\"user\",\"content\":");
      joined_text(b, m);
      orci_buf_addc(b, '}');
    }
  }
#undef SEP
  orci_buf_addc(b, ']');
  if (c->ntools) {
    orci_buf_adds(b, ",\"tools\":[");
    for (i = 0; i < c->ntools; i++) {
      if (i) orci_buf_addc(b, ',');
      orci_buf_adds(b, "{\"type\":\"function\",\"function\":{\"name\":");
      orci_llm_str(b, c->tools[i].name);
      if (c->tools[i].description) {
        orci_buf_adds(b, ",\"description\":");
        orci_llm_str(b, c->tools[i].description);
      }
      orci_buf_adds(b, ",\"parameters\":");
      orci_llm_schema(b, c->tools[i].schema);
      orci_buf_adds(b, "}}");
    }
    orci_buf_addc(b, ']');
  }
  if (c->max_tokens > 0) {
    orci_buf_adds(b, ",\"max_tokens\":");
    integer(b, c->max_tokens);
  }
  if (c->temperature >= 0) {
    orci_buf_adds(b, ",\"temperature\":");
    number(b, c->temperature);
  }
  orci_buf_addc(b, '}');
  return ORC_OK;
}

/* Arguments text into an object: "" and blanks mean no arguments. */
static orc_json *parse_arguments(const char *s, size_t n) {
  orc_json *v = NULL;
  size_t i;
  for (i = 0; i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t'); i++)
    ;
  if (i == n) return orc_json_object_new(0);
  if (orc_json_parse(s, n, NULL, &v, NULL) != ORC_OK) return NULL;
  if (orc_json_type_of(v) != ORC_JSON_OBJECT) {
    orc_json_unref(v);
    return NULL;
  }
  return v;
}

int orci_llm_openai_turn(const orc_json *body, orci_llm_turn *t,
                         orci_llm_error *e) {
  const orc_json *choices = orci_llm_jget(body, "choices", ORC_JSON_ARRAY);
  const orc_json *choice, *msg, *content, *calls, *usage;
  const char *finish;
  size_t i;
  if (choices == NULL || orc_json_len(choices) == 0) {
    const char *m = NULL;
    if (orc_json_object_find(body, "error", 5) != NULL) {
      orci_llm_openai_error(body, e, &m);
      return orci_llm_malformed(e, "an error in a 2xx response: %s",
                                m ? m : "(no message)");
    }
    return orci_llm_malformed(e, "the response has no choices");
  }
  choice = orc_json_array_get(choices, 0);
  msg = orci_llm_jget(choice, "message", ORC_JSON_OBJECT);
  if (msg == NULL) return orci_llm_malformed(e, "choices[0] has no message");
  content = orc_json_object_find(msg, "content", 7);
  if (content && orc_json_type_of(content) == ORC_JSON_STRING) {
    size_t n;
    const char *s = orc_json_string_value(content, &n);
    if (orci_llm_turn_add_text(t, s, n)) goto nomem;
  } else if (content && orc_json_type_of(content) == ORC_JSON_ARRAY) {
    for (i = 0; i < orc_json_len(content); i++) {
      const orc_json *part = orc_json_array_get(content, i);
      const orc_json *text = orci_llm_jget(part, "text", ORC_JSON_STRING);
      size_t n;
      const char *s;
      if (text == NULL) continue;
      s = orc_json_string_value(text, &n);
      if (orci_llm_turn_add_text(t, s, n)) goto nomem;
    }
  }
  calls = orci_llm_jget(msg, "tool_calls", ORC_JSON_ARRAY);
  for (i = 0; calls && i < orc_json_len(calls); i++) {
    const orc_json *call = orc_json_array_get(calls, i);
    const orc_json *fn = orci_llm_jget(call, "function", ORC_JSON_OBJECT);
    orc_json *args = fn ? orc_json_object_find(fn, "arguments", 9) : NULL;
    const char *name = orci_llm_jstr(fn, "name");
    orc_json *parsed = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc;
    if (name == NULL)
      return orci_llm_malformed(e, "tool_calls[%zu] has no function name", i);
    if (args && orc_json_type_of(args) == ORC_JSON_STRING) {
      const char *s = orc_json_string_value(args, &n);
      parsed = parse_arguments(s, n);
      rc = orci_llm_turn_add_call(t, orci_llm_jstr(call, "id"), name, parsed, s,
                                  n);
    } else if (args && orc_json_type_of(args) == ORC_JSON_OBJECT) {
      /* some compatible servers send an object: accept it */
      text = orc_json_print(args, 0, &n);
      if (text == NULL) goto nomem;
      rc = orci_llm_turn_add_call(t, orci_llm_jstr(call, "id"), name,
                                  orc_json_ref(args), text, n);
      orc_free(text);
    } else {
      rc = orci_llm_turn_add_call(t, orci_llm_jstr(call, "id"), name,
                                  orc_json_object_new(0), "{}", 2);
    }
    if (rc) goto nomem;
  }
  finish = orci_llm_jstr(choice, "finish_reason");
  if (orci_llm_turn_set_stop(t, finish)) goto nomem;
  usage = orci_llm_jget(body, "usage", ORC_JSON_OBJECT);
  t->usage.input_tokens = t->usage.output_tokens = -1;
  t->usage.cache_read_tokens = t->usage.cache_write_tokens = -1;
  if (usage) {
    int64_t prompt = orci_llm_jcount(usage, "prompt_tokens");
    int64_t cached = orci_llm_jcount(
        orci_llm_jget(usage, "prompt_tokens_details", ORC_JSON_OBJECT),
        "cached_tokens");
    if (cached < 0) cached = 0;
    t->usage.input_tokens = prompt >= cached ? prompt - cached : prompt;
    t->usage.output_tokens = orci_llm_jcount(usage, "completion_tokens");
    t->usage.cache_read_tokens = cached;
    t->usage.cache_write_tokens = 0;
  }
  t->model = orci_llm_strdup(orci_llm_jstr(body, "model"));
  t->id = orci_llm_strdup(orci_llm_jstr(body, "id"));
  return ORC_OK;
nomem:
  return orci_llm_malformed(e, "out of memory reading the response");
}

void orci_llm_openai_error(const orc_json *body, orci_llm_error *e,
                           const char **msg) {
  const orc_json *err = orc_json_object_find(body, "error", 5);
  const orc_json *where = body, *code;
  const char *type;
  if (err && orc_json_type_of(err) == ORC_JSON_STRING) { /* Ollama */
    *msg = orc_json_string_value(err, NULL);
    return;
  }
  if (err && orc_json_type_of(err) == ORC_JSON_OBJECT) where = err;
  *msg = orci_llm_jstr(where, "message");
  /* OpenAI's code ("rate_limit_exceeded", "insufficient_quota") says more
  ** than its type; vLLM's code is the HTTP status, an integer */
  code = orc_json_object_find(where, "code", 4);
  type = code && orc_json_type_of(code) == ORC_JSON_STRING
             ? orc_json_string_value(code, NULL)
             : orci_llm_jstr(where, "type");
  if (type) snprintf(e->type, sizeof e->type, "%s", type);
}
