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
/* The engine is being freed (after its executions): free its agents and
** its HTTP client. */
void orci_agents_free(orc_engine *E);

#endif
