"""TensorBoard event files of a run (``<run>/tensorboard/``): losses and their terms per
epoch, the KL weight, and each stage's figures as images, so that ``tensorboard --logdir
DIR`` shows the runs under DIR (a sweep's, say) side by side."""

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

NOT_SCALARS = {"epoch", "stage"}


def board_installed() -> bool:
    """Whether the ``tensorboard`` package (the [tensorboard] extra) is there to write events."""
    return importlib.util.find_spec("tensorboard") is not None


class Board:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writer: Any = None
        self.purge_step: int | None = None

    def resume_at(self, epoch: int) -> None:
        """Events after ``epoch`` (from an attempt that was stopped) are dropped on the next write."""
        self.purge_step = epoch + 1 if epoch else None

    def open(self) -> Any:
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.directory), purge_step=self.purge_step)
        return self.writer

    def epoch(self, row: dict[str, float]) -> None:
        writer, step = self.open(), int(row["epoch"])
        for name, value in row.items():
            if name not in NOT_SCALARS:
                split, _, term = name.partition("_")
                writer.add_scalar(f"{split}/{term}" if split in ("train", "test") else name, value, step)
        writer.flush()

    def figures(self, paths: list[Path], epoch: int) -> None:
        from PIL import Image

        writer = self.open()
        for path in paths:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"))
            writer.add_image(f"figures/{path.stem.split('-', 2)[-1]}", pixels, epoch, dataformats="HWC")
        writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
