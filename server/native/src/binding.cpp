// Node-API binding of the video encoders: `new VideoEncoder(options)`, `encode(i420, frameIndex, keyframe)` runs on
// the libuv pool (many sessions encode in parallel) and resolves to {data, keyframe}; `setBitrate` takes effect
// from the next frame; `close` frees the encoder once no encode is running. Arguments are checked here; the
// TypeScript wrapper (src/media/video-encoder.ts) keeps at most one encode in flight per encoder.
#include <napi.h>

#include <atomic>
#include <memory>

#include "encoder.h"

namespace splatcast {
namespace {

struct EncoderState {
  std::unique_ptr<VideoEncoder> encoder;
  EncoderConfig config;
  std::atomic<int> bitrate{0};
  int appliedBitrate = 0;
  bool busy = false;
  bool closed = false;
};

class EncodeWorker final : public Napi::AsyncWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<EncoderState> state, Napi::Uint8Array input, int64_t frameIndex,
               bool keyframe)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)),
        input_(Napi::Persistent(input.As<Napi::Object>())),
        data_(input.Data()),
        frameIndex_(frameIndex),
        keyframe_(keyframe) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      const int bitrate = state_->bitrate.load();
      if (bitrate != state_->appliedBitrate) {
        state_->encoder->setBitrate(bitrate);
        state_->appliedBitrate = bitrate;
      }
      frame_ = state_->encoder->encode(data_, frameIndex_, keyframe_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    finish();
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("data", Napi::Buffer<uint8_t>::Copy(env, frame_.data.data(), frame_.data.size()));
    result.Set("keyframe", Napi::Boolean::New(env, frame_.keyframe));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    finish();
    deferred_.Reject(error.Value());
  }

 private:
  void finish() {
    state_->busy = false;
    input_.Reset();
    if (state_->closed) state_->encoder.reset();
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<EncoderState> state_;
  Napi::ObjectReference input_;
  const uint8_t* data_;
  int64_t frameIndex_;
  bool keyframe_;
  EncodedFrame frame_;
};

int intOption(const Napi::Object& options, const char* name, int fallback, int min, int max) {
  Napi::Value value = options.Get(name);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string(name) + " must be a number");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (v != static_cast<int>(v) || v < min || v > max)
    throw Napi::RangeError::New(options.Env(), std::string(name) + " must be an integer in " + std::to_string(min) +
                                                   ".." + std::to_string(max));
  return static_cast<int>(v);
}

class VideoEncoderWrap final : public Napi::ObjectWrap<VideoEncoderWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "VideoEncoder",
                       {InstanceMethod<&VideoEncoderWrap::encode>("encode"),
                        InstanceMethod<&VideoEncoderWrap::setBitrate>("setBitrate"),
                        InstanceMethod<&VideoEncoderWrap::close>("close")});
  }

  explicit VideoEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoEncoderWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "VideoEncoder: expected an options object");
    Napi::Object options = info[0].As<Napi::Object>();
    EncoderConfig c;
    Napi::Value codec = options.Get("codec");
    c.codec = codec.IsString() ? codec.As<Napi::String>().Utf8Value() : "";
    c.width = intOption(options, "width", 0, 16, 4096);
    c.height = intOption(options, "height", 0, 16, 4096);
    if (c.width % 2 || c.height % 2) throw Napi::RangeError::New(env, "width and height must be even");
    c.fps = intOption(options, "fps", 25, 1, 120);
    c.bitrateBps = intOption(options, "bitrateBps", 1000000, 10000, 50000000);
    c.keyframeInterval = intOption(options, "keyframeInterval", 250, 1, 100000);
    state_ = std::make_shared<EncoderState>();
    state_->config = c;
    state_->bitrate = c.bitrateBps;
    state_->appliedBitrate = c.bitrateBps;
    try {
      if (c.codec == "vp8")
        state_->encoder = makeVp8Encoder(c);
      else if (c.codec == "h264")
        state_->encoder = makeH264Encoder(c);
      else
        throw Napi::TypeError::New(env, "VideoEncoder: codec must be \"vp8\" or \"h264\"");
    } catch (const EncoderError& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  Napi::Value encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (state_->closed || !state_->encoder) throw Napi::Error::New(env, "VideoEncoder: encoder is closed");
    if (state_->busy) throw Napi::Error::New(env, "VideoEncoder: an encode is already running");
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "VideoEncoder.encode: expected the I420 frame as a Uint8Array");
    Napi::Uint8Array input = info[0].As<Napi::Uint8Array>();
    const EncoderConfig& c = state_->config;
    const size_t expected = static_cast<size_t>(c.width) * c.height * 3 / 2;
    if (input.ByteLength() != expected)
      throw Napi::RangeError::New(env, "VideoEncoder.encode: expected " + std::to_string(expected) + " bytes of I420 (" +
                                           std::to_string(c.width) + "x" + std::to_string(c.height) + "), got " +
                                           std::to_string(input.ByteLength()));
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "VideoEncoder.encode: frameIndex must be a number");
    const int64_t frameIndex = info[1].As<Napi::Number>().Int64Value();
    const bool keyframe = info[2].ToBoolean().Value();
    state_->busy = true;
    auto* worker = new EncodeWorker(env, state_, input, frameIndex, keyframe);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Napi::Value setBitrate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "VideoEncoder.setBitrate: expected bits per second");
    const double bps = info[0].As<Napi::Number>().DoubleValue();
    if (!(bps >= 10000 && bps <= 50000000))
      throw Napi::RangeError::New(env, "VideoEncoder.setBitrate: expected 10000..50000000 bits per second");
    state_->bitrate = static_cast<int>(bps);
    return env.Undefined();
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    state_->closed = true;
    if (!state_->busy) state_->encoder.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<EncoderState> state_;
};

}  // namespace
}  // namespace splatcast

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("VideoEncoder", splatcast::VideoEncoderWrap::define(env));
  return exports;
}

NODE_API_MODULE(splatcast_media, Init)
