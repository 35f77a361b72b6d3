/*
** Anthropic Messages.
*/
#include <stdio.h>
#include <string.h>

#include "llm_wire_int.h"

#define DEFAULT_MAX_TOKENS 4096 /* the API requires max_tokens */

int orci_llm_anthropic_body(const orci_llm_provider *P,
                            const orci_llm_conversation *c, orci_buf *b,
                            orc_error *err) {
  size_t i, k;
  char num[40];
  (void)err;
  orci_buf_addc(b, '{');
  orci_llm_key(b, "model");
  orci_llm_str(b, P->model);
  snprintf(num, sizeof num, ",\"max_tokens\":%lld",
           (long long)(c->max_tokens > 0 ? c->max_tokens : DEFAULT_MAX_TOKENS));
  orci_buf_adds(b, num);
  if (c->system) {
    orci_buf_addc(b, ',');
    orci_llm_key(b, "system");
    orci_llm_str(b, c->system);
  }
  orci_buf_adds(b, ",\"messages\":[");
  for (i = 0; i < c->nmessages; i++) {
    const orci_llm_message *m = &c->messages[i];
    int first = 1, pass;
    if (i) orci_buf_addc(b, ',');
    orci_buf_adds(b, m->role == ORCI_LLM_ASSISTANT
                         ? "{\"role\":\"assistant\",\"content\":["
                         : "{\"role\":\"user\",\"content\":[");
    /* in a user turn, tool results come before any text (pass 0) */
    for (pass = 0; pass < 2; pass++)
      for (k = 0; k < m->nparts; k++) {
        const orci_llm_part *p = &m->parts[k];
        int result = p->type == ORCI_LLM_TOOL_RESULT;
        if (m->role == ORCI_LLM_USER ? result != (pass == 0) : pass == 1)
          continue;
        if (p->type == ORCI_LLM_TEXT && p->text[0] == '\0')
          continue; /* the API rejects empty text blocks */
        if (!first) orci_buf_addc(b, ',');
        first = 0;
        if (p->type == ORCI_LLM_TEXT) {
          orci_buf_adds(b, "{\"type\":\"text\",\"text\":");
          orci_llm_str(b, p->text);
        } else if (p->type == ORCI_LLM_TOOL_USE) {
          orci_buf_adds(b, "{\"type\":\"tool_use\",\"id\":");
          orci_llm_str(b, p->id);
          orci_buf_adds(b, ",\"name\":");
          orci_llm_str(b, p->name);
          orci_buf_adds(b, ",\"input\":");
          if (p->input && orc_json_type_of(p->input) == ORC_JSON_OBJECT)
            orci_json_write(b, p->input, 0);
          else
            orci_buf_adds(b, "{}");
        } else {
          orci_buf_adds(b, "{\"type\":\"tool_result\",\"tool_use_id\":");
          orci_llm_str(b, p->id);
          orci_buf_adds(b, ",\"content\":");
          orci_llm_result_text(b, p->result);
          if (p->is_error) orci_buf_adds(b, ",\"is_error\":true");
        }
        orci_buf_addc(b, '}');
      }
    orci_buf_adds(b, "]}");
  }
  orci_buf_addc(b, ']');
  if (c->ntools) {
    orci_buf_adds(b, ",\"tools\":[");
    for (i = 0; i < c->ntools; i++) {
      if (i) orci_buf_addc(b, ',');
      orci_buf_adds(b, "{\"name\":");
      orci_llm_str(b, c->tools[i].name);
      if (c->tools[i].description) {
        orci_buf_adds(b, ",\"description\":");
        orci_llm_str(b, c->tools[i].description);
      }
      orci_buf_adds(b, ",\"input_schema\":");
      orci_llm_schema(b, c->tools[i].schema);
      orci_buf_addc(b, '}');
    }
    orci_buf_addc(b, ']');
  }
  if (c->temperature >= 0) {
    orci_buf_adds(b, ",\"temperature\":");
    orci_buf_add(b, num, orc_json_format_double(c->temperature, num));
  }
  orci_buf_addc(b, '}');
  return ORC_OK;
}

int orci_llm_anthropic_turn(const orc_json *body, orci_llm_turn *t,
                            orci_llm_error *e) {
  const orc_json *content = orci_llm_jget(body, "content", ORC_JSON_ARRAY);
  const orc_json *usage;
  size_t i;
  const char *type = orci_llm_jstr(body, "type");
  if (type && strcmp(type, "error") == 0) {
    const char *m = NULL;
    orci_llm_anthropic_error(body, e, &m);
    return orci_llm_malformed(e, "an error in a 2xx response: %s",
                              m ? m : "(no message)");
  }
  if (content == NULL)
    return orci_llm_malformed(e, "the response has no content list");
  for (i = 0; i < orc_json_len(content); i++) {
    const orc_json *block = orc_json_array_get(content, i);
    const char *bt = orci_llm_jstr(block, "type");
    if (bt == NULL) continue;
    if (strcmp(bt, "text") == 0) {
      const orc_json *text = orci_llm_jget(block, "text", ORC_JSON_STRING);
      size_t n;
      const char *s = text ? orc_json_string_value(text, &n) : NULL;
      if (s && orci_llm_turn_add_text(t, s, n)) goto nomem;
    } else if (strcmp(bt, "tool_use") == 0) {
      orc_json *input = orci_llm_jget(block, "input", ORC_JSON_OBJECT);
      const char *name = orci_llm_jstr(block, "name");
      char *text;
      size_t n = 0;
      int rc;
      if (name == NULL || input == NULL)
        return orci_llm_malformed(
            e, "content[%zu]: a tool_use block needs a name and an input", i);
      text = orc_json_print(input, 0, &n);
      if (text == NULL) goto nomem;
      rc = orci_llm_turn_add_call(t, orci_llm_jstr(block, "id"), name,
                                  orc_json_ref(input), text, n);
      orc_free(text);
      if (rc) goto nomem;
    } /* thinking and server-tool blocks are not ours to read */
  }
  if (orci_llm_turn_set_stop(t, orci_llm_jstr(body, "stop_reason"))) goto nomem;
  usage = orci_llm_jget(body, "usage", ORC_JSON_OBJECT);
  t->usage.input_tokens = orci_llm_jcount(usage, "input_tokens");
  t->usage.output_tokens = orci_llm_jcount(usage, "output_tokens");
  t->usage.cache_read_tokens =
      orci_llm_jcount(usage, "cache_read_input_tokens");
  t->usage.cache_write_tokens =
      orci_llm_jcount(usage, "cache_creation_input_tokens");
  if (usage && t->usage.cache_read_tokens < 0) t->usage.cache_read_tokens = 0;
  if (usage && t->usage.cache_write_tokens < 0) t->usage.cache_write_tokens = 0;
  t->model = orci_llm_strdup(orci_llm_jstr(body, "model"));
  t->id = orci_llm_strdup(orci_llm_jstr(body, "id"));
  return ORC_OK;
nomem:
  return orci_llm_malformed(e, "out of memory reading the response");
}

void orci_llm_anthropic_error(const orc_json *body, orci_llm_error *e,
                              const char **msg) {
  const orc_json *err = orci_llm_jget(body, "error", ORC_JSON_OBJECT);
  const char *type = orci_llm_jstr(err, "type");
  *msg = orci_llm_jstr(err, "message");
  if (type) snprintf(e->type, sizeof e->type, "%s", type);
}
