// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The committed etc/criu.conf and docs/criu.8 are what the option table
 * generates today. When this fails, run `make update-generated` and
 * commit the result.
 */
#include "options-tap.h"

#include "options/gen.h"

static char *src_path(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char *p = NULL;

	if (asprintf(&p, "%s/%s", top ? top : ".", rel) < 0)
		return NULL;
	return p;
}

static void compare(const char *what, const char *want, const char *got)
{
	size_t line = 1;

	if (!want) {
		printf("#   %s: can't read the committed copy\n", what);
		tap_failed = 1;
		return;
	}
	for (size_t i = 0; want[i] || got[i]; i++) {
		if (want[i] != got[i]) {
			printf("#   %s differs from the table at line %zu; run `make update-generated`\n", what, line);
			tap_failed = 1;
			return;
		}
		if (want[i] == '\n')
			line++;
	}
}

static void t_criu_conf_is_current(void)
{
	char *path = src_path("etc/criu.conf"), *committed = tap_read_file(path), *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_EQ(opts_gen_config(f), 0);
	fclose(f);
	compare("etc/criu.conf", committed, text);
	free(text);
	free(committed);
	free(path);
}

static void t_man_page_is_current(void)
{
	char *tpath = src_path("docs/criu.8.in"), *path = src_path("docs/criu.8");
	char *tmpl = tap_read_file(tpath), *committed = tap_read_file(path), *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(tmpl != NULL);
	if (tmpl)
		CHECK_EQ(opts_gen_man(f, tmpl), 0);
	fclose(f);
	compare("docs/criu.8", committed, text);
	free(text);
	free(committed);
	free(tmpl);
	free(tpath);
	free(path);
}

/* Every option is in the generated documents, each where it belongs. */
static void t_documents_list_every_option(void)
{
	char *conf = NULL, *man = NULL;
	size_t l1 = 0, l2 = 0;
	FILE *f = open_memstream(&conf, &l1), *g = open_memstream(&man, &l2);

	opts_gen_config(f);
	opts_gen_man(g, "@OPTIONS@\n@PLUGIN_KEYS@\n");
	fclose(f);
	fclose(g);
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct opt_desc *d = opt_desc_get(i);
		char key[128], roff[256];
		size_t n = 0;

		snprintf(key, sizeof(key), "\n#%s = ", d->name);
		if (!(d->flags & (OF_CLI | OF_DEPRECATED)) && !strstr(conf, key)) {
			printf("#   %s missing from criu.conf\n", d->name);
			tap_failed = 1;
		}
		for (const char *p = d->name; *p && n < sizeof(roff) - 3; p++) {
			if (*p == '-')
				roff[n++] = '\\';
			roff[n++] = *p;
		}
		roff[n] = '\0';
		if (!strstr(man, roff)) {
			printf("#   %s missing from the man page\n", d->name);
			tap_failed = 1;
		}
	}
	free(conf);
	free(man);
}

static const struct tap_test tests[] = {
	TAP_TEST(t_criu_conf_is_current),
	TAP_TEST(t_man_page_is_current),
	TAP_TEST(t_documents_list_every_option),
};

TAP_MAIN(tests, &options_tap_opts)
