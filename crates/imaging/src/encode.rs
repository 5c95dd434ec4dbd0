//! 8-bit pixels to JPEG or PNG, tuned for speed: baseline JPEG (SIMD when the
//! CPU has it), PNG with the fast deflate preset.

use crate::{DisplayFrame, Format, RenderError};

pub fn encode(frame: &DisplayFrame, format: Format) -> Result<Vec<u8>, RenderError> {
    let (w, h) = (frame.width, frame.height);
    let mut out = Vec::with_capacity(frame.pixels.len() / 8);
    match format {
        Format::Jpeg { quality } => {
            let (w16, h16) = (u16::try_from(w), u16::try_from(h));
            let (Ok(w16), Ok(h16)) = (w16, h16) else {
                return Err(RenderError::Unsupported("JPEG can't hold more than 65535 pixels per side".into()));
            };
            let color = if frame.rgb { jpeg_encoder::ColorType::Rgb } else { jpeg_encoder::ColorType::Luma };
            let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
            // 4:2:0 even at high quality (the crate's default is 4:4:4 from 90 up):
            // half the encoding time, and chroma detail is not what these images carry.
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            enc.encode(&frame.pixels, w16, h16, color)
                .map_err(|e| RenderError::Encode(e.to_string()))?;
        }
        Format::Png => {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(if frame.rgb { png::ColorType::Rgb } else { png::ColorType::Grayscale });
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            let mut writer = enc.write_header().map_err(|e| RenderError::Encode(e.to_string()))?;
            writer.write_image_data(&frame.pixels).map_err(|e| RenderError::Encode(e.to_string()))?;
            writer.finish().map_err(|e| RenderError::Encode(e.to_string()))?;
        }
    }
    Ok(out)
}
