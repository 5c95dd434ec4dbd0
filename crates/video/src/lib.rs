//! Frame sequences (ultrasound cine loops) to MP4 files that play in every
//! current browser, phones included.
//!
//! The stream is H.264 Constrained Baseline, yuv420p, limited-range BT.601 with
//! the colour description in the SPS, muxed with `moov` before `mdat` so a
//! browser can start playing while it downloads. See README.md for why.

mod encoder;
mod h264;
mod mp4;
mod timing;
mod yuv;

pub use encoder::Mp4Encoder;
pub use timing::durations_from_frame_time_vector;

use std::time::Duration;

/// Largest picture OpenH264 encodes (level 5.2); either orientation.
pub const MAX_LONG_SIDE: u32 = 3840;
/// See [`MAX_LONG_SIDE`].
pub const MAX_SHORT_SIDE: u32 = 2160;

/// Layout of one input frame: rows top to bottom, no padding between rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 3 bytes per pixel, R G B, sRGB-encoded.
    Rgb8,
    /// 1 byte per pixel, 0 = black.
    Gray8,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 => 1,
        }
    }
}

/// What the frames look like and how fast they play.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoSpec {
    pub width: u32,
    pub height: u32,
    /// Frames per second, e.g. `1000.0 / frame_time_ms` from DICOM Frame Time.
    pub fps: f32,
    pub format: PixelFormat,
}

impl VideoSpec {
    /// Bytes `push` expects per frame.
    pub fn frame_len(&self) -> usize {
        self.width as usize * self.height as usize * self.format.bytes_per_pixel()
    }

    /// Size of the encoded picture: 4:2:0 needs even sides, so odd ones get one
    /// black row or column rather than losing a row of diagnostic pixels.
    pub fn coded_size(&self) -> (u32, u32) {
        (
            self.width.next_multiple_of(2),
            self.height.next_multiple_of(2),
        )
    }

    /// Length of one frame at `fps`.
    pub fn frame_duration(&self) -> Duration {
        Duration::from_secs_f64(1.0 / f64::from(self.fps))
    }

    fn validate(&self) -> Result<(), VideoError> {
        let bad = |why: String| Err(VideoError::InvalidSpec(why));
        if self.width == 0 || self.height == 0 {
            return bad(format!("empty picture {}x{}", self.width, self.height));
        }
        let (w, h) = self.coded_size();
        if w.max(h) > MAX_LONG_SIDE || w.min(h) > MAX_SHORT_SIDE {
            return bad(format!(
                "{}x{} is larger than H.264 level 5.2 ({MAX_LONG_SIDE}x{MAX_SHORT_SIDE})",
                self.width, self.height
            ));
        }
        if !(timing::MIN_FPS..=timing::MAX_FPS).contains(&self.fps) {
            return bad(format!(
                "frame rate {} outside {}..={} fps",
                self.fps,
                timing::MIN_FPS,
                timing::MAX_FPS
            ));
        }
        Ok(())
    }
}

/// Trade-off between fidelity and size. Every level keeps every frame at full
/// resolution; they differ only in quantisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    /// Visually indistinguishable from the source (≈44 dB PSNR on real
    /// ultrasound, ≈2 Mbit/s for an 800×600 30 fps cine).
    #[default]
    High,
    /// About half the size of `High`; speckle slightly smoothed.
    Medium,
    /// About a quarter of `High`; visibly compressed, for slow connections.
    Low,
}

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("invalid video spec: {0}")]
    InvalidSpec(String),
    #[error("frame {index} has {got} bytes, expected {expected}")]
    FrameSize {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("frame {index} has an invalid duration {duration:?}")]
    FrameDuration { index: usize, duration: Duration },
    #[error("no frames were pushed")]
    NoFrames,
    #[error("the video would exceed 4 GiB")]
    TooLarge,
    #[error("H.264 encoder: {0}")]
    Encoder(String),
}

/// Encodes a whole sequence at `spec.fps` with [`Quality::default`].
pub fn encode_mp4<'a>(
    spec: VideoSpec,
    frames: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, VideoError> {
    let mut encoder = Mp4Encoder::new(spec, Quality::default())?;
    for frame in frames {
        encoder.push(frame)?;
    }
    encoder.finish()
}
