// Tensor as a JavaScript object. A disposed tensor refuses every call before it reaches native code.
#pragma once
#include <napi.h>

#include <memory>

#include "../core/tensor.h"

namespace splatcast {

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit TensorWrap(const Napi::CallbackInfo& info);
  // The live tensor behind a JS value; throws a TypeError naming `what` otherwise.
  static Tensor& unwrap(const Napi::Value& value, const char* what);

 private:
  Napi::Value shape(const Napi::CallbackInfo& info);
  Napi::Value device(const Napi::CallbackInfo& info);
  Napi::Value dtype(const Napi::CallbackInfo& info);
  Napi::Value upload(const Napi::CallbackInfo& info);
  Napi::Value download(const Napi::CallbackInfo& info);
  Napi::Value copy_from(const Napi::CallbackInfo& info);
  Napi::Value fill_zero(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);
  Tensor& live(const Napi::Env& env);

  std::unique_ptr<Tensor> tensor_;
};

}  // namespace splatcast
