"""groklab vs a one-trial PyTorch loop vs the single-core float32 matmul roofline, in one run.

    python benchmarks/run.py --output BENCHMARKS.md          # the full suite (about 5-8 minutes)
    python benchmarks/run.py --quick                         # a shorter smoke run (about 3 minutes)
    python benchmarks/run.py --part why-grok                 # only the issue-9 part (about 2 minutes)

Setting: (n, k) = (50, 3) online sparse parity, batch 32, SGD lr 0.1, hinge loss, 2-layer ReLU MLP
with biases, widths 100 and 1000. Every measurement runs in a fresh process started with the
'spawn' method and pinned to one core (XLA single-threaded through
`groklab.runtime.configure_process`, torch and OpenBLAS with one thread), so no library's thread
pool competes with another's. Throughputs are the best timed window of each measurement (the same
statistic for PyTorch, groklab and the roofline); medians are printed alongside.

Part "why-grok" (issue 9): many-seed grokking of (a + b) mod 47 with the quadratic net and
full-batch normalized GD against one-model PyTorch loops (`grokking_bench.py`), and the eNTK Gram
against `torch.func` in time and peak memory (`entk_bench.py`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measurements import PARTS, measure  # noqa: E402
from report import report  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the markdown report here (e.g. BENCHMARKS.md)")
    parser.add_argument("--quick", action="store_true", help="shorter windows, fewer chunk sizes and trials")
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON here")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target fails")
    parser.add_argument("--part", choices=("all", *PARTS), default="all",
                        help="measure only one part: parity (the engine) or why-grok (issue 9); default all")
    args = parser.parse_args(argv)
    parts = PARTS if args.part == "all" else (args.part,)
    results = measure(args.quick, log=lambda msg: print(msg, file=sys.stderr, flush=True), parts=parts)
    text = report(results)
    print(text)
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if args.check and not all(row["pass"] for row in results["targets"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
