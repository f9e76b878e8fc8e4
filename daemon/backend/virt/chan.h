/* A message channel between nestrouterd and its virt helper: one SOCK_SEQPACKET socket of a
 * socketpair, so every message arrives whole. Sending never blocks: messages the socket cannot
 * take yet wait in a queue that drains when it becomes writable. Messages are text: a first line
 * "VERB ARGS..." and an optional body after it (see helper.c for the vocabulary). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

#define CHAN_MSG_MAX (256 * 1024)

struct chan_msg;

struct chan {
        int fd;
        sd_event_source *src;
        struct chan_msg *head, *tail;
        char *rbuf;
        void (*on_msg)(char *msg, size_t len, void *userdata); /* msg is NUL-terminated */
        void (*on_close)(void *userdata);
        void *userdata;
};

/* Takes ownership of fd. */
int chan_open(struct chan *c, sd_event *ev, int fd, void (*on_msg)(char *, size_t, void *),
              void (*on_close)(void *), void *userdata);
void chan_close(struct chan *c);
bool chan_is_open(const struct chan *c);

int chan_send(struct chan *c, const char *data, size_t len);
int chan_sendf(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
