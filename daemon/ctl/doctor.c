/* `nestrouterctl doctor`: uplinks (from the daemon), IMDS and the wireserver through NIC1, the
 * guest subnet against this VM's NIC subnets (IMDS), a probe from the guests' gateway address
 * to a VNet host (UDR and IP forwarding), and nested virtualisation. Each line is a check; a
 * failure says what to change and where. Blocking sockets with short timeouts: this is a
 * one-shot command, not the daemon. */
#include "ctl/doctor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/config/config.h"
#include "core/azure/imds.h"
#include "core/parse/json.h"
#include "lib/imds_http.h"
#include "ctl/doctor_bgp.h"

enum dr_result {
        DR_RESULT_OK,
        DR_RESULT_WARN,
        DR_RESULT_FAIL,
        DR_RESULT_SKIP,
};

struct doctor {
        const char *run_dir;
        struct nr_config cfg;
        bool have_cfg;
        char nic1[NR_IFNAMSIZ], nic2[NR_IFNAMSIZ];
        char accel[16], accel_reason[300]; /* the daemon's KVM probe, "" without guests */
        bool have_net;
        struct imds_network net;
        uint32_t imds_local;
        const char *imds_addr, *wire_addr;
        int timeout_ms;
        unsigned fails, warns;
};

static void report(struct doctor *d, const char *check, enum dr_result r, const char *detail,
                   const char *fix)
{
        static const char *const words[] = {"ok", "WARN", "FAIL", "skip"};
        printf("%-26s %-5s %s\n", check, words[r], detail);
        if (fix && (r == DR_RESULT_FAIL || r == DR_RESULT_WARN))
                printf("%-26s       fix: %s\n", "", fix);
        d->fails += r == DR_RESULT_FAIL;
        d->warns += r == DR_RESULT_WARN;
}

/* ---- sockets ------------------------------------------------------------------------------ */

/* A TCP connection to addr:port, bound to `dev` and/or source `src` (0: any); -errno on failure
 * or timeout. */
static int tcp_connect(const char *dev, uint32_t src, uint32_t addr, uint16_t port, int ms)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(addr)};
        struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(src)};
        int r = 0;
        if (dev && *dev &&
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0)
                r = -errno;
        if (!r && src && bind(fd, (struct sockaddr *)&la, sizeof(la)) < 0)
                r = -errno;
        if (!r && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                r = -errno;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (!r && poll(&p, 1, ms) <= 0)
                r = -ETIMEDOUT;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (!r && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
                r = -soerr;
        if (r < 0) {
                close(fd);
                return r;
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

/* ---- checks -------------------------------------------------------------------------------- */

static void check_uplinks(struct doctor *d)
{
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int rc = mem ? request_to(d->run_dir, "status json", mem) : 2;
        if (mem)
                fclose(mem);
        struct json *j = rc == 0 && text ? json_parse(text, len, NULL) : NULL;
        const struct json *u = json_get(j, "uplinks");
        char detail[300];
        if (!u) {
                report(d, "uplinks", DR_RESULT_FAIL, "nestrouterd did not answer with its uplinks",
                       "start nestrouterd (systemctl start nestrouterd) and check "
                       "`nestrouterctl status`");
        } else {
                const char *nat = json_get_str(json_get(u, "nat"), "ifname");
                const char *lan = json_get_str(json_get(u, "lan"), "ifname");
                const struct json *g = json_get(j, "guests");
                snprintf(d->accel, sizeof(d->accel), "%s", json_get_str(g, "accel") ?: "");
                snprintf(d->accel_reason, sizeof(d->accel_reason), "%s",
                         json_get_str(g, "accel_reason") ?: "");
                snprintf(d->nic1, sizeof(d->nic1), "%s", nat ? nat : "");
                snprintf(d->nic2, sizeof(d->nic2), "%s", lan ? lan : "");
                bool ok = d->nic1[0] && (!d->have_cfg || !d->cfg.uplinks[NR_UPLINK_LAN].present ||
                                         d->nic2[0]);
                snprintf(detail, sizeof(detail), "nat %s, lan %s", d->nic1[0] ? d->nic1 : "NOT FOUND",
                         d->nic2[0] ? d->nic2 : "NOT FOUND");
                report(d, "uplinks", ok ? DR_RESULT_OK : DR_RESULT_FAIL, detail,
                       "uplinks.*.match in the configuration must name this VM's NICs "
                       "(ip -br link; `match: {azure: primary}` reads them from IMDS)");
        }
        json_free(j);
        free(text);
}

static int nic_of_mac(const struct doctor *d, const uint8_t mac[6])
{
        for (size_t i = 0; i < d->net.n; i++)
                if (!memcmp(d->net.nics[i].mac, mac, 6))
                        return (int)i;
        return -1;
}

/* The kernel's source address towards IMDS (a UDP connect sends nothing): Azure routes IMDS
 * only via the primary NIC, so that address names it. */
static uint32_t route_source(const char *addr)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
        socklen_t sl = sizeof(sa);
        uint32_t src = 0;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
                sa.sin_addr.s_addr = 0;
        src = ntohl(sa.sin_addr.s_addr);
        if (fd >= 0)
                close(fd);
        return src;
}

static int read_mac(const char *ifname, uint8_t mac[6])
{
        char path[128], buf[32] = "";
        snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
        FILE *f = fopen(path, "r");
        if (!f)
                return -errno;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        return mac_parse(buf, mac);
}

static void check_primary(struct doctor *d)
{
        char detail[300];
        uint32_t src = route_source(d->imds_addr);
        int p = -1, mine = -1;
        uint8_t mac[6];
        for (size_t i = 0; i < d->net.n; i++)
                if (src && d->net.nics[i].ip == src)
                        p = (int)i;
        if (d->nic1[0] && read_mac(d->nic1, mac) >= 0)
                mine = nic_of_mac(d, mac);
        snprintf(detail, sizeof(detail), "Azure's primary NIC is %s (%s); the nat uplink %s is %s",
                 p >= 0 ? mac_s(d->net.nics[p].mac).s : "unknown", ip_s(src).s,
                 d->nic1[0] ? d->nic1 : "(none)",
                 mine < 0 ? "not in IMDS's list" : mine == p ? "it" : "another NIC");
        report(d, "primary NIC", p >= 0 && mine == p ? DR_RESULT_OK : DR_RESULT_FAIL, detail,
               "the nat uplink must be Azure's primary NIC (NIC1, the one with the default "
               "route and IMDS): use `match: {azure: primary}` or its MAC");
}

static void check_imds(struct doctor *d)
{
        char *body = NULL, detail[300];
        int st = imds_http_fetch(d->nic1, d->imds_addr, IMDS_NETWORK_PATH, NULL, d->timeout_ms,
                                 &body, &d->imds_local);
        const char *err = NULL;
        if (st == 200 && imds_parse_network(body, strlen(body), &d->net, &err) == 0) {
                d->have_net = true;
                snprintf(detail, sizeof(detail), "%s via %s: %zu NICs", d->imds_addr,
                         d->nic1[0] ? d->nic1 : "(route)", d->net.n);
                report(d, "IMDS through NIC1", DR_RESULT_OK, detail, NULL);
                check_primary(d);
        } else {
                if (st < 0)
                        snprintf(detail, sizeof(detail), "%s via %s: %s", d->imds_addr,
                                 d->nic1[0] ? d->nic1 : "(route)", strerror(-st));
                else
                        snprintf(detail, sizeof(detail), "%s: HTTP %d%s%s", d->imds_addr, st,
                                 err ? ", " : "", err ? err : "");
                report(d, "IMDS through NIC1", DR_RESULT_FAIL, detail,
                       "NIC1 needs the route to 169.254.169.254 from Azure's DHCP (option 121) "
                       "and no firewall/NSG rule blocking it; nothing may answer for it on NIC2");
        }
        free(body);
}

static void check_wireserver(struct doctor *d)
{
        uint32_t a = 0;
        char detail[200];
        inet_pton(AF_INET, d->wire_addr, &a);
        int fd = tcp_connect(d->nic1, 0, ntohl(a), 80, d->timeout_ms);
        snprintf(detail, sizeof(detail), "%s:80 via %s%s%s", d->wire_addr,
                 d->nic1[0] ? d->nic1 : "(route)", fd < 0 ? ": " : "",
                 fd < 0 ? strerror(-fd) : "");
        report(d, "wireserver through NIC1", fd >= 0 ? DR_RESULT_OK : DR_RESULT_FAIL, detail,
               "168.63.129.16 must be reachable from NIC1 (DHCP, DNS and the agent use it): "
               "check NIC1's routes and the firewall (nft list ruleset)");
        if (fd >= 0)
                close(fd);
}

static void check_subnet(struct doctor *d)
{
        char detail[300];
        if (!d->have_cfg || !d->have_net) {
                report(d, "guest subnet", DR_RESULT_SKIP, "needs the configuration and IMDS", NULL);
                return;
        }
        struct nr_prefix g = d->cfg.guests.subnet;
        for (size_t i = 0; i < d->net.n; i++)
                for (size_t k = 0; k < d->net.nics[i].n_subnets; k++) {
                        struct nr_prefix s = d->net.nics[i].subnets[k];
                        if (!prefix_overlaps(g, s))
                                continue;
                        snprintf(detail, sizeof(detail), "%s overlaps %s of NIC %s",
                                 prefix_s(g).s, prefix_s(s).s, mac_s(d->net.nics[i].mac).s);
                        report(d, "guest subnet", DR_RESULT_FAIL, detail,
                               "guests.subnet must be a range no subnet of this VM's NICs uses "
                               "(nor any VNet subnet): change it in the configuration");
                        return;
                }
        snprintf(detail, sizeof(detail), "%s is not a subnet of this VM's NICs", prefix_s(g).s);
        report(d, "guest subnet", DR_RESULT_OK, detail, NULL);
}

static int read_int(const char *path)
{
        char buf[16] = "";
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        return buf[0] == 'Y' || buf[0] == 'y' ? 1 : buf[0] == 'N' ? 0 : atoi(buf);
}

static void check_forwarding(struct doctor *d, const char *probe)
{
        char detail[300];
        if (read_int("/proc/sys/net/ipv4/ip_forward") != 1) {
                report(d, "IP forwarding (this VM)", DR_RESULT_FAIL,
                       "net.ipv4.ip_forward is 0",
                       "nestrouterd sets it: is it running with this configuration? "
                       "(sysctl -w net.ipv4.ip_forward=1 to test)");
        } else {
                report(d, "IP forwarding (this VM)", DR_RESULT_OK, "net.ipv4.ip_forward = 1", NULL);
        }
        if (!probe || !d->have_cfg) {
                report(d, "UDR and NIC2 forwarding", DR_RESULT_SKIP,
                       "no target: give --probe ADDR[:PORT] (a VNet host that answers)", NULL);
                return;
        }
        char host[64];
        unsigned port = 22;
        uint32_t a;
        if (sscanf(probe, "%63[0-9.]:%u", host, &port) < 1 || port > 65535 ||
            ip_parse(host, &a) < 0) {
                report(d, "UDR and NIC2 forwarding", DR_RESULT_FAIL, "bad --probe",
                       "--probe ADDR[:PORT], e.g. 10.0.3.4:22");
                return;
        }
        uint32_t src = d->cfg.guests.gateway;
        int fd = tcp_connect(NULL, src, a, (uint16_t)port, d->timeout_ms);
        /* a refusal is an answer: the path works both ways */
        bool ok = fd >= 0 || fd == -ECONNREFUSED;
        snprintf(detail, sizeof(detail), "%s -> %s:%u %s%s", ip_s(src).s, host, port,
                 ok ? "answered" : "no answer: ", ok ? "" : strerror(-fd));
        report(d, "UDR and NIC2 forwarding", ok ? DR_RESULT_OK : DR_RESULT_FAIL, detail,
               "in Azure: the route table must send the guest subnet to NIC2's address "
               "(next hop VirtualAppliance) and be associated with the target's subnet, and "
               "NIC2 needs IP forwarding enabled (`nestrouterctl azure routes` prints both)");
        if (fd >= 0)
                close(fd);
}

static bool cpu_flag(const char *flag)
{
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[4096];
        bool found = false;
        size_t n = strlen(flag);
        while (f && !found && fgets(line, sizeof(line), f)) {
                if (strncmp(line, "flags", 5))
                        continue;
                for (char *p = strstr(line, flag); p && !found; p = strstr(p + 1, flag))
                        found = p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n');
        }
        if (f)
                fclose(f);
        return found;
}

/* UEFI Secure Boot: the last byte of the SecureBoot variable (after 4 bytes of attributes);
 * -1 when there is no such variable (BIOS boot, Azure Gen1, or no efivarfs) */
static int secure_boot_state(void)
{
        unsigned char b[5];
        int fd = open("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
                      O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, b, sizeof(b));
        close(fd);
        return n == (ssize_t)sizeof(b) ? b[4] == 1 : -1;
}

static void check_kvm(struct doctor *d)
{
        bool want_kvm = d->have_cfg && d->cfg.libvirt.accel == NR_ACCEL_KVM;
        enum dr_result bad = want_kvm ? DR_RESULT_FAIL : DR_RESULT_WARN;
        bool vmx = cpu_flag("vmx"), svm = cpu_flag("svm");
        char detail[400];
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd >= 0)
                close(fd);
        snprintf(detail, sizeof(detail), "%s%s", fd >= 0 ? "/dev/kvm usable" : "/dev/kvm: ",
                 fd >= 0 ? "" : strerror(errno));
        report(d, "/dev/kvm", fd >= 0 ? DR_RESULT_OK : bad, detail,
               "guests run with TCG (slow); use a VM size with nested virtualisation "
               "(Dv3/Dv4/Dv5, Ev3+) and load kvm_intel or kvm_amd");
        bool slat = vmx ? cpu_flag("ept") : svm && cpu_flag("npt");
        snprintf(detail, sizeof(detail), "%s%s", vmx ? "VT-x" : svm ? "AMD-V" : "no VT-x/AMD-V",
                 vmx || svm ? (slat ? (vmx ? " with EPT" : " with NPT") : " without SLAT") : "");
        report(d, "CPU virtualisation", (vmx || svm) && slat ? DR_RESULT_OK : bad, detail,
               "the VM size does not pass virtualisation through: resize to one that supports "
               "nested virtualisation");
        int nested = read_int(vmx ? "/sys/module/kvm_intel/parameters/nested"
                                  : "/sys/module/kvm_amd/parameters/nested");
        snprintf(detail, sizeof(detail), "nested KVM %s",
                 nested == 1 ? "enabled" : nested == 0 ? "disabled" : "not loaded");
        report(d, "nested KVM", nested == 1 ? DR_RESULT_OK : bad, detail,
               "modprobe kvm_intel nested=1 (or kvm_amd nested=1); persist in "
               "/etc/modprobe.d/kvm.conf");
        if (d->accel[0]) {
                snprintf(detail, sizeof(detail), "nestrouterd's probe: %s%s%s", d->accel,
                         d->accel_reason[0] ? ": " : "", d->accel_reason);
                report(d, "KVM probe", strcmp(d->accel, "kvm") ? bad : DR_RESULT_OK, detail,
                       "a real guest could not run under KVM: the guests use TCG (see the "
                       "checks above and `nestrouterctl status`)");
        }
        struct stat st;
        bool tpm = stat("/dev/tpm0", &st) == 0, efi = stat("/sys/firmware/efi", &st) == 0;
        int sb = secure_boot_state();
        bool tl = tpm && efi;
        bool suspect = !(vmx || svm);
        snprintf(detail, sizeof(detail), "%s; /dev/kvm %s; Secure Boot %s; vTPM %s",
                 suspect ? (tl ? "no virtualisation flags, and a vTPM + UEFI: Trusted Launch or "
                                 "Confidential VM"
                               : "no virtualisation flags: the VM size may not support nested "
                                 "virtualisation")
                         : "nested virtualisation is exposed",
                 access("/dev/kvm", F_OK) == 0 ? "present" : "absent",
                 sb == 1 ? "on" : sb == 0 ? "off" : efi ? "unknown" : "n/a (BIOS)",
                 tpm ? "present" : "absent");
        /* Microsoft: Trusted Launch lists nested virtualisation as unsupported except on most
         * v5 size families; the Hyper-V nested guide asks for Standard (docs/azure.md §3.1) */
        report(d, "VM size / security type", suspect ? bad : DR_RESULT_OK, detail,
               "pick a size whose page says \"Nested Virtualization: Supported\"; with Trusted "
               "Launch Microsoft supports nesting only on most v5 families: use such a size or "
               "the Standard security type");
        if (fd < 0 || !(vmx || svm))
                printf("%-26s       guests will run with TCG%s\n", "",
                       want_kvm ? ", but libvirt.accel is kvm" : "");
}

static void usage(FILE *f)
{
        fprintf(f, "usage: nestrouterctl doctor [--probe ADDR[:PORT]] [--timeout MS]\n"
                   "  checks this VM's Azure setup; exit 1 when a check failed\n"
                   "  --probe  a VNet host that answers TCP (or refuses): reached from the\n"
                   "           guests' gateway address, it tests the UDR and NIC2's forwarding\n");
}

int ctl_doctor(int argc, char **argv, const char *config, const char *run_dir)
{
        static const struct option lo[] = {
                {"probe", required_argument, NULL, 'p'},
                {"timeout", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct doctor d = {.run_dir = run_dir, .timeout_ms = 3000};
        const char *probe = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
                if (c == 'p') {
                        probe = optarg;
                } else if (c == 't') {
                        d.timeout_ms = atoi(optarg) > 0 ? atoi(optarg) : 3000;
                } else {
                        usage(c == 'h' ? stdout : stderr);
                        return c == 'h' ? 0 : 2;
                }
        }
        d.imds_addr = getenv("NR_IMDS_ADDR") ?: IMDS_HTTP_ADDR_DEFAULT;
        d.wire_addr = getenv("NR_WIRESERVER_ADDR") ?: "168.63.129.16";
        struct nr_diags diags = {0};
        d.have_cfg = cfg_load(config, &d.cfg, &diags) >= 0;
        diag_free(&diags);
        printf("%-26s %-5s %s\n", "CHECK", "", "DETAIL");
        report(&d, "configuration", d.have_cfg ? DR_RESULT_OK : DR_RESULT_FAIL, config,
               "nestrouterd --check -v FILE shows what is wrong with it");
        check_uplinks(&d);
        check_imds(&d);
        check_wireserver(&d);
        check_subnet(&d);
        check_forwarding(&d, probe);
        check_kvm(&d);
        struct dr_bgp_counts bgp = {0};
        doctor_bgp(&d.cfg, d.have_cfg, run_dir, &bgp);
        d.fails += bgp.fails, d.warns += bgp.warns;
        printf("%u failed, %u warnings\n", d.fails, d.warns);
        if (d.have_cfg)
                cfg_free(&d.cfg);
        return d.fails ? 1 : 0;
}
