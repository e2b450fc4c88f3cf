// The bank's job with the real pricer: seed blocks of the QuantLib VaR example
// (examples/risk-mc) through hearth and mpirun on 2 worker ranks, merged, equal
// to a single-process run of the same blocks.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "harness.hpp"

using namespace hearth::test;

namespace {

constexpr int k_blocks = 8;
constexpr int k_paths = 2000;

// The example's binaries: <build>/bin/hearth -> <build>/examples/risk-mc/.
fs::path example_bin(const std::string& name) {
    return fs::path(hearth_bin()).parent_path().parent_path() / "examples/risk-mc" / name;
}

// Fails the test (not a skip: the Makefile builds them) when a binary is missing.
fs::path require_bin(const std::string& name) {
    fs::path p = example_bin(name);
    BOOST_REQUIRE_MESSAGE(fs::exists(p),
                          p.string() + " is missing: build it (make, or make risk-mc)");
    return p;
}

// Runs a shell command in cwd; stdout and stderr captured.
Result run_cmd(const std::vector<std::string>& args, const fs::path& cwd) {
    std::string cmd = "cd " + quote(cwd.string()) + " &&";
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " >" + quote((cwd / ".cmd.out").string()) + " 2>" + quote((cwd / ".cmd.err").string()) +
           " </dev/null";
    int st = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(cwd / ".cmd.out");
    r.err = slurp(cwd / ".cmd.err");
    return r;
}

std::string block_name(int b) {
    char name[32];
    std::snprintf(name, sizeof name, "block_%06d.bin", b);
    return name;
}

// The losses of a block file (layout in examples/risk-mc/block_file.hpp).
std::vector<std::int64_t> file_losses(const fs::path& p) {
    std::string data = slurp(p);
    std::uint64_t n = 0;
    BOOST_REQUIRE(data.size() >= 72u);
    std::memcpy(&n, data.data() + 24, 8);
    BOOST_REQUIRE_EQUAL(data.size(), 72u + 8 * n);
    std::vector<std::int64_t> v(n);
    std::memcpy(v.data(), data.data() + 64, 8 * n);
    return v;
}

std::string micro_text(std::int64_t v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%lld.%06lld", v < 0 ? "-" : "",
                  static_cast<long long>((v < 0 ? -v : v) / 1000000),
                  static_cast<long long>((v < 0 ? -v : v) % 1000000));
    return buf;
}

// The figures' raw text in a JSON report (fixed-point decimals, compared as
// text so that no double rounding hides a difference).
std::string raw_field(const std::string& json, const std::string& key) {
    std::string k = "\"" + key + "\":";
    auto at = json.find(k);
    if (at == std::string::npos) return "<no " + key + ">";
    at += k.size();
    return json.substr(at, json.find_first_of(",}", at) - at);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(risk_mc)

BOOST_AUTO_TEST_CASE(two_ranks_merge_equals_a_single_process_run) {
    const fs::path risk_mc = require_bin("risk_mc");
    const fs::path risk_merge = require_bin("risk_merge");
    TempDir t;
    const std::string set = "0-" + std::to_string(k_blocks - 1);
    const std::string paths = std::to_string(k_paths);
    // Two worker ranks of one slot each (plus the dispatcher); two blocks a
    // task, so tasks also write more than one file.
    Result r = run_hearth({"run",
                           "--tenant",
                           "bank",
                           "--seeds",
                           set,
                           "--chunk",
                           "2",
                           "--workers-per-host",
                           "2",
                           "--slots",
                           "1",
                           "--stage",
                           risk_mc.string(),
                           "--collect",
                           "block_*.bin",
                           "--job-dir",
                           "job",
                           "--",
                           "./risk_mc",
                           "--blocks",
                           "{first}-{last}",
                           "--paths",
                           paths},
                          t.path);
    BOOST_TEST_INFO(r.err);
    BOOST_REQUIRE_EQUAL(r.code, 0);

    int node_events = 0;
    for (const auto& e : json_lines(r.out))
        if (e["event"] == "node" && e["state"] == "up") ++node_events;
    BOOST_TEST(node_events == 2);
    std::set<std::uint64_t> done;
    for (const auto& rec : journal(t / "job"))
        if (rec["e"] == "done") BOOST_TEST(done.insert(rec["t"].get<std::uint64_t>()).second);
    BOOST_TEST(done.size() == static_cast<std::size_t>(k_blocks / 2));

    // Every block's file came back, and nothing else.
    std::vector<std::int64_t> all;
    for (int b = 0; b < k_blocks; ++b) {
        BOOST_TEST_CONTEXT(block_name(b)) {
            BOOST_REQUIRE(fs::exists(t / "job/out" / block_name(b)));
            auto v = file_losses(t / "job/out" / block_name(b));
            BOOST_TEST(v.size() == static_cast<std::size_t>(k_paths));
            BOOST_TEST(std::is_sorted(v.begin(), v.end()));
            all.insert(all.end(), v.begin(), v.end());
        }
    }
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(t / "job/out")) files += e.is_regular_file();
    BOOST_TEST(files == static_cast<std::size_t>(k_blocks));

    Result merged =
        run_cmd({risk_merge.string(), "--blocks", set, "--paths", paths, "job/out"}, t.path);
    BOOST_TEST_INFO(merged.err);
    BOOST_REQUIRE_EQUAL(merged.code, 0);
    Result serial =
        run_cmd({risk_mc.string(), "--serial", "--blocks", set, "--paths", paths}, t.path);
    BOOST_TEST_INFO(serial.err);
    BOOST_REQUIRE_EQUAL(serial.code, 0);
    // Fixed-point figures: the reports are equal byte for byte.
    BOOST_TEST(merged.out == serial.out);
    BOOST_TEST(merged.out.find("VaR 99% 1-day") != std::string::npos);

    Result mj = run_cmd({risk_merge.string(), "--blocks", set, "--json", "job/out"}, t.path);
    Result sj = run_cmd({risk_mc.string(), "--serial", "--blocks", set, "--paths", paths, "--json"},
                        t.path);
    BOOST_REQUIRE_EQUAL(mj.code, 0);
    BOOST_REQUIRE_EQUAL(sj.code, 0);
    auto m = nlohmann::json::parse(mj.out), s = nlohmann::json::parse(sj.out);
    BOOST_TEST(m["paths"].get<std::uint64_t>() == std::uint64_t{k_blocks} * k_paths);
    BOOST_TEST(m["block_count"].get<int>() == k_blocks);
    BOOST_TEST(m["paths_per_block"].get<int>() == k_paths);
    for (const char* key : {"paths", "value_today", "mean_loss", "loss_stddev", "var99", "es99"})
        BOOST_TEST(raw_field(mj.out, key) == raw_field(sj.out, key), key);

    // The figures are the stated definitions applied to the blocks' losses:
    // VaR = L(ceil(0.99 N)), ES = mean of the N - m losses above it (0.99 N
    // is whole here), mean rounded to 1e-6; checked on the raw files.
    std::sort(all.begin(), all.end());
    const std::size_t n = all.size(), rank = (99 * n + 99) / 100;
    BOOST_REQUIRE(n == static_cast<std::size_t>(k_blocks) * k_paths && 99 * n % 100 == 0);
    __int128 sum = 0, above = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += all[i];
        if (i >= rank) above += all[i];
    }
    auto rounded = [](__int128 a, __int128 d) {
        __int128 q = a / d, r = a % d;
        if (2 * (r < 0 ? -r : r) >= d) q += a < 0 ? -1 : 1;
        return static_cast<std::int64_t>(q);
    };
    BOOST_TEST(raw_field(mj.out, "var99") == micro_text(all[rank - 1]));
    BOOST_TEST(raw_field(mj.out, "es99") ==
               micro_text(rounded(above, static_cast<__int128>(n - rank))));
    BOOST_TEST(raw_field(mj.out, "mean_loss") ==
               micro_text(rounded(sum, static_cast<__int128>(n))));
    BOOST_TEST(m["es99"].get<double>() >= m["var99"].get<double>());
    BOOST_TEST(m["var99"].get<double>() > 0.0);
}

BOOST_AUTO_TEST_CASE(merge_names_a_missing_or_corrupt_block_and_bad_input_exits_2) {
    const fs::path risk_mc = require_bin("risk_mc");
    const fs::path risk_merge = require_bin("risk_merge");
    TempDir t;
    fs::create_directory(t / "out");
    Result w = run_cmd({risk_mc.string(), "--blocks", "0-2", "--paths", "300", "--out-dir", "out"},
                       t.path);
    BOOST_TEST_INFO(w.err);
    BOOST_REQUIRE_EQUAL(w.code, 0);

    Result missing = run_cmd({risk_merge.string(), "--blocks", "0-3", "out"}, t.path);
    BOOST_TEST(missing.code == 1);
    BOOST_TEST(missing.err.find("block_000003.bin") != std::string::npos, missing.err);
    BOOST_TEST(count_lines(missing.err) == 1u);

    {
        std::string data = slurp(t / "out" / block_name(1));
        data[100] ^= 0x40;
        std::ofstream(t / "out" / block_name(1), std::ios::binary | std::ios::trunc) << data;
    }
    Result corrupt = run_cmd({risk_merge.string(), "--blocks", "0-2", "out"}, t.path);
    BOOST_TEST(corrupt.code == 1);
    BOOST_TEST(corrupt.err.find("block_000001.bin") != std::string::npos, corrupt.err);
    BOOST_TEST(corrupt.err.find("corrupt") != std::string::npos, corrupt.err);

    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{risk_mc.string(), "--blocks", "0-2", "--paths", "10",
                                   "--frobnicate"},
          std::vector<std::string>{risk_mc.string(), "--blocks", "seven", "--paths", "10"},
          std::vector<std::string>{risk_mc.string(), "--blocks", "5-2", "--paths", "10"},
          std::vector<std::string>{risk_merge.string(), "--blocks", "0-2", "--nope", "out"}}) {
        Result r = run_cmd(bad, t.path);
        BOOST_TEST(r.code == 2, bad.back());
        BOOST_TEST(count_lines(r.err) == 1u, r.err);
    }
}

BOOST_AUTO_TEST_SUITE_END()
