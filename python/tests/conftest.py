import os

import numpy as np
import pandas as pd
import pytest


def movies_like(n=240, seed=0):
    """A small table shaped like the movies data: numbers with missing cells,
    a skewed column, a text column, and 3 labels that depend on them."""
    rng = np.random.default_rng(seed)
    year = rng.integers(1920, 2005, n).astype(float)
    length = rng.normal(95, 30, n).round()
    budget = np.where(rng.random(n) < 0.3, np.nan, np.exp(rng.normal(14, 2, n)).round())
    rating = rng.normal(6, 1.5, n).round(1)
    mpaa = rng.choice(["R", "PG", "PG-13", None], n, p=[0.3, 0.2, 0.2, 0.3])
    X = pd.DataFrame({"year": year, "length": length, "budget": budget, "rating": rating,
                      "mpaa": pd.Series(mpaa, dtype=object)})
    Y = pd.DataFrame({"Short": (length < 60).astype(int),
                      "Drama": ((rating > 6) & (length > 80)).astype(int),
                      "Action": ((mpaa == "R") | (year > 1990)).astype(int)})
    return X, Y


@pytest.fixture
def small():
    return movies_like()


@pytest.fixture
def reel_binary():
    path = os.environ.get("REEL_BINARY")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("REEL_BINARY (the reel program) is not set: the CLI comparison needs it")
    return path
