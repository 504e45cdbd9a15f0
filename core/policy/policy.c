/* policy/policy.c - the sandboxed Lua policy host (see policy.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "policy/luaconv.h"
#include "policy/policy.h"

#define MAX_SOURCE_BYTES (16u << 20) /* a policy file larger than this is refused */

enum stop_reason { STOP_NONE, STOP_TIME, STOP_INSTRUCTIONS };

struct hoist_policy {
    lua_State *L;
    char *path;
    char *name;
    char **hooks; /* sorted names of the function fields of the hooks table */
    size_t nhooks;
    int hooks_ref; /* registry reference to the hooks table */
    char short_src[LUA_IDSIZE]; /* how Lua abbreviates the path in messages */
    hoist_policy_limits limits;

    /* the current call */
    struct timespec start;
    uint64_t instructions;
    enum stop_reason stop;
    char stop_msg[512];  /* "file:line: policy exceeded ..." once stopped */
    bool refused;        /* the allocator refused to grow past max_memory */
    char oom_where[256]; /* "file:line:" of the last refused allocation */

    /* identity of the loaded file */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;

    hoist_policy_stats stats;
};

hoist_policy_limits hoist_policy_limits_default(void)
{
    hoist_policy_limits l;
    l.max_instructions = 100000000;
    l.budget_ms = 50;
    l.max_memory = (size_t)64 << 20;
    return l;
}

static hoist_policy *policy_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static double elapsed_ms(const hoist_policy *p)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - p->start.tv_sec) * 1e3 +
           (double)(now.tv_nsec - p->start.tv_nsec) / 1e6;
}

/* Start the per-call limits afresh. */
static void begin_call(hoist_policy *p)
{
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->instructions = 0;
    p->stop = STOP_NONE;
    p->stop_msg[0] = '\0';
    p->refused = false;
    p->oom_where[0] = '\0';
}

/* "file:line:" of the innermost running Lua function, or "" when none. */
static void current_where(lua_State *L, char *buf, size_t len)
{
    lua_Debug ar;
    buf[0] = '\0';
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar))
            break;
        if (ar.currentline > 0) {
            snprintf(buf, len, "%s:%d:", ar.short_src, ar.currentline);
            return;
        }
    }
}

static void format_bytes(size_t n, char *buf, size_t len)
{
    if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
        snprintf(buf, len, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%zu KiB", n >> 10);
    else
        snprintf(buf, len, "%zu bytes", n);
}

/* ---- the counting allocator and the count hook ------------------------ */

static void *policy_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    hoist_policy *p = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        p->stats.memory -= old;
        return NULL;
    }
    if (nsize > old && p->limits.max_memory &&
        (nsize - old > p->limits.max_memory || p->stats.memory + (nsize - old) > p->limits.max_memory)) {
        p->refused = true;
        if (p->L)
            current_where(p->L, p->oom_where, sizeof p->oom_where);
        return NULL;
    }
    void *q = realloc(ptr, nsize);
    if (!q)
        return NULL;
    p->stats.memory = p->stats.memory - old + nsize;
    if (p->stats.memory > p->stats.peak_memory)
        p->stats.peak_memory = p->stats.memory;
    return q;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    hoist_policy *p = policy_of(L);
    p->instructions += HOIST_POLICY_HOOK_EVERY;
    if (p->stop == STOP_NONE) {
        char where[256] = "";
        if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
            snprintf(where, sizeof where, "%s:%d:", ar->short_src, ar->currentline);
        else
            current_where(L, where, sizeof where);
        if (!where[0])
            snprintf(where, sizeof where, "%s:", p->path);
        if (p->limits.max_instructions && p->instructions > p->limits.max_instructions) {
            p->stop = STOP_INSTRUCTIONS;
            snprintf(p->stop_msg, sizeof p->stop_msg,
                     "%s policy exceeded its instruction limit of %llu", where,
                     (unsigned long long)p->limits.max_instructions);
        } else if (p->limits.budget_ms > 0 && elapsed_ms(p) > p->limits.budget_ms) {
            p->stop = STOP_TIME;
            snprintf(p->stop_msg, sizeof p->stop_msg,
                     "%s policy exceeded its time budget of %g ms", where, p->limits.budget_ms);
        }
    }
    /* Once stopped, every further check raises again, so a policy that
     * catches the error (its pcall re-raises anyway) cannot run on. */
    if (p->stop != STOP_NONE) {
        lua_pushstring(L, p->stop_msg);
        lua_error(L);
    }
}

/* ---- the sandboxed base functions --------------------------------------- */

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t". */
static int sandbox_load(lua_State *L)
{
    if (lua_gettop(L) < 3)
        lua_settop(L, 3); /* a nil chunkname is the default one; env stays absent */
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the real load */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* pcall that lets a time or instruction stop through. */
static int sandbox_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status != LUA_OK && policy_of(L)->stop != STOP_NONE)
        return lua_error(L);
    luaL_checkstack(L, 1, "too many results");
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* xpcall(f, msgh, ...) that lets a time or instruction stop through. */
static int sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_remove(L, 2);
    lua_insert(L, 1); /* msgh f args... */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    if (status != LUA_OK && policy_of(L)->stop != STOP_NONE)
        return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* setmetatable that refuses __gc: Lua runs finalizers with debug hooks off,
 * so a looping finalizer would escape the time and instruction limits. A
 * table is only marked for finalization when its metatable has __gc at the
 * time of setmetatable, so checking here is enough. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int t = lua_rawget(L, 2);
        lua_pop(L, 1);
        if (t != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in a policy");
    }
    lua_pushvalue(L, lua_upvalueindex(1)); /* the real setmetatable */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage(\"%s\") is not allowed in a policy (only \"count\" is)",
                          opt);
    int kb = lua_gc(L, LUA_GCCOUNT, 0);
    int b = lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024.0);
    return 1;
}

/* print(...) to standard error, prefixed with the policy's path. */
static int sandbox_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    fprintf(stderr, "policy %s: %s\n", policy_of(L)->path, lua_tostring(L, -1));
    return 0;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 1);
    lua_pop(L, 1);
}

/* Build the sandbox in the global table. Runs protected. */
static void open_sandbox(lua_State *L)
{
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);

    lua_pushglobaltable(L);
    static const char *const removed[] = {"dofile", "loadfile", "warn"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, removed[i]);
    }
    lua_getfield(L, -1, "load");
    lua_pushcclosure(L, sandbox_load, 1);
    lua_setfield(L, -2, "load");
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, sandbox_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_pushcfunction(L, sandbox_pcall);
    lua_setfield(L, -2, "pcall");
    lua_pushcfunction(L, sandbox_xpcall);
    lua_setfield(L, -2, "xpcall");
    lua_pushcfunction(L, sandbox_collectgarbage);
    lua_setfield(L, -2, "collectgarbage");
    lua_pushcfunction(L, sandbox_print);
    lua_setfield(L, -2, "print");

    /* string.dump would let a policy produce bytecode */
    lua_getfield(L, -1, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);

    /* os: only time and clock, copied into a fresh table */
    lua_pushcfunction(L, luaopen_os);
    lua_call(L, 0, 1);
    lua_createtable(L, 0, 2);
    lua_getfield(L, -2, "time");
    lua_setfield(L, -2, "time");
    lua_getfield(L, -2, "clock");
    lua_setfield(L, -2, "clock");
    lua_setfield(L, -3, LUA_OSLIBNAME);
    lua_pop(L, 2); /* the full os table, the global table */
}

/* ---- errors ------------------------------------------------------------- */

/* True when msg already starts with "something:<digits>:". */
static bool has_location(const char *msg)
{
    const char *colon = strstr(msg, ": ");
    while (colon) {
        const char *d = colon;
        while (d > msg && d[-1] >= '0' && d[-1] <= '9')
            d--;
        if (d < colon && d > msg && d[-1] == ':')
            return true;
        colon = strstr(colon + 1, ": ");
        if (colon && colon - msg > 400)
            break;
    }
    return false;
}

/* Message handler: make sure the message is a string with a location. */
static int message_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    }
    if (has_location(msg)) {
        lua_pushstring(L, msg);
        return 1;
    }
    char where[256];
    current_where(L, where, sizeof where);
    if (where[0])
        lua_pushfstring(L, "%s %s", where, msg);
    else
        lua_pushstring(L, msg);
    return 1;
}

/* The final message of a failed protected call into err, and the counters. */
static void report_failure(hoist_policy *p, int status, bool converting, hoist_err *err)
{
    char text[1024];
    p->stats.errors++;
    if (p->stop != STOP_NONE) {
        p->stats.timeouts++;
        snprintf(text, sizeof text, "%s", p->stop_msg);
    } else if (status == LUA_ERRMEM && p->refused) {
        char limit[32];
        p->stats.memory_errors++;
        format_bytes(p->limits.max_memory, limit, sizeof limit);
        if (p->oom_where[0])
            snprintf(text, sizeof text, "%s policy exceeded its memory limit of %s", p->oom_where,
                     limit);
        else
            snprintf(text, sizeof text, "%s: policy exceeded its memory limit of %s", p->path, limit);
    } else {
        const char *msg = lua_tostring(p->L, -1);
        if (!msg)
            msg = status == LUA_ERRMEM ? "not enough memory" : "unknown error";
        if (converting && status == LUA_ERRRUN)
            p->stats.bad_results++;
        if (has_location(msg))
            snprintf(text, sizeof text, "%s", msg);
        else
            snprintf(text, sizeof text, "%s: %s", p->path, msg);
    }
    /* Lua abbreviates long paths ("...cies/x.lua:3:"); say the whole path. */
    size_t sl = strlen(p->short_src);
    if (sl && strcmp(p->short_src, p->path) != 0 && !strncmp(text, p->short_src, sl) &&
        text[sl] == ':')
        hoist_errf(err, "%s%s", p->path, text + sl);
    else
        hoist_errf(err, "%s", text);
    if (status == LUA_ERRMEM) {
        begin_call(p); /* a fresh budget for finalizers */
        lua_gc(p->L, LUA_GCCOLLECT, 0);
    }
}

/* ---- loading ------------------------------------------------------------ */

typedef struct load_ctx {
    hoist_policy *p;
    const char *source;
    size_t len;
} load_ctx;

static int protected_load(lua_State *L)
{
    load_ctx *c = lua_touserdata(L, 1);
    hoist_policy *p = c->p;
    open_sandbox(L);
    const char *chunkname = lua_pushfstring(L, "@%s", p->path);
    /* learn how Lua abbreviates the path, from an empty chunk of that name */
    lua_Debug ar;
    if (luaL_loadbufferx(L, "", 0, chunkname, "t") == LUA_OK && lua_getinfo(L, ">S", &ar))
        snprintf(p->short_src, sizeof p->short_src, "%s", ar.short_src);
    if (luaL_loadbufferx(L, c->source, c->len, chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    if (!lua_istable(L, -1))
        return luaL_error(L, "a policy must return a table of hooks, not %s",
                          lua_isnil(L, -1) ? "nothing" : luaL_typename(L, -1));
    lua_getfield(L, -1, "name");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "the policy's name must be a string, not a %s", luaL_typename(L, -1));
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    p->hooks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Record the names of the hooks table's function fields and its name. The
 * table is on top of the stack; nothing here allocates inside Lua. */
static int collect_hooks(hoist_policy *p, hoist_err *err)
{
    lua_State *L = p->L;
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) {
            if (p->nhooks == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                char **n = realloc(p->hooks, ncap * sizeof *n);
                if (!n) {
                    lua_pop(L, 2);
                    return hoist_errf(err, "out of memory");
                }
                p->hooks = n;
                cap = ncap;
            }
            p->hooks[p->nhooks] = strdup(lua_tostring(L, -2));
            if (!p->hooks[p->nhooks]) {
                lua_pop(L, 2);
                return hoist_errf(err, "out of memory");
            }
            p->nhooks++;
        }
        lua_pop(L, 1);
    }
    if (p->nhooks > 1)
        qsort(p->hooks, p->nhooks, sizeof *p->hooks, cmp_names);
    lua_getfield(L, -1, "name"); /* a string or nil, checked at load */
    const char *name = lua_tostring(L, -1);
    if (!name) {
        name = strrchr(p->path, '/');
        name = name ? name + 1 : p->path;
    }
    p->name = strdup(name);
    lua_pop(L, 1);
    if (!p->name)
        return hoist_errf(err, "out of memory");
    return 0;
}

/* Read the whole file; NULL with a message. Records the file's identity. */
static char *read_source(hoist_policy *p, size_t *len, hoist_err *err)
{
    FILE *f = fopen(p->path, "rb");
    if (!f) {
        hoist_errf(err, "%s: cannot open: %s", p->path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        hoist_errf(err, "%s: not a regular file", p->path);
        fclose(f);
        return NULL;
    }
    if ((uintmax_t)st.st_size > MAX_SOURCE_BYTES) {
        hoist_errf(err, "%s: a policy file may hold at most %u bytes", p->path, MAX_SOURCE_BYTES);
        fclose(f);
        return NULL;
    }
    p->dev = st.st_dev;
    p->ino = st.st_ino;
    p->size = st.st_size;
    p->mtime = st.st_mtim;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        hoist_errf(err, "%s: out of memory", p->path);
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        hoist_errf(err, "%s: read error: %s", p->path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

hoist_policy *hoist_policy_load(const char *path, const hoist_policy_limits *limits, hoist_err *err)
{
    hoist_policy *p = calloc(1, sizeof *p);
    if (!p) {
        hoist_errf(err, "%s: out of memory", path);
        return NULL;
    }
    p->limits = limits ? *limits : hoist_policy_limits_default();
    p->hooks_ref = LUA_NOREF;
    p->path = strdup(path);
    if (!p->path) {
        hoist_errf(err, "%s: out of memory", path);
        free(p);
        return NULL;
    }
    size_t len = 0;
    char *source = read_source(p, &len, err);
    if (!source) {
        hoist_policy_free(p);
        return NULL;
    }
    if (len > 0 && source[0] == LUA_SIGNATURE[0]) {
        hoist_errf(err, "%s: a precompiled Lua chunk; a policy must be Lua source", path);
        free(source);
        hoist_policy_free(p);
        return NULL;
    }

    begin_call(p);
    p->L = lua_newstate(policy_alloc, p);
    if (!p->L) {
        char limit[32];
        format_bytes(p->limits.max_memory, limit, sizeof limit);
        hoist_errf(err, "%s: cannot create a Lua state within the memory limit of %s", path, limit);
        free(source);
        hoist_policy_free(p);
        return NULL;
    }
    lua_sethook(p->L, count_hook, LUA_MASKCOUNT, HOIST_POLICY_HOOK_EVERY);

    load_ctx ctx = {p, source, len};
    lua_State *L = p->L;
    int status = LUA_ERRMEM;
    if (lua_checkstack(L, 3)) {
        lua_pushcfunction(L, message_handler);
        lua_pushcfunction(L, protected_load);
        lua_pushlightuserdata(L, &ctx);
        begin_call(p);
        status = lua_pcall(L, 1, 0, 1);
    } else {
        p->refused = true;
    }
    free(source);
    if (status != LUA_OK) {
        report_failure(p, status, false, err);
        hoist_policy_free(p);
        return NULL;
    }
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->hooks_ref);
    if (collect_hooks(p, err) != 0) {
        hoist_policy_free(p);
        return NULL;
    }
    lua_settop(L, 0);
    memset(&p->stats, 0, offsetof(hoist_policy_stats, memory)); /* the load is no call */
    return p;
}

void hoist_policy_free(hoist_policy *p)
{
    if (!p)
        return;
    if (p->L) {
        begin_call(p); /* finalizers run under a fresh budget */
        lua_close(p->L);
    }
    for (size_t i = 0; i < p->nhooks; i++)
        free(p->hooks[i]);
    free(p->hooks);
    free(p->name);
    free(p->path);
    free(p);
}

int hoist_policy_reload(hoist_policy **slot, const char *path, const hoist_policy_limits *limits,
                        hoist_err *err)
{
    hoist_policy *fresh = hoist_policy_load(path, limits, err);
    hoist_policy *old = *slot;
    if (!fresh) {
        if (old)
            old->stats.reload_failures++;
        return -1;
    }
    if (old) {
        fresh->stats.calls = old->stats.calls;
        fresh->stats.errors = old->stats.errors;
        fresh->stats.timeouts = old->stats.timeouts;
        fresh->stats.memory_errors = old->stats.memory_errors;
        fresh->stats.bad_results = old->stats.bad_results;
        fresh->stats.reload_failures = old->stats.reload_failures;
        fresh->stats.reloads = old->stats.reloads + 1;
        hoist_policy_free(old);
    }
    *slot = fresh;
    return 0;
}

bool hoist_policy_file_changed(const hoist_policy *p)
{
    struct stat st;
    if (stat(p->path, &st) != 0)
        return true;
    return st.st_dev != p->dev || st.st_ino != p->ino || st.st_size != p->size ||
           st.st_mtim.tv_sec != p->mtime.tv_sec || st.st_mtim.tv_nsec != p->mtime.tv_nsec;
}

/* ---- hooks and calls ---------------------------------------------------- */

bool hoist_policy_has(const hoist_policy *p, const char *hook)
{
    if (!p || !hook)
        return false;
    return bsearch(&hook, p->hooks, p->nhooks, sizeof *p->hooks, cmp_names) != NULL;
}

size_t hoist_policy_hook_count(const hoist_policy *p)
{
    return p->nhooks;
}

const char *hoist_policy_hook_name(const hoist_policy *p, size_t i)
{
    return i < p->nhooks ? p->hooks[i] : NULL;
}

const char *hoist_policy_name(const hoist_policy *p)
{
    return p->name;
}

const char *hoist_policy_path(const hoist_policy *p)
{
    return p->path;
}

hoist_policy_stats hoist_policy_stats_get(const hoist_policy *p)
{
    return p->stats;
}

typedef struct call_ctx {
    hoist_policy *p;
    const char *hook;
    const json_t *args;
    json_t *result;
    bool converting; /* the hook returned; its result is being converted */
    char what[128];
} call_ctx;

static int protected_call(lua_State *L)
{
    call_ctx *c = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->p->hooks_ref);
    lua_pushstring(L, c->hook);
    lua_rawget(L, -2);
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "hook %s is not defined", c->hook);
    size_t n = c->args ? json_array_size(c->args) : 0;
    if (n > 200)
        return luaL_error(L, "hook %s: too many arguments (%d)", c->hook, (int)n);
    luaL_checkstack(L, (int)n + 2, "too many arguments");
    for (size_t i = 0; i < n; i++)
        hoist_lua_push_json(L, json_array_get(c->args, i));
    lua_call(L, (int)n, 1);
    c->converting = true;
    hoist_lua_to_json(L, -1, c->what, &c->result);
    return 0;
}

int hoist_policy_call(hoist_policy *p, const char *hook, const json_t *args, json_t **result,
                      hoist_err *err)
{
    *result = NULL;
    p->stats.calls++;
    if (args && !json_is_array(args)) {
        p->stats.errors++;
        return hoist_errf(err, "%s: hook %s: the arguments must be a JSON array", p->path, hook);
    }
    lua_State *L = p->L;
    lua_settop(L, 0);
    call_ctx ctx;
    ctx.p = p;
    ctx.hook = hook;
    ctx.args = args;
    ctx.result = NULL;
    ctx.converting = false;
    snprintf(ctx.what, sizeof ctx.what, "hook %s", hook);
    begin_call(p);
    int status = LUA_ERRMEM;
    if (lua_checkstack(L, 3)) {
        lua_pushcfunction(L, message_handler);
        lua_pushcfunction(L, protected_call);
        lua_pushlightuserdata(L, &ctx);
        status = lua_pcall(L, 1, 0, 1);
    } else {
        p->refused = true;
    }
    if (status != LUA_OK) {
        json_decref(ctx.result);
        report_failure(p, status, ctx.converting, err);
        lua_settop(L, 0);
        return -1;
    }
    lua_settop(L, 0);
    *result = ctx.result;
    return 0;
}
