/* Reading the IMDS network and scheduled-events documents into small fixed structs, and the
 * uplink roles that follow from them. */
#include "core/azure/imds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/parse/json.h"

static int hex_mac(const char *s, uint8_t mac[6])
{
        char buf[18];
        if (!s)
                return -EINVAL;
        if (strlen(s) == 12) {
                snprintf(buf, sizeof(buf), "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", s, s + 2, s + 4,
                         s + 6, s + 8, s + 10);
                s = buf;
        }
        return mac_parse(s, mac);
}

static void parse_ipv4(const struct json *ipv4, struct imds_nic *n)
{
        const struct json *a = json_get(ipv4, "ipAddress");
        for (const struct json *e = a ? a->child : NULL; e && !n->ip; e = e->next)
                if (ip_parse(json_get_str(e, "privateIpAddress") ?: "", &n->ip) < 0)
                        n->ip = 0;
        const struct json *s = json_get(ipv4, "subnet");
        for (const struct json *e = s ? s->child : NULL; e; e = e->next) {
                char buf[40];
                struct nr_prefix p;
                const char *addr = json_get_str(e, "address"), *len = json_get_str(e, "prefix");
                if (!addr || !len || n->n_subnets == IMDS_MAX_SUBNETS)
                        continue;
                snprintf(buf, sizeof(buf), "%s/%s", addr, len);
                if (prefix_parse(buf, &p) >= 0)
                        n->subnets[n->n_subnets++] = p;
        }
}

int imds_parse_network(const char *text, size_t len, struct imds_network *out, const char **err)
{
        memset(out, 0, sizeof(*out));
        struct json *j = json_parse(text, len, err);
        if (!j)
                return -EINVAL;
        const struct json *ifs = json_get(j, "interface");
        int r = 0;
        if (!ifs || ifs->type != JSON_TYPE_ARRAY) {
                if (err)
                        *err = "no \"interface\" array";
                r = -EINVAL;
        }
        for (const struct json *e = ifs && !r ? ifs->child : NULL; e; e = e->next) {
                struct imds_nic *n = &out->nics[out->n];
                if (out->n == IMDS_MAX_NICS || hex_mac(json_get_str(e, "macAddress"), n->mac) < 0)
                        continue;
                parse_ipv4(json_get(e, "ipv4"), n);
                out->n++;
        }
        json_free(j);
        return r;
}

static int find_nic(const struct imds_network *net, const struct nr_match *m, int primary)
{
        if (m->kind == NR_MATCH_AZURE_PRIMARY)
                return primary;
        for (size_t i = 0; m->kind == NR_MATCH_AZURE_SUBNET && i < net->n; i++)
                for (size_t k = 0; k < net->nics[i].n_subnets; k++)
                        if (net->nics[i].subnets[k].addr == prefix_network(m->azure_subnet) &&
                            net->nics[i].subnets[k].len == m->azure_subnet.len)
                                return (int)i;
        return -1;
}

void imds_resolve_roles(const struct nr_config *cfg, const struct imds_network *net,
                        uint32_t local, struct imds_roles *out)
{
        memset(out, 0, sizeof(*out));
        out->primary = -1;
        for (size_t i = 0; local && i < net->n; i++)
                if (net->nics[i].ip == local)
                        out->primary = (int)i;
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                int i = find_nic(net, &cfg->uplinks[r].match, out->primary);
                if (!cfg->uplinks[r].present || i < 0)
                        continue;
                out->known[r] = true;
                memcpy(out->mac[r], net->nics[i].mac, 6);
        }
}

/* ---- scheduled events ------------------------------------------------------------------- */

int64_t imds_parse_http_date(const char *s)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        char mon[4] = "";
        int day, year, hh, mm, ss;
        if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d GMT", &day, mon, &year, &hh, &mm, &ss) != 6)
                return -1;
        const char *m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
        if (!m || (m - months) % 3 || day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 ||
            ss > 60 || hh < 0 || mm < 0 || ss < 0)
                return -1;
        struct tm tm = {.tm_sec = ss, .tm_min = mm, .tm_hour = hh, .tm_mday = day,
                        .tm_mon = (int)((m - months) / 3), .tm_year = year - 1900};
        return (int64_t)timegm(&tm);
}

static enum imds_event_type event_type(const char *s)
{
        static const char *const names[] = {"Freeze", "Reboot", "Redeploy", "Preempt", "Terminate"};
        for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
                if (!strcmp(s, names[i]))
                        return (enum imds_event_type)i;
        return IMDS_EVENT_TYPE_OTHER;
}

static bool names_vm(const struct json *res, const char *vm)
{
        for (const struct json *e = res ? res->child : NULL; e; e = e->next)
                if (e->type == JSON_TYPE_STRING && vm && *vm && !strcasecmp(e->str, vm))
                        return true;
        return false;
}

int imds_parse_events(const char *text, size_t len, const char *vm_name, struct imds_events *out,
                      const char **err)
{
        memset(out, 0, sizeof(*out));
        struct json *j = json_parse(text, len, err);
        if (!j)
                return -EINVAL;
        const struct json *inc = json_get(j, "DocumentIncarnation");
        const struct json *evs = json_get(j, "Events");
        int r = 0;
        if (!evs || evs->type != JSON_TYPE_ARRAY) {
                if (err)
                        *err = "no \"Events\" array";
                r = -EINVAL;
        }
        if (inc && inc->str)
                snprintf(out->incarnation, sizeof(out->incarnation), "%s", inc->str);
        for (const struct json *e = !r ? evs->child : NULL; e && out->n < IMDS_MAX_EVENTS;
             e = e->next) {
                const char *id = json_get_str(e, "EventId");
                if (!id || strlen(id) >= sizeof(out->ev[0].id))
                        continue;
                struct imds_event *v = &out->ev[out->n++];
                snprintf(v->id, sizeof(v->id), "%s", id);
                v->type = event_type(json_get_str(e, "EventType"));
                v->for_us = names_vm(json_get(e, "Resources"), vm_name);
                const char *st = json_get_str(e, "EventStatus");
                v->scheduled = st && !strcmp(st, "Scheduled");
                const char *nb = json_get_str(e, "NotBefore");
                v->not_before = nb && *nb ? imds_parse_http_date(nb) : 0;
                if (v->not_before < 0)
                        v->not_before = 0;
        }
        json_free(j);
        return r;
}

char *imds_ack_body(const char *event_id)
{
        char *s = NULL;
        /* EventIds are GUIDs; anything else would need escaping, so refuse it */
        for (const char *c = event_id; *c; c++)
                if (!(((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') || (*c >= '0' && *c <= '9') ||
                      *c == '-'))
                        return NULL;
        if (asprintf(&s, "{\"StartRequests\":[{\"EventId\":\"%s\"}]}", event_id) < 0)
                return NULL;
        return s;
}
