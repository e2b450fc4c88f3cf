#include "thumbnail.hpp"

namespace hearth {

std::string image_kind(const std::string& head) {
    const auto starts = [&](const std::string& magic) {
        return head.compare(0, magic.size(), magic) == 0;
    };
    if (starts(std::string("\x89PNG\r\n\x1a\n", 8))) return "png";
    if (starts(std::string("\xff\xd8\xff", 3))) return "jpeg";
    if (starts(std::string("\x76\x2f\x31\x01", 4))) return "exr";
    if (starts(std::string("II*\0", 4)) || starts(std::string("MM\0*", 4))) return "tiff";
    return "";
}

std::vector<std::string> thumbnail_argv(const std::string& ffmpeg, const std::string& src,
                                        const std::string& dst, int px) {
    const std::string n = std::to_string(px);
    // min(px, iw): small images stay as they are; -2: the other side even.
    const std::string fit =
        "scale='min(" + n + ",iw)':'min(" + n + ",ih)':force_original_aspect_ratio=decrease";
    return {ffmpeg, "-v", "error", "-nostdin", "-y",   "-i",  src,        "-frames:v", "1",
            "-vf",  fit,  "-f",    "image2",   "-c:v", "png", "-pix_fmt", "rgb24",     dst};
}

}  // namespace hearth
