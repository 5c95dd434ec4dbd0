//! RLE Lossless encoder (PS3.5 Annex G): a lossless output far smaller than native for
//! screens that are mostly black, which blanking makes them.

/// Encode one frame (interleaved samples, little endian) as one RLE fragment.
pub(crate) fn encode_frame(
    frame: &[u8],
    rows: usize,
    cols: usize,
    samples: usize,
    bps: usize,
) -> Vec<u8> {
    let segments = samples * bps;
    debug_assert!(segments <= 15, "the RLE header holds 15 segment offsets");
    // Segments hold the most significant byte of a sample first: segment
    // `k` is byte `source[k]` of each pixel.
    let source: Vec<usize> = (0..segments)
        .map(|k| (k / bps) * bps + (bps - 1 - k % bps))
        .collect();
    let mut packed: Vec<Vec<u8>> = (0..segments)
        .map(|_| Vec::with_capacity(rows * cols / 4))
        .collect();
    let mut planes = vec![0u8; cols * segments];
    for row in frame.chunks_exact(cols * segments).take(rows) {
        if segments == 1 {
            pack_bits(row, &mut packed[0]);
            continue;
        }
        // One pass over the row splits it into its segments' rows.
        let (p, rest) = planes.split_at_mut(cols);
        if segments == 3 {
            let (q, r) = rest.split_at_mut(cols);
            for (x, px) in row.chunks_exact(3).enumerate() {
                p[x] = px[source[0]];
                q[x] = px[source[1]];
                r[x] = px[source[2]];
            }
        } else {
            for (x, px) in row.chunks_exact(segments).enumerate() {
                for (k, &b) in source.iter().enumerate() {
                    planes[k * cols + x] = px[b];
                }
            }
        }
        // Runs never cross rows (G.3.1), so each row is packed on its own.
        for (k, out) in packed.iter_mut().enumerate() {
            pack_bits(&planes[k * cols..(k + 1) * cols], out);
        }
    }
    let mut out = vec![0u8; 64];
    out[..4].copy_from_slice(&(segments as u32).to_le_bytes());
    for (k, seg) in packed.iter().enumerate() {
        let offset = out.len() as u32;
        out[4 + 4 * k..8 + 4 * k].copy_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(seg);
        if out.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

fn pack_bits(row: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < row.len() {
        let v = row[i];
        let run = 1 + row[i + 1..row.len().min(i + 128)]
            .iter()
            .take_while(|&&b| b == v)
            .count();
        if run >= 3 {
            out.push((257 - run) as u8);
            out.push(row[i]);
            i += run;
            continue;
        }
        let start = i;
        while i < row.len() && i - start < 128 {
            if i + 2 < row.len() && row[i] == row[i + 1] && row[i] == row[i + 2] {
                break;
            }
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend_from_slice(&row[start..i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpack(mut data: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < n {
            let h = data[0] as i8;
            if h >= 0 {
                out.extend_from_slice(&data[1..2 + h as usize]);
                data = &data[2 + h as usize..];
            } else if h != -128 {
                out.extend(std::iter::repeat_n(data[1], (1 - h as isize) as usize));
                data = &data[2..];
            } else {
                data = &data[1..];
            }
        }
        out
    }

    #[test]
    fn rows_round_trip() {
        let rows: Vec<Vec<u8>> = vec![
            vec![0; 300],
            (0..=255).collect(),
            vec![1, 1, 2, 2, 2, 3, 4, 4, 4, 4, 5],
            vec![7],
            [
                vec![9; 2],
                (0..200).map(|i| (i % 7) as u8).collect(),
                vec![3; 129],
            ]
            .concat(),
        ];
        for row in rows {
            let mut packed = Vec::new();
            pack_bits(&row, &mut packed);
            assert_eq!(unpack(&packed, row.len()), row);
        }
    }

    #[test]
    fn header_lists_segments_msb_first() {
        // 2 pixels, 1 sample, 16 bits: values 0x0102, 0x0304
        let enc = encode_frame(&[0x02, 0x01, 0x04, 0x03], 1, 2, 1, 2);
        assert_eq!(u32::from_le_bytes(enc[0..4].try_into().unwrap()), 2);
        let s0 = u32::from_le_bytes(enc[4..8].try_into().unwrap()) as usize;
        let s1 = u32::from_le_bytes(enc[8..12].try_into().unwrap()) as usize;
        assert_eq!(s0, 64);
        assert_eq!(unpack(&enc[s0..s1], 2), vec![0x01, 0x03]);
        assert_eq!(unpack(&enc[s1..], 2), vec![0x02, 0x04]);
        assert_eq!(enc.len() % 2, 0);
    }
}
