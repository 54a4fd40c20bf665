// A real-time video encoder behind one small interface (the Node binding sees only this): I420 in, one encoded
// frame out, keyframes on request, target bitrate changeable between frames. Not thread-safe: the binding runs at
// most one call per encoder at a time, on a libuv pool thread.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace splatcast {

struct EncoderConfig {
  std::string codec;  // "vp8" or "h264"
  int width = 0;      // even
  int height = 0;     // even
  int fps = 25;
  int bitrateBps = 1000000;
  /** Safety keyframe interval in frames (keyframes otherwise come on request: PLI/FIR). */
  int keyframeInterval = 250;
};

struct EncodedFrame {
  /** VP8: one frame (RFC 7741 payload). H.264: Annex-B NAL units with start codes. */
  std::vector<uint8_t> data;
  bool keyframe = false;
};

class VideoEncoder {
 public:
  virtual ~VideoEncoder() = default;
  /** i420: width*height*3/2 bytes, planes Y, U, V without padding. */
  virtual EncodedFrame encode(const uint8_t* i420, int64_t frameIndex, bool forceKeyframe) = 0;
  virtual void setBitrate(int bitrateBps) = 0;
};

struct EncoderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::unique_ptr<VideoEncoder> makeVp8Encoder(const EncoderConfig& config);
std::unique_ptr<VideoEncoder> makeH264Encoder(const EncoderConfig& config);

}  // namespace splatcast
