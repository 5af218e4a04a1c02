//! Compact serde forms of the detector's arrays (columns of numbers instead of one object per
//! element: the state of every query is stored, so its size matters).

use std::collections::VecDeque;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Hour, SeriesPoint, Slot, MINUTE_MS};

#[derive(Serialize, Deserialize)]
struct SlotColumns {
    factor: Vec<f32>,
    n: Vec<u16>,
}

fn slots_from<'de, D: Deserializer<'de>>(d: D, len: usize) -> Result<Vec<Slot>, D::Error> {
    let c = SlotColumns::deserialize(d)?;
    if c.factor.len() != len || c.n.len() != len {
        return Err(serde::de::Error::custom(format!(
            "a seasonal profile needs {len} slots"
        )));
    }
    Ok(c.factor
        .into_iter()
        .zip(c.n)
        .map(|(factor, n)| Slot { factor, n })
        .collect())
}

/// The hour-of-week profile (168 slots).
pub(crate) mod week {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[Slot], s: S) -> Result<S::Ok, S::Error> {
        super::day::serialize(v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Slot>, D::Error> {
        slots_from(d, 168)
    }
}

/// The hour-of-day profile (24 slots).
pub(crate) mod day {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[Slot], s: S) -> Result<S::Ok, S::Error> {
        SlotColumns {
            factor: v.iter().map(|x| x.factor).collect(),
            n: v.iter().map(|x| x.n).collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Slot>, D::Error> {
        slots_from(d, 24)
    }
}

#[derive(Serialize, Deserialize)]
struct HourColumns {
    sum: Vec<f32>,
    minutes: Vec<u16>,
}

pub(crate) mod hours {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[Hour], s: S) -> Result<S::Ok, S::Error> {
        HourColumns {
            sum: v.iter().map(|x| x.sum).collect(),
            minutes: v.iter().map(|x| x.minutes).collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hour>, D::Error> {
        let c = HourColumns::deserialize(d)?;
        if c.sum.len() != 24 || c.minutes.len() != 24 {
            return Err(serde::de::Error::custom("the current day needs 24 hours"));
        }
        Ok(c.sum
            .into_iter()
            .zip(c.minutes)
            .map(|(sum, minutes)| Hour { sum, minutes })
            .collect())
    }
}

/// The recent minutes are consecutive: a start and three columns.
#[derive(Serialize, Deserialize)]
struct SeriesColumns {
    start_ms: i64,
    observed: Vec<u32>,
    negative: Vec<u32>,
    expected: Vec<f32>,
}

pub(crate) mod series {
    use super::*;

    pub fn serialize<S: Serializer>(v: &VecDeque<SeriesPoint>, s: S) -> Result<S::Ok, S::Error> {
        SeriesColumns {
            start_ms: v.front().map_or(0, |p| p.minute_ms),
            observed: v.iter().map(|p| p.observed).collect(),
            negative: v.iter().map(|p| p.negative).collect(),
            expected: v.iter().map(|p| p.expected).collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VecDeque<SeriesPoint>, D::Error> {
        let c = SeriesColumns::deserialize(d)?;
        if c.observed.len() != c.negative.len() || c.observed.len() != c.expected.len() {
            return Err(serde::de::Error::custom("series columns differ in length"));
        }
        Ok((0..c.observed.len())
            .map(|i| SeriesPoint {
                minute_ms: c.start_ms + i as i64 * MINUTE_MS,
                observed: c.observed[i],
                negative: c.negative[i],
                expected: c.expected[i],
            })
            .collect())
    }
}
