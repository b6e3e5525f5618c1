/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CRIU interface level libcriu and its criu.h are compatible with.
 * Installed next to criu.h, which includes it, as CRIU's is. The version
 * of the criu binary that answers is asked with criu_get_version().
 */
#ifndef __CRIU_VERSION_H__
#define __CRIU_VERSION_H__

#define CRIU_VERSION "4.2"
#define CRIU_VERSION_MAJOR 4
#define CRIU_VERSION_MINOR 2

#endif /* __CRIU_VERSION_H__ */
