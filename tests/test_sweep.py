"""`latentmap sweep`: grids of real (small) runs, reruns that train nothing, a killed sweep
that finishes on rerun, a broken run reported while the others complete, and Ray."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from latentmap.cli import main
from latentmap.cores import threads_per_process
from latentmap.errors import LatentmapError
from latentmap.quality.grid import expand, read_grid
from latentmap.quality.stats import Items
from latentmap.quality.sweep import SweepOptions, run_sweep, state_of, train_command

SMALL = "epochs = 1\nmax_train = 400\nlayers = [16]\nd_latent = 4\nbatch_size = 100\n"


def grid_file(folder: Path, body: str, common: str = SMALL) -> Path:
    path = folder / "grid.toml"
    path.write_text(f"[common]\n{common}\n{body}")
    return path


def code_norm(measured) -> Items:
    """A throwaway metric: how far each test image's code lies from the origin."""
    return Items("test_images", np.linalg.norm(measured.codes, axis=1).astype(np.float64))


@pytest.fixture
def code_norm_metric():
    """Registers :func:`code_norm` as a headline metric for one test, and forgets it after."""
    from latentmap.quality import metric_table

    views = [v for k, v in vars(metric_table).items() if k.isupper() and isinstance(v, list | set | dict)]
    saved = [(view, view.copy()) for view in views]
    metric_table.register_metric(
        metric_table.Metric("code_norm", "code norm", range=metric_table.UNBOUNDED, headline=True, compute=code_norm)
    )
    yield
    for view, copy in saved:
        view.clear()
        view.update(copy) if not isinstance(view, list) else view.extend(copy)


@pytest.fixture
def quick_judge(monkeypatch):
    from latentmap.quality import judge

    monkeypatch.setattr(judge, "SETTINGS", {**judge.SETTINGS, "epochs": 1, "max_train": 2000})


def options(grid: Path, out: Path, datasets_dir, session_cache, **extra) -> SweepOptions:
    """Sweep options for a test: its own judge alone unless it asks for the panel."""
    data = {"data_dir": str(datasets_dir), "cache_dir": str(session_cache)}
    return SweepOptions(grid=str(grid), out=str(out), pairs=20, progress=False, **{"judges": ("cnn",), **data, **extra})


def test_a_grid_expands_into_named_validated_runs(tmp_path):
    specs = expand(
        {
            "common": {"epochs": 2, "reg_lambda": 0.5},
            "grid": {"kind": ["dense", "vae"], "seed": [0, 1]},
            "runs": [{}, {"kind": "vae", "likelihood": "bernoulli"}],
        }
    )
    names = [s.name for s in specs]
    assert names == [
        "digits-dense-s0",
        "digits-dense-s1",
        "digits-vae-reg_lambda=0.5-s0",
        "digits-vae-reg_lambda=0.5-s1",
        "digits-vae-likelihood=bernoulli-reg_lambda=0.5-s0",
        "digits-vae-likelihood=bernoulli-reg_lambda=0.5-s1",
    ]
    assert "reg_lambda" not in specs[0].options  # a dense run has no KL weight
    assert specs[2].model == "digits-vae-reg_lambda=0.5" and len({s.directory for s in specs}) == 6
    changed = expand({"common": {"epochs": 3}, "grid": {"kind": ["dense"]}})[0]
    assert changed.name == "digits-dense-s0" and changed.directory != specs[0].directory  # new settings, new run
    cases = [
        ({"grid": {"kind": "vae"}}, "must be a non-empty list"),
        ({"common": {"epoch": 3}}, "unknown key(s) epoch"),
        ({"grid": {"kind": ["nope"]}}, "unknown model kind 'nope'"),
        ({"common": {"learn_rate": -1}}, "--learn_rate must be positive"),
        ({"extra": {}}, "unknown section(s) extra"),
    ]
    for grid, message in cases:
        with pytest.raises(LatentmapError, match=message.replace("(", r"\(").replace(")", r"\)")):
            expand(grid)
    (tmp_path / "bad.toml").write_text("[grid\nkind = 1")
    with pytest.raises(LatentmapError, match="not valid TOML"):
        read_grid(tmp_path / "bad.toml")


def test_a_sweep_trains_reports_and_a_rerun_trains_nothing(
    tmp_path, datasets_dir, session_cache, quick_judge, code_norm_metric
):
    """... and a metric registered by the user (code_norm, from this file) is measured by the
    sweep's worker processes, compared, reported and put in the answer's verdict."""
    grid = grid_file(tmp_path, '[grid]\nkind = ["dense", "vae"]\nseed = [0, 1]\n')
    out = tmp_path / "out"
    panel = ("cnn", "mlp")
    outcomes = run_sweep(options(grid, out, datasets_dir, session_cache, jobs=2, judges=panel), log=lambda *a: None)
    assert sorted(o.status for o in outcomes) == ["trained"] * 4
    for name in ("compare.json", "compare.md", "compare.png", "report.json", "report.md", "report.png"):
        assert (out / "digits" / name).is_file(), name
    report = json.loads((out / "digits" / "report.json").read_text())
    assert report["baseline"] == "digits-dense" and [m["seeds"] for m in report["models"]] == [[0, 1], [0, 1]]
    vae = report["models"][1]["versus_baseline"]["interpolation_validity"]
    assert vae["low"] <= vae["difference"] <= vae["high"] and vae["verdict"] in ("better", "worse", "tie", "split")
    assert 0 <= vae["p"] <= vae["q"] <= 1 and report["family"] >= 9 and report["fdr"] == 0.05
    assert list(report["panel"]) == ["cnn@1%", "cnn@5%", "cnn@20%", "mlp@1%", "mlp@5%", "mlp@20%"]
    assert set(vae["judges"]) == set(report["panel"]) and vae["judges"]["cnn@5%"] in ("better", "worse", "tie")
    agreed = len(set(vae["judges"].values())) == 1
    assert vae["verdict"] == (vae["judges"]["cnn@5%"] if agreed else "split")
    assert "## Verdict" in (out / "digits" / "report.md").read_text()
    from latentmap.quality.verdict import SAID, block

    lines = block([report])  # the manual's answer, generated from what the sweep wrote
    norm = report["models"][1]["versus_baseline"]["code_norm"]
    assert norm["verdict"] in ("better", "worse", "tie", "split") and "code_norm" in report["models"][0]["metrics"]
    assert any(b.startswith("- **code norm** — ") for b in lines)
    line = next(b for b in lines if b.startswith("- **interpolation validity**"))
    assert f"{SAID[vae['verdict']].capitalize()}: VAE, original loss" in line
    row = next(b for b in lines if b.startswith("| VAE, original loss |"))
    mean = report["models"][1]["metrics"]["interpolation_validity"]["mean"]
    assert row.split(" | ")[1].startswith(f"{mean:.3f} [")
    # The runs were measured in worker processes: with this process's sizes and judge.
    from latentmap import load_dataset
    from latentmap.quality.judge import judge_for
    from latentmap.quality.metrics import make_probe, measure
    from latentmap.train import load_run

    digits = load_dataset("digits", data_dir=datasets_dir, cache_dir=session_cache)
    run = load_run(sorted((out / "runs").glob("digits-vae-s1-*"))[0])
    direct, _ = measure(run, digits, judge_for(digits, session_cache, progress=False), make_probe(digits, 20, 0))
    compared = json.loads((out / "digits" / "compare.json").read_text())
    measured = next(r for r in compared["runs"] if r["name"] == run.path.name)["metrics"]
    assert measured == pytest.approx(direct, nan_ok=True)
    summary = json.loads((out / "sweep.json").read_text())
    assert [r["status"] for r in summary["runs"]] == ["trained"] * 4
    weights = sorted((out / "runs").glob("*/model.safetensors"))
    stamps = [p.stat().st_mtime_ns for p in weights]
    again = run_sweep(options(grid, out, datasets_dir, session_cache, jobs=2, judges=panel), log=lambda *a: None)
    assert [o.status for o in again] == ["complete"] * 4
    assert [p.stat().st_mtime_ns for p in weights] == stamps  # nothing retrained
    assert len(list((out / "runs").glob("*/quality/*.npz"))) == 4 * 2  # by each network once, nothing twice


def test_a_broken_run_is_reported_and_the_others_complete(tmp_path, datasets_dir, session_cache, quick_judge, capsys):
    grid = grid_file(tmp_path, '[grid]\nkind = ["dense"]\nseed = [0]\n[[runs]]\n[[runs]]\ndataset = "missing.json"\n')
    data = ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]
    assert main(["sweep", str(grid), "--out", str(tmp_path / "out"), "--pairs", "20", *data]) == 2
    captured = capsys.readouterr()
    assert "missing-dense-s0" in captured.out and "failed" in captured.out and "missing.json" in captured.out
    assert "1 run(s) failed" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert (tmp_path / "out" / "digits" / "report.md").is_file()  # the good run is still reported


def test_a_killed_sweep_finishes_on_rerun(tmp_path, datasets_dir, session_cache, quick_judge):
    common = SMALL.replace("epochs = 1", "epochs = 20")  # long enough to be killed at epoch 2
    grid = grid_file(tmp_path, '[grid]\nkind = ["dense"]\nseed = [0, 1]\n', common)
    out = tmp_path / "out"
    data = ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]
    command = [sys.executable, "-m", "latentmap", "sweep", str(grid), "--out", str(out), "--jobs", "2", *data]
    sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and sweep.poll() is None:
            checkpoints = list(out.glob("runs/*/checkpoint/state.json"))
            if checkpoints and json.loads(checkpoints[0].read_text())["epoch"] >= 2:
                break
            time.sleep(0.1)
        assert sweep.poll() is None, "the sweep ended before it could be killed"
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(30)
    finally:
        sweep.kill()
    time.sleep(1)  # the runs die with the sweep (PR_SET_PDEATHSIG)
    directories = sorted((out / "runs").iterdir())
    assert any(state_of(d) == "partial" for d in directories)
    # the training resumes; the report is the other tests' (it would only add its measuring)
    outcomes = run_sweep(options(grid, out, datasets_dir, session_cache, jobs=2, report=False), log=lambda *a: None)
    assert "resumed" in {o.status for o in outcomes} and "failed" not in {o.status for o in outcomes}
    for directory in directories:
        history = (directory / "history.csv").read_text().splitlines()[1:]
        assert [int(float(line.split(",")[0])) for line in history] == list(range(1, 21))


def test_the_same_grid_runs_on_a_local_ray_instance(tmp_path, datasets_dir, session_cache, quick_judge):
    if os.environ.get("LATENTMAP_REQUIRE_RAY"):
        import ray  # noqa: F401 - CI must have it
    else:
        pytest.importorskip("ray")
    grid = grid_file(tmp_path, '[grid]\nkind = ["dense", "vae"]\nseed = [0]\n')
    out = tmp_path / "out"
    outcomes = run_sweep(options(grid, out, datasets_dir, session_cache, ray="local"), log=lambda *a: None)
    assert sorted(o.status for o in outcomes) == ["trained", "trained"]
    assert (out / "digits" / "report.json").is_file()
    assert all(state_of(d) == "complete" for d in (out / "runs").iterdir())


def test_how_keys_are_accepted_without_changing_a_runs_identity(tmp_path):
    plain = expand({"grid": {"kind": ["dense"]}})
    how = expand({"common": {"no_plot": True, "no_tensorboard": True, "device": "cpu"}, "grid": {"kind": ["dense"]}})
    assert [s.directory for s in how] == [s.directory for s in plain]  # the same run, the same directory
    assert how[0].how == {"no_plot": True, "no_tensorboard": True, "device": "cpu"}
    command = train_command(how[0], tmp_path / "run", [], resume=False)
    assert "--no_tensorboard" in command and command[command.index("--device") + 1] == "cpu"
    assert "--no_tensorboard" in train_command(how[0], tmp_path / "run", [], resume=True)
    with pytest.raises(LatentmapError, match=r"device in \[grid\].*\[common\] or \[\[runs\]\]"):
        expand({"grid": {"device": ["cpu", "cuda"]}})


def test_runs_share_the_cores_unless_the_user_set_their_threads(monkeypatch):
    # Two sweeps on one machine each took all the cores: four threads on two cores, an
    # epoch 8 times slower. LATENTMAP_THREADS, when set, is each run's count.
    monkeypatch.delenv("LATENTMAP_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert [threads_per_process(jobs) for jobs in (1, 2, 4, 16)] == [8, 4, 2, 1]
    monkeypatch.setenv("LATENTMAP_THREADS", "1")
    assert threads_per_process(1) == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("LATENTMAP_THREADS", bad)
        with pytest.raises(LatentmapError, match="LATENTMAP_THREADS must be a positive whole number"):
            threads_per_process(1)


def test_ray_auto_without_a_cluster_is_one_line(tmp_path, datasets_dir, session_cache, capsys, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    grid = grid_file(tmp_path, '[grid]\nkind = ["dense"]\n')
    data = ["--data-dir", str(datasets_dir), "--cache-dir", str(session_cache)]
    assert main(["sweep", str(grid), "--out", str(tmp_path / "out"), "--ray", "auto", *data]) == 2
    err = capsys.readouterr().err
    assert "--ray local" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_published_grids_expand_as_their_comments_say():
    from latentmap.quality.grid import read_grid

    examples = Path(__file__).resolve().parents[1] / "examples"
    answer = read_grid(examples / "answer.toml")
    assert len(answer) == 75 and {int(spec.options["epochs"]) for spec in answer} == {20}  # conv nets too
    sizes = read_grid(examples / "latent_size.toml")
    assert len(sizes) == 75 and {spec.options["d_latent"] for spec in sizes} == {2, 8, 16, 32, 64}
    # d = 16 is trained with the answer's settings: the same run identity (hash), another name
    at_16 = {s.key for s in sizes if s.options["d_latent"] == 16}
    assert at_16 and at_16 <= {s.key for s in answer if s.dataset == "digits"}
    assert {spec.options["kind"] for spec in sizes} == {"dense", "vae", "rae", "wae"}
    five = read_grid(examples / "answer_digits.toml")
    assert len(five) == 55 and {spec.options["seed"] for spec in five} == {0, 1, 2, 3, 4}
    # seeds 0-2 are the answer grid's digits runs, MLP and conv: the same identities and names
    digits = {(s.key, s.directory) for s in answer if s.dataset == "digits"}
    assert {(s.key, s.directory) for s in five if s.options["seed"] < 3} == digits
    lengths = read_grid(examples / "training_length.toml")
    assert len(lengths) == 27 and {spec.options["epochs"] for spec in lengths} == {20, 100, 300}
    assert {spec.options["lr_schedule"] for spec in lengths} == {"cosine"}


def test_a_latent_size_grid_gets_each_metric_against_d():
    from io import BytesIO

    from PIL import Image

    from latentmap.quality.axis import axis_picture, families_over
    from latentmap.quality.report import HEADLINE, WORDS

    def row(kind: str, d: int, value: float) -> dict:
        summary = {"mean": value, "low": value - 0.01, "high": value + 0.01, "values": [value]}
        metrics = {m: (None if m.startswith("prior_") and kind == "dense" else summary) for m in HEADLINE}
        return {"model": f"digits-{kind}-d_latent={d}", "kind": kind, "d_latent": d, "metrics": metrics}

    rows = [row(kind, d, 0.5 + d / 100) for kind in ("dense", "vae") for d in (64, 2, 8)] + [row("rae", 16, 0.6)]
    families = families_over(rows, "d_latent")
    assert list(families) == ["digits-dense", "digits-vae"]  # rae has one size: no line
    assert [r["d_latent"] for r in families["digits-vae"]] == [2, 8, 64]
    picture = Image.open(
        BytesIO(axis_picture({"dataset": "digits", "models": rows}, "d_latent", {m: WORDS[m] for m in HEADLINE}))
    )
    assert picture.size[0] > 1000 and np.asarray(picture.convert("L")).std() > 10


def test_the_verdict_in_words_says_what_the_reports_say():
    from latentmap.errors import LatentmapError
    from latentmap.quality.verdict import verdict_bullets

    def report(dataset: str, calls: dict) -> dict:
        rows = [{"model": f"{dataset}-dense", "versus_baseline": None}]
        for model, (verdict, difference) in calls.items():
            result = {"verdict": verdict, "difference": difference, "low": 0, "high": 0, "p": 0.001, "q": 0.004}
            rows.append({"model": f"{dataset}-{model}", "versus_baseline": {"interpolation_validity": result}})
        return {"dataset": dataset, "baseline": f"{dataset}-dense", "models": rows}

    reports = [
        report("digits", {"vae": ("better", 0.033), "rae": ("tie", 0.002)}),
        report("fashion", {"vae": ("worse", -0.01), "rae": ("tie", 0.0)}),
    ]
    (bullet,) = verdict_bullets(reports)
    assert bullet == (
        "- **interpolation validity** — Better than the plain AE: VAE, original loss (digits +0.033, q 0.004). "
        "Worse: VAE, original loss (fashion -0.010, q 0.004). No significant difference: RAE (digits, fashion)."
    )
    # one dataset: the calls need not name it
    assert verdict_bullets(reports[:1]) == [
        "- **interpolation validity** — Better than the plain AE: VAE, original loss (+0.033, q 0.004). "
        "No significant difference: RAE."
    ]
    reports[1]["models"][2]["versus_baseline"]["interpolation_validity"] |= {
        "verdict": "split",
        "judges": {"cnn@5%": "tie", "mlp@5%": "better"},
    }
    assert "The judges disagree: RAE (fashion: cnn = · mlp ▲)" in verdict_bullets(reports)[0]
    reports[1]["models"][1]["versus_baseline"]["interpolation_validity"]["verdict"] = "better"
    assert (
        "Better than the plain AE: VAE, original loss (digits +0.033, q 0.004, fashion -0.010, q 0.004)"
        in verdict_bullets(reports)[0]
    )
    with pytest.raises(LatentmapError, match="no plain AE"):
        verdict_bullets([{"dataset": "x", "baseline": None, "models": []}])


def synthetic_report(dataset: str, models: dict[str, dict], sizes: dict[str, int] | None = None) -> dict:
    """A report.json as the sweep writes it: model -> {metric: (mean, verdict against the AE)}."""
    panel = {
        f"{net}@{q}%": {"net": net, "quantile": q / 100, "tau": 0.9, "accuracy": 0.99}
        for net in ("cnn", "mlp")
        for q in (1, 5, 20)
    }
    rows = []
    for model, metrics in models.items():
        row = {
            "model": f"{dataset}-{model}",
            "seeds": [0, 1, 2],
            "d_latent": (sizes or {}).get(model, 16),
            "metrics": {},
        }
        for metric, (mean, verdict) in metrics.items():
            row["metrics"][metric] = {"mean": mean, "low": mean - 0.01, "high": mean + 0.01, "values": [mean] * 3}
            if verdict:
                call = {"verdict": verdict, "difference": 0.02, "low": 0.01, "high": 0.03, "p": 0.001, "q": 0.003}
                row.setdefault("versus_baseline", {})[metric] = call
        rows.append(row)
    return {
        "dataset": dataset,
        "baseline": rows[0]["model"],
        "panel": panel,
        "judge": {"accuracy": 0.99},
        "models": rows,
    }


def test_the_answer_block_is_generated_and_written_between_its_markers(tmp_path, capsys):
    from latentmap.quality.verdict import TABLE, block, written_block

    report = synthetic_report(
        "digits",
        {
            "dense": {m: (0.5, None) for m in TABLE},
            "vae-likelihood=bernoulli": {**{m: (0.6, "tie") for m in TABLE}, "holes": (0.001, "worse")},
        },
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n<!-- answer: begin -->\n- an old sentence\n<!-- answer: end -->\n\nAfter.\n")
    assert main(["answer", str(path), "--write", str(readme)]) == 0
    text = readme.read_text()
    lines = written_block(text)
    assert lines == block([json.loads(path.read_text())])
    assert "| VAE, ELBO | 0.600 [0.590, 0.610] |" in "\n".join(lines) and "| 0.001 [-0.009, 0.011] ▼ |" in "\n".join(
        lines
    )
    assert "- **holes** — Worse: VAE, ELBO (+0.020, q 0.003)." in lines
    assert "a CNN (test accuracy 99.00% on digits) and a pixel MLP" in "\n".join(lines)
    assert "the 1st, 5th and 20th percentile" in "\n".join(lines)
    assert text.startswith("# Title\n\n<!-- answer: begin -->\n| digits |") and text.endswith("end -->\n\nAfter.\n")
    assert main(["answer", str(path), "--write", str(readme)]) == 0 and readme.read_text() == text  # the same again
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    capsys.readouterr()
    assert main(["answer", str(path), "--write", str(plain)]) == 2 and plain.read_text() == "no markers\n"
    assert "needs one '<!-- answer: begin -->' line" in capsys.readouterr().err
    assert main(["answer", str(path), "--write", str(readme), "--block", "sizes"]) == 2  # another block's markers
    assert "'<!-- sizes: begin -->'" in capsys.readouterr().err and readme.read_text() == text
    path.write_text("{not json")
    assert main(["answer", str(path)]) == 2 and "error:" in capsys.readouterr().err


def test_the_answer_picture_marks_the_confirmatory_call_and_hatches_a_contradiction(tmp_path):
    import numpy as np
    from PIL import Image

    from latentmap.quality.verdict_picture import cells

    report = synthetic_report(
        "digits",
        {
            "dense": {"interpolation_validity": (0.5, None), "holes": (0.01, None)},
            "vae": {"interpolation_validity": (0.6, "better"), "holes": (0.03, "worse")},
            "rae": {"interpolation_validity": (0.52, "tie"), "holes": (0.01, "tie")},
        },
    )
    report["confirmatory"] = "cnn@5%"
    vae = report["models"][1]["versus_baseline"]
    vae["interpolation_validity"]["judges"] = {"cnn@5%": "better", "mlp@20%": "worse", "mlp@5%": "tie"}
    rae = report["models"][2]["versus_baseline"]
    rae["holes"]["judges"] = {"cnn@5%": "tie", "cnn@20%": "better"}  # significant one way only: no contradiction
    labels, effects, marks, contradicted = cells(report, ("interpolation_validity", "holes"))
    assert labels == ["VAE, original loss", "RAE"] and marks == [["▲", "▼"], ["", ""]]
    assert contradicted.tolist() == [[True, False], [False, False]]
    # +0.02 with a 95% half-width of 0.01: z = 3.92, and a lower-is-better metric turns its sign
    np.testing.assert_allclose(effects[0], [3.92, -3.92])
    path, picture = tmp_path / "report.json", tmp_path / "verdict.png"
    path.write_text(json.dumps(report))
    assert main(["answer", str(path), "--picture", str(picture)]) == 0
    with Image.open(picture) as image:
        assert image.width > 400 and image.height > 200


# block of the manual's answer page -> the folder of its committed reports (a sweep's <out>/<dataset>/ copied whole)
PUBLISHED = {
    "answer": "docs/answer",
    "answer-digits": "docs/answer-digits",
    "latent-size": "docs/latent-size",
    "training-length": "docs/training-length",
}


def test_the_answer_page_says_what_the_committed_reports_say():
    from latentmap.quality.verdict import block, written_block

    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "sweeps.md").read_text()
    for name, folder in PUBLISHED.items():
        reports = [json.loads(p.read_text()) for p in sorted((root / folder).glob("*/report.json"))]
        assert reports, f"no {folder}/*/report.json committed"
        rerun = f"latentmap answer {folder}/*/report.json --write docs/sweeps.md --block {name}"
        assert written_block(page, name) == block(reports), f"docs/sweeps.md's {name} block is stale: {rerun}"
        assert f"]({Path(folder).name}/verdict.png)" in page, f"docs/sweeps.md does not show {folder}/verdict.png"


def test_a_change_along_the_axis_is_the_difference_of_differences_with_its_own_interval():
    from scipy import stats as scipy_stats

    from latentmap.quality.interaction import changes_along

    report = synthetic_report(
        "digits",
        {
            "dense": {"gmm_validity": (0.6, None)},
            "vae": {"gmm_validity": (0.6, "tie")},
            "v32": {"gmm_validity": (0.7, "better")},
        },
        sizes={"dense": 8, "vae": 8, "v32": 32},
    )
    vae, v32 = report["models"][1], report["models"][2]
    v32["model"] = "digits-vae-d_latent=32"
    vae["versus_baseline"]["gmm_validity"].update(difference=0.0, low=-0.02, high=0.02)
    v32["versus_baseline"]["gmm_validity"].update(difference=0.06, low=0.04, high=0.08)
    (change,) = changes_along(report, "d_latent", ("gmm_validity",))
    se = math.hypot(0.02, 0.02) / scipy_stats.norm.ppf(0.975)  # no df in the report: normal
    assert (change.start, change.end, change.better) == (8, 32, True)
    assert change.change == pytest.approx(0.06) and change.low == pytest.approx(0.06 - 1.959964 * se, rel=1e-4)
    assert change.p == pytest.approx(2 * scipy_stats.norm.sf(0.06 / se)) and change.q == pytest.approx(change.p)


def printed_values(reports: list[dict]) -> set[str]:
    """Every number the reports hold, as a reading may print it (0-3 decimals; q and p to two
    significant digits; thresholds to 4 decimals), without its sign; along an axis, the
    differences of differences too."""
    from latentmap.quality.interaction import changes_along
    from latentmap.quality.verdict import ALONG_SIZE, axis_of

    found: set[str] = set()

    def add(value, digits=(0, 1, 2, 3)) -> None:
        if isinstance(value, int | float):
            found.update(f"{abs(value):.{d}f}" for d in digits)

    for report in reports:
        axis = axis_of(report)
        for change in changes_along(report, axis, ALONG_SIZE) if axis else []:
            add(change.change)
            found.add(f"{change.q:.2g}")
        for judge in (report.get("panel") or {}).values():
            add(judge["tau"], (3, 4))
        for row in report["models"]:
            for summary in filter(None, row["metrics"].values()):
                for value in (summary["mean"], summary["low"], summary["high"], *summary["values"]):
                    add(value)
            for result in filter(None, (row.get("versus_baseline") or {}).values()):
                for value in (result["difference"], result["low"], result["high"]):
                    add(value)
                for judged in [result, *(result.get("panel_results") or {}).values()]:
                    add(judged.get("difference"))
                    found.update(f"{judged[k]:.2g}" for k in ("p", "q") if judged.get(k) is not None)
    return found


def test_every_number_in_the_answer_pages_readings_is_one_its_reports_hold():
    """The prose after each generated block is written by hand: each decimal or signed number
    in it must be one the block's reports hold (a mean, interval end, seed value, difference,
    p, q or threshold), so no reading quotes a number the reports do not say."""
    import re

    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "sweeps.md").read_text()
    for name, folder in PUBLISHED.items():
        reports = [json.loads(p.read_text()) for p in sorted((root / folder).glob("*/report.json"))]
        reading = re.split(r"^## |^!\[", page.rsplit(f"<!-- {name}: end -->", 1)[1], maxsplit=1, flags=re.M)[0]
        numbers = re.findall(r"(?<![\w.])[+\-−]?\d+\.\d+|(?<![\w.])[+\-−]\d+(?![\w.])", reading)
        assert len(numbers) >= 10, f"the {name} reading quotes almost no numbers: is it still there?"
        unknown = [n for n in numbers if n.lstrip("+-−") not in printed_values(reports)]
        assert not unknown, f"the {name} reading quotes numbers its reports do not hold: {unknown}"


def test_a_latent_size_report_gets_a_column_per_size():
    from latentmap.quality.verdict import block

    models = {}
    for d in (2, 8):
        models[f"dense-d_latent={d}"] = {"interpolation_validity": (0.3 * d / 2, None)}
        models[f"vae-d_latent={d}"] = {"interpolation_validity": (0.25 * d / 2, "worse" if d == 8 else "split")}
    sizes = {name: int(name.rsplit("=", 1)[1]) for name in models}
    lines = block([synthetic_report("digits", models, sizes)])
    table = lines[: lines.index("")]
    assert table == [
        "| digits: interp. validity | d = 2 | d = 8 |",
        "| --- | ---: | ---: |",
        "| AE | 0.300 [0.290, 0.310] | 1.200 [1.190, 1.210] |",
        "| VAE, original loss | 0.250 [0.240, 0.260] ≠ | 1.000 [0.990, 1.010] ▼ |",
    ]
    assert "better/worse than the plain AE of the same size" in "\n".join(lines)
    assert "Worse: VAE, original loss at d = 8 (+0.020, q 0.003)" in "\n".join(lines)


def test_models_are_named_for_what_they_are():
    from latentmap.quality.names import readable

    assert readable("digits-vae", "digits") == "VAE, original loss"
    assert readable("digits-vae-likelihood=bernoulli", "digits") == "VAE, ELBO"
    assert readable("vae-likelihood=bernoulli-reg_lambda=4") == "β-VAE (β 4)"
    assert readable("vae-reg_lambda=0.1") == "VAE, original loss (λ 0.1)"
    assert readable("fashion-dense-arch=conv", "fashion") == "conv AE"
    assert readable("digits-rae-d_latent=8", "digits") == "RAE at d = 8"
    assert readable("digits-vae-epochs=300-likelihood=bernoulli", "digits") == "VAE, ELBO after 300 epochs"
    assert readable("dense-learn_rate=1e-3-layers=512x128") == "AE, learn_rate 1e-3, layers 512x128"
    assert readable("mystery") == "mystery"


def test_the_mark_is_the_confirmatory_judges_and_only_an_opposite_call_contradicts_it():
    from latentmap.quality.compare import Comparison
    from latentmap.quality.grid import RunSpec
    from latentmap.quality.report import build, markdown
    from latentmap.quality.stats import Items

    rng = np.random.default_rng(0)
    pairs = 400
    metrics = ("interpolation_validity", "gmm_validity", "gaussian_validity", "smoothness")
    specs = [
        RunSpec(f"digits-{k}-s{s}", {"kind": k, "seed": s, "dataset": "digits"})
        for k in ("dense", "vae")
        for s in (0, 1, 2)
    ]

    def judged(shares: dict[str, float]) -> list[dict[str, Items]]:
        """Per run: per-pair values drawn around the model's share on each metric."""
        per_run = []
        for spec in specs:
            share = shares[spec.options["kind"]]
            per_run.append({m: Items("pairs", (rng.random(pairs) < share) * 1.0) for m in metrics})
        return per_run

    cnn = judged({"dense": 0.5, "vae": 0.7})
    mlp = judged({"dense": 0.7, "vae": 0.5})  # this judge sees interpolation the other way round ...
    tied = judged({"dense": 0.6, "vae": 0.6})
    for own, other, same in zip(cnn, mlp, tied, strict=True):
        other["gmm_validity"] = own["gmm_validity"]  # ... agrees on the GMM samples ...
        other["gaussian_validity"] = same["gaussian_validity"]  # ... and sees no gap in the Gaussian ones
    runs = [
        {"metrics": {m: float(items[m].compute()) for m in metrics}, "seed": 0, "sizes": {"pairs": pairs}}
        for items in cnn
    ]
    comparison = Comparison("digits", {"accuracy": 0.99, "tau": 0.98}, runs=runs, items=cnn)
    judges = {name: {"net": name[:3], "quantile": 0.05, "tau": 0.9, "accuracy": 0.99} for name in ("cnn@5%", "mlp@5%")}
    report = build(comparison, specs, {"cnn@5%": cnn, "mlp@5%": mlp}, judges)
    assert report["confirmatory"] == "cnn@5%"
    vae = report["models"][1]["versus_baseline"]
    assert vae["interpolation_validity"]["judges"] == {"cnn@5%": "better", "mlp@5%": "worse"}
    assert vae["interpolation_validity"]["verdict"] == "split" and vae["interpolation_validity"]["difference"] > 0.1
    assert vae["gmm_validity"]["verdict"] == "better" and vae["gmm_validity"]["agree"] == 2
    # a judge that sees no significant gap does not undo the confirmatory judge's mark
    gaussian = vae["gaussian_validity"]
    assert gaussian["judges"] == {"cnn@5%": "better", "mlp@5%": "tie"} and gaussian["verdict"] == "better"
    assert (gaussian["agree"], gaussian["of"]) == (1, 2)
    assert {"difference", "p", "q", "verdict"} <= gaussian["panel_results"]["mlp@5%"].keys()
    # smoothness is no judge's reading: its one verdict stands whatever a judge's items say
    assert "judges" not in vae["smoothness"] and vae["smoothness"]["verdict"] != "split"
    text = markdown(report)
    assert "panel of 2 judges" in text and "≠" in text and "| cnn ▲ · mlp ▼ (1 of 2 agree) |" in text
    assert "the judges disagree on interpolation validity" in report["verdict"][0]
    alone = build(comparison, specs)  # without a panel: the first judge's marks
    assert alone["models"][1]["versus_baseline"]["interpolation_validity"]["verdict"] == "better"


def test_each_model_is_judged_against_the_plain_ae_of_its_latent_size():
    from latentmap.quality.grid import RunSpec
    from latentmap.quality.report_models import baselines_of, models_of

    def spec(kind: str, d: int) -> RunSpec:
        return RunSpec(f"digits-{kind}-d_latent={d}-s0", {"kind": kind, "d_latent": d, "seed": 0, "dataset": "digits"})

    models = models_of([spec(kind, d) for d in (2, 8) for kind in ("vae", "dense")] + [spec("rae", 16)])
    chosen = {name: baseline.name for name, baseline in baselines_of(models).items()}
    assert chosen == {
        "digits-vae-d_latent=2": "digits-dense-d_latent=2",
        "digits-vae-d_latent=8": "digits-dense-d_latent=8",
        "digits-rae-d_latent=16": "digits-dense-d_latent=2",  # no AE of its size: the first one
    }
    assert baselines_of(models_of([spec("vae", 2)])) == {}
    # a grid along the training length: each model meets the AE trained as long, and a longer
    # AE meets the first one (what the training length alone changes, as for an architecture)
    long = [
        RunSpec(f"digits-{k}-epochs={e}-s0", {"kind": k, "epochs": e, "seed": 0})
        for e in (20, 300)
        for k in ("dense", "rae")
    ]
    chosen = {name: baseline.name for name, baseline in baselines_of(models_of(long)).items()}
    assert chosen == {
        "digits-rae-epochs=20": "digits-dense-epochs=20",
        "digits-rae-epochs=300": "digits-dense-epochs=300",
        "digits-dense-epochs=300": "digits-dense-epochs=20",
    }


def test_a_conv_model_is_judged_against_the_conv_ae_and_the_conv_ae_against_the_mlp_ae():
    from latentmap.quality.grid import RunSpec
    from latentmap.quality.report_models import baselines_of, models_of

    def spec(kind: str, arch: str | None = None) -> RunSpec:
        name = f"digits-{kind}" + (f"-arch={arch}" if arch else "")
        options = {"kind": kind, "d_latent": 16, "seed": 0, "dataset": "digits"} | ({"arch": arch} if arch else {})
        return RunSpec(f"{name}-s0", options)

    models = models_of([spec("dense"), spec("vae"), spec("dense", "conv"), spec("vae", "conv"), spec("wae", "conv")])
    chosen = {name: baseline.name for name, baseline in baselines_of(models).items()}
    assert chosen == {
        "digits-vae": "digits-dense",
        "digits-dense-arch=conv": "digits-dense",  # what the architecture alone changes
        "digits-vae-arch=conv": "digits-dense-arch=conv",
        "digits-wae-arch=conv": "digits-dense-arch=conv",
    }
    # without a conv AE, conv models fall back to the AE of their size
    alone = models_of([spec("dense"), spec("vae", "conv")])
    assert {n: b.name for n, b in baselines_of(alone).items()} == {"digits-vae-arch=conv": "digits-dense"}
