"""Homolog search: the database (build, resume, refusals) and the search (hits, coordinates, both
strands, resumed output), through the Python API and the command line."""

import filecmp
import shutil

import numpy as np
import pytest

pytest.importorskip("faiss")
pytest.importorskip("pyarrow")

import rnabert  # noqa: E402
from rnabert.cli import main  # noqa: E402
from rnabert.search import Database, DatabaseError, reverse_complement, search  # noqa: E402
from rnabert.seqs import read_fasta  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return rnabert.load_model()


@pytest.fixture(scope="module")
def records(request):
    from conftest import EXAMPLES

    return [(r.name, r.seq) for r in read_fasta(EXAMPLES / "rfam_examples.fa")][:12]


@pytest.fixture(scope="module")
def db(tmp_path_factory, records, model):
    path = tmp_path_factory.mktemp("search") / "db.rnabert"
    return Database.build(path, records, model=model, chunk_records=5, progress=False)


def _fasta(path, recs):
    path.write_text("".join(f">{n}\n{s}\n" for n, s in recs))
    return path


def test_database_describes_itself(db, records):
    info = db.info()
    assert info["targets"] == info["units"] == len(records)
    assert info["target_residues"] == sum(len(s) for _, s in records)
    assert info["scoring"] == "homology" and info["dim"] == 128 and info["dtype"] == "float16"
    assert info["chunks"] == 3
    Database.open(db.path, verify=True)


def test_every_query_finds_itself_first_with_full_coordinates(db, records, model):
    hits = search(records, db, model=model, progress=False)
    for name, seq in records:
        mine = [h for h in hits if h.query == name]
        top = mine[0]
        assert top.target == name and top.strand == "+"
        assert (top.qstart, top.qend, top.tstart, top.tend) == (1, len(seq), 1, len(seq))
        assert top.identity == 1.0 and top.gaps == 0 and top.aln_len == len(seq)
        evalues = [h.evalue for h in mine]
        assert evalues == sorted(evalues) and max(evalues) <= 10.0


def test_prefiltered_hits_are_exhaustive_hits_and_all_candidates_is_exhaustive(db, records, model):
    pre = search(records, db, model=model, candidates=3, exhaustive=False, progress=False)
    full = search(records, db, model=model, exhaustive=True, progress=False)
    every = search(records, db, model=model, candidates=12, exhaustive=False, progress=False)
    assert search(records, db, model=model, progress=False) == full  # small: exhaustive
    assert every == full
    exhaustive = {(h.query, h.target): h for h in full}
    assert len(pre) <= 3 * len(records)
    assert all(exhaustive[(h.query, h.target)] == h for h in pre)  # rescoring is exact


def test_empty_query_file_is_an_error(tmp_path, db, model):
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    with pytest.raises(ValueError, match="no sequences"):
        search(str(empty), db, model=model)


def test_invalid_character_names_record_and_position(tmp_path, db, model):
    bad = _fasta(tmp_path / "bad.fa", [("fine", "ACGUACGU"), ("broken", "ACGUAC@GU")])
    with pytest.raises(ValueError, match=r"broken.*7"):
        search(str(bad), db, model=model)


def test_database_of_another_model_is_refused(db, records):
    import torch

    other = rnabert.load_model()
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    with pytest.raises(DatabaseError, match="another model"):
        search(records[:1], db, model=other)


def test_truncated_or_corrupt_vector_file_is_refused(tmp_path, db):
    copy = tmp_path / "copy"
    shutil.copytree(db.path, copy)
    vec = copy / "vectors.bin"
    data = bytearray(vec.read_bytes())
    data[100] ^= 0xFF  # same size, one byte changed: only the checksums see it
    vec.write_bytes(bytes(data))
    Database.open(copy)
    with pytest.raises(DatabaseError, match="checksum"):
        Database.open(copy, verify=True)
    vec.write_bytes(bytes(data[:-256]))
    with pytest.raises(DatabaseError, match="truncated"):
        Database.open(copy)


def test_another_format_version_is_refused(tmp_path, db):
    import json

    copy = tmp_path / "copy"
    shutil.copytree(db.path, copy)
    man = json.loads((copy / "manifest.json").read_text())
    man["format"] = "rnabert-search-db/0"
    (copy / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(DatabaseError, match="format"):
        Database.open(copy)


def test_interrupted_build_resumes_identically(tmp_path, records, model, db, monkeypatch):
    path = tmp_path / "db"
    calls = {"n": 0}
    original = Database._add_chunk

    def dies_on_the_second_chunk(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kw)

    monkeypatch.setattr(Database, "_add_chunk", dies_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        Database.build(path, records, model=model, chunk_records=5, progress=False)
    with pytest.raises(DatabaseError, match="interrupted"):
        Database.open(path)
    monkeypatch.setattr(Database, "_add_chunk", original)
    Database.build(path, records, model=model, chunk_records=5, progress=False)
    for name in ("vectors.bin", "coarse.bin", "units.parquet", "pooled.npy"):
        assert filecmp.cmp(path / name, db.path / name, shallow=False), name


def test_add_appends_targets_rolls_back_bad_input_and_resumes(
    tmp_path, records, model, monkeypatch
):
    path = tmp_path / "db"
    Database.build(path, records[:6], model=model, progress=False)
    bad = _fasta(tmp_path / "bad.fa", [("fine", "ACGUACGUAC"), ("broken", "ACG#U")])
    with pytest.raises(ValueError, match="broken"):
        Database.open(path).add(str(bad), model=model, progress=False)
    assert Database.open(path, verify=True).info()["targets"] == 6  # as it was
    calls = {"n": 0}
    original = Database._add_chunk

    def dies_on_the_second_chunk(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kw)

    more = _fasta(tmp_path / "more.fa", records[6:])
    monkeypatch.setattr(Database, "_add_chunk", dies_on_the_second_chunk)
    db = Database.open(path)
    db.manifest["chunk_records"] = 3
    with pytest.raises(KeyboardInterrupt):
        db.add(str(more), model=model, progress=False)
    monkeypatch.setattr(Database, "_add_chunk", original)
    assert Database.open(path).info()["targets"] == 6  # still searchable while the add waits
    search(records[:1], Database.open(path), model=model, progress=False)
    db = Database.open(path).add(str(more), model=model, progress=False)
    assert Database.open(path, verify=True).info()["targets"] == len(records)
    hits = search(records[8:9], db, model=model, progress=False)
    assert hits[0].target == records[8][0]


def test_minus_strand_hit_in_a_long_target_at_the_right_coordinates(tmp_path, records, model):
    rng = np.random.default_rng(3)
    genome = "".join(rng.choice(list("ACGU"), 5000))
    name, rna = records[0]
    at = 2600  # inside the second and third segment of 2000 with overlap 400
    genome = genome[:at] + reverse_complement(rna) + genome[at:]
    fwd_at = 700
    plus_query = genome[fwd_at : fwd_at + 520]  # longer than the model's 440 positions
    db = Database.build(
        tmp_path / "genome",
        [("chr1", genome)],
        model=model,
        segment=2000,
        overlap=400,
        chunk_bases=2500,  # one unit per embedding group: memory stays bounded in a long record
    )
    assert db.info()["units"] == 3
    sto = tmp_path / "hits.sto"
    queries = [(name, rna), ("slice", plus_query)]
    hits = search(queries, db, model=model, strand="both", alignments=sto)
    mine = [h for h in hits if h.query == name]
    top = mine[0]
    assert top.strand == "-" and top.target == "chr1"
    assert abs(top.tstart - (at + len(rna))) <= 2 and abs(top.tend - (at + 1)) <= 2
    assert top.qstart <= 3 and top.qend >= len(rna) - 2
    assert len([h for h in mine if h.strand == "-" and h.evalue < 1e-5]) == 1  # segments merged
    from rnabert.seqs import read_stockholm

    blocks = list(read_stockholm(sto))
    assert [b.id for b in blocks] == [name, "slice"]
    rows = blocks[0].aligned
    planted = rows[f"chr1/{mine[0].tstart}-{mine[0].tend}"]
    assert len(planted) == len(rna)
    same = sum(a == b for a, b in zip(planted, rna))
    assert same >= len(rna) - 4  # the planted copy, read back on the query's strand
    top = [h for h in hits if h.query == "slice"][0]
    assert top.strand == "+" and (top.tstart, top.tend) == (fwd_at + 1, fwd_at + 520)
    assert (top.qstart, top.qend) == (1, 520)


def test_cosine_database_reports_raw_scores_without_evalues(tmp_path, records, model):
    db = Database.build(tmp_path / "cos", records[:6], model=model, head="cosine")
    assert db.info()["scoring"] == "cosine" and db.info()["dim"] == 120
    hits = search(records[:2], db, model=model, progress=False)
    assert hits[0].target == records[0][0] and np.isnan(hits[0].evalue)


@pytest.mark.parametrize("fmt", ["tsv", "json", "parquet"])
def test_interrupted_search_resumes_identically(tmp_path, records, db, model, monkeypatch, fmt):
    from rnabert.search import searching as search_module

    kw = dict(model=model, batch_queries=4, progress=False)
    whole, whole_sto = tmp_path / f"whole.{fmt}", tmp_path / "whole.sto"
    search(records, db, output=whole, alignments=whole_sto, **kw)
    out, sto = tmp_path / f"part.{fmt}", tmp_path / "part.sto"
    original = search_module._Outputs.write

    def dies_in_the_third_batch(self, k, *args):
        if k == 2:  # its alignments written and recorded, its hits cut short mid-write
            hits, self.hits = self.hits, None
            original(self, k, *args)
            self.hits = hits
            if hits.file is not None:
                hits.file.write(b"half a line")
            else:
                open(hits.part_path(k) + ".tmp", "wb").write(b"PAR1 half a part")
            raise KeyboardInterrupt
        return original(self, k, *args)

    monkeypatch.setattr(search_module._Outputs, "write", dies_in_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        search(records, db, output=out, alignments=sto, **kw)
    assert not out.exists() and not sto.exists()  # nothing under the final names
    monkeypatch.setattr(search_module._Outputs, "write", original)
    # another search's partial files are refused, not continued
    with pytest.raises(ValueError, match="other inputs or options"):
        search(records, db, output=out, alignments=sto, resume=True, **{**kw, "max_hits": 3})
    resumed = search(records, db, output=out, alignments=sto, resume=True, **kw)
    assert {h.query for h in resumed} == {n for n, _ in records[8:]}  # only the last batch ran
    assert out.read_bytes() == whole.read_bytes() and sto.read_bytes() == whole_sto.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [whole.name, whole_sto.name, out.name, sto.name]
    )


def _kill_after_batches(cmd, out, batches):
    """Start the command line ``cmd``; SIGKILL it once OUT.partial.json records ``batches``
    complete batches."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rnabert.cli", *cmd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        try:
            if json.loads(open(f"{out}.partial.json").read())["chunks"] >= batches:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    assert proc.poll() is None, "the search finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not os.path.exists(out)


@pytest.mark.parametrize("fmt", ["tsv", "parquet"])
def test_search_killed_and_resumed_from_the_command_line_is_byte_identical(
    tmp_path, records, db, fmt, capsys
):
    # 24 queries in batches of 2: the run is killed (SIGKILL) after 2 of its 12 batches
    queries = _fasta(tmp_path / "q.fa", [(f"{n}#{k}", s) for k in range(2) for n, s in records])
    common = [str(queries), str(db.path), "--no-progress", "--batch-queries", "2", "--threads", "1"]
    whole, part = tmp_path / f"whole.{fmt}", tmp_path / f"part.{fmt}"
    assert main(["search", *common, "-o", str(whole), "--alignments", str(tmp_path / "w.sto")]) == 0
    cmd = ["search", *common, "-o", str(part), "--alignments", str(tmp_path / "p.sto")]
    _kill_after_batches(cmd, part, batches=2)
    capsys.readouterr()
    for other in (["--max-hits", "3"], ["--plot", str(tmp_path / "p.png")]):  # refused, one line
        assert main([*cmd, "--resume", *other]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and ("other inputs or options" in err[0] or "--plot" in err[0]), err
    assert main([*cmd, "--resume"]) == 0
    assert "resumed" in capsys.readouterr().err
    assert part.read_bytes() == whole.read_bytes()
    assert (tmp_path / "p.sto").read_bytes() == (tmp_path / "w.sto").read_bytes()
    # refusals come in one line, before any work
    assert main(["search", *common, "-o", str(queries)]) == 2
    assert "is the input" in capsys.readouterr().err
    assert main(["search", *common, "-o", str(part), "--alignments", str(part)]) == 2
    err = capsys.readouterr().err
    assert "both go to" in err and len(err.strip().splitlines()) == 1


def test_command_line_build_info_search(tmp_path, records, capsys):
    targets = _fasta(tmp_path / "t.fa", records[:8])
    queries = _fasta(tmp_path / "q.fa", records[:2])
    dbp, out = tmp_path / "db.rnabert", tmp_path / "hits.tsv"
    assert main(["db", "build", str(targets), "-o", str(dbp), "--no-progress"]) == 0
    assert main(["db", "info", str(dbp), "--verify"]) == 0
    assert "checksums\tok" in capsys.readouterr().out
    assert main(["search", str(queries), str(dbp), "-o", str(out), "--no-progress"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t") == [
        "query", "target", "bits", "evalue", "qstart", "qend", "tstart", "tend", "strand",
        "aln_len", "identity", "gaps",
    ]  # fmt: skip
    assert lines[1].split("\t")[:2] == [records[0][0], records[0][0]]
    pq = tmp_path / "hits.parquet"
    assert main(["search", str(queries), str(dbp), "-o", str(pq), "--no-progress"]) == 0
    import pyarrow.parquet as papq

    assert papq.read_table(pq).num_rows == len(lines) - 1
    assert main(["search", str(tmp_path / "none.fa"), str(dbp), "-o", str(out)]) == 2
    assert main(["db", "info", str(tmp_path)]) == 2
    assert "not an rnabert search database" in capsys.readouterr().err


def test_composition_correction_shifts_and_scales_each_querys_scores(db, records, model):
    from rnabert.alignment.composition import composition_correction
    from rnabert.alignment.heads import load_homology_head

    queries = records[3:5]
    plain = search(queries, db, model=model, progress=False, composition=False, max_evalue=1e9)
    fixed = search(queries, db, model=model, progress=False, max_evalue=1e9)
    head = load_homology_head()
    emb = rnabert.embed(queries, model=model, device="cpu")
    correction = composition_correction(emb, head, model=model)
    assert correction.scale.min() < 1.0  # the second query's shuffles scatter: scaled too
    before = {(h.query, h.target): h.bits for h in plain}
    names = [n for n, _ in queries]
    common = [(h.query, h.target, h.bits) for h in fixed if (h.query, h.target) in before]
    assert len(common) >= len(db) // 2
    for q, t, bits in common:
        raw = head.null.score_of_bits(before[(q, t)])
        want = head.null.bits(correction.apply(raw, names.index(q)))
        assert bits == pytest.approx(want, abs=1e-3)


def test_prefilter_keeps_best_coarse_units_across_blocks(db, records, model, monkeypatch):
    from rnabert.alignment import engine
    from rnabert.embeddings import Embeddings
    from rnabert.model.inference import embed_records
    from rnabert.search import searching
    from rnabert.search.database import coarse_vectors
    from rnabert.seqs import SeqRecord

    monkeypatch.setattr(searching, "_COARSE_BLOCK_ROWS", 75)  # several blocks of units
    monkeypatch.setattr(searching, "_UNIT_BLOCK_ROWS", 300)  # and of candidates to rescore
    scoring = db.query_scoring(model)
    ctx = searching._Context(db, scoring, model, ("+",), len(db), "cpu", 2, 2 << 30)
    assert len(ctx.coarse_blocks) > 2
    vec = scoring.vectors(embed_records(model, [SeqRecord(n, s) for n, s in records[:4]]))
    got = ctx.prefilter(vec, 3)
    # the reference: every coarse pair scored on its own, best first, ties to the earlier unit
    cq = Embeddings(*coarse_vectors(vec, db.coarse_factor))
    every = ctx.unit_block(np.arange(len(db)), coarse=True)
    pairs = np.array([(i, j) for i in range(4) for j in range(len(db))], dtype=np.int64)
    s = engine.score_pairs(cq, pairs, scoring.params, targets=every).reshape(4, len(db))
    best = np.lexsort((np.tile(np.arange(len(db)), (4, 1)), -s), axis=1)[:, :3]
    want = np.stack([np.repeat(np.arange(4), 3), best.ravel()], axis=1)
    np.testing.assert_array_equal(got, want)
    # the candidates rescored group by group: the scores of the pairs aligned on their own
    full = engine.score_pairs(vec, got, scoring.params, targets=ctx.unit_block(np.arange(len(db))))
    np.testing.assert_array_equal(ctx.rescore(vec, got), full)


def test_knn_of_an_hnsw_index_equals_the_exact_scan(tmp_path, db, monkeypatch):
    from rnabert.search import database

    exact_s, exact_i = db.knn(db.pooled, 5)
    copy = tmp_path / "hnsw.rnabert"
    shutil.copytree(db.path, copy)
    monkeypatch.setattr(database, "HNSW_ABOVE", 0)
    database._write_index(copy / "index.faiss", np.asarray(db.pooled))
    approx_s, approx_i = Database.open(copy).knn(db.pooled, 5)
    assert (exact_i[:, 0] == np.arange(len(db))).all()  # each unit's nearest is itself
    np.testing.assert_array_equal(approx_i, exact_i)  # efSearch >= the database: exact here
    np.testing.assert_allclose(approx_s, exact_s, rtol=1e-5)
