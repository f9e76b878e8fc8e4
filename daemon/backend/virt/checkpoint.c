/* Checkpoints of a stopped guest: `qemu-img snapshot` on its qcow2 (an internal snapshot: the
 * overlay of a linked clone, an imported or blank disk, a user's qcow2) plus a copy of its UEFI
 * variable store next to the live one. Only while the guest is off: libvirt 9.0 cannot revert
 * the external snapshots a running guest would need, and QEMU refuses internal snapshots of a
 * running guest with pflash (UEFI) firmware. The TPM's state is not part of a checkpoint. */
#include "backend/virt/virt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/virt/blank.h"
#include "lib/fileio.h"
#include "lib/log.h"

static int say(char **body, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char **body, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(body, fmt, ap) < 0)
                *body = NULL;
        va_end(ap);
        return code;
}

static bool label_ok(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 23 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789._-") == n && s[0] != '-' && s[0] != '.';
}

/* copy src to dst (atomically); a missing src is not an error when optional */
static int copy_file(const char *src, const char *dst, bool optional)
{
        size_t len;
        char *t = file_read(src, &len);
        if (!t)
                return optional && errno == ENOENT ? 0 : -errno;
        FILE *f = NULL;
        char tmp[4300];
        snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
        int r = (f = fopen(tmp, "we")) && fwrite(t, 1, len, f) == len ? 0 : -EIO;
        if (f && fclose(f) != 0)
                r = -EIO;
        if (r == 0 && rename(tmp, dst) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        free(t);
        return r;
}

static int run(char **body, const char *name, const char *what, const char *const *argv)
{
        char *out = NULL;
        int r = virt_qemu_img(argv, &out);
        if (r < 0) {
                say(body, 1, "%s: %s failed: %s%s", name, what,
                    out && *out ? out : strerror(-r), out && *out ? "" : "\n");
                free(out);
                return -1;
        }
        free(out);
        return 0;
}

int virtb_checkpoint_cmd(struct virtb *b, const char *verb, const char *name, const char *label,
                         char **body)
{
        const struct nr_vm *vm = virtb_vm(b, name);
        const struct virt_snap *s = virtb_snap(b, name);
        const struct virt_guest *g = NULL;
        char nvram[4200], saved[4300];
        for (size_t i = 0; i < b->n_g; i++)
                if (!strcmp(b->g[i].name, name))
                        g = &b->g[i];
        if (!vm || !g)
                return say(body, 1, "%s: no such VM in the configuration\n", name);
        if (!g->disk[0])
                return say(body, 1, "%s: no disk (it boots a kernel): nothing to checkpoint\n",
                           name);
        if (strcmp(virt_image_format(g->disk), "qcow2"))
                return say(body, 1, "%s: %s is not a qcow2 (yet): no checkpoints\n", name,
                           g->disk);
        if (!strcmp(verb, "checkpoints")) {
                char *out = NULL;
                const char *argv[] = {"qemu-img", "snapshot", "-U", "-l", g->disk, NULL};
                int r = virt_qemu_img(argv, &out);
                say(body, r < 0 ? 1 : 0, "%s", out && *out ? out : "no checkpoints\n");
                free(out);
                return r < 0 ? 1 : 0;
        }
        if (!label_ok(label))
                return say(body, 2, "%s: a checkpoint label is 1 to 23 of A-Z a-z 0-9 . _ -\n",
                           name);
        if (s && strcmp(s->state, "shut off") && strcmp(s->state, "undefined"))
                return say(body, 1,
                           "%s is %s: checkpoints are taken and reverted while the guest is off "
                           "(nestrouterctl vm stop %s): libvirt 9.0 cannot revert a running "
                           "guest's external snapshots, and QEMU refuses internal snapshots of a "
                           "running guest with UEFI (pflash) firmware\n",
                           name, s->state, name);
        domain_nvram_path(b->state_dir, vm, nvram, sizeof(nvram));
        snprintf(saved, sizeof(saved), "%s.checkpoint-%s", nvram, label);
        if (!strcmp(verb, "checkpoint")) {
                const char *argv[] = {"qemu-img", "snapshot", "-c", label, g->disk, NULL};
                if (run(body, name, "qemu-img snapshot -c", argv) < 0)
                        return 1;
                int r = copy_file(nvram, saved, true);
                if (r < 0)
                        return say(body, 1, "%s: checkpoint %s of the disk taken, but the NVRAM "
                                            "copy failed: %s\n", name, label, strerror(-r));
                log_obj(LOG_PRI_INFO, "vm", name, "%s: checkpoint %s taken", name, label);
                return say(body, 0, "%s: checkpoint %s taken (disk%s)\n", name, label,
                           access(saved, F_OK) == 0 ? " and UEFI variables" : "");
        }
        if (!strcmp(verb, "revert")) {
                const char *argv[] = {"qemu-img", "snapshot", "-a", label, g->disk, NULL};
                if (run(body, name, "qemu-img snapshot -a", argv) < 0)
                        return 1;
                int r = access(saved, F_OK) == 0 ? copy_file(saved, nvram, false) : 0;
                if (r < 0)
                        return say(body, 1, "%s: disk reverted to %s, but not the NVRAM: %s\n",
                                   name, label, strerror(-r));
                log_obj(LOG_PRI_INFO, "vm", name, "%s: reverted to checkpoint %s", name, label);
                return say(body, 0, "%s: reverted to checkpoint %s\n", name, label);
        }
        /* checkpoint-delete */
        const char *argv[] = {"qemu-img", "snapshot", "-d", label, g->disk, NULL};
        if (run(body, name, "qemu-img snapshot -d", argv) < 0)
                return 1;
        unlink(saved);
        return say(body, 0, "%s: checkpoint %s deleted\n", name, label);
}
