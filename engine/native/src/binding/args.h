// Argument checking shared by every op binding: each op's glue stays a few lines long.
#pragma once
#include <napi.h>

#include <initializer_list>
#include <string>

#include "../core/segments.h"
#include "../core/tensor.h"
#include "tensor_wrap.h"

namespace splatcast {

// Checks dtype, device and shape (-1 = any size). `name` appears in the error.
Tensor& tensor_arg(const Napi::Value& value, const char* name, DType dtype, std::initializer_list<int64_t> shape);
// Like tensor_arg but also requires the tensor to live on `device`.
Tensor& tensor_on(const Napi::Value& value, const char* name, Device device, DType dtype,
                  std::initializer_list<int64_t> shape);
// An f32 tensor on `device` of any shape holding `numel` values (-1: any count): elementwise ops (the optimiser)
// treat every tensor as a flat vector.
Tensor& flat_f32(const Napi::Value& value, const char* name, Device device, int64_t numel);
Segments segments_arg(const Napi::Value& value, const char* name);
// One tensor per segment, each on `device`, each holding at least `min_elements` values.
PerSegment<const float*> per_segment_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                         Device device, int64_t min_elements);
// One [rows_of(s), width] f32 tensor per segment: per-identity row data (Gaussian attributes) read at local rows.
PerSegment<const float*> per_segment_rows_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                              Device device, int64_t width);
// One u8 tensor of exactly `shape` per segment (per-segment images such as background plates).
PerSegment<const uint8_t*> per_segment_u8(const Napi::Value& value, const char* name, const Segments& segments,
                                          Device device, std::initializer_list<int64_t> shape);
int32_t int_arg(const Napi::Object& options, const char* key, int32_t fallback);
float float_arg(const Napi::Object& options, const char* key, float fallback);
Device device_arg(const Napi::Value& value);

[[noreturn]] void fail(const std::string& message);

// Runs an op body, turning C++ exceptions into JavaScript errors.
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

}  // namespace splatcast

// Dispatches `<fn>_cpu(args)` or `<fn>_cuda(args)`; builds without CUDA refuse the CUDA path.
#ifdef SPLATCAST_CUDA
#define SC_DISPATCH(device, fn, args) \
  do { if ((device) == ::splatcast::Device::Cuda) fn##_cuda(args); else fn##_cpu(args); } while (0)
#else
#define SC_DISPATCH(device, fn, args)                                                            \
  do {                                                                                           \
    if ((device) == ::splatcast::Device::Cuda) ::splatcast::fail("built without CUDA: " #fn);    \
    fn##_cpu(args);                                                                              \
  } while (0)
#endif
