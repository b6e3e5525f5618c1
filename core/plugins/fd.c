// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kinds: registering them, finding the one that handles an fd (dump)
 * or a FileEntry type (restore), and calling their dump and open with the
 * plugin's name on its log lines.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "plugins/plugins.h"
#include "plugins/registry.h"

/* Where a dump callback leaves the packed FileEntry payload of one fd. */
struct cp_payload {
	void *buf; /* malloc'd; handed to the caller of plugins_call_fd_dump() */
	size_t len;
	bool packed;
};

static struct {
	struct plugin_fd_kind *kinds; /* registration order = load order */
	size_t nkinds;
} fdk;

/* The ops of ABI 1.0 end with open(); a plugin must pass at least that much. */
#define FD_OPS_MIN_SIZE (offsetof(struct cp_fd_ops, open) + sizeof(((struct cp_fd_ops *)0)->open))

size_t plugin_fd_kind_count(void)
{
	return fdk.nkinds;
}

const struct plugin_fd_kind *plugin_fd_kind_at(size_t i)
{
	return i < fdk.nkinds ? &fdk.kinds[i] : NULL;
}

void plugin_fd_kinds_drop(const struct cp_plugin *p)
{
	size_t n = 0;

	for (size_t i = 0; i < fdk.nkinds; i++)
		if (fdk.kinds[i].owner != p)
			fdk.kinds[n++] = fdk.kinds[i];
	fdk.nkinds = n;
	if (!n) {
		free(fdk.kinds);
		fdk.kinds = NULL;
	}
}

static int fd_ops_check(const struct cp_plugin *p, const struct cp_fd_ops *ops)
{
	const char *name;

	if (!ops) {
		plugin_pr_err(p, "cp_register_fd_kind() without ops");
		return -EINVAL;
	}
	/* Read the name only once the size says it is there. */
	if (ops->size < FD_OPS_MIN_SIZE || ops->size > sizeof(*ops)) {
		plugin_pr_err(p, "fd kind ops of size %zu; this criu accepts %zu to %zu bytes", ops->size,
			      (size_t)FD_OPS_MIN_SIZE, sizeof(*ops));
		return -EINVAL;
	}
	name = ops->name && *ops->name ? ops->name : "(unnamed)";
	if (!ops->name || !*ops->name || !ops->type || !ops->payload_field) {
		plugin_pr_err(p,
			      "fd kind %s needs a name, a FileEntry type and a payload field"
			      " (type %u, field %u)",
			      name, ops->type, ops->payload_field);
		return -EINVAL;
	}
	if (!ops->match || !ops->dump || !ops->open) {
		plugin_pr_err(p, "fd kind %s lacks%s%s%s", name, ops->match ? "" : " match()",
			      ops->dump ? "" : " dump()", ops->open ? "" : " open()");
		return -EINVAL;
	}
	for (size_t i = 0; i < fdk.nkinds; i++) {
		const struct plugin_fd_kind *k = &fdk.kinds[i];

		/*
		 * Several kinds may share a FileEntry type (CRIU stores /dev/null
		 * as a regular file, yet the devices plugin owns it): on restore
		 * they are asked in turn. They must agree on where the payload is.
		 */
		if (k->ops.type != ops->type || k->ops.payload_field == ops->payload_field)
			continue;
		plugin_pr_err(p,
			      "fd kind %s puts FileEntry type %u in field %u, but fd kind %s"
			      " of plugin %s puts it in field %u",
			      name, ops->type, ops->payload_field, k->ops.name, k->owner->name, k->ops.payload_field);
		return -EEXIST;
	}
	return 0;
}

CP_EXPORT int cp_register_fd_kind(struct cp_plugin *p, const struct cp_fd_ops *ops)
{
	struct plugin_fd_kind *kinds;
	int ret;

	ret = plugin_check_registering(p, "cp_register_fd_kind()");
	if (ret)
		return ret;
	ret = fd_ops_check(p, ops);
	if (ret)
		return ret;

	kinds = realloc(fdk.kinds, (fdk.nkinds + 1) * sizeof(*kinds));
	if (!kinds)
		return -ENOMEM;
	fdk.kinds = kinds;
	/* A smaller (older) ops struct reads as zeros past its end. */
	memset(&kinds[fdk.nkinds], 0, sizeof(kinds[0]));
	kinds[fdk.nkinds].owner = p;
	kinds[fdk.nkinds].registered = ops;
	memcpy(&kinds[fdk.nkinds].ops, ops, ops->size);
	kinds[fdk.nkinds].ops.size = sizeof(struct cp_fd_ops);
	fdk.nkinds++;
	return 0;
}

CP_EXPORT int cp_payload_pack(struct cp_payload *out, const ProtobufCMessage *msg)
{
	size_t len, packed;
	void *buf;

	if (!out || !msg) {
		pr_err("cp_payload_pack() without a payload or a message");
		return -EINVAL;
	}
	if (out->packed) {
		pr_err("cp_payload_pack() called twice for one fd");
		return -EEXIST;
	}
	len = protobuf_c_message_get_packed_size(msg);
	/* malloc(0) may return NULL; an empty message is still a payload. */
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	packed = protobuf_c_message_pack(msg, buf);
	if (packed != len) {
		pr_err("packing %s gave %zu bytes, expected %zu", msg->descriptor->name, packed, len);
		free(buf);
		return -EINVAL;
	}
	out->buf = buf;
	out->len = len;
	out->packed = true;
	return 0;
}

/* Does kind K handle USE? Every kind handles fds; other uses only when it says so (1.1). */
static bool kind_uses(const struct plugin_fd_kind *k, enum cp_file_use use)
{
	return use == CP_USE_FD || (use < 32 && (k->ops.uses & CP_USES(use)));
}

int plugins_match_fd(const struct cp_fd_desc *fd, const struct cp_fd_ops **ops, struct cp_plugin **owner)
{
	for (size_t i = 0; i < fdk.nkinds; i++) {
		const struct plugin_fd_kind *k = &fdk.kinds[i];
		const char *old;
		int ret;

		if (!kind_uses(k, fd->use))
			continue;
		old = plugin_enter(k->owner);
		ret = k->ops.match(k->owner, fd);
		plugin_leave(old);

		if (ret == -ENOTSUP)
			continue;
		if (ret > 0) {
			pr_err("plugin %s: match() of fd kind %s returned %d for fd %d of pid %d", k->owner->name,
			       k->ops.name, ret, fd->fd, (int)fd->pid);
			return -EINVAL;
		}
		if (ret < 0) {
			pr_err("plugin %s: can't tell whether fd %d (%s) of pid %d is a %s: %s", k->owner->name, fd->fd,
			       fd->link ? fd->link : "?", (int)fd->pid, k->ops.name, strerror(-ret));
			return ret;
		}
		if (ops)
			*ops = &k->ops;
		if (owner)
			*owner = k->owner;
		return 0;
	}
	return -ENOTSUP;
}

int plugins_find_fd_kind(const struct cp_plugin *p, const struct cp_fd_ops *registered,
			 const struct cp_fd_ops **ops, struct cp_plugin **owner)
{
	for (size_t i = 0; i < fdk.nkinds; i++) {
		if (fdk.kinds[i].owner != p || fdk.kinds[i].registered != registered)
			continue;
		*ops = &fdk.kinds[i].ops;
		*owner = fdk.kinds[i].owner;
		return 0;
	}
	return -ENOENT;
}

int plugins_find_fd_type(uint32_t type, const struct cp_fd_ops **ops, struct cp_plugin **owner)
{
	for (size_t i = 0; i < fdk.nkinds; i++) {
		if (fdk.kinds[i].ops.type != type)
			continue;
		if (ops)
			*ops = &fdk.kinds[i].ops;
		if (owner)
			*owner = fdk.kinds[i].owner;
		return 0;
	}
	return -ENOTSUP;
}

int plugins_call_fd_dump(struct cp_plugin *owner, const struct cp_fd_ops *ops, const struct cp_fd_desc *fd, uint32_t id,
			 void **payload, size_t *payload_len)
{
	struct cp_payload out = { 0 };
	const char *old;
	int ret;

	old = plugin_enter(owner);
	ret = ops->dump(owner, fd, id, &out);
	plugin_leave(old);

	if (ret > 0) {
		pr_err("plugin %s: dump() of fd kind %s returned %d for fd %d of pid %d", owner->name, ops->name, ret,
		       fd->fd, (int)fd->pid);
		ret = -EINVAL;
		goto err;
	}
	if (ret < 0) {
		pr_err("plugin %s: can't dump fd %d (%s) of pid %d as %s: %s", owner->name, fd->fd,
		       fd->link ? fd->link : "?", (int)fd->pid, ops->name, strerror(-ret));
		goto err;
	}
	if (!out.packed) {
		pr_err("plugin %s: dump() of fd kind %s gave no payload for fd %d of pid %d", owner->name, ops->name,
		       fd->fd, (int)fd->pid);
		ret = -EINVAL;
		goto err;
	}
	*payload = out.buf;
	*payload_len = out.len;
	return 0;

err:
	free(out.buf);
	return ret;
}

/* Call one kind's open(); -ENOTSUP comes back unlogged: "not mine". */
static int call_fd_open(struct cp_plugin *owner, const struct cp_fd_ops *ops, const struct cp_file *file, int *out_fd)
{
	const char *old;
	int ret, fd = -1;

	old = plugin_enter(owner);
	ret = ops->open(owner, file, &fd);
	plugin_leave(old);

	if (ret == -ENOTSUP)
		return ret;

	if (ret > 0)
		return CP_RETRY;
	if (ret < 0 && file->fd < 0) {
		pr_err("plugin %s: can't open %s (file id %u) for pid %d: %s", owner->name, ops->name, file->id,
		       (int)file->pid, strerror(-ret));
		return ret;
	}
	if (ret < 0) {
		pr_err("plugin %s: can't open %s (file id %u) as fd %d of pid %d: %s", owner->name, ops->name, file->id,
		       file->fd, (int)file->pid, strerror(-ret));
		return ret;
	}
	if (fd < 0) {
		pr_err("plugin %s: open() of %s (file id %u) succeeded without an fd", owner->name, ops->name,
		       file->id);
		return -EINVAL;
	}
	*out_fd = fd;
	return 0;
}

int plugins_call_fd_open(struct cp_plugin *owner, const struct cp_fd_ops *ops, const struct cp_file *file, int *out_fd)
{
	int ret = call_fd_open(owner, ops, file, out_fd);

	if (ret == -ENOTSUP)
		pr_err("plugin %s: %s refused file id %u (type %u) of pid %d", owner->name, ops->name, file->id,
		       file->type, (int)file->pid);
	return ret;
}

int plugins_open_file(const struct cp_file *file, int *out_fd, const struct plugin_fd_kind **kind)
{
	bool any = false, any_type = false;

	for (size_t i = 0; i < fdk.nkinds; i++) {
		const struct plugin_fd_kind *k = &fdk.kinds[i];
		int ret;

		if (k->ops.type != file->type)
			continue;
		any_type = true;
		if (!kind_uses(k, file->use))
			continue;
		any = true;
		ret = call_fd_open(k->owner, &k->ops, file, out_fd);
		if (!ret && kind)
			*kind = k;
		if (ret != -ENOTSUP)
			return ret;
	}
	if (any)
		pr_err("no fd kind registered for FileEntry type %u accepts file id %u of pid %d", file->type,
		       file->id, (int)file->pid);
	else if (any_type)
		pr_err("file id %u of pid %d (FileEntry type %u) is not an fd, and each kind of its type "
		       "takes none but fds", file->id, (int)file->pid, file->type);
	else
		pr_err("no loaded plugin handles FileEntry type %u (file id %u of pid %d)", file->type,
		       file->id, (int)file->pid);
	return -ENOTSUP;
}

int plugins_file_group(const struct cp_file *file, uint64_t *key, const struct cp_plugin **owner)
{
	const struct cp_fd_ops *ops;
	struct cp_plugin *o;
	const char *old;
	int ret;

	*key = 0;
	*owner = NULL;
	if (plugins_find_fd_type(file->type, &ops, &o) || ops->size < offsetof(struct cp_fd_ops, group) +
	    sizeof(ops->group) || !ops->group)
		return 0;
	old = plugin_enter(o);
	ret = ops->group(o, file, key);
	plugin_leave(old);
	if (ret > 0)
		ret = -EINVAL;
	if (ret < 0) {
		pr_err("plugin %s: group() of %s (file id %u of pid %d) failed: %s", o->name, ops->name,
		       file->id, (int)file->pid, strerror(-ret));
		*key = 0;
		return ret;
	}
	*owner = o;
	return 0;
}

int plugins_post_open_file(const struct plugin_fd_kind *kind, const struct cp_file *file, int fd)
{
	const char *old;
	int ret;

	if (!kind || !kind->ops.post_open)
		return 0;
	old = plugin_enter(kind->owner);
	ret = kind->ops.post_open(kind->owner, file, fd);
	plugin_leave(old);

	if (ret > 0) {
		pr_err("plugin %s: post_open() of %s (file id %u) returned %d for fd %d of pid %d", kind->owner->name,
		       kind->ops.name, file->id, ret, fd, (int)file->pid);
		return -EINVAL;
	}
	if (ret < 0)
		pr_err("plugin %s: can't finish %s (file id %u) at fd %d of pid %d: %s", kind->owner->name,
		       kind->ops.name, file->id, fd, (int)file->pid, strerror(-ret));
	return ret;
}
