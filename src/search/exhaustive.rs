//! Exhaustive search: every point of the space, proposed as consecutive id ranges (each a block of the
//! mixed-radix numbering) that the driver evaluates in parallel; a shard of a run visits every `N`-th block
//! ([`crate::explore::shard`]).

use super::Search;
use crate::explore::shard::Shard;
use crate::spec::{PointId, Space};

/// Points per batch.
pub const CHUNK: u64 = 256;

/// Every point (of the space, or of one shard of it), in id order.
#[derive(Debug, Clone)]
pub struct Exhaustive {
    next: u64,
    end: u64,
    /// Ranges still to visit after `next..end`, last first.
    later: Vec<std::ops::Range<u64>>,
}

impl Exhaustive {
    /// All points of `space`.
    pub fn new(space: &Space) -> Exhaustive {
        Exhaustive { next: 0, end: space.point_count(), later: Vec::new() }
    }

    /// The points of `space` that `shard` evaluates ([`Shard::exhaustive_ranges`]), in id order.
    pub fn shard(space: &Space, shard: Shard) -> Exhaustive {
        let mut later: Vec<_> = shard.exhaustive_ranges(space.point_count()).collect();
        later.reverse();
        let first = later.pop().unwrap_or(0..0);
        Exhaustive { next: first.start, end: first.end, later }
    }
}

impl Search for Exhaustive {
    fn name(&self) -> String {
        super::StrategyKind::Exhaustive.name()
    }
    fn ask(&mut self) -> Vec<PointId> {
        if self.next >= self.end {
            if let Some(r) = self.later.pop() {
                (self.next, self.end) = (r.start, r.end);
            }
        }
        let hi = (self.next + CHUNK).min(self.end);
        let out = (self.next..hi).map(PointId).collect();
        self.next = hi;
        out
    }
    fn tell(&mut self, _: &[(PointId, Option<Vec<f64>>)]) {}
}
