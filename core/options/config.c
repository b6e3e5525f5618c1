// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Config files. A file with a [section] line is INI, read with inih:
 * keys are long option names, [global] applies to every action, a
 * section named after the running action overrides it, [plugins] holds
 * enable/disable and [plugin.NAME] raw keys for the plugin loader.
 * Any other file is CRIU's legacy format (see legacy.c). Every value goes
 * through opt_parse(), like a command line value, and remembers FILE:LINE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include <criu/log.h>

#include "options/priv.h"

/* Config files are small; a bigger one is a mistake. */
#define CONFIG_MAX_SIZE (1 << 20)

void opts_report(const struct opts_diag *dg, const char *fmt, ...)
{
	char msg[1024];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (dg && dg->to_stderr)
		fprintf(stderr, "%s\n", msg);
	else
		pr_err("%s", msg);
}

static const char *const section_names[] = {
	"global", "dump", "pre-dump", "restore", "lazy-pages", "check", "cpuinfo",
	"page-server", "service", "swrk", "dedup", "plugins",
};

/* The section whose values override [global] for ACT, or NULL. */
static const char *action_section(enum action act)
{
	switch (act) {
	case ACT_CPUINFO_DUMP:
	case ACT_CPUINFO_CHECK:
		return "cpuinfo";
	case ACT_NONE:
	case ACT_PLUGINS:
	case ACT_EXEC:
	case ACT_SHOW:
	case ACT__COUNT:
		return NULL;
	default:
		return opts_action_name(act);
	}
}

/* The OA_* bits of the options allowed in action section NAME. */
static unsigned int section_mask(const char *name)
{
	for (int a = ACT_DUMP; a < ACT__COUNT; a++) {
		const char *s = action_section(a);

		if (s && !strcmp(s, name))
			return opts_action_mask(a);
	}
	return 0;
}

static bool is_plugin_section(const char *name)
{
	return !strncmp(name, "plugin.", 7) && name[7];
}

static bool section_known(const char *name)
{
	if (!*name || is_plugin_section(name))
		return true;
	for (size_t i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++)
		if (!strcmp(name, section_names[i]))
			return true;
	return false;
}

static bool is_global(const char *section)
{
	return !*section || !strcmp(section, "global");
}

struct ini_entry {
	char *section;
	char *key;
	char *value;
	int line;
};

struct ini_state {
	const char *path;
	const char *buf;
	size_t len, pos;
	int line;
	/* The first problem found, reported once parsing ends. */
	int err_line;
	char err[512];
	struct ini_entry *entries;
	size_t n, cap;
};

static void ini_error(struct ini_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ini_error(struct ini_state *st, const char *fmt, ...)
{
	va_list args;

	if (st->err_line)
		return;
	st->err_line = st->line;
	va_start(args, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, args);
	va_end(args);
}

/* Trim spaces on both sides, in place. */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static void check_section_header(struct ini_state *st, const char *line, size_t n)
{
	char name[256], *t, *close;

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + 1, n - 1);
	name[n - 1] = '\0';
	close = strchr(name, ']');
	if (!close)
		return; /* inih reports the malformed line */
	*close = '\0';
	t = trim(name);
	if (!section_known(t) || !*t) {
		const char *best = NULL;
		size_t bd = 3;

		for (size_t i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++) {
			size_t d = opt_name_distance(t, section_names[i]);

			if (d < bd) {
				bd = d;
				best = section_names[i];
			}
		}
		if (best)
			ini_error(st, "unknown section [%s] (did you mean [%s]?)", t, best);
		else
			ini_error(st, "unknown section [%s]", t);
	}
}

/*
 * inih's reader: one line per call, so st->line is the line inih works
 * on. Leading blanks are dropped so that inih never takes an indented
 * line for the continuation of a multi-line value.
 */
static char *cfg_ini_read(char *str, int num, void *stream)
{
	struct ini_state *st = stream;
	const char *line, *nl;
	size_t n;

	if (st->pos >= st->len)
		return NULL;
	line = st->buf + st->pos;
	nl = memchr(line, '\n', st->len - st->pos);
	n = nl ? (size_t)(nl - line) : st->len - st->pos;
	st->pos += n + (nl ? 1 : 0);
	st->line++;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (n && *line == '[')
		check_section_header(st, line, n);
	if (n + 2 > (size_t)num) {
		ini_error(st, "line too long (at most %d characters in an INI file)", num - 3);
		n = 0;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* Is KEY allowed in SECTION? Sets the error if not. */
static bool ini_key_ok(struct ini_state *st, const char *section, const char *key)
{
	const struct opt_desc *d;
	char hint[80];

	if (is_plugin_section(section))
		return true;
	d = opt_find(key);
	if (!d || (d->flags & OF_CLI)) {
		if (d && (d->flags & OF_DEPRECATED))
			ini_error(st, "option '%s' is deprecated", key);
		else if (d)
			ini_error(st, "option '%s' can only be given on the command line", key);
		else if (!strncmp(key, "no-", 3) && (d = opt_find(key + 3)) && d->type == OT_BOOL)
			ini_error(st, "unknown option '%s' (write '%s = false')", key, key + 3);
		else if (!strcmp(section, "plugins"))
			ini_error(st, "unknown key '%s' in [plugins] (expected enable or disable)", key);
		else if (opt_suggest(key, false, false, hint, sizeof(hint)))
			ini_error(st, "unknown option '%s' (did you mean '%s'?)", key, hint);
		else
			ini_error(st, "unknown option '%s'", key);
		return false;
	}
	if (!strcmp(section, "plugins") != !!(d->flags & OF_PLUGINS)) {
		if (d->flags & OF_PLUGINS)
			ini_error(st, "option '%s' belongs in the [plugins] section", key);
		else
			ini_error(st, "unknown key '%s' in [plugins] (expected enable or disable)", key);
		return false;
	}
	if (!is_global(section) && strcmp(section, "plugins") && !(d->actions & section_mask(section))) {
		ini_error(st, "option '%s' does not apply to [%s]", key, section);
		return false;
	}
	return true;
}

static int cfg_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	char sec[256];
	struct ini_entry *e;

	snprintf(sec, sizeof(sec), "%s", section);
	if (!section_known(trim(sec)))
		return 0; /* already reported at the header */
	if (!ini_key_ok(st, trim(sec), name))
		return 0;
	if (!*value) {
		ini_error(st, "option '%s' has no value", name);
		return 0;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 32;
		struct ini_entry *n = realloc(st->entries, cap * sizeof(*n));

		if (!n)
			return 0;
		st->entries = n;
		st->cap = cap;
	}
	e = &st->entries[st->n];
	e->section = strdup(trim(sec));
	e->key = strdup(name);
	e->value = strdup(value);
	e->line = st->line;
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		ini_error(st, "out of memory");
		return 0;
	}
	st->n++;
	return 1;
}

static int ini_apply_entry(struct options *o, const char *path, const struct ini_entry *e,
			   const struct opts_diag *dg)
{
	struct opt_origin org = { .kind = OPT_ORIGIN_FILE, .file = path, .line = e->line };
	char err[OPT_ERR_LEN];
	int ret;

	if (is_plugin_section(e->section)) {
		ret = opts_plugin_kv_add(o, e->section + 7, e->key, e->value, &org);
		if (ret)
			opts_report(dg, "%s:%d: out of memory", path, e->line);
		return ret;
	}
	ret = opt_parse(o, opt_find(e->key)->id, e->value, &org, err, sizeof(err));
	if (ret == -ENOMEM)
		opts_report(dg, "%s:%d: out of memory", path, e->line);
	else if (ret)
		opts_report(dg, "%s:%d: option '%s': %s", path, e->line, e->key, err);
	return ret;
}

static int ini_load(struct options *o, const char *path, const char *buf, size_t len,
		    const struct opts_diag *dg)
{
	struct ini_state st = { .path = path, .buf = buf, .len = len };
	const char *sect = action_section(o->action);
	struct options *scratch = NULL;
	int ret = 0, r;

	r = ini_parse_stream(cfg_ini_read, &st, cfg_ini_entry, &st);
	if (r > 0 && (!st.err_line || r < st.err_line)) {
		opts_report(dg, "%s:%d: malformed line (expected 'key = value', '[section]' or a comment)", path, r);
		ret = -EINVAL;
		goto out;
	}
	if (r < 0 || st.err_line) {
		opts_report(dg, "%s:%d: %s", path, st.err_line, r < 0 ? "out of memory" : st.err);
		ret = r < 0 ? -ENOMEM : -EINVAL;
		goto out;
	}

	/* Check every value, also those of other actions' sections ... */
	scratch = opts_new();
	if (!scratch) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < st.n && !ret; i++)
		ret = ini_apply_entry(scratch, path, &st.entries[i], dg);
	/* ... then apply [global] first and the running action's section over it. */
	for (size_t i = 0; i < st.n && !ret; i++)
		if (!sect || strcmp(st.entries[i].section, sect))
			if (is_global(st.entries[i].section) || !section_mask(st.entries[i].section))
				ret = ini_apply_entry(o, path, &st.entries[i], dg);
	for (size_t i = 0; i < st.n && !ret && sect; i++)
		if (!strcmp(st.entries[i].section, sect))
			ret = ini_apply_entry(o, path, &st.entries[i], dg);
out:
	opts_free(scratch);
	for (size_t i = 0; i < st.n; i++) {
		free(st.entries[i].section);
		free(st.entries[i].key);
		free(st.entries[i].value);
	}
	free(st.entries);
	return ret;
}

/* A [section] line anywhere makes the file INI. */
static bool looks_like_ini(const char *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		while (n && (*line == ' ' || *line == '\t')) {
			line++;
			n--;
		}
		while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
			n--;
		if (n >= 2 && line[0] == '[' && line[n - 1] == ']')
			return true;
	}
	return false;
}

static int read_file(const char *path, char **out, size_t *len, const struct opts_diag *dg)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto err;
	}
	if (st.st_size > CONFIG_MAX_SIZE) {
		opts_report(dg, "%s: config file too big (more than %d bytes)", path, CONFIG_MAX_SIZE);
		ret = -EFBIG;
		goto err;
	}
	buf = malloc(CONFIG_MAX_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto err;
	}
	for (;;) {
		ssize_t n = read(fd, buf + done, CONFIG_MAX_SIZE + 1 - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto err;
		}
		if (!n)
			break;
		done += n;
		if (done > CONFIG_MAX_SIZE) {
			opts_report(dg, "%s: config file too big (more than %d bytes)", path, CONFIG_MAX_SIZE);
			ret = -EFBIG;
			goto err;
		}
	}
	buf[done] = '\0';
	close(fd);
	*out = buf;
	*len = done;
	return 0;
err:
	free(buf);
	close(fd);
	return ret;
}

int opts_load_file_diag(struct options *o, const char *path, const struct opts_diag *dg)
{
	size_t len = 0;
	char *buf = NULL;
	int ret;

	ret = read_file(path, &buf, &len, dg);
	if (ret == -ENOENT)
		return ret;
	if (ret) {
		if (ret != -EFBIG)
			opts_report(dg, "%s: can't read config file: %s", path, strerror(-ret));
		return ret;
	}
	if (memchr(buf, '\0', len)) {
		opts_report(dg, "%s: not a text file", path);
		free(buf);
		return -EINVAL;
	}
	ret = opts_note_file(o, path);
	if (!ret)
		ret = looks_like_ini(buf, len) ? ini_load(o, path, buf, len, dg) : legacy_load(o, path, buf, len, dg);
	free(buf);
	return ret;
}

int opts_load_file(struct options *o, const char *path)
{
	const struct opts_diag dg = { .to_stderr = false };
	int ret = opts_load_file_diag(o, path, &dg);

	if (ret == -ENOENT)
		pr_err("%s: can't read config file: %s", path, strerror(ENOENT));
	return ret;
}
