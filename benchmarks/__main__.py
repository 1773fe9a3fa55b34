"""``python -m benchmarks``: run the suite, print the table, write the JSON."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks import DEFAULT_CACHE, GROUPS, PROFILES, run_suite
from benchmarks._harness import markdown_table, render_table, stderr_log, write_json

DEFAULT_OUT = Path("benchmarks/results/latest.json")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time rotation's code against its baselines, side by side; print a table, write JSON.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of about a minute (repeat 1)")
    parser.add_argument("--profile", choices=PROFILES, default=None,
                        help="sizes: full (the issue's, default), quick (= --quick) or tiny (the test suite's)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only this group or case (repeatable, fnmatch patterns): {', '.join(GROUPS)}, "
                             "or e.g. rolling.vol60, 'pairwise.*'")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help="timed calls per measurement after one warm-up; the median is reported "
                             "(default 3; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="PATH",
                        help=f"JSON results file (default {DEFAULT_OUT})")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, metavar="DIR",
                        help="where generated stores are cached between runs")
    parser.add_argument("--cprofile", action="store_true",
                        help="add a cProfile summary of the heavy calls (build_panel, the claims ledger) "
                             "to their notes")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown (README)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    profile = args.profile or ("quick" if args.quick else "full")
    repeat = args.repeat if args.repeat is not None else (3 if profile == "full" else 1)

    from rich.console import Console

    t0 = time.perf_counter()
    results = run_suite(
        profile=profile, repeat=repeat, only=args.only, cache_dir=args.cache_dir, cprofile=args.cprofile,
        log=(lambda _m: None) if args.quiet else stderr_log,
    )
    doc = write_json(args.out, results, profile=profile, argv=argv, seconds=time.perf_counter() - t0)
    console = Console(width=None if sys.stdout.isatty() else 200)  # a file/pipe gets the full table
    console.print(render_table(results, doc["machine"]))
    for r in results:
        for note in r.notes:
            console.print(f"[dim]{r.name}: {note}[/]", highlight=False)
    if args.markdown:
        print(markdown_table(results))
    console.print(f"results written to [bold]{args.out}[/] ({doc['suite_seconds']:.0f} s)", highlight=False)
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
