#pragma once
// The thin seam over MPI used by the dispatcher and the workers: tagged byte
// messages, point-to-point only. Sends are non-blocking (buffers kept until
// MPI is done with them) and receives are polled, because a blocking MPI call
// spins a core, and on a 2-core node that core belongs to the tasks.
#include <list>
#include <optional>
#include <string>

#include <mpi.h>

#include "core/protocol.hpp"

namespace hearth {

struct Message {
    int source = 0;
    Tag tag = Tag::hello;
    std::string data;
};

class MpiLink {
public:
    MpiLink(int* argc, char*** argv);
    ~MpiLink();
    MpiLink(const MpiLink&) = delete;
    MpiLink& operator=(const MpiLink&) = delete;

    int rank() const { return m_rank; }
    int size() const { return m_size; }
    void send(int dest, Tag tag, std::string data);
    std::optional<Message> poll();  // one message if any is waiting
    bool sends_pending();           // also advances pending sends
    // Waits politely (sleeping) until every send has been delivered to MPI.
    void drain_sends();
    // Ends the job for every rank: used when the dispatcher cannot go on.
    [[noreturn]] void abort(int code);

private:
    struct Pending {
        MPI_Request request;
        std::string buffer;
    };
    int m_rank = 0;
    int m_size = 1;
    std::list<Pending> m_sends;
};

// Sleeps between polls, doubling from min to max; reset() after any activity
// so a busy loop reacts in microseconds and an idle one costs almost nothing.
class Backoff {
public:
    Backoff(long min_us = 20, long max_us = 2000) : m_min(min_us), m_max(max_us), m_now(min_us) {}
    void reset() { m_now = m_min; }
    long current_us() const { return m_now; }
    void sleep();
    void grow() { m_now = m_now * 2 > m_max ? m_max : m_now * 2; }

private:
    long m_min, m_max, m_now;
};

}  // namespace hearth
