// The agent's authentication input: the tokens file through TokenTable::parse,
// Authorization headers through bearer_token, roles through parse_role. The
// whole input is each of the three. A tokens file that parses must still find
// a valid line added to it; a bearer token must be printable, at most 512
// bytes, and read back the same; a role must print as text that parses back.
#include <string>

#include "core/auth.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in = fuzz::text(data, size);

    if (auto table = fuzz::parsed([&] { return TokenTable::parse(in, "tokens"); })) {
        Role op;
        op.kind = RoleKind::operator_;
        const std::string extra = in + "\n" + token_line("hearth_fuzz", op, "added");
        if (auto more = fuzz::parsed([&] { return TokenTable::parse(extra, "tokens"); })) {
            FUZZ_CHECK(more->size() == table->size() + 1);
            const auto who = more->find("hearth_fuzz");
            FUZZ_CHECK(who && who->kind == RoleKind::operator_ && who->label == "added");
        }
    }

    if (auto tok = bearer_token(in)) {
        FUZZ_CHECK(!tok->empty() && tok->size() <= 512);
        for (char c : *tok) FUZZ_CHECK(static_cast<unsigned char>(c) > ' ' && c != 0x7f);
        FUZZ_CHECK(bearer_token("Bearer " + *tok) == tok);
    }

    if (auto role = fuzz::parsed([&] { return parse_role(in); })) {
        const Role again = parse_role(to_string(*role));
        FUZZ_CHECK(again.kind == role->kind && again.scope == role->scope);
    }
    return 0;
}
