/*
 * mock_catalog.h - the mock provider's instance-type catalog and spot model.
 *
 * Loads a catalog file in the schema of shared data
 * aws-us-east-1/instance-types.json (a JSON array of instance-type objects)
 * with jansson, and builds one offering per (type, zone, capacity type),
 * priced from the catalog (on-demand) or from the seeded spot model, unless
 * the type carries its own "offerings" list. Everything a catalog holds is
 * owned by it and freed by mock_catalog_free().
 */
#ifndef HOIST_MOCK_CATALOG_H
#define HOIST_MOCK_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <hoist/host.h>
#include <hoist/types.h>

/* Spot model parameters (README.md, "Spot price model"). */
typedef struct mock_spot_params {
    double min_ratio;        /* lowest family spot/on-demand ratio (default 0.38) */
    double max_ratio;        /* highest family spot/on-demand ratio (default 0.62) */
    double zone_spread;      /* per-(type, zone) factor in [1-s, 1+s] (default 0.08) */
    double drift_amplitude;  /* relative amplitude of the slow sine drift (default 0 = off) */
    uint64_t drift_period_ms;/* period of the drift (default 24 h) */
    double pco_price_band;   /* price-capacity-optimized: band above the cheapest (default 0.10) */
    uint64_t interruption_notice_ms; /* spot interruption notice (default 120000) */
} mock_spot_params;

/* Fill p with the documented defaults. */
void mock_spot_params_default(mock_spot_params *p);

/* One (type, zone, capacity type) offering with its injected faults. */
typedef struct mock_offer {
    uint32_t type_index;            /* index into mock_catalog.types */
    const char *zone;               /* owned by the catalog */
    hoist_capacity_type capacity_type;
    double base_price;              /* USD/h before drift */
    bool listed;                    /* the catalog's "available" (true when modelled) */
    bool overridden;                /* from the type's "offerings" list: no drift */
    uint32_t pool_depth;            /* capacity score 1..10 used by price-capacity-optimized */
    /* faults, set by control commands */
    bool ice;                       /* insufficient capacity injected */
    uint64_t ice_until_ms;          /* ...until this host time; 0 = until cleared */
    int64_t latency_ms;             /* launch latency; -1 = the instance default */
    int64_t fail_launches;          /* launches that fail: 0 none, -1 all, n the next n */
    double interrupt_rate_per_hour; /* random spot interruptions per machine-hour */
} mock_offer;

/* One instance type: the hardware view handed to catalog() callers. */
typedef struct mock_type {
    hoist_instance_type info;       /* strings owned by the catalog; offerings set per snapshot */
    hoist_resource extended[2];     /* aws.amazon.com/neuron when the type has AWS
                                       accelerators; vpc.amazonaws.com/pod-eni (branch
                                       ENIs) when it supports ENI trunking */
    size_t first_offer;             /* offers[first_offer .. first_offer+n_offers) */
    size_t n_offers;
} mock_type;

/* A block of the catalog's string storage. */
typedef struct mock_strblock mock_strblock;

/* The loaded catalog. Types with no offerings are left out. */
typedef struct mock_catalog {
    mock_type *types;
    size_t n_types;
    mock_offer *offers;
    size_t n_offers;
    hoist_offering *snapshot;       /* n_offers views, refreshed by mock_catalog_snapshot() */
    hoist_instance_type *view;      /* n_types views pointing into snapshot */
    size_t *by_name;                /* n_types type indices by name, then index */
    mock_strblock *strings;
} mock_catalog;

/* Load `path` for `zones` (borrowed) with the spot model (seed, sp).
 * Returns 0, or -1 with err naming the path, entry and field at fault. */
int mock_catalog_load(mock_catalog *cat, const char *path, const char *const *zones,
                      size_t n_zones, uint64_t seed, const mock_spot_params *sp,
                      hoist_error *err);
/* The same from a parsed JSON array (borrowed); `path` names it in errors
 * (e.g. the URL it came from). */
int mock_catalog_load_json(mock_catalog *cat, const json_t *root, const char *path,
                           const char *const *zones, size_t n_zones, uint64_t seed,
                           const mock_spot_params *sp, hoist_error *err);
/* Free everything the catalog owns (safe on a zeroed or failed catalog). */
void mock_catalog_free(mock_catalog *cat);

/* Index of type `name`, or -1. */
long mock_catalog_find_type(const mock_catalog *cat, const char *name);
/* Index of the offering (type, zone, capacity type), or -1. */
long mock_catalog_find_offer(const mock_catalog *cat, const char *type, const char *zone,
                             hoist_capacity_type ct);
/* True when offer o is available at host time now (listed and no active ICE). */
bool mock_offer_available(const mock_offer *o, uint64_t now_ms);
/* Price of offer o at host time now (base price with drift for modelled spot). */
double mock_offer_price(const mock_catalog *cat, const mock_offer *o, uint64_t seed,
                        const mock_spot_params *sp, uint64_t now_ms);
/* Refresh cat->snapshot/view with prices and availability at now; returns cat->view. */
const hoist_instance_type *mock_catalog_snapshot(mock_catalog *cat, uint64_t seed,
                                                 const mock_spot_params *sp, uint64_t now_ms);

/* Deterministic 64-bit hash of the seed and up to three strings (NULL ends). */
uint64_t mock_hash(uint64_t seed, const char *a, const char *b, const char *c);
/* Map a hash to [0, 1). */
double mock_unit(uint64_t h);
/* The splitmix64 finalizer (a bijection on 64-bit values). */
uint64_t mock_mix64(uint64_t x);
/* Family spot/on-demand ratio in [min_ratio, max_ratio] drawn from (seed, family). */
double mock_spot_family_ratio(const mock_spot_params *sp, uint64_t seed, const char *family);
/* Modelled spot price (before drift) for on-demand price od, rounded to $0.0001. */
double mock_spot_base_price(const mock_spot_params *sp, uint64_t seed, double od,
                            const char *family, const char *type, const char *zone);
/* Pool depth 1..10 of a spot offering drawn from (seed, type, zone). */
uint32_t mock_pool_depth(uint64_t seed, const char *type, const char *zone);
/* Prepend `prefix` (e.g. "control: ") to err->message, truncating to fit; NULL err is fine. */
void mock_error_prefix(hoist_error *err, const char *prefix);
/* Fill err (NULL is fine) with code and a formatted message; returns code. */
hoist_status mock_errf(hoist_error *err, hoist_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "on-demand", "spot" or "reserved". */
const char *mock_capacity_name(hoist_capacity_type ct);
/* Parse a capacity type name; returns 0, or -1 if unknown. */
int mock_capacity_parse(const char *s, hoist_capacity_type *out);

#endif
