/* The ownership record, rendered and parsed: one object per line, words separated by spaces:
 *   protocol 78
 *   bridge nr0
 *   port veth-web2 nr0
 *   address 10.0.2.1/24 nr0 */
#include "core/model/owned.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/array.h"
#include "core/lib/strbuf.h"

char *owned_render(const struct nr_desired *d)
{
        struct nr_buf b = {0};
        buf_printf(&b, "# nestrouterd: what it made and removes when no longer wanted\n"
                       "protocol %u\n",
                   d->route_protocol);
        for (size_t i = 0; i < d->n_links; i++) {
                const struct nr_link *l = &d->links[i];
                if (l->bridge)
                        buf_printf(&b, "bridge %s\n", l->name);
                else if (!l->adopted)
                        buf_printf(&b, "port %s %s\n", l->name, l->master);
        }
        for (size_t i = 0; i < d->n_addrs; i++)
                buf_printf(&b, "address %s %s\n", prefix_s(d->addrs[i].addr).s, d->addrs[i].dev);
        return buf_finish(&b);
}

static bool name_ok(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n < NR_IFNAMSIZ;
}

static int parse_line(const char *line, struct nr_desired *d)
{
        char kind[16], a[64], b[64];
        unsigned proto;
        int n = sscanf(line, "%15s %63s %63s", kind, a, b);
        if (n >= 2 && !strcmp(kind, "protocol") && sscanf(a, "%u", &proto) == 1 && proto < 256) {
                d->route_protocol = (uint8_t)proto;
        } else if (n >= 2 && (!strcmp(kind, "bridge") || !strcmp(kind, "port")) && name_ok(a)) {
                struct nr_link l = {.bridge = kind[0] == 'b'};
                memcpy(l.name, a, strlen(a) + 1); /* name_ok: it fits */
                if (!l.bridge && n == 3 && name_ok(b))
                        memcpy(l.master, b, strlen(b) + 1);
                NR_APPEND(d->links, d->n_links, l);
        } else if (n == 3 && !strcmp(kind, "address") && name_ok(b)) {
                struct nr_addr ad = {0};
                if (prefix_parse(a, &ad.addr) < 0)
                        return 0;
                memcpy(ad.dev, b, strlen(b) + 1);
                NR_APPEND(d->addrs, d->n_addrs, ad);
        }
        return 0;
}

int owned_parse(const char *text, size_t len, struct nr_desired *out)
{
        memset(out, 0, sizeof(*out));
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
                char line[200];
                if (n < sizeof(line) && text[i] != '#') {
                        memcpy(line, text + i, n);
                        line[n] = '\0';
                        if (parse_line(line, out) < 0) {
                                model_free(out);
                                return -ENOMEM;
                        }
                }
                i += n + 1;
        }
        return 0;
}
