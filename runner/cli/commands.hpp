#pragma once
// The subcommands of `hearth`, each a thin function over core/ and the
// runner's parts; main() parses the command line and maps errors to exit codes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hearth {

struct RunArgs {
    std::string tenant;
    std::optional<std::string> frames, seeds, count, items;
    std::uint64_t chunk = 1;
    std::optional<std::string> hosts;
    std::optional<std::string> grid;      // a grid file: its nodes are the hosts
    std::optional<std::string> deadline;  // "6h" from now, or a UTC time
    bool urgent = false;
    std::uint32_t slots = 0;
    std::uint32_t workers_per_host = 1;
    std::uint32_t retries = 2;
    std::optional<std::string> timeout;
    std::vector<std::string> stage, collect;
    std::optional<std::string> job_dir;
    std::string name;
    std::int32_t priority = 0;           // with a server: among the tenant's own jobs
    std::optional<std::string> server;   // the scheduler (or HEARTH_SERVER)
    std::optional<std::string> out;      // run --server: where outputs go (./JOBID/out)
    std::optional<std::string> template_name;  // --template: job_template_cli.hpp
    bool json = false;
    bool quiet = false;
    std::vector<std::string> env;             // --env NAME[=VALUE], repeatable
    std::uint32_t cores_per_task = 1;         // --cores-per-task N
    std::optional<std::string> mem_per_task;  // --mem-per-task SIZE
    std::uint32_t gpus_per_task = 0;          // --gpus-per-task N
    std::vector<std::string> command;
};

struct JobsArgs {
    std::optional<std::string> tenant, state, server;
    bool json = false;
};

struct ServeArgs {
    std::string grid;
    std::string state;                      // queue.db and the content store
    std::string listen = "127.0.0.1:9770";  // agents 9750, dashboard 9760, scheduler 9770
    std::string tokens;
    std::string tls_cert, tls_key;
    bool insecure_http = false;
    bool no_auth = false;
    std::string lease =
        "60s";  // a site silent this long loses what it holds (requeued, no retry used)
};

struct EnergyArgs {
    std::string ledger;  // default: HEARTH_LEDGER, else grid-agent's default
    std::vector<std::string> agents;  // agent base URLs: query them instead of a file
    std::optional<std::string> hosts;  // a hostfile: query http://HOST:9750 for each
    std::optional<std::string> grid;   // a grid file: query the agent of each of its nodes
    std::optional<std::string> tenant, job, site, node, since, until;
    std::string by = "tenant";
    std::string format = "table";
};

struct SimArgs {
    std::string scenario;
    std::string policy = "heat-aware";
    bool json = false;
    std::string plot;                     // "" or FILE.svg / FILE.png (runner/cli/cmd_sim.cpp)
    std::vector<std::string> plot_sites;  // --plot-site, repeatable
    std::string plot_data;                // "" or where to keep the plot's data file
};

struct HeatArgs {
    std::string action;  // show | set | schedule | measured
    std::string grid;    // the grid file (hearth-grid(5)): its sites, nodes and their agents
    std::vector<std::string> agents;  // show: also ask these agent URLs
    std::string site;
    std::string value;  // set, measured: TEMP; schedule: SPEC
    std::optional<std::string> until;  // set: a duration from now or a UTC time
    bool json = false;
};

struct NodesArgs {
    std::optional<std::string> grid;
    std::vector<std::string> agents;
    bool json = false;
};

struct DashboardArgs {
    std::string grid;                     // the grid file: its sites, nodes and agents
    std::string listen = "127.0.0.1:9760";  // loopback only: no TLS
    long timeout_ms = 4000;               // per agent request
    std::string dashboard;                // the page's files ("" = next to the executable)
};

struct TokenArgs {
    std::string role;    // tenant:NAME, facility, facility:SITE or operator
    std::string tokens;  // the agents' tokens file (hearth-tokens(5))
    std::string label;
    std::string expires;  // new: a duration from now or a UTC time ("" = never)
    std::string id;       // revoke: a hash prefix (8+ hex digits) or the token itself
    std::string sites;    // new: SITE[,SITE...] the token is for ("" = its role's, or any)
};

struct TlsArgs {
    std::string dir;                 // the CA's directory
    std::vector<std::string> hosts;  // cert: the names and addresses it is for
    std::string name;                // ca: the CA's name; cert: the files' name
};

struct SiteArgs {
    std::string grid;    // the grid file: the site and its nodes
    std::string site;
    std::string server;  // http(s)://HOST:PORT of hearth serve
    std::optional<std::string> token_file, cacert, state, hostfile;
    long timeout_ms = 10000;           // per request to the scheduler
    std::uint64_t max_buffer_mb = 256;  // results kept while the link is down
    bool insecure_http = false;         // allow http:// to a host that is not loopback
};

int cmd_run(const RunArgs& args);
int cmd_site(const SiteArgs& args);
int cmd_site_rank(int argc, char** argv, const std::string& state_dir, const std::string& run);
int cmd_token(const TokenArgs& args);
int cmd_token_revoke(const TokenArgs& args);
int cmd_tls_ca(const TlsArgs& args);
int cmd_tls_cert(const TlsArgs& args);
int cmd_dashboard(const DashboardArgs& args);
int cmd_nodes(const NodesArgs& args);
int cmd_sim(const SimArgs& args);
int cmd_heat(const HeatArgs& args);
int cmd_energy(const EnergyArgs& args);
int cmd_resume(const std::string& job, bool json, bool quiet);
int cmd_status(const std::string& job, bool json);
int cmd_logs(const std::string& job, std::uint64_t task, std::optional<std::uint32_t> attempt);
int cmd_cancel(const std::string& job, bool wait);
int cmd_worker(int argc, char** argv, const std::string& job_dir);

// The scheduler and its clients (hearth-api(7)).
int cmd_serve(const ServeArgs& args);
int cmd_submit(const RunArgs& args);
int cmd_run_remote(const RunArgs& args, const std::string& server);
int cmd_jobs(const JobsArgs& args);
int cmd_fetch(const std::string& job, const std::optional<std::string>& server,
              const std::optional<std::string>& out);
int remote_status(const std::string& server, const std::string& job, bool json);
int remote_logs(const std::string& server, const std::string& job, std::uint64_t task,
                std::optional<std::uint32_t> attempt);
int remote_cancel(const std::string& server, const std::string& job, bool wait);
int remote_resume(const std::string& server, const std::string& job);

}  // namespace hearth
