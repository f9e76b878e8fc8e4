/* The health gate (bgp_gate.h): every condition names the object that fails it, for status and
 * the log. */
#include "core/model/bgp_gate.h"

#include <stdio.h>
#include <string.h>

static const struct nr_link *want_bridge(const struct nr_desired *w)
{
        for (size_t i = 0; i < w->n_links; i++)
                if (w->links[i].bridge)
                        return &w->links[i];
        return NULL;
}

static const struct nr_obs_link *have_link(const struct nr_observed *h, const char *name)
{
        for (size_t i = 0; i < h->n_links; i++)
                if (!strcmp(h->links[i].name, name))
                        return &h->links[i];
        return NULL;
}

static bool have_addr(const struct nr_observed *h, const struct nr_addr *a)
{
        for (size_t i = 0; i < h->n_addrs; i++)
                if (!strcmp(h->addrs[i].dev, a->dev) && h->addrs[i].addr.addr == a->addr.addr &&
                    h->addrs[i].addr.len == a->addr.len)
                        return true;
        return false;
}

static const char *have_sysctl(const struct nr_observed *h, const char *key)
{
        for (size_t i = 0; i < h->n_sysctls; i++)
                if (!strcmp(h->sysctls[i].key, key))
                        return h->sysctls[i].value;
        return NULL;
}

/* The bridge, its gateway address and forwarding: the guests' path through this host. */
static bool path_ok(const struct nr_desired *w, const struct nr_observed *h, char *why,
                    size_t size)
{
        const struct nr_link *br = want_bridge(w);
        const struct nr_obs_link *l = br ? have_link(h, br->name) : NULL;
        if (br && !l)
                return snprintf(why, size, "guest bridge %s is missing", br->name), false;
        if (br && !l->up)
                return snprintf(why, size, "guest bridge %s is down", br->name), false;
        for (size_t i = 0; br && i < w->n_addrs; i++)
                if (!strcmp(w->addrs[i].dev, br->name) && !have_addr(h, &w->addrs[i]))
                        return snprintf(why, size, "%s: gateway address %s is missing", br->name,
                                        prefix_s(w->addrs[i].addr).s),
                               false;
        for (size_t i = 0; i < w->n_sysctls; i++) {
                if (strcmp(w->sysctls[i].key, "net/ipv4/ip_forward"))
                        continue;
                const char *v = have_sysctl(h, w->sysctls[i].key);
                if (!v || strcmp(v, w->sysctls[i].value))
                        return snprintf(why, size, "IPv4 forwarding is off "
                                                   "(net.ipv4.ip_forward)"), false;
        }
        return true;
}

bool bgp_gate(const struct nr_desired *want, const struct nr_observed *have, char *why,
              size_t size)
{
        if (size)
                why[0] = '\0';
        if (want->bgp_drained)
                return snprintf(why, size, "drained (nestrouterctl drain)"), false;
        if (!have)
                return snprintf(why, size, "nothing observed yet"), false;
        if (!path_ok(want, have, why, size))
                return false;
        if (!have->nft_present)
                return snprintf(why, size, "table inet nestrouter is missing"), false;
        if (want->dhcp && !have->dnsmasq_running)
                return snprintf(why, size, "dnsmasq (guest DHCP/DNS) is not running"), false;
        return true;
}
