/* Renderers: desired state -> the text external programs consume. Pure functions. */
#pragma once

#include "core/config/config.h"
#include "core/model/model.h"
#include "core/model/nft_model.h"

#define NR_NFT_TABLE "nestrouter"

/* The whole `table inet nestrouter`, as data (nftm_text gives the definition nft -f takes).
 * Variable parts (port forwards, their allow-lists, uplink addresses) live in named maps and
 * sets so that a reload can change elements only. NULL on allocation failure. */
struct nftm_table *render_nft(const struct nr_config *cfg, const struct nr_facts *facts);

/* The whole `table bridge nestrouter`, as data: the MAC.address bindings of reserved and leased
 * guests and the gateway's address enforced on every frame from a port of the guest bridge
 * (facts->ports), and with guests.isolation no frame from one port to another. res: the merged
 * reservations. NULL on allocation failure. */
struct nftm_table *render_nft_bridge(const struct nr_config *cfg, const struct nr_facts *facts,
                        const struct nr_reservation *res, size_t n_res);

/* dnsmasq main configuration (restart on change) and dhcp-hostsfile (SIGHUP on change) for the
 * guest bridge, from the config and the merged reservation list. Returns 0 or -ENOMEM. */
int render_dnsmasq(const struct nr_config *cfg, const struct nr_reservation *res, size_t n_res,
                   const struct nr_paths *paths, char **conf, char **hosts);
/* With guests.dhcp.enabled false the pair is still coherent (a conf serving neither DHCP nor DNS,
 * an empty hosts text); callers look at guests.dhcp.enabled to decide whether to run dnsmasq. */

/* Whether dnsmasq serves DNS to the guests (the gateway is among the DNS servers they are told);
 * the nft input policy opens port 53 on the bridge exactly then. */
bool render_dns_served(const struct nr_config *cfg);
