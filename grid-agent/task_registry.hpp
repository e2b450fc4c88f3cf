#pragma once
// The tasks this node's worker registered: registering (the same attempt
// again keeps its id), unregistering (by id, or by the attempt with the
// ledger's figure for one no longer here), dropping those whose process ended
// without an unregister, and saving them in the ledger's state (key "tasks")
// to re-adopt after a restart. Not locked: the agent calls it under its mutex.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/accountant.hpp"
#include "core/ledger.hpp"

namespace hearth {

class TaskRegistry {
public:
    // commit: what the agent does with an interval a registration closed
    // (saves state() with it while dirty()).
    using Commit = std::function<void(const IntervalRecord&)>;
    TaskRegistry(Accountant& acct, const Ledger& ledger, std::shared_ptr<const FsRoot> fs,
                 bool estimated, Commit commit);

    std::uint64_t register_task(const Registration& r);
    // What an unregistered task was charged.
    struct Charged {
        Microjoules energy;
        bool estimated = false;
        bool from_ledger = false;  // the attempt was no longer registered
    };
    // attempt: the attempt the worker names (then id is not used).
    Charged unregister_task(std::uint64_t id, const std::optional<TaskKey>& attempt,
                            std::optional<double> cpu_s);
    // Drops the tasks whose pid is no longer the process registered (gone,
    // or reused).
    void drop_dead_tasks();

    // Re-adopts the tasks the ledger's state saved (call before the first
    // interval closes, so the tasks' CPU and the node's count from one moment).
    void restore();
    // The tasks as the ledger's state keeps them; changed since last saved.
    std::string state() const;
    bool dirty() const { return m_dirty; }
    void saved() { m_dirty = false; }

    // The tasks and their energy so far, as /v1/node shows them.
    nlohmann::json to_json() const;
    std::size_t size() const { return m_acct.tasks().size(); }

private:
    Accountant& m_acct;
    const Ledger& m_ledger;
    std::shared_ptr<const FsRoot> m_fs;
    bool m_estimated;
    Commit m_commit;
    bool m_dirty = false;
};

}  // namespace hearth
