//! Ground truth in MOT format (`frame,id,left,top,width,height,conf,…`, frame 1 = first video
//! frame): people per frame, and entrance-line crossings of the ground-truth tracks.
//!
//! The truth is used as it is: every row counts, occluded people included. A crossing is a change
//! of side of a track's foot point (bottom centre) that passes through the segment, one count per
//! change, with the same side convention as the daemon's lines. Reads a text file only; never
//! sees a frame.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::count::lines::{Band, Crossing, LineMemory, Segment};

#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    #[error("cannot read ground truth {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "ground truth {path}, line {line}: {why}; expected MOT rows \
         frame,id,left,top,width,height,conf,…"
    )]
    Format {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// One ground-truth box, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    frame: u64,
    id: i64,
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

/// A parsed ground-truth file.
#[derive(Debug, Clone)]
pub struct Truth {
    rows: Vec<Row>,
}

impl Truth {
    pub fn load(path: &Path) -> Result<Self, TruthError> {
        let text = crate::bounded_read::read_to_string(path, crate::bounded_read::TRUTH_BYTES)
            .map_err(|cause| TruthError::Read {
                path: path.to_path_buf(),
                cause,
            })?;
        Self::parse(&text).map_err(|(line, why)| TruthError::Format {
            path: path.to_path_buf(),
            line,
            why,
        })
    }

    /// Parses MOT text; the error is (1-based line, reason).
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() < 6 {
                return Err((i + 1, format!("{} fields", fields.len())));
            }
            let num = |k: usize| {
                fields[k]
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| (i + 1, format!("field {} is {:?}", k + 1, fields[k])))
            };
            let frame = num(0)?;
            if frame < 1.0 {
                return Err((i + 1, format!("frame {frame} (frames start at 1)")));
            }
            rows.push(Row {
                frame: frame as u64,
                id: num(1)? as i64,
                left: num(2)? as f32,
                top: num(3)? as f32,
                width: num(4)? as f32,
                height: num(5)? as f32,
            });
        }
        if rows.is_empty() {
            return Err((1, "no rows".into()));
        }
        Ok(Self { rows })
    }

    /// Each video frame's boxes (0-based frames), normalised to a `width` × `height` picture.
    pub fn boxes_by_frame(&self, width: u32, height: u32) -> Vec<Vec<crate::detect::BBox>> {
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        let frames = self.rows.iter().map(|r| r.frame).max().unwrap_or(0);
        let mut out = vec![Vec::new(); usize::try_from(frames).unwrap_or(0)];
        for r in &self.rows {
            if let Some(f) = out.get_mut((r.frame - 1) as usize) {
                f.push(crate::detect::BBox {
                    xmin: r.left / w,
                    ymin: r.top / h,
                    xmax: (r.left + r.width) / w,
                    ymax: (r.top + r.height) / h,
                });
            }
        }
        out
    }

    /// People in video frame `index` (0-based).
    pub fn people_per_frame(&self, frames: u64) -> Vec<u32> {
        let mut counts = vec![0u32; frames as usize];
        for r in &self.rows {
            if let Some(c) = counts.get_mut((r.frame - 1) as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// (in, out) crossings of `segment` by the ground-truth tracks within the first `frames`
    /// frames, for a picture of `width` × `height` pixels: every change of side counts.
    pub fn crossings(&self, segment: &Segment, width: u32, height: u32, frames: u64) -> (u64, u64) {
        self.crossings_beyond(segment, width, height, frames, Band::Fixed(0.0))
    }

    /// As [`Truth::crossings`], but a track changes side only once its foot point is beyond
    /// `band` (for a band of a fraction of the height: of the truth box's height), as the
    /// counter's hysteresis does. The difference from [`Truth::crossings`] is annotation jitter
    /// and people lingering on the line.
    pub fn crossings_beyond(
        &self,
        segment: &Segment,
        width: u32,
        height: u32,
        frames: u64,
        band: Band,
    ) -> (u64, u64) {
        let mut totals = (0, 0);
        self.each_crossing(segment, (width, height), frames, band, |_, c| match c {
            Crossing::In => totals.0 += 1,
            Crossing::Out => totals.1 += 1,
        });
        totals
    }

    /// The truth's (in, out) crossings of `segment` so far, after each of the first `frames`
    /// frames (every change of side counts), for `eval --svg`.
    pub fn crossings_by_frame(
        &self,
        segment: &Segment,
        width: u32,
        height: u32,
        frames: u64,
    ) -> Vec<(u64, u64)> {
        let mut per_frame = vec![(0u64, 0u64); usize::try_from(frames).unwrap_or(0)];
        self.each_crossing(
            segment,
            (width, height),
            frames,
            Band::Fixed(0.0),
            |frame, c| {
                if let Some(slot) = per_frame.get_mut((frame - 1) as usize) {
                    match c {
                        Crossing::In => slot.0 += 1,
                        Crossing::Out => slot.1 += 1,
                    }
                }
            },
        );
        let mut sum = (0, 0);
        for slot in &mut per_frame {
            sum = (sum.0 + slot.0, sum.1 + slot.1);
            *slot = sum;
        }
        per_frame
    }

    /// Calls `each` with the (1-based) frame and direction of every crossing of `segment` by the
    /// ground-truth tracks within the first `frames` frames, under `band`.
    fn each_crossing(
        &self,
        segment: &Segment,
        (width, height): (u32, u32),
        frames: u64,
        band: Band,
        mut each: impl FnMut(u64, Crossing),
    ) {
        let mut tracks: BTreeMap<i64, Vec<&Row>> = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r.frame <= frames) {
            tracks.entry(r.id).or_default().push(r);
        }
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        for rows in tracks.values_mut() {
            rows.sort_by_key(|r| r.frame);
            let mut memory = LineMemory::default();
            for r in rows.iter() {
                let foot = ((r.left + r.width / 2.0) / w, (r.top + r.height) / h);
                let half_width = band.for_height(r.height / h);
                if let Some(c) = segment.observe(&mut memory, foot, half_width) {
                    each(r.frame, c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mot_rows_and_counts_people_and_crossings() {
        // Track 1 walks left → right across x = 50 (of 100 px); track 2 stays left.
        let gt =
            "1,1,10,10,10,40,1,-1,-1,-1\n2,1,40,10,10,40,1,-1,-1,-1\n3,1,60,10,10,40,1,-1,-1,-1\n\
                  1,2,5,10,10,40,0,-1,-1,-1\n3,2,6,10,10,40,1,-1,-1,-1\n";
        let t = Truth::parse(gt).unwrap();
        assert_eq!(t.people_per_frame(4), vec![2, 1, 2, 0]);
        let door = Segment {
            from: (0.5, 0.0),
            to: (0.5, 1.0),
        };
        assert_eq!(t.crossings(&door, 100, 100, 3), (1, 0));
        assert_eq!(t.crossings(&door, 100, 100, 2), (0, 0));
    }

    #[test]
    fn jitter_on_the_line_counts_only_without_a_band() {
        // Track 1 stands on x = 50 (of 100 px), its foot point wobbling by one pixel either
        // side; track 2 walks across.
        let mut rows = String::new();
        for f in 1..=6 {
            let x = if f % 2 == 0 { 48.0 } else { 50.5 };
            rows.push_str(&format!("{f},1,{x},10,2,40,1,-1,-1,-1\n"));
            rows.push_str(&format!("{f},2,{},60,2,30,1,-1,-1,-1\n", 10 * f + 19));
        }
        let t = Truth::parse(&rows).unwrap();
        let door = Segment {
            from: (0.5, 0.0),
            to: (0.5, 1.0),
        };
        // Track 1: right, left, right, left, right, left = 2 in, 3 out; track 2: 1 in.
        assert_eq!(t.crossings(&door, 100, 100, 6), (3, 3));
        assert_eq!(
            t.crossings_beyond(&door, 100, 100, 6, Band::Fixed(0.02)),
            (1, 0)
        );
        // A band of a fraction of the height uses each truth box's height (track 1: 0.4).
        assert_eq!(
            t.crossings_beyond(&door, 100, 100, 6, Band::OfHeight(0.05)),
            (1, 0)
        );
        assert_eq!(
            t.crossings_beyond(&door, 100, 100, 6, Band::OfHeight(0.01)),
            (3, 3)
        );
    }

    #[test]
    fn bad_rows_name_the_line() {
        assert_eq!(Truth::parse("1,1,2\n").unwrap_err().0, 1);
        let e = Truth::parse("1,1,1,1,1,1,1\n2,x,1,1,1,1,1\n").unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("field 2"), "{}", e.1);
        assert!(Truth::parse("").is_err());
        assert!(Truth::parse("0,1,1,1,1,1,1\n").is_err());
    }
}
