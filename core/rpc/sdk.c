// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The RPC part of the plugin SDK (include/criu/plugin.h, ABI 1.3): what a
 * plugin needs for a client that dumps itself. Such a client holds a
 * socket connected to criu's RPC socket; the sockets plugin finds it by
 * the inode of criu's end and marks it (CRIU's USK_SERVICE). On restore
 * that fd becomes a new socket on which the answer to the DUMP waits,
 * with restored = true, so the client library returns "restored".
 */
#include <errno.h>
#include <sys/stat.h>

#include <criu/log.h>
#include <criu/plugin.h>

#include "rpc.pb-c.h"
#include "rpc/proto.h"
#include "rpc/sdk.h"

/* The inode of the socket this criu serves requests on; 0 when none. */
static uint64_t service_sk_ino;

int rpc_sdk_set_service_sk(int sk)
{
	struct stat st;

	service_sk_ino = 0;
	if (sk < 0)
		return 0;
	if (fstat(sk, &st)) {
		int ret = -errno;

		pr_perror("cannot stat the RPC socket %d", sk);
		return ret;
	}
	service_sk_ino = (uint64_t)st.st_ino;
	return 0;
}

CP_EXPORT int cp_rpc_service_sk_ino(uint64_t *ino)
{
	if (!ino)
		return -EINVAL;
	if (!service_sk_ino)
		return -ENOENT;
	*ino = service_sk_ino;
	return 0;
}

CP_EXPORT int cp_rpc_send_dump_restored(int fd)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dump = CRIU_DUMP_RESP__INIT;

	resp.type = CRIU_REQ_TYPE__DUMP;
	resp.success = true;
	dump.has_restored = true;
	dump.restored = true;
	resp.dump = &dump;
	return rpc_send_resp(fd, &resp, -1);
}
