#pragma once
// Sums of Microjoules wrap past 2^64 uJ (18 TJ): far beyond any ledger.
// Strong unit types at interfaces: a microjoule count cannot be passed where
// watts are expected. Energy is integer microjoules (exact sums, as RAPL
// counts them); power and temperature are doubles.
#include <compare>
#include <cstdint>

namespace hearth {

struct Microjoules {
    std::uint64_t value = 0;
    constexpr auto operator<=>(const Microjoules&) const = default;
    constexpr Microjoules& operator+=(Microjoules o) {
        value += o.value;
        return *this;
    }
    constexpr double joules() const { return static_cast<double>(value) / 1e6; }
    constexpr double kwh() const { return static_cast<double>(value) / 3.6e12; }
};
constexpr Microjoules operator+(Microjoules a, Microjoules b) { return {a.value + b.value}; }

struct Watts {
    double value = 0;
    constexpr auto operator<=>(const Watts&) const = default;
};

struct Celsius {
    double value = 0;
    constexpr auto operator<=>(const Celsius&) const = default;
};

// Energy of a constant power over seconds, rounded down to whole microjoules;
// NaN and negatives give 0, values past 2^64 saturate (never undefined).
constexpr Microjoules energy_of(Watts p, double seconds) {
    double uj = p.value * seconds * 1e6;
    if (!(uj > 0)) return {0};
    if (uj >= 0x1p64) return {UINT64_MAX};
    return {static_cast<std::uint64_t>(uj)};
}

}  // namespace hearth
