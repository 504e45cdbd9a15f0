/*
 * model/pdb_eval.c - PodDisruptionBudget arithmetic (see pdb_eval.h).
 */
#include "model/pdb_eval.h"

#include <stdio.h>
#include <string.h>

#include "model/requirements.h"

bool hoist_pdb_pod_healthy(const hoist_pod *p)
{
    return p->node_name && !p->terminating && !p->finished && !p->placeholder && p->phase &&
           strcmp(p->phase, "Running") == 0;
}

bool hoist_pdb_selects(const hoist_pdb *pdb, const hoist_pod *p)
{
    if (!pdb->has_selector || p->placeholder || !pdb->ns || !p->ns || strcmp(pdb->ns, p->ns) != 0)
        return false;
    return hoist_reqs_match_labels(&pdb->selector, &p->labels);
}

/* ceil(percent% of n), percent clamped to [0, 100]. */
static int32_t scaled_up(int32_t percent, int32_t n)
{
    int64_t pc = percent < 0 ? 0 : percent > 100 ? 100 : percent;
    int64_t nn = n < 0 ? 0 : n;
    return (int32_t)((pc * nn + 99) / 100);
}

int32_t hoist_pdb_desired_healthy(const hoist_pdb *pdb, int32_t expected)
{
    int32_t desired = 0;
    if (pdb->max_unavailable.set) {
        const hoist_int_or_percent *m = &pdb->max_unavailable;
        int32_t unavailable = m->percent ? scaled_up(m->value, expected) : m->value;
        desired = expected - (unavailable < 0 ? 0 : unavailable);
    } else if (pdb->min_available.set) {
        const hoist_int_or_percent *m = &pdb->min_available;
        desired = m->percent ? scaled_up(m->value, expected) : m->value;
    }
    return desired < 0 ? 0 : desired;
}

int32_t hoist_pdb_disruptions_allowed(const hoist_pdb *pdb, int32_t expected, int32_t healthy)
{
    int64_t allowed = (int64_t)healthy - hoist_pdb_desired_healthy(pdb, expected);
    return allowed < 0 ? 0 : (int32_t)allowed;
}

void hoist_pdb_refusal(const hoist_pdb *pdb, int32_t expected, int32_t healthy, char *why,
                       size_t cap)
{
    if (cap == 0)
        return;
    const hoist_int_or_percent *f = pdb->max_unavailable.set ? &pdb->max_unavailable
                                                             : &pdb->min_available;
    const char *field = pdb->max_unavailable.set ? "maxUnavailable" : "minAvailable";
    char rule[96];
    if (!f->set)
        snprintf(rule, sizeof rule, "no minAvailable or maxUnavailable");
    else if (f->percent)
        snprintf(rule, sizeof rule, "%s %d%% = %d", field, (int)f->value,
                 (int)(pdb->max_unavailable.set ? scaled_up(f->value, expected)
                                                : hoist_pdb_desired_healthy(pdb, expected)));
    else
        snprintf(rule, sizeof rule, "%s %d", field, (int)f->value);
    snprintf(why, cap, "would violate PodDisruptionBudget %s/%s: %d of %d healthy, %s",
             pdb->ns ? pdb->ns : "default", pdb->name ? pdb->name : "", (int)healthy,
             (int)expected, rule);
}

int hoist_pdb_check_eviction(const hoist_objects *o, const hoist_pod *p, char *why, size_t cap)
{
    if (cap)
        why[0] = '\0';
    if (!hoist_pdb_pod_healthy(p))
        return 0;
    const hoist_pdb *refused = NULL;
    int32_t r_expected = 0, r_healthy = 0;
    for (size_t i = 0; i < o->n_pdbs; i++) {
        const hoist_pdb *pdb = o->pdbs[i];
        if (!hoist_pdb_selects(pdb, p))
            continue;
        int32_t expected = 0, healthy = 0;
        for (size_t k = 0; k < o->n_pods; k++) {
            const hoist_pod *q = o->pods[k];
            if (q->finished || !hoist_pdb_selects(pdb, q))
                continue;
            expected++;
            healthy += hoist_pdb_pod_healthy(q);
        }
        if (hoist_pdb_disruptions_allowed(pdb, expected, healthy) > 0)
            continue;
        if (!refused || strcmp(pdb->name, refused->name) < 0) {
            refused = pdb;
            r_expected = expected;
            r_healthy = healthy;
        }
    }
    if (!refused)
        return 0;
    hoist_pdb_refusal(refused, r_expected, r_healthy, why, cap);
    return 1;
}
