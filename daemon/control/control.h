/* The control socket (run dir, mode 0600) that nestrouterctl talks to: one request line, then
 * "exit N" and the body, then close. */
#include <stdbool.h>
#pragma once

typedef struct sd_event_source sd_event_source;
struct nr_daemon;

/* Clients served at once, and the time one has for its request and the answer together. */
#define NR_CONTROL_MAX_CLIENTS 32
#define NR_CONTROL_DEADLINE_USEC (2 * 1000000ULL)

struct ctl_client;

struct nr_control {
        int fd;
        struct ctl_client *clients; /* newest first */
        unsigned n_clients;
        unsigned long dropped_slow;  /* clients dropped at their deadline or to make room */
        char path[256];
        sd_event_source *src;
        struct nr_daemon *d;
};

int control_open(struct nr_control *c, struct nr_daemon *d);
void control_close(struct nr_control *c);
