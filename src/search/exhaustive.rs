//! Exhaustive search: every point of the space, proposed as consecutive id ranges (each a block of the
//! mixed-radix numbering) that the driver evaluates in parallel.

use super::Search;
use crate::spec::{PointId, Space};

/// Points per batch.
pub const CHUNK: u64 = 256;

/// Every point, in id order.
#[derive(Debug, Clone)]
pub struct Exhaustive {
    next: u64,
    end: u64,
}

impl Exhaustive {
    /// All points of `space`.
    pub fn new(space: &Space) -> Exhaustive {
        Exhaustive { next: 0, end: space.point_count() }
    }
}

impl Search for Exhaustive {
    fn name(&self) -> String {
        super::StrategyKind::Exhaustive.name()
    }
    fn ask(&mut self) -> Vec<PointId> {
        let hi = (self.next + CHUNK).min(self.end);
        let out = (self.next..hi).map(PointId).collect();
        self.next = hi;
        out
    }
    fn tell(&mut self, _: &[(PointId, Option<Vec<f64>>)]) {}
}
