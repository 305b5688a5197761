"""The app commands end to end: demo (server start patched out), and one-line errors."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from latentmap.cli import demo, main
from latentmap.embed import load_embedding

REPO = Path(__file__).resolve().parents[1]


def test_demo_trains_embeds_and_opens_the_explorer(data_env, tmp_path, monkeypatch):
    served = {}
    monkeypatch.setattr(demo, "DEMO_POINTS", 3000)
    monkeypatch.setattr(
        demo,
        "explore",
        lambda embeddings, host, port, browser, **data: served.update(
            embeddings=embeddings, host=host, port=port, browser=browser
        ),
    )
    assert main(["demo", "--out", str(tmp_path / "demo"), "--epochs", "1", "--no_browser", "--port", "9999"]) == 0
    vae, ae = (Path(p) for p in served["embeddings"])
    assert (vae.name, ae.name) == ("digits-vae.embed-umap.npz", "digits-ae.embed-umap.npz")
    assert served["host"] == "127.0.0.1" and served["port"] == 9999 and served["browser"] is False
    assert load_embedding(vae).metadata["model_kind"] == "vae" and load_embedding(ae).metadata["model_kind"] == "dense"
    assert len(load_embedding(vae).xy) == 3000 and (vae.parent / "digits-vae.embed-umap.map.png").is_file()
    stamp = (tmp_path / "demo" / "digits-vae" / "model.safetensors").stat().st_mtime_ns
    assert main(["demo", "--out", str(tmp_path / "demo"), "--epochs", "1", "--no_browser"]) == 0  # reuses
    assert (tmp_path / "demo" / "digits-vae" / "model.safetensors").stat().st_mtime_ns == stamp


def one_line_error(args, message):
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_explorer_script_rejects_bad_files(data_env, tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    one_line_error([str(REPO / "explore_latent.py"), str(foreign), "--no_browser"], "not a latentmap embedding")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really")
    one_line_error([str(REPO / "explore_latent.py"), str(broken), "--no_browser"], "not a readable")
    one_line_error([str(REPO / "explore_latent.py"), "--no_browser"], "the following arguments are required")


def test_fonts_script_needs_typefaces(data_env):
    one_line_error([str(REPO / "cluster_fonts.py"), "--dataset", "digits", "--no_browser"], "has no typefaces")
    one_line_error([str(REPO / "cluster_fonts.py"), "--dataset", "nope", "--no_browser"], "unknown dataset")
