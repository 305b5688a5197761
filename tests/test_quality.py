"""The judge and the latent-quality metrics on real data (MNIST slices)."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from latentmap.cli import main
from latentmap.errors import LatentmapError
from latentmap.quality.compare import compare_runs, markdown
from latentmap.quality.judge import JudgeError, data_hash, judge_for, judge_paths, read_judge, save_judge
from latentmap.quality.metrics import METRICS, Probe, make_probe, measure, smoothness_scores
from latentmap.quality.validity import class_confidence
from latentmap.train import train
from latentmap.train.run import load_run
from tests.test_training import quick_options

TRAINING = {"layers": [128], "d_latent": 16, "epochs": 4, "max_train": 20000}
FRACTIONS = {m for m in METRICS if not m.endswith(("_mse", "_fid")) and not m.startswith("smoothness")}


@pytest.fixture(scope="module")
def judge(digits, session_cache):
    """A judge trained on a slice; this module's `compare` and `evaluate` use it (the default
    judge settings are the quick ones here)."""
    from latentmap.quality import judge as judges

    default = judges.SETTINGS
    judges.SETTINGS = {**default, "epochs": 3, "max_train": 15000}
    yield judge_for(digits, session_cache, progress=False)
    judges.SETTINGS = default


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_opts):
    root = tmp_path_factory.mktemp("quality")
    return {
        name: load_run(train(quick_options(root / name, name, data_opts, **TRAINING), progress=False))
        for name in ("dense", "vae")
    }


def test_judge_accuracy_tau_and_outputs(judge, digits):
    assert judge.info["accuracy"] >= 0.97  # 15,000 images, 3 epochs; the full judge reaches 99.3%
    assert 0 < judge.tau < 1 and judge.info["confidence_quantiles"]["0.05"] == pytest.approx(judge.tau)
    confusion = np.array(judge.info["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    probs, features = judge.predict(digits.split("test").images[:100])
    assert probs.shape == (100, 10) and features.shape == (100, 128)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_real_images_are_valid_about_95_percent_by_construction(judge, digits):
    test = digits.split("test")
    probs, _ = judge.predict(test.images)
    assert judge.valid(probs).mean() == pytest.approx(0.95, abs=0.002)
    assert 0.9 < (class_confidence(judge, probs, test.labels[:, None]) >= judge.tau).mean() <= 0.95


def test_smoothness_is_zero_for_a_linear_pixel_morph():
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 28, 28)), rng.random((5, 28, 28))
    t = np.linspace(0, 1, 9)[None, :, None, None]
    linear = a[:, None] + t * (b - a)[:, None]
    np.testing.assert_allclose(smoothness_scores(linear), 0, atol=1e-12)
    jump = np.concatenate([np.repeat(a[:, None], 8, axis=1), b[:, None]], axis=1)  # all change in one step
    np.testing.assert_allclose(smoothness_scores(jump), 1 - 1 / 8)


def test_every_metric_in_range_and_deterministic(runs, digits, judge):
    first = compare_runs(list(runs.values()), digits, judge, pairs=60, seed=3, log=lambda *a: None)
    again = compare_runs(list(runs.values()), digits, judge, pairs=60, seed=3, log=lambda *a: None)
    assert json.dumps(first.to_json()) == json.dumps(again.to_json())
    for entry in first.runs:
        metrics = entry["metrics"]
        # the prior N(0, I) only for the VAE; a fitted Gaussian and the mixture for both
        prior = {name for name in METRICS if name.startswith("prior_")}
        assert set(metrics) == (set(METRICS) if entry["kind"] == "vae" else set(METRICS) - prior)
        for name in FRACTIONS & set(metrics):
            assert 0 <= metrics[name] <= 1, name
        assert 0 <= metrics["smoothness"] <= metrics["smoothness_p90"] <= 1 - 1 / 8
        assert metrics["gaussian_fid"] >= 0 and metrics["reconstruction_mse"] < 0.1
        assert entry["sizes"]["pairs"] == 60 and entry["seed"] == 3 and entry["d_latent"] == 16
        for name in metrics:  # every value inside its own 95% interval
            low, high = entry["ci"][name]
            assert low - 1e-9 <= metrics[name] <= high + 1e-9, name
    assert first.runs[0]["prior"] is None and first.runs[1]["prior"] == "N(0, I)"
    assert "| prior_validity | n/a |" in markdown(first)
    other = compare_runs([runs["dense"]], digits, judge, pairs=60, seed=4, log=lambda *a: None)
    assert other.runs[0]["metrics"] != first.runs[0]["metrics"]


def test_a_random_decoder_scores_far_below_a_trained_one(runs, digits, judge):
    trained = runs["dense"]
    broken = load_run(trained.path)
    torch.manual_seed(0)
    for name, parameter in broken.model.named_parameters():
        if name.startswith("decoder"):
            torch.nn.init.normal_(parameter, std=0.3)
    probe = make_probe(digits, 100, seed=0)
    good, _ = measure(trained, digits, judge, probe)
    bad, _ = measure(broken, digits, judge, probe)
    assert bad["interpolation_validity"] < good["interpolation_validity"] - 0.3
    assert bad["interpolation_precision"] < good["interpolation_precision"] - 0.3
    assert bad["reconstruction_accuracy"] < 0.3 < good["reconstruction_accuracy"]


def test_no_holes_when_paths_only_visit_train_codes(runs, digits, judge):
    train_rows = np.nonzero(~digits.is_test)[0][:400]
    as_test = digits.subset(train_rows)
    same = np.stack([np.arange(100), np.arange(100)], axis=1)  # each path stays on one train code
    realism = np.stack([np.arange(300), np.arange(300)], axis=1)
    probe = Probe(as_test, train_rows, same, 50, np.array([[0, 1, 2]]), np.arange(300), 0, realism, np.full(300, 0.5))
    metrics, details = measure(runs["dense"], digits, judge, probe)
    assert metrics["holes"] == 0 and details["holes_threshold"] > 0


# --------------------------------------------------------------------------- commands


def cli_data(data_opts):
    return ["--data-dir", data_opts["data_dir"], "--cache-dir", data_opts["cache_dir"]]


def test_compare_command_writes_json_md_png(runs, judge, data_opts, tmp_path, capsys):
    import matplotlib

    from latentmap.quality.axis import axis_picture

    out = tmp_path / "cmp"
    args = ["compare", str(runs["dense"].path), str(runs["vae"].path), "--pairs", "50", "--out", str(out)]
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a notebook's backend, say: drawing pictures must not switch it
    try:
        assert main([*args, *cli_data(data_opts)]) == 0
        docs = Path(__file__).resolve().parents[1] / "docs"
        report = json.loads((docs / "latent-size" / "digits" / "report.json").read_text())
        assert axis_picture(report, "d_latent", {"interpolation_validity": "v"})[:4] == b"\x89PNG"
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    result = json.loads((out / "compare.json").read_text())
    assert result["dataset"] == "digits" and result["judge"]["tau"] == pytest.approx(judge.tau)
    assert [r["kind"] for r in result["runs"]] == ["dense", "vae"] and result["runs"][0]["d_latent"] == 16
    assert "| interpolation_validity |" in (out / "compare.md").read_text()
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "| metric |" in capsys.readouterr().out
    assert main(["judge", "info", "digits", *cli_data(data_opts)]) == 0
    assert "tau" in capsys.readouterr().out


def test_compare_bad_input(runs, judge, data_opts, tmp_path, capsys):
    fashion_run = train(
        quick_options(tmp_path / "fashion", "dense", data_opts, dataset="fashion", epochs=1), progress=False
    )
    cases = [
        ([str(runs["dense"].path), str(fashion_run)], "different datasets"),
        ([str(tmp_path)], "not a run"),
        ([str(runs["dense"].path), "--pairs", "0"], "--pairs must be at least 2"),
        ([str(runs["dense"].path), "--out", "/proc/forbidden"], "cannot create directory"),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        args = ["compare", *extra] + ([] if "--out" in extra else ["--out", str(out)])
        assert main([*args, *cli_data(data_opts)]) == 2, extra
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not (out / "compare.json").exists()
    no_weights = tmp_path / "no-weights"
    shutil.copytree(runs["dense"].path, no_weights)
    os.remove(no_weights / "model.safetensors")
    assert main(["compare", str(no_weights), "--out", str(tmp_path / "o"), *cli_data(data_opts)]) == 2
    assert "model.safetensors" in capsys.readouterr().err


def test_corrupt_or_foreign_judge_files(digits, judge, tmp_path):
    from latentmap.quality import judge as judges

    weights, info = judge_paths("digits", judges.judge_key(digits, judges.SETTINGS), tmp_path)
    save_judge(judge, weights, info)
    assert read_judge(weights, info, data_hash(digits)).tau == judge.tau
    with pytest.raises(JudgeError, match="other data"):
        read_judge(weights, info, "0" * 16)
    weights.write_bytes(b"garbage")
    with pytest.raises(JudgeError, match="corrupt"):
        judge_for(digits, tmp_path)
    info.write_text("{not json")
    with pytest.raises(JudgeError, match="corrupt"):
        judge_for(digits, tmp_path)


def test_frechet_distance_matches_the_closed_form():
    from latentmap.quality.stats import FrechetReference

    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (20000, 3))
    b = rng.normal(2, 2, (20000, 3))  # means 2 apart per dim, sd 2: FID = 3*4 + 3*(1 + 4 - 2*2) = 15
    assert FrechetReference(a).distance(b) == pytest.approx(15, rel=0.03)
    assert FrechetReference(a).distance(a) == pytest.approx(0, abs=1e-9)


# --------------------------------------------------------------------------- intervals and defects found in review


def test_bootstrap_intervals_cover_the_true_value_at_their_nominal_rate():
    from latentmap.quality.stats import Items, bootstrap_interval

    rng = np.random.default_rng(0)
    hits = 0
    for trial in range(200):
        values = (rng.random(400) < 0.3).astype(float)  # true share 0.3
        low, high = bootstrap_interval(Items(f"trial{trial}", values))
        hits += low <= 0.3 <= high
    assert 0.90 <= hits / 200 <= 0.985


def shared_pair_trial(
    rng, delta: float, shared: float = 0.5, seed_sd: float = 0.005, pairs: int = 300, noise: float = 0.1
):
    """Two models, 3 matched seeds, every seed measured on the same pairs: per pair a
    difficulty both share, a model-by-pair effect every seed of model A shares (noise that
    does not average out over seeds), a per-seed training effect, and per-(seed, pair) noise."""
    from latentmap.quality.stats import Items

    difficulty, effect = rng.normal(0, 1, pairs), rng.normal(0, shared, pairs)

    def seed_values(shift):
        return Items("pairs", difficulty + shift + rng.normal(0, seed_sd) + rng.normal(0, noise, pairs))

    return [seed_values(delta + effect) for _ in range(3)], [seed_values(0.0) for _ in range(3)]


@pytest.mark.parametrize(
    "shared, seed_sd, noise",
    [(0.5, 0.005, 0.1), (0.1, 0.03, 0.1), (0.02, 0.002, 0.5)],
    ids=["pair-noise", "seed-noise", "seed-pair-noise"],
)
def test_the_seed_and_pair_interval_covers_at_its_nominal_rate(shared, seed_sd, noise, monkeypatch):
    """The true difference is delta on average over new pairs and new seeds; the interval
    holds it 95% of the time (within 2%) whether the pairs' noise (shared by the seeds, so it
    does not shrink with their number), the seeds' or the per-(seed, pair) noise dominates
    (the last counted once: in the seeds' spread, not again in the bootstrap). As in a report,
    the seed spread is pooled over the comparisons of the metric (eight here)."""
    from latentmap.quality import stats

    monkeypatch.setattr(stats, "N_BOOT", 400)  # replicates per interval: plenty for a standard error
    rng = np.random.default_rng(3)
    trials, hits, old_hits, doubled_hits = 400, 0, 0, 0
    for trial in range(trials):
        comparisons = [shared_pair_trial(rng, 0.1, shared, seed_sd, noise=noise) for _ in range(8)]
        pooled = stats.pooled_spread([stats.per_seed_differences(x, y) for x, y in comparisons])
        a, b = comparisons[0]
        spread = stats.moderated(stats.own_spread(stats.per_seed_differences(a, b)), pooled)
        found = stats.matched_difference(a, b, seed=trial, spread=spread)
        hits += found.low <= 0.1 <= found.high
        if noise > 0.3:  # the previous rule: its own spread plus the whole bootstrap variance
            per_seed = stats.per_seed_differences(a, b)
            replicated = np.stack([x.resampled(trial) - y.resampled(trial) for x, y in zip(a, b, strict=True)])
            variance = np.var(per_seed, ddof=1) / 3 + np.var(replicated.mean(axis=0), ddof=1)
            doubled_hits += abs(per_seed.mean() - 0.1) <= 1.96 * np.sqrt(variance)
        if shared < 0.3:
            continue
        # the old rule: per-seed bootstrap half-widths averaged and divided by sqrt(seeds),
        # added in quadrature to the t-interval over the per-seed differences
        per_seed = [stats.paired_difference(x, y, trial) for x, y in zip(a, b, strict=True)]
        half = np.mean([(high - low) / 2 for _, low, high in per_seed]) / np.sqrt(3)
        spread_half = np.std([d for d, _, _ in per_seed], ddof=1) / np.sqrt(3) * 4.303
        old_hits += abs(found.value - 0.1) <= np.hypot(half, spread_half)
    assert 0.93 <= hits / trials <= 0.97, hits / trials
    if shared > 0.3:
        assert old_hits / trials < 0.9  # what the corrected interval fixes
    if noise > 0.3:
        assert doubled_hits / trials > 0.975  # the per-(seed, pair) noise counted twice: too wide


def test_seed_spreads_pool_over_models_unless_one_is_far_larger():
    from latentmap.quality.stats import moderated, outlying_seeds, own_spread, pooled_spread

    rng = np.random.default_rng(0)
    groups = [rng.normal(k, 0.01, 3) for k in range(12)]  # twelve models, three seeds each
    pooled = pooled_spread(groups)
    assert pooled is not None and pooled.df == 24 and 0.3e-4 < pooled.variance < 3e-4
    typical = own_spread(groups[0])
    assert moderated(typical, pooled) == pooled  # 24 degrees of freedom instead of 2
    acai = np.array([0.644, 0.787, 0.830])  # ACAI's seeds on numeric: seed 0's critic collapsed
    failed = own_spread(acai)
    assert moderated(failed, pooled) == failed  # a failed seed keeps its model's own spread
    assert outlying_seeds(acai, pooled) == [0] and outlying_seeds(groups[3], pooled) == []  # and is reported
    # and stays out of the others' pool, which it would widen a hundredfold
    assert pooled_spread([*groups, acai]) == pooled
    assert pooled_spread([*groups, rng.normal(0.7, 0.01, 3)]).df == 26  # a typical one joins


def test_false_discoveries_are_controlled_over_a_report_family():
    from latentmap.quality import stats

    rng = np.random.default_rng(4)
    nulls = [stats.matched_difference(*shared_pair_trial(rng, 0.0), seed=k).p for k in range(60)]
    real = [stats.matched_difference(*shared_pair_trial(rng, 0.2), seed=k).p for k in range(6)]
    q = stats.false_discoveries(nulls + real)
    assert all(0 <= p <= 1 for p in nulls + real) and all(qk >= pk for qk, pk in zip(q, nulls + real, strict=True))
    assert sum(v < 0.05 for v in q[:60]) <= 3 and all(v < 0.05 for v in q[60:])
    raw = sum(p < 0.05 for p in nulls)
    assert sum(v < 0.05 for v in q[:60]) <= raw  # BH never marks more than the raw tests
    assert np.isnan(stats.false_discoveries([float("nan"), 0.01])[0])


def test_cached_measurements_are_keyed_by_sample_sizes_and_code_version(runs, digits, judge, monkeypatch):
    from latentmap.quality import metrics
    from latentmap.quality.compare import measurement_path

    run, probe = runs["vae"], metrics.make_probe(digits, 20)
    first = measurement_path(run, judge, probe, "linear")
    assert measurement_path(run, judge, probe, "linear") == first
    monkeypatch.setattr(metrics, "REAL_SAMPLES", metrics.REAL_SAMPLES + 1)
    second = measurement_path(run, judge, probe, "linear")
    monkeypatch.setattr(metrics, "MEASURE_VERSION", metrics.MEASURE_VERSION + 1)
    assert len({first, second, measurement_path(run, judge, probe, "linear")}) == 3


# The metrics a threshold changes (every other one is the same at every tau).
TAU_METRICS = (
    "interpolation_validity",
    "interpolation_validity_same_class",
    "interpolation_validity_cross_class",
    "interpolation_worst",
    "extrapolation_validity_10",
    "extrapolation_validity_50",
    "gaussian_validity",
    "gmm_validity",
    "prior_validity",
    "analogy_accuracy",
)


def test_one_measurement_serves_every_tau_and_equals_measuring_at_it(runs, digits, judge, tmp_path):
    from latentmap.quality.compare import measure_cached

    run = load_run(shutil.copytree(runs["vae"].path, tmp_path / "vae", ignore=shutil.ignore_patterns("quality")))
    probe = make_probe(digits, 40)
    by_tau = [measure_cached(run, digits, judge.at(q), probe) for q in (0.01, 0.05, 0.2)]
    assert len(list((run.path / "quality").glob("*.npz"))) == 1  # one file for the three thresholds
    kept, computed = by_tau[1][1]["items"]["gmm_fid"], by_tau[0][1]["items"]["gmm_fid"]
    assert list(kept.replicated) == [(probe.seed, 100)]  # read with FID's replicates: a report refits nothing
    np.testing.assert_array_equal(kept.replicated[(probe.seed, 100)], computed.resampled(probe.seed))
    assert kept.value is not None and kept.value == computed.compute()  # and with its value: no FID refit
    strict, usual, lenient = (metrics for metrics, _ in reversed(by_tau))
    for name in METRICS:
        if name in TAU_METRICS:  # a higher tau can only turn valid decodes invalid
            assert strict[name] <= usual[name] <= lenient[name], name
        else:
            assert strict[name] == usual[name] == lenient[name], name
    assert lenient["interpolation_validity"] > strict["interpolation_validity"]
    direct, details = measure(run, digits, judge.at(0.2), probe)
    assert direct == pytest.approx(strict, abs=1e-12) and details["tau"] == by_tau[2][1]["tau"]
    for name, interval in details["ci"].items():  # the kept intervals are the ones computed afresh
        assert interval == pytest.approx(by_tau[2][1]["ci"][name]), name
    assert (details["strip_valid"][:3] == by_tau[2][1]["strip_valid"][:3]).all()


def test_a_runs_replicates_are_computed_once_per_seed_and_count(monkeypatch):
    from latentmap.quality import stats

    rng = np.random.default_rng(5)
    fid = stats.Items("samples", rng.random((300, 8)), "fid", reference=rng.random((300, 8)))
    first = fid.resampled(0)
    assert fid.resampled(0) is first and len(first) == stats.N_BOOT_SETWISE  # a report asks many times
    assert not np.array_equal(fid.resampled(1), first)
    monkeypatch.setattr(stats, "N_BOOT_SETWISE", stats.N_BOOT_SETWISE + 10)
    assert len(fid.resampled(0)) == len(first) + 10  # another count is other replicates


def test_reported_bounds_never_round_to_zero():
    from latentmap.quality.report import signed

    assert signed(-0.00042) == "-0.00042" and signed(0.0123) == "+0.012" and signed(0.0) == "+0.000"


def test_paired_differences_see_a_small_real_gap_and_call_noise_a_tie():
    from latentmap.quality.stats import Items, paired_difference, verdict

    rng = np.random.default_rng(1)
    base = rng.random(1000)  # per-pair difficulty, shared by both models
    a = Items("pairs", (base < 0.50).astype(float))
    b = Items("pairs", (base < 0.53).astype(float))  # valid on 3% more pairs, the same pairs
    difference, low, high = paired_difference(b, a)
    assert difference == pytest.approx(0.03, abs=0.005) and low > 0 and verdict(low, high, False) == "better"
    noise = Items("pairs", (rng.random(1000) < 0.5).astype(float))
    other = Items("pairs", (rng.random(1000) < 0.5).astype(float))
    assert verdict(*paired_difference(noise, other)[1:], lower_is_better=False) == "tie"


def test_exact_precision_recall_matches_a_brute_force_count():
    from latentmap.quality.metrics import covered

    rng = np.random.default_rng(2)
    real = rng.normal(size=(120, 5))
    fake = np.concatenate([rng.normal(size=(90, 5)), rng.normal(6, 0.1, size=(3, 5))])  # a far outlier clump
    real[0] = 6.0  # one real outlier: its 3-NN ball is huge and covers the clump

    def brute(points, support, k=3):
        d = np.linalg.norm(support[:, None] - support[None], axis=2)
        radii = np.sort(d, axis=1)[:, k]  # the k-th neighbour (index 0 is the point itself)
        to_support = np.linalg.norm(points[:, None] - support[None], axis=2)
        return (to_support <= radii[None]).any(axis=1)

    np.testing.assert_array_equal(covered(fake, real), brute(fake, real))
    np.testing.assert_array_equal(covered(real, fake), brute(real, fake))
    assert covered(fake, real)[-3:].all()  # only the outlier's ball reaches the clump


def test_odd_pairs_write_no_nan_and_split_correctly(runs, digits, judge, data_opts, tmp_path, capsys):
    probe = make_probe(digits, 3, seed=0)
    assert probe.n_same == 2 and len(probe.pairs) == 3
    labels = probe.test.labels
    same = labels[probe.pairs[:, 0]] == labels[probe.pairs[:, 1]]
    assert same.tolist() == [True, True, False]
    out = tmp_path / "odd"
    args = ["compare", str(runs["dense"].path), "--pairs", "3", "--out", str(out), *cli_data(data_opts)]
    assert main(args) == 0
    text = (out / "compare.json").read_text()
    assert "NaN" not in text and json.loads(text)["runs"][0]["sizes"]["cross_class_pairs"] == 1
    assert main([*args[:2], "--pairs", "1", *args[4:]]) == 2
    assert "--pairs must be at least 2" in capsys.readouterr().err


def test_the_realism_set_has_the_same_size_whatever_the_pairs(runs, digits, judge):
    sizes = [measure(runs["vae"], digits, judge, make_probe(digits, n, seed=0))[1]["sizes"] for n in (10, 200)]
    from latentmap.quality.metrics import REAL_SAMPLES

    assert sizes[0]["realism_samples"] == sizes[1]["realism_samples"] == sizes[0]["real_images"] == REAL_SAMPLES


def test_a_quick_judge_is_never_the_one_compare_uses(digits, data_opts, tmp_path, capsys):
    from latentmap.quality import judge as judges

    cache = ["--data-dir", data_opts["data_dir"], "--cache-dir", str(tmp_path)]
    assert main(["judge", "train", "digits", "--epochs", "1", "--max_train", "500", *cache]) == 0
    assert "compare, evaluate and the explorer use the default one" in capsys.readouterr().out
    with pytest.raises(JudgeError, match="no judge for digits yet"):
        judges.judge_for(digits, tmp_path, train_if_missing=False)
    quick = judges.judge_for(digits, tmp_path, train_if_missing=False, epochs=1, max_train=500)
    assert quick.info["settings"] == {**judges.SETTINGS, "epochs": 1, "max_train": 500}


def test_intervals_over_typefaces_resample_whole_families():
    """20 families x 10 near-identical styles hold 20 independent values, not 200: the family
    bootstrap's interval is about sqrt(10) times the one that treats styles as independent."""
    from latentmap.quality.stats import Items, bootstrap_interval, paired_difference

    rng = np.random.default_rng(0)
    groups = np.repeat([f"family {k}" for k in range(20)], 10)
    values = rng.normal(0, 1, 20).repeat(10) + rng.normal(0, 0.01, 200)
    plain = bootstrap_interval(Items("typefaces", values), 0)
    grouped = bootstrap_interval(Items("typefaces", values, groups=groups), 0)
    assert 2.5 < (grouped[1] - grouped[0]) / (plain[1] - plain[0]) < 4.0
    assert grouped[0] < values.mean() < grouped[1]
    shifted = Items("typefaces", values + 0.5, groups=groups)
    difference, low, high = paired_difference(shifted, Items("typefaces", values, groups=groups), 0)
    assert difference == pytest.approx(0.5) and low == pytest.approx(0.5) and high == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unpaired"):
        paired_difference(shifted, Items("typefaces", values), 0)


def test_a_pixel_mlp_is_a_second_judge_of_another_kind(digits, tmp_path, monkeypatch):
    import hashlib

    from latentmap.quality import judge as judges
    from latentmap.quality.judge_nets import PixelJudgeNet

    quick = {"epochs": 2, "max_train": 10000}
    monkeypatch.setenv("LATENTMAP_THREADS", "abc")  # judge training follows the one thread rule...
    with pytest.raises(LatentmapError, match="LATENTMAP_THREADS"):
        judges.judge_for(digits, tmp_path, progress=False, net="mlp", **quick)
    monkeypatch.setenv("LATENTMAP_THREADS", "1")
    threads = torch.get_num_threads()
    mlp = judges.judge_for(digits, tmp_path, progress=False, net="mlp", **quick)
    assert torch.get_num_threads() == threads  # ...and leaves the caller's thread count as it was
    assert isinstance(mlp.net, PixelJudgeNet) and mlp.info["settings"]["net"] == "mlp"
    probs, features = mlp.predict(digits.split("test").images[:300])
    assert features.shape == (300, 128) and (probs.argmax(axis=1) == digits.split("test").labels[:300]).mean() > 0.9
    again = judges.judge_for(digits, tmp_path, train_if_missing=False, net="mlp", **quick)  # read from the cache
    assert isinstance(again.net, PixelJudgeNet) and again.fingerprint == mlp.fingerprint
    # the CNN keeps the name it had before judges had a network setting; the MLP gets its own
    cnn = judges.judge_settings(**quick)
    named = {k: v for k, v in cnn.items() if k != "net"}
    old = hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:8]
    assert judges.judge_key(digits, cnn).endswith(old)
    assert judges.judge_key(digits, cnn) != judges.judge_key(digits, judges.judge_settings(net="mlp", **quick))
    # tau at other quantiles of the confidence on real images: stricter or more lenient
    assert mlp.at(0.01).tau <= mlp.tau <= mlp.at(0.2).tau and mlp.at(0.05).tau == mlp.tau
    with pytest.raises(JudgeError, match="keeps the quantiles"):
        mlp.at(0.3)
    with pytest.raises(LatentmapError, match="unknown judge network"):
        judges.judge_settings(net="resnet")


def test_every_published_compare_json_has_its_intervals_and_sizes():
    """The README says every compare.json carries `ci` and `sizes`: the committed ones too."""
    from pathlib import Path

    published = sorted((Path(__file__).resolve().parents[1] / "docs").rglob("compare.json"))
    assert published, "no compare.json under docs/"
    for path in published:
        for run in json.loads(path.read_text())["runs"]:
            assert run["sizes"]["pairs"] > 0 and set(run["ci"]) == set(run["metrics"]), (path, run["name"])
            assert all(low is None or low <= high for low, high in run["ci"].values()), (path, run["name"])
