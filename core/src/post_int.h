/*
** The completion queue (post.c): answers posted by other threads, applied
** by the engine's thread at the start of each step, and the engine's only
** sleep (orc_engine_wait). The queue is the only part of an engine that is
** shared between threads; it owns its mutex and condition variable.
*/
#ifndef ORCHESTRA_POST_INT_H
#define ORCHESTRA_POST_INT_H

#include "orchestra/engine.h"

typedef struct orci_posts orci_posts;

/* Returns an owned, empty queue, or NULL when out of memory. virtual_clock:
** the engine runs the virtual clock (orc_engine_wait never sleeps while a
** timer is set). */
orci_posts *orci_posts_new(int virtual_clock);
/* Frees the queue and the posts still in it. NULL is ignored. No thread may
** use it any more. */
void orci_posts_free(orci_posts *Q);
/* Engine's thread: apply (and free) everything posted so far, in order;
** posts for tokens with no pending task are dropped. */
void orci_posts_drain(orc_engine *E, orci_posts *Q);

/* 1 when posts wait to be applied (any thread may have added them). */
int orci_posts_pending(orci_posts *Q);

/* The engine's HTTP client (engine's thread, once, when it is made):
** posts and wakeups interrupt its poll from then on, and orc_engine_wait
** sleeps on its transfers' sockets while they are in flight. */
struct orci_http;
void orci_posts_set_http(orci_posts *Q, struct orci_http *h);

/* The engine's queue (engine.c): set once by orc_engine_new, so any thread
** may read it while the engine lives. */
orci_posts *orci_engine_posts(const orc_engine *E);

#endif
