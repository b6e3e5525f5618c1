// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dump and restore through libcriu, as a C client does it: start a C/R
 * test program as our child, criu_dump() it with a notification callback,
 * then criu_restore_child() it, so that the restored task is our child
 * again (restore as a sibling of criu swrk), wake it with SIGUSR1 and
 * reap its verdict.
 *
 * The program's fd 10 is the write end of a pipe whose read end we hold
 * (its other side is outside the dumped tree): the restore swaps in the
 * write end of a new pipe with criu_add_inherit_fd(fd, "pipe:[INODE]"),
 * and kcmp must find that very file at the restored task's fd 10.
 *
 * With PS-PORT and PS-DIR the dump sends its pages to the page server
 * listening on 127.0.0.1:PS-PORT (criu_set_page_server_address_port),
 * which writes them into PS-DIR; DIR must then hold no pagemap or pages
 * image of its own, and the page server's are moved into DIR before the
 * restore.
 *
 * Usage: libcriu-cr CRIU-BINARY TEST-PROGRAM DIR [PS-PORT PS-DIR]
 * Prints TAP. The plugin dir comes from $CRIU_LIBS_DIR.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criu.h>

static int n_tests, n_failed;
static char seen[1024];

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(int cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %d - ", cond ? "" : "not ", ++n_tests);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!cond)
		n_failed++;
}

/* Record every notification: "name:pid name:pid ...". */
static int record(char *action, criu_notify_arg_t na)
{
	size_t len = strlen(seen);

	snprintf(seen + len, sizeof(seen) - len, "%s%s:%d", len ? " " : "", action, criu_notify_pid(na));
	return 0;
}

#define INHERIT_FD 10

/* PIPE_WR becomes the program's fd INHERIT_FD. */
static pid_t start_test(const char *prog, const char *dir, int pipe_wr)
{
	char pidfile[4096], outfile[4096];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pid_t pid;

	snprintf(pidfile, sizeof(pidfile), "%s/test.pid", dir);
	snprintf(outfile, sizeof(outfile), "%s/test.out", dir);
	pid = fork();
	if (pid == 0) {
		int fd;

		setsid();
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		fd = open(outfile, O_WRONLY | O_CREAT | O_APPEND, 0666);
		dup2(fd, 1);
		dup2(fd, 2);
		dup2(pipe_wr, INHERIT_FD);
		for (fd = 3; fd < 1024; fd++)
			if (fd != INHERIT_FD)
				close(fd);
		execl(prog, prog, "--pidfile", pidfile, "--outfile", outfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		if (access(pidfile, R_OK) == 0)
			return pid;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	return -1;
}

static int file_has(const char *path, const char *word)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, word) != NULL;
}

static int is_page_image(const char *name)
{
	size_t len = strlen(name);

	return (!strncmp(name, "pagemap-", 8) || !strncmp(name, "pages-", 6)) && len > 4 &&
	       !strcmp(name + len - 4, ".img");
}

/* Move the page images from FROM to TO; returns how many, or -1 if TO had its own. */
static int take_page_images(const char *from, const char *to)
{
	char a[4096], b[4096];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(to);
	while (d && (de = readdir(d)))
		if (is_page_image(de->d_name))
			n = -1;
	if (d)
		closedir(d);
	d = opendir(from);
	while (n >= 0 && d && (de = readdir(d))) {
		if (!is_page_image(de->d_name))
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		if (rename(a, b) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void set_common(const char *criu, int dirfd)
{
	criu_init_opts();
	criu_set_service_binary(criu);
	criu_set_images_dir_fd(dirfd);
	criu_set_log_level(CRIU_LOG_DEBUG);
	criu_set_notify_cb(record);
}

int main(int argc, char **argv)
{
	char outfile[4096], key[64];
	int dirfd, ret, status, old_pipe[2], new_pipe[2] = { -1, -1 };
	sigset_t chld, old;
	struct stat st;
	pid_t pid, rpid;

	if (argc != 4 && argc != 6) {
		fprintf(stderr, "Usage: %s CRIU-BINARY TEST-PROGRAM DIR [PS-PORT PS-DIR]\n", argv[0]);
		return 2;
	}
	snprintf(outfile, sizeof(outfile), "%s/test.out", argv[3]);
	dirfd = open(argv[3], O_RDONLY | O_DIRECTORY);

	if (pipe2(old_pipe, O_CLOEXEC) || fstat(old_pipe[0], &st)) {
		perror("pipe");
		return 2;
	}
	snprintf(key, sizeof(key), "pipe:[%lu]", (unsigned long)st.st_ino);
	pid = start_test(argv[2], argv[3], old_pipe[1]);
	close(old_pipe[1]);
	ok(pid > 0, "the test program is ready (pid %d)", pid);
	if (pid <= 0)
		goto out;

	set_common(argv[1], dirfd);
	criu_set_log_file("dump.log");
	criu_set_pid(pid);
	if (argc == 6)
		ok(criu_set_page_server_address_port("127.0.0.1", atoi(argv[4])) == 0,
		   "criu_set_page_server_address_port(127.0.0.1, %s)", argv[4]);
	ret = criu_dump();
	ok(ret == 0, "criu_dump() = %d (errno %d)", ret, errno);
	ok(strstr(seen, "pre-dump:") && strstr(seen, "post-dump:"), "criu_dump() notified pre-dump and post-dump (%s)",
	   seen);
	if (ret) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "the dumped task was killed");
	if (argc == 6) {
		int n = take_page_images(argv[5], argv[3]);

		ok(n >= 2, "the pages went to the page server, none into the images dir (%d moved)", n);
	}
	/* The restore reads its pages locally: no page server options. */
	criu_free_opts();
	set_common(argv[1], dirfd);

	/* As criu.h asks: SIGCHLD blocked around restores. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	seen[0] = '\0';
	criu_set_log_file("restore.log");
	/* Not close-on-exec: criu swrk inherits it. */
	ret = pipe(new_pipe);
	ok(ret == 0 && criu_add_inherit_fd(new_pipe[1], key) == 0, "criu_add_inherit_fd(%d, \"%s\")",
	   new_pipe[1], key);
	rpid = criu_restore_child();
	sigprocmask(SIG_SETMASK, &old, NULL);
	ok(rpid == pid, "criu_restore_child() = %d, the old pid", rpid);
	ok(strstr(seen, "pre-restore:") && strstr(seen, "post-resume:"),
	   "criu_restore_child() notified pre-restore .. post-resume (%s)", seen);
	if (rpid <= 0)
		goto out;
	ok(syscall(SYS_kcmp, getpid(), rpid, KCMP_FILE, new_pipe[1], INHERIT_FD) == 0,
	   "fd %d of the restored task is the pipe criu inherited", INHERIT_FD);

	kill(rpid, SIGUSR1);
	ret = waitpid(rpid, &status, 0);
	ok(ret == rpid, "the restored task is our child (waitpid = %d)", ret);
	ok(ret == rpid && WIFEXITED(status) && WEXITSTATUS(status) == 0 && file_has(outfile, "PASS"),
	   "the restored task passes its check");
out:
	criu_free_opts();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
