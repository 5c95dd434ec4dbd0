//! Frame durations to MP4 sample deltas.

use std::time::Duration;

use crate::VideoError;

pub(crate) const MIN_FPS: f32 = 0.01;
pub(crate) const MAX_FPS: f32 = 1000.0;
/// Bounds for one frame's display time; outside them the value is a unit
/// mistake (seconds for milliseconds) rather than a real cine.
const MIN_FRAME: Duration = Duration::from_millis(1);
const MAX_FRAME: Duration = Duration::from_secs(3600);
/// The usual video clock; fine enough (11 µs) that rounding variable frame
/// times to it is invisible, and every player handles it.
const VARIABLE_TIMESCALE: u32 = 90_000;
/// Ticks per frame for a constant frame rate: timescale = fps × 1000 makes
/// fractional rates like 23.8 or 29.97 exact.
const CONSTANT_DELTA: u32 = 1000;

/// Sample timing as the `mdhd`/`stts` boxes state it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timeline {
    pub timescale: u32,
    pub deltas: Vec<u32>,
}

impl Timeline {
    pub fn total(&self) -> u64 {
        self.deltas.iter().map(|&d| u64::from(d)).sum()
    }

    /// `durations[i]` is `None` for frames pushed at the spec's frame rate.
    pub fn new(fps: f32, durations: &[Option<Duration>]) -> Timeline {
        if durations.iter().all(Option::is_none) {
            return Timeline {
                timescale: (f64::from(fps) * f64::from(CONSTANT_DELTA)).round() as u32,
                deltas: vec![CONSTANT_DELTA; durations.len()],
            };
        }
        let nominal = 1.0 / f64::from(fps);
        let scale = f64::from(VARIABLE_TIMESCALE);
        // Rounding the running end time, not each duration, keeps the total
        // within one tick of the true length however many frames there are.
        let mut end = 0.0;
        let mut prev_tick = 0u64;
        let deltas = durations
            .iter()
            .map(|d| {
                end += d.map_or(nominal, |d| d.as_secs_f64());
                let tick = (end * scale).round() as u64;
                let delta = (tick - prev_tick) as u32;
                prev_tick = tick;
                delta
            })
            .collect();
        Timeline {
            timescale: VARIABLE_TIMESCALE,
            deltas,
        }
    }
}

pub(crate) fn check_duration(index: usize, duration: Duration) -> Result<(), VideoError> {
    if (MIN_FRAME..=MAX_FRAME).contains(&duration) {
        Ok(())
    } else {
        Err(VideoError::FrameDuration { index, duration })
    }
}

/// Per-frame display times from DICOM Frame Time Vector (0018,1065), whose
/// entry `i` is the time in ms from frame `i - 1` to frame `i` (entry 0 is 0).
/// Frame `i` therefore lasts `vector[i + 1]`; the last frame, which the vector
/// cannot describe, gets the mean of the others.
pub fn durations_from_frame_time_vector(vector_ms: &[f64]) -> Result<Vec<Duration>, VideoError> {
    let increments = vector_ms.get(1..).unwrap_or_default();
    if increments.is_empty() {
        return Err(VideoError::InvalidSpec(
            "Frame Time Vector needs at least two entries".into(),
        ));
    }
    let mut out = Vec::with_capacity(vector_ms.len());
    for (i, &ms) in increments.iter().enumerate() {
        if !ms.is_finite() || ms <= 0.0 {
            return Err(VideoError::InvalidSpec(format!(
                "Frame Time Vector entry {} is {ms} ms",
                i + 1
            )));
        }
        let d = Duration::from_secs_f64(ms / 1000.0);
        check_duration(i, d)?;
        out.push(d);
    }
    let mean = out.iter().sum::<Duration>() / out.len() as u32;
    out.push(mean);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_exact_for_fractional_fps() {
        let t = Timeline::new(23.8, &[None; 27]);
        assert_eq!(t.timescale, 23_800);
        assert!(t.deltas.iter().all(|&d| d == 1000));
        assert_eq!(t.total(), 27_000);
    }

    #[test]
    fn variable_durations_do_not_drift() {
        let third = Some(Duration::from_secs_f64(1.0 / 3.0));
        let t = Timeline::new(30.0, &[third; 300]);
        assert_eq!(t.timescale, 90_000);
        assert_eq!(t.total(), 100 * 90_000);
        assert!(t.deltas.iter().all(|&d| d == 30_000));
    }

    #[test]
    fn mixed_durations_use_fps_for_unset_frames() {
        let t = Timeline::new(25.0, &[None, Some(Duration::from_millis(100)), None]);
        assert_eq!(t.deltas, vec![3600, 9000, 3600]);
    }

    #[test]
    fn frame_time_vector_shifts_by_one_and_pads_with_mean() {
        let d = durations_from_frame_time_vector(&[0.0, 40.0, 20.0]).unwrap();
        let ms: Vec<u128> = d.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![40, 20, 30]);
    }

    #[test]
    fn frame_time_vector_rejects_nonsense() {
        assert!(durations_from_frame_time_vector(&[0.0]).is_err());
        assert!(durations_from_frame_time_vector(&[0.0, 33.0, -1.0]).is_err());
        assert!(durations_from_frame_time_vector(&[0.0, f64::NAN]).is_err());
        assert!(check_duration(0, Duration::ZERO).is_err());
        assert!(check_duration(0, Duration::from_secs(7200)).is_err());
    }
}
