// `hearth sim` scenarios through parse_scenario. The scenario names its grid
// file; the target writes a valid and a broken one into a scratch directory
// and refuses inputs with '/' or '\' (no escape can then name a file outside
// it, such as /dev/zero). A scenario that parses must keep its promises to
// the simulator: jobs sorted by arrival, none before the start, the first
// inside the run (a given count may repeat a job past the end, where it never
// arrives: hearth-scenario(5)).
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/scenario.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {

const char* const k_grid = R"(
[[site]]
name = "tank"
kind = "tank"
target = 60
min = 55
max = 70
[site.thermal]
draw = [ { start = "06:30", end = "07:30", watts = 800 } ]
[[site]]
name = "office"
kind = "room"
target = 21
min = 12
max = 26
schedule = "weekdays 07:00-19:00 at 21; otherwise 16"
[[node]]
name = "n1"
site = "tank"
[[node]]
name = "n2"
site = "office"
slots = 8
)";

std::filesystem::path g_dir;

void remove_dir() {
    std::error_code ec;
    std::filesystem::remove_all(g_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hearth-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) __builtin_trap();
    g_dir = tmpl;
    std::atexit(remove_dir);
    std::ofstream(g_dir / "grid.toml") << k_grid;
    std::ofstream(g_dir / "bad.toml") << "[[site]]\nname = \"x\"\n";
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in = fuzz::text(data, size);
    if (in.find_first_of("/\\") != std::string::npos) return 0;
    auto sc = fuzz::parsed([&] { return parse_scenario(in, "fuzz.toml", g_dir.string()); });
    if (!sc) return 0;
    FUZZ_CHECK(sc->duration_s > 0 && sc->duration_s <= 366.0 * 86400);
    FUZZ_CHECK(sc->step_s >= 1 && sc->step_s <= 3600);
    if (sc->outside) FUZZ_CHECK(sc->outside->value >= -50 && sc->outside->value <= 50);
    FUZZ_CHECK(!sc->grid.sites.empty());
    FUZZ_CHECK(sc->jobs.empty() || sc->jobs.front().arrival_s < sc->duration_s);
    for (std::size_t i = 0; i < sc->jobs.size(); ++i) {
        const SimJob& j = sc->jobs[i];
        FUZZ_CHECK(std::isfinite(j.arrival_s) && j.arrival_s >= 0);
        FUZZ_CHECK(i == 0 || sc->jobs[i - 1].arrival_s <= j.arrival_s);
        FUZZ_CHECK(j.tasks >= 1 && j.tasks <= 1'000'000'000);
        FUZZ_CHECK(j.task_s > 0 && j.deadline_s >= 0);
        FUZZ_CHECK(is_safe_name(j.tenant));
    }
    return 0;
}
