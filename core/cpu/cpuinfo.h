/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpuinfo.img: the CPU a dump was made on (CRIU's CpuinfoEntry with one
 * x86_entry, magic CPUINFO 0x61404013), written by `criu cpuinfo dump`
 * and by dump with --cpu-cap, checked by `criu cpuinfo check` and by
 * restore with --cpu-cap. The actions themselves are in core/actions.h.
 */
#ifndef CORE_CPU_CPUINFO_H
#define CORE_CPU_CPUINFO_H

#include "cpu/cpu.h"

#define CPUINFO_IMG "cpuinfo.img"

/*
 * Write cpuinfo.img for this CPU into the directory DIRFD (not closed).
 * Returns 0 or a negative errno (logged).
 */
int cpuinfo_dump_dir(int dirfd);

/*
 * Read cpuinfo.img from DIRFD (not closed) and compare it with this CPU
 * under the --cpu-cap bits CAP (CPU_CAP_*; with none of FPU/CPU/INS the
 * image is only read and validated). Returns 0 when compatible, -ENOTSUP
 * on a mismatch (each difference logged with pr_err), or another negative
 * errno when the image is missing or malformed (logged, naming the file).
 */
int cpuinfo_check_dir(int dirfd, unsigned int cap);

/*
 * Read cpuinfo.img from DIRFD into CI, validated: one x86 entry, a known
 * capability version with its word count (version 1 images get words
 * 12..18 from this CPU, as CRIU does). 0 or a negative errno (logged).
 */
int cpuinfo_read_dir(int dirfd, struct cpu_info *ci);

#endif /* CORE_CPU_CPUINFO_H */
