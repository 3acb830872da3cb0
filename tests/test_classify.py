"""RNA type classification: k-mer features, labelled FASTA, heads (train, save, load, refuse
another encoder), nearest-neighbour votes, the TSV, the command line and the shipped head."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch

import rnabert
from rnabert.classify import (
    ClassHead,
    HeadEnsemble,
    kmer_frequencies,
    kmer_names,
    knn_vote,
    read_labelled_fasta,
    votes_from_hits,
)
from rnabert.classify.head import SHIPPED_HEAD
from rnabert.classify.training import (
    fit_conv_head,
    macro_f1,
    stratified_folds,
    stratified_split,
)
from rnabert.cli import main

NRC_CLASSES = [
    "5S_rRNA", "5_8S_rRNA", "CD-box", "HACA-box", "IRES", "Intron_gpI", "Intron_gpII", "leader",
    "miRNA", "riboswitch", "ribozyme", "scaRNA", "tRNA",
]  # fmt: skip


def _toy(rng, n_per_class, length=40, offset=0):
    """Two classes anyone can tell apart: random sequences of G and C only, and of A and U only
    (an encoder's mean vector need not carry GC content alone: 80 % GC is not enough)."""
    out = []
    for label, letters in (("gc_rich", "GC"), ("au_rich", "AU")):
        for k in range(n_per_class):
            seq = "".join(rng.choice(list(letters), length))
            out.append((f"{label}{k + offset}", seq, label))
    return out


def _write(path, items, labelled=True):
    with open(path, "w") as fh:
        for name, seq, label in items:
            fh.write(
                f">{name} some description {label}\n{seq}\n" if labelled else f">{name}\n{seq}\n"
            )
    return path


@pytest.fixture(scope="module")
def model():
    return rnabert.load_model()


@pytest.fixture(scope="module")
def toy_head(tmp_path_factory, model):
    rng = np.random.default_rng(1)
    path = _write(tmp_path_factory.mktemp("toy") / "train.fa", _toy(rng, 12))
    return rnabert.classify.train(
        path, model=model, pool="mean", kmer=0, hidden=0, l2=1e-3, epochs=40, device="cpu"
    )


# -- features --------------------------------------------------------------------------------------
def test_kmer_frequencies_match_a_slow_count(rng):
    seqs = ["".join(rng.choice(list("ACGUTacgunNRY"), int(rng.integers(1, 30)))) for _ in range(25)]
    seqs += ["A", "ACGU", "NNNN"]
    ks = (1, 2, 3)
    got = kmer_frequencies(seqs, ks)
    names = kmer_names(ks)
    assert got.shape == (len(seqs), 4 + 16 + 64) and len(names) == got.shape[1]
    for row, seq in enumerate(seqs):
        s = seq.upper().replace("T", "U")
        col = 0
        for k in ks:
            words = [s[i : i + k] for i in range(len(s) - k + 1)]
            words = [w for w in words if set(w) <= set("ACGU")]
            want = np.zeros(4**k)
            for j, word in enumerate("".join(p) for p in itertools.product("ACGU", repeat=k)):
                want[j] = words.count(word) / len(words) if words else 0.0
                assert names[col + j] == word
            np.testing.assert_allclose(got[row, col : col + 4**k], want, atol=1e-6)
            col += 4**k


def test_stratified_split_and_folds_keep_class_proportions():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    train, test = stratified_split(labels, 0.2, seed=3)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    assert [sum(labels[i] == c for i in test) for c in "abc"] == [10, 6, 4]
    again = stratified_split(labels, 0.2, seed=3)
    assert np.array_equal(again[1], test)
    folds = stratified_folds(labels, 5, seed=0)
    for f in range(5):
        assert [sum(labels[i] == c for i in np.flatnonzero(folds == f)) for c in "abc"] == [
            10,
            6,
            4,
        ]


def test_metrics_agree_with_scikit_learn(rng):
    metrics = pytest.importorskip("sklearn.metrics")
    classes = ["x", "y", "z", "w"]
    truth = rng.choice(classes, 200).tolist()
    pred = [t if rng.random() < 0.6 else rng.choice(classes) for t in truth]
    assert macro_f1(truth, pred, classes) == pytest.approx(
        metrics.f1_score(truth, pred, average="macro", labels=classes)
    )


# -- labelled FASTA --------------------------------------------------------------------------------
def test_label_is_the_last_header_word_and_a_missing_one_names_file_line_and_record(tmp_path):
    path = tmp_path / "l.fa"
    path.write_text(">a1 5S_rRNA\nACGU\n>b2 some words tRNA\nGGCC\n>c3\nAAAA\n")
    with pytest.raises(ValueError, match=r"l\.fa:5: record 'c3' has no label.*last word"):
        read_labelled_fasta(path)
    path.write_text(">a1 5S_rRNA\nACGU\n>b2 some words tRNA\nGGCC\n")
    records, labels = read_labelled_fasta(path)
    assert [r.name for r in records] == ["a1", "b2"] and labels == ["5S_rRNA", "tRNA"]


# -- heads -----------------------------------------------------------------------------------------
def test_a_head_trained_on_two_separable_classes_classifies_new_ones(toy_head, model):
    assert toy_head.classes == ["au_rich", "gc_rich"]
    new = _toy(np.random.default_rng(7), 6, offset=100)
    result = rnabert.classify([(n, s) for n, s, _ in new], head=toy_head, model=model, device="cpu")
    assert result.labels == [label for _, _, label in new]
    assert result.classes == ["au_rich", "gc_rich"]
    assert result.probabilities.shape == (12, 2)
    np.testing.assert_allclose(result.probabilities.sum(1), 1.0, atol=1e-9)
    assert (result.probability > 0.5).all()
    assert result.vectors.shape == (12, 120)


def test_tsv_has_a_header_and_one_probability_column_per_class(toy_head, model, tmp_path):
    new = _toy(np.random.default_rng(8), 3)
    result = rnabert.classify([(n, s) for n, s, _ in new], head=toy_head, model=model, device="cpu")
    text = result.to_tsv()
    lines = text.splitlines()
    assert lines[0].split("\t") == ["name", "label", "probability", "au_rich", "gc_rich"]
    assert len(lines) == 7
    for line, (name, _, _) in zip(lines[1:], new):
        cells = line.split("\t")
        assert cells[0] == name and cells[1] in ("au_rich", "gc_rich")
        probs = [float(x) for x in cells[3:]]
        assert sum(probs) == pytest.approx(1.0, abs=2e-4)
        assert float(cells[2]) == max(probs)
        assert cells[1] == ["au_rich", "gc_rich"][int(np.argmax(probs))]
    result.to_tsv(tmp_path / "o.tsv")
    assert (tmp_path / "o.tsv").read_text() == text


def test_save_and_load_give_the_same_probabilities(toy_head, model, tmp_path):
    path = tmp_path / "h.safetensors"
    toy_head.save(path)
    loaded = ClassHead.load(path)
    assert loaded.classes == toy_head.classes and loaded.encoder_fingerprint
    emb = rnabert.embed(["GGGCGCGCCC", "AUAUUAUAAU"], model=model, device="cpu")
    np.testing.assert_array_equal(loaded.probabilities(emb), toy_head.probabilities(emb))
    with pytest.raises(ValueError, match="not a classification head"):
        ClassHead.load(SHIPPED_HEAD.parent / "homology_head.safetensors")


def test_a_head_refuses_another_encoder(toy_head, tmp_path):
    from rnabert.model import new_model

    path = tmp_path / "h.safetensors"
    toy_head.save(path)
    with pytest.raises(ValueError, match=r"h\.safetensors was trained on .* encoder"):
        rnabert.classify(["ACGUACGU"], head=path, model=new_model(seed=1), device="cpu")


def test_cross_validation_picks_from_the_grid_and_k_mers_and_attention_train(tmp_path, model):
    path = _write(tmp_path / "t.fa", _toy(np.random.default_rng(2), 6))
    head = rnabert.classify.train(
        path, model=model, pool="meanmax", kmer=2, grid={"hidden": (0, 8), "l2": (1e-3,)},
        folds=2, epochs=5, device="cpu",
    )  # fmt: skip
    assert head.info["hidden"] in ("0", "8") and "cross_validation" in head.info
    assert head.n_features == 240 + 4 + 16
    att = rnabert.classify.train(
        path, model=model, pool="attention", kmer=0, hidden=0, l2=1e-3, epochs=3, device="cpu"
    )
    att.save(tmp_path / "a.safetensors")
    emb = rnabert.embed(["GGGCGCGCCC", "AUAUUAUAAU"], model=model, device="cpu")
    np.testing.assert_allclose(
        ClassHead.load(tmp_path / "a.safetensors").probabilities(emb), att.probabilities(emb)
    )


def _motif_set(rng, n_per_class, length=40, offset=0):
    """Two classes of random sequences told apart only by a motif planted at a random position:
    UGAUGA (a box-C-like word) or its reverse AGUAGU, same bases, so a classifier that sees base
    composition alone is at chance."""
    items = []
    for label, motif in (("box", "UGAUGA"), ("xob", "AGUAGU")):
        for k in range(n_per_class):
            seq = list(rng.choice(list("ACGU"), length))
            at = int(rng.integers(0, length - len(motif)))
            seq[at : at + len(motif)] = motif
            items.append((f"{label}{k + offset}", "".join(seq), label))
    return items


def _bases_only(items, dim=4):
    """An Embeddings block carrying the sequences (values unused by a head without embeddings)."""
    seqs = [s for _, s, _ in items]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])])
    return rnabert.Embeddings(
        np.zeros((offsets[-1], dim), np.float32), offsets, [n for n, _, _ in items], seqs
    )


def test_a_conv_head_learns_a_planted_motif_at_any_position(rng):
    train_items, new_items = _motif_set(rng, 40), _motif_set(rng, 20, offset=100)
    head = ClassHead(["box", "xob"], 4, "conv", conv_channels=8, conv_kernel=7, embedding=False)
    fit_conv_head(
        head, _bases_only(train_items), [x[2] for x in train_items], epochs=20, validation=0.0
    )
    predicted = np.array(head.classes)[head.probabilities(_bases_only(new_items)).argmax(1)]
    assert (predicted == [x[2] for x in new_items]).mean() >= 0.9  # chance: 0.5
    # base composition is no help here: a logistic regression on it stays near chance
    from rnabert.classify.training import fit_head

    composition = ClassHead(["box", "xob"], 4, "none", kmer=1)
    fit_head(composition, _bases_only(train_items), [x[2] for x in train_items], epochs=20)
    probabilities = composition.probabilities(_bases_only(new_items))
    predicted = np.array(composition.classes)[probabilities.argmax(1)]
    assert (predicted == [x[2] for x in new_items]).mean() < 0.8


def test_a_conv_head_gives_each_sequence_the_same_answer_in_any_batch(rng, tmp_path):
    items = [(f"s{k}", "".join(rng.choice(list("ACGUN"), n)), "a" if k % 2 else "b")
             for k, n in enumerate([1, 3, 9, 40, 41, 200, 1500, 17])]  # fmt: skip
    emb = _bases_only(items, dim=6)
    emb = rnabert.Embeddings(
        rng.normal(size=emb.values.shape), emb.offsets, emb.names, emb.sequences
    )
    torch.manual_seed(0)  # an untrained head: padding would show in any weights
    head = ClassHead(["a", "b"], 6, "conv", conv_channels=8, conv_layers=3, conv_dilation=2)
    together = head.probabilities(emb)
    alone = np.concatenate([head.probabilities(emb.subset([k])) for k in range(len(items))])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together.sum(1), 1.0, atol=1e-9)
    path = tmp_path / "conv.safetensors"
    head.save(path)
    loaded = ClassHead.load(path)
    assert (loaded.pool, loaded.conv_layers, loaded.conv_dilation) == ("conv", 3, 2)
    np.testing.assert_array_equal(loaded.probabilities(emb), together)


def test_train_a_conv_and_pooled_ensemble_through_the_encoder(tmp_path, model):
    rng = np.random.default_rng(3)
    path = _write(tmp_path / "t.fa", _motif_set(rng, 8))
    head = rnabert.classify.train(
        path, model=model, pool=("conv", "meanmax"), kmer=2, hidden=0, l2=1e-3, epochs=5,
        conv_epochs=5, device="cpu",
    )  # fmt: skip
    assert isinstance(head, HeadEnsemble) and head.pool == "conv+meanmax"
    assert head.members[0].encoder_fingerprint == head.members[1].encoder_fingerprint != ""
    assert "validation" in head.members[0].info  # early stopping on a held-out tenth
    head.save(tmp_path / "e.safetensors")
    loaded = ClassHead.load(tmp_path / "e.safetensors")
    assert isinstance(loaded, HeadEnsemble) and loaded.classes == ["box", "xob"]
    # a sequence longer than the encoder's 440 positions goes through its windows
    queries = {"long": "".join(rng.choice(list("ACGU"), 1000)), "short": "ACGUUGAUGAAC"}
    got = rnabert.classify(queries, head=loaded, model=model, device="cpu")
    want = 0.5 * sum(m.probabilities(rnabert.embed(queries, model=model, device="cpu"))
                     for m in head.members)  # fmt: skip
    np.testing.assert_allclose(got.probabilities, want, atol=1e-6)
    with pytest.raises(ValueError, match="trained on .* encoder"):
        from rnabert.model import new_model

        rnabert.classify(queries, head=loaded, model=new_model(seed=1), device="cpu")


def test_a_kind_named_twice_is_a_second_head_with_the_next_seed(tmp_path, model):
    rng = np.random.default_rng(4)
    path = _write(tmp_path / "t.fa", _motif_set(rng, 6))
    head = rnabert.classify.train(
        path, model=model, pool=("conv-bases", "conv-bases"), conv_epochs=3, device="cpu", seed=5,
    )  # fmt: skip
    assert isinstance(head, HeadEnsemble) and len(head.members) == 2
    assert [m.info["seed"] for m in head.members] == ["5", "6"]
    a, b = head.members
    assert not all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                         b.state_dict().values()))  # fmt: skip
    with pytest.raises(ValueError, match="one or more head kinds"):
        rnabert.classify.train(path, model=model, pool=(), device="cpu")


def _rewrite(src, dst, change):
    """Copy a head file with its JSON description changed by ``change(description)``."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(src), framework="pt") as fh:
        meta = json.loads(fh.metadata()["rnabert_class_head"])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    change(meta)
    save_file(tensors, str(dst), metadata={"rnabert_class_head": json.dumps(meta)})
    return dst


def test_old_format_files_load_and_bad_fields_are_named(toy_head, tmp_path, model):
    path = tmp_path / "h.safetensors"
    toy_head.save(path)

    def first_format(meta):
        # what the first format wrote: no conv fields
        meta["format"] = "rnabert-class-head/1"
        for name in ("conv_channels", "conv_kernel", "conv_layers", "conv_dilation"):
            del meta[name]
        del meta["embedding"], meta["dropout"]

    old = ClassHead.load(_rewrite(path, tmp_path / "old.safetensors", first_format))
    emb = rnabert.embed(["GGGCGCGCCC", "AUAUUAUAAU"], model=model, device="cpu")
    np.testing.assert_array_equal(old.probabilities(emb), toy_head.probabilities(emb))
    cases = {
        "nopool.safetensors": (lambda m: m.pop("pool"), r"nopool\.safetensors: .*field 'pool'"),
        "badpool.safetensors": (
            lambda m: m.update(pool="lstm"),
            r"badpool\.safetensors: field 'pool' .* 'lstm', expected one of",
        ),
        "badtype.safetensors": (
            lambda m: m.update(hidden="64"),
            r"badtype\.safetensors: field 'hidden' .* '64', not int",
        ),
        "future.safetensors": (
            lambda m: m.update(format="rnabert-class-head/9"),
            r"future\.safetensors: format 'rnabert-class-head/9'",
        ),
        "noconv.safetensors": (
            lambda m: m.update(pool="conv") or m.pop("conv_channels"),
            r"noconv\.safetensors: .*field 'conv_channels'",
        ),
    }
    for name, (change, message) in cases.items():
        with pytest.raises(ValueError, match=message) as info:
            ClassHead.load(_rewrite(path, tmp_path / name, change))
        assert "\n" not in str(info.value)


def test_the_command_line_trains_the_shipped_recipe_by_default():
    from rnabert.classify.api import SHIPPED_RECIPE
    from rnabert.cli import classify as cli_classify

    assert cli_classify.SHIPPED_RECIPE == SHIPPED_RECIPE
    head = ClassHead.load()
    assert head.pool == "+".join(SHIPPED_RECIPE)


def test_the_shipped_head_loads_and_gives_the_13_nrc_classes(model):
    head = ClassHead.load()
    assert head.classes == NRC_CLASSES
    # a tRNA (yeast tRNA-Phe) and a 5S rRNA (E. coli)
    seqs = {
        "tRNA-Phe": "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA",
        "5S": "UGCCUGGCGGCCGUAGCGCGGUGGUCCCACCUGACCCCAUGCCGAACUCAGAAGUGAAACGCCGUAGCGCCGAUGGUAGUG"
        "UGGGGUCUCCCCAUGCGAGAGUAGGGAACUGCCAGGCAU",
    }
    result = rnabert.classify(seqs, model=model, device="cpu")
    assert result.classes == NRC_CLASSES and result.probabilities.shape == (2, 13)
    np.testing.assert_allclose(result.probabilities.sum(1), 1.0, atol=1e-9)
    assert result.labels == ["tRNA", "5S_rRNA"]


# -- nearest-neighbour votes -----------------------------------------------------------------------
def test_votes_match_a_slow_count(rng):
    bits = rng.normal(5, 10, size=(7, 9))
    bits[0] = -1.0  # no positive hit: uniform
    ref = rng.choice(["a", "b", "c", "zz"], 9).tolist()
    classes = ["a", "b", "c"]
    for k in (1, 3, 20):
        got = knn_vote(bits, ref, classes, k)
        for q in range(7):
            cand = sorted(
                [(-bits[q, j], j) for j in range(9) if ref[j] in classes], key=lambda t: t
            )[:k]
            want = np.zeros(3)
            for negb, j in cand:
                want[classes.index(ref[j])] += max(-negb, 0.0)
            want = want / want.sum() if want.sum() > 0 else np.full(3, 1 / 3)
            np.testing.assert_allclose(got[q], want, atol=1e-12)
    # the sparse form (hits in any order) gives the same
    q, r = np.indices(bits.shape)
    perm = rng.permutation(bits.size)
    np.testing.assert_allclose(
        votes_from_hits(q.ravel()[perm], r.ravel()[perm], bits.ravel()[perm], 7, ref, classes, 3),
        knn_vote(bits, ref, classes, 3),
    )


def test_a_reference_vote_alone_labels_members_of_its_families(tmp_path, rng, model):
    fams = []
    for f in range(2):
        base = rng.choice(list("ACGU"), 60)
        for k in range(4):
            s = base.copy()
            m = rng.random(60) < 0.1
            s[m] = rng.choice(list("ACGU"), int(m.sum()))
            fams.append((f"f{f}_{k}", "".join(s), f"family{f}"))
    ref = _write(tmp_path / "ref.fa", [x for i, x in enumerate(fams) if i % 4])
    queries = [(n, s) for i, (n, s, _) in enumerate(fams) if i % 4 == 0]
    result = rnabert.classify(
        queries, reference=ref, knn_weight=1.0, k=3, model=model, device="cpu", threads=1
    )
    assert result.classes == ["family0", "family1"]
    assert result.labels == ["family0", "family1"]


# -- command line ----------------------------------------------------------------------------------
def test_cli_train_then_classify_round_trip(tmp_path, capsys):
    rng = np.random.default_rng(4)
    train_fa = _write(tmp_path / "train.fa", _toy(rng, 10))
    query_fa = _write(tmp_path / "q.fa", _toy(rng, 3, offset=50), labelled=False)
    head = tmp_path / "head.safetensors"
    argv = ["classify", "train", str(train_fa), "-o", str(head), "--pool", "mean", "--kmer", "0"]
    assert main(argv + ["--hidden", "0", "--l2", "1e-3", "--epochs", "40", "--device", "cpu"]) == 0
    assert "2 classes" in capsys.readouterr().err
    out = tmp_path / "labels.tsv"
    assert main(["classify", str(query_fa), "--head", str(head), "-o", str(out), "-q"]) == 0
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows[0] == ["name", "label", "probability", "au_rich", "gc_rich"]
    assert [r[1] for r in rows[1:]] == ["gc_rich"] * 3 + ["au_rich"] * 3
    capsys.readouterr()
    assert main(["classify", str(query_fa), "--head", str(head), "-o", "-", "-q"]) == 0
    assert capsys.readouterr().out == out.read_text()  # "-": standard output


def test_cli_trains_an_averaged_pair_of_heads_and_predicts_with_it(tmp_path, capsys):
    rng = np.random.default_rng(6)
    train_fa = _write(tmp_path / "train.fa", _toy(rng, 8))
    query_fa = _write(tmp_path / "q.fa", _toy(rng, 2, offset=50), labelled=False)
    head = tmp_path / "pair.safetensors"
    argv = ["classify", "train", str(train_fa), "-o", str(head), "--pool", "conv-bases", "mean"]
    argv += ["--kmer", "0", "--hidden", "0", "--l2", "1e-3", "--conv-epochs", "2"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "conv-bases head (2 x 64 channels; epoch " in err and "pool mean head" in err
    assert "(probabilities averaged)" in err
    assert main(["classify", str(query_fa), "--head", str(head), "-q"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["name", "label", "probability", "au_rich", "gc_rich"]
    assert [r[1] for r in rows[1:]] == ["gc_rich"] * 2 + ["au_rich"] * 2


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "nolabel.fa"
    bad.write_text(">x1 tRNA\nACGU\n>y2\nGGGG\n")
    proc = subprocess.run(
        [sys.executable, "-m", "rnabert.cli", "classify", "train", str(bad), "-o",
         str(tmp_path / "h.safetensors")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "nolabel.fa:3: record 'y2' has no label" in proc.stderr
    assert not (tmp_path / "h.safetensors").exists()
    for argv in (
        ["classify", str(tmp_path / "missing.fa")],
        ["classify", "train", str(bad)],  # no -o
        ["classify", str(bad), str(bad)],
    ):
        assert main(argv) == 2


def test_cli_plot_draws_the_map(tmp_path, toy_head):
    pytest.importorskip("matplotlib")
    head = tmp_path / "h.safetensors"
    toy_head.save(head)
    fa = _write(tmp_path / "q.fa", _toy(np.random.default_rng(5), 4), labelled=False)
    png = tmp_path / "map.png"
    assert main(["classify", str(fa), "--head", str(head), "-o", str(tmp_path / "l.tsv"),
                 "--plot", str(png), "-q"]) == 0  # fmt: skip
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
    # a picture name the drawing cannot write is refused before any work
    out = tmp_path / "l2.tsv"
    assert main(["classify", str(fa), "--head", str(head), "-o", str(out),
                 "--plot", str(tmp_path / "map.bmp"), "-q"]) == 2  # fmt: skip
    assert not out.exists()
