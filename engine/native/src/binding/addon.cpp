// The addon's entry point: the tensor class, device discovery and the op table.
#include <napi.h>

#include <string>

#include "../core/cuda_runtime.h"
#include "ops.h"
#include "tensor_wrap.h"

namespace splatcast {

namespace {
// cudaInfo() -> { compiledIn, available, reason?, name?, freeBytes?, totalBytes? }
Napi::Value cuda_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  std::string why;
  bool available = cuda::available(&why);
  out.Set("compiledIn", Napi::Boolean::New(env, cuda::compiled_in()));
  out.Set("available", Napi::Boolean::New(env, available));
  if (!available) {
    out.Set("reason", Napi::String::New(env, why));
    return out;
  }
  try {
    size_t free_bytes = 0, total_bytes = 0;
    cuda::memory_info(&free_bytes, &total_bytes);
    out.Set("name", Napi::String::New(env, cuda::device_name()));
    out.Set("freeBytes", Napi::Number::New(env, static_cast<double>(free_bytes)));
    out.Set("totalBytes", Napi::Number::New(env, static_cast<double>(total_bytes)));
  } catch (const std::exception& e) {
    out.Set("available", Napi::Boolean::New(env, false));
    out.Set("reason", Napi::String::New(env, e.what()));
  }
  return out;
}

Napi::Value synchronize(const Napi::CallbackInfo& info) {
  try {
    cuda::synchronize();
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}
}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  Napi::Function tensor = TensorWrap::define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(tensor)));
  exports.Set("NativeTensor", tensor);
  exports.Set("cudaInfo", Napi::Function::New(env, cuda_info));
  exports.Set("synchronize", Napi::Function::New(env, synchronize));
  exports.Set("RasterWorkspace", binding::raster_workspace_class(env));
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Entry ops[] = {
      {"hashgridLayout", binding::hashgrid_layout},
      {"triplaneHashgridForward", binding::triplane_hashgrid_forward},
      {"triplaneHashgridBackward", binding::triplane_hashgrid_backward},
      {"mlpLayout", binding::mlp_layout},
      {"mlpForward", binding::mlp_forward},
      {"mlpBackward", binding::mlp_backward},
      {"audioNetLayout", binding::audio_net_layout},
      {"audioNetForward", binding::audio_net_forward},
      {"audioNetBackward", binding::audio_net_backward},
      {"audioAttNetLayout", binding::audio_att_net_layout},
      {"audioAttNetForward", binding::audio_att_net_forward},
      {"audioAttNetBackward", binding::audio_att_net_backward},
      {"faceMotionLayout", binding::face_motion_layout},
      {"faceMotionForward", binding::face_motion_forward},
      {"faceMotionBackward", binding::face_motion_backward},
      {"mouthMotionLayout", binding::mouth_motion_layout},
      {"mouthMotionForward", binding::mouth_motion_forward},
      {"mouthMotionBackward", binding::mouth_motion_backward},
      {"gatherRows", binding::gather_rows},
      {"gatherRowsBackward", binding::gather_rows_backward},
      {"alignerApply", binding::aligner_apply},
      {"alignerApplyBackward", binding::aligner_apply_backward},
      {"deformGaussians", binding::deform_gaussians},
      {"deformGaussiansBackward", binding::deform_gaussians_backward},
      {"hookFeatures", binding::hook_features},
      {"hookFeaturesBackward", binding::hook_features_backward},
      {"composite", binding::composite},
      {"compositeBackward", binding::composite_backward},
      {"l1Loss", binding::l1_loss},
      {"dssimLoss", binding::dssim_loss},
      {"rgbToI420", binding::rgb_to_i420},
      {"adamStep", binding::adam_step},
      {"densifyStats", binding::densify_stats},
      {"squaredNorm", binding::squared_norm},
      {"contrastLoss", binding::contrast_loss},
      {"axpy", binding::axpy},
      {"geometryLoss", binding::geometry_loss},
  };
  for (const Entry& op : ops) exports.Set(op.name, Napi::Function::New(env, op.fn, op.name));
  return exports;
}

}  // namespace splatcast

static Napi::Object init_addon(Napi::Env env, Napi::Object exports) { return splatcast::init(env, exports); }

NODE_API_MODULE(splatcast_engine, init_addon)
