/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replacing a file so that a reader, or the file system after a crash,
 * sees the old content or the new one, never a mix: the daemon's persisted
 * policy and its metrics file both need it.
 */
#ifndef PKVM_COMMON_ATOMIC_WRITE_H
#define PKVM_COMMON_ATOMIC_WRITE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * len bytes of data to path: a temp file ".NAME.XXXXXX" in the same
 * directory (rename(2) must not cross file systems; hidden, so no glob of
 * *.json or node_exporter's *.prom picks up a half-written file), given
 * mode, written, fsync'ed, renamed over path, then the directory fsync'ed
 * so the rename itself survives a crash. The temp file is removed on
 * failure. A path without '/' is in the working directory. Returns 0 or
 * -errno: -EISDIR for a path ending in '/', -ENOENT for a missing
 * directory.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Removes the temp files write_file_atomic() of dir/name left when the
 * writer died between creating and renaming one (kill -9, power loss):
 * regular files named exactly ".NAME.XXXXXX" (six letters or digits) in
 * dir. Symlinks, directories and other names are left alone; nothing is
 * followed. Only while no writer of that file runs: a live one would lose
 * its temp file. Returns how many were removed, or -errno for dir.
 */
int write_file_atomic_clean(const char *dir, const char *name);

#endif /* PKVM_COMMON_ATOMIC_WRITE_H */
