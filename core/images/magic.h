/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image magic numbers: the u32 values at the head of every image file.
 * Names and values are CRIU's: they are part of the file format, and
 * crit identifies an image by them.
 *
 * A normal image starts with IMG_COMMON_MAGIC then its type magic; the
 * service files (stats-dump, stats-restore, irmap-cache) with
 * IMG_SERVICE_MAGIC then theirs; inventory.img with INVENTORY_MAGIC
 * alone; a raw image (type magic RAW_IMAGE_MAGIC) has no header at all.
 */
#ifndef CORE_IMAGES_MAGIC_H
#define CORE_IMAGES_MAGIC_H

#include <stdint.h>

/* inventory_entry.img_version */
#define CRTOOLS_IMAGES_V1 1   /* no head magics; no longer readable */
#define CRTOOLS_IMAGES_V1_1 2 /* current */

/* Head magics */
#define IMG_COMMON_MAGIC 0x54564319
#define IMG_SERVICE_MAGIC 0x55105940
#define RAW_IMAGE_MAGIC 0x0

/* Written by a dump */
#define INVENTORY_MAGIC 0x58313116
#define PSTREE_MAGIC 0x50273030
#define CORE_MAGIC 0x55053847
#define IDS_MAGIC 0x54432030
#define MM_MAGIC 0x57492820
#define FS_MAGIC 0x51403912
#define FDINFO_MAGIC 0x56213732
#define FILES_MAGIC 0x56303138
#define PAGEMAP_MAGIC 0x56084025
#define SHMEM_PAGEMAP_MAGIC PAGEMAP_MAGIC
#define PIPES_DATA_MAGIC 0x56453709
#define FIFO_DATA_MAGIC 0x59333054
#define SK_QUEUES_MAGIC 0x56264026
#define TCP_STREAM_MAGIC 0x51465506
#define GHOST_FILE_MAGIC 0x52583605
#define REMAP_FPATH_MAGIC 0x59133954
#define MEMFD_INODE_MAGIC 0x48453499
#define TTY_INFO_MAGIC 0x59453036
#define TTY_DATA_MAGIC 0x59413026
#define FILE_LOCKS_MAGIC 0x54323616
#define CGROUP_MAGIC 0x59383330
#define SECCOMP_MAGIC 0x64413049
#define APPARMOR_MAGIC 0x59423047
#define CPUINFO_MAGIC 0x61404013
#define BPFMAP_DATA_MAGIC 0x64324033
#define UTSNS_MAGIC 0x54473203
#define IPC_VAR_MAGIC 0x53115007
#define IPCNS_SHM_MAGIC 0x46283044
#define IPCNS_MSG_MAGIC 0x55453737
#define IPCNS_SEM_MAGIC 0x59573019
#define MNTS_MAGIC 0x55563928
#define USERNS_MAGIC 0x55474906
#define TIMENS_MAGIC 0x43114433
#define PIDNS_MAGIC 0x61157326
#define NETDEV_MAGIC 0x57373951
#define NETNS_MAGIC 0x55933752
#define AUTOFS_MAGIC 0x49353943
#define BINFMT_MISC_MAGIC 0x67343323
#define BINFMT_MISC_OLD_MAGIC BINFMT_MISC_MAGIC

/* Service files (IMG_SERVICE_MAGIC head) and the kerndat cache */
#define STATS_MAGIC 0x57093306
#define IRMAP_CACHE_MAGIC 0x57004059
#define KDAT_MAGIC 0x57023458

/* Legacy: only read on restore of old images */
#define CREDS_MAGIC 0x54023547
#define VMAS_MAGIC 0x54123737
#define SIGACT_MAGIC 0x55344201
#define ITIMERS_MAGIC 0x57464056
#define POSIX_TIMERS_MAGIC 0x52603957
#define RLIMIT_MAGIC 0x57113925
#define SIGNAL_MAGIC 0x59255647
#define PSIGNAL_MAGIC SIGNAL_MAGIC
#define PAGES_OLD_MAGIC PAGEMAP_MAGIC
#define SHM_PAGES_OLD_MAGIC PAGEMAP_MAGIC
#define REG_FILES_MAGIC 0x50363636
#define EXT_FILES_MAGIC 0x59255641
#define NS_FILES_MAGIC 0x61394011
#define EVENTFD_FILE_MAGIC 0x44523722
#define EVENTPOLL_FILE_MAGIC 0x45023858
#define EVENTPOLL_TFD_MAGIC 0x44433746
#define SIGNALFD_MAGIC 0x57323820
#define INOTIFY_FILE_MAGIC 0x48424431
#define INOTIFY_WD_MAGIC 0x54562009
#define FANOTIFY_FILE_MAGIC 0x55096122
#define FANOTIFY_MARK_MAGIC 0x56506035
#define PIPES_MAGIC 0x56513555
#define FIFO_MAGIC 0x58364939
#define UNIXSK_MAGIC 0x54373943
#define INETSK_MAGIC 0x56443851
#define PACKETSK_MAGIC 0x60454618
#define NETLINK_SK_MAGIC 0x58005614
#define TUNFILE_MAGIC 0x57143751
#define TIMERFD_MAGIC 0x50493712
#define TTY_FILES_MAGIC 0x59433025
#define BPFMAP_FILE_MAGIC 0x57506142
#define PIDFD_MAGIC 0x54435556

/* Raw images: no header, the bytes as they are */
#define PAGES_MAGIC RAW_IMAGE_MAGIC
#define IFADDR_MAGIC RAW_IMAGE_MAGIC
#define ROUTE_MAGIC RAW_IMAGE_MAGIC
#define ROUTE6_MAGIC RAW_IMAGE_MAGIC
#define RULE_MAGIC RAW_IMAGE_MAGIC
#define IPTABLES_MAGIC RAW_IMAGE_MAGIC
#define IP6TABLES_MAGIC RAW_IMAGE_MAGIC
#define NFTABLES_MAGIC RAW_IMAGE_MAGIC
#define NETNF_CT_MAGIC RAW_IMAGE_MAGIC
#define NETNF_EXP_MAGIC RAW_IMAGE_MAGIC
#define TMPFS_DEV_MAGIC RAW_IMAGE_MAGIC
#define TMPFS_IMG_MAGIC RAW_IMAGE_MAGIC

/*
 * The head magic an image of type MAGIC starts with: IMG_COMMON_MAGIC,
 * IMG_SERVICE_MAGIC, or 0 when there is none (inventory, raw images).
 */
uint32_t img_head_magic(uint32_t magic);

/* CRIU's name of MAGIC ("CORE", "INVENTORY", ...), or NULL if unknown. */
const char *img_magic_name(uint32_t magic);

/*
 * Every named magic in turn, for tests and tools: 0 with *NAME and *VALUE
 * set, or -ENOENT past the end.
 */
int img_magic_at(unsigned int i, const char **name, uint32_t *value);

#endif /* CORE_IMAGES_MAGIC_H */
