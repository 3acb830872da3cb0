"""The public alignment API: align_scores against the reference DP, Alignment, PairScores,
align_many."""

import json

import numpy as np
import pytest

import rnabert.alignment as ra
from rnabert.alignment import Alignment, PairScores, align_many, align_scores, align_scores_many
from rnabert.embeddings import Embeddings


# -- helpers
# -----------------------------------------------------------------------------------------
def cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a.astype(np.float64) @ b.astype(np.float64).T


def rescore(S, pairs, gap_open, gap_extend, mode="global", free_ends="both"):
    """Score of an alignment given as aligned pairs: matches minus gap_open + k*gap_extend per gap
    run.

    Global: every maximal run of unaligned bases of A or of B counts, end runs included. Local: only
    runs between the first and last aligned pair. Semi-global: end runs are free in both sequences
    (free_ends="both") or only in B (free_ends="query": A lies inside B).
    """
    la, lb = S.shape
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    total = float(S[pairs[:, 0], pairs[:, 1]].sum()) if len(pairs) else 0.0
    if mode == "local":
        ext = pairs
    else:
        ext = np.concatenate([[[-1, -1]], pairs, [[la, lb]]])
    last = len(ext) - 2
    for k, ((i0, j0), (i1, j1)) in enumerate(zip(ext[:-1], ext[1:])):
        end = mode == "semiglobal" and k in (0, last)
        for seq, run in (("a", i1 - i0 - 1), ("b", j1 - j0 - 1)):
            if run <= 0 or (end and (free_ends == "both" or seq == "b")):
                continue
            total -= gap_open + gap_extend * run
    return total


def random_embeddings(rng, n, lo=4, hi=20, dim=16, names=None, letters=False):
    lengths = rng.integers(lo, hi, size=n)
    arrays = [rng.normal(size=(int(L), dim)).astype(np.float32) for L in lengths]
    seqs = ["".join(rng.choice(list("ACGU"), size=int(L))) for L in lengths] if letters else None
    return Embeddings.from_arrays(arrays, names=names, sequences=seqs)


@pytest.fixture(scope="module")
def reference_cases():
    from conftest import FIXTURES

    with open(FIXTURES / "reference_global_alignments.json") as fh:
        return json.load(fh)["cases"]


# -- align_scores against the reference
# ----------------------------------------------------------------
def test_align_scores_reproduces_reference(reference_cases):
    import rnabert

    assert len(reference_cases) == 60
    for k, case in enumerate(reference_cases):
        S = np.asarray(case["score_matrix"], dtype=np.float64)
        aln = rnabert.align_scores(S, gap_open=case["gap_open"], gap_extend=case["gap_extend"])
        assert isinstance(aln, Alignment)
        assert (aln.len_a, aln.len_b) == S.shape == (case["len_a"], case["len_b"])
        if case["exact_arithmetic"]:
            assert aln.pairs.tolist() == case["aligned_pairs"], f"case {k}"
            assert abs(aln.score - case["score"]) <= 1e-6, f"case {k}"
        else:
            assert abs(aln.score - case["score"]) <= 1e-4, f"case {k}"
        # the reported score is the score of the reported pairs
        assert abs(rescore(S, aln.pairs, case["gap_open"], case["gap_extend"]) - aln.score) <= 1e-4


def test_align_scores_many_matches_single(reference_cases):
    cases = [c for c in reference_cases if c["exact_arithmetic"]][:8]
    mats = [np.asarray(c["score_matrix"]) for c in cases]
    out = align_scores_many(mats, gap_open=1.0, gap_extend=0.125)
    assert len(out) == len(cases)
    for aln, c in zip(out, cases):
        assert aln.pairs.tolist() == c["aligned_pairs"]
        assert abs(aln.score - c["score"]) <= 1e-6
    scores = align_scores_many(mats, gap_open=1.0, gap_extend=0.125, traceback=False)
    assert scores.dtype == np.float32 and scores.shape == (len(cases),)
    np.testing.assert_allclose(scores, [c["score"] for c in cases], atol=1e-6)


def test_align_scores_margins_change_the_objective(reference_cases):
    c = next(c for c in reference_cases if c["exact_arithmetic"])
    S = np.asarray(c["score_matrix"])
    ref = np.asarray(c["aligned_pairs"])
    plain = align_scores_many([S], gap_open=1.0, gap_extend=0.125, traceback=False)[0]
    aug = align_scores_many(
        [S],
        gap_open=1.0,
        gap_extend=0.125,
        reference=[ref],
        fp_margin=0.5,
        fn_margin=0.0,
        traceback=False,
    )[0]
    assert aug >= plain - 1e-6  # a non-negative bonus can only raise the optimum
    with pytest.raises(ValueError, match="fp_margin"):
        align_scores_many([S], reference=[ref], fp_margin=-1.0)
    with pytest.raises(ValueError, match="reference"):
        align_scores_many([S, S], reference=[ref])


def test_align_scores_rejects_bad_input():
    with pytest.raises(ValueError, match="S"):
        align_scores(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        align_scores(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="gap_open"):
        align_scores(np.zeros((3, 3)), gap_open=-1)
    with pytest.raises(ValueError, match="gap_extend"):
        align_scores(np.zeros((3, 3)), gap_extend=-0.5)
    with pytest.raises(ValueError, match="mode"):
        align_scores(np.zeros((3, 3)), mode="banana")


def test_align_scores_local_and_semiglobal():
    rng = np.random.default_rng(7)
    S = rng.uniform(-1, 0.2, size=(20, 30))
    S[5:12, 10:17] += np.eye(7) * 3  # a strong diagonal island
    loc = align_scores(S, mode="local", gap_open=1.0, gap_extend=0.1)
    assert loc.mode == "local" and loc.n_aligned > 0
    assert abs(rescore(S, loc.pairs, 1.0, 0.1, mode="local") - loc.score) <= 1e-4
    assert loc.start_a == loc.pairs[0, 0] and loc.end_a == loc.pairs[-1, 0] + 1
    assert loc.gapped_a.replace("-", "") == "N" * (loc.end_a - loc.start_a)
    glob = align_scores(S, mode="global")
    semi = align_scores(S, mode="semiglobal")
    assert semi.score >= glob.score - 1e-5  # free end gaps can only help
    assert len(semi.gapped_a.replace("-", "")) == 20 and len(semi.gapped_b.replace("-", "")) == 30


# -- the Alignment object
# --------------------------------------------------------------------------------
@pytest.fixture
def hand():
    # A = GACGUA, B = ACUUA; pairs A1-B0, A2-B1, A4-B3
    return Alignment(
        1.5,
        [[1, 0], [2, 1], [4, 3]],
        6,
        5,
        seq_a="GACGUA",
        seq_b="ACUUA",
        name_a="query",
        name_b="target",
    )


def test_alignment_gapped_strings_and_cigar(hand):
    assert hand.gapped_a == "GACG-UA-"
    assert hand.gapped_b == "-AC-UU-A"
    assert hand.markers() == " ||  |  "
    assert hand.cigar == "1I2M1I1D1M1I1D"
    assert hand.n_columns == 8 and hand.n_aligned == 3 and hand.n_identical == 3
    assert hand.identity == pytest.approx(3 / 8)
    assert hand.pairs.dtype == np.int64 and hand.pairs.shape == (3, 2)


def _cigar_counts(cigar):
    import re

    counts = {"M": 0, "I": 0, "D": 0}
    for n, op in re.findall(r"(\d+)([MID])", cigar):
        counts[op] += int(n)
    return counts


@pytest.mark.parametrize("mode", ["global", "local", "semiglobal"])
def test_alignment_layout_consistent_with_pairs(mode):
    rng = np.random.default_rng(3)
    for _ in range(50):
        la, lb = rng.integers(1, 25, size=2)
        k = rng.integers(0, min(la, lb) + 1)
        if mode == "local":
            k = max(k, 1)
        pi = np.sort(rng.choice(la, size=k, replace=False))
        pj = np.sort(rng.choice(lb, size=k, replace=False))
        sa = "".join(rng.choice(list("ACGU"), size=la))
        sb = "".join(rng.choice(list("ACGU"), size=lb))
        aln = Alignment(0.0, np.stack([pi, pj], 1), la, lb, seq_a=sa, seq_b=sb, mode=mode)
        ga, gb = aln.gapped_a, aln.gapped_b
        assert len(ga) == len(gb) == aln.n_columns
        assert ga.replace("-", "") == sa[aln.start_a : aln.end_a]
        assert gb.replace("-", "") == sb[aln.start_b : aln.end_b]
        assert not any(x == "-" and y == "-" for x, y in zip(ga, gb))
        # aligned pairs are exactly the columns with a base in both rows, in order
        ia = np.cumsum([c != "-" for c in ga]) - 1 + aln.start_a
        ib = np.cumsum([c != "-" for c in gb]) - 1 + aln.start_b
        both = [[int(x), int(y)] for x, y, ca, cb in zip(ia, ib, ga, gb) if ca != "-" and cb != "-"]
        assert both == aln.pairs.tolist()
        c = _cigar_counts(aln.cigar)
        assert c["M"] == k
        assert c["M"] + c["I"] == aln.end_a - aln.start_a
        assert c["M"] + c["D"] == aln.end_b - aln.start_b
        assert sum(c.values()) == aln.n_columns
        same = sum(sa[i] == sb[j] for i, j in aln.pairs.tolist())
        assert aln.n_identical == same


def test_alignment_without_letters():
    aln = Alignment(2.0, [[0, 0], [1, 2]], 3, 3)
    assert aln.gapped_a == "N-NN" and aln.gapped_b == "NNN-"
    assert aln.cigar == "1M1D1M1I"
    assert np.isnan(aln.identity) and aln.n_identical is None
    assert aln.markers() == ": : "


def test_alignment_rejects_inconsistent_pairs():
    with pytest.raises(ValueError, match="increasing"):
        Alignment(0, [[1, 1], [1, 2]], 3, 3)
    with pytest.raises(ValueError, match="range"):
        Alignment(0, [[0, 3]], 3, 3)
    with pytest.raises(ValueError, match="seq_a"):
        Alignment(0, [[0, 0]], 3, 3, seq_a="AC")


def test_alignment_str_layout():
    rng = np.random.default_rng(11)
    la, lb = 130, 100
    pi = np.sort(rng.choice(la, size=90, replace=False))
    pj = np.sort(rng.choice(lb, size=90, replace=False))
    sa = "".join(rng.choice(list("ACGU"), size=la))
    sb = "".join(rng.choice(list("ACGU"), size=lb))
    aln = Alignment(
        12.25, np.stack([pi, pj], 1), la, lb, seq_a=sa, seq_b=sb, name_a="qq", name_b="t"
    )
    text = str(aln)
    lines = text.rstrip("\n").split("\n")
    assert "score 12.2500" in lines[0] and "qq" in lines[0] and "identity" in lines[0]
    blocks = text.rstrip("\n").split("\n\n")[1:]
    assert len(blocks) == -(-aln.n_columns // 60)
    ga, gb, mk = aln.gapped_a, aln.gapped_b, aln.markers()
    end_a = end_b = 0
    for k, block in enumerate(blocks):
        la_, lm, lb_ = block.split("\n")
        ta, tb = la_.split(), lb_.split()
        assert ta[0] == "qq" and tb[0] == "t"
        seg = slice(60 * k, 60 * (k + 1))
        assert ta[2] == ga[seg] and tb[2] == gb[seg]
        col = la_.index(ta[2], len(ta[0]) + 1)  # rows start at the same column
        assert lb_.index(tb[2], len(tb[0]) + 1) == col
        assert lm[col:] == mk[seg].rstrip() or lm[col:].rstrip() == mk[seg].rstrip()
        assert len(ta[2]) <= 60
        n_a, n_b = len(ga[seg].replace("-", "")), len(gb[seg].replace("-", ""))
        if n_a:
            assert int(ta[1]) == end_a + 1
        end_a += n_a
        end_b += n_b
        assert int(ta[3]) == end_a and int(tb[3]) == end_b
    assert end_a == la and end_b == lb


def _parse_fasta(text):
    records, name = [], None
    for line in text.splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records.append([name, ""])
        elif line.strip():
            records[-1][1] += line.strip()
    return records


def test_to_fasta_and_stockholm_parse_back(hand, tmp_path):
    recs = _parse_fasta(hand.to_fasta())
    assert recs == [["query", hand.gapped_a], ["target", hand.gapped_b]]
    sto = hand.to_stockholm()
    assert sto.startswith("# STOCKHOLM 1.0\n") and sto.rstrip().endswith("//")
    rows = [ln.split() for ln in sto.splitlines() if ln and not ln.startswith("#") and ln != "//"]
    assert rows == [["query", hand.gapped_a], ["target", hand.gapped_b]]
    from rnabert.seqs import read_aligned_fasta, read_stockholm

    path = tmp_path / "pair.fa"
    path.write_text(hand.to_fasta())
    msa = read_aligned_fasta(path)
    assert msa.names == ["query", "target"]
    assert [msa.aligned[n] for n in msa.names] == [hand.gapped_a, hand.gapped_b]
    path = tmp_path / "pair.sto"
    path.write_text(sto + sto)  # several records in one file, as the CLI writes them
    msas = list(read_stockholm(path))
    assert len(msas) == 2
    assert msas[0].names == ["query", "target"]
    assert [msas[0].aligned[n] for n in msas[0].names] == [hand.gapped_a, hand.gapped_b]
    assert "score 1.5" in msas[0].gf.get("CC", "")


def test_local_records_carry_coordinates():
    aln = Alignment(
        3.0,
        [[2, 4], [3, 5], [5, 6]],
        8,
        9,
        seq_a="AAGCUGAA",
        seq_b="UUUUGCAUU",
        mode="local",
        name_a="x",
        name_b="x",
    )
    assert aln.gapped_a == "GCUG" and aln.gapped_b == "GC-A"
    recs = _parse_fasta(aln.to_fasta())
    assert [r[0] for r in recs] == ["x/3-6", "x/5-7"]
    assert "x/3-6" in aln.to_stockholm()


# -- align_many
# ------------------------------------------------------------------------------------------
def test_align_many_all_pairs_match_engine(rng):
    from rnabert.alignment import engine

    emb = random_embeddings(rng, 7)
    res = align_many(emb, device="cpu")
    assert isinstance(res, PairScores)
    assert len(res) == 7 * 6 // 2
    assert res.i.dtype == np.int64 and res.j.dtype == np.int64 and res.score.dtype == np.float32
    assert (res.i < res.j).all()
    expect = engine.score_pairs(emb, np.stack([res.i, res.j], 1), ra.AlignParams(), device="cpu")
    np.testing.assert_allclose(res.score, expect, rtol=1e-5, atol=1e-5)
    M = res.to_matrix()
    assert M.shape == (7, 7) and M.dtype == np.float32
    assert np.isnan(np.diag(M)).all()
    off = ~np.eye(7, dtype=bool)
    np.testing.assert_array_equal(M[off], M.T[off])
    assert res.names == emb.names and res.target_names == emb.names


def test_align_many_params_and_soft(rng):
    from rnabert.alignment import engine

    emb = random_embeddings(rng, 5)
    pairs = np.array([[0, 1], [3, 2], [4, 4]])
    p = ra.AlignParams(mode="local", bias=-0.3, gap_open=2.0, gap_extend=0.5)
    res = align_many(
        emb, pairs, mode="local", bias=-0.3, gap_open=2.0, gap_extend=0.5, device="cpu"
    )
    np.testing.assert_allclose(
        res.score, engine.score_pairs(emb, pairs, p, device="cpu"), atol=1e-5
    )
    assert res.i.tolist() == [0, 3, 4] and res.j.tolist() == [1, 2, 4]
    soft = align_many(emb, pairs, score="soft", device="cpu")
    np.testing.assert_allclose(
        soft.score, engine.soft_align_scores(emb, pairs, ra.AlignParams(), device="cpu"), atol=1e-5
    )
    with pytest.raises(ValueError, match="traceback"):
        align_many(emb, pairs, score="soft", traceback=True, device="cpu")


def test_align_many_top_k_and_min_score_agree_with_dense(rng):
    emb = random_embeddings(rng, 9)
    full = align_many(emb, device="cpu")
    M = full.to_matrix()
    thr = float(np.median(full.score))
    sel = align_many(emb, min_score=thr, device="cpu")
    expect = {(int(i), int(j)) for i, j, s in zip(full.i, full.j, full.score) if s >= thr}
    assert {(int(i), int(j)) for i, j in zip(sel.i, sel.j)} == expect
    np.testing.assert_allclose(sel.score, M[sel.i, sel.j], atol=1e-5)

    k = 2
    top = align_many(emb, top_k=k, device="cpu")
    np.testing.assert_allclose(top.score, M[top.i, top.j], atol=1e-5)
    # every sequence's k best partners (by the dense matrix) appear among the reported pairs
    got = {frozenset((int(i), int(j))) for i, j in zip(top.i, top.j)}
    for q in range(len(emb)):
        row = np.where(np.isnan(M[q]), -np.inf, M[q])
        kth = np.sort(row)[::-1][k - 1]
        for t in np.flatnonzero(row > kth + 1e-5):
            assert frozenset((q, int(t))) in got

    # explicit pairs are filtered the same way
    pairs = np.stack([full.i, full.j], 1)
    sel2 = align_many(emb, pairs, min_score=thr, device="cpu")
    assert sorted(zip(sel2.i.tolist(), sel2.j.tolist())) == sorted(expect)

    best = full.top(3)
    assert len(best) == 3 and list(best.score) == sorted(full.score, reverse=True)[:3]


def test_align_many_traceback_scores_recomputed(rng):
    emb = random_embeddings(rng, 5, letters=True)
    cases = [
        ("global", {}),
        ("local", {"bias": -0.2}),
        ("global", {"gap_open": 0.5, "gap_extend": 0.3, "scale": 2.0}),
        ("semiglobal", {"bias": -0.1}),
        ("semiglobal", {"bias": -0.1, "free_ends": "query"}),
    ]
    for mode, params in cases:
        res = align_many(emb, mode=mode, traceback=True, device="cpu", **params)
        assert res.alignments is not None and len(res.alignments) == len(res)
        p = ra.AlignParams(mode=mode, **params)
        for i, j, s, aln in zip(res.i, res.j, res.score, res.alignments):
            S = p.scale * cosine(emb[i], emb[j]) + p.bias
            assert (
                abs(rescore(S, aln.pairs, p.gap_open, p.gap_extend, mode, p.free_ends) - s) <= 1e-4
            )
            assert aln.score == pytest.approx(float(s))
            assert aln.seq_a == emb.sequences[i] and aln.seq_b == emb.sequences[j]
            assert aln.name_a == emb.names[i] and aln.name_b == emb.names[j]
        # the table gains identity and cigar
        header = res.to_tsv().splitlines()[0].split("\t")
        assert header == ["name_a", "name_b", "score", "identity", "cigar"]
    no_tb = align_many(emb, device="cpu")
    np.testing.assert_allclose(
        no_tb.score, align_many(emb, traceback=True, device="cpu").score, atol=1e-5
    )


def test_align_many_query_target(rng):
    q = random_embeddings(rng, 3, names=["q0", "q1", "q2"])
    t = random_embeddings(rng, 4, names=["t0", "t1", "t2", "t3"])
    res = align_many(q, targets=t, device="cpu")
    assert len(res) == 12 and res.names == q.names and res.target_names == t.names
    M = res.to_matrix()
    assert M.shape == (3, 4) and not np.isnan(M).any()
    for i, j, s in zip(res.i, res.j, res.score):
        S = cosine(q[i], t[j])
        tb = align_many(q, [[i, j]], targets=t, traceback=True, device="cpu").alignments[0]
        assert abs(rescore(S, tb.pairs, 1.0, 0.1) - s) <= 1e-4
    tsv = res.to_tsv().splitlines()
    assert tsv[0] == "name_a\tname_b\tscore" and tsv[1].startswith("q0\tt0\t")
    with pytest.raises(ValueError, match="pairs"):
        align_many(q, [[0, 4]], targets=t, device="cpu")


def test_align_many_accepts_arrays(rng):
    arrays = [rng.normal(size=(n, 8)).astype(np.float32) for n in (5, 7, 6)]
    res = align_many(arrays, device="cpu")
    assert len(res) == 3


def test_pairscores_exports(rng, tmp_path):
    emb = random_embeddings(rng, 4, names=["a", "b", "c", "d"])
    res = align_many(emb, device="cpu")
    path = tmp_path / "s.tsv"
    res.to_tsv(path)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 6
    row = lines[1].split("\t")
    assert row[:2] == ["a", "b"] and float(row[2]) == pytest.approx(float(res.score[0]), abs=1e-5)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"rnabert\[tables\]"):
            res.to_pandas()
    else:
        df = res.to_pandas()
        assert list(df.columns) == ["name_i", "name_j", "i", "j", "score"]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"rnabert\[tables\]"):
            res.to_parquet(tmp_path / "s.parquet")
    else:
        import pyarrow.parquet as pq

        res.to_parquet(tmp_path / "s.parquet")
        table = pq.read_table(tmp_path / "s.parquet")
        assert table.column_names == ["name_i", "name_j", "i", "j", "score"]
        assert table.num_rows == 6


def test_align_two_arrays(rng):
    a = rng.normal(size=(12, 16)).astype(np.float32)
    b = rng.normal(size=(9, 16)).astype(np.float32)
    aln = ra.align(a, b, device="cpu", gap_open=0.5)
    assert isinstance(aln, Alignment) and (aln.len_a, aln.len_b) == (12, 9)
    assert abs(rescore(cosine(a, b), aln.pairs, 0.5, 0.1) - aln.score) <= 1e-4
    named = ra.align(("x", a), ("y", b), device="cpu", gap_open=0.5)
    assert (named.name_a, named.name_b) == ("x", "y") and named.score == pytest.approx(aln.score)
    emb = Embeddings.from_arrays([a, b], names=["p", "q"], sequences=["A" * 12, "A" * 9])
    kept = ra.align(emb.subset([0]), emb.subset([1]), device="cpu", gap_open=0.5)
    assert (kept.name_a, kept.seq_b) == ("p", "A" * 9) and kept.score == pytest.approx(aln.score)
    assert kept.identity == pytest.approx(kept.n_aligned / kept.n_columns)


def test_sequences_are_embedded_with_the_model(tmp_path):
    pytest.importorskip("torch")
    from conftest import FIXTURES

    model = FIXTURES / "rnabert_original_format_random_init.pt"
    s1, s2 = "GCGGAUUUAGCUCAGUUGGGAGAGC", "ggggcuauagcucagcugggagagcgc"
    aln = ra.align(("t1", s1), s2, model=model, device="cpu")
    assert (aln.name_a, aln.name_b) == ("t1", "b")
    assert aln.seq_a == s1 and aln.seq_b == s2.upper()  # cleaned letters come back
    assert aln.gapped_b.replace("-", "") == s2.upper() and 0 < aln.identity <= 1
    fa = tmp_path / "x.fa"
    fa.write_text(f">t1\n{s1}\n>t2\n{s2}\n>t3\nACGUACGUAGCUAGCUAG\n")
    res = ra.align_many(str(fa), model=model, traceback=True, device="cpu")
    assert res.names == ["t1", "t2", "t3"] and len(res) == 3
    assert res.alignments[0].score == pytest.approx(aln.score, abs=1e-4)
    assert res.alignments[0].gapped_a == aln.gapped_a


def test_rnabert_align_is_only_the_function(rng):
    import importlib.util
    import inspect

    import rnabert
    import rnabert.alignment  # the subpackage has its own name: importing it rebinds nothing

    a, b = rng.normal(size=(6, 8)), rng.normal(size=(7, 8))
    assert inspect.isfunction(rnabert.align) and rnabert.align is rnabert.alignment.align
    assert isinstance(rnabert.align(a, b, device="cpu"), Alignment)
    assert importlib.util.find_spec("rnabert.align") is None
    assert rnabert.align_many is align_many and rnabert.align_scores is align_scores


# -- argument errors
# -------------------------------------------------------------------------------------
def test_bad_arguments(rng):
    emb = random_embeddings(rng, 4)
    with pytest.raises(ValueError, match="mode"):
        align_many(emb, mode="fancy", device="cpu")
    with pytest.raises(ValueError, match="pairs"):
        align_many(emb, [[0, 9]], device="cpu")
    with pytest.raises(ValueError, match="pairs"):
        align_many(emb, [[-1, 0]], device="cpu")
    with pytest.raises(ValueError, match="pairs"):
        align_many(emb, "some", device="cpu")
    with pytest.raises(ValueError, match="gap_open"):
        align_many(emb, gap_open=-1.0, device="cpu")
    with pytest.raises(ValueError, match="gap_extend"):
        align_many(emb, gap_extend=-0.1, device="cpu")
    with pytest.raises(ValueError, match="score"):
        align_many(emb, score="best", device="cpu")
    with pytest.raises(ValueError, match="top_k"):
        align_many(emb, top_k=0, device="cpu")
    with pytest.raises(ValueError, match="threads"):
        align_many(emb, threads=0, device="cpu")
    with pytest.raises(ValueError, match="device"):
        align_many(emb, device="tpu")
    with pytest.raises(TypeError, match="gap_opn"):
        align_many(emb, gap_opn=1.0, device="cpu")


def test_cuda_unavailable_is_a_clear_error(rng, monkeypatch):
    from rnabert.backends import cuda_module

    try:
        cuda_module()
    except RuntimeError:
        pass
    else:
        pytest.skip("a CUDA GPU is usable here")
    emb = random_embeddings(rng, 3)
    with pytest.raises(RuntimeError, match="cuda"):
        align_many(emb, device="cuda")
    monkeypatch.delenv("RNABERT_BACKEND", raising=False)
    assert len(align_many(emb, device="auto")) == 3  # auto falls back to the CPU


def test_inputs_are_checked_once_with_the_same_rule_and_message_everywhere(rng):
    """Public and engine functions share alignment/validate.py: one rule per input."""
    from rnabert.alignment import engine, validate

    emb = random_embeddings(rng, 3)
    for bad in (0, -1, 1.5, True):
        for call in (
            lambda: align_many(emb, threads=bad, device="cpu"),
            lambda: engine.score_pairs(emb, [[0, 1]], threads=bad),
            lambda: engine.all_vs_all(emb, threads=bad),
            lambda: engine.align_score_matrices([np.zeros((2, 2))], threads=bad),
            lambda: align_scores_many([np.zeros((2, 2))], threads=bad),
        ):
            with pytest.raises(
                ValueError, match=r"^threads must be a positive integer or None, got "
            ):
                call()
    msg = r"^pairs out of range: row 1 is \(0, 3\), but there are 3 queries and 3 targets$"
    with pytest.raises(ValueError, match=msg):
        align_many(emb, [[0, 1], [0, 3]], device="cpu")
    with pytest.raises(ValueError, match=msg):
        engine.align_pairs(emb, [[0, 1], [0, 3]])
    with pytest.raises(ValueError, match=r"^matrices\[1\] holds NaN or infinite values$"):
        align_scores_many([np.zeros((2, 2)), np.full((2, 2), np.nan)])
    with pytest.raises(ValueError, match=r"^matrices\[1\] holds NaN or infinite values$"):
        engine.align_score_matrices([np.zeros((2, 2)), np.full((2, 2), np.nan)])
    with pytest.raises(
        ValueError, match=r"^mode must be one of 'global', 'local', 'semiglobal', got 'x'$"
    ):
        align_many(emb, mode="x", device="cpu")
    assert validate.threads(None) == 0 and validate.threads(3) == 3
    assert validate.pairs([], 2, 2).shape == (0, 2)
