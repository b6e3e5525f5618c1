/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the devices plugin: the fd kinds devices.c registers.
 */
#ifndef PLUGINS_DEVICES_DEVICES_H
#define PLUGINS_DEVICES_DEVICES_H

#include <criu/plugin.h>

/* CRIU's fd_types REG and FileEntry field "reg": CRIU saves devices as RegFileEntry. */
#define DEVICES_TYPE_REG 1
#define DEVICES_FIELD_REG 3

/* CRIU's fd_types TTY and FileEntry field "tty" (TtyFileEntry). */
#define DEVICES_TYPE_TTY 11
#define DEVICES_FIELD_TTY 19

extern const struct cp_fd_ops devices_chr_ops;
extern const struct cp_fd_ops devices_tty_ops;

/* Register the tty kind, its image and hook (tty.c). */
int devices_tty_init(struct cp_plugin *p);

#endif /* PLUGINS_DEVICES_DEVICES_H */
