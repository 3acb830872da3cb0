"""``rnabert.classify``: RNA type of each sequence with per-class probabilities, and the training of
a new head from a user's labelled FASTA."""

from __future__ import annotations

import collections
import json
import os
from dataclasses import dataclass, field
from typing import List, Optional, Union

import numpy as np

from ..embeddings import Embeddings
from .head import ClassHead, HeadEnsemble
from .knn import combine, votes_from_hits
from .labels import read_labelled_fasta

__all__ = ["Classification", "classify", "train", "load_head"]

PathLike = Union[str, "os.PathLike[str]"]
COLUMNS = ("name", "label", "probability")


@dataclass
class Classification:
    """Predicted classes of sequences.

    Attributes
    ----------
    names : list of str
    labels : list of str
        The most probable class of each sequence.
    probabilities : float64 array, shape (n, len(classes))
        Per-class probabilities (rows sum to 1), columns in the order of ``classes``.
    classes : list of str
    vectors : float32 array (n, d), optional
        The pooled embedding of each sequence (for maps of the embedding space).
    """

    names: List[str]
    labels: List[str]
    probabilities: np.ndarray
    classes: List[str]
    vectors: Optional[np.ndarray] = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def probability(self) -> np.ndarray:
        """float64 (n,): the probability of each sequence's predicted class."""
        return self.probabilities.max(axis=1) if len(self) else np.zeros(0)

    def to_tsv(self, path=None) -> Optional[str]:
        """Tab-separated, one header line: name, label, probability, then one probability column
        per class (4 decimals). To a path (written under a temporary name, then renamed), an open
        text stream, or, with no argument, returned as a string."""
        import io

        from ..outputs import atomic_path

        if path is None:
            buf = io.StringIO()
            self._write_tsv(buf)
            return buf.getvalue()
        if hasattr(path, "write"):
            self._write_tsv(path)
            return None
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            self._write_tsv(fh)
        return None

    def _write_tsv(self, fh) -> None:
        fh.write("\t".join((*COLUMNS, *self.classes)) + "\n")
        best = self.probability
        for k in range(len(self)):
            cells = "\t".join(f"{p:.4f}" for p in self.probabilities[k])
            fh.write(f"{self.names[k]}\t{self.labels[k]}\t{best[k]:.4f}\t{cells}\n")

    def to_pandas(self):
        import pandas as pd

        frame = pd.DataFrame({"name": self.names, "label": self.labels})
        frame["probability"] = self.probability
        for j, c in enumerate(self.classes):
            frame[c] = self.probabilities[:, j]
        return frame


def load_head(head=None):
    """A head object (ClassHead or HeadEnsemble), a path to one (safetensors), or None for the head
    shipped with the package."""
    if isinstance(head, (ClassHead, HeadEnsemble)):
        return head
    return ClassHead.load(head)


def _encoder(model, device):
    """The encoder (loaded once) and its fingerprint."""
    import torch

    from ..backends import resolve_device
    from ..model.inference import resolve_model
    from ..search.database import model_fingerprint

    net = resolve_model(model, torch.device(resolve_device(device)))
    return net, model_fingerprint(net)


def _embed(seqs, net, device, *, strict, batch_tokens, progress) -> Embeddings:
    from ..model import embed

    return embed(
        seqs, model=net, device=device, strict=strict, batch_tokens=batch_tokens, progress=progress
    )


def _labelled(labelled):
    """(records, labels, source label) of a labelled FASTA path or a (sequences, labels) pair."""
    if isinstance(labelled, (str, os.PathLike)):
        records, labels = read_labelled_fasta(labelled)
        return records, labels, os.fspath(labelled)
    if isinstance(labelled, tuple) and len(labelled) == 2:
        seqs, labels = labelled
        seqs, labels = list(seqs), [str(x) for x in labels]
        if len(seqs) != len(labels):
            raise ValueError(f"{len(seqs)} sequences but {len(labels)} labels")
        return seqs, labels, "sequences given"
    raise TypeError(
        "labelled data must be a labelled FASTA path or a (sequences, labels) pair, got "
        f"{type(labelled).__name__}"
    )


def classify(
    seqs,
    head=None,
    *,
    model=None,
    device: str = "auto",
    reference=None,
    k: Optional[int] = None,
    knn_weight: Optional[float] = None,
    threads: Optional[int] = None,
    strict: bool = False,
    batch_tokens: Optional[int] = None,
    progress: Optional[bool] = None,
) -> Classification:
    """Predict the RNA type of each sequence.

    Parameters
    ----------
    seqs : sequences (anything ``rnabert.embed`` reads: a FASTA path, strings, records, ...) or
        an ``Embeddings`` block computed with ``model``
    head : ClassHead, path, or None
        The classification head; None: the one shipped with the package (the 13 nRC classes:
        5S_rRNA, 5_8S_rRNA, CD-box, HACA-box, IRES, Intron_gpI, Intron_gpII, leader, miRNA,
        riboswitch, ribozyme, scaRNA, tRNA). Its encoder must be ``model``'s (checked by
        fingerprint; a mismatch is a ValueError).
    model : RnaBert, checkpoint path, or None
        The encoder (None: the shipped weights).
    reference : labelled FASTA path or (sequences, labels), optional
        Labelled sequences for a nearest-neighbour vote on homology bits (each query aligned to
        every reference sequence with the homology head, ``align_many(score="bits")``): the ``k``
        best hits vote, weighted by their bits. Needs the shipped encoder (the homology head is
        its own). Its labels must be classes of the head unless ``knn_weight`` is 1.
    k : int, optional
        Reference hits that vote. Default: the number the head records (chosen with its
        combination weight by cross-validation: 3 for the shipped head), else 3.
    knn_weight : float in [0, 1], optional
        With a reference: probabilities = (1 − w) · head + w · votes. Default: the weight the
        head records (chosen by cross-validation when it was built), else 0.5; 1 uses the vote
        alone, and then the classes are the reference's.
    threads : int, optional
        CPU threads of the alignment engine (reference votes only).
    strict, batch_tokens, progress
        As ``rnabert.embed``.

    Returns
    -------
    Classification
        ``names``, ``labels``, ``probabilities`` (n, classes), ``classes``, ``vectors`` (mean
        pooled embeddings); ``.to_tsv(path)``.
    """
    net, fingerprint = _encoder(model, device)
    if knn_weight is not None and not 0.0 <= float(knn_weight) <= 1.0:
        raise ValueError(f"knn_weight must be in [0, 1], got {knn_weight}")
    pure_vote = reference is not None and knn_weight is not None and float(knn_weight) == 1.0
    cls_head = None if pure_vote else load_head(head)
    if cls_head is not None:
        cls_head.check_encoder(fingerprint, getattr(net, "source", None) or "the model")
    emb = (
        seqs
        if isinstance(seqs, Embeddings)
        else _embed(seqs, net, device, strict=strict, batch_tokens=batch_tokens, progress=progress)
    )
    probabilities = None if cls_head is None else cls_head.probabilities(emb)
    classes = None if cls_head is None else list(cls_head.classes)
    if reference is not None:
        ref_seqs, ref_labels, source = _labelled(reference)
        if classes is None:
            classes = sorted(set(ref_labels))
        else:
            unknown = sorted(set(ref_labels) - set(classes))
            if unknown:
                raise ValueError(
                    f"{source}: labels {unknown[:5]} are not classes of the head "
                    f"({', '.join(classes)}); use knn_weight=1 to vote with the reference alone"
                )
        ref = _embed(
            ref_seqs, net, device, strict=strict, batch_tokens=batch_tokens, progress=progress
        )
        from ..alignment.api import align_many

        if k is None:
            k = int(cls_head.info.get("knn_k", 3)) if cls_head is not None else 3
        hits = align_many(
            emb,
            targets=ref,
            score="bits",
            top_k=max(1, int(k)),
            model=net,
            device=device,
            threads=threads,
            progress=progress,
        )
        votes = votes_from_hits(hits.i, hits.j, hits.score, len(emb), ref_labels, classes, k)
        if probabilities is None:
            probabilities = votes
        else:
            w = knn_weight
            if w is None:
                w = float(cls_head.info.get("knn_weight", 0.5))
            probabilities = combine(probabilities, votes, float(w))
    labels = [classes[j] for j in probabilities.argmax(axis=1)] if len(emb) else []
    return Classification(list(emb.names), labels, probabilities, classes, emb.pooled())


KINDS = ("conv", "conv-bases", "mean", "meanmax", "attention")
# the shipped head: a conv head on the embeddings and bases, two on the bases alone (seeds 0 and 1)
# and a mean+max/k-mer head, probabilities averaged (benchmarks/results/classify.md, E3)
SHIPPED_RECIPE = ("conv", "conv-bases", "conv-bases", "meanmax")


def train(
    labelled,
    *,
    model=None,
    pool=SHIPPED_RECIPE,
    kmer: int = 6,
    hidden: Optional[int] = None,
    l2: Optional[float] = None,
    grid: Optional[dict] = None,
    folds: int = 3,
    epochs: int = 40,
    conv_epochs: int = 30,
    validation: float = 0.1,
    seed: int = 0,
    device: str = "auto",
    strict: bool = False,
    batch_tokens: Optional[int] = None,
    progress: Optional[bool] = None,
    out: Optional[PathLike] = None,
):
    """Train a classification head on a labelled FASTA file (or a (sequences, labels) pair).

    The label of a record is the last word of its FASTA header (``>RF00001_AB0123_1-119
    5S_rRNA``: name ``RF00001_AB0123_1-119``, label ``5S_rRNA``); a header without one is an error
    naming the file, line and record.

    Parameters
    ----------
    pool : str or sequence of str
        One head: ``"conv"`` (convolutions over the per-base embeddings and one-hot bases,
        :func:`.training.fit_conv_head`), ``"conv-bases"`` (the same on the bases alone),
        ``"mean"``, ``"meanmax"`` or ``"attention"`` (a
        classifier on pooled vectors, :class:`ClassHead`). Several: one head of each kind,
        trained separately, probabilities averaged (:class:`HeadEnsemble`); a kind named again
        is one more head of that kind, seeded ``seed`` + 1, + 2, .... Default: the recipe of the
        shipped head (:data:`SHIPPED_RECIPE`).
    kmer : int
        Give the pooled-vector heads the k-mer frequencies for k = 1..kmer too (0: embeddings
        only; the conv head reads the bases themselves).
    hidden, l2 : optional
        A pooled-vector head's classifier (0: logistic regression; else one hidden layer of that
        width) and its L2 penalty. What is not given is chosen by stratified ``folds``-fold
        cross-validation over ``grid`` (default hidden 0 or 256, or 0 or 64 above 1,000 inputs as
        with k-mers; l2 1e-5, 1e-4 or 1e-3) on these sequences only; the head is then trained on
        all of them. Folds shrink to the smallest class's size; a class of one sequence leaves no
        cross-validation (defaults 0 and 1e-3).
    epochs, conv_epochs : int
        Training length of the pooled-vector heads and of the conv head.
    validation : float
        The conv head's early stopping: this fraction of the sequences (stratified) is held out
        and the epoch with the best macro-F1 on it is kept (0: all sequences, last epoch).
    seed : int
        Seeds initialisation and minibatch order (same data, same seed: same head).
    out : path, optional
        Also save the head there (safetensors).

    Returns
    -------
    ClassHead or HeadEnsemble
        ``info`` records the data, the cross-validation table and the choices.
    """
    from .training import default_grid, fit_conv_head, fit_head, select_by_cross_validation

    kinds = [pool] if isinstance(pool, str) else list(pool)
    if not kinds:
        raise ValueError(f"pool must name one or more head kinds, got {pool!r}")
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"pool must be among {', '.join(KINDS)}, got {kind!r}")
    if not 0 <= int(kmer) <= 8:
        raise ValueError(f"kmer must be in 0..8, got {kmer}")
    if out is not None:
        from ..outputs import check_output

        check_output(out, [labelled] if isinstance(labelled, (str, os.PathLike)) else [])
    seqs, labels, source = _labelled(labelled)
    counts = collections.Counter(labels)
    if len(counts) < 2:
        raise ValueError(f"{source}: a classifier needs at least two classes, found {list(counts)}")
    net, fingerprint = _encoder(model, device)
    emb = _embed(seqs, net, device, strict=strict, batch_tokens=batch_tokens, progress=progress)
    classes = sorted(counts)
    info = {
        "trained_on": os.path.basename(source),
        "sequences": str(len(labels)),
        "class_counts": json.dumps(dict(sorted(counts.items()))),
        "seed": str(seed),
    }
    heads = []
    for k, kind in enumerate(kinds):
        # a kind named again is another head of that kind: another seed
        seed_k = int(seed) + kinds[:k].count(kind)
        if kind in ("conv", "conv-bases"):
            head = ClassHead(
                classes,
                emb.dim,
                "conv",
                encoder_fingerprint=fingerprint,
                embedding=kind == "conv",
            )
            head.info = {**info, "epochs": str(conv_epochs), "seed": str(seed_k)}
            fit_conv_head(
                head, emb, labels, epochs=conv_epochs, validation=validation, seed=seed_k,
                progress=progress,
            )  # fmt: skip
        else:
            head = _train_pooled(
                emb, labels, classes, fingerprint, kind, kmer, hidden, l2, grid, folds, epochs,
                seed_k, progress, {**info, "seed": str(seed_k)}, default_grid, fit_head,
                select_by_cross_validation,
            )  # fmt: skip
        heads.append(head)
    result = heads[0] if len(heads) == 1 else HeadEnsemble(heads, info=info)
    if out is not None:
        result.save(out)
    return result


def _train_pooled(
    emb, labels, classes, fingerprint, pool, kmer, hidden, l2, grid, folds, epochs, seed,
    progress, info, default_grid, fit_head, select_by_cross_validation,
) -> ClassHead:  # fmt: skip
    """A head on pooled vectors (and k-mers), its hidden width and L2 chosen by cross-validation
    where not given."""
    counts = collections.Counter(labels)

    def make_head(h: int) -> ClassHead:
        return ClassHead(classes, emb.dim, pool, h, encoder_fingerprint=fingerprint, kmer=kmer)

    folds = min(int(folds), min(counts.values()))
    info["epochs"] = str(epochs)
    if hidden is None or l2 is None:
        grid = dict(default_grid(make_head(0).n_features) if grid is None else grid)
        if hidden is not None:
            grid["hidden"] = (hidden,)
        if l2 is not None:
            grid["l2"] = (l2,)
        if folds >= 2:
            best, table, _ = select_by_cross_validation(
                make_head, emb, labels, grid, folds=folds, seed=seed, fit_options={"epochs": epochs}
            )
            hidden, l2 = best["hidden"], best["l2"]
            info["cross_validation"] = json.dumps({"folds": folds, "table": table})
        else:
            hidden = 0 if hidden is None else hidden
            l2 = 1e-3 if l2 is None else l2
            info["cross_validation"] = "none: a class has a single sequence"
    info.update({"hidden": str(hidden), "l2": str(l2)})
    head = make_head(int(hidden))
    head.info = info
    fit_head(head, emb, labels, l2=float(l2), epochs=epochs, seed=seed, progress=progress)
    return head
