// hearth: the command users run. Parses the command line (CLI11), runs one
// subcommand, and turns errors into a one-line message and an exit code.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "core/error.hpp"
#include "runner/cli/commands.hpp"
#include "runner/cli/job_template_cli.hpp"
#include "runner/cli/run_options.hpp"
#include "runner/clients/credentials.hpp"
#include "runner/clients/server_client.hpp"

namespace {

void add_output_flags(CLI::App* sub, bool& json, bool& quiet) {
    sub->add_flag("--json", json, "JSON Lines events on stdout (the default when stdout is not a terminal)");
    sub->add_flag("--quiet", quiet, "no progress bar nor summary on stderr");
}

}  // namespace

int main(int argc, char** argv) {
    // mpirun starts us as the MPI program; MPI_Init wants the untouched argv.
    if (argc >= 3 && std::string(argv[1]) == "worker") {
        try {
            return hearth::cmd_worker(argc, argv, argv[2]);
        } catch (const std::exception& e) {
            std::cerr << "hearth worker: " << e.what() << "\n";
            return 4;
        }
    }

    // `hearth site`'s MPI program (hidden): hearth site-rank STATE_DIR RUN.
    if (argc >= 4 && std::string(argv[1]) == "site-rank") {
        try {
            return hearth::cmd_site_rank(argc, argv, argv[2], argv[3]);
        } catch (const std::exception& e) {
            std::cerr << "hearth site-rank: " << e.what() << "\n";
            return 4;
        }
    }

    CLI::App app{"hearth: a thermally-aware MPI job runner for in-house grids"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "hearth 0.1");

    hearth::RunArgs run;
    std::string job;
    bool json = false, quiet = false, wait = false;
    std::uint64_t task = 0;
    std::optional<std::uint32_t> attempt;

    auto* r = app.add_subcommand("run", "split a job into tasks and run them across the grid");
    hearth::add_job_options(r, run);
    hearth::add_local_options(r, run);
    r->add_option("--out", run.out, "with a server: where the outputs go (default ./JOBID/out)");
    add_output_flags(r, run.json, run.quiet);

    hearth::RunArgs submit;
    auto* sub = app.add_subcommand("submit", "send a job to the scheduler, print its id and return");
    hearth::add_job_options(sub, submit);
    sub->add_flag("--json", submit.json, "print the job as one JSON object, not its id alone");

    hearth::JobsArgs jobs;
    auto* jo = app.add_subcommand("jobs", "list the jobs the scheduler holds that your token may see");
    jo->add_option("--tenant", jobs.tenant, "only this tenant's (an operator's choice)");
    jo->add_option("--state", jobs.state, "only jobs in this state: queued, running, finished, failed, cancelled");
    jo->add_option("--server", jobs.server, "the scheduler's URL (or HEARTH_SERVER)");
    jo->add_flag("--json", jobs.json, "one JSON object");

    std::optional<std::string> server, out;
    auto* fe = app.add_subcommand("fetch", "download a job's outputs from the scheduler, byte for byte");
    fe->add_option("job", job, "job id")->required();
    fe->add_option("--out", out, "where they go (default ./JOBID/out)");
    fe->add_option("--server", server, "the scheduler's URL (or HEARTH_SERVER)");

    hearth::ServeArgs serve;
    auto* sv = app.add_subcommand("serve", "run the grid's scheduler: the queue of every tenant's jobs and its REST API");
    sv->add_option("--grid", serve.grid, "grid file (hearth-grid(5)): the sites, nodes and tenants")->required();
    sv->add_option("--state", serve.state, "state directory: the queue (SQLite) and the content store")->required();
    sv->add_option("--listen", serve.listen, "HOST:PORT to serve on (default 127.0.0.1:9770)");
    sv->add_option("--tokens", serve.tokens, "tokens file (hearth-tokens(5)), mode 0640 or stricter");
    sv->add_option("--tls-cert", serve.tls_cert, "PEM certificate: serve HTTPS");
    sv->add_option("--tls-key", serve.tls_key, "PEM private key of --tls-cert");
    sv->add_flag("--insecure-http", serve.insecure_http, "allow plain HTTP on a non-loopback address (warned)");
    sv->add_flag("--no-auth", serve.no_auth, "loopback only: serve without tokens (tests, demos)");
    sv->add_option("--lease", serve.lease,
                   "how long a silent site keeps its tasks before they are requeued elsewhere, "
                   "from 1s to 24h (default 60s)");

    auto* res = app.add_subcommand("resume", "run what a job has not committed yet");
    res->add_option("job", job, "job directory or id")->required();
    add_output_flags(res, json, quiet);
    res->add_option("--server", server, "the scheduler's URL (or HEARTH_SERVER): resume the job there");

    auto* st = app.add_subcommand("status", "show where a job stands");
    st->add_option("job", job, "job directory or id")->required();
    st->add_flag("--json", json, "one JSON object");
    st->add_option("--server", server, "the scheduler's URL (or HEARTH_SERVER): ask it");

    auto* lg = app.add_subcommand("logs", "print a task's output (stdout and stderr)");
    lg->add_option("job", job, "job directory or id")->required();
    lg->add_option("task", task, "task index")->required();
    lg->add_option("--attempt", attempt, "only this attempt");
    lg->add_option("--server", server, "the scheduler's URL (or HEARTH_SERVER): ask it");

    auto* ca = app.add_subcommand("cancel", "stop a running job (resume continues it)");
    ca->add_option("job", job, "job directory or id")->required();
    ca->add_flag("--wait", wait, "wait until the job has stopped");
    ca->add_option("--server", server, "the scheduler's URL (or HEARTH_SERVER): cancel the job there");

    // Words after "--" are the task's command and reach it untouched: CLI11
    // would otherwise read a word such as "[" as the start of a list.
    std::vector<std::string> after_dashes;
    bool has_dashes = false;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--") {
            has_dashes = true;
            after_dashes.assign(argv + i + 1, argv + argc);
            argc = i;
            break;
        }
    }
    hearth::EnergyArgs energy;
    {
        const char* l = std::getenv("HEARTH_LEDGER");
        energy.ledger = l && *l ? l : "/var/lib/hearth/ledger.db";
    }
    auto* en = app.add_subcommand("energy", "report energy by tenant, job, site, node or day");
    en->add_option("--ledger", energy.ledger, "ledger file (default HEARTH_LEDGER or /var/lib/hearth/ledger.db)");
    en->add_option("--agent", energy.agents, "query this grid-agent URL instead (repeatable)");
    en->add_option("--hosts", energy.hosts, "query the grid-agent of every host of this hostfile");
    en->add_option("--grid", energy.grid, "query the grid-agent of every node of this grid file");
    en->add_option("--tenant", energy.tenant, "only this tenant");
    en->add_option("--job", energy.job, "only this job");
    en->add_option("--site", energy.site, "only this site");
    en->add_option("--node", energy.node, "only this node");
    en->add_option("--since", energy.since, "from this UTC time (2026-11-22, 2026-11-22T06:00:00Z, an offset such as +01:00)");
    en->add_option("--until", energy.until, "until this UTC time");
    en->add_option("--by", energy.by, "group by tenant, job, site, node or day (default tenant)");
    en->add_option("--format", energy.format, "table, csv or json (default table)");

    hearth::NodesArgs nodes;
    auto* no = app.add_subcommand("nodes", "list the grid's nodes as their agents see them now");
    no->add_option("--grid", nodes.grid, "grid file (hearth-grid(5)): ask the agent of each node");
    no->add_option("--agent", nodes.agents, "also ask this grid-agent URL (repeatable)");
    no->add_flag("--json", nodes.json, "one JSON object");

    hearth::SimArgs sim;
    auto* si = app.add_subcommand("sim", "run heat controllers and dispatch on a scenario in virtual time");
    si->add_option("scenario", sim.scenario, "scenario file (hearth-scenario(5))")->required();
    si->add_option("--policy", sim.policy, "heat-aware, unaware, or both to compare (default heat-aware)");
    si->add_flag("--json", sim.json, "one JSON object per policy");
    si->add_option("--plot", sim.plot, "also draw each site's temperature, power and starved hours to FILE.svg or FILE.png");
    si->add_option("--plot-site", sim.plot_sites, "draw this site (repeatable, at most 12; default the grid's first 6)")
        ->allow_extra_args(false);  // one site a --plot-site: the scenario after it stays the scenario
    si->add_option("--plot-data", sim.plot_data, "also write the plot's data (tab-separated) to this file");

    hearth::HeatArgs heat;
    auto* he = app.add_subcommand("heat", "show and set the sites' heat targets through their agents");
    he->require_subcommand(1);
    auto* hs = he->add_subcommand("show", "per site: target, measured, mode, power, heat delivered, alarms");
    hs->add_option("--grid", heat.grid, "grid file (hearth-grid(5)): ask the agents of its nodes");
    hs->add_option("--agent", heat.agents, "also ask this grid-agent URL (repeatable)");
    hs->add_flag("--json", heat.json, "one JSON object");
    hs->callback([&] { heat.action = "show"; });
    auto* hset = he->add_subcommand("set", "set a site's target on every agent of the site");
    hset->add_option("site", heat.site, "the site")->required();
    hset->add_option("temp", heat.value, "the target, degrees C, within the site's bounds")->required();
    hset->add_option("--until", heat.until, "until then (2h, or 2026-11-22T18:00:00Z), then the schedule");
    hset->add_option("--grid", heat.grid, "grid file (hearth-grid(5))")->required();
    hset->callback([&] { heat.action = "set"; });
    auto* hsc = he->add_subcommand("schedule", "set a site's target schedule on every agent of the site");
    hsc->add_option("site", heat.site, "the site")->required();
    hsc->add_option("spec", heat.value, "e.g. 'weekdays 06:00-22:00 at 60; otherwise 55'; '' or none clears")
        ->required();
    hsc->add_option("--grid", heat.grid, "grid file (hearth-grid(5))")->required();
    hsc->callback([&] { heat.action = "schedule"; });
    auto* hme = he->add_subcommand("measured", "give a static-source site's measured temperature");
    hme->add_option("site", heat.site, "the site")->required();
    hme->add_option("temp", heat.value, "degrees C")->required();
    hme->add_option("--grid", heat.grid, "grid file (hearth-grid(5))")->required();
    hme->callback([&] { heat.action = "measured"; });

    hearth::DashboardArgs dashboard;
    auto* da = app.add_subcommand("dashboard", "serve the web dashboard for every site and node of a grid file");
    da->add_option("--grid", dashboard.grid, "grid file (hearth-grid(5)): ask the agents of its nodes")->required();
    da->add_option("--listen", dashboard.listen, "loopback HOST:PORT to serve on (default 127.0.0.1:9760)");
    da->add_option("--timeout-ms", dashboard.timeout_ms, "time allowed each agent request, ms (default 4000)");
    da->add_option("--dashboard", dashboard.dashboard,
                   "directory of the page's files (default ../share/hearth/dashboard beside hearth)");

    hearth::TokenArgs token;
    auto* to = app.add_subcommand("token", "make API tokens for the grid-agents");
    to->require_subcommand(1);
    auto* tn = to->add_subcommand("new", "make a token, add its hash to a tokens file, print it once");
    tn->add_option("--role", token.role, "tenant:NAME, facility, facility:SITE, operator or site:NAME")->required();
    tn->add_option("--tokens", token.tokens, "the agents' tokens file (created with mode 0640)")
        ->required();
    tn->add_option("--label", token.label, "a note kept with the hash, e.g. who holds the token");
    tn->add_option("--expires", token.expires,
                   "when the token stops working: a duration from now (30d, 12h) or a UTC time");
    tn->add_option("--sites", token.sites,
                   "SITE[,SITE...]: the sites whose agents hearth dashboard may send it to "
                   "(written into the token; facility:SITE and site:NAME tokens get theirs)");
    auto* tr = to->add_subcommand(
        "revoke", "refuse a token from now on (servers see it at their next request)");
    tr->add_option(
          "id", token.id,
          "the token's id (8+ hex digits of its hash, as 'hearth token new' printed) or the token")
        ->required();
    tr->add_option("--tokens", token.tokens, "the tokens file")->required();

    hearth::TlsArgs tls;
    auto* tl = app.add_subcommand(
        "tls", "make a CA and certificates for TLS between sites and hearth serve");
    tl->require_subcommand(1);
    auto* tca = tl->add_subcommand("ca", "make a private CA in DIR (ca.pem, ca.key mode 0600)");
    tca->add_option("dir", tls.dir, "the CA's directory")->required();
    tca->add_option("--name", tls.name, "the CA's common name (default 'hearth CA')");
    auto* tce = tl->add_subcommand("cert", "make a server certificate signed by DIR's CA");
    tce->add_option("dir", tls.dir, "the CA's directory (hearth tls ca)")->required();
    tce->add_option("--host", tls.hosts,
                    "a name or IP address the server is reached by (repeatable)")
        ->required();
    tce->add_option("--name", tls.name,
                    "the files' name: DIR/NAME.pem, DIR/NAME.key (default: the first --host)");

    hearth::SiteArgs site;
    auto* sit = app.add_subcommand("site", "run a site: one long-lived mpirun over its nodes, pulling work from hearth serve");
    sit->add_option("--grid", site.grid, "grid file (hearth-grid(5)): the site and its nodes")->required();
    sit->add_option("--site", site.site, "the site's name in the grid file")->required();
    sit->add_option("--server", site.server, "the scheduler, http(s)://HOST:PORT (hearth serve)")->required();
    sit->add_option("--token-file", site.token_file, "the site's bearer token (a file, mode 0600)");
    sit->add_option("--cacert", site.cacert, "PEM file of the CA that signs the scheduler's certificate");
    sit->add_flag("--insecure-http", site.insecure_http,
                  "allow an http:// --server that is not loopback (token and jobs in clear)");
    sit->add_option("--state", site.state, "state directory (default ./hearth-site-SITE)");
    sit->add_option("--hostfile", site.hostfile, "Open MPI hostfile: these nodes instead of the grid file's");
    sit->add_option("--timeout-ms", site.timeout_ms, "time allowed each request to the scheduler, ms (default 10000)");
    sit->add_option("--max-buffer-mb", site.max_buffer_mb,
                    "results kept on disk while the scheduler is unreachable before taking no new work (default 256)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "hearth: " << e.what() << "; see 'hearth --help'\n";
        return 2;
    }

    try {
        if (r->parsed()) {
            hearth::apply_job_template(run, *r, has_dashes);
            if (has_dashes) run.command.insert(run.command.end(), after_dashes.begin(), after_dashes.end());
            return hearth::cmd_run(run);
        }
        if (sub->parsed()) {
            hearth::apply_job_template(submit, *sub, has_dashes);
            if (has_dashes) submit.command.insert(submit.command.end(), after_dashes.begin(), after_dashes.end());
            return hearth::cmd_submit(submit);
        }
        // With a server (--server or HEARTH_SERVER) these ask it; without, they
        // work on local job directories as before.
        const auto remote = hearth::server_url(server);
        if (res->parsed()) return remote ? hearth::remote_resume(*remote, job) : hearth::cmd_resume(job, json, quiet);
        if (st->parsed()) return remote ? hearth::remote_status(*remote, job, json) : hearth::cmd_status(job, json);
        if (lg->parsed()) return remote ? hearth::remote_logs(*remote, job, task, attempt) : hearth::cmd_logs(job, task, attempt);
        if (ca->parsed()) return remote ? hearth::remote_cancel(*remote, job, wait) : hearth::cmd_cancel(job, wait);
        if (jo->parsed()) return hearth::cmd_jobs(jobs);
        if (fe->parsed()) return hearth::cmd_fetch(job, server, out);
        if (sv->parsed()) return hearth::cmd_serve(serve);
        if (en->parsed()) return hearth::cmd_energy(energy);
        if (si->parsed()) return hearth::cmd_sim(sim);
        if (no->parsed()) return hearth::cmd_nodes(nodes);
        if (he->parsed()) {
            hearth::client_credentials();  // an unusable token file: exit 2 before any request
            return hearth::cmd_heat(heat);
        }
        if (tn->parsed()) return hearth::cmd_token(token);
        if (tr->parsed()) return hearth::cmd_token_revoke(token);
        if (tca->parsed()) return hearth::cmd_tls_ca(tls);
        if (tce->parsed()) return hearth::cmd_tls_cert(tls);
        if (da->parsed()) return hearth::cmd_dashboard(dashboard);
        if (sit->parsed()) return hearth::cmd_site(site);
    } catch (const hearth::Error& e) {
        std::cerr << "hearth: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "hearth: " << e.what() << "\n";
        return static_cast<int>(hearth::ExitCode::internal);
    }
    return 2;
}
