#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "plugins/energy/nvml.hpp"
#include "plugins/energy/select.hpp"
#include "tests/fakes/fake_fs.hpp"
#include "tests/fakes/fake_nvml.hpp"

using hearth::test::FakeNvml;
using hearth::test::FakeNvmlState;

namespace {

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nvml)

BOOST_AUTO_TEST_CASE(gpu_counters_are_summed_in_microjoules_and_resumed) {
    FakeNvmlState s;
    s.energy = {1'000'000, 2'000'000};  // mJ since the driver loaded
    auto api = std::make_unique<FakeNvml>(s);
    auto p = hearth::probe_nvml(*api);
    BOOST_TEST(p.available);
    BOOST_TEST(contains(p.detail, "2 GPUs, 3000.0 J since the driver loaded (GPUs only"), p.detail);
    auto clock = std::make_shared<hearth::ManualClock>();
    hearth::NvmlSource src(std::move(api), clock);
    BOOST_TEST(src.meter() == "GPU 0, GPU 1");
    BOOST_TEST(src.read().total.value == 0u);
    s.energy = {1'000'250, 2'000'100};
    BOOST_TEST(src.read().total.value == 350'000u);
    const auto cp = src.checkpoint();
    BOOST_TEST(cp == "gpu0=1000250;gpu1=2000100");
    // A new agent resumes from the checkpoint: the energy used meanwhile counts.
    s.energy = {1'001'250, 2'000'100};
    hearth::NvmlSource again(std::make_unique<FakeNvml>(s), clock);
    again.resume(cp, 5.0);
    BOOST_TEST(again.read().total.value == 1'000'000u);
}

BOOST_AUTO_TEST_CASE(failed_reads_and_a_reloaded_driver_lose_nothing_and_count_nothing_twice) {
    FakeNvmlState s;
    s.energy = {5000};
    hearth::NvmlSource src(std::make_unique<FakeNvml>(s), std::make_shared<hearth::ManualClock>());
    src.read();
    s.failing[0] = "GPU is lost";
    s.energy = {6000};
    auto r = src.read();
    BOOST_TEST(r.total.value == 0u);
    BOOST_REQUIRE_EQUAL(r.warnings.size(), 1u);
    BOOST_TEST(contains(r.warnings[0], "nvml GPU 0: GPU is lost; skipped this interval"),
               r.warnings[0]);
    s.failing.clear();
    s.energy = {7000};
    BOOST_TEST(src.read().total.value == 2'000'000u);  // the failed interval too
    s.energy = {100};                                  // the driver reloaded
    r = src.read();
    BOOST_TEST(r.total.value == 2'000'000u);
    BOOST_TEST(contains(r.warnings.at(0), "driver reloaded"), r.warnings.at(0));
    s.energy = {600};
    BOOST_TEST(src.read().total.value == 2'500'000u);
}

BOOST_AUTO_TEST_CASE(unavailable_gpus_say_why) {
    FakeNvmlState s;
    s.init_error = "no NVIDIA driver (libnvidia-ml.so.1: cannot open shared object file)";
    FakeNvml none(s);
    auto p = hearth::probe_nvml(none);
    BOOST_TEST(!p.available);
    BOOST_TEST(p.detail == s.init_error);
    s.init_error.clear();
    s.energy = {std::nullopt};
    FakeNvml old_gpu(s);
    p = hearth::probe_nvml(old_gpu);
    BOOST_TEST(!p.available);
    BOOST_TEST(contains(p.detail, "GPU 0: Not Supported (energy counters need a Volta"), p.detail);
    BOOST_CHECK_THROW(
        hearth::NvmlSource(std::make_unique<FakeNvml>(s), std::make_shared<hearth::ManualClock>()),
        hearth::Error);
}

// The real seam, compiled and probed here: no NVIDIA driver on this machine
// (nor on CI) gives the reason; `auto` never takes GPUs alone for the node.
BOOST_AUTO_TEST_CASE(the_real_library_says_no_driver_and_auto_falls_back) {
    auto real = hearth::make_real_nvml();
    auto p = hearth::probe_nvml(*real);
    if (p.available) {
        BOOST_TEST_MESSAGE("an NVIDIA driver is present: " << p.detail);
        return;
    }
    BOOST_TEST(contains(p.detail, "no NVIDIA driver"), p.detail);
    auto fs = std::make_shared<hearth::test::FakeFs>();
    fs->write("/proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n");
    FakeNvmlState s;
    s.energy = {1000};
    auto c = hearth::choose_energy_source("auto", fs, std::make_shared<hearth::ManualClock>(),
                                          nullptr, {}, std::make_unique<FakeNvml>(s));
    BOOST_TEST(c.source->name() == "model");  // even with a GPU that reads
    BOOST_TEST(contains(c.summary, "nvml: not needed"), c.summary);
    BOOST_CHECK_EXCEPTION(
        hearth::choose_energy_source("nvml", fs, std::make_shared<hearth::ManualClock>(), nullptr,
                                     {}, hearth::make_real_nvml()),
        hearth::Error, [](const hearth::Error& e) {
            return contains(e.what(), "energy source 'nvml' is unavailable: no NVIDIA driver") &&
                   contains(e.what(), "use --energy auto or model");
        });
}

BOOST_AUTO_TEST_SUITE_END()
