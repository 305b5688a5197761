"""``latentmap evaluate RUN``: test MSE per class; ELBO, active units and NLL for VAEs."""

import argparse

from .common import add_data_options
from .data import dataset_from_args


def cmd_evaluate(args: argparse.Namespace) -> None:
    import json

    from ..atomic import write_text
    from ..metrics import evaluate
    from ..runs import load_run

    run = load_run(args.run, device=args.device)
    test = dataset_from_args(args, run.dataset_spec).split("test")
    result = evaluate(run, test.images, test.labels, test.label_names, nll_samples=args.nll_samples)
    print(f"test MSE (pixel space): {result['mse']:.5f}")
    for name, value in result["mse_per_class"].items():
        print(f"  {name:<12} {value:.5f}")
    if "elbo" in result:
        elbo = result["elbo"]
        print(
            f"negative ELBO {elbo['negative_elbo']:.2f} nats ="
            f" reconstruction {elbo['reconstruction']:.2f} + KL {elbo['kl']:.2f}"
        )
        print(f"active units: {result['active_units']} of {run.d_latent}")
    if "nll" in result:
        print(f"importance-weighted NLL ({args.nll_samples} samples): {result['nll']['nats']:.2f} nats")
    out = run.path / "evaluation.json"
    write_text(out, json.dumps(result, indent=2) + "\n")
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
    evaluation.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    add_data_options(evaluation)
    evaluation.set_defaults(handler=cmd_evaluate)
