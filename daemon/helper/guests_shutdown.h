/* `nestrouterctl guests shutdown [--timeout S]`: shut every running nestrouter guest down
 * cleanly, straight through libvirt (see guests_shutdown.c). It lives in nestrouter-virt
 * (helper/main.c): nestrouterctl execs `nestrouter-virt --ctl-guests CONFIG RUN_DIR guests
 * shutdown ...`, so that no other nestrouterctl command loads libvirt. */
#pragma once

int ctl_guests(int argc, char **argv, const char *config, const char *run_dir);
