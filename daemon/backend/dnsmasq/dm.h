/* dnsmasq as a supervised child: generated config in the run dir, reservations in a
 * dhcp-hostsfile (SIGHUP re-reads it), leases in the state dir; restarted with backoff when it
 * dies, fully restarted when its main config changes or the guest bridge it serves was replaced
 * (a new ifindex: dnsmasq's DHCP socket stays bound to the old one and would never hear a
 * unicast renewal again). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "core/model/plan.h"
#include "lib/supervise.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

struct dmb {
        sd_event *ev;
        char *run_dir, *state_dir;
        struct sup sup;            /* the dnsmasq child: pid, starts, crashes, last exit */
        char *conf, *hosts;        /* what the running instance was given */
        char bridge[16];           /* the guest bridge it serves (IFNAMSIZ) and its ifindex */
        unsigned bridge_ifindex;   /* then; 0: it did not exist */
        bool hosts_inline;         /* the run dir is out of dnsmasq's reach once it drops root:
                                    * reservations go into the conf it reads as root, and a
                                    * change restarts it instead of a SIGHUP */
        bool restart;              /* the running instance is stopping; the new one (conf,
                                    * hosts, bridge above) starts when it has exited */
        void (*on_exit)(void *userdata);
        void *userdata;
};

int dmb_open(struct dmb *b, sd_event *ev, const char *run_dir, const char *state_dir,
             void (*on_exit)(void *), void *userdata);
/* Stops a running instance (waiting for it: at exit only) and frees everything. */
void dmb_close(struct dmb *b);

/* A running instance whose bridge now has another ifindex than at its start is reported with
 * no config, so that the planner restarts it (leases are on disk). */
int dmb_observe(struct dmb *b, struct nr_observed *have);
/* START / RELOAD / STOP; bridge: the interface the config serves. START before the backoff
 * deadline returns -EAGAIN. Nothing waits for dnsmasq: STOP, and a START while an instance
 * runs, only ask it to stop (SIGTERM, SIGKILL after 2 s); the new one starts on its exit. */
int dmb_apply(struct dmb *b, const struct nr_op *op, const char *conf, const char *hosts,
              const char *bridge, char *err, size_t errlen);

/* Path of the lease file (state dir). */
void dmb_leases_path(const struct dmb *b, char *buf, size_t size);

/* observe/apply for the engine */
extern const struct nr_backend_ops dmb_ops;
