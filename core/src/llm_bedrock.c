/*
** Amazon Bedrock Converse (restJson1; signed in llm.c with sigv4.c).
*/
#include <stdio.h>
#include <string.h>

#include "llm_wire_int.h"

int orci_llm_bedrock_body(const orci_llm_provider *P,
                          const orci_llm_conversation *c, orci_buf *b,
                          orc_error *err) {
  size_t i, k;
  char num[40];
  (void)P;
  (void)err;
  orci_buf_adds(b, "{\"messages\":[");
  for (i = 0; i < c->nmessages; i++) {
    const orci_llm_message *m = &c->messages[i];
    int first = 1, pass;
    if (i) orci_buf_addc(b, ',');
    orci_buf_adds(b, m->role == ORCI_LLM_ASSISTANT
                         ? "{\"role\":\"assistant\",\"content\":["
                         : "{\"role\":\"user\",\"content\":[");
    for (pass = 0; pass < 2; pass++)
      for (k = 0; k < m->nparts; k++) {
        const orci_llm_part *p = &m->parts[k];
        int result = p->type == ORCI_LLM_TOOL_RESULT;
        if (m->role == ORCI_LLM_USER ? result != (pass == 0) : pass == 1)
          continue;
        if (p->type == ORCI_LLM_TEXT && p->text[0] == '\0')
          continue; /* Converse rejects blank text blocks */
        if (!first) orci_buf_addc(b, ',');
        first = 0;
        if (p->type == ORCI_LLM_TEXT) {
          orci_buf_adds(b, "{\"text\":");
          orci_llm_str(b, p->text);
          orci_buf_addc(b, '}');
        } else if (p->type == ORCI_LLM_TOOL_USE) {
          orci_buf_adds(b, "{\"toolUse\":{\"toolUseId\":");
          orci_llm_str(b, p->id);
          orci_buf_adds(b, ",\"name\":");
          orci_llm_str(b, p->name);
          orci_buf_adds(b, ",\"input\":");
          if (p->input && orc_json_type_of(p->input) == ORC_JSON_OBJECT)
            orci_json_write(b, p->input, 0);
          else
            orci_buf_adds(b, "{}");
          orci_buf_adds(b, "}}");
        } else {
          /* objects go as a json block; anything else as text */
          orci_buf_adds(b, "{\"toolResult\":{\"toolUseId\":");
          orci_llm_str(b, p->id);
          if (p->result && orc_json_type_of(p->result) == ORC_JSON_OBJECT) {
            orci_buf_adds(b, ",\"content\":[{\"json\":");
            orci_json_write(b, p->result, 0);
          } else {
            orci_buf_adds(b, ",\"content\":[{\"text\":");
            orci_llm_result_text(b, p->result);
          }
          orci_buf_adds(b, p->is_error ? "}],\"status\":\"error\"}}"
                                       : "}],\"status\":\"success\"}}");
        }
      }
    orci_buf_adds(b, "]}");
  }
  orci_buf_addc(b, ']');
  if (c->system) {
    orci_buf_adds(b, ",\"system\":[{\"text\":");
    orci_llm_str(b, c->system);
    orci_buf_adds(b, "}]");
  }
  if (c->max_tokens > 0 || c->temperature >= 0) {
    const char *sep = "";
    orci_buf_adds(b, ",\"inferenceConfig\":{");
    if (c->max_tokens > 0) {
      snprintf(num, sizeof num, "\"maxTokens\":%lld", (long long)c->max_tokens);
      orci_buf_adds(b, num);
      sep = ",";
    }
    if (c->temperature >= 0) {
      orci_buf_adds(b, sep);
      orci_buf_adds(b, "\"temperature\":");
      orci_buf_add(b, num, orc_json_format_double(c->temperature, num));
    }
    orci_buf_addc(b, '}');
  }
  if (c->ntools) {
    orci_buf_adds(b, ",\"toolConfig\":{\"tools\":[");
    for (i = 0; i < c->ntools; i++) {
      if (i) orci_buf_addc(b, ',');
      orci_buf_adds(b, "{\"toolSpec\":{\"name\":");
      orci_llm_str(b, c->tools[i].name);
      if (c->tools[i].description) {
        orci_buf_adds(b, ",\"description\":");
        orci_llm_str(b, c->tools[i].description);
      }
      orci_buf_adds(b, ",\"inputSchema\":{\"json\":");
      orci_llm_schema(b, c->tools[i].schema);
      orci_buf_adds(b, "}}}");
    }
    orci_buf_adds(b, "]}");
  }
  orci_buf_addc(b, '}');
  return ORC_OK;
}

int orci_llm_bedrock_turn(const orc_json *body, orci_llm_turn *t,
                          orci_llm_error *e) {
  const orc_json *output = orci_llm_jget(body, "output", ORC_JSON_OBJECT);
  const orc_json *msg = orci_llm_jget(output, "message", ORC_JSON_OBJECT);
  const orc_json *content = orci_llm_jget(msg, "content", ORC_JSON_ARRAY);
  const orc_json *usage;
  size_t i;
  if (content == NULL)
    return orci_llm_malformed(e, "the response has no output.message.content");
  for (i = 0; i < orc_json_len(content); i++) {
    const orc_json *block = orc_json_array_get(content, i);
    const orc_json *text = orci_llm_jget(block, "text", ORC_JSON_STRING);
    const orc_json *use = orci_llm_jget(block, "toolUse", ORC_JSON_OBJECT);
    if (text) {
      size_t n;
      const char *s = orc_json_string_value(text, &n);
      if (orci_llm_turn_add_text(t, s, n)) goto nomem;
    } else if (use) {
      orc_json *input = orci_llm_jget(use, "input", ORC_JSON_OBJECT);
      const char *name = orci_llm_jstr(use, "name");
      char *itext;
      size_t n = 0;
      int rc;
      if (name == NULL || input == NULL)
        return orci_llm_malformed(
            e, "content[%zu]: a toolUse block needs a name and an input", i);
      itext = orc_json_print(input, 0, &n);
      if (itext == NULL) goto nomem;
      rc = orci_llm_turn_add_call(t, orci_llm_jstr(use, "toolUseId"), name,
                                  orc_json_ref(input), itext, n);
      orc_free(itext);
      if (rc) goto nomem;
    } /* reasoningContent and others are not ours to read */
  }
  if (orci_llm_turn_set_stop(t, orci_llm_jstr(body, "stopReason"))) goto nomem;
  usage = orci_llm_jget(body, "usage", ORC_JSON_OBJECT);
  t->usage.input_tokens = orci_llm_jcount(usage, "inputTokens");
  t->usage.output_tokens = orci_llm_jcount(usage, "outputTokens");
  t->usage.cache_read_tokens = orci_llm_jcount(usage, "cacheReadInputTokens");
  t->usage.cache_write_tokens = orci_llm_jcount(usage, "cacheWriteInputTokens");
  if (usage && t->usage.cache_read_tokens < 0) t->usage.cache_read_tokens = 0;
  if (usage && t->usage.cache_write_tokens < 0) t->usage.cache_write_tokens = 0;
  return ORC_OK;
nomem:
  return orci_llm_malformed(e, "out of memory reading the response");
}

void orci_llm_bedrock_error(const orci_http_response *res, const orc_json *body,
                            orci_llm_error *e, const char **msg) {
  size_t n = 0;
  const char *type = orci_http_header(res, "x-amzn-ErrorType", &n);
  if (type) {
    const char *colon = memchr(type, ':', n);
    if (colon) n = (size_t)(colon - type);
  } else if ((type = orci_llm_jstr(body, "__type")) != NULL ||
             (type = orci_llm_jstr(body, "code")) != NULL) {
    const char *hash = strrchr(type, '#');
    if (hash) type = hash + 1;
    n = strlen(type);
  }
  if (type) snprintf(e->type, sizeof e->type, "%.*s", (int)n, type);
  *msg = orci_llm_jstr(body, "message");
  if (*msg == NULL) *msg = orci_llm_jstr(body, "Message");
}
