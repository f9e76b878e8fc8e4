/* One hexadecimal digit's value, or -1 (MAC addresses in ipaddr.c, \u escapes in json.c). */
#pragma once

static inline int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
