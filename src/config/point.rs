//! Points in the config: `[x, y]`, exactly two numbers. (serde's fixed-size arrays take the first
//! two of a longer list and drop the rest without a word; a polygon vertex typed `[0.1, 0.2, 0.3]`
//! must be an error naming the key, not a silently different polygon.)

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// One point (a line's `from` / `to`).
pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<[f32; 2], D::Error> {
    point(Vec::<f32>::deserialize(d)?).map_err(D::Error::custom)
}

/// A list of points (a polygon).
pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f32; 2]>, D::Error> {
    Vec::<Vec<f32>>::deserialize(d)?
        .into_iter()
        .map(point)
        .collect::<Result<_, _>>()
        .map_err(D::Error::custom)
}

fn point(v: Vec<f32>) -> Result<[f32; 2], String> {
    match v[..] {
        [x, y] => Ok([x, y]),
        _ => Err(format!(
            "a point is [x, y]: two numbers, not {} ({v:?})",
            v.len()
        )),
    }
}
