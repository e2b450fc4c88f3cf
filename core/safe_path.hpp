#pragma once
// Paths that name files inside a directory Hearth owns (a task's scratch
// directory, a job's out/ and stage/), checked so that no text a user, a
// task or a peer on the wire supplies can reach outside that directory.
//
// The pure checks work on text; the *_beneath functions do the file I/O
// through directory descriptors, one component at a time with O_NOFOLLOW,
// so a symbolic link anywhere on the way (planted by a task in its scratch
// directory, or by anyone in a job's out/) is refused, never followed.
#include <string>

namespace hearth {

// A path relative to a directory Hearth owns, as a user gives it (--collect
// glob, a staged input's name): not empty, not absolute, no ".." component.
// Throws usage_error naming what (e.g. "--collect") and the fix.
void check_relative_path(const std::string& text, const std::string& what);

// The strict form, for paths that arrive over the wire or from a file Hearth
// wrote: '/'-separated, every component non-empty and neither "." nor "..",
// no NUL byte, not absolute.
bool is_clean_relative_path(const std::string& text);

// True when path (absolute, symlinks already resolved) is root itself or
// lies under it. Both are compared after lexical normalisation, component by
// component, so "/scratch/d10" is not inside "/scratch/d1".
bool path_is_within(const std::string& root, const std::string& path);

// A regular file read at root/rel, rel a clean relative path. No component
// may be a symbolic link. Throws Error naming rel and the offending part when
// one is, or when the file is not a regular file. *mode gets its permission
// bits when given.
std::string read_file_beneath(const std::string& root, const std::string& rel,
                              unsigned* mode = nullptr);

// Writes data to root/rel atomically (a temporary name in the same
// directory, fsync, rename), creating missing directories under root. No
// component may be a symbolic link (root's last component included); a link
// at the final name is replaced, never written through. Throws Error naming
// the path and the fix.
void write_file_beneath(const std::string& root, const std::string& rel, const std::string& data,
                        unsigned mode);

}  // namespace hearth
