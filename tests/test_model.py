"""The encoder: conformance with the original's forward pass, checkpoints, batching, long
sequences."""

import json

import numpy as np
import pytest
import torch

from rnabert.model import CheckpointError, RnaBert, RnaBertConfig, load_model, save_model
from rnabert.model.checkpoint import original_to_ours
from rnabert.model.inference import encode_ids, most_central_window, window_starts

ORIGINAL = "rnabert_original_format_random_init.pt"
TOKENS = {"A": 2, "U": 3, "G": 4, "C": 5}


@pytest.fixture(scope="module")
def model(request):
    from conftest import FIXTURES

    return load_model(FIXTURES / ORIGINAL)


@pytest.fixture(scope="module")
def reference(request):
    from conftest import FIXTURES

    return json.loads((FIXTURES / "reference_forward_pass.json").read_text())


def _ids(seq):
    return np.array([TOKENS[c] for c in seq], dtype=np.int64)


def test_forward_pass_matches_original_batched_with_padding(model, reference):
    seqs = reference["sequences"]
    width = max(map(len, seqs))
    ids = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.from_numpy(_ids(s))
    with torch.inference_mode():
        hidden, logits = model.forward_with_logits(ids)
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(
            hidden[i, : len(s)].numpy(), reference["final_layer"][i], atol=1e-4, rtol=0
        )
        np.testing.assert_allclose(
            logits[i, : len(s)].numpy(), reference["mlm_logits"][i], atol=1e-4, rtol=0
        )


def test_forward_pass_matches_original_one_at_a_time(model, reference):
    for i, s in enumerate(reference["sequences"]):
        with torch.inference_mode():
            hidden, logits = model.forward_with_logits(torch.from_numpy(_ids(s))[None])
        np.testing.assert_allclose(
            hidden[0].numpy(), reference["final_layer"][i], atol=1e-4, rtol=0
        )
        np.testing.assert_allclose(logits[0].numpy(), reference["mlm_logits"][i], atol=1e-4, rtol=0)


def test_encode_ids_matches_original_in_any_batching(model, reference):
    items = [_ids(s) for s in reference["sequences"]]
    for batch_tokens in (1, 50, 100000):  # one per batch, a few per batch, all in one batch
        out = encode_ids(model, items, batch_tokens=batch_tokens)
        for got, want in zip(out, reference["final_layer"]):
            np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_results_independent_of_batch_composition(model, rng):
    items = [rng.integers(2, 6, int(n)) for n in rng.integers(1, 200, 40)]
    alone = [encode_ids(model, [x])[0] for x in items[:10]]
    mixed = encode_ids(model, items, batch_tokens=4000)
    shuffled_order = rng.permutation(len(items))
    shuffled = encode_ids(model, [items[k] for k in shuffled_order], batch_tokens=1500)
    back = [None] * len(items)
    for pos, k in enumerate(shuffled_order):
        back[k] = shuffled[pos]
    for k in range(10):
        np.testing.assert_allclose(mixed[k], alone[k], atol=1e-5, rtol=0)
    for k in range(len(items)):
        np.testing.assert_allclose(back[k], mixed[k], atol=1e-5, rtol=0)


def test_checkpoint_without_module_prefix_loads_the_same(model, tmp_path, fixtures_dir):
    state = torch.load(fixtures_dir / ORIGINAL, map_location="cpu", weights_only=True)
    bare = {k[len("module.") :]: v for k, v in state.items()}
    torch.save(bare, tmp_path / "bare.pt")
    other = load_model(tmp_path / "bare.pt")
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert torch.equal(a, b), k


def test_checkpoint_keys_cover_the_original_format(fixtures_dir):
    spec = json.loads((fixtures_dir / "rnabert_original_state_dict_keys.json").read_text())
    ours = RnaBert().state_dict()
    mapped = original_to_ours({e["key"]: torch.zeros(e["shape"]) for e in spec["entries"]})
    assert set(mapped) == set(ours)
    assert all(tuple(mapped[k].shape) == tuple(ours[k].shape) for k in ours)
    assert sum(v.numel() for v in ours.values()) == spec["num_parameters"]


def test_mismatched_checkpoint_names_missing_unexpected_and_misshaped_keys(tmp_path, fixtures_dir):
    state = torch.load(fixtures_dir / ORIGINAL, map_location="cpu", weights_only=True)
    del state["module.bert.pooler.dense.bias"]
    state["module.bert.extra.weight"] = torch.zeros(3)
    state["module.bert.embeddings.word_embeddings.weight"] = torch.zeros(7, 120)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path / "bad.pt")
    msg = str(err.value)
    assert "bad.pt" in msg
    assert "missing keys: bert.pooler.dense.bias" in msg
    assert "unexpected keys: bert.extra.weight" in msg
    assert "bert.embeddings.word_embeddings.weight: checkpoint (7, 120) vs model (6, 120)" in msg


def test_checkpoint_that_is_not_a_state_dict(tmp_path):
    (tmp_path / "garbage.pt").write_bytes(b"this is not a checkpoint")
    with pytest.raises(
        CheckpointError, match="garbage.pt: cannot be read as a weights-only torch checkpoint"
    ):
        load_model(tmp_path / "garbage.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(
        CheckpointError, match="list.pt: expected a state dict of tensors, got list"
    ):
        load_model(tmp_path / "list.pt")


class _Boom:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


def test_checkpoint_with_code_is_refused_not_executed(tmp_path, capsys):
    torch.save({"x": _Boom()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_model(tmp_path / "evil.pt")
    assert "unpickled code ran" not in capsys.readouterr().out


def test_safetensors_round_trip(model, tmp_path, rng):
    save_model(model, tmp_path / "model.safetensors")
    assert (tmp_path / "config.json").exists()
    again = load_model(tmp_path / "model.safetensors")
    also = load_model(tmp_path)  # a directory with model.safetensors + config.json
    items = [rng.integers(2, 6, 37)]
    want = encode_ids(model, items)[0]
    np.testing.assert_array_equal(encode_ids(again, items)[0], want)
    np.testing.assert_array_equal(encode_ids(also, items)[0], want)


def test_load_model_without_weights_says_how_to_pass_a_checkpoint(monkeypatch, tmp_path):
    from rnabert.model import checkpoint

    monkeypatch.setattr(checkpoint, "DEFAULT_WEIGHTS", tmp_path / "absent.safetensors")
    with pytest.raises(
        FileNotFoundError, match=r"load_model\('path/to/checkpoint.pt'\).*--weights"
    ):
        load_model()


def test_missing_checkpoint_file():
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        load_model("nowhere.pt")


def test_config_validation_and_json_round_trip():
    cfg = RnaBertConfig(num_hidden_layers=2)
    assert RnaBertConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="num_attention_heads"):
        RnaBertConfig(hidden_size=100, num_attention_heads=12)
    with pytest.raises(ValueError, match="unknown RNABERT config keys"):
        RnaBertConfig.from_dict({"hidden_sizes": 3})


@pytest.mark.parametrize("length", [1, 439, 440, 441, 700, 1000])
def test_windows_cover_every_base_and_pick_the_most_central(length):
    starts = window_starts(length, 440, 220)
    assert starts[0] == 0 and starts[-1] + min(length, 440) == length
    choice = most_central_window(length, starts, 440)
    for p in range(length):
        s = starts[choice[p]]
        assert s <= p < s + 440
        best = max(min(p - t, t + 439 - p) for t in starts if t <= p < t + 440)
        assert min(p - s, s + 439 - p) == best
