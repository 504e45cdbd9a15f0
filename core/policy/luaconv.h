/*
 * policy/luaconv.h - JSON <-> Lua value conversion for the policy host.
 *
 * Both functions raise Lua errors (memory, nesting, unconvertible values), so
 * they must run inside a protected call (lua_pcall of a C function). The
 * mapping is documented in policy/policy.h ("Values").
 */
#ifndef HOIST_POLICY_LUACONV_H
#define HOIST_POLICY_LUACONV_H

#include <jansson.h>
#include <lua.h>

/* Push the Lua form of v (borrowed; NULL pushes nil). Raises on nesting
 * deeper than HOIST_POLICY_MAX_DEPTH or when out of memory. */
void hoist_lua_push_json(lua_State *L, const json_t *v);

/* Convert the Lua value at idx to JSON. The result is stored in *out as soon
 * as its root exists (children are attached before they are filled), so
 * after a Lua error the caller still owns *out, possibly partial, and must
 * json_decref it. `what` names the value in error messages, e.g.
 * "hook score_type": "hook score_type returned a function at [2].tags". */
void hoist_lua_to_json(lua_State *L, int idx, const char *what, json_t **out);

#endif
