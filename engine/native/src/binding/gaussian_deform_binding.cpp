#include <cmath>
#include <string>

#include "../ops/gaussian_deform.h"
#include "args.h"
#include "grad_args.h"
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

struct DeltaColumns {
  int32_t xyz, rotation, scale;
  float displacement_scale;
};

// {xyzColumn, rotationColumn, scaleColumn, displacementScale}, checked against the deltas' stride.
DeltaColumns delta_columns_arg(const Napi::Value& value, const char* op, int64_t stride) {
  if (!value.IsObject()) fail(std::string(op) + " options must be an object");
  Napi::Object o = value.As<Napi::Object>();
  DeltaColumns c{column_arg(o, "xyzColumn", 3, stride, false), column_arg(o, "rotationColumn", 4, stride, true),
                 column_arg(o, "scaleColumn", 3, stride, true), float_arg(o, "displacementScale", NAN)};
  if (!std::isfinite(c.displacement_scale)) fail("option displacementScale must be a finite number");
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
    const DeltaColumns columns = delta_columns_arg(info[7], "deformGaussians", a.stride);
    a.xyz_column = columns.xyz;
    a.rotation_column = columns.rotation;
    a.scale_column = columns.scale;
    a.displacement_scale = columns.displacement_scale;
    a.out_means = tensor_on(info[8], "outMeans", device, DType::F32, {rows, 3}).ptr<float>();
    a.out_rotations = tensor_on(info[9], "outRotations", device, DType::F32, {rows, 4}).ptr<float>();
    a.out_scales = tensor_on(info[10], "outScales", device, DType::F32, {rows, 3}).ptr<float>();
    a.out_displacement = tensor_on(info[11], "outDisplacement", device, DType::F32, {rows, 3}).ptr<float>();
    SC_DISPATCH(device, deform_gaussians, a);
    return info.Env().Undefined();
  });
}

Napi::Value gather_rows_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    GatherRowsBackwardArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    Tensor& grad_out = tensor_on(info[2], "gradOut", device, DType::F32, {a.seg.rows(), -1});
    if (grad_out.shape()[1] < 1) fail("gradOut must have at least one column, got " + grad_out.describe());
    a.columns = static_cast<int32_t>(grad_out.shape()[1]);
    a.grad_out = grad_out.ptr<float>();
    a.grad_sources = per_segment_grad_rows_f32(info[3], "gradSources", a.seg, device, a.columns);
    SC_DISPATCH(device, gather_rows_backward, a);
    return info.Env().Undefined();
  });
}

Napi::Value aligner_apply_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    AlignerApplyBackwardArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.raw = tensor_on(info[2], "raw", device, DType::F32, {rows, 6}).ptr<float>();
    a.grad_query = optional_f32(info[3], "gradQuery", device, {rows, 3});
    a.grad_tau = optional_f32(info[4], "gradTau", device, {rows, 3});
    a.grad_raw = tensor_on(info[5], "gradRaw", device, DType::F32, {rows, 6}).ptr<float>();
    a.grad_means = optional_per_segment_grad_rows_f32(info[6], "gradMeans", a.seg, device, 3);
    SC_DISPATCH(device, aligner_apply_backward, a);
    return info.Env().Undefined();
  });
}

Napi::Value deform_gaussians_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    DeformGaussiansBackwardArgs a{};
    a.seg = segments_arg(info[1], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.rotations = per_segment_rows_f32(info[2], "rotations", a.seg, device, 4);
    a.scales = per_segment_rows_f32(info[3], "scales", a.seg, device, 3);
    Tensor& deltas = tensor_on(info[4], "deltas", device, DType::F32, {rows, -1});
    a.deltas = deltas.ptr<float>();
    a.stride = static_cast<int32_t>(deltas.shape()[1]);
    a.tau = optional_f32(info[5], "tau", device, {rows, 3});
    const DeltaColumns columns = delta_columns_arg(info[6], "deformGaussiansBackward", a.stride);
    a.xyz_column = columns.xyz;
    a.rotation_column = columns.rotation;
    a.scale_column = columns.scale;
    a.displacement_scale = columns.displacement_scale;
    a.grad_means = tensor_on(info[7], "gradMeans", device, DType::F32, {rows, 3}).ptr<float>();
    a.grad_rotations = optional_f32(info[8], "gradRotations", device, {rows, 4});
    a.grad_scales = optional_f32(info[9], "gradScales", device, {rows, 3});
    a.grad_displacement = optional_f32(info[10], "gradDisplacement", device, {rows, 3});
    a.grad_deltas = tensor_on(info[11], "gradDeltas", device, DType::F32, {rows, a.stride}).ptr<float>();
    a.grad_tau = optional_f32(info[12], "gradTau", device, {rows, 3});
    if (a.grad_tau && !a.tau) fail("gradTau needs tau: without tau the displacement scale is the constant 1");
    a.grad_base_means = optional_per_segment_grad_rows_f32(info[13], "gradBaseMeans", a.seg, device, 3);
    a.grad_base_rotations = optional_per_segment_grad_rows_f32(info[14], "gradBaseRotations", a.seg, device, 4);
    a.grad_base_scales = optional_per_segment_grad_rows_f32(info[15], "gradBaseScales", a.seg, device, 3);
    SC_DISPATCH(device, deform_gaussians_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
