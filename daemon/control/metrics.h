/* Prometheus metrics: gathers the daemon's counters into core/render/render_metrics.c's struct and
 * writes the text for node exporter's textfile collector (metrics.textfile, every
 * metrics.interval and after a pass that changed something); `nestrouterctl metrics` prints the
 * same text. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct sd_event_source sd_event_source;
struct nr_daemon;

struct nr_mwriter {
        sd_event_source *timer;
        char path[512];            /* the file we write; "" none */
        bool dir_missing;          /* said once that the directory does not exist */
        uint64_t writes, failures;
};

/* The exposition text (caller frees), NULL when out of memory. */
char *daemon_metrics(struct nr_daemon *d);

/* Arms the periodic write. */
int metrics_open(struct nr_daemon *d);
/* A configuration was (re)loaded: new path or interval; a file we wrote elsewhere is removed. */
void metrics_configure(struct nr_daemon *d);
/* Write now (after a pass that changed something). */
void metrics_write(struct nr_daemon *d);
/* Stop: the file is removed, so a stopped daemon's series disappear rather than go stale. */
void metrics_close(struct nr_daemon *d);
