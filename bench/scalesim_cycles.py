"""Run SCALE-Sim on the files `recpipe-dse accel export --scalesim` wrote and print, per layer, SCALE-Sim's
"Total Cycles" and "Stall Cycles" from its COMPUTE_REPORT.csv as JSON.

Usage: scalesim_cycles.py <export folder> <name> <gemm|conv> <results folder>
"""
import contextlib
import csv
import io
import json
import os
import sys

from scalesim.scale_sim import scalesim


def main() -> None:
    folder, name, mode, results = sys.argv[1:5]
    path = lambda suffix: os.path.join(folder, f"{name}.{suffix}")
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(
            save_disk_space=True,
            verbose=False,
            config=path("cfg"),
            topology=path(f"{mode}.csv"),
            layout=path("layout.csv"),
            input_type_gemm=(mode == "gemm"),
        )
        sim.run_scale(top_path=results)
    with open(os.path.join(results, name, "COMPUTE_REPORT.csv")) as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    total, stall = header.index("Total Cycles"), header.index("Stall Cycles")
    layers = [{"total_cycles": int(float(r[total])), "stall_cycles": int(float(r[stall]))} for r in rows[1:] if r]
    json.dump(layers, sys.stdout)


if __name__ == "__main__":
    main()
