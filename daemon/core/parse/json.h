/* A tiny JSON reader for the two IMDS documents (instance/network, scheduled events): the whole
 * text becomes a tree of nodes; strings are decoded, numbers kept as text. Pure, bounded depth,
 * every input either parses or fails cleanly (fuzz-safe). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum json_type {
        JSON_TYPE_NULL,
        JSON_TYPE_BOOL,
        JSON_TYPE_NUMBER,
        JSON_TYPE_STRING,
        JSON_TYPE_ARRAY,
        JSON_TYPE_OBJECT,
};

struct json {
        enum json_type type;
        char *key;                 /* member name inside an object, else NULL */
        char *str;                 /* string value or number text */
        bool b;
        struct json *child;        /* first element or member */
        struct json *next;         /* next sibling */
};

#define JSON_MAX_DEPTH 32

/* Parse `len` bytes; NULL on any syntax error (with *err set to a short reason, if given). */
struct json *json_parse(const char *text, size_t len, const char **err);
void json_free(struct json *j);

/* Member `key` of an object (NULL if j is not an object or has no such member). */
const struct json *json_get(const struct json *j, const char *key);
/* The string value of member `key`, or NULL. */
const char *json_get_str(const struct json *j, const char *key);
