"""align_many(score="bits"): the homology head's local scores in bits, E-values, and refusals."""

import numpy as np
import pytest

import rnabert
from rnabert.alignment.bitscores import BitScores
from rnabert.alignment.engine import all_vs_all
from rnabert.alignment.heads import SHIPPED, sequence_head
from rnabert.alignment.null import NullModel
from rnabert.embeddings import Embeddings


def _block(rng, n=5, dim=120):
    seqs = ["".join(rng.choice(list("ACGU"), int(rng.integers(8, 40)))) for _ in range(n)]
    return Embeddings.from_arrays(
        [rng.normal(size=(len(s), dim)).astype(np.float32) for s in seqs],
        [f"s{k}" for k in range(n)],
        seqs,
    )


def test_bits_are_the_null_of_the_heads_local_scores(rng):
    emb = _block(rng)
    head = sequence_head(NullModel(0.5, 0.05, 3.0))
    res = rnabert.align_many(emb, score="bits", head=head)
    assert isinstance(res, BitScores) and res.kind == "bits" and res.mode == "local"
    raw = all_vs_all(head.vectors(emb), head.params)
    np.testing.assert_allclose(res.score, head.null.bits(raw[res.i, res.j]), rtol=1e-5)
    L = emb.lengths
    np.testing.assert_allclose(
        res.evalue(), head.null.evalue(raw[res.i, res.j], L[res.i], L[res.j]), rtol=1e-4
    )
    np.testing.assert_allclose(
        res.evalue(db_residues=10000.0),
        head.null.effective(L[res.i]) * 10000.0 * 2.0 ** -res.score.astype(float),
        rtol=1e-6,
    )
    np.testing.assert_allclose(res.evalue(db_size=3), 3 * res.evalue(), rtol=1e-6)


def test_bits_threshold_top_k_and_traceback(rng):
    emb = _block(rng, n=6)
    head = sequence_head(NullModel(0.5, 0.05))
    full = rnabert.align_many(emb, score="bits", head=head)
    cut = float(np.median(full.score))
    kept = rnabert.align_many(emb, score="bits", head=head, min_score=cut)
    assert set(zip(kept.i, kept.j)) == {
        (a, b) for a, b, s in zip(full.i, full.j, full.score) if s >= cut - 1e-4
    }
    top = rnabert.align_many(emb, score="bits", head=head, top_k=1)
    assert len(top) == 6 and isinstance(top, BitScores)
    tb = rnabert.align_many(emb, score="bits", head=head, traceback=True)
    np.testing.assert_allclose(tb.score, full.score, rtol=1e-5)
    assert tb.alignments is not None


def test_bits_refusals(rng, tmp_path):
    emb = _block(rng)
    head = sequence_head()
    with pytest.raises(ValueError, match="mode must be 'local'"):
        rnabert.align_many(emb, score="bits", head=head, mode="global")
    with pytest.raises(ValueError, match="bias cannot be set"):
        rnabert.align_many(emb, score="bits", head=head, bias=-1.0)
    with pytest.raises(ValueError, match="score"):
        rnabert.align_many(emb, score="evalue")
    model = rnabert.RnaBert()
    with pytest.raises(ValueError, match="needs a homology head"):
        rnabert.align_many(["ACGUACGU", "GGCCAAUU"], score="bits", model=model)
    rnabert.save_model(model, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="m.safetensors has none"):
        rnabert.align_many(
            ["ACGUACGU", "GGCCAAUU"], score="bits", model=str(tmp_path / "m.safetensors")
        )
    # a checkpoint without a head still aligns
    assert len(rnabert.align_many(["ACGUACGU", "GGCCAAUU"], model=model)) == 1


@pytest.mark.skipif(not SHIPPED.exists(), reason="no homology head shipped")
def test_shipped_head_tells_a_homolog_from_its_shuffle():
    from rnabert.seqs.shuffle import dinucleotide_shuffle

    recs = list(rnabert.read_fasta("examples/rfam_examples.fa"))[:4]
    rng = np.random.default_rng(0)
    shuffled = [(r.name + "_shuf", dinucleotide_shuffle(r.seq, rng)) for r in recs]
    model = rnabert.load_model()
    res = rnabert.align_many([(r.name, r.seq) for r in recs] + shuffled, score="bits", model=model)
    m = res.to_matrix()
    assert m[0, 1] > 20 and m[0, 1] > np.nanmax(m[0, 4:]) + 10
    assert (
        np.nanmax(res.evalue()[(res.j >= 4) & (res.i < 4)]) > 1e-3
    )  # unrelated pairs are not significant


@pytest.mark.skipif(not SHIPPED.exists(), reason="no homology head shipped")
def test_shipped_head_belongs_to_the_shipped_encoder():
    import hashlib

    from rnabert.alignment.heads import load_homology_head
    from rnabert.model.checkpoint import DEFAULT_WEIGHTS

    head = load_homology_head()
    assert head.encoder_sha256 == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert head.params.mode == "local" and head.null.lam > 0 and head.input_dim == 120


def _composition_head():
    import dataclasses

    return dataclasses.replace(sequence_head(NullModel(0.5, 0.05)), composition_reference=0.0)


@pytest.mark.skipif(not SHIPPED.exists(), reason="no homology head shipped")
def test_shipped_head_carries_its_calibration():
    """The shipped head loads with the tail-fitted E-value null, the composition location it was
    centred with, and the typical spread of a query's shuffles."""
    from rnabert.alignment.heads import load_homology_head

    head = load_homology_head()
    assert head.composition_reference is not None and head.composition_sd > 0
    loc = head.composition_location
    assert loc is not None and loc != head.null and 0.1 < head.null.lam < 1.0
    # both nulls call a 40-bit-ish score of two 100-base RNAs significant, neither a zero score
    for null in (head.null, loc):
        assert null.evalue(60.0, 100, 100) < 1e-3 < null.evalue(0.0, 100, 100)


def test_query_correction_against_its_definition(rng):
    import dataclasses

    from rnabert.alignment.composition import correction_from_shuffles, expected_self_score

    head = dataclasses.replace(
        sequence_head(NullModel(0.3, 0.005)),
        composition_reference=2.0,
        composition_location=NullModel(0.4, 0.02),
    )
    lengths = np.array([50, 120, 300, 80])
    self_scores = rng.normal(20.0, 4.0, size=(4, 8)) * np.array([1.0, 1.0, 6.0, 0.2])[:, None]
    raw = rng.normal(25.0, 8.0, size=(4, 7))
    q = np.arange(4)[:, None]
    typical = (np.log(0.02 * lengths**2.0) + 0.5772156649) / 0.4 + 2.0  # location null's mean
    np.testing.assert_allclose(expected_self_score(head, lengths), typical)
    shift = self_scores.mean(1) - typical
    plain = correction_from_shuffles(head, lengths, self_scores)  # no spread: a pure shift
    np.testing.assert_allclose(plain.apply(raw, q), raw - shift[:, None])
    spread = correction_from_shuffles(
        dataclasses.replace(head, composition_sd=4.0), lengths, self_scores
    )
    sd = np.sqrt((7 * self_scores.var(1, ddof=1) + 7 * 16.0) / 14)
    scale = np.minimum(1.0, 4.0 / sd)
    assert scale[2] < 0.5 and scale[3] == 1.0  # a widely scattered query is damped, never raised
    want = typical[:, None] + (raw - typical[:, None] - shift[:, None]) * scale[:, None]
    np.testing.assert_allclose(spread.apply(raw, q), want)
    np.testing.assert_allclose(spread.shift, shift)
    back = spread.apply(spread.raw_threshold(31.5)[:, None], q)
    np.testing.assert_allclose(back, 31.5)


def test_composition_shift_flags_a_biased_query(rng):
    from rnabert.alignment.composition import composition_shifts

    model = rnabert.RnaBert()
    balanced = "".join(rng.choice(list("ACGU"), 60))
    biased = "GCGCGGCCGCGCGGCGCCGCGGCGCGCCGCGGCGCGCCGCGCGGCGGCGCCGCGCGCGGC"
    emb = rnabert.embed([("b", balanced), ("gc", biased)], model=model, device="cpu")
    shifts = composition_shifts(emb, _composition_head(), model=model)
    assert shifts.shape == (2,) and shifts[1] > shifts[0] + 5
    from rnabert.alignment.composition import composition_correction

    corr = composition_correction(emb, _composition_head(), model=model)
    np.testing.assert_array_equal(corr.shift, shifts)  # same shuffles, same seed
    np.testing.assert_array_equal(corr.scale, 1.0)  # no composition_sd: no scaling


def _min_score_keeps_the_pairs_above_it(seqs, tseqs, head, model, every):
    """min_score (corrected bits) keeps exactly the pairs of ``every`` at or above it."""
    cut = float(every.score.min()) + 0.5
    kept = rnabert.align_many(
        seqs, targets=tseqs, score="bits", head=head, model=model, composition=True, min_score=cut
    )
    assert sorted(zip(kept.i, kept.j)) == sorted(
        (a, b) for a, b, s in zip(every.i, every.j, every.score) if s >= cut
    )


def test_composition_corrected_bits(rng):
    from rnabert.alignment.composition import composition_shifts

    model = rnabert.RnaBert()
    seqs = [("q0", "".join(rng.choice(list("ACGU"), 40))), ("q1", "GCGCGGCCGCGCGGCGCCGCGGCGCGCC")]
    tseqs = [(f"t{k}", "".join(rng.choice(list("GC"), 30))) for k in range(3)]
    head = _composition_head()
    emb = rnabert.embed(seqs, model=model, device="cpu")
    shifts = composition_shifts(emb, head, model=model)
    plain = rnabert.align_many(seqs, targets=tseqs, score="bits", head=head, model=model)
    fixed = rnabert.align_many(
        seqs, targets=tseqs, score="bits", head=head, model=model, composition=True
    )
    np.testing.assert_allclose(
        fixed.score, plain.score - shifts[plain.i] * head.null.lam / np.log(2), rtol=1e-4, atol=1e-3
    )
    within = rnabert.align_many(seqs, score="bits", head=head, model=model, composition=True)
    base = rnabert.align_many(seqs, score="bits", head=head, model=model)
    want = base.score - (shifts[0] + shifts[1]) / 2 * head.null.lam / np.log(2)
    np.testing.assert_allclose(within.score, want, rtol=1e-4, atol=1e-3)
    _min_score_keeps_the_pairs_above_it(seqs, tseqs, head, model, fixed)
    # a head with a typical spread: a query whose shuffles scatter more is also scaled down
    import dataclasses

    from rnabert.alignment.composition import composition_correction

    wide = dataclasses.replace(head, composition_sd=0.5)
    corr = composition_correction(emb, wide, model=model)
    assert corr.scale.min() < 1.0
    got = rnabert.align_many(
        seqs, targets=tseqs, score="bits", head=wide, model=model, composition=True
    )
    raw = head.null.score_of_bits(plain.score)
    np.testing.assert_allclose(
        got.score, head.null.bits(corr.apply(raw, plain.i)), rtol=1e-4, atol=1e-3
    )
    within = rnabert.align_many(seqs, score="bits", head=wide, model=model, composition=True)
    raw = head.null.score_of_bits(base.score)
    want = head.null.bits((corr.apply(raw, base.i) + corr.apply(raw, base.j)) / 2)
    np.testing.assert_allclose(within.score, want, rtol=1e-4, atol=1e-3)
    _min_score_keeps_the_pairs_above_it(seqs, tseqs, wide, model, got)
    with pytest.raises(ValueError, match="needs targets"):
        rnabert.align_many(seqs, score="bits", head=head, model=model, composition=True, top_k=1)
    with pytest.raises(ValueError, match="needs score='bits'"):
        rnabert.align_many(seqs, model=model, composition=True)
    with pytest.raises(ValueError, match="no composition reference"):
        rnabert.align_many(seqs, score="bits", head=sequence_head(), model=model, composition=True)
