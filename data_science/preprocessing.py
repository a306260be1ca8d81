"""The one preprocessing function shared by training and serving.

``normalise_digit`` makes any digit image look the way MNIST was made: grayscale, white ink
on black, cropped to the ink, fitted into a 20x20 box keeping the aspect ratio and centred
by its centre of mass in a 28x28 field. Training passes every image through it and the
endpoint's score.py calls the same function, so the model never sees a different
preprocessing in production than in training (no train/serve skew).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIZE = 28
BOX = 20
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as PIL's convert("L")
INK_THRESHOLD = 0.1  # fraction of the peak ink value that still counts as ink for cropping
_PIXEL_INDEX = np.arange(SIZE)  # row and column numbers, for the centre of mass
# The vectorised path: from how many images it pays (it costs about 0.1 ms however few),
# and how many it takes at once (more spill out of the CPU caches and run slower).
VECTORISE_FROM = 8
CHUNK = 256


class ImageInputError(ValueError):
    """An input cannot be read as a digit image."""


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """A float32 2-D array on the 0-255 scale from a 2-D or HxWxC (gray/RGB/RGBA) array."""
    array = np.asarray(image)
    if array.dtype.kind not in "iuf":
        raise ImageInputError(f"pixels must be numbers, got dtype {array.dtype}")
    floats = array.dtype.kind == "f"
    if floats:
        array = array.astype(np.float64)  # scaled from 0-1 in double precision
    if array.ndim == 3:
        if array.shape[2] not in (1, 3, 4):
            raise ImageInputError(f"expected 1, 3 or 4 channels, got shape {array.shape}")
        array = array[..., 0] if array.shape[2] == 1 else array[..., :3] @ LUMA
    if array.ndim != 2 or min(array.shape) < 1:
        raise ImageInputError(f"expected a 2-D image (H, W) or (H, W, C), got shape {array.shape}")
    if floats and not np.isfinite(array).all():
        raise ImageInputError("pixels must be finite (no NaN or infinity)")
    lowest, highest = array.min(), array.max()
    if lowest < 0 or highest > 255:
        raise ImageInputError("pixels must lie in 0-255 (or 0-1 for floats)")
    if floats and highest <= 1.0:
        array = array * 255.0
    return array.astype(np.float32)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink as positive values over a zero background, whatever the input's polarity."""
    # The median of the border pixels; there are 2 * (H + W) of them, an even count.
    border = np.sort(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    middle = border.size // 2
    background = float((border[middle - 1] + border[middle]) / 2)
    return np.maximum(background - gray if background > 127.5 else gray - background, 0)


def _fit_in_box(ink: np.ndarray, peak: float) -> np.ndarray:
    """Crop to the ink and resize so the longer side is BOX pixels."""
    inked = ink > INK_THRESHOLD * peak
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    # A contiguous float32 copy: what Pillow reads, and laid out like Pillow's output.
    crop = np.ascontiguousarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], np.float32)
    if max(crop.shape) == BOX:  # already fits, as 9,996 of 10,000 MNIST test digits do
        return crop  # (a resize to the same size would return the same pixels)
    scale = BOX / max(crop.shape)
    height, width = (max(1, round(n * scale)) for n in crop.shape)
    image = Image.frombuffer("F", crop.shape[::-1], crop, "raw", "F", 0, 1)  # shares crop's memory
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    return np.maximum(np.asarray(resized), 0)


def _mass_centred_offset(box: np.ndarray) -> tuple[int, int]:
    """Where the box goes in a SIZE x SIZE field to put its centre of mass at the centre."""
    height, width = box.shape
    total = box.sum()
    cy = (box.sum(axis=1) @ _PIXEL_INDEX[:height]) / total
    cx = (box.sum(axis=0) @ _PIXEL_INDEX[:width]) / total
    centre = SIZE / 2  # where MNIST puts it: (14, 14) in pixel-index coordinates
    # Clip the offsets so that no ink leaves the field.
    top = min(max(round(centre - cy), 0), SIZE - height)
    left = min(max(round(centre - cx), 0), SIZE - width)
    return top, left


def normalise_digit(image: np.ndarray) -> np.ndarray:
    """One image (any size; gray, RGB or RGBA; either polarity) as a 28x28 uint8 MNIST digit.

    The ink is stretched so that its peak is 255. An image without ink comes back black.
    """
    ink = _ink(to_grayscale(image))
    peak = ink.max()
    if peak <= 0:
        return np.zeros((SIZE, SIZE), np.uint8)
    box = _fit_in_box(ink, peak)
    top, left = _mass_centred_offset(box)
    field = np.zeros((SIZE, SIZE), np.uint8)
    field[top : top + box.shape[0], left : left + box.shape[1]] = np.round(box * (255 / box.max()))
    return field


def normalise_digits(images, progress: bool = False) -> np.ndarray:
    """``normalise_digit`` over a batch: an (N, H, W[, C]) array or a list of images.

    A stack of eight or more same-size gray images with integer pixels (MNIST, a decoded
    request) is normalised in numpy all at once, image for image bit-identical to
    ``normalise_digit``; anything else goes image by image. An image that cannot be read
    raises ``ImageInputError`` naming its index in the batch.
    """
    if _is_integer_gray_stack(images):
        return np.concatenate(
            [
                _normalise_stack(images[start : start + CHUNK])
                for start in range(0, len(images), CHUNK)
            ]
        )
    if progress:
        from tqdm.auto import tqdm  # here: the endpoint, which never asks, does without it

        images = tqdm(images, desc="normalising", unit="img", leave=False)
    normalised = []
    for index, image in enumerate(images):
        try:
            normalised.append(normalise_digit(image))
        except ImageInputError as error:
            raise ImageInputError(f"image {index}: {error}") from None
    return np.stack(normalised) if normalised else np.zeros((0, SIZE, SIZE), np.uint8)


def _is_integer_gray_stack(images) -> bool:
    return (
        isinstance(images, np.ndarray)
        and images.ndim == 3
        and len(images) >= VECTORISE_FROM
        and images.dtype.kind in "iu"
        and images.size > 0
        and images.min() >= 0
        and images.max() <= 255
    )


def _normalise_stack(stack: np.ndarray) -> np.ndarray:
    """``normalise_digit`` for an (N, H, W) integer stack, vectorised over the images.

    With integer pixels the ink is a multiple of 0.5 and every sum below is exact in any
    order, so the centres of mass (and all else) equal the per-image path's to the bit.
    Images whose ink does not already fit the box (they need a resize) go image by image.
    """
    count, height, width = stack.shape
    gray = stack.astype(np.float32)
    border = np.sort(
        np.concatenate([gray[:, 0], gray[:, -1], gray[:, :, 0], gray[:, :, -1]], axis=1), axis=1
    )
    middle = border.shape[1] // 2
    background = ((border[:, middle - 1] + border[:, middle]) / 2)[:, None, None]
    ink = np.maximum(np.where(background > 127.5, background - gray, gray - background), 0)
    peak = ink.max(axis=(1, 2))
    inked = ink > (INK_THRESHOLD * peak)[:, None, None]
    top_row, box_height = _ink_span(inked.any(axis=2))
    left_col, box_width = _ink_span(inked.any(axis=1))
    fits = (peak > 0) & (np.maximum(box_height, box_width) == BOX)

    field = np.zeros((count, SIZE, SIZE), np.uint8)
    for index in np.flatnonzero((peak > 0) & ~fits):
        field[index] = normalise_digit(stack[index])
    if fits.any():
        box_rows = _span_mask(top_row[fits], box_height[fits], height)
        box_cols = _span_mask(left_col[fits], box_width[fits], width)
        box = ink[fits] * (box_rows[:, :, None] & box_cols[:, None, :])
        total = box.sum(axis=(1, 2), dtype=np.float64)
        cy = (box.sum(axis=2) @ np.arange(height) - total * top_row[fits]) / total
        cx = (box.sum(axis=1) @ np.arange(width) - total * left_col[fits]) / total
        top = np.clip(np.round(SIZE / 2 - cy).astype(int), 0, SIZE - box_height[fits])
        left = np.clip(np.round(SIZE / 2 - cx).astype(int), 0, SIZE - box_width[fits])
        rows, row_inside = _placed(top, top_row[fits], box_height[fits])
        cols, col_inside = _placed(left, left_col[fits], box_width[fits])
        pixels = box[np.arange(len(box))[:, None, None], rows[:, :, None], cols[:, None, :]]
        scaled = np.round(pixels * (255 / peak[fits])[:, None, None])
        field[fits] = np.where(row_inside[:, :, None] & col_inside[:, None, :], scaled, 0)
    return field


def _ink_span(inked_lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the first line with ink and the number of lines to the last one."""
    first = inked_lines.argmax(axis=1)
    last = inked_lines.shape[1] - 1 - inked_lines[:, ::-1].argmax(axis=1)
    return first, last - first + 1


def _span_mask(start: np.ndarray, length: np.ndarray, size: int) -> np.ndarray:
    index = np.arange(size)
    return (index >= start[:, None]) & (index < (start + length)[:, None])


def _placed(offset: np.ndarray, start: np.ndarray, length: np.ndarray):
    """For each field line, the source line it shows (clipped) and whether it is in the box."""
    line = np.arange(SIZE)[None, :] - offset[:, None]
    inside = (line >= 0) & (line < length[:, None])
    return np.clip(line, 0, length[:, None] - 1) + start[:, None], inside


def to_model_input(images, progress: bool = False) -> np.ndarray:
    """What the model eats: normalised digits as float32 (N, 28, 28, 1) on the 0-255 scale.

    Training, evaluation and the endpoint's score.py all call this one function.
    """
    return normalise_digits(images, progress)[..., None].astype(np.float32)
