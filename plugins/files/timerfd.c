// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "timerfd": saved as CRIU's TimerfdEntry (FileEntry type
 * TIMERFD, field 12): the clock, the expirations not yet read (ticks),
 * the flags of the last timerfd_settime() (TFD_TIMER_ABSTIME,
 * TFD_TIMER_CANCEL_ON_SET), the time left to the next expiry and the
 * interval, and the status flags (O_NONBLOCK).
 *
 * Dump asks timerfd_gettime() on criu's dup for the times, not fdinfo: a
 * periodic timer that expired without being read shows 0 left in fdinfo,
 * and gettime moves it on to its next expiry, adding the missed
 * expirations to ticks (as a read would), which is why fdinfo is read
 * again (through the dup) after it.
 *
 * Restore arms the timer with the time left counted from now, as CRIU
 * does (time spent dumped does not count), and puts the ticks back with
 * TFD_IOC_SET_TICKS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "files.h"
#include "timerfd.pb-c.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif
#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif

#define TFD_SETTIME_FLAGS (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)

static int tfd_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link && !strcmp(fd->link, "anon_inode:[timerfd]") ? 0 : -ENOTSUP;
}

/* The fdinfo of criu's own fd LFD, into BUF. */
static int tfd_read_fdinfo(int lfd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", lfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int tfd_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	TimerfdEntry tfe = TIMERFD_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint64_t clockid, ticks, sflags;
	struct itimerspec its;
	char info[1024];
	int ret;

	(void)p;
	if (timerfd_gettime(fd->local_fd, &its)) {
		ret = -errno;
		pr_perror("fd %d of pid %d: cannot read the timer (timerfd_gettime)", fd->fd, (int)fd->pid);
		return ret;
	}
	ret = tfd_read_fdinfo(fd->local_fd, info, sizeof(info));
	if (ret) {
		pr_err("fd %d of pid %d: cannot read the fdinfo of the timerfd: %s", fd->fd, (int)fd->pid,
		       strerror(-ret));
		return ret;
	}
	if (!files_fdinfo_value(info, "clockid", 10, &clockid) || !files_fdinfo_value(info, "ticks", 10, &ticks) ||
	    !files_fdinfo_value(info, "settime flags", 8, &sflags)) {
		pr_err("fd %d of pid %d: no clockid, ticks or settime flags in the fdinfo of the timerfd", fd->fd,
		       (int)fd->pid);
		return -EINVAL;
	}
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		return ret;
	tfe.id = id;
	tfe.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	tfe.fown = &fown;
	tfe.clockid = (uint32_t)clockid;
	tfe.ticks = ticks;
	tfe.settime_flags = (uint32_t)sflags;
	tfe.vsec = (uint64_t)its.it_value.tv_sec;
	tfe.vnsec = (uint64_t)its.it_value.tv_nsec;
	tfe.isec = (uint64_t)its.it_interval.tv_sec;
	tfe.insec = (uint64_t)its.it_interval.tv_nsec;
	pr_debug("fd %d of pid %d: timerfd, clock %u, %" PRIu64 " ticks, %lld.%09ld s left, interval %lld.%09ld s",
		 fd->fd, (int)fd->pid, tfe.clockid, ticks, (long long)its.it_value.tv_sec, its.it_value.tv_nsec,
		 (long long)its.it_interval.tv_sec, its.it_interval.tv_nsec);
	return cp_payload_pack(out, &tfe.base);
}

/* Check the image's times and flags; fill ITS with the time left and the interval. */
static int tfd_check(const TimerfdEntry *tfe, struct itimerspec *its, const char *what)
{
	if (tfe->vnsec >= 1000000000 || tfe->insec >= 1000000000 || tfe->vsec > INT64_MAX / 2 ||
	    tfe->isec > INT64_MAX / 2) {
		pr_err("%s: times out of range (%" PRIu64 ".%09" PRIu64 " s left, interval %" PRIu64 ".%09" PRIu64
		       " s)",
		       what, tfe->vsec, tfe->vnsec, tfe->isec, tfe->insec);
		return -EINVAL;
	}
	if (tfe->settime_flags & ~(uint32_t)TFD_SETTIME_FLAGS) {
		pr_err("%s: unknown settime flags %#x", what, tfe->settime_flags);
		return -EINVAL;
	}
	its->it_value.tv_sec = (time_t)tfe->vsec;
	its->it_value.tv_nsec = (long)tfe->vnsec;
	its->it_interval.tv_sec = (time_t)tfe->isec;
	its->it_interval.tv_nsec = (long)tfe->insec;
	return 0;
}

/* Arm FD with ITS (time left, relative) as the task had it, honouring FLAGS. */
static int tfd_arm(int fd, clockid_t clk, uint32_t flags, struct itimerspec *its, const char *what)
{
	bool armed = its->it_value.tv_sec || its->it_value.tv_nsec;
	struct timespec now;

	if (armed && (flags & TFD_TIMER_ABSTIME)) {
		/* The deadline was absolute: make it now + the time that was left. */
		if (clock_gettime(clk, &now)) {
			pr_perror("%s: cannot read clock %d", what, (int)clk);
			return -errno;
		}
		its->it_value.tv_sec += now.tv_sec;
		its->it_value.tv_nsec += now.tv_nsec;
		if (its->it_value.tv_nsec >= 1000000000) {
			its->it_value.tv_sec++;
			its->it_value.tv_nsec -= 1000000000;
		}
	}
	/* A disarmed timer keeps its settime flags too: set it even with zero. */
	if (timerfd_settime(fd, (int)flags, its, NULL)) {
		pr_perror("%s: cannot arm it (flags %#x)", what, flags);
		return -errno;
	}
	return 0;
}

static int tfd_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	struct itimerspec its;
	TimerfdEntry *tfe;
	char what[48];
	int fd = -1, ret;

	(void)p;
	tfe = timerfd_entry__unpack(NULL, file->payload_len, file->payload);
	if (!tfe) {
		pr_err("files.img: file id %u: malformed TimerfdEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "timerfd (file id %u)", file->id);
	ret = tfd_check(tfe, &its, what);
	if (ret)
		goto out;
	fd = timerfd_create((clockid_t)tfe->clockid, TFD_CLOEXEC | (tfe->flags & O_NONBLOCK ? TFD_NONBLOCK : 0));
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: cannot make it on clock %u", what, tfe->clockid);
		goto out;
	}
	ret = tfd_arm(fd, (clockid_t)tfe->clockid, tfe->settime_flags, &its, what);
	if (ret)
		goto out;
	if (tfe->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &tfe->ticks)) {
		ret = -errno;
		pr_perror("%s: cannot put back %" PRIu64 " expirations (TFD_IOC_SET_TICKS)", what, tfe->ticks);
		goto out;
	}
	ret = files_open_done(&fd, tfe->flags, tfe->fown, what, out_fd);
	if (!ret)
		pr_debug("%s: clock %u, %" PRIu64 " ticks, %" PRIu64 ".%09" PRIu64 " s left", what,
			 tfe->clockid, tfe->ticks, tfe->vsec, tfe->vnsec);
out:
	if (fd >= 0)
		close(fd);
	timerfd_entry__free_unpacked(tfe, NULL);
	return ret;
}

const struct cp_fd_ops files_timerfd_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "timerfd",
	.type = FILES_TYPE_TIMERFD,
	.payload_field = FILES_FIELD_TFD,
	.match = tfd_match,
	.dump = tfd_dump,
	.open = tfd_open,
};
