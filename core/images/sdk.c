// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The image part of the plugin SDK (include/criu/plugin.h): thin wrappers
 * over image.h. A struct cp_image is a struct image under its SDK name;
 * plugins never see inside either. Images open in the core's default
 * images dir (img_set_default_dir()).
 */
#include <errno.h>

#include <criu/plugin.h>

#include "images/image.h"

static struct cp_image *to_cp(struct image *img)
{
	return (struct cp_image *)img;
}

static struct image *from_cp(struct cp_image *img)
{
	return (struct image *)img;
}

CP_EXPORT int cp_images_dir_fd(void)
{
	struct img_dir *dir = img_default_dir();

	return dir ? img_dir_fd(dir) : -EBADF;
}

CP_EXPORT struct cp_image *cp_image_open_write(struct cp_plugin *p, const char *name, uint32_t magic)
{
	struct image *img;
	int ret;

	(void)p;
	ret = img_open_write(img_default_dir(), name, magic, &img);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	img_note_plugin_write(name);
	return to_cp(img);
}

CP_EXPORT struct cp_image *cp_image_open_read(struct cp_plugin *p, const char *name, uint32_t magic)
{
	struct image *img;
	int ret;

	(void)p;
	ret = img_open_read(img_default_dir(), name, magic, 0, &img);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	return to_cp(img);
}

CP_EXPORT int cp_image_write_msg(struct cp_image *img, const ProtobufCMessage *msg)
{
	return img_write_msg(from_cp(img), msg);
}

CP_EXPORT int cp_image_write_raw(struct cp_image *img, const void *buf, size_t len)
{
	return img_write_raw(from_cp(img), buf, len);
}

CP_EXPORT int cp_image_read_msg(struct cp_image *img, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	return img_read_msg(from_cp(img), desc, out);
}

CP_EXPORT int cp_image_read_raw(struct cp_image *img, void *buf, size_t len)
{
	return img_read_raw(from_cp(img), buf, len);
}

CP_EXPORT int cp_image_fd(struct cp_image *img)
{
	return img_fd(from_cp(img));
}

CP_EXPORT int cp_image_close(struct cp_image *img)
{
	return img_close(from_cp(img));
}
