"""Matryoshka rules: which prefix sizes are allowed, and what a prefix of an embedding is.

Matryoshka Representation Learning (Kusupati et al. 2022; GATE §3.2.1) trains an embedding so
that its first *d* coordinates are an embedding too. Two rules follow, used wherever dims appear
(profiles, the loss, evaluation, retrieval, efficiency):

* the dims are positive integers in strictly descending order, none above the model's size
  (:func:`check_matryoshka_dims`);
* a *d*-dim embedding is the first *d* coordinates re-normalised to unit length
  (:func:`truncate_embeddings`), as sentence-transformers' ``truncate_dim`` and MTEB compute it
  before the cosine.
"""

from __future__ import annotations

import numpy as np


class MatryoshkaDimsError(ValueError):
    """Impossible Matryoshka dims: empty, not integers, not positive, repeated, not descending,
    or larger than the model's embedding dimension."""


def check_matryoshka_dims(dims, model_dim: int | None = None) -> tuple[int, ...]:
    """Validate Matryoshka dims: non-empty, positive, unique, strictly descending, ≤ model dim.

    MatryoshkaLoss silently re-sorts; we reject instead, so that a typo in a profile cannot
    change which dimensions a table claims to report (Kusupati et al. 2022, GATE §3.2.1).
    """
    dims = tuple(dims or ())
    if not dims:
        raise MatryoshkaDimsError("matryoshka_dims is empty: give e.g. [384, 256, 128, 64, 32].")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise MatryoshkaDimsError(f"matryoshka_dims must be integers, got {list(dims)}.")
    if any(d <= 0 for d in dims):
        raise MatryoshkaDimsError(f"matryoshka_dims must be positive, got {list(dims)}.")
    if len(set(dims)) != len(dims):
        raise MatryoshkaDimsError(f"matryoshka_dims has duplicates: {list(dims)}.")
    if list(dims) != sorted(dims, reverse=True):
        raise MatryoshkaDimsError(
            f"matryoshka_dims must be in descending order, got {list(dims)}; "
            f"write {sorted(dims, reverse=True)}."
        )
    if model_dim is not None and dims[0] > model_dim:
        raise MatryoshkaDimsError(
            f"matryoshka_dims {list(dims)} exceed the model's embedding dimension {model_dim}; "
            f"the largest allowed is {model_dim}."
        )
    return dims


def truncate_embeddings(embeddings: np.ndarray, dim: int) -> np.ndarray:
    """First ``dim`` coordinates, re-normalised to unit L2 norm (Kusupati et al. 2022)."""
    if not 0 < dim <= embeddings.shape[1]:
        raise ValueError(f"Cannot truncate {embeddings.shape[1]}-dim embeddings to {dim} dims.")
    head = embeddings[:, :dim]
    norms = np.linalg.norm(head, axis=1, keepdims=True)
    return head / np.clip(norms, 1e-12, None)
