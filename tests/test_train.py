"""Pre-training machinery: family split, masking, cropping, the SAL hinge loss and the trainer end
to end."""

import dataclasses
import json
import os
import signal

import numpy as np
import pytest
import torch

from conftest import EXAMPLES
from rnabert.model import new_model
from rnabert.seqs import MASK, PAD, StockholmAlignment
from rnabert.train import data as data_mod
from rnabert.train import trainer as trainer_mod
from rnabert.train.mlm import IGNORE, mask_tokens
from rnabert.train.sal import margin_delta, path_gap_costs, sal_loss
from rnabert.train.trainer import TrainConfig, train

EXAMPLE_STO = EXAMPLES / "rfam_examples.sto"
EXAMPLE_FAMILIES = ["RF00167", "RF00050", "RF00015", "RF00094"]


@pytest.fixture(scope="module")
def example_families():
    return data_mod.read_families(EXAMPLE_STO)


@pytest.fixture
def toy_validation(tmp_path):
    path = tmp_path / "val.txt"
    path.write_text("# toy split\nRF00167\n")
    return path


# -- split ----------------------------------------------------------------------------------------


def test_split_is_deterministic_disjoint_and_five_percent():
    accs = [f"RF{k:05d}" for k in range(2906)]
    val = data_mod.split_families(accs, 0.05, seed=7)
    assert len(val) == 145 and len(set(val)) == 145 and set(val) <= set(accs)
    assert val == data_mod.split_families(
        list(reversed(accs)), 0.05, seed=7
    )  # order of input irrelevant
    assert val != data_mod.split_families(accs, 0.05, seed=8)


def test_bundled_validation_file():
    text = data_mod.VALIDATION_FILE.read_text()
    assert text.startswith("# ") and "split_families" in text
    accs = data_mod.read_validation_file()
    assert len(accs) == 145 and len(set(accs)) == 145
    assert all(a.startswith("RF") and len(a) == 7 for a in accs)


def test_validation_families_are_never_drawn(example_families):
    train_fams, val_fams = data_mod.partition(example_families, ["RF00167"])
    assert [f.accession for f in val_fams] == ["RF00167"]
    with pytest.raises(ValueError, match="validation families"):
        data_mod.TrainingSet(example_families, seed=0, batch_tokens=512, forbidden=["RF00167"])
    ts = data_mod.TrainingSet(
        train_fams, seed=0, batch_tokens=512, sal_pairs=8, forbidden=["RF00167"]
    )
    val_ids = {x.tobytes() for x in val_fams[0].ids}
    seen = set()
    for epoch in range(2):
        for index in range(len(ts.epoch_batches(epoch))):
            for ids in ts.mlm_batch(epoch, index, step=index):
                seen.add(ids.tobytes())
    assert len(seen) == len(ts) and not seen & val_ids  # every training sequence, no validation one
    for step in range(20):
        for a, b, _ in ts.sal_batch(step):
            assert a.tobytes() not in val_ids and b.tobytes() not in val_ids
    # a forbidden family smuggled in after construction is caught when drawn
    ts.families[0] = dataclasses.replace(ts.families[0], accession="RF00167")
    with pytest.raises(AssertionError, match="validation family"):
        for step in range(20):
            ts.sal_batch(step)


# -- MLM masking
# ------------------------------------------------------------------------------------


def test_masking_statistics_and_ambiguous_never_targets():
    rng = np.random.default_rng(1)
    ids = rng.integers(2, 6, size=(64, 400))
    ids[:, 350:] = PAD
    ids[rng.random(ids.shape) < 0.05] = MASK  # ambiguous bases
    ids[:, 350:] = PAD
    eligible = ids >= 2
    tot = {"sel": 0, "mask": 0, "same": 0, "elig": 0}
    patterns = []
    for draw in range(20):
        inp, lab = mask_tokens(ids, np.random.default_rng([5, draw]))
        sel = lab != IGNORE
        assert not (sel & ~eligible).any()  # PAD and ambiguous never targets
        assert (lab[sel] == ids[sel]).all()
        assert (inp[~sel] == ids[~sel]).all()  # unselected positions untouched
        assert set(np.unique(inp[sel])) <= {MASK, 2, 3, 4, 5}
        tot["sel"] += sel.sum()
        tot["elig"] += eligible.sum()
        tot["mask"] += (inp[sel] == MASK).sum()
        tot["same"] += (inp[sel] == ids[sel]).sum()
        patterns.append(sel)
    n = tot["sel"]
    assert abs(tot["sel"] / tot["elig"] - 0.15) < 0.004
    assert abs(tot["mask"] / n - 0.80) < 0.01
    # unchanged: the 10 % kept + a quarter of the 10 % random draws
    assert abs(tot["same"] / n - 0.125) < 0.01
    assert abs(1 - (tot["mask"] + tot["same"]) / n - 0.075) < 0.01
    assert not (patterns[0] == patterns[1]).all()  # a fresh pattern each draw


def test_mlm_crops_long_sequences():
    rng = np.random.default_rng(0)
    starts = {data_mod.crop_window(1000, rng)[0] for _ in range(50)}
    assert all(0 <= s <= 560 for s in starts) and len(starts) > 10
    assert data_mod.crop_window(300, rng) == (0, 300)


def _long_family(rng, ncols=1200, nseq=3):
    letters = rng.choice(list("ACGU"), size=ncols)
    aligned = {}
    for k in range(nseq):
        row = letters.copy()
        row[rng.random(ncols) < 0.15 + 0.1 * k] = "-"
        aligned[f"s{k}"] = "".join(row)
    aln = StockholmAlignment(None, aligned, gf={"AC": "RF99999"})
    ids = [np.asarray(data_mod.token_ids_of_clean(aligned[n].replace("-", ""))) for n in aln.names]
    return data_mod.Family("RF99999", aln, list(aln.names), ids)


def test_sal_pairs_of_long_sequences_are_cropped_at_matching_columns():
    rng = np.random.default_rng(3)
    fam = _long_family(rng)
    assert min(len(x) for x in fam.ids) > 440
    for trial in range(30):
        item = data_mod.pair_with_reference(fam, 0, 2, rng)
        if item is None:
            continue
        a, b, ref = item
        assert len(a) <= 440 and len(b) <= 440 and len(ref) > 0
        assert (np.diff(ref, axis=0) > 0).all()
        assert ref[:, 0].max() < len(a) and ref[:, 1].max() < len(b)
        # every column carries one letter in all rows: matching columns means identical bases
        assert (a[ref[:, 0]] == b[ref[:, 1]]).all()


def _batch_identities(ts, steps):
    return np.array(
        [np.mean(a[r[:, 0]] == b[r[:, 1]]) for s in range(steps) for a, b, r in ts.sal_batch(s)]
    )


def test_sal_candidates_draw_less_identical_pairs(example_families):
    uniform = data_mod.TrainingSet(example_families, seed=0, batch_tokens=512, sal_pairs=16)
    hard = data_mod.TrainingSet(
        example_families, seed=0, batch_tokens=512, sal_pairs=16, sal_candidates=4
    )
    iu, ih = _batch_identities(uniform, 30), _batch_identities(hard, 30)
    assert ih.mean() < iu.mean() - 0.03
    # each kept pair is the least identical of its candidates, recomputed by hand for one batch
    rng = np.random.default_rng([0, data_mod._STREAM_SAL, 0])
    fam, a, b = min(
        (hard._draw_pair(rng) for _ in range(4)), key=lambda c: data_mod.member_identity(*c)
    )
    first = hard.sal_batch(0)[0]
    assert np.array_equal(first[0], fam.ids[a]) and np.array_equal(first[1], fam.ids[b])
    # k = 1 is the uniform sampler, draw for draw (runs started before the option resume unchanged)
    one = data_mod.TrainingSet(
        example_families, seed=0, batch_tokens=512, sal_pairs=16, sal_candidates=1
    )
    assert np.array_equal(_batch_identities(one, 5), iu[:80])
    with pytest.raises(ValueError, match="sal_candidates"):
        data_mod.TrainingSet(example_families, seed=0, sal_candidates=0)


def test_member_identities_match_the_evaluation(example_families):
    from rnabert.evaluate.pairs import family_identities

    for fam in example_families:
        records = {r.name: r.seq for r in fam.alignment.records()}
        want = family_identities(fam.alignment, fam.names, records)
        got = data_mod.member_identities(fam)
        np.testing.assert_allclose(got, want, atol=1e-4)
        # one entry by hand: identical shared columns / shared columns
        assert got[0, 1] == pytest.approx(data_mod.member_identity(fam, 0, 1), abs=1e-4)


def test_sal_below_spreads_pairs_over_the_hard_bins(example_families):
    from rnabert.seqs.identity import identity_bin

    below = 70.0
    ts = data_mod.TrainingSet(
        example_families, seed=0, batch_tokens=512, sal_pairs=16, sal_below=below
    )
    # every pair of the hard bins, by family, computed here from the full identity matrices
    hard = {}
    for fam in example_families:
        ident = data_mod.member_identities(fam)
        a, b = np.triu_indices(len(fam.ids), k=1)
        hard[fam.accession] = {
            (int(x), int(y)): identity_bin(ident[x, y]) for x, y in zip(a, b) if ident[x, y] < below
        }
    drawn = {acc: set() for acc in hard}
    rng = np.random.default_rng(1)
    for _ in range(800):
        fam, a, b = ts._draw_hard_pair(rng)
        key = (min(a, b), max(a, b))
        assert key in hard[fam.accession], (fam.accession, key)  # never a pair at or above 70 %
        drawn[fam.accession].add(hard[fam.accession][key])
    # every bin below 70 % that a family occupies gets drawn (40-55 and 55-70 for all four families)
    for acc, pairs in hard.items():
        assert drawn[acc] == set(pairs.values()), acc
    # a batch is a pure function of (seed, step), and its pairs are below the threshold too
    again = data_mod.TrainingSet(
        example_families, seed=0, batch_tokens=512, sal_pairs=16, sal_below=below
    )
    for (a1, b1, r1), (a2, b2, r2) in zip(ts.sal_batch(3), again.sal_batch(3)):
        assert np.array_equal(a1, a2) and np.array_equal(b1, b2) and np.array_equal(r1, r2)
    assert (_batch_identities(ts, 10) < below / 100).all()
    with pytest.raises(ValueError, match="pick one"):
        data_mod.TrainingSet(example_families, seed=0, sal_candidates=4, sal_below=below)
    with pytest.raises(ValueError, match="percent"):
        data_mod.TrainingSet(example_families, seed=0, sal_below=0)
    with pytest.raises(ValueError, match="below 20 %"):
        data_mod.TrainingSet(example_families, seed=0, sal_below=20)


# -- SAL loss -------------------------------------------------------------------------------------


def test_gap_costs_by_hand():
    path = np.array([[0, 0], [3, 1]])
    # between: 2 bases of A gapped (1.2); after: 1 of A (1.1) and 2 of B (1.2); empty path: 1.5 +
    # 1.4
    costs = path_gap_costs(
        np.concatenate([path, np.zeros((0, 2), int)]), np.array([0, 2, 2]), [5, 5], [4, 4]
    )
    np.testing.assert_allclose(costs, [1.2 + 1.1 + 1.2, 1.5 + 1.4])


def test_margin_delta_by_hand():
    path = np.array([[0, 0], [1, 2], [2, 3]])
    ref = np.array([[0, 0], [1, 1], [2, 3], [3, 4]])
    # TP 2, FP 1, FN 2
    np.testing.assert_allclose(margin_delta(path, [0, 3], ref, [0, 4], 0.1, 0.05), [0.1 + 0.1])


def _random_case(rng, m=12, dim=8, dtype=torch.float64, max_len=30):
    la = rng.integers(1, max_len, m)
    lb = rng.integers(1, max_len, m)
    ea = torch.tensor(rng.normal(size=(m, max_len, dim)), dtype=dtype)
    eb = torch.tensor(rng.normal(size=(m, max_len, dim)), dtype=dtype)
    refs = []
    for p in range(m):
        n = int(rng.integers(0, min(la[p], lb[p]) + 1))
        i = np.sort(rng.choice(la[p], n, replace=False))
        j = np.sort(rng.choice(lb[p], n, replace=False))
        refs.append(np.stack([i, j], 1))
    return ea, eb, la, lb, refs


def test_sal_loss_is_nonnegative_and_matches_the_engine(rng):
    for dtype in (torch.float64, torch.float32):
        ea, eb, la, lb, refs = _random_case(rng, dtype=dtype)
        res = sal_loss(ea, eb, la, lb, refs)
        assert (res.per_pair >= -1e-4).all()
        # score(Â) + Δ rebuilt here equals the engine's loss-augmented optimum: gap costs are exact
        np.testing.assert_allclose(res.rebuilt_scores, res.engine_scores, atol=2e-4)
        assert abs(float(res.loss) - res.per_pair.mean()) < 1e-4


def test_sal_loss_zero_when_reference_strictly_best():
    dim = 8
    basis = torch.eye(dim, dtype=torch.float64)
    ea = basis[:6][None]  # cos(a_i, b_j) = 1 if i == j else 0
    eb = basis[:6][None]
    ref = [np.stack([np.arange(6), np.arange(6)], 1)]
    res = sal_loss(ea, eb, [6], [6], ref)
    assert res.per_pair[0] == pytest.approx(0.0, abs=1e-6)
    # the diagonal becomes a loss once a shifted alignment beats it by less than the margins
    eb2 = torch.roll(eb, 1, dims=1)
    res2 = sal_loss(ea, eb2, [6], [6], ref)
    assert res2.per_pair[0] > 1.0


def test_sal_gradient_matches_finite_differences():
    rng = np.random.default_rng(11)
    ea, eb, la, lb, refs = _random_case(rng, m=2, dim=4, max_len=6)
    ea.requires_grad_(True)
    eb.requires_grad_(True)

    def f(a, b):
        return sal_loss(a, b, la, lb, refs).loss

    assert torch.autograd.gradcheck(f, (ea, eb), eps=1e-6, atol=1e-6)


# -- the trainer
# ------------------------------------------------------------------------------------


def _config(tmp_path, toy_validation, name, **kw):
    base = dict(
        data=str(EXAMPLE_STO),
        out=str(tmp_path / name),
        steps=24,
        batch_tokens=1024,
        sal_pairs=6,
        lr=2e-3,
        warmup=3,
        eval_every=12,
        eval_pairs=12,
        checkpoint_every=5,
        log_every=1,
        validation_file=str(toy_validation),
        progress=False,
        threads=1,
        seed=3,
    )
    base.update(kw)
    return TrainConfig(**base)


def _weights(run_dir):
    from safetensors.torch import load_file

    return load_file(os.path.join(run_dir, "model.safetensors"))


def _metrics(run_dir):
    return [json.loads(x) for x in open(os.path.join(run_dir, "metrics.jsonl"))]


def test_toy_training_learns_checkpoints_and_resumes_exactly(tmp_path, toy_validation):
    straight = _config(tmp_path, toy_validation, "straight")
    summary = train(straight)
    assert summary["step"] == 24 and not summary["interrupted"]
    run = tmp_path / "straight"
    for name in (
        "model.safetensors",
        "config.json",
        "state.pt",
        "metrics.jsonl",
        "train_config.json",
        "best/model.safetensors",
    ):
        assert (run / name).exists(), name
    state = torch.load(run / "state.pt", weights_only=True)
    assert state["step"] == 24
    rows = _metrics(run)
    assert rows[0]["step"] == 0 and rows[0]["val_f"] is not None
    train_rows = [r for r in rows if r["step"] > 0]
    assert [r["step"] for r in train_rows] == list(range(1, 25))
    k = 6
    mlm = [r["mlm_loss"] for r in train_rows]
    sal = [r["sal_loss"] for r in train_rows]
    assert np.mean(mlm[-k:]) < np.mean(mlm[:k])
    assert np.mean(sal[-k:]) < np.mean(sal[:k])
    assert all(v >= 0 for v in sal)
    assert all(
        set(r) >= {"step", "mlm_loss", "mlm_acc", "sal_loss", "lr", "val_f", "elapsed"}
        for r in rows
    )

    # the same run in two sessions: stopped at step 12, then resumed
    train(_config(tmp_path, toy_validation, "split", stop_at=12))
    assert torch.load(tmp_path / "split" / "state.pt", weights_only=True)["step"] == 12
    with pytest.raises(ValueError, match="--resume"):
        train(_config(tmp_path, toy_validation, "split"))
    with pytest.raises(ValueError, match="lr"):
        train(_config(tmp_path, toy_validation, "split", resume=True, lr=1e-3))
    train(_config(tmp_path, toy_validation, "split", resume=True))
    a, b = _weights(run), _weights(tmp_path / "split")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    strip = [{k: v for k, v in r.items() if k != "elapsed"} for r in _metrics(tmp_path / "split")]
    assert strip == [{k: v for k, v in r.items() if k != "elapsed"} for r in rows]


def test_ctrl_c_writes_a_checkpoint(tmp_path, toy_validation, monkeypatch):
    real = trainer_mod.lr_at

    def lr_with_interrupt(config, step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return real(config, step)

    monkeypatch.setattr(trainer_mod, "lr_at", lr_with_interrupt)
    cfg = _config(
        tmp_path,
        toy_validation,
        "interrupted",
        eval_every=0,
        schedule="sequential",
        mlm_steps=3,
        sal_steps=5,
        checkpoint_every=0,
    )
    summary = train(cfg)
    assert summary["interrupted"] and summary["step"] == 4
    state = torch.load(tmp_path / "interrupted" / "state.pt", weights_only=True)
    assert state["step"] == 4
    rows = _metrics(tmp_path / "interrupted")
    assert (
        rows[-1]["step"] == 4 and rows[-1]["mlm_loss"] is None and rows[-1]["sal_loss"] is not None
    )
    assert rows[0]["sal_loss"] is None  # sequential: MLM-only steps first


def test_lr_schedule_warms_up_and_decays():
    cfg = TrainConfig(data="x", out="y", steps=100, lr=1.0, warmup=10)
    lrs = [trainer_mod.lr_at(cfg, s) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(x >= y for x, y in zip(lrs[9:], lrs[10:])) and lrs[-1] < 0.02
    seq = TrainConfig(
        data="x", out="y", schedule="sequential", mlm_steps=50, sal_steps=50, lr=1.0, warmup=0.1
    )
    assert seq.steps == 100
    assert trainer_mod.lr_at(seq, 50) == pytest.approx(0.2)  # the SAL phase warms up again
    assert trainer_mod.phases_at(seq, 49) == (True, False) and trainer_mod.phases_at(seq, 50) == (
        False,
        True,
    )


def test_cli_train_and_evaluate(tmp_path, toy_validation, capsys):
    from rnabert.cli import main

    out = tmp_path / "cli"
    rc = main(
        [
            "train",
            "--data",
            str(EXAMPLE_STO),
            "--out",
            str(out),
            "--steps",
            "3",
            "--batch-tokens",
            "512",
            "--sal-pairs",
            "2",
            "--eval-every",
            "0",
            "--validation-file",
            str(toy_validation),
            "--no-progress",
            "--threads",
            "1",
        ]
    )
    assert rc == 0 and (out / "model.safetensors").exists()
    rc = main(
        [
            "evaluate-alignment",
            "--data",
            str(EXAMPLE_STO),
            "--weights",
            str(out / "model.safetensors"),
            "--families",
            "RF00167",
            "--max-pairs",
            "5",
            "--baseline",
            "--device",
            "cpu",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "5 pairs from 1 families" in text and "rnabert" in text and "baseline" in text
    assert "family-bootstrap interval" in text
    rc = main(
        [
            "evaluate-alignment",
            "--data",
            str(EXAMPLE_STO),
            "--weights",
            str(out / "model.safetensors"),
            "--per-bin",
            "1",
            "--max-pairs",
            "100",
            "--baseline",
            "--device",
            "cpu",
        ]
    )
    text = capsys.readouterr().out
    n = int(text.split(" pairs from ")[0].split()[-1])
    families = int(text.split(" pairs from ")[1].split()[0])
    assert rc == 0 and families <= n <= 5 * families  # at most one pair per family and identity bin


def test_plot_is_optional(tmp_path):
    from rnabert.train.plot import plot_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text(
        '{"step": 1, "mlm_loss": 1.0, "mlm_acc": 0.3, "sal_loss": 2.0, "lr": 0.1, "val_f": null}\n'
        '{"step": 2, "mlm_loss": 0.9, "mlm_acc": 0.4, "sal_loss": 1.5, "lr": 0.1, "val_f": 0.5}\n'
    )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert plot_metrics(path) is None
        return
    png = plot_metrics(path)
    assert png.exists() and png.stat().st_size > 0


def test_bucketed_encoding_matches_one_padded_batch():
    import contextlib

    from rnabert.train.mlm import pad_batch

    rng = np.random.default_rng(4)
    seqs = [rng.integers(2, 6, size=int(n)) for n in rng.integers(5, 120, size=9)]
    model = new_model(seed=2).eval()
    ids = torch.from_numpy(pad_batch(seqs))
    with torch.no_grad():
        whole = model(ids, ids != 0)
        parts = trainer_mod.encode_bucketed(model, seqs, 250, "cpu", contextlib.nullcontext)
    assert parts.shape == whole.shape
    for k, s in enumerate(seqs):
        torch.testing.assert_close(parts[k, : len(s)], whole[k, : len(s)], atol=1e-5, rtol=1e-5)


def test_init_loads_the_given_weights(tmp_path, toy_validation):
    from rnabert.model import save_model

    start = new_model(seed=123)
    save_model(start, tmp_path / "start.safetensors")
    # lr 0: AdamW leaves the weights untouched, so the run's weights are exactly the initial ones
    train(
        _config(
            tmp_path,
            toy_validation,
            "init",
            steps=1,
            lr=0.0,
            eval_every=0,
            init=str(tmp_path / "start.safetensors"),
        )
    )
    got = _weights(tmp_path / "init")
    for key, value in start.state_dict().items():
        assert torch.equal(got[key], value), key


def test_average_checkpoints_is_the_parameter_mean(tmp_path):
    from rnabert.model.checkpoint import load_model, save_model
    from rnabert.model.config import RnaBertConfig
    from rnabert.train.average import average_checkpoints
    from rnabert.train.average import main as average_main

    paths = []
    for seed in (1, 2, 3):
        paths.append(tmp_path / f"m{seed}.safetensors")
        save_model(new_model(seed=seed), paths[-1])
    models = [load_model(p) for p in paths]
    avg = average_checkpoints(paths)
    for name, value in avg.state_dict().items():
        want = sum(m.state_dict()[name].double() for m in models) / 3
        torch.testing.assert_close(value.double(), want, atol=1e-7, rtol=0)
    assert not torch.equal(
        avg.state_dict()["bert.encoder.layer.0.attention.selfattn.query.weight"],
        models[0].state_dict()["bert.encoder.layer.0.attention.selfattn.query.weight"],
    )
    one = average_checkpoints(paths[:1])
    for name, value in one.state_dict().items():
        assert torch.equal(value, models[0].state_dict()[name])
    other = tmp_path / "small.safetensors"
    save_model(new_model(RnaBertConfig(num_hidden_layers=2)), other)
    with pytest.raises(ValueError, match="different architecture"):
        average_checkpoints([paths[0], other])
    with pytest.raises(ValueError, match="no checkpoints"):
        average_checkpoints([])
    from rnabert.cli import main

    assert (
        main(["average-checkpoints", *map(str, paths), "-o", str(tmp_path / "avg.safetensors")])
        == 0
    )
    with pytest.deprecated_call(
        match="rnabert average-checkpoints"
    ):  # the old entry point still works
        assert (
            average_main([str(p) for p in paths] + ["-o", str(tmp_path / "avg2.safetensors")]) == 0
        )
    again = load_model(tmp_path / "avg.safetensors")
    for name, value in again.state_dict().items():
        assert torch.equal(value, avg.state_dict()[name])


def test_validation_pairs_can_be_identity_stratified(tmp_path, toy_validation):
    from rnabert.evaluate.pairs import sample_pairs
    from rnabert.seqs.identity import identity_bin

    cfg = TrainConfig(
        data=str(EXAMPLE_STO),
        out=str(tmp_path / "r"),
        validation_file=str(toy_validation),
        eval_every=1,
        eval_pairs=1000,
        eval_per_bin=1,
    )
    _, val_pairs, _ = trainer_mod.prepare_data(cfg)
    fam = [f for f in data_mod.read_families(EXAMPLE_STO) if f.accession == "RF00167"]
    want = sample_pairs([f.alignment for f in fam], per_bin=1, seed=0, max_len=data_mod.MAX_LEN)
    assert list(zip(val_pairs.name_a, val_pairs.name_b)) == list(zip(want.name_a, want.name_b))
    assert (
        set(val_pairs.family) == {"RF00167"}
        and np.bincount(identity_bin(val_pairs.identity)).max() == 1
    )


def test_ema_weights_are_kept_validated_and_resumed_exactly(tmp_path, toy_validation):
    from safetensors.torch import load_file

    kw = dict(steps=10, eval_every=5, checkpoint_every=3, ema=0.8)
    train(_config(tmp_path, toy_validation, "ema", **kw))
    train(_config(tmp_path, toy_validation, "ema_split", stop_at=4, **kw))
    with pytest.raises(ValueError, match="ema"):
        train(_config(tmp_path, toy_validation, "ema_split", resume=True, **{**kw, "ema": 0.9}))
    train(_config(tmp_path, toy_validation, "ema_split", resume=True, **kw))
    ema, raw = load_file(tmp_path / "ema" / "ema" / "model.safetensors"), _weights(tmp_path / "ema")
    again = load_file(tmp_path / "ema_split" / "ema" / "model.safetensors")
    assert all(torch.equal(ema[k], again[k]) for k in ema)
    assert any(not torch.equal(ema[k], raw[k]) for k in ema)  # the average lags the raw weights
    # With decay d the average is (1 - d) * raw + d * previous average: check one step by hand.
    init = new_model(seed=3).state_dict()
    one = _config(
        tmp_path, toy_validation, "ema1", steps=1, eval_every=0, checkpoint_every=0, ema=0.8
    )
    train(one)
    e1, r1 = load_file(tmp_path / "ema1" / "ema" / "model.safetensors"), _weights(tmp_path / "ema1")
    key = "bert.encoder.layer.0.attention.selfattn.query.weight"
    torch.testing.assert_close(e1[key], 0.2 * r1[key] + 0.8 * init[key], atol=1e-6, rtol=0)
