#include "runner/mpi/mpi_link.hpp"

#include <cstdlib>
#include <limits>

#include "core/error.hpp"

namespace hearth {

MpiLink::MpiLink(int* argc, char*** argv) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m_size);
}

MpiLink::~MpiLink() {
    drain_sends();
    MPI_Finalize();
}

void MpiLink::send(int dest, Tag tag, std::string data) {
    if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw Error("message of " + std::to_string(data.size()) +
                    " bytes is too large for MPI; collect fewer or smaller files per task");
    m_sends.push_back(Pending{MPI_REQUEST_NULL, std::move(data)});
    auto& p = m_sends.back();
    MPI_Isend(p.buffer.data(), static_cast<int>(p.buffer.size()), MPI_BYTE, dest,
              static_cast<int>(tag), MPI_COMM_WORLD, &p.request);
}

bool MpiLink::sends_pending() {
    for (auto it = m_sends.begin(); it != m_sends.end();) {
        int done = 0;
        MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
        it = done ? m_sends.erase(it) : std::next(it);
    }
    return !m_sends.empty();
}

void MpiLink::drain_sends() {
    Backoff backoff;
    while (sends_pending()) {
        backoff.sleep();
        backoff.grow();
    }
}

std::optional<Message> MpiLink::poll() {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return std::nullopt;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    Message m;
    m.source = st.MPI_SOURCE;
    m.tag = static_cast<Tag>(st.MPI_TAG);
    m.data.resize(static_cast<std::size_t>(count));
    // The message is already matched, so this receive does not wait for a sender.
    MPI_Recv(m.data.data(), count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    return m;
}

std::string MpiLink::host() const {
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_Get_processor_name(name, &len);
    return std::string(name, static_cast<std::size_t>(len));
}

void MpiLink::abort(int code) {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();
}

}  // namespace hearth
