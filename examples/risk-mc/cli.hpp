#pragma once
// What risk_mc and risk_merge accept on their command lines: block sets,
// counts, and the usage errors (exit status 2) for anything else.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace risk_mc {

// Bad input: the program prints "PROG: message" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The largest block number: the same bound as the width of Hearth's seeds
// keeps file names and seeds in step.
constexpr std::uint64_t k_max_block = 999'999'999;

// Paths per block: keeps a block's file small and its sums far from overflow.
constexpr std::uint64_t k_max_paths = 10'000'000;

// A set of block numbers written "A-B" or as a comma list of numbers and
// ranges ("0-9,12,20-29"), the form Hearth's {first}-{last} and {items}
// produce. Parts may come in any order but must not overlap.
class BlockSet {
public:
    // Throws UsageError naming `option` and the text.
    static BlockSet parse(const std::string& option, const std::string& text);

    std::uint64_t size() const;
    // The canonical form: ascending, adjacent ranges joined ("0-63").
    std::string str() const;
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges() const { return m_ranges; }

private:
    std::vector<std::pair<std::uint64_t, std::uint64_t>> m_ranges;  // inclusive, ascending
};

// A whole number in [lo, hi] for `option`; throws UsageError otherwise.
std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo,
                          std::uint64_t hi);

// The value of the option at args[i] ("--x V" or "--x=V"); advances i past it.
// Throws UsageError when it is missing.
std::string option_value(const std::vector<std::string>& args, std::size_t& i);

// True, and i advanced past it, when args[i] is the flag `name`.
bool take_flag(const std::vector<std::string>& args, std::size_t& i, const std::string& name);

// The option name of args[i] without any "=value" part.
std::string option_name(const std::string& arg);

}  // namespace risk_mc
