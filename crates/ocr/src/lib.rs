//! Tesseract through its C API, loaded at run time (`libtesseract.so.5`,
//! Debian `libtesseract5` + `tesseract-ocr-eng`), so the server builds and
//! starts without it. One engine per thread, kept for the thread's life:
//! loading the English model costs about 0.1 s, reading one image area about
//! as much again.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::Arc;

use libloading::Library;
use studylink_deid::{TextFinder, Word};

type Api = *mut c_void;

/// Page segmentation mode: sparse text (labels scattered over an image).
const PSM_SPARSE_TEXT: c_int = 11;

struct Functions {
    create: unsafe extern "C" fn() -> Api,
    delete: unsafe extern "C" fn(Api),
    init3: unsafe extern "C" fn(Api, *const c_char, *const c_char) -> c_int,
    set_psm: unsafe extern "C" fn(Api, c_int),
    set_image: unsafe extern "C" fn(Api, *const u8, c_int, c_int, c_int, c_int),
    set_resolution: unsafe extern "C" fn(Api, c_int),
    recognize: unsafe extern "C" fn(Api, *mut c_void) -> c_int,
    tsv: unsafe extern "C" fn(Api, c_int) -> *mut c_char,
    delete_text: unsafe extern "C" fn(*const c_char),
    /// libgomp's: Debian's Tesseract is built with OpenMP and asks for several
    /// threads per text line (a `num_threads` clause, which
    /// omp_set_num_threads cannot lower). The callers already keep every core
    /// busy, and the extra threads cost several times the work in spinning
    /// and wake-ups. Zero active levels: every parallel region runs on the
    /// calling thread. A per-thread setting in libgomp, so set per engine.
    omp_levels: Option<unsafe extern "C" fn(c_int)>,
    _libs: Vec<Library>,
}

/// Tesseract with its English model.
#[derive(Clone)]
pub struct Tesseract {
    f: Arc<Functions>,
    language: CString,
}

impl std::fmt::Debug for Tesseract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tesseract")
    }
}

struct Engine {
    api: Api,
    f: Arc<Functions>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        unsafe { (self.f.delete)(self.api) }
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

impl Tesseract {
    /// Loads the library and checks that the model loads. The error says how to install it.
    pub fn load() -> Result<Self, String> {
        let lib = ["libtesseract.so.5", "libtesseract.so"]
            .iter()
            .find_map(|name| unsafe { Library::new(name) }.ok())
            .ok_or("libtesseract is not installed (Debian: apt-get install libtesseract5 tesseract-ocr-eng)")?;
        let gomp = unsafe { Library::new("libgomp.so.1") }.ok();

        unsafe fn sym<T: Copy>(lib: &Library, name: &[u8]) -> Result<T, String> {
            unsafe { lib.get::<T>(name) }
                .map(|s| *s)
                .map_err(|e| format!("libtesseract lacks {}: {e}", String::from_utf8_lossy(name)))
        }
        let f = unsafe {
            Functions {
                create: sym(&lib, b"TessBaseAPICreate\0")?,
                delete: sym(&lib, b"TessBaseAPIDelete\0")?,
                init3: sym(&lib, b"TessBaseAPIInit3\0")?,
                set_psm: sym(&lib, b"TessBaseAPISetPageSegMode\0")?,
                set_image: sym(&lib, b"TessBaseAPISetImage\0")?,
                set_resolution: sym(&lib, b"TessBaseAPISetSourceResolution\0")?,
                recognize: sym(&lib, b"TessBaseAPIRecognize\0")?,
                tsv: sym(&lib, b"TessBaseAPIGetTsvText\0")?,
                delete_text: sym(&lib, b"TessDeleteText\0")?,
                omp_levels: gomp.as_ref().and_then(|g| sym(g, b"omp_set_max_active_levels\0").ok()),
                _libs: [Some(lib), gomp].into_iter().flatten().collect(),
            }
        };
        let t = Tesseract { f: Arc::new(f), language: CString::new("eng").expect("no NUL") };
        // Fails now, with the reason, if the English model is missing.
        t.with_engine(|_| Ok(()))?;
        Ok(t)
    }

    fn with_engine<R>(&self, run: impl FnOnce(Api) -> Result<R, String>) -> Result<R, String> {
        ENGINE.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|e| !Arc::ptr_eq(&e.f, &self.f)) {
                if let Some(levels) = self.f.omp_levels {
                    unsafe { levels(0) };
                }
                let api = unsafe { (self.f.create)() };
                if api.is_null() {
                    return Err("Tesseract did not start".into());
                }
                let engine = Engine { api, f: self.f.clone() };
                if unsafe { (self.f.init3)(api, std::ptr::null(), self.language.as_ptr()) } != 0 {
                    return Err("Tesseract's English model is not installed (Debian: apt-get install tesseract-ocr-eng)".into());
                }
                unsafe { (self.f.set_psm)(api, PSM_SPARSE_TEXT) };
                *slot = Some(engine);
            }
            run(slot.as_ref().expect("set above").api)
        })
    }
}

impl TextFinder for Tesseract {
    fn find(&self, grey: &[u8], width: u32, height: u32) -> Result<Vec<Word>, String> {
        if width == 0 || height == 0 || grey.len() != width as usize * height as usize {
            return Err("image size does not match its pixels".into());
        }
        // Screen annotations are light on dark; Tesseract reads dark text on
        // light first and retries a word inverted only when unsure, which
        // every speckle blob is. Inverted up front, the same corpus images
        // read in ~18% less time and the same words (crates/ocr/examples/ocr_time.rs);
        // the retry (tessedit_do_invert) stays on for dark text on light.
        let grey: Vec<u8> = grey.iter().map(|v| 255 - v).collect();
        self.with_engine(|api| {
            let f = &self.f;
            let text = unsafe {
                (f.set_image)(api, grey.as_ptr(), width as c_int, height as c_int, 1, width as c_int);
                // Screen text: about 72 dpi. Saying so keeps Tesseract from guessing per image.
                (f.set_resolution)(api, 72);
                if (f.recognize)(api, std::ptr::null_mut()) != 0 {
                    return Err("Tesseract could not read the image".into());
                }
                let raw = (f.tsv)(api, 0);
                if raw.is_null() {
                    return Err("Tesseract gave no result".into());
                }
                let s = CStr::from_ptr(raw).to_string_lossy().into_owned();
                (f.delete_text)(raw);
                s
            };
            Ok(parse_tsv(&text))
        })
    }
}

/// Tesseract's TSV: level, page, block, paragraph, line, word, left, top,
/// width, height, confidence, text; level 5 rows are words.
fn parse_tsv(tsv: &str) -> Vec<Word> {
    tsv.lines()
        .filter_map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            if c.len() < 12 || c[0] != "5" || c[11].trim().is_empty() {
                return None;
            }
            let n = |i: usize| c[i].parse::<u32>().ok();
            Some(Word { text: c[11].trim().to_string(), x: n(6)?, y: n(7)?, width: n(8)?, height: n(9)? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_with_boxes() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t400\t300\t-1\t\n5\t1\t1\t1\t1\t1\t30\t320\t35\t12\t91.5\tDOE\n5\t1\t1\t1\t1\t2\t70\t320\t5\t12\t10\t \n";
        assert_eq!(parse_tsv(tsv), vec![Word { text: "DOE".into(), x: 30, y: 320, width: 35, height: 12 }]);
    }

    #[test]
    fn reads_a_word_drawn_in_an_image() {
        let t = Tesseract::load().expect("Tesseract (scripts/test installs libtesseract5 tesseract-ocr-eng)");
        // "HI" in a 5×7 pixel font, scaled ×4, light on dark.
        let glyphs = ["X...X.XXX", "X...X..X.", "X...X..X.", "XXXXX..X.", "X...X..X.", "X...X..X.", "X...X.XXX"];
        let (w, h, s) = (120u32, 60u32, 4usize);
        let mut img = vec![0u8; (w * h) as usize];
        for (gy, row) in glyphs.iter().enumerate() {
            for (gx, ch) in row.chars().enumerate() {
                if ch == 'X' {
                    for dy in 0..s {
                        for dx in 0..s {
                            img[(16 + gy * s + dy) * w as usize + 30 + gx * s + dx] = 230;
                        }
                    }
                }
            }
        }
        let words = t.find(&img, w, h).unwrap();
        assert!(words.iter().any(|w| w.text.contains("HI")), "{words:?}");
        let hi = words.iter().find(|w| w.text.contains("HI")).unwrap();
        assert!(hi.x >= 20 && hi.x <= 40 && hi.y >= 8 && hi.y <= 24, "{hi:?}");
        assert!(t.find(&img, w, h + 1).is_err());
        // Dark text on light (an annotation box) is read too.
        let dark_on_light: Vec<u8> = img.iter().map(|v| 255 - v).collect();
        let words = t.find(&dark_on_light, w, h).unwrap();
        assert!(words.iter().any(|w| w.text.contains("HI")), "{words:?}");
    }
}
