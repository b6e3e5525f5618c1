// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpuinfo.img and the `criu cpuinfo dump|check` actions.
 *
 * The image is input: everything in it is checked before it is used, and
 * a bad file gives one error naming cpuinfo.img.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "cpuinfo: "
#include <criu/log.h>

#include "actions.h"
#include "cpu/cpuinfo.h"
#include "images/image.h"
#include "options/options.h"

#include "cpuinfo.pb-c.h"

/* An img_dir on a duplicate of DIRFD, so the caller keeps its fd. */
static int cpuinfo_dir(int dirfd, struct img_dir **dir)
{
	char proc[32], path[PATH_MAX];
	ssize_t n;
	int fd;

	fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		pr_perror("Can't duplicate images dir fd %d", dirfd);
		return -err;
	}
	/* Name the directory by its path in messages, when /proc knows it. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	n = readlink(proc, path, sizeof(path) - 1);
	if (n > 0)
		path[n] = '\0';
	return img_dir_adopt(fd, n > 0 ? path : NULL, dir);
}

int cpuinfo_dump_dir(int dirfd)
{
	CpuinfoEntry ce = CPUINFO_ENTRY__INIT;
	CpuinfoX86Entry xe = CPUINFO_X86_ENTRY__INIT;
	CpuinfoX86Entry *xp = &xe;
	struct img_dir *dir;
	struct image *img;
	struct cpu_info ci;
	int ret;

	ret = cpu_read(&ci);
	if (ret)
		return ret;
	ret = cpuinfo_dir(dirfd, &dir);
	if (ret)
		return ret;

	xe.vendor_id = (CpuinfoX86Entry__Vendor)ci.vendor;
	xe.cpu_family = ci.family;
	xe.model = ci.model;
	xe.stepping = ci.stepping;
	xe.capability_ver = CPU_CAPABILITY_VER;
	xe.n_capability = CPU_NCAPINTS;
	xe.capability = ci.cap;
	xe.has_xfeatures_mask = true;
	xe.xfeatures_mask = ci.xfeatures_mask;
	xe.has_xsave_size = true;
	xe.xsave_size = ci.xsave_size;
	xe.has_xsave_size_max = true;
	xe.xsave_size_max = ci.xsave_size_max;
	if (ci.model_id[0])
		xe.model_id = ci.model_id;
	ce.n_x86_entry = 1;
	ce.x86_entry = &xp;

	ret = img_open_write(dir, CPUINFO_IMG, CPUINFO_MAGIC, &img);
	if (ret)
		goto out_dir;
	ret = img_write_msg(img, &ce.base);
	if (img_close(img) && !ret)
		ret = -EIO;
	if (!ret)
		pr_info("wrote %s: %s family %u model %u stepping %u", CPUINFO_IMG, ci.vendor_id, ci.family, ci.model,
			ci.stepping);
out_dir:
	img_dir_close(dir);
	return ret;
}

static int cpuinfo_from_entry(const CpuinfoX86Entry *xe, struct cpu_info *ci)
{
	struct cpu_info here;
	size_t want;

	switch (xe->capability_ver) {
	case 1:
		want = CPU_NCAPINTS_V1;
		break;
	case CPU_CAPABILITY_VER:
		want = CPU_NCAPINTS;
		break;
	default:
		pr_err("%s: unknown capability version %u", CPUINFO_IMG, xe->capability_ver);
		return -EINVAL;
	}
	if (xe->n_capability != want) {
		pr_err("%s: %zu capability words, version %u has %zu", CPUINFO_IMG, xe->n_capability,
		       xe->capability_ver, want);
		return -EINVAL;
	}
	if (xe->vendor_id > CPUINFO_X86_ENTRY__VENDOR__AMD) {
		pr_err("%s: unknown CPU vendor %d", CPUINFO_IMG, (int)xe->vendor_id);
		return -EINVAL;
	}

	memset(ci, 0, sizeof(*ci));
	/* Words an old image lacks are taken from here, so they never differ. */
	if (want < CPU_NCAPINTS) {
		cpu_read(&here);
		memcpy(ci->cap, here.cap, sizeof(ci->cap));
	}
	memcpy(ci->cap, xe->capability, want * sizeof(ci->cap[0]));
	ci->vendor = (enum cpu_vendor)xe->vendor_id;
	ci->family = xe->cpu_family;
	ci->model = xe->model;
	ci->stepping = xe->stepping;
	if (xe->has_xfeatures_mask)
		ci->xfeatures_mask = xe->xfeatures_mask;
	if (xe->has_xsave_size)
		ci->xsave_size = xe->xsave_size;
	if (xe->has_xsave_size_max)
		ci->xsave_size_max = xe->xsave_size_max;
	if (xe->model_id)
		strncpy(ci->model_id, xe->model_id, sizeof(ci->model_id) - 1);
	return 0;
}

int cpuinfo_read_dir(int dirfd, struct cpu_info *ci)
{
	ProtobufCMessage *msg = NULL;
	struct img_dir *dir;
	struct image *img;
	CpuinfoEntry *ce;
	int ret;

	ret = cpuinfo_dir(dirfd, &dir);
	if (ret)
		return ret;
	ret = img_open_read(dir, CPUINFO_IMG, CPUINFO_MAGIC, IMG_MUST_EXIST, &img);
	if (ret)
		goto out_dir;
	ret = img_read_one(img, &cpuinfo_entry__descriptor, &msg);
	img_close(img);
	if (ret < 0)
		goto out_dir;

	ce = (CpuinfoEntry *)msg;
	if (ce->n_x86_entry != 1) {
		pr_err("%s: %zu x86 entries, expected 1", CPUINFO_IMG, ce->n_x86_entry);
		ret = -EINVAL;
	} else {
		ret = cpuinfo_from_entry(ce->x86_entry[0], ci);
	}
	protobuf_c_message_free_unpacked(msg, NULL);
out_dir:
	img_dir_close(dir);
	return ret;
}

int cpuinfo_check_dir(int dirfd, unsigned int cap)
{
	struct cpu_info img, here;
	int ret;

	ret = cpuinfo_read_dir(dirfd, &img);
	if (ret)
		return ret;
	cpu_read(&here);
	if (!(cap & CPU_CAP_ALL)) {
		pr_info("--cpu-cap=none: %s read, nothing compared", CPUINFO_IMG);
		return 0;
	}
	ret = cpu_compare(&img, &here, cap);
	if (ret)
		pr_err("%s (%s) is not compatible with this CPU (%s)", CPUINFO_IMG,
		       img.model_id[0] ? img.model_id : "unknown model",
		       here.model_id[0] ? here.model_id : here.vendor_id);
	return ret;
}

static int cpuinfo_open_images_dir(struct options *o)
{
	const char *path = opt_str(o, OPT_IMAGES_DIR);
	int fd;

	if (!path)
		path = ".";
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		pr_perror("Can't open images dir %s", path);
		return -err;
	}
	return fd;
}

int action_cpuinfo_dump(struct options *o, struct action_result *res)
{
	int fd, ret;

	(void)res;
	fd = cpuinfo_open_images_dir(o);
	if (fd < 0)
		return fd;
	ret = cpuinfo_dump_dir(fd);
	close(fd);
	return ret;
}

int action_cpuinfo_check(struct options *o, struct action_result *res)
{
	int fd, ret;

	fd = cpuinfo_open_images_dir(o);
	if (fd < 0)
		return fd;
	ret = cpuinfo_check_dir(fd, (unsigned int)opt_int(o, OPT_CPU_CAP));
	close(fd);
	if (ret == -ENOTSUP && res)
		res->cpuinfo_mismatch = 1;
	return ret;
}
