"""2D embeddings of 70,000 MNIST codes (d_latent 16), side by side in one run.

Targets on the 2-core machine: t-SNE under 60 s with the 10-NN accuracy in 2D within 1
point of default openTSNE (ratios to default openTSNE and to scikit-learn's TSNE printed);
UMAP under 45 s after numba warm-up and no minutes of JIT in a fresh process (plain
umap-learn printed beside it); the 4096 px map of 70k images in under 5 s.

    python bench/bench_embed.py [--run RUN] [--skip-sklearn]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from latentmap import load_dataset, load_run
from latentmap.embedding import EmbedParams, knn_accuracy, project
from latentmap.maps import render_map
from latentmap.training import TrainOptions, train

FRESH_UMAP = """
import sys, time, numpy as np
t = time.perf_counter()
from latentmap.embedding import EmbedParams, project
codes = np.load(sys.argv[1])
project(codes, "umap", EmbedParams())
print(time.perf_counter() - t)
"""


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a run trained on digits with d_latent 16 (default: train one, 5 epochs)")
    parser.add_argument("--skip-sklearn", action="store_true", help="skip scikit-learn's TSNE (slow)")
    parser.add_argument("--skip-tsne", action="store_true", help="skip t-SNE altogether")
    args = parser.parse_args()
    digits = load_dataset("digits")
    with tempfile.TemporaryDirectory() as tmp:
        run_path = args.run or train(
            TrainOptions(kind="dense", epochs=5, out=f"{tmp}/run", no_plot=True), progress=False
        )
        codes = load_run(run_path).encode(digits.images)
        labels = digits.labels
        sample = np.random.default_rng(0).choice(len(codes), 5000, replace=False)

        def knn(xy):
            return knn_accuracy(xy[sample], labels[sample])

        print(f"{len(codes):,} codes of {codes.shape[1]} dims; 10-NN accuracy in the latent space {knn(codes):.4f}")

        if not args.skip_tsne:
            from openTSNE import TSNE

            default, default_s = timed(
                lambda: np.asarray(TSNE(n_jobs=-1, random_state=0).fit(codes.astype(np.float64)))
            )
            (ours, ours_s) = project(codes, "tsne", EmbedParams())
            print(
                f"t-SNE  ours {ours_s:6.1f} s  10-NN {knn(ours):.4f} | default openTSNE {default_s:6.1f} s  "
                f"10-NN {knn(default):.4f} | speed-up {default_s / ours_s:.2f}x  {'ok' if ours_s < 60 else 'SLOW'}"
            )
            if not args.skip_sklearn:
                from sklearn.manifold import TSNE as SkTSNE

                sk, sk_s = timed(lambda: SkTSNE(init="pca", random_state=0, n_jobs=-1).fit_transform(codes))
                print(f"t-SNE  scikit-learn {sk_s:6.1f} s  10-NN {knn(sk):.4f} | ours is {sk_s / ours_s:.1f}x faster")

        np.save(f"{tmp}/codes.npy", codes)
        fresh = subprocess.run([sys.executable, "-c", FRESH_UMAP, f"{tmp}/codes.npy"], capture_output=True, text=True)
        fresh_s = float(fresh.stdout.strip().splitlines()[-1])
        import umap

        # warm-up on > 4096 points (below that umap uses exact neighbours, not NN-descent)
        project(codes[:5000], "umap", EmbedParams())
        umap.UMAP().fit_transform(codes[:5000])
        (umap_xy, warm_s) = project(codes, "umap", EmbedParams())
        _, plain_s = timed(lambda: umap.UMAP().fit_transform(codes))
        print(
            f"UMAP   ours {warm_s:6.1f} s warm, {fresh_s:.1f} s in a fresh process (import + JIT + fit) | "
            f"plain umap-learn {plain_s:.1f} s warm | ratio {plain_s / warm_s:.2f}x  10-NN {knn(umap_xy):.4f}  "
            f"{'ok' if warm_s < 45 else 'SLOW'}"
        )

        picture, render_s = timed(lambda: render_map(umap_xy, digits.images, labels, digits.label_names, size=4096))
        print(f"map    4096 px, {len(codes):,} images rendered in {render_s:.2f} s  {'ok' if render_s < 5 else 'SLOW'}")
        _, save_s = timed(lambda: picture.save(Path(tmp) / "map.png"))
        print(f"       PNG written in {save_s:.2f} s")


if __name__ == "__main__":
    main()
