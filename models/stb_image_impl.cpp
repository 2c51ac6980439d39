// models/stb_image_impl.cpp — stb_image and stb_image_write (Debian's libstb-dev), compiled
// once, in a file of their own so that the sanitized builds can treat them apart (CMakeLists.txt).
//
// Only the formats nnc documents: every decoder compiled in is attack surface for a hostile file
// (stb_image's GIF, PSD, HDR and PIC readers have had the most bugs). models/image_io.cpp guards
// the bugs of stb_image 2.27 that reach memory before stb sees a file.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO_WARNINGS
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>
