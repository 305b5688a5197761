"""``latentmap typeface complete|sample|evaluate RUN``: what a typeface run does for users."""

import argparse
import time
from typing import TYPE_CHECKING

from .common import DefaultsFormatter, add_data_options
from .data import dataset_from_args

if TYPE_CHECKING:
    from ..train.typeface import TypefaceRun


def typeface_run(args: argparse.Namespace) -> "TypefaceRun":
    from ..errors import LatentmapError
    from ..train.run import load_run
    from ..train.typeface import TypefaceRun

    run = load_run(args.run, device=args.device)
    if not isinstance(run, TypefaceRun):
        raise LatentmapError(f"{run.path} is a {run.kind} run: these commands need `latentmap train typeface`")
    return run


def cmd_complete(args: argparse.Namespace) -> None:
    import numpy as np

    from ..data.glyphs import glyph_grid
    from ..errors import LatentmapError
    from ..images import save_png
    from ..typefaces.completion import alphabet_sheet, complete, given_from_font, read_glyph_folder

    if (args.font is None) == (args.images is None):
        raise LatentmapError("give the glyphs with --font NAME --given CHARS, or with --images FOLDER")
    run = typeface_run(args)
    real = None
    if args.font is not None:
        if not args.given:
            raise LatentmapError("--font needs --given: the characters to show the model, e.g. --given Hamb")
        grid = glyph_grid(dataset_from_args(args, run.dataset_spec))
        images, chars = given_from_font(grid, args.font, args.given, run), args.given
        row = grid.row_of(args.font)
        real = grid.images[row].astype(np.float32) / 255  # zeros where the typeface has no glyph
        split = "test (a family the model never saw)" if grid.is_test[row] else "train"
        source = f"{args.font} ({split})"
    else:
        images, chars = read_glyph_folder(args.images)
        source = str(args.images)
    complete(run, images, chars)  # the first call pays one-time setup; time a warm one
    started = time.perf_counter()
    glyphs = complete(run, images, chars)
    seconds = time.perf_counter() - started
    marked = np.isin(np.arange(len(run.chars)), run.positions(chars))
    alphabets, titles, marks = [glyphs], [f"completed from {chars!r} of {source}"], [marked]
    if real is not None:
        alphabets.insert(0, real)
        titles.insert(0, f"{args.font}: the real glyphs")
        marks.insert(0, marked)
    save_png(alphabet_sheet(alphabets, titles, marks), args.out)
    print(f"completed {len(run.chars)} characters from {len(chars)} in {seconds * 1000:.0f} ms: {args.out}")


def cmd_sample(args: argparse.Namespace) -> None:
    from ..images import save_png
    from ..typefaces.completion import alphabet_sheet

    run = typeface_run(args)
    dataset = dataset_from_args(args, run.dataset_spec) if args.sampler != "prior" else None
    alphabets = run.sample(args.n, sampler=args.sampler, seed=args.seed, dataset=dataset)
    titles = [f"{args.sampler} sample {i + 1} (seed {args.seed})" for i in range(len(alphabets))]
    save_png(alphabet_sheet(list(alphabets), titles), args.out)
    print(f"{args.n} new typeface(s) from the {args.sampler} sampler: {args.out}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    import json

    from ..atomic import write_text
    from ..data.glyphs import glyph_grid
    from ..quality.completion_scores import K_NEAREST, completion_scores, scoring_judge
    from .judge import cache_dir_of

    run = typeface_run(args)
    dataset = dataset_from_args(args, run.dataset_spec)
    judge = None if args.no_judge else scoring_judge(dataset, cache_dir_of(args), announce=print)
    rows = completion_scores(run, glyph_grid(dataset), judge, tuple(args.shots), seed=args.seed)
    print(f"completion of {rows[0]['typefaces']} test typefaces (families never seen in training):")
    print(
        f"{'given':>5} {'MSE':>8} {'nearest':>8} {'difference [95% CI]':>28}"
        + f" {f'{K_NEAREST}-nearest':>9} {'zero-shot':>9}"
        + ("  judge: ours / nearest / real" * bool(judge))
    )
    for row in rows:
        low, high = row["mse_minus_baseline_ci"]
        line = f"{row['shots']:>5} {row['mse']:8.4f} {row['baseline_mse']:8.4f}"
        line += f" {row['mse_minus_baseline']:+9.4f} [{low:+.4f}, {high:+.4f}]"
        line += f" {row['knearest_mse']:9.4f} {row['zero_shot_mse']:9.4f}"
        if judge is not None:
            line += f"  {row['accuracy']:.3f} / {row['baseline_accuracy']:.3f} / {row['real_accuracy']:.3f}"
            line += f" ({row['relative_accuracy']:.0%} of real)"
        print(line)
    print("SSIM of the same glyphs (structure; 1 = identical, higher is better):")
    print(f"{'given':>5} {'ours':>8} {'nearest':>8} {f'{K_NEAREST}-nearest':>9} {'zero-shot':>9}")
    for row in rows:
        cells = " ".join(f"{row[f'{name}ssim']:{width}.3f}" for name, width in SSIM_COLUMNS)
        print(f"{row['shots']:>5} {cells}")
    if args.json:
        write_text(
            args.json,
            json.dumps({"run": str(run.path), "weights_sha256": run.weights_sha256, "rows": rows}, indent=1) + "\n",
        )
        print(f"scores saved in {args.json}")


SSIM_COLUMNS = (("", 8), ("baseline_", 8), ("knearest_", 9), ("zero_shot_", 9))


def register(commands: argparse._SubParsersAction) -> None:
    from ..train.samplers import SAMPLERS

    parser = commands.add_parser("typeface", help="complete, sample and score typefaces with a typeface run")
    actions = parser.add_subparsers(dest="typeface_action", required=True, metavar="ACTION")

    def common(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text, formatter_class=DefaultsFormatter)
        sub.add_argument("run", help="a typeface run directory (latentmap train typeface) or its model.safetensors")
        sub.add_argument("--device", default="cpu", help="cpu, cuda or auto")
        add_data_options(sub)
        return sub

    sub = common("complete", "complete a typeface's alphabet from a few of its glyphs")
    sub.add_argument("--font", help="a typeface of the run's dataset (e.g. Roboto-Regular)")
    sub.add_argument("--given", help="with --font: the characters shown to the model, e.g. Hamb")
    sub.add_argument("--images", help="instead: a folder of 28x28 glyph PNGs named by character (A.png, U+0061.png)")
    sub.add_argument("--out", default="completed.png", help="the sheet to write (given glyphs in orange)")
    sub.set_defaults(handler=cmd_complete)

    sub = common("sample", "new typefaces: codes drawn from a sampler, whole alphabets decoded")
    sub.add_argument("--n", type=int, default=8, help="how many typefaces")
    sub.add_argument("--sampler", choices=SAMPLERS, default="gmm", help="prior (typeface VAEs), gaussian or gmm")
    sub.add_argument("--seed", type=int, default=0, help="the sampler's seed")
    sub.add_argument("--out", default="sampled.png", help="the sheet to write")
    sub.set_defaults(handler=cmd_sample)

    sub = common(
        "evaluate", "score completion of unseen typefaces from 1, 2, 4, 8 glyphs against the nearest-typeface baseline"
    )
    sub.add_argument("--shots", type=int, nargs="+", default=[1, 2, 4, 8], help="numbers of given glyphs")
    sub.add_argument("--seed", type=int, default=0, help="which glyphs are given")
    sub.add_argument("--no-judge", "--no_judge", action="store_true", help="pixel scores only (no judge training)")
    sub.add_argument("--json", help="also write the scores to this JSON file")
    sub.set_defaults(handler=cmd_evaluate)
