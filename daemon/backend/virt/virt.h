/* The nested guests, daemon side. The daemon never calls libvirt itself (its RPCs block); it
 * supervises the virt helper process (helper.c) and talks to it over a socketpair: it renders
 * the desired domains (core/render/render_domain.c) once the helper has reported whether KVM works and
 * the network pass has made the guest bridge, runs disk imports as child processes (import.c),
 * and keeps the helper's latest snapshot of the domains for status and `nestrouterctl vm`.
 * Guest work runs in its own pass on its own timer, never inside the network pass. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/virt/chan.h"
#include "engine/engine.h"
#include "core/config/config.h"
#include "core/render/render_domain.h"
#include "core/render/render_metrics.h"
#include "core/lib/strbuf.h"
#include "backend/virt/firmware.h"
#include "backend/virt/import.h"
#include "lib/debounce.h"
#include "lib/supervise.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

enum virt_imp_state {
        VIRT_IMP_NONE,             /* the disk is used as it is (qcow2), or there is none */
        VIRT_IMP_QUEUED,
        VIRT_IMP_RUNNING,
        VIRT_IMP_DONE,
        VIRT_IMP_FAILED,           /* retried after the next reload */
};

struct virt_guest {                /* one configured VM */
        char name[NR_NAME_MAX];
        enum virt_imp_state imp;
        double percent;
        char imp_src[4096];        /* the source the import state belongs to */
        char disk[4096];           /* what the domain attaches; "" none */
        char note[400];            /* disk trouble, found afresh by every pass */
        char imp_err[400];         /* why the last import failed */
        struct virt_fw fw;         /* decided by every pass before rendering */
        char disk_note[400];       /* a blank disk not the size asked for, or not creatable */
        bool rendered;
        struct nr_domain dom;
};

struct virt_snap {                 /* one domain as the helper last saw it */
        char name[NR_NAME_MAX];
        char state[24], reason[24];
        int owned;                 /* 1 ours, 0 foreign (conflict), 2 ours but not configured,
                                    * -1 foreign and not configured (not ours to show) */
        bool ours;                 /* carries our metadata (what owned is made from) */
        bool persistent, active, started;
        char live[17], conf[17];
};

struct virt_cmd;

/* How long the helper may take over one libvirt operation before it counts as failed: a start
 * (QEMU comes up), and a define or undefine. */
#define VIRT_START_TIMEOUT_S 90
#define VIRT_OP_TIMEOUT_S 60

struct virtb {
        sd_event *ev;
        char *run_dir, *state_dir;
        const struct nr_config *cfg;
        /* the helper process */
        struct sup helper;         /* its pid, starts, crashes, last exit, restart backoff */
        struct debounce pass;      /* the guest pass */
        struct chan ch;
        char uri[256];             /* what the running helper was started with */
        enum nr_accel accel_mode;
        /* what it reported */
        bool accel_known;
        enum nr_accel accel;
        char accel_why[512];
        bool connected;
        char conn_msg[256];
        char busy[128];
        uint64_t busy_since;
        struct virt_snap *snap;
        size_t n_snap;
        bool have_snap;
        /* the guests' engine: desired domains, planned against the snapshot, applied through
         * the helper (ops answer -EINPROGRESS, then engine_complete) */
        struct nr_engine eng;
        char last_error[300];
        bool hold;                 /* no automatic starts (host shutdown) */
        bool network_ready;
        /* guests, imports, commands waiting for the helper */
        struct virt_guest *g;
        size_t n_g;
        char resources[600];       /* guest_resources_check's warnings at the last load */
        struct imp imp;
        char imp_vm[NR_NAME_MAX];  /* the guest being imported, "" none */
        struct virt_cmd *cmds;
        long next_id;
};

/* n: the counters the guests' ops add to (the daemon's: status and metrics count them) */
int virtb_open(struct virtb *b, sd_event *ev, const char *run_dir, const char *state_dir,
               struct nr_counters *n);
/* Stops the helper and a running import. The guests keep running. */
void virtb_close(struct virtb *b);

/* A configuration was (re)loaded: re-render and resend. cfg must live until the next call. */
void virtb_set_config(struct virtb *b, const struct nr_config *cfg);
/* A network pass ran: from now on the guest bridge exists, guests may be defined. */
void virtb_network_pass(struct virtb *b);
void virtb_schedule(struct virtb *b, uint64_t delay_usec);

/* The guests' plan as the next pass would make it (`nestrouterctl plan`): text, "" when
 * converged or nothing is known yet; NULL on allocation failure. */
char *virtb_plan_text(struct virtb *b);
/* Why the guest's domain is failing or in conflict ("" when it is not). */
const char *virtb_vm_error(const struct virtb *b, const char *name);

/* Status: the "guests" part of `nestrouterctl status`, as text lines or a JSON member
 * (",\"guests\":{...}"). Nothing when no VM is configured. */
void virtb_status_text(struct virtb *b, struct nr_buf *out);
void virtb_status_json(struct virtb *b, struct nr_buf *out);
/* The configured guests' states and imports for the metrics (at most max; names point into b). */
size_t virtb_metrics_guests(const struct virtb *b, struct nr_mguest *out, size_t max);

/* Control requests "vm ..." and "guests hold". Returns an exit code with *body set (the caller
 * replies), or VIRTB_DEFERRED when it took fd and will reply and close it itself. */
#define VIRTB_DEFERRED (-1)
int virtb_command(struct virtb *b, const char *req, int fd, char **body);

/* vm checkpoint|checkpoints|revert|checkpoint-delete NAME [LABEL] (checkpoint.c): exit code, body */
int virtb_checkpoint_cmd(struct virtb *b, const char *verb, const char *name, const char *label,
                         char **body);

/* The helper's entry point: `nestrouterd --virt-helper --fd N --uri URI --accel A --run-dir D`. */
int virt_helper_main(int argc, char **argv);

/* internal, shared by virt.c and virt_ctl.c */
const struct virt_snap *virtb_snap(const struct virtb *b, const char *name);
const struct nr_vm *virtb_vm(const struct virtb *b, const char *name);
/* Sends "cmd ID ..." to the helper; its reply (or, after timeout_s, a timeout message) goes to
 * the control client on fd, which is then closed. */
int virtb_send_cmd(struct virtb *b, int fd, unsigned timeout_s, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void virtb_cmds_close(struct virtb *b, const char *why);
