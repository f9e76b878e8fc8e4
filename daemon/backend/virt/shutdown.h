/* Shutting guests down cleanly, as libvirt-guests does but event-driven: every guest gets an
 * ACPI shutdown request at once, the job waits for their STOPPED lifecycle events under one
 * overall timeout, destroys the stragglers and reports each guest as clean (it powered itself
 * off: event STOPPED/SHUTDOWN) or forced (destroyed). Runs on an sd-event loop with the
 * virt_event bridge: in the virt helper (`nestrouterctl vm stop`) and in nestrouterctl itself
 * (`nestrouterctl guests shutdown`, at host shutdown). */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"
#include "core/lib/strbuf.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

enum virt_sd_result {
        VIRT_SD_WAITING,
        VIRT_SD_CLEAN,             /* the guest powered off after the request */
        VIRT_SD_FORCED,            /* destroyed: after the timeout, on request, or the ACPI
                                    * request failed */
        VIRT_SD_NOT_RUNNING,       /* was already off */
        VIRT_SD_OTHER,             /* stopped some other way meanwhile (crash, someone else) */
        VIRT_SD_FAILED,            /* could not be stopped at all */
};

struct virt_sd_guest {
        char name[NR_NAME_MAX];
        enum virt_sd_result result;
        uint64_t usec;             /* from the request until it was off */
        char detail[600];
};

struct virt_shutdown {
        virConnectPtr conn;
        sd_event *ev;
        struct virt_sd_guest *g;
        size_t n;
        unsigned timeout_s;
        uint64_t t0;
        sd_event_source *timer, *finish;
        int cb_id;
        bool done;
        /* how a guest is asked to stop: virt_request_shutdown; tests put a guest that ignores
         * ACPI here */
        int (*request)(virDomainPtr d, char *err, size_t errlen);
        void (*on_done)(struct virt_shutdown *s, void *userdata);
        void *userdata;
};

/* Starts stopping the named guests (force: destroy at once). s->request may be set before.
 * on_done runs from the loop (never from inside this call) once every guest has a result. */
int virt_shutdown_start(struct virt_shutdown *s, virConnectPtr c, sd_event *ev,
                        char *const *names, size_t n, unsigned timeout_s, bool force,
                        void (*on_done)(struct virt_shutdown *, void *), void *userdata);
void virt_shutdown_free(struct virt_shutdown *s);

/* One line per guest ("web1: clean, powered off 0.4 s after the ACPI request"). */
void virt_shutdown_report(const struct virt_shutdown *s, struct nr_buf *b);
size_t virt_shutdown_count(const struct virt_shutdown *s, enum virt_sd_result r);
const char *virt_sd_result_name(enum virt_sd_result r);
