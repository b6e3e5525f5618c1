// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CRIU's own config format: one long option per line, without "--",
 * optionally followed by one argument ("name value" or "name=value").
 * '#' starts a comment at the start of a word, an argument with spaces
 * goes in double quotes, and \" is a quote inside them. CRIU turns each
 * line into "--name value" for getopt, so names resolve exactly as on
 * the command line (prefixes, --no- forms).
 *
 * One difference: CRIU ignores a separate argument of an option whose
 * argument is optional ("verbosity 4" only adds one); here it is the
 * value, as the line's author meant.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options/priv.h"

static char *skip_space(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Split LINE into NAME and VALUE (NULL if none), in place. Returns NULL
 * on success, else what is wrong.
 */
static const char *split_line(char *line, char **name, char **value)
{
	char *p = skip_space(line), *eq;

	*name = NULL;
	*value = NULL;
	if (!*p || *p == '#')
		return NULL;
	*name = p;
	while (*p && !is_space(*p))
		p++;
	if (*p)
		*p++ = '\0';
	eq = strchr(*name, '=');
	if (eq) {
		*eq = '\0';
		*value = eq + 1;
		if (strchr(*value, '"'))
			return "unexpected quote";
	}
	p = skip_space(p);
	if (!*p || *p == '#')
		return NULL;
	if (*value)
		return "a second argument";
	if (*p == '"') {
		char *out = ++p;

		*value = out;
		while (*p && *p != '"') {
			if (p[0] == '\\' && p[1] == '"')
				p++;
			*out++ = *p++;
		}
		if (!*p)
			return "unterminated quote";
		*out = '\0';
		p++;
		if (*p && !is_space(*p))
			return "text right after a closing quote";
	} else {
		*value = p;
		while (*p && !is_space(*p)) {
			if (*p == '"')
				return "unexpected quote";
			p++;
		}
		if (*p)
			*p++ = '\0';
	}
	p = skip_space(p);
	if (*p && *p != '#')
		return "a second argument";
	return NULL;
}

static int legacy_line(struct options *o, const char *path, int lineno, char *line, const struct opts_diag *dg)
{
	struct opt_origin org = { .kind = OPT_ORIGIN_FILE, .file = path, .line = lineno };
	const struct opt_desc *d;
	char err[OPT_ERR_LEN], ambig[512], hint[80];
	const char *bad;
	char *name, *value;
	bool neg;
	int ret;

	bad = split_line(line, &name, &value);
	if (bad) {
		opts_report(dg, "%s:%d: unsupported configuration file format: %s", path, lineno, bad);
		return -EINVAL;
	}
	if (!name)
		return 0;

	switch (opt_lookup_long(name, strlen(name), &d, &neg, ambig, sizeof(ambig))) {
	case OPT_LOOKUP_UNKNOWN:
		if (opt_suggest(name, true, true, hint, sizeof(hint)))
			opts_report(dg, "%s:%d: unknown option '%s' (did you mean '%s'?)", path, lineno, name, hint);
		else
			opts_report(dg, "%s:%d: unknown option '%s'", path, lineno, name);
		return -EINVAL;
	case OPT_LOOKUP_AMBIGUOUS:
		opts_report(dg, "%s:%d: option '%s' is ambiguous; possibilities: %s", path, lineno, name, ambig);
		return -EINVAL;
	case OPT_LOOKUP_OK:
		break;
	}

	if (d->flags & OF_DEPRECATED) {
		opts_report(dg, "%s:%d: option '%s' is deprecated", path, lineno, d->name);
		return -EINVAL;
	}
	if (d->id == OPT_CONFIG || d->id == OPT_NO_DEFAULT_CONFIG)
		return 0; /* CRIU ignores these inside a file */
	if (d->flags & OF_CLI) {
		opts_report(dg, "%s:%d: option '%s' can only be given on the command line", path, lineno, d->name);
		return -EINVAL;
	}
	if (value && (neg || d->type == OT_FLAG || d->type == OT_BOOL)) {
		opts_report(dg, "%s:%d: option '%s%s' takes no value", path, lineno, neg ? "no-" : "", d->name);
		return -EINVAL;
	}
	ret = opt_parse(o, d->id, neg ? "false" : value, &org, err, sizeof(err));
	if (ret == -ENOMEM)
		opts_report(dg, "%s:%d: out of memory", path, lineno);
	else if (ret)
		opts_report(dg, "%s:%d: option '%s': %s", path, lineno, d->name, err);
	return ret;
}

int legacy_load(struct options *o, const char *path, const char *buf, size_t len, const struct opts_diag *dg)
{
	size_t pos = 0;
	int lineno = 0, ret = 0;

	while (pos < len && !ret) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char *line = strndup(buf + pos, n);

		if (!line)
			return -ENOMEM;
		lineno++;
		ret = legacy_line(o, path, lineno, line, dg);
		free(line);
		pos += n + 1;
	}
	return ret;
}
