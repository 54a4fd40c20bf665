#include "rgb_to_i420_math.h"

namespace splatcast {

void rgb_to_i420_cpu(const RgbToI420Args& a) {
  for (int image = 0; image < a.images; ++image)
    for (int by = 0; by < a.height / 2; ++by)
      for (int bx = 0; bx < a.width / 2; ++bx) i420_block(a, image, by, bx);
}

}  // namespace splatcast
