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
    assert set(eng["pairs_per_s"]) == {"score", "local", "traceback", "soft", "bits"}
    assert m["numpy"] and m["python"] and eng["agreement"]["pairs_checked"] > 0
    assert all(v > 0 for v in eng["gcups"].values())
    assert eng["reference_per_pair_pairs_per_s"] > 0
    assert eng["reference_torch_cosine_pairs_per_s"] > 0
    assert "L=24" in capsys.readouterr().out


def test_bench_bad_lengths_exit_2(capsys):
    assert main(["bench", "--lengths", "100,abc"]) == 2
    assert "--lengths must be integers" in capsys.readouterr().err


def test_bench_engine_only_at_a_given_size(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "--only", "engine", "--lengths", "20", "--n", "12", "--repeats", "1"]
    assert main(args + ["--threads", "1", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["lengths"]["20"]
    assert "encoder" not in row
    eng = row["engine"]
    assert eng["n"] == 12 and eng["pairs"] == 66
    assert set(eng["pairs_per_s"]) == {"score", "local", "traceback", "soft", "bits"}
    agree = eng["agreement"]
    assert agree["pairs_checked"] == 66 and agree["score_vs_per_pair"] <= 2e-4
    assert agree["bits_vs_per_pair"] <= 2e-3
    text = capsys.readouterr().out
    assert "checked against its reference before it is timed" in text and "SIMD" in text


def _script(name):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_scripts_print_run_bench_figures(capsys):
    report = _script("bench_bits").main(["--n", "10", "--length", "20", "--repeats", "1"])
    eng = report["lengths"][20]["engine"]
    out = capsys.readouterr().out
    assert f"| score='bits' | {eng['pairs_per_s']['bits']:,.0f} |" in out
    assert f"ratio bits / local: {eng['bits_vs_local']:.2f}" in out
    report = _script("bench_encoder").main(["--n", "4", "--lengths", "20", "--repeats", "1"])
    enc = report["lengths"][20]["encoder"]
    assert enc["extra_reference"] == "eager original" and enc["extra_max_abs_diff"] <= 1e-4
    assert f"| 20 | {enc['extra_reference_seq_per_s']:.1f} |" in capsys.readouterr().out
