/* Which names are safe to paste into nft rules, dnsmasq options and DHCP answers. The parser
 * refuses anything else in the file; the renderers check again because interface names found at
 * run time (MAC or Azure matches) come from the kernel, which allows far more. */
#pragma once

#include <stdbool.h>

/* [A-Za-z0-9._-], 1 to 15 bytes, not "." or "..": no '"', '*', ',' or spaces. */
bool name_ifname_ok(const char *s);
/* An RFC 1123 label that dnsmasq will not read as something else ("12h", "3600", "infinite"). */
bool name_hostname_ok(const char *s);
/* Dot-separated RFC 1123 labels, at most 253 bytes. */
bool name_domain_ok(const char *s);
