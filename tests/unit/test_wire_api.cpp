// The scheduler's wire messages (core/jobs_api, core/site_api): every field
// survives a round trip, and hostile or malformed bodies are refused with a
// usage error naming the field.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "core/jobs_api.hpp"
#include "core/json_fields.hpp"
#include "core/site_api.hpp"
#include "support.hpp"

using namespace hearth;
using hearth::test::usage_mentioning;
using json = nlohmann::json;

namespace {

const std::string k_sha(64, 'a');

JobSubmit full_submit() {
    JobSubmit s;
    s.tenant = "bank";
    s.name = "var-eod";
    s.split = SplitKind::seeds;
    s.split_text = "0-9999";
    s.chunk = 10;
    s.command = {"./risk", "{first}", "{last}", "with space", ""};
    s.retries = 5;
    s.timeout_ms = 90000;
    s.stage = {BlobRef{"book.csv", k_sha, 0600, 1234}};
    s.collect = {"part_*.csv"};
    s.deadline_ms = 1'900'000'000'000;
    s.urgent = true;
    s.priority = -7;
    s.env = {"QL_CURVE=eur", "EMPTY="};
    s.cores_per_task = 4;
    s.mem_per_task = std::uint64_t{6} << 30;
    s.gpus_per_task = 2;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wire_api)

BOOST_AUTO_TEST_CASE(job_submit_round_trips) {
    const JobSubmit a = full_submit();
    const JobSubmit b = job_submit_from_json(json::parse(to_json(a).dump()));
    BOOST_TEST(b.tenant == a.tenant);
    BOOST_TEST(b.name == a.name);
    BOOST_TEST(static_cast<int>(b.split) == static_cast<int>(a.split));
    BOOST_TEST(b.split_text == a.split_text);
    BOOST_TEST(b.chunk == a.chunk);
    BOOST_TEST(b.command == a.command);
    BOOST_TEST(b.retries == a.retries);
    BOOST_TEST(b.timeout_ms == a.timeout_ms);
    BOOST_TEST_REQUIRE(b.stage.size() == 1u);
    BOOST_TEST(b.stage[0].name == "book.csv");
    BOOST_TEST(b.stage[0].mode == 0600u);
    BOOST_TEST(b.stage[0].size == 1234u);
    BOOST_TEST(b.collect == a.collect);
    BOOST_TEST(b.deadline_ms == a.deadline_ms);
    BOOST_TEST(b.urgent);
    BOOST_TEST(b.priority == -7);
    BOOST_TEST(b.env == a.env);
    BOOST_TEST(b.cores_per_task == 4u);
    BOOST_TEST(b.mem_per_task == std::uint64_t{6} << 30);
    BOOST_TEST(b.gpus_per_task == 2u);
    // A job stored before the fields existed reads as one core, no memory need.
    json old = to_json(a);
    old.erase("cores_per_task");
    old.erase("mem_per_task");
    old.erase("gpus_per_task");
    const JobSubmit c = job_submit_from_json(old);
    BOOST_TEST(c.gpus_per_task == 0u);
    BOOST_TEST(c.cores_per_task == 1u);
    BOOST_TEST(c.mem_per_task == 0u);
}

BOOST_AUTO_TEST_CASE(job_submit_refusals_name_the_field) {
    auto refused = [](json j, const std::string& needle) {
        BOOST_TEST_INFO("body: " << j.dump());
        BOOST_CHECK_EXCEPTION(job_submit_from_json(j), Error, usage_mentioning(needle));
    };
    json ok = to_json(full_submit());
    json j = ok;
    j["priority"] = 5000;
    refused(j, "'priority'");
    j = ok;
    j["chunk"] = 0;
    refused(j, "'chunk'");
    j = ok;
    j["chunk"] = -1;
    refused(j, "'chunk'");
    j = ok;
    j["retries"] = 1.5;
    refused(j, "'retries'");
    j = ok;
    j["tenant"] = "../etc";
    refused(j, "'tenant'");
    j = ok;
    j["split"] = "lines";
    refused(j, "'split'");
    j = ok;
    j["command"] = json::array();
    refused(j, "'command'");
    j = ok;
    j["command"] = {1, 2};
    refused(j, "'command'");
    j = ok;
    j["surprise"] = true;
    refused(j, "unknown field 'surprise'");
    j = ok;
    j["stage"][0]["name"] = "../x";
    refused(j, "'name'");
    j = ok;
    j["stage"][0]["sha256"] = "ABC";
    refused(j, "'sha256'");
    j = ok;
    j["split"] = "items";
    refused(j, "items_sha256");
    j = ok;
    j["deadline_ms"] = "tomorrow";
    refused(j, "'deadline_ms'");
    j = ok;
    j["env"] = {"HEARTH_TOKEN=x"};
    refused(j, "Hearth sets HEARTH_TOKEN");
    j = ok;
    j["env"] = {"NOVALUE"};
    refused(j, "NAME=VALUE");
    j = ok;
    j["cores_per_task"] = 0u;
    refused(j, "'cores_per_task'");
    j = ok;
    j["cores_per_task"] = 5000u;
    refused(j, "'cores_per_task'");
    j = ok;
    j["mem_per_task"] = -1;
    refused(j, "'mem_per_task'");
    for (const json& bad : {json(-1), json(65u), json(1.5), json("1")}) {
        j = ok;
        j["gpus_per_task"] = bad;
        refused(j, "'gpus_per_task'");
    }
    BOOST_CHECK_EXCEPTION(job_submit_from_json(json::array()), Error, usage_mentioning("JSON object"));
}

BOOST_AUTO_TEST_CASE(json_bodies_are_bounded_and_finite) {
    BOOST_CHECK_EXCEPTION(parse_json_object(std::string(2000, ' '), "job", 1000), Error,
                          usage_mentioning("over 1000 bytes"));
    BOOST_CHECK_EXCEPTION(parse_json_object("{\"x\": NaN}", "job", 1000), Error,
                          usage_mentioning("not valid JSON"));
    BOOST_CHECK_EXCEPTION(parse_json_object("[1]", "job", 1000), Error, usage_mentioning("JSON object"));
    BOOST_TEST(parse_json_object("{\"x\":1}", "job", 1000).at("x") == 1);
}

BOOST_AUTO_TEST_CASE(job_info_round_trips_and_keeps_state_names) {
    JobInfo i;
    i.id = "j-20261206-ab12";
    i.tenant = "studio";
    i.name = "shot-12";
    i.state = JobState::cancelled;
    i.total = 100;
    i.committed = 40;
    i.failed = 2;
    i.running = 4;
    i.energy_uj = 123456789;
    i.energy_estimated = true;
    const json j = to_json(i);
    BOOST_TEST(j.at("state") == "cancelled");
    const JobInfo b = job_info_from_json(j);
    BOOST_TEST(b.id == i.id);
    BOOST_TEST(to_string(b.state) == std::string("cancelled"));
    BOOST_TEST(b.committed == 40u);
    BOOST_TEST(b.energy_uj == 123456789u);
    BOOST_TEST(b.energy_estimated);
    for (auto s : {"queued", "running", "finished", "failed", "cancelled"})
        BOOST_TEST(to_string(parse_job_state(s)) == std::string(s));
    BOOST_CHECK_EXCEPTION(parse_job_state("done"), Error, usage_mentioning("queued, running"));
}

BOOST_AUTO_TEST_CASE(work_request_round_trips) {
    WorkRequest r;
    r.site = "pool";
    r.run = "run-3";
    NodeReport n;
    n.node = "pool-n1";
    n.host = "198.18.0.2";
    n.slots = 2;
    n.running = 1;
    n.want = 1;
    n.heat = HeatReport{true, 1, 2, -1500};
    n.mem_total = std::uint64_t{16} << 30;
    n.mem_available = std::uint64_t{9} << 30;
    n.gpus = 2;
    r.nodes.push_back(n);
    NodeReport quiet;  // memory not reported: not sent
    quiet.node = "pool-n2";
    BOOST_TEST(!to_json(quiet).contains("mem_total"));
    BOOST_TEST(!to_json(quiet).contains("gpus"));  // an older site
    r.nodes.push_back(quiet);
    AttemptResult x;
    x.key = AttemptKey{"j1", 7, 2};
    x.node = "pool-n1";
    x.status = AttemptStatus::timed_out;
    x.exit_code = 9;
    x.wall_ms = 1500;
    x.reason = "timed out";
    x.log = std::string("line\n\0binary", 12);
    x.outputs = {BlobRef{"out/frame_0007.png", k_sha, 0644, 10}};
    x.energy_state = EnergyState::measured;
    x.energy_uj = 42;
    x.overridden = true;
    r.results.push_back(x);
    r.held = {AttemptKey{"j1", 8, 1}};
    r.lost = {AttemptKey{"j2", 0, 1}};
    const WorkRequest b = work_request_from_json(json::parse(to_json(r).dump()));
    BOOST_TEST(b.site == "pool");
    BOOST_TEST(b.run == "run-3");
    BOOST_TEST_REQUIRE(b.nodes.size() == 2u);
    BOOST_TEST(b.nodes[0].heat.known);
    BOOST_TEST(b.nodes[0].mem_total == std::uint64_t{16} << 30);
    BOOST_TEST(b.nodes[0].mem_available == std::uint64_t{9} << 30);
    BOOST_TEST(b.nodes[1].mem_total == 0u);
    BOOST_TEST((b.nodes[0].gpus == std::optional<std::uint32_t>(2)));
    BOOST_TEST(!b.nodes[1].gpus.has_value());
    BOOST_TEST(b.nodes[0].heat.waste_mk == -1500);
    BOOST_TEST_REQUIRE(b.results.size() == 1u);
    BOOST_TEST((b.results[0].key == x.key));
    BOOST_TEST(static_cast<int>(b.results[0].status) == static_cast<int>(AttemptStatus::timed_out));
    BOOST_TEST(b.results[0].log == x.log);
    BOOST_TEST(b.results[0].outputs.at(0).name == "out/frame_0007.png");
    BOOST_TEST(b.results[0].energy_uj == 42u);
    BOOST_TEST(b.results[0].overridden);
    BOOST_TEST((b.held.at(0) == AttemptKey{"j1", 8, 1}));
    BOOST_TEST((b.lost.at(0) == AttemptKey{"j2", 0, 1}));
}

BOOST_AUTO_TEST_CASE(work_request_refusals) {
    const json ok = json::parse(R"({"site": "pool", "results": [{"job": "j1", "task": 1, "attempt": 1, "status": 0}]})");
    BOOST_TEST(work_request_from_json(ok).results.size() == 1u);
    json j = ok;
    j["results"][0]["status"] = 99;
    BOOST_CHECK_EXCEPTION(work_request_from_json(j), Error, usage_mentioning("'status'"));
    j = ok;
    j["results"][0]["outputs"] = json::array({json{{"name", "../../etc/passwd"}, {"sha256", k_sha}}});
    BOOST_CHECK_EXCEPTION(work_request_from_json(j), Error, usage_mentioning("'name'"));
    j = ok;
    j["results"][0]["attempt"] = 0;
    BOOST_CHECK_EXCEPTION(work_request_from_json(j), Error, usage_mentioning("'attempt'"));
    j = ok;
    j["site"] = "";
    BOOST_CHECK_EXCEPTION(work_request_from_json(j), Error, usage_mentioning("'site'"));
}

BOOST_AUTO_TEST_CASE(work_reply_round_trips) {
    WorkReply r;
    r.lease_ms = 60000;
    r.jobs = {JobRuntime{"j1",
                         "bank",
                         5000,
                         {"*.csv"},
                         {BlobRef{"in.txt", k_sha, 0644, 3}},
                         true,
                         {"CURVE=eur 2026"},
                         2,
                         std::uint64_t{3} << 30,
                         1}};
    r.tasks = {
        TaskGrant{AttemptKey{"j1", 3, 1}, "pool-n1", {"./risk", "30", "39"}, true, "30", "39"}};
    r.cancel = {AttemptKey{"j0", 1, 4}};
    r.acked = 12;
    const WorkReply b = work_reply_from_json(json::parse(to_json(r).dump()));
    BOOST_TEST(b.lease_ms == 60000);
    BOOST_TEST(b.jobs.at(0).tenant == "bank");
    BOOST_TEST(b.jobs.at(0).urgent);
    BOOST_TEST(b.jobs.at(0).stage.at(0).name == "in.txt");
    BOOST_TEST(b.tasks.at(0).argv == (std::vector<std::string>{"./risk", "30", "39"}));
    BOOST_TEST(b.tasks.at(0).overridden);
    BOOST_TEST(b.tasks.at(0).first == "30");
    BOOST_TEST(b.tasks.at(0).last == "39");
    BOOST_TEST(b.jobs.at(0).env == (std::vector<std::string>{"CURVE=eur 2026"}));
    BOOST_TEST(b.jobs.at(0).cores_per_task == 2u);
    BOOST_TEST(b.jobs.at(0).mem_per_task == std::uint64_t{3} << 30);
    BOOST_TEST(b.jobs.at(0).gpus_per_task == 1u);
    BOOST_TEST(!to_json(JobRuntime{}).contains("gpus_per_task"));
    // The defaults are left out: a site older than the fields reads the reply.
    BOOST_TEST(!to_json(JobRuntime{}).contains("cores_per_task"));
    BOOST_TEST(!to_json(JobRuntime{}).contains("mem_per_task"));
    BOOST_TEST((b.cancel.at(0) == AttemptKey{"j0", 1, 4}));
    BOOST_TEST(b.acked == 12u);
}

BOOST_AUTO_TEST_CASE(work_reply_text_is_what_dump_writes) {
    // The scheduler writes its replies without the JSON tree: the bytes must
    // be those of to_json(r).dump(), escapes and UTF-8 included.
    WorkReply r;
    BOOST_TEST(work_reply_text(r) == to_json(r).dump());
    r.lease_ms = 60000;
    r.acked = 4294967295u;
    r.jobs = {JobRuntime{"j1", "bank", 5000, {"*.csv"}, {BlobRef{"in.txt", k_sha, 0644, 3}}, true,
                         {"CURVE=eur \"2026\""}},
              JobRuntime{"j2", "studio", 0, {}, {}, false, {}}};
    r.tasks = {TaskGrant{AttemptKey{"j1", 3, 1}, "pool-n1", {"./risk", "30", "39"}, true, "30", "39"},
               TaskGrant{AttemptKey{"j2", std::uint64_t{1} << 62, 1u << 20},
                         "n2",
                         {"sh", "-c", "echo \"a\\b\"\t\n\x01 caf\xc3\xa9 \xe2\x82\xac", ""},
                         false,
                         "f\xc3\xa9",
                         ""}};
    r.cancel = {AttemptKey{"j0", 1, 4}, AttemptKey{"j0", 2, 1}};
    const std::string text = work_reply_text(r);
    BOOST_TEST(text == to_json(r).dump());
    BOOST_TEST(work_reply_from_json(json::parse(text)).tasks.at(1).argv.at(2) ==
               r.tasks[1].argv[2]);
    // Not UTF-8: refused as dump() refuses it, not sent as broken JSON.
    r.tasks[0].argv[0] = "\xff";
    BOOST_CHECK_THROW(work_reply_text(r), json::exception);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_named_with_the_valid_ones) {
    json j = json::parse(
        R"({"site": "pool", "results": [{"job": "j1", "task": 1, "attempt": 1, "status": 0, "bogus": 2}]})");
    BOOST_CHECK_EXCEPTION(
        work_request_from_json(j), Error,
        usage_mentioning("unknown field 'bogus' in the attempt result; valid fields: attempt, "
                         "energy_state, energy_uj, exit, job, log, node, outputs, overridden, "
                         "reason, status, task, wall_ms"));
}

BOOST_AUTO_TEST_SUITE_END()
