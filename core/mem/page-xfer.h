/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRIU's page-server wire protocol, spoken over one TCP connection (or a
 * socket handed over with --ps-socket) from the dumping criu to a
 * "criu page-server". Every command is a 24-byte struct ps_iov in host
 * byte order, as CRIU sends it:
 *
 *   OPEN2  dst_id          server opens pagemap-ID.img (type PID) or
 *                          pagemap-shmem-ID.img (type SHMEM) and a new
 *                          pages-N.img; answers 1 byte: has a parent
 *   ADD_F  flags in the high 16 bits of cmd, nr_pages, vaddr, dst_id:
 *                          one pagemap entry; with PE_PRESENT the
 *                          nr_pages * 4096 bytes of data follow
 *   PARENT dst_id          answers an int: is there a parent pagemap
 *   CLOSE / FORCE_CLOSE    end of the transfer (FORCE: the dump failed);
 *                          answers an int32 0 once everything is written
 *
 * ADD (present) and HOLE (parent) are ADD_F of older CRIUs; OPEN is
 * OPEN2 without the answer. GET serves lazy pages and is not supported.
 */
#ifndef CORE_MEM_PAGE_XFER_H
#define CORE_MEM_PAGE_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct options;

struct ps_iov {
	uint32_t cmd;
	uint32_t nr_pages;
	uint64_t vaddr;
	uint64_t dst_id;
};

#define PS_IOV_ADD 1
#define PS_IOV_HOLE 2
#define PS_IOV_OPEN 3
#define PS_IOV_OPEN2 4
#define PS_IOV_PARENT 5
#define PS_IOV_ADD_F 6
#define PS_IOV_GET 7
#define PS_IOV_CLOSE 0x1023
#define PS_IOV_FORCE_CLOSE 0x1024

#define PS_CMD_BITS 16
#define PS_CMD_MASK ((1u << PS_CMD_BITS) - 1)
#define PS_TYPE_BITS 8
#define PS_TYPE_MASK ((1u << PS_TYPE_BITS) - 1)
#define PS_TYPE_PID 1
#define PS_TYPE_SHMEM 2

/* pagemap entry flags (pagemap.proto) */
#define PS_PE_PARENT 1
#define PS_PE_LAZY 2
#define PS_PE_PRESENT 4

static inline uint64_t ps_dst_id(int type, uint64_t id)
{
	return id << PS_TYPE_BITS | (uint64_t)type;
}

/*
 * The PS_TYPE_* of DST_ID (with *ID set), or -1. Older CRIUs sent their
 * image enum numbers here; those are accepted as CRIU accepts them.
 */
int ps_decode_dst(uint64_t dst_id, uint64_t *id);

/*
 * Dump side. ps_connect(): *SK becomes --ps-socket when set, else a TCP
 * connection to --address:--port.
 */
int ps_connect(const struct options *o, int *sk);
/* OPEN2 for DST_ID; the server's has-parent answer is not needed here. */
int ps_open(int sk, uint64_t dst_id);
/* The header of an ADD_F with PE_PRESENT; the caller sends the data. */
int ps_send_add(int sk, uint64_t dst_id, uint64_t vaddr, uint32_t nr_pages);
/* LEN bytes of page data after an ADD_F header. */
int ps_send_data(int sk, const void *data, size_t len);
/* ADD_F entries with the data of NR_PAGES pages at DATA, from VADDR on. */
#define PS_MAX_ADD_PAGES (1u << 18)
int ps_send_pages(int sk, uint64_t dst_id, uint64_t vaddr, const void *data, uint64_t nr_pages);
/* CLOSE (OK) or FORCE_CLOSE, and wait for the server's answer. */
int ps_finish(int sk, bool ok);

#endif /* CORE_MEM_PAGE_XFER_H */
