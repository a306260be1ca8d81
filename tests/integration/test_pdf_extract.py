"""Extraction from real PDFs made with PyMuPDF: pages, colour spaces and every bad input."""

import numpy as np
import pandas as pd
import pymupdf
import pytest

from data_science.pdf.__main__ import main
from data_science.pdf.corpus import add_image, broken_pdf, zero_page_pdf
from data_science.pdf.extract import ExtractOptions, extract_folder, extract_pdf, iter_extract

pytestmark = pytest.mark.integration
RNG = np.random.default_rng(0)
STROKE = np.full((20, 30), 255, np.uint8)
STROKE[5:15, 10:20] = 0  # a dark square on white paper


def pdf_with(path, pages: int, images_on: dict[int, list[str]]) -> None:
    """A PDF of ``pages`` text pages with images in the given colour modes on some pages."""
    with pymupdf.open() as doc:
        for number in range(pages):
            doc.new_page().insert_text((50, 50), f"page {number}")
        for number, modes in images_on.items():
            for slot, mode in enumerate(modes):
                xref = add_image(doc, STROKE, mode, RNG)
                doc[number].insert_image(
                    pymupdf.Rect(50, 100 + 60 * slot, 110, 140 + 60 * slot), xref=xref
                )
        doc.save(path)


def test_every_page_is_read_including_the_last(tmp_path):
    pdf_with(tmp_path / "report.pdf", 3, {0: ["gray"], 2: ["rgb", "gray"]})
    result = extract_pdf(tmp_path / "report.pdf")
    assert result.ok and result.pages == 3
    assert [i.name for i in result.images] == [
        "report_page0_index0",
        "report_page2_index0",
        "report_page2_index1",
    ]
    assert {(i.width, i.height) for i in result.images} == {(30, 20)}


@pytest.mark.parametrize(
    ("mode", "colorspace", "channels"),
    [("gray", "DeviceGray", 1), ("rgb", "DeviceRGB", 3), ("cmyk", "DeviceCMYK", 3),
     ("indexed", "Indexed", 3), ("alpha", "DeviceRGB", 4)],
)  # fmt: skip
def test_colour_spaces_decode_to_the_drawn_pixels(tmp_path, mode, colorspace, channels):
    pdf_with(tmp_path / "one.pdf", 1, {0: [mode]})
    (image,) = extract_pdf(tmp_path / "one.pdf").images
    assert image.colorspace == colorspace
    pixels = image.pixels
    assert pixels.dtype == np.uint8 and pixels.shape[:2] == (20, 30)
    assert (pixels.shape[2] if pixels.ndim == 3 else 1) == channels
    # Ink where the square is, paper elsewhere: by colour, or by opacity for the soft mask.
    shade = (
        pixels[..., 3]
        if mode == "alpha"
        else 255 - (pixels if pixels.ndim == 2 else pixels.mean(-1))
    )
    assert shade[10, 15] > 150 and shade[2, 2] < 40  # CMYK black shows as dark gray


def test_pages_without_images_are_rendered_when_asked(tmp_path):
    pdf_with(tmp_path / "text.pdf", 2, {})
    assert extract_pdf(tmp_path / "text.pdf").images == []
    rendered = extract_pdf(tmp_path / "text.pdf", ExtractOptions(render_pages_without_images=True))
    assert [i.name for i in rendered.images] == ["text_page0_index0", "text_page1_index0"]
    assert rendered.images[0].colorspace == "rendered" and rendered.images[0].pixels.ndim == 3


@pytest.fixture
def bad_folder(tmp_path):
    """One good PDF and one of each kind of bad input."""
    folder = tmp_path / "pdfs"
    folder.mkdir()
    pdf_with(folder / "good.pdf", 2, {1: ["gray"]})
    for kind in ("truncated", "not_a_pdf", "encrypted", "huge_image"):
        with pymupdf.open(folder / "good.pdf") as doc:
            (folder / f"{kind}.pdf").write_bytes(broken_pdf(kind, doc))
    (folder / "zero_pages.pdf").write_bytes(zero_page_pdf())
    (folder / "empty.pdf").write_bytes(b"")
    return folder


def test_bad_inputs_are_reported_and_the_run_goes_on(tmp_path, bad_folder):
    manifest = extract_folder(bad_folder, tmp_path / "out", workers=2, progress=False)
    failed = manifest[manifest["image"].isna()].set_index("pdf")["reason"]
    assert set(manifest["pdf"]) == {p.name for p in bad_folder.iterdir()}  # nothing lost
    assert "truncated" in failed["truncated.pdf"]
    assert "not a PDF" in failed["not_a_pdf.pdf"] and "not a PDF" in failed["empty.pdf"]
    assert "encrypted" in failed["encrypted.pdf"]
    assert "no pages" in failed["zero_pages.pdf"]
    assert not manifest["reason"].dropna().str.contains(str(tmp_path)).any()  # no temp paths
    huge = manifest[manifest["pdf"] == "huge_image.pdf"].set_index("image")
    assert huge.loc["huge_image_page1_index1", "status"] == "failed"
    assert "too large" in huge.loc["huge_image_page1_index1", "reason"]
    assert huge.loc["huge_image_page1_index0", "status"] == "ok"  # the rest of that PDF is kept
    ok = manifest[manifest["status"] == "ok"]
    assert sorted(ok["file"]) == sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    on_disk = pd.read_csv(tmp_path / "out" / "manifest.csv")
    assert len(on_disk) == len(manifest) and set(on_disk["status"]) == {"ok", "failed"}


def test_parallel_and_serial_extraction_agree_in_input_order(bad_folder):
    paths = sorted(bad_folder.iterdir())
    parallel = list(iter_extract(paths, workers=2, chunksize=1))
    serial = list(iter_extract(paths, workers=1))
    assert [r.pdf for r in parallel] == [p.name for p in paths]
    assert [(r.error, [i.name for i in r.images]) for r in parallel] == [
        (r.error, [i.name for i in r.images]) for r in serial
    ]


def test_extract_command_line(tmp_path, bad_folder, capsys):
    main(["extract", str(bad_folder), str(tmp_path / "out"), "--max-pixels", "100"])
    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv")
    assert "7 PDFs (5 failed)" in capsys.readouterr().out
    # With a 100-pixel limit even the good 30x20 image is too large: reported, not dropped.
    assert manifest.query("pdf == 'good.pdf'")["reason"].str.contains("too large").all()
