/* The IMDS client on the daemon's sd-event loop (the exchange itself is lib/imds_http.c, which
 * `nestrouterctl doctor` drives with poll()): one request, one callback, a hard timeout;
 * optionally bound to a device (SO_BINDTODEVICE). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/imds_http.h"

typedef struct sd_event sd_event;

#define IMDSC_ADDR_DEFAULT IMDS_HTTP_ADDR_DEFAULT
#define IMDSC_NETWORK_PATH IMDS_NETWORK_PATH
#define IMDSC_TIMEOUT_USEC (3 * 1000000ull)

/* status: HTTP status, or -errno when no answer came; body NUL-terminated (NULL on error);
 * local: the source address the kernel chose (network byte order ignored: host order). */
typedef void (*imdsc_cb)(void *userdata, int status, const char *body, size_t len, uint32_t local);

/* Start GET (body == NULL) or POST of `body` to http://ADDR/PATH with "Metadata: true". ADDR
 * is $NR_IMDS_ADDR (tests) or 169.254.169.254. `dev` may be NULL or "". The callback runs exactly
 * once, never from inside this call. Returns 0 or -errno (then it never runs). */
int imdsc_request(sd_event *ev, const char *dev, const char *path, const char *body, imdsc_cb cb,
                  void *userdata);

/* At exit: drop every request still in flight without calling its callback. */
void imdsc_cancel_all(void);
