"""Export codes for TensorBoard's Embedding Projector: tensors and metadata TSV, a sprite
image within the projector's 8192 px limit, and the projector config (pbtxt for
TensorBoard, JSON for the standalone projector)."""

import io
import json
from pathlib import Path

import numpy as np

from ..atomic import ensure_writable_dir, write_text
from ..errors import LatentmapError
from ..images import save_png, tile

SPRITE_LIMIT = 8192


def sprite_layout(n: int, thumb: int = 28) -> tuple[int, int]:
    """(columns, thumbnail side) so that the square sprite fits in 8192 px."""
    columns = int(np.ceil(np.sqrt(n)))
    side = min(thumb, SPRITE_LIMIT // columns)
    if side < 4:
        raise LatentmapError(f"{n} images do not fit a readable 8192 px sprite: use --max_points")
    return columns, side


def export_projector(
    directory: str | Path,
    codes: np.ndarray,
    labels: np.ndarray,
    label_names: list[str],
    images: np.ndarray,
    typefaces: np.ndarray | None = None,
    name: str = "latentmap",
) -> Path:
    from PIL import Image

    directory = ensure_writable_dir(directory)
    out = io.StringIO()
    np.savetxt(out, codes, delimiter="\t", fmt="%.6g")
    write_text(directory / "tensors.tsv", out.getvalue())
    columns = ["label", "class"] + (["typeface"] if typefaces is not None else [])
    rows = ["\t".join(columns)]
    for i, label in enumerate(labels):
        fields = [str(int(label)), label_names[label].replace("\t", " ")]
        if typefaces is not None:
            fields.append(str(typefaces[i]))
        rows.append("\t".join(fields))
    write_text(directory / "metadata.tsv", "\n".join(rows) + "\n")
    ncols, side = sprite_layout(len(images))
    thumbs = images
    if side != images.shape[1]:
        thumbs = np.stack(
            [np.asarray(Image.fromarray(im).resize((side, side), Image.Resampling.BILINEAR)) for im in images]
        )
    sprite = tile(thumbs, ncols=ncols, gap=0)
    save_png(sprite, directory / "sprite.png")
    pbtxt = (
        "embeddings {\n"
        f'  tensor_name: "{name}"\n  tensor_path: "tensors.tsv"\n  metadata_path: "metadata.tsv"\n'
        f'  sprite {{\n    image_path: "sprite.png"\n    single_image_dim: {side}\n    single_image_dim: {side}\n  }}\n'
        "}\n"
    )
    write_text(directory / "projector_config.pbtxt", pbtxt)
    config = {
        "embeddings": [
            {
                "tensorName": name,
                "tensorShape": list(codes.shape),
                "tensorPath": "tensors.tsv",
                "metadataPath": "metadata.tsv",
                "sprite": {"imagePath": "sprite.png", "singleImageDim": [side, side]},
            }
        ]
    }
    write_text(directory / "projector_config.json", json.dumps(config, indent=2) + "\n")
    return directory
