/* `nestrouterctl azure ...`: commands that read configuration files and print Azure artefacts.
 * They run locally; no daemon is involved. */
#pragma once

/* argv[0] is "azure". Returns the exit status: 0, 1 (a configuration is invalid or the hosts
 * conflict), 2 (usage). */
int ctl_azure(int argc, char **argv);
