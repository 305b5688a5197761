"""The manual is one path: the commands and Python examples of its pages run in the order of
its navigation, as written, each on what the ones before it made (on small sizes: the test
appends flags that shrink the work, and stands in for the browser where a command starts a
server)."""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import yaml
from fastapi.testclient import TestClient

from latentmap.embed.file import load_embedding

ROOT = Path(__file__).resolve().parents[1]
# Not run here: setup and tests themselves, other tools, the demo (tests/test_commands.py),
# torchrun (tests/test_distributed.py) and the benchmarks.
SKIP = ("#", "make", "export", "torchrun", "tensorboard", "pip", "python bench/", "latentmap demo")
SKIP += ("latentmap sweep examples/answer.toml", "latentmap sweep examples/latent_size.toml")  # hours of runs
SKIP += ("latentmap sweep examples/answer_digits.toml", "latentmap sweep examples/training_length.toml")
# Flags appended per command (argparse keeps the last value): the same outputs, less work.
QUICK = {
    "train": ["--epochs", "1", "--stages", "1", "--max_train", "1000", "--no_plot"],
    "embed": ["--max_points", "600", "--map_size", "256"],
    "evaluate": ["--pairs", "20"],
    "compare": ["--pairs", "20"],
    "sweep": ["--pairs", "20", "--jobs", "2"],
}
SCRIPTS = {"dense.py": ["train", "dense"], "vae.py": ["train", "vae"], "embed.py": ["embed"]}
SCRIPTS |= {"explore_latent.py": ["explore"], "cluster_fonts.py": ["fonts"]}


def manual_pages() -> list[Path]:
    """The manual's pages in the order of its navigation (the references and reports run nothing)."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    return [ROOT / "docs" / page for entry in nav for page in entry.values() if isinstance(page, str)]


def steps(text: str) -> list[tuple[str, str]]:
    """("python", code) and ("bash", command line) in the order ``text`` has them."""
    found = []
    for language, body in re.findall(r"```(python|bash)\n(.*?)```", text, flags=re.S):
        if language == "python":
            found.append(("python", body))
            continue
        for line in body.replace("\\\n", " ").splitlines():
            if line.strip() and not line.startswith(SKIP):
                found.append(("bash", line))
    return found


def as_latentmap_args(line: str) -> list[str]:
    """A command line of the manual as ``latentmap`` arguments, with the quick flags."""
    words = shlex.split(line, comments=True)
    if words[0] == "python":
        args = [*SCRIPTS[words[1]], *words[2:]]
    else:
        assert words[0] == "latentmap", f"a command in the manual that the path test cannot run: {line}"
        args = words[1:]
    if args[0] == "evaluate" and "--nll_samples" in args:
        args[args.index("--nll_samples") + 1] = "5"
    return [*args, *QUICK.get(args[0], [])]


class Servers:
    """Stands in for ``serve``: checks the app answers, and for the typeface app saves a
    font set as a user would with the page's Save button."""

    def __init__(self) -> None:
        self.served: list[str] = []

    def __call__(self, app, host, port, open_browser, policy, path="/") -> None:
        client = TestClient(app, base_url=f"http://{host}:{port}")
        assert client.get("/").status_code == 200
        self.served.append(app.title)
        if app.title == "latentmap typefaces":
            info = client.get("/api/info").json()
            result = client.post("/api/cluster", json={"chars": ["A", "B"], "n_clusters": 2}).json()
            saved = client.post("/api/save", json={"result": result["result"], "fractions": [1, 1]})
            assert saved.status_code == 200, saved.text
            assert Path(saved.json()["font_set"]) == Path(info["out_dir"]) / "font_set.json"
        else:
            assert client.get("/api/spaces").json()[0]["count"] > 0


def test_the_manuals_path_runs_in_order(data_env, tmp_path, monkeypatch):
    from latentmap.cli import main
    from latentmap.quality import judge
    from latentmap.web import common

    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    for grid in (ROOT / "examples").glob("*.toml"):  # as in a checkout, on small sizes
        small = grid.read_text().replace("epochs = 2\n", "epochs = 1\n").replace("max_train = 10000", "max_train = 800")
        (tmp_path / "examples" / grid.name).write_text(small)
    monkeypatch.setattr(judge, "SETTINGS", {**judge.SETTINGS, "epochs": 1, "max_train": 3000})
    servers = Servers()
    monkeypatch.setattr(common, "serve", servers)
    ran, namespace = [], {}
    path = [(page, kind, step) for page in manual_pages() for kind, step in steps(page.read_text())]
    for page, kind, step in path:
        if kind == "python":
            exec(compile(step, str(page), "exec"), namespace)
            continue
        args = as_latentmap_args(step)
        assert main(args) == 0, f"{page.name}: the command failed: {step}"
        ran.append(args[0])
    assert {"data", "train", "evaluate", "compare", "judge", "sweep", "embed", "explore", "fonts"} <= set(ran)
    assert servers.served.count("latentmap explorer") == 4 and servers.served.count("latentmap typefaces") == 3
    # what the path promises exists where it says
    for name in ("digits-dense-512-128-16", "digits-vae-512-128-16", "fashion-vae-64-16-pca0.95w"):
        assert (tmp_path / "runs" / name / "model.safetensors").is_file(), name
    assert (tmp_path / "compare" / "compare.json").is_file() and (tmp_path / "sets" / "font_set.json").is_file()
    for method in ("pca", "tsne", "umap"):
        assert (tmp_path / "embeddings" / f"digits-vae-512-128-16.embed-{method}.npz").is_file()
    assert (tmp_path / "embeddings" / "test" / "digits-vae-512-128-16.embed-tsne.npz").is_file()
    assert (tmp_path / "projector" / "projector_config.pbtxt").is_file()
    assert (tmp_path / "sweep-tiny" / "digits" / "report.md").is_file()
    assert (tmp_path / "completed.png").is_file() and (tmp_path / "sampled.png").is_file()
    typefaces = tmp_path / "embeddings" / "alphanumeric-typefaceae-512-256-32.embed-umap.npz"
    assert load_embedding(typefaces).metadata["points"] == "typefaces"
    # your own data and models: an imported dataset, an ONNX run, a wrapped one served from Python
    assert (tmp_path / "runs" / "my-ae" / "encoder.onnx").is_file()
    mine = json.loads((tmp_path / "compare-mine" / "compare.json").read_text())
    assert [r["kind"] for r in mine["runs"]] == ["dense", "vae", "onnx"] and mine["dataset"] == "mine"
    assert namespace["url"].startswith("http://127.0.0.1:") and namespace["my_codes"].shape == (10, 16)
    assert namespace["decoded"].shape == (len(namespace["images"]), 28, 28)
    assert namespace["codes"].shape[1] == namespace["run"].d_latent and np.isfinite(namespace["decoded"]).all()


def test_the_readme_is_short_and_its_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert {"docs/getting-started.md", "docs/sweeps.md", "docs/own-data.md"} <= set(links)
    for link in links:
        assert link.startswith("http") or (ROOT / link).exists(), f"README links to a missing {link}"
    # every page of the manual's path is one the README leads to
    assert {f"docs/{page.name}" for page in manual_pages() if page.name not in ("index.md", "changelog.md")} <= set(
        links
    )
