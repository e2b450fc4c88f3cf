#pragma once
// The ranks' transport (runner/mpi/link.hpp) between threads of one process:
// a hub of N ranks, one FakeLink per rank, so the dispatcher and the workers
// run in a test without mpirun. Faithful to MpiLink where the programs can
// tell: point-to-point, delivered in send order per pair of ranks (here in
// send order overall, one of the orders MPI allows), poll() never blocks, and
// abort() ends every rank: the caller gets FakeAbort, and so does every
// other rank at its next poll() or send(), as MPI_Abort kills them.
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runner/mpi/link.hpp"

namespace hearth::test {

// Not a std::exception: the programs' own catch (const std::exception&)
// must not swallow the end of the job, as they cannot catch MPI_Abort.
struct FakeAbort {
    int code = 0;
};

// One message as it crossed the hub, for tests that check the conversation.
struct Sent {
    int source = 0;
    int dest = 0;
    Tag tag = Tag::hello;
};

class LinkHub {
public:
    explicit LinkHub(int size, std::string host = "fakehost") : m_host(std::move(host)) {
        for (int r = 0; r < size; ++r) m_ranks.push_back(std::make_unique<Rank>(*this, r));
    }
    int size() const { return static_cast<int>(m_ranks.size()); }
    Link& link(int rank) { return *m_ranks.at(static_cast<std::size_t>(rank)); }

    std::optional<int> abort_code() const {
        std::lock_guard<std::mutex> g(m_mutex);
        return m_abort;
    }
    std::vector<Sent> sent() const {
        std::lock_guard<std::mutex> g(m_mutex);
        return m_sent;
    }

private:
    class Rank final : public Link {
    public:
        Rank(LinkHub& hub, int rank) : m_hub(hub), m_rank(rank) {}
        int rank() const override { return m_rank; }
        int size() const override { return m_hub.size(); }
        std::string host() const override { return m_hub.m_host; }
        void send(int dest, Tag tag, std::string data) override {
            std::lock_guard<std::mutex> g(m_hub.m_mutex);
            if (m_hub.m_abort) throw FakeAbort{*m_hub.m_abort};
            // MPI_Isend to a rank outside the world is an error of the program.
            Rank& to = *m_hub.m_ranks.at(static_cast<std::size_t>(dest));
            to.m_inbox.push_back(Message{m_rank, tag, std::move(data)});
            m_hub.m_sent.push_back(Sent{m_rank, dest, tag});
        }
        std::optional<Message> poll() override {
            std::lock_guard<std::mutex> g(m_hub.m_mutex);
            if (m_hub.m_abort) throw FakeAbort{*m_hub.m_abort};
            if (m_inbox.empty()) return std::nullopt;
            Message m = std::move(m_inbox.front());
            m_inbox.pop_front();
            return m;
        }
        // A send is in the receiver's queue when send() returns.
        bool sends_pending() override { return false; }
        void drain_sends() override {}
        [[noreturn]] void abort(int code) override {
            std::lock_guard<std::mutex> g(m_hub.m_mutex);
            if (!m_hub.m_abort) m_hub.m_abort = code;
            throw FakeAbort{code};
        }

    private:
        LinkHub& m_hub;
        int m_rank;
        std::deque<Message> m_inbox;  // guarded by the hub's mutex
    };

    std::string m_host;
    std::vector<std::unique_ptr<Rank>> m_ranks;
    mutable std::mutex m_mutex;
    std::optional<int> m_abort;
    std::vector<Sent> m_sent;
};

}  // namespace hearth::test
