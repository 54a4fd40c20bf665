#include "composite_math.h"

namespace splatcast {

void composite_cpu(const CompositeArgs& a) {
  for (int image = 0; image < a.images; ++image) {
    for (int y = 0; y < a.height; ++y)
      for (int x = 0; x < a.width; ++x) dilate_row_pixel(a, image, y, x);
    for (int y = 0; y < a.height; ++y)
      for (int x = 0; x < a.width; ++x) composite_pixel(a, image, y, x);
  }
}

}  // namespace splatcast
