/* Synchronous libvirt domain operations. Each is one or a few RPCs to libvirtd; callers that must
 * not block (the daemon) never call them: they run in the virt helper process or in
 * nestrouterctl. A domain is nestrouter's when it carries an element of NR_DOMAIN_XMLNS in its
 * <metadata>; everything else is reported, never changed. */
#include "backend/virt/virt_dom.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/render/render_domain.h"

void virt_error(char *err, size_t errlen)
{
        const char *m = virGetLastErrorMessage();
        snprintf(err, errlen, "%s", m && *m ? m : "unknown libvirt error");
}

static void ignore_error(void *userdata, virErrorPtr e)
{
        (void)userdata, (void)e;
}

void virt_quiet_errors(void)
{
        virSetErrorFunc(NULL, ignore_error);
}

/* our hash in the live (flags AFFECT_LIVE) or persistent (AFFECT_CONFIG) definition */
static bool meta_hash(virDomainPtr d, unsigned flags, char out[17])
{
        char *m = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, NR_DOMAIN_XMLNS, flags);
        out[0] = '\0';
        if (!m) {
                virResetLastError(); /* no metadata of ours: not an error */
                return false;
        }
        if (domain_meta_hash(m, out) < 0)
                snprintf(out, 17, "%s", "unknown"); /* ours, but not a hash we wrote */
        free(m);
        return true;
}

int virt_dom_read(virDomainPtr d, struct virt_dom *out)
{
        memset(out, 0, sizeof(*out));
        snprintf(out->name, sizeof(out->name), "%s", virDomainGetName(d));
        if (virDomainGetState(d, &out->state, &out->reason, 0) < 0)
                return -EIO;
        out->active = out->state != VIR_DOMAIN_SHUTOFF && out->state != VIR_DOMAIN_CRASHED &&
                      out->state != VIR_DOMAIN_NOSTATE;
        out->persistent = virDomainIsPersistent(d) == 1;
        if (out->active)
                out->owned |= meta_hash(d, VIR_DOMAIN_AFFECT_LIVE, out->live_hash);
        if (out->persistent)
                out->owned |= meta_hash(d, VIR_DOMAIN_AFFECT_CONFIG, out->conf_hash);
        return 0;
}

int virt_list(virConnectPtr c, struct virt_doms *out, char *err, size_t errlen)
{
        virDomainPtr *doms = NULL;
        memset(out, 0, sizeof(*out));
        int n = virConnectListAllDomains(c, &doms, 0);
        if (n < 0) {
                virt_error(err, errlen);
                return -EIO;
        }
        out->v = calloc((size_t)n + 1, sizeof(*out->v));
        int r = out->v ? 0 : -ENOMEM;
        for (int i = 0; i < n; i++) {
                /* a domain that vanished meanwhile is simply not listed */
                if (r == 0 && virt_dom_read(doms[i], &out->v[out->n]) == 0)
                        out->n++;
                virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0)
                snprintf(err, errlen, "out of memory");
        return r;
}

const struct virt_dom *virt_find(const struct virt_doms *d, const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (!strcmp(d->v[i].name, name))
                        return &d->v[i];
        return NULL;
}

void virt_doms_free(struct virt_doms *d)
{
        free(d->v);
        memset(d, 0, sizeof(*d));
}

int virt_define(virConnectPtr c, const char *xml, char *err, size_t errlen)
{
        virDomainPtr d = virDomainDefineXML(c, xml);
        if (!d) {
                virt_error(err, errlen);
                return -EIO;
        }
        virDomainFree(d);
        return 0;
}

static virDomainPtr lookup(virConnectPtr c, const char *name, char *err, size_t errlen)
{
        virDomainPtr d = virDomainLookupByName(c, name);
        if (!d)
                virt_error(err, errlen);
        return d;
}

int virt_start(virConnectPtr c, const char *name, char *err, size_t errlen)
{
        virDomainPtr d = lookup(c, name, err, errlen);
        if (!d)
                return -ENOENT;
        int r = virDomainCreate(d) < 0 ? -EIO : 0;
        if (r < 0)
                virt_error(err, errlen);
        virDomainFree(d);
        return r;
}

int virt_undefine(virConnectPtr c, const char *name, char *err, size_t errlen)
{
        virDomainPtr d = lookup(c, name, err, errlen);
        if (!d)
                return -ENOENT;
        /* the definition only: disks, console logs, NVRAM and TPM state stay (a VM configured again
         * boots with its own UEFI variables and TPM secrets, BitLocker keys included) */
        int r = virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
                                                  VIR_DOMAIN_UNDEFINE_KEEP_TPM);
        if (r < 0 && virGetLastErrorCode() == VIR_ERR_INVALID_ARG) /* drivers without either */
                r = virDomainUndefineFlags(d, 0);
        r = r < 0 ? -EIO : 0;
        if (r < 0)
                virt_error(err, errlen);
        virDomainFree(d);
        return r;
}

int virt_destroy_dom(virDomainPtr d, char *err, size_t errlen)
{
        if (virDomainDestroy(d) == 0)
                return 0;
        virt_error(err, errlen);
        return -EIO;
}

int virt_request_shutdown(virDomainPtr d, char *err, size_t errlen)
{
        if (virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) == 0)
                return 0;
        virErrorPtr e = virGetLastError();
        if (e && (e->code == VIR_ERR_INVALID_ARG || e->code == VIR_ERR_ARGUMENT_UNSUPPORTED ||
                  e->code == VIR_ERR_NO_SUPPORT)) {
                virResetLastError();
                if (virDomainShutdownFlags(d, 0) == 0)
                        return 0;
        }
        virt_error(err, errlen);
        return -EIO;
}

const char *virt_state_name(int state)
{
        static const char *const n[] = {"no state", "running", "blocked", "paused",
                                        "shutting down", "shut off", "crashed", "pmsuspended"};
        return state >= 0 && state < (int)(sizeof(n) / sizeof(*n)) ? n[state] : "unknown";
}

const char *virt_reason_name(int state, int reason)
{
        static const char *const shutoff[] = {"",      "shutdown",      "destroyed", "crashed",
                                              "migrated", "saved",       "failed",
                                              "from snapshot", "daemon"};
        static const char *const running[] = {"",          "booted",   "migrated", "restored",
                                              "from snapshot", "unpaused", "migration canceled",
                                              "save canceled", "wakeup", "crashed"};
        static const char *const paused[] = {"",         "user",     "migration", "save",
                                             "dump",     "ioerror",  "watchdog",  "from snapshot",
                                             "shutting down", "snapshot", "crashed", "starting up"};
#define PICK(a) (reason >= 0 && reason < (int)(sizeof(a) / sizeof(*a)) ? a[reason] : "")
        switch (state) {
        case VIR_DOMAIN_SHUTOFF:
                return PICK(shutoff);
        case VIR_DOMAIN_RUNNING:
                return PICK(running);
        case VIR_DOMAIN_PAUSED:
                return PICK(paused);
        default:
                return "";
        }
#undef PICK
}

const char *virt_event_name(int event)
{
        static const char *const n[] = {"defined", "undefined", "started",     "suspended", "resumed",
                                        "stopped", "shutdown",  "pmsuspended", "crashed"};
        return event >= 0 && event < (int)(sizeof(n) / sizeof(*n)) ? n[event] : "event";
}

const char *virt_stopped_detail_name(int detail)
{
        static const char *const n[] = {"shutdown", "destroyed", "crashed",      "migrated",
                                        "saved",    "failed",    "from snapshot"};
        return detail >= 0 && detail < (int)(sizeof(n) / sizeof(*n)) ? n[detail] : "unknown";
}
