"""Fitting a classification head: seeded stratified splits, minibatch training, and the choice of
hyper-parameters by cross-validation inside the training set only."""

from __future__ import annotations

import itertools
import json
import math
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..embeddings import Embeddings
from .head import ClassHead

__all__ = [
    "DEFAULT_GRID",
    "default_grid",
    "stratified_split",
    "stratified_folds",
    "fit_head",
    "fit_conv_head",
    "select_by_cross_validation",
    "accuracy",
    "macro_f1",
]

# hidden: 0 = logistic regression; l2: penalty on the weights (features are standardised)
DEFAULT_GRID: Dict[str, Sequence] = {"hidden": (0, 256), "l2": (1e-5, 1e-4, 1e-3)}
MIN_STEPS = 500
# one hidden layer on thousands of inputs (k-mer frequencies) costs minutes a fit: a narrower one
WIDE_INPUTS, WIDE_HIDDEN = 1000, (0, 64)


def default_grid(n_features: int) -> Dict[str, Sequence]:
    """The settings cross-validation tries for a head whose classifier reads ``n_features``."""
    grid = dict(DEFAULT_GRID)
    if n_features > WIDE_INPUTS:
        grid["hidden"] = WIDE_HIDDEN
    return grid


def stratified_split(labels: Sequence[str], test_fraction: float, seed: int = 0):
    """Indices (train, test), int64, sorted: within every class a seeded random ``test_fraction``
    (rounded) goes to test, so both parts keep the class proportions."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    test = []
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        test.extend(members[: int(round(test_fraction * len(members)))].tolist())
    test = np.sort(np.asarray(test, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def stratified_folds(labels: Sequence[str], folds: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..folds-1) of each item, int64: each class dealt round-robin over the folds
    after a seeded shuffle, so every fold holds about 1/folds of every class."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    out = np.zeros(len(labels), dtype=np.int64)
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        out[members] = np.arange(len(members)) % folds
    return out


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    return float((truth == predicted).mean()) if len(truth) else float("nan")


def per_class_f1(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]):
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    out = {}
    for c in classes:
        tp = int(((truth == c) & (predicted == c)).sum())
        fp = int(((truth != c) & (predicted == c)).sum())
        fn = int(((truth == c) & (predicted != c)).sum())
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return out


def macro_f1(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    return float(np.mean(list(per_class_f1(truth, predicted, classes).values())))


def _standardiser(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    shift = x.mean(0)
    scale = x.std(0)
    # a constant column (a k-mer never seen) stays as it is instead of dividing by zero
    return shift, torch.where(scale > 1e-6, scale, torch.ones_like(scale))


def _rows_of(offsets: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Per-base row indices of the sequences ``seqs`` of a ragged block, in that order."""
    lengths = offsets[seqs + 1] - offsets[seqs]
    starts = np.repeat(offsets[seqs] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return starts + np.arange(int(lengths.sum()))


def _reset(head, seed) -> None:
    """A fresh start whatever the head held, so fitting twice with one seed gives one head."""
    torch.manual_seed(int(seed))  # the layers' initialisation
    for module in head.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    for name, buf in head.named_buffers():
        buf.fill_(1.0 if name.endswith("scale") else 0.0)


def fit_head(
    head: ClassHead,
    data,
    labels: Sequence[str],
    *,
    l2: float = 1e-3,
    epochs: int = 40,
    batch_size: int = 256,
    lr: float = 1e-2,
    seed: int = 0,
    progress: Optional[bool] = False,
) -> ClassHead:
    """Train ``head`` (in place, and returned) on ``data`` with cross-entropy + ``l2``·Σ‖W‖².

    ``data`` is an ``Embeddings`` block (carrying its sequences when the head reads k-mers), or for
    a head without attention its :meth:`ClassHead.features`, computed once (cross-validation).
    Adam with a cosine-decayed learning rate, seeded minibatches: the same inputs and seed give the
    same head; ``epochs`` is raised to make at least 500 steps on a small set. Without attention
    the features are computed once (the encoder is frozen), so such a head trains as fast as
    logistic regression on them.
    """
    classes = head.classes
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ValueError(f"labels not among the head's classes: {unknown[:5]}")
    y = torch.tensor([index[c] for c in labels], dtype=torch.int64)
    n = len(y)
    if n == 0:
        raise ValueError("no training examples")
    gen = torch.Generator().manual_seed(int(seed))
    _reset(head, seed)
    ragged = head.pool == "attention"
    if not ragged:
        x = torch.from_numpy(
            np.ascontiguousarray(data if isinstance(data, np.ndarray) else head.features(data))
        ).float()
    else:
        if not isinstance(data, Embeddings):
            raise TypeError("an attention head trains on an Embeddings block")
        values = torch.from_numpy(np.ascontiguousarray(data.values, np.float32))
        offsets = np.asarray(data.offsets, dtype=np.int64)
        kmers = torch.from_numpy(head.kmer_features(data)) if head.kmer else None
        head.base_shift.copy_(values.mean(0))
        head.base_scale.copy_(_standardiser(values)[1])
        with torch.no_grad():
            x = torch.from_numpy(head.features(data))  # at initialisation: for the standardiser
    shift, scale = _standardiser(x)
    head.feature_shift.copy_(shift)
    head.feature_scale.copy_(scale)

    weights = [p for name, p in head.named_parameters() if name.endswith("weight")]
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    steps_per_epoch = math.ceil(n / batch_size)
    # a small training set still gets enough optimiser steps to converge
    epochs = max(int(epochs), math.ceil(MIN_STEPS / steps_per_epoch))
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, unit="epoch", desc="train head", dynamic_ncols=True, delay=1.0)
    head.train()
    # the layers are small: on more threads each step mostly waits at thread barriers (seconds
    # become minutes when another process holds a core), as in the encoder's batches
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen).numpy()
            for b in range(steps_per_epoch):
                batch = order[b * batch_size : (b + 1) * batch_size]
                if ragged:
                    rows = _rows_of(offsets, batch)
                    sub = np.concatenate([[0], np.cumsum(offsets[batch + 1] - offsets[batch])])
                    logits = head(
                        values[torch.from_numpy(rows)],
                        torch.from_numpy(sub),
                        None if kmers is None else kmers[torch.from_numpy(batch)],
                    )
                else:
                    logits = head.logits_of_features(x[torch.from_numpy(batch)])
                loss = torch.nn.functional.cross_entropy(logits, y[torch.from_numpy(batch)])
                loss = loss + l2 * sum((w * w).sum() for w in weights)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
            if bar is not None:
                bar.update(1)
    finally:
        torch.set_num_threads(threads)
        if bar is not None:
            bar.close()
    return head.eval()


CONV_MIN_STEPS = 200


def _length_batches(lengths: np.ndarray, items: np.ndarray, batch_size: int, rng=None):
    """Minibatches of ``items`` of similar lengths (little padding): sorted by length (jittered by
    up to 20 bases when ``rng`` shuffles), cut every ``batch_size``, batches in random order."""
    key = lengths[items] + (rng.uniform(0, 20, len(items)) if rng is not None else 0)
    order = items[np.argsort(key, kind="stable")]
    out = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(out)
    return out


def fit_conv_head(
    head: ClassHead,
    emb: Embeddings,
    labels: Sequence[str],
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 2e-3,
    weight_decay: float = 1e-2,
    label_smoothing: float = 0.05,
    validation: float = 0.1,
    seed: int = 0,
    progress: Optional[bool] = False,
) -> ClassHead:
    """Train a ``pool="conv"`` head (in place, and returned) on an ``Embeddings`` block that
    carries its sequences.

    AdamW (decoupled weight decay ``weight_decay``), one epoch of linear warm-up then cosine decay,
    cross-entropy with ``label_smoothing``, minibatches of similar lengths. With ``validation`` >
    0 a seeded stratified part of that size is held out of the training (when every class has at
    least two sequences) and the head keeps the weights of the epoch with the best macro-F1 on it
    (early stopping); ``head.info["validation"]`` records that epoch and its scores. The same
    inputs and seed give the same head. ``epochs`` is raised to make at least 200 steps on a
    small set.
    """
    if head.pool != "conv":
        raise ValueError(f"fit_conv_head trains a conv head, got pool={head.pool!r}")
    if not isinstance(emb, Embeddings):
        raise TypeError("a conv head trains on an Embeddings block")
    classes = head.classes
    index = {c: k for k, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ValueError(f"labels not among the head's classes: {unknown[:5]}")
    if len(labels) != len(emb):
        raise ValueError(f"{len(emb)} sequences but {len(labels)} labels")
    if not len(labels):
        raise ValueError("no training examples")
    y = torch.tensor([index[c] for c in labels], dtype=torch.int64)
    items = np.arange(len(labels))
    held = np.zeros(0, dtype=np.int64)
    counts = np.bincount(y.numpy(), minlength=len(classes))
    if validation > 0 and counts[counts > 0].min() >= 2:
        items, held = stratified_split(list(labels), validation, seed=seed)
    _reset(head, seed)
    offsets = np.asarray(emb.offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    bases = head.base_tokens(emb)
    rows = _rows_of(offsets, items)
    if head.embedding:
        train_values = torch.from_numpy(np.ascontiguousarray(emb.values[rows], np.float32))
        shift, scale = _standardiser(train_values)
        head.base_shift.copy_(shift)
        head.base_scale.copy_(scale)
        del train_values
    kmers = None
    if head.kmer:
        kmers = torch.from_numpy(head.kmer_features(emb))
        shift, scale = _standardiser(kmers[torch.from_numpy(items)])
        # the conv columns are learned features: only the k-mer columns are standardised
        head.feature_shift[head.n_embedding_features :] = shift
        head.feature_scale[head.n_embedding_features :] = scale

    def logits_of(batch: np.ndarray) -> torch.Tensor:
        values, sub, ids = head._gather(emb, offsets, bases, batch)
        return head(values, sub, None if kmers is None else kmers[torch.from_numpy(batch)], ids)

    def score_held() -> Tuple[float, float]:
        head.eval()
        predicted = np.zeros(len(held), dtype=np.int64)
        where = {int(i): k for k, i in enumerate(held)}
        with torch.no_grad():
            for batch in _length_batches(lengths, held, 4 * batch_size):
                at = [where[int(i)] for i in batch]
                predicted[at] = logits_of(batch).argmax(1).numpy()
        truth = [labels[i] for i in held]
        names = [classes[k] for k in predicted]
        return accuracy(truth, names), macro_f1(truth, names, classes)

    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(items) / batch_size)
    epochs = max(int(epochs), math.ceil(CONV_MIN_STEPS / steps_per_epoch))
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda step: (
            min(1.0, (step + 1) / steps_per_epoch)
            * 0.5
            * (1 + math.cos(math.pi * min(step, total) / total))
        ),
    )
    rng = np.random.default_rng(int(seed))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, unit="epoch", desc="train conv head", dynamic_ncols=True)
    best, history = None, []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small layers: more threads mostly wait at barriers (fit_head)
    try:
        for epoch in range(epochs):
            head.train()
            for batch in _length_batches(lengths, items, batch_size, rng):
                loss = torch.nn.functional.cross_entropy(
                    logits_of(batch), y[torch.from_numpy(batch)], label_smoothing=label_smoothing
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
            if len(held):
                acc, f1 = score_held()
                history.append(round(f1, 4))
                # on a tie the later epoch: further down the learning-rate decay
                if best is None or f1 >= best[1]:
                    state = {k: v.detach().clone() for k, v in head.state_dict().items()}
                    best = (epoch, f1, acc, state)
            if bar is not None:
                bar.update(1)
    finally:
        torch.set_num_threads(threads)
        if bar is not None:
            bar.close()
    if best is not None:
        head.load_state_dict(best[3])
        head.info["validation"] = json.dumps(
            {
                "sequences": int(len(held)),
                "best_epoch": best[0] + 1,
                "epochs": epochs,
                "accuracy": round(best[2], 4),
                "macro_f1": round(best[1], 4),
                "macro_f1_by_epoch": history,
            }
        )
    return head.eval()


def _subset(data, idx: np.ndarray):
    return data.subset(idx) if isinstance(data, Embeddings) else np.asarray(data)[idx]


def select_by_cross_validation(
    make_head,
    data,
    labels: Sequence[str],
    grid: Optional[Dict[str, Iterable]] = None,
    *,
    folds: int = 3,
    seed: int = 0,
    fit_options: Optional[dict] = None,
    report=None,
) -> Tuple[dict, List[dict], np.ndarray]:
    """Choose hyper-parameters by stratified ``folds``-fold cross-validation on ``data`` alone.

    ``make_head(hidden)`` builds an untrained head; ``grid`` maps ``hidden`` and ``l2`` to the
    values to try (default :data:`DEFAULT_GRID`). The best setting has the highest mean macro-F1
    over the held-out folds (accuracy breaks ties).

    Returns
    -------
    best : dict
        ``{"hidden": ..., "l2": ...}``.
    table : list of dict
        Every setting with its cross-validated accuracy and macro-F1.
    oof : float64 array (n, classes)
        The best setting's out-of-fold probabilities (each item predicted by the head that did not
        see it): what a second-stage choice (a combination weight) may be fitted on.
    """
    grid = dict(DEFAULT_GRID if grid is None else grid)
    labels = list(labels)
    fold_of = stratified_folds(labels, folds, seed)
    table, probs = [], {}
    for hidden, l2 in itertools.product(grid.get("hidden", (0,)), grid.get("l2", (1e-3,))):
        head = make_head(hidden)
        oof = np.zeros((len(labels), len(head.classes)))
        for f in range(folds):
            tr, te = np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)
            fit_head(head, _subset(data, tr), [labels[i] for i in tr], l2=l2, seed=seed,
                     **(fit_options or {}))  # fmt: skip
            oof[te] = head.probabilities(_subset(data, te))
        predicted = [head.classes[k] for k in oof.argmax(1)]
        row = {
            "hidden": int(hidden),
            "l2": float(l2),
            "accuracy": accuracy(labels, predicted),
            "macro_f1": macro_f1(labels, predicted, head.classes),
        }
        table.append(row)
        probs[(row["hidden"], row["l2"])] = oof
        if report is not None:
            report(row)
    best = max(table, key=lambda r: (r["macro_f1"], r["accuracy"]))
    return (
        {"hidden": best["hidden"], "l2": best["l2"]},
        table,
        probs[(best["hidden"], best["l2"])],
    )
