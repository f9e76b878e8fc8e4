/* arp-send: one forged ARP frame, sent COUNT times 0.1 s apart, for the isolation tests (busybox
 * arping cannot forge the sender fields).
 * Usage: arp-send IFACE request|reply ETH_SRC ETH_DST SENDER_MAC SENDER_IP TARGET_MAC TARGET_IP
 *        COUNT
 * Every field is taken as given: the Ethernet source and the ARP sender MAC may differ. Sends on
 * an AF_PACKET socket; needs CAP_NET_RAW in the namespace it runs in. Built by the tests with gcc
 * into build/. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int mac(const char *s, unsigned char out[6])
{
        unsigned v[6];
        if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                out[i] = (unsigned char)v[i];
        return 0;
}

int main(int argc, char **argv)
{
        struct {
                struct ether_header eh;
                struct ether_arp arp;
        } __attribute__((packed)) f;
        struct in_addr sip, tip;
        memset(&f, 0, sizeof(f));
        if (argc != 10 || (strcmp(argv[2], "request") && strcmp(argv[2], "reply")) ||
            mac(argv[3], f.eh.ether_shost) || mac(argv[4], f.eh.ether_dhost) ||
            mac(argv[5], f.arp.arp_sha) || inet_pton(AF_INET, argv[6], &sip) != 1 ||
            mac(argv[7], f.arp.arp_tha) || inet_pton(AF_INET, argv[8], &tip) != 1 ||
            atoi(argv[9]) < 1 || atoi(argv[9]) > 100) {
                fprintf(stderr, "usage: arp-send IFACE request|reply ETH_SRC ETH_DST SENDER_MAC "
                                "SENDER_IP TARGET_MAC TARGET_IP COUNT(1-100)\n");
                return 2;
        }
        f.eh.ether_type = htons(ETHERTYPE_ARP);
        f.arp.arp_hrd = htons(ARPHRD_ETHER);
        f.arp.arp_pro = htons(ETHERTYPE_IP);
        f.arp.arp_hln = 6;
        f.arp.arp_pln = 4;
        f.arp.arp_op = htons(strcmp(argv[2], "reply") ? ARPOP_REQUEST : ARPOP_REPLY);
        memcpy(f.arp.arp_spa, &sip, 4);
        memcpy(f.arp.arp_tpa, &tip, 4);

        struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_halen = 6};
        to.sll_ifindex = (int)if_nametoindex(argv[1]);
        memcpy(to.sll_addr, f.eh.ether_dhost, 6);
        int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
        if (!to.sll_ifindex || fd < 0) {
                perror(argv[1]);
                return 1;
        }
        struct timespec gap = {0, 100 * 1000 * 1000};
        for (int i = atoi(argv[9]); i > 0; i--) {
                if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
                        perror("sendto");
                        return 1;
                }
                if (i > 1)
                        nanosleep(&gap, NULL);
        }
        close(fd);
        return 0;
}
