// Argument checking for the backward ops: writable gradient buffers, and tensors a caller may leave out (null).
#pragma once
#include <napi.h>

#include <initializer_list>

#include "args.h"

namespace splatcast {

// One writable f32 tensor per segment (a per-identity gradient buffer). Segments of the same identity may pass the
// same tensor: every backward accumulates into these without races.
PerSegment<float*> per_segment_grad_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                        Device device, int64_t min_elements);
// One writable [rows_of(s), width] f32 tensor per segment.
PerSegment<float*> per_segment_grad_rows_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                             Device device, int64_t width);
// Like per_segment_grad_rows_f32, or an empty table when `value` is null or undefined.
PerSegment<float*> optional_per_segment_grad_rows_f32(const Napi::Value& value, const char* name,
                                                      const Segments& segments, Device device, int64_t width);
// An f32 tensor of `shape` on `device`, or nullptr when `value` is null or undefined.
float* optional_f32(const Napi::Value& value, const char* name, Device device, std::initializer_list<int64_t> shape);

inline bool is_absent(const Napi::Value& value) { return value.IsNull() || value.IsUndefined(); }

}  // namespace splatcast
