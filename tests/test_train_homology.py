"""Homology-detection training: the torch rebuild of local scores, the pair sampler's labels and its
refusal of validation families, and homology steps in the trainer (reproducible, resumable)."""

import json
import os

import numpy as np
import pytest
import torch

from conftest import EXAMPLES
from rnabert.alignment.engine import align_pairs
from rnabert.alignment.heads import load_homology_head
from rnabert.seqs.shuffle import dinucleotide_shuffle
from rnabert.train import data as data_mod
from rnabert.train.homology import (
    HomologySampler,
    as_embeddings,
    head_vectors,
    homology_loss,
    ids_to_text,
    initial_offset,
    local_gap_costs,
    pair_labels,
    path_scores,
)
from rnabert.train.trainer import TrainConfig, train

EXAMPLE_STO = EXAMPLES / "rfam_examples.sto"


@pytest.fixture(scope="module")
def example_families():
    return data_mod.read_families(EXAMPLE_STO)


@pytest.fixture(scope="module")
def head():
    return load_homology_head()


def _related_batch(rng, n_fam=3, dim=120):
    """Synthetic hidden states with real homology: each family's two members share per-base
    vectors (with substitutions, insertions and deletions); a third row is unrelated noise."""
    ids, rows, family = [], [], []
    for f in range(n_fam):
        length = int(rng.integers(20, 40))
        base_ids = rng.integers(2, 6, length)
        base_vec = rng.normal(size=(length, dim))
        for member in range(2):
            keep = rng.random(length) > 0.1 * member
            x_ids, x_vec = (
                base_ids[keep].copy(),
                base_vec[keep] + 0.4 * rng.normal(size=(keep.sum(), dim)),
            )
            ins = int(rng.integers(0, 5))
            at = int(rng.integers(0, len(x_ids)))
            x_ids = np.insert(x_ids, at, rng.integers(2, 6, ins))
            x_vec = np.insert(x_vec, at, rng.normal(size=(ins, dim)), axis=0)
            ids.append(x_ids)
            rows.append(x_vec)
            family.append(f)
        ids.append(rng.integers(2, 6, int(rng.integers(15, 35))))
        rows.append(rng.normal(size=(len(ids[-1]), dim)))
        family.append(f)
    width = max(len(x) for x in ids)
    hidden = np.zeros((len(ids), width, dim))
    for k, r in enumerate(rows):
        hidden[k, : len(r)] = r
    decoy = np.array([k % 3 == 2 for k in range(len(ids))])
    return ids, torch.tensor(hidden, dtype=torch.float32), np.array(family), decoy


def test_local_gap_costs_by_hand():
    # pairs (0,0) (3,1) (4,4) | (2,2): gaps 2 in A [1+0.5*2] then 2 in B [1+1]; second: none
    path = np.array([[0, 0], [3, 1], [4, 4], [2, 2]])
    costs = local_gap_costs(path, np.array([0, 3, 4]), 1.0, 0.5)
    np.testing.assert_allclose(costs, [2.0 + 2.0, 0.0])
    # both sides skipped between two pairs: two gaps, each opened
    costs = local_gap_costs(np.array([[0, 0], [2, 3]]), np.array([0, 2]), 5.0, 1.0)
    np.testing.assert_allclose(costs, [(5 + 1) + (5 + 2)])


def test_torch_rebuild_of_local_scores_matches_the_engine(rng, head):
    ids, hidden, family, decoy = _related_batch(rng)
    u = head_vectors(hidden, ids, head)
    lengths = [len(x) for x in ids]
    vec = as_embeddings(u, lengths)
    # the torch head is the numpy head (the one that scores searches)
    from rnabert.embeddings import Embeddings

    raw = np.concatenate([hidden[k, :n].numpy() for k, n in enumerate(lengths)])
    ref = head.vectors(Embeddings(raw, vec.offsets, sequences=[ids_to_text(x) for x in ids]))
    np.testing.assert_allclose(vec.values, ref.values, atol=1e-5)
    iu, ju = np.triu_indices(len(ids), 1)
    pairs = np.stack([iu, ju], 1)
    scores, offs, path = align_pairs(vec, pairs, head.params)
    rebuilt = path_scores(u, pairs, path, offs, head.params).detach().numpy()
    assert np.abs(rebuilt - scores).max() <= 1e-3
    # the related pairs really align (not a trivial all-zero comparison)
    same = family[iu] == family[ju]
    related = same & ~decoy[iu] & ~decoy[ju]
    assert scores[related].min() > scores[~related].max()


def test_rebuilt_score_gradient_is_that_of_the_fixed_path(rng, head):
    ids, hidden, _, _ = _related_batch(rng, n_fam=2, dim=6)
    u = torch.nn.functional.normalize(hidden.double(), dim=-1).requires_grad_(True)
    vec = as_embeddings(u, [len(x) for x in ids])
    pairs = np.array([[0, 1], [3, 4], [0, 2]])
    _, offs, path = align_pairs(vec, pairs, head.params)

    def f(x):
        return path_scores(x, pairs, path, offs, head.params)

    assert torch.autograd.gradcheck(f, (u,), eps=1e-6, atol=1e-6)


def test_pair_labels_by_hand():
    family = np.array([0, 0, 1, 1, 2, 0])
    decoy = np.array([False, False, False, False, False, True])
    clans = ["", "", "CL1", "CL1", "CL1", ""]
    label = pair_labels(family, decoy, clans, source=np.array([-1, -1, -1, -1, -1, 0]))
    assert label[0, 1] == 1 and label[2, 3] == 1  # same family
    assert label[0, 2] == 0  # different families, no shared clan
    assert label[2, 4] == -1 and label[3, 4] == -1  # clan sisters: neither
    assert label[5, 1] == 0 and label[5, 2] == 0  # a shuffle is unrelated to every real member
    assert label[5, 0] == -1  # ... except its own source, left out
    assert (np.diag(label) == -1).all() and (label == label.T).all()


def test_sampler_refuses_validation_families_and_is_a_function_of_the_step(example_families):
    with pytest.raises(ValueError, match="validation families"):
        HomologySampler(example_families, 0, 3, forbidden=["RF00167"])
    train_fams, _ = data_mod.partition(example_families, ["RF00167"])
    s = HomologySampler(train_fams, 5, 3, forbidden=["RF00167"])
    a, b = s.batch(4), s.batch(4)
    assert all(np.array_equal(x, y) for x, y in zip(a.ids, b.ids))
    assert not all(np.array_equal(x, y) for x, y in zip(a.ids, s.batch(5).ids))
    for step in range(20):
        batch = s.batch(step)
        assert {train_fams[k].accession for k in batch.family} <= {f.accession for f in train_fams}
        # every family gives two members and one dinucleotide shuffle of the first
        for k in range(0, len(batch.ids), 3):
            src, shuf = ids_to_text(batch.ids[k]), ids_to_text(batch.ids[k + 2])
            assert sorted(zip(src, src[1:])) == sorted(zip(shuf, shuf[1:]))
        assert (batch.label == 1).sum() == 2 * 3
    # a family slipped in past the constructor is still caught when drawn
    s.forbidden = frozenset(f.accession for f in train_fams)
    with pytest.raises(AssertionError, match="validation family"):
        s.batch(0)
    assert dinucleotide_shuffle  # the shuffle the sampler uses is the package's


def test_homology_loss_learns_on_synthetic_pairs(rng, head):
    ids, hidden, family, decoy = _related_batch(rng, n_fam=4, dim=120)
    from rnabert.train.homology import HomologyBatch

    label = pair_labels(family, decoy, [""] * len(ids))
    batch = HomologyBatch(ids, family, decoy, label)
    x = hidden.clone().requires_grad_(True)
    offset = torch.tensor(initial_offset(head), requires_grad=True)
    opt = torch.optim.Adam([x, offset], lr=0.05)
    losses = []
    for step in range(8):
        opt.zero_grad()
        res = homology_loss(
            x, batch, head, offset, hard_negatives=3, random_negatives=3,
            rng=np.random.default_rng(step),
        )  # fmt: skip
        assert np.abs(res.rebuilt_scores - res.engine_scores).max() <= 1e-3
        assert (res.label == 1).sum() == 4 and len(res.label) == 4 + 6
        res.loss.backward()
        opt.step()
        losses.append(float(res.loss.detach()))
    assert losses[-1] < losses[0]


# -- the trainer ----------------------------------------------------------------------------------
def _config(tmp_path, name, **kw):
    val = tmp_path / "val.txt"
    val.write_text("RF00167\n")
    base = dict(
        data=str(EXAMPLE_STO),
        out=str(tmp_path / name),
        steps=4,
        batch_tokens=1024,
        sal_pairs=3,
        lr=1e-3,
        warmup=2,
        eval_every=0,
        checkpoint_every=2,
        log_every=1,
        validation_file=str(val),
        progress=False,
        threads=1,
        seed=11,
        mlm_weight=0.0,
        homology_weight=1.0,
        homology_families=3,
        homology_hard=2,
        homology_random=2,
    )
    base.update(kw)
    return TrainConfig(**base)


def _weights(run_dir):
    from safetensors.torch import load_file

    return load_file(os.path.join(run_dir, "model.safetensors"))


def _rows(run_dir):
    return [
        {k: v for k, v in json.loads(x).items() if k != "elapsed"}
        for x in open(os.path.join(run_dir, "metrics.jsonl"))
    ]


def test_homology_steps_in_the_trainer_reproduce_and_resume(tmp_path):
    train(_config(tmp_path, "a"))
    rows = _rows(tmp_path / "a")
    wa = _weights(tmp_path / "a")
    assert [r["step"] for r in rows] == list(range(1, 5))
    assert all(r["homology_loss"] > 0 and r["sal_loss"] is not None for r in rows)
    assert len({r["homology_offset"] for r in rows}) > 1  # the offset is learned
    # the same seed in a second run, stopped at step 2 (checkpoint) and resumed: the same weights,
    # offset and metrics as the run in one go
    train(_config(tmp_path, "c", stop_at=2))
    with pytest.raises(ValueError, match="homology_weight"):
        train(_config(tmp_path, "c", resume=True, homology_weight=2.0))
    train(_config(tmp_path, "c", resume=True))
    wc = _weights(tmp_path / "c")
    assert all(torch.equal(wa[k], wc[k]) for k in wa)
    assert _rows(tmp_path / "c") == rows
    sa = torch.load(tmp_path / "a" / "state.pt", weights_only=True)
    sc = torch.load(tmp_path / "c" / "state.pt", weights_only=True)
    assert torch.equal(sa["homology_offset"], sc["homology_offset"])
    # another seed draws other batches
    train(_config(tmp_path, "d", seed=12, stop_at=1))
    assert _rows(tmp_path / "d")[0] != rows[0]


def test_homology_needs_the_mixed_schedule(tmp_path):
    with pytest.raises(ValueError, match="mixed"):
        _config(tmp_path, "x", schedule="sequential", mlm_steps=1, sal_steps=1)
