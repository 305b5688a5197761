"""The package as a pip user gets it: a lean core whose commands say which extra they miss,
and a wheel that works installed away from the checkout."""

import ast
import os
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
# Every module an extra installs, made unimportable: the core as `pip install latentmap` has it.
NOT_IN_CORE = ("onnx", "onnxruntime", "onnxscript", "anywidget", "ray", "pyarrow", "tensorboard", "skimage")


def required_extras() -> set[tuple[str, str]]:
    """(module, extra) of every ``require(module, extra, ...)`` call in the package."""
    found = set()
    for path in (ROOT / "src" / "latentmap").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require":
                module, extra = (arg.value for arg in node.args[:2])  # type: ignore[attr-defined]
                found.add((module, extra))
    return found


def distribution_name(requirement: str) -> str:
    return requirement.split(">")[0].split("[")[0].split("=")[0].strip().lower()


def test_each_extra_the_code_names_installs_what_it_asks_for():
    found = required_extras()
    assert {extra for _, extra in found} >= {"onnx", "notebook", "ray", "arrow", "typeface"}
    owners = packages_distributions()
    for module, extra in found:
        assert extra in EXTRAS, f"require({module!r}, {extra!r}): pyproject has no extra {extra!r}"
        wanted = {d.lower() for d in owners[module.split(".")[0]]}
        assert wanted & {distribution_name(r) for r in EXTRAS[extra]}, f"[{extra}] does not install {module}"
    core = {distribution_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {distribution_name(r) for name in EXTRAS if name not in ("all", "dev", "docs") for r in EXTRAS[name]}
    assert not core & extras and {"onnxruntime", "pyarrow", "tensorboard", "scikit-image"} <= extras
    assert set(EXTRAS["all"][0].split("[")[1].rstrip("]").split(",")) == set(EXTRAS) - {"all", "dev", "docs"}


def core_only(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter where no extra is installed."""
    prelude = f"import sys\nfor name in {NOT_IN_CORE!r}:\n    sys.modules[name] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def cli(*args: str) -> str:
    return f"from latentmap.cli import main\nsys.exit(main({list(args)!r}))\n"


def test_the_core_trains_and_each_missing_extra_is_one_line_naming_it(tmp_path, data_opts):
    env = {**os.environ, "LATENTMAP_DATA": data_opts["data_dir"], "LATENTMAP_CACHE": data_opts["cache_dir"]}
    (tmp_path / "enc.onnx").write_bytes(b"\x08\x07")
    (tmp_path / "data.parquet").write_bytes(b"PAR1")
    # the core imports every stage and trains without tensorboard (saying so, once)
    train = core_only(
        "import latentmap.cli, latentmap.web.explorer, latentmap.web.fonts, latentmap.quality.compare\n"
        + cli("train", "dense", "--layers", "32", "--d_latent", "4", "--epochs", "1", "--max_train", "500",
              "--no_plot", "--out", str(tmp_path / "run")),
        tmp_path, env,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    assert train.stdout.count("pip install 'latentmap[tensorboard]'") == 1
    assert (tmp_path / "run" / "model.safetensors").is_file() and not (tmp_path / "run" / "tensorboard").exists()
    asks = {
        "onnx": cli("import-model", "enc.onnx", "enc.onnx", "--dataset", "digits", "--out", "mine"),
        "arrow": cli("data", "import", "data.parquet", "--name", "pq"),
        "notebook": f"import latentmap\nlatentmap.widget({str(tmp_path / 'run')!r})\n",
    }
    for extra, code in asks.items():
        said = core_only(code, tmp_path, env)
        last = said.stderr.strip().splitlines()[-1]
        assert said.returncode != 0 and f"pip install 'latentmap[{extra}]'" in last, said.stderr
        if extra != "notebook":  # a command: one line; from Python: the LatentmapError
            assert said.returncode == 2 and said.stderr.count("\n") == 1, said.stderr
    assert not (tmp_path / "mine").exists()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The sdist and wheel, built as `python -m build` builds them (without isolation: no
    network) and checked by twine; the wheel installed with --no-deps outside the checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(folder / "dist"), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)  # the sdist, then the wheel from it
    (wheel,) = (folder / "dist").glob("latentmap-*-py3-none-any.whl")
    (sdist,) = (folder / "dist").glob("latentmap-*.tar.gz")
    assert wheel.name == f"latentmap-{package_version()}-py3-none-any.whl"
    assert sdist.stat().st_size < 8 << 20  # sources, tests and the manual, no local state
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], capture_output=True
    )
    assert twine.returncode == 0, twine.stdout
    site = folder / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    return site


def package_version() -> str:
    namespace: dict[str, str] = {}
    exec((ROOT / "src" / "latentmap" / "version.py").read_text(), namespace)
    return namespace["__version__"]


def from_wheel(site: Path, cwd: Path, data_opts: dict[str, str]) -> dict[str, str]:
    """An environment whose `latentmap` is the installed copy (its folder first on the path;
    the dependencies from this interpreter), run from an empty folder."""
    assert not any(cwd.iterdir())
    return {**os.environ, "PYTHONPATH": str(site), "LATENTMAP_DATA": data_opts["data_dir"],
            "LATENTMAP_CACHE": data_opts["cache_dir"], "PYTHONSAFEPATH": "1"}  # fmt: skip


def test_the_wheel_works_away_from_the_checkout(installed, tmp_path, data_opts):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = from_wheel(installed, empty, data_opts)
    where = "import latentmap, latentmap.web.common as c; latentmap.widget; print(latentmap.__file__, c.STATIC)"
    said = subprocess.run([sys.executable, "-c", where], cwd=empty, env=env, capture_output=True, text=True)
    package, static = said.stdout.split()
    assert Path(package).is_relative_to(installed) and Path(static).is_relative_to(installed), said.stderr
    assert {"explorer.html", "style.css"} <= {p.name for p in Path(static).iterdir()}
    script = installed / "bin" / "latentmap"  # the console script pip wrote
    helped = subprocess.run([sys.executable, str(script), "--help"], cwd=empty, env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "import-model" in helped.stdout and "explore" in helped.stdout
    assert ROOT.joinpath("src").as_posix() not in said.stdout + helped.stdout


def test_the_installed_copy_serves_the_explorer_page_and_its_files(installed, tmp_path, data_opts):
    import socket
    import time
    import urllib.request

    from tests.web_fixtures import make_embedding

    embedding = make_embedding(tmp_path / "made", data_opts, epochs=1, max_points=500)
    empty = tmp_path / "empty"
    empty.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [str(installed / "bin" / "latentmap"), "explore", str(embedding), "--no_browser", "--no_judge"]
    server = subprocess.Popen(
        [sys.executable, *args, "--port", str(port)], cwd=empty, env=from_wheel(installed, empty, data_opts),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline, page = time.monotonic() + 120, None
        while page is None:
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()  # type: ignore[union-attr]
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.5)
        assert "<script" in page and "/static/" in page
        for asset in ("/static/js/explorer.js", "/static/js/mapview.js", "/static/style.css", "/api/spaces"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{asset}", timeout=30) as answer:
                assert answer.status == 200 and answer.read(), asset
    finally:
        server.terminate()
        server.wait(timeout=30)
