/* Internal to the netlink backend: helpers shared by nl.c, nl_observe.c and nl_apply.c, and the
 * hand-built link messages (pure builders, tested byte for byte). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct nl_msg;
struct nl_addr;

int nlb_errno(int nlerr);
struct nlb;
struct nl_addr *nlb_addr(uint32_t ip, uint8_t len);
uint32_t nlb_ip(struct nl_addr *a);                 /* host order; 0 if not IPv4 */
const char *nlb_ifname(struct nlb *b, int ifindex, char *buf); /* buf: NR_IFNAMSIZ */
int nlb_ifindex(struct nlb *b, const char *name);   /* 0 if unknown */

/* RTM_NEWLINK for our bridge: create (with NLM_F_CREATE|NLM_F_EXCL) or update in place;
 * STP off, forward delay 0, up, and the MTU when non-zero. */
struct nl_msg *nlmsg_bridge(const char *name, uint32_t mtu, int create);
/* RTM_NEWLINK setting a port's master (0: release) and bringing it up. */
struct nl_msg *nlmsg_set_master(int ifindex, int master);
/* RTM_DELLINK by name. */
struct nl_msg *nlmsg_del_link(const char *name);
