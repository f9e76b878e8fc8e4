/* The parsed configuration file: struct nr_config, and the loader that turns YAML text into it.
 * Pure: no syscalls beyond reading the file. Every key the parser meets is remembered with its
 * line and column (cfg_pos), so later checks can point at the exact place of a mistake. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/diag.h"
#include "core/lib/ipaddr.h"

#define NR_IFNAMSIZ 16
#define NR_NAME_MAX 64
/* More forwards than this are refused: the nft table (a map entry, a set entry and a counting
 * rule each) then takes seconds to list, status (which lists the counters) outlasts a control
 * client's 2 s, and the daemon needs hundreds of MiB (docs/config.md 8). */
#define NR_MAX_PORT_FORWARDS 16384

enum nr_uplink_role {
        NR_UPLINK_NAT,
        NR_UPLINK_LAN,
        NR_UPLINK_COUNT,
};

enum nr_match_kind {
        NR_MATCH_NONE,
        NR_MATCH_NAME,
        NR_MATCH_MAC,
        NR_MATCH_AZURE_PRIMARY,    /* {azure: primary}: Azure's primary NIC (NIC1's role) */
        NR_MATCH_AZURE_SUBNET,     /* {azure_subnet: P}: the NIC IMDS places in subnet P */
};

struct nr_match {
        enum nr_match_kind kind;
        char name[NR_IFNAMSIZ];
        uint8_t mac[6];
        struct nr_prefix azure_subnet;
        unsigned n_kinds;          /* parser only: how many ways were given */
};

struct nr_uplink {
        bool present;
        struct nr_match match;
        bool dhcp;                 /* address: dhcp — the OS's DHCP client owns the address */
        struct nr_prefix address;  /* host address and prefix length (when !dhcp) */
        bool gateway_set;
        uint32_t gateway;          /* defaulted to the first host of the subnet when !dhcp */
        struct nr_prefix *routes;  /* lan: prefixes routed via this uplink's gateway */
        size_t n_routes;
        uint32_t table;            /* policy-routing table of this uplink */
};

struct nr_reservation {
        char name[NR_NAME_MAX];
        uint8_t mac[6];
        bool has_mac;
        uint32_t ip;
        bool from_vm;              /* synthesized from a vms[] entry with an ip */
};

struct nr_dhcp {
        bool enabled;
        uint32_t range_start, range_end;
        uint32_t lease_time;       /* seconds; 0 means infinite */
        uint32_t dynamic_lease_time; /* for clients without a reservation; defaults to
                                      * lease_time */
        bool dynamic_lease_set;
        uint32_t max_leases;       /* dynamic leases at most; defaults to the pool's size */
        bool ping_check;           /* ping a dynamic address before offering it (dnsmasq's
                                    * default, not ours: each ping stalls dnsmasq's DHCP for up
                                    * to 3 s, so guests booting together wait in line) */
        uint32_t *dns;
        size_t n_dns;
        bool dns_set;
        char domain[NR_NAME_MAX];
        struct nr_reservation *reservations;
        size_t n_reservations;     /* configured ones only; model adds the VMs' */
};

struct nr_guests {
        char bridge[NR_IFNAMSIZ];
        struct nr_prefix subnet;   /* network address, host bits clear */
        uint32_t gateway;
        uint32_t mtu;              /* 0: kernel default */
        char (*ports)[NR_IFNAMSIZ]; /* extra interfaces enslaved to the bridge */
        size_t n_ports;
        struct nr_dhcp dhcp;
        bool isolation;            /* no frames from one bridge port to another */
};

enum nr_proto {
        NR_PROTO_TCP,
        NR_PROTO_UDP,
};

struct nr_port_forward {
        enum nr_proto proto;
        uint16_t port;
        uint16_t to_port;
        uint32_t to_ip;            /* resolved by validation when `to` is a name */
        char to_name[NR_NAME_MAX]; /* non-empty when `to` named a reservation or VM */
        struct nr_prefix *from;
        size_t n_from;
};

enum nr_cpu_mode {
        NR_CPU_HOST_MODEL,
        NR_CPU_HOST_PASSTHROUGH,
        NR_CPU_NAMED,
};

/* What a guest boots through: SeaBIOS on i440fx, or OVMF (UEFI) on q35. auto is decided once by
 * the virt backend (a GPT disk with an EFI system partition: uefi) and remembered. */
enum nr_firmware {
        NR_FW_AUTO,
        NR_FW_BIOS,
        NR_FW_UEFI,
};

enum nr_guest_os {
        NR_OS_LINUX,
        NR_OS_WINDOWS,             /* Hyper-V enlightenments (KVM), RTC in local time */
};

enum nr_guest_devices {
        NR_DEVICES_VIRTIO,
        NR_DEVICES_COMPAT,         /* SATA disks and an e1000e NIC: no drivers needed */
};

enum nr_disk_format {
        NR_DISK_QCOW2,
        NR_DISK_RAW,
        NR_DISK_VHD,
        NR_DISK_VHDX,
};

/* cloud-init's NoCloud data for a VM: user data inline or from a file, optional network
 * config likewise (NULLs when not given). */
struct nr_cloud_init {
        bool set;
        char *user_data, *user_data_file;
        char *network_config, *network_config_file;
};

/* A disk besides the VM's first: an existing qcow2 (path), or a new blank one of size bytes
 * created once in the state dir (path NULL). */
struct nr_vm_disk {
        char *path;
        uint64_t size;
};

struct nr_vm {
        char name[NR_NAME_MAX];
        char *disk;                /* NULL when the VM boots a kernel without a disk */
        bool disk_given;           /* `disk:` is in the file (disk may be NULL: it was wrong) */
        char *kernel;              /* direct kernel boot (optional) */
        char *initrd;
        char *cmdline;
        enum nr_disk_format disk_format;
        bool format_set;           /* `format:` given; otherwise taken from the file name */
        uint32_t vcpus;
        uint64_t memory;           /* bytes */
        uint8_t mac[6];
        bool mac_set;
        uint32_t ip;               /* 0: none */
        enum nr_cpu_mode cpu_mode;
        char cpu_model[NR_NAME_MAX];
        bool autostart;
        enum nr_firmware firmware;
        bool secure_boot;          /* OVMF's Secure Boot build, Microsoft keys enrolled, SMM */
        bool tpm;                  /* emulated TPM 2.0 (swtpm) */
        enum nr_guest_os os;
        enum nr_guest_devices devices;
        uint64_t disk_size;        /* no `disk:`: a new blank disk of this size, 0: none */
        char *base;                /* no `disk:`: the disk is a qcow2 overlay of this image */
        struct nr_vm_disk *disks;  /* more disks, in order after the first */
        size_t n_disks;
        char **cdroms;             /* ISO files, read-only, booted after the disks */
        size_t n_cdroms;
        struct nr_cloud_init cloud_init;
};

struct nr_firewall {
        bool ssh;                  /* accept SSH to the appliance from the uplinks */
        struct nr_prefix *ssh_from;/* allow-list for SSH; empty: from anywhere */
        size_t n_ssh_from;
        bool block_metadata;       /* guests may not reach the wireserver (DNS excepted); IMDS is
                                    * always blocked for guests */
};

enum nr_accel {
        NR_ACCEL_AUTO,             /* KVM when a real probe says it works, else TCG */
        NR_ACCEL_KVM,
        NR_ACCEL_TCG,
};

struct nr_libvirt {
        char uri[256];             /* default qemu:///system */
        enum nr_accel accel;
        uint32_t shutdown_timeout; /* seconds, for `nestrouterctl guests shutdown` */
};

#define NR_AZNAME_MAX 91

struct nr_azure {
        bool present;              /* the section is there; without it artefacts use placeholders */
        char resource_group[NR_AZNAME_MAX];
        char location[NR_AZNAME_MAX];
        char vnet[NR_AZNAME_MAX];
        char route_table[NR_AZNAME_MAX];
        char (*subnets)[NR_AZNAME_MAX]; /* subnets whose hosts talk to the guests */
        size_t n_subnets;
        bool gateway_subnet;       /* also associate the route table with GatewaySubnet */
        char lan_nic[NR_AZNAME_MAX];    /* NIC2's resource name (IP forwarding) */
        char vm_name[NR_AZNAME_MAX];
        bool scheduled_events;     /* act on IMDS Scheduled Events */
        uint32_t event_shutdown_timeout; /* seconds guests get before a Reboot/Redeploy goes on */
        struct nr_prefix *address_space; /* the VNet's prefixes, when stated: Route Server
                                          * ignores advertised routes inside them */
        size_t n_address_space;
        char route_server[NR_AZNAME_MAX];   /* the Route Server's resource name */
        struct nr_prefix route_server_subnet; /* RouteServerSubnet; len 0: not given */
        bool branch_to_branch;     /* Route Server passes routes to the VPN/ER gateways */
};

/* BGP with Azure Route Server (config_bgp.c). BIRD speaks it; nestrouterd renders its
 * configuration (render_bird.c) and gates what it advertises on the host's health. */
#define NR_BGP_ASN_ROUTE_SERVER 65515
#define NR_BGP_MAX_PEERS 8
#define NR_BGP_MAX_PREPEND 8
struct nr_bgp {
        bool present;
        uint32_t asn;              /* ours: 16-bit, none Azure reserves */
        uint32_t peer_asn;         /* Route Server's: 65515 */
        uint32_t *peers;           /* both Route Server instances (virtualRouterIps) */
        size_t n_peers;
        uint32_t router_id;        /* 0: the LAN uplink's address (BIRD picks one with dhcp) */
        uint32_t hold_time;        /* seconds; 0 or 3 to 65535 */
        uint32_t keepalive;        /* seconds; 0: hold_time / 3 */
        uint32_t multihop;         /* TTL of the eBGP multihop session */
        struct nr_prefix *advertise; /* what this host serves; default: the guest subnet */
        size_t n_advertise;
        bool advertise_set;
        uint32_t prepend;          /* extra copies of our ASN in the AS path (standby host) */
        bool install_routes;       /* learned routes into the kernel's main table (default no) */
};

struct nr_router {
        uint8_t route_protocol;    /* rtm_protocol stamped on every route and rule we own */
        uint32_t rule_priority;    /* first priority of our policy rules */
};

/* Prometheus metrics for node exporter's textfile collector (daemon/control/metrics.c); off unless
 * asked for. `textfile: true` is this file, in the directory Debian's prometheus-node-exporter
 * reads; nothing is written while that directory is absent. */
#define NR_METRICS_TEXTFILE_DEBIAN "/var/lib/prometheus/node-exporter/nestrouter.prom"
struct nr_metrics_cfg {
        char textfile[512];        /* absolute path ending in .prom; "" : not written (default) */
        uint32_t interval;         /* seconds between writes */
        struct nr_prefix *scrape_from; /* sources the input chain lets reach scrape_port */
        size_t n_scrape_from;
        uint16_t scrape_port;      /* node exporter's port (default 9100) */
};

struct nr_config {
        char *file;                /* path it was read from, for messages */
        int version;
        struct nr_uplink uplinks[NR_UPLINK_COUNT];
        struct nr_guests guests;
        struct nr_port_forward *port_forwards;
        size_t n_port_forwards;
        struct nr_vm *vms;
        size_t n_vms;
        struct nr_firewall firewall;
        struct nr_router router;
        struct nr_libvirt libvirt;
        struct nr_azure azure;
        struct nr_metrics_cfg metrics;
        struct nr_bgp bgp;
        struct nr_posmap pos;      /* key path -> line:col */
};

const char *cfg_uplink_name(enum nr_uplink_role role);
const char *cfg_proto_name(enum nr_proto p);
const char *cfg_cpu_mode_name(enum nr_cpu_mode m);
const char *cfg_disk_format_name(enum nr_disk_format f);
const char *cfg_accel_name(enum nr_accel a);
const char *cfg_firmware_name(enum nr_firmware f);
const char *cfg_guest_os_name(enum nr_guest_os o);
const char *cfg_guest_devices_name(enum nr_guest_devices d);

/* Parse YAML text into *cfg (zeroed by the callee). Syntax, type and per-value errors go to
 * diags; returns 0 when none was an error, -EBADMSG when the text is not YAML at all (nothing
 * to check further), -EINVAL for other errors. Cross-field checks are separate (validate.h).
 * `file` is used for messages and stored in cfg. */
int cfg_parse(const char *file, const char *text, size_t len, struct nr_config *cfg,
              struct nr_diags *diags);
/* The same without copying the text: cfg->pos (the positions diagnostics ask for, found in
 * the text on the first request) reads it, so it must outlive every check of cfg, or
 * pos_free(&cfg->pos) come first. */
int cfg_parse_borrowed(const char *file, const char *text, size_t len, struct nr_config *cfg,
                       struct nr_diags *diags);

/* The largest configuration file read (a few thousand forwards take a few hundred KiB). */
#define NR_CONFIG_MAX_BYTES (4 << 20)
/* The deepest nesting of flow collections ([ ] and { }) read. */
#define NR_CONFIG_MAX_DEPTH 64

/* Read FILE and parse it; a file that cannot be read (missing, not a regular file, larger than
 * NR_CONFIG_MAX_BYTES, out of memory) is reported as a diag at 0:0 and gives -EBADMSG. */
int cfg_load(const char *file, struct nr_config *cfg, struct nr_diags *diags);

/* Just the reading half of cfg_load: the whole text (NUL-terminated, caller frees) or -EBADMSG
 * with the reason in diags. */
int cfg_read_text(const char *file, char **text, size_t *len, struct nr_diags *diags);

/* Fill defaults that depend on other fields (gateway = first host, DHCP range, DNS, MACs of VMs,
 * tables). Idempotent; called by cfg_parse after a clean parse. */
void cfg_fill_defaults(struct nr_config *cfg);
/* bgp's part of it (config_bgp.c): the advertised prefixes default to the guest subnet, the
 * keepalive to a third of the hold time. */
void cfg_bgp_defaults(struct nr_config *cfg);

void cfg_free(struct nr_config *cfg);

/* The stable MAC nestrouter gives a VM without one: 52:54:00 + 3 bytes of a hash of its name. */
void cfg_vm_default_mac(const char *name, uint8_t mac[6]);
