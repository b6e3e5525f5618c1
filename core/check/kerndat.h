/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel features, probed once at run time in one place.
 *
 * kerndat_get() fills the structure on its first call and returns the
 * same copy afterwards. Every probe asks the kernel directly (a syscall,
 * an ioctl, a /proc file) rather than trusting the kernel version; the
 * ones that could disturb criu (ptrace, clear_refs, namespaces, mounts,
 * munmapping the vDSO) run in short-lived child processes.
 *
 * Call it from criu's main thread: it forks, and it is not guarded
 * against concurrent first calls. A probe that fails leaves its field
 * false (or zero) and logs why at debug level (-v4).
 */
#ifndef CORE_CHECK_KERNDAT_H
#define CORE_CHECK_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>

/* The vDSO-related VMAs of criu itself, from /proc/self/maps (0 = absent). */
struct kerndat_vdso {
	unsigned long vvar_start, vvar_end;	    /* [vvar] */
	unsigned long vclock_start, vclock_end;	    /* [vvar_vclock], 6.13+ */
	unsigned long vdso_start, vdso_end;	    /* [vdso] */
	unsigned long vsyscall_start, vsyscall_end; /* [vsyscall] */
};

struct kerndat {
	/* Tasks and ptrace. */
	bool ptrace_seize;	     /* PTRACE_SEIZE + PTRACE_INTERRUPT stop */
	bool ptrace_peeksiginfo;     /* PTRACE_PEEKSIGINFO and GETSIGMASK */
	bool ptrace_suspend_seccomp; /* PTRACE_O_SUSPEND_SECCOMP */
	bool ptrace_seccomp_filter;  /* PTRACE_SECCOMP_GET_FILTER */
	bool ptrace_get_rseq_conf;   /* PTRACE_GET_RSEQ_CONFIGURATION */
	bool hw_breakpoints;	     /* a debug-register breakpoint fired */
	bool clone3_set_tid;	     /* clone3() created a task with a chosen pid */
	bool pidfd_open;
	bool pidfd_getfd;
	bool proc_children; /* /proc/PID/task/TID/children */
	bool ns_pid;	    /* NSpid: in /proc/PID/status */
	bool map_files;	    /* /proc/PID/map_files readable */

	/* Memory. */
	bool pagemap_scan;	 /* PAGEMAP_SCAN ioctl (6.7+) */
	bool pagemap_scan_guard; /* ... reporting PAGE_IS_GUARD (6.14+) */
	bool guard_regions;	 /* MADV_GUARD_INSTALL */
	bool soft_dirty;	 /* bit 55 really tracks writes */
	bool uffd;		 /* userfaultfd() + UFFDIO_API */
	uint64_t uffd_features;	 /* what UFFDIO_API offered */
	bool uffd_noncoop;	 /* fork/remap/remove/unmap events */
	bool uffd_wp;		 /* UFFDIO_REGISTER_MODE_WP on anon memory */
	bool uffd_wp_async;	 /* WP_ASYNC + PAGEMAP_SCAN tracked a write */
	bool memfd;
	bool memfd_hugetlb;
	bool aio_remap; /* an AIO ring survives mremap */

	/* The mm, vDSO and timers. */
	bool prctl_mm_map;	/* PR_SET_MM_MAP accepted a map */
	bool arch_map_vdso;	/* ARCH_MAP_VDSO_64 mapped a vDSO */
	bool arch_map_vdso_32;	/* ARCH_MAP_VDSO_32 (compat tasks) */
	bool timer_cr_ids;	/* PR_TIMER_CREATE_RESTORE_IDS */
	bool timerfd_set_ticks; /* TFD_IOC_SET_TICKS */
	struct kerndat_vdso vdso;

	/* Namespaces. */
	bool timens; /* unshare(CLONE_NEWTIME) */
	bool userns; /* /proc/self/ns/user + PR_SET_MM_MAP_SIZE */
	bool cgroupns;
	bool loginuid; /* /proc/self/loginuid can be written */

	/* Files and mounts. */
	bool openat2;
	bool fdinfo_mnt_id;	   /* mnt_id: in /proc/PID/fdinfo/FD */
	bool fdinfo_lock;	   /* lock: lines in fdinfo */
	bool kcmp;		   /* kcmp(KCMP_FILE) */
	bool kcmp_epoll_tfd;	   /* kcmp(KCMP_EPOLL_TFD) */
	bool move_mount_set_group; /* move_mount(MOVE_MOUNT_SET_GROUP) */
	bool overlayfs_maps;	   /* maps shows overlay dev:ino */
	bool autofs;		   /* /dev/autofs answers its version ioctl */
	bool apparmor_stacking;

	/* Networking. */
	bool tcp_repair;	/* TCP_REPAIR on an established socket */
	bool tcp_repair_window; /* TCP_REPAIR_WINDOW */
	bool tcp_half_closed;	/* TCP_REPAIR after shutdown(SHUT_WR) */
	bool sk_ns;		/* SIOCGSKNS */
	bool sk_unix_file;	/* SIOCUNIXFILE */
	bool sockopt_buf_lock;	/* SO_BUF_LOCK */
	bool ipv6_freebind;	/* IPV6_FREEBIND */
	bool tun;		/* /dev/net/tun, TUNSETIFINDEX */
	bool tun_ns;		/* TUNGETDEVNETNS */
	bool net_diag_raw;	/* sock_diag for raw INET and INET6 */
	bool nsid;		/* RTM_GETNSID */
	bool link_nsid;		/* IFLA_LINK_NETNSID on a veth */
	bool newifindex;	/* IFLA_NEW_IFINDEX when moving a link */
	bool nftables_kernel;	/* nf_tables answers over netlink */

	/* x86 extended state, from CPUID and XGETBV. */
	uint64_t xfeatures;	 /* user xstate components enabled in XCR0 */
	uint32_t xsave_size;	 /* for the features in XCR0 */
	uint32_t xsave_size_max; /* for every feature the CPU supports */
};

/*
 * The kernel features, probed on the first call. Never NULL; the result
 * stays valid until the process exits.
 */
const struct kerndat *kerndat_get(void);

/*
 * Probe again into KD (tests use this to compare two runs). Returns 0; a
 * probe that cannot run only leaves its field false.
 */
int kerndat_probe(struct kerndat *kd);

/*
 * Kernel-side dirty tracking usable for pre-dump/--track-mem: soft-dirty,
 * or uffd-WP-async with PAGEMAP_SCAN. Sets *how to a short description of
 * the mechanism found ("soft-dirty", "uffd-wp-async"), or NULL.
 */
bool kerndat_has_dirty_tracking(const struct kerndat *kd, const char **how);

#endif /* CORE_CHECK_KERNDAT_H */
