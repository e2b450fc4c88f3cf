#include <boost/test/unit_test.hpp>

#include "tests/unit/support.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/safe_path.hpp"

using hearth::check_relative_path;
using hearth::is_clean_relative_path;
using hearth::path_is_within;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

// A Hearth error whose message holds needle.
auto error_mentioning(std::string needle) {
    return [needle](const hearth::Error& e) {
        BOOST_TEST_INFO("message: " << e.what());
        return std::string(e.what()).find(needle) != std::string::npos;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safe_path)

BOOST_AUTO_TEST_CASE(relative_paths_and_globs_inside_the_directory_pass) {
    for (const char* ok : {"frame*.png", "out/part_*", "./a.txt", "a/b/c", "a..b", "..a", "b..",
                           "[ab]*/x", "a//b"})
        BOOST_CHECK_NO_THROW(check_relative_path(ok, "--collect"));
}

BOOST_AUTO_TEST_CASE(absolute_paths_dotdot_and_empty_are_usage_errors_naming_the_argument) {
    BOOST_CHECK_EXCEPTION(check_relative_path("/etc/passwd", "--collect"), hearth::Error,
                          usage_mentioning("bad --collect '/etc/passwd': an absolute path"));
    BOOST_CHECK_EXCEPTION(check_relative_path("../../etc/passwd", "--collect"), hearth::Error,
                          usage_mentioning("'..'"));
    BOOST_CHECK_EXCEPTION(check_relative_path("out/../../x", "--collect"), hearth::Error,
                          usage_mentioning("out/../../x"));
    BOOST_CHECK_EXCEPTION(check_relative_path("a/..", "--collect"), hearth::Error,
                          usage_mentioning("'..'"));
    BOOST_CHECK_EXCEPTION(check_relative_path("..", "--collect"), hearth::Error,
                          usage_mentioning("'..'"));
    BOOST_CHECK_EXCEPTION(check_relative_path("", "--collect"), hearth::Error,
                          usage_mentioning("empty --collect"));
    BOOST_CHECK_EXCEPTION(check_relative_path(std::string("a\0b", 3), "--collect"), hearth::Error,
                          usage_mentioning("NUL"));
}

BOOST_AUTO_TEST_CASE(clean_relative_paths_have_only_plain_components) {
    for (const char* ok : {"a", "a/b", "frame_0001.png", "..a/b..", ".hidden"})
        BOOST_TEST(is_clean_relative_path(ok), ok);
    for (const char* bad : {"", "/a", "a/", "a//b", "./a", "a/.", "..", "a/../b", "a/.."})
        BOOST_TEST(!is_clean_relative_path(bad), bad);
    BOOST_TEST(!is_clean_relative_path(std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(a_path_is_within_its_root_component_by_component) {
    BOOST_TEST(path_is_within("/scratch/d1", "/scratch/d1"));
    BOOST_TEST(path_is_within("/scratch/d1", "/scratch/d1/frame.png"));
    BOOST_TEST(path_is_within("/scratch/d1/", "/scratch/d1/a/b"));
    BOOST_TEST(path_is_within("/", "/etc/passwd"));
    // A sibling whose name starts with the root's is outside.
    BOOST_TEST(!path_is_within("/scratch/d1", "/scratch/d10/x"));
    BOOST_TEST(!path_is_within("/scratch/d1", "/etc/passwd"));
    BOOST_TEST(!path_is_within("/scratch/d1", "/scratch"));
    // Lexical ".." is resolved before comparing.
    BOOST_TEST(!path_is_within("/scratch/d1", "/scratch/d1/../../etc/passwd"));
    BOOST_TEST(path_is_within("/scratch/d1", "/scratch/d1/a/../b"));
    // Relative or empty paths are never taken as inside.
    BOOST_TEST(!path_is_within("/scratch/d1", "frame.png"));
    BOOST_TEST(!path_is_within("scratch", "scratch/a"));
    BOOST_TEST(!path_is_within("/scratch", ""));
}

BOOST_AUTO_TEST_CASE(read_beneath_reads_regular_files_with_their_mode) {
    TempDir t;
    fs::create_directories(t.path() / "a/b");
    spit(t.file("a/b/x.txt"), "hello");
    ::chmod(t.file("a/b/x.txt").c_str(), 0640);
    unsigned mode = 0;
    BOOST_TEST(hearth::read_file_beneath(t.path().string(), "a/b/x.txt", &mode) == "hello");
    BOOST_TEST(mode == 0640u);
}

BOOST_AUTO_TEST_CASE(read_beneath_refuses_symlinks_anywhere_on_the_way) {
    TempDir t, outside;
    spit(outside.file("secret"), "SECRET");
    fs::create_directories(t.path() / "scratch");
    const std::string root = t.file("scratch");
    fs::create_symlink(outside.file("secret"), root + "/link");
    fs::create_directory_symlink(outside.path(), root + "/dir");
    spit(root + "/inside", "in");
    fs::create_symlink("inside", root + "/alias");
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(root, "link"), hearth::Error,
                          error_mentioning("'link' is a symbolic link to '" + outside.file("secret")));
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(root, "dir/secret"), hearth::Error,
                          error_mentioning("'dir/secret': 'dir' is a symbolic link"));
    // Even a link that stays inside is not followed.
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(root, "alias"), hearth::Error,
                          error_mentioning("symbolic link"));
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(root, "../scratch/inside"), hearth::Error,
                          error_mentioning("not a plain relative path"));
    // The root itself as a link is refused too.
    fs::create_directory_symlink(root, t.file("rootlink"));
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(t.file("rootlink"), "inside"), hearth::Error,
                          error_mentioning("symbolic link"));
}

BOOST_AUTO_TEST_CASE(read_beneath_refuses_what_is_not_a_regular_file) {
    TempDir t;
    BOOST_TEST_REQUIRE(::mkfifo(t.file("fifo").c_str(), 0600) == 0);
    fs::create_directory(t.path() / "d");
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(t.path().string(), "fifo"), hearth::Error,
                          error_mentioning("not a regular file"));
    BOOST_CHECK_EXCEPTION(hearth::read_file_beneath(t.path().string(), "d"), hearth::Error,
                          error_mentioning("not a regular file"));
}

BOOST_AUTO_TEST_CASE(write_beneath_creates_directories_and_replaces_atomically) {
    TempDir t;
    const std::string root = t.path().string();
    hearth::write_file_beneath(root, "frames/f1.png", "one", 0644);
    BOOST_TEST(slurp(t.file("frames/f1.png")) == "one");
    hearth::write_file_beneath(root, "frames/f1.png", "two", 0600);
    BOOST_TEST(slurp(t.file("frames/f1.png")) == "two");
    // No temporary file is left behind.
    std::size_t entries = 0;
    for (auto it = fs::directory_iterator(t.path() / "frames"); it != fs::directory_iterator(); ++it)
        ++entries;
    BOOST_TEST(entries == 1u);
}

BOOST_AUTO_TEST_CASE(write_beneath_never_writes_through_a_planted_symlink) {
    TempDir t, outside;
    const std::string root = t.path().string();
    spit(outside.file("victim"), "untouched");
    // A link at the final name is replaced by the file, the target unchanged.
    fs::create_symlink(outside.file("victim"), t.file("out.txt"));
    hearth::write_file_beneath(root, "out.txt", "data", 0644);
    BOOST_TEST(slurp(outside.file("victim")) == "untouched");
    BOOST_TEST(!fs::is_symlink(t.file("out.txt")));
    BOOST_TEST(slurp(t.file("out.txt")) == "data");
    // A link planted at the temporary name is removed, not opened.
    fs::create_symlink(outside.file("victim"), t.file(".x.txt.hearth-tmp"));
    hearth::write_file_beneath(root, "x.txt", "data", 0644);
    BOOST_TEST(slurp(outside.file("victim")) == "untouched");
    // A directory link on the way is refused, nothing written outside.
    fs::create_directory_symlink(outside.path(), t.file("frames"));
    BOOST_CHECK_EXCEPTION(hearth::write_file_beneath(root, "frames/victim", "data", 0644),
                          hearth::Error, error_mentioning("'frames' is a symbolic link"));
    BOOST_TEST(slurp(outside.file("victim")) == "untouched");
    BOOST_CHECK_EXCEPTION(hearth::write_file_beneath(root, "../escape", "data", 0644),
                          hearth::Error, error_mentioning("not a plain relative path"));
    BOOST_TEST(!fs::exists(t.path().parent_path() / "escape"));
}

BOOST_AUTO_TEST_SUITE_END()
