// hearth energy: who used how much energy, from a ledger file or from the
// agents' HTTP APIs.
#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/agent_bodies.hpp"
#include "core/error.hpp"
#include "core/grid.hpp"
#include "core/hostlist.hpp"
#include "core/ledger.hpp"
#include "core/utc_time.hpp"
#include "runner/cli/commands.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/clients/http_client.hpp"

namespace hearth {
namespace {

// The agents' APIs count time in milliseconds, so a bare number is one.
std::int64_t parse_time(const std::string& text, const char* option) {
    try {
        return parse_utc_ms(text, EpochNumbers::milliseconds);
    } catch (const Error& e) {
        throw usage_error(std::string("bad ") + option + ": " + e.what());
    }
}

std::vector<EnergyRow> query_agent(const std::string& base, const EnergyQuery& q) {
    std::string url = base + "/v1/energy?by=" + url_escape(q.by);
    auto add = [&](const char* k, const std::optional<std::string>& v) {
        if (v) url += std::string("&") + k + "=" + url_escape(*v);
    };
    add("tenant", q.tenant);
    add("job", q.job);
    add("site", q.site);
    add("node", q.node);
    if (q.since_ms) url += "&since_ms=" + std::to_string(*q.since_ms);
    if (q.until_ms) url += "&until_ms=" + std::to_string(*q.until_ms);
    HttpReply reply = http_request(url, std::nullopt, 10000);
    if (!reply.answered())
        throw Error("cannot reach grid-agent at " + base + ": " + reply.failure +
                    "; check the URL and that the agent listens there", ExitCode::no_grid);
    const std::string& body = reply.body;
    const long status = reply.status;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(body);
    } catch (const std::exception&) {
        throw Error("grid-agent at " + base + " did not answer JSON (HTTP " +
                    std::to_string(status) + ")", ExitCode::no_grid);
    }
    const std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                                ? j["error"].get<std::string>()
                                : "HTTP " + std::to_string(status);
    if (status == 401 || status == 403)
        throw usage_error(refusal_message(base, status, why,
                                          q.tenant ? "a token of tenant '" + *q.tenant + "' or an operator token"
                                                   : "a tenant or operator token",
                                          client_credentials()));
    if (status != 200) throw Error("grid-agent at " + base + ": " + why);
    std::vector<EnergyRow> rows;
    try {
        if (!j.is_object() || !j.contains("rows") || !j["rows"].is_array())
            throw usage_error("no \"rows\" array");
        for (const auto& r : j["rows"]) rows.push_back(energy_row_from_json(r));
    } catch (const Error& e) {
        throw Error("grid-agent at " + base + " answered an energy report hearth cannot read (" +
                        e.what() + "); upgrade hearth or the agent so that they match",
                    ExitCode::no_grid);
    }
    return rows;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
}

}  // namespace

int cmd_energy(const EnergyArgs& a) {
    EnergyQuery q;
    q.tenant = a.tenant;
    q.job = a.job;
    q.site = a.site;
    q.node = a.node;
    q.by = a.by;
    if (a.since) q.since_ms = parse_time(*a.since, "--since");
    if (a.until) q.until_ms = parse_time(*a.until, "--until");
    if (a.format != "table" && a.format != "csv" && a.format != "json")
        throw usage_error("bad --format '" + a.format + "': use table, csv or json");
    static const std::set<std::string> bys = {"tenant", "job", "site", "node", "day"};
    if (!bys.count(q.by))
        throw usage_error("bad --by '" + q.by + "': use tenant, job, site, node or day");

    std::vector<std::string> agents = a.agents;
    if (a.grid)
        for (const auto& n : load_grid(*a.grid).nodes) agents.push_back(n.agent);
    if (a.hosts) {
        std::ifstream in(*a.hosts);
        if (!in)
            throw usage_error("cannot read hostfile '" + *a.hosts + "'; give an Open MPI hostfile");
        std::stringstream text;
        text << in.rdbuf();
        // Each host's agent on its default port (the same hostfile as hearth run's).
        for (const auto& h : parse_hostfile(text.str(), *a.hosts))
            agents.push_back("http://" + h.name + ":9750");
    }
    std::map<std::string, EnergyRow> merged;
    auto merge = [&](const std::vector<EnergyRow>& rows) {
        for (const auto& r : rows) {
            auto& m = merged[r.key];
            m.key = r.key;
            m.energy += r.energy;
            m.static_part += r.static_part;
            m.seconds += r.seconds;
            m.estimated = m.estimated || r.estimated;
            m.estimated_part += r.estimated_part;
            for (const auto& src : r.sources)
                if (std::find(m.sources.begin(), m.sources.end(), src) == m.sources.end())
                    m.sources.push_back(src);
            std::sort(m.sources.begin(), m.sources.end());
        }
    };
    if (agents.empty()) {
        Ledger ledger(a.ledger, true);
        merge(ledger.query(q));
    } else {
        client_credentials();  // an unusable token file stops here, with exit 2
        for (const auto& url : agents) merge(query_agent(url, q));
    }
    std::uint64_t total = 0, estimated_total = 0;
    bool any_estimated = false;
    std::set<std::string> sources;
    for (const auto& [k, r] : merged) {
        total += r.energy.value;
        estimated_total += r.estimated_part.value;
        any_estimated = any_estimated || r.estimated;
        sources.insert(r.sources.begin(), r.sources.end());
    }
    const std::uint64_t measured_total = total - std::min(total, estimated_total);
    auto joined = [](const auto& names, const char* sep) {
        std::string out;
        for (const auto& n : names) out += (out.empty() ? "" : sep) + n;
        return out;
    };
    auto share = [&](const EnergyRow& r) {
        return total ? 100.0 * static_cast<double>(r.energy.value) / static_cast<double>(total) : 0.0;
    };
    auto mean_w = [](const EnergyRow& r) { return r.seconds > 0 ? r.energy.joules() / r.seconds : 0.0; };
    if (a.format == "json") {
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& [k, r] : merged)
            rows.push_back(
                {{a.by, k},
                 {"kwh", r.energy.kwh()},
                 {"energy_uj", r.energy.value},
                 {"static_uj", r.static_part.value},
                 {"mean_w", mean_w(r)},
                 {"share", share(r) / 100.0},
                 {"estimated", r.estimated},
                 {"measured_uj", r.energy.value - std::min(r.energy.value, r.estimated_part.value)},
                 {"estimated_uj", r.estimated_part.value},
                 {"sources", r.sources}});
        std::cout << nlohmann::json{{"by", a.by},
                                    {"rows", rows},
                                    {"total_uj", total},
                                    {"measured_uj", measured_total},
                                    {"estimated_uj", estimated_total},
                                    {"sources", sources}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    if (a.format == "csv") {
        std::cout << a.by
                  << ",kwh,energy_uj,static_uj,mean_w,share,estimated,estimated_uj,sources\n";
        for (const auto& [k, r] : merged)
            std::cout << csv_field(k) << "," << std::setprecision(9) << r.energy.kwh() << ","
                      << r.energy.value << "," << r.static_part.value << "," << mean_w(r) << ","
                      << share(r) / 100.0 << "," << (r.estimated ? "true" : "false") << ","
                      << r.estimated_part.value << "," << csv_field(joined(r.sources, " ")) << "\n";
        return 0;
    }
    std::cout << std::left << std::setw(24) << a.by << std::right << std::setw(14) << "kWh"
              << std::setw(12) << "mean W" << std::setw(9) << "share" << "\n";
    for (const auto& [k, r] : merged)
        std::cout << std::left << std::setw(24) << (k + (r.estimated ? " *" : "")) << std::right
                  << std::fixed << std::setprecision(6) << std::setw(14) << r.energy.kwh()
                  << std::setprecision(1) << std::setw(12) << mean_w(r) << std::setw(8)
                  << share(r) << "%\n";
    std::cout << std::left << std::setw(24) << "total" << std::right << std::setprecision(6)
              << std::setw(14) << static_cast<double>(total) / 3.6e12 << "\n";
    if (any_estimated) std::cout << "* estimated from a power model, not measured\n";
    if (total > 0) {
        std::cout << std::setprecision(1) << "measured "
                  << 100.0 * static_cast<double>(measured_total) / static_cast<double>(total)
                  << "%, estimated "
                  << 100.0 * static_cast<double>(total - measured_total) /
                         static_cast<double>(total)
                  << "%";
        if (!sources.empty())
            std::cout << (sources.size() > 1 ? " (sources: " : " (source: ")
                      << joined(sources, ", ") << ")";
        std::cout << "\n";
    }
    return 0;
}

}  // namespace hearth
