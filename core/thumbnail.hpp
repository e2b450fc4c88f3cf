#pragma once
// Thumbnails of collected images (the Jobs view's frame grid): which blobs
// are images, and the ffmpeg call that scales one into a small PNG. Pure;
// runner/thumbnail_maker runs it. ffmpeg (Debian's, the same the Blender
// example merges videos with) decodes PNG, JPEG, EXR, TIFF and more: no
// decoder of Hearth's own.
#include <string>
#include <vector>

namespace hearth {

// The longest side of a thumbnail, pixels.
inline constexpr int k_thumbnail_px = 160;

// "png", "jpeg", "exr", "tiff" or "" from a file's first bytes.
std::string image_kind(const std::string& head);

// ffmpeg's arguments (argv[0] included) scaling src down to fit px x px
// (never up), keeping its aspect, into the PNG dst; one frame, no prompts.
std::vector<std::string> thumbnail_argv(const std::string& ffmpeg, const std::string& src,
                                        const std::string& dst, int px = k_thumbnail_px);

}  // namespace hearth
