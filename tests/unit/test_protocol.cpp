#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/protocol.hpp"
#include "core/wire.hpp"

using namespace hearth;

namespace {

// Every byte value, NULs included.
std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
}

void check_blobs(const std::vector<FileBlob>& got, const std::vector<FileBlob>& want) {
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got[i].path == want[i].path);
        BOOST_TEST(got[i].mode == want[i].mode);
        BOOST_TEST(got[i].data.size() == want[i].data.size());
        BOOST_TEST(got[i].data == want[i].data);
    }
}

JobConfig sample_config() {
    JobConfig c;
    c.job = "j-20240611-abcd";
    c.tenant = "studio";
    c.timeout_ms = std::numeric_limits<std::uint64_t>::max();
    c.collect = {"*.png", "", "out/**/frame_????.exr"};
    c.staged = {FileBlob{"scene.blend", 0644, std::string("\0\0BLENDER\0v2\xff\xfe", 14)},
                FileBlob{"bin/render.sh", 0755, "#!/bin/sh\nexec blender \"$@\"\n"},
                FileBlob{"empty", 0600, ""}, FileBlob{"bytes/all", 0444, all_bytes()}};
    c.env = {"SCENE=shot 12", "EMPTY=", "EQ=a=b"};
    c.cores_per_task = 4;
    c.mem_per_task = std::uint64_t{8} << 30;
    c.gpus_per_task = 2;
    return c;
}

Report sample_report() {
    Report r;
    r.want = 7;
    r.mem_available = std::uint64_t{5} << 30;
    Completion ok;
    ok.job = "j-bank-1";
    ok.task = 123456789012345ull;
    ok.attempt = 1;
    ok.status = AttemptStatus::ok;
    ok.wall_ms = 3500;
    ok.log = "line 1\nline 2\r\n" + std::string("\0binary\0", 8);
    ok.outputs = {FileBlob{"frame_0001.png", 0644, std::string("\x89PNG\r\n\x1a\n\0\0", 10)},
                  FileBlob{"frame_0001.txt", 0600, "done\n"}};
    Completion bad;
    bad.job = std::string("j\0two", 5);
    bad.task = 2;
    bad.attempt = 3;
    bad.status = AttemptStatus::signalled;
    bad.exit_code = -9;
    bad.wall_ms = 0;
    bad.reason = "killed by signal 9 (SIGKILL)";
    bad.log = "";
    Completion timed;
    timed.task = 0;
    timed.attempt = std::numeric_limits<std::uint32_t>::max();
    timed.status = AttemptStatus::timed_out;
    timed.exit_code = std::numeric_limits<std::int32_t>::min();
    timed.wall_ms = std::numeric_limits<std::uint64_t>::max();
    timed.reason = "timeout after 1s";
    timed.log = all_bytes();
    timed.overridden = true;
    r.completions = {ok, bad, timed};
    r.heat = HeatReport{true, 3, 8, -1250};
    return r;
}

std::vector<Assignment> sample_tasks() {
    return {
        Assignment{
            0, 1, {"render", "-f", "1", "-o", "out/frame_0001.png"}, "j-studio", false, "1", "1"},
        Assignment{std::numeric_limits<std::uint64_t>::max(), 9, {}, "", true, "", ""},
        Assignment{42,
                   2,
                   {"", "with space", std::string("nul\0inside", 10), "é"},
                   "j-bank",
                   false,
                   "seed 17",
                   "seed 32"}};
}

std::vector<AttemptRef> sample_cancel() {
    return {AttemptRef{"j-studio", 3, 1}, AttemptRef{"", 0, 0},
            AttemptRef{"j-bank", std::numeric_limits<std::uint64_t>::max(),
                       std::numeric_limits<std::uint32_t>::max()}};
}

// Decoders by name, to run the same checks on each.
struct Codec {
    const char* name;
    std::string encoded;
    std::function<void(const std::string&)> decode;
};

std::vector<Codec> codecs() {
    return {
        {"hello", encode(Hello{"host-a", 64}), [](const std::string& b) { decode_hello(b); }},
        {"config", encode(NodeConfig{"node07", 12}),
         [](const std::string& b) { decode_node_config(b); }},
        {"job", encode(sample_config()), [](const std::string& b) { decode_job_config(b); }},
        {"cancel", encode(sample_cancel()), [](const std::string& b) { decode_cancel(b); }},
        {"forget", encode(Forget{"j-studio"}), [](const std::string& b) { decode_forget(b); }},
        {"report", encode(sample_report()), [](const std::string& b) { decode_report(b); }},
        {"tasks", encode(sample_tasks()), [](const std::string& b) { decode_tasks(b); }},
        {"stop", encode(Stop{true}), [](const std::string& b) { decode_stop(b); }},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(wire_integers_are_little_endian_and_strings_length_prefixed) {
    WireWriter w;
    w.u8(0xab);
    w.u32(0x01020304u);
    w.i32(-2);
    w.u64(0x0102030405060708ull);
    w.str(std::string("a\0b", 3));
    const std::string expected = std::string("\xab", 1) + std::string("\x04\x03\x02\x01", 4) +
                                 std::string("\xfe\xff\xff\xff", 4) +
                                 std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8) +
                                 std::string("\x03\0\0\0\0\0\0\0", 8) + std::string("a\0b", 3);
    BOOST_TEST(w.buffer() == expected);
    WireReader r(w.buffer());
    BOOST_TEST(r.u8() == 0xabu);
    BOOST_TEST(r.u32() == 0x01020304u);
    BOOST_TEST(r.i32() == -2);
    BOOST_TEST(r.u64() == 0x0102030405060708ull);
    BOOST_TEST(!r.done());
    BOOST_TEST(r.str() == std::string("a\0b", 3));
    BOOST_TEST(r.done());
    BOOST_CHECK_THROW(r.u8(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(wire_reader_rejects_lengths_beyond_the_buffer) {
    // A huge length must not wrap around the bounds check nor allocate.
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    for (std::uint64_t n : std::vector<std::uint64_t>{max, max - 3, 1ull << 40, 3, 4}) {
        WireWriter w;
        w.u64(n);
        w.u8('x');
        w.u8('y');
        WireReader r(w.buffer());
        BOOST_CHECK_THROW(r.str(), std::runtime_error);
    }
    WireWriter w;
    w.u32(std::numeric_limits<std::uint32_t>::max());  // a string list claiming 4 billion entries
    w.str("one");
    WireReader r(w.buffer());
    BOOST_CHECK_THROW(r.strings(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(wire_string_lists_round_trip) {
    const std::vector<std::string> v = {"", "a", std::string(1000, 'z'), std::string("\0", 1)};
    WireWriter w;
    w.strings(v);
    w.strings({});
    WireReader r(w.buffer());
    BOOST_TEST(r.strings() == v, boost::test_tools::per_element());
    BOOST_TEST(r.strings().empty());
    BOOST_TEST(r.done());
}

BOOST_AUTO_TEST_CASE(hello_round_trips) {
    for (const Hello& h :
         {Hello{"node01.cluster", 48, std::uint64_t{256} << 30, 8}, Hello{"", 0},
          Hello{std::string("h\0st", 4), std::numeric_limits<std::uint32_t>::max()}}) {
        const Hello got = decode_hello(encode(h));
        BOOST_TEST(got.host == h.host);
        BOOST_TEST(got.cores == h.cores);
        BOOST_TEST(got.mem_total == h.mem_total);
        BOOST_TEST(got.gpus == h.gpus);
    }
}

BOOST_AUTO_TEST_CASE(node_config_round_trips) {
    for (const NodeConfig& n : {NodeConfig{"node07", 12, true, 4}, NodeConfig{"", 0},
                                NodeConfig{"pool#2", std::numeric_limits<std::uint32_t>::max()}}) {
        const NodeConfig got = decode_node_config(encode(n));
        BOOST_TEST(got.node == n.node);
        BOOST_TEST(got.slots == n.slots);
        BOOST_TEST(got.slots_are_cores == n.slots_are_cores);
        BOOST_TEST(got.gpus == n.gpus);
    }
}

BOOST_AUTO_TEST_CASE(job_config_round_trips_with_binary_staged_files) {
    const JobConfig c = sample_config();
    const JobConfig got = decode_job_config(encode(c));
    BOOST_TEST(got.job == c.job);
    BOOST_TEST(got.tenant == c.tenant);
    BOOST_TEST(got.timeout_ms == c.timeout_ms);
    BOOST_TEST(got.collect == c.collect, boost::test_tools::per_element());
    check_blobs(got.staged, c.staged);
    BOOST_TEST(got.staged[0].data[0] == '\0');
    BOOST_TEST(got.staged[3].data == all_bytes());
    BOOST_TEST(got.env == c.env, boost::test_tools::per_element());
    BOOST_TEST(got.cores_per_task == 4u);
    BOOST_TEST(got.mem_per_task == std::uint64_t{8} << 30);
    BOOST_TEST(got.gpus_per_task == 2u);
}

BOOST_AUTO_TEST_CASE(empty_job_config_round_trips) {
    const JobConfig got = decode_job_config(encode(JobConfig{}));
    BOOST_TEST(got.job.empty());
    BOOST_TEST(got.tenant.empty());
    BOOST_TEST(got.timeout_ms == 0u);
    BOOST_TEST(got.collect.empty());
    BOOST_TEST(got.staged.empty());
    BOOST_TEST(got.env.empty());
    BOOST_TEST(got.cores_per_task == 1u);
}

BOOST_AUTO_TEST_CASE(report_round_trips_with_outputs_and_logs) {
    const Report r = sample_report();
    const Report got = decode_report(encode(r));
    BOOST_TEST(got.want == r.want);
    BOOST_TEST(got.mem_available == r.mem_available);
    BOOST_TEST_REQUIRE(got.completions.size() == r.completions.size());
    for (std::size_t i = 0; i < r.completions.size(); ++i) {
        BOOST_TEST_CONTEXT("completion " << i) {
            const Completion& a = got.completions[i];
            const Completion& b = r.completions[i];
            BOOST_TEST(a.job == b.job);
            BOOST_TEST(a.task == b.task);
            BOOST_TEST(a.attempt == b.attempt);
            BOOST_TEST((a.status == b.status));
            BOOST_TEST(a.exit_code == b.exit_code);
            BOOST_TEST(a.wall_ms == b.wall_ms);
            BOOST_TEST(a.reason == b.reason);
            BOOST_TEST(a.log == b.log);
            BOOST_TEST(a.overridden == b.overridden);
            check_blobs(a.outputs, b.outputs);
        }
    }
    BOOST_TEST(got.heat.known);
    BOOST_TEST(got.heat.allowed == 3u);
    BOOST_TEST(got.heat.slots == 8u);
    BOOST_TEST(got.heat.waste_mk == -1250);
}

BOOST_AUTO_TEST_CASE(urgent_config_round_trips) {
    JobConfig c;
    c.job = "j";
    c.urgent = true;
    BOOST_TEST(decode_job_config(encode(c)).urgent);
    c.urgent = false;
    BOOST_TEST(!decode_job_config(encode(c)).urgent);
}

BOOST_AUTO_TEST_CASE(report_round_trips_every_status) {
    for (int s = 0; s <= static_cast<int>(AttemptStatus::cancelled); ++s) {
        Report r;
        Completion c;
        c.task = static_cast<std::uint64_t>(s);
        c.status = static_cast<AttemptStatus>(s);
        r.completions.push_back(c);
        const Report got = decode_report(encode(r));
        BOOST_TEST_REQUIRE(got.completions.size() == 1u);
        BOOST_TEST(static_cast<int>(got.completions[0].status) == s);
    }
    const Report empty = decode_report(encode(Report{}));
    BOOST_TEST(empty.want == 0u);
    BOOST_TEST(empty.completions.empty());
}

BOOST_AUTO_TEST_CASE(assignments_round_trip) {
    const auto tasks = sample_tasks();
    const auto got = decode_tasks(encode(tasks));
    BOOST_TEST_REQUIRE(got.size() == tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        BOOST_TEST(got[i].task == tasks[i].task);
        BOOST_TEST(got[i].attempt == tasks[i].attempt);
        BOOST_TEST(got[i].argv == tasks[i].argv, boost::test_tools::per_element());
        BOOST_TEST(got[i].job == tasks[i].job);
        BOOST_TEST(got[i].overridden == tasks[i].overridden);
        BOOST_TEST(got[i].first == tasks[i].first);
        BOOST_TEST(got[i].last == tasks[i].last);
    }
    BOOST_TEST(decode_tasks(encode(std::vector<Assignment>{})).empty());
}

BOOST_AUTO_TEST_CASE(cancel_and_forget_round_trip) {
    const auto refs = sample_cancel();
    const auto got = decode_cancel(encode(refs));
    BOOST_TEST_REQUIRE(got.size() == refs.size());
    for (std::size_t i = 0; i < refs.size(); ++i) {
        BOOST_TEST(got[i].job == refs[i].job);
        BOOST_TEST(got[i].task == refs[i].task);
        BOOST_TEST(got[i].attempt == refs[i].attempt);
    }
    BOOST_TEST(decode_cancel(encode(std::vector<AttemptRef>{})).empty());
    BOOST_TEST(decode_forget(encode(Forget{"j-1"})).job == "j-1");
}

BOOST_AUTO_TEST_CASE(stop_round_trips) {
    BOOST_TEST(decode_stop(encode(Stop{true})).kill_running);
    BOOST_TEST(!decode_stop(encode(Stop{false})).kill_running);
    BOOST_TEST(encode(Stop{false}).size() == 1u);
    BOOST_TEST(decode_stop(std::string("\x07", 1)).kill_running);  // any non-zero byte
}

BOOST_AUTO_TEST_CASE(every_truncated_message_throws) {
    for (const auto& c : codecs()) {
        BOOST_TEST_CONTEXT(c.name) {
            BOOST_TEST_REQUIRE(!c.encoded.empty());
            BOOST_CHECK_NO_THROW(c.decode(c.encoded));
            for (std::size_t n = 0; n < c.encoded.size(); ++n)
                BOOST_CHECK_THROW(c.decode(c.encoded.substr(0, n)), std::runtime_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(trailing_bytes_throw) {
    for (const auto& c : codecs()) {
        BOOST_TEST_CONTEXT(c.name) {
            BOOST_CHECK_THROW(c.decode(c.encoded + '\0'), std::runtime_error);
            BOOST_CHECK_THROW(c.decode(c.encoded + "trailing"), std::runtime_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(out_of_range_attempt_status_throws) {
    Report r;
    r.want = 1;
    Completion c;
    c.task = 5;
    c.status = AttemptStatus::cancelled;
    r.completions = {c};
    std::string buf = encode(r);
    // want (4) + count (4) + task (8) + attempt (4): the status byte.
    const std::size_t at = 20;
    BOOST_TEST_REQUIRE(static_cast<int>(buf[at]) == static_cast<int>(AttemptStatus::cancelled));
    BOOST_CHECK_NO_THROW(decode_report(buf));
    for (int bad : {7, 8, 0x7f, 0x80, 0xff}) {
        buf[at] = static_cast<char>(bad);
        BOOST_CHECK_THROW(decode_report(buf), std::runtime_error);
    }
}

BOOST_AUTO_TEST_CASE(attempt_status_names) {
    BOOST_TEST(std::string(to_string(AttemptStatus::ok)) == "ok");
    BOOST_TEST(std::string(to_string(AttemptStatus::exited)) == "exit");
    BOOST_TEST(std::string(to_string(AttemptStatus::signalled)) == "signal");
    BOOST_TEST(std::string(to_string(AttemptStatus::timed_out)) == "timeout");
    BOOST_TEST(std::string(to_string(AttemptStatus::spawn_failed)) == "spawn");
    BOOST_TEST(std::string(to_string(AttemptStatus::collect_failed)) == "collect");
    BOOST_TEST(std::string(to_string(AttemptStatus::cancelled)) == "cancelled");
}

BOOST_AUTO_TEST_SUITE_END()
