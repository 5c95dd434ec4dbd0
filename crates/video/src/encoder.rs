use std::time::Duration;

use crate::h264::{self, H264};
use crate::mp4::{self, Track};
use crate::timing::{self, Timeline};
use crate::yuv::I420;
use crate::{Quality, VideoError, VideoSpec};

/// Streaming encoder: frames are converted and compressed as they are pushed,
/// so only the compressed stream is kept in memory.
pub struct Mp4Encoder {
    spec: VideoSpec,
    h264: H264,
    picture: I420,
    payload: Vec<u8>,
    sample_sizes: Vec<u32>,
    sync_samples: Vec<u32>,
    durations: Vec<Option<Duration>>,
    elapsed: Duration,
}

impl Mp4Encoder {
    pub fn new(spec: VideoSpec, quality: Quality) -> Result<Self, VideoError> {
        spec.validate()?;
        let (w, h) = spec.coded_size();
        Ok(Mp4Encoder {
            spec,
            h264: H264::new(spec.fps, quality)?,
            picture: I420::new(w as usize, h as usize),
            payload: Vec::new(),
            sample_sizes: Vec::new(),
            sync_samples: Vec::new(),
            durations: Vec::new(),
            elapsed: Duration::ZERO,
        })
    }

    /// Adds a frame shown for `1 / spec.fps` seconds.
    pub fn push(&mut self, frame: &[u8]) -> Result<(), VideoError> {
        self.push_frame(frame, None)
    }

    /// Adds a frame shown for `duration` (see
    /// [`durations_from_frame_time_vector`](crate::durations_from_frame_time_vector)).
    pub fn push_with_duration(
        &mut self,
        frame: &[u8],
        duration: Duration,
    ) -> Result<(), VideoError> {
        timing::check_duration(self.durations.len(), duration)?;
        self.push_frame(frame, Some(duration))
    }

    /// Number of frames pushed so far.
    pub fn frames(&self) -> usize {
        self.sample_sizes.len()
    }

    fn push_frame(&mut self, frame: &[u8], duration: Option<Duration>) -> Result<(), VideoError> {
        let index = self.frames();
        let expected = self.spec.frame_len();
        if frame.len() != expected {
            return Err(VideoError::FrameSize {
                index,
                expected,
                got: frame.len(),
            });
        }
        let (w, h) = (self.spec.width as usize, self.spec.height as usize);
        self.picture.fill(self.spec.format, frame, w, h);
        let start = self.payload.len();
        let millis = self.elapsed.as_millis() as u64;
        let encoded = self
            .h264
            .encode(&self.picture, millis, &mut self.payload)
            .and_then(|idr| {
                if index == 0 && !idr {
                    return Err(VideoError::Encoder("first frame is not a key frame".into()));
                }
                Ok(idr)
            });
        let idr = encoded.inspect_err(|_| {
            // Drop a half-written sample so the byte layout stays consistent.
            self.payload.truncate(start);
        })?;
        let size = u32::try_from(self.payload.len() - start).map_err(|_| VideoError::TooLarge)?;
        self.sample_sizes.push(size);
        if idr {
            self.sync_samples.push(index as u32 + 1);
        }
        self.durations.push(duration);
        self.elapsed += duration.unwrap_or_else(|| self.spec.frame_duration());
        Ok(())
    }

    /// Writes the MP4 file (`moov` before `mdat`).
    pub fn finish(self) -> Result<Vec<u8>, VideoError> {
        let (sps, pps) = self.h264.parameter_sets().ok_or(VideoError::NoFrames)?;
        let timeline = Timeline::new(self.spec.fps, &self.durations);
        let (w, h) = self.spec.coded_size();
        let track = Track {
            width: w as u16,
            height: h as u16,
            timeline: &timeline,
            sample_sizes: &self.sample_sizes,
            sync_samples: &self.sync_samples,
            sps,
            pps,
            colour: (
                h264::COLOUR_PRIMARIES.as_u8(),
                h264::TRANSFER.as_u8(),
                h264::MATRIX.as_u8(),
                h264::FULL_RANGE,
            ),
        };
        mp4::write_file(&track, self.payload)
    }
}
