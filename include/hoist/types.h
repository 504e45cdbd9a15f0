/*
 * hoist/types.h - plain data types shared by the hoist core and provider plugins.
 *
 * Everything here is a borrowed view: strings and arrays are owned by whoever
 * fills the struct and stay valid only for the duration of the call or
 * callback that hands them over, unless the function documents otherwise.
 * Copy what you keep.
 *
 * Growth: structs that cross the plugin boundary in arrays (offerings,
 * instance types, machines, ...) begin with `struct_size`, the sizeof() the filler
 * was compiled with. Fields are only ever appended, and arrays are walked
 * with HOIST_NTH() using that size as the stride, so a core and a plugin
 * built against different minor versions read each other's arrays safely;
 * HOIST_HAS() tells whether an element has a given field. Fill `struct_size` with
 * sizeof() of the struct. hoist_resource, hoist_kv and hoist_taint are frozen
 * and carry no size.
 *
 * Quantities are 64-bit signed integers in milli-units of the resource's base
 * unit (cpu: millicores; memory and storage: millibytes; pods and extended
 * resources: thousandths of a unit). So 2 vCPU is 2000 and 1 GiB is
 * 1073741824000. The range (|q| < 2^63 milli-units, about 9.2e15 base units)
 * covers every node and pod size hoist deals with.
 */
#ifndef HOIST_TYPES_H
#define HOIST_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The i-th element of an array of sized structs `arr` (see "Growth" above). */
#define HOIST_NTH(arr, i) \
    ((__typeof__(arr))(const void *)((const char *)(arr) + (size_t)(i) * (arr)->struct_size))
/* True when sized struct `s` was filled by code that knew field `field`. */
#define HOIST_HAS(s, type, field) \
    ((s)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* A resource amount in milli-units (see the file comment). */
typedef int64_t hoist_milli;

/* Convert whole units to milli-units. */
#define HOIST_MILLI(units) ((hoist_milli)(units) * 1000)

/* One named resource amount, e.g. {"nvidia.com/gpu", 1000}. */
typedef struct hoist_resource {
    const char *name;  /* Kubernetes resource name: "cpu", "memory", "ephemeral-storage",
                          "pods", or an extended resource such as "nvidia.com/gpu". */
    hoist_milli amount; /* amount in milli-units */
} hoist_resource;

/* A key/value pair: a label, an annotation or a tag. */
typedef struct hoist_kv {
    const char *key;   /* never NULL */
    const char *value; /* never NULL; may be "" */
} hoist_kv;

/* Requirement operators, as in Kubernetes node selector requirements. */
typedef enum hoist_req_op {
    HOIST_OP_IN = 0,         /* label value is one of values */
    HOIST_OP_NOT_IN,         /* label absent or value not in values */
    HOIST_OP_EXISTS,         /* label present, any value; values empty */
    HOIST_OP_DOES_NOT_EXIST, /* label absent; values empty */
    HOIST_OP_GT,             /* label value, an integer, is greater than values[0] */
    HOIST_OP_LT              /* label value, an integer, is less than values[0] */
} hoist_req_op;

/* One requirement on a label: `key op values`. */
typedef struct hoist_requirement {
    const char *key;            /* label key (aliases already resolved by the core) */
    hoist_req_op op;            /* operator */
    const char *const *values;  /* operand values; n_values of them */
    size_t n_values;            /* 0 for Exists and DoesNotExist, 1 for Gt and Lt */
} hoist_requirement;

/* Taint effects, as in Kubernetes. */
typedef enum hoist_taint_effect {
    HOIST_TAINT_NO_SCHEDULE = 0,
    HOIST_TAINT_PREFER_NO_SCHEDULE,
    HOIST_TAINT_NO_EXECUTE
} hoist_taint_effect;

/* A node taint. */
typedef struct hoist_taint {
    const char *key;           /* never NULL */
    const char *value;         /* may be "" */
    hoist_taint_effect effect;
} hoist_taint;

/* How a machine is paid for. */
typedef enum hoist_capacity_type {
    HOIST_CAPACITY_ON_DEMAND = 0,
    HOIST_CAPACITY_SPOT,
    HOIST_CAPACITY_RESERVED  /* capacity reservation / savings-plan style capacity */
} hoist_capacity_type;

/* One place an instance type can be bought: a zone and a capacity type. */
typedef struct hoist_offering {
    uint32_t struct_size;               /* sizeof(hoist_offering) of the filler */
    const char *zone;                  /* e.g. "us-east-1a" */
    hoist_capacity_type capacity_type; /* on-demand, spot or reserved */
    double price;                      /* USD per hour */
    bool available;                    /* false while the provider knows it is short */
    double capacity_score;             /* how deep the pool is, 0 (unknown) .. 10 (deep), like
                                          EC2 spot placement scores; ranks spot offerings */
} hoist_offering;

/* GPU description of an instance type (count 0 when it has none). */
typedef struct hoist_gpu {
    uint32_t count;          /* number of GPUs */
    const char *name;        /* e.g. "a10g"; "" when count is 0 */
    const char *manufacturer;/* e.g. "nvidia"; "" when count is 0 */
    uint64_t memory_mib;     /* memory of all GPUs together, MiB */
} hoist_gpu;

/* An instance type with its hardware and the offerings it can be bought in.
 * Capacity in Kubernetes terms (cpu, memory, pods, ...) is derived by the core
 * from these figures; a provider reports hardware, not allocatable. */
typedef struct hoist_instance_type {
    uint32_t struct_size;         /* sizeof(hoist_instance_type) of the filler */
    const char *name;            /* e.g. "m5.large" */
    const char *family;          /* e.g. "m5" */
    const char *size;            /* e.g. "large" */
    const char *category;        /* e.g. "m" */
    uint32_t generation;         /* e.g. 5 */
    const char *architecture;    /* Kubernetes arch: "amd64" or "arm64" */
    const char *cpu_manufacturer;/* e.g. "intel", "amd", "aws"; may be "" */
    const char *hypervisor;      /* e.g. "nitro", "xen"; "" for bare metal */
    bool bare_metal;             /* a .metal type */
    bool burstable;              /* burstable performance (t family) */
    bool current_generation;     /* the cloud lists it as current */
    uint32_t vcpus;              /* vCPUs */
    uint64_t memory_mib;         /* memory, MiB, as the cloud advertises it */
    hoist_gpu gpu;               /* GPUs */
    uint64_t local_nvme_gb;      /* instance-store NVMe, GB (0 if none) */
    uint32_t network_bandwidth_mbps; /* baseline network bandwidth, Mbit/s */
    uint32_t max_pods;           /* ENI-limited pod count (EKS formula); 0 if unknown */
    const hoist_resource *extended;  /* extra capacity, e.g. "aws.amazon.com/neuron" */
    size_t n_extended;
    const hoist_offering *offerings; /* where and how it can be bought (walk with HOIST_NTH) */
    size_t n_offerings;
} hoist_instance_type;

#ifdef __cplusplus
}
#endif
#endif /* HOIST_TYPES_H */
