#include "tensor_wrap.h"

#include <string>
#include <vector>

namespace splatcast {

Napi::Function TensorWrap::define(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {
                         InstanceAccessor<&TensorWrap::shape>("shape"),
                         InstanceAccessor<&TensorWrap::device>("device"),
                         InstanceAccessor<&TensorWrap::dtype>("dtype"),
                         InstanceAccessor<&TensorWrap::disposed>("disposed"),
                         InstanceMethod<&TensorWrap::upload>("upload"),
                         InstanceMethod<&TensorWrap::download>("download"),
                         InstanceMethod<&TensorWrap::copy_from>("copyFrom"),
                         InstanceMethod<&TensorWrap::fill_zero>("fillZero"),
                         InstanceMethod<&TensorWrap::dispose>("dispose"),
                     });
}

// new NativeTensor(device: 0 | 1, dtype: 0 | 1 | 2, shape: number[])
TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray())
    throw Napi::TypeError::New(env, "NativeTensor(device, dtype, shape) expects two numbers and an array");
  int device = info[0].As<Napi::Number>().Int32Value();
  int dtype = info[1].As<Napi::Number>().Int32Value();
  if (device < 0 || device > 1) throw Napi::RangeError::New(env, "device must be 0 (cpu) or 1 (cuda)");
  if (dtype < 0 || dtype > 2) throw Napi::RangeError::New(env, "dtype must be 0 (f32), 1 (i32) or 2 (u8)");
  Napi::Array dims = info[2].As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    Napi::Value d = dims.Get(i);
    if (!d.IsNumber() || d.As<Napi::Number>().DoubleValue() < 0)
      throw Napi::TypeError::New(env, "tensor shape entries must be non-negative integers");
    shape.push_back(d.As<Napi::Number>().Int64Value());
  }
  try {
    tensor_ = std::make_unique<Tensor>(static_cast<Device>(device), static_cast<DType>(dtype), shape);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (tensor_->device() == Device::Cuda && tensor_->bytes() > 0)
    Napi::MemoryManagement::AdjustExternalMemory(env, 0);  // GPU memory: not the JS heap's business
  else if (tensor_->bytes() > 0)
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(tensor_->bytes()));
}

Tensor& TensorWrap::live(const Napi::Env& env) {
  if (!tensor_) throw Napi::Error::New(env, "tensor was disposed");
  return *tensor_;
}

Tensor& TensorWrap::unwrap(const Napi::Value& value, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, std::string(what) + " must be a tensor");
  Napi::Object obj = value.As<Napi::Object>();
  // InstanceOf guards against foreign objects reaching the native cast.
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  if (!obj.InstanceOf(ctor->Value())) throw Napi::TypeError::New(env, std::string(what) + " must be a tensor");
  TensorWrap* wrap = Unwrap(obj);
  if (!wrap->tensor_) throw Napi::Error::New(env, std::string(what) + " was disposed");
  return *wrap->tensor_;
}

Napi::Value TensorWrap::shape(const Napi::CallbackInfo& info) {
  const auto& dims = live(info.Env()).shape();
  Napi::Array out = Napi::Array::New(info.Env(), dims.size());
  for (size_t i = 0; i < dims.size(); ++i) out.Set(i, Napi::Number::New(info.Env(), static_cast<double>(dims[i])));
  return out;
}
Napi::Value TensorWrap::device(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(live(info.Env()).device()));
}
Napi::Value TensorWrap::dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(live(info.Env()).dtype()));
}
Napi::Value TensorWrap::disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !tensor_); }

// upload(typedArray): byte length must match exactly.
Napi::Value TensorWrap::upload(const Napi::CallbackInfo& info) {
  Tensor& t = live(info.Env());
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "upload expects a typed array");
  Napi::TypedArray src = info[0].As<Napi::TypedArray>();
  uint8_t* bytes = static_cast<uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset();
  try {
    t.copy_from_host(bytes, src.ByteLength());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

// download(target?: typedArray): fills `target` or a new array of the tensor's type.
Napi::Value TensorWrap::download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Tensor& t = live(env);
  Napi::TypedArray out;
  if (info.Length() >= 1 && info[0].IsTypedArray()) {
    out = info[0].As<Napi::TypedArray>();
  } else {
    size_t n = static_cast<size_t>(t.numel());
    if (t.dtype() == DType::F32) out = Napi::Float32Array::New(env, n);
    else if (t.dtype() == DType::I32) out = Napi::Int32Array::New(env, n);
    else out = Napi::Uint8Array::New(env, n);
  }
  uint8_t* bytes = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset();
  try {
    t.copy_to_host(bytes, out.ByteLength());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return out;
}

Napi::Value TensorWrap::copy_from(const Napi::CallbackInfo& info) {
  Tensor& t = live(info.Env());
  Tensor& src = unwrap(info[0], "copyFrom source");
  try {
    t.copy_from(src);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

Napi::Value TensorWrap::fill_zero(const Napi::CallbackInfo& info) {
  try {
    live(info.Env()).fill_zero();
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

Napi::Value TensorWrap::dispose(const Napi::CallbackInfo& info) {
  if (tensor_ && tensor_->device() == Device::Cpu)
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -static_cast<int64_t>(tensor_->bytes()));
  tensor_.reset();
  return info.Env().Undefined();
}

}  // namespace splatcast
