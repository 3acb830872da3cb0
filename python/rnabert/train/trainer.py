"""The pre-training loop: MLM and SAL on Rfam seed families, resumable, logged, interrupt-safe.

With ``homology_weight`` > 0 (mixed schedule) every step also takes a homology batch (.homology):
the encoder is fine-tuned for homology detection jointly with SAL; the loss's learned offset is
kept in ``state.pt``.

A run directory holds ``model.safetensors`` (+ ``config.json``), ``state.pt`` (optimizer, step, data
cursor, RNG states: tensors and plain Python values only, read back with ``weights_only=True``),
``metrics.jsonl`` (one JSON object per logged step), ``train_config.json`` and ``best/`` (the
weights with the best validation F so far).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import pathlib
import random
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from ..evaluate.alignment import model_f
from ..evaluate.pairs import sample_pairs
from ..model.bert import RnaBert, new_model
from ..model.checkpoint import load_model, save_model
from . import data as data_mod
from .config import TrainConfig
from .mlm import batch_tensors, mlm_loss, pad_batch
from .sal import sal_loss

_STREAM_MASK = 4
_STREAM_HOMOLOGY_NEG = 6
STATE_FORMAT = "rnabert.train-state/1"


def lr_at(config: TrainConfig, step: int) -> float:
    """Linear warm-up then linear decay to 0, over the whole run (mixed) or each phase
    (sequential)."""
    if config.schedule == "sequential" and step >= config.mlm_steps:
        step, length = step - config.mlm_steps, config.sal_steps
    elif config.schedule == "sequential":
        length = config.mlm_steps
    else:
        length = config.steps
    warm = config.warmup if config.warmup >= 1 else config.warmup * length
    warm = max(1.0, min(float(warm), float(length)))
    if step < warm:
        return config.lr * (step + 1) / warm
    return config.lr * max(0.0, (length - step) / max(1.0, length - warm))


def phases_at(config: TrainConfig, step: int):
    """(do_mlm, do_sal) at a step."""
    if config.schedule == "mixed":
        return config.mlm_weight > 0, config.sal_weight > 0
    return step < config.mlm_steps, step >= config.mlm_steps


# The homology loss's offset is one number in logit units: at the encoder's learning rate Adam
# would move it by ~0.1 in a whole run.
_OFFSET_LR_SCALE = 100.0


def _optimizer(model: RnaBert, config: TrainConfig, offset=None) -> torch.optim.AdamW:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.dim() < 2 or "LayerNorm" in name else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if offset is not None:
        groups.append({"params": [offset], "weight_decay": 0.0, "lr_scale": _OFFSET_LR_SCALE})
    return torch.optim.AdamW(groups, lr=config.lr)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_states() -> Dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    out: Dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy_key": torch.from_numpy(np.asarray(np_state["state"]["key"]).astype(np.int64)),
        "numpy_pos": int(np_state["state"]["pos"]),
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
    }
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def _set_rng_states(s: Dict[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(
        {
            "bit_generator": "MT19937",
            "state": {"key": s["numpy_key"].numpy().astype(np.uint32), "pos": s["numpy_pos"]},
            "has_gauss": 0,
            "gauss": 0.0,
        }
    )
    py = s["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _atomic_save_model(model: RnaBert, path: pathlib.Path, meta: Dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_model(model, tmp, extra_metadata=meta)
    os.replace(tmp, path)


def save_checkpoint(
    run_dir: pathlib.Path,
    model: RnaBert,
    opt,
    cursor: Dict[str, Any],
    config: TrainConfig,
    ema_model: Optional[RnaBert] = None,
    homology_offset: Optional[torch.Tensor] = None,
) -> None:
    """Write model.safetensors (and ema/model.safetensors) then state.pt, each atomically (a crash
    leaves the previous set)."""
    step = int(cursor["step"])
    _atomic_save_model(model, run_dir / "model.safetensors", {"step": str(step)})
    state = {
        "format": STATE_FORMAT,
        **cursor,
        "optimizer": opt.state_dict(),
        "rng": _rng_states(),
        "config": dataclasses.asdict(config),
    }
    if homology_offset is not None:
        state["homology_offset"] = homology_offset.detach().clone()
    if ema_model is not None:
        (run_dir / "ema").mkdir(exist_ok=True)
        _atomic_save_model(
            ema_model,
            run_dir / "ema" / "model.safetensors",
            {"step": str(step), "ema": str(config.ema)},
        )
    tmp = run_dir / "state.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, run_dir / "state.pt")


def _load_weights_of_step(path: pathlib.Path, step: int, into: RnaBert) -> None:
    """Load a checkpoint's weights into ``into``, refusing a file written at another step than
    state.pt."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        file_step = (fh.metadata() or {}).get("step")
    if file_step != str(step):
        raise ValueError(
            f"{path} (step {file_step}) and state.pt (step {step}) are from different checkpoints"
        )
    into.load_state_dict(load_model(path).state_dict())


def load_state(run_dir: pathlib.Path) -> Dict[str, Any]:
    return torch.load(run_dir / "state.pt", map_location="cpu", weights_only=True)


def _truncate_metrics(path: pathlib.Path, step: int) -> None:
    """Drop lines logged after the checkpoint a resumed run starts from."""
    if not path.exists():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line)["step"] <= step
    ]
    path.write_text("".join(line + "\n" for line in keep))


def encode_bucketed(
    model, seqs: List[np.ndarray], batch_tokens: int, device, autocast
) -> torch.Tensor:
    """Hidden states of ``seqs``, shape (n, max L, D), computed in length-sorted chunks of at most
    ``batch_tokens`` padded bases: a SAL batch mixes lengths of 30 to 440, and one padded forward
    pass would spend most of its work on padding."""
    lengths = np.array([len(x) for x in seqs])
    order = np.argsort(-lengths, kind="stable")
    width = int(lengths.max())
    outs, chunk = [], []

    def flush():
        ids = torch.from_numpy(pad_batch([seqs[k] for k in chunk])).to(device)
        with autocast():
            hidden = model(ids, ids != 0)
        outs.append(torch.nn.functional.pad(hidden, (0, 0, 0, width - hidden.shape[1])))

    for k in order:
        if chunk and lengths[chunk[0]] * (len(chunk) + 1) > batch_tokens:
            flush()
            chunk = []
        chunk.append(int(k))
    flush()
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return torch.cat(outs)[torch.from_numpy(inverse).to(device)]


def _sal_step(model, ts: data_mod.TrainingSet, step: int, config: TrainConfig, device, autocast):
    pairs = ts.sal_batch(step)
    seqs = [x for a, b, _ in pairs for x in (a, b)]
    hidden = encode_bucketed(model, seqs, config.batch_tokens, device, autocast)
    la = [len(a) for a, _, _ in pairs]
    lb = [len(b) for _, b, _ in pairs]
    return sal_loss(
        hidden[0::2],
        hidden[1::2],
        la,
        lb,
        [r for _, _, r in pairs],
        fp_margin=config.fp_margin,
        fn_margin=config.fn_margin,
        gap_open=config.gap_open,
        gap_extend=config.gap_extend,
        threads=config.threads,
    )


def _homology_step(model, sampler, head, offset, step, config, device, autocast):
    from .homology import homology_loss

    batch = sampler.batch(step)
    hidden = encode_bucketed(model, batch.ids, config.batch_tokens, device, autocast)
    n = config.homology_families
    return homology_loss(
        hidden,
        batch,
        head,
        offset,
        hard_negatives=n if config.homology_hard is None else config.homology_hard,
        random_negatives=n if config.homology_random is None else config.homology_random,
        rng=np.random.default_rng([config.seed, _STREAM_HOMOLOGY_NEG, step]),
        threads=config.threads,
    )


class _InterruptFlag:
    """First Ctrl-C asks the loop to stop after the current step and checkpoint; a second one
    aborts."""

    def __init__(self):
        self.set = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.set:
            raise KeyboardInterrupt
        self.set = True
        print(
            "\ninterrupt: finishing this step and writing a checkpoint (Ctrl-C again to abort)",
            file=sys.stderr,
        )

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def prepare_data(config: TrainConfig):
    """(training set, validation pairs, validation accessions) for a config."""
    families = data_mod.read_families(config.data)
    val_acc = data_mod.read_validation_file(config.validation_file)
    train_fams, val_fams = data_mod.partition(families, val_acc)
    if config.max_families is not None and config.max_families < len(train_fams):
        rng = np.random.default_rng([config.seed, 99])
        pick = np.sort(rng.choice(len(train_fams), size=config.max_families, replace=False))
        train_fams = [train_fams[k] for k in pick]
    ts = data_mod.TrainingSet(
        train_fams,
        config.seed,
        config.batch_tokens,
        config.sal_pairs,
        forbidden=val_acc,
        sal_candidates=config.sal_candidates,
        sal_below=config.sal_below,
    )
    val_pairs = None
    if val_fams and config.eval_every:
        per_family = max(2, config.eval_pairs // len(val_fams) + 1)
        val_pairs = sample_pairs(
            [f.alignment for f in val_fams],
            pairs_per_family=per_family,
            max_pairs=config.eval_pairs,
            seed=config.seed,
            max_len=data_mod.MAX_LEN,
            per_bin=config.eval_per_bin,
        )
    return ts, val_pairs, val_acc


def train(config: TrainConfig) -> Dict[str, Any]:
    """Run (or resume) training; returns a summary dict (step reached, best validation F, paths).

    ``config.threads`` sets torch's thread count for the run only (restored afterwards). On a busy
    machine, 1 thread can be several times faster than 2 that compete with another process.
    """
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(int(config.threads))
    try:
        return _train(config)
    finally:
        torch.set_num_threads(threads)


def _train(config: TrainConfig) -> Dict[str, Any]:
    from ..backends import resolve_device

    run_dir = pathlib.Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(resolve_device(config.device))
    if device.type == "cuda":

        def autocast():
            return torch.autocast("cuda", dtype=torch.bfloat16)
    else:
        autocast = contextlib.nullcontext
    metrics_path = run_dir / "metrics.jsonl"
    state_path = run_dir / "state.pt"

    if config.resume and state_path.exists():
        state = load_state(run_dir)
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"{state_path}: not an rnabert training state")
        saved = TrainConfig(**state["config"])
        for key in (
            "data",
            "steps",
            "schedule",
            "mlm_steps",
            "sal_steps",
            "seed",
            "batch_tokens",
            "sal_pairs",
            "sal_candidates",
            "lr",
            "max_families",
            "validation_file",
            "mlm_weight",
            "sal_weight",
            "warmup",
            "ema",
            "sal_below",
            "homology_weight",
            "homology_families",
            "homology_candidates",
            "homology_hard",
            "homology_random",
            "homology_head",
        ):
            if getattr(saved, key) != getattr(config, key):
                raise ValueError(
                    f"--resume: {key} was {getattr(saved, key)!r} in {run_dir}, "
                    f"now {getattr(config, key)!r}"
                )
    elif config.resume is False and state_path.exists():
        raise ValueError(
            f"{run_dir} already holds a run: pass --resume to continue it, or another --out"
        )
    else:
        state = None

    _seed_everything(config.seed)
    ts, val_pairs, val_acc = prepare_data(config)
    model = new_model(seed=config.seed)
    if config.init and state is None:
        model.load_state_dict(load_model(config.init).state_dict())
    model.to(device).train()
    homology = config.homology_weight > 0
    offset = head = sampler = None
    if homology:
        from ..alignment.heads import load_homology_head
        from .homology import HomologySampler, initial_offset

        head = load_homology_head(config.homology_head)
        sampler = HomologySampler(
            ts.families,
            config.seed,
            config.homology_families,
            forbidden=val_acc,
            candidates=config.homology_candidates,
        )
        offset = torch.nn.Parameter(torch.tensor(initial_offset(head), device=device))
    opt = _optimizer(model, config, offset)
    # The averaged weights are what validation sees and best/ keeps: single SAL checkpoints are
    # noisy
    # (the low-identity bins move by ±0.02 F between neighbouring checkpoints).
    ema_model = copy.deepcopy(model).eval().requires_grad_(False) if config.ema > 0 else None
    cursor = {"step": 0, "epoch": 0, "batch_index": 0, "elapsed": 0.0, "best_val_f": -1.0}
    if state is not None:
        _load_weights_of_step(run_dir / "model.safetensors", state["step"], model)
        if ema_model is not None:
            _load_weights_of_step(run_dir / "ema" / "model.safetensors", state["step"], ema_model)
        opt.load_state_dict(state["optimizer"])
        if offset is not None:
            with torch.no_grad():
                offset.copy_(state["homology_offset"])
        cursor = {k: state[k] for k in cursor}
        _set_rng_states(state["rng"])
        _truncate_metrics(metrics_path, cursor["step"])
    else:
        metrics_path.write_text("")
    (run_dir / "train_config.json").write_text(
        json.dumps(dataclasses.asdict(config), indent=2) + "\n"
    )

    total = config.total_steps
    end = total if config.stop_at is None else min(total, int(config.stop_at))
    start = int(cursor["step"])
    t_start = time.perf_counter() - float(cursor["elapsed"])
    acc = {
        "mlm_loss": 0.0,
        "mlm_correct": 0,
        "mlm_n": 0,
        "mlm_steps": 0,
        "sal_loss": 0.0,
        "sal_steps": 0,
        "hom_loss": 0.0,
        "hom_acc": 0.0,
        "hom_steps": 0,
    }

    from tqdm.auto import tqdm

    bar = tqdm(
        total=end,
        initial=start,
        desc="train",
        unit="step",
        dynamic_ncols=True,
        disable=not config.progress,
        smoothing=0.05,
    )
    log = open(metrics_path, "a")

    def write(entry):
        log.write(json.dumps(entry) + "\n")
        log.flush()

    def evaluate_now():
        judged = model if ema_model is None else ema_model
        f = model_f(judged, val_pairs)
        model.train()
        if f > cursor["best_val_f"]:
            cursor["best_val_f"] = f
            (run_dir / "best").mkdir(exist_ok=True)
            _atomic_save_model(
                judged,
                run_dir / "best" / "model.safetensors",
                {"step": str(cursor["step"]), "val_f": f"{f:.6f}"},
            )
        return f

    if start == 0 and val_pairs is not None and len(val_pairs):
        write(
            {
                "step": 0,
                "mlm_loss": None,
                "mlm_acc": None,
                "sal_loss": None,
                "lr": 0.0,
                "val_f": evaluate_now(),
                "elapsed": 0.0,
            }
        )

    interrupted = False
    try:
        with _InterruptFlag() as flag:
            for step in range(start, end):
                do_mlm, do_sal = phases_at(config, step)
                lr = lr_at(config, step)
                for group in opt.param_groups:
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                opt.zero_grad(set_to_none=True)
                if do_mlm:
                    seqs = ts.mlm_batch(cursor["epoch"], cursor["batch_index"], step)
                    cursor["batch_index"] += 1
                    if cursor["batch_index"] >= len(ts.epoch_batches(cursor["epoch"])):
                        cursor["epoch"], cursor["batch_index"] = cursor["epoch"] + 1, 0
                    mask_rng = np.random.default_rng([config.seed, _STREAM_MASK, step])
                    inputs, labels = batch_tensors(seqs, mask_rng, device)
                    with autocast():
                        loss, correct, n = mlm_loss(model, inputs, labels)
                    (loss * (config.mlm_weight if config.schedule == "mixed" else 1.0)).backward()
                    acc["mlm_loss"] += float(loss.detach())
                    acc["mlm_correct"] += int(correct)
                    acc["mlm_n"] += int(n)
                    acc["mlm_steps"] += 1
                if do_sal:
                    res = _sal_step(model, ts, step, config, device, autocast)
                    (
                        res.loss * (config.sal_weight if config.schedule == "mixed" else 1.0)
                    ).backward()
                    acc["sal_loss"] += float(res.per_pair.mean())
                    acc["sal_steps"] += 1
                if homology:
                    hres = _homology_step(
                        model, sampler, head, offset, step, config, device, autocast
                    )
                    (hres.loss * config.homology_weight).backward()
                    acc["hom_loss"] += float(hres.loss.detach())
                    acc["hom_acc"] += hres.accuracy
                    acc["hom_steps"] += 1
                if config.clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                opt.step()
                if ema_model is not None:
                    with torch.no_grad():
                        for e, p in zip(ema_model.parameters(), model.parameters()):
                            e.lerp_(p, 1.0 - config.ema)
                cursor["step"] = step + 1
                cursor["elapsed"] = time.perf_counter() - t_start
                done = step + 1
                is_eval = (
                    bool(config.eval_every)
                    and val_pairs is not None
                    and len(val_pairs) > 0
                    and (done % config.eval_every == 0 or done == total)
                )
                if done % config.log_every == 0 or is_eval or done == end or flag.set:
                    entry = {
                        "step": done,
                        "mlm_loss": acc["mlm_loss"] / acc["mlm_steps"]
                        if acc["mlm_steps"]
                        else None,
                        "mlm_acc": acc["mlm_correct"] / acc["mlm_n"] if acc["mlm_n"] else None,
                        "sal_loss": acc["sal_loss"] / acc["sal_steps"]
                        if acc["sal_steps"]
                        else None,
                        "lr": lr,
                        "val_f": evaluate_now() if is_eval else None,
                        "elapsed": round(time.perf_counter() - t_start, 3),
                    }
                    if homology:
                        k = max(1, acc["hom_steps"])
                        entry["homology_loss"] = acc["hom_loss"] / k
                        entry["homology_acc"] = acc["hom_acc"] / k
                        entry["homology_offset"] = float(offset.detach())
                    write(entry)
                    bar.set_postfix(
                        {
                            k: f"{v:.3f}"
                            for k, v in (
                                ("mlm", entry["mlm_loss"]),
                                ("sal", entry["sal_loss"]),
                                ("F", entry["val_f"]),
                            )
                            if v is not None
                        }
                    )
                    acc = dict.fromkeys(acc, 0)
                    acc["mlm_loss"] = acc["sal_loss"] = acc["hom_loss"] = acc["hom_acc"] = 0.0
                bar.update(1)
                if config.checkpoint_every and done % config.checkpoint_every == 0 and done != end:
                    save_checkpoint(run_dir, model, opt, cursor, config, ema_model, offset)
                if flag.set:
                    interrupted = True
                    break
    finally:
        bar.close()
        log.close()
    # Reached after the last step or a first Ctrl-C: the model and optimizer only change inside
    # opt.step(), which the flag never splits, so they match the cursor. A second Ctrl-C or an error
    # skips this and leaves the last periodic checkpoint.
    save_checkpoint(run_dir, model, opt, cursor, config, ema_model, offset)
    if interrupted:
        print(
            f"checkpoint written at step {cursor['step']} in {run_dir} (continue with --resume)",
            file=sys.stderr,
        )
    try:
        from .plot import plot_metrics

        plot_metrics(metrics_path, run_dir / "curves.png")
    except Exception:  # plotting is a convenience, never a failure of the run
        pass
    return {
        "step": int(cursor["step"]),
        "total_steps": total,
        "interrupted": interrupted,
        "best_val_f": cursor["best_val_f"],
        "run_dir": str(run_dir),
        "metrics": str(metrics_path),
        "elapsed": cursor["elapsed"],
    }
