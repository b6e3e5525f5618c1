// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Finding an option by the name a user typed: exact long names, --no-
 * forms, unique prefixes as getopt_long allows them, and the closest
 * name for "did you mean". Shared by the command line and the config
 * files, which CRIU reads through the same getopt table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/priv.h"

/* Names a user may type on the command line or in a legacy config file. */
static bool cli_visible(const struct opt_desc *d)
{
	return !(d->flags & OF_PLUGINS);
}

static bool name_matches(const char *name, size_t len, const char *cand, bool prefix)
{
	if (strncmp(name, cand, len))
		return false;
	return prefix || cand[len] == '\0';
}

enum opt_lookup opt_lookup_long(const char *name, size_t len, const struct opt_desc **d, bool *neg,
				char *ambig, size_t ambig_len)
{
	const struct opt_desc *found = NULL;
	bool found_neg = false;
	size_t n = 0, used = 0;

	if (ambig_len)
		ambig[0] = '\0';
	/* An exact name wins even when it is also a prefix of others. */
	for (int prefix = 0; prefix < 2; prefix++) {
		for (int i = 0; i < OPT__COUNT; i++) {
			const struct opt_desc *c = opt_desc_get(i);

			if (!cli_visible(c))
				continue;
			for (int with_no = 0; with_no < 2; with_no++) {
				bool hit;

				if (with_no && c->type != OT_BOOL)
					continue;
				if (with_no)
					hit = len >= 3 && !strncmp(name, "no-", 3) &&
					      name_matches(name + 3, len - 3, c->name, prefix);
				else
					hit = name_matches(name, len, c->name, prefix);
				if (!hit)
					continue;
				if (found == c && found_neg == (bool)with_no)
					continue;
				if (!found) {
					found = c;
					found_neg = with_no;
				}
				n++;
				if (used < ambig_len)
					used += snprintf(ambig + used, ambig_len - used, "%s'--%s%s'", used ? " " : "",
							 with_no ? "no-" : "", c->name);
			}
		}
		if (n)
			break;
	}
	if (!n)
		return OPT_LOOKUP_UNKNOWN;
	if (n > 1)
		return OPT_LOOKUP_AMBIGUOUS;
	*d = found;
	*neg = found_neg;
	return OPT_LOOKUP_OK;
}

size_t opt_name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *prev, *cur, res;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	prev = calloc(lb + 1, sizeof(*prev));
	cur = calloc(lb + 1, sizeof(*cur));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return (size_t)-1;
	}
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(*prev));
	}
	res = prev[lb];
	free(prev);
	free(cur);
	return res;
}

bool opt_suggest(const char *name, bool cli, bool with_neg, char *buf, size_t buf_len)
{
	size_t best = (size_t)-1, len = strlen(name);
	size_t limit = 1 + len / 4;

	if (limit > 3)
		limit = 3;
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);

		if ((d->flags & OF_DEPRECATED) || (cli && (d->flags & OF_PLUGINS)) || (!cli && (d->flags & OF_CLI)))
			continue;
		for (int with_no = 0; with_no < 2; with_no++) {
			char cand[80];
			size_t dist;

			if (with_no && (!with_neg || d->type != OT_BOOL))
				continue;
			snprintf(cand, sizeof(cand), "%s%s", with_no ? "no-" : "", d->name);
			dist = opt_name_distance(name, cand);
			if (dist < best) {
				best = dist;
				snprintf(buf, buf_len, "%s", cand);
			}
		}
	}
	return best <= limit;
}

unsigned int opts_action_mask(enum action act)
{
	switch (act) {
	case ACT_CPUINFO_DUMP:
	case ACT_CPUINFO_CHECK:
		return OA_CI;
	case ACT_SWRK:
		/* swrk serves RPC requests; its options are theirs. */
		return OA_D | OA_PD | OA_R | OA_CHK | OA_CI | OA_PS | OA_SW;
	case ACT_NONE:
		return OA_ANY;
	default:
		return OA_BIT(act);
	}
}
