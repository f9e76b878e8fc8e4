/* Azure IMDS documents: /metadata/instance/network -> per-NIC MAC, addresses and subnets, and
 * which NIC plays which uplink role; /metadata/scheduledevents -> the events for this VM.
 * Pure: the HTTP client lives in daemon/azure/imds_client.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/lib/ipaddr.h"

#define IMDS_MAX_NICS 8
#define IMDS_MAX_SUBNETS 4
#define IMDS_MAX_EVENTS 8

struct imds_nic {
        uint8_t mac[6];
        uint32_t ip;               /* first privateIpAddress (0: none) */
        struct nr_prefix subnets[IMDS_MAX_SUBNETS];
        size_t n_subnets;
};

struct imds_network {
        struct imds_nic nics[IMDS_MAX_NICS];
        size_t n;
};

/* Roles resolved from IMDS: the MAC each Azure-matched uplink stands for. */
struct imds_roles {
        bool known[NR_UPLINK_COUNT];
        uint8_t mac[NR_UPLINK_COUNT][6];
        int primary;               /* index into the network's nics, -1: not known */
};

/* MACs in the document are upper-case hex without separators ("000D3A000001"). Returns 0, or
 * -EINVAL for a document that is not the network document (with *err naming the reason). */
int imds_parse_network(const char *text, size_t len, struct imds_network *out, const char **err);

/* The primary NIC is the one whose address the kernel chose as source towards IMDS (`local`):
 * Azure routes 169.254.169.254 only via the primary NIC. Order in the document is not. */
void imds_resolve_roles(const struct nr_config *cfg, const struct imds_network *net,
                        uint32_t local, struct imds_roles *out);

enum imds_event_type {
        IMDS_EVENT_TYPE_FREEZE,
        IMDS_EVENT_TYPE_REBOOT,
        IMDS_EVENT_TYPE_REDEPLOY,
        IMDS_EVENT_TYPE_PREEMPT,
        IMDS_EVENT_TYPE_TERMINATE,
        IMDS_EVENT_TYPE_OTHER,
};

struct imds_event {
        char id[64];
        enum imds_event_type type;
        bool for_us;               /* Resources names this VM */
        bool scheduled;            /* EventStatus: Scheduled (not Started) */
        int64_t not_before;        /* unix seconds, 0: none given */
};

struct imds_events {
        char incarnation[24];
        struct imds_event ev[IMDS_MAX_EVENTS];
        size_t n;
};

int imds_parse_events(const char *text, size_t len, const char *vm_name, struct imds_events *out,
                      const char **err);
/* "Mon, 19 Sep 2016 18:29:47 GMT" -> unix seconds; -1 when malformed. */
int64_t imds_parse_http_date(const char *s);
/* {"StartRequests":[{"EventId":"..."}]} (caller frees). */
char *imds_ack_body(const char *event_id);
