/* Importing a raw, vhd or vhdx disk once into a compressed qcow2 (`qemu-img convert -p -O qcow2
 * -c`), as a child process the daemon's sd-event loop tracks: its progress output is parsed as it
 * arrives, the result lands under a temporary name and is renamed only when qemu-img succeeded,
 * and a file next to it (NAME.qcow2.source) records where it came from. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config/config.h"
#include "lib/supervise.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

struct imp {
        sd_event *ev;
        char vm[NR_NAME_MAX];
        char *src, *dst;
        struct sup sup;            /* the qemu-img child */
        int fd;
        sd_event_source *io;
        double percent;
        int logged;                /* last tenth of progress that was logged */
        char last[256];            /* last line qemu-img printed that was not progress */
        char line[512];
        size_t linelen;
        bool running;              /* until its exit is handled (also after imp_stop) */
        /* r: 0, -ECANCELED after imp_stop(), or -errno; j->last says why */
        void (*done)(struct imp *j, int r, void *userdata);
        void *userdata;
};

/* fmt: the source's qemu-img format name (raw, vpc, vhdx). */
int imp_start(struct imp *j, sd_event *ev, const char *vm, const char *fmt, const char *src,
              const char *dst, void (*done)(struct imp *, int, void *), void *userdata);
/* Asks a running import to stop, without waiting: done() follows with -ECANCELED, the partial
 * output removed. */
void imp_stop(struct imp *j);
/* Kills a running import, waiting for it (at exit), and removes its partial output; then, or
 * after done(), frees what the job holds. done() is not called. */
void imp_cancel(struct imp *j);

/* qemu-img's name for a disk format (vhd is "vpc"). */
const char *imp_qemu_format(enum nr_disk_format f);

/* Parses one progress chunk "    (12.34/100%)"; returns 0 and the percentage, or -EINVAL. */
int imp_parse_progress(const char *s, double *pct);

/* The source path recorded next to an imported disk (dst.source), or "" (caller's buffer). */
void imp_recorded_source(const char *dst, char *buf, size_t size);
