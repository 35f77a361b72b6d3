/*
** Declarations shared by the binding's C files (not installed).
*/
#ifndef ORCHESTRA_LORCHESTRA_H
#define ORCHESTRA_LORCHESTRA_H

#include "orc_compat.h"
#include "orchestra/json.h"

#define ORCL_ARRAY_MT  "orchestra.array"  /* marks a table as a JSON array */
#define ORCL_OBJECT_MT "orchestra.object" /* marks a table as a JSON object */
#define ORCL_BOX_MT    "orchestra.jsonbox"

/* Push v as a Lua value [-0, +1, m]: null is orchestra.null, arrays get
** the array marker, integers are Lua integers on 5.3+. */
void orcL_pushjson(lua_State *L, const orc_json *v);

/* Convert the Lua value at idx into a new JSON value (returns owned). On
** failure returns NULL and writes "what, at /json/pointer" into msg.
** Raises no Lua error [-0, +0, -]. */
orc_json *orcL_tojson(lua_State *L, int idx, int max_depth, char *msg,
                      size_t msglen);

/* Register the json functions into the table on top of the stack. */
void orcL_open_json(lua_State *L);

/* Register orchestra.engine, orchestra.validate and the metatables of
** engines, machines and executions into the table on top of the stack. */
void orcL_open_engine(lua_State *L);

/* For the binding's other files (lagent.c): the engine of the userdata at
** i (raises when closed); the machine at i, or NULL; the execution at i
** (raises when closed); push an execution handle of X that keeps the
** engine userdata at engine_idx alive. */
typedef struct orc_engine orc_engine;
typedef struct orc_machine orc_machine;
typedef struct orc_execution orc_execution;
orc_engine *orcL_check_engine(lua_State *L, int i);
orc_machine *orcL_to_machine(lua_State *L, int i);
orc_execution *orcL_check_execution(lua_State *L, int i);
void orcL_push_execution(lua_State *L, int engine_idx, orc_execution *X);

/* Register engine:_agent, the agents' metatable and the executions'
** pending_tools/resume (after orcL_open_engine). */
void orcL_open_agent(lua_State *L);

/* {====== argument checks (lcheck.c) */

/* Register r into the table on top of the stack, each function a closure
** whose upvalue 1 is its name prefix..r->name ("engine:load"): the checks
** below name it in their errors. A name with ':' is a method: its
** arguments are counted after self. [-0, +0, m] */
void orcL_setnamed(lua_State *L, const luaL_Reg *r, const char *prefix);

/* Raise "<where>name: <message>" [-0, +0, v] */
int orcL_error(lua_State *L, const char *fmt, ...);
/* Raise "bad argument #n to 'name' (msg)" [-0, +0, v] */
int orcL_argerror(lua_State *L, int arg, const char *msg);
int orcL_typeerror(lua_State *L, int arg, const char *expected);
const char *orcL_checklstring(lua_State *L, int arg, size_t *len);
#define orcL_checkstring(L, arg) orcL_checklstring(L, (arg), NULL)
const char *orcL_optstring(lua_State *L, int arg, const char *def);
void orcL_checktype(lua_State *L, int arg, int t);
void *orcL_checkudata(lua_State *L, int arg, const char *tname);

/* Raise for a key of the options table t that is not in known (NULL
** ended), naming the nearest known one. [-0, +0, v] */
void orcL_checkoptions(lua_State *L, int t, const char *const *known);
/* The string field of the options table t, or NULL when absent; raises
** naming the option when it is not a string. [-0, +0, v] */
const char *orcL_optfield_string(lua_State *L, int t, const char *field);

/* }====== */

/* Register orchestra.core.cost_catalog, cost_meter and cost_summarize
** and their metatables into the table on top of the stack (after
** orcL_open_engine, whose error metatable it uses). */
void orcL_open_cost(lua_State *L);
/* The cost catalog at idx (raises when it is not one or is closed). */
struct orc_cost_catalog *orcL_checkcatalog(lua_State *L, int idx);
/* Give the engine at i a price catalog for budgets when it has none (the
** shipped one, orchestra.cost.catalog()); raises when it cannot load. */
void orcL_engine_ensure_catalog(lua_State *L, int i);
/* The budget_usd field of the options table at t (0 when absent); raises
** naming what when it is not a number >= 0. */
double orcL_opt_budget(lua_State *L, int t, const char *what);
/* Register orchestra.jsonata (compile, evaluate) into the table on top of
** the stack. */
void orcL_open_jsonata(lua_State *L);

#endif
