//! The counting stage as one unit: a frame's detections in, due reports out.
//!
//! Per frame: the tracker folds in the detections; occupancy is made from the people present
//! (confirmed tracks seen within the hold time), from the raw detections, or from in − out at
//! the entrance lines; each zone counts the present people whose foot point is inside it; each
//! line counts the tracks that crossed it. The detections are not kept: only counts come out, as
//! [`CountReport`]s. Track positions stay inside the tracker and die with their tracks; nothing
//! here logs or publishes a position.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::door::{DoorConfig, DoorEvent, DoorOccupancy};
use super::door_store::{DoorStore, DoorStoreError};
use super::lines::{Band, Crossing, LineCounter, LineMemory, LineReport, Segment, MAX_LINES};
use super::occupancy::{Cadence, OccupancyCounter, OccupancyReport};
use super::survey::{GridReport, SurveyGrid, SurveyMemo};
use super::tracker::{Tracker, TrackerConfig};
use super::zones::Zone;
pub use crate::config::OccupancyMode;
use crate::config::{parse_time_of_day, CountingConfig};
use crate::detect::Detection;
use crate::wall_clock::WallClock;

/// Everything the counting stage is configured with: its `[counting]` section resolved
/// ([`SceneConfig::from_config`]), plus what the rest of the sensor decides (the report cadence,
/// the detector's threshold).
#[derive(Debug, Clone)]
pub struct SceneConfig {
    pub mode: OccupancyMode,
    pub smoothing_frames: u32,
    pub cadence: Cadence,
    pub tracker: TrackerConfig,
    /// Half-width of the no-change band around each line.
    pub line_band: Band,
    /// How long a crossing waits before it counts; the same track crossing back within it undoes
    /// both. Zero = every crossing counts at once.
    pub line_return: Duration,
    pub zones: Vec<Zone>,
    pub lines: Vec<Segment>,
    pub door: DoorConfig,
}

impl SceneConfig {
    /// The stage as `[counting]` describes it, reporting on `cadence`; detections scoring below
    /// `person_threshold` (the detector's threshold) only continue tracks.
    pub fn from_config(c: &CountingConfig, cadence: Cadence, person_threshold: f32) -> Self {
        SceneConfig {
            mode: c.occupancy,
            smoothing_frames: c.smoothing_frames,
            cadence,
            tracker: TrackerConfig::from_config(c, person_threshold),
            line_band: Band::from_config(c),
            line_return: Duration::from_secs_f32(c.line_return_s),
            zones: c
                .zones
                .iter()
                .map(|z| Zone::new(z.polygon.iter().map(|&[x, y]| (x, y))))
                .collect(),
            lines: c.lines.iter().map(Segment::from).collect(),
            door: DoorConfig {
                reset_at: parse_time_of_day(&c.daily_reset),
                empty_correction: (c.empty_correction_s > 0)
                    .then(|| Duration::from_secs(c.empty_correction_s.into())),
                utc_offset_s: None,
            },
        }
    }
}

/// One aggregate ready to publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountReport {
    Occupancy(OccupancyReport),
    /// Occupancy of zone `index` (in configuration order).
    Zone(usize, OccupancyReport),
    /// Totals of line `index` (in configuration order).
    Line(usize, LineReport),
}

/// What the counting stage remembers of one tracked person, inside its track: the side of
/// each line it was last on, and (when surveying) the survey's cells.
#[derive(Debug, Clone, Copy, Default)]
struct Memo {
    lines: [LineMemory; MAX_LINES],
    survey: SurveyMemo,
}

impl AsMut<SurveyMemo> for Memo {
    fn as_mut(&mut self) -> &mut SurveyMemo {
        &mut self.survey
    }
}

/// Detections a track needs before occupancy holds it through missed frames: transient boxes
/// (a group seen as one, a duplicate) rarely last this long, people do.
const ESTABLISHED: u32 = 10;

/// The counting stage: tracker, occupancy, zones, lines and the door count, fed one frame at a
/// time through [`Counting::step`] (the daemon's pipeline, `eval` and the benchmarks all call
/// it), closed with [`Counting::finish`].
#[derive(Debug)]
pub struct Counting {
    mode: OccupancyMode,
    band: Band,
    return_window: Duration,
    tracker: Tracker<Memo>,
    occupancy: OccupancyCounter,
    zones: Vec<(Zone, OccupancyCounter)>,
    lines: Vec<LineCounter>,
    /// Crossings this frame, per line: (in, out).
    crossings: Vec<(u64, u64)>,
    door: DoorOccupancy,
    clock: Arc<WallClock>,
    /// The reports due after the last step (reused: a step allocates nothing after warm-up).
    reports: Vec<CountReport>,
    /// The installer's survey grid, when surveying ([`Counting::with_survey`]).
    survey: Option<SurveyGrid>,
}

impl Counting {
    /// `clock` maps source time to wall-clock time (for the daily reset); a live one is kept on
    /// the system clock from each frame's time.
    pub fn new(config: SceneConfig, clock: Arc<WallClock>) -> Self {
        let counter = || OccupancyCounter::with_cadence(config.smoothing_frames, config.cadence);
        let lines: Vec<LineCounter> = config
            .lines
            .iter()
            .take(MAX_LINES)
            .map(|s| LineCounter::new(*s, config.cadence))
            .collect();
        Self {
            mode: config.mode,
            band: config.line_band,
            return_window: config.line_return,
            tracker: Tracker::new(config.tracker),
            occupancy: counter(),
            zones: config.zones.into_iter().map(|z| (z, counter())).collect(),
            crossings: vec![(0, 0); lines.len()],
            lines,
            door: DoorOccupancy::new(config.door, Arc::clone(&clock)),
            clock,
            reports: Vec::with_capacity(16),
            survey: None,
        }
    }

    /// Also accumulates the installer's survey on a `columns` × `rows` grid (`headcount
    /// survey`); read it with [`Counting::survey`].
    pub fn with_survey(mut self, columns: u16, rows: u16) -> Self {
        self.survey = Some(SurveyGrid::new(columns, rows));
        self
    }

    /// The survey so far, with every cell fewer than `k` distinct people visited blanked; the
    /// frames and seconds it covers. `None` when not surveying.
    pub fn survey(&self, k: u32) -> Option<(GridReport, u64, f64)> {
        self.survey
            .as_ref()
            .map(|g| (g.report(k), g.frames(), g.seconds()))
    }

    /// The stage `[counting]` describes (see [`SceneConfig::from_config`]).
    pub fn from_config(
        c: &CountingConfig,
        cadence: Cadence,
        person_threshold: f32,
        clock: Arc<WallClock>,
    ) -> Self {
        Self::new(
            SceneConfig::from_config(c, cadence, person_threshold),
            clock,
        )
    }

    /// In `in_minus_out` mode, keeps the door count in `state_dir` so that it outlives a restart
    /// on the same counting day (and starts from what an earlier run left there). Other modes,
    /// or no state dir: the count lives in memory only.
    pub fn with_door_store(mut self, state_dir: Option<&Path>) -> Result<Self, DoorStoreError> {
        if let (OccupancyMode::InMinusOut, Some(dir)) = (self.mode, state_dir) {
            let (store, saved) = DoorStore::open(dir)?;
            self.door = self.door.with_store(store, saved);
        }
        Ok(self)
    }

    /// Whether detections should carry their coarse colours (the tracker weighs them).
    pub fn wants_appearance(&self) -> bool {
        self.tracker.config().appearance_weight > 0.0
    }

    /// The stable occupancy after the frames seen so far.
    pub fn occupancy(&self) -> u32 {
        self.occupancy.current()
    }

    /// Current (in, out) totals of each line.
    pub fn line_totals(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.lines.iter().map(LineCounter::totals)
    }

    /// Folds in one frame's detections (picture coordinates) at source time `t`; returns the
    /// reports that fell due. The detections are not kept.
    pub fn step(&mut self, detections: &[Detection], t: Duration) -> &[CountReport] {
        let mut out = std::mem::take(&mut self.reports);
        out.clear();
        self.observe(detections, t, &mut out);
        self.reports = out;
        &self.reports
    }

    fn observe(&mut self, detections: &[Detection], t: Duration, out: &mut Vec<CountReport>) {
        self.clock.follow(t);
        self.tracker.update(detections, t);
        self.count_crossings(t);
        if let Some(survey) = &mut self.survey {
            for memo in self.tracker.ended_mut() {
                survey.ended(&memo.survey);
            }
            survey.observe(self.tracker.tracks_mut(), detections, t);
        }
        let high_score = self.tracker.config().high_score;
        let strong = detections.iter().filter(|d| d.score >= high_score);
        let present = u32::try_from(self.tracker.present().count()).unwrap_or(u32::MAX);
        let (ins, outs) = self.frame_crossings();
        if self.door.observe(ins, outs, present, t) == DoorEvent::DailyReset {
            for line in &mut self.lines {
                line.reset(t);
            }
        }
        let raw = match self.mode {
            OccupancyMode::Tracks => {
                // This frame's detections, plus the people the tracker still holds although
                // the detector missed them (occluded, or still and faint) — not duplicates of a
                // detection.
                let carried = self
                    .tracker
                    .present()
                    .filter(|tr| !tr.updated_strongly() && tr.hits() >= ESTABLISHED)
                    .filter(|tr| {
                        let b = tr.bbox();
                        strong
                            .clone()
                            .all(|d| d.bbox.intersection(&b) < 0.5 * b.area().min(d.bbox.area()))
                    })
                    .count();
                u32::try_from(strong.clone().count() + carried).unwrap_or(u32::MAX)
            }
            OccupancyMode::Detections => u32::try_from(strong.clone().count()).unwrap_or(u32::MAX),
            OccupancyMode::InMinusOut => self.door.count(),
        };
        if let Some(r) = self.occupancy.observe(raw, t) {
            out.push(CountReport::Occupancy(r));
        }
        for (i, (zone, counter)) in self.zones.iter_mut().enumerate() {
            let inside = match self.mode {
                OccupancyMode::Detections => strong
                    .clone()
                    .filter(|d| zone.contains(d.bbox.foot()))
                    .count(),
                _ => self
                    .tracker
                    .present()
                    .filter(|tr| zone.contains(tr.foot()))
                    .count(),
            };
            let inside = u32::try_from(inside).unwrap_or(u32::MAX);
            if let Some(r) = counter.observe(inside, t) {
                out.push(CountReport::Zone(i, r));
            }
        }
        for (i, (line, &(ins, outs))) in self.lines.iter_mut().zip(&self.crossings).enumerate() {
            if let Some(r) = line.observe(ins, outs, t) {
                out.push(CountReport::Line(i, r));
            }
        }
    }

    /// This frame's crossings summed over the lines: (in, out).
    fn frame_crossings(&self) -> (u64, u64) {
        self.crossings
            .iter()
            .fold((0, 0), |(i, o), &(a, b)| (i + a, o + b))
    }

    /// Updates every measured track's line memories and collects this frame's crossings: those
    /// whose return window has passed, and those held by the tracks that just ended. Crossings
    /// by a tentative track wait in its memory and count once it is confirmed.
    fn count_crossings(&mut self, t: Duration) {
        for c in &mut self.crossings {
            *c = (0, 0);
        }
        let (band, window) = (self.band, self.return_window);
        let border_rule = self.tracker.config().heuristics.border_rule;
        for memo in self.tracker.ended_mut() {
            settle_waiting(memo, &mut self.crossings, window);
        }
        for track in self.tracker.tracks_mut() {
            // A faint box at the picture's edge is a person partly out of view (walking out of
            // the picture): its foot point is a guess, so it moves the track across no line.
            let measured = track.updated()
                && (!border_rule || track.updated_strongly() || !track.bbox().at_border());
            let bbox = track.bbox();
            let foot = bbox.foot();
            let half_width = band.for_height(bbox.ymax - bbox.ymin);
            let confirmed = track.confirmed();
            let just_confirmed = track.just_confirmed();
            for (i, line) in self.lines.iter().enumerate() {
                let memory = &mut track.memo.lines[i];
                let crossed = measured
                    .then(|| line.segment.observe(memory, foot, half_width))
                    .flatten();
                let earlier = crossed.and_then(|c| memory.cross(c, t, window));
                for c in earlier.into_iter().chain(memory.due(Some(t), window)) {
                    if confirmed {
                        tally(&mut self.crossings[i], Some(c));
                    } else {
                        memory.pend(c);
                    }
                }
                if just_confirmed {
                    let (pin, pout) = memory.take_pending();
                    self.crossings[i].0 += u64::from(pin);
                    self.crossings[i].1 += u64::from(pout);
                }
            }
        }
    }

    /// Closes every window (end of stream, shutdown) so no partial interval is lost; returns
    /// the last reports.
    pub fn finish(&mut self) -> &[CountReport] {
        let mut out = std::mem::take(&mut self.reports);
        out.clear();
        self.flush(&mut out);
        self.reports = out;
        &self.reports
    }

    fn flush(&mut self, out: &mut Vec<CountReport>) {
        if let Some(r) = self.occupancy.flush() {
            out.push(CountReport::Occupancy(r));
        }
        for (i, (_, counter)) in self.zones.iter_mut().enumerate() {
            if let Some(r) = counter.flush() {
                out.push(CountReport::Zone(i, r));
            }
        }
        // Crossings still waiting out their return window count now.
        for c in &mut self.crossings {
            *c = (0, 0);
        }
        let window = self.return_window;
        for track in self.tracker.tracks_mut().iter_mut() {
            if track.confirmed() {
                settle_waiting(&mut track.memo, &mut self.crossings, window);
            }
        }
        for (line, &(ins, outs)) in self.lines.iter_mut().zip(&self.crossings) {
            line.add(ins, outs);
        }
        let (ins, outs) = self.frame_crossings();
        self.door.settle(ins, outs);
        for (i, line) in self.lines.iter_mut().enumerate() {
            if let Some(r) = line.flush() {
                out.push(CountReport::Line(i, r));
            }
        }
    }
}

/// Adds a crossing to a line's (in, out) of this frame.
fn tally(slot: &mut (u64, u64), c: Option<Crossing>) {
    match c {
        Some(Crossing::In) => slot.0 += 1,
        Some(Crossing::Out) => slot.1 += 1,
        None => {}
    }
}

/// Counts every crossing still waiting in an ended track's memory (or in every track's, when
/// the stream ends) into the lines' (in, out).
fn settle_waiting(memo: &mut Memo, crossings: &mut [(u64, u64)], window: Duration) {
    for (memory, slot) in memo.lines.iter_mut().zip(crossings) {
        tally(slot, memory.due(None, window));
    }
}

#[cfg(test)]
#[path = "scene_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "lost_tracks_tests.rs"]
mod lost_tracks_tests;

#[cfg(test)]
#[path = "return_window_tests.rs"]
mod return_window_tests;
