#!/usr/bin/env python3
"""Run third-party multi-objective optimizers over precomputed design-space tables.

The comparison this script serves is about *search* only: every point of a discrete
design space has already been evaluated by recpipe-dse and stored in a lookup table, so a
peer optimizer pays nothing for an evaluation and the only thing that differs between it
and our own strategies is which points it chooses to look at.  For every space, peer and
seed the script records the distinct point ids the peer evaluated, in the order it first
evaluated them; recpipe-dse reads those files back and scores them (fronts, hypervolume)
exactly like its own strategies.

Usage
-----
    python bench/peers.py DIR --seeds 1,2,3 [--fraction 0.2]
                          [--peers optuna-nsga2,optuna-tpe,pymoo-nsga2] [--jobs N]

Peers: ``optuna-nsga2`` (optuna.samplers.NSGAIISampler), ``optuna-tpe``
(optuna.samplers.TPESampler), ``pymoo-nsga2`` (pymoo.algorithms.moo.nsga2.NSGA2).
``--fraction`` is informational (the budget was already derived from it); ``--jobs N``
runs the (space, peer, seed) tasks in N worker processes.

Input (written by recpipe-dse)
------------------------------
DIR holds one sub-folder per space, each with

``space.json``
    ``{"name": str, "objectives": n, "budget": int,
    "templates": [{"offset": int, "radices": [int, ...]}, ...]}``.
    Point ids are 0..total-1.  Template t owns ids offset_t .. offset_t + prod(radices_t) - 1
    and, inside a template, an id is mixed-radix with knob 0 least significant:
    ``id = offset + d0 + r0*(d1 + r1*(d2 + ...))``.  ``budget`` is the number of
    DISTINCT points a peer may evaluate.
``table.csv``
    header ``id,o1,...,on`` then one row per id, in id order.  Objectives are floats in
    minimisation form; an infeasible point (structurally invalid or failing a constraint)
    has all of its objective cells empty.

Output
------
``<space>/peer-<peer>-seed<seed>.ids``: the distinct ids in first-evaluation order, one per
line.  A proposal the peer already made is answered from a cache and costs no budget, but it
counts as a trial; a run that reaches ``--trial-cap`` (default 20) x budget trials (or whose library gives up, e.g.
pymoo when it can no longer produce a new offspring) ends early and the file then closes
with the line ``# stalled after N trials`` (readers ignore lines starting with '#').  Files
are written atomically (temporary name + os.replace); a task whose file is already complete
(``budget`` ids, or a stall line) is skipped, so an interrupted run resumes where it stopped.
One line per task is printed: space, peer, seed, distinct ids, trials, seconds.

Encodings (each is what an ordinary user of the library would write)
--------------------------------------------------------------------
Optuna (define-by-run, conditional).  ``t = suggest_categorical("template", [0..T-1])``,
then ``suggest_int(f"t{t}_k{j}", 0, radix-1)`` for each knob of template t whose radix is
above 1 (a radix-1 knob is digit 0 and is not suggested).  All directions are "minimize".
Infeasible points are declared with ``Trial.set_constraint("feasible", 1.0)`` (feasible
points get -1.0): this is the documented mechanism of Optuna 5, whose samplers read it
through ``FrozenTrial.constraints`` (the older ``constraints_func=`` argument of the
samplers does the same thing but is deprecated since 5.0 and raises a FutureWarning).  An
infeasible trial still has to report finite objective values (NaN would make it FAIL and be
ignored, i.e. the sampler would not learn from it); it reports 1e300 for every objective.
Both samplers rank infeasible trials by their constraint violation only (constrained
domination in NSGA-II, the "infeasible" group in TPE), so these placeholder values never
enter a comparison with a feasible trial.  The loop uses ask/tell so that it can stop at
exactly ``budget`` distinct ids; a repeated point is told its cached values.  Samplers are
used with their defaults and only the seed set: NSGAIISampler(seed=s) (population 50) and
TPESampler(seed=s) (10 random start-up trials, 24 EI candidates, gamma = ceil(0.1 n) for
several objectives, constant liar on, and independent per-parameter TPE for several
objectives / multivariate TPE for one, which is how Optuna 5 resolves multivariate=None).
Note on fairness: Optuna's NSGA-II evolves only the parameters common to all trials (its
IntersectionSearchSpace); with more than one template that is the "template" choice alone,
and the per-template knobs are drawn uniformly at random by the sampler's independent
(random) fallback.  So on a multi-template space Optuna's NSGA-II is close to random search
over the knobs; that is the library's behaviour on a conditional space, not a choice made
here.  TPE models each conditional knob from the trials that used it.  TPE's cost per trial
grows with the number of trials told (the non-dominated split and its hypervolume subset
selection run over all of them), and TPE often re-proposes points it already has, so on
large budgets it is by far the slowest peer.

pymoo (fixed-length integer vector, the mixed-integer recipe of pymoo's documentation).
``x = [template, k_0 .. k_{K-1}]`` where K is the largest knob count of any template;
bounds are [0, T-1] for the template and [0, maxradix_j - 1] for knob j (maxradix_j is the
largest radix of knob j over all templates, at least 1).  Template t reads knob j as digit
``x_j * radix_tj // maxradix_j``, which reaches every digit, each from floor or ceil of
maxradix_j / radix_tj values of x_j (exactly evenly when the radix divides maxradix_j); knobs
beyond a template's count are ignored.  The algorithm is
``NSGA2(pop_size=100, sampling=IntegerRandomSampling(), crossover=SBX(prob=1.0, eta=3.0,
vtype=float, repair=RoundingRepair()), mutation=PM(prob=1.0, eta=3.0, vtype=float,
repair=RoundingRepair()), eliminate_duplicates=True)`` driven through ask/tell, with one
inequality constraint G = 1 (infeasible) or -1 (feasible).  pymoo's survival puts every
feasible individual before every infeasible one and sorts the infeasible ones by constraint
violation, and its binary tournament compares constraint violations first, so the objective
values of an infeasible individual are never read: they are set to 1e300.  Duplicate
elimination works on x and only within a generation and against the current population, and
several x can map to the same id (shorter templates ignore
trailing knobs, and the digit scaling folds neighbouring values); such proposals are the
repeats counted as trials.  Only the ids up to the budget are recorded, so the last
generation may be used in part.

Written against optuna 5.1.0, pymoo 0.6.2, numpy 2.4.6 and scipy 1.17.1 on Python 3.11
(bench/requirements-peers.txt; bench/setup-peers.sh installs them into .deps/peers).

Exit status: 0 on success, 1 when a library is missing, 2 when the input folder or a file
in it is malformed (the message names the file), 3 when a task failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from multiprocessing import Pool

PEERS = ("optuna-nsga2", "optuna-tpe", "pymoo-nsga2")
PINNED = {"optuna": "5.1.0", "pymoo": "0.6.2"}
STALL_FACTOR = 20
INFEASIBLE_OBJECTIVE = 1e300
PYMOO_POP_SIZE = 100
STALL_PREFIX = "# stalled after "


class InputError(Exception):
    """A malformed input folder or file; the message names it."""


@dataclass
class Template:
    offset: int
    radices: list[int]

    @property
    def size(self) -> int:
        return math.prod(self.radices)


@dataclass
class Space:
    folder: str
    name: str
    n_obj: int
    budget: int
    templates: list[Template]
    total: int
    values: list  # per id: tuple of n_obj floats, or None when infeasible

    def point_id(self, t: int, digits) -> int:
        """Id of template t's point with the given digits (knob 0 least significant)."""
        tpl = self.templates[t]
        local = 0
        for d, r in zip(reversed(digits), reversed(tpl.radices)):
            local = local * r + d
        return tpl.offset + local


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _int_field(obj, key, path, minimum):
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{path}: field '{key}' must be an integer >= {minimum}, got {value!r}")
    return value


def read_space_json(folder: str):
    path = os.path.join(folder, "space.json")
    if not os.path.isfile(path):
        raise InputError(f"{path}: missing")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{path}: field 'name' must be a non-empty string")
    n_obj = _int_field(doc, "objectives", path, 1)
    budget = _int_field(doc, "budget", path, 1)
    raw = doc.get("templates")
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{path}: field 'templates' must be a non-empty list")
    templates = []
    for i, item in enumerate(raw):
        where = f"{path}: templates[{i}]"
        offset = _int_field(item, "offset", where, 0)
        radices = item.get("radices")
        if (
            not isinstance(radices, list)
            or not radices
            or any(not isinstance(r, int) or isinstance(r, bool) or r < 1 for r in radices)
        ):
            raise InputError(f"{where}: 'radices' must be a non-empty list of integers >= 1")
        templates.append(Template(offset, list(radices)))
    expected = 0
    for tpl in sorted(templates, key=lambda t: t.offset):
        if tpl.offset != expected:
            raise InputError(
                f"{path}: template id ranges must tile 0..total-1 without gaps or overlaps "
                f"(a template starts at {tpl.offset}, expected {expected})"
            )
        expected += tpl.size
    total = expected
    if budget > total:
        raise InputError(f"{path}: budget {budget} exceeds the {total} points of the space")
    return name, n_obj, budget, templates, total


def read_table(folder: str, n_obj: int, total: int) -> list:
    path = os.path.join(folder, "table.csv")
    if not os.path.isfile(path):
        raise InputError(f"{path}: missing")
    header = ["id"] + [f"o{i + 1}" for i in range(n_obj)]
    values: list = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            got = next(reader, None)
            if got is None or [c.strip() for c in got] != header:
                raise InputError(f"{path}: bad header {got!r}, expected {','.join(header)!r}")
            for line, row in enumerate(reader, start=2):
                if len(row) != n_obj + 1:
                    raise InputError(
                        f"{path}: line {line} has {len(row)} cells, expected {n_obj + 1}"
                    )
                try:
                    pid = int(row[0])
                except ValueError:
                    raise InputError(f"{path}: line {line}: bad id {row[0]!r}") from None
                if pid != len(values):
                    raise InputError(
                        f"{path}: line {line}: id {pid} out of order, expected {len(values)}"
                    )
                cells = [c.strip() for c in row[1:]]
                if all(c == "" for c in cells):
                    values.append(None)
                    continue
                try:
                    objs = tuple(float(c) for c in cells)
                except ValueError:
                    raise InputError(
                        f"{path}: line {line}: objective cells must be all numbers or all empty"
                    ) from None
                if any(math.isnan(v) for v in objs):
                    raise InputError(f"{path}: line {line}: NaN objective")
                values.append(objs)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: not readable ({e})") from None
    if len(values) != total:
        raise InputError(
            f"{path}: wrong row count: {len(values)} rows, space.json describes {total} points"
        )
    return values


_SPACE_CACHE: dict[str, Space] = {}


def load_space(folder: str) -> Space:
    folder = os.path.abspath(folder)
    space = _SPACE_CACHE.get(folder)
    if space is None:
        name, n_obj, budget, templates, total = read_space_json(folder)
        values = read_table(folder, n_obj, total)
        space = Space(folder, name, n_obj, budget, templates, total, values)
        _SPACE_CACHE.clear()  # one space at a time is enough; tables can be large
        _SPACE_CACHE[folder] = space
    return space


def space_folders(root: str) -> list[str]:
    if not os.path.isdir(root):
        raise InputError(f"{root}: not a directory")
    folders = sorted(
        os.path.join(root, e)
        for e in os.listdir(root)
        if not e.startswith(".") and os.path.isdir(os.path.join(root, e))
    )
    if not folders:
        raise InputError(f"{root}: no space sub-folders")
    return folders


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def ids_path(folder: str, peer: str, seed: int) -> str:
    return os.path.join(folder, f"peer-{peer}-seed{seed}.ids")


def is_complete(path: str, budget: int) -> bool:
    """True when `path` holds a finished run: `budget` ids, or a recorded stall."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
    except OSError:
        return False
    if any(ln.startswith(STALL_PREFIX) for ln in lines):
        return True
    return sum(1 for ln in lines if ln and not ln.startswith("#")) == budget


def write_ids(path: str, ids: list[int], stalled_trials: int | None) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for pid in ids:
            f.write(f"{pid}\n")
        if stalled_trials is not None:
            f.write(f"{STALL_PREFIX}{stalled_trials} trials\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Recorder:
    """Distinct ids in first-evaluation order, the trial count and the stopping rule."""

    def __init__(self, budget: int, cap_factor: int = STALL_FACTOR):
        self.budget = budget
        self.cap_factor = cap_factor
        self.max_trials = cap_factor * budget
        self.order: list[int] = []
        self.seen: set[int] = set()
        self.trials = 0
        self.library_gave_up = False

    def add(self, pid: int) -> None:
        self.trials += 1
        if pid not in self.seen:
            self.seen.add(pid)
            self.order.append(pid)

    def done(self) -> bool:
        return len(self.order) >= self.budget or self.trials >= self.max_trials


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------


def run_optuna(space: Space, peer: str, seed: int, cap_factor: int = STALL_FACTOR) -> Recorder:
    import optuna
    from optuna.exceptions import ExperimentalWarning

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=ExperimentalWarning)

    if peer == "optuna-nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(directions=["minimize"] * space.n_obj, sampler=sampler)

    choices = list(range(len(space.templates)))
    infeasible_values = [INFEASIBLE_OBJECTIVE] * space.n_obj
    rec = Recorder(space.budget, cap_factor)
    while not rec.done():
        trial = study.ask()
        t = trial.suggest_categorical("template", choices)
        digits = [
            trial.suggest_int(f"t{t}_k{j}", 0, r - 1) if r > 1 else 0
            for j, r in enumerate(space.templates[t].radices)
        ]
        pid = space.point_id(t, digits)
        rec.add(pid)
        objs = space.values[pid]
        if objs is None:
            trial.set_constraint("feasible", 1.0)
            study.tell(trial, infeasible_values)
        else:
            trial.set_constraint("feasible", -1.0)
            study.tell(trial, list(objs))
    return rec


def pymoo_decoder(space: Space):
    """Bounds of pymoo's vector x = [template, k_0 .. k_{K-1}] and its decoder to point ids.

    Knob j of template t reads digit x_j * radix_tj // maxradix_j; knobs beyond the
    template's count are ignored.
    """
    import numpy as np

    n_tpl = len(space.templates)
    n_knobs = max(len(t.radices) for t in space.templates)
    max_radix = [
        max([t.radices[j] for t in space.templates if j < len(t.radices)] + [1])
        for j in range(n_knobs)
    ]
    xl = np.zeros(n_knobs + 1, dtype=np.int64)
    xu = np.array([n_tpl - 1] + [m - 1 for m in max_radix], dtype=np.int64)

    # Per template: its offset and, for each knob j < n_knobs, its radix (1 past the template's
    # own knobs, so the digit is 0) and its place value in the mixed-radix id.
    offsets = np.array([t.offset for t in space.templates], dtype=np.int64)
    radix = np.ones((n_tpl, n_knobs), dtype=np.int64)
    place = np.zeros((n_tpl, n_knobs), dtype=np.int64)
    for ti, tpl in enumerate(space.templates):
        p = 1
        for j, r in enumerate(tpl.radices):
            radix[ti, j], place[ti, j] = r, p
            p *= r
    maxr = np.array(max_radix, dtype=np.int64)

    def to_ids(x):
        x = np.clip(np.rint(np.asarray(x, dtype=float)).astype(np.int64), xl, xu)
        t = x[:, 0]
        digits = x[:, 1:] * radix[t] // maxr
        return offsets[t] + (digits * place[t]).sum(axis=1)

    return xl, xu, to_ids


def run_pymoo(space: Space, seed: int, cap_factor: int = STALL_FACTOR) -> Recorder:
    import numpy as np
    from pymoo.config import Config

    Config.warnings["not_compiled"] = False
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.problems.static import StaticProblem

    xl, xu, to_ids = pymoo_decoder(space)
    problem = Problem(
        n_var=len(xl), n_obj=space.n_obj, n_ieq_constr=1, xl=xl, xu=xu, vtype=int
    )

    # Lookup arrays: objectives per id (infeasible rows hold the placeholder, see the module
    # docstring for why pymoo never reads them) and the constraint value per id.
    feasible = np.array([v is not None for v in space.values], dtype=bool)
    table_f = np.full((space.total, space.n_obj), INFEASIBLE_OBJECTIVE, dtype=float)
    if feasible.any():
        table_f[feasible] = np.array([v for v in space.values if v is not None], dtype=float)
    table_g = np.where(feasible, -1.0, 1.0)[:, None]

    algorithm = NSGA2(
        pop_size=PYMOO_POP_SIZE,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    # The stopping rule is ours (distinct budget); the library's termination is never reached.
    algorithm.setup(problem, seed=seed, termination=("n_eval", 2**62), verbose=False)

    rec = Recorder(space.budget, cap_factor)
    while not rec.done():
        pop = algorithm.ask()
        if pop is None or len(pop) == 0:
            # pymoo could not produce a single new (non-duplicate) offspring: it has given up.
            rec.library_gave_up = True
            break
        ids = to_ids(pop.get("X"))
        for pid in ids:
            rec.add(int(pid))
            if rec.done():
                break
        if rec.done():
            break
        Evaluator().eval(StaticProblem(problem, F=table_f[ids], G=table_g[ids]), pop)
        algorithm.tell(infills=pop)
    return rec


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


def run_task(task):
    """Run one (space folder, peer, seed); returns a printable result line and an error flag."""
    folder, peer, seed, cap_factor = task
    try:
        space = load_space(folder)
        path = ids_path(folder, peer, seed)
        if is_complete(path, space.budget):
            return f"{space.name:<24} {peer:<13} seed {seed:<4} already done ({path})", False
        start = time.perf_counter()
        if peer == "pymoo-nsga2":
            rec = run_pymoo(space, seed, cap_factor)
        else:
            rec = run_optuna(space, peer, seed, cap_factor)
        seconds = time.perf_counter() - start
        stalled = len(rec.order) < space.budget
        write_ids(path, rec.order[: space.budget], rec.trials if stalled else None)
        line = (
            f"{space.name:<24} {peer:<13} seed {seed:<4} distinct {len(rec.order):>7} "
            f"trials {rec.trials:>8} seconds {seconds:9.2f}"
        )
        if stalled:
            why = "library gave up" if rec.library_gave_up else "trial cap"
            line += f"  STALLED ({why}, {rec.cap_factor} x budget = {rec.max_trials} trials max)"
        return line, False
    except Exception:  # report and carry on with the other tasks
        return f"{folder} {peer} seed {seed}: FAILED\n{traceback.format_exc()}", True


def check_libraries(peers) -> None:
    needed = sorted({"pymoo" if p.startswith("pymoo") else "optuna" for p in peers})
    for lib in needed:
        try:
            module = __import__(lib)
        except ImportError as e:
            sys.exit(
                f"error: cannot import {lib} ({e}); run bench/setup-peers.sh and use "
                f".deps/peers/bin/python"
            )
        version = getattr(module, "__version__", "?")
        if version != PINNED[lib]:
            print(
                f"warning: {lib} {version} found, this script was written against "
                f"{lib} {PINNED[lib]} (bench/requirements-peers.txt)",
                file=sys.stderr,
            )


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Run Optuna and pymoo optimizers over precomputed design-space tables."
    )
    ap.add_argument("dir", help="folder with one sub-folder (space.json, table.csv) per space")
    ap.add_argument("--seeds", required=True, help="comma-separated integer seeds, e.g. 1,2,3")
    ap.add_argument("--fraction", type=float, help="budget fraction (informational only)")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"subset of {','.join(PEERS)}")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument(
        "--trial-cap",
        type=int,
        default=STALL_FACTOR,
        help=f"stop a run after this many times its budget in trials (default {STALL_FACTOR})",
    )
    args = ap.parse_args(argv)
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    if not args.seeds:
        ap.error("--seeds is empty")
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in args.peers if p not in PEERS]
    if unknown or not args.peers:
        ap.error(f"unknown peer(s) {unknown}; choose from {','.join(PEERS)}")
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    if args.trial_cap < 1:
        ap.error("--trial-cap must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        folders = space_folders(args.dir)
        spaces = []
        for folder in folders:
            space = load_space(folder)
            spaces.append((folder, space.name, space.total, space.budget))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    check_libraries(args.peers)

    fraction = "n/a" if args.fraction is None else f"{args.fraction:g}"
    print(f"peers: {','.join(args.peers)}  seeds: {args.seeds}  fraction: {fraction}")
    for folder, name, total, budget in spaces:
        print(f"space {name} ({os.path.basename(folder)}): {total} points, budget {budget}")
    sys.stdout.flush()

    tasks = [(f, p, s, args.trial_cap) for f, *_ in spaces for p in args.peers for s in args.seeds]
    failed = False
    if args.jobs == 1:
        results = map(run_task, tasks)
        for line, err in results:
            print(line, flush=True)
            failed |= err
    else:
        _SPACE_CACHE.clear()  # let each worker load only what it runs
        with Pool(args.jobs) as pool:
            for line, err in pool.imap_unordered(run_task, tasks):
                print(line, flush=True)
                failed |= err
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
