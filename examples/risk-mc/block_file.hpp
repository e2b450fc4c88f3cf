#pragma once
// A block's partial result on disk: what one task hands to the merge.
//
// Layout, little-endian, 8-byte fields:
//   0  magic "RISKMC01"
//   8  model fingerprint (model_fingerprint() of the writer)
//  16  block number
//  24  count of losses (the block's paths)
//  32  the book's value today (fixed point)
//  40  sum of the losses (int64)
//  48  sum of the squared losses (uint128: low word, then high word)
//  64  the losses, count int64 values, ascending
// end  FNV-1a 64 of every byte before it
//
// The reader checks all of it (size, checksum, order, both sums), so a
// truncated, corrupt or foreign file is an error naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace risk_mc {

struct Block {
    std::uint64_t fingerprint = 0;
    std::uint64_t block = 0;
    std::int64_t value_today = 0;
    std::int64_t sum = 0;
    unsigned __int128 sum_squares = 0;
    std::vector<std::int64_t> losses;  // ascending
};

// "block_000042.bin": six digits at least, so a directory lists in order.
std::string block_file_name(std::uint64_t block);

// Fills in the sums of b.losses (which must be sorted).
void fill_sums(Block& b);

// Writes dir/block_file_name(b.block) through a temporary file and a rename,
// so a task killed while writing never leaves a plausible partial file.
// Throws std::runtime_error naming the file on failure.
void write_block(const std::filesystem::path& dir, const Block& b);

// Reads and checks a block file; throws std::runtime_error naming the file
// and what is wrong with it.
Block read_block(const std::filesystem::path& file);

// Reads only the fixed header fields (no losses, no checksum): enough to
// size the merge before reading every file in full.
Block read_block_header(const std::filesystem::path& file, std::uint64_t& count);

}  // namespace risk_mc
