/* The one IMDS client: an HTTP/1.0 exchange with IMDS (or the wireserver) over a non-blocking
 * socket, optionally bound to a device (SO_BINDTODEVICE), as a state machine that never waits.
 * Whoever drives it waits for readiness its own way: the daemon on its sd-event loop
 * (imds_client.c), `nestrouterctl doctor` with poll() (imds_http_fetch below, which links no
 * event loop). The request text and the reading of the answer are core/parse/http.c's. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define IMDS_HTTP_REPLY_MAX 65536  /* IMDS documents are a few KiB */
#define IMDS_HTTP_ADDR_DEFAULT "169.254.169.254"
/* the document that names the NICs (the daemon's azure_watch.c, --teardown, the doctor) */
#define IMDS_NETWORK_PATH "/metadata/instance/network?api-version=2021-02-01"

struct imds_http {
        int fd;
        char *req;
        size_t req_len, req_off;
        char *buf;                 /* the answer so far, NUL-terminated */
        size_t len;
        uint32_t local;            /* the source address the kernel chose (host order) */
};

/* Creates the socket and starts connecting to ADDR:80; builds GET (body NULL) or POST of body
 * to PATH with "Metadata: true". dev may be NULL or "". 0 or -errno (then nothing is held). */
int imds_http_open(struct imds_http *x, const char *dev, const char *addr, const char *path,
                   const char *body);
/* What to wait for on x->fd before the next step: POLLOUT while sending, then POLLIN
 * (the same bits as EPOLLOUT and EPOLLIN). */
uint32_t imds_http_events(const struct imds_http *x);
/* Does what the socket allows now. 1: wait for imds_http_events() again; 0: the answer is
 * complete; -errno: it failed. */
int imds_http_step(struct imds_http *x);
/* After step returned 0: the HTTP status (or -EBADMSG) and the body within x->buf. */
int imds_http_result(const struct imds_http *x, const char **body, size_t *len);
void imds_http_close(struct imds_http *x);

/* The whole exchange, blocking, within timeout_ms: the HTTP status with *body (caller frees),
 * or -errno (-ETIMEDOUT). local may be NULL. */
int imds_http_fetch(const char *dev, const char *addr, const char *path, const char *body,
                    int timeout_ms, char **out, uint32_t *local);
