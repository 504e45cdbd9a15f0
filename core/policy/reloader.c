/*
 * policy/reloader.c - policy reload on SIGHUP and on file change (see reloader.h).
 */
#include "policy/reloader.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int hoist_policy_reloader_reload(hoist_policy_reloader *r)
{
    hoist_err err = {{0}};
    int rc = hoist_policy_reload(r->slot, r->path, &r->limits, &err);
    if (rc == 0) {
        r->reloads++;
        r->last_error.msg[0] = '\0';
    } else {
        r->failures++;
        r->last_error = err;
    }
    if (r->cb)
        r->cb(r->arg, *r->slot, rc == 0, rc == 0 ? NULL : &err);
    return rc;
}

static void on_sighup(uv_signal_t *h, int signum)
{
    (void)signum;
    hoist_policy_reloader_reload(h->data);
}

/* The file's identity now (zeros when it cannot be stat()ed). */
static void file_sig(const char *path, hoist_file_sig *sig)
{
    struct stat st;
    memset(sig, 0, sizeof *sig);
    if (stat(path, &st) == 0) {
        sig->dev = (uint64_t)st.st_dev;
        sig->ino = (uint64_t)st.st_ino;
        sig->size = (int64_t)st.st_size;
        sig->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
}

static void on_poll(uv_timer_t *t)
{
    hoist_policy_reloader *r = t->data;
    hoist_file_sig now;
    file_sig(r->path, &now);
    /* a failed load keeps the old policy, whose file still differs: try
     * again only when the file changes again */
    if (memcmp(&now, &r->last_try, sizeof now) == 0)
        return;
    if (*r->slot && !hoist_policy_file_changed(*r->slot))
        return;
    r->last_try = now;
    hoist_policy_reloader_reload(r);
}

int hoist_policy_reloader_start(hoist_policy_reloader *r, uv_loop_t *loop, hoist_policy **slot,
                                const char *path, const hoist_policy_limits *limits,
                                uint64_t poll_ms, hoist_reload_cb cb, void *arg, hoist_err *err)
{
    memset(r, 0, sizeof *r);
    r->slot = slot;
    r->limits = limits ? *limits : hoist_policy_limits_default();
    r->cb = cb;
    r->arg = arg;
    if (!(r->path = strdup(path)))
        return hoist_errf(err, "policy reloader: out of memory");
    file_sig(r->path, &r->last_try);
    int rc = uv_signal_init(loop, &r->sighup);
    if (rc == 0) {
        r->open_handles++;
        r->sighup.data = r;
        rc = uv_signal_start(&r->sighup, on_sighup, SIGHUP);
    }
    if (rc == 0) {
        rc = uv_timer_init(loop, &r->poll);
        if (rc == 0) {
            r->open_handles++;
            r->poll.data = r;
            if (poll_ms)
                rc = uv_timer_start(&r->poll, on_poll, poll_ms, poll_ms);
        }
    }
    if (rc != 0) {
        hoist_errf(err, "policy reloader: %s", uv_strerror(rc));
        hoist_policy_reloader_stop(r);
        return -1;
    }
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    hoist_policy_reloader *r = h->data;
    if (--r->open_handles == 0) {
        free(r->path);
        r->path = NULL;
    }
}

void hoist_policy_reloader_stop(hoist_policy_reloader *r)
{
    if (r->open_handles == 0) {
        free(r->path);
        r->path = NULL;
        return;
    }
    int n = r->open_handles;
    if (n >= 1 && !uv_is_closing((uv_handle_t *)&r->sighup))
        uv_close((uv_handle_t *)&r->sighup, on_closed);
    if (n >= 2 && !uv_is_closing((uv_handle_t *)&r->poll))
        uv_close((uv_handle_t *)&r->poll, on_closed);
}

bool hoist_policy_reloader_closed(const hoist_policy_reloader *r)
{
    return r->open_handles == 0;
}
