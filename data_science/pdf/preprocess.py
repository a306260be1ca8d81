"""The named preprocessings a PDF classifier can be trained with; classification applies the
one recorded with the model, so training and serving never differ.

``digits``: the kit's MNIST-style normalisation (``to_model_input``), 28x28 gray.
``rgb64``: colour kept, resized to 64x64 RGB; for photos such as cats and dogs.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from data_science.preprocessing import to_model_input

RGB_SIZE = 64
PAPER = 255.0  # transparent pixels show the white page behind them


def flatten_alpha(image: np.ndarray) -> np.ndarray:
    """An RGBA image composited over white paper, as it shows on the page; others as they are."""
    if image.ndim != 3 or image.shape[2] != 4:
        return image
    alpha = image[..., 3:].astype(np.float32) / 255.0
    rgb = image[..., :3] * alpha + PAPER * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def to_rgb_input(images: list[np.ndarray]) -> np.ndarray:
    """float32 (N, 64, 64, 3) on the 0-255 scale."""
    resized = [
        np.asarray(Image.fromarray(image).convert("RGB").resize((RGB_SIZE, RGB_SIZE)))
        for image in images
    ]
    return np.stack(resized).astype(np.float32) if resized else np.zeros((0, 64, 64, 3), np.float32)


PREPROCESSINGS = {"digits": to_model_input, "rgb64": to_rgb_input}


def model_input(images: list[np.ndarray], preprocessing: str = "digits") -> np.ndarray:
    """Images as extracted from PDFs (gray, RGB or RGBA) as the model eats them."""
    if preprocessing not in PREPROCESSINGS:
        raise ValueError(
            f"unknown preprocessing {preprocessing!r}: use one of {list(PREPROCESSINGS)}"
        )
    return PREPROCESSINGS[preprocessing]([flatten_alpha(image) for image in images])
