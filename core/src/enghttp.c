/*
** The engine's HTTP client, made on first use and shared by every part
** that sends requests (bedrock:invokeModel; the agent loop's model calls):
** connections to one endpoint are kept alive across all of them. The
** engine moves it on in each step, counts it in its deadline and sleeps on
** it in orc_engine_wait (engine.c, post.c); orci_agents_free frees it.
*/
#include "engine_int.h"
#include "post_int.h"

orci_http *orci_engine_http(orc_engine *E, orc_error *err) {
  if (E->http == NULL) {
    E->http = orci_http_new(NULL, NULL, err);
    if (E->http) orci_posts_set_http(E->posts, E->http); /* posts wake it */
  }
  return E->http;
}
