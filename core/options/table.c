// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The descriptors of options.def, and lookups in them. This file depends
 * on nothing but libc, so the build-time generator of etc/criu.conf and
 * docs/criu.8 can link it alone.
 */
#include <string.h>

#include "options/options.h"

static const struct opt_desc opt_table[OPT__COUNT] = {
#define OPT(id_, name_, sh_, type_, flags_, def_, values_, actions_, rpc_, setter_, arg_, help_) \
	[OPT_##id_] = {                                                                          \
		.id = OPT_##id_,                                                                 \
		.name = name_,                                                                   \
		.short_name = sh_,                                                               \
		.type = type_,                                                                   \
		.flags = flags_,                                                                 \
		.def = def_,                                                                     \
		.values = values_,                                                               \
		.actions = actions_,                                                             \
		.rpc_field = rpc_,                                                               \
		.lib_setter = setter_,                                                           \
		.arg = arg_,                                                                     \
		.help = help_,                                                                   \
	},
#include "options/options.def"
#undef OPT
};

static const char *const action_names[ACT__COUNT] = {
	[ACT_NONE] = "",
	[ACT_DUMP] = "dump",
	[ACT_PRE_DUMP] = "pre-dump",
	[ACT_RESTORE] = "restore",
	[ACT_LAZY_PAGES] = "lazy-pages",
	[ACT_CHECK] = "check",
	[ACT_CPUINFO_DUMP] = "cpuinfo dump",
	[ACT_CPUINFO_CHECK] = "cpuinfo check",
	[ACT_PAGE_SERVER] = "page-server",
	[ACT_SERVICE] = "service",
	[ACT_SWRK] = "swrk",
	[ACT_DEDUP] = "dedup",
	[ACT_PLUGINS] = "plugins",
	[ACT_EXEC] = "exec",
	[ACT_SHOW] = "show",
};

const struct opt_desc *opt_desc_get(enum opt_id id)
{
	if ((unsigned int)id >= OPT__COUNT)
		return NULL;
	return &opt_table[id];
}

const struct opt_desc *opt_find(const char *long_name)
{
	if (!long_name)
		return NULL;
	for (int i = 0; i < OPT__COUNT; i++)
		if (!strcmp(opt_table[i].name, long_name))
			return &opt_table[i];
	return NULL;
}

const struct opt_desc *opt_find_rpc(int field)
{
	if (field <= 0)
		return NULL;
	for (int i = 0; i < OPT__COUNT; i++)
		if (opt_table[i].rpc_field == field)
			return &opt_table[i];
	return NULL;
}

const char *opts_action_name(enum action act)
{
	if ((unsigned int)act >= ACT__COUNT)
		return "";
	return action_names[act];
}
