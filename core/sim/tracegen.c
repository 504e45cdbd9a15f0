/*
 * sim/tracegen.c - synthetic workload traces: a diurnal web service, batch
 * jobs, GPU training jobs and stateful sets with zone-pinned volumes.
 *
 * Each generator walks time forward and pushes events (possibly in the
 * future, such as a task's delete) into a min-heap ordered by (time, push
 * order); events earlier than the generator's current time are written out as
 * it goes, so memory holds only the events still to come, never the trace.
 * Randomness comes from a splitmix64 seeded by the seed and the kind, so a
 * seed always gives the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "state/cluster.h"
#include "util/strmap.h"

#define MS_PER_S 1000ull
#define MS_PER_MIN (60ull * MS_PER_S)
#define MS_PER_HOUR (60ull * MS_PER_MIN)
#define MS_PER_DAY (24ull * MS_PER_HOUR)

#define MAX_HOURS 8784.0
#define MAX_SCALE 1000.0

/* ---- randomness ---------------------------------------------------------- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static uint64_t rng_range(rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

/* A UUID-shaped id (version 4 layout) from the generator's randomness. */
static void rng_uuid(rng *r, char out[37])
{
    uint64_t a = rng_next(r), b = rng_next(r);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
             (unsigned)(0x8000u | ((b >> 48) & 0x3fffu)),
             (unsigned long long)(b & 0xffffffffffffull));
}

/* The alphabet Kubernetes uses for generated name suffixes (no vowels). */
static const char suffix_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
#define SUFFIX_ALPHABET_LEN 27u
#define SUFFIX_SPACE 14348907ull /* 27^5 */

/* A 5-character suffix for the n-th name of a family: a fixed permutation of
 * 0..27^5-1 (multiplier prime to 3), so suffixes never repeat within 27^5
 * names yet look random; beyond that the count itself is appended. */
static void name_suffix(uint64_t n, uint64_t offset, char *out, size_t cap)
{
    if (n >= SUFFIX_SPACE) {
        snprintf(out, cap, "%llu", (unsigned long long)n);
        return;
    }
    uint64_t x = (n * 1000003ull + offset) % SUFFIX_SPACE;
    char s[6];
    for (int i = 0; i < 5; i++) {
        s[i] = suffix_alphabet[x % SUFFIX_ALPHABET_LEN];
        x /= SUFFIX_ALPHABET_LEN;
    }
    s[5] = '\0';
    snprintf(out, cap, "%s", s);
}

/* A 10-character pod-template-hash / controller-revision-hash. */
static void template_hash(rng *r, char out[11])
{
    uint64_t x = rng_next(r);
    for (int i = 0; i < 10; i++) {
        out[i] = suffix_alphabet[x % SUFFIX_ALPHABET_LEN];
        x /= SUFFIX_ALPHABET_LEN;
    }
    out[10] = '\0';
}

/* ---- the event heap and the writer ---------------------------------------- */

typedef struct gen_event {
    uint64_t at_ms;
    uint64_t seq;
    hoist_object_op op;
    json_t *object;
} gen_event;

typedef struct gen {
    FILE *out;
    hoist_err *err;
    rng r;
    uint64_t seed;          /* the kind's seed, for ids derived from names */
    const char *ns;
    double scale;
    uint64_t end_ms;        /* events at or after this are dropped */
    uint64_t written_ms;    /* every event before this has been written */
    uint64_t seq;
    gen_event *heap;
    size_t n, cap;
} gen;

static bool event_less(const gen_event *a, const gen_event *b)
{
    return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->seq < b->seq);
}

static void heap_swap(gen_event *a, gen_event *b)
{
    gen_event t = *a;
    *a = *b;
    *b = t;
}

/* Push an event (object stolen, NULL = out of memory). Events at or past the
 * end are dropped. 0 or -1 with err. */
static int gen_push(gen *g, uint64_t at_ms, hoist_object_op op, json_t *object)
{
    if (!object)
        return hoist_errf(g->err, "out of memory");
    if (at_ms >= g->end_ms) {
        json_decref(object);
        return 0;
    }
    if (at_ms < g->written_ms) {
        json_decref(object);
        return hoist_errf(g->err, "tracegen: internal error: event at %llu ms after writing "
                                  "up to %llu ms",
                          (unsigned long long)at_ms, (unsigned long long)g->written_ms);
    }
    if (g->n == g->cap) {
        size_t nc = g->cap ? 2 * g->cap : 256;
        gen_event *h = realloc(g->heap, nc * sizeof *h);
        if (!h) {
            json_decref(object);
            return hoist_errf(g->err, "out of memory");
        }
        g->heap = h;
        g->cap = nc;
    }
    size_t i = g->n++;
    g->heap[i] = (gen_event){at_ms, g->seq++, op, object};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!event_less(&g->heap[i], &g->heap[parent]))
            break;
        heap_swap(&g->heap[i], &g->heap[parent]);
        i = parent;
    }
    return 0;
}

static gen_event heap_pop(gen *g)
{
    gen_event top = g->heap[0];
    g->heap[0] = g->heap[--g->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->n && event_less(&g->heap[l], &g->heap[m]))
            m = l;
        if (r < g->n && event_less(&g->heap[r], &g->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(&g->heap[i], &g->heap[m]);
        i = m;
    }
    return top;
}

/* Write every queued event before until_ms; later pushes must not be earlier. */
static int gen_write_before(gen *g, uint64_t until_ms)
{
    while (g->n > 0 && g->heap[0].at_ms < until_ms) {
        gen_event e = heap_pop(g);
        int rc = hoist_trace_write(g->out, e.at_ms, e.op, e.object);
        json_decref(e.object);
        if (rc < 0)
            return hoist_errf(g->err, "cannot write the trace: %s", strerror(errno ? errno : EIO));
    }
    if (until_ms > g->written_ms)
        g->written_ms = until_ms;
    return 0;
}

static void gen_free(gen *g)
{
    for (size_t i = 0; i < g->n; i++)
        json_decref(g->heap[i].object);
    free(g->heap);
}

/* ---- Kubernetes objects ---------------------------------------------------- */

/* The uid of the controller kind/name: the same for every pod it owns. */
static void owner_uid(const gen *g, const char *kind, const char *name, char out[37])
{
    rng r = {g->seed ^ hoist_hash_bytes(kind, strlen(kind)) ^
             (hoist_hash_bytes(name, strlen(name)) * 0x9E3779B97F4A7C15ull)};
    rng_uuid(&r, out);
}

/* A controller ownerReference. */
static json_t *owner_ref(const gen *g, const char *api, const char *kind, const char *name)
{
    char uid[37];
    owner_uid(g, kind, name, uid);
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api, "kind", kind, "name",
                     name, "uid", uid, "controller", 1, "blockOwnerDeletion", 1);
}

/* What a generated pod looks like. */
typedef struct pod_args {
    const char *name;
    json_t *labels;             /* stolen */
    json_t *owner;              /* stolen: the controller ownerReference */
    const char *container;      /* container name */
    const char *image;
    const char *cpu;            /* requests.cpu */
    const char *memory;         /* requests.memory (and limits.memory) */
    const char *cpu_limit;      /* limits.cpu, or NULL */
    int gpus;                   /* nvidia.com/gpu in requests and limits, 0 = none */
    const char *priority_class; /* priorityClassName; priority below */
    int priority;
    const char *restart_policy;
    int grace_seconds;          /* terminationGracePeriodSeconds */
} pod_args;

/* A Pod as the API server stores it after admission (no status: pending). */
static json_t *make_pod(gen *g, const pod_args *a)
{
    char uid[37];
    rng_uuid(&g->r, uid);
    json_t *requests = json_pack("{s:s, s:s}", "cpu", a->cpu, "memory", a->memory);
    json_t *limits = json_pack("{s:s}", "memory", a->memory);
    if (requests && limits && a->cpu_limit)
        json_object_set_new(limits, "cpu", json_string(a->cpu_limit));
    if (requests && limits && a->gpus > 0) {
        json_object_set_new(requests, "nvidia.com/gpu", json_integer(a->gpus));
        json_object_set_new(limits, "nvidia.com/gpu", json_integer(a->gpus));
    }
    json_t *container = json_pack("{s:s, s:s, s:{s:o, s:o}}", "name", a->container, "image",
                                  a->image, "resources", "requests", requests, "limits", limits);
    json_t *owners = json_pack("[o]", a->owner);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:o, s:o}, s:{s:[o], s:s, s:i, s:s, s:i, "
                     "s:s, s:s}}",
                     "apiVersion", "v1", "kind", "Pod", "metadata", "name", a->name,
                     "namespace", g->ns, "uid", uid, "labels", a->labels, "ownerReferences",
                     owners, "spec", "containers", container, "restartPolicy",
                     a->restart_policy, "terminationGracePeriodSeconds", a->grace_seconds,
                     "priorityClassName", a->priority_class, "priority", a->priority,
                     "schedulerName", "default-scheduler", "serviceAccountName", "default");
}

/* Set key of pod.spec (value stolen); NULL pod or value: NULL (pod released). */
static json_t *spec_set(json_t *pod, const char *key, json_t *value)
{
    if (!pod || !value || json_object_set_new(json_object_get(pod, "spec"), key, value) < 0) {
        json_decref(pod);
        json_decref(value);
        return NULL;
    }
    return pod;
}

static uint64_t scaled(double base, double scale)
{
    double v = round(base * scale);
    return v < 1 ? 1 : (uint64_t)v;
}

/* ---- web: a diurnal service ------------------------------------------------ */

/* A service of the web trace. */
typedef struct web_service {
    const char *app;
    const char *image;
    const char *cpu, *memory, *cpu_limit;
    double peak;             /* replicas at peak for scale 1 */
    bool spread_zones;       /* topologySpreadConstraints on zone, ScheduleAnyway */
} web_service;

static const web_service web_services[] = {
    {"frontend", "nginx:1.27.2", "250m", "512Mi", "1", 180, true},
    {"api", "registry.example.com/shop/api:3.14.1", "1", "2Gi", "2", 90, false},
    {"checkout", "registry.example.com/shop/checkout:1.9.0", "500m", "1Gi", NULL, 30, false},
};
#define N_WEB (sizeof web_services / sizeof web_services[0])

/* The daily load as a fraction of the peak: 20% at 04:00, 100% at 16:00. */
static double web_load(uint64_t at_ms)
{
    double hour = (double)(at_ms % MS_PER_DAY) / (double)MS_PER_HOUR;
    const double pi = 3.14159265358979323846;
    return 0.2 + 0.8 * (1.0 - cos(2.0 * pi * (hour - 4.0) / 24.0)) / 2.0;
}

typedef struct web_state {
    char rs[48];           /* ReplicaSet name */
    char hash[11];         /* pod-template-hash */
    uint64_t offset;       /* name suffix permutation offset */
    uint64_t made;         /* pods created so far */
    char (*live)[96];      /* live pod names, oldest first */
    size_t n_live, cap_live;
} web_state;

static json_t *web_pod(gen *g, const web_service *s, const web_state *st, const char *name)
{
    json_t *labels = json_pack("{s:s, s:s, s:s}", "app", s->app, "pod-template-hash", st->hash,
                               "tier", "web");
    pod_args a = {name,  labels,       owner_ref(g, "apps/v1", "ReplicaSet", st->rs),
                  s->app, s->image,    s->cpu, s->memory, s->cpu_limit, 0, "production", 1000,
                  "Always", 30};
    json_t *pod = make_pod(g, &a);
    if (pod && s->spread_zones)
        pod = spec_set(pod, "topologySpreadConstraints",
                       json_pack("[{s:i, s:s, s:s, s:{s:{s:s}}, s:[s]}]", "maxSkew", 1,
                                 "topologyKey", "topology.kubernetes.io/zone",
                                 "whenUnsatisfiable", "ScheduleAnyway", "labelSelector",
                                 "matchLabels", "app", s->app, "matchLabelKeys",
                                 "pod-template-hash"));
    return pod;
}

static int gen_web(gen *g)
{
    web_state st[N_WEB];
    memset(st, 0, sizeof st);
    int rc = -1;
    for (size_t i = 0; i < N_WEB; i++) {
        template_hash(&g->r, st[i].hash);
        snprintf(st[i].rs, sizeof st[i].rs, "%s-%s", web_services[i].app, st[i].hash);
        st[i].offset = rng_next(&g->r) % SUFFIX_SPACE;
    }
    const uint64_t step = 5 * MS_PER_MIN;
    for (uint64_t t = 0; t < g->end_ms; t += step) {
        if (gen_write_before(g, t) < 0)
            goto done;
        for (size_t i = 0; i < N_WEB; i++) {
            const web_service *s = &web_services[i];
            web_state *w = &st[i];
            double noise = 1.0 + 0.06 * (rng_unit(&g->r) - 0.5);
            uint64_t target = scaled(s->peak * web_load(t) * noise, g->scale);
            while (w->n_live < target) {
                if (w->n_live == w->cap_live) {
                    size_t nc = w->cap_live ? 2 * w->cap_live : 64;
                    char(*p)[96] = realloc(w->live, nc * sizeof *p);
                    if (!p) {
                        hoist_errf(g->err, "out of memory");
                        goto done;
                    }
                    w->live = p;
                    w->cap_live = nc;
                }
                char suffix[24];
                name_suffix(w->made++, w->offset, suffix, sizeof suffix);
                char *name = w->live[w->n_live];
                snprintf(name, 96, "%.47s-%.23s", w->rs, suffix);
                if (gen_push(g, t, HOIST_OBJECT_ADD, web_pod(g, s, w, name)) < 0)
                    goto done;
                w->n_live++;
            }
            while (w->n_live > target) {
                const char *name = w->live[--w->n_live];
                if (gen_push(g, t, HOIST_OBJECT_DELETE, hoist_object_ref("v1", "Pod", g->ns, name)) < 0)
                    goto done;
            }
        }
    }
    rc = 0;
done:
    for (size_t i = 0; i < N_WEB; i++)
        free(st[i].live);
    return rc;
}

/* ---- batch: bursts of Job pods ----------------------------------------------- */

static const char *const batch_jobs[] = {"etl-orders", "nightly-report", "feature-backfill",
                                         "image-resize", "log-compaction"};

static int gen_batch(gen *g)
{
    uint64_t t = rng_range(&g->r, 0, 30) * MS_PER_MIN;
    while (t < g->end_ms) {
        if (gen_write_before(g, t) < 0)
            return -1;
        const char *base = batch_jobs[rng_next(&g->r) % (sizeof batch_jobs / sizeof batch_jobs[0])];
        double u = rng_unit(&g->r);
        uint64_t tasks = scaled(20.0 + floor(u * u * 181.0), g->scale);
        unsigned cpu = (unsigned)rng_range(&g->r, 1, 4);
        unsigned mem = (unsigned)rng_range(&g->r, 2, 8);
        double minutes = (double)rng_range(&g->r, 5, 40);
        char job[96], uid[37], cpu_s[16], mem_s[16];
        /* a CronJob names its Jobs after the scheduled minute */
        snprintf(job, sizeof job, "%s-%llu", base, 28900000ull + t / MS_PER_MIN);
        owner_uid(g, "Job", job, uid);
        snprintf(cpu_s, sizeof cpu_s, "%u", cpu);
        snprintf(mem_s, sizeof mem_s, "%uGi", mem);
        uint64_t offset = rng_next(&g->r) % SUFFIX_SPACE;
        for (uint64_t k = 0; k < tasks; k++) {
            char suffix[24], name[128];
            name_suffix(k, offset, suffix, sizeof suffix);
            snprintf(name, sizeof name, "%s-%s", job, suffix);
            json_t *labels = json_pack("{s:s, s:s, s:s}", "app", base,
                                       "batch.kubernetes.io/job-name", job,
                                       "batch.kubernetes.io/controller-uid", uid);
            pod_args a = {name, labels, owner_ref(g, "batch/v1", "Job", job), "worker",
                          "registry.example.com/data/worker:2.4.0", cpu_s, mem_s, NULL, 0,
                          "batch", 100, "Never", 30};
            if (gen_push(g, t, HOIST_OBJECT_ADD, make_pod(g, &a)) < 0)
                return -1;
            double run = minutes * (0.8 + 0.4 * rng_unit(&g->r));
            run = run < 5 ? 5 : run > 40 ? 40 : run;
            uint64_t end = t + (uint64_t)llround(run * 60.0) * MS_PER_S;
            if (gen_push(g, end, HOIST_OBJECT_DELETE, hoist_object_ref("v1", "Pod", g->ns, name)) < 0)
                return -1;
        }
        t += rng_range(&g->r, 30, 90) * MS_PER_MIN;
    }
    return 0;
}

/* ---- ml: GPU training jobs ------------------------------------------------------- */

static const char *const ml_models[] = {"resnet50", "bert-large", "llama-ft", "whisper",
                                        "recsys"};

static int gen_ml(gen *g)
{
    /* about four jobs a day at scale 1, exponential gaps of at least 10 minutes */
    const double mean_gap_ms = (double)MS_PER_DAY / (4.0 * g->scale);
    uint64_t t = rng_range(&g->r, 0, 180) * MS_PER_MIN;
    for (unsigned k = 1; t < g->end_ms; k++) {
        if (gen_write_before(g, t) < 0)
            return -1;
        const char *model = ml_models[rng_next(&g->r) % (sizeof ml_models / sizeof ml_models[0])];
        double u = rng_unit(&g->r);
        int gpus = u < 0.5 ? 1 : u < 0.8 ? 4 : 8;
        uint64_t workers = gpus == 1 ? 1 : gpus == 4 ? rng_range(&g->r, 1, 2) : rng_range(&g->r, 1, 4);
        uint64_t run_ms = rng_range(&g->r, 60, 360) * MS_PER_MIN;
        char job[96], uid[37], cpu_s[16], mem_s[16];
        snprintf(job, sizeof job, "train-%s-%u", model, k);
        owner_uid(g, "Job", job, uid);
        snprintf(cpu_s, sizeof cpu_s, "%d", gpus == 1 ? 3 : gpus == 4 ? 14 : 60);
        snprintf(mem_s, sizeof mem_s, "%dGi", gpus == 1 ? 12 : gpus == 4 ? 56 : 240);
        uint64_t offset = rng_next(&g->r) % SUFFIX_SPACE;
        for (uint64_t w = 0; w < workers; w++) {
            char suffix[24], name[128], index[24];
            name_suffix(w, offset, suffix, sizeof suffix);
            snprintf(name, sizeof name, "%s-%llu-%s", job, (unsigned long long)w, suffix);
            snprintf(index, sizeof index, "%llu", (unsigned long long)w);
            json_t *labels = json_pack("{s:s, s:s, s:s, s:s}", "app", "training", "model",
                                       model, "batch.kubernetes.io/job-name", job,
                                       "batch.kubernetes.io/job-completion-index", index);
            if (labels)
                json_object_set_new(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
            pod_args a = {name, labels, owner_ref(g, "batch/v1", "Job", job), "trainer",
                          "registry.example.com/ml/trainer:cuda12.4", cpu_s, mem_s, NULL, gpus,
                          "training", 500, "Never", 120};
            json_t *pod = make_pod(g, &a);
            pod = spec_set(pod, "nodeSelector", json_pack("{s:s}", "hoist.dev/nodepool", "gpu"));
            pod = spec_set(pod, "tolerations",
                           json_pack("[{s:s, s:s, s:s, s:s}]", "key", "nvidia.com/gpu", "operator",
                                     "Equal", "value", "true", "effect", "NoSchedule"));
            pod = spec_set(pod, "volumes",
                           json_pack("[{s:s, s:{s:s}}]", "name", "dshm", "emptyDir", "medium",
                                     "Memory"));
            if (gen_push(g, t, HOIST_OBJECT_ADD, pod) < 0 ||
                gen_push(g, t + run_ms, HOIST_OBJECT_DELETE,
                         hoist_object_ref("v1", "Pod", g->ns, name)) < 0)
                return -1;
        }
        double gap = -log(1.0 - rng_unit(&g->r)) * mean_gap_ms;
        t += gap < (double)(10 * MS_PER_MIN) ? 10 * MS_PER_MIN : (uint64_t)gap;
    }
    return 0;
}

/* ---- stateful: StatefulSets with zone-pinned volumes ------------------------------- */

typedef struct stateful_set {
    const char *app;
    const char *image;
    double replicas;          /* at scale 1 */
    const char *cpu, *memory, *storage;
    const char *mount;
} stateful_set;

static const stateful_set stateful_sets[] = {
    {"postgres", "postgres:16.4", 3, "2", "8Gi", "100Gi", "/var/lib/postgresql/data"},
    {"kafka", "apache/kafka:3.8.0", 5, "4", "16Gi", "500Gi", "/var/lib/kafka"},
    {"redis", "redis:7.4.1", 3, "1", "4Gi", "20Gi", "/data"},
    {"elasticsearch", "elasticsearch:8.15.3", 6, "2", "8Gi", "200Gi",
     "/usr/share/elasticsearch/data"},
};
#define N_STATEFUL (sizeof stateful_sets / sizeof stateful_sets[0])

static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
#define STORAGE_CLASS "ebs-gp3"

static json_t *stateful_pod(gen *g, const stateful_set *s, uint64_t i, const char *revision)
{
    char name[96], claim[128], index[24];
    snprintf(name, sizeof name, "%s-%llu", s->app, (unsigned long long)i);
    snprintf(claim, sizeof claim, "data-%s", name);
    snprintf(index, sizeof index, "%llu", (unsigned long long)i);
    json_t *labels = json_pack("{s:s, s:s, s:s, s:s}", "app", s->app, "controller-revision-hash",
                               revision, "statefulset.kubernetes.io/pod-name", name,
                               "apps.kubernetes.io/pod-index", index);
    pod_args a = {name, labels, owner_ref(g, "apps/v1", "StatefulSet", s->app), s->app,
                  s->image, s->cpu, s->memory, NULL, 0, "database", 2000, "Always", 60};
    json_t *pod = make_pod(g, &a);
    if (pod) {
        json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
        if (json_object_set_new(c, "volumeMounts",
                                json_pack("[{s:s, s:s}]", "name", "data", "mountPath",
                                          s->mount)) < 0) {
            json_decref(pod);
            return NULL;
        }
    }
    pod = spec_set(pod, "hostname", json_string(name));
    pod = spec_set(pod, "subdomain", json_string(s->app));
    pod = spec_set(pod, "volumes",
                   json_pack("[{s:s, s:{s:s}}]", "name", "data", "persistentVolumeClaim",
                             "claimName", claim));
    pod = spec_set(pod, "affinity",
                   json_pack("{s:{s:[{s:i, s:{s:{s:{s:s}}, s:s}}]}}", "podAntiAffinity",
                             "preferredDuringSchedulingIgnoredDuringExecution", "weight", 100,
                             "podAffinityTerm", "labelSelector", "matchLabels", "app", s->app,
                             "topologyKey", "kubernetes.io/hostname"));
    return pod;
}

/* The PV and PVC of pod i of s, pinned to zone, both pushed at time 0. */
static int stateful_volume(gen *g, const stateful_set *s, uint64_t i, const char *zone)
{
    char claim[128], uid[37], pv[48], handle[32];
    snprintf(claim, sizeof claim, "data-%s-%llu", s->app, (unsigned long long)i);
    rng_uuid(&g->r, uid);
    snprintf(pv, sizeof pv, "pvc-%s", uid);
    snprintf(handle, sizeof handle, "vol-0%016llx", (unsigned long long)(rng_next(&g->r)));
    json_t *pvj = json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:[s], s:{s:s}, s:{s:s, s:s, s:s, s:s}, "
        "s:{s:s, s:s, s:s}, s:{s:{s:[{s:[{s:s, s:s, s:[s]}]}]}}, s:s, s:s, s:s}, s:{s:s}}",
        "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", pv, "annotations",
        "pv.kubernetes.io/provisioned-by", "ebs.csi.aws.com", "spec", "accessModes",
        "ReadWriteOnce", "capacity", "storage", s->storage, "claimRef", "apiVersion", "v1",
        "kind", "PersistentVolumeClaim", "namespace", g->ns, "name", claim, "csi", "driver",
        "ebs.csi.aws.com", "fsType", "ext4", "volumeHandle", handle, "nodeAffinity", "required",
        "nodeSelectorTerms", "matchExpressions", "key", "topology.kubernetes.io/zone",
        "operator", "In", "values", zone, "persistentVolumeReclaimPolicy", "Delete",
        "storageClassName", STORAGE_CLASS, "volumeMode", "Filesystem", "status", "phase",
        "Bound");
    if (gen_push(g, 0, HOIST_OBJECT_ADD, pvj) < 0)
        return -1;
    json_t *pvc = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s], s:{s:{s:s}}, s:s, s:s, s:s}, "
        "s:{s:s, s:[s], s:{s:s}}}",
        "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata", "name", claim,
        "namespace", g->ns, "uid", uid, "labels", "app", s->app, "spec", "accessModes",
        "ReadWriteOnce", "resources", "requests", "storage", s->storage, "storageClassName",
        STORAGE_CLASS, "volumeMode", "Filesystem", "volumeName", pv, "status", "phase", "Bound",
        "accessModes", "ReadWriteOnce", "capacity", "storage", s->storage);
    return gen_push(g, 0, HOIST_OBJECT_ADD, pvc);
}

static int gen_stateful(gen *g)
{
    uint64_t replicas[N_STATEFUL];
    char revision[N_STATEFUL][64];
    json_t *sc = json_pack("{s:s, s:s, s:{s:s}, s:s, s:{s:s}, s:s, s:s, s:b}", "apiVersion",
                           "storage.k8s.io/v1", "kind", "StorageClass", "metadata", "name",
                           STORAGE_CLASS, "provisioner", "ebs.csi.aws.com", "parameters", "type",
                           "gp3", "reclaimPolicy", "Delete", "volumeBindingMode",
                           "WaitForFirstConsumer", "allowVolumeExpansion", 1);
    if (gen_push(g, 0, HOIST_OBJECT_ADD, sc) < 0)
        return -1;
    for (size_t s = 0; s < N_STATEFUL; s++) {
        replicas[s] = scaled(stateful_sets[s].replicas, g->scale);
        uint64_t zone0 = rng_next(&g->r) % 3;
        for (uint64_t i = 0; i < replicas[s]; i++)
            if (stateful_volume(g, &stateful_sets[s], i, zones[(zone0 + i) % 3]) < 0)
                return -1;
    }
    /* OrderedReady: each pod 20 s after the previous one of its set */
    for (size_t s = 0; s < N_STATEFUL; s++) {
        char hash[11];
        template_hash(&g->r, hash);
        snprintf(revision[s], sizeof revision[s], "%s-%s", stateful_sets[s].app, hash);
        for (uint64_t i = 0; i < replicas[s]; i++)
            if (gen_push(g, i * 20 * MS_PER_S, HOIST_OBJECT_ADD,
                         stateful_pod(g, &stateful_sets[s], i, revision[s])) < 0)
                return -1;
    }
    /* a rolling restart a day from 02:00, one set after the other, highest
     * ordinal first: delete, recreate 5 s later, next pod 90 s later (closer
     * when there are so many pods that a day's restart would last 20 h) */
    uint64_t total = 0;
    for (size_t s = 0; s < N_STATEFUL; s++)
        total += replicas[s];
    uint64_t gap_ms = 90 * MS_PER_S;
    if (gap_ms * total > 20 * MS_PER_HOUR)
        gap_ms = 20 * MS_PER_HOUR / total;
    for (uint64_t day = 0; day * MS_PER_DAY < g->end_ms; day++) {
        uint64_t t = day * MS_PER_DAY + 2 * MS_PER_HOUR;
        if (gen_write_before(g, t) < 0)
            return -1;
        for (size_t s = 0; s < N_STATEFUL; s++) {
            const stateful_set *set = &stateful_sets[s];
            char hash[11];
            template_hash(&g->r, hash);
            snprintf(revision[s], sizeof revision[s], "%s-%s", set->app, hash);
            t += rng_range(&g->r, 0, 10) * MS_PER_MIN;
            for (uint64_t i = replicas[s]; i-- > 0;) {
                if (t + 5 * MS_PER_S >= g->end_ms)
                    break; /* the trace ends before this pod would be back */
                char name[96];
                snprintf(name, sizeof name, "%s-%llu", set->app, (unsigned long long)i);
                if (gen_push(g, t, HOIST_OBJECT_DELETE, hoist_object_ref("v1", "Pod", g->ns, name)) < 0 ||
                    gen_push(g, t + 5 * MS_PER_S, HOIST_OBJECT_ADD,
                             stateful_pod(g, set, i, revision[s])) < 0)
                    return -1;
                t += gap_ms;
            }
        }
    }
    return 0;
}

/* ---- entry points ------------------------------------------------------------------ */

static const char *const kind_names[] = {"web", "batch", "ml", "stateful"};
static const char *const kind_namespaces[] = {"web", "batch", "ml", "data"};

const char *hoist_tracegen_kind_name(hoist_tracegen_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

int hoist_tracegen_kind_parse(const char *name, hoist_tracegen_kind *out)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (name && !strcmp(name, kind_names[i])) {
            *out = (hoist_tracegen_kind)i;
            return 0;
        }
    }
    return -1;
}

int hoist_tracegen(const hoist_tracegen_config *cfg, FILE *out, hoist_err *err)
{
    if ((unsigned)cfg->kind >= sizeof kind_names / sizeof kind_names[0])
        return hoist_errf(err, "tracegen: unknown kind %d", (int)cfg->kind);
    double hours = cfg->hours == 0 ? 24.0 : cfg->hours;
    double scale = cfg->scale == 0 ? 1.0 : cfg->scale;
    if (!(hours > 0 && hours <= MAX_HOURS))
        return hoist_errf(err, "tracegen: hours: must be > 0 and at most %.0f, got %g",
                          MAX_HOURS, hours);
    if (!(scale > 0 && scale <= MAX_SCALE))
        return hoist_errf(err, "tracegen: scale: must be > 0 and at most %.0f, got %g",
                          MAX_SCALE, scale);
    gen g = {0};
    g.out = out;
    g.err = err;
    g.seed = cfg->seed ^ (0xA24BAED4963EE407ull * ((uint64_t)cfg->kind + 1));
    g.r.state = g.seed;
    g.ns = cfg->namespace_ && *cfg->namespace_ ? cfg->namespace_ : kind_namespaces[cfg->kind];
    g.scale = scale;
    g.end_ms = (uint64_t)llround(hours * (double)MS_PER_HOUR);
    int rc;
    switch (cfg->kind) {
    case HOIST_TRACEGEN_WEB:
        rc = gen_web(&g);
        break;
    case HOIST_TRACEGEN_BATCH:
        rc = gen_batch(&g);
        break;
    case HOIST_TRACEGEN_ML:
        rc = gen_ml(&g);
        break;
    case HOIST_TRACEGEN_STATEFUL:
    default:
        rc = gen_stateful(&g);
        break;
    }
    if (rc == 0)
        rc = gen_write_before(&g, g.end_ms);
    if (rc == 0 && fflush(out) != 0)
        rc = hoist_errf(err, "cannot write the trace: %s", strerror(errno));
    gen_free(&g);
    return rc;
}

int hoist_tracegen_merge(const hoist_tracegen_config *cfgs, size_t n, FILE *out, hoist_err *err)
{
    if (n == 0)
        return hoist_errf(err, "tracegen: no kind to generate");
    FILE **files = calloc(n, sizeof *files);
    hoist_trace **readers = calloc(n, sizeof *readers);
    hoist_trace_event *events = calloc(n, sizeof *events);
    int *live = calloc(n, sizeof *live);
    int rc = -1;
    if (!files || !readers || !events || !live) {
        hoist_errf(err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(files[i] = tmpfile())) {
            hoist_errf(err, "tracegen: cannot create a temporary file: %s", strerror(errno));
            goto done;
        }
        if (hoist_tracegen(&cfgs[i], files[i], err) < 0)
            goto done;
        rewind(files[i]);
        char name[64];
        snprintf(name, sizeof name, "(generated %s trace)", hoist_tracegen_kind_name(cfgs[i].kind));
        if (!(readers[i] = hoist_trace_open_stream(files[i], name, err)))
            goto done;
        if ((live[i] = hoist_trace_next(readers[i], &events[i], err)) < 0)
            goto done;
    }
    for (;;) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (live[i] && (best == n || events[i].at_ms < events[best].at_ms))
                best = i;
        if (best == n)
            break;
        const hoist_trace_event *e = &events[best];
        if (hoist_trace_write(out, e->at_ms, e->op, e->object) < 0) {
            hoist_errf(err, "cannot write the trace: %s", strerror(errno ? errno : EIO));
            goto done;
        }
        if ((live[best] = hoist_trace_next(readers[best], &events[best], err)) < 0)
            goto done;
    }
    if (fflush(out) != 0) {
        hoist_errf(err, "cannot write the trace: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; files && readers && i < n; i++) {
        hoist_trace_close(readers[i]);
        if (files[i])
            fclose(files[i]);
    }
    free(files);
    free(readers);
    free(events);
    free(live);
    return rc;
}
