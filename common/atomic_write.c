// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_write.h"
#include "macro.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* The rename is durable only once its directory is on disk too. */
static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* The whole content, with its mode, on disk; 0 or -errno. */
static int fill(int fd, const void *data, size_t len, mode_t mode)
{
	int r;

	/* mkostemp makes it 0600; the file's readers may be other users. */
	if (fchmod(fd, mode) < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r)
		return r;
	/* Before the rename: after a crash the name never points at an empty file. */
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path) : 0;
	_cleanup_free_ char *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (!*base)
		return -EISDIR;
	if (asprintf(&tmp, "%.*s%s.%s.XXXXXX", dirlen, path, slash ? "/" : "", base) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	/* "/x" lives in "/", "x" in ".". */
	if (asprintf(&dir, "%.*s", dirlen ? dirlen : 1, slash ? path : ".") < 0) {
		dir = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fill(fd, data, len, mode);
	if (close(TAKE_FD(fd)) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	return fsync_dir(dir);
}
