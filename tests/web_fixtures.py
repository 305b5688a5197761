"""Small real runs and embeddings shared by the API and browser tests."""

from pathlib import Path

from latentmap.embed import EmbedJob, EmbedParams, embed_run
from latentmap.train import TrainOptions, train


def make_embedding(
    root: Path,
    data_opts: dict,
    dataset: str = "digits",
    kind: str = "vae",
    method: str = "pca",
    max_points: int | None = 2000,
    epochs: int = 4,
) -> Path:
    name = f"{Path(dataset).stem}-{kind}"
    options = TrainOptions(
        kind=kind,
        dataset=dataset,
        layers=[64],
        d_latent=8,
        epochs=epochs,
        max_train=8000,
        batch_size=128,
        out=str(root / name),
        no_plot=True,
        **data_opts,
    )
    run_dir = train(options, progress=False)
    job = EmbedJob(
        run=str(run_dir),
        methods=[method],
        split="train",
        max_points=max_points,
        params=EmbedParams(),
        map_size=512,
        out_dir=str(root / "embeddings"),
        **data_opts,
    )
    embed_run(job, log=lambda *a: None)
    return root / "embeddings" / f"{name}.embed-{method}.npz"
