//! The ask/tell driver: the only place that evaluates points. The loop itself (dedup, budget, stall, early
//! stop, telling in ask order) is [`crate::search::budgeted::run_budgeted`]; the driver is its evaluation.
//!
//! A [`Search`] strategy proposes batches of point ids (`ask`) and receives their objective vectors
//! (`tell`). The driver dedups (a point asked again is answered from memory without counting), answers
//! points finished by an earlier run from the [`Journal`] (they count against the budget like new ones, so
//! a resumed run makes exactly the choices of an uninterrupted one), evaluates the rest in parallel with
//! rayon, appends each to the journal in ask order as soon as the points asked before it are done (so the
//! journal holds the same bytes whatever the thread timing), enforces the budget of distinct points, reports
//! the count of finished points to its [`Progress`] observer, and stops early — after finishing the points
//! already started — when its stop flag is raised (Ctrl-C). Results are told in ask order, so a strategy's choices do not depend on
//! thread timing: the same space, sources and seed give the same points.

use super::evaluate::Evaluator;
use super::journal::{Journal, JournalRecord};
use super::{hardware_label, objective_vector, pipeline_label, Outcome};
use crate::progress::Progress;
use crate::search::budgeted::{run_budgeted, BatchEvaluation, EarlyStop, Limits};
use crate::search::Search;
use crate::spec::PointId;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Records of a batch waiting for their predecessors (by position in the batch) before they are journaled.
struct InOrder {
    next: usize,
    pending: BTreeMap<usize, Option<JournalRecord>>,
}

/// How the driver runs.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Most distinct points evaluated (new or reused from the journal).
    pub budget: u64,
    /// Receives the count of finished points and journal warnings.
    pub progress: Arc<dyn Progress>,
    /// Raised to stop after the points in flight.
    pub stop: Arc<AtomicBool>,
    /// Stop (as if interrupted) once this many points were newly evaluated; for tests of resumption.
    pub stop_after_new: Option<u64>,
    /// Stop once this many distinct points in a row left the Pareto front unchanged.
    pub early_stop_after: Option<u64>,
}

impl DriverOptions {
    /// A budget, no progress reports, a fresh stop flag.
    pub fn new(budget: u64) -> DriverOptions {
        DriverOptions {
            budget,
            progress: crate::progress::quiet(),
            stop: Arc::new(AtomicBool::new(false)),
            stop_after_new: None,
            early_stop_after: None,
        }
    }
}

/// Wall-clock seconds of a run's phases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseTimes {
    /// Named phases in order, seconds of wall time.
    pub wall_s: Vec<(String, f64)>,
    /// Evaluation work summed over threads: (quality, service times, simulation), seconds.
    pub eval_thread_s: (f64, f64, f64),
}

impl PhaseTimes {
    /// Add a named wall-time phase.
    pub fn push(&mut self, name: &str, seconds: f64) {
        self.wall_s.push((name.to_string(), seconds));
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Every distinct point of the run, in the order the driver accepted them.
    pub order: Vec<PointId>,
    /// Their outcomes.
    pub outcomes: HashMap<PointId, Outcome>,
    /// Points evaluated now.
    pub evaluated: u64,
    /// Points answered from the journal.
    pub reused: u64,
    /// Asks answered from memory (repeats).
    pub repeats: u64,
    /// Whether the stop flag ended the run.
    pub interrupted: bool,
    /// Whether the strategy stopped proposing new points before the budget was used.
    pub stalled: bool,
    /// Set when the early stop ended the run.
    pub early_stop: Option<EarlyStop>,
    /// Wall time of the search, s.
    pub wall_s: f64,
    /// Set when appending to the journal failed (disk full, file-size limit, I/O error): the run stopped
    /// after the points in flight, and only points journaled before the failure are kept for a resume.
    pub journal_error: Option<String>,
}

/// The driver's side of [`run_budgeted`]: evaluates (or reuses) points and keeps their outcomes.
struct DriverEvaluation<'d, 'a> {
    driver: &'d Driver<'a>,
    outcomes: HashMap<PointId, Outcome>,
    evaluated: u64,
    reused: u64,
    bar: &'d dyn Progress,
}

impl BatchEvaluation for DriverEvaluation<'_, '_> {
    fn stop_requested(&self) -> bool {
        self.driver.stop_requested(self.evaluated)
    }

    fn evaluate(&mut self, ids: &[PointId]) -> Vec<Option<Option<Vec<f64>>>> {
        let space = self.driver.evaluator.space();
        let results = self.driver.evaluate_batch(ids, self.evaluated, self.bar);
        ids.iter()
            .zip(results)
            .map(|(id, r)| {
                let (outcome, was_reused) = r?;
                if was_reused {
                    self.reused += 1;
                } else {
                    self.evaluated += 1;
                }
                let vector = objective_vector(space, &outcome);
                self.outcomes.insert(*id, outcome);
                Some(vector)
            })
            .collect()
    }
}

/// Runs strategies against an evaluator.
pub struct Driver<'a> {
    evaluator: &'a Evaluator<'a>,
    journal: Option<&'a Journal>,
    options: DriverOptions,
    /// The first failed journal append, which stops the run.
    journal_error: Mutex<Option<String>>,
}

impl<'a> Driver<'a> {
    /// A driver evaluating with `evaluator`, journaling to `journal` when given.
    pub fn new(evaluator: &'a Evaluator<'a>, journal: Option<&'a Journal>, options: DriverOptions) -> Driver<'a> {
        Driver { evaluator, journal, options, journal_error: Mutex::new(None) }
    }

    /// Run `search` until it is done, the budget is used, the early stop fires, or the stop flag is raised.
    pub fn run(&self, search: &mut dyn Search) -> RunSummary {
        let start = Instant::now();
        let space = self.evaluator.space();
        let budget = self.options.budget.min(space.point_count());
        let bar = self.options.progress.as_ref();
        bar.begin(budget);
        let mut evaluation = DriverEvaluation { driver: self, outcomes: HashMap::new(), evaluated: 0, reused: 0, bar };
        let limits = Limits { budget, early_stop_after: self.options.early_stop_after };
        let run = run_budgeted(search, space, limits, &mut evaluation);
        bar.end();
        RunSummary {
            order: run.order,
            outcomes: evaluation.outcomes,
            evaluated: evaluation.evaluated,
            reused: evaluation.reused,
            repeats: run.repeats,
            interrupted: run.interrupted,
            stalled: run.stalled,
            early_stop: run.early_stop,
            wall_s: start.elapsed().as_secs_f64(),
            journal_error: self.journal_error.lock().expect("journal error lock").take(),
        }
    }

    fn stop_requested(&self, evaluated: u64) -> bool {
        self.options.stop.load(Ordering::SeqCst)
            || self.options.stop_after_new.is_some_and(|n| evaluated >= n)
            || self.journal_error.lock().expect("journal error lock").is_some()
    }

    /// Mark position `i` of a batch done (with the record to journal, if any) and append every record whose
    /// predecessors in the batch are all done, so the journal's order is the ask order whatever the thread
    /// timing. A point finished out of order waits at most until the points asked before it finish.
    fn append_in_order(&self, in_order: &Mutex<InOrder>, i: usize, record: Option<JournalRecord>, bar: &dyn Progress) {
        let Some(journal) = self.journal else { return };
        let mut state = in_order.lock().expect("journal order lock");
        state.pending.insert(i, record);
        loop {
            let next = state.next;
            let Some(done) = state.pending.remove(&next) else { break };
            state.next += 1;
            let failed = self.journal_error.lock().expect("journal error lock").is_some();
            if let (Some(rec), false) = (done, failed) {
                if let Err(e) = journal.append(&rec) {
                    let message = format!("cannot append to the journal {}: {e}", journal.path().display());
                    bar.message(&format!("error: {message}; stopping after the points in flight"));
                    *self.journal_error.lock().expect("journal error lock") = Some(message);
                }
            }
        }
    }

    /// Evaluate (or reuse) each point; `None` for points not started because a stop was requested.
    fn evaluate_batch(
        &self,
        ids: &[PointId],
        evaluated_before: u64,
        bar: &dyn Progress,
    ) -> Vec<Option<(Outcome, bool)>> {
        let space = self.evaluator.space();
        let started = std::sync::atomic::AtomicU64::new(evaluated_before);
        let in_order = Mutex::new(InOrder { next: 0, pending: BTreeMap::new() });
        ids.par_iter()
            .enumerate()
            .map(|(i, &id)| {
                if let Some(o) = self.journal.and_then(|j| j.lookup(id)) {
                    self.append_in_order(&in_order, i, None, bar);
                    bar.advance(1);
                    return Some((o.clone(), true));
                }
                let n = started.fetch_add(1, Ordering::SeqCst);
                if self.options.stop.load(Ordering::SeqCst) || self.options.stop_after_new.is_some_and(|k| n >= k) {
                    self.append_in_order(&in_order, i, None, bar);
                    return None;
                }
                let outcome = self.evaluator.evaluate(id);
                let record = self.journal.map(|j| {
                    let design = space.design(id).expect("asked ids are in the space");
                    let hw = design.stages.iter().map(|s| hardware_label(space, &s.hardware)).collect();
                    j.record(id, pipeline_label(space, &design), hw, self.evaluator.settings().seed, outcome.clone())
                });
                self.append_in_order(&in_order, i, record, bar);
                bar.advance(1);
                Some((outcome, false))
            })
            .collect()
    }
}
