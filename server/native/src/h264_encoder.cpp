// H.264 Constrained Baseline (profile-level-id 42e01f, what every browser decodes) through Cisco's OpenH264,
// BSD-licensed and the encoder Chromium itself uses: one layer, one slice, real-time rate control, no frame skips.
#include <wels/codec_api.h>

#include <cstring>

#include "encoder.h"

namespace splatcast {
namespace {

class H264Encoder final : public VideoEncoder {
 public:
  explicit H264Encoder(const EncoderConfig& c) : config_(c) {
    if (WelsCreateSVCEncoder(&encoder_) != 0 || encoder_ == nullptr)
      throw EncoderError("openh264: cannot create an encoder");
    int quiet = WELS_LOG_QUIET;
    encoder_->SetOption(ENCODER_OPTION_TRACE_LEVEL, &quiet);
    SEncParamExt p;
    encoder_->GetDefaultParams(&p);
    p.iUsageType = CAMERA_VIDEO_REAL_TIME;
    p.iPicWidth = c.width;
    p.iPicHeight = c.height;
    p.iTargetBitrate = c.bitrateBps;
    p.iMaxBitrate = UNSPECIFIED_BIT_RATE;
    p.iRCMode = RC_BITRATE_MODE;
    p.fMaxFrameRate = static_cast<float>(c.fps);
    p.bEnableFrameSkip = false;
    p.uiIntraPeriod = static_cast<unsigned>(c.keyframeInterval);
    p.eSpsPpsIdStrategy = CONSTANT_ID;
    p.iMultipleThreadIdc = 1;  // parallelism comes from encoding many sessions at once
    p.iEntropyCodingModeFlag = 0;  // CAVLC: Baseline
    p.iTemporalLayerNum = 1;
    p.iSpatialLayerNum = 1;
    p.bEnableDenoise = false;
    p.bEnableBackgroundDetection = true;
    p.bEnableAdaptiveQuant = true;
    p.bEnableSceneChangeDetect = false;  // a scene cut would make an unrequested IDR
    SSpatialLayerConfig& layer = p.sSpatialLayers[0];
    layer.iVideoWidth = c.width;
    layer.iVideoHeight = c.height;
    layer.fFrameRate = static_cast<float>(c.fps);
    layer.iSpatialBitrate = c.bitrateBps;
    layer.iMaxSpatialBitrate = UNSPECIFIED_BIT_RATE;
    layer.uiProfileIdc = PRO_BASELINE;
    layer.uiLevelIdc = LEVEL_3_1;
    layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
    if (encoder_->InitializeExt(&p) != 0) {
      WelsDestroySVCEncoder(encoder_);
      throw EncoderError("openh264: the encoder refused its parameters");
    }
    int format = videoFormatI420;
    encoder_->SetOption(ENCODER_OPTION_DATAFORMAT, &format);
  }

  ~H264Encoder() override {
    encoder_->Uninitialize();
    WelsDestroySVCEncoder(encoder_);
  }

  EncodedFrame encode(const uint8_t* i420, int64_t frameIndex, bool forceKeyframe) override {
    const int w = config_.width, h = config_.height;
    if (forceKeyframe) encoder_->ForceIntraFrame(true);
    SSourcePicture pic;
    std::memset(&pic, 0, sizeof pic);
    pic.iColorFormat = videoFormatI420;
    pic.iPicWidth = w;
    pic.iPicHeight = h;
    auto* data = const_cast<uint8_t*>(i420);  // openh264 only reads the planes
    pic.pData[0] = data;
    pic.pData[1] = data + w * h;
    pic.pData[2] = data + w * h + (w / 2) * (h / 2);
    pic.iStride[0] = w;
    pic.iStride[1] = w / 2;
    pic.iStride[2] = w / 2;
    pic.uiTimeStamp = frameIndex * 1000 / config_.fps;
    SFrameBSInfo info;
    std::memset(&info, 0, sizeof info);
    if (encoder_->EncodeFrame(&pic, &info) != cmResultSuccess) throw EncoderError("openh264: encode failed");
    EncodedFrame out;
    out.keyframe = info.eFrameType == videoFrameTypeIDR;
    for (int l = 0; l < info.iLayerNum; ++l) {
      const SLayerBSInfo& layer = info.sLayerInfo[l];
      size_t size = 0;
      for (int n = 0; n < layer.iNalCount; ++n) size += static_cast<size_t>(layer.pNalLengthInByte[n]);
      out.data.insert(out.data.end(), layer.pBsBuf, layer.pBsBuf + size);
    }
    return out;
  }

  void setBitrate(int bitrateBps) override {
    if (bitrateBps == bitrate_) return;
    SBitrateInfo info{SPATIAL_LAYER_ALL, bitrateBps};
    if (encoder_->SetOption(ENCODER_OPTION_BITRATE, &info) != 0)
      throw EncoderError("openh264: cannot change the bitrate");
    bitrate_ = bitrateBps;
  }

 private:
  EncoderConfig config_;
  ISVCEncoder* encoder_ = nullptr;
  int bitrate_ = config_.bitrateBps;
};

}  // namespace

std::unique_ptr<VideoEncoder> makeH264Encoder(const EncoderConfig& config) {
  return std::make_unique<H264Encoder>(config);
}

}  // namespace splatcast
