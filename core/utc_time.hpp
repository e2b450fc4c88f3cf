#pragma once
// The one parser of UTC dates and times people type (command-line options,
// scenario files): RFC 3339 and the ISO 8601 forms around it, so that a
// time copied from a log, a JSON reply or `date -u -Iseconds` is accepted
// everywhere Hearth asks for one.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hearth {

// Whether a bare whole number is a time (milliseconds since the epoch, as
// the agents' APIs write times) or refused as ambiguous.
enum class EpochNumbers { refused, milliseconds };

// Accepted: a date, 2027-01-04 (midnight UTC); or a date and a time joined
// by 'T' or one space, HH:MM or HH:MM:SS with optional fractional seconds
// (.5, ,250), then optionally 'Z' or an offset such as +01:00, +0100, -05.
// Without a zone the time is UTC. Days are checked against their month.
// Returns Unix milliseconds (fractions below a millisecond are dropped);
// usage_error "'TEXT' is not a UTC time; write it as ..." naming the forms.
std::int64_t parse_utc_ms(std::string_view text, EpochNumbers numbers = EpochNumbers::refused);
// The same in whole Unix seconds (rounded down).
std::int64_t parse_utc_seconds(std::string_view text);
// nullopt instead of an error, for callers that try other readings first.
std::optional<std::int64_t> try_parse_utc_ms(std::string_view text,
                                             EpochNumbers numbers = EpochNumbers::refused);

// "2027-01-04T06:00:00Z" and "2027-01-04": what the parser reads back.
std::string format_utc(std::int64_t unix_s);
std::string format_utc_date(std::int64_t unix_s);

}  // namespace hearth
