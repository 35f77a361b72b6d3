/*
** bedrock:invokeModel routed to the engine's own model declarations
** (model_route.c): the routes, longest prefix first, and the requests in
** flight. bedrock.c owns the routes (orci_bedrock_routes) and consults
** them before sending a request to Bedrock.
*/
#ifndef ORCHESTRA_MODEL_ROUTE_INT_H
#define ORCHESTRA_MODEL_ROUTE_INT_H

#include "orchestra/agent.h"
#include "task_int.h"

typedef struct orci_route orci_route;
typedef struct orci_routes orci_routes;

/* Route model ids starting with prefix to m (borrowed, copied; providers
** are resolved against the environment now). *RR is made on first use.
** For a scripted model *resource (may be NULL) is the resource of the
** host's model tasks (valid while the engine lives). ORC_OK, ORC_EINVAL
** (an empty or duplicated prefix, a provider without its model or key),
** ORC_ENOMEM. */
int orci_route_add(orc_engine *E, orci_routes **RR, const char *prefix,
                   const orc_agent_model *m, const char **resource,
                   orc_error *err);

/* The route with the longest prefix of model_id, or NULL. */
const orci_route *orci_route_find(const orci_routes *R, const char *model_id);

/* 1 with r's settings when r is a Bedrock route (the Body goes unchanged
** to that model id, region and endpoint; NULL settings: the environment),
** else 0. */
int orci_route_bedrock(const orci_route *r, const char **model,
                       const char **region, const char **endpoint_url,
                       long *timeout_ms);

/* Answer invokeModel task T through r: body (borrowed) is mapped from
** model_id's native format to r's provider, and the answer back. T is
** answered now or later (ORC_OK), or ORC_ENOMEM. */
int orci_route_invoke(orc_engine *E, const orci_route *r, orc_task *T,
                      const char *model_id, const orc_json *body);

/* Frees the routes and forgets the requests in flight (after the HTTP
** client is freed: no callback runs). NULL is a no-op. */
void orci_routes_free(orci_routes *R);

/* E's routes (bedrock.c), or NULL. */
orci_routes *orci_bedrock_routes(orc_engine *E);

#endif
