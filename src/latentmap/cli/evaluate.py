"""``latentmap evaluate RUN``: test MSE per class; ELBO, active units and NLL for VAEs."""

import argparse
from typing import TYPE_CHECKING, Any

from .common import add_data_options
from .data import dataset_from_args

if TYPE_CHECKING:
    from pathlib import Path

    from ..data import Dataset
    from ..train.run import Run


def latent_quality(run: "Run", dataset: "Dataset", args: argparse.Namespace) -> dict[str, Any]:
    """The `compare` metrics of this one run (judge trained on first use)."""
    from ..quality.compare import UNSAVED
    from ..quality.judge import judge_for
    from ..quality.metrics import make_probe, measure
    from .judge import cache_dir_of

    judge = judge_for(dataset, cache_dir_of(args), announce=print)
    print(f"latent quality ({args.pairs} test pairs, judge accuracy {judge.info['accuracy']:.4f}):")
    metrics, details = measure(run, dataset, judge, make_probe(dataset, args.pairs, seed=0))
    for unsaved in UNSAVED:
        details.pop(unsaved)
    return {"metrics": metrics, **details, "judge": {k: judge.info[k] for k in ("accuracy", "tau", "data_hash")}}


def earlier_evaluation(path: "Path", weights_sha256: str) -> dict[str, Any]:
    """What an earlier ``evaluate`` of these very weights wrote ({} if none, or other weights)."""
    import json

    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return earlier if isinstance(earlier, dict) and earlier.get("weights_sha256") == weights_sha256 else {}


def cmd_evaluate(args: argparse.Namespace) -> None:
    import json

    from ..atomic import write_text
    from ..train.evaluate import evaluate
    from ..train.run import load_run

    run = load_run(args.run, device=args.device)
    dataset = dataset_from_args(args, run.dataset_spec)
    test = dataset.split("test")
    if args.nll_samples > 0 and run.kind == "vae" and not run.preprocessor.uses_pca:
        print(f"NLL with {args.nll_samples} importance samples per test image: this takes a while (a bar follows)")
    result = evaluate(run, test.images, test.labels, test.label_names, nll_samples=args.nll_samples, progress=True)
    print(f"test MSE (pixel space): {result['mse']:.5f}")
    for name, value in result["mse_per_class"].items():
        print(f"  {name:<12} {value:.5f}")
    if "elbo" in result:
        elbo = result["elbo"]
        print(
            f"negative ELBO {elbo['negative_elbo']:.2f} nats ="
            f" reconstruction {elbo['reconstruction']:.2f} + KL {elbo['kl']:.2f}"
        )
        print(f"active units: {result['active_units']} of {run.d_latent} (posterior mean variance > 0.01)")
    if "nll" in result:
        print(f"importance-weighted NLL ({args.nll_samples} samples): {result['nll']['nats']:.2f} nats per image")
    if "likelihood_input" in result:
        print(f"likelihood measured on test images {result['likelihood_input']}")
    if "likelihood_note" in result:
        print(f"note: {result['likelihood_note']}")
    for skipped in result["skipped"]:
        print(f"skipped: {skipped}")
    out = run.path / "evaluation.json"
    earlier = earlier_evaluation(out, run.weights_sha256)
    if args.pairs > 0 and not dataset.labelled:
        from ..quality.judge import UnlabelledError, require_labels

        try:
            require_labels(dataset)
        except UnlabelledError as exc:
            print(f"skipped: latent quality: {exc}")
    elif args.pairs > 0:
        result["latent_quality"] = latent_quality(run, dataset, args)
    elif "latent_quality" in earlier:
        result["latent_quality"] = earlier["latent_quality"]
        print("latent quality: kept from the earlier evaluation of these weights (--pairs 0 skips recomputing it)")
    else:
        print("skipped: latent quality (--pairs 0)")
    if "nll" not in result and "nll" in earlier:
        result["nll"] = earlier["nll"]
        print(
            f"NLL: kept from the earlier evaluation ({earlier['nll']['samples']} samples; --nll_samples recomputes it)"
        )
    if "latent_quality" in result:
        for name, value in result["latent_quality"]["metrics"].items():
            print(f"  {name:<36} {value:.4f}")
    out = run.path / "evaluation.json"
    from ..quality.compare import finite

    write_text(out, json.dumps(finite(result), indent=2, allow_nan=False) + "\n")  # null, never NaN: JSON
    print(f"wrote {out}")


def register(commands: argparse._SubParsersAction) -> None:
    evaluation = commands.add_parser("evaluate", help="test MSE per class; ELBO, active units and NLL for VAEs")
    evaluation.add_argument("run", help="run directory or its model.safetensors")
    evaluation.add_argument(
        "--nll_samples",
        "--nll-samples",
        type=int,
        default=0,
        help="importance samples for the NLL (e.g. 5000; 0 skips it)",
    )
    evaluation.add_argument(
        "--pairs",
        type=int,
        default=1000,
        help="test pairs for the latent-quality metrics of `latentmap compare` (0 skips them; default: %(default)s)",
    )
    evaluation.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    add_data_options(evaluation)
    evaluation.set_defaults(handler=cmd_evaluate)
