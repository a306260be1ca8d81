"""Folder-of-images data sets: one sub-folder per class, the folder name is the label."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from data_science.digest import content_digest
from data_science.preprocessing import ImageInputError, normalise_digit

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}
# "digit_3", "03" and "3" all name the digit 3.
DIGIT_CLASS = re.compile(r"^(?:digit_?)?0*(\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class ImageFolderData:
    """Images normalised to MNIST conventions, their labels, and what could not be read."""

    images: np.ndarray  # uint8 (N, 28, 28), white on black
    labels: np.ndarray  # int64 (N,): the digit for digit classes, else the class index
    class_names: list[str]
    paths: list[Path]
    failures: list[tuple[Path, str]]  # (file, reason) for every file that was skipped

    @cached_property
    def digest(self) -> str:
        return content_digest(self.images, self.labels)


def class_labels(class_names: list[str]) -> dict[str, int]:
    """Digits keep their value (``digit_3`` -> 3); other names are numbered in sorted order."""
    digits = {name: DIGIT_CLASS.match(name) for name in class_names}
    if all(digits.values()) and len({m.group(1) for m in digits.values()}) == len(digits):
        return {name: int(match.group(1)) for name, match in digits.items()}
    return {name: index for index, name in enumerate(sorted(class_names))}


def load_image_folder(path: str | Path, progress: bool = True) -> ImageFolderData:
    """Read ``path/<class>/<image>`` into normalised 28x28 digits and labels.

    Files that cannot be decoded are listed in ``failures`` (and logged), never dropped
    silently; files that are not images by their suffix are ignored.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not class_dirs:
        raise ValueError(f"{root} has no class sub-folders (expected {root}/<class>/<image>)")
    labels_of = class_labels([d.name for d in class_dirs])
    files = [
        (f, labels_of[d.name])
        for d in class_dirs
        for f in sorted(d.iterdir())
        if f.suffix.lower() in IMAGE_SUFFIXES
    ]
    images, labels, paths, failures = [], [], [], []
    for file, label in tqdm(files, desc=f"reading {root.name}", unit="img", disable=not progress):
        try:
            with Image.open(file) as image:
                images.append(normalise_digit(np.asarray(image.convert("L"))))
        except (OSError, UnidentifiedImageError, ImageInputError) as err:
            failures.append((file, f"{type(err).__name__}: {err}"))
            continue
        labels.append(label)
        paths.append(file)
    if failures:
        log.warning("%s: %d of %d images could not be read", root, len(failures), len(files))
    return ImageFolderData(
        images=np.stack(images) if images else np.zeros((0, 28, 28), np.uint8),
        labels=np.asarray(labels, np.int64),
        class_names=sorted(labels_of, key=labels_of.get),
        paths=paths,
        failures=failures,
    )
