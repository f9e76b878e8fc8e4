/* The desired state: what the kernel, nftables and dnsmasq must hold for a configuration.
 * Built by a pure function from the config plus a few runtime facts (which interface each uplink
 * is, and the address DHCP gave it), sorted and keyed so the planner can diff it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/lib/ipaddr.h"
#include "core/model/nft_model.h"

#define NR_TABLE_MAIN 254u
/* Packet/conntrack mark bits for "reply must leave by the uplink the connection came in on". */
#define NR_MARK_MASK 0x00000300u
#define NR_MARK_NAT 0x00000100u
#define NR_MARK_LAN 0x00000200u

/* What observation tells the model; for `--plan` on an empty system it is synthesized. */
struct nr_uplink_fact {
        bool found;                /* an interface matched */
        char ifname[NR_IFNAMSIZ];  /* its name (for a name match: the configured name) */
        bool have_addr;            /* address known: configured, or seen from DHCP */
        struct nr_prefix addr;     /* host address and prefix length */
        uint32_t gateway;          /* configured, or the first host of the DHCP subnet */
};

/* Ports and leases the guest bridge table needs; more than this many are left out (and said
 * so in the rendered table). */
#define NR_FACT_PORTS_MAX 1024
#define NR_FACT_LEASES_MAX 4096

struct nr_lease_fact {
        uint8_t mac[6];
        uint32_t ip;
};

struct nr_facts {
        struct nr_uplink_fact uplink[NR_UPLINK_COUNT];
        bool ipv6;                 /* the kernel has IPv6 (its per-device sysctls exist) */
        /* every interface enslaved to the guest bridge now (libvirt taps, guests.ports) */
        char ports[NR_FACT_PORTS_MAX][NR_IFNAMSIZ];
        size_t n_ports;
        bool ports_truncated;
        /* dnsmasq's current leases (the lease file), to hold dynamic guests to their address */
        struct nr_lease_fact leases[NR_FACT_LEASES_MAX];
        size_t n_leases;
        bool leases_truncated;
        bool bgp_drained;          /* nestrouterctl drain: advertise nothing */
};

struct nr_link {
        char name[NR_IFNAMSIZ];
        bool bridge;               /* a bridge nestrouter creates (else: a port it enslaves) */
        char master[NR_IFNAMSIZ];  /* for ports: the bridge */
        uint32_t mtu;              /* 0: leave as is */
        bool adopted;              /* a port the bridge had before it was re-created, given
                                    * back to it; not ours, so never released afterwards */
};

struct nr_addr {
        char dev[NR_IFNAMSIZ];
        struct nr_prefix addr;     /* host address / prefix length */
};

struct nr_route {
        uint32_t table;
        struct nr_prefix dst;
        uint32_t gateway;          /* 0: on-link (scope link) */
        char dev[NR_IFNAMSIZ];
        uint32_t prefsrc;          /* 0: none */
        uint32_t metric;
};

struct nr_rule {
        uint32_t priority;
        struct nr_prefix from;     /* len 0 with addr 0: any */
        uint32_t fwmark, fwmask;   /* fwmask 0: no mark match */
        char iif[NR_IFNAMSIZ];     /* empty: any */
        uint32_t table;
};

struct nr_sysctl {
        char key[96];              /* below /proc/sys, with slashes: net/ipv4/ip_forward */
        char value[16];
};

/* Paths the rendered dnsmasq configuration refers to. */
struct nr_paths {
        const char *run_dir;       /* generated config, hostsfile, pid, control socket */
        const char *state_dir;     /* leases */
};

/* A nested guest as a libvirt domain (vms:). Every configured VM has one, ready or not: a VM
 * that is not ready (its disk is being imported, a firmware file is missing, ...) is neither
 * defined nor undefined. */
struct nr_dom {
        char name[NR_NAME_MAX];
        bool autostart;            /* start it once per boot (false while starts are held) */
        bool ready;                /* its definition is rendered: xml and hash are set (--plan:
                                    * ready without them, an empty system needs a define) */
        char hash[17];             /* of the definition (render_domain's) */
        const char *xml;           /* the definition: the caller's, not freed with the state */
};

/* What the bridge table was rendered from besides the merged reservations: a build whose
 * inputs are all the same takes the previous state's table over instead of rendering it. */
struct nr_bridge_inputs {
        char bridge[NR_IFNAMSIZ];
        uint32_t gateway;
        struct nr_prefix subnet;
        bool isolation;
        char (*ports)[NR_IFNAMSIZ];
        size_t n_ports;
        struct nr_lease_fact *leases;
        size_t n_leases;
        bool ports_truncated, leases_truncated;
};

struct nr_desired {
        struct nr_link *links;
        size_t n_links;
        struct nr_addr *addrs;
        size_t n_addrs;
        struct nr_route *routes;
        size_t n_routes;
        struct nr_rule *rules;
        size_t n_rules;
        struct nr_sysctl *sysctls;
        size_t n_sysctls;
        struct nr_reservation *reservations; /* configured plus those of VMs with an ip */
        size_t n_reservations;
        struct nftm_table *nft;    /* the whole `table inet nestrouter` (a reference); NULL:
                                    * the table must not exist (teardown) */
        struct nftm_table *nft_bridge; /* the whole `table bridge nestrouter`; idem */
        struct nr_bridge_inputs bridge_in; /* what nft_bridge was rendered from */
        char *dnsmasq_conf;        /* main config: a change needs a dnsmasq restart */
        char *dnsmasq_hosts;       /* dhcp-hostsfile: a change needs only SIGHUP */
        bool dhcp;                 /* dnsmasq is wanted at all */
        char *bird_conf;           /* bgp: BIRD's configuration, advertising (NULL: no bgp) */
        char *bird_conf_withdrawn; /* the same with nothing advertised (drained, unhealthy) */
        bool bgp_drained;
        char dhcp_bridge[NR_IFNAMSIZ]; /* the bridge it serves */
        uint8_t route_protocol;
        bool doms_on;              /* guests are planned with this state (the guest pass's);
                                    * the network pass leaves them to it */
        struct nr_dom *doms;       /* one per configured VM, in the file's order */
        size_t n_doms;
        char notes[4][160];        /* why parts are missing (e.g. waiting for a DHCP address) */
        size_t n_notes;
};

/* Facts for a system where nothing has been observed: uplinks matched by name are taken to exist
 * under that name, MAC matches show as `<nat>`/`<lan>`, configured addresses are known. */
void model_facts_assumed(const struct nr_config *cfg, struct nr_facts *facts);

int model_build(const struct nr_config *cfg, const struct nr_facts *facts,
                const struct nr_paths *paths, struct nr_desired *out);
/* The same, taking over from prev (may be NULL) what its inputs did not change: the bridge
 * table (a reload that adds a forward leaves 1,000 reservations' bindings alone). */
int model_build_from(const struct nr_config *cfg, const struct nr_facts *facts,
                     const struct nr_paths *paths, const struct nr_desired *prev,
                     struct nr_desired *out);
void model_free(struct nr_desired *d);
/* Nothing at all (no tables, no dnsmasq): what --teardown plans towards, with the ownership
 * record as prev. */
int model_empty(uint8_t route_protocol, struct nr_desired *out);
/* The guests' part: one nr_dom per VM of cfg, none ready (the caller renders and sets them);
 * hold: no automatic starts (the host is shutting down). */
int model_doms(const struct nr_config *cfg, bool hold, struct nr_desired *out);

/* Orderings and identities used by the planner: two objects with the same key are "the same
 * object" (a difference in the rest means replace). */
int model_route_key_cmp(const struct nr_route *a, const struct nr_route *b);
bool model_route_equal(const struct nr_route *a, const struct nr_route *b);
int model_rule_cmp(const struct nr_rule *a, const struct nr_rule *b);
int model_addr_cmp(const struct nr_addr *a, const struct nr_addr *b);
