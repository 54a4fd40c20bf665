// VP8 through libvpx, set up as WebRTC senders do: one-pass CBR, no lag, error resilient, realtime speed.
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "encoder.h"

namespace splatcast {
namespace {

class Vp8Encoder final : public VideoEncoder {
 public:
  explicit Vp8Encoder(const EncoderConfig& c) : config_(c) {
    vpx_codec_enc_cfg_t& cfg = cfg_;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
      throw EncoderError("libvpx: no default VP8 configuration");
    cfg.g_w = c.width;
    cfg.g_h = c.height;
    cfg.g_timebase = {1, c.fps};
    cfg.g_threads = 1;  // parallelism comes from encoding many sessions at once
    cfg.g_lag_in_frames = 0;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg.g_pass = VPX_RC_ONE_PASS;
    cfg.rc_end_usage = VPX_CBR;
    cfg.rc_target_bitrate = kbps(c.bitrateBps);
    cfg.rc_min_quantizer = 2;
    cfg.rc_max_quantizer = 56;
    cfg.rc_undershoot_pct = 100;
    cfg.rc_overshoot_pct = 15;
    cfg.rc_buf_initial_sz = 500;
    cfg.rc_buf_optimal_sz = 600;
    cfg.rc_buf_sz = 1000;
    cfg.rc_dropframe_thresh = 0;
    cfg.kf_mode = VPX_KF_AUTO;
    cfg.kf_min_dist = 0;
    cfg.kf_max_dist = c.keyframeInterval;
    if (vpx_codec_enc_init(&codec_, vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
      throw EncoderError(std::string("libvpx: cannot open the VP8 encoder: ") + vpx_codec_error_detail(&codec_));
    open_ = true;
    vpx_codec_control(&codec_, VP8E_SET_CPUUSED, -8);  // negative: realtime, speed 8
    vpx_codec_control(&codec_, VP8E_SET_NOISE_SENSITIVITY, 0);
    vpx_codec_control(&codec_, VP8E_SET_STATIC_THRESHOLD, 1);
    vpx_codec_control(&codec_, VP8E_SET_TOKEN_PARTITIONS, VP8_ONE_TOKENPARTITION);
    // Keyframes at most 3x an average frame, so one does not stall the link after a PLI.
    vpx_codec_control(&codec_, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300);
    if (!vpx_img_wrap(&image_, VPX_IMG_FMT_I420, c.width, c.height, 1, nullptr))
      throw EncoderError("libvpx: cannot describe the I420 image");
  }

  ~Vp8Encoder() override {
    if (open_) vpx_codec_destroy(&codec_);
  }

  EncodedFrame encode(const uint8_t* i420, int64_t frameIndex, bool forceKeyframe) override {
    const int w = config_.width, h = config_.height;
    auto* data = const_cast<uint8_t*>(i420);  // libvpx only reads the planes
    image_.planes[VPX_PLANE_Y] = data;
    image_.planes[VPX_PLANE_U] = data + w * h;
    image_.planes[VPX_PLANE_V] = data + w * h + (w / 2) * (h / 2);
    image_.stride[VPX_PLANE_Y] = w;
    image_.stride[VPX_PLANE_U] = w / 2;
    image_.stride[VPX_PLANE_V] = w / 2;
    const vpx_enc_frame_flags_t flags = forceKeyframe ? VPX_EFLAG_FORCE_KF : 0;
    if (vpx_codec_encode(&codec_, &image_, frameIndex, 1, flags, VPX_DL_REALTIME) != VPX_CODEC_OK)
      throw EncoderError(std::string("libvpx: encode failed: ") + vpx_codec_error_detail(&codec_));
    EncodedFrame out;
    vpx_codec_iter_t iter = nullptr;
    while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&codec_, &iter)) {
      if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
      const auto* bytes = static_cast<const uint8_t*>(pkt->data.frame.buf);
      out.data.insert(out.data.end(), bytes, bytes + pkt->data.frame.sz);
      out.keyframe = out.keyframe || (pkt->data.frame.flags & VPX_FRAME_IS_KEY);
    }
    return out;
  }

  void setBitrate(int bitrateBps) override {
    const unsigned target = kbps(bitrateBps);
    if (target == cfg_.rc_target_bitrate) return;
    cfg_.rc_target_bitrate = target;
    if (vpx_codec_enc_config_set(&codec_, &cfg_) != VPX_CODEC_OK)
      throw EncoderError(std::string("libvpx: cannot change the bitrate: ") + vpx_codec_error_detail(&codec_));
  }

 private:
  static unsigned kbps(int bps) { return static_cast<unsigned>(bps < 1000 ? 1 : bps / 1000); }

  EncoderConfig config_;
  vpx_codec_enc_cfg_t cfg_{};
  vpx_codec_ctx_t codec_{};
  vpx_image_t image_{};
  bool open_ = false;
};

}  // namespace

std::unique_ptr<VideoEncoder> makeVp8Encoder(const EncoderConfig& config) {
  return std::make_unique<Vp8Encoder>(config);
}

}  // namespace splatcast
