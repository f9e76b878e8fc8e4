/* Name rules shared by the parser and the renderers. */
#include "core/config/names.h"

#include <string.h>

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool name_ifname_ok(const char *s)
{
        size_t len = strlen(s);
        if (len == 0 || len > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!is_alnum(*p) && *p != '-' && *p != '_' && *p != '.')
                        return false;
        return true;
}

static bool label_ok(const char *s, size_t len)
{
        if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool name_hostname_ok(const char *s)
{
        size_t len = strlen(s), digits = strspn(s, "0123456789");
        if (!label_ok(s, len) || digits == len)
                return false;
        if (len > 1 && digits == len - 1 && strchr("wWdDhHmMsS", s[len - 1]))
                return false;
        return strcmp(s, "infinite") && strcmp(s, "ignore");
}

bool name_domain_ok(const char *s)
{
        if (strlen(s) > 253)
                return false;
        for (;;) {
                const char *dot = strchr(s, '.');
                size_t len = dot ? (size_t)(dot - s) : strlen(s);
                if (!label_ok(s, len))
                        return false;
                if (!dot)
                        return true;
                s = dot + 1;
        }
}
