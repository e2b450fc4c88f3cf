#include "runner/cli/run_options.hpp"

namespace hearth {

void add_job_options(CLI::App* r, RunArgs& run) {
    r->add_option("--tenant", run.tenant, "who pays for the job (or HEARTH_TENANT)");
    r->add_option("--frames", run.frames, "frame set, e.g. 1-240 or 1-10,15,20-40x2");
    r->add_option("--seeds", run.seeds, "seed range A-B");
    r->add_option("--count", run.count, "N items: 0..N-1");
    r->add_option("--items", run.items, "file with one item a line");
    r->add_option("--chunk", run.chunk, "items per task (default 1)");
    r->add_option("--deadline", run.deadline,
                  "finish by then, past heat budgets if needed: a duration (6h) or UTC time");
    r->add_flag("--urgent", run.urgent, "ignore heat budgets: use every slot now");
    r->add_option("--retries", run.retries, "retries of a failed task (default 2)");
    r->add_option("--timeout", run.timeout, "time limit per task attempt, e.g. 30s, 5m, 1h30m");
    r->add_option("--stage", run.stage, "copy this input into every task's scratch directory")
        ->take_all();
    r->add_option("--collect", run.collect, "bring files matching this glob back to JOBDIR/out/")
        ->take_all();
    r->add_option("--name", run.name, "a label for the job, used in its id");
    r->add_option(
         "--env", run.env,
         "NAME=VALUE, or NAME (its value here), for every task; repeatable (hearth(1), The "
         "task's environment)")
        ->take_all();
    r->add_option("--mem-per-task", run.mem_per_task,
                  "memory a task may use, e.g. 2G: placed where it is free, and its limit");
    r->add_option(
        "--cores-per-task", run.cores_per_task,
        "cores each task holds, bound with hwloc; {cores}, HEARTH_CORES and OMP_NUM_THREADS "
        "say it (default 1)");
    r->add_option("--gpus-per-task", run.gpus_per_task,
                  "GPUs each task is given (CUDA_VISIBLE_DEVICES), on nodes with that many "
                  "(default 0)");
    r->add_option("--priority", run.priority,
                  "with a server: order among the tenant's own jobs, -1000 to 1000 (default 0)");
    r->add_option("--server", run.server, "the scheduler's URL (or HEARTH_SERVER): submit the job there");
    r->add_option(
        "--template", run.template_name,
        "fill the command, inputs, outputs, split and retries from a job template (hearth(1), JOB "
        "TEMPLATES); the words before -- are its arguments");
    r->add_option("command", run.command, "the command, after --, with {placeholders}")->expected(-1);
}

void add_local_options(CLI::App* r, RunArgs& run) {
    r->add_option("--hosts", run.hosts, "Open MPI hostfile of the nodes to use");
    r->add_option("--grid", run.grid, "grid file (hearth-grid(5)): run on its nodes");
    r->add_option("--slots", run.slots, "tasks at once per node (default: its cores)");
    r->add_option("--workers-per-host", run.workers_per_host,
                  "worker ranks per host, each a separate node (default 1)");
    r->add_option("--job-dir", run.job_dir, "job directory (default ./hearth-jobs/JOB-ID)");
}

}  // namespace hearth
