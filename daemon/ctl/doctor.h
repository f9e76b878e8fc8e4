/* `nestrouterctl doctor`: a table of checks of the Azure deployment as seen from this VM. */
#pragma once

#include <stdio.h>

/* argv[0] is "doctor". Exit status: 0 all passed (warnings allowed), 1 a check failed, 2 usage. */
int ctl_doctor(int argc, char **argv, const char *config, const char *run_dir);

/* main.c: one control request, the answer's body to `out`; returns the daemon's exit code. */
int request_to(const char *run_dir, const char *line, FILE *out);
