/* Firmware decisions for the guests (see firmware.h), and the files each choice needs. */
#include "backend/virt/firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/parse/diskprobe.h"
#include "core/render/render_domain.h"
#include "lib/fileio.h"

/* swtpm, which libvirt runs for an emulated TPM */
#define SWTPM_PATH "/usr/bin/swtpm"

static int fd_read(void *ctx, void *buf, size_t n, uint64_t off)
{
        ssize_t r = pread(*(int *)ctx, buf, n, (off_t)off);
        if (r < 0)
                return -errno;
        return (size_t)r == n ? (int)n : -EIO;
}

static int raw_inflate(const void *in, size_t in_len, void *out, size_t out_len)
{
        z_stream z = {.next_in = (Bytef *)in, .avail_in = (uInt)in_len, .next_out = out,
                      .avail_out = (uInt)out_len};
        if (inflateInit2(&z, -15) != Z_OK) /* raw deflate, what qemu-img -c writes */
                return -ENOMEM;
        int r = inflate(&z, Z_FINISH);
        inflateEnd(&z);
        /* a cluster inflates to exactly its size; its stream may end in padding */
        return (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0 ? 0
                                                                                      : -EIO;
}

static void record_path(const char *state_dir, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/nvram/%s.firmware", state_dir, name);
}

/* "uefi\nWHY\n" or "bios\nWHY\n"; false when there is none (or it is not ours) */
static bool recorded(const char *path, struct virt_fw *out)
{
        size_t len;
        char *t = file_read(path, &len);
        if (!t)
                return false;
        char *nl = strchr(t, '\n');
        if (nl)
                *nl++ = '\0';
        bool ok = !strcmp(t, "uefi") || !strcmp(t, "bios");
        if (ok) {
                out->fw = !strcmp(t, "uefi") ? NR_FW_UEFI : NR_FW_BIOS;
                if (nl)
                        nl[strcspn(nl, "\n")] = '\0';
                snprintf(out->why, sizeof(out->why), "auto: %s (decided at the first define)",
                         nl && *nl ? nl : "recorded");
        }
        free(t);
        return ok;
}

static void decide_auto(const char *state_dir, const struct nr_vm *vm, const char *disk,
                        struct virt_fw *out)
{
        char path[4200], why[120], text[200], dir[4200];
        record_path(state_dir, vm->name, path, sizeof(path));
        if (recorded(path, out))
                return;
        out->fw = NR_FW_BIOS;
        if (!disk) {
                snprintf(out->why, sizeof(out->why), "auto: no disk (a kernel boots directly)");
                return;
        }
        int fd = open(disk, O_RDONLY | O_CLOEXEC);
        int r = fd < 0 ? -errno : disk_probe_esp(fd_read, &fd, raw_inflate, why, sizeof(why));
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                snprintf(out->why, sizeof(out->why), "auto: %s (%s): bios for now", why,
                         strerror(-r));
                return;
        }
        out->fw = r ? NR_FW_UEFI : NR_FW_BIOS;
        snprintf(out->why, sizeof(out->why), "auto: %s", why);
        snprintf(text, sizeof(text), "%s\n%s\n", r ? "uefi" : "bios", why);
        snprintf(dir, sizeof(dir), "%s/nvram", state_dir);
        if (dir_ensure_mode(dir, DOMAIN_DIR_MODE) >= 0)
                file_write_atomic(path, text, 0644); /* not remembered: decided again next time */
}

static void need(struct virt_fw *out, const char *file, const char *pkg)
{
        if (out->missing[0] || access(file, R_OK) == 0)
                return;
        snprintf(out->missing, sizeof(out->missing), "%s: %s (install the %s package)", file,
                 strerror(errno), pkg);
}

void virt_firmware(const char *state_dir, const struct nr_vm *vm, const char *disk,
                   struct virt_fw *out)
{
        memset(out, 0, sizeof(*out));
        switch (vm->firmware) {
        case NR_FW_BIOS:
        case NR_FW_UEFI:
                out->fw = vm->firmware;
                snprintf(out->why, sizeof(out->why), "configured");
                break;
        case NR_FW_AUTO:
                if (vm->secure_boot) {
                        out->fw = NR_FW_UEFI;
                        snprintf(out->why, sizeof(out->why), "auto: secure_boot needs uefi");
                } else {
                        decide_auto(state_dir, vm, disk, out);
                }
                break;
        }
        if (out->fw == NR_FW_UEFI) {
                need(out, vm->secure_boot ? NR_OVMF_CODE_SB : NR_OVMF_CODE, "ovmf");
                need(out, vm->secure_boot ? NR_OVMF_VARS_SB : NR_OVMF_VARS, "ovmf");
        }
        if (vm->tpm)
                need(out, SWTPM_PATH, "swtpm");
}
