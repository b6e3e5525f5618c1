// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "eventpoll" kind of the files plugin, against the mock core: the
 * targets (fd numbers, events, data) are saved from fdinfo, the instance
 * is made by open() and its targets added by post_open(), after which
 * it reports the same ready targets; a target whose fd was closed or
 * replaced since it was added fails the dump with a message naming it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eventpoll.pb-c.h"
#include "files.h"
#include "mock-sdk.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void t_targets(void)
{
	int p[2], ready, idle, ep, nep = -1, n;
	struct epoll_event evs[8];
	const char *kind = NULL;
	EventpollFileEntry *e;
	struct mock_file f;
	uint64_t one = 1, seen = 0;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "x", 1), 1);
	ready = eventfd(1, 0);
	idle = eventfd(0, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(ready >= 0 && idle >= 0 && ep >= 0);
	CHECK_EQ(add(ep, p[0], EPOLLIN, 0x1111222233334444ULL), 0);
	CHECK_EQ(add(ep, ready, EPOLLIN | EPOLLET, 0xabc), 0);
	CHECK_EQ(add(ep, idle, EPOLLIN, 0xdef), 0);
	CHECK_EQ(add(ep, p[1], EPOLLOUT | EPOLLONESHOT, 7), 0);

	CHECK_EQ(mock_dump_own_fd(ep, 11, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_EVENTPOLL);
	CHECK_EQ(f.field, FILES_FIELD_EPFD);
	e = eventpoll_file_entry__unpack(NULL, f.len, f.payload);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->n_tfd, 4);
		for (size_t i = 0; i < e->n_tfd; i++) {
			EventpollTfdEntry *t = e->tfd[i];

			CHECK_EQ(t->id, 11);
			/* The kernel always adds EPOLLERR and EPOLLHUP; it shows them too. */
			CHECK_EQ(t->events & (EPOLLERR | EPOLLHUP), EPOLLERR | EPOLLHUP);
			t->events &= ~(uint32_t)(EPOLLERR | EPOLLHUP);
			if ((int)t->tfd == p[0])
				CHECK(t->events == EPOLLIN && t->data == 0x1111222233334444ULL);
			else if ((int)t->tfd == ready)
				CHECK(t->events == (EPOLLIN | EPOLLET) && t->data == 0xabc);
			else if ((int)t->tfd == idle)
				CHECK(t->events == EPOLLIN && t->data == 0xdef);
			else if ((int)t->tfd == p[1])
				CHECK(t->events == (EPOLLOUT | EPOLLONESHOT) && t->data == 7);
			else
				CHECK(!"unknown target");
		}
		eventpoll_file_entry__free_unpacked(e, NULL);
	}
	close(ep);
	CHECK_EQ(mock_open_file(&f, ep, &nep, &kind), 0);
	CHECK(kind && !strcmp(kind, "eventpoll"));
	if (nep >= 0) {
		/* Before post_open() the instance is empty. */
		CHECK_EQ(epoll_wait(nep, evs, 8, 0), 0);
		CHECK_EQ(mock_post_open_file(&f, nep), 0);
		n = epoll_wait(nep, evs, 8, 0);
		CHECK_EQ(n, 3);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 0x1111222233334444ULL && evs[i].events == EPOLLIN)
				seen |= 1;
			else if (evs[i].data.u64 == 0xabc && evs[i].events == EPOLLIN)
				seen |= 2;
			else if (evs[i].data.u64 == 7 && evs[i].events == EPOLLOUT)
				seen |= 4;
		}
		CHECK_EQ(seen, 7);
		/* Edge-triggered and one-shot: not again until something happens. */
		n = epoll_wait(nep, evs, 8, 0);
		CHECK_EQ(n, 1);
		CHECK_EQ(evs[0].data.u64, 0x1111222233334444ULL);
		CHECK_EQ(write(idle, &one, sizeof(one)), sizeof(one));
		CHECK_EQ(epoll_wait(nep, evs, 8, 0), 2);
		close(nep);
	}
	mock_file_free(&f);
}

static void t_ghost_target(void)
{
	int a, keep, ep, other;
	struct mock_file f;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	/* High, so that the mock's own fds (it is the task too) do not take the number. */
	a = dup2(eventfd(0, 0), 200);
	keep = dup(a);
	ep = epoll_create1(0);
	CHECK(a >= 0 && keep >= 0 && ep >= 0);
	CHECK_EQ(add(ep, a, EPOLLIN, 1), 0);
	/* The file lives on through KEEP, so the epoll keeps it, registered as fd A. */
	close(a);
	CHECK_EQ(mock_dump_own_fd(ep, 3, &f), -ESTALE);
	CHECK_LOG("the task has closed fd");
	mock_log_clear();
	/* The same file back at its number is fine; another file is not. */
	CHECK_EQ(dup2(keep, 200), 200);
	CHECK_EQ(mock_dump_own_fd(ep, 3, &f), 0);
	mock_file_free(&f);
	other = eventfd(0, 0);
	CHECK_EQ(dup2(other, 200), 200);
	close(other);
	other = 200;
	CHECK_EQ(mock_dump_own_fd(ep, 3, &f), -ESTALE);
	CHECK_LOG("another file at fd");
	close(ep);
	close(keep);
	close(other);
}

static void t_bad(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_EVENTPOLL, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	EventpollFileEntry e = EVENTPOLL_FILE_ENTRY__INIT;
	EventpollTfdEntry t = EVENTPOLL_TFD_ENTRY__INIT, *tp = &t;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint8_t buf[128];
	int fd = -1, ep;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_epoll_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed EventpollFileEntry");

	/* A target fd the task does not have. */
	e.id = 9;
	e.fown = &fown;
	e.n_tfd = 1;
	e.tfd = &tp;
	t.id = 9;
	t.tfd = 999;
	t.events = EPOLLIN;
	file.payload_len = eventpoll_file_entry__pack(&e, buf);
	file.payload = buf;
	ep = epoll_create1(0);
	CHECK_EQ(files_epoll_ops.post_open(NULL, &file, ep), -EBADF);
	CHECK_LOG("cannot add target fd 999");
	close(ep);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_targets),
		TAP_TEST(t_ghost_target),
		TAP_TEST(t_bad),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
