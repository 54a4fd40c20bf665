#include "grad_args.h"

namespace splatcast {

namespace {
// The checked read-only table, made writable: the tensors behind it are the caller's gradient buffers.
PerSegment<float*> writable(const PerSegment<const float*>& table, const Segments& segments) {
  PerSegment<float*> out;
  for (int32_t s = 0; s < segments.count; ++s) out.at[s] = const_cast<float*>(table.at[s]);
  return out;
}
}  // namespace

PerSegment<float*> per_segment_grad_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                        Device device, int64_t min_elements) {
  return writable(per_segment_f32(value, name, segments, device, min_elements), segments);
}

PerSegment<float*> per_segment_grad_rows_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                             Device device, int64_t width) {
  return writable(per_segment_rows_f32(value, name, segments, device, width), segments);
}

PerSegment<float*> optional_per_segment_grad_rows_f32(const Napi::Value& value, const char* name,
                                                      const Segments& segments, Device device, int64_t width) {
  if (is_absent(value)) return {};
  return per_segment_grad_rows_f32(value, name, segments, device, width);
}

float* optional_f32(const Napi::Value& value, const char* name, Device device, std::initializer_list<int64_t> shape) {
  if (is_absent(value)) return nullptr;
  return tensor_on(value, name, device, DType::F32, shape).ptr<float>();
}

}  // namespace splatcast
