//! Suggestions from the survey grid, each with its evidence, and the config they make.
//!
//! Everything here reads the k-blanked [`GridReport`] and the config's own totals (banded at
//! k) only: a suggestion can say nothing about one person that the grid does not.

mod areas;
mod lines;

use crate::config::{Config, MAX_TILES};
use crate::count::survey::GridReport;

use super::{DetectorSummary, LineTotals, ZoneTotals};

/// People in the busy cells should look at least this many times the detector's smallest
/// reliable height on its input, or tiles are suggested. Measured on PETS09 with the bundled SSD
/// (people where most walk 0.11 of the picture tall, reliable from 0.1): at 1.5 the survey chose
/// 3 × 2 tiles, which gave occupancy MAE 0.486 — no better than one input's 0.482, for six times
/// the detector time; at 2 it chooses 4 × 3, MAE 0.358 (4 × 2: 0.40).
const HEIGHT_HEADROOM: f64 = 2.0;
/// The busy cells: the most visited ones holding this share of all presence.
const BUSY_SHARE: f64 = 0.8;
/// The height a person in the busy cells is judged by: this quantile of their medians,
/// weighted by presence (most people there look at least this tall).
const HEIGHT_QUANTILE: f64 = 0.25;
/// A configured line warns of lingering when the cells it runs through hold at least this
/// share of all standing time.
const LINGER_SHARE: f64 = 0.2;

/// A suggested entrance line, in the `[[counting.lines]]` convention ("in" = from the left of
/// `from → to` to its right), with the crossings the grid saw as its counts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SuggestedLine {
    pub name: String,
    pub from: [f32; 2],
    pub to: [f32; 2],
    #[serde(rename = "in")]
    pub ins: u64,
    pub out: u64,
    pub evidence: String,
}

/// A suggested mask or zone.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SuggestedArea {
    pub name: String,
    pub polygon: Vec<[f32; 2]>,
    pub evidence: String,
}

/// Tiles suggested because people look too small to the detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SuggestedTiles {
    pub tile_columns: u32,
    pub tile_rows: u32,
    /// How tall people in the busy cells look (picture heights), and the detector's smallest
    /// reliable height on its input.
    pub person_height: f64,
    pub reliable_height: f64,
    /// The detector's time per frame with these tiles, estimated from the survey's own.
    pub ms_per_frame: f64,
    pub evidence: String,
}

/// Everything the survey suggests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suggestions {
    pub suggested_lines: Vec<SuggestedLine>,
    pub suggested_tiles: Option<SuggestedTiles>,
    pub suggested_masks: Vec<SuggestedArea>,
    pub suggested_zones: Vec<SuggestedArea>,
    pub warnings: Vec<String>,
    /// The config with the suggestions in it (TOML that `check-config` accepts).
    pub suggested_config: String,
}

/// What the suggestions are made for.
pub struct Context<'a> {
    pub config: &'a Config,
    /// The picture's size in pixels.
    pub picture: (u32, u32),
    pub detector: &'a DetectorSummary,
    pub lines: &'a [LineTotals],
    pub zones: &'a [ZoneTotals],
}

/// All suggestions and warnings from `grid`.
pub fn suggest(grid: &GridReport, cx: &Context<'_>) -> Suggestions {
    let c = &cx.config.counting;
    let line_names: Vec<String> = c.lines.iter().map(|l| l.name.clone()).collect();
    let zone_names: Vec<String> = c.zones.iter().map(|z| z.name.clone()).collect();
    let suggested_lines = lines::suggest(grid, &line_names);
    let suggested_tiles = tiles(grid, cx);
    let mut suggested_masks = areas::masks(grid);
    if suggested_tiles.is_some() {
        // A detector that misses small people also misses where they walk: what looks unused
        // now may not be once the tiles find them.
        for m in &mut suggested_masks {
            m.evidence.push_str(
                "; not in the suggested config: survey again with the suggested tiles first",
            );
        }
    }
    let suggested_zones = areas::zones(grid, &zone_names);
    let warnings = warnings(grid, cx);
    let mut s = Suggestions {
        suggested_lines,
        suggested_tiles,
        suggested_masks,
        suggested_zones,
        warnings,
        suggested_config: String::new(),
    };
    s.suggested_config = config_toml(cx.config, &s);
    s
}

/// The smallest person (picture heights on the detector's input) a model family finds
/// reliably: at least half of them, as `eval` measures it (`detection_by_height`) on PETS09
/// with one input (tests/eval_lines.rs checks both figures against that measurement).
/// SSD MobileNet v1 (300 × 300): 0.1 (it finds 35 % of people 0.075–0.1 tall, 81 % of those
/// 0.1–0.125). YOLOv5n (640 × 640): 0.075, which is only what that footage can show: it finds
/// 98–100 % of people down to the smallest there. Other families: the SSD's.
pub fn reliable_height(family: &str) -> f64 {
    if family.starts_with("yolo") {
        0.075
    } else {
        0.1
    }
}

/// Tiles when people in the busy cells look smaller on the detector's input than it finds
/// reliably: rows so that they look [`HEIGHT_HEADROOM`] times that, columns for tiles about as
/// wide as tall on the picture.
fn tiles(grid: &GridReport, cx: &Context<'_>) -> Option<SuggestedTiles> {
    let n = usize::from(grid.columns) * usize::from(grid.rows);
    let mut busy: Vec<(f64, f64)> = (0..n)
        .filter_map(|i| Some((grid.presence_s[i]?, grid.height_median[i]?)))
        .collect();
    let total: f64 = busy.iter().map(|b| b.0).sum();
    if total <= 0.0 {
        return None;
    }
    busy.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept = 0.0;
    busy.retain(|b| {
        let keep = kept < BUSY_SHARE * total;
        kept += b.0;
        keep
    });
    busy.sort_by(|a, b| a.1.total_cmp(&b.1));
    let weight: f64 = busy.iter().map(|b| b.0).sum();
    let mut acc = 0.0;
    let height = busy
        .iter()
        .find(|b| {
            acc += b.0;
            acc >= HEIGHT_QUANTILE * weight
        })
        .map(|b| b.1)?;
    let reliable = reliable_height(&cx.detector.family);
    // A tile spans 3 / (2 n + 1) of the picture along an axis of n tiles (neighbours overlap
    // by a third), so a person looks (2 n + 1) / 3 times taller on it.
    let looks = |rows: u32| height * f64::from(2 * rows + 1) / 3.0;
    let now = cx.detector.tile_rows.max(1);
    if looks(now) >= HEIGHT_HEADROOM * reliable {
        return None;
    }
    let rows = (1..=MAX_TILES).find(|&r| looks(r) >= HEIGHT_HEADROOM * reliable)?;
    let aspect = f64::from(cx.picture.0) / f64::from(cx.picture.1.max(1));
    let columns = ((f64::from(rows) * aspect).round() as u32).clamp(1, MAX_TILES);
    let tiles_now = f64::from(cx.detector.tile_columns.max(1) * now);
    let ms = cx.detector.ms_per_frame / tiles_now * f64::from(columns * rows);
    Some(SuggestedTiles {
        tile_columns: columns,
        tile_rows: rows,
        person_height: height,
        reliable_height: reliable,
        ms_per_frame: (ms * 10.0).round() / 10.0,
        evidence: format!(
            "people where most walk look {height:.2} of the picture's height, {:.2} on the \
             detector's input; the {} model finds people reliably from about {reliable:.2}: on \
             {columns} x {rows} tiles they look {:.2}, at about {:.0} ms a frame instead of {:.0}",
            looks(now),
            cx.detector.family,
            looks(rows),
            ms,
            cx.detector.ms_per_frame
        ),
    })
}

/// Lines people linger along, lines nobody crossed, zones nobody visited, nothing to go on.
fn warnings(grid: &GridReport, cx: &Context<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if grid.people.iter().all(Option::is_none) {
        out.push(format!(
            "no cell was visited by {} or more people: nothing can be shown or suggested; \
             survey for longer or at a busier time",
            grid.k
        ));
    }
    let (columns, rows) = (usize::from(grid.columns), usize::from(grid.rows));
    let total_dwell: f64 = grid.dwell_s.iter().flatten().sum();
    for (l, totals) in cx.config.counting.lines.iter().zip(cx.lines) {
        if totals.ins.value() == Some(0) && totals.out.value() == Some(0) {
            out.push(format!(
                "line {:?}: nobody crossed it during the survey",
                l.name
            ));
        }
        // The cells the line runs through, sampled finely along it.
        let mut cells = Vec::new();
        for s in 0..=200 {
            let f = s as f32 / 200.0;
            let x = l.from[0] + f * (l.to[0] - l.from[0]);
            let y = l.from[1] + f * (l.to[1] - l.from[1]);
            let c = ((x * columns as f32) as usize).min(columns - 1);
            let r = ((y * rows as f32) as usize).min(rows - 1);
            let i = grid.index(c, r);
            if !cells.contains(&i) {
                cells.push(i);
            }
        }
        let along: f64 = cells.iter().filter_map(|&i| grid.dwell_s[i]).sum();
        if total_dwell > 0.0 && along >= LINGER_SHARE * total_dwell {
            out.push(format!(
                "line {:?}: people stand still along it ({along:.0} person-seconds, {:.0} % of all \
                 standing): its counts may flicker; move it to where people walk through",
                l.name,
                100.0 * along / total_dwell
            ));
        }
    }
    for (z, totals) in cx.config.counting.zones.iter().zip(cx.zones) {
        if totals.max.value() == Some(0) {
            out.push(format!(
                "zone {:?}: nobody was in it during the survey",
                z.name
            ));
        }
    }
    out
}

/// The config with the suggestions added: its own lines, zones and masks kept, the suggested
/// ones after them, the suggested tiles set. Sections the survey does not touch are left out
/// unless the installer's config had them.
fn config_toml(config: &Config, s: &Suggestions) -> String {
    let mut c = config.clone();
    if let Some(t) = &s.suggested_tiles {
        c.detector.tile_columns = t.tile_columns;
        c.detector.tile_rows = t.tile_rows;
    }
    let room = crate::config::MAX_LINES.saturating_sub(c.counting.lines.len());
    c.counting
        .lines
        .extend(
            s.suggested_lines
                .iter()
                .take(room)
                .map(|l| crate::config::LineConfig {
                    name: l.name.clone(),
                    from: l.from,
                    to: l.to,
                }),
        );
    c.counting
        .zones
        .extend(s.suggested_zones.iter().map(|z| crate::config::ZoneConfig {
            name: z.name.clone(),
            polygon: z.polygon.clone(),
        }));
    let masks = if s.suggested_tiles.is_some() {
        &[][..]
    } else {
        &s.suggested_masks[..]
    };
    c.privacy
        .masks
        .extend(masks.iter().map(|m| crate::config::MaskConfig {
            name: m.name.clone(),
            polygon: m.polygon.clone(),
        }));
    // The survey's SOURCE is not the sensor's: the source section is the installer's own.
    c.source = config_source_or_default(config);
    let mut text = String::from(
        "# headcount survey: the suggested lines, zones, masks and tiles added to the config\n",
    );
    text.push_str(&c.to_toml());
    text
}

fn config_source_or_default(config: &Config) -> crate::config::SourceConfig {
    let mut s = config.source.clone();
    if s.kind == crate::config::SourceKind::Video {
        s.url = String::new();
    }
    s
}
