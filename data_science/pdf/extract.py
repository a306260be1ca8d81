"""Images out of PDFs with PyMuPDF, as pixel arrays, with every failure accounted for.

Every page of every PDF is read (none dropped). Embedded images are decoded through their
xrefs straight into numpy arrays, never re-encoded: CMYK and other colour spaces become
RGB, indexed colour is expanded, and a soft mask becomes an alpha channel. A PDF that
cannot be read (not a PDF, damaged or truncated, encrypted, without pages) and an image that
cannot be decoded (for instance one too large to decode sensibly) are reported with the
reason and skipped; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pymupdf
from PIL import Image
from tqdm.auto import tqdm

MAX_PIXELS = 20_000_000  # larger images are reported, not decoded (about 80 MB as RGBA)
RENDER_DPI = 72
PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # the header may follow a little junk, as readers allow
MANIFEST_FILE = "manifest.csv"

pymupdf.TOOLS.mupdf_display_errors(False)  # failures are reported in the manifest instead


class PdfError(Exception):
    """A PDF that cannot be read as a whole; the message is the reason."""


@dataclass(frozen=True)
class ExtractOptions:
    """How images are taken out of a PDF."""

    render_pages_without_images: bool = False  # render such pages as one image each
    render_dpi: int = RENDER_DPI
    max_pixels: int = MAX_PIXELS


@dataclass(frozen=True)
class PdfImage:
    """One image of one page: its stable name, where it came from and its pixels.

    ``pixels`` is uint8 (H, W) for gray or (H, W, 3|4) for RGB(A); ``error`` is set instead
    when the image could not be decoded. Later steps may swap the pixels for something
    derived from them (a model input) or drop them (``None``).
    """

    name: str  # {pdf_stem}_page{p}_index{i}
    page: int
    index: int
    width: int
    height: int
    colorspace: str  # as the PDF declares it, or "rendered"
    pixels: np.ndarray | None = None
    error: str | None = None


@dataclass(frozen=True)
class PdfImages:
    """Everything taken out of one PDF, or why nothing could be."""

    pdf: str  # file name
    pages: int = 0
    images: list[PdfImage] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


DEFAULT_OPTIONS = ExtractOptions()


def image_name(pdf: str | Path, page: int, index: int) -> str:
    return f"{Path(pdf).stem}_page{page}_index{index}"


def open_pdf(path: str | Path) -> pymupdf.Document:
    """Open a PDF for reading, or raise ``PdfError`` saying why it cannot be read."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            head = file.read(MAGIC_WINDOW)
    except OSError as err:
        raise PdfError(f"cannot read file: {err}") from err
    if PDF_MAGIC not in head:
        raise PdfError("not a PDF (no %PDF- header)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as err:
        # PyMuPDF's message names the file by its full path: the manifest names it already
        raise PdfError(f"corrupt PDF: {str(err).replace(str(path), path.name)}") from err
    problem = (
        "encrypted (needs a password)"
        if doc.needs_pass
        # A rebuilt cross-reference table means a damaged or truncated file: what is left
        # may silently miss pages or images, so the PDF is reported, not half-read.
        else "damaged or truncated PDF (its cross-reference table had to be rebuilt)"
        if doc.is_repaired
        else "the PDF has no pages"
        if doc.page_count == 0
        else None
    )
    if problem:
        doc.close()
        raise PdfError(problem)
    return doc


def decode_image(doc: pymupdf.Document, xref: int, smask: int) -> np.ndarray:
    """The pixels of image ``xref`` as uint8 gray, RGB or RGBA, without re-encoding."""
    pixmap = pymupdf.Pixmap(doc, xref)
    if pixmap.alpha:
        pixmap = pymupdf.Pixmap(pixmap, 0)  # drop alpha; a soft mask comes back below
    if pixmap.colorspace is None or pixmap.colorspace.n not in (1, 3):
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, pixmap)  # CMYK, Lab, ICC-based n=4 ...
    if smask:
        mask = pymupdf.Pixmap(doc, smask)
        # A mask of another size (rare) is not applied; the image itself is kept.
        if (mask.width, mask.height) == (pixmap.width, pixmap.height):
            if pixmap.n == 1:  # gray + mask becomes RGBA: downstream knows gray, RGB, RGBA
                pixmap = pymupdf.Pixmap(pymupdf.csRGB, pixmap)
            pixmap = pymupdf.Pixmap(pixmap, mask)
    return pixmap_array(pixmap)


def pixmap_array(pixmap: pymupdf.Pixmap) -> np.ndarray:
    rows = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.stride)
    array = rows[:, : pixmap.width * pixmap.n].reshape(pixmap.height, pixmap.width, pixmap.n)
    return array[..., 0] if pixmap.n == 1 else array


def page_images(
    doc: pymupdf.Document, pdf: str, page: pymupdf.Page, options: ExtractOptions
) -> list[PdfImage]:
    """Every embedded image of ``page`` (or the rendered page if it has none and
    the options ask for it)."""
    found = page.get_images(full=True)
    if not found and options.render_pages_without_images:
        pixmap = page.get_pixmap(dpi=options.render_dpi)
        pixels = pixmap_array(pixmap)
        name = image_name(pdf, page.number, 0)
        return [PdfImage(name, page.number, 0, pixmap.width, pixmap.height, "rendered", pixels)]
    images = []
    for index, (xref, smask, width, height, _, colorspace, *_) in enumerate(found):
        name = image_name(pdf, page.number, index)
        image = PdfImage(name, page.number, index, width, height, colorspace or "unknown")
        if width * height > options.max_pixels:
            reason = f"image too large: {width}x{height} pixels > max_pixels {options.max_pixels}"
            images.append(replace(image, error=reason))
            continue
        try:
            images.append(replace(image, pixels=decode_image(doc, xref, smask)))
        except (RuntimeError, ValueError) as err:
            images.append(replace(image, error=f"cannot decode image: {err}"))
    return images


def extract_pdf(path: str | Path, options: ExtractOptions = DEFAULT_OPTIONS) -> PdfImages:
    """All images of all pages of one PDF; never raises for a bad PDF, reports it."""
    path = Path(path)
    try:
        doc = open_pdf(path)
    except PdfError as err:
        return PdfImages(path.name, error=str(err))
    with doc:
        try:
            images = [image for page in doc for image in page_images(doc, path.name, page, options)]
        except (RuntimeError, ValueError) as err:
            return PdfImages(path.name, doc.page_count, error=f"cannot read page: {err}")
        return PdfImages(path.name, doc.page_count, images)


def render_page(path: str | Path, page: int = 0, dpi: int = 100) -> np.ndarray:
    """One page as an RGB array, to look at."""
    with open_pdf(path) as doc:
        return pixmap_array(doc[page].get_pixmap(dpi=dpi))


def find_pdfs(folder: str | Path) -> list[Path]:
    """The ``*.pdf`` files in ``folder`` (any case), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"PDF folder {folder} does not exist")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf" and p.is_file())


# Per-worker state of a pool: the options and what to do with each PDF's images.
_worker: dict = {}


def _init_worker(options: ExtractOptions, finish: Callable[[PdfImages], PdfImages]) -> None:
    _worker.update(options=options, finish=finish)


def _extract_and_finish(path: Path) -> PdfImages:
    return _worker["finish"](extract_pdf(path, _worker["options"]))


def drop_pixels(result: PdfImages) -> PdfImages:
    """Keep what was found, not the pixels (they stay in the worker)."""
    return replace(result, images=[replace(i, pixels=None) for i in result.images])


def iter_extract(
    paths: Iterable[str | Path],
    options: ExtractOptions = DEFAULT_OPTIONS,
    finish: Callable[[PdfImages], PdfImages] = drop_pixels,
    workers: int = 2,
    chunksize: int = 8,
) -> Iterator[PdfImages]:
    """Extract PDFs in ``workers`` processes and yield each one's result, in input order.

    ``finish`` runs in the worker on each PDF's result (write files, preprocess, or drop the
    pixels) so that only what the caller needs crosses between processes. It must be
    picklable: a module-level function or a ``functools.partial`` of one.
    """
    paths = [Path(p) for p in paths]
    if workers <= 1:
        yield from (finish(extract_pdf(path, options)) for path in paths)
        return
    # fork starts workers at once (spawn would re-import PyMuPDF and pandas, seconds each);
    # the workers never touch TensorFlow, which may be loaded in the parent.
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with context.Pool(workers, _init_worker, (options, finish)) as pool:
        yield from pool.imap(_extract_and_finish, paths, chunksize)


MANIFEST_COLUMNS = [
    "pdf", "image", "page", "index", "width", "height", "colorspace", "status", "reason", "file"
]  # fmt: skip


def manifest_rows(result: PdfImages) -> list[dict]:
    """One row per image (ok or failed); one row for a PDF that failed or holds no image,
    so that every PDF appears."""
    if not result.ok:
        return [{"pdf": result.pdf, "status": "failed", "reason": result.error}]
    if not result.images:
        return [{"pdf": result.pdf, "status": "ok", "reason": f"no images on {result.pages} pages"}]
    return [
        {
            "pdf": result.pdf,
            "image": image.name,
            "page": image.page,
            "index": image.index,
            "width": image.width,
            "height": image.height,
            "colorspace": image.colorspace,
            "status": "failed" if image.error else "ok",
            "reason": image.error,
            "file": None if image.error else f"{image.name}.png",
        }
        for image in result.images
    ]


def manifest_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    return frame.astype({"page": "Int64", "index": "Int64", "width": "Int64", "height": "Int64"})


def write_pngs(result: PdfImages, out_dir: Path) -> PdfImages:
    """Save every decoded image as ``<out_dir>/<name>.png`` (the extraction's product)."""
    for image in result.images:
        if image.pixels is not None:
            Image.fromarray(image.pixels).save(out_dir / f"{image.name}.png", compress_level=1)
    return drop_pixels(result)


def extract_folder(
    pdf_dir: str | Path,
    out_dir: str | Path,
    options: ExtractOptions = DEFAULT_OPTIONS,
    workers: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Extract every PDF of ``pdf_dir`` into PNGs in ``out_dir`` and write
    ``out_dir/manifest.csv``; return the manifest (see ``manifest_rows``)."""
    pdfs = find_pdfs(pdf_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = iter_extract(pdfs, options, partial(write_pngs, out_dir=out_dir), workers)
    rows = [
        row
        for result in tqdm(
            results, total=len(pdfs), desc="extracting", unit="pdf", disable=not progress
        )
        for row in manifest_rows(result)
    ]
    manifest = manifest_frame(rows)
    manifest.to_csv(out_dir / MANIFEST_FILE, index=False)
    return manifest
