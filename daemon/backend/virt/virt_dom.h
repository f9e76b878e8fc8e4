/* The libvirt calls nestrouter makes, synchronous and small: list the domains with their state
 * and nestrouter's metadata hash (what we own), define, start, shut down, destroy, undefine.
 * Shared by the virt helper process, nestrouterctl (guests shutdown) and the unit tests. Every
 * function fills err with libvirt's message on failure; nothing here logs. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config/config.h"

struct virt_dom {
        char name[NR_NAME_MAX];
        int state, reason;         /* virDomainState and its reason */
        bool active, persistent;
        bool owned;                /* carries nestrouter's metadata (live or persistent) */
        char live_hash[17];        /* hash of the running definition; "" when not running/ours */
        char conf_hash[17];        /* hash of the persistent definition; "" when transient */
};

struct virt_doms {
        struct virt_dom *v;
        size_t n;
};

/* Every domain of the connection (active and inactive). */
int virt_list(virConnectPtr c, struct virt_doms *out, char *err, size_t errlen);
const struct virt_dom *virt_find(const struct virt_doms *d, const char *name);
void virt_doms_free(struct virt_doms *d);

/* The state and ownership of one domain (virt_list for a single one). */
int virt_dom_read(virDomainPtr d, struct virt_dom *out);

int virt_define(virConnectPtr c, const char *xml, char *err, size_t errlen);
int virt_start(virConnectPtr c, const char *name, char *err, size_t errlen);
int virt_undefine(virConnectPtr c, const char *name, char *err, size_t errlen);
int virt_destroy_dom(virDomainPtr d, char *err, size_t errlen);
/* ACPI power button; falls back to the hypervisor's default method where the driver rejects
 * the flag (the test driver). */
int virt_request_shutdown(virDomainPtr d, char *err, size_t errlen);

/* libvirt's last error message for this thread ("unknown error" if none). */
void virt_error(char *err, size_t errlen);
/* Quiets libvirt's default error printing to stderr (we report errors ourselves). */
void virt_quiet_errors(void);

const char *virt_state_name(int state);
/* "shutdown", "destroyed", "booted", ... for the state's reason; "" when not interesting */
const char *virt_reason_name(int state, int reason);
const char *virt_event_name(int event);
const char *virt_stopped_detail_name(int detail);
