#include "../core/parallel.h"
#include "axpy.h"

namespace splatcast {

void axpy_cpu(const AxpyArgs& a) {
  parallel_for(a.n, 65536, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) axpy_at(a, i);
  });
}

}  // namespace splatcast
