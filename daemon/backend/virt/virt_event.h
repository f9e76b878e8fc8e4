/* libvirt's event loop implementation (virEventRegisterImpl) on top of an sd-event loop: fd
 * watches become sd_event_add_io sources, libvirt timers sd_event_add_time sources. libvirt's
 * connection I/O, keepalive pings, lifecycle events and close callbacks are then dispatched by
 * sd-event. The registration is process-wide (libvirt's API has no per-loop state), so there is
 * one loop per process: the virt helper's, or nestrouterctl's. */
#pragma once

typedef struct sd_event sd_event;

/* Registers the implementation with libvirt; call once, before the first virConnectOpen. */
void virt_event_register(sd_event *ev);

/* Number of live watches and timers (for tests: a closed connection leaves none). */
unsigned virt_event_count(void);
