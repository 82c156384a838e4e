//! Closed-form queueing results used to check the simulator and to explain its output.
//!
//! Units: rates in events per millisecond are avoided; every function takes the arrival rate `lambda` and the
//! service rate or mean service time in the same (arbitrary) time unit and returns times in that unit.
//!
//! * M/M/c mean wait in queue through the Erlang C formula (A. K. Erlang 1917; Kleinrock, *Queueing Systems*
//!   vol. 1, §3.5): `W_q = C(c, a) / (c·μ − λ)` with offered load `a = λ/μ`.
//! * M/G/1 mean wait by the Pollaczek–Khinchine formula `W_q = λ·E[S²] / (2(1 − ρ))`; for deterministic
//!   service (M/D/1) `W_q = ρ·s / (2(1 − ρ))`.
//! * Jackson's theorem for a tandem of M/M/1 queues: the stations behave as independent M/M/1 queues, so the
//!   mean sojourn is `Σ 1/(μ_i − λ)`.
//!
//! All functions return `None` when the system is unstable (ρ ≥ 1) or an argument is out of range.

/// Erlang C: probability that an arrival to an M/M/c queue with offered load `a = λ/μ` (Erlangs) waits.
pub fn erlang_c(servers: u32, offered_load: f64) -> Option<f64> {
    let c = servers as f64;
    if servers == 0 || offered_load.is_nan() || offered_load < 0.0 || offered_load >= c {
        return None;
    }
    // Erlang B by the stable recursion B(0)=1, B(k) = a·B(k−1) / (k + a·B(k−1)), then C from B.
    let mut b = 1.0;
    for k in 1..=servers {
        b = offered_load * b / (k as f64 + offered_load * b);
    }
    let rho = offered_load / c;
    Some(b / (1.0 - rho * (1.0 - b)))
}

/// M/M/c mean waiting time in queue for arrival rate `lambda` and per-server service rate `mu`.
pub fn mmc_mean_wait(servers: u32, lambda: f64, mu: f64) -> Option<f64> {
    if mu.is_nan() || mu <= 0.0 {
        return None;
    }
    let a = lambda / mu;
    let pc = erlang_c(servers, a)?;
    Some(pc / (servers as f64 * mu - lambda))
}

/// M/M/1 mean waiting time in queue, `ρ / (μ − λ)`.
pub fn mm1_mean_wait(lambda: f64, mu: f64) -> Option<f64> {
    mmc_mean_wait(1, lambda, mu)
}

/// M/G/1 mean waiting time (Pollaczek–Khinchine) from the first two moments of the service time.
pub fn mg1_mean_wait(lambda: f64, service_mean: f64, service_second_moment: f64) -> Option<f64> {
    let rho = lambda * service_mean;
    if lambda.is_nan() || lambda < 0.0 || service_mean.is_nan() || service_mean <= 0.0 || rho.is_nan() || rho >= 1.0 {
        return None;
    }
    Some(lambda * service_second_moment / (2.0 * (1.0 - rho)))
}

/// M/D/1 mean waiting time for deterministic service `s`: `ρ·s / (2(1 − ρ))`.
pub fn md1_mean_wait(lambda: f64, service: f64) -> Option<f64> {
    mg1_mean_wait(lambda, service, service * service)
}

/// Mean sojourn (wait + service) through a tandem of M/M/1 stations with service rates `mus` (Jackson).
pub fn jackson_tandem_mean_sojourn(lambda: f64, mus: &[f64]) -> Option<f64> {
    let mut total = 0.0;
    for &mu in mus {
        if mu.is_nan() || lambda.is_nan() || mu <= lambda || lambda < 0.0 {
            return None;
        }
        total += 1.0 / (mu - lambda);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_known_values() {
        // c = 1: C = ρ.
        assert!((erlang_c(1, 0.7).unwrap() - 0.7).abs() < 1e-12);
        // c = 2, a = 1: C = a^2/(2!(1-ρ)) / (1 + a + a^2/(2!(1-ρ))) = 1/(1+1+1) = 1/3.
        assert!((erlang_c(2, 1.0).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!(erlang_c(4, 4.0).is_none());
        assert!(erlang_c(0, 0.1).is_none());
    }

    #[test]
    fn simple_formulas() {
        // M/M/1 with λ=0.5, μ=1: Wq = 0.5/(0.5) = 1.
        assert!((mm1_mean_wait(0.5, 1.0).unwrap() - 1.0).abs() < 1e-12);
        // M/D/1 with ρ=0.5, s=1: Wq = 0.5/(2·0.5) = 0.5.
        assert!((md1_mean_wait(0.5, 1.0).unwrap() - 0.5).abs() < 1e-12);
        // Tandem of μ=2 and μ=4 at λ=1: 1/1 + 1/3.
        assert!((jackson_tandem_mean_sojourn(1.0, &[2.0, 4.0]).unwrap() - 4.0 / 3.0).abs() < 1e-12);
        assert!(jackson_tandem_mean_sojourn(2.0, &[2.0]).is_none());
        assert!(md1_mean_wait(1.0, 1.0).is_none());
    }
}
