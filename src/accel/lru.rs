//! Trace-driven embedding-cache simulation: a fixed-capacity cache of embedding vectors with LRU or FIFO
//! replacement, and seeded synthetic Zipf index streams for benchmarks and tests.
//!
//! Data structure: an open-addressing hash map (linear probing, multiplicative hashing, backward-shift
//! deletion; a quarter full at most) of 8-byte (32-bit key hash, slot) pairs, and a slot array of records
//! holding the full key (which confirms a hash match), the index-linked circular recency list with a
//! sentinel record (`prev`/`next` as `u32` slot numbers, no allocation and no end-of-list branches per
//! access) and the slot's current map position, so the eviction victim is removed from the map without a
//! search. One access is a few dependent loads, so
//! the simulation runs at tens of millions of accesses per second (measured numbers in `accel/README.md`).
//! FIFO differs from LRU only in that a hit does not refresh recency; it is the policy RecPipe's
//! characterization script (`RPAccel_characterization/embedding/lru.py`) and the cost model's `LRUCache` actually
//! implemented: neither refreshes recency on a hit.
//!
//! Keys are opaque `u64`s; callers combine table id and row (e.g. `table << 40 | row`), which the original
//! cost model's unused "online" mode forgot to do. Randomness is seeded (`Xoshiro256PlusPlus::seed_from_u64`).

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Replacement policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Evict the least recently used entry; hits refresh recency.
    Lru,
    /// Evict the oldest inserted entry; hits do not refresh.
    Fifo,
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    key: u64,
    prev: u32,
    next: u32,
    /// Position of this slot's entry in the hash map (kept current by deletions' shifts).
    pos: u32,
}
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// A cache of `capacity` entries.
#[derive(Debug, Clone)]
pub struct CacheSim {
    capacity: u32,
    policy: Policy,
    len: u32,
    /// Slot array: key, recency links and map position of each cached entry.
    nodes: Vec<Node>,
    /// Index of the sentinel record closing the circular recency list: its `next` is the most recently
    /// inserted/used slot, its `prev` the eviction candidate.
    sentinel: u32,
    /// Open-addressing map: (32-bit key hash, slot) pairs; slot `NIL` marks an empty position. The hash's
    /// top bits are the home position; a hash match is confirmed against the slot's full key.
    table: Vec<(u32, u32)>,
    shift: u32,
    mask: usize,
    hits: u64,
    accesses: u64,
}

impl CacheSim {
    /// An empty cache holding at most `capacity` entries (0: every access misses). Capacity is limited to
    /// 2^30 entries.
    pub fn new(capacity: u32, policy: Policy) -> Self {
        let capacity = capacity.min(1 << 30);
        let table_len = ((capacity as usize) * 4).next_power_of_two().max(8);
        let empty = Node { key: 0, prev: NIL, next: NIL, pos: NIL };
        let mut nodes = vec![empty; capacity as usize + 1];
        nodes[capacity as usize] = Node { key: 0, prev: capacity, next: capacity, pos: NIL };
        CacheSim {
            capacity,
            policy,
            len: 0,
            nodes,
            sentinel: capacity,
            table: vec![(0, NIL); table_len],
            shift: 64 - table_len.trailing_zeros(),
            mask: table_len - 1,
            hits: 0,
            accesses: 0,
        }
    }

    /// Entries currently cached.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// (hits, accesses) since creation or the last [`CacheSim::reset_stats`].
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.accesses)
    }

    /// Hit rate since the last reset (0 when nothing was accessed).
    pub fn hit_rate(&self) -> f64 {
        if self.accesses == 0 {
            0.0
        } else {
            self.hits as f64 / self.accesses as f64
        }
    }

    /// Zero the hit/access counters, keeping the contents (end of a warm-up pass).
    pub fn reset_stats(&mut self) {
        self.hits = 0;
        self.accesses = 0;
    }

    /// 32-bit hash of a key: fold the high bits in (so that keys which are multiples of a constant do not
    /// cluster), then a multiplicative (Fibonacci) hash; the top 32 bits.
    #[inline]
    fn hash32(key: u64) -> u32 {
        ((key ^ (key >> 31)).wrapping_mul(GOLDEN) >> 32) as u32
    }

    /// Home position of a 32-bit hash (the table has at most 2^32 positions, so `shift ≥ 32`).
    #[inline]
    fn home_of(&self, h: u32) -> usize {
        ((h as u64) >> (self.shift - 32)) as usize
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        self.home_of(Self::hash32(key))
    }

    #[inline]
    fn unlink(&mut self, s: u32) {
        let Node { prev: p, next: n, .. } = self.nodes[s as usize];
        self.nodes[p as usize].next = n;
        self.nodes[n as usize].prev = p;
    }

    #[inline]
    fn push_front(&mut self, s: u32) {
        let z = self.sentinel;
        let first = self.nodes[z as usize].next;
        self.nodes[s as usize].prev = z;
        self.nodes[s as usize].next = first;
        self.nodes[first as usize].prev = s;
        self.nodes[z as usize].next = s;
    }

    /// Remove the map entry at table position `pos` (backward-shift deletion).
    fn remove_at(&mut self, mut pos: usize) {
        let mut j = pos;
        loop {
            j = (j + 1) & self.mask;
            let entry = self.table[j];
            if entry.1 == NIL {
                self.table[pos].1 = NIL;
                return;
            }
            let k = self.home_of(entry.0);
            // Entry at j may move to pos unless its home lies cyclically in (pos, j].
            let stays = if pos <= j { pos < k && k <= j } else { pos < k || k <= j };
            if !stays {
                self.table[pos] = entry;
                self.nodes[entry.1 as usize].pos = pos as u32;
                pos = j;
            }
        }
    }

    /// Access `key`; returns whether it hit. A miss inserts the key, evicting if full.
    #[inline]
    pub fn access(&mut self, key: u64) -> bool {
        self.accesses += 1;
        if self.capacity == 0 {
            return false;
        }
        let h = Self::hash32(key);
        let mut pos = self.home_of(h);
        loop {
            let (k, s) = self.table[pos];
            if s == NIL {
                break;
            }
            if k == h && self.nodes[s as usize].key == key {
                self.hits += 1;
                if self.policy == Policy::Lru && self.nodes[self.sentinel as usize].next != s {
                    self.unlink(s);
                    self.push_front(s);
                }
                return true;
            }
            pos = (pos + 1) & self.mask;
        }
        let slot = if self.len < self.capacity {
            self.len += 1;
            self.len - 1
        } else {
            let victim = self.nodes[self.sentinel as usize].prev;
            self.remove_at(self.nodes[victim as usize].pos as usize);
            self.unlink(victim);
            // The removal may have shifted entries; find the insertion point again.
            pos = self.home_of(h);
            while self.table[pos].1 != NIL {
                pos = (pos + 1) & self.mask;
            }
            victim
        };
        self.nodes[slot as usize].pos = pos as u32;
        self.nodes[slot as usize].key = key;
        self.table[pos] = (h, slot);
        self.push_front(slot);
        false
    }
}

impl CacheSim {
    /// Access every key of `trace` in order (same result as calling [`CacheSim::access`] for each), with a
    /// software prefetch of the hash-map line of the key 16 accesses ahead, which hides part of the map's
    /// memory latency on large caches. Returns the hits among these accesses.
    pub fn run(&mut self, trace: &[u64]) -> u64 {
        let before = self.hits;
        for (i, &key) in trace.iter().enumerate() {
            if let Some(&k) = trace.get(i + 16) {
                self.prefetch(self.table.as_ptr().wrapping_add(self.home(k)));
            }
            self.access(key);
        }
        self.hits - before
    }

    #[inline(always)]
    fn prefetch<T>(&self, ptr: *const T) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch never faults and has no architectural effect; callers pass addresses inside
        // the table or slot arrays.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(ptr as *const i8);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = ptr;
    }
}

/// Hit rate of a `capacity`-entry cache over `trace`, after warming it with one pass over `warmup`.
pub fn simulate_hit_rate(trace: &[u64], warmup: &[u64], capacity: u32, policy: Policy) -> f64 {
    let mut c = CacheSim::new(capacity, policy);
    c.run(warmup);
    c.reset_stats();
    c.run(trace);
    c.hit_rate()
}

/// A seeded Zipf(`exponent`) index stream of `len` keys over `universe` distinct keys. Ranks are scrambled
/// by an odd multiplier so that popular keys are not numerically adjacent.
pub fn zipf_trace(len: usize, universe: u64, exponent: f64, seed: u64) -> Vec<u64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let universe = universe.max(1);
    match Zipf::new(universe as f64, exponent) {
        Ok(z) => (0..len).map(|_| (z.sample(&mut rng) as u64 - 1).wrapping_mul(GOLDEN | 1)).collect(),
        Err(_) => (0..len).map(|_| rng.random_range(0..universe)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_by_hand() {
        let mut c = CacheSim::new(2, Policy::Lru);
        // a b a c b: a miss, b miss, a hit (a MRU), c miss evicts b, b miss evicts a.
        let hits: Vec<bool> = [1, 2, 1, 3, 2].iter().map(|&k| c.access(k)).collect();
        assert_eq!(hits, vec![false, false, true, false, false]);
        assert!(c.access(2) && c.access(3) && !c.access(1));
    }

    #[test]
    fn fifo_by_hand() {
        let mut c = CacheSim::new(2, Policy::Fifo);
        // a b a c: c evicts a (oldest) although a was just used; then a misses, b was evicted by a.
        let hits: Vec<bool> = [1, 2, 1, 3, 1, 3].iter().map(|&k| c.access(k)).collect();
        assert_eq!(hits, vec![false, false, true, false, false, true]);
    }

    #[test]
    fn matches_naive_lru_on_random_stream() {
        let trace = zipf_trace(20_000, 5_000, 0.9, 7);
        for cap in [0u32, 1, 3, 64, 1000] {
            let mut fast = CacheSim::new(cap, Policy::Lru);
            let mut naive: Vec<u64> = Vec::new(); // front = MRU
            for &k in &trace {
                let hit = fast.access(k);
                let pos = naive.iter().position(|&x| x == k);
                assert_eq!(hit, pos.is_some(), "cap {cap}");
                if let Some(p) = pos {
                    naive.remove(p);
                } else if naive.len() == cap as usize && cap > 0 {
                    naive.pop();
                }
                if cap > 0 {
                    naive.insert(0, k);
                }
            }
            assert_eq!(fast.len() as usize, naive.len());
        }
    }

    #[test]
    fn run_equals_access_loop() {
        let trace = zipf_trace(30_000, 20_000, 1.0, 9);
        for policy in [Policy::Lru, Policy::Fifo] {
            let mut a = CacheSim::new(500, policy);
            let mut b = CacheSim::new(500, policy);
            let hits = a.run(&trace);
            let expected = trace.iter().filter(|&&k| b.access(k)).count() as u64;
            assert_eq!(hits, expected);
            assert_eq!(a.stats(), b.stats());
        }
    }

    #[test]
    fn bigger_cache_hits_more() {
        let trace = zipf_trace(50_000, 100_000, 1.05, 1);
        let small = simulate_hit_rate(&trace, &trace, 1_000, Policy::Lru);
        let large = simulate_hit_rate(&trace, &trace, 20_000, Policy::Lru);
        assert!(small > 0.05 && large > small + 0.1, "{small} {large}");
        assert_eq!(zipf_trace(10, 100, 1.0, 3), zipf_trace(10, 100, 1.0, 3));
    }
}
