// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_write.h"
#include "macro.h"

#define TEMP_SUFFIX	"XXXXXX"	/* mkostemp(3)'s six letters */

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
	if (asprintf(&tmp, "%.*s%s.%s." TEMP_SUFFIX, dirlen, path, slash ? "/" : "", base) < 0) {
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

/* ".NAME." and six of mkostemp's letters: the temp name, nothing else. */
static bool is_temp_of(const char *entry, const char *name)
{
	size_t len = strlen(name);

	if (entry[0] != '.' || strncmp(entry + 1, name, len) || entry[len + 1] != '.')
		return false;
	entry += len + 2;
	if (strlen(entry) != strlen(TEMP_SUFFIX))
		return false;
	for (; *entry; entry++)
		if (!((*entry >= 'a' && *entry <= 'z') || (*entry >= 'A' && *entry <= 'Z') ||
		      (*entry >= '0' && *entry <= '9')))
			return false;
	return true;
}

int write_file_atomic_clean(const char *dir, const char *name)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *dp;
	int n = 0;

	if (fd < 0)
		return -errno;
	dp = fdopendir(fd);
	if (!dp)
		return -errno;
	fd = -1;	/* dp owns it now */
	while ((e = readdir(dp))) {
		struct stat st;

		/* lstat's view: a symlink of that name is not ours to follow or remove. */
		if (!is_temp_of(e->d_name, name) ||
		    fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(dp), e->d_name, 0) == 0)
			n++;
	}
	closedir(dp);
	return n;
}
