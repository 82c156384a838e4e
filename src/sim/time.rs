//! Integer simulation time.
//!
//! All simulated instants and durations are whole nanoseconds held in a `u64`, so event order is exact and a
//! run is bit-identical for the same seed on every machine. Conversions to and from milliseconds round to the
//! nearest nanosecond; a `u64` of nanoseconds spans about 584 years of simulated time, far beyond any run the
//! query cap allows.

/// Nanoseconds per millisecond.
pub const NS_PER_MS: f64 = 1.0e6;

/// Milliseconds → nanoseconds, rounded to nearest; negative or NaN → 0, too large → `u64::MAX`.
#[inline]
pub fn ns_from_ms(ms: f64) -> u64 {
    let ns = (ms * NS_PER_MS).round();
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// Nanoseconds → milliseconds.
#[inline]
pub fn ms_from_ns(ns: u64) -> f64 {
    ns as f64 / NS_PER_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rounding() {
        assert_eq!(ns_from_ms(0.557257), 557_257);
        assert_eq!(ns_from_ms(1.0e-7), 0);
        assert_eq!(ns_from_ms(1.6e-6), 2);
        assert_eq!(ns_from_ms(-3.0), 0);
        assert_eq!(ns_from_ms(f64::NAN), 0);
        assert_eq!(ns_from_ms(2.5), 2_500_000);
        assert!((ms_from_ns(2_090_744) - 2.090744).abs() < 1e-12);
    }
}
