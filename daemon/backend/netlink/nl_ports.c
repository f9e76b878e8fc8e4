/* The ports of the guest bridge, for the bridge table's `ports` set: libvirt's taps come and go
 * without nestrouterd, so they are read from the link dump of each pass. */
#include "nl.h"
#include "nl_msg.h"

#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port_cmp(const void *a, const void *b)
{
        return strcmp(a, b);
}

static void add_port(struct nr_facts *f, const char *name)
{
        for (size_t i = 0; i < f->n_ports; i++)
                if (!strcmp(f->ports[i], name))
                        return;
        if (f->n_ports == NR_FACT_PORTS_MAX) {
                f->ports_truncated = true;
                return;
        }
        snprintf(f->ports[f->n_ports++], NR_IFNAMSIZ, "%s", name);
}

void nlb_bridge_ports(struct nlb *b, const struct nr_config *cfg, struct nr_facts *facts)
{
        facts->n_ports = 0;
        facts->ports_truncated = false;
        /* the configured ones even before they are enslaved: they will be */
        for (size_t i = 0; i < cfg->guests.n_ports; i++)
                add_port(facts, cfg->guests.ports[i]);
        int br = nlb_ifindex(b, cfg->guests.bridge);
        for (struct nl_object *o = br ? nl_cache_get_first(b->links) : NULL; o;
             o = nl_cache_get_next(o))
                if (rtnl_link_get_master((struct rtnl_link *)o) == br)
                        add_port(facts, rtnl_link_get_name((struct rtnl_link *)o));
        qsort(facts->ports, facts->n_ports, sizeof(facts->ports[0]), port_cmp);
}
