/* The HTTP/1.0 both IMDS clients speak (the daemon's asynchronous one, imds_client.c, and the
 * doctor's blocking one): the request text and the reading of the answer. Pure. */
#pragma once

#include <stddef.h>

/* "GET PATH HTTP/1.0" (or POST with a JSON body when body is not NULL) to host, with Azure's
 * `Metadata: true` header. NULL when out of memory; *len gets the length. */
char *http_request(const char *path, const char *host, const char *body, size_t *len);

/* The status of a whole answer and where its body starts (the end when there is no blank line
 * after the headers). Returns the status (100-599), or -EBADMSG when it is not HTTP/1.x. */
int http_response(const char *buf, size_t len, size_t *body_off);
