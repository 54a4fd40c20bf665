#include "../ops/triplane_hashgrid.h"
#include "args.h"
#include "grad_args.h"
#include "ops.h"

namespace splatcast::binding {

namespace {
HashgridLayout layout_arg(const Napi::Value& value) {
  if (!value.IsObject()) fail("hashgrid config must be an object");
  Napi::Object o = value.As<Napi::Object>();
  HashgridConfig c;
  c.levels = int_arg(o, "levels", c.levels);
  c.features = int_arg(o, "features", c.features);
  c.log2_table = int_arg(o, "log2Table", c.log2_table);
  c.base_resolution = float_arg(o, "baseResolution", c.base_resolution);
  c.max_resolution = float_arg(o, "maxResolution", c.max_resolution);
  c.bound = float_arg(o, "bound", c.bound);
  return make_hashgrid_layout(c);
}
}  // namespace

Napi::Value hashgrid_layout(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    HashgridLayout L = layout_arg(info[0]);
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("paramCount", Napi::Number::New(env, static_cast<double>(L.param_count())));
    out.Set("outputDim", Napi::Number::New(env, L.output_dim()));
    Napi::Array res = Napi::Array::New(env, L.levels), entries = Napi::Array::New(env, L.levels);
    for (int l = 0; l < L.levels; ++l) {
      res.Set(l, Napi::Number::New(env, L.resolution[l]));
      entries.Set(l, Napi::Number::New(env, L.entries[l]));
    }
    out.Set("resolution", res);
    out.Set("entries", entries);
    return out;
  });
}

Napi::Value triplane_hashgrid_forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    TriplaneHashgridArgs a{};
    a.layout = layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows();
    a.xyz = tensor_on(info[3], "xyz", device, DType::F32, {rows, 3}).ptr<float>();
    a.tables = per_segment_f32(info[4], "tables", a.seg, device, a.layout.param_count());
    a.out = tensor_on(info[5], "out", device, DType::F32, {rows, a.layout.output_dim()}).ptr<float>();
    SC_DISPATCH(device, triplane_hashgrid_forward, a);
    return info.Env().Undefined();
  });
}

Napi::Value triplane_hashgrid_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Device device = device_arg(info[0]);
    TriplaneHashgridBackwardArgs a{};
    a.layout = layout_arg(info[1]);
    a.seg = segments_arg(info[2], "rowCounts");
    const int64_t rows = a.seg.rows(), params = a.layout.param_count();
    a.xyz = tensor_on(info[3], "xyz", device, DType::F32, {rows, 3}).ptr<float>();
    a.tables = per_segment_f32(info[4], "tables", a.seg, device, params);
    a.grad_out = tensor_on(info[5], "gradOut", device, DType::F32, {rows, a.layout.output_dim()}).ptr<float>();
    a.grad_tables = per_segment_grad_f32(info[6], "gradTables", a.seg, device, params);
    a.grad_xyz = optional_f32(info[7], "gradXyz", device, {rows, 3});
    SC_DISPATCH(device, triplane_hashgrid_backward, a);
    return info.Env().Undefined();
  });
}

}  // namespace splatcast::binding
