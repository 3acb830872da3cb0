"""What defines a training run, torch-free (the command line reads its defaults without torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# SAL's structured hinge: margins of loss-augmented inference and the alignment gap costs
FP_MARGIN = 0.1
FN_MARGIN = 0.05
GAP_OPEN = 1.0
GAP_EXTEND = 0.1


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in the run directory as ``train_config.json``).

    Schedules: ``"mixed"`` takes an MLM batch and a SAL batch every step (losses weighted by
    ``mlm_weight`` and ``sal_weight``) for ``steps`` steps; ``"sequential"`` is the original's
    order, ``mlm_steps`` MLM-only steps then ``sal_steps`` SAL-only steps, each phase with its own
    warm-up and decay. ``stop_at`` ends this session after that many steps (with a checkpoint)
    without changing the schedule, so a run can be split over sessions and ``resume``d exactly.
    """

    data: str
    out: str
    steps: int = 10000
    schedule: str = "mixed"
    mlm_steps: Optional[int] = None
    sal_steps: Optional[int] = None
    mlm_weight: float = 1.0
    sal_weight: float = 1.0
    batch_tokens: int = 4096
    sal_pairs: int = 16
    sal_candidates: int = 1  # SAL keeps the least identical of this many member pairs per family
    sal_below: Optional[float] = (
        None  # SAL draws a pair from a random identity bin below this % (TrainingSet)
    )
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup: float = 0.05  # fraction of a phase's steps (< 1) or a number of steps (>= 1)
    clip: float = 1.0
    # > 0: keep an exponential moving average of the weights with this decay (validated, shipped)
    ema: float = 0.0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 500
    eval_pairs: int = 300
    eval_per_bin: Optional[int] = (
        None  # identity-stratified validation: up to N pairs per family and bin
    )
    checkpoint_every: int = 1000
    log_every: int = 10
    max_families: Optional[int] = None
    init: Optional[str] = None
    resume: bool = False
    stop_at: Optional[int] = None
    validation_file: Optional[str] = None  # None: the bundled validation_families.txt
    fp_margin: float = FP_MARGIN
    fn_margin: float = FN_MARGIN
    gap_open: float = GAP_OPEN
    gap_extend: float = GAP_EXTEND
    threads: Optional[int] = None
    progress: bool = True
    # > 0: (mixed schedule) also a homology batch every step, its logistic loss weighted by this
    # (train/homology.py); 0: off
    homology_weight: float = 0.0
    homology_families: int = 16  # families per homology batch (2 members + 1 shuffle each)
    homology_candidates: int = 1  # a family's positive pair: least identical of this many draws
    homology_hard: Optional[int] = None  # hardest in-batch negatives kept (None: = families)
    homology_random: Optional[int] = None  # random other negatives kept (None: = families)
    homology_head: Optional[str] = None  # head whose scalars and null λ are used (None: shipped)

    def __post_init__(self):
        if self.schedule not in ("mixed", "sequential"):
            raise ValueError(f"schedule must be 'mixed' or 'sequential', got {self.schedule!r}")
        if self.schedule == "sequential":
            if self.mlm_steps is None or self.sal_steps is None:
                raise ValueError("schedule='sequential' needs mlm_steps and sal_steps")
            self.steps = int(self.mlm_steps) + int(self.sal_steps)
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.homology_weight < 0:
            raise ValueError(f"homology_weight must be >= 0, got {self.homology_weight}")
        if self.homology_weight > 0 and self.schedule != "mixed":
            raise ValueError("homology training needs schedule='mixed'")
        if self.sal_pairs < 1 or self.batch_tokens < 1:
            raise ValueError("sal_pairs and batch_tokens must be positive")

    @property
    def total_steps(self) -> int:
        return self.steps
