/* Link messages built by hand (pure: no socket), for what libnl 3.7 cannot express. */
#include "backend/netlink/nl_msg.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <string.h>

static struct nl_msg *link_msg(int type, int flags, int ifindex, unsigned up_flags)
{
        struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC,
                .ifi_index = ifindex,
                .ifi_flags = up_flags,
                .ifi_change = up_flags,
        };
        if (m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
                nlmsg_free(m);
                return NULL;
        }
        return m;
}

struct nl_msg *nlmsg_bridge(const char *name, uint32_t mtu, int create)
{
        struct nl_msg *m = link_msg(RTM_NEWLINK, create ? NLM_F_CREATE | NLM_F_EXCL : 0, 0, IFF_UP);
        if (!m)
                return NULL;
        struct nlattr *info, *data;
        if (nla_put_string(m, IFLA_IFNAME, name) < 0 ||
            (mtu && nla_put_u32(m, IFLA_MTU, mtu) < 0) ||
            !(info = nla_nest_start(m, IFLA_LINKINFO)) ||
            nla_put_string(m, IFLA_INFO_KIND, "bridge") < 0 ||
            !(data = nla_nest_start(m, IFLA_INFO_DATA)) ||
            nla_put_u32(m, IFLA_BR_STP_STATE, 0) < 0 ||
            nla_put_u32(m, IFLA_BR_FORWARD_DELAY, 0) < 0) {
                nlmsg_free(m);
                return NULL;
        }
        nla_nest_end(m, data);
        nla_nest_end(m, info);
        return m;
}

struct nl_msg *nlmsg_set_master(int ifindex, int master)
{
        struct nl_msg *m = link_msg(RTM_NEWLINK, 0, ifindex, IFF_UP);
        if (m && nla_put_u32(m, IFLA_MASTER, (uint32_t)master) < 0) {
                nlmsg_free(m);
                return NULL;
        }
        return m;
}

struct nl_msg *nlmsg_del_link(const char *name)
{
        struct nl_msg *m = link_msg(RTM_DELLINK, 0, 0, 0);
        if (m && nla_put_string(m, IFLA_IFNAME, name) < 0) {
                nlmsg_free(m);
                return NULL;
        }
        return m;
}
