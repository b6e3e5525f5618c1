/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * criu check: the kernel features criu needs, in CRIU's three categories,
 * and the 45 feature names `--feature NAME` accepts. action_check() itself
 * is declared in core/actions.h.
 */
#ifndef CORE_CHECK_CHECK_H
#define CORE_CHECK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The RPC FEATURE_CHECK answer. Each pointer may be NULL (not asked).
 * mem_track: kernel dirty tracking (soft-dirty, or uffd-WP async with
 * PAGEMAP_SCAN); lazy_pages: userfaultfd with the non-cooperative events;
 * pidfd_store: pidfd_open and pidfd_getfd. Returns 0 (the probes cannot
 * fail; a feature that cannot be probed is reported as absent).
 */
int check_features_rpc(bool *mem_track, bool *lazy_pages, bool *pidfd_store);

/* The feature names of `criu check --feature`, in CRIU's order. */
size_t check_feature_count(void);
const char *check_feature_name(size_t i);

/*
 * Check feature NAME as `criu check --feature NAME` does. Returns 1 if
 * supported, 0 if not (the reason is logged as a warning), -ENOENT for a
 * name that is not one of the list (logged as "Unknown feature NAME").
 */
int check_feature(const char *name);

/* The names as --help prints them: wrapped at WIDTH, each line after the first indented by INDENT. */
void check_print_features(FILE *f, const char *indent, int width);

#endif /* CORE_CHECK_CHECK_H */
