/* `nestrouterctl doctor`: uplinks (from the daemon), IMDS and the wireserver through NIC1, the
 * guest subnet against this VM's NIC subnets (IMDS), a probe from the guests' gateway address
 * to a VNet host (UDR and IP forwarding), and the host (doctor_host.c: KVM, Secure Boot, vTPM,
 * security type). Each line is a check; a failure says what to change and where. Blocking
 * sockets with short timeouts: this is a one-shot command, not the daemon. */
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
#include <sys/time.h>
#include <unistd.h>

#include "core/config/config.h"
#include "core/azure/imds.h"
#include "core/parse/json.h"
#include "lib/imds_http.h"
#include "ctl/doctor_bgp.h"
#include "ctl/doctor_host.h"

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

static void check_forwarding(struct doctor *d, const char *probe)
{
        char detail[300];
        if (doctor_read_flag("/proc/sys/net/ipv4/ip_forward") != 1) {
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
        struct dr_host_counts host = {0};
        doctor_host(d.have_cfg && d.cfg.libvirt.accel == NR_ACCEL_KVM, d.accel, d.accel_reason,
                    &host);
        d.fails += host.fails, d.warns += host.warns;
        struct dr_bgp_counts bgp = {0};
        doctor_bgp(&d.cfg, d.have_cfg, run_dir, &bgp);
        d.fails += bgp.fails, d.warns += bgp.warns;
        printf("%u failed, %u warnings\n", d.fails, d.warns);
        if (d.have_cfg)
                cfg_free(&d.cfg);
        return d.fails ? 1 : 0;
}
