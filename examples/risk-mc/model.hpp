#pragma once
// The bank's book and market, and the one-day simulation of its value.
// Everything that makes a block's losses what they are lives here, so the
// fingerprint below changes whenever any of it does.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace risk_mc {

constexpr int k_assets = 3;

struct Asset {
    const char* name;
    double spot;
    double vol;       // Black-Scholes volatility, per year
    double dividend;  // continuous dividend yield
};

struct Position {
    int asset;  // index into k_market.assets
    bool call;
    double strike;
    int expiry_months;  // from today
    double quantity;    // negative: sold
};

struct Market {
    std::array<Asset, k_assets> assets;
    std::array<std::array<double, k_assets>, k_assets> correlation;
    double rate;  // flat risk-free rate, continuous, Actual/365 (Fixed)
    int today_year, today_month, today_day;
};

inline constexpr Market k_market = {
    {{{"ALPHA", 100.0, 0.20, 0.010}, {"BETA", 50.0, 0.30, 0.000}, {"GAMMA", 200.0, 0.25, 0.020}}},
    {{{1.0, 0.6, 0.3}, {0.6, 1.0, 0.4}, {0.3, 0.4, 1.0}}},
    0.03,
    2026,
    11,
    18,  // a Wednesday: the horizon, the next TARGET business day, is one calendar day on
};

inline constexpr std::array<Position, 6> k_book = {{
    {0, true, 105.0, 6, 100.0},   // long ALPHA 6m 105 calls
    {0, false, 95.0, 3, -50.0},   // short ALPHA 3m 95 puts
    {1, true, 50.0, 12, 200.0},   // long BETA 1y 50 calls
    {1, false, 45.0, 6, 150.0},   // long BETA 6m 45 puts
    {2, true, 210.0, 6, -80.0},   // short GAMMA 6m 210 calls
    {2, false, 190.0, 9, 120.0},  // long GAMMA 9m 190 puts
}};

// Money in fixed point: integer millionths of a currency unit. Sums and
// order statistics of int64 values are exact and associative, so the merged
// result of any split of the blocks is the serial result bit for bit.
constexpr std::int64_t k_micro = 1'000'000;

// Converts a value to fixed point, rounding half away from zero.
std::int64_t to_micro(double value);

// A hash of the market, the book, the horizon, the random-number scheme and
// the fixed-point scale: block files made under another model are refused.
std::uint64_t model_fingerprint();

// One line per position, for --describe.
std::string describe_book();

// Prices the book with QuantLib (AnalyticEuropeanEngine on a
// BlackScholesMertonProcess per asset) today and at the horizon.
class Model {
public:
    Model();
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    // The book's value today, in fixed point.
    std::int64_t value_today();

    // The one-day losses (value today minus value at the horizon, fixed
    // point; positive is a loss) of `paths` paths drawn from a generator
    // seeded by `block` alone, sorted ascending.
    std::vector<std::int64_t> block_losses(std::uint64_t block, std::uint64_t paths);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace risk_mc
