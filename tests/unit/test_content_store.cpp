// The content store (core/content_store): blobs addressed by SHA-256, written
// durably and idempotently; a corrupt, truncated or misaddressed upload is
// refused and leaves nothing behind.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

#include "core/content_store.hpp"
#include "core/error.hpp"
#include "support.hpp"

using hearth::ContentStore;
using hearth::Error;
using hearth::test::TempDir;
using hearth::test::usage_mentioning;
namespace fs = std::filesystem;

namespace {

// Every regular file under dir, blobs and temporaries alike.
std::size_t files_under(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(content_store)

BOOST_AUTO_TEST_CASE(known_digest_and_layout) {
    // SHA-256("abc"), FIPS 180-2's example.
    const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    BOOST_TEST(ContentStore::address_of("abc") == abc);
    TempDir dir;
    ContentStore store(dir.file("state"));
    store.put(abc, "abc");
    BOOST_TEST(store.has(abc));
    BOOST_TEST(store.get(abc) == "abc");
    BOOST_TEST(store.path(abc) == dir.file("state") + "/blobs/ba/" + abc);
    BOOST_TEST(fs::is_regular_file(store.path(abc)));
}

BOOST_AUTO_TEST_CASE(put_is_idempotent) {
    TempDir dir;
    ContentStore store(dir.path().string());
    const std::string data(100000, 'x');
    const std::string sha = ContentStore::address_of(data);
    store.put(sha, data);
    store.put(sha, data);
    BOOST_TEST(store.get(sha) == data);
    BOOST_TEST(files_under(dir.path()) == 1u);
}

BOOST_AUTO_TEST_CASE(empty_blob_round_trips) {
    TempDir dir;
    ContentStore store(dir.path().string());
    const std::string sha = ContentStore::address_of("");
    store.put(sha, "");
    BOOST_TEST(store.has(sha));
    BOOST_TEST(store.get(sha).empty());
}

BOOST_AUTO_TEST_CASE(truncated_upload_is_refused_and_leaves_nothing) {
    TempDir dir;
    ContentStore store(dir.path().string());
    const std::string data = "frame 0001 rendered\n";
    const std::string sha = ContentStore::address_of(data);
    BOOST_CHECK_EXCEPTION(store.put(sha, data.substr(0, 7)), Error, usage_mentioning("re-upload"));
    BOOST_TEST(!store.has(sha));
    BOOST_TEST(files_under(dir.path()) == 0u);
}

BOOST_AUTO_TEST_CASE(corrupt_upload_is_refused_with_http_400) {
    TempDir dir;
    ContentStore store(dir.path().string());
    std::string data = "seed block 17";
    const std::string sha = ContentStore::address_of(data);
    data[3] ^= 1;
    try {
        store.put(sha, data);
        BOOST_FAIL("a corrupt upload was accepted");
    } catch (const Error& e) {
        BOOST_TEST(e.http_status() == 400);
        BOOST_TEST(std::string(e.what()).find("does not match") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find(sha) != std::string::npos);
    }
    BOOST_TEST(files_under(dir.path()) == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_address_is_a_usage_error) {
    TempDir dir;
    ContentStore store(dir.path().string());
    BOOST_CHECK_EXCEPTION(store.put("../../etc/passwd", "x"), Error, usage_mentioning("SHA-256"));
    BOOST_CHECK_EXCEPTION(store.has(std::string(64, 'A')), Error, usage_mentioning("lowercase"));
    BOOST_TEST(files_under(dir.path()) == 0u);
}

BOOST_AUTO_TEST_CASE(absent_blob_is_404) {
    TempDir dir;
    ContentStore store(dir.path().string());
    const std::string sha(64, 'e');
    BOOST_TEST(!store.has(sha));
    try {
        store.get(sha);
        BOOST_FAIL("an absent blob was read");
    } catch (const Error& e) {
        BOOST_TEST(e.http_status() == 404);
    }
    BOOST_CHECK_THROW(store.path(sha), Error);
}

BOOST_AUTO_TEST_CASE(blobs_survive_reopening) {
    TempDir dir;
    const std::string sha = ContentStore::address_of("kept");
    {
        ContentStore store(dir.path().string());
        store.put(sha, "kept");
    }
    ContentStore again(dir.path().string());
    BOOST_TEST(again.get(sha) == "kept");
}

BOOST_AUTO_TEST_SUITE_END()
