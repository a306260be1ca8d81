"""Plots of data, training and evaluation. Each returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from data_science.evaluate import Evaluation


def image_grid(images: np.ndarray, titles: list[str], columns: int = 8, title: str = ""):
    """Images in a grid, one title each."""
    rows = max(1, int(np.ceil(len(images) / columns)))
    size = (1.4 * columns, 1.8 * rows + 0.4)  # room for each title above its image
    fig, axes = plt.subplots(rows, columns, figsize=size, squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, titles, strict=False):
        ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=255)
        ax.set_title(caption, fontsize=9)
    fig.suptitle(title)
    return fig


def plot_samples(images: np.ndarray, labels: np.ndarray, count: int = 32, seed: int = 0):
    """A random sample of digits with their labels."""
    picks = np.random.default_rng(seed).choice(len(images), min(count, len(images)), False)
    return image_grid(images[picks], [f"label {labels[i]}" for i in picks], title="Samples")


def plot_class_balance(y_train: np.ndarray, y_test: np.ndarray):
    """Examples per class in the training and test sets."""
    counts = pd.DataFrame(
        {"train": np.bincount(y_train, minlength=10), "test": np.bincount(y_test, minlength=10)}
    )
    ax = counts.plot.bar(figsize=(8, 3), rot=0, title="Examples per class")
    ax.set_xlabel("digit")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")  # beside the bars, not on them
    ax.figure.tight_layout()
    return ax.figure


def plot_learning_curves(history: pd.DataFrame):
    """Loss and accuracy per epoch, training against validation."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        columns = [c for c in (metric, f"val_{metric}") if c in history]
        history[columns].plot(ax=ax, marker="o", title=metric)
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return fig


def plot_confusion_matrix(evaluation: Evaluation):
    """Counts of true class (rows) against predicted class (columns); errors stand out."""
    matrix = evaluation.confusion
    fig, ax = plt.subplots(figsize=(6, 5))
    off_diagonal = matrix - np.diag(np.diag(matrix))
    image = ax.imshow(off_diagonal, cmap="Reds")
    ticks = range(len(evaluation.class_names))
    ax.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true")
    ax.set_xticklabels(evaluation.class_names)
    ax.set_yticklabels(evaluation.class_names)
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, count, ha="center", va="center", fontsize=7)
    ax.set_title(f"Confusion matrix (accuracy {evaluation.accuracy:.2%}); colour = errors")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def plot_worst_errors(evaluation: Evaluation, images: np.ndarray, count: int = 16):
    """The misclassified images the model was most sure about."""
    worst = evaluation.worst_errors(count)
    names = evaluation.class_names
    titles = [
        f"{names[evaluation.labels[i]]}→{names[evaluation.predictions[i]]} "
        f"{evaluation.probabilities[i].max():.0%}"
        for i in worst
    ]
    return image_grid(images[worst], titles, title="Worst errors (true→predicted, confidence)")


def plot_page_and_images(page: np.ndarray, images: list[np.ndarray], titles: list[str]):
    """A rendered PDF page beside the images extracted from it."""
    fig = plt.figure(figsize=(10, 5))
    grid = fig.add_gridspec(max(1, len(images)), 2, width_ratios=[2, 1])
    page_ax = fig.add_subplot(grid[:, 0])
    page_ax.imshow(page)
    page_ax.set_title("rendered page")
    page_ax.axis("off")
    for row, (image, caption) in enumerate(zip(images, titles, strict=True)):
        ax = fig.add_subplot(grid[row, 1])
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_title(caption, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_routing(curve: pd.DataFrame, threshold: float):
    """Share of PDFs decided automatically, and the accuracy of those decisions, against
    the confidence threshold; the chosen threshold marked."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for column in ("decided automatically", "accuracy of those"):
        ax.plot(curve.index, curve[column], label=column)
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    ax.set(xlabel="confidence threshold", ylabel="share", ylim=(0, 1.02))
    ax.set_title("Decide automatically above the threshold, send the rest to a person")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig
