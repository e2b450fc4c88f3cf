#include "core/task_identity.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace hearth {

std::optional<UserEntry> UserDb::by_name(const std::string& name) const {
    passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
        return std::nullopt;
    UserEntry e{pw.pw_name, pw.pw_uid, pw.pw_gid, {}};
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) n = 0;
    }
    groups.resize(static_cast<std::size_t>(n));
    e.groups = std::move(groups);
    return e;
}

bool UserDb::uid_in_use(uid_t uid) const {
    passwd pw{}, *found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return true;
    return ::access(("/run/systemd/dynamic-uid/" + std::to_string(uid)).c_str(), F_OK) == 0;
}

DynamicUidRange parse_uid_range(const std::string& text, DynamicUidRange base) {
    const auto dash = text.find('-');
    auto number = [&](std::string_view s, uid_t& out) {
        auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
    };
    uid_t first = 0, last = 0;
    if (dash == std::string::npos || !number(std::string_view(text).substr(0, dash), first) ||
        !number(std::string_view(text).substr(dash + 1), last) || first < 1000 || last < first ||
        last >= 0x7fffffff)
        throw usage_error("bad task uid range '" + text +
                          "' (HEARTH_TASK_UIDS): give FIRST-LAST, unused uids of 1000 or more, "
                          "such as 61184-65519");
    base.first = first;
    base.last = last;
    return base;
}

namespace {

std::optional<std::string> read_small(const fs::path& p) {
    std::ifstream in(p);
    if (!in) return std::nullopt;
    std::string s;
    std::getline(in, s);
    return s;
}

// Creates p holding text, only if it does not exist yet.
bool create_exclusive(const fs::path& p, const std::string& text) {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) ::unlink(p.c_str());
    return ok;
}

}  // namespace

uid_t dynamic_uid(const DynamicUidRange& range, const UserDb& db, const std::string& tenant) {
    std::error_code ec;
    fs::create_directories(range.dir, ec);
    if (ec || ::chmod(range.dir.c_str(), 0700) != 0)
        throw Error("cannot keep the tenants' uids in " + range.dir + ": " +
                    (ec ? ec.message() : std::strerror(errno)));
    const fs::path mine = fs::path(range.dir) / ("tenant-" + tenant);
    auto known = [&]() -> std::optional<uid_t> {
        auto s = read_small(mine);
        uid_t u = 0;
        if (s && std::from_chars(s->data(), s->data() + s->size(), u).ec == std::errc()) return u;
        return std::nullopt;
    };
    if (auto u = known()) return *u;
    // Start where the tenant's name hashes to, so a tenant tends to get the
    // same uid on every node (files it leaves in shared storage stay its own).
    const std::uint64_t span = static_cast<std::uint64_t>(range.last - range.first) + 1;
    const std::uint64_t start = std::hash<std::string>{}(tenant) % span;
    for (std::uint64_t i = 0; i < span; ++i) {
        const uid_t uid = static_cast<uid_t>(range.first + (start + i) % span);
        if (db.uid_in_use(uid)) continue;
        const fs::path claim = fs::path(range.dir) / ("uid-" + std::to_string(uid));
        if (!create_exclusive(claim, tenant)) continue;  // another tenant's
        if (create_exclusive(mine, std::to_string(uid))) return uid;
        // Another worker gave this tenant a uid meanwhile: that one holds.
        ::unlink(claim.c_str());
        if (auto u = known()) return *u;
        throw Error("cannot record tenant " + tenant + "'s uid in " + range.dir);
    }
    throw Error("every uid of " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                " is taken; give HEARTH_TASK_UIDS a larger range, or the tenants users of their "
                "own (user = in the grid file)");
}

TaskIdentity resolve_task_identity(const UserDb& db, const DynamicUidRange& range,
                                   uid_t worker_euid, const std::string& tenant,
                                   const std::string& user) {
    TaskIdentity id;
    if (worker_euid != 0) {
        // Nothing to switch to: the task runs as the worker.
        id.uid = worker_euid;
        id.gid = ::getegid();
        return id;
    }
    id.separate = true;
    if (!user.empty()) {
        auto e = db.by_name(user);
        if (!e)
            throw Error("no user '" + user + "' on this node for tenant " + tenant +
                        "'s tasks; create it (useradd --system --no-create-home " + user +
                        ") or fix the grid file's user");
        if (e->uid == 0 || e->gid == 0)
            throw Error("user '" + user + "' of tenant " + tenant +
                        " is root or in group root; tasks never run as root: give the tenant an "
                        "unprivileged user");
        id.uid = e->uid;
        id.gid = e->gid;
        for (gid_t g : e->groups)
            if (g != 0) id.groups.push_back(g);  // never root's group, whatever /etc/group says
        id.user = user;
        return id;
    }
    id.uid = dynamic_uid(range, db, tenant);
    id.gid = static_cast<gid_t>(id.uid);
    id.user = "dynamic uid " + std::to_string(id.uid);
    return id;
}

std::string not_separated_note(uid_t worker_euid) {
    if (worker_euid == 0) return "";
    return "tasks run as uid " + std::to_string(worker_euid) +
           ", the worker's own: tenants are not separated on this node (switching a task to its "
           "tenant's user needs root; see hearth-api(7) SECURITY MODEL)";
}

int IdentityOps::set_groups(std::size_t n, const gid_t* groups) const {
    return ::syscall(SYS_setgroups, n, groups) == 0 ? 0 : errno;
}
int IdentityOps::set_gid(gid_t gid) const {
    return ::syscall(SYS_setresgid, gid, gid, gid) == 0 ? 0 : errno;
}
int IdentityOps::set_uid(uid_t uid) const {
    return ::syscall(SYS_setresuid, uid, uid, uid) == 0 ? 0 : errno;
}
int IdentityOps::change_owner(const char* path, uid_t uid, gid_t gid) const {
    return ::lchown(path, uid, gid) == 0 ? 0 : errno;
}

int enter_task_identity(const TaskIdentity& id, const IdentityOps& ops) {
    if (!id.separate) return 0;
    if (id.uid == 0 || id.gid == 0) return EPERM;  // never root, whatever was resolved
    // Groups first, then the gid, then the uid: after the uid the others
    // can no longer change.
    if (int e = ops.set_groups(id.groups.size(), id.groups.data())) return e;
    if (int e = ops.set_gid(id.gid)) return e;
    if (int e = ops.set_uid(id.uid)) return e;
    // A uid that could become root again was not dropped.
    if (ops.set_uid(0) == 0) return EPERM;
    return 0;
}

void give_tree(const std::string& path, const TaskIdentity& id, const IdentityOps& ops) {
    if (!id.separate) return;
    auto give = [&](const fs::path& p) {
        if (int e = ops.change_owner(p.c_str(), id.uid, id.gid))
            throw Error("cannot give " + p.string() + " to " + id.user + ": " + std::strerror(e));
    };
    give(path);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        give(it->path());
    if (ec) throw Error("cannot give " + path + " to " + id.user + ": " + ec.message());
}

}  // namespace hearth
