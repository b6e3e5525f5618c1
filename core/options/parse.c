// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one value parser. Whatever door a value comes in by (command line,
 * INI or legacy config file, RPC through opt_set_*), it ends here as text
 * and is checked against the option's type and VALUES column.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options/priv.h"

/* "MIN..MAX" (either side may be empty) into *MIN and *MAX. */
static void parse_range(const char *values, long long *min, long long *max)
{
	const char *dots;

	*min = LLONG_MIN;
	*max = LLONG_MAX;
	if (!values || !(dots = strstr(values, "..")))
		return;
	if (dots != values)
		*min = strtoll(values, NULL, 10);
	if (dots[2])
		*max = strtoll(dots + 2, NULL, 10);
}

static void range_text(long long min, long long max, char *buf, size_t len)
{
	if (min != LLONG_MIN && max != LLONG_MAX)
		snprintf(buf, len, "an integer from %lld to %lld", min, max);
	else if (min != LLONG_MIN)
		snprintf(buf, len, "an integer >= %lld", min);
	else
		snprintf(buf, len, "an integer");
}

/* A whole decimal number of LEN bytes of S. */
static int parse_number(const char *s, size_t len, long long *out)
{
	char buf[32], *end;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!isdigit((unsigned char)buf[0]) && !(buf[0] == '-' && isdigit((unsigned char)buf[1])))
		return -EINVAL;
	errno = 0;
	*out = strtoll(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static int parse_int_in_range(const struct opt_desc *d, const char *s, size_t len, long long *out, char *err,
			      size_t errlen)
{
	long long min, max;
	char want[80];

	parse_range(d->values, &min, &max);
	if (d->type == OT_UINT && min < 0)
		min = 0;
	if (parse_number(s, len, out) || *out < min || *out > max) {
		range_text(min, max, want, sizeof(want));
		snprintf(err, errlen, "invalid value '%.*s' (expected %s)", (int)len, s, want);
		return -EINVAL;
	}
	return 0;
}

static int parse_bool_word(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_size(const char *s, long long *out)
{
	long long mult = 1, n;
	size_t len = strlen(s);

	switch (len ? s[len - 1] : 0) {
	case 'k':
	case 'K':
		mult = 1LL << 10;
		break;
	case 'm':
	case 'M':
		mult = 1LL << 20;
		break;
	case 'g':
	case 'G':
		mult = 1LL << 30;
		break;
	}
	if (mult != 1)
		len--;
	if (parse_number(s, len, &n) || n < 0 || n > LLONG_MAX / mult)
		return -EINVAL;
	*out = n * mult;
	return 0;
}

int opt_enum_index(const char *values, const char *text)
{
	int idx = 0;
	size_t tlen = strlen(text);

	for (const char *p = values; p && *p;) {
		size_t n = strcspn(p, "|/");

		if (n == tlen && !strncmp(p, text, n))
			return idx;
		p += n;
		if (*p == '|')
			idx++;
		if (*p)
			p++;
	}
	return -1;
}

int opt_enum_name(const char *values, int idx, char *buf, size_t len)
{
	const char *p = values;

	for (int i = 0; p && i < idx; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p || !*p)
		return -EINVAL;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "|/"), p);
	return 0;
}

/* "a|b/c" as "a, b, c" for error messages. */
static void enum_list_text(const char *values, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = values; *p && n + 3 < len; p++) {
		if (*p == '|' || *p == '/') {
			buf[n++] = ',';
			buf[n++] = ' ';
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
}

/*
 * cpu-cap, as CRIU reads it: a comma-separated list applied on top of the
 * current bits. "^" inverts the meaning up to the next comma; "none"
 * clears everything ("^none" sets everything).
 */
static int parse_cpu_cap(const char *s, long long *caps)
{
	static const struct {
		const char *name;
		long long bits;
	} names[] = {
		{ "fpu", OPT_CPU_CAP_FPU },
		{ "cpu", OPT_CPU_CAP_CPU },
		{ "ins", OPT_CPU_CAP_INS },
		{ "all", OPT_CPU_CAP_ALL },
	};
	long long c = *caps;
	bool inverse = false;

	while (*s) {
		size_t i;

		if (*s == '^') {
			inverse = !inverse;
			s++;
			continue;
		}
		if (*s == ',') {
			inverse = false;
			s++;
			continue;
		}
		if (!strncmp(s, "none", 4)) {
			c = inverse ? (c | OPT_CPU_CAP_ALL) : 0;
			s += 4;
			continue;
		}
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strncmp(s, names[i].name, 3))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		c = inverse ? (c & ~names[i].bits) : (c | names[i].bits);
		s += 3;
	}
	*caps = c;
	return 0;
}

/*
 * Add TEXT to a list, split on commas if the option says so. Every item
 * is checked before any is added, so a bad value leaves the list as it was.
 */
static int list_add_text(const struct opt_desc *d, struct opt_value *v, const char *text,
			 const struct opt_origin *org, char *err, size_t errlen)
{
	bool numeric = d->values && strstr(d->values, "..");
	size_t old = v->n_items;
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *p = text;

		for (;;) {
			size_t n = (d->flags & OF_COMMA) ? strcspn(p, ",") : strlen(p);
			long long num;

			if (!n) {
				snprintf(err, errlen, "invalid value '%s' (empty item)", text);
				return -EINVAL;
			}
			if (pass == 0 && numeric)
				ret = parse_int_in_range(d, p, n, &num, err, errlen);
			else if (pass == 1)
				ret = opt_value_add_item(v, p, n, org);
			if (ret)
				goto undo;
			if (!p[n])
				break;
			p += n + 1;
		}
	}
	return 0;

undo:
	while (v->n_items > old)
		free(v->items[--v->n_items].text);
	return ret;
}

static int parse_into(const struct opt_desc *d, struct opt_value *v, const char *text,
		      const struct opt_origin *org, char *err, size_t errlen)
{
	char want[200];
	long long num;
	bool b;
	int idx;

	if (d->flags & OF_DEPRECATED) {
		snprintf(err, errlen, "is deprecated");
		return -EINVAL;
	}
	if (text && !*text) {
		snprintf(err, errlen, "empty value");
		return -EINVAL;
	}

	switch (d->type) {
	case OT_FLAG:
	case OT_BOOL:
		b = true;
		if (text && parse_bool_word(text, &b)) {
			snprintf(err, errlen, "invalid value '%s' (expected true or false)", text);
			return -EINVAL;
		}
		v->num = b;
		break;
	case OT_INT:
	case OT_UINT:
		if (!text)
			goto need_value;
		if (parse_int_in_range(d, text, strlen(text), &num, err, errlen))
			return -EINVAL;
		v->num = num;
		break;
	case OT_SIZE:
		if (!text)
			goto need_value;
		if (parse_size(text, &num)) {
			snprintf(err, errlen, "invalid value '%s' (expected a size such as 512K, 1M or 2G)", text);
			return -EINVAL;
		}
		v->num = num;
		break;
	case OT_STR:
		if (!text)
			goto need_value;
		if (opt_value_set_str(v, text))
			return -ENOMEM;
		break;
	case OT_ENUM:
		if (!text && (d->flags & OF_OPTARG))
			text = d->def;
		if (!text)
			goto need_value;
		idx = opt_enum_index(d->values, text);
		if (idx < 0) {
			enum_list_text(d->values, want, sizeof(want));
			snprintf(err, errlen, "invalid value '%s' (expected one of: %s)", text, want);
			return -EINVAL;
		}
		if (opt_enum_name(d->values, idx, want, sizeof(want)) || opt_value_set_str(v, want))
			return -ENOMEM;
		v->num = idx;
		break;
	case OT_COUNTER:
		if (!text) {
			v->num++;
		} else if (text[0] == 'v' && strspn(text, "v") == strlen(text)) {
			/* -vvv arrives as -v with the argument "vv". */
			v->num += (long long)strlen(text) + 1;
		} else {
			if (parse_int_in_range(d, text, strlen(text), &num, err, errlen))
				return -EINVAL;
			v->num = num;
		}
		break;
	case OT_CPUCAP:
		num = v->num;
		if (!text)
			num |= OPT_CPU_CAP_ALL;
		else if (parse_cpu_cap(text, &num)) {
			snprintf(err, errlen,
				 "invalid value '%s' (expected fpu, cpu, ins, all or none, comma separated, '^' negates)",
				 text);
			return -EINVAL;
		}
		v->num = num;
		break;
	case OT_OPTLIST:
		if (!text) {
			v->on = true;
		} else if (!parse_bool_word(text, &b) && !isdigit((unsigned char)text[0])) {
			v->on = b;
			if (!b)
				opt_value_clear_items(v);
		} else {
			int ret = list_add_text(d, v, text, org, err, errlen);

			if (ret)
				return ret;
			v->on = true;
		}
		break;
	case OT_ARGV:
		/* Bare on the command line; one word of the command per value. */
		if (!text) {
			v->on = true;
			break;
		}
		return list_add_text(d, v, text, org, err, errlen);
	case OT_LIST:
		if (!text)
			goto need_value;
		return list_add_text(d, v, text, org, err, errlen);
	}
	v->origin = *org;
	return 0;

need_value:
	snprintf(err, errlen, "requires a value");
	return -EINVAL;
}

/*
 * restore-detached and daemon share -d, because CRIU keeps them in one
 * field: whatever sets one sets the other.
 */
static int twin_of(enum opt_id id)
{
	const struct opt_desc *d = opt_desc_get(id);

	if (!d->short_name)
		return -1;
	for (int i = 0; i < OPT__COUNT; i++)
		if (i != (int)id && opt_desc_get(i)->short_name == d->short_name)
			return i;
	return -1;
}

int opt_parse(struct options *o, enum opt_id id, const char *text, const struct opt_origin *org, char *err,
	      size_t errlen)
{
	struct opt_origin own;
	int ret, twin;

	if (!o || (unsigned int)id >= OPT__COUNT) {
		snprintf(err, errlen, "no such option");
		return -EINVAL;
	}
	ret = opts_origin_copy(o, org, &own);
	if (ret)
		return ret;
	err[0] = '\0';
	ret = parse_into(opt_desc_get(id), &o->v[id], text, &own, err, errlen);
	if (ret)
		return ret;
	twin = twin_of(id);
	if (twin >= 0) {
		o->v[twin].num = o->v[id].num;
		o->v[twin].origin = own;
	}
	return 0;
}

