#pragma once
// Helpers shared by the unit tests.
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace hearth::test {

// A BOOST_CHECK_EXCEPTION predicate: a usage error whose message quotes `needle`.
inline auto usage_mentioning(std::string needle) {
    return [needle](const hearth::Error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("message: " << what);
        return e.code() == hearth::ExitCode::usage && what.find(needle) != std::string::npos;
    };
}

// A fresh directory from mkdtemp, removed with its contents at the end of the test.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "hearth-unit-XXXXXX").string();
        BOOST_TEST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        m_path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (m_path / name).string(); }
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

}  // namespace hearth::test
