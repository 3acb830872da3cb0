"""Sequences in, embeddings out: the embed() API, the Embeddings block, long sequences, the CLI."""

import json

import numpy as np
import pytest
import torch

import rnabert
from rnabert import Embeddings
from rnabert.model import load_model
from rnabert.model.inference import encode_ids, most_central_window, window_starts
from rnabert.seqs import AmbiguousBaseWarning, tokenize

ORIGINAL = "rnabert_original_format_random_init.pt"


@pytest.fixture(scope="module")
def model():
    from conftest import FIXTURES

    return load_model(FIXTURES / ORIGINAL)


def _random_rna(rng, n):
    return "".join(rng.choice(list("ACGU"), n))


def test_embed_reproduces_the_original_forward_pass(model, fixtures_dir):
    ref = json.loads((fixtures_dir / "reference_forward_pass.json").read_text())
    emb = rnabert.embed(ref["sequences"], model=model, device="cpu")
    assert len(emb) == 5 and emb.dim == 120 and emb.values.dtype == np.float32
    assert emb.offsets.dtype == np.int64 and emb.offsets.tolist() == [
        0,
        *np.cumsum(list(map(len, ref["sequences"]))),
    ]
    for i in range(5):
        np.testing.assert_allclose(emb[i], ref["final_layer"][i], atol=1e-4, rtol=0)
    assert emb.sequences == ref["sequences"]


def test_embed_accepts_every_input_kind(model, tmp_path):
    seqs = {"a": "ACGUAGC", "b": "GGGAAACCC"}
    want = rnabert.embed(list(seqs.values()), model=model)
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    sto = tmp_path / "in.sto"
    sto.write_text(
        "# STOCKHOLM 1.0\na ACGUAGC--\nb GGGAAACCC\n//\n".replace(
            "GGGAAACCC", "GGGAAA.CCC"
        ).replace("ACGUAGC--", "ACGUAGC---")
    )
    kinds = {
        "dict": seqs,
        "pairs": list(seqs.items()),
        "fasta path": str(fasta),
        "pathlib": fasta,
        "stockholm": sto,
        "iterator": iter(seqs.items()),
        "generator of records": (rnabert.SeqRecord(k, v) for k, v in seqs.items()),
    }
    for kind, obj in kinds.items():
        got = rnabert.embed(obj, model=model)
        np.testing.assert_array_equal(got.values, want.values, err_msg=kind)
        assert got.names == ["a", "b"], kind
    assert want.names == ["seq0", "seq1"]


def test_embed_treats_t_as_u_and_lower_case(model):
    a = rnabert.embed(["ACGTTGCA"], model=model)
    b = rnabert.embed(["acguugca"], model=model)
    np.testing.assert_array_equal(a.values, b.values)


def test_embed_ambiguous_bases_warn_or_fail(model):
    with pytest.warns(AmbiguousBaseWarning, match="2 ambiguous"):
        emb = rnabert.embed([("x", "ACNGU"), ("y", "RAC")], model=model)
    assert len(emb) == 2
    with pytest.raises(ValueError, match=r"'x'.*N.*position 3|'x'.*position 3.*N"):
        rnabert.embed([("x", "ACNGU")], model=model, strict=True)


def test_embed_bad_input_names_sequence_and_position(model):
    with pytest.raises(ValueError, match=r"'bad'.*'E'.*position 4|'bad'.*position 4.*'E'"):
        rnabert.embed([("ok", "ACGU"), ("bad", "ACGEU")], model=model)
    with pytest.raises(ValueError, match="'empty'"):
        rnabert.embed([("empty", "")], model=model)


def test_long_sequences_use_the_most_central_window(model, rng):
    seq = _random_rna(rng, 1000)
    emb = rnabert.embed([seq], model=model)
    ids = tokenize(seq)
    starts = window_starts(len(seq), 440, 220)
    choice = most_central_window(len(seq), starts, 440)
    windows = encode_ids(model, [ids[s : s + 440] for s in starts])
    want = np.stack([windows[choice[p]][p - starts[choice[p]]] for p in range(len(seq))])
    np.testing.assert_allclose(emb[0], want, atol=1e-5, rtol=0)
    again = rnabert.embed([seq], model=model)
    np.testing.assert_array_equal(emb.values, again.values)  # deterministic


@pytest.mark.parametrize("length", [1, 200, 439, 440])
def test_windowed_path_is_the_short_path_up_to_440(model, rng, length):
    seq = _random_rna(rng, length)
    whole = encode_ids(model, [tokenize(seq)])[0]
    emb = rnabert.embed([seq], model=model)
    np.testing.assert_allclose(emb[0], whole, atol=1e-5, rtol=0)
    narrow = rnabert.embed([seq], model=model, window=440, stride=100)
    np.testing.assert_allclose(narrow[0], whole, atol=1e-5, rtol=0)


def test_window_boundary_is_continuous(model, rng):
    # 441 bases: two windows; every base still gets ≥ 219 bases of context on its poorer side or
    # touches an end, and the vectors stay close to those of the 440-base prefix inside the first
    # window.
    seq = _random_rna(rng, 441)
    long = rnabert.embed([seq], model=model)[0]
    prefix = rnabert.embed([seq[:440]], model=model)[0]
    assert long.shape == (441, 120)
    cos = (
        np.sum(long[:220] * prefix[:220], 1)
        / np.linalg.norm(long[:220], axis=1)
        / np.linalg.norm(prefix[:220], axis=1)
    )
    assert cos.min() > 0.9


def test_embeddings_block_api(rng):
    arrays = [rng.standard_normal((n, 120)).astype(np.float32) for n in (3, 1, 7)]
    emb = Embeddings.from_arrays(arrays, names=["a", "b", "c"])
    assert len(emb) == 3 and emb.total_len == 11 and emb.lengths.tolist() == [3, 1, 7]
    np.testing.assert_array_equal(emb[2], arrays[2])
    np.testing.assert_array_equal(emb[-1], arrays[2])
    np.testing.assert_allclose(
        emb.pooled(), np.stack([a.astype(np.float64).mean(0) for a in arrays]), rtol=1e-6
    )
    unit = emb.normalized()
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)
    assert emb.index("c") == 2
    sub = emb.subset([2, 0])
    assert sub.names == ["c", "a"]
    np.testing.assert_array_equal(sub[0], arrays[2])
    both = Embeddings.concatenate([emb, sub])
    assert len(both) == 5 and both.names[3:] == ["c", "a"]
    np.testing.assert_array_equal(both[4], arrays[0])
    with pytest.raises(IndexError):
        emb[3]


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_embeddings_save_load_round_trip_exactly(rng, tmp_path, suffix):
    arrays = [rng.standard_normal((n, 120)).astype(np.float32) for n in (5, 2)]
    emb = Embeddings.from_arrays(arrays, names=["x y", "ü"], sequences=["ACGUA", "GG"])
    emb.save(tmp_path / f"e{suffix}")
    back = Embeddings.load(tmp_path / f"e{suffix}")
    np.testing.assert_array_equal(back.values, emb.values)
    np.testing.assert_array_equal(back.offsets, emb.offsets)
    assert back.names == emb.names and back.sequences == emb.sequences


def test_embeddings_reject_bad_blocks():
    with pytest.raises(ValueError, match="2-D"):
        Embeddings(np.zeros(5, np.float32), np.array([0, 5]))
    with pytest.raises(ValueError, match="start at 0 and end at total_len=4"):
        Embeddings(np.zeros((4, 120), np.float32), np.array([0, 5]))
    with pytest.raises(ValueError, match="strictly increasing.*sequence 1"):
        Embeddings(np.zeros((4, 120), np.float32), np.array([0, 2, 2, 4]))
    with pytest.raises(ValueError, match="'b' is empty"):
        Embeddings.from_arrays([np.zeros((2, 3)), np.zeros((0, 3))], names=["a", "b"])
    with pytest.raises(ValueError, match="one embedding width"):
        Embeddings.from_arrays([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="2 names for 1 sequences"):
        Embeddings(np.zeros((4, 3), np.float32), np.array([0, 4]), names=["a", "b"])


def test_load_rejects_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not an rnabert embeddings file"):
        Embeddings.load(tmp_path / "other.npz")


def test_device_cuda_without_gpu_is_a_clear_error(model):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        rnabert.embed(["ACGU"], model=model, device="cuda")


def test_one_call_runs_its_ops_on_one_thread_and_restores_torch(model, rng, monkeypatch):
    """A small call runs its single batch on the calling thread with one intra-op thread (no barrier
    waits on a busy machine); a large one its batches on the kept pool; either way torch's thread
    count is restored and the results do not depend on the path."""
    from rnabert.model import inference

    seen = []
    real = model.forward

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    seqs = ["".join(rng.choice(list("ACGU"), size=n)) for n in (120, 90, 60, 30)]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(model, "forward", spy)
        small = rnabert.embed(seqs[:2], model=model, device="cpu", progress=False)
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
        many = rnabert.embed(seqs, model=model, device="cpu", progress=False, batch_tokens=120)
        assert torch.get_num_threads() == 2 and inference._POOL is not None
        for k in range(2):
            np.testing.assert_allclose(many[k], small[k], atol=1e-5)
    finally:
        torch.set_num_threads(threads)
    model.train()
    rnabert.embed(seqs[:1], model=model, device="cpu", progress=False)
    assert not model.training  # a model in training mode is switched to eval, as before
