#include "args.h"

#include <sstream>
#include <stdexcept>

namespace splatcast {

void fail(const std::string& message) { throw std::invalid_argument(message); }

namespace {
std::string shape_text(std::initializer_list<int64_t> shape) {
  std::ostringstream out;
  out << "[";
  size_t i = 0;
  for (int64_t d : shape) out << (i++ ? "," : "") << (d < 0 ? std::string("*") : std::to_string(d));
  out << "]";
  return out.str();
}
const char* dtype_name(DType t) { return t == DType::F32 ? "f32" : t == DType::I32 ? "i32" : "u8"; }
}  // namespace

Tensor& tensor_arg(const Napi::Value& value, const char* name, DType dtype, std::initializer_list<int64_t> shape) {
  Tensor& t = TensorWrap::unwrap(value, name);
  bool ok = t.dtype() == dtype && t.shape().size() == shape.size();
  size_t i = 0;
  for (int64_t d : shape) {
    if (!ok) break;
    ok = d < 0 || t.shape()[i] == d;
    ++i;
  }
  if (!ok) fail(std::string(name) + " must be " + dtype_name(dtype) + shape_text(shape) + ", got " + t.describe());
  return t;
}

Tensor& tensor_on(const Napi::Value& value, const char* name, Device device, DType dtype,
                  std::initializer_list<int64_t> shape) {
  Tensor& t = tensor_arg(value, name, dtype, shape);
  if (t.device() != device)
    fail(std::string(name) + " is on " + t.describe() + " but the op runs on " + (device == Device::Cpu ? "cpu" : "cuda"));
  return t;
}

Tensor& flat_f32(const Napi::Value& value, const char* name, Device device, int64_t numel) {
  Tensor& t = TensorWrap::unwrap(value, name);
  if (t.dtype() != DType::F32 || (numel >= 0 && t.numel() != numel))
    fail(std::string(name) + " must be an f32 tensor of " + (numel >= 0 ? std::to_string(numel) : std::string("any")) +
         " values, got " + t.describe());
  if (t.device() != device)
    fail(std::string(name) + " is on " + t.describe() + " but the op runs on " + (device == Device::Cpu ? "cpu" : "cuda"));
  return t;
}

// Accepts an array of per-segment row counts.
Segments segments_arg(const Napi::Value& value, const char* name) {
  if (!value.IsArray()) fail(std::string(name) + " must be an array of row counts, one per segment");
  Napi::Array counts = value.As<Napi::Array>();
  if (counts.Length() == 0 || counts.Length() > static_cast<uint32_t>(kMaxSegments))
    fail(std::string(name) + " must hold 1 to " + std::to_string(kMaxSegments) + " segments, got " +
         std::to_string(counts.Length()));
  Segments seg;
  seg.count = static_cast<int32_t>(counts.Length());
  for (uint32_t s = 0; s < counts.Length(); ++s) {
    Napi::Value c = counts.Get(s);
    if (!c.IsNumber() || c.As<Napi::Number>().Int64Value() < 0) fail(std::string(name) + " counts must be >= 0");
    int64_t next = static_cast<int64_t>(seg.offset[s]) + c.As<Napi::Number>().Int64Value();
    if (next > INT32_MAX) fail(std::string(name) + " holds more than 2^31 rows");
    seg.offset[s + 1] = static_cast<int32_t>(next);
  }
  return seg;
}

PerSegment<const float*> per_segment_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                         Device device, int64_t min_elements) {
  if (!value.IsArray()) fail(std::string(name) + " must be an array of tensors, one per segment");
  Napi::Array list = value.As<Napi::Array>();
  if (static_cast<int32_t>(list.Length()) != segments.count)
    fail(std::string(name) + " has " + std::to_string(list.Length()) + " tensors for " +
         std::to_string(segments.count) + " segments");
  PerSegment<const float*> out;
  for (int32_t s = 0; s < segments.count; ++s) {
    std::string label = std::string(name) + "[" + std::to_string(s) + "]";
    Tensor& t = TensorWrap::unwrap(list.Get(static_cast<uint32_t>(s)), label.c_str());
    if (t.dtype() != DType::F32 || t.device() != device || t.numel() < min_elements)
      fail(label + " must be a " + (device == Device::Cpu ? "cpu" : "cuda") + " f32 tensor of at least " +
           std::to_string(min_elements) + " values, got " + t.describe());
    out.at[s] = t.ptr<float>();
  }
  return out;
}

int32_t int_arg(const Napi::Object& options, const char* key, int32_t fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) fail(std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

float float_arg(const Napi::Object& options, const char* key, float fallback) {
  Napi::Value v = options.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) fail(std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().FloatValue();
}

Device device_arg(const Napi::Value& value) {
  if (!value.IsNumber()) fail("device must be 0 (cpu) or 1 (cuda)");
  int d = value.As<Napi::Number>().Int32Value();
  if (d != 0 && d != 1) fail("device must be 0 (cpu) or 1 (cuda)");
  return static_cast<Device>(d);
}

namespace {
Napi::Array per_segment_list(const Napi::Value& value, const char* name, const Segments& segments) {
  if (!value.IsArray()) fail(std::string(name) + " must be an array of tensors, one per segment");
  Napi::Array list = value.As<Napi::Array>();
  if (static_cast<int32_t>(list.Length()) != segments.count)
    fail(std::string(name) + " has " + std::to_string(list.Length()) + " tensors for " +
         std::to_string(segments.count) + " segments");
  return list;
}
}  // namespace

PerSegment<const float*> per_segment_rows_f32(const Napi::Value& value, const char* name, const Segments& segments,
                                              Device device, int64_t width) {
  Napi::Array list = per_segment_list(value, name, segments);
  PerSegment<const float*> out;
  for (int32_t s = 0; s < segments.count; ++s) {
    std::string label = std::string(name) + "[" + std::to_string(s) + "]";
    out.at[s] = tensor_on(list.Get(static_cast<uint32_t>(s)), label.c_str(), device, DType::F32,
                          {segments.rows_of(s), width})
                    .ptr<float>();
  }
  return out;
}

PerSegment<const uint8_t*> per_segment_u8(const Napi::Value& value, const char* name, const Segments& segments,
                                          Device device, std::initializer_list<int64_t> shape) {
  Napi::Array list = per_segment_list(value, name, segments);
  PerSegment<const uint8_t*> out;
  for (int32_t s = 0; s < segments.count; ++s) {
    std::string label = std::string(name) + "[" + std::to_string(s) + "]";
    out.at[s] = tensor_on(list.Get(static_cast<uint32_t>(s)), label.c_str(), device, DType::U8, shape).ptr<uint8_t>();
  }
  return out;
}

}  // namespace splatcast
