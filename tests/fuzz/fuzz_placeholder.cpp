// A job's command template through CommandTemplate::parse and expand, as
// `hearth run` parses it at submit time and expands it per attempt. Input:
// the first byte picks the chunk size (1-4), the rest is the argv, one word a
// line. A word without placeholders must expand to itself with "{{" and "}}"
// unescaped, and values holding braces must never be expanded again.
#include <vector>

#include "core/placeholder.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace hearth;

namespace {

std::string unescape(const std::string& word) {
    std::string out;
    for (std::size_t i = 0; i < word.size(); ++i) {
        out += word[i];
        if ((word[i] == '{' || word[i] == '}') && i + 1 < word.size() && word[i + 1] == word[i]) ++i;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint64_t chunk = 1 + data[0] % 4;
    std::vector<std::string> argv;
    std::string word;
    for (std::size_t i = 1; i < size; ++i) {
        if (data[i] == '\n') {
            argv.push_back(word);
            word.clear();
        } else {
            word += static_cast<char>(data[i]);
        }
    }
    argv.push_back(word);

    auto tmpl = fuzz::parsed([&] { return CommandTemplate::parse(argv, chunk); });
    if (!tmpl) return 0;
    FUZZ_CHECK(tmpl->words() == argv);
    TaskValues values;
    values.items = {"{item}", "7", "}}{{"};
    if (chunk == 1) values.items.resize(1);
    values.task = 18446744073709551615ull;
    values.attempt = 4294967295u;
    values.tenant = "{tenant}";
    values.job = "{job:04}";
    const std::vector<std::string> out = tmpl->expand(values);
    FUZZ_CHECK(out.size() == argv.size());
    TaskValues plain = values;
    plain.items.assign(values.items.size(), "x");
    plain.tenant = plain.job = "x";
    const std::vector<std::string> out2 = tmpl->expand(plain);
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (!tmpl->has_placeholder(i)) {
            FUZZ_CHECK(out[i] == unescape(argv[i]));
        } else {
            // Braces in values land in the output as they are, and only there:
            // the plain expansion has exactly the template's literal braces.
            std::size_t literal = 0;
            for (char c : unescape(argv[i])) literal += c == '{' || c == '}';
            std::size_t seen = 0;
            for (char c : out2[i]) seen += c == '{' || c == '}';
            FUZZ_CHECK(seen <= literal);
        }
    }
    return 0;
}
