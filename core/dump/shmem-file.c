// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cp_shmem_dump() for plugins: the contents of a shmem file (a memfd) as
 * CRIU saves them, pagemap-shmem-SHMID.img (a PagemapHead, then one
 * PagemapEntry per run of pages with data, its vaddr being the offset in
 * the file) and pages-ID.img with the bytes. Holes are left out, so a
 * sparse memfd costs only its data; the last page is padded with zeros.
 * With --page-server the same entries and bytes go to the page server
 * (OPEN2 for the object, an ADD_F per run), which writes the images.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "pagemap.pb-c.h"

#include "dump/dump.h"
#include "images/magic.h"
#include "mem/page-xfer.h"

#define SHF_PAGE 4096ull
#define SHF_PE_PRESENT 4
#define SHF_BUF (256 * 1024)

/*
 * Copy [OFF, OFF+LEN) of FD to PAGES, or to the page server SK when PAGES
 * is NULL, zeros past the end of the file.
 */
static int copy_run(int fd, struct image *pages, int sk, uint64_t off, uint64_t len, uint64_t size,
		    char *buf)
{
	while (len) {
		size_t n = len < SHF_BUF ? (size_t)len : SHF_BUF;
		size_t have = off >= size ? 0 : (size - off < n ? (size_t)(size - off) : n);
		ssize_t r = have ? pread(fd, buf, have, (off_t)off) : 0;
		int ret;

		if (r < 0 || (size_t)r != have) {
			ret = r < 0 ? -errno : -EIO;
			pr_perror("cannot read the shared memory file at %llu", (unsigned long long)off);
			return ret;
		}
		memset(buf + have, 0, n - have);
		ret = pages ? img_write_raw(pages, buf, n) : ps_send_data(sk, buf, n);
		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

/* NR pages of FD from OFF on to the page server SK: ADD_F entries of at most PS_MAX_ADD_PAGES. */
static int send_run(int sk, int fd, uint64_t shmid, uint64_t off, uint64_t nr, uint64_t size, char *buf)
{
	int ret = 0;

	while (nr && !ret) {
		uint32_t n = nr > PS_MAX_ADD_PAGES ? PS_MAX_ADD_PAGES : (uint32_t)nr;

		ret = ps_send_add(sk, ps_dst_id(PS_TYPE_SHMEM, shmid), off, n);
		if (!ret)
			ret = copy_run(fd, NULL, sk, off, n * SHF_PAGE, size, buf);
		off += n * SHF_PAGE;
		nr -= n;
	}
	return ret;
}

int dump_shmem_file(struct dump_ctx *dc, int fd, uint64_t shmid, uint64_t size)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct image *pm = NULL, *pages = NULL;
	uint64_t end = (size + SHF_PAGE - 1) & ~(SHF_PAGE - 1), off = 0;
	char *buf = malloc(SHF_BUF);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (dc->ps_sk >= 0) {
		ret = ps_open(dc->ps_sk, ps_dst_id(PS_TYPE_SHMEM, shmid));
	} else {
		head.pages_id = ++dc->pages_id;
		ret = dump_img_open(dc, PAGEMAP_MAGIC, &pm, "pagemap-shmem-%llu.img",
				    (unsigned long long)shmid);
		if (!ret)
			ret = img_write_msg(pm, &head.base);
		if (!ret)
			ret = dump_img_open(dc, PAGES_MAGIC, &pages, "pages-%u.img", head.pages_id);
	}
	while (!ret && off < end) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;
		off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO) {
				ret = -errno;
				pr_perror("cannot find the data of shared memory %llu", (unsigned long long)shmid);
			}
			break; /* ENXIO: only a hole is left */
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			pr_perror("cannot find the holes of shared memory %llu", (unsigned long long)shmid);
			break;
		}
		pe.vaddr = (uint64_t)data & ~(SHF_PAGE - 1);
		off = ((uint64_t)hole + SHF_PAGE - 1) & ~(SHF_PAGE - 1);
		if (off > end)
			off = end;
		if (off <= pe.vaddr)
			break;
		pe.has_nr_pages = true;
		pe.nr_pages = (off - pe.vaddr) / SHF_PAGE;
		pe.compat_nr_pages = (uint32_t)pe.nr_pages;
		pe.has_flags = true;
		pe.flags = SHF_PE_PRESENT;
		if (dc->ps_sk >= 0)
			ret = send_run(dc->ps_sk, fd, shmid, pe.vaddr, pe.nr_pages, size, buf);
		else
			ret = img_write_msg(pm, &pe.base);
		if (!ret && dc->ps_sk < 0)
			ret = copy_run(fd, pages, -1, pe.vaddr, off - pe.vaddr, size, buf);
	}
	if (pages)
		ret = img_close(pages) ?: ret;
	if (pm)
		ret = img_close(pm) ?: ret;
	free(buf);
	return ret;
}
