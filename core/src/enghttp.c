/*
** The engine's HTTP client (enghttp.c): one orci_http per engine, made on
** first use, moved on by every orc_engine_step, counted in
** orc_engine_next_deadline and slept on by orc_engine_wait. Built-in
** resources (bedrock:invokeModel) and the agent loop's model calls share it,
** so connections to one endpoint are kept alive across all of them.
*/
#include <stdlib.h>

#include "engine_int.h"

orci_http *orci_engine_http(orc_engine *E, orc_error *err) {
  if (E->http == NULL) E->http = orci_http_new(NULL, NULL, err);
  return E->http;
}

size_t orci_engine_http_inflight(const orc_engine *E) {
  return E->http ? orci_http_ntransfers(E->http) : 0;
}

void orci_engine_http_perform(orc_engine *E) {
  orc_error err;
  if (E->http && orci_http_ntransfers(E->http) > 0 &&
      orci_http_perform(E->http, &err) < 0)
    E->failed = ORC_EHTTP; /* the multi handle itself failed */
}

/* Transfers in flight are an outside event the host waits on: at most
** ORCI_HTTP_POLL_MS until libcurl's next deadline (a host that steps once
** a frame sees completions on the next frame anyway). */
#define ORCI_HTTP_POLL_MS 50

int64_t orci_engine_http_deadline(const orc_engine *E) {
  long ms;
  if (orci_engine_http_inflight(E) == 0) return -1;
  ms = orci_http_timeout_ms(E->http);
  return ms < 0 || ms > ORCI_HTTP_POLL_MS ? ORCI_HTTP_POLL_MS : ms;
}

int orci_engine_http_wait(orc_engine *E, int64_t timeout_ms) {
  long ms;
  if (orci_engine_http_inflight(E) == 0) return 0;
  ms = timeout_ms < 0 || timeout_ms > ORCI_HTTP_POLL_MS ? ORCI_HTTP_POLL_MS
                                                        : (long)timeout_ms;
  orci_http_poll(E->http, ms, NULL);
  return 1;
}

void orci_engine_http_free(orc_engine *E) {
  orci_http_free(E->http);
  E->http = NULL;
}
