/*
 * cli/cmd_catalog.c - `hoist catalog`: every instance type each NodePool may
 * launch, with capacity, allocatable under the NodePool's kubelet settings,
 * and offerings.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/commands.h"
#include "cli/runtime.h"
#include "model/catalog.h"
#include "model/objects.h"

static void catalog_usage(FILE *out)
{
    fprintf(out,
            "usage: hoist catalog -f FILE... [--catalog F | --provider P.so]\n"
            "                     [--provider-config F] [-o json|text] [--log-level L]\n"
            "\n"
            "Prints every instance type each NodePool in the files may launch, with its\n"
            "capacity, its allocatable under the NodePool's kubelet settings, and its\n"
            "offerings. -f is repeatable; '-f -' reads standard input.\n");
}

/* Parse argv into o. Returns 0, -1 after --help, or the exit status to stop with. */
static int parse_args(int argc, char **argv, hoist_cli_inputs *o)
{
    static const struct option longopts[] = {
        HOIST_CLI_SHARED_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hoist_cli_inputs_init(o, false);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        int rc = hoist_cli_shared_option(o, c, optarg, "catalog");
        if (rc == 1)
            continue;
        if (rc == 2)
            return 2;
        if (c == 'h') {
            catalog_usage(stdout);
            return -1;
        }
        catalog_usage(stderr);
        return 2;
    }
    if (hoist_cli_inputs_check(o, argc, argv, "catalog") != 0) {
        catalog_usage(stderr);
        return 2;
    }
    return 0;
}

/* NodePools in evaluation order: weight descending, then name. */
static int compare_pools(const void *pa, const void *pb)
{
    const hoist_nodepool *a = *(const hoist_nodepool *const *)pa;
    const hoist_nodepool *b = *(const hoist_nodepool *const *)pb;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    return strcmp(a->name, b->name);
}

static json_t *offering_json(const hoist_offering *off)
{
    return json_pack("{s:s, s:s, s:f, s:b}", "zone", off->zone, "capacityType",
                     hoist_capacity_type_name(off->capacity_type), "price", off->price,
                     "available", off->available);
}

/* Append one JSON element per pool type to arr. */
static int append_json(json_t *arr, const hoist_objects *o, const hoist_nodepool *np,
                       const hoist_pool_types *types)
{
    for (size_t i = 0; i < types->n; i++) {
        const hoist_pool_type *pt = &types->items[i];
        json_t *offs = json_array();
        for (size_t k = 0; offs && k < pt->n_offerings; k++)
            if (json_array_append_new(offs, offering_json(pt->offerings[k])) < 0) {
                json_decref(offs);
                offs = NULL;
            }
        json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:o}", "nodePool", np->name, "name",
                              pt->type->name, "capacity",
                              hoist_resources_to_json(&o->names, &pt->capacity, true),
                              "allocatable",
                              hoist_resources_to_json(&o->names, &pt->allocatable, true),
                              "offerings", offs);
        if (!e || json_array_append_new(arr, e) < 0)
            return -1;
    }
    return 0;
}

/* Print a quantity slot of r in Kubernetes form into buf. */
static const char *qty(const hoist_resources *r, int slot, char *buf, size_t len)
{
    hoist_quantity q = {r->v[slot], slot == HOIST_RES_MEMORY || slot == HOIST_RES_EPHEMERAL_STORAGE
                                        ? HOIST_QFMT_BINARY_SI
                                        : HOIST_QFMT_DECIMAL_SI};
    hoist_quantity_format(q, buf, len);
    return buf;
}

/* Index of the cheapest available allowed offering of pt, or -1. */
static long cheapest_available(const hoist_pool_type *pt)
{
    for (size_t k = 0; k < pt->n_offerings; k++)
        if (pt->offerings[k]->available)
            return (long)k;
    return -1;
}

static int compare_by_price(const void *pa, const void *pb)
{
    const hoist_pool_type *a = pa, *b = pb;
    long ia = cheapest_available(a), ib = cheapest_available(b);
    double x = ia < 0 ? 1e300 : a->offerings[ia]->price;
    double y = ib < 0 ? 1e300 : b->offerings[ib]->price;
    if (x != y)
        return x < y ? -1 : 1;
    return strcmp(a->type->name, b->type->name);
}

static void print_text(const hoist_nodepool *np, hoist_pool_types *types)
{
    printf("\nNodePool %s (weight %d): %zu instance types, cheapest first\n", np->name,
           (int)np->weight, types->n);
    if (types->n == 0) {
        printf("  (none: no instance type in the catalog satisfies its requirements)\n");
        return;
    }
    qsort(types->items, types->n, sizeof *types->items, compare_by_price);
    printf("  %-16s %5s %9s %5s | %9s %9s %9s %5s | %-32s %s\n", "TYPE", "VCPU", "MEMORY",
           "PODS", "ALLOC-CPU", "ALLOC-MEM", "ALLOC-EPH", "PODS", "CHEAPEST OFFERING",
           "OFFERINGS");
    for (size_t i = 0; i < types->n; i++) {
        const hoist_pool_type *pt = &types->items[i];
        char mem[32], acpu[32], amem[32], aeph[32], offer[64];
        long k = cheapest_available(pt);
        if (k >= 0)
            snprintf(offer, sizeof offer, "%s %s $%.4f/h",
                     hoist_capacity_type_name(pt->offerings[k]->capacity_type),
                     pt->offerings[k]->zone, pt->offerings[k]->price);
        else
            snprintf(offer, sizeof offer, "none available");
        printf("  %-16s %5u %9s %5lld | %9s %9s %9s %5lld | %-32s %zu\n", pt->type->name,
               pt->type->vcpus, qty(&pt->capacity, HOIST_RES_MEMORY, mem, sizeof mem),
               (long long)(pt->capacity.v[HOIST_RES_PODS] / 1000),
               qty(&pt->allocatable, HOIST_RES_CPU, acpu, sizeof acpu),
               qty(&pt->allocatable, HOIST_RES_MEMORY, amem, sizeof amem),
               qty(&pt->allocatable, HOIST_RES_EPHEMERAL_STORAGE, aeph, sizeof aeph),
               (long long)(pt->allocatable.v[HOIST_RES_PODS] / 1000), offer, pt->n_offerings);
    }
}

int hoist_cmd_catalog(int argc, char **argv)
{
    hoist_cli_inputs opts;
    int rc = parse_args(argc, argv, &opts);
    if (rc)
        return rc < 0 ? 0 : rc;

    hoist_err err = {{0}};
    hoist_objects objs;
    hoist_objects_init(&objs);
    hoist_catalog cat;
    hoist_catalog_init(&cat);
    hoist_cli_provider prov;
    hoist_arena scratch;
    hoist_arena_init(&scratch, 0);
    json_t *out = NULL;
    rc = 1;

    if (hoist_cli_load_objects(&objs, opts.files, opts.n_files, &err) < 0)
        goto fail;
    if (objs.n_nodepools == 0) {
        hoist_errf(&err, "no NodePool in the files given with -f");
        goto fail;
    }
    if (hoist_cli_provider_open(&prov, opts.provider, opts.catalog, opts.provider_config,
                                opts.log_level, &err) < 0 ||
        hoist_cli_provider_catalog(&prov, &cat, &err) < 0) {
        hoist_cli_provider_close(&prov);
        goto fail;
    }
    hoist_cli_provider_close(&prov);

    qsort(objs.nodepools, objs.n_nodepools, sizeof *objs.nodepools, compare_pools);
    if (opts.json && !(out = json_array())) {
        hoist_errf(&err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < objs.n_nodepools; i++) {
        const hoist_nodepool *np = objs.nodepools[i];
        hoist_pool_types types;
        if (hoist_nodepool_types(&scratch, &cat, &objs, np, &types, &err) < 0)
            goto fail;
        if (opts.json) {
            if (append_json(out, &objs, np, &types) < 0) {
                hoist_errf(&err, "out of memory");
                goto fail;
            }
        } else {
            print_text(np, &types);
        }
    }
    if (opts.json) {
        if (json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0) {
            hoist_errf(&err, "cannot write the output");
            goto fail;
        }
        putchar('\n');
    }
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "hoist catalog: %s\n", err.msg);
    json_decref(out);
    hoist_arena_free(&scratch);
    hoist_catalog_free(&cat);
    hoist_objects_free(&objs);
    return rc;
}
