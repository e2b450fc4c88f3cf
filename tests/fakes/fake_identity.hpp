#pragma once
// Fakes of core/task_identity's seams: a user database held in a map, and
// credential calls that act on a recorded process's credentials the way the
// kernel does (an unprivileged uid cannot take another), so tests run
// without real users or root.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/task_identity.hpp"

namespace hearth::test {

class FakeUserDb : public UserDb {
public:
    std::map<std::string, UserEntry> users;
    std::set<uid_t> taken;  // uids in use besides the users'
    void add(const std::string& name, uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
        users[name] = UserEntry{name, uid, gid, std::move(groups)};
    }
    std::optional<UserEntry> by_name(const std::string& name) const override {
        auto it = users.find(name);
        if (it == users.end()) return std::nullopt;
        return it->second;
    }
    bool uid_in_use(uid_t uid) const override {
        if (taken.count(uid)) return true;
        for (const auto& [n, u] : users)
            if (u.uid == uid) return true;
        return false;
    }
};

class FakeIdentityOps : public IdentityOps {
public:
    // The process's credentials; root at first.
    mutable uid_t uid = 0;
    mutable gid_t gid = 0;
    mutable std::vector<gid_t> groups{0};
    mutable std::vector<std::string> calls;
    mutable std::map<std::string, std::pair<uid_t, gid_t>> owners;  // lchown'd paths
    int fail_uid = 0;  // errno set_uid returns (0: works)

    int set_groups(std::size_t n, const gid_t* g) const override {
        calls.push_back("setgroups");
        if (uid != 0) return EPERM;
        groups.assign(g, g + n);
        return 0;
    }
    int set_gid(gid_t g) const override {
        calls.push_back("setgid " + std::to_string(g));
        if (uid != 0) return EPERM;
        gid = g;
        return 0;
    }
    int set_uid(uid_t u) const override {
        calls.push_back("setuid " + std::to_string(u));
        if (fail_uid) return fail_uid;
        if (uid != 0 && u != uid) return EPERM;
        uid = u;
        return 0;
    }
    int change_owner(const char* path, uid_t u, gid_t g) const override {
        owners[path] = {u, g};
        return 0;
    }
};

}  // namespace hearth::test
