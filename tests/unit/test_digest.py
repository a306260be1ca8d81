import numpy as np

from data_science.digest import content_digest


def test_digest_is_stable_and_sensitive():
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5)
    reference = content_digest(images, labels)
    assert reference == content_digest(images.copy(), labels.copy())
    assert len(reference) == 64

    one_pixel = images.copy()
    one_pixel[2, 10, 10] ^= 1
    one_label = labels.copy()
    one_label[4] = 0
    variants = [
        content_digest(one_pixel, labels),
        content_digest(images, one_label),
        content_digest(images[::-1], labels[::-1]),
        content_digest(images.reshape(5, 784), labels),
        content_digest(images.astype(np.int16), labels),
    ]
    assert len({reference, *variants}) == 1 + len(variants)
