// Thumbnails (core/thumbnail): which blobs are images, by their first bytes,
// and the ffmpeg call that scales one down.
#include <boost/test/unit_test.hpp>

#include "core/thumbnail.hpp"

using Words = std::vector<std::string>;

BOOST_AUTO_TEST_SUITE(thumbnail)

BOOST_AUTO_TEST_CASE(image_kinds_by_their_magic_numbers) {
    BOOST_TEST(hearth::image_kind(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)) == "png");
    BOOST_TEST(hearth::image_kind(std::string("\xff\xd8\xff\xe0\0\x10JFIF", 10)) == "jpeg");
    BOOST_TEST(hearth::image_kind(std::string("\x76\x2f\x31\x01\x02\0\0\0", 8)) == "exr");
    BOOST_TEST(hearth::image_kind(std::string("II*\0\x08\0\0\0", 8)) == "tiff");
    BOOST_TEST(hearth::image_kind(std::string("MM\0*\0\0\0\x08", 8)) == "tiff");
    BOOST_TEST(hearth::image_kind("BLENDER-v304") == "");
    BOOST_TEST(hearth::image_kind("\x89PN") == "");  // cut short
    BOOST_TEST(hearth::image_kind("") == "");
}

BOOST_AUTO_TEST_CASE(ffmpeg_fits_the_image_in_a_square_without_enlarging_it) {
    const Words a = hearth::thumbnail_argv("/usr/bin/ffmpeg", "/s/blobs/ab/abc",
                                           "/s/thumbs/ab/abc.tmp.png", 160);
    BOOST_TEST(
        a == (Words{"/usr/bin/ffmpeg", "-v", "error", "-nostdin", "-y", "-i", "/s/blobs/ab/abc",
                    "-frames:v", "1", "-vf",
                    "scale='min(160,iw)':'min(160,ih)':force_original_aspect_ratio=decrease", "-f",
                    "image2", "-c:v", "png", "-pix_fmt", "rgb24", "/s/thumbs/ab/abc.tmp.png"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
