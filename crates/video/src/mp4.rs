//! Minimal ISO BMFF (MP4) writer for one H.264 video track, `moov` first.

use crate::VideoError;
use crate::timing::Timeline;

/// Everything the `moov` box describes.
pub(crate) struct Track<'a> {
    pub width: u16,
    pub height: u16,
    pub timeline: &'a Timeline,
    pub sample_sizes: &'a [u32],
    /// 1-based numbers of IDR samples.
    pub sync_samples: &'a [u32],
    pub sps: &'a [u8],
    pub pps: &'a [u8],
    /// colour_primaries, transfer_characteristics, matrix_coefficients, full range.
    pub colour: (u8, u8, u8, bool),
}

const TRACK_ID: u32 = 1;
/// Identity transform, 16.16 / 2.30 fixed point.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Builds the file around `payload`, which holds the samples back to back and
/// is reused as the output buffer so a long cine is never held twice.
pub(crate) fn write_file(track: &Track, mut payload: Vec<u8>) -> Result<Vec<u8>, VideoError> {
    let mut head = Vec::new();
    ftyp(&mut head);
    // stco offsets depend on the moov size, which does not depend on them.
    let moov_len = moov(track, 0).len();
    let data_start = head.len() + moov_len + 8;
    let mdat_len = u32::try_from(8 + payload.len()).map_err(|_| VideoError::TooLarge)?;
    u32::try_from(data_start + payload.len()).map_err(|_| VideoError::TooLarge)?;
    head.extend_from_slice(&moov(track, data_start as u32));
    head.extend_from_slice(&mdat_len.to_be_bytes());
    head.extend_from_slice(b"mdat");
    // Exact reservation: letting splice grow the buffer could double it.
    payload.reserve_exact(head.len());
    payload.splice(0..0, head);
    Ok(payload)
}

/// Appends a box whose body `body` writes, then fills in its size.
fn bx(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(kind);
    body(out);
    let len = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

fn full(out: &mut Vec<u8>, kind: &[u8; 4], version_flags: u32, body: impl FnOnce(&mut Vec<u8>)) {
    bx(out, kind, |o| {
        put32(o, version_flags);
        body(o);
    });
}

fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_be_bytes());
}

fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_be_bytes());
}

fn ftyp(out: &mut Vec<u8>) {
    bx(out, b"ftyp", |o| {
        o.extend_from_slice(b"isom");
        put32(o, 0x200);
        for brand in [b"isom", b"iso2", b"avc1", b"mp41"] {
            o.extend_from_slice(brand);
        }
    });
}

fn moov(t: &Track, data_start: u32) -> Vec<u8> {
    let duration = u32::try_from(t.timeline.total()).unwrap_or(u32::MAX);
    let timescale = t.timeline.timescale;
    let mut out = Vec::new();
    bx(&mut out, b"moov", |o| {
        full(o, b"mvhd", 0, |o| {
            put32(o, 0); // creation time: unknown is better than a wrong clock
            put32(o, 0);
            put32(o, timescale);
            put32(o, duration);
            put32(o, 0x0001_0000); // rate 1.0
            put16(o, 0x0100); // volume 1.0
            o.extend_from_slice(&[0; 10]);
            MATRIX.iter().for_each(|&m| put32(o, m));
            o.extend_from_slice(&[0; 24]);
            put32(o, TRACK_ID + 1);
        });
        bx(o, b"trak", |o| {
            full(o, b"tkhd", 0x3, |o| {
                // flags: enabled, in movie
                put32(o, 0);
                put32(o, 0);
                put32(o, TRACK_ID);
                put32(o, 0);
                put32(o, duration);
                o.extend_from_slice(&[0; 8]);
                put16(o, 0); // layer
                put16(o, 0); // alternate group
                put16(o, 0); // volume: video
                put16(o, 0);
                MATRIX.iter().for_each(|&m| put32(o, m));
                put32(o, u32::from(t.width) << 16);
                put32(o, u32::from(t.height) << 16);
            });
            bx(o, b"mdia", |o| {
                full(o, b"mdhd", 0, |o| {
                    put32(o, 0);
                    put32(o, 0);
                    put32(o, timescale);
                    put32(o, duration);
                    put16(o, 0x55c4); // "und"
                    put16(o, 0);
                });
                full(o, b"hdlr", 0, |o| {
                    put32(o, 0);
                    o.extend_from_slice(b"vide");
                    o.extend_from_slice(&[0; 12]);
                    o.extend_from_slice(b"VideoHandler\0");
                });
                bx(o, b"minf", |o| {
                    full(o, b"vmhd", 1, |o| o.extend_from_slice(&[0; 8]));
                    bx(o, b"dinf", |o| {
                        full(o, b"dref", 0, |o| {
                            put32(o, 1);
                            full(o, b"url ", 1, |_| {}); // flag 1: data in this file
                        });
                    });
                    stbl(o, t, data_start);
                });
            });
        });
    });
    out
}

fn stbl(o: &mut Vec<u8>, t: &Track, data_start: u32) {
    bx(o, b"stbl", |o| {
        full(o, b"stsd", 0, |o| {
            put32(o, 1);
            avc1(o, t);
        });
        full(o, b"stts", 0, |o| {
            let runs = run_lengths(&t.timeline.deltas);
            put32(o, runs.len() as u32);
            for (count, delta) in runs {
                put32(o, count);
                put32(o, delta);
            }
        });
        full(o, b"stss", 0, |o| {
            put32(o, t.sync_samples.len() as u32);
            t.sync_samples.iter().for_each(|&s| put32(o, s));
        });
        // One sample per chunk: trivially correct for every demuxer.
        full(o, b"stsc", 0, |o| {
            put32(o, 1);
            [1, 1, 1].into_iter().for_each(|v| put32(o, v));
        });
        full(o, b"stsz", 0, |o| {
            put32(o, 0);
            put32(o, t.sample_sizes.len() as u32);
            t.sample_sizes.iter().for_each(|&s| put32(o, s));
        });
        full(o, b"stco", 0, |o| {
            put32(o, t.sample_sizes.len() as u32);
            let mut offset = data_start;
            for &size in t.sample_sizes {
                put32(o, offset);
                offset = offset.wrapping_add(size);
            }
        });
    });
}

fn avc1(o: &mut Vec<u8>, t: &Track) {
    bx(o, b"avc1", |o| {
        o.extend_from_slice(&[0; 6]);
        put16(o, 1); // data reference index
        o.extend_from_slice(&[0; 16]);
        put16(o, t.width);
        put16(o, t.height);
        put32(o, 0x0048_0000); // 72 dpi
        put32(o, 0x0048_0000);
        put32(o, 0);
        put16(o, 1); // frames per sample
        o.extend_from_slice(&[0; 32]); // compressor name
        put16(o, 0x18); // depth: colour, no alpha
        put16(o, 0xffff);
        bx(o, b"avcC", |o| {
            o.push(1);
            o.extend_from_slice(&t.sps[1..4]); // profile, constraints, level
            o.push(0xfc | 3); // 4-byte NAL lengths
            o.push(0xe0 | 1);
            put16(o, t.sps.len() as u16);
            o.extend_from_slice(t.sps);
            o.push(1);
            put16(o, t.pps.len() as u16);
            o.extend_from_slice(t.pps);
        });
        // Safari and QuickTime read colour from here rather than the SPS.
        bx(o, b"colr", |o| {
            let (primaries, transfer, matrix, full_range) = t.colour;
            o.extend_from_slice(b"nclx");
            put16(o, primaries.into());
            put16(o, transfer.into());
            put16(o, matrix.into());
            o.push(if full_range { 0x80 } else { 0 });
        });
        bx(o, b"pasp", |o| {
            put32(o, 1);
            put32(o, 1);
        });
    });
}

/// `stts` entries: (sample count, delta) for each run of equal deltas.
fn run_lengths(deltas: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &d in deltas {
        match runs.last_mut() {
            Some((count, delta)) if *delta == d => *count += 1,
            _ => runs.push((1, d)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_deltas_collapse_into_one_stts_entry() {
        assert_eq!(run_lengths(&[1000; 5]), vec![(5, 1000)]);
        assert_eq!(run_lengths(&[3, 3, 4, 3]), vec![(2, 3), (1, 4), (1, 3)]);
        assert!(run_lengths(&[]).is_empty());
    }

    #[test]
    fn box_size_covers_header_and_body() {
        let mut out = Vec::new();
        bx(&mut out, b"free", |o| o.extend_from_slice(&[7; 5]));
        assert_eq!(&out[..8], &[0, 0, 0, 13, b'f', b'r', b'e', b'e']);
    }
}
