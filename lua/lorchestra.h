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

/* Register orchestra.jsonata (compile, evaluate) into the table on top of
** the stack. */
void orcL_open_jsonata(lua_State *L);

#endif
