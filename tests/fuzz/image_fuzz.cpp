// Fuzz target: image bytes -> stb_image (PNG, JPEG, BMP, PPM/PGM) -> nnc's conversion: resize
// (both directions) and the tensor the models get.
#include "models/image_io.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] {
    const nnc::Image image = nnc::decode_image(nnc::fuzz::as_bytes(data, size), "fuzz.img");
    nnc::Preprocess pre;
    pre.size = std::pair{17, 11};
    (void)nnc::image_to_tensor(image, pre);
    (void)nnc::resize_image(image, image.width / 2 + 1, image.height * 2);
  });
  return 0;
}
