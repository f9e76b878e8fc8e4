/* `nestrouterctl guests shutdown [--timeout S]`: shut every running nestrouter guest down
 * cleanly, straight through libvirt (see guests.c). */
#pragma once

int ctl_guests(int argc, char **argv, const char *config, const char *run_dir);
