"""``latentmap sweep GRID.toml``: grids of training runs, compared with intervals."""

import argparse

from .common import DefaultsFormatter, add_data_options, from_args


def cmd_sweep(args: argparse.Namespace) -> None:
    from ..errors import LatentmapError
    from ..quality.sweep import SweepOptions, run_sweep

    if args.gpus_per_run and not args.ray:
        raise LatentmapError("--gpus_per_run places runs on a Ray cluster: give --ray ADDRESS (or auto, local)")
    outcomes = run_sweep(
        from_args(SweepOptions, args, report=not args.no_report, judges=tuple(dict.fromkeys(args.judges)))
    )
    counts = {status: sum(o.status == status for o in outcomes) for status in ("complete", "trained", "resumed")}
    failed = sum(o.status == "failed" for o in outcomes)
    print(
        f"sweep: {counts['trained']} trained, {counts['resumed']} resumed, {counts['complete']} already complete, "
        f"{failed} failed; summary in {args.out}/sweep.json"
    )
    if failed:
        raise LatentmapError(f"{failed} run(s) failed (listed above with their logs); the others are reported")


def register(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="train a grid of runs (TOML) not yet complete, then compare and report each dataset with intervals",
        formatter_class=DefaultsFormatter,
        description="Train every run of GRID.toml that is not complete yet (resuming interrupted ones), then "
        "write compare.{json,md,png} and report.{json,md,png} per dataset under --out. Rerun to continue.",
    )
    sweep.add_argument("grid", help="grid file: [common] flags, [grid] lists that multiply, optional [[runs]]")
    sweep.add_argument("--out", default="sweep", help="folder for runs/, logs/, sweep.json and the reports")
    sweep.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="runs at once on this machine (default: cores / 2), each with cores / jobs threads or $LATENTMAP_THREADS",
    )
    sweep.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="run each training as a task on a Ray cluster: its address, 'auto' (the cluster this machine is "
        "in) or 'local' (start one here); needs pip install 'latentmap[ray]' and --out on a shared filesystem",
    )
    sweep.add_argument("--gpus_per_run", "--gpus-per-run", type=float, default=0.0, help="GPUs per run on Ray")
    sweep.add_argument("--pairs", type=int, default=1000, help="seeded test pairs for the comparison")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the test pairs and samples")
    sweep.add_argument("--no_report", "--no-report", action="store_true", help="train only: no comparison or report")
    sweep.add_argument(
        "--judges",
        nargs="+",
        choices=("cnn", "mlp"),
        default=["cnn", "mlp"],
        help="the report's panel of judge networks, each at tau on its 1st, 5th and 20th percentile; the first, at "
        "its 5th percentile, is the confirmatory judge that marks a difference, the others are shown beside it "
        "(a mark is split where one of them is significant the other way)",
    )
    add_data_options(sweep)
    sweep.set_defaults(handler=cmd_sweep)
