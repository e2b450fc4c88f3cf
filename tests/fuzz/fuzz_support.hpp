#pragma once
// Shared by the libFuzzer targets (tests/fuzz/README.md). A target feeds its
// bytes to a real parser: hearth::Error (usage_error included) is the
// parser's way of refusing input and is expected; any other exception
// escapes to libFuzzer, which reports it (std::terminate) like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace hearth::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// An invariant the parser promises; a violation is a finding, so it stops
// the run where a debugger or the crash file can reproduce it.
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                        \
            __builtin_trap();                                                              \
        }                                                                                  \
    } while (0)

// f's result, or nullopt when f refused the input with a hearth::Error. Checks
// of a parsed value go outside f: a re-parse that throws there is a finding,
// not a refusal.
template <class F>
auto parsed(F&& f) -> std::optional<decltype(f())> {
    try {
        return f();
    } catch (const hearth::Error&) {
        return std::nullopt;
    }
}

}  // namespace hearth::fuzz
