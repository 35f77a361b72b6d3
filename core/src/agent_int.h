/*
** The agent loop (agent.c) as the executor's files see it: an invocation
** is an orc_execution whose `agent` field holds the loop's state; these
** hooks let execution.c and engine.c end and free it, and drive the
** engine's HTTP client.
*/
#ifndef ORCHESTRA_AGENT_INT_H
#define ORCHESTRA_AGENT_INT_H

#include "orchestra/agent.h"

/* The history event type that ends X (an agent invocation) with status. */
int orci_agent_end_type(orc_execution *X, int status);
/* X ended (orci_finish): drop its model and tool calls, stop its timers. */
void orci_agent_ended(orc_execution *X);
/* X is being freed: free the loop's state. */
void orci_agent_free(orc_execution *X);
/* The record the invocations of the agent named name (len bytes) point
** at (their ARNs name it as a machine's), or NULL. */
struct orc_machine *orci_agent_record(orc_engine *E, const char *name,
                                      size_t len);
/* The model X (an agent invocation) calls, as the catalog prices it. */
const char *orci_agent_model_name(const orc_execution *X);
/* ORC_EINVAL (err says why) when X is an invocation whose model the
** engine's catalog does not price, so a budget of usd cannot hold it. */
int orci_agent_check_budget(const orc_execution *X, double usd, orc_error *err);
/* The engine is being freed (after its executions): free its agents and
** its HTTP client. */
void orci_agents_free(orc_engine *E);

#endif
