"""`rnabert bench` on a tiny run: every figure present, agreement checked, JSON written."""

import json

from rnabert.cli import main


def test_bench_tiny_run_writes_a_complete_report(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "--lengths", "24", "--seconds", "0.002", "--repeats", "1"]
    assert main(args + ["--threads", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    m = report["machine"]
    assert m["threads"] == 1 and m["simd"] and m["rnabert"] and m["torch"]
    row = report["lengths"]["24"]
    assert row["encoder"]["max_abs_diff"] <= 1e-4 and row["encoder"]["seq_per_s"] > 0
    eng = row["engine"]
    assert set(eng["pairs_per_s"]) == {"score", "traceback", "soft", "bits"}
    assert all(v > 0 for v in eng["gcups"].values())
    assert eng["reference_per_pair_pairs_per_s"] > 0
    assert eng["reference_torch_cosine_pairs_per_s"] > 0
    assert "L=24" in capsys.readouterr().out


def test_bench_bad_lengths_exit_2(capsys):
    assert main(["bench", "--lengths", "100,abc"]) == 2
    assert "--lengths must be integers" in capsys.readouterr().err
