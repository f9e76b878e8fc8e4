/* `nestrouterd --check --json`: the desired state as one JSON object, for tools and tests. */
#include <stdio.h>
#include <stdlib.h>

#include "core/render/render_text.h"
#include "core/lib/strbuf.h"

void json_str(struct nr_buf *b, const char *s)
{
        buf_puts(b, "\"");
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        buf_printf(b, "\\%c", c);
                else if (c == '\n')
                        buf_puts(b, "\\n");
                else if (c == '\t')
                        buf_puts(b, "\\t");
                else if (c < 0x20)
                        buf_printf(b, "\\u%04x", c);
                else
                        buf_printf(b, "%c", c);
        }
        buf_puts(b, "\"");
}

static void j_links(struct nr_buf *b, const struct nr_desired *d)
{
        buf_puts(b, "\"links\":[");
        for (size_t i = 0; i < d->n_links; i++) {
                const struct nr_link *l = &d->links[i];
                buf_printf(b, "%s{\"name\":", i ? "," : "");
                json_str(b, l->name);
                buf_printf(b, ",\"kind\":\"%s\"", l->bridge ? "bridge" : "port");
                if (l->master[0]) {
                        buf_puts(b, ",\"master\":");
                        json_str(b, l->master);
                }
                if (l->mtu)
                        buf_printf(b, ",\"mtu\":%u", l->mtu);
                buf_puts(b, "}");
        }
        buf_puts(b, "]");
}

static void j_addrs(struct nr_buf *b, const struct nr_desired *d)
{
        buf_puts(b, ",\"addresses\":[");
        for (size_t i = 0; i < d->n_addrs; i++) {
                buf_printf(b, "%s{\"dev\":", i ? "," : "");
                json_str(b, d->addrs[i].dev);
                buf_printf(b, ",\"address\":\"%s\"}", prefix_s(d->addrs[i].addr).s);
        }
        buf_puts(b, "]");
}

static void j_routes(struct nr_buf *b, const struct nr_desired *d)
{
        buf_puts(b, ",\"routes\":[");
        for (size_t i = 0; i < d->n_routes; i++) {
                const struct nr_route *r = &d->routes[i];
                buf_printf(b, "%s{\"table\":%u,\"dst\":\"%s\",\"dev\":", i ? "," : "", r->table,
                           prefix_s(r->dst).s);
                json_str(b, r->dev);
                if (r->gateway)
                        buf_printf(b, ",\"via\":\"%s\"", ip_s(r->gateway).s);
                if (r->prefsrc)
                        buf_printf(b, ",\"src\":\"%s\"", ip_s(r->prefsrc).s);
                buf_printf(b, ",\"protocol\":%u}", d->route_protocol);
        }
        buf_puts(b, "]");
}

static void j_rules(struct nr_buf *b, const struct nr_desired *d)
{
        buf_puts(b, ",\"rules\":[");
        for (size_t i = 0; i < d->n_rules; i++) {
                const struct nr_rule *r = &d->rules[i];
                buf_printf(b, "%s{\"priority\":%u,\"table\":%u", i ? "," : "", r->priority,
                           r->table);
                if (r->from.len)
                        buf_printf(b, ",\"from\":\"%s\"", prefix_s(r->from).s);
                if (r->fwmask)
                        buf_printf(b, ",\"fwmark\":%u,\"fwmask\":%u", r->fwmark, r->fwmask);
                buf_printf(b, ",\"protocol\":%u}", d->route_protocol);
        }
        buf_puts(b, "]");
}

/* The table's text as the nft backend would load it. */
static void json_nft(struct nr_buf *b, const struct nftm_table *t)
{
        char *text = t ? nftm_text(t) : NULL;
        if (t && !text)
                b->oom = true;
        json_str(b, text);
        free(text);
}

static void j_misc(struct nr_buf *b, const struct nr_desired *d)
{
        buf_puts(b, ",\"sysctls\":{");
        for (size_t i = 0; i < d->n_sysctls; i++) {
                buf_puts(b, i ? "," : "");
                json_str(b, d->sysctls[i].key);
                buf_puts(b, ":");
                json_str(b, d->sysctls[i].value);
        }
        buf_puts(b, "},\"reservations\":[");
        for (size_t i = 0; i < d->n_reservations; i++) {
                const struct nr_reservation *r = &d->reservations[i];
                buf_printf(b, "%s{\"name\":", i ? "," : "");
                json_str(b, r->name);
                buf_printf(b, ",\"mac\":\"%s\",\"ip\":\"%s\",\"source\":\"%s\"}",
                           mac_s(r->mac).s, ip_s(r->ip).s, r->from_vm ? "vm" : "config");
        }
        buf_puts(b, "],\"notes\":[");
        for (size_t i = 0; i < d->n_notes; i++) {
                buf_puts(b, i ? "," : "");
                json_str(b, d->notes[i]);
        }
        buf_printf(b, "],\"dhcp\":%s,\"nft\":", d->dhcp ? "true" : "false");
        json_nft(b, d->nft);
        buf_puts(b, ",\"nft_bridge\":");
        json_nft(b, d->nft_bridge);
        buf_puts(b, ",\"dnsmasq_conf\":");
        json_str(b, d->dnsmasq_conf);
        buf_puts(b, ",\"dnsmasq_hosts\":");
        json_str(b, d->dnsmasq_hosts);
        if (d->bird_conf) { /* bgp: only: other configurations' output is unchanged */
                buf_puts(b, ",\"bird_conf\":");
                json_str(b, d->bird_conf);
                buf_puts(b, ",\"bird_conf_withdrawn\":");
                json_str(b, d->bird_conf_withdrawn);
        }
}

char *render_desired_json(const struct nr_desired *d)
{
        struct nr_buf b = {0};
        buf_puts(&b, "{");
        j_links(&b, d);
        j_addrs(&b, d);
        j_routes(&b, d);
        j_rules(&b, d);
        j_misc(&b, d);
        buf_puts(&b, "}\n");
        return buf_finish(&b);
}
