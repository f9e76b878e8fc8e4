/* `nestrouterctl doctor`'s BGP rows (bgp:): asks the daemon's status for BIRD's sessions and
 * the health gate, and says what is wrong in Route Server terms. Self-contained: the rest of the
 * doctor only calls doctor_bgp(). */
#include "ctl/doctor_bgp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse/json.h"
#include "ctl/doctor.h"

static void row(struct dr_bgp_counts *n, const char *check, int result, const char *detail,
                const char *fix)
{
        static const char *const words[] = {"ok", "WARN", "FAIL", "skip"};
        printf("%-26s %-5s %s\n", check, words[result], detail);
        if (fix && (result == 1 || result == 2))
                printf("%-26s       fix: %s\n", "", fix);
        n->fails += result == 2;
        n->warns += result == 1;
}

static bool is_true(const struct json *j, const char *key)
{
        const struct json *v = json_get(j, key);
        return v && v->type == JSON_TYPE_BOOL && v->b;
}

static struct json *daemon_bgp(const char *run_dir, struct json **root)
{
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int rc = mem ? request_to(run_dir, "status json", mem) : 2;
        if (mem)
                fclose(mem);
        *root = rc == 0 && text ? json_parse(text, len, NULL) : NULL;
        free(text);
        return *root ? (struct json *)json_get(*root, "bgp") : NULL;
}

static void sessions(struct dr_bgp_counts *n, const struct json *bgp)
{
        const struct json *s = json_get(bgp, "sessions");
        unsigned up = 0, all = 0;
        char detail[400] = "";
        for (const struct json *e = s ? s->child : NULL; e; e = e->next) {
                all++;
                if (is_true(e, "established")) {
                        up++;
                        continue;
                }
                const char *nb = json_get_str(e, "neighbor"), *st = json_get_str(e, "state"),
                           *info = json_get_str(e, "info");
                size_t l = strlen(detail);
                snprintf(detail + l, sizeof(detail) - l, "%s%s %s (%s)", l ? "; " : "",
                         nb ? nb : "?", st && st[0] ? st : "down", info ? info : "");
        }
        if (all && up == all) {
                snprintf(detail, sizeof(detail), "%u of %u sessions Established", up, all);
                row(n, "BGP sessions", 0, detail, NULL);
        } else {
                row(n, "BGP sessions", up ? 1 : 2, all ? detail : "no session",
                    "both Route Server instances must be peered: check bgp.peers against "
                    "`az network routeserver show --query virtualRouterIps`, the peering "
                    "(`nestrouterctl azure routeserver`), the route to the RouteServerSubnet via "
                    "NIC2 and that no NSG blocks TCP 179");
        }
}

void doctor_bgp(const struct nr_config *cfg, bool have_cfg, const char *run_dir,
                struct dr_bgp_counts *n)
{
        if (!have_cfg || !cfg->bgp.present)
                return; /* route-table mode: nothing to say */
        struct json *root = NULL;
        const struct json *bgp = daemon_bgp(run_dir, &root);
        if (!bgp) {
                row(n, "BGP (BIRD)", 3, "no answer from nestrouterd's status", NULL);
                json_free(root);
                return;
        }
        if (!is_true(bgp, "bird_running")) {
                const char *e = json_get_str(bgp, "last_error");
                row(n, "BGP (BIRD)", 2, e && e[0] ? e : "BIRD is not running",
                    "is bird2 installed (apt-get install bird2)? `nestrouterctl status` and "
                    "the journal say why it did not start");
                json_free(root);
                return;
        }
        row(n, "BGP (BIRD)", 0, "running", NULL);
        sessions(n, bgp);
        const char *why = json_get_str(bgp, "reason");
        if (is_true(bgp, "advertising"))
                row(n, "BGP advertisement", 0, "the guest prefixes are advertised", NULL);
        else if (is_true(bgp, "drained"))
                row(n, "BGP advertisement", 1, "drained: nothing advertised",
                    "nestrouterctl undrain, when the maintenance is over");
        else
                row(n, "BGP advertisement", 2, why && why[0] ? why : "withdrawn",
                    "the host is unhealthy: `nestrouterctl status` shows what the daemon is "
                    "repairing");
        if (is_true(bgp, "sessions_settings_deferred"))
                row(n, "BGP session settings", 1, "changed settings wait for the sessions to "
                    "restart", "birdc -s STATE_DIR/bird.ctl restart nr_rs1 (then nr_rs2)");
        json_free(root);
}
