"""A generated PDF corpus with known ground truth: the embedded default of notebook 02.

Each PDF is about one class and holds one to three images of it among lines of text, on one
to three pages: handwritten MNIST digits (label = the digit) or crops of a public-domain
photograph shipped with matplotlib (label ``other``; Grace Hopper, a US Navy photo). Images
come in varied sizes, positions and colour spaces (gray, RGB, CMYK, indexed, RGB with a soft
mask), and a few files are broken on purpose, one of each kind the extractor must report.
Everything follows from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pandas as pd
import pymupdf
from PIL import Image
from tqdm.auto import tqdm

from data_science.mnist import load_mnist
from data_science.pdf.extract import image_name

OTHER = "other"
CLASSES = [str(digit) for digit in range(10)] + [OTHER]
COLOUR_MODES = ("gray", "rgb", "cmyk", "indexed", "alpha")
BROKEN_KINDS = ("truncated", "not_a_pdf", "encrypted", "zero_pages", "huge_image")
HUGE_IMAGE = (6000, 4000)  # 24 M pixels: over the extractor's default max_pixels
LABELS_FILE = "labels.csv"
PDFS_FILE = "pdfs.csv"
PAGE_SIZES = ((595, 842), (612, 792), (420, 595))  # A4, US letter, A5
WORDS = [
    "invoice",
    "claim",
    "form",
    "reference",
    "customer",
    "date",
    "total",
    "page",
    "signed",
    "received",
    "notes",
]
INK_COLOURS = ((20, 20, 20), (10, 30, 120), (90, 20, 20))


@dataclass(frozen=True)
class Corpus:
    """Where the generated PDFs are and what is in them."""

    folder: Path
    pdfs: pd.DataFrame  # pdf, label, images, broken ("" or one of BROKEN_KINDS)
    labels: pd.DataFrame  # file, label: one row per labelled image

    @property
    def labels_file(self) -> Path:
        return self.folder / LABELS_FILE


@cache
def digits_by_class(data_source: str = "sample") -> list[np.ndarray]:
    """All MNIST digits of ``data_source`` (train and test), grouped by digit."""
    digits = load_mnist(data_source)
    images = np.concatenate([digits.x_train, digits.x_test])
    labels = np.concatenate([digits.y_train, digits.y_test])
    return [images[labels == digit] for digit in range(10)]


@cache
def photo() -> np.ndarray:
    """The public-domain photograph that ``other`` images are cropped from (RGB)."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        return np.asarray(Image.open(file).convert("RGB"))


def digit_image(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a scan would show it: dark ink on paper, scaled, with margins."""
    scale = int(rng.integers(1, 4))
    ink = np.kron(digit, np.ones((scale, scale), np.uint8))
    margins = rng.integers(0, 4 * scale, 4)
    ink = np.pad(ink, ((margins[0], margins[1]), (margins[2], margins[3])))
    return 255 - ink


def photo_crop(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = rng.integers(40, 200, 2)
    top = rng.integers(0, source.shape[0] - size[0])
    left = rng.integers(0, source.shape[1] - size[1])
    crop = source[top : top + size[0], left : left + size[1]]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def image_object(pixels: np.ndarray, mode: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """The PDF colour space and raw samples for ``pixels`` (gray or RGB) in ``mode``;
    ``alpha`` returns the RGB samples, its mask is made by ``alpha_mask``."""
    rgb = np.stack([pixels] * 3, axis=-1) if pixels.ndim == 2 else pixels
    if mode == "gray":
        gray = pixels if pixels.ndim == 2 else np.asarray(Image.fromarray(pixels).convert("L"))
        return "/DeviceGray", gray.tobytes()
    if mode == "cmyk":
        return "/DeviceCMYK", np.asarray(Image.fromarray(rgb).convert("CMYK")).tobytes()
    if mode == "indexed":
        quantised = Image.fromarray(rgb).quantize(colors=16)
        palette = bytes(quantised.getpalette()[: 3 * 16])
        return f"[/Indexed /DeviceRGB 15 <{palette.hex()}>]", np.asarray(quantised).tobytes()
    if mode == "alpha":  # solid ink colour; the shape is all in the soft mask
        colour = INK_COLOURS[rng.integers(len(INK_COLOURS))]
        return "/DeviceRGB", np.broadcast_to(np.uint8(colour), rgb.shape).tobytes()
    return "/DeviceRGB", rgb.tobytes()


def alpha_mask(pixels: np.ndarray) -> np.ndarray:
    """Opacity of an image drawn as ink only: dark pixels opaque, paper transparent."""
    gray = pixels if pixels.ndim == 2 else np.asarray(Image.fromarray(pixels).convert("L"))
    return 255 - gray


def add_image(doc: pymupdf.Document, pixels: np.ndarray, mode: str, rng) -> int:
    """Write ``pixels`` as an image XObject in colour space ``mode``; return its xref."""
    height, width = pixels.shape[:2]
    colorspace, samples = image_object(pixels, mode, rng)
    smask = ""
    if mode == "alpha":
        smask = f" /SMask {add_image(doc, alpha_mask(pixels), 'gray', rng)} 0 R"
    xref = doc.get_new_xref()
    doc.update_object(
        xref,
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace {colorspace} /BitsPerComponent 8{smask} >>",
    )
    doc.update_stream(xref, samples, new=True, compress=True)
    return xref


def write_text(page: pymupdf.Page, rng: np.random.Generator) -> None:
    lines = [
        f"{' '.join(rng.choice(WORDS, int(rng.integers(3, 9))))} {rng.integers(1000, 99999)}"
        for _ in range(int(rng.integers(2, 8)))
    ]
    page.insert_text((40, 60), "\n".join(lines), fontsize=10)


def place(page: pymupdf.Page, xref: int, size: tuple[int, int], rng) -> None:
    """Show the image at a random place and scale on the page."""
    height, width = size
    scale = rng.uniform(0.8, 2.0)
    w, h = min(width * scale, page.rect.width - 80), min(height * scale, page.rect.height - 260)
    x = rng.uniform(40, page.rect.width - 40 - w)
    y = rng.uniform(200, page.rect.height - 40 - h)
    page.insert_image(pymupdf.Rect(x, y, x + w, y + h), xref=xref, keep_proportion=True)


def make_pdf(images: list[np.ndarray], rng: np.random.Generator) -> pymupdf.Document:
    """A PDF of one to three pages of text holding ``images`` on random pages."""
    doc = pymupdf.open()
    width, height = PAGE_SIZES[rng.integers(len(PAGE_SIZES))]
    for _ in range(int(rng.integers(1, 4))):
        write_text(doc.new_page(width=width, height=height), rng)
    for pixels in images:
        mode = COLOUR_MODES[rng.integers(len(COLOUR_MODES))]
        xref = add_image(doc, pixels, mode, rng)
        place(doc[int(rng.integers(doc.page_count))], xref, pixels.shape[:2], rng)
    return doc


def zero_page_pdf() -> bytes:
    """A well-formed PDF with an empty page tree (MuPDF refuses to save one)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def broken_pdf(kind: str, good: pymupdf.Document) -> bytes:
    """The bytes of a broken file of ``kind``, made from a good PDF where one is needed."""
    if kind == "truncated":
        whole = good.tobytes()
        return whole[: len(whole) // 2]
    if kind == "not_a_pdf":
        return b"Quarterly report\nThis is plain text saved with a .pdf name.\n"
    if kind == "encrypted":
        return good.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user", owner_pw="o")
    if kind == "zero_pages":
        return zero_page_pdf()
    if kind == "huge_image":
        width, height = HUGE_IMAGE
        xref = good.get_new_xref()
        good.update_object(
            xref,
            f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
            "/ColorSpace /DeviceGray /BitsPerComponent 8 >>",
        )
        good.update_stream(xref, bytes(width * height), new=True, compress=True)
        good[-1].insert_image(pymupdf.Rect(40, 40, 100, 80), xref=xref)
        return good.tobytes()
    raise ValueError(f"unknown kind of broken PDF {kind!r}: use one of {BROKEN_KINDS}")


def image_names(pdf_bytes: bytes, pdf: str) -> list[str]:
    """The names the extractor gives the images of a (good) PDF."""
    with pymupdf.open(stream=pdf_bytes, filetype="pdf") as doc:
        return [
            image_name(pdf, page.number, index)
            for page in doc
            for index, _ in enumerate(page.get_images(full=True))
        ]


def broken_kinds(n_pdfs: int, n_broken_each: int, rng: np.random.Generator) -> dict[int, str]:
    """Which PDF numbers are broken, and how."""
    kinds = [kind for kind in BROKEN_KINDS for _ in range(n_broken_each)][:n_pdfs]
    return dict(zip(rng.choice(n_pdfs, len(kinds), replace=False).tolist(), kinds, strict=True))


def generate_corpus(
    out_dir: str | Path,
    n_pdfs: int = 1000,
    seed: int = 0,
    n_broken_each: int = 1,
    data_source: str = "sample",
    progress: bool = True,
) -> Corpus:
    """Write ``n_pdfs`` PDFs (``n_broken_each`` of each broken kind among them) to
    ``out_dir``, with ``labels.csv`` (file, label per image) and ``pdfs.csv`` (per PDF)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    by_digit, source = digits_by_class(data_source), photo()
    broken = broken_kinds(n_pdfs, n_broken_each, np.random.default_rng(seed))
    pdf_rows, label_rows = [], []
    for number in tqdm(range(n_pdfs), desc="generating PDFs", unit="pdf", disable=not progress):
        rng = np.random.default_rng([seed, number])
        label = CLASSES[rng.integers(len(CLASSES))]
        count = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        images = [
            photo_crop(source, rng)
            if label == OTHER
            else digit_image(by_digit[int(label)][rng.integers(len(by_digit[int(label)]))], rng)
            for _ in range(count)
        ]
        name = f"doc_{number:05d}.pdf"
        with make_pdf(images, rng) as doc:
            kind = broken.get(number, "")
            data = broken_pdf(kind, doc) if kind else doc.tobytes(garbage=1, deflate=True)
        (folder / name).write_bytes(data)
        labelled = [] if kind and kind != "huge_image" else image_names(data, name)
        if kind == "huge_image":
            labelled = labelled[:-1]  # the huge image cannot be extracted, so it has no label
        pdf_rows.append({"pdf": name, "label": label, "images": len(labelled), "broken": kind})
        label_rows += [{"file": f"{image}.png", "label": label} for image in labelled]
    corpus = Corpus(
        folder, pd.DataFrame(pdf_rows), pd.DataFrame(label_rows, columns=["file", "label"])
    )
    corpus.labels.to_csv(folder / LABELS_FILE, index=False)
    corpus.pdfs.to_csv(folder / PDFS_FILE, index=False)
    return corpus
