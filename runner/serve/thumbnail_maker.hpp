#pragma once
// Makes (once) and finds the thumbnail of a blob of the content store:
// STATE/thumbs/ab/SHA.png, written by ffmpeg under a temporary name and
// renamed into place, so a reader never sees half a file and two requests
// for the same blob at once both end with the same thumbnail.
#include <string>

namespace hearth {

// The thumbnail of the blob at blob_path (content SHA sha) under state_dir:
// its path. Throws Error with HTTP 415 when the blob is no image ffmpeg is
// asked to read, 503 when ffmpeg is missing, 500 when it fails.
std::string blob_thumbnail(const std::string& state_dir, const std::string& sha,
                           const std::string& blob_path);

}  // namespace hearth
