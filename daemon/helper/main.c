/* nestrouter-virt: everything of nestrouter that links libvirt, in its own program, so that
 * nestrouterd and nestrouterctl load none of libvirt's sixty libraries (about 9 ms at every
 * start and 10 MiB of resident memory). Not a user command:
 *   nestrouter-virt --virt-helper --fd N --uri URI --accel MODE --run-dir DIR
 *       the daemon's virt helper (backend/virt/helper.c), spawned by nestrouterd
 *   nestrouter-virt --ctl-guests CONFIG RUN_DIR guests shutdown [--timeout S]
 *       `nestrouterctl guests shutdown`, exec'ed by nestrouterctl (guests_shutdown.c) */
#include <stdio.h>
#include <string.h>

#include "backend/virt/virt.h"
#include "helper/guests_shutdown.h"
#include "lib/log.h"

int main(int argc, char **argv)
{
        /* its stderr is the daemon's: under systemd, the journal (with NR_OBJECT fields) */
        log_open("nestrouter-virt");
        if (argc > 1 && !strcmp(argv[1], "--virt-helper"))
                return virt_helper_main(argc - 1, argv + 1);
        if (argc > 4 && !strcmp(argv[1], "--ctl-guests"))
                return ctl_guests(argc - 4, argv + 4, argv[2], argv[3]);
        fprintf(stderr, "nestrouter-virt: a helper of nestrouterd and nestrouterctl, not a command\n");
        return 2;
}
