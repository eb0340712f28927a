//! The site's topics under `headcount/<site>/_site/`: one schema'd type per topic (schema/site-
//! *.schema.json), numbers and sensor names only. Also the parts of the sensors' payloads the
//! aggregator reads (lenient: a newer sensor's extra fields are ignored).

use serde::{Deserialize, Serialize};

use crate::publish::Banded;

/// `_site/building`: people inside the building, from its entrances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildingPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    /// Σ in − Σ out over the declared entrances since the daily reset (drift-corrected), ≥ 0.
    pub count: Banded<u64>,
    /// People who came in / went out through the declared entrances since the daily reset.
    pub in_total: u64,
    pub out_total: u64,
    /// When today's counting began (the daily reset), RFC 3339, UTC.
    pub day_start: String,
    /// When the count was last set to 0 because every declared room was empty, today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected: Option<String>,
    /// The entrances' sensors whose counts are included.
    pub sensors: Vec<String>,
    /// Declared entrance sensors that are stale, offline or never heard of.
    pub missing: Vec<String>,
    /// Every declared entrance's sensor is online and has reported its line.
    pub complete: bool,
}

/// One room in `_site/occupancy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomPayload {
    pub sensor: String,
    /// The room's count as its sensor published it; absent when none was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Banded<u32>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub capacity: u32,
    /// online, stale or offline.
    pub state: String,
}

/// One group (floor, wing) in `_site/occupancy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPayload {
    pub name: String,
    pub count: Banded<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub capacity: u32,
    pub complete: bool,
}

/// `_site/occupancy`: the sum over the declared rooms, and per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteOccupancyPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    /// Σ of the rooms' exact counts (a room whose sensor published a band such as "<3" adds 0
    /// and is listed in `banded`).
    pub count: Banded<u64>,
    /// Σ of the stated capacities; 0 = none stated.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub capacity: u32,
    pub groups: Vec<GroupPayload>,
    pub rooms: Vec<RoomPayload>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banded: Vec<String>,
    pub sensors: Vec<String>,
    pub missing: Vec<String>,
    pub complete: bool,
}

/// `_site/sensors`: every sensor of the site by state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSensorsPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    pub online: Vec<String>,
    pub stale: Vec<String>,
    pub offline: Vec<String>,
    /// An `online` sensor silent for longer than this is stale.
    pub stale_after_s: u32,
}

/// `_site/history`: today's building occupancy and rooms' sum, the highest of each bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteHistoryPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    pub day_start: String,
    pub bin_s: u32,
    /// One value per bin since `day_start` (null: the aggregator was not running).
    pub building: Vec<Option<Banded<u64>>>,
    pub occupancy: Vec<Option<Banded<u64>>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the aggregator reads of a sensor's `line/<name>` (no `seq`: the largest totals per
/// epoch make order and duplicates harmless).
#[derive(Debug, Clone, Deserialize)]
pub struct LineIn {
    pub ts: String,
    pub in_total: u64,
    pub out_total: u64,
    pub epoch: String,
}

/// What the aggregator reads of a sensor's `occupancy`.
#[derive(Debug, Clone, Deserialize)]
pub struct OccupancyIn {
    pub seq: u64,
    pub ts: String,
    pub count: Banded<u32>,
}

/// What the aggregator reads of a sensor's `health` (only its time).
#[derive(Debug, Clone, Deserialize)]
pub struct HealthIn {
    pub ts: String,
}
