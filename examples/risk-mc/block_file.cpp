#include "examples/risk-mc/block_file.hpp"

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace risk_mc {

static_assert(std::endian::native == std::endian::little,
              "block files are little-endian and written with memcpy");

namespace {

constexpr char k_magic[8] = {'R', 'I', 'S', 'K', 'M', 'C', '0', '1'};
constexpr std::size_t k_header = 64;

std::uint64_t fnv1a(const char* p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 0x100000001b3ULL;
    }
    return h;
}

template <class T>
void put(std::string& buf, std::size_t at, T v) {
    std::memcpy(buf.data() + at, &v, sizeof v);
}

template <class T>
T get(const std::string& buf, std::size_t at) {
    T v;
    std::memcpy(&v, buf.data() + at, sizeof v);
    return v;
}

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& what) {
    throw std::runtime_error(file.string() + ": " + what);
}

std::string read_prefix(const std::filesystem::path& file, std::size_t limit) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec)) bad(file, "missing; rerun the tasks of this block");
        bad(file, "cannot be opened; check its permissions");
    }
    std::string buf(limit, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(limit));
    if (in.bad()) bad(file, "read error; check the disk");
    buf.resize(static_cast<std::size_t>(in.gcount()));
    return buf;
}

void check_header(const std::filesystem::path& file, const std::string& buf) {
    if (buf.size() < k_header + 8 || std::memcmp(buf.data(), k_magic, sizeof k_magic) != 0)
        bad(file,
            "not a risk_mc block file (bad magic or too short); delete it and rerun its task");
}

}  // namespace

std::string block_file_name(std::uint64_t block) {
    char name[40];
    std::snprintf(name, sizeof name, "block_%06llu.bin", static_cast<unsigned long long>(block));
    return name;
}

namespace {

// The sum in 128 bits: a corrupt or hostile file must not overflow it.
void sums_of(const std::vector<std::int64_t>& losses, __int128& sum,
             unsigned __int128& sum_squares) {
    sum = 0;
    sum_squares = 0;
    for (std::int64_t x : losses) {
        sum += x;
        auto a = static_cast<unsigned __int128>(x < 0 ? -static_cast<__int128>(x) : x);
        sum_squares += a * a;
    }
}

}  // namespace

void fill_sums(Block& b) {
    __int128 sum = 0;
    sums_of(b.losses, sum, b.sum_squares);
    if (sum > INT64_MAX || sum < INT64_MIN)
        throw std::runtime_error(
            "block " + std::to_string(b.block) +
            ": the sum of its losses overflows 64 bits; use fewer paths per block");
    b.sum = static_cast<std::int64_t>(sum);
}

void write_block(const std::filesystem::path& dir, const Block& b) {
    std::string buf(k_header + 8 * b.losses.size() + 8, '\0');
    std::memcpy(buf.data(), k_magic, sizeof k_magic);
    put(buf, 8, b.fingerprint);
    put(buf, 16, b.block);
    put(buf, 24, static_cast<std::uint64_t>(b.losses.size()));
    put(buf, 32, b.value_today);
    put(buf, 40, b.sum);
    put(buf, 48, static_cast<std::uint64_t>(b.sum_squares));
    put(buf, 56, static_cast<std::uint64_t>(b.sum_squares >> 64));
    if (!b.losses.empty()) std::memcpy(buf.data() + k_header, b.losses.data(), 8 * b.losses.size());
    put(buf, buf.size() - 8, fnv1a(buf.data(), buf.size() - 8));

    const std::filesystem::path file = dir / block_file_name(b.block);
    const std::filesystem::path tmp = dir / ("." + block_file_name(b.block) + ".tmp");
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        out.close();
        if (!out) bad(tmp, "cannot be written; check the directory and the free space");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) bad(file, "cannot be created (" + ec.message() + "); check the directory");
}

Block read_block_header(const std::filesystem::path& file, std::uint64_t& count) {
    std::string buf = read_prefix(file, k_header + 8);
    check_header(file, buf);
    Block b;
    b.fingerprint = get<std::uint64_t>(buf, 8);
    b.block = get<std::uint64_t>(buf, 16);
    count = get<std::uint64_t>(buf, 24);
    b.value_today = get<std::int64_t>(buf, 32);
    b.sum = get<std::int64_t>(buf, 40);
    b.sum_squares = (static_cast<unsigned __int128>(get<std::uint64_t>(buf, 56)) << 64) |
                    get<std::uint64_t>(buf, 48);
    return b;
}

Block read_block(const std::filesystem::path& file) {
    std::uint64_t count = 0;
    Block b = read_block_header(file, count);
    // Refuse absurd counts before allocating for them.
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec || count > (size - k_header - 8) / 8 || size != k_header + 8 * count + 8)
        bad(file, "has " + std::to_string(ec ? 0 : size) + " bytes, not the " +
                      std::to_string(k_header + 8 * count + 8) +
                      " its header promises (truncated?); " + "delete it and rerun its task");
    std::string buf = read_prefix(file, size);
    if (buf.size() != size) bad(file, "changed while being read; rerun the merge");
    if (get<std::uint64_t>(buf, size - 8) != fnv1a(buf.data(), size - 8))
        bad(file, "checksum mismatch (corrupt); delete it and rerun its task");
    b.losses.resize(count);
    if (count > 0) std::memcpy(b.losses.data(), buf.data() + k_header, 8 * count);
    for (std::size_t i = 1; i < b.losses.size(); ++i)
        if (b.losses[i - 1] > b.losses[i])
            bad(file, "losses are not sorted; delete it and rerun its task");
    __int128 sum = 0;
    unsigned __int128 sum_squares = 0;
    sums_of(b.losses, sum, sum_squares);
    if (sum != b.sum || sum_squares != b.sum_squares)
        bad(file, "its sums do not match its losses; delete it and rerun its task");
    return b;
}

}  // namespace risk_mc
