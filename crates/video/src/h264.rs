//! OpenH264 configured for archival-quality cine loops, producing MP4-style
//! (length-prefixed) access units.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, ColorPrimaries, Complexity, Encoder, EncoderConfig, FrameRate, FrameType,
    IntraFramePeriod, MatrixCoefficients, Profile, QpRange, RateControlMode, SpsPpsStrategy,
    TransferCharacteristics, UsageType, VuiConfig,
};
use openh264::formats::YUVSlices;

use crate::yuv::I420;
use crate::{Quality, VideoError};

const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;

/// Colour description written both into the SPS VUI and the MP4 `colr` box.
/// Matrix: BT.601, matching `yuv.rs`. Primaries and transfer: those of sRGB,
/// which is what the 8-bit input frames are, so a colour-managed player
/// leaves the picture as it is; a BT.709 transfer would invite the gamma
/// "correction" Safari/QuickTime apply to such video.
pub(crate) const COLOUR_PRIMARIES: ColorPrimaries = ColorPrimaries::Bt709;
pub(crate) const TRANSFER: TransferCharacteristics = TransferCharacteristics::Srgb;
pub(crate) const MATRIX: MatrixCoefficients = MatrixCoefficients::Smpte170M;
pub(crate) const FULL_RANGE: bool = false;

/// Fixed quantiser per quality. On the Philips EPIQ corpus cine QP 18 gives
/// 44 dB PSNR inside the image sector (99% of pixels within 4 grey levels) at
/// 2 Mbit/s; each +5 roughly halves the size.
fn qp(quality: Quality) -> u8 {
    match quality {
        Quality::High => 18,
        Quality::Medium => 23,
        Quality::Low => 28,
    }
}

pub(crate) struct H264 {
    encoder: Encoder,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl H264 {
    pub fn new(fps: f32, quality: Quality) -> Result<H264, VideoError> {
        let qp = qp(quality);
        // A key frame every ~2 s lets players seek without decoding far back.
        let gop = ((fps * 2.0).round() as u32).max(1);
        let config = EncoderConfig::new()
            // The non-real-time camera mode fails OpenH264's parameter check.
            .usage_type(UsageType::CameraVideoRealTime)
            .profile(Profile::Baseline)
            // Buffer-based rate control clamps every picture's QP to the range,
            // so min = max pins it: constant quality, never a dropped frame.
            // (Quality mode does the same but logs a warning to stderr.)
            .rate_control_mode(RateControlMode::Bufferbased)
            .qp(QpRange::new(qp, qp))
            // Only checked against the level limits, not used for rate control.
            .bitrate(BitRate::from_bps(20_000_000))
            .skip_frames(false)
            .max_frame_rate(FrameRate::from_hz(fps))
            .intra_frame_period(IntraFramePeriod::from_num_frames(gop))
            .sps_pps_strategy(SpsPpsStrategy::ConstantId)
            // High is no better than Medium for single-layer streams, only slower.
            .complexity(Complexity::Medium)
            // Both tools lower quality in regions they judge unimportant; in a
            // medical image no region is.
            .background_detection(false)
            .adaptive_quantization(false)
            // Would only add irregular key frames; the fixed GOP suffices.
            .scene_change_detect(false)
            .num_threads(1)
            .vui(
                VuiConfig::new()
                    .color_primaries(COLOUR_PRIMARIES)
                    .transfer_characteristics(TRANSFER)
                    .matrix_coefficients(MATRIX)
                    .full_range(FULL_RANGE),
            );
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| VideoError::Encoder(e.to_string()))?;
        Ok(H264 {
            encoder,
            sps: None,
            pps: None,
        })
    }

    /// The SPS and PPS, known once the first frame is encoded.
    pub fn parameter_sets(&self) -> Option<(&[u8], &[u8])> {
        Some((self.sps.as_deref()?, self.pps.as_deref()?))
    }

    /// Encodes one picture, appends its slice NAL units (each prefixed with a
    /// 4-byte length) to `out`, and tells whether it is an IDR picture.
    pub fn encode(
        &mut self,
        pic: &I420,
        millis: u64,
        out: &mut Vec<u8>,
    ) -> Result<bool, VideoError> {
        let cw = pic.width / 2;
        let src = YUVSlices::new(
            (&pic.y, &pic.u, &pic.v),
            (pic.width, pic.height),
            (pic.width, cw, cw),
        );
        let bits = self
            .encoder
            .encode_at(&src, Timestamp::from_millis(millis))
            .map_err(|e| VideoError::Encoder(e.to_string()))?;
        let idr = match bits.frame_type() {
            FrameType::IDR => true,
            FrameType::I | FrameType::P => false,
            // Every input frame must become exactly one sample, or timing breaks.
            other => {
                return Err(VideoError::Encoder(format!(
                    "unexpected frame type {other:?}"
                )));
            }
        };
        let start = out.len();
        for layer in (0..bits.num_layers()).filter_map(|i| bits.layer(i)) {
            for nal in (0..layer.nal_count()).filter_map(|i| layer.nal_unit(i)) {
                let nal = strip_start_code(nal)?;
                match nal[0] & 0x1f {
                    NAL_SPS => remember(&mut self.sps, nal, "SPS")?,
                    NAL_PPS => remember(&mut self.pps, nal, "PPS")?,
                    NAL_AUD => {}
                    _ => {
                        let len = u32::try_from(nal.len()).map_err(|_| VideoError::TooLarge)?;
                        out.extend_from_slice(&len.to_be_bytes());
                        out.extend_from_slice(nal);
                    }
                }
            }
        }
        if out.len() == start {
            return Err(VideoError::Encoder("encoder produced no picture".into()));
        }
        Ok(idr)
    }
}

/// The MP4 sample entry holds one SPS/PPS pair for the whole track, so a
/// change mid-stream would make later frames undecodable.
fn remember(slot: &mut Option<Vec<u8>>, nal: &[u8], what: &str) -> Result<(), VideoError> {
    match slot {
        None => *slot = Some(nal.to_vec()),
        Some(known) if known == nal => {}
        Some(_) => return Err(VideoError::Encoder(format!("{what} changed mid-stream"))),
    }
    Ok(())
}

/// OpenH264 emits Annex B units (`00 00 01` or `00 00 00 01` first); MP4
/// wants them bare.
fn strip_start_code(nal: &[u8]) -> Result<&[u8], VideoError> {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    match nal.get(zeros..) {
        Some([1, rest @ ..]) if zeros >= 2 && !rest.is_empty() => Ok(rest),
        _ => Err(VideoError::Encoder("NAL unit without start code".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_of_both_lengths_are_removed() {
        assert_eq!(
            strip_start_code(&[0, 0, 0, 1, 0x67, 9]).unwrap(),
            &[0x67, 9]
        );
        assert_eq!(strip_start_code(&[0, 0, 1, 0x65]).unwrap(), &[0x65]);
        assert!(strip_start_code(&[0, 1, 0x65]).is_err());
        assert!(strip_start_code(&[0x65, 1]).is_err());
        assert!(strip_start_code(&[0, 0, 1]).is_err());
    }

    #[test]
    fn changed_parameter_set_is_an_error() {
        let mut slot = None;
        remember(&mut slot, &[0x67, 1], "SPS").unwrap();
        remember(&mut slot, &[0x67, 1], "SPS").unwrap();
        assert!(remember(&mut slot, &[0x67, 2], "SPS").is_err());
    }
}
