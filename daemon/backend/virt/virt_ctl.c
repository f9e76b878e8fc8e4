/* Guests in `nestrouterctl status` (text and JSON), in the metrics, and the `nestrouterctl vm`
 * commands. Status
 * and `vm list` answer from what the daemon already knows (the helper's last snapshot, import
 * progress), so they never wait for libvirt; `vm start` and `vm stop` go to the helper and are
 * answered when it is done, with a timeout. */
#include "backend/virt/virt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/clock.h"
#include "core/render/render_text.h"


struct gview {
        const char *name;
        char state[48];
        const char *reason;
        bool pending;
        const char *cpu, *cpu_note;
        const char *firmware, *firmware_why;
        char error[700];
        const char *import;        /* none, queued, running, done, failed */
        double percent;
        bool autostart, configured;
        char console[4096];
};

static const char *imp_name(enum virt_imp_state s)
{
        switch (s) {
        case VIRT_IMP_NONE:
                return "none";
        case VIRT_IMP_QUEUED:
                return "queued";
        case VIRT_IMP_RUNNING:
                return "running";
        case VIRT_IMP_DONE:
                return "done";
        case VIRT_IMP_FAILED:
                return "failed";
        }
        return "?";
}

/* what stands between a configured VM and a running guest, or the domain's state */
static void waiting_for(const struct virtb *b, const struct virt_guest *g, double pct, char *s,
                        size_t n)
{
        if (g->imp == VIRT_IMP_RUNNING)
                snprintf(s, n, "importing %.0f%%", pct);
        else if (g->imp == VIRT_IMP_QUEUED)
                snprintf(s, n, "import queued");
        else if (g->imp == VIRT_IMP_FAILED)
                snprintf(s, n, "import failed");
        else if (!b->helper.pid)
                snprintf(s, n, "waiting for the virt helper");
        else if (!b->accel_known)
                snprintf(s, n, "waiting for the KVM probe");
        else if (!b->network_ready)
                snprintf(s, n, "waiting for the guest bridge");
        else if (!b->connected)
                snprintf(s, n, "waiting for libvirt");
        else
                snprintf(s, n, "not defined yet");
}

static void view(const struct virtb *b, const struct virt_guest *g, struct gview *v)
{
        const struct nr_vm *vm = virtb_vm(b, g->name);
        const struct virt_snap *s = virtb_snap(b, g->name);
        memset(v, 0, sizeof(*v));
        v->name = g->name;
        v->reason = "";
        v->configured = true;
        v->autostart = vm && vm->autostart;
        v->import = imp_name(g->imp);
        /* the running import's progress lives in its job */
        v->percent = !strcmp(b->imp_vm, g->name) ? b->imp.percent : g->percent;
        v->cpu = g->rendered ? g->dom.cpu : "";
        v->cpu_note = g->rendered ? g->dom.note : "";
        v->firmware = g->rendered ? g->dom.firmware : "";
        v->firmware_why = g->fw.why;
        domain_console_path(b->state_dir, g->name, v->console, sizeof(v->console));
        if (s && s->owned == 0) {
                snprintf(v->state, sizeof(v->state), "conflict");
        } else if (s && strcmp(s->state, "undefined")) {
                snprintf(v->state, sizeof(v->state), "%s", s->state);
                v->reason = s->reason;
                v->pending = s->live[0] && g->rendered && strcmp(s->live, g->dom.hash);
        } else {
                waiting_for(b, g, v->percent, v->state, sizeof(v->state));
        }
        struct nr_buf e = {0};
        const char *parts[] = {g->note, g->imp_err, g->fw.missing, g->disk_note,
                               virtb_vm_error(b, g->name)};
        for (size_t i = 0; i < 5; i++)
                if (parts[i][0])
                        buf_printf(&e, "%s%s", e.len ? "; " : "", parts[i]);
        char *err = buf_finish(&e);
        snprintf(v->error, sizeof(v->error), "%s", err ? err : "");
        free(err);
}

static void orphan_view(const struct virtb *b, const struct virt_snap *s, struct gview *v)
{
        memset(v, 0, sizeof(*v));
        v->name = s->name;
        snprintf(v->state, sizeof(v->state), "%s", s->state);
        v->reason = s->reason;
        v->import = "none";
        v->cpu = v->cpu_note = v->firmware = v->firmware_why = "";
        snprintf(v->error, sizeof(v->error),
                 "no longer configured: undefined, it runs until it stops");
        domain_console_path(b->state_dir, s->name, v->console, sizeof(v->console));
}

/* every guest to show: the configured ones, then running ones no longer configured */
static size_t views(const struct virtb *b, struct gview **out)
{
        struct gview *v = calloc(b->n_g + b->n_snap + 1, sizeof(*v));
        size_t n = 0;
        if (!v)
                return *out = NULL, 0;
        for (size_t i = 0; i < b->n_g; i++)
                view(b, &b->g[i], &v[n++]);
        for (size_t i = 0; i < b->n_snap; i++)
                if (b->snap[i].owned == 2)
                        orphan_view(b, &b->snap[i], &v[n++]);
        *out = v;
        return n;
}

static const char *accel_text(const struct virtb *b)
{
        return !b->accel_known ? "unknown yet" : b->accel == NR_ACCEL_KVM ? "KVM" : "TCG";
}

void virtb_status_text(struct virtb *b, struct nr_buf *out)
{
        struct gview *v;
        if (!b->cfg || (!b->cfg->n_vms && !b->helper.pid))
                return;
        buf_printf(out, "guests:    libvirt %s: %s%s%s%s\n", b->cfg->libvirt.uri,
                   b->connected ? "connected" : "not connected", b->conn_msg[0] ? " (" : "",
                   b->conn_msg, b->conn_msg[0] ? ")" : "");
        buf_printf(out, "  accel    %s%s%s\n", accel_text(b), b->accel_known ? ": " : "",
                   b->accel_known ? b->accel_why : "");
        char last[300];
        sup_status_text(&b->helper, last, sizeof(last));
        if (last[0])
                buf_printf(out, "  helper   pid %d, %u starts; %s\n", (int)b->helper.pid,
                           b->helper.starts, last);
        for (const char *l = b->resources, *nl; *l && (nl = strchr(l, '\n')); l = nl + 1)
                buf_printf(out, "  warning: %.*s\n", (int)(nl - l), l);
        if (b->busy[0])
                buf_printf(out, "  libvirt busy: %s (for %.1f s)\n", b->busy,
                           (double)(now_usec() - b->busy_since) / 1e6);
        size_t n = views(b, &v);
        for (size_t i = 0; i < n; i++) {
                buf_printf(out, "  %-10s %s%s%s%s", v[i].name, v[i].state, v[i].reason[0] ? " (" : "",
                           v[i].reason, v[i].reason[0] ? ")" : "");
                if (v[i].cpu[0])
                        buf_printf(out, "; cpu %s", v[i].cpu);
                if (v[i].firmware[0])
                        buf_printf(out, "; firmware %s (%s)", v[i].firmware, v[i].firmware_why);
                if (v[i].pending)
                        buf_puts(out, "; definition change pending (applies at the next start)");
                buf_puts(out, "\n");
                if (v[i].cpu_note[0])
                        buf_printf(out, "  %-10s note: %s\n", "", v[i].cpu_note);
                if (v[i].error[0])
                        buf_printf(out, "  %-10s %s\n", "", v[i].error);
        }
        free(v);
}

static void j_vms(struct virtb *b, struct nr_buf *out)
{
        struct gview *v;
        size_t n = views(b, &v);
        buf_puts(out, "[");
        for (size_t i = 0; i < n; i++) {
                buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
                json_str(out, v[i].name);
                buf_puts(out, ",\"state\":");
                json_str(out, v[i].state);
                buf_puts(out, ",\"reason\":");
                json_str(out, v[i].reason);
                buf_printf(out, ",\"configured\":%s,\"autostart\":%s,\"pending\":%s,\"accel\":\"%s\","
                                "\"cpu\":",
                           v[i].configured ? "true" : "false", v[i].autostart ? "true" : "false",
                           v[i].pending ? "true" : "false",
                           b->accel_known ? (b->accel == NR_ACCEL_KVM ? "kvm" : "tcg") : "");
                json_str(out, v[i].cpu);
                buf_puts(out, ",\"cpu_note\":");
                json_str(out, v[i].cpu_note);
                buf_puts(out, ",\"firmware\":");
                json_str(out, v[i].firmware);
                buf_puts(out, ",\"firmware_reason\":");
                json_str(out, v[i].firmware_why);
                buf_printf(out, ",\"import\":{\"state\":\"%s\",\"percent\":%.1f},\"console\":",
                           v[i].import, v[i].percent);
                json_str(out, v[i].console);
                buf_puts(out, ",\"error\":");
                json_str(out, v[i].error);
                buf_puts(out, "}");
        }
        buf_puts(out, "]");
        free(v);
}

void virtb_status_json(struct virtb *b, struct nr_buf *out)
{
        if (!b->cfg || (!b->cfg->n_vms && !b->helper.pid))
                return;
        buf_puts(out, ",\"guests\":{\"libvirt\":{\"uri\":");
        json_str(out, b->cfg->libvirt.uri);
        buf_printf(out, ",\"connected\":%s,\"message\":", b->connected ? "true" : "false");
        json_str(out, b->conn_msg);
        buf_printf(out, ",\"helper_pid\":%d,\"helper_starts\":%u,\"helper\":{\"pid\":%d,"
                        "\"starts\":%u,\"crashes\":%u",
                   (int)b->helper.pid, b->helper.starts, (int)b->helper.pid, b->helper.starts,
                   b->helper.crashes);
        sup_status_json(&b->helper, out); /* last_exit, stopping, fails_in_row, restart_in_ms */
        buf_puts(out, "},\"busy\":");
        json_str(out, b->busy);
        buf_printf(out, ",\"busy_ms\":%llu},\"accel\":\"%s\",\"accel_reason\":",
                   b->busy[0] ? (unsigned long long)(now_usec() - b->busy_since) / 1000 : 0ull,
                   b->accel_known ? (b->accel == NR_ACCEL_KVM ? "kvm" : "tcg") : "");
        json_str(out, b->accel_why);
        buf_puts(out, ",\"resources\":");
        json_str(out, b->resources);
        buf_puts(out, ",\"vms\":");
        j_vms(b, out);
        buf_puts(out, "}");
}

size_t virtb_metrics_guests(const struct virtb *b, struct nr_mguest *out, size_t max)
{
        static const enum nr_mimport imp[] = {
                [VIRT_IMP_NONE] = NR_MIMPORT_NONE,       [VIRT_IMP_QUEUED] = NR_MIMPORT_QUEUED,
                [VIRT_IMP_RUNNING] = NR_MIMPORT_RUNNING, [VIRT_IMP_DONE] = NR_MIMPORT_DONE,
                [VIRT_IMP_FAILED] = NR_MIMPORT_FAILED,
        };
        size_t n = 0;
        for (size_t i = 0; i < b->n_g && n < max; i++, n++) {
                const struct virt_guest *g = &b->g[i];
                const struct virt_snap *s = virtb_snap(b, g->name);
                out[n] = (struct nr_mguest){
                        .name = g->name,
                        .state = s && s->owned == 0 ? "conflict" : s ? s->state : "undefined",
                        .import = imp[g->imp],
                        .import_percent = !strcmp(b->imp_vm, g->name) ? b->imp.percent
                                                                       : g->percent,
                };
        }
        return n;
}

static char *list_text(struct virtb *b)
{
        struct nr_buf out = {0};
        struct gview *v;
        size_t n = views(b, &v);
        buf_printf(&out, "%-12s %-24s %-8s %-10s %-18s %s\n", "NAME", "STATE", "PENDING",
                   "AUTOSTART", "FIRMWARE", "CPU");
        for (size_t i = 0; i < n; i++) {
                char st[80];
                snprintf(st, sizeof(st), "%s%s%s%s", v[i].state, v[i].reason[0] ? " (" : "",
                         v[i].reason, v[i].reason[0] ? ")" : "");
                buf_printf(&out, "%-12s %-24s %-8s %-10s %-18s %s\n", v[i].name, st,
                           v[i].pending ? "yes" : "no",
                           !v[i].configured ? "-" : v[i].autostart ? "yes" : "no",
                           v[i].firmware[0] ? v[i].firmware : "-", v[i].cpu[0] ? v[i].cpu : "-");
        }
        free(v);
        return buf_finish(&out);
}

static char *console_text(struct virtb *b, const char *name, bool path_only)
{
        char path[4096], line[1024];
        struct nr_buf out = {0};
        domain_console_path(b->state_dir, name, path, sizeof(path));
        if (path_only) {
                buf_printf(&out, "%s\n", path);
                return buf_finish(&out);
        }
        /* the last 40 lines; follow with `nestrouterctl vm console NAME --follow` */
        char *ring[40] = {0};
        size_t k = 0;
        FILE *f = fopen(path, "re");
        buf_printf(&out, "# %s (serial console log%s)\n", path, f ? "" : ": not written yet");
        while (f && fgets(line, sizeof(line), f)) {
                free(ring[k % 40]);
                ring[k++ % 40] = strdup(line);
        }
        if (f)
                fclose(f);
        for (size_t i = k > 40 ? k - 40 : 0; i < k; i++) {
                buf_puts(&out, ring[i % 40] ? ring[i % 40] : "");
                free(ring[i % 40]);
                ring[i % 40] = NULL;
        }
        return buf_finish(&out);
}

static int reply_now(char **body, int code, const char *fmt, const char *arg)
{
        if (asprintf(body, fmt, arg) < 0)
                *body = NULL;
        return code;
}

static int vm_command(struct virtb *b, const char *req, int fd, char **body)
{
        char verb[24] = "", name[NR_NAME_MAX] = "", opt[24] = "";
        int n = sscanf(req, "vm %23s %63s %23s", verb, name, opt);
        if (n >= 1 && !strcmp(verb, "list")) {
                if (!strcmp(name, "json")) {
                        struct nr_buf out = {0};
                        j_vms(b, &out);
                        buf_puts(&out, "\n");
                        *body = buf_finish(&out);
                } else {
                        *body = list_text(b);
                }
                return 0;
        }
        if (n < 2)
                return reply_now(body, 2, "%s", "usage: vm list [--json] | vm start NAME | "
                                                 "vm stop NAME [--force] | vm reset NAME | "
                                                 "vm console NAME | vm checkpoint NAME LABEL | "
                                                 "vm checkpoints NAME | vm revert NAME LABEL | "
                                                 "vm checkpoint-delete NAME LABEL\n");
        if (!virtb_vm(b, name) && !virtb_snap(b, name))
                return reply_now(body, 1, "%s: no such VM in the configuration\n", name);
        if (!strcmp(verb, "console") || !strcmp(verb, "console-path")) {
                *body = console_text(b, name, !strcmp(verb, "console-path"));
                return 0;
        }
        if (!strcmp(verb, "checkpoint") || !strcmp(verb, "checkpoints") ||
            !strcmp(verb, "revert") || !strcmp(verb, "checkpoint-delete"))
                return virtb_checkpoint_cmd(b, verb, name, opt, body);
        if (strcmp(verb, "start") && strcmp(verb, "stop") && strcmp(verb, "reset"))
                return reply_now(body, 2,
                                 "unknown vm command '%s' (list, start, stop, reset, console, "
                                 "checkpoint, checkpoints, revert, checkpoint-delete)\n",
                                 verb);
        if (!b->helper.pid || !b->connected)
                return reply_now(body, 1, "libvirt is not connected (%s)\n", b->conn_msg);
        unsigned t = b->cfg ? b->cfg->libvirt.shutdown_timeout : 120;
        const struct nr_vm *vm = virtb_vm(b, name);
        if (!strcmp(verb, "reset")) {
                char overlay[4200];
                if (!vm || !vm->base)
                        return reply_now(body, 1, "%s: no base: image; vm reset discards the "
                                                  "overlay of a linked clone\n", name);
                domain_blank_path(b->state_dir, name, 0, overlay, sizeof(overlay));
                int r = virtb_send_cmd(b, fd, VIRT_START_TIMEOUT_S + 30, "reset %s %d\n%s\n%s", name,
                                       vm->autostart ? 1 : 0, overlay, vm->base);
                if (r < 0)
                        return reply_now(body, 1, "cannot reach the virt helper: %s\n",
                                         strerror(-r));
                return VIRTB_DEFERRED;
        }
        int r = !strcmp(verb, "start")
                        ? virtb_send_cmd(b, fd, VIRT_START_TIMEOUT_S, "start %s", name)
                        : virtb_send_cmd(b, fd, t + 30, "stop %s %u %s", name, t,
                                         !strcmp(opt, "force") ? "force" : "acpi");
        if (r < 0)
                return reply_now(body, 1, "cannot reach the virt helper: %s\n", strerror(-r));
        return VIRTB_DEFERRED;
}

int virtb_command(struct virtb *b, const char *req, int fd, char **body)
{
        *body = NULL;
        if (!strncmp(req, "guests hold", 11)) {
                if (!b->hold)
                        log_info("virt: guests shutdown: no more automatic guest starts");
                b->hold = true;
                virtb_schedule(b, 0);
                return reply_now(body, 0, "%s",
                                 "automatic guest starts are held until nestrouterd restarts\n");
        }
        if (!b->cfg || (!b->cfg->n_vms && !b->helper.pid))
                return reply_now(body, 1, "%s", "no VMs are configured (vms:)\n");
        return vm_command(b, req, fd, body);
}
