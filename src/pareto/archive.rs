//! An incremental non-dominated archive: the Pareto front of the objective vectors (minimisation form)
//! offered so far, kept as a list. Offering a vector costs O(F·M) for a front of F points and M objectives.

use super::dominates;

/// The non-dominated set of the vectors offered so far (duplicates kept once).
#[derive(Debug, Clone, Default)]
pub struct Archive {
    members: Vec<Vec<f64>>,
}

impl Archive {
    /// An empty archive.
    pub fn new() -> Archive {
        Archive::default()
    }

    /// Offer `v`; true when it joins the front (no member dominates or equals it), dropping the members it
    /// dominates. The hypervolume of the front, for any reference point that every member dominates, grows
    /// exactly when this returns true.
    pub fn offer(&mut self, v: &[f64]) -> bool {
        if self.members.iter().any(|m| dominates(m, v) || m.iter().zip(v).all(|(a, b)| a.total_cmp(b).is_eq())) {
            return false;
        }
        self.members.retain(|m| !dominates(v, m));
        self.members.push(v.to_vec());
        true
    }

    /// The current front, in order of arrival.
    pub fn members(&self) -> &[Vec<f64>] {
        &self.members
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exactly_the_non_dominated_vectors() {
        let mut a = Archive::new();
        assert!(a.offer(&[2.0, 2.0]));
        assert!(!a.offer(&[3.0, 3.0]), "dominated");
        assert!(!a.offer(&[2.0, 2.0]), "equal");
        assert!(a.offer(&[1.0, 3.0]), "trade-off");
        assert!(a.offer(&[1.0, 1.0]), "dominates both");
        assert_eq!(a.members(), &[vec![1.0, 1.0]]);
    }
}
