#pragma once
// The ranks' transport (runner/mpi/link.hpp) over MPI. Sends are
// non-blocking (buffers kept until MPI is done with them) and receives are
// polled with MPI_Iprobe.
#include <list>
#include <optional>
#include <string>

#include <mpi.h>

#include "runner/mpi/link.hpp"

namespace hearth {

class MpiLink final : public Link {
public:
    MpiLink(int* argc, char*** argv);
    ~MpiLink() override;
    MpiLink(const MpiLink&) = delete;
    MpiLink& operator=(const MpiLink&) = delete;

    int rank() const override { return m_rank; }
    int size() const override { return m_size; }
    std::string host() const override;
    void send(int dest, Tag tag, std::string data) override;
    std::optional<Message> poll() override;
    bool sends_pending() override;
    void drain_sends() override;
    [[noreturn]] void abort(int code) override;

private:
    struct Pending {
        MPI_Request request;
        std::string buffer;
    };
    int m_rank = 0;
    int m_size = 1;
    std::list<Pending> m_sends;
};

}  // namespace hearth
