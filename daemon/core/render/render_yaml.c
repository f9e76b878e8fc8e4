/* The normalized config (`nestrouterd --check -v`): every key with its default filled in, in
 * the schema's order (core/config/schema.h), as YAML that parses back to the same config. The
 * table-driven sections print from their rows; uplinks, guests, port_forwards and vms here. */
#include <inttypes.h>
#include <stdio.h>

#include "core/render/render_text.h"
#include "core/config/schema.h"
#include "core/lib/strbuf.h"

static void put_opt(struct nr_buf *b, const char *key, const char *value)
{
        if (!value)
                return;
        buf_printf(b, "    %s: ", key);
        cfg_put_quoted(b, value);
        buf_puts(b, "\n");
}

/* text as a quoted scalar at cloud_init's depth: round-trips any text */
static void put_block(struct nr_buf *b, const char *key, const char *text)
{
        if (!text)
                return;
        buf_printf(b, "      %s: ", key);
        cfg_put_quoted(b, text);
        buf_puts(b, "\n");
}

static void put_vms(struct nr_buf *b, const struct nr_config *cfg)
{
        buf_printf(b, "vms:%s\n", cfg->n_vms ? "" : " []");
        for (size_t i = 0; i < cfg->n_vms; i++) {
                const struct nr_vm *vm = &cfg->vms[i];
                buf_printf(b, "  - name: %s\n", vm->name);
                put_opt(b, "disk", vm->disk);
                if (vm->disk)
                        buf_printf(b, "    format: %s\n", cfg_disk_format_name(vm->disk_format));
                put_opt(b, "kernel", vm->kernel);
                put_opt(b, "initrd", vm->initrd);
                put_opt(b, "cmdline", vm->cmdline);
                buf_printf(b, "    vcpus: %u\n    memory: ", vm->vcpus);
                cfg_put_size(b, vm->memory);
                buf_printf(b, "\n    mac: \"%s\"\n", mac_s(vm->mac).s);
                if (vm->ip)
                        buf_printf(b, "    ip: %s\n", ip_s(vm->ip).s);
                buf_printf(b, "    cpu: %s\n    autostart: %s\n",
                           vm->cpu_mode == NR_CPU_NAMED ? vm->cpu_model
                                                        : cfg_cpu_mode_name(vm->cpu_mode),
                           vm->autostart ? "true" : "false");
                buf_printf(b, "    firmware: %s\n    secure_boot: %s\n    tpm: %s\n"
                              "    os: %s\n    devices: %s\n",
                           cfg_firmware_name(vm->firmware), vm->secure_boot ? "true" : "false",
                           vm->tpm ? "true" : "false", cfg_guest_os_name(vm->os),
                           cfg_guest_devices_name(vm->devices));
                put_opt(b, "base", vm->base);
                if (vm->disk_size) {
                        buf_puts(b, "    disk_size: ");
                        cfg_put_size(b, vm->disk_size);
                        buf_puts(b, "\n");
                }
                if (vm->n_disks)
                        buf_puts(b, "    disks:\n");
                for (size_t k = 0; k < vm->n_disks; k++) {
                        if (vm->disks[k].path) {
                                buf_puts(b, "      - ");
                                cfg_put_quoted(b, vm->disks[k].path);
                                buf_puts(b, "\n");
                        } else {
                                buf_puts(b, "      - size: ");
                                cfg_put_size(b, vm->disks[k].size);
                                buf_puts(b, "\n");
                        }
                }
                if (vm->cloud_init.set) {
                        const struct nr_cloud_init *ci = &vm->cloud_init;
                        buf_puts(b, "    cloud_init:\n");
                        put_block(b, "user_data", ci->user_data);
                        put_opt(b, "  user_data_file", ci->user_data_file);
                        put_block(b, "network_config", ci->network_config);
                        put_opt(b, "  network_config_file", ci->network_config_file);
                }
                if (vm->n_cdroms)
                        buf_puts(b, "    cdrom:\n");
                for (size_t k = 0; k < vm->n_cdroms; k++) {
                        buf_puts(b, "      - ");
                        cfg_put_quoted(b, vm->cdroms[k]);
                        buf_puts(b, "\n");
                }
        }
}

void render_yaml_vms(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        (void)k, (void)indent;
        put_vms(b, obj);
}

/* Every key in the schema's order; the sections not yet table-driven print themselves. */
char *render_config_yaml(const struct nr_config *cfg)
{
        struct nr_buf b = {0};
        cfg_schema_print(&b, cfg_top_keys, cfg, 0);
        return buf_finish(&b);
}
