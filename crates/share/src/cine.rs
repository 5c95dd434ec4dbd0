//! A multi-frame image as an H.264 MP4 at its own frame rate, made frame by
//! frame so only one decoded frame and the compressed stream are in memory.

use std::time::Duration;

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use studylink_imaging::{DisplayFrame, cine_info, render_frame};
use studylink_video::{MAX_LONG_SIDE, MAX_SHORT_SIDE, Mp4Encoder, PixelFormat, Quality, VideoSpec};

/// For a multi-frame object that states no timing (a stack of views rather
/// than a loop): slow enough to look at each frame.
pub(crate) const DEFAULT_FRAME_MS: f64 = 100.0;

/// Frame rates the encoder accepts; outside them the header is wrong.
const MIN_FRAME_MS: f64 = 1.0;
const MAX_FRAME_MS: f64 = 10_000.0;

/// Milliseconds per frame the MP4 plays at (the mean for variable timing),
/// known from the header alone, before the video is encoded.
pub(crate) fn frame_ms(obj: &DefaultDicomObject, frames: u32) -> f64 {
    match variable_durations(obj, frames) {
        Some(d) => d.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / d.len() as f64,
        None => fixed_frame_ms(obj),
    }
}

fn fixed_frame_ms(obj: &DefaultDicomObject) -> f64 {
    cine_info(obj)
        .map(|c| c.frame_time_ms)
        .filter(|ms| (MIN_FRAME_MS..=MAX_FRAME_MS).contains(ms))
        .unwrap_or(DEFAULT_FRAME_MS)
}

/// Encodes every frame of `obj` (`frames` of them) as an MP4. Errors are
/// messages without patient data (they come from the renderer and the encoder).
pub(crate) fn encode(obj: &DefaultDicomObject, frames: u32) -> Result<Vec<u8>, String> {
    let frame_ms = fixed_frame_ms(obj);
    let durations = variable_durations(obj, frames);

    let first = fit(render_frame(obj, 0).map_err(|e| e.to_string())?);
    let rgb = first.rgb;
    let format = if rgb {
        PixelFormat::Rgb8
    } else {
        PixelFormat::Gray8
    };
    let spec = VideoSpec {
        width: first.width,
        height: first.height,
        fps: (1000.0 / frame_ms) as f32,
        format,
    };
    let mut encoder = Mp4Encoder::new(spec, Quality::default()).map_err(|e| e.to_string())?;
    let mut push = |i: usize, frame: DisplayFrame| -> Result<(), String> {
        // Every frame of one object has the same size and colour model; the
        // check keeps a malformed one from feeding the encoder a wrong frame.
        let frame = if rgb && !frame.rgb {
            frame.into_rgb8()
        } else {
            frame
        };
        if (frame.width, frame.height, frame.rgb) != (spec.width, spec.height, rgb) {
            return Err(format!(
                "frame {} differs in size or colour from the first",
                i + 1
            ));
        }
        match &durations {
            Some(d) => encoder.push_with_duration(&frame.pixels, d[i]),
            None => encoder.push(&frame.pixels),
        }
        .map_err(|e| e.to_string())
    };
    push(0, first)?;
    for i in 1..frames {
        let frame = fit(render_frame(obj, i).map_err(|e| e.to_string())?);
        push(i as usize, frame)?;
    }
    encoder.finish().map_err(|e| e.to_string())
}

/// Per-frame durations from Frame Time Vector, used only when the object
/// has no single Frame Time (which `cine_info` prefers) and the vector has
/// one entry per frame with sane values.
fn variable_durations(obj: &DefaultDicomObject, frames: u32) -> Option<Vec<Duration>> {
    if obj
        .get(tags::FRAME_TIME)
        .and_then(|e| e.to_float64().ok())
        .is_some_and(|t| t > 0.0)
    {
        return None;
    }
    let v = obj.get(tags::FRAME_TIME_VECTOR)?.to_multi_float64().ok()?;
    if v.len() != frames as usize
        || v.iter()
            .skip(1)
            .any(|t| !(MIN_FRAME_MS..=MAX_FRAME_MS).contains(t))
    {
        return None;
    }
    let d = studylink_video::durations_from_frame_time_vector(&v).ok()?;
    (d.len() == frames as usize).then_some(d)
}

/// Smaller when the picture exceeds what H.264 level 5.2 encodes.
fn fit(frame: DisplayFrame) -> DisplayFrame {
    // Both limits are even, so the encoder's rounding of odd sides stays within them.
    let limits = if frame.width >= frame.height {
        (MAX_LONG_SIDE, MAX_SHORT_SIDE)
    } else {
        (MAX_SHORT_SIDE, MAX_LONG_SIDE)
    };
    frame.downscaled(None, Some(limits))
}
