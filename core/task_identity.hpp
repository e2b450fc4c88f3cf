#pragma once
// Which Unix user a tenant's tasks run as on this node, and becoming it in
// the task's process before exec (hearth-api(7) SECURITY MODEL). When the
// worker runs as root, each tenant's tasks run as an unprivileged user of
// their own: the grid file's `user = "hearth-bank"`, or else a uid allocated
// for the tenant from a range, as systemd's DynamicUser does; never root and
// never the worker's own uid. Without root there is nothing to switch to:
// the tasks run as the worker, and the worker says so once.
//
// The user database, the allocation directory and the credential system
// calls are seams (UserDb, a directory path, IdentityOps), so tests run
// without real users or root.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace hearth {

struct UserEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups (getgrouplist)
};

// The system's user database (getpwnam_r, getpwuid_r, getgrouplist).
class UserDb {
public:
    virtual ~UserDb() = default;
    virtual std::optional<UserEntry> by_name(const std::string& name) const;
    // Whether anything already uses uid (a passwd entry, or systemd's own
    // dynamic users, which it records under /run/systemd/dynamic-uid).
    virtual bool uid_in_use(uid_t uid) const;
};

// The uids tenants without a user of their own get, one per tenant on this
// node, recorded as files in dir (created 0700): "uid-N" holds the tenant
// that has uid N, "tenant-NAME" the uid of tenant NAME. Files made with
// O_EXCL, so two workers on one node never hand one uid to two tenants.
struct DynamicUidRange {
    uid_t first = 61184, last = 65519;  // systemd's DynamicUser range
    std::string dir = "/run/hearth/dynamic-uid";
};
// "FIRST-LAST" (HEARTH_TASK_UIDS); usage_error naming the fix when bad.
DynamicUidRange parse_uid_range(const std::string& text, DynamicUidRange base = {});
// The tenant's uid, allocated on first use. Error when the range is full.
uid_t dynamic_uid(const DynamicUidRange& range, const UserDb& db, const std::string& tenant);

struct TaskIdentity {
    bool separate = false;  // false: the task runs as the worker (no root)
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    std::string user;  // for messages: "hearth-bank" or "dynamic uid 61200"
};

// tenant, user: the job's tenant and its grid file user ("" when none).
// worker_euid: the worker's effective uid. Throws Error (a one-line reason,
// the attempt's spawn failure) when the user does not exist or is root.
TaskIdentity resolve_task_identity(const UserDb& db, const DynamicUidRange& range,
                                   uid_t worker_euid, const std::string& tenant,
                                   const std::string& user);

// Why tasks are not separated, for the worker's one line; "" when they are.
std::string not_separated_note(uid_t worker_euid);

// The credential system calls, for the child between fork and exec: raw
// system calls, which change only the calling process (glibc's wrappers
// would signal every thread of a multi-threaded parent).
class IdentityOps {
public:
    virtual ~IdentityOps() = default;
    virtual int set_groups(std::size_t n, const gid_t* groups) const;  // 0 or errno
    virtual int set_gid(gid_t gid) const;
    virtual int set_uid(uid_t uid) const;
    virtual int change_owner(const char* path, uid_t uid, gid_t gid) const;  // lchown
};

// In the child before exec: drops to the identity (groups, then gid, then
// uid) and checks it cannot come back. 0, or the errno of the step that
// failed. Async-signal-safe: no allocation.
int enter_task_identity(const TaskIdentity& id, const IdentityOps& ops);

// Gives path and everything under it (not following symlinks) to the
// identity, for the task's scratch directory. Error naming the file.
void give_tree(const std::string& path, const TaskIdentity& id, const IdentityOps& ops);

}  // namespace hearth
