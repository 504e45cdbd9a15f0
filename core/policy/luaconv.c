/* policy/luaconv.c - JSON <-> Lua value conversion (see luaconv.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "policy/luaconv.h"
#include "policy/policy.h"

/* ---- JSON -> Lua ---------------------------------------------------- */

static void push_json(lua_State *L, const json_t *v, int depth)
{
    if (depth > HOIST_POLICY_MAX_DEPTH)
        luaL_error(L, "argument nested deeper than %d levels", HOIST_POLICY_MAX_DEPTH);
    luaL_checkstack(L, 3, "argument nested too deeply");
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *member;
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_keylen_foreach((json_t *)v, key, klen, member) {
            if (json_is_null(member))
                continue; /* a null member is an absent key */
            lua_pushlstring(L, key, klen);
            push_json(L, member, depth + 1);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            push_json(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        lua_pushnil(L);
        break;
    }
}

void hoist_lua_push_json(lua_State *L, const json_t *v)
{
    push_json(L, v, 1);
}

/* ---- Lua -> JSON ---------------------------------------------------- */

typedef struct conv {
    lua_State *L;
    const char *what;
    const void *open[HOIST_POLICY_MAX_DEPTH + 1]; /* tables on the current path */
    int depth;
    char path[256]; /* where we are, e.g. "[2].tags" */
    size_t pathlen;
} conv;

static int conv_fail(conv *c, const char *reason)
{
    if (c->pathlen)
        return luaL_error(c->L, "%s returned %s at %s", c->what, reason, c->path);
    return luaL_error(c->L, "%s returned %s", c->what, reason);
}

static void path_push_index(conv *c, lua_Integer i)
{
    if (c->pathlen < sizeof c->path) {
        int n = snprintf(c->path + c->pathlen, sizeof c->path - c->pathlen, "[%lld]",
                         (long long)i);
        if (n > 0)
            c->pathlen += (size_t)n;
        if (c->pathlen >= sizeof c->path)
            c->pathlen = sizeof c->path - 1;
    }
}

static void path_push_key(conv *c, const char *key)
{
    if (c->pathlen < sizeof c->path) {
        int n = snprintf(c->path + c->pathlen, sizeof c->path - c->pathlen, ".%s", key);
        if (n > 0)
            c->pathlen += (size_t)n;
        if (c->pathlen >= sizeof c->path)
            c->pathlen = sizeof c->path - 1;
    }
}

static void path_pop(conv *c, size_t len)
{
    c->pathlen = len;
    c->path[len] = '\0';
}

/* A fresh JSON value for the Lua value at idx: scalars complete, tables
 * empty (filled by fill_table once attached to their parent). */
static json_t *make_value(conv *c, int idx)
{
    lua_State *L = c->L;
    json_t *j = NULL;
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE:
        j = json_null();
        break;
    case LUA_TBOOLEAN:
        j = json_boolean(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            j = json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = (double)lua_tonumber(L, idx);
            if (!isfinite(d))
                conv_fail(c, "a non-finite number");
            j = json_real(d);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        j = json_stringn(s, len);
        if (!j)
            conv_fail(c, "a string that is not UTF-8");
        break;
    }
    case LUA_TTABLE: {
        /* Decide array or object: keys exactly 1..n make an array. */
        lua_Integer count = 0, max = 0;
        int only_ints = 1;
        luaL_checkstack(L, 4, "result nested too deeply");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            count++;
            if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
                if (lua_tointeger(L, -1) > max)
                    max = lua_tointeger(L, -1);
            } else {
                only_ints = 0;
            }
        }
        j = count > 0 && only_ints && max == count ? json_array() : json_object();
        break;
    }
    default: {
        char reason[64];
        snprintf(reason, sizeof reason, "a %s", luaL_typename(L, idx));
        conv_fail(c, reason);
    }
    }
    if (!j)
        luaL_error(L, "not enough memory");
    return j;
}

static void fill_table(conv *c, int idx, json_t *j);

/* Convert the value on top of the stack into a child of parent (an array
 * when key is NULL), then pop it. */
static void attach_top(conv *c, json_t *parent, const char *key)
{
    lua_State *L = c->L;
    json_t *child = make_value(c, -1);
    int rc = key ? json_object_set_new(parent, key, child) : json_array_append_new(parent, child);
    if (rc != 0)
        luaL_error(L, "not enough memory");
    if (json_is_array(child) || json_is_object(child))
        fill_table(c, lua_gettop(L), child);
    lua_pop(L, 1);
}

static void fill_table(conv *c, int idx, json_t *j)
{
    lua_State *L = c->L;
    const void *t = lua_topointer(L, idx);
    for (int i = 0; i < c->depth; i++)
        if (c->open[i] == t)
            conv_fail(c, "a cyclic table");
    if (c->depth >= HOIST_POLICY_MAX_DEPTH) {
        char reason[64];
        snprintf(reason, sizeof reason, "a table nested deeper than %d levels",
                 HOIST_POLICY_MAX_DEPTH);
        conv_fail(c, reason);
    }
    c->open[c->depth++] = t;
    luaL_checkstack(L, 4, "result nested too deeply");
    size_t mark = c->pathlen;
    if (json_is_array(j)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            path_push_index(c, i);
            lua_rawgeti(L, idx, i);
            attach_top(c, j, NULL);
            path_pop(c, mark);
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            char buf[64];
            const char *key;
            size_t klen = 0;
            if (lua_type(L, -2) == LUA_TSTRING) {
                key = lua_tolstring(L, -2, &klen);
                if (strlen(key) != klen)
                    conv_fail(c, "a table key with a NUL byte");
            } else if (lua_type(L, -2) == LUA_TNUMBER) {
                if (lua_isinteger(L, -2))
                    snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, -2));
                else
                    snprintf(buf, sizeof buf, "%.17g", (double)lua_tonumber(L, -2));
                key = buf;
            } else {
                char reason[64];
                snprintf(reason, sizeof reason, "a table with a %s key", luaL_typename(L, -2));
                conv_fail(c, reason);
                return;
            }
            path_push_key(c, key);
            attach_top(c, j, key); /* 1 and "1" collide: the later one wins */
            path_pop(c, mark);
        }
    }
    c->depth--;
}

void hoist_lua_to_json(lua_State *L, int idx, const char *what, json_t **out)
{
    conv c;
    c.L = L;
    c.what = what;
    c.depth = 0;
    c.pathlen = 0;
    c.path[0] = '\0';
    idx = lua_absindex(L, idx);
    *out = make_value(&c, idx);
    if (json_is_array(*out) || json_is_object(*out))
        fill_table(&c, idx, *out);
}
