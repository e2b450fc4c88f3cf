// The scheduler's wire messages (core/jobs_api, core/site_api): what
// `hearth serve` reads from clients and sites, and what clients and sites
// read back. Input: the first byte picks the message, the rest is its JSON.
// What a reader accepts must survive a round trip unchanged: written by
// to_json and read again, it gives the same JSON.
#include <nlohmann/json.hpp>

#include "core/jobs_api.hpp"
#include "core/site_api.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;
using hearth::fuzz::parsed;

namespace {

template <class Read>
void round_trip(const nlohmann::json& j, Read read) {
    const auto first = parsed([&] { return to_json(read(j)).dump(); });
    if (!first) return;
    const auto again = parsed([&] { return to_json(read(nlohmann::json::parse(*first))).dump(); });
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const nlohmann::json j = nlohmann::json::parse(hearth::fuzz::text(data + 1, size - 1), nullptr, false);
    if (j.is_discarded()) return 0;
    switch (data[0] % 5) {
        case 0: round_trip(j, [](const nlohmann::json& x) { return job_submit_from_json(x); }); break;
        case 1: round_trip(j, [](const nlohmann::json& x) { return work_request_from_json(x); }); break;
        case 2: round_trip(j, [](const nlohmann::json& x) { return work_reply_from_json(x); }); break;
        case 3: round_trip(j, [](const nlohmann::json& x) { return job_info_from_json(x); }); break;
        default: round_trip(j, [](const nlohmann::json& x) { return task_info_from_json(x); }); break;
    }
    return 0;
}
