"""Pictures: every figure is drawn to a file and read back as a real, non-blank image (PNG) or a
self-contained page (HTML); structures, pair statuses and label grouping are checked as data; a
missing matplotlib gives one line saying what to install; `rnabert search --plot` end to end."""

import json
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.image  # noqa: E402

import rnabert  # noqa: E402
from rnabert.cli import main  # noqa: E402
from rnabert.clustering.result import Clusters  # noqa: E402
from rnabert.plot import (  # noqa: E402
    MISSING,
    alignment_figure,
    cluster_figure,
    embedding_map,
    member_structure,
    pair_table,
    search_hit_figure,
    similarity_heatmap,
    training_curves,
)
from rnabert.plot.alignment import (  # noqa: E402
    CANNOT_PAIR,
    COMPATIBLE,
    KEPT,
    NOT_KEPT,
    UNALIGNED,
    _layout,
)
from rnabert.plot.embedding import OTHER, _grouped  # noqa: E402
from rnabert.plot.search import _on_piece  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_picture(path, min_side=150):
    """A PNG that decodes to an image of some size holding more than a few colours."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= min_side, img.shape
    colours = np.unique(img.reshape(-1, img.shape[-1])[::3], axis=0)
    assert len(colours) > 8  # not a blank (single-colour) canvas


def assert_page(path, *needles):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<svg" in text and "</svg>" in text  # the figure is inside the page, no other file
    assert "<?xml" not in text
    for needle in needles:
        assert needle in text


def _toy_embeddings(rng, lengths, dim=16):
    return [rng.normal(size=(n, dim)).astype(np.float32) for n in lengths]


# -- embedding map -------------------------------------------------------------------------------
def test_embedding_map_png_svg_html(tmp_path, rng):
    centres = rng.normal(scale=4, size=(4, 32))
    x = np.concatenate([c + rng.normal(size=(25, 32)) for c in centres])
    labels = [f"class{k}" for k in range(4) for _ in range(25)]
    assert embedding_map(x, labels, tmp_path / "m.png", title="toy") == tmp_path / "m.png"
    assert_picture(tmp_path / "m.png")
    embedding_map(x, labels, tmp_path / "m.html")
    assert_page(tmp_path / "m.html", "class3 (25)")  # legend text is searchable in the SVG
    embedding_map(x, labels, tmp_path / "m.svg")
    assert (tmp_path / "m.svg").read_text().lstrip().startswith("<?xml")


def test_embedding_map_takes_embeddings_and_tiny_inputs(tmp_path, rng):
    emb = rnabert.Embeddings.from_arrays(_toy_embeddings(rng, [5, 7, 9]), names=["a", "b", "c"])
    embedding_map(emb, ["x", "y", "x"], tmp_path / "e.png")  # pooled per sequence
    assert_picture(tmp_path / "e.png")
    embedding_map(np.ones((1, 3)), ["only"], tmp_path / "one.png")
    assert_picture(tmp_path / "one.png")
    with pytest.raises(ValueError, match="3 vectors but 2 labels"):
        embedding_map(emb, ["x", "y"], tmp_path / "bad.png")
    with pytest.raises(ValueError, match="unknown suffix .jpg"):
        embedding_map(emb, ["x", "y", "z"], tmp_path / "bad.jpg")


def test_many_labels_keep_the_most_frequent_and_group_the_rest():
    labels = ["big"] * 5 + ["mid"] * 3 + [f"single{k}" for k in range(30)]
    names, group, grouped = _grouped(labels, max_coloured=6)
    assert grouped and names[:2] == ["big", "mid"] and names[-1] == OTHER and len(names) == 6
    assert (group[:5] == 0).all() and (group[5:8] == 1).all()
    assert names[2:5] == ["single0", "single1", "single2"]  # ties: by first appearance
    assert (group == len(names) - 1).sum() == 30 - 3
    names, group, grouped = _grouped(["a", "b", "a"], max_coloured=6)
    assert not grouped and names == ["a", "b"] and group.tolist() == [0, 1, 0]


# -- structures ----------------------------------------------------------------------------------
def test_pair_tables_of_dot_bracket_wuss_and_pseudoknots():
    assert pair_table("((..))").tolist() == [5, 4, -1, -1, 1, 0]
    assert pair_table("<<_>>,:").tolist() == [4, 3, -1, 1, 0, -1, -1]
    assert pair_table("(.[.).]").tolist() == [4, -1, 6, -1, 0, -1, 2]
    assert pair_table("A.(.a.)").tolist() == [4, -1, 6, -1, 0, -1, 2]
    with pytest.raises(ValueError, match=r"unbalanced '\)' at position 4"):
        pair_table("(.))")
    with pytest.raises(ValueError, match=r"unbalanced '\(' at position 1"):
        pair_table("((.)")


def test_consensus_structure_on_one_member():
    # the member lacks column 2, so the pair of columns 2 and 4 loses a partner
    assert member_structure("AC-GUU", "(.(.))") == "(...)"
    assert member_structure("ACGGUU", "<<..>>") == "<<..>>"
    with pytest.raises(ValueError, match="SS_cons has 3 columns"):
        member_structure("ACGU", "(.)")


def test_minus_strand_hits_read_the_structure_on_the_reverse_complement():
    partner = pair_table("((...)).")  # query positions; the piece is its reverse complement
    piece = _on_piece(partner, "-")
    assert piece.tolist() == pair_table(".((...))").tolist()
    assert _on_piece(partner, "+") is partner


# -- alignments ----------------------------------------------------------------------------------
def _hairpin_alignment(seq_b):
    seq_a = "GGGAAACCC"
    pairs = np.stack([np.arange(9), np.arange(9)], axis=1)
    return rnabert.alignment.Alignment(5.0, pairs, 9, len(seq_b), seq_a=seq_a, seq_b=seq_b)


def test_pair_status_through_the_alignment():
    aln = _hairpin_alignment("GGGAAACCC")
    cols = _layout(aln, None, None, None, "(((...)))", "(((...)))")
    assert set(cols.status_a[[0, 1, 2, 6, 7, 8]].tolist()) == {KEPT}
    assert cols.status_a[3:6].tolist() == [0, 0, 0]
    cols = _layout(aln, None, None, None, "(((...)))", "((.....))")
    assert cols.status_a[2] == NOT_KEPT and cols.status_a[0] == KEPT
    # without the target's structure: can the aligned target bases pair?
    cols = _layout(_hairpin_alignment("GGAAAACCC"), None, None, None, "(((...)))", None)
    assert cols.status_a[2] == CANNOT_PAIR and cols.status_a[0] == COMPATIBLE
    assert not cols.status_b.any()  # no structure of B, nothing marked on its row
    gapped = rnabert.alignment.Alignment(
        1.0, [[0, 0], [1, 1], [3, 2]], 9, 3, seq_a="GGGAAACCC", seq_b="GGA"
    )
    cols = _layout(gapped, None, None, None, "(((...)))", None)
    assert cols.status_a[0] == UNALIGNED  # base 8, its partner, is not aligned


def test_alignment_figure_png_and_html(tmp_path, rng):
    ea, eb = _toy_embeddings(rng, [70, 64])
    eb[:60] = ea[:60] + 0.3 * rng.normal(size=(60, 16)).astype(np.float32)
    aln = rnabert.align(("query", ea), ("target", eb), mode="global")
    seq_a = "".join(rng.choice(list("ACGU"), 70))
    seq_b = "".join(rng.choice(list("ACGU"), 64))
    aln = rnabert.alignment.Alignment(
        aln.score, aln.pairs, 70, 64, name_a="query", name_b="target", seq_a=seq_a, seq_b=seq_b
    )
    ss = "((((((" + "." * 58 + "))))))"
    out = alignment_figure(aln, tmp_path / "a.png", emb_a=ea, emb_b=eb, structure_a=ss)
    assert out == tmp_path / "a.png"
    assert_picture(tmp_path / "a.png")
    alignment_figure(aln, tmp_path / "a.html", emb_a=ea, emb_b=eb, structure_b="." * 64)
    assert_page(tmp_path / "a.html", "<pre class='alignment'>", "title='")
    # no similarities and no structure: plain rows still draw
    alignment_figure(aln, tmp_path / "plain.png", width=30)
    assert_picture(tmp_path / "plain.png")
    with pytest.raises(ValueError, match="structure_a covers 5 positions"):
        alignment_figure(aln, tmp_path / "x.png", structure_a="(...)")
    with pytest.raises(ValueError, match="similarity has 3 values"):
        alignment_figure(aln, tmp_path / "x.png", similarity=[0.1, 0.2, 0.3])


def test_similarity_heatmap_draws_the_path_on_the_matrix(tmp_path, rng):
    ea, eb = _toy_embeddings(rng, [40, 50])
    aln = rnabert.align(("a", ea), ("b", eb), mode="local", bias=-0.3)
    similarity_heatmap(ea, eb, tmp_path / "h.png", alignment=aln)
    assert_picture(tmp_path / "h.png")
    similarity_heatmap(ea, eb, tmp_path / "h.html", pairs=aln.pairs, seq_a="A" * 40)
    assert_page(tmp_path / "h.html", "alignment path")
    with pytest.raises(ValueError, match="out of range"):
        similarity_heatmap(ea, eb, tmp_path / "x.png", pairs=[[0, 0], [45, 49]])
    with pytest.raises(ValueError, match="embeddings have 50 and 40 rows"):
        similarity_heatmap(eb, ea, tmp_path / "x.png", alignment=aln)


# -- clusters and training -----------------------------------------------------------------------
def _clusters(rng, n=30):
    labels = np.sort(rng.integers(0, 6, n))
    labels = np.unique(labels, return_inverse=True)[1]
    reps = np.array([np.flatnonzero(labels == c)[0] for c in labels])
    bits = rng.uniform(15, 80, n)
    return Clusters(
        [f"s{k}" for k in range(n)], labels, reps, bits, 10.0**-bits / 10, "average", 10.0
    )


def test_cluster_figure_with_and_without_dendrogram(tmp_path, rng):
    cl = _clusters(rng)
    cluster_figure(cl, tmp_path / "c.png")
    assert_picture(tmp_path / "c.png")
    sim = rng.uniform(0, 30, (30, 30))
    sim = (sim + sim.T) / 2 + 40 * (cl.labels[:, None] == cl.labels[None, :])
    cluster_figure(cl, tmp_path / "d.png", similarity=sim)
    small, large = (matplotlib.image.imread(tmp_path / p).shape for p in ("c.png", "d.png"))
    assert large[1] > small[1]  # a third panel
    assert_picture(tmp_path / "d.png")
    cluster_figure(cl, tmp_path / "c.html", similarity=sim)
    assert_page(tmp_path / "c.html", "average-linkage dendrogram", "s29")
    with pytest.raises(ValueError, match=r"shape \(30, 30\)"):
        cluster_figure(cl, tmp_path / "x.png", similarity=sim[:5, :5])


def test_significance_matrix_is_symmetric_minus_log2_evalue():
    from types import SimpleNamespace

    from rnabert.plot.clusters import significance_matrix

    scores = SimpleNamespace(
        names=["a", "b", "c"],
        i=np.array([0, 0, 1]),
        j=np.array([1, 2, 2]),
        evalue=lambda: np.array([2.0**-20, 1.0, 0.25]),
    )
    m = significance_matrix(scores)
    assert m[0, 1] == m[1, 0] == 20.0 and m[0, 2] == 0.0 and m[2, 1] == 2.0
    assert np.isnan(np.diag(m)).all()


def _metrics(path):
    rows = [
        {"step": s, "mlm_loss": 2.0 / s, "mlm_acc": 0.3 + s / 100, "sal_loss": 3.0 / s,
         "lr": 1e-3, "val_f": 0.5 if s % 5 == 0 else None}
        for s in range(1, 21)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_training_curves_and_plot_metrics_command(tmp_path, capsys):
    metrics = _metrics(tmp_path / "metrics.jsonl")
    assert training_curves(metrics) == tmp_path / "curves.png"
    assert_picture(tmp_path / "curves.png")
    assert main(["plot-metrics", str(metrics), str(tmp_path / "c.html")]) == 0
    assert_page(tmp_path / "c.html", "validation F")
    assert main(["plot-metrics", str(metrics), str(tmp_path / "c.gif")]) == 2
    assert main(["plot-metrics", str(tmp_path / "none.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "unknown suffix .gif" in err[0] and "not found" in err[1]


# -- matplotlib missing --------------------------------------------------------------------------
def test_missing_matplotlib_is_one_line_saying_what_to_install(tmp_path, monkeypatch, capsys):
    metrics = _metrics(tmp_path / "metrics.jsonl")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install rnabert\[plot\]"):
        embedding_map(np.zeros((3, 2)), ["a", "b", "c"], tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()
    assert main(["plot-metrics", str(metrics), str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"rnabert plot-metrics: error: {MISSING}"
    from rnabert.train.plot import plot_metrics

    assert plot_metrics(metrics) is None  # the trainer's end-of-run picture never fails a run


# -- search hits ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def search_setup(tmp_path_factory):
    pytest.importorskip("faiss")
    pytest.importorskip("pyarrow")
    from conftest import EXAMPLES
    from rnabert.seqs import read_fasta, read_stockholm, write_stockholm

    tmp = tmp_path_factory.mktemp("plot_search")
    records = [(r.name, r.seq) for r in read_fasta(EXAMPLES / "rfam_examples.fa")][:8]
    targets = tmp / "t.fa"
    targets.write_text("".join(f">{n}\n{s}\n" for n, s in records))
    family = next(read_stockholm(EXAMPLES / "rfam_examples.sto"))
    queries = tmp / "q.sto"
    write_stockholm(family.select(family.names[:2]), queries)
    db = tmp / "db.rnabert"
    assert main(["db", "build", str(targets), "-o", str(db), "--no-progress"]) == 0
    return tmp, db, queries, family


def test_search_plot_through_the_command_line(search_setup, capsys):
    tmp, db, queries, family = search_setup
    png, hits = tmp / "hits.png", tmp / "hits.tsv"
    args = ["search", str(queries), str(db), "-o", str(hits), "--no-progress", "--threads", "1"]
    assert main([*args, "--plot", str(png), "--plot-hits", "2"]) == 0
    assert_picture(png, min_side=400)
    assert "hits drawn ->" in capsys.readouterr().err
    page = tmp / "hits.html"
    assert main([*args, "--plot", str(page)]) == 0
    best = hits.read_text().splitlines()[1].split("\t")
    assert_page(page, f"{best[0]} -&gt; {best[1]}", "<pre class='alignment'>")
    capsys.readouterr()
    # a bad picture name is refused before any work, in one line
    hits.unlink()
    assert main([*args, "--plot", str(tmp / "hits.bmp")]) == 2
    assert not hits.exists()
    assert capsys.readouterr().err.count("\n") == 1


def test_hit_alignment_is_the_searched_alignment(search_setup, tmp_path):
    from rnabert.search import search
    from rnabert.search.hits import hit_alignment

    _, db, queries, family = search_setup
    record = family.records()[0]
    model = rnabert.load_model()
    hits = search([(record.name, record.seq)], db, model=model, strand="both", progress=False)
    drawn = [hit_alignment(db, h, record.seq, model=model, threads=1) for h in hits[:3]]
    for h, d in zip(hits, drawn):
        aln = d.alignment
        assert aln.start_a + 1 == (h.qstart if h.strand == "+" else len(record.seq) - h.qend + 1)
        assert d.target_start + aln.start_b + 1 == min(h.tstart, h.tend)
        assert len(d.similarity) == aln.n_aligned and np.all(np.abs(d.similarity) <= 1 + 1e-6)
    ss = member_structure(family.aligned[record.name], family.ss_cons)
    search_hit_figure(drawn, tmp_path / "s.png", structure=ss)
    assert_picture(tmp_path / "s.png")


# -- the cluster command -------------------------------------------------------------------------
def test_cluster_plot_through_the_command_line(tmp_path, capsys):
    pytest.importorskip("scipy")
    from conftest import EXAMPLES
    from rnabert.seqs import read_fasta

    records = [(r.name, r.seq) for r in read_fasta(EXAMPLES / "rfam_examples.fa")][::3]
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">{n}\n{s}\n" for n, s in records))
    png, out = tmp_path / "clusters.png", tmp_path / "clusters.tsv"
    args = ["cluster", str(fasta), "-o", str(out), "--threads", "1", "-q"]
    assert main([*args, "--plot", str(png)]) == 0
    assert_picture(png, min_side=300)
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == len(records)
    page = tmp_path / "clusters.html"
    assert main([*args, "--plot", str(page)]) == 0
    assert_page(page, records[0][0])  # the dendrogram names its leaves
    # a bad picture name is refused before any work, in one line
    out.unlink()
    capsys.readouterr()
    assert main([*args, "--plot", str(tmp_path / "clusters.gif")]) == 2
    assert not out.exists()
    assert capsys.readouterr().err.count("\n") == 1


# -- the align command ---------------------------------------------------------------------------
def test_align_plot_draws_the_first_pair(tmp_path, capsys):
    from conftest import EXAMPLES
    from rnabert.seqs import read_fasta

    records = [(r.name, r.seq) for r in read_fasta(EXAMPLES / "rfam_examples.fa")][:3]
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">{n}\n{s}\n" for n, s in records))
    png, out = tmp_path / "first.png", tmp_path / "pairs.tsv"
    args = ["align", str(fasta), "-o", str(out), "--threads", "1", "--no-progress"]
    assert main([*args, "--plot", str(png)]) == 0
    assert_picture(png)
    assert "first pair drawn" in capsys.readouterr().err
    # queries against targets: the first query against the first target, as the HTML names them
    page = tmp_path / "first.html"
    one = tmp_path / "one.fa"
    one.write_text(f">{records[2][0]}\n{records[2][1]}\n")
    assert main([*args[:2], str(one), *args[2:], "--plot", str(page)]) == 0
    assert_page(page, records[0][0], records[2][0])
    out.unlink()
    capsys.readouterr()
    assert main([*args, "--plot", str(tmp_path / "first.jpg")]) == 2  # refused before any work
    assert not out.exists()
    assert capsys.readouterr().err.count("\n") == 1
