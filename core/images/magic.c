// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Names of the image magics, for messages ("expected CORE, found ...")
 * and for the test that compares them with crit's table.
 */
#include <errno.h>
#include <stddef.h>

#include "images/magic.h"

struct magic_name {
	const char *name;
	uint32_t value;
};

/* One row per distinct value; aliases (SHMEM_PAGEMAP, PSIGNAL, ...) are left out. */
static const struct magic_name magic_names[] = {
	{ "IMG_COMMON", IMG_COMMON_MAGIC },
	{ "IMG_SERVICE", IMG_SERVICE_MAGIC },
	{ "INVENTORY", INVENTORY_MAGIC },
	{ "PSTREE", PSTREE_MAGIC },
	{ "CORE", CORE_MAGIC },
	{ "IDS", IDS_MAGIC },
	{ "MM", MM_MAGIC },
	{ "FS", FS_MAGIC },
	{ "FDINFO", FDINFO_MAGIC },
	{ "FILES", FILES_MAGIC },
	{ "PAGEMAP", PAGEMAP_MAGIC },
	{ "PIPES_DATA", PIPES_DATA_MAGIC },
	{ "FIFO_DATA", FIFO_DATA_MAGIC },
	{ "SK_QUEUES", SK_QUEUES_MAGIC },
	{ "TCP_STREAM", TCP_STREAM_MAGIC },
	{ "GHOST_FILE", GHOST_FILE_MAGIC },
	{ "REMAP_FPATH", REMAP_FPATH_MAGIC },
	{ "MEMFD_INODE", MEMFD_INODE_MAGIC },
	{ "TTY_INFO", TTY_INFO_MAGIC },
	{ "TTY_DATA", TTY_DATA_MAGIC },
	{ "FILE_LOCKS", FILE_LOCKS_MAGIC },
	{ "CGROUP", CGROUP_MAGIC },
	{ "SECCOMP", SECCOMP_MAGIC },
	{ "APPARMOR", APPARMOR_MAGIC },
	{ "CPUINFO", CPUINFO_MAGIC },
	{ "BPFMAP_DATA", BPFMAP_DATA_MAGIC },
	{ "UTSNS", UTSNS_MAGIC },
	{ "IPC_VAR", IPC_VAR_MAGIC },
	{ "IPCNS_SHM", IPCNS_SHM_MAGIC },
	{ "IPCNS_MSG", IPCNS_MSG_MAGIC },
	{ "IPCNS_SEM", IPCNS_SEM_MAGIC },
	{ "MNTS", MNTS_MAGIC },
	{ "USERNS", USERNS_MAGIC },
	{ "TIMENS", TIMENS_MAGIC },
	{ "PIDNS", PIDNS_MAGIC },
	{ "NETDEV", NETDEV_MAGIC },
	{ "NETNS", NETNS_MAGIC },
	{ "AUTOFS", AUTOFS_MAGIC },
	{ "BINFMT_MISC", BINFMT_MISC_MAGIC },
	{ "STATS", STATS_MAGIC },
	{ "IRMAP_CACHE", IRMAP_CACHE_MAGIC },
	{ "KDAT", KDAT_MAGIC },
	{ "CREDS", CREDS_MAGIC },
	{ "VMAS", VMAS_MAGIC },
	{ "SIGACT", SIGACT_MAGIC },
	{ "ITIMERS", ITIMERS_MAGIC },
	{ "POSIX_TIMERS", POSIX_TIMERS_MAGIC },
	{ "RLIMIT", RLIMIT_MAGIC },
	{ "SIGNAL", SIGNAL_MAGIC },
	{ "REG_FILES", REG_FILES_MAGIC },
	{ "EXT_FILES", EXT_FILES_MAGIC },
	{ "NS_FILES", NS_FILES_MAGIC },
	{ "EVENTFD_FILE", EVENTFD_FILE_MAGIC },
	{ "EVENTPOLL_FILE", EVENTPOLL_FILE_MAGIC },
	{ "EVENTPOLL_TFD", EVENTPOLL_TFD_MAGIC },
	{ "SIGNALFD", SIGNALFD_MAGIC },
	{ "INOTIFY_FILE", INOTIFY_FILE_MAGIC },
	{ "INOTIFY_WD", INOTIFY_WD_MAGIC },
	{ "FANOTIFY_FILE", FANOTIFY_FILE_MAGIC },
	{ "FANOTIFY_MARK", FANOTIFY_MARK_MAGIC },
	{ "PIPES", PIPES_MAGIC },
	{ "FIFO", FIFO_MAGIC },
	{ "UNIXSK", UNIXSK_MAGIC },
	{ "INETSK", INETSK_MAGIC },
	{ "PACKETSK", PACKETSK_MAGIC },
	{ "NETLINK_SK", NETLINK_SK_MAGIC },
	{ "TUNFILE", TUNFILE_MAGIC },
	{ "TIMERFD", TIMERFD_MAGIC },
	{ "TTY_FILES", TTY_FILES_MAGIC },
	{ "BPFMAP_FILE", BPFMAP_FILE_MAGIC },
	{ "PIDFD", PIDFD_MAGIC },
};

uint32_t img_head_magic(uint32_t magic)
{
	switch (magic) {
	case RAW_IMAGE_MAGIC:
	case INVENTORY_MAGIC:
		return 0;
	case STATS_MAGIC:
	case IRMAP_CACHE_MAGIC:
		return IMG_SERVICE_MAGIC;
	default:
		return IMG_COMMON_MAGIC;
	}
}

const char *img_magic_name(uint32_t magic)
{
	size_t i;

	if (magic == RAW_IMAGE_MAGIC)
		return "RAW";
	for (i = 0; i < sizeof(magic_names) / sizeof(magic_names[0]); i++)
		if (magic_names[i].value == magic)
			return magic_names[i].name;
	return NULL;
}

int img_magic_at(unsigned int i, const char **name, uint32_t *value)
{
	if (i >= sizeof(magic_names) / sizeof(magic_names[0]))
		return -ENOENT;
	*name = magic_names[i].name;
	*value = magic_names[i].value;
	return 0;
}
