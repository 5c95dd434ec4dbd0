//! The MP4 container as written, checked box by box without outside tools.

mod common;

use std::time::Duration;

use common::{be32, find, walk};
use studylink_video::{Mp4Encoder, PixelFormat, Quality, VideoError, VideoSpec, encode_mp4};

fn spec(width: u32, height: u32, fps: f32, format: PixelFormat) -> VideoSpec {
    VideoSpec {
        width,
        height,
        fps,
        format,
    }
}

fn encode(spec: VideoSpec, frames: &[Vec<u8>]) -> Vec<u8> {
    encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap()
}

/// (count, delta) entries of `stts`.
fn stts(mp4: &[u8]) -> Vec<(u32, u32)> {
    let b = find(mp4, "moov/trak/mdia/minf/stbl/stts").unwrap();
    let n = be32(mp4, b.body.start + 4) as usize;
    (0..n)
        .map(|i| {
            (
                be32(mp4, b.body.start + 8 + 8 * i),
                be32(mp4, b.body.start + 12 + 8 * i),
            )
        })
        .collect()
}

fn u32_table(mp4: &[u8], path: &str, header: usize) -> Vec<u32> {
    let b = find(mp4, path).unwrap();
    let n = be32(mp4, b.body.start + header - 4) as usize;
    (0..n)
        .map(|i| be32(mp4, b.body.start + header + 4 * i))
        .collect()
}

#[test]
fn moov_precedes_mdat_and_describes_one_video_track() {
    let frames = common::synthetic_rgb(320, 240, 40);
    let mp4 = encode(spec(320, 240, 23.8, PixelFormat::Rgb8), &frames);

    let top: Vec<String> = walk(&mp4, 0..mp4.len())
        .into_iter()
        .map(|b| b.kind)
        .collect();
    assert_eq!(top, ["ftyp", "moov", "mdat"], "faststart layout");
    let traks = walk(&mp4, find(&mp4, "moov").unwrap().body)
        .into_iter()
        .filter(|b| b.kind == "trak")
        .count();
    assert_eq!(traks, 1);

    let hdlr = find(&mp4, "moov/trak/mdia/hdlr").unwrap();
    assert_eq!(&mp4[hdlr.body.start + 8..hdlr.body.start + 12], b"vide");
    let tkhd = find(&mp4, "moov/trak/tkhd").unwrap();
    assert_eq!(be32(&mp4, tkhd.body.start + 76) >> 16, 320);
    assert_eq!(be32(&mp4, tkhd.body.start + 80) >> 16, 240);

    // 23.8 fps: timescale 23800 and 1000 ticks per frame, so 40 frames last exactly 40/23.8 s.
    let mdhd = find(&mp4, "moov/trak/mdia/mdhd").unwrap();
    assert_eq!(be32(&mp4, mdhd.body.start + 12), 23_800);
    assert_eq!(be32(&mp4, mdhd.body.start + 16), 40_000);
    let mvhd = find(&mp4, "moov/mvhd").unwrap();
    assert_eq!(be32(&mp4, mvhd.body.start + 12), 23_800);
    assert_eq!(be32(&mp4, mvhd.body.start + 16), 40_000);
    assert_eq!(stts(&mp4), vec![(40, 1000)]);

    let sizes = u32_table(&mp4, "moov/trak/mdia/minf/stbl/stsz", 12);
    let offsets = u32_table(&mp4, "moov/trak/mdia/minf/stbl/stco", 8);
    assert_eq!((sizes.len(), offsets.len()), (40, 40));
    let mdat = find(&mp4, "mdat").unwrap();
    assert_eq!(offsets[0] as usize, mdat.body.start);
    assert_eq!(
        sizes.iter().map(|&s| s as usize).sum::<usize>(),
        mdat.body.len()
    );
    for i in 1..40 {
        assert_eq!(
            offsets[i],
            offsets[i - 1] + sizes[i - 1],
            "samples are contiguous"
        );
    }
    let sync = u32_table(&mp4, "moov/trak/mdia/minf/stbl/stss", 8);
    assert_eq!(sync.first(), Some(&1), "first sample is a sync sample");

    // Every sample is a chain of length-prefixed NAL units; the first is an IDR slice.
    for (&off, &size) in offsets.iter().zip(&sizes) {
        let (mut pos, end) = (off as usize, (off + size) as usize);
        while pos < end {
            pos += 4 + be32(&mp4, pos) as usize;
        }
        assert_eq!(pos, end, "NAL lengths fill the sample exactly");
    }
    assert_eq!(mp4[offsets[0] as usize + 4] & 0x1f, 5);

    let avcc = find(&mp4, "moov/trak/mdia/minf/stbl/stsd").unwrap();
    let stsd = &mp4[avcc.body.clone()];
    let at = stsd.windows(4).position(|w| w == b"avcC").unwrap() + 4;
    assert_eq!(stsd[at], 1, "avcC version");
    assert_eq!(stsd[at + 1], 66, "Baseline profile");
    assert_ne!(
        stsd[at + 2] & 0x40,
        0,
        "constraint_set1: Constrained Baseline"
    );
    assert_eq!(stsd[at + 4], 0xff, "4-byte NAL lengths");
    let colr = stsd.windows(4).position(|w| w == b"colr").unwrap() + 4;
    assert_eq!(&stsd[colr..colr + 4], b"nclx");
    assert_eq!(
        &stsd[colr + 4..colr + 11],
        &[0, 1, 0, 13, 0, 6, 0],
        "BT.709 primaries, sRGB transfer, BT.601 matrix, limited range"
    );
}

#[test]
fn odd_dimensions_are_padded_to_even_not_cropped() {
    let frames = common::synthetic_grey(321, 241, 3);
    let s = spec(321, 241, 10.0, PixelFormat::Gray8);
    assert_eq!(s.coded_size(), (322, 242));
    let mp4 = encode(s, &frames);
    let tkhd = find(&mp4, "moov/trak/tkhd").unwrap();
    assert_eq!(be32(&mp4, tkhd.body.start + 76) >> 16, 322);
    assert_eq!(be32(&mp4, tkhd.body.start + 80) >> 16, 242);
}

#[test]
fn per_frame_durations_use_a_90khz_clock() {
    let frames = common::synthetic_grey(64, 48, 4);
    let mut enc = Mp4Encoder::new(spec(64, 48, 25.0, PixelFormat::Gray8), Quality::High).unwrap();
    let durations =
        studylink_video::durations_from_frame_time_vector(&[0.0, 40.0, 40.0, 100.0]).unwrap();
    for (f, d) in frames.iter().zip(&durations) {
        enc.push_with_duration(f, *d).unwrap();
    }
    let mp4 = enc.finish().unwrap();
    let mdhd = find(&mp4, "moov/trak/mdia/mdhd").unwrap();
    assert_eq!(be32(&mp4, mdhd.body.start + 12), 90_000);
    // The last frame gets the mean of the vector's increments: 60 ms.
    assert_eq!(stts(&mp4), vec![(2, 3600), (1, 9000), (1, 5400)]);
    assert_eq!(be32(&mp4, mdhd.body.start + 16), 21_600);
}

#[test]
fn long_cines_get_periodic_key_frames() {
    let frames = common::synthetic_grey(64, 48, 50);
    let mp4 = encode(spec(64, 48, 10.0, PixelFormat::Gray8), &frames);
    let sync = u32_table(&mp4, "moov/trak/mdia/minf/stbl/stss", 8);
    assert!(
        sync.len() >= 2,
        "expected a key frame about every 2 s, got {sync:?}"
    );
    assert_eq!(sync[0], 1);
}

#[test]
fn encoder_can_move_to_a_worker_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Mp4Encoder>();
}

#[test]
fn wrong_frame_size_is_rejected_and_names_the_frame() {
    let mut enc = Mp4Encoder::new(spec(64, 48, 30.0, PixelFormat::Rgb8), Quality::High).unwrap();
    enc.push(&vec![0; 64 * 48 * 3]).unwrap();
    let err = enc.push(&vec![0; 64 * 48]).unwrap_err();
    assert!(
        matches!(
            err,
            VideoError::FrameSize {
                index: 1,
                expected: 9216,
                got: 3072
            }
        ),
        "{err}"
    );
    // The failed frame is not counted; the encoder stays usable.
    assert_eq!(enc.frames(), 1);
    assert!(enc.finish().is_ok());
}

#[test]
fn finishing_without_frames_is_an_error() {
    let enc = Mp4Encoder::new(spec(64, 48, 30.0, PixelFormat::Gray8), Quality::High).unwrap();
    assert!(matches!(enc.finish(), Err(VideoError::NoFrames)));
    assert!(matches!(
        encode_mp4(spec(64, 48, 30.0, PixelFormat::Gray8), std::iter::empty()),
        Err(VideoError::NoFrames)
    ));
}

#[test]
fn impossible_specs_are_rejected() {
    for bad in [
        spec(0, 48, 30.0, PixelFormat::Gray8),
        spec(64, 0, 30.0, PixelFormat::Gray8),
        spec(64, 48, 0.0, PixelFormat::Gray8),
        spec(64, 48, -5.0, PixelFormat::Gray8),
        spec(64, 48, f32::NAN, PixelFormat::Gray8),
        spec(64, 48, f32::INFINITY, PixelFormat::Gray8),
        spec(4096, 2304, 30.0, PixelFormat::Rgb8),
    ] {
        assert!(
            matches!(
                Mp4Encoder::new(bad, Quality::High),
                Err(VideoError::InvalidSpec(_))
            ),
            "{bad:?} accepted"
        );
    }
    // Portrait is as fine as landscape.
    assert!(Mp4Encoder::new(spec(2160, 3840, 30.0, PixelFormat::Gray8), Quality::Low).is_ok());
}

#[test]
fn absurd_frame_durations_are_rejected() {
    let mut enc = Mp4Encoder::new(spec(64, 48, 30.0, PixelFormat::Gray8), Quality::High).unwrap();
    let frame = vec![0; 64 * 48];
    assert!(matches!(
        enc.push_with_duration(&frame, Duration::ZERO),
        Err(VideoError::FrameDuration { index: 0, .. })
    ));
    assert!(
        enc.push_with_duration(&frame, Duration::from_secs(7200))
            .is_err()
    );
    assert_eq!(enc.frames(), 0);
}

#[test]
fn lower_quality_means_smaller_files() {
    let frames = common::synthetic_rgb(256, 192, 10);
    let size = |q| {
        let mut enc = Mp4Encoder::new(spec(256, 192, 30.0, PixelFormat::Rgb8), q).unwrap();
        frames.iter().for_each(|f| enc.push(f).unwrap());
        enc.finish().unwrap().len()
    };
    let (high, medium, low) = (
        size(Quality::High),
        size(Quality::Medium),
        size(Quality::Low),
    );
    assert!(high > medium && medium > low, "{high} {medium} {low}");
}
