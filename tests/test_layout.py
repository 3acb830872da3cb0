"""The package's layout: names that moved keep working for one release (with a DeprecationWarning),
and no module imports another in a circle."""

import ast
import importlib
import pathlib

import numpy as np
import pytest

import rnabert

PACKAGE = pathlib.Path(rnabert.__file__).resolve().parent


def test_embeddings_live_at_the_bottom_and_join_ragged_blocks():
    from rnabert.embeddings import Embeddings, join_ragged

    assert rnabert.Embeddings is Embeddings
    values, offsets = join_ragged([np.ones((2, 3)), np.zeros((3, 3))], [np.array([0, 2]), np.array([0, 1, 3])])
    assert values.shape == (5, 3) and offsets.tolist() == [0, 2, 3, 5]
    values, offsets = join_ragged([np.zeros((4, 2)), np.zeros((1, 2))])
    assert offsets.tolist() == [0, 4, 5]
    with pytest.raises(ValueError, match="at least one"):
        join_ragged([])


def test_old_embeddings_paths_warn_and_work():
    from rnabert.embeddings import Embeddings

    with pytest.deprecated_call(match="rnabert.embeddings.Embeddings"):
        from rnabert.model.embeddings import Embeddings as old
    assert old is Embeddings
    with pytest.deprecated_call():
        from rnabert.model import Embeddings as old2
    assert old2 is Embeddings
