/* The control socket (run dir, mode 0600) that nestrouterctl talks to: one request line, then
 * "exit N" and the body, then close. */
#pragma once

typedef struct sd_event_source sd_event_source;
struct nr_daemon;

struct nr_control {
        int fd;
        char path[256];
        sd_event_source *src;
        struct nr_daemon *d;
};

int control_open(struct nr_control *c, struct nr_daemon *d);
void control_close(struct nr_control *c);
