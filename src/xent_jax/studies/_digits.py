"""The data of the network studies: scikit-learn's bundled 8×8 digits, split and scaled.

1797 images of the digits 0-9, 8×8 pixels with intensities 0 … 16, shipped with scikit-learn
(no download). scikit-learn is needed only here (the optional extra ``network``).
"""

from typing import NamedTuple

import numpy as np

from xent_jax import _validate
from xent_jax.errors import InputError


class Digits(NamedTuple):
    """The digits split into train and test sets: pixels scaled to [0, 1], one-hot targets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(seed: int = 0, test_fraction: float = 0.25) -> Digits:
    """scikit-learn's bundled 8×8 digits (1797 images, offline), shuffled and split by ``seed``.

    Raises:
      ValueError: if scikit-learn is missing (install the extra ``xent-jax[network]``) or
        ``test_fraction`` is not in (0, 1).
    """
    fraction = _validate.unit_interval("test fraction", test_fraction)
    if fraction in (0.0, 1.0):
        raise InputError(f"test fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    try:
        from sklearn import datasets
    except ImportError:
        raise InputError(
            "the network study needs scikit-learn for its data set: pip install 'xent-jax[network]'"
        ) from None
    digits = datasets.load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixel intensities 0 … 16
    y = np.eye(10, dtype=np.float32)[digits.target]
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(fraction * len(x))
    test, train = order[:n_test], order[n_test:]
    return Digits(x[train], y[train], x[test], y[test])
