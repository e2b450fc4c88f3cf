// risk_merge: the merge step of the bank-quant example. Reads the block
// files risk_mc wrote (one per block of the set, by name, so a missing one is
// noticed), checks each, and prints the figures over all of them: the same
// bytes `risk_mc --serial` prints for the same blocks and paths.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "examples/risk-mc/block_file.hpp"
#include "examples/risk-mc/cli.hpp"
#include "examples/risk-mc/model.hpp"
#include "examples/risk-mc/stats.hpp"

namespace {

using namespace risk_mc;
namespace fs = std::filesystem;

constexpr const char* k_usage =
    "usage: risk_merge --blocks SET [--paths P] [--json] DIR\n"
    "\n"
    "Merges DIR/block_NNNNNN.bin of every block of SET (written by risk_mc) and\n"
    "prints the one-day mean loss, standard deviation, VaR 99% and ES 99%.\n"
    "  --blocks SET  the blocks of the job: A-B or a comma list, e.g. 0-63\n"
    "  --paths P     also require P paths in every block\n"
    "  --json        one JSON object instead of text\n"
    "Exit status: 0 done, 1 a block file is missing, corrupt or from another model,\n"
    "2 bad usage.\n";

struct Options {
    bool json = false, help = false;
    std::string blocks, paths, dir;
};

Options parse(const std::vector<std::string>& args) {
    Options o;
    for (std::size_t i = 0; i < args.size();) {
        const std::string name = option_name(args[i]);
        if (take_flag(args, i, "--json")) {
            o.json = true;
        } else if (take_flag(args, i, "-h") || take_flag(args, i, "--help")) {
            o.help = true;
        } else if (name == "--blocks") {
            o.blocks = option_value(args, i);
        } else if (name == "--paths") {
            o.paths = option_value(args, i);
        } else if (args[i].starts_with("-")) {
            throw UsageError("unknown option '" + args[i] + "'; see risk_merge --help");
        } else if (!o.dir.empty()) {
            throw UsageError("one DIR only, got '" + o.dir + "' and '" + args[i] + "'");
        } else {
            o.dir = args[i++];
        }
    }
    if (o.help) return o;
    if (o.blocks.empty()) throw UsageError("--blocks SET is required, e.g. --blocks 0-63");
    if (o.dir.empty()) throw UsageError("DIR is required: the job's out/ directory");
    return o;
}

std::string hex(std::uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

int merge(const BlockSet& set, std::uint64_t want_paths, const fs::path& dir, bool json) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw UsageError("DIR '" + dir.string() + "' is not a directory");

    // Pass 1, headers only: every file is there and agrees on the model and
    // the path count; the total count sizes the tail.
    std::vector<std::string> missing;
    Summary s;
    s.blocks = set.str();
    s.block_count = set.size();
    s.fingerprint = model_fingerprint();
    bool first = true;
    for (const auto& [a, b] : set.ranges())
        for (std::uint64_t k = a; k <= b; ++k) {
            const fs::path file = dir / block_file_name(k);
            if (!fs::exists(file, ec)) {
                missing.push_back(block_file_name(k));
                continue;
            }
            std::uint64_t count = 0;
            const Block h = read_block_header(file, count);
            if (h.fingerprint != s.fingerprint)
                throw std::runtime_error(file.string() +
                                         ": made by a risk_mc with another model (" +
                                         hex(h.fingerprint) + ", this risk_merge is " +
                                         hex(s.fingerprint) + "); rerun the job with this build");
            if (h.block != k)
                throw std::runtime_error(file.string() + ": holds block " +
                                         std::to_string(h.block) + ", not " + std::to_string(k) +
                                         "; rerun its task");
            if (want_paths != 0 && count != want_paths)
                throw std::runtime_error(file.string() + ": has " + std::to_string(count) +
                                         " paths, not the " + std::to_string(want_paths) +
                                         " of --paths; merge files of one job only");
            if (first) {
                s.paths_per_block = count;
                s.value_today = h.value_today;
                first = false;
            } else if (count != s.paths_per_block) {
                throw std::runtime_error(file.string() + ": has " + std::to_string(count) +
                                         " paths where the first block has " +
                                         std::to_string(s.paths_per_block) +
                                         "; merge files of one job only");
            } else if (h.value_today != s.value_today) {
                // Same model, different price: the node's QuantLib or libm
                // differs, and its losses would not match a serial run.
                throw std::runtime_error(file.string() + ": values the book today at " +
                                         format_micro(h.value_today) + ", the first block at " +
                                         format_micro(s.value_today) +
                                         "; run every block on nodes with the same QuantLib");
            }
        }
    if (!missing.empty()) {
        std::string list;
        for (std::size_t i = 0; i < missing.size() && i < 5; ++i)
            list += (i ? ", " : "") + missing[i];
        if (missing.size() > 5) list += ", ...";
        throw std::runtime_error(std::to_string(missing.size()) + " of " +
                                 std::to_string(s.block_count) + " block files missing in " +
                                 dir.string() + " (" + list +
                                 "); run those blocks (hearth resume) or merge fewer --blocks");
    }
    s.count = s.block_count * s.paths_per_block;

    // Pass 2: each file in full (checksum, order, sums), keeping only what
    // the figures need: its share of the largest tail_size(N) losses.
    Tail tail(tail_size(s.count));
    __int128 sum = 0;
    unsigned __int128 sum_squares = 0;
    for (const auto& [a, b] : set.ranges())
        for (std::uint64_t k = a; k <= b; ++k) {
            const Block blk = read_block(dir / block_file_name(k));
            if (blk.losses.size() != s.paths_per_block || blk.fingerprint != s.fingerprint)
                throw std::runtime_error((dir / block_file_name(k)).string() +
                                         ": changed during the merge; rerun the merge");
            sum += blk.sum;
            sum_squares += blk.sum_squares;
            tail.add_sorted(blk.losses);
        }
    summarize(s, sum, sum_squares, tail.take());
    const std::string out = json ? format_json(s) : format_text(s);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

int run(const std::vector<std::string>& args) {
    const Options o = parse(args);
    if (o.help) {
        std::fputs(k_usage, stdout);
        return 0;
    }
    const BlockSet set = BlockSet::parse("--blocks", o.blocks);
    const std::uint64_t paths =
        o.paths.empty() ? 0 : parse_count("--paths", o.paths, 1, k_max_paths);
    return merge(set, paths, o.dir, o.json);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "risk_merge: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "risk_merge: %s\n", e.what());
        return 1;
    }
}
