"""Homology scoring: dinucleotide shuffles, the extreme-value null, and heads (vectors, files,
baseline)."""

import collections
import json

import numpy as np
import pytest

import reference as ref
from rnabert.alignment.engine import all_vs_all
from rnabert.alignment.heads import HomologyHead, sequence_head
from rnabert.alignment.null import NullModel, fit_null, fit_null_tail
from rnabert.alignment.params import AlignParams
from rnabert.embeddings import Embeddings
from rnabert.seqs import token_ids_of_clean
from rnabert.seqs.shuffle import dinucleotide_shuffle


def _dinucleotides(s):
    return collections.Counter(zip(s, s[1:]))


def test_shuffle_keeps_dinucleotides_ends_and_length(rng):
    for _ in range(300):
        s = "".join(rng.choice(list("ACGUN"), int(rng.integers(1, 80))))
        r = dinucleotide_shuffle(s, rng)
        assert len(r) == len(s) and r[:1] == s[:1] and r[-1:] == s[-1:]
        assert _dinucleotides(r) == _dinucleotides(s)


def test_shuffle_is_seeded_and_random():
    s = "GGGAAACCCUUUGGGAAACCCAUGCAUGCCGAUAGCGAUCGAUGCAGCUAGCUAGC"
    a = dinucleotide_shuffle(s, np.random.default_rng(1))
    assert a == dinucleotide_shuffle(s, np.random.default_rng(1))
    outs = {dinucleotide_shuffle(s, np.random.default_rng(k)) for k in range(20)}
    assert len(outs) > 10  # many distinct walks, not one fixed rearrangement


def test_shuffle_reaches_every_eulerian_walk():
    # "ABAB...": from ACAGA the walks with the same dinucleotides are ACAGA and AGACA only
    rng = np.random.default_rng(0)
    seen = collections.Counter(dinucleotide_shuffle("ACAGA", rng) for _ in range(400))
    assert set(seen) == {"ACAGA", "AGACA"} and min(seen.values()) > 120


def _gumbel_sample(rng, lam, K, n, edge=0.0):
    m = rng.integers(40, 400, n)
    t = rng.integers(40, 400, n)
    area = np.maximum(m - edge, 1) * np.maximum(t - edge, 1)
    x = (np.log(K * area) - np.log(-np.log(rng.random(n)))) / lam
    return x, m, t


def test_fit_null_recovers_parameters(rng):
    x, m, t = _gumbel_sample(rng, 0.4, 0.03, 20000)
    null = fit_null(x, m, t, edges=(0.0,))
    assert null.lam == pytest.approx(0.4, rel=0.03)
    assert null.K == pytest.approx(0.03, rel=0.25)


def test_fit_null_finds_edge_correction(rng):
    x, m, t = _gumbel_sample(rng, 0.5, 0.1, 30000, edge=20.0)
    assert fit_null(x, m, t).edge == 20.0


def test_censored_fit_recovers_parameters(rng):
    """Scores below a per-pair threshold only count as "below": the fit still finds λ and K."""
    x, m, t = _gumbel_sample(rng, 0.4, 0.03, 40000)
    null = NullModel(0.4, 0.03)
    censor = null.score_of_bits(np.log2(null.effective(m) * null.effective(t) / 0.05))
    assert 1000 < (x >= censor).sum() < 3000  # the fit sees about 5 % of the scores
    fit = fit_null(x, m, t, edges=(0.0,), censor=censor)
    assert fit.lam == pytest.approx(0.4, rel=0.06)
    assert fit.K == pytest.approx(0.03, rel=0.4)
    with pytest.raises(ValueError, match="thresholds for"):
        fit_null(x, m, t, censor=censor[:10])
    with pytest.raises(ValueError, match="above the censoring"):
        fit_null(x, m, t, censor=np.full(len(x), x.max() + 1))


def test_tail_fit_recovers_parameters(rng):
    x, m, t = _gumbel_sample(rng, 0.4, 0.03, 60000)
    fit = fit_null_tail(x, m, t, tail_evalue=0.02)
    assert fit.lam == pytest.approx(0.4, rel=0.06) and fit.K == pytest.approx(0.03, rel=0.4)
    with pytest.raises(ValueError, match="tail_evalue"):
        fit_null_tail(x, m, t, tail_evalue=0.0)


def test_tail_fit_calibrates_a_heavy_tailed_mixture(rng):
    """Decoys where 10 % of pairs have a heavier tail (smaller λ): the whole-distribution fit
    gives far too many hits at small E-values, the tail fit about the nominal number."""
    x, m, t = _gumbel_sample(rng, 0.4, 0.03, 180000)
    y, m2, t2 = _gumbel_sample(rng, 0.25, 0.01, 20000)
    x, m, t = np.concatenate([x, y]), np.concatenate([m, m2]), np.concatenate([t, t2])

    def hits(null, e):  # pairs with E-value ≤ e, per expected
        return np.sum(null.evalue(x, m, t) <= e) / (len(x) * e)

    whole = fit_null(x, m, t, edges=(0.0,))
    tail = fit_null_tail(x, m, t, tail_evalue=1e-3)
    assert hits(whole, 1e-4) > 3
    for e in (1e-4, 1e-3):
        assert 0.5 < hits(tail, e) < 2


def test_evalue_counts_unrelated_hits(rng):
    """E ≤ x is expected x times among unrelated pairs: check on the sampled null itself."""
    null = NullModel(0.4, 0.03)
    x, m, t = _gumbel_sample(rng, 0.4, 0.03, 200000)
    e = null.evalue(x, m, t)
    for thr in (0.01, 0.1, 1.0):
        assert np.mean(e <= thr) == pytest.approx(1 - np.exp(-thr), rel=0.1)
    assert np.allclose(null.evalue(x, m, t), m * t * 2.0 ** -null.bits(x))


def test_null_model_refuses_bad_parameters():
    with pytest.raises(ValueError, match="lam"):
        NullModel(0.0, 1.0)
    with pytest.raises(ValueError, match="K missing"):
        NullModel.from_dict({"lambda": 1.0, "edge": 0.0})
    with pytest.raises(ValueError, match="at least 50"):
        fit_null([1.0, 2.0], [10, 10], [10, 10])


def _random_head(rng, dim_in=16, dim=8, nb=5):
    return HomologyHead(
        rng.normal(size=(dim, dim_in)).astype(np.float32),
        rng.normal(size=(6, nb)).astype(np.float32),
        0.8,
        0.7,
        AlignParams(mode="local", scale=3.0, bias=-1.0, gap_open=5.0, gap_extend=1.0),
        NullModel(0.4, 0.02, 5.0),
        "abc",
    )


def _random_block(rng, n=4, dim_in=16):
    seqs = ["".join(rng.choice(list("ACGUN"), int(rng.integers(3, 30)))) for _ in range(n)]
    arrays = [rng.normal(size=(len(s), dim_in)).astype(np.float32) for s in seqs]
    return Embeddings.from_arrays(arrays, [f"s{k}" for k in range(n)], seqs)


def test_head_vectors_match_their_definition(rng):
    head = _random_head(rng)
    emb = _random_block(rng)
    got = head.vectors(emb)
    for k, seq in enumerate(emb.sequences):
        e = emb[k].astype(np.float64)
        x = (e - head.center * e.mean(0)) @ head.proj.T.astype(np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        u = np.concatenate([x, head.mix * head.base[token_ids_of_clean(seq)]], axis=1)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        np.testing.assert_allclose(got[k], u, atol=1e-5)
    assert got.names == emb.names and got.sequences == emb.sequences


def test_head_file_round_trip(rng, tmp_path):
    head = _random_head(rng)
    head.save(tmp_path / "h.safetensors")
    back = HomologyHead.load(tmp_path / "h.safetensors")
    np.testing.assert_array_equal(back.proj, head.proj)
    np.testing.assert_array_equal(back.base, head.base)
    assert (back.center, back.mix, back.params, back.null, back.encoder_sha256) == (
        pytest.approx(head.center),
        pytest.approx(head.mix),
        head.params,
        head.null,
        "abc",
    )


def test_head_file_keeps_its_composition_calibration(rng, tmp_path):
    import dataclasses

    head = _random_head(rng)
    assert HomologyHead.load(_saved(head, tmp_path / "old.safetensors")).composition_sd is None
    head = dataclasses.replace(
        head,
        composition_reference=4.5,
        composition_location=NullModel(0.37, 0.02),
        composition_sd=3.9,
    )
    back = HomologyHead.load(_saved(head, tmp_path / "new.safetensors"))
    assert back.composition_reference == pytest.approx(4.5)
    assert back.composition_location == NullModel(0.37, 0.02)
    assert back.composition_sd == pytest.approx(3.9)
    meta = _metadata(tmp_path / "new.safetensors")
    meta["composition_sd"] = -1.0
    with pytest.raises(ValueError, match="bad.safetensors: field 'composition_sd'"):
        HomologyHead.load(_with_metadata(head, meta, tmp_path / "bad.safetensors"))
    del meta["composition_sd"]
    del meta["composition_location"]["K"]
    with pytest.raises(ValueError, match="composition_location: null parameter.s. K missing"):
        HomologyHead.load(_with_metadata(head, meta, tmp_path / "bad2.safetensors"))


def _saved(head, path):
    head.save(path)
    return path


def _metadata(path):
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        return json.loads(json.loads(fh.read(n))["__metadata__"]["rnabert_homology_head"])


def _with_metadata(head, meta, path):
    from safetensors.numpy import save_file

    save_file(
        {"proj": head.proj, "base": head.base},
        str(path),
        metadata={"rnabert_homology_head": json.dumps(meta)},
    )
    return path


def test_head_refusals(rng, tmp_path):
    from safetensors.numpy import save_file

    head = _random_head(rng)
    with pytest.raises(ValueError, match="expects 16-dimensional"):
        head.vectors(_random_block(rng, dim_in=12))
    bare = Embeddings.from_arrays([rng.normal(size=(5, 16)).astype(np.float32)])
    with pytest.raises(ValueError, match="needs the sequences"):
        head.vectors(bare)
    path = tmp_path / "h.safetensors"
    head.save(path)
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        meta = json.loads(json.loads(fh.read(n))["__metadata__"]["rnabert_homology_head"])
    del meta["null"]
    bad = tmp_path / "no_null.safetensors"
    save_file(
        {"proj": head.proj, "base": head.base},
        str(bad),
        metadata={"rnabert_homology_head": json.dumps(meta)},
    )
    with pytest.raises(ValueError, match="no_null.safetensors: field 'null'"):
        HomologyHead.load(bad)
    plain = tmp_path / "plain.safetensors"
    save_file({"proj": head.proj}, str(plain))
    with pytest.raises(ValueError, match="plain.safetensors: no 'rnabert_homology_head'"):
        HomologyHead.load(plain)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="junk.safetensors: not a readable homology head"):
        HomologyHead.load(tmp_path / "junk.safetensors")


def test_sequence_head_is_smith_waterman(rng):
    """The one-hot head through the engine equals a numpy Smith-Waterman with +2/-3 and gaps 5 +
    2k."""
    seqs = ["".join(rng.choice(list("ACGU"), int(rng.integers(5, 40)))) for _ in range(6)]
    emb = Embeddings.from_arrays(
        [rng.normal(size=(len(s), 120)).astype(np.float32) for s in seqs], sequences=seqs
    )
    head = sequence_head()
    got = all_vs_all(head.vectors(emb), head.params)
    for a in range(6):
        for b in range(6):
            S = np.where(
                np.array(list(seqs[a]))[:, None] == np.array(list(seqs[b]))[None, :], 2.0, -3.0
            )
            want, _ = ref.align(S, gap_open=5.0, gap_extend=2.0, mode="local")
            assert got[a, b] == pytest.approx(want, abs=1e-4)
