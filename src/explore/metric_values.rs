//! Compact storage of one point's named metric values (`p95_ms@400qps` → 12.5): a vector of (name, value)
//! pairs sorted by name, with every name interned once per process and shared by all points.
//!
//! An exploration keeps the metrics of every point it evaluated (a million points in a large sweep). A map
//! of owned strings costs about 100 bytes per entry (node, key allocation, value); here an entry is a shared
//! name pointer and a value, 24 bytes. Lookups are binary searches over about 30 names. Serialised as a JSON
//! object in name order, the same bytes as the `BTreeMap<String, f64>` it replaces.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock, RwLock};

/// The process-wide set of metric names.
fn interned(name: &str) -> Arc<str> {
    static NAMES: OnceLock<RwLock<HashSet<Arc<str>>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    if let Some(hit) = names.read().expect("metric names lock").get(name) {
        return Arc::clone(hit);
    }
    let mut write = names.write().expect("metric names lock");
    if let Some(hit) = write.get(name) {
        return Arc::clone(hit);
    }
    let name: Arc<str> = Arc::from(name);
    write.insert(Arc::clone(&name));
    name
}

/// Named values sorted by name (see the module docs).
#[derive(Clone, Default, PartialEq)]
pub struct MetricValues(Vec<(Arc<str>, f64)>);

impl MetricValues {
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&f64> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(name)).ok().map(|i| &self.0[i].1)
    }
    /// Whether a value is named `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Set the value named `name` (replacing any).
    pub fn insert(&mut self, name: &str, value: f64) {
        match self.0.binary_search_by(|(k, _)| k.as_ref().cmp(name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (interned(name), value)),
        }
    }
    /// (name, value) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &f64)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
    /// Names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Release spare capacity (once a point's metrics are complete).
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a MetricValues {
    type Item = (&'a str, &'a f64);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a f64)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl FromIterator<(String, f64)> for MetricValues {
    fn from_iter<I: IntoIterator<Item = (String, f64)>>(iter: I) -> Self {
        let mut out = MetricValues::default();
        for (k, v) in iter {
            out.insert(&k, v);
        }
        out
    }
}

impl std::fmt::Debug for MetricValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for MetricValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MetricValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Values;
        impl<'de> Visitor<'de> for Values {
            type Value = MetricValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of metric names to numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<MetricValues, A::Error> {
                let mut out = MetricValues::default();
                while let Some((k, v)) = access.next_entry::<std::borrow::Cow<'de, str>, f64>()? {
                    out.insert(&k, v);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_and_serialises_as_the_sorted_map() {
        let pairs = [("p95_ms@400qps", 3.5), ("capacity_qps", 812.0), ("ndcg@64", 0.41), ("p95_ms", 2.0)];
        let mut m = MetricValues::default();
        let mut reference = BTreeMap::new();
        for (k, v) in pairs {
            m.insert(k, v);
            reference.insert(k.to_string(), v);
        }
        m.insert("p95_ms", 2.5);
        reference.insert("p95_ms".to_string(), 2.5);
        assert_eq!(m.len(), 4);
        assert_eq!(m.get("p95_ms"), Some(&2.5));
        assert_eq!(m.get("p99_ms"), None);
        assert!(m.keys().eq(reference.keys().map(String::as_str)));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, serde_json::to_string(&reference).unwrap());
        let back: MetricValues = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        // Names are shared between points.
        let mut other = MetricValues::default();
        other.insert("capacity_qps", 1.0);
        assert!(Arc::ptr_eq(&other.0[0].0, &m.0[0].0));
    }
}
