//! Which pixels survive: ultrasound regions, device rules, and the decision between them.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use super::devices::{self, Evidence};
use super::geometry::Geometry;
use super::{Method, NotCleanable, assess};

/// A pixel rectangle, half-open: columns `x0..x1` and rows `y0..y1`, origin at the top-left
/// pixel. (Ultrasound Region Location Max X1/Y1 are inclusive; they are converted.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    fn clamp(self, cols: u32, rows: u32) -> Rect {
        Rect {
            x0: self.x0.min(cols),
            y0: self.y0.min(rows),
            x1: self.x1.min(cols),
            y1: self.y1.min(rows),
        }
    }
}

/// A region starting above this row leaves no room for a text line above it, so, without a
/// device rule, the header band may lie inside the region (fail closed).
pub(crate) const MIN_REGION_TOP: u32 = 24;

/// The kept pixels, as sorted disjoint column spans per row.
#[derive(Debug, Clone)]
pub(crate) struct KeepArea {
    cols: u32,
    rows: Vec<Vec<(u32, u32)>>,
}

impl KeepArea {
    fn from_rects(cols: u32, rows: u32, keep: &[Rect]) -> Self {
        let mut spans = vec![Vec::new(); rows as usize];
        for k in keep.iter().map(|k| k.clamp(cols, rows)) {
            if k.x0 < k.x1 {
                for row in &mut spans[k.y0 as usize..k.y1 as usize] {
                    row.push((k.x0, k.x1));
                }
            }
        }
        for row in &mut spans {
            row.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(row.len());
            for &(a, b) in row.iter() {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            *row = merged;
        }
        KeepArea { cols, rows: spans }
    }

    /// Every pixel kept.
    pub(crate) fn whole(cols: u32, rows: u32) -> Self {
        KeepArea::from_rects(cols, rows, &[Rect { x0: 0, y0: 0, x1: cols, y1: rows }])
    }

    pub(crate) fn subtract(&mut self, cut: Rect) {
        let cut = cut.clamp(self.cols, self.rows.len() as u32);
        for row in &mut self.rows[cut.y0 as usize..cut.y1 as usize] {
            *row = row
                .iter()
                .flat_map(|&(a, b)| {
                    let left = (a, b.min(cut.x0));
                    let right = (a.max(cut.x1), b);
                    [left, right].into_iter().filter(|(s, e)| s < e)
                })
                .collect();
        }
    }

    /// The smallest rectangle holding every kept pixel.
    pub fn bounds(&self) -> Option<Rect> {
        let mut r: Option<Rect> = None;
        for (y, row) in self.rows.iter().enumerate() {
            let (Some(first), Some(last)) = (row.first(), row.last()) else { continue };
            let y = y as u32;
            r = Some(match r {
                None => Rect { x0: first.0, y0: y, x1: last.1, y1: y + 1 },
                Some(r) => Rect { x0: r.x0.min(first.0), y0: r.y0, x1: r.x1.max(last.1), y1: y + 1 },
            });
        }
        r
    }

    /// Kept column spans of row `y`.
    pub fn spans(&self, y: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.rows[y as usize].iter().copied()
    }

    fn is_empty(&self) -> bool {
        self.rows.iter().all(Vec::is_empty)
    }

    /// Column spans to blank in row `y`: the complement of the kept spans.
    pub fn gaps(&self, y: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let row = &self.rows[y as usize];
        let starts = std::iter::once(0).chain(row.iter().map(|s| s.1));
        let ends = row.iter().map(|s| s.0).chain(std::iter::once(self.cols));
        starts.zip(ends).filter(|(s, e)| s < e)
    }

    #[cfg(test)]
    pub fn is_kept(&self, x: u32, y: u32) -> bool {
        self.rows[y as usize].iter().any(|&(a, b)| a <= x && x < b)
    }

    /// The blanked pixels as rectangles: runs of rows with identical gaps.
    pub fn blanked_rects(&self) -> Vec<Rect> {
        let mut out = Vec::new();
        let mut open: Vec<Rect> = Vec::new();
        for y in 0..self.rows.len() as u32 {
            let gaps: Vec<(u32, u32)> = self.gaps(y).collect();
            let same = gaps.len() == open.len()
                && gaps
                    .iter()
                    .zip(&open)
                    .all(|(g, r)| g.0 == r.x0 && g.1 == r.x1);
            if same {
                open.iter_mut().for_each(|r| r.y1 = y + 1);
            } else {
                out.append(&mut open);
                open = gaps
                    .iter()
                    .map(|&(x0, x1)| Rect {
                        x0,
                        y0: y,
                        x1,
                        y1: y + 1,
                    })
                    .collect();
            }
        }
        out.append(&mut open);
        out
    }
}

enum Regions {
    Absent,
    Usable(Vec<Rect>),
    /// Coordinates outside the pixel matrix: the regions describe some other matrix
    /// (resized or cropped copy), so they say nothing about this one.
    OutOfBounds,
    Malformed,
}

/// Spatial formats that hold acquired data: 2D, M-mode, spectral, waveform. "None" (0) and
/// graphics (5) regions may span the whole screen, header band included.
fn is_image_region(item: &InMemDicomObject) -> bool {
    matches!(uint(item, tags::REGION_SPATIAL_FORMAT), Some(1..=4))
}

fn read_regions(obj: &DefaultDicomObject, geo: &Geometry) -> Regions {
    let Some(items) = obj
        .get(tags::SEQUENCE_OF_ULTRASOUND_REGIONS)
        .and_then(|e| e.items())
    else {
        return Regions::Absent;
    };
    let mut out = Vec::new();
    for item in items.iter().filter(|i| is_image_region(i)) {
        let coords = [
            tags::REGION_LOCATION_MIN_X0,
            tags::REGION_LOCATION_MIN_Y0,
            tags::REGION_LOCATION_MAX_X1,
            tags::REGION_LOCATION_MAX_Y1,
        ]
        .map(|t| uint(item, t));
        let [Some(x0), Some(y0), Some(x1), Some(y1)] = coords else {
            return Regions::Malformed;
        };
        if x0 > x1 || y0 > y1 {
            return Regions::Malformed;
        }
        // Max is inclusive; one past the edge is a common off-by-one and is tolerated.
        if x1 > geo.cols || y1 > geo.rows {
            return Regions::OutOfBounds;
        }
        out.push(Rect {
            x0,
            y0,
            x1: (x1 + 1).min(geo.cols),
            y1: (y1 + 1).min(geo.rows),
        });
    }
    if out.is_empty() {
        Regions::Absent
    } else {
        Regions::Usable(out)
    }
}

fn uint(item: &InMemDicomObject, tag: Tag) -> Option<u32> {
    item.get(tag).and_then(|e| e.to_int::<u32>().ok())
}

fn text(obj: &DefaultDicomObject, tag: Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Decide what to keep. Fails closed whenever the text band cannot be located for sure.
pub(crate) fn keep_area(
    obj: &DefaultDicomObject,
    geo: &Geometry,
) -> Result<(KeepArea, Method), NotCleanable> {
    let regions = read_regions(obj, geo);
    let rule = if assess::is_ultrasound(obj) {
        devices::find(
            &text(obj, tags::MANUFACTURER),
            &text(obj, tags::MANUFACTURER_MODEL_NAME),
            geo.rows,
            geo.cols,
        )
    } else {
        None
    };
    let full = [Rect {
        x0: 0,
        y0: 0,
        x1: geo.cols,
        y1: geo.rows,
    }];
    let (mut keep, method) = match (regions, rule) {
        (Regions::Usable(r), Some(rule)) => (
            KeepArea::from_rects(geo.cols, geo.rows, &r),
            Method::RegionsAndDeviceRule { rule: rule.name },
        ),
        (Regions::Usable(r), None) => {
            if r.iter().any(|r| r.y0 < MIN_REGION_TOP) {
                return Err(NotCleanable::Unsupported(
                    "an ultrasound region reaches the top text band and no device layout is known"
                        .into(),
                ));
            }
            (
                KeepArea::from_rects(geo.cols, geo.rows, &r),
                Method::Regions,
            )
        }
        (Regions::Malformed, _) => {
            return Err(NotCleanable::Unsupported(
                "malformed Sequence of Ultrasound Regions".into(),
            ));
        }
        (Regions::Absent | Regions::OutOfBounds, Some(rule))
            if rule.evidence == Evidence::Corpus =>
        {
            (
                KeepArea::from_rects(geo.cols, geo.rows, &full),
                Method::DeviceRule { rule: rule.name },
            )
        }
        (Regions::OutOfBounds, _) => {
            return Err(NotCleanable::Unsupported(
                "ultrasound regions do not fit the pixel matrix and no verified device layout is known".into(),
            ));
        }
        (Regions::Absent, _) => return Err(NotCleanable::NoRegionsOrRule),
    };
    if let Some(rule) = rule {
        rule.blank.iter().for_each(|b| keep.subtract(*b));
    }
    if keep.is_empty() {
        return Err(NotCleanable::Unsupported(
            "no image area would remain".into(),
        ));
    }
    Ok((keep, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_minus_band_and_gaps() {
        let mut k = KeepArea::from_rects(
            10,
            6,
            &[
                Rect {
                    x0: 2,
                    y0: 1,
                    x1: 6,
                    y1: 5,
                },
                Rect {
                    x0: 5,
                    y0: 3,
                    x1: 9,
                    y1: 6,
                },
            ],
        );
        k.subtract(Rect {
            x0: 0,
            y0: 0,
            x1: 10,
            y1: 2,
        });
        assert_eq!(k.gaps(0).collect::<Vec<_>>(), vec![(0, 10)]);
        assert_eq!(k.gaps(1).collect::<Vec<_>>(), vec![(0, 10)]);
        assert_eq!(k.gaps(2).collect::<Vec<_>>(), vec![(0, 2), (6, 10)]);
        assert_eq!(k.gaps(3).collect::<Vec<_>>(), vec![(0, 2), (9, 10)]);
        assert_eq!(k.gaps(5).collect::<Vec<_>>(), vec![(0, 5), (9, 10)]);
        assert!(k.is_kept(2, 2) && !k.is_kept(6, 2) && k.is_kept(8, 4));
    }

    #[test]
    fn blanked_rects_cover_exactly_the_complement() {
        let k = KeepArea::from_rects(
            10,
            6,
            &[
                Rect {
                    x0: 2,
                    y0: 1,
                    x1: 6,
                    y1: 5,
                },
                Rect {
                    x0: 5,
                    y0: 3,
                    x1: 9,
                    y1: 6,
                },
            ],
        );
        let rects = k.blanked_rects();
        for y in 0..6 {
            for x in 0..10 {
                let n = rects
                    .iter()
                    .filter(|r| r.x0 <= x && x < r.x1 && r.y0 <= y && y < r.y1)
                    .count();
                assert_eq!(n, usize::from(!k.is_kept(x, y)), "({x},{y})");
            }
        }
    }
}
