#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/jobspec.hpp"

using hearth::JobSpec;
using hearth::NodeSpec;
using hearth::SplitKind;
using json = nlohmann::json;

namespace {

JobSpec full_spec(SplitKind kind) {
    JobSpec j;
    j.id = "20240611-120000-ab12";
    j.name = "render \"final\" cut";
    j.tenant = "vfx-team";
    j.split = kind;
    j.split_text = kind == SplitKind::items ? "items" : "1-240x2,300";
    j.chunk = 7;
    j.command = {"blender", "-b", "scene.blend", "-f", "{frame}", "", "with space"};
    j.nodes = {NodeSpec{"node01", 16, 2}, NodeSpec{"node02.example.org", 0, {}}};
    j.workers_per_host = 3;
    j.slots = 5;
    j.retries = 4;
    j.timeout_ms = 3600000;
    j.stage = {"scene.blend", "textures.tar"};
    j.collect = {"*.png", "logs/*.txt"};
    j.submitted_ms = 1718100000123;
    j.submit_cwd = "/home/ann/shots/s010";
    j.env = {"SCENE_DIR=/data/s010", "QUALITY=", "ARGS=-x=1"};
    j.cores_per_task = 4;
    j.mem_per_task = std::uint64_t{3} << 30;
    j.gpus_per_task = 1;
    return j;
}

void check_same(const JobSpec& a, const JobSpec& b) {
    BOOST_TEST(a.id == b.id);
    BOOST_TEST(a.name == b.name);
    BOOST_TEST(a.tenant == b.tenant);
    BOOST_TEST((a.split == b.split));
    BOOST_TEST(a.split_text == b.split_text);
    BOOST_TEST(a.chunk == b.chunk);
    BOOST_TEST(a.command == b.command, boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(a.nodes.size() == b.nodes.size());
    for (std::size_t i = 0; i < a.nodes.size(); ++i) {
        BOOST_TEST(a.nodes[i].host == b.nodes[i].host);
        BOOST_TEST(a.nodes[i].slots == b.nodes[i].slots);
        BOOST_TEST((a.nodes[i].gpus == b.nodes[i].gpus));
    }
    BOOST_TEST(a.workers_per_host == b.workers_per_host);
    BOOST_TEST(a.slots == b.slots);
    BOOST_TEST(a.retries == b.retries);
    BOOST_TEST(a.timeout_ms == b.timeout_ms);
    BOOST_TEST(a.stage == b.stage, boost::test_tools::per_element());
    BOOST_TEST(a.collect == b.collect, boost::test_tools::per_element());
    BOOST_TEST(a.submitted_ms == b.submitted_ms);
    BOOST_TEST(a.submit_cwd == b.submit_cwd);
    BOOST_TEST(a.env == b.env, boost::test_tools::per_element());
    BOOST_TEST(a.cores_per_task == b.cores_per_task);
    BOOST_TEST(a.mem_per_task == b.mem_per_task);
    BOOST_TEST(a.gpus_per_task == b.gpus_per_task);
}

auto mentions_job_json(std::string also = "") {
    return [also](const hearth::Error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("message: " << what);
        return what.find("job.json") != std::string::npos && what.find(also) != std::string::npos;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jobspec)

BOOST_AUTO_TEST_CASE(split_kind_names) {
    BOOST_TEST(std::string(hearth::to_string(SplitKind::frames)) == "frames");
    BOOST_TEST(std::string(hearth::to_string(SplitKind::seeds)) == "seeds");
    BOOST_TEST(std::string(hearth::to_string(SplitKind::count)) == "count");
    BOOST_TEST(std::string(hearth::to_string(SplitKind::items)) == "items");
}

BOOST_AUTO_TEST_CASE(fully_populated_spec_round_trips_for_every_split_kind) {
    for (SplitKind kind :
         {SplitKind::frames, SplitKind::seeds, SplitKind::count, SplitKind::items}) {
        BOOST_TEST_CONTEXT("split " << hearth::to_string(kind)) {
            const JobSpec spec = full_spec(kind);
            const json j = hearth::to_json(spec);
            BOOST_TEST(j.at("split").get<std::string>() == hearth::to_string(kind));
            check_same(hearth::job_from_json(j), spec);
            // Through the text form too, as written to and read from disk.
            check_same(hearth::job_from_json(json::parse(j.dump(2))), spec);
        }
    }
}

BOOST_AUTO_TEST_CASE(to_json_writes_every_field) {
    const json j = hearth::to_json(full_spec(SplitKind::frames));
    for (const char* key :
         {"id",      "name",    "tenant",           "split",        "split_text",    "chunk",
          "command", "nodes",   "workers_per_host", "slots",        "retries",       "timeout_ms",
          "stage",   "collect", "submitted_ms",     "submit_cwd",   "deadline_ms",   "urgent",
          "slurm",   "env",     "cores_per_task",   "mem_per_task", "gpus_per_task", "user"})
        BOOST_TEST(j.contains(key), key);
    BOOST_TEST(j.size() == 24u);
    BOOST_TEST(j.at("nodes").is_array());
    BOOST_TEST(j.at("nodes").at(0).at("host").get<std::string>() == "node01");
    BOOST_TEST(j.at("nodes").at(0).at("slots").get<int>() == 16);
    BOOST_TEST(j.at("nodes").at(0).at("gpus").get<int>() == 2);
    BOOST_TEST(!j.at("nodes").at(1).contains("gpus"));  // unset: the node's agent says
    BOOST_TEST(j.at("chunk").get<int>() == 7);
}

BOOST_AUTO_TEST_CASE(extreme_values_and_empty_lists_round_trip) {
    JobSpec spec = full_spec(SplitKind::seeds);
    spec.chunk = std::uint64_t{1} << 62;
    spec.timeout_ms = std::uint64_t{1} << 50;
    spec.slots = 4096;
    spec.retries = 0;
    spec.submitted_ms = std::numeric_limits<std::int64_t>::min();
    spec.nodes.clear();
    spec.stage.clear();
    spec.collect.clear();
    spec.name = "";
    spec.command = {"x"};
    check_same(hearth::job_from_json(json::parse(hearth::to_json(spec).dump())), spec);
}

BOOST_AUTO_TEST_CASE(out_of_range_numbers_are_refused_not_wrapped) {
    const json good = hearth::to_json(full_spec(SplitKind::count));
    const std::vector<std::pair<const char*, json>> bad_values = {
        {"chunk", -1},    {"chunk", 0},          {"chunk", 1.5},          {"retries", -1.5},
        {"retries", 101}, {"slots", 4097},       {"workers_per_host", 0}, {"timeout_ms", -5},
        {"chunk", "3"},   {"cores_per_task", 0}, {"cores_per_task", 1025}};
    for (const auto& [key, value] : bad_values) {
        BOOST_TEST_CONTEXT(key << " = " << value.dump()) {
            json bad = good;
            bad[key] = value;
            BOOST_CHECK_EXCEPTION(hearth::job_from_json(bad), hearth::Error, mentions_job_json());
        }
    }
}

BOOST_AUTO_TEST_CASE(deadline_and_urgent_round_trip_and_default_when_absent) {
    JobSpec spec = full_spec(SplitKind::count);
    spec.deadline_ms = 1'795'000'000'123;
    spec.urgent = true;
    const JobSpec back = hearth::job_from_json(json::parse(hearth::to_json(spec).dump()));
    BOOST_TEST(back.deadline_ms == spec.deadline_ms);
    BOOST_TEST(back.urgent);
    json old = hearth::to_json(spec);
    old.erase("deadline_ms");
    old.erase("urgent");
    const JobSpec legacy = hearth::job_from_json(old);
    BOOST_TEST(legacy.deadline_ms == 0);
    BOOST_TEST(!legacy.urgent);
}

BOOST_AUTO_TEST_CASE(the_slurm_flag_round_trips_and_defaults_to_false) {
    JobSpec spec = full_spec(SplitKind::count);
    spec.slurm = true;
    BOOST_TEST(hearth::job_from_json(hearth::to_json(spec)).slurm);
    json old = hearth::to_json(spec);
    old.erase("slurm");
    BOOST_TEST(!hearth::job_from_json(old).slurm);
}

BOOST_AUTO_TEST_CASE(env_and_cores_default_when_absent_and_a_bad_env_is_refused) {
    json old = hearth::to_json(full_spec(SplitKind::count));
    old.erase("env");
    old.erase("cores_per_task");
    const JobSpec legacy = hearth::job_from_json(old);
    BOOST_TEST(legacy.env.empty());
    BOOST_TEST(legacy.cores_per_task == 1u);
    json bad = hearth::to_json(full_spec(SplitKind::count));
    bad["env"] = json::array({"HEARTH_TOKEN=stolen"});
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(bad), hearth::Error,
                          mentions_job_json("HEARTH_TOKEN"));
}

BOOST_AUTO_TEST_CASE(a_missing_field_throws_mentioning_job_json) {
    const json good = hearth::to_json(full_spec(SplitKind::count));
    for (const auto& [key, value] : good.items()) {
        // Jobs written before heat-aware dispatch have no deadline, and
        // before Slurm support no slurm flag: optional.
        if (key == "deadline_ms" || key == "urgent" || key == "slurm") continue;
        // Before tenants' users, no user.
        if (key == "user") continue;
        // Nor a task environment of its own.
        if (key == "env" || key == "cores_per_task" || key == "mem_per_task") continue;
        // Nor GPUs.
        if (key == "gpus_per_task") continue;
        BOOST_TEST_CONTEXT("without " << key) {
            json bad = good;
            bad.erase(key);
            BOOST_CHECK_EXCEPTION(hearth::job_from_json(bad), hearth::Error, mentions_job_json());
        }
    }
    json bad = good;
    bad["nodes"][1].erase("host");
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(bad), hearth::Error, mentions_job_json());
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(json::object()), hearth::Error,
                          mentions_job_json());
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(json::array()), hearth::Error, mentions_job_json());
}

BOOST_AUTO_TEST_CASE(a_bad_split_kind_throws) {
    for (const char* kind : {"chunks", "", "Frames", "lines"}) {
        json j = hearth::to_json(full_spec(SplitKind::frames));
        j["split"] = kind;
        BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error,
                              mentions_job_json("unknown split '" + std::string(kind) + "'"));
    }
    json j = hearth::to_json(full_spec(SplitKind::frames));
    j["split"] = 2;
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error, mentions_job_json());
}

BOOST_AUTO_TEST_CASE(chunk_zero_empty_command_or_no_workers_throw) {
    json j = hearth::to_json(full_spec(SplitKind::frames));
    j["chunk"] = 0;
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error, mentions_job_json("chunk"));
    j = hearth::to_json(full_spec(SplitKind::frames));
    j["command"] = json::array();
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error, mentions_job_json());
    j = hearth::to_json(full_spec(SplitKind::frames));
    j["workers_per_host"] = 0;
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error, mentions_job_json());
}

BOOST_AUTO_TEST_CASE(a_field_of_the_wrong_type_throws) {
    const json good = hearth::to_json(full_spec(SplitKind::frames));
    const std::vector<std::pair<std::string, json>> bad_values = {{"chunk", "7"},
                                                                  {"id", 5},
                                                                  {"command", "blender -b"},
                                                                  {"retries", "two"},
                                                                  {"stage", {1, 2}},
                                                                  {"submitted_ms", "yesterday"},
                                                                  {"nodes", 3},
                                                                  {"slots", json(nullptr)}};
    for (const auto& [key, value] : bad_values) {
        BOOST_TEST_CONTEXT(key << " = " << value.dump()) {
            json j = good;
            j[key] = value;
            BOOST_CHECK_EXCEPTION(hearth::job_from_json(j), hearth::Error, mentions_job_json());
        }
    }
}

BOOST_AUTO_TEST_CASE(gpus_are_optional_and_bounded) {
    json j = hearth::to_json(full_spec(SplitKind::count));
    j.erase("gpus_per_task");
    j["nodes"][0].erase("gpus");
    const JobSpec old = hearth::job_from_json(j);  // a job written before GPU tasks
    BOOST_TEST(old.gpus_per_task == 0u);
    BOOST_TEST(!old.nodes[0].gpus.has_value());
    for (const json& bad :
         {json(-1), json(1.5), json("1"), json(hearth::k_max_gpus_per_task + 1)}) {
        BOOST_TEST_CONTEXT("gpus_per_task = " << bad.dump()) {
            json b = hearth::to_json(full_spec(SplitKind::count));
            b["gpus_per_task"] = bad;
            BOOST_CHECK_EXCEPTION(hearth::job_from_json(b), hearth::Error,
                                  mentions_job_json("'gpus_per_task' must be a whole number"));
        }
    }
    json b = hearth::to_json(full_spec(SplitKind::count));
    b["nodes"][0]["gpus"] = hearth::k_max_node_gpus + 1;
    BOOST_CHECK_EXCEPTION(hearth::job_from_json(b), hearth::Error,
                          mentions_job_json("'gpus' must be a whole number"));
    b["nodes"][0]["gpus"] = 0u;  // said: none (not the agent's count)
    BOOST_TEST((hearth::job_from_json(b).nodes[0].gpus == std::optional<std::uint32_t>(0)));
}

BOOST_AUTO_TEST_SUITE_END()
