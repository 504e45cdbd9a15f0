/* policy/check.c - the hook API and `hoist policy check` (see check.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quantity.h"
#include "policy/check.h"

/* ---- describing values --------------------------------------------------- */

/* "a string", "an array", ... as a policy author thinks of the Lua value. */
static const char *kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return "a table";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "nil";
    }
    return "a value";
}

/* An empty Lua table converts to {}; it is also an empty array. */
static bool is_array_like(const json_t *v)
{
    return json_is_array(v) || (json_is_object(v) && json_object_size(v) == 0);
}

/* ---- result checks ------------------------------------------------------- */

static int check_boolean(const json_t *r, const json_t *args, hoist_err *err)
{
    (void)args;
    if (json_is_boolean(r))
        return 0;
    return hoist_errf(err, "expected a boolean, got %s", kind(r));
}

static int check_score(const json_t *r, const json_t *args, hoist_err *err)
{
    (void)args;
    if (json_is_null(r) || json_is_false(r))
        return 0;
    if (json_is_number(r))
        return isfinite(json_number_value(r)) ? 0 : hoist_errf(err, "expected a finite number");
    return hoist_errf(err, "expected a number, false or nil, got %s", kind(r));
}

static int check_order(const json_t *r, const json_t *args, hoist_err *err)
{
    if (!is_array_like(r))
        return hoist_errf(err, "expected an array of offering indices, got %s", kind(r));
    size_t n = json_array_size(json_array_get(args, 1));
    if (!json_is_array(r))
        return 0;
    bool *seen = calloc(n ? n : 1, sizeof *seen);
    if (!seen)
        return hoist_errf(err, "out of memory");
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(r, i, v) {
        if (!json_is_integer(v)) {
            rc = hoist_errf(err, "element %zu: expected an integer index, got %s", i + 1, kind(v));
            break;
        }
        json_int_t x = json_integer_value(v);
        if (x < 1 || (size_t)x > n) {
            rc = hoist_errf(err, "element %zu: index %lld is not between 1 and %zu", i + 1,
                            (long long)x, n);
            break;
        }
        if (seen[x - 1]) {
            rc = hoist_errf(err, "element %zu: index %lld appears twice", i + 1, (long long)x);
            break;
        }
        seen[x - 1] = true;
    }
    free(seen);
    return rc;
}

/* A table of string keys to string values ({} when empty). */
static int check_string_map(const json_t *m, const char *field, hoist_err *err)
{
    if (!json_is_object(m) && !is_array_like(m))
        return hoist_errf(err, "%s: expected a table of strings, got %s", field, kind(m));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (!json_is_string(v))
            return hoist_errf(err, "%s.%s: expected a string, got %s", field, k, kind(v));
    }
    if (json_is_array(m) && json_array_size(m) > 0)
        return hoist_errf(err, "%s: expected a table with string keys, got an array", field);
    return 0;
}

static int check_launch(const json_t *r, const json_t *args, hoist_err *err)
{
    (void)args;
    if (!json_is_object(r) && !is_array_like(r))
        return hoist_errf(err, "expected a table {tags, labels, taints}, got %s", kind(r));
    if (json_is_array(r) && json_array_size(r) > 0)
        return hoist_errf(err, "expected a table {tags, labels, taints}, got an array");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v) {
        if (!strcmp(k, "tags") || !strcmp(k, "labels")) {
            if (check_string_map(v, k, err) != 0)
                return -1;
        } else if (!strcmp(k, "taints")) {
            if (!is_array_like(v))
                return hoist_errf(err, "taints: expected an array of taints, got %s", kind(v));
            size_t i;
            json_t *t;
            json_array_foreach(v, i, t) {
                const json_t *key = json_object_get(t, "key");
                const json_t *value = json_object_get(t, "value");
                const char *effect = json_string_value(json_object_get(t, "effect"));
                if (!json_is_object(t))
                    return hoist_errf(err, "taints[%zu]: expected a table, got %s", i + 1, kind(t));
                if (!json_is_string(key) || !json_string_length(key))
                    return hoist_errf(err, "taints[%zu].key: expected a non-empty string", i + 1);
                if (value && !json_is_string(value))
                    return hoist_errf(err, "taints[%zu].value: expected a string, got %s", i + 1,
                                      kind(value));
                if (!effect || (strcmp(effect, "NoSchedule") && strcmp(effect, "PreferNoSchedule") &&
                                strcmp(effect, "NoExecute")))
                    return hoist_errf(err,
                                      "taints[%zu].effect: expected NoSchedule, PreferNoSchedule "
                                      "or NoExecute",
                                      i + 1);
            }
        } else {
            return hoist_errf(err, "unknown field %s (expected tags, labels or taints)", k);
        }
    }
    return 0;
}

static int check_recycle(const json_t *r, const json_t *args, hoist_err *err)
{
    (void)args;
    if (json_is_null(r))
        return 0;
    if (json_is_string(r) && json_string_length(r) > 0)
        return 0;
    if (json_is_string(r))
        return hoist_errf(err, "expected nil or a non-empty reason, got an empty string");
    return hoist_errf(err, "expected nil or a string (the reason), got %s", kind(r));
}

static int check_headroom(const json_t *r, const json_t *args, hoist_err *err)
{
    (void)args;
    if (!json_is_object(r) && !is_array_like(r))
        return hoist_errf(err, "expected a table {cpu, memory}, got %s", kind(r));
    if (json_is_array(r) && json_array_size(r) > 0)
        return hoist_errf(err, "expected a table {cpu, memory}, got an array");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v) {
        if (strcmp(k, "cpu") && strcmp(k, "memory"))
            return hoist_errf(err, "unknown field %s (expected cpu or memory)", k);
        if (json_is_number(v)) {
            if (!(json_number_value(v) >= 0) || !isfinite(json_number_value(v)))
                return hoist_errf(err, "%s: expected a number >= 0", k);
        } else if (json_is_string(v)) {
            hoist_quantity q;
            if (hoist_quantity_parse(json_string_value(v), &q, err) != 0)
                return hoist_err_prefix(err, "%s", k);
        } else {
            return hoist_errf(err, "%s: expected a number or a quantity string, got %s", k, kind(v));
        }
    }
    return 0;
}

static const hoist_policy_hook_api hook_apis[] = {
    {"close_batch", "batch", "a boolean: true closes the batch now", "batch", check_boolean},
    {"decorate_launch", "claim", "a table {tags, labels, taints}", "claim", check_launch},
    {"headroom", "nodepool", "a table {cpu, memory} of numbers or quantity strings", "nodepool",
     check_headroom},
    {"order_offerings", "claim, offerings", "an array of offering indices, best first",
     "claim,offerings", check_order},
    {"recycle", "node", "nil to keep the node, or a string: why to recycle it", "node",
     check_recycle},
    {"score_type", "type, nodepool", "a number (score), false (drop the type) or nil",
     "type,nodepool", check_score},
};

#define N_APIS (sizeof hook_apis / sizeof hook_apis[0])

const hoist_policy_hook_api *hoist_policy_hook_api_find(const char *name)
{
    for (size_t i = 0; i < N_APIS; i++)
        if (!strcmp(hook_apis[i].name, name))
            return &hook_apis[i];
    return NULL;
}

size_t hoist_policy_hook_api_count(void)
{
    return N_APIS;
}

const hoist_policy_hook_api *hoist_policy_hook_api_get(size_t i)
{
    return i < N_APIS ? &hook_apis[i] : NULL;
}

/* ---- the fixture --------------------------------------------------------- */

/* A pod batch, an m5.large, a NodePool, a claim with three offerings and a
 * g5 node ten days old, in the shapes the hooks receive. */
static const char fixture_json[] =
    "{\"batch\": {\"age_seconds\": 1.5, \"idle_seconds\": 0.4, \"pods\": 2,"
    "  \"max_priority\": 1000000, \"keys\": [\"default/web-7d9f-abcde\", \"payments/api-0\"]},"
    " \"type\": {\"name\": \"m5.large\", \"family\": \"m5\", \"size\": \"large\","
    "  \"category\": \"m\", \"generation\": 5, \"architecture\": \"amd64\","
    "  \"cpu_manufacturer\": \"intel\", \"hypervisor\": \"nitro\", \"bare_metal\": false,"
    "  \"burstable\": false, \"current_generation\": true, \"vcpus\": 2, \"memory_mib\": 8192,"
    "  \"gpu\": {\"count\": 0, \"name\": \"\", \"manufacturer\": \"\", \"memory_mib\": 0},"
    "  \"local_nvme_gb\": 0, \"network_bandwidth_mbps\": 750, \"max_pods\": 29,"
    "  \"price\": 0.096},"
    " \"nodepool\": {\"name\": \"default\", \"weight\": 10, \"labels\": {\"team\": \"platform\"},"
    "  \"capacity\": {\"cpu\": \"64\", \"memory\": \"256Gi\"},"
    "  \"requested\": {\"cpu\": \"40\", \"memory\": \"150Gi\"}},"
    " \"claim\": {\"nodepool\": \"default\", \"pods\": 3, \"instance_type\": \"m5.large\","
    "  \"zone\": \"us-east-1a\", \"capacity_type\": \"spot\", \"price\": 0.0412,"
    "  \"labels\": {\"hoist.dev/nodepool\": \"default\", \"team\": \"platform\"}},"
    " \"offerings\": ["
    "  {\"instance_type\": \"m5.large\", \"family\": \"m5\", \"zone\": \"us-east-1a\","
    "   \"capacity_type\": \"spot\", \"generation\": 5, \"price\": 0.0412,"
    "   \"capacity_score\": 3, \"score\": 0},"
    "  {\"instance_type\": \"m5.large\", \"family\": \"m5\", \"zone\": \"us-east-1b\","
    "   \"capacity_type\": \"on-demand\", \"generation\": 5, \"price\": 0.096,"
    "   \"capacity_score\": 0, \"score\": 0},"
    "  {\"instance_type\": \"m6i.large\", \"family\": \"m6i\", \"zone\": \"us-east-1a\","
    "   \"capacity_type\": \"spot\", \"generation\": 6, \"price\": 0.0398,"
    "   \"capacity_score\": 8, \"score\": 0}],"
    " \"node\": {\"name\": \"ip-10-0-7-21.ec2.internal\", \"nodepool\": \"gpu\","
    "  \"instance_type\": \"g5.xlarge\", \"family\": \"g5\", \"generation\": 5,"
    "  \"zone\": \"us-east-1a\", \"capacity_type\": \"on-demand\", \"age_seconds\": 864000,"
    "  \"price\": 1.006, \"pods\": 4,"
    "  \"labels\": {\"hoist.dev/nodepool\": \"gpu\","
    "   \"node.kubernetes.io/instance-type\": \"g5.xlarge\"}}}";

json_t *hoist_policy_check_fixture(void)
{
    json_error_t je;
    return json_loads(fixture_json, 0, &je);
}

/* The argument array for a hook from the fixture names in api->fixtures. */
static json_t *fixture_args(const json_t *fixture, const hoist_policy_hook_api *api)
{
    json_t *args = json_array();
    const char *s = api->fixtures;
    while (args && *s) {
        size_t n = strcspn(s, ",");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)n, s);
        json_t *v = json_object_get(fixture, name);
        if (!v || json_array_append(args, v) != 0) {
            json_decref(args);
            return NULL;
        }
        s += n + (s[n] == ',');
    }
    return args;
}

/* ---- the report ---------------------------------------------------------- */

static bool wanted(const hoist_policy_check_options *o, const char *hook)
{
    if (!o->hooks)
        return true;
    for (size_t i = 0; i < o->n_hooks; i++)
        if (!strcmp(o->hooks[i], hook))
            return true;
    return false;
}

/* Check one hook: the report entry, or NULL when out of memory. */
static json_t *check_hook(hoist_policy *p, const char *hook, const json_t *fixture, bool *ok)
{
    json_t *e = json_pack("{s:s}", "hook", hook);
    if (!e)
        return NULL;
    const hoist_policy_hook_api *api = hoist_policy_hook_api_find(hook);
    hoist_err err = {{0}};
    if (!api) {
        json_object_set_new(e, "known", json_false());
        if (!hoist_policy_has(p, hook)) {
            *ok = false;
            json_object_set_new(e, "ok", json_false());
            json_object_set_new(e, "error", json_string("not a hook of the API, nor defined by the policy"));
        } else {
            json_object_set_new(e, "warning",
                                json_string("not a hook of the API: hoist never calls it"));
        }
        return e;
    }
    json_object_set_new(e, "known", json_true());
    json_object_set_new(e, "signature", json_sprintf("%s(%s)", api->name, api->params));
    json_object_set_new(e, "expects", json_string(api->returns));
    if (!hoist_policy_has(p, hook)) {
        *ok = false;
        json_object_set_new(e, "ok", json_false());
        json_object_set_new(e, "error", json_string("the policy does not define this hook"));
        return e;
    }
    json_t *args = fixture_args(fixture, api);
    json_t *result = NULL;
    if (!args) {
        hoist_errf(&err, "out of memory");
    } else if (hoist_policy_call(p, hook, args, &result, &err) == 0) {
        json_object_set(e, "result", result);
        if (api->check(result, args, &err) == 0) {
            json_object_set_new(e, "ok", json_true());
        } else {
            hoist_err_prefix(&err, "wrong result");
        }
    }
    if (!json_object_get(e, "ok")) {
        *ok = false;
        json_object_set_new(e, "ok", json_false());
        json_object_set_new(e, "error", json_string(err.msg));
    }
    json_decref(result);
    json_decref(args);
    return e;
}

static void print_text(FILE *out, const json_t *report)
{
    const char *path = json_string_value(json_object_get(report, "policy"));
    const json_t *load_error = json_object_get(report, "error");
    if (load_error) {
        fprintf(out, "FAILED to load: %s\n", json_string_value(load_error));
        return;
    }
    fprintf(out, "policy %s (%s)\n", json_string_value(json_object_get(report, "name")), path);
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(report, "hooks"), i, h) {
        const char *name = json_string_value(json_object_get(h, "hook"));
        const json_t *warning = json_object_get(h, "warning");
        if (warning) {
            fprintf(out, "  warning: %s: %s\n", name, json_string_value(warning));
            continue;
        }
        const char *sig = json_string_value(json_object_get(h, "signature"));
        fprintf(out, "  %-5s %s\n", json_is_true(json_object_get(h, "ok")) ? "ok" : "FAIL",
                sig ? sig : name);
        const json_t *result = json_object_get(h, "result");
        if (result) {
            char *dump = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT);
            if (dump && strlen(dump) > 200)
                strcpy(dump + 196, " ...");
            fprintf(out, "        returned %s\n", dump ? dump : "?");
            free(dump);
        }
        const json_t *err = json_object_get(h, "error");
        if (err)
            fprintf(out, "        %s\n", json_string_value(err));
        const char *expects = json_string_value(json_object_get(h, "expects"));
        if (err && expects)
            fprintf(out, "        expected: %s\n", expects);
    }
    if (!json_is_true(json_object_get(report, "calls_hooks")))
        fprintf(out, "  warning: the policy defines no hook that hoist calls\n");
    fprintf(out, "%s\n", json_is_true(json_object_get(report, "ok")) ? "ok" : "FAILED");
}

int hoist_policy_check(const char *path, const hoist_policy_check_options *opts, FILE *out)
{
    hoist_policy_check_options none = {NULL, 0, false, NULL};
    if (!opts)
        opts = &none;
    json_t *report = json_pack("{s:s}", "policy", path);
    json_t *fixture = hoist_policy_check_fixture();
    if (!report || !fixture) {
        json_decref(report);
        json_decref(fixture);
        fprintf(out, "%s: out of memory\n", path);
        return 1;
    }
    bool ok = true;
    hoist_err err = {{0}};
    hoist_policy *p = hoist_policy_load(path, opts->limits, &err);
    if (!p) {
        ok = false;
        json_object_set_new(report, "error", json_string(err.msg));
    } else {
        json_object_set_new(report, "name", json_string(hoist_policy_name(p)));
        json_t *hooks = json_array();
        json_object_set_new(report, "hooks", hooks);
        /* the hooks the policy defines (sorted), then --hooks it does not */
        for (size_t i = 0; i < hoist_policy_hook_count(p); i++) {
            const char *name = hoist_policy_hook_name(p, i);
            if (wanted(opts, name)) {
                json_t *e = check_hook(p, name, fixture, &ok);
                if (!e || json_array_append_new(hooks, e) != 0)
                    ok = false;
            }
        }
        for (size_t i = 0; opts->hooks && i < opts->n_hooks; i++) {
            if (!hoist_policy_has(p, opts->hooks[i])) {
                json_t *e = check_hook(p, opts->hooks[i], fixture, &ok);
                if (!e || json_array_append_new(hooks, e) != 0)
                    ok = false;
            }
        }
        bool any = false;
        for (size_t i = 0; i < hoist_policy_hook_count(p); i++)
            any = any || hoist_policy_hook_api_find(hoist_policy_hook_name(p, i)) != NULL;
        json_object_set_new(report, "calls_hooks", json_boolean(any));
        hoist_policy_stats s = hoist_policy_stats_get(p);
        json_object_set_new(report, "peak_memory", json_integer((json_int_t)s.peak_memory));
        hoist_policy_free(p);
    }
    json_object_set_new(report, "ok", json_boolean(ok));
    if (opts->json) {
        char *dump = json_dumps(report, JSON_INDENT(2));
        fprintf(out, "%s\n", dump ? dump : "{\"ok\": false}");
        free(dump);
    } else {
        print_text(out, report);
    }
    json_decref(report);
    json_decref(fixture);
    return ok ? 0 : 1;
}
