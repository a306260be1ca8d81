"""PDF images: extraction with PyMuPDF, a generated corpus, labels, a versioned data set,
training and batch classification. Command line: ``python -m data_science.pdf --help``."""

from data_science.pdf.extract import (
    ExtractOptions,
    PdfImage,
    PdfImages,
    extract_folder,
    extract_pdf,
    find_pdfs,
    iter_extract,
    render_page,
)
from data_science.pdf.labels import LabelSet, import_annotations, read_labels_csv

__all__ = [
    "ExtractOptions",
    "LabelSet",
    "PdfImage",
    "PdfImages",
    "extract_folder",
    "extract_pdf",
    "find_pdfs",
    "import_annotations",
    "iter_extract",
    "read_labels_csv",
    "render_page",
]
