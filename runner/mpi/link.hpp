#pragma once
// What the dispatchers and the workers need of the ranks' transport: tagged
// byte messages, point-to-point only, ordered per pair of ranks. Sends do not
// block and receives are polled, because a blocking call spins a core, and on
// a 2-core node that core belongs to the tasks. MpiLink carries it over MPI;
// tests/fakes/fake_link.hpp carries it between threads of one process, so
// the MPI program is tested without mpirun.
#include <optional>
#include <string>

#include "core/protocol.hpp"

namespace hearth {

struct Message {
    int source = 0;
    Tag tag = Tag::hello;
    std::string data;
};

class Link {
public:
    virtual ~Link() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // The name of the machine this rank runs on (MPI's processor name).
    virtual std::string host() const = 0;
    virtual void send(int dest, Tag tag, std::string data) = 0;
    virtual std::optional<Message> poll() = 0;  // one message if any is waiting
    virtual bool sends_pending() = 0;           // also advances pending sends
    // Waits politely (sleeping) until every send has been delivered.
    virtual void drain_sends() = 0;
    // Ends the job for every rank: used when the dispatcher cannot go on.
    // Never returns (a fake throws).
    [[noreturn]] virtual void abort(int code) = 0;
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
