/* The daemon's counters in the Prometheus text exposition format (version 0.0.4), as node
 * exporter's textfile collector and `nestrouterctl metrics` serve them. Pure: the caller
 * gathers the numbers (daemon/control/metrics.c), this only names and prints them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/nftdiff.h"

/* Reconcile pass durations: upper bounds of the histogram buckets in microseconds; the last
 * bucket (+Inf) is implicit. A converged pass takes ~1 ms, a first apply tens of ms. */
#define NR_PASS_BUCKETS 12
extern const uint64_t nr_pass_bucket_usec[NR_PASS_BUCKETS];

struct nr_pass_hist {
        uint64_t bucket[NR_PASS_BUCKETS + 1]; /* not cumulative; [NR_PASS_BUCKETS] is +Inf */
        uint64_t count;
        uint64_t sum_usec;
};

void metrics_pass_observe(struct nr_pass_hist *h, uint64_t usec);

/* a count per kind of object (repairs, changes); names are the labels */
struct nr_mkind {
        const char *name;
        uint64_t n;
};

enum nr_mimport {
        NR_MIMPORT_NONE,
        NR_MIMPORT_QUEUED,
        NR_MIMPORT_RUNNING,
        NR_MIMPORT_DONE,
        NR_MIMPORT_FAILED,
};

struct nr_mguest {
        const char *name;
        const char *state;         /* libvirt's ("running", "shut off"), "conflict", "undefined" */
        enum nr_mimport import;
        double import_percent;
};

/* a port forward, for its packet and byte counters (the named counter fwd-pf-PROTO-PORT) */
struct nr_mforward {
        const char *proto;         /* "tcp", "udp" */
        uint16_t port;
        char target[32];           /* "10.0.2.10:3389" */
        const char *name;          /* the reservation or VM `to` named, "" for an address */
};

struct nr_metrics {
        bool config_ok, config_applied, converged;
        uint64_t reloads, reloads_rejected;
        uint64_t writes, failures, backoffs;
        uint64_t events_netlink, events_nft, overruns;
        const struct nr_mkind *repairs, *changes;
        const struct nr_mkind *failing; /* objects failing or in conflict now (NULL: none) */
        size_t n_kinds;
        struct nr_pass_hist pass;
        uint64_t last_pass_usec;
        /* nftables */
        uint64_t nft_full_applies, nft_delta_applies, nft_listings, nft_foreign_commits;
        bool rules_ok;             /* the live counters could be read */
        const struct nftd_counter *rules;
        size_t n_rules;
        const struct nr_mforward *forwards;
        size_t n_forwards;
        /* dnsmasq and DHCP */
        bool dnsmasq_up;
        uint64_t dnsmasq_starts, dnsmasq_crashes;
        bool dhcp_enabled;
        uint64_t dhcp_leases;      /* unexpired leases in the lease file */
        uint64_t dhcp_pool_size;   /* addresses of the dynamic range */
        uint64_t dhcp_reservations;
        /* IMDS */
        uint64_t imds_fetches, imds_failures;
        /* nested guests */
        const struct nr_mguest *guests;
        size_t n_guests;
};

/* The exposition text (caller frees), NULL when out of memory. */
char *render_metrics(const struct nr_metrics *m);
