#include <cmath>
#include <string>

#include "../ops/gaussian_deform.h"
#include "args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
// A deltas column where `width` values start; -1 (absent) only when `optional`.
int32_t column_arg(const Napi::Object& o, const char* key, int32_t width, int64_t stride, bool optional) {
  int32_t c = int_arg(o, key, -1);
  if (optional && c == -1) return c;
  if (c < 0 || c + width > stride)
    fail(std::string("option ") + key + " must be " + (optional ? "-1 (absent) or " : "") + "0.." +
         std::to_string(stride - width) + " so that its " + std::to_string(width) + " values fit in the " +
         std::to_string(stride) + " deltas columns, got " + std::to_string(c));
  return c;
}
}  // namespace

Napi::Value gather_rows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    GatherRowsArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    Tensor& out = tensor_on(info[3], "out", device, DType::F32, {a.seg.rows(), -1});
    if (out.shape()[1] < 1) fail("out must have at least one column, got " + out.describe());
    a.columns = static_cast<int32_t>(out.shape()[1]);
    a.sources = per_segment_rows_f32(info[2], "sources", a.seg, device, a.columns);
    a.out = out.ptr<float>();
    SC_DISPATCH(device, gather_rows, a);
    return info.Env().Undefined();
  });
}

Napi::Value aligner_apply(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AlignerApplyArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.means = per_segment_rows_f32(info[2], "means", a.seg, device, 3);
    a.raw = tensor_on(info[3], "raw", device, DType::F32, {rows, 6}).ptr<float>();
    a.query = tensor_on(info[4], "query", device, DType::F32, {rows, 3}).ptr<float>();
    a.tau = tensor_on(info[5], "tau", device, DType::F32, {rows, 3}).ptr<float>();
    SC_DISPATCH(device, aligner_apply, a);
    return info.Env().Undefined();
  });
}

Napi::Value deform_gaussians(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    DeformGaussiansArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.means = per_segment_rows_f32(info[2], "means", a.seg, device, 3);
    a.rotations = per_segment_rows_f32(info[3], "rotations", a.seg, device, 4);
    a.scales = per_segment_rows_f32(info[4], "scales", a.seg, device, 3);
    Tensor& deltas = tensor_on(info[5], "deltas", device, DType::F32, {rows, -1});
    a.deltas = deltas.ptr<float>();
    a.stride = static_cast<int32_t>(deltas.shape()[1]);
    a.tau = info[6].IsNull() || info[6].IsUndefined()
                ? nullptr
                : tensor_on(info[6], "tau", device, DType::F32, {rows, 3}).ptr<float>();
    if (!info[7].IsObject()) fail("deformGaussians options must be an object");
    Napi::Object o = info[7].As<Napi::Object>();
    a.xyz_column = column_arg(o, "xyzColumn", 3, a.stride, false);
    a.rotation_column = column_arg(o, "rotationColumn", 4, a.stride, true);
    a.scale_column = column_arg(o, "scaleColumn", 3, a.stride, true);
    a.displacement_scale = float_arg(o, "displacementScale", NAN);
    if (!std::isfinite(a.displacement_scale)) fail("option displacementScale must be a finite number");
    a.out_means = tensor_on(info[8], "outMeans", device, DType::F32, {rows, 3}).ptr<float>();
    a.out_rotations = tensor_on(info[9], "outRotations", device, DType::F32, {rows, 4}).ptr<float>();
    a.out_scales = tensor_on(info[10], "outScales", device, DType::F32, {rows, 3}).ptr<float>();
    a.out_displacement = tensor_on(info[11], "outDisplacement", device, DType::F32, {rows, 3}).ptr<float>();
    SC_DISPATCH(device, deform_gaussians, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
