"""Readable names for a sweep's models: ``digits-vae-likelihood=bernoulli-reg_lambda=4`` is a
β-VAE (β 4), ``digits-dense-arch=conv`` a conv AE. The sweep names a model by its dataset,
kind and the settings that vary in its grid (:func:`.grid.name_runs`); tables, verdicts and
figures say what the model is."""

import re

KINDS = {"dense": "AE", "sparse": "sparse AE", "vae": "VAE", "rae": "RAE", "wae": "WAE", "acai": "ACAI"}
SETTING = re.compile(r"-(?=[a-z_]+=)")  # a "-" that starts a key=value (values may hold "-": 1e-3)


def settings_of(model: str, dataset: str | None = None) -> tuple[str, dict[str, str]]:
    """(kind, {setting: value}) of a model name, with or without its dataset prefix."""
    name = model[len(dataset) + 1 :] if dataset and model.startswith(f"{dataset}-") else model
    kind, *settings = SETTING.split(name)
    return kind, dict(setting.split("=", 1) for setting in settings)


def readable(model: str, dataset: str | None = None) -> str:
    """``vae-likelihood=bernoulli`` -> ``VAE, ELBO``; ``vae`` -> ``VAE, original loss``;
    ``rae-arch=conv-d_latent=8`` -> ``conv RAE at d = 8``; ``dense-epochs=300`` -> ``AE after
    300 epochs``; other settings as ``key value``."""
    kind, settings = settings_of(model, dataset)
    words = KINDS.get(kind, kind)
    if kind == "vae":
        if settings.pop("likelihood", "mse") == "bernoulli":
            beta = settings.pop("reg_lambda", "1")
            words = "VAE, ELBO" if float(beta) == 1 else f"β-VAE (β {beta})"
        else:
            words = "VAE, original loss" + (f" (λ {settings.pop('reg_lambda')})" if "reg_lambda" in settings else "")
    if settings.pop("arch", "mlp") == "conv":
        words = f"conv {words}"
    size, epochs = settings.pop("d_latent", None), settings.pop("epochs", None)
    words = ", ".join([words, *(f"{key} {value}" for key, value in settings.items())])
    words = f"{words} at d = {size}" if size else words
    return f"{words} after {epochs} epochs" if epochs else words
