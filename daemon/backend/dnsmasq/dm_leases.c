/* dnsmasq's lease file (`EXPIRY MAC IP HOSTNAME CLIENT-ID`, one lease a line) read into the
 * facts that hold dynamic guests to the address they leased. */
#include "backend/dnsmasq/dm_leases.h"

#include <stdio.h>
#include <time.h>

void dmb_lease_facts(const char *path, struct nr_facts *facts)
{
        char line[512];
        time_t now = time(NULL);
        FILE *f = fopen(path, "re");
        facts->n_leases = 0;
        facts->leases_truncated = false;
        while (f && fgets(line, sizeof(line), f)) {
                long long exp;
                char mac[32], ip[32];
                struct nr_lease_fact l;
                if (sscanf(line, "%lld %31s %31s", &exp, mac, ip) != 3 ||
                    mac_parse(mac, l.mac) < 0 || ip_parse(ip, &l.ip) < 0)
                        continue;
                if (exp && exp < (long long)now)
                        continue; /* expired: dnsmasq may give the address to another */
                if (facts->n_leases == NR_FACT_LEASES_MAX) {
                        facts->leases_truncated = true;
                        break;
                }
                facts->leases[facts->n_leases++] = l;
        }
        if (f)
                fclose(f);
}
