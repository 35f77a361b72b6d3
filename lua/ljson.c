/*
** The JSON bridge: Lua values <-> orc_json values <-> JSON text.
** orchestra.json.decode / orchestra.json.encode are built on it, and so is
** every payload that crosses between Lua and the engine.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lorchestra.h"

/* {====== orc_json -> Lua */

void orcL_pushjson(lua_State *L, const orc_json *v) {
  size_t i, n;
  switch (orc_json_type_of(v)) {
  case ORC_JSON_NULL:
    lua_pushlightuserdata(L, NULL);
    return;
  case ORC_JSON_BOOL:
    lua_pushboolean(L, orc_json_is_true(v));
    return;
  case ORC_JSON_INT:
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)orc_json_int_value(v));
#else
    lua_pushnumber(L, (lua_Number)orc_json_int_value(v));
#endif
    return;
  case ORC_JSON_FLOAT:
    lua_pushnumber(L, (lua_Number)orc_json_number(v));
    return;
  case ORC_JSON_STRING: {
    const char *s = orc_json_string_value(v, &n);
    lua_pushlstring(L, s, n);
    return;
  }
  case ORC_JSON_ARRAY:
    n = orc_json_len(v);
    luaL_checkstack(L, 3, "JSON nesting too deep");
    lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
    for (i = 0; i < n; i++) {
      orcL_pushjson(L, orc_json_array_get(v, i));
      lua_rawseti(L, -2, (int)(i + 1));
    }
    luaL_getmetatable(L, ORCL_ARRAY_MT);
    lua_setmetatable(L, -2);
    return;
  case ORC_JSON_OBJECT:
    n = orc_json_len(v);
    luaL_checkstack(L, 3, "JSON nesting too deep");
    lua_createtable(L, 0, n > INT32_MAX ? INT32_MAX : (int)n);
    for (i = 0; i < n; i++) {
      size_t kl;
      const char *k = orc_json_string_value(orc_json_object_key(v, i), &kl);
      lua_pushlstring(L, k, kl);
      orcL_pushjson(L, orc_json_object_value(v, i));
      lua_rawset(L, -3);
    }
    return;
  }
}

/* }====== */

/* {====== Lua -> orc_json */

typedef struct seg {
  const char *key; /* object key bytes, or NULL for an array index */
  size_t len;      /* key length, or the 1-based array index */
} seg;

typedef struct tojson {
  lua_State *L;
  int max_depth;
  int depth;           /* tables open on the current path */
  const void **tables; /* the tables on the path, for cycle detection */
  seg *path;           /* the JSON pointer of the value being converted */
  int arr_mt, obj_mt;  /* stack indexes of the two marker metatables */
  char *msg;
  size_t msglen;
  int failed;
  int cap; /* entries of tables and path (they grow with the depth) */
  const void *tables0[32]; /* the first 32 levels: no allocation */
  seg path0[32];
} tojson;

/* Room for one more level; 0, or -1 when out of memory. */
static int grow_path(tojson *c) {
  int cap = c->cap * 2 > c->max_depth ? c->max_depth : c->cap * 2;
  const void **t = (const void **)malloc((size_t)cap * sizeof *t);
  seg *p = (seg *)malloc((size_t)cap * sizeof *p);
  if (t == NULL || p == NULL) {
    free(t);
    free(p);
    return -1;
  }
  memcpy(t, c->tables, (size_t)c->depth * sizeof *t);
  memcpy(p, c->path, (size_t)c->depth * sizeof *p);
  if (c->tables != c->tables0) free((void *)c->tables);
  if (c->path != c->path0) free(c->path);
  c->tables = t;
  c->path = p;
  c->cap = cap;
  return 0;
}

/* Appends "/<segment>" (RFC 6901 escapes) to msg[n..cap); returns the new
** length, kept below cap. */
static size_t add_segment(char *msg, size_t n, size_t cap, const seg *s) {
  if (n + 1 >= cap) return n;
  msg[n++] = '/';
  if (s->key == NULL) {
    n += (size_t)snprintf(msg + n, cap - n, "%zu", s->len - 1);
  } else {
    size_t k;
    for (k = 0; k < s->len && n + 3 < cap; k++) {
      if (s->key[k] == '~' || s->key[k] == '/') {
        msg[n++] = '~';
        msg[n++] = s->key[k] == '~' ? '0' : '1';
      } else {
        msg[n++] = s->key[k];
      }
    }
  }
  if (n >= cap) n = cap - 1;
  msg[n] = '\0';
  return n;
}

/* A pointer this deep is shown by its start and its end. */
#define POINTER_HEAD 8
#define POINTER_TAIL 6

/* Writes "<why> at <pointer>" into the context's message. */
static orc_json *fail(tojson *c, const char *why) {
  size_t n;
  int i;
  if (c->failed) return NULL;
  c->failed = 1;
  n = (size_t)snprintf(c->msg, c->msglen, "%s at ", why);
  if (n >= c->msglen) n = c->msglen - 1;
  if (c->depth == 0)
    n += (size_t)snprintf(c->msg + n, c->msglen - n, "the top level");
  for (i = 0; i < c->depth && n + 1 < c->msglen; i++) {
    if (i == POINTER_HEAD && c->depth > POINTER_HEAD + POINTER_TAIL + 2) {
      int skipped = c->depth - POINTER_HEAD - POINTER_TAIL;
      n += (size_t)snprintf(c->msg + n, c->msglen - n, "/...(%d levels)...",
                            skipped);
      if (n >= c->msglen) n = c->msglen - 1;
      i += skipped;
    }
    n = add_segment(c->msg, n, c->msglen, &c->path[i]);
  }
  return NULL;
}

static orc_json *convert(tojson *c, int idx);

/* 1 when d is an integral value that int64 holds exactly. */
static int double_to_int64(double d, int64_t *out) {
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
      d == floor(d)) {
    *out = (int64_t)d;
    return 1;
  }
  return 0;
}

static orc_json *convert_number(tojson *c, int idx) {
  lua_Number d;
  int64_t i;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(c->L, idx)) {
    orc_json *v = orc_json_int((int64_t)lua_tointeger(c->L, idx));
    return v ? v : fail(c, "out of memory");
  }
#endif
  d = lua_tonumber(c->L, idx);
  if (isnan(d)) return fail(c, "cannot encode NaN (JSON has no NaN)");
  if (isinf(d))
    return fail(c, "cannot encode an infinite number (JSON has no Infinity)");
  {
    orc_json *v;
#if LUA_VERSION_NUM < 503
    /* Plain Lua numbers: integral values are integers (2^53 and beyond
    ** too, as long as int64 holds them exactly). */
    if (double_to_int64(d, &i) && !(d == 0 && signbit(d)))
      v = orc_json_int(i);
    else
#endif
      v = orc_json_float((double)d);
    (void)i;
    return v ? v : fail(c, "out of memory");
  }
}

static orc_json *convert_string(tojson *c, int idx) {
  size_t len, bad;
  const char *s = lua_tolstring(c->L, idx, &len);
  orc_json *v;
  bad = orc_utf8_check(s, len);
  if (bad != (size_t)-1) {
    char why[96];
    snprintf(why, sizeof why,
             "string is not valid UTF-8 (bad byte 0x%02X at offset %zu)",
             (unsigned char)s[bad], bad);
    return fail(c, why);
  }
  v = orc_json_string(s, len);
  return v ? v : fail(c, "out of memory");
}

typedef struct keyinfo {
  size_t nkeys, nint, nstr;
  lua_Number maxint;
  int other; /* a key that is neither a positive integer nor a string */
} keyinfo;

static void scan_keys(lua_State *L, int t, keyinfo *ki) {
  memset(ki, 0, sizeof *ki);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    ki->nkeys++;
    if (lua_type(L, -2) == LUA_TSTRING) {
      ki->nstr++;
    } else if (lua_type(L, -2) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -2);
      if (k >= 1 && k == floor(k)) {
        ki->nint++;
        if (k > ki->maxint) ki->maxint = k;
      } else {
        ki->other = 1;
      }
    } else {
      ki->other = 1;
    }
    lua_pop(L, 1);
  }
}

static orc_json *convert_array(tojson *c, int t, const keyinfo *ki) {
  lua_State *L = c->L;
  size_t n = ki->nint, i;
  orc_json *a;
  c->depth--; /* errors about the array itself point at the array */
  if (ki->nstr || ki->other)
    return fail(c, "array-marked table has a key that is not a positive "
                   "integer");
  if (ki->maxint != (lua_Number)n) {
    char why[128];
    for (i = 1; i <= n; i++) { /* find the first missing index */
      lua_rawgeti(L, t, (int)i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
    }
    snprintf(why, sizeof why,
             "array has a hole at index %zu (use orchestra.null for null "
             "elements)",
             i);
    return fail(c, why);
  }
  a = orc_json_array_new(n);
  if (a == NULL) return fail(c, "out of memory");
  c->depth++;
  for (i = 0; i < n; i++) {
    orc_json *item;
    c->path[c->depth - 1].key = NULL;
    c->path[c->depth - 1].len = i + 1;
    lua_rawgeti(L, t, (int)(i + 1));
    item = convert(c, lua_gettop(L));
    lua_pop(L, 1);
    if (item == NULL) {
      orc_json_unref(a);
      return NULL;
    }
    orc_json_array_set(a, i, item);
  }
  return a;
}

typedef struct kv {
  orc_json *key, *val;
} kv;

static int member_cmp(const void *pa, const void *pb) {
  size_t la, lb, n;
  const char *a = orc_json_string_value(((const kv *)pa)->key, &la);
  const char *b = orc_json_string_value(((const kv *)pb)->key, &lb);
  int r;
  n = la < lb ? la : lb;
  r = memcmp(a, b, n);
  return r ? r : (la > lb) - (la < lb);
}

/* Objects come out with their keys sorted (bytewise): Lua tables have no
** order, and the same table must always give the same text. */
static orc_json *convert_object(tojson *c, int t, const keyinfo *ki) {
  lua_State *L = c->L;
  kv small[16], *pairs = small;
  orc_json *o = NULL;
  size_t n = ki->nkeys, i = 0, k;
  if (n > 16 && (pairs = (kv *)calloc(n, sizeof *pairs)) == NULL)
    return fail(c, "out of memory");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    orc_json *key, *val;
    char num[32];
    const char *ks;
    size_t kl;
    if (i == n) { /* the table grew while we read it (a __gc, say) */
      lua_pop(L, 2);
      fail(c, "the table changed while it was encoded");
      break;
    }
    if (lua_type(L, -2) == LUA_TSTRING) {
      ks = lua_tolstring(L, -2, &kl);
    } else if (lua_type(L, -2) == LUA_TNUMBER && !ki->other) {
      int64_t ik = 0;
      if (!double_to_int64((double)lua_tonumber(L, -2), &ik)) {
        lua_pop(L, 2);
        fail(c, "integer table key is too large for an object key");
        break;
      }
      kl = (size_t)snprintf(num, sizeof num, "%lld", (long long)ik);
      ks = num;
    } else {
      lua_pop(L, 2);
      if (ki->other)
        fail(c, "table key is not a string (JSON object keys are strings)");
      break;
    }
    c->path[c->depth - 1].key = ks;
    c->path[c->depth - 1].len = kl;
    if (orc_utf8_check(ks, kl) != (size_t)-1) {
      lua_pop(L, 2);
      fail(c, "object key is not valid UTF-8");
      break;
    }
    key = orc_json_string(ks, kl);
    val = key ? convert(c, lua_gettop(L)) : fail(c, "out of memory");
    if (val == NULL) {
      orc_json_unref(key);
      lua_pop(L, 2);
      if (!c->failed) fail(c, "out of memory");
      break;
    }
    pairs[i].key = key;
    pairs[i].val = val;
    i++;
    lua_pop(L, 1);
  }
  if (!c->failed) {
    if (i > 1) qsort(pairs, i, sizeof *pairs, member_cmp);
    for (k = 1; k < i; k++) {
      if (member_cmp(&pairs[k - 1], &pairs[k]) == 0) {
        size_t kl;
        const char *ks = orc_json_string_value(pairs[k].key, &kl);
        c->path[c->depth - 1].key = ks;
        c->path[c->depth - 1].len = kl;
        fail(c, "duplicate object key (an integer key and the same string)");
        break;
      }
    }
  }
  if (!c->failed) {
    o = orc_json_object_new(i);
    if (o == NULL) fail(c, "out of memory");
  }
  for (k = 0; k < i; k++) {
    if (o) {
      orc_json_object_set(o, k, pairs[k].key, pairs[k].val);
    } else {
      orc_json_unref(pairs[k].key);
      orc_json_unref(pairs[k].val);
    }
  }
  if (pairs != small) free(pairs);
  return o;
}

static orc_json *convert_table(tojson *c, int t) {
  lua_State *L = c->L;
  const void *p = lua_topointer(L, t);
  int is_arr = 0, is_obj = 0, i;
  keyinfo ki;
  orc_json *v;
  for (i = 0; i < c->depth; i++)
    if (c->tables[i] == p)
      return fail(c, "cannot encode a cyclic table (it contains itself)");
  if (c->depth >= c->max_depth) {
    char why[64];
    snprintf(why, sizeof why, "nesting is deeper than the limit of %d",
             c->max_depth);
    return fail(c, why);
  }
  if (!lua_checkstack(L, 6)) return fail(c, "Lua stack exhausted");
  if (c->depth >= c->cap && grow_path(c) != 0) return fail(c, "out of memory");
  if (lua_getmetatable(L, t)) {
    is_arr = lua_rawequal(L, -1, c->arr_mt);
    is_obj = lua_rawequal(L, -1, c->obj_mt);
    lua_pop(L, 1);
  }
  scan_keys(L, t, &ki);
  c->tables[c->depth] = p;
  c->path[c->depth].key = NULL;
  c->path[c->depth].len = 0;
  c->depth++;
  if (is_arr || (!is_obj && ki.nkeys > 0 && ki.nint == ki.nkeys)) {
    v = convert_array(c, t, &ki);
  } else if (!is_obj && ki.nint > 0 && ki.nstr > 0) {
    c->depth--;
    return fail(c, "table mixes integer and string keys (mark it with "
                   "orchestra.object to encode an object)");
  } else {
    v = convert_object(c, t, &ki);
  }
  if (v != NULL) c->depth--;
  return v;
}

static orc_json *convert(tojson *c, int idx) {
  lua_State *L = c->L;
  char why[64];
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return orc_json_null();
  case LUA_TBOOLEAN:
    return orc_json_bool(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    return convert_number(c, idx);
  case LUA_TSTRING:
    return convert_string(c, idx);
  case LUA_TTABLE:
    return convert_table(c, idx);
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) return orc_json_null();
    /* fall through */
  default:
    snprintf(why, sizeof why, "cannot encode a value of type %s",
             luaL_typename(L, idx));
    return fail(c, why);
  }
}

orc_json *orcL_tojson(lua_State *L, int idx, int max_depth, char *msg,
                      size_t msglen) {
  tojson c;
  orc_json *v;
  if (max_depth <= 0) max_depth = ORC_JSON_DEFAULT_MAX_DEPTH;
  idx = idx < 0 && idx > LUA_REGISTRYINDEX ? lua_gettop(L) + idx + 1 : idx;
  memset(&c, 0, sizeof c);
  c.L = L;
  c.max_depth = max_depth;
  c.msg = msg;
  c.msglen = msglen;
  c.tables = c.tables0;
  c.path = c.path0;
  c.cap = 32;
  if (!lua_checkstack(L, 4)) {
    snprintf(msg, msglen, "out of memory");
    return NULL;
  }
  luaL_getmetatable(L, ORCL_ARRAY_MT);
  c.arr_mt = lua_gettop(L);
  luaL_getmetatable(L, ORCL_OBJECT_MT);
  c.obj_mt = lua_gettop(L);
  v = convert(&c, idx);
  lua_pop(L, 2);
  if (c.tables != c.tables0) free((void *)c.tables);
  if (c.path != c.path0) free(c.path);
  return v;
}

/* }====== */

/* {====== orchestra.json.encode / decode */

/* Holds C memory while Lua calls that may raise run, so that an error
** (out of memory in lua_pushlstring, say) cannot leak it. */
typedef struct jsonbox {
  orc_json *v;
  char *text;
} jsonbox;

static int box_gc(lua_State *L) {
  jsonbox *b = (jsonbox *)luaL_checkudata(L, 1, ORCL_BOX_MT);
  orc_json_unref(b->v);
  orc_free(b->text);
  b->v = NULL;
  b->text = NULL;
  return 0;
}

static jsonbox *newbox(lua_State *L) {
  jsonbox *b = (jsonbox *)lua_newuserdata(L, sizeof *b);
  b->v = NULL;
  b->text = NULL;
  luaL_getmetatable(L, ORCL_BOX_MT);
  lua_setmetatable(L, -2);
  return b;
}

static int opt_int(lua_State *L, int opts, const char *name, int def) {
  int v = def;
  if (lua_isnoneornil(L, opts)) return def;
  lua_getfield(L, opts, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 1)
      luaL_error(L, "option '%s' must be a positive number", name);
    v = lua_tonumber(L, -1) > 2147483647.0 ? 2147483647
                                           : (int)lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* json.decode(text [, {max_depth=, max_bytes=}]) -> value  [-0, +1, e] */
static int json_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  orc_json_limits lim = {0, 0, 0};
  orc_error err;
  jsonbox *b;
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lim.max_depth = opt_int(L, 2, "max_depth", ORC_JSON_DEFAULT_MAX_DEPTH);
  lim.max_bytes = (size_t)opt_int(L, 2, "max_bytes", 0);
  if (lim.max_depth > ORC_JSON_MAX_DEPTH)
    return luaL_error(L, "option 'max_depth' must be at most %d",
                      ORC_JSON_MAX_DEPTH);
  b = newbox(L);
  if (orc_json_parse(text, len, &lim, &b->v, &err) != ORC_OK)
    return luaL_error(L, "%s", err.message);
  orcL_pushjson(L, b->v);
  orc_json_unref(b->v);
  b->v = NULL;
  return 1;
}

/* json.encode(value [, {indent=true, max_depth=}]) -> text  [-0, +1, e] */
static int json_encode(lua_State *L) {
  char msg[512];
  int flags = 0, max_depth;
  jsonbox *b;
  size_t len;
  luaL_checkany(L, 1);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "indent");
    if (lua_toboolean(L, -1)) flags |= ORC_JSON_PRINT_INDENT;
    lua_pop(L, 1);
  }
  max_depth = opt_int(L, 2, "max_depth", ORC_JSON_DEFAULT_MAX_DEPTH);
  b = newbox(L);
  b->v = orcL_tojson(L, 1, max_depth, msg, sizeof msg);
  if (b->v == NULL) return luaL_error(L, "cannot encode JSON: %s", msg);
  b->text = orc_json_print(b->v, flags, &len);
  if (b->text == NULL)
    return luaL_error(L, "cannot encode JSON: out of memory");
  lua_pushlstring(L, b->text, len);
  return 1;
}

/* orchestra.array([t]) / orchestra.object([t]): mark t (or a new table) and
** return it  [-0, +1, e] */
static int mark(lua_State *L, const char *mt) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  luaL_getmetatable(L, mt);
  lua_setmetatable(L, 1);
  return 1;
}

static int json_array(lua_State *L) {
  return mark(L, ORCL_ARRAY_MT);
}

static int json_object(lua_State *L) {
  return mark(L, ORCL_OBJECT_MT);
}

void orcL_open_json(lua_State *L) {
  static const luaL_Reg fns[] = {{"json_decode", json_decode},
                                 {"json_encode", json_encode},
                                 {"array", json_array},
                                 {"object", json_object},
                                 {NULL, NULL}};
  luaL_newmetatable(L, ORCL_ARRAY_MT);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_setfield(L, -2, "array_mt");
  luaL_newmetatable(L, ORCL_OBJECT_MT);
  lua_pushliteral(L, "object");
  lua_setfield(L, -2, "__jsontype");
  lua_setfield(L, -2, "object_mt");
  luaL_newmetatable(L, ORCL_BOX_MT);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  orc_setfuncs(L, fns, 0);
}

/* }====== */
