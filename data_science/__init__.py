"""Phase 1 of the course: data sets, the model, training, evaluation, PDF image extraction."""

from data_science.digest import content_digest
from data_science.folders import ImageFolderData, load_image_folder
from data_science.mnist import DataUnavailableError, DigitData, load_mnist
from data_science.preprocessing import normalise_digit, normalise_digits

__all__ = [
    "DataUnavailableError",
    "DigitData",
    "ImageFolderData",
    "content_digest",
    "load_image_folder",
    "load_mnist",
    "normalise_digit",
    "normalise_digits",
]
