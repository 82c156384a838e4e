//! `claims` figures: the paper's headline quantitative claims, each computed from the named values of other
//! figures of the same run (`<figure id>:<value name>`, as a value or as a ratio of two), or marked as not
//! checkable with the reason.

use super::{compare_numbers, Comparison, FigureResult, Issues, Table, Tolerance, ValuesById, Verdict};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClaim {
    claim: String,
    source: String,
    published: Option<f64>,
    value: Option<String>,
    ratio: Option<Vec<String>>,
    tolerance_relative: Option<f64>,
    reason_if_differs: Option<String>,
    not_checkable: Option<String>,
}

/// How a claim's number is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Computed {
    /// One value.
    Value(String),
    /// numerator / denominator.
    Ratio(String, String),
}

/// One claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// A number we compute and compare.
    Checked {
        /// The claim in words.
        claim: String,
        /// Where the paper makes it.
        source: String,
        /// The published number.
        published: f64,
        /// How ours is computed.
        computed: Computed,
        /// Relative tolerance.
        tolerance_relative: f64,
        /// Reason shown when it differs.
        reason_if_differs: String,
    },
    /// A claim that cannot be checked, with the reason.
    NotCheckable {
        /// The claim in words.
        claim: String,
        /// Where the paper makes it.
        source: String,
        /// Why not.
        why: String,
    },
}

/// A loaded `claims` figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The claims, in order.
    pub claims: Vec<Claim>,
}

impl Claims {
    /// Figure ids the claims read values from.
    pub fn dependencies(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .claims
            .iter()
            .flat_map(|c| match c {
                Claim::Checked { computed: Computed::Value(a), .. } => vec![a.clone()],
                Claim::Checked { computed: Computed::Ratio(a, b), .. } => vec![a.clone(), b.clone()],
                Claim::NotCheckable { .. } => vec![],
            })
            .filter_map(|r| r.split_once(':').map(|(id, _)| id.to_string()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

fn valid_reference(r: &str) -> bool {
    r.split_once(':').is_some_and(|(id, name)| !id.is_empty() && !name.is_empty())
}

pub(crate) fn load(raw: Vec<RawClaim>, p: &mut Issues) -> Option<Claims> {
    let before = p.len();
    let mut claims = Vec::new();
    for (i, c) in raw.into_iter().enumerate() {
        let at = |f: &str| format!("claims[{i}].{f}");
        if let Some(why) = c.not_checkable {
            if c.published.is_some() || c.value.is_some() || c.ratio.is_some() {
                p.push(None, at("not_checkable"), "a claim that is not checkable has no published, value or ratio");
            }
            claims.push(Claim::NotCheckable { claim: c.claim, source: c.source, why });
            continue;
        }
        let computed = match (c.value, c.ratio) {
            (Some(v), None) if valid_reference(&v) => Some(Computed::Value(v)),
            (None, Some(r)) if r.len() == 2 && r.iter().all(|x| valid_reference(x)) => {
                Some(Computed::Ratio(r[0].clone(), r[1].clone()))
            }
            (None, None) => {
                p.push(None, at("value"), "give value, ratio or not_checkable");
                None
            }
            _ => {
                p.push(
                    None,
                    at("value"),
                    "give either value: '<figure>:<name>' or ratio: ['<figure>:<name>', '<figure>:<name>']",
                );
                None
            }
        };
        let Some(published) = c.published.filter(|v| v.is_finite()) else {
            p.push(None, at("published"), "required: the published number");
            continue;
        };
        let tolerance_relative = c.tolerance_relative.unwrap_or(0.1);
        if !(tolerance_relative.is_finite() && tolerance_relative > 0.0) {
            p.push(None, at("tolerance_relative"), format!("must be a positive fraction, got {tolerance_relative}"));
        }
        if let Some(computed) = computed {
            claims.push(Claim::Checked {
                claim: c.claim,
                source: c.source,
                published,
                computed,
                tolerance_relative,
                reason_if_differs: c.reason_if_differs.unwrap_or_else(|| "see the figure it is computed from".into()),
            });
        }
    }
    (p.len() == before).then_some(Claims { claims })
}

fn lookup(values: &ValuesById, reference: &str) -> Option<f64> {
    let (id, name) = reference.split_once(':')?;
    values.get(id)?.get(name).copied()
}

pub(crate) fn run(c: &Claims, earlier: &ValuesById, out: &mut FigureResult) {
    let mut table =
        Table { columns: ["claim", "source", "published", "ours", "verdict"].map(String::from).to_vec(), rows: vec![] };
    for claim in &c.claims {
        let cmp = match claim {
            Claim::NotCheckable { claim, source, why } => Comparison {
                group: "claims".into(),
                item: format!("{claim} ({source})"),
                published: String::new(),
                ours: String::new(),
                difference: String::new(),
                verdict: Verdict::Unchecked { reason: why.clone() },
            },
            Claim::Checked { claim, source, published, computed, tolerance_relative, reason_if_differs } => {
                let ours = match computed {
                    Computed::Value(a) => lookup(earlier, a).ok_or_else(|| a.clone()),
                    Computed::Ratio(a, b) => match (lookup(earlier, a), lookup(earlier, b)) {
                        (Some(x), Some(y)) if y != 0.0 => Ok(x / y),
                        (None, _) => Err(a.clone()),
                        _ => Err(b.clone()),
                    },
                };
                let item = format!("{claim} ({source})");
                match ours {
                    Ok(v) => compare_numbers(
                        "claims",
                        item,
                        *published,
                        v,
                        "",
                        Tolerance::Relative(*tolerance_relative),
                        reason_if_differs,
                    ),
                    Err(missing) => Comparison {
                        group: "claims".into(),
                        item,
                        published: super::fmt_value(*published),
                        ours: String::new(),
                        difference: String::new(),
                        verdict: Verdict::Unchecked {
                            reason: format!("'{missing}' has no value in this run (unachievable or not computed)"),
                        },
                    },
                }
            }
        };
        let source = match claim {
            Claim::Checked { source, .. } | Claim::NotCheckable { source, .. } => source.clone(),
        };
        table.rows.push(vec![
            cmp.item.clone(),
            source,
            cmp.published.clone(),
            cmp.ours.clone(),
            cmp.verdict.describe(),
        ]);
        out.comparisons.push(cmp);
    }
    out.table = table;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn ratios_values_and_missing_references() {
        let mut values = ValuesById::new();
        values.insert("f".into(), BTreeMap::from([("a".to_string(), 13.95), ("b".to_string(), 2.88)]));
        let c = Claims {
            claims: vec![
                Claim::Checked {
                    claim: "ratio".into(),
                    source: "s".into(),
                    published: 4.8,
                    computed: Computed::Ratio("f:a".into(), "f:b".into()),
                    tolerance_relative: 0.05,
                    reason_if_differs: "r".into(),
                },
                Claim::Checked {
                    claim: "missing".into(),
                    source: "s".into(),
                    published: 1.0,
                    computed: Computed::Value("g:x".into()),
                    tolerance_relative: 0.05,
                    reason_if_differs: "r".into(),
                },
                Claim::NotCheckable { claim: "n".into(), source: "s".into(), why: "no baseline".into() },
            ],
        };
        assert_eq!(c.dependencies(), vec!["f", "g"]);
        let fig = super::super::Figure {
            id: "claims".into(),
            title: String::new(),
            paper: String::new(),
            description: String::new(),
            file: String::new(),
            body: super::super::FigureBody::Claims(c.clone()),
        };
        let mut out = super::super::FigureResult::new(&fig);
        run(&c, &values, &mut out);
        assert_eq!(out.comparisons[0].verdict.word(), "matches");
        assert_eq!(out.comparisons[1].verdict.word(), "not checked");
        assert_eq!(out.comparisons[2].verdict, Verdict::Unchecked { reason: "no baseline".into() });
        assert_eq!(out.table.rows[0][1], "s");
    }
}
