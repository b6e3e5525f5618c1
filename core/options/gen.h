/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text generated from the option table: pieces of --help, the sample
 * config etc/criu.conf and the OPTIONS section of docs/criu.8. Depends on
 * table.c only, so the build-time generator (gen-docs) links just the two.
 */
#ifndef CORE_OPTIONS_GEN_H
#define CORE_OPTIONS_GEN_H

#include <stddef.h>
#include <stdio.h>

#include "options/options.h"

/* "--tree PID", "--[no-]tcp-established", "--verbosity[=N]" (no short name). */
void opt_synopsis(const struct opt_desc *d, char *buf, size_t len);
/* "dump, pre-dump", "all actions" or "all actions but service". */
void opt_actions_text(unsigned int actions, char *buf, size_t len);
/* The option ids sorted by long name, into IDS[OPT__COUNT]. */
void opt_sorted(enum opt_id *ids);
/* One line saying what ACT does, NULL for ACT_NONE. */
const char *opts_action_help(enum action act);

/* etc/criu.conf. */
int opts_gen_config(FILE *f);
/*
 * docs/criu.8: TEMPLATE with the line "@OPTIONS@" replaced by the command
 * line options and "@PLUGIN_KEYS@" by the [plugins] keys.
 */
int opts_gen_man(FILE *f, const char *template_text);

#endif /* CORE_OPTIONS_GEN_H */
