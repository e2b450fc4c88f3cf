// Job journals through read_journal and JournalTail::poll, the readers of
// `hearth status`, `hearth logs`, `hearth resume` and the supervisor's live
// view. The input is the journal file (a memfd, read by its /proc path).
// A journal that reads must end its valid part on a newline, never hold a
// task both committed and failed, and the live reader must see the same
// records as the full read.
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/journal.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {
int g_fd = -1;
std::string g_path;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_fd = ::memfd_create("hearth-fuzz-journal", 0);
    if (g_fd < 0) __builtin_trap();
    g_path = "/proc/self/fd/" + std::to_string(g_fd);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(g_fd, 0) != 0 ||
        ::pwrite(g_fd, data, size, 0) != static_cast<ssize_t>(size))
        __builtin_trap();

    std::vector<nlohmann::json> records;
    auto state = fuzz::parsed(
        [&] { return read_journal(g_path, [&](const nlohmann::json& r) { records.push_back(r); }); });

    std::vector<nlohmann::json> tailed;
    JournalTail tail(g_path, 0);
    fuzz::parsed([&] {
        tail.poll([&](const nlohmann::json& r) { tailed.push_back(r); });
        return 0;
    });

    if (!state) return 0;
    std::size_t newlines = 0;
    for (std::size_t i = 0; i < size; ++i) newlines += data[i] == '\n';
    FUZZ_CHECK(state->valid_bytes <= size && state->valid_lines <= newlines);
    FUZZ_CHECK(state->valid_bytes == 0 || data[state->valid_bytes - 1] == '\n');
    FUZZ_CHECK(records.size() <= state->valid_lines);
    for (std::uint64_t t : state->failed) FUZZ_CHECK(!state->committed.contains(t));
    for (const auto& [t, a] : state->attempts) FUZZ_CHECK(!state->committed.contains(t));
    FUZZ_CHECK(tailed == records);
    return 0;
}
