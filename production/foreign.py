"""Foreign handwritten digits: the inputs that drift into production.

Every source returns raw images (uint8, white ink on black, any size) and labels 0-9
(class N is the digit N in that script):
- ``devanagari``, the default: 3,000 real handwritten Devanagari digits shipped with the
  kit (``production/data``, CC BY 4.0; see the README there for source and citation);
- a published folder data set given by path (Devanagari ``Test/digit_N/*.png``, Japanese
  ``0N/*.png``), read with the data layer's folder loader;
- ``rendered-devanagari`` / ``rendered-latin``, generated offline: digits drawn from the
  Kalam handwriting font (installed with the kit), with random affine and elastic
  distortion and stroke-width variation, so no two are alike; the Western digits stand in
  for "the same glyphs in another hand" (benign drift, like the Japanese writers' digits).
Everything reaches the model through the endpoint's own preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import fontpkg_kalam
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from data_science.folders import load_image_folder

SCRIPTS = {"devanagari": "०१२३४५६७८९", "latin": "0123456789"}
CANVAS = 64
FONT_FILES = ("Kalam-Light.ttf", "Kalam-Regular.ttf", "Kalam-Bold.ttf")
EMBEDDED = {"devanagari": Path(__file__).parent / "data" / "devanagari_digits.npz"}


@dataclass(frozen=True)
class DigitSource:
    """Raw digit images with their labels and a name for plots and reports."""

    name: str
    images: np.ndarray  # uint8 (N, H, W), white ink on black
    labels: np.ndarray  # int64 (N,)
    failures: tuple[tuple[Path, str], ...] = ()  # (file, reason) for files that were skipped


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _elastic(image: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float):
    """Smoothly displace every pixel: the wobble of a hand, not of a printer."""
    shape = image.shape
    dy, dx = (ndimage.gaussian_filter(rng.uniform(-1, 1, shape), sigma) * alpha for _ in "yx")
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return ndimage.map_coordinates(image, [rows + dy, cols + dx], order=1, mode="constant")


def render_digit(glyph: str, rng: np.random.Generator, fonts: list[Path]) -> np.ndarray:
    """One digit glyph, drawn with random font weight, size, slant, rotation and wobble."""
    font = _font(fonts[rng.integers(len(fonts))], int(rng.integers(34, 48)))
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(canvas).text((CANVAS / 2, CANVAS / 2), glyph, fill=255, font=font, anchor="mm")
    shear = rng.uniform(-0.3, 0.3)
    canvas = canvas.transform(
        canvas.size, Image.Transform.AFFINE, (1, shear, -shear * CANVAS / 2, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )  # fmt: skip
    canvas = canvas.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    image = _elastic(np.asarray(canvas, np.float32), rng, alpha=rng.uniform(2, 5), sigma=4)
    if rng.random() < 0.3:  # a thicker pen
        image = ndimage.grey_dilation(image, size=(2, 2))
    return np.clip(image, 0, 255).astype(np.uint8)


def rendered_digits(script: str = "devanagari", count: int = 3000, seed: int = 0) -> DigitSource:
    """The embedded default: ``count`` handwriting-font digits of ``script``, balanced."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}: choose from {', '.join(SCRIPTS)}")
    rng = np.random.default_rng(seed)
    fonts = [Path(fontpkg_kalam.__file__).parent / "files" / name for name in FONT_FILES]
    labels = np.arange(count, dtype=np.int64) % 10
    rng.shuffle(labels)
    images = np.stack([render_digit(SCRIPTS[script][label], rng, fonts) for label in labels])
    return DigitSource(f"{script} (rendered)", images, labels)


def embedded_digits(script: str = "devanagari") -> DigitSource:
    """Real handwritten digits shipped with the kit (see ``production/data/README.md``)."""
    with np.load(EMBEDDED[script]) as arrays:
        return DigitSource(
            f"{script} (handwritten)", arrays["images"], arrays["labels"].astype(np.int64)
        )


def pack_folder(path: str | Path, out: str | Path) -> Path:
    """Store a folder data set as the compressed arrays ``embedded_digits`` reads."""
    source = folder_source(path)
    if source.failures:
        raise ValueError(
            f"{path}: {len(source.failures)} images could not be read, e.g. {source.failures[0]}"
        )
    np.savez_compressed(out, images=source.images, labels=source.labels.astype(np.uint8))
    return Path(out)


def load_source(source: str, count: int = 3000, seed: int = 0) -> DigitSource:
    """``devanagari`` (embedded, real handwriting), ``rendered-devanagari`` /
    ``rendered-latin`` (``count`` generated digits), or the path of a folder data set."""
    if source in EMBEDDED:
        return embedded_digits(source)
    if source.startswith("rendered-"):
        return rendered_digits(source.removeprefix("rendered-"), count, seed)
    return folder_source(source)


def split_labelled(
    source: DigitSource, budget: int, seed: int = 0
) -> tuple[DigitSource, DigitSource]:
    """A random ``budget`` of the source to label (for retraining), and the held-out rest."""
    if not 0 < budget < len(source.labels):
        raise ValueError(f"label budget {budget} must lie between 0 and {len(source.labels)}")
    order = np.random.default_rng(seed).permutation(len(source.labels))
    parts = order[:budget], order[budget:]
    return tuple(
        DigitSource(f"{source.name}, {kind}", source.images[part], source.labels[part])
        for kind, part in zip(("labelled", "held out"), parts, strict=True)
    )


def folder_source(path: str | Path, name: str | None = None) -> DigitSource:
    """A published folder data set; files that cannot be read are listed in ``failures``."""
    data = load_image_folder(path, progress=False)
    return DigitSource(name or Path(path).name, data.images, data.labels, tuple(data.failures))
