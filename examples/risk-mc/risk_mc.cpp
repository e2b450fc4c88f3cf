// risk_mc: the task program of the bank-quant example. Simulates blocks of
// one-day paths of the book (see model.hpp) and writes each block's sorted
// fixed-point losses to block_NNNNNN.bin for risk_merge; or, with --serial,
// computes the figures over all blocks in this one process, for reference.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <ql/errors.hpp>

#include "examples/risk-mc/block_file.hpp"
#include "examples/risk-mc/cli.hpp"
#include "examples/risk-mc/model.hpp"
#include "examples/risk-mc/stats.hpp"

namespace {

using namespace risk_mc;

constexpr const char* k_usage =
    "usage: risk_mc --blocks SET --paths P [--out-dir DIR]\n"
    "       risk_mc --serial --blocks SET --paths P [--json]\n"
    "       risk_mc --describe\n"
    "\n"
    "Simulates the one-day loss of the example option book on P paths per block.\n"
    "Block b's paths come from a generator seeded by b alone.\n"
    "  --blocks SET   blocks to simulate: A-B or a comma list, e.g. 0-63 or 0-9,12\n"
    "  --paths P      paths per block (1 to 10000000)\n"
    "  --out-dir DIR  where to write block_NNNNNN.bin (default: the current directory)\n"
    "  --serial       do not write files: print the figures over all blocks, like\n"
    "                 risk_merge does for the files of the same blocks\n"
    "  --json         with --serial: one JSON object instead of text\n"
    "  --describe     print the book and the model fingerprint\n"
    "Exit status: 0 done, 1 error, 2 bad usage.\n";

struct Options {
    bool serial = false, json = false, describe = false, help = false;
    std::string blocks, paths, out_dir = ".";
};

Options parse(const std::vector<std::string>& args) {
    Options o;
    bool have_out_dir = false;
    for (std::size_t i = 0; i < args.size();) {
        const std::string name = option_name(args[i]);
        if (take_flag(args, i, "--serial")) {
            o.serial = true;
        } else if (take_flag(args, i, "--json")) {
            o.json = true;
        } else if (take_flag(args, i, "--describe")) {
            o.describe = true;
        } else if (take_flag(args, i, "-h") || take_flag(args, i, "--help")) {
            o.help = true;
        } else if (name == "--blocks") {
            o.blocks = option_value(args, i);
        } else if (name == "--paths") {
            o.paths = option_value(args, i);
        } else if (name == "--out-dir") {
            o.out_dir = option_value(args, i);
            have_out_dir = true;
        } else {
            throw UsageError("unknown argument '" + args[i] + "'; see risk_mc --help");
        }
    }
    if (o.help || o.describe) return o;
    if (o.blocks.empty()) throw UsageError("--blocks SET is required, e.g. --blocks 0-63");
    if (o.paths.empty()) throw UsageError("--paths P is required, e.g. --paths 20000");
    if (o.serial && have_out_dir)
        throw UsageError("--serial writes no files; drop --out-dir or --serial");
    if (!o.serial && o.json)
        throw UsageError("--json goes with --serial; block files are the output otherwise");
    return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int write_blocks(const BlockSet& set, std::uint64_t paths, const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw UsageError("--out-dir '" + dir.string() + "' is not a directory; create it first");
    Model model;
    for (const auto& [first, last] : set.ranges())
        for (std::uint64_t b = first; b <= last; ++b) {
            const auto t0 = std::chrono::steady_clock::now();
            Block block;
            block.fingerprint = model_fingerprint();
            block.block = b;
            block.value_today = model.value_today();
            block.losses = model.block_losses(b, paths);
            fill_sums(block);
            write_block(dir, block);
            std::printf("risk_mc: block %llu: %llu paths in %.2f s -> %s\n",
                        static_cast<unsigned long long>(b), static_cast<unsigned long long>(paths),
                        seconds_since(t0), block_file_name(b).c_str());
            std::fflush(stdout);
        }
    return 0;
}

// The reference: every loss of every block in one vector, fully sorted, with
// none of the merge's per-block tails.
int serial(const BlockSet& set, std::uint64_t paths, bool json) {
    Model model;
    Summary s;
    s.blocks = set.str();
    s.block_count = set.size();
    s.paths_per_block = paths;
    s.count = s.block_count * paths;
    s.fingerprint = model_fingerprint();
    s.value_today = model.value_today();
    std::vector<std::int64_t> all;
    all.reserve(s.count);
    for (const auto& [first, last] : set.ranges())
        for (std::uint64_t b = first; b <= last; ++b) {
            std::vector<std::int64_t> losses = model.block_losses(b, paths);
            all.insert(all.end(), losses.begin(), losses.end());
        }
    std::sort(all.begin(), all.end());
    __int128 sum = 0;
    unsigned __int128 sum_squares = 0;
    for (std::int64_t x : all) {
        sum += x;
        auto a = static_cast<unsigned __int128>(x < 0 ? -static_cast<__int128>(x) : x);
        sum_squares += a * a;
    }
    const std::vector<std::int64_t> tail(
        all.begin() + static_cast<std::ptrdiff_t>(var_rank(s.count) - 1), all.end());
    summarize(s, sum, sum_squares, tail);
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
    if (o.describe) {
        Model model;
        std::printf("%sbook value today %s\nmodel fingerprint %016llx\n", describe_book().c_str(),
                    format_micro(model.value_today()).c_str(),
                    static_cast<unsigned long long>(model_fingerprint()));
        return 0;
    }
    const BlockSet set = BlockSet::parse("--blocks", o.blocks);
    const std::uint64_t paths = parse_count("--paths", o.paths, 1, k_max_paths);
    return o.serial ? serial(set, paths, o.json) : write_blocks(set, paths, o.out_dir);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "risk_mc: %s\n", e.what());
        return 2;
    } catch (const QuantLib::Error& e) {
        std::fprintf(stderr, "risk_mc: QuantLib: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "risk_mc: %s\n", e.what());
        return 1;
    }
}
