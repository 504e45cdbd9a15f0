/* plugin/loader.c - dlopen a provider plugin and check its descriptor; see loader.h. */
#include "plugin/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct hoist_plugin {
    void *dl;
    char *path;
    hoist_provider desc;   /* copy, zero-padded to this core's size */
    void *state;
    bool started;
};

typedef const hoist_provider *(*entry_fn)(uint32_t core_abi_version);

char *hoist_abi_format(uint32_t version, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u", HOIST_ABI_MAJOR_OF(version), HOIST_ABI_MINOR_OF(version));
    return buf;
}

const char *hoist_capability_name(uint64_t bit)
{
    switch (bit) {
    case HOIST_CAP_ON_DEMAND: return "on-demand";
    case HOIST_CAP_SPOT: return "spot";
    case HOIST_CAP_RESERVED: return "reserved";
    case HOIST_CAP_EVENTS: return "events";
    case HOIST_CAP_CONTROL: return "control";
    }
    return NULL;
}

/* Check the copied descriptor d (plugin size `size`); -1 with a message. */
static int check_descriptor(const hoist_provider *d, uint32_t size, hoist_err *err)
{
    static const struct {
        const char *name;
        size_t offset;
    } required[] = {
        {"init", offsetof(hoist_provider, init)},
        {"destroy", offsetof(hoist_provider, destroy)},
        {"catalog", offsetof(hoist_provider, catalog)},
        {"launch", offsetof(hoist_provider, launch)},
        {"terminate", offsetof(hoist_provider, terminate)},
        {"list", offsetof(hoist_provider, list)},
    };
    if (size < HOIST_PROVIDER_MIN_SIZE)
        return hoist_errf(err,
                          "descriptor size %u is smaller than the %zu bytes of the ABI 1.0 "
                          "required fields (corrupt or not built against <hoist/provider.h>)",
                          size, (size_t)HOIST_PROVIDER_MIN_SIZE);
    if (!d->name || !d->name[0])
        return hoist_errf(err, "descriptor has no name");
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        void (*fn)(void);
        memcpy(&fn, (const char *)d + required[i].offset, sizeof fn);
        if (!fn)
            return hoist_errf(err, "descriptor is missing required operation '%s'",
                              required[i].name);
    }
    /* Optional operations must agree with their capability bits. Fields the
     * plugin's struct does not have were zeroed by the copy. */
    bool has_events = (d->capabilities & HOIST_CAP_EVENTS) != 0;
    bool has_control = (d->capabilities & HOIST_CAP_CONTROL) != 0;
    if (has_events && !d->watch_events)
        return hoist_errf(err, "declares capability 'events' but has no watch_events operation");
    if (!has_events && d->watch_events)
        return hoist_errf(err, "has a watch_events operation but does not declare capability "
                               "'events'");
    if (has_control && !d->control)
        return hoist_errf(err, "declares capability 'control' but has no control operation");
    if (!has_control && d->control)
        return hoist_errf(err, "has a control operation but does not declare capability "
                               "'control'");
    return 0;
}

hoist_plugin *hoist_plugin_open(const char *path, hoist_err *err)
{
    char core_abi[16], plugin_abi[16];
    hoist_abi_format(HOIST_PROVIDER_ABI_VERSION, core_abi, sizeof core_abi);
    if (!path || !*path) {
        hoist_errf(err, "plugin: no path given");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        hoist_errf(err, "plugin %s: %s", path,
                   errno == ENOENT ? "no such file" : strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        hoist_errf(err, "plugin %s: not a regular file", path);
        return NULL;
    }
    /* dlopen only searches the library path for names without a slash. */
    char *dlpath = NULL;
    if (strchr(path, '/')) {
        dlpath = strdup(path);
    } else if ((dlpath = malloc(strlen(path) + 3))) {
        strcpy(dlpath, "./");
        strcat(dlpath, path);
    }
    hoist_plugin *p = calloc(1, sizeof *p);
    if (!p || !dlpath || !(p->path = strdup(path))) {
        free(dlpath);
        if (p)
            free(p->path);
        free(p);
        hoist_errf(err, "plugin %s: out of memory", path);
        return NULL;
    }
    dlerror();
    p->dl = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL);
    free(dlpath);
    if (!p->dl) {
        const char *why = dlerror();
        hoist_errf(err, "plugin %s: cannot load shared object: %s", path,
                   why ? why : "unknown dlopen error");
        goto fail;
    }
    dlerror();
    void *sym = dlsym(p->dl, HOIST_PROVIDER_ENTRY_SYMBOL);
    const char *dlerr = dlerror();
    if (dlerr || !sym) {
        hoist_errf(err, "plugin %s: missing symbol %s (not a hoist provider plugin?)", path,
                   HOIST_PROVIDER_ENTRY_SYMBOL);
        goto fail;
    }
    entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
    const hoist_provider *d = entry(HOIST_PROVIDER_ABI_VERSION);
    if (!d) {
        hoist_errf(err, "plugin %s: %s(%s) returned NULL: the plugin refused this core's "
                        "provider ABI %s",
                   path, HOIST_PROVIDER_ENTRY_SYMBOL, core_abi, core_abi);
        goto fail;
    }
    /* abi_version and size lead every version of the struct. */
    uint32_t abi = d->abi_version, size = d->size;
    if (HOIST_ABI_MAJOR_OF(abi) != HOIST_PROVIDER_ABI_MAJOR) {
        hoist_errf(err, "plugin %s: built for provider ABI %s, but this hoist supports ABI %s "
                        "(major versions must match; rebuild the plugin against hoist's headers)",
                   path, hoist_abi_format(abi, plugin_abi, sizeof plugin_abi), core_abi);
        goto fail;
    }
    memcpy(&p->desc, d, size < sizeof p->desc ? size : sizeof p->desc);
    if (check_descriptor(&p->desc, size, err) != 0) {
        hoist_err_prefix(err, "plugin %s", path);
        goto fail;
    }
    p->desc.size = size;
    return p;
fail:
    if (p->dl)
        dlclose(p->dl);
    free(p->path);
    free(p);
    return NULL;
}

const hoist_provider *hoist_plugin_descriptor(const hoist_plugin *p)
{
    return &p->desc;
}

const char *hoist_plugin_path(const hoist_plugin *p)
{
    return p->path;
}

void *hoist_plugin_state(const hoist_plugin *p)
{
    return p->state;
}

int hoist_plugin_start(hoist_plugin *p, const hoist_host *host, const char *config_json,
                       hoist_err *err)
{
    if (p->started)
        return hoist_errf(err, "plugin %s: already started", p->desc.name);
    if (!host)
        return hoist_errf(err, "plugin %s: no host services given", p->desc.name);
    hoist_error perr;
    memset(&perr, 0, sizeof perr);
    void *state = NULL;
    hoist_status st = p->desc.init(host, config_json ? config_json : "{}", &state, &perr);
    if (st != HOIST_OK) {
        perr.message[sizeof perr.message - 1] = '\0';
        return hoist_errf(err, "plugin %s: init failed (%s): %s", p->desc.name,
                          hoist_status_name(st),
                          perr.message[0] ? perr.message : "no message given");
    }
    p->state = state;
    p->started = true;
    return 0;
}

void hoist_plugin_stop(hoist_plugin *p)
{
    if (!p || !p->started)
        return;
    p->desc.destroy(p->state);
    p->state = NULL;
    p->started = false;
}

void hoist_plugin_close(hoist_plugin *p)
{
    if (!p)
        return;
    hoist_plugin_stop(p);
    dlclose(p->dl);
    free(p->path);
    free(p);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *hoist_plugin_resolve(const char *name, const char *const *dirs, size_t n_dirs,
                           hoist_err *err)
{
    if (!name || !*name) {
        hoist_errf(err, "plugin: empty name");
        return NULL;
    }
    size_t nlen = strlen(name);
    if (strchr(name, '/') || (nlen > 3 && !strcmp(name + nlen - 3, ".so"))) {
        char *copy = strdup(name);
        if (!copy)
            hoist_errf(err, "plugin %s: out of memory", name);
        return copy;
    }
    for (size_t i = 0; i < n_dirs; i++) {
        const char *d = dirs[i];
        if (!d || !d[0])
            continue;
        for (int form = 0; form < 4; form++) {
            char path[4096];
            int n;
            switch (form) {
            case 0: n = snprintf(path, sizeof path, "%s/%s.so", d, name); break;
            case 1: n = snprintf(path, sizeof path, "%s/.libs/%s.so", d, name); break;
            case 2: n = snprintf(path, sizeof path, "%s/%s/%s.so", d, name, name); break;
            default: n = snprintf(path, sizeof path, "%s/%s/.libs/%s.so", d, name, name); break;
            }
            if (n < 0 || (size_t)n >= sizeof path || !is_file(path))
                continue;
            char *copy = strdup(path);
            if (!copy)
                hoist_errf(err, "plugin %s: out of memory", name);
            return copy;
        }
    }
    char searched[768] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_dirs && used < sizeof searched; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        int n = snprintf(searched + used, sizeof searched - used, "%s%s", used ? ", " : "",
                         dirs[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    hoist_errf(err, "plugin %s: %s.so not found in %s", name, name,
               used ? searched : "(no plugin directories)");
    return NULL;
}

/* Append a copy of the first len bytes of dir to the vector; false when out of memory. */
static bool dirs_push(char ***v, size_t *n, size_t *cap, const char *dir, size_t len)
{
    if (*n + 2 > *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = c;
    }
    char *copy = strndup(dir, len);
    if (!copy)
        return false;
    (*v)[(*n)++] = copy;
    (*v)[*n] = NULL;
    return true;
}

char **hoist_plugin_default_dirs(const char *build_plugins_dir, size_t *n)
{
    size_t count = 0, cap = 8;
    char **v = calloc(cap, sizeof *v);
    bool ok = v != NULL;
    const char *env = getenv("HOIST_PLUGIN_PATH");
    while (ok && env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (len)
            ok = dirs_push(&v, &count, &cap, env, len);
        env = colon ? colon + 1 : NULL;
    }
    if (ok && build_plugins_dir && *build_plugins_dir)
        ok = dirs_push(&v, &count, &cap, build_plugins_dir, strlen(build_plugins_dir));
#ifdef HOIST_PKGLIBDIR
    if (ok)
        ok = dirs_push(&v, &count, &cap, HOIST_PKGLIBDIR, strlen(HOIST_PKGLIBDIR));
#endif
    if (!ok) {
        hoist_plugin_dirs_free(v);
        return NULL;
    }
    *n = count;
    return v;
}

void hoist_plugin_dirs_free(char **dirs)
{
    if (!dirs)
        return;
    for (char **d = dirs; *d; d++)
        free(*d);
    free(dirs);
}
