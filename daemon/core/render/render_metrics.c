/* The Prometheus text exposition of the daemon's counters. Names follow Prometheus' conventions
 * (nestrouter_ prefix, _total counters, base units: seconds, bytes); every family has HELP and
 * TYPE, so `promtool check metrics` accepts it. Which nft rule counts which drop reason is kept
 * here, next to the names, so the mapping to render_nft.c's rule ids lives in one place. Pure. */
#include "core/render/render_metrics.h"

#include <stdio.h>
#include <string.h>

#include "core/lib/strbuf.h"

const uint64_t nr_pass_bucket_usec[NR_PASS_BUCKETS] = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
};

void metrics_pass_observe(struct nr_pass_hist *h, uint64_t usec)
{
        size_t i = 0;
        while (i < NR_PASS_BUCKETS && usec > nr_pass_bucket_usec[i])
                i++;
        h->bucket[i]++;
        h->count++;
        h->sum_usec += usec;
}

/* nft rule id -> the reason label of nestrouter_dropped_*_total */
static const struct {
        const char *id, *reason;
} drop_rules[] = {
        {"fwd-guest-spoof", "spoof"},         {"fwd-guest-imds", "metadata"},
        {"fwd-guest-wireserver", "wireserver"}, {"fwd-drop", "forward_policy"},
        {"fwd-invalid", "forward_invalid"},   {"in-drop", "input_policy"},
        {"in-guest-drop", "input_guest"},     {"in-invalid", "input_invalid"},
};

/* the nat chain sees only the first packet of a connection: these count connections */
static const struct {
        const char *id, *kind;
} forward_rules[] = {
        {"pre-pf-open", "open"},
        {"pre-pf-from", "from"},
        {"pre-pf-hairpin", "hairpin"},
};

static const char *const import_names[] = {"none", "queued", "running", "done", "failed"};

static void family(struct nr_buf *b, const char *name, const char *type, const char *help)
{
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a label value: backslash, double quote and newline escaped */
static void label_value(struct nr_buf *b, const char *s)
{
        char one[2] = {0};
        for (; *s; s++) {
                if (*s == '\\' || *s == '"') {
                        one[0] = *s;
                        buf_puts(b, "\\");
                        buf_puts(b, one);
                } else if (*s == '\n') {
                        buf_puts(b, "\\n");
                } else {
                        one[0] = *s;
                        buf_puts(b, one);
                }
        }
}

/* name{k="v",...} from n key/value pairs (n 0: no braces) */
static void series_n(struct nr_buf *b, const char *name, const char *const *kv, size_t n)
{
        buf_puts(b, name);
        for (size_t i = 0; i < n; i++) {
                buf_printf(b, "%s%s=\"", i ? "," : "{", kv[2 * i]);
                label_value(b, kv[2 * i + 1]);
                buf_puts(b, "\"");
        }
        if (n)
                buf_puts(b, "}");
}

/* name{k1="v1",k2="v2"} with up to two labels (k2 NULL: one, k1 NULL: none) */
static void series(struct nr_buf *b, const char *name, const char *k1, const char *v1,
                   const char *k2, const char *v2)
{
        const char *const kv[4] = {k1, v1, k2, v2};
        series_n(b, name, kv, k1 ? k2 ? 2 : 1 : 0);
}

static void u64(struct nr_buf *b, const char *name, const char *k1, const char *v1, uint64_t v)
{
        series(b, name, k1, v1, NULL, NULL);
        buf_printf(b, " %llu\n", (unsigned long long)v);
}

static void one(struct nr_buf *b, const char *name, const char *type, const char *help,
                uint64_t v)
{
        family(b, name, type, help);
        u64(b, name, NULL, NULL, v);
}

static void seconds(struct nr_buf *b, uint64_t usec)
{
        buf_printf(b, "%llu.%06llu", (unsigned long long)(usec / 1000000),
                   (unsigned long long)(usec % 1000000));
}

static void m_config(struct nr_buf *b, const struct nr_metrics *m)
{
        one(b, "nestrouter_config_ok", "gauge",
            "1 when the configuration file was accepted the last time it was read", m->config_ok);
        one(b, "nestrouter_config_applied", "gauge",
            "1 when a configuration is running (the last accepted one)", m->config_applied);
        family(b, "nestrouter_reloads_total", "counter",
               "Reads of the configuration file, by result");
        u64(b, "nestrouter_reloads_total", "result", "accepted", m->reloads - m->reloads_rejected);
        u64(b, "nestrouter_reloads_total", "result", "rejected", m->reloads_rejected);
        one(b, "nestrouter_converged", "gauge",
            "1 when the last reconcile pass applied everything it planned", m->converged);
}

static void kinds(struct nr_buf *b, const char *name, const char *help,
                  const struct nr_mkind *k, size_t n)
{
        family(b, name, "counter", help);
        for (size_t i = 0; i < n; i++)
                u64(b, name, "kind", k[i].name, k[i].n);
}

static void m_passes(struct nr_buf *b, const struct nr_metrics *m)
{
        const struct nr_pass_hist *h = &m->pass;
        const char *name = "nestrouter_pass_duration_seconds";
        uint64_t cum = 0;
        family(b, name, "histogram", "Duration of reconcile passes (observe, plan, apply)");
        for (size_t i = 0; i <= NR_PASS_BUCKETS; i++) {
                char le[32];
                cum += h->bucket[i];
                if (i == NR_PASS_BUCKETS)
                        strcpy(le, "+Inf");
                else
                        snprintf(le, sizeof(le), "%g", (double)nr_pass_bucket_usec[i] / 1e6);
                u64(b, "nestrouter_pass_duration_seconds_bucket", "le", le, cum);
        }
        buf_puts(b, "nestrouter_pass_duration_seconds_sum ");
        seconds(b, h->sum_usec);
        buf_printf(b, "\nnestrouter_pass_duration_seconds_count %llu\n",
                   (unsigned long long)h->count);
        family(b, "nestrouter_last_pass_duration_seconds", "gauge",
               "Duration of the last reconcile pass");
        buf_puts(b, "nestrouter_last_pass_duration_seconds ");
        seconds(b, m->last_pass_usec);
        buf_puts(b, "\n");
        one(b, "nestrouter_writes_total", "counter", "Operations applied successfully", m->writes);
        one(b, "nestrouter_failures_total", "counter", "Operations that failed", m->failures);
        one(b, "nestrouter_backoffs_total", "counter",
            "Operations put off because their subsystem is backing off (dnsmasq restarts)",
            m->backoffs);
        kinds(b, "nestrouter_repairs_total",
              "Drift repaired after the system had converged, by kind of object", m->repairs,
              m->n_kinds);
        kinds(b, "nestrouter_changes_total",
              "Operations applying a (re)loaded configuration, by kind of object", m->changes,
              m->n_kinds);
        family(b, "nestrouter_failing_objects", "gauge",
               "Objects failing or in conflict now, retried with backoff, by kind of object");
        for (size_t i = 0; i < m->n_kinds; i++)
                u64(b, "nestrouter_failing_objects", "kind", m->repairs[i].name,
                    m->failing ? m->failing[i].n : 0);
        family(b, "nestrouter_events_total", "counter",
               "Kernel events that scheduled a reconcile pass, by source");
        u64(b, "nestrouter_events_total", "source", "netlink", m->events_netlink);
        u64(b, "nestrouter_events_total", "source", "nftables", m->events_nft);
        one(b, "nestrouter_event_overruns_total", "counter",
            "Event socket overruns (ENOBUFS); each is followed by a full re-read", m->overruns);
}

static const struct nftd_counter *rule(const struct nr_metrics *m, const char *id)
{
        for (size_t i = 0; i < m->n_rules; i++)
                if (!strcmp(m->rules[i].id, id))
                        return &m->rules[i];
        return NULL;
}

static void m_drops(struct nr_buf *b, const struct nr_metrics *m)
{
        static const char *const names[2] = {"nestrouter_dropped_packets_total",
                                             "nestrouter_dropped_bytes_total"};
        static const char *const helps[2] = {
                "Packets dropped by the nestrouter table, by reason",
                "Bytes dropped by the nestrouter table, by reason",
        };
        for (int w = 0; w < 2; w++) {
                family(b, names[w], "counter", helps[w]);
                for (size_t i = 0; i < sizeof(drop_rules) / sizeof(*drop_rules); i++) {
                        const struct nftd_counter *c = rule(m, drop_rules[i].id);
                        if (c)
                                u64(b, names[w], "reason", drop_rules[i].reason,
                                    w ? c->bytes : c->packets);
                }
        }
        const char *pf = "nestrouter_port_forward_connections_total";
        family(b, pf, "counter",
               "Connections sent to a port forward's target, by how they matched (open to all, "
               "from list, hairpin from a guest)");
        for (size_t i = 0; i < sizeof(forward_rules) / sizeof(*forward_rules); i++) {
                const struct nftd_counter *c = rule(m, forward_rules[i].id);
                if (c)
                        u64(b, pf, "match", forward_rules[i].kind, c->packets);
        }
}

static void m_forwards(struct nr_buf *b, const struct nr_metrics *m)
{
        static const char *const names[2] = {"nestrouter_port_forward_packets_total",
                                             "nestrouter_port_forward_bytes_total"};
        static const char *const helps[2] = {
                "Packets of each port forward's connections, both directions",
                "Bytes of each port forward's connections, both directions",
        };
        for (int w = 0; w < 2; w++) {
                family(b, names[w], "counter", helps[w]);
                for (size_t i = 0; i < m->n_forwards; i++) {
                        const struct nr_mforward *f = &m->forwards[i];
                        char id[32], port[8];
                        snprintf(id, sizeof(id), "fwd-pf-%s-%u", f->proto, f->port);
                        snprintf(port, sizeof(port), "%u", f->port);
                        const struct nftd_counter *c = rule(m, id);
                        if (!c)
                                continue;
                        const char *const kv[8] = {"proto", f->proto, "port", port,
                                                   "target", f->target, "name", f->name};
                        series_n(b, names[w], kv, f->name[0] ? 4 : 3);
                        buf_printf(b, " %llu\n",
                                   (unsigned long long)(w ? c->bytes : c->packets));
                }
        }
}

static void m_rules(struct nr_buf *b, const struct nr_metrics *m)
{
        static const char *const names[2] = {"nestrouter_nft_rule_packets_total",
                                             "nestrouter_nft_rule_bytes_total"};
        static const char *const helps[2] = {
                "Packets counted by each rule of table inet nestrouter (its comment id)",
                "Bytes counted by each rule of table inet nestrouter (its comment id)",
        };
        for (int w = 0; w < 2; w++) {
                family(b, names[w], "counter", helps[w]);
                for (size_t i = 0; i < m->n_rules; i++) {
                        const struct nftd_counter *c = &m->rules[i];
                        if (!c->chain[0])
                                continue; /* a forward's named counter: m_forwards has it */
                        series(b, names[w], "chain", c->chain, "rule", c->id);
                        buf_printf(b, " %llu\n",
                                   (unsigned long long)(w ? c->bytes : c->packets));
                }
        }
}

static void m_nft(struct nr_buf *b, const struct nr_metrics *m)
{
        family(b, "nestrouter_nft_applies_total", "counter",
               "nftables transactions applied: the whole table, or a delta");
        u64(b, "nestrouter_nft_applies_total", "kind", "full", m->nft_full_applies);
        u64(b, "nestrouter_nft_applies_total", "kind", "delta", m->nft_delta_applies);
        one(b, "nestrouter_nft_listings_total", "counter",
            "Listings of the table to look for drift", m->nft_listings);
        one(b, "nestrouter_nft_foreign_commits_total", "counter",
            "nftables commits by other processes", m->nft_foreign_commits);
        one(b, "nestrouter_nft_counters_ok", "gauge",
            "1 when the rule counters below could be read from the kernel", m->rules_ok);
        if (!m->rules_ok)
                return;
        m_drops(b, m);
        m_forwards(b, m);
        m_rules(b, m);
}

static void m_dhcp(struct nr_buf *b, const struct nr_metrics *m)
{
        one(b, "nestrouter_dnsmasq_up", "gauge", "1 while the dnsmasq child runs", m->dnsmasq_up);
        one(b, "nestrouter_dnsmasq_starts_total", "counter", "Starts of the dnsmasq child",
            m->dnsmasq_starts);
        one(b, "nestrouter_dnsmasq_crashes_total", "counter",
            "Exits of the dnsmasq child nestrouterd did not ask for", m->dnsmasq_crashes);
        if (!m->dhcp_enabled)
                return;
        one(b, "nestrouter_dhcp_leases", "gauge", "Unexpired DHCP leases of the guests",
            m->dhcp_leases);
        one(b, "nestrouter_dhcp_pool_size", "gauge",
            "Addresses in the dynamic DHCP range (reservations are outside it or extra)",
            m->dhcp_pool_size);
        one(b, "nestrouter_dhcp_reservations", "gauge", "DHCP reservations (incl. the VMs')",
            m->dhcp_reservations);
}

static void m_guest_states(struct nr_buf *b, const struct nr_metrics *m)
{
        family(b, "nestrouter_guests", "gauge", "Configured nested guests, by state");
        for (size_t i = 0; i < m->n_guests; i++) {
                bool seen = false;
                uint64_t n = 0;
                for (size_t j = 0; j < m->n_guests; j++) {
                        seen |= j < i && !strcmp(m->guests[j].state, m->guests[i].state);
                        n += !strcmp(m->guests[j].state, m->guests[i].state);
                }
                if (!seen)
                        u64(b, "nestrouter_guests", "state", m->guests[i].state, n);
        }
        family(b, "nestrouter_guest_state", "gauge",
               "1 for the state each configured nested guest is in");
        for (size_t i = 0; i < m->n_guests; i++) {
                series(b, "nestrouter_guest_state", "vm", m->guests[i].name, "state",
                       m->guests[i].state);
                buf_puts(b, " 1\n");
        }
}

static void m_imports(struct nr_buf *b, const struct nr_metrics *m)
{
        family(b, "nestrouter_guest_imports", "gauge",
               "Disk imports (vhd, vhdx, raw to qcow2) of the nested guests, by state");
        for (int s = NR_MIMPORT_QUEUED; s <= NR_MIMPORT_FAILED; s++) {
                uint64_t n = 0;
                for (size_t i = 0; i < m->n_guests; i++)
                        n += m->guests[i].import == (enum nr_mimport)s;
                u64(b, "nestrouter_guest_imports", "state", import_names[s], n);
        }
        family(b, "nestrouter_guest_import_progress_ratio", "gauge",
               "Progress of each guest's disk import, 0 to 1 (1: done)");
        for (size_t i = 0; i < m->n_guests; i++) {
                const struct nr_mguest *g = &m->guests[i];
                double r = g->import == NR_MIMPORT_DONE      ? 1.0
                           : g->import == NR_MIMPORT_RUNNING ? g->import_percent / 100.0
                                                             : 0.0;
                if (g->import == NR_MIMPORT_NONE)
                        continue;
                series(b, "nestrouter_guest_import_progress_ratio", "vm", g->name, NULL, NULL);
                buf_printf(b, " %.4f\n", r < 0 ? 0.0 : r > 1 ? 1.0 : r);
        }
}

char *render_metrics(const struct nr_metrics *m)
{
        struct nr_buf b = {0};
        m_config(&b, m);
        m_passes(&b, m);
        m_nft(&b, m);
        m_dhcp(&b, m);
        one(&b, "nestrouter_imds_fetches_total", "counter",
            "Reads of Azure IMDS (uplink roles by MAC)", m->imds_fetches);
        one(&b, "nestrouter_imds_failures_total", "counter", "Failed reads of Azure IMDS",
            m->imds_failures);
        if (m->n_guests) {
                m_guest_states(&b, m);
                m_imports(&b, m);
        }
        return buf_finish(&b);
}
