/* kube/sink.c - the pipeline's write sink on the Kubernetes API; see sink.h. */
#include "kube/sink.h"

static const char component[] = "kube/sink";

static void sink_nominated(void *ctx, const char *ns, const char *name, const char *node)
{
    hoist_kube_sink *k = ctx;
    if (!k->events)
        return;
    bool fresh = k->is_new_node && k->is_new_node(k->arg, node);
    hoist_err err = {{0}};
    if (hoist_kube_event_nominated(k->events, ns, name, node, fresh, &err) < 0)
        hoist_log(k->log, HOIST_LOG_WARN, component, "%s", err.msg);
}

static void sink_unschedulable(void *ctx, const char *ns, const char *name, const char *reason)
{
    hoist_kube_sink *k = ctx;
    if (!k->events)
        return;
    hoist_err err = {{0}};
    if (hoist_kube_event_unschedulable(k->events, ns, name, reason, &err) < 0)
        hoist_log(k->log, HOIST_LOG_WARN, component, "%s", err.msg);
}

static int sink_taint(void *ctx, const char *node, const char *key, const char *value,
                      hoist_taint_effect effect, bool add)
{
    hoist_kube_sink *k = ctx;
    if (!k->writer)
        return 0;
    hoist_err err = {{0}};
    if (hoist_kube_writer_taint(k->writer, node, key, value, effect, add, &err) < 0) {
        hoist_log(k->log, HOIST_LOG_WARN, component, "%s", err.msg);
        return -1;
    }
    return 0;
}

static int sink_evict(void *ctx, const char *ns, const char *name)
{
    hoist_kube_sink *k = ctx;
    if (!k->writer)
        return 0;
    hoist_err err = {{0}};
    if (hoist_kube_writer_evict(k->writer, ns, name, &err) < 0) {
        hoist_log(k->log, HOIST_LOG_WARN, component, "%s", err.msg);
        return -1;
    }
    return 0;
}

static int sink_delete_node(void *ctx, const char *node)
{
    hoist_kube_sink *k = ctx;
    if (!k->writer)
        return 0;
    hoist_err err = {{0}};
    if (hoist_kube_writer_delete_node(k->writer, node, &err) < 0) {
        hoist_log(k->log, HOIST_LOG_WARN, component, "%s", err.msg);
        return -1;
    }
    return 0;
}

void hoist_kube_sink_bind(hoist_kube_sink *k, hoist_sink *out)
{
    out->ctx = k;
    out->nominated = sink_nominated;
    out->unschedulable = sink_unschedulable;
    out->taint = sink_taint;
    out->evict = sink_evict;
    out->delete_node = sink_delete_node;
}
