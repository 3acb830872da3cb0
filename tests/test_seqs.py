"""Tests of the sequences layer: alphabet, tokeniser, FASTA/Stockholm I/O, records_from."""

import gzip
import inspect
import io
import itertools
import pathlib
import re
import time
import tracemalloc
import warnings

import numpy as np
import pytest

from rnabert import seqs
from rnabert.seqs import (
    AMBIGUOUS,
    VOCAB,
    AmbiguousBaseWarning,
    InvalidSequenceError,
    SeqRecord,
    StockholmAlignment,
    clean_sequence,
    detokenize,
    open_text,
    read_aligned_fasta,
    read_fasta,
    read_stockholm,
    records_from,
    tokenize,
    tokenize_batch,
    write_aligned_fasta,
    write_fasta,
    write_stockholm,
)

RFAM_TRAIN = (
    pathlib.Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "rfam14.2-seed"
    / "Rfam14.2.seed.train.gz"
)


def write_text(path, text, newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def collect_warnings(fn):
    """Run fn, return (result, list of warnings raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [w for w in caught]


# --------------------------------------------------------------------------- alphabet / tokenizer


def test_vocabulary_matches_original_rnabert():
    assert (seqs.PAD, seqs.MASK, seqs.A, seqs.U, seqs.G, seqs.C) == (0, 1, 2, 3, 4, 5)
    assert VOCAB == ("[PAD]", "[MASK]", "A", "U", "G", "C")
    assert set(AMBIGUOUS) == set("NRYKMSWBDHV")


def test_tokenize_exact_ids_case_and_t():
    ids = tokenize("ACGUTacgut")
    assert ids.dtype == np.int64
    assert ids.tolist() == [2, 5, 4, 3, 3, 2, 5, 4, 3, 3]


def test_tokenize_removes_gaps():
    assert tokenize("GGAC-U.a").tolist() == [4, 4, 2, 5, 3, 2]
    assert tokenize("~a_c-").tolist() == [2, 5]
    assert clean_sequence("GGAC-U.at") == "GGACUAU"


def test_tokenize_space_inside_sequence_is_an_error():
    with pytest.raises(ValueError, match=r"^sequence 'x': invalid character ' ' at position 6$"):
        tokenize("ACGUT acgu", name="x")


@pytest.mark.parametrize(
    "seq, char, pos",
    [
        ("ACGUACGUACGUACGUEA", "E", 17),  # protein letter
        ("ACGF", "F", 4),
        ("iACG", "i", 1),
        ("ACG1", "1", 4),
        ("AC*G", "*", 3),
        ("ACG\nU", "\n", 4),
        ("AC\tG", "\t", 3),
        ("ACGé", "é", 4),
        ("A-C-X", "X", 5),  # position counts gaps, as the string was given
    ],
)
def test_invalid_character_names_sequence_position_and_character(seq, char, pos):
    with pytest.raises(InvalidSequenceError) as info:
        clean_sequence(seq, name="tRNA-1")
    assert str(info.value) == f"sequence 'tRNA-1': invalid character {char!r} at position {pos}"
    assert (info.value.name, info.value.position, info.value.char) == ("tRNA-1", pos, char)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match=re.escape(f"at position {pos}")):
        tokenize(seq, name="tRNA-1")


def test_empty_sequences_are_errors_naming_the_record():
    with pytest.raises(ValueError, match=r"^sequence 'r1' is empty$"):
        clean_sequence("", name="r1")
    with pytest.raises(ValueError, match=r"^sequence 'r2' is empty after removing gaps$"):
        tokenize("--..~", name="r2")


def test_ambiguous_bases_become_mask_with_one_warning():
    ids, caught = collect_warnings(lambda: tokenize("ANRNg", name="amb"))
    assert ids.tolist() == [2, 1, 1, 1, 4]
    assert len(caught) == 1 and caught[0].category is AmbiguousBaseWarning
    w = caught[0].message
    assert str(w) == "3 ambiguous bases (N×2, R×1) in 1 sequence ('amb') were encoded as MASK"
    assert w.counts == {"N": 2, "R": 1} and w.n_sequences == 1


def test_clean_sequence_keeps_ambiguity_letters_upper_case():
    cleaned, caught = collect_warnings(lambda: clean_sequence("ac-ny.w"))
    assert cleaned == "ACNYW"
    assert len(caught) == 1 and "3 ambiguous bases" in str(caught[0].message)


def test_every_iupac_code_is_mask_and_no_warning_for_plain_rna():
    ids, caught = collect_warnings(lambda: tokenize(AMBIGUOUS + AMBIGUOUS.lower()))
    assert ids.tolist() == [1] * 22
    assert len(caught) == 1 and caught[0].message.n_sequences == 1
    _, caught = collect_warnings(lambda: tokenize("ACGU"))
    assert caught == []


def test_strict_rejects_ambiguous_bases():
    with pytest.raises(ValueError, match=r"sequence 's': ambiguous base 'n' at position 4"):
        tokenize("AC-nG", name="s", strict=True)
    with pytest.raises(ValueError, match="ambiguous base 'R' at position 1"):
        clean_sequence("RA", strict=True)


def test_tokenize_matches_a_per_base_oracle(rng):
    letters = np.array(list("ACGUTacgut-.~_" + AMBIGUOUS + AMBIGUOUS.lower()))
    table = {"A": 2, "C": 5, "G": 4, "U": 3, "T": 3}
    for _ in range(200):
        s = "".join(rng.choice(letters, size=int(rng.integers(1, 60))))
        expected = [table.get(ch.upper(), 1) for ch in s if ch not in "-.~_"]
        if not expected:
            with pytest.raises(ValueError, match="empty after removing gaps"):
                tokenize(s)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AmbiguousBaseWarning)
            assert tokenize(s).tolist() == expected


def test_detokenize():
    assert detokenize(tokenize("GGACU")) == "GGACU"
    assert detokenize([4, 1, 2, 0, 0]) == "GNA"  # MASK -> N, PAD dropped
    assert detokenize(np.array([], dtype=np.int64)) == ""
    with pytest.raises(ValueError, match="invalid token id 6 at index 1"):
        detokenize([2, 6])
    with pytest.raises(ValueError, match="one-dimensional"):
        detokenize(np.zeros((2, 2), dtype=np.int64))
    torch = pytest.importorskip("torch")
    assert detokenize(torch.tensor([2, 3, 4, 5])) == "AUGC"


def test_tokenize_batch_is_one_ragged_block():
    (names, ids, offsets), caught = collect_warnings(
        lambda: tokenize_batch({"a": "GGA", "b": "c-u", "c": "N"})
    )
    assert len(caught) == 1 and caught[0].message.counts == {"N": 1}
    assert names == ["a", "b", "c"]
    assert ids.tolist() == [4, 4, 2, 5, 3, 1]
    assert offsets.tolist() == [0, 3, 5, 6]
    assert ids.dtype == np.int64 and offsets.dtype == np.int64


# --------------------------------------------------------------------------- FASTA


FASTA_TEXT = """>tRNA-1 a transfer RNA
GCGGAUUUAG
cucagu
  \t
>seq2
; an old-style comment line
ACGT ACGT
>seq3 x  y
UUUU
"""


def test_read_fasta_multiline_blank_lines_descriptions(tmp_path):
    path = write_text(tmp_path / "x.fa", FASTA_TEXT)
    gen = read_fasta(path)
    assert inspect.isgenerator(gen)
    recs = list(gen)
    assert recs == [
        SeqRecord("tRNA-1", "GCGGAUUUAGcucagu", "a transfer RNA"),
        SeqRecord("seq2", "ACGTACGT", ""),
        SeqRecord("seq3", "UUUU", "x  y"),
    ]


def test_read_fasta_crlf_and_handles(tmp_path):
    path = write_text(tmp_path / "crlf.fa", FASTA_TEXT, newline="\r\n")
    assert b"\r\n" in path.read_bytes()
    assert list(read_fasta(path)) == list(read_fasta(io.StringIO(FASTA_TEXT)))
    # A handle opened without newline translation still gives clean records.
    with open(path, newline="") as handle:
        assert [r.seq for r in read_fasta(handle)][0] == "GCGGAUUUAGcucagu"


def test_gzip_detected_by_content_not_suffix(tmp_path):
    gz_named_fa = tmp_path / "really_gzip.fa"
    gz_named_fa.write_bytes(gzip.compress(FASTA_TEXT.encode()))
    plain_named_gz = write_text(tmp_path / "really_plain.fa.gz", FASTA_TEXT)
    expected = list(read_fasta(io.StringIO(FASTA_TEXT)))
    assert list(read_fasta(gz_named_fa)) == expected
    assert list(read_fasta(plain_named_gz)) == expected
    with open_text(gz_named_fa) as handle:
        assert handle.readline() == ">tRNA-1 a transfer RNA\n"


def test_fasta_data_before_first_header(tmp_path):
    path = write_text(tmp_path / "bad.fa", "\nACGU\n>x\nACGU\n")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}:2: sequence data before the "
        r"first '>' header$",
    ):
        list(read_fasta(path))


def test_fasta_duplicate_ids_report_both_lines(tmp_path):
    path = write_text(tmp_path / "dup.fa", ">a\nAC\n>b\nGG\n\n>a desc\nUU\n")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}:6: duplicate sequence id 'a' "
        r"\(first at line 1\)$",
    ):
        list(read_fasta(path))
    assert [r.name for r in read_fasta(path, duplicates="allow")] == ["a", "b", "a"]
    recs, caught = collect_warnings(lambda: list(read_fasta(path, duplicates="warn")))
    assert len(recs) == 3 and "duplicate sequence id 'a'" in str(caught[0].message)


def test_fasta_empty_record_and_empty_header(tmp_path):
    path = write_text(tmp_path / "e.fa", ">a\nACGU\n>b\n\n>c\nGG\n")
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(path))}:3: record 'b' has no sequence$"
    ):
        list(read_fasta(path))
    path = write_text(tmp_path / "h.fa", ">a\nACGU\n>  \nGG\n")
    with pytest.raises(ValueError, match=r":3: FASTA header without a sequence id$"):
        list(read_fasta(path))


@pytest.mark.parametrize("width", [60, 7, None])
@pytest.mark.parametrize("suffix", [".fa", ".fa.gz"])
def test_fasta_round_trip(tmp_path, rng, width, suffix):
    recs = [
        SeqRecord(
            f"r{i}",
            "".join(rng.choice(list("ACGU"), size=int(rng.integers(1, 150)))),
            "desc with  spaces" if i % 2 else "",
        )
        for i in range(25)
    ]
    path = tmp_path / f"rt{suffix}"
    assert write_fasta(recs, path, width=width) == 25
    assert list(read_fasta(path)) == recs
    if suffix.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    else:
        lines = path.read_text().splitlines()
        assert max(len(line) for line in lines if not line.startswith(">")) <= (width or 10**6)


def test_write_fasta_to_handle_and_pairs():
    out = io.StringIO()
    write_fasta([("a", "ACGUACGU"), SeqRecord("b", "GG", "two")], out, width=3)
    assert out.getvalue() == ">a\nACG\nUAC\nGU\n>b two\nGG\n"
    with pytest.raises(ValueError, match="whitespace"):
        write_fasta([("a b", "ACGU")], io.StringIO())


class LineSource:
    """A text 'handle' that counts how many lines were pulled from it."""

    def __init__(self, lines):
        self._lines = lines
        self.pulled = 0
        self.name = "<counted>"

    def read(self, *args):  # pragma: no cover - presence marks it as a handle
        raise AssertionError("readers must iterate lines, not read everything")

    def __iter__(self):
        for line in self._lines:
            self.pulled += 1
            yield line


def endless_fasta():
    for i in itertools.count():
        yield f">s{i}\n"
        yield "ACGU" * 10 + "\n"


def test_read_fasta_streams_without_reading_ahead():
    source = LineSource(endless_fasta())
    first = list(itertools.islice(read_fasta(source), 3))
    assert [r.name for r in first] == ["s0", "s1", "s2"]
    assert source.pulled <= 8


def test_read_fasta_big_gzip_file_in_constant_memory(tmp_path, rng):
    n, length = 4000, 2500  # 10 MB of sequence
    codes = np.frombuffer(b"ACGU", dtype=np.uint8)[rng.integers(0, 4, size=n * length)]
    text = codes.tobytes().decode()
    path = tmp_path / "big.fa.gz"
    with gzip.open(path, "wt", compresslevel=1) as fh:
        for i in range(n):
            seq = text[i * length : (i + 1) * length]
            fh.write(f">s{i}\n" + "\n".join(seq[j : j + 60] for j in range(0, length, 60)) + "\n")
    tracemalloc.start()
    try:
        count = total = 0
        for rec in read_fasta(path):
            count += 1
            total += len(rec.seq)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (count, total) == (n, n * length)
    assert peak < 2_000_000, f"peak {peak} bytes while streaming {n * length} bytes of sequence"


# --------------------------------------------------------------------------- Stockholm

TOY_STO = """# STOCKHOLM 1.0
#=GF ID   toy
#=GF AC   RF99999
#=GF RN   [1]
#=GF RT   First reference,
#=GF RT   continued.
#=GF RN   [2]
#=GF RT   Second reference.
#=GS seqA DE  first sequence
#=GS seqB DE  second one

seqA          GGAC-U.a
#=GR seqA SS  <<..-->>
seqB          GG-CAUUa
#=GC SS_cons  <<....>>
#=GC RF       xxxxxxxx

seqA          UUGC
#=GR seqA SS  ....
seqB          UU-C
#=GC SS_cons  ..::
#=GC RF       xxxx
//

# STOCKHOLM 1.0
#=GF ID second
s1 ACGU
s2 AC-U
//
"""


def toy_path(tmp_path, text=TOY_STO, name="toy.sto", newline="\n"):
    return write_text(tmp_path / name, text, newline)


def test_read_stockholm_interleaved_blocks_and_markup(tmp_path):
    gen = read_stockholm(toy_path(tmp_path))
    assert inspect.isgenerator(gen)
    first, second = list(gen)
    assert first.names == ["seqA", "seqB"]
    assert first.aligned == {"seqA": "GGAC-U.aUUGC", "seqB": "GG-CAUUaUU-C"}
    assert first.ncols == 12 and len(first) == 2
    assert (first.id, first.accession) == ("toy", "RF99999")
    assert first.gf["RT"] == "First reference,\ncontinued.\nSecond reference."
    assert first.gf["RN"] == "[1]\n[2]"
    assert first.gs == {"seqA": {"DE": "first sequence"}, "seqB": {"DE": "second one"}}
    assert first.gc == {"SS_cons": "<<....>>..::", "RF": "xxxxxxxxxxxx"}
    assert first.ss_cons == "<<....>>..::"
    assert first.gr == {"seqA": {"SS": "<<..-->>...."}}
    assert second.id == "second" and second.accession is None and second.gc == {}
    assert second.aligned == {"s1": "ACGU", "s2": "AC-U"}


def test_stockholm_records_are_cleaned_with_descriptions(tmp_path):
    first = next(read_stockholm(toy_path(tmp_path)))
    assert first.records() == [
        SeqRecord("seqA", "GGACUAUUGC", "first sequence"),
        SeqRecord("seqB", "GGCAUUAUUC", "second one"),
    ]


def test_stockholm_crlf_and_gzip(tmp_path):
    expected = list(read_stockholm(toy_path(tmp_path)))
    crlf = toy_path(tmp_path, name="crlf.sto", newline="\r\n")
    gz = tmp_path / "toy.sto.gz"
    gz.write_bytes(gzip.compress(TOY_STO.encode()))
    assert list(read_stockholm(crlf)) == expected
    assert list(read_stockholm(gz)) == expected
    assert list(read_stockholm(io.StringIO(TOY_STO))) == expected


def test_residue_columns_and_reference_pairs_by_hand(tmp_path):
    aln = next(read_stockholm(toy_path(tmp_path)))
    # seqA GGAC-U.aUUGC, seqB GG-CAUUaUU-C
    assert aln.residue_columns("seqA").tolist() == [0, 1, 2, 3, 5, 7, 8, 9, 10, 11]
    assert aln.residue_columns("seqB").tolist() == [0, 1, 3, 4, 5, 6, 7, 8, 9, 11]
    pairs = aln.reference_pairs("seqA", "seqB")
    assert pairs.dtype == np.int64 and pairs.shape == (8, 2)
    assert pairs.tolist() == [[0, 0], [1, 1], [3, 2], [4, 4], [5, 6], [6, 7], [7, 8], [9, 9]]
    assert aln.reference_pairs("seqB", "seqA").tolist() == pairs[:, ::-1].tolist()
    empty = StockholmAlignment(["a", "b"], {"a": "AC--", "b": "--GU"})
    assert empty.reference_pairs("a", "b").shape == (0, 2)


def test_reference_pairs_match_a_loop_oracle(rng):
    chars = np.array(list("ACGU-.~"))
    for _ in range(50):
        ncols = int(rng.integers(1, 80))
        rows = {}
        for name in ("a", "b"):
            row = rng.choice(chars, size=ncols)
            row[rng.integers(0, ncols)] = "A"  # at least one residue
            rows[name] = "".join(row)
        aln = StockholmAlignment(["a", "b"], rows)
        expected, i, j = [], -1, -1
        for x, y in zip(rows["a"], rows["b"]):
            i += x not in "-.~_"
            j += y not in "-.~_"
            if x not in "-.~_" and y not in "-.~_":
                expected.append([i, j])
        assert aln.reference_pairs("a", "b").tolist() == expected
        recs = {r.name: r.seq for r in aln.records()}
        cols = aln.residue_columns("a")
        assert len(cols) == len(recs["a"])
        assert "".join(rows["a"][c] for c in cols) == recs["a"]


def test_reference_pairs_follow_a_replaced_row():
    aln = StockholmAlignment(["a", "b"], {"a": "AC-", "b": "ACG"})
    assert aln.reference_pairs("a", "b").tolist() == [[0, 0], [1, 1]]
    aln.aligned["a"] = "A-G"
    assert aln.reference_pairs("a", "b").tolist() == [[0, 0], [1, 2]]


@pytest.mark.parametrize("width", [None, 5])
@pytest.mark.parametrize("suffix", [".sto", ".sto.gz"])
def test_stockholm_round_trip(tmp_path, width, suffix):
    original = list(read_stockholm(toy_path(tmp_path)))
    path = tmp_path / f"out{suffix}"
    assert write_stockholm(original, path, width=width) == 2
    back = list(read_stockholm(path))
    assert back == original
    text = open_text(path).read()
    if width:
        assert text.count("\nseqA ") == 3  # 12 columns in blocks of 5
    # references stay grouped as in the input, not all RN lines first
    assert re.search(
        r"#=GF RN +\[1\]\n#=GF RT +First reference,\n#=GF RT +continued.\n"
        r"#=GF RN +\[2\]\n",
        text,
    )


def test_write_stockholm_single_alignment_to_handle():
    aln = StockholmAlignment(
        ["x", "y"], {"x": "AC-G", "y": "ACUG"}, gf={"ID": "t"}, gc={"SS_cons": "<..>"}
    )
    out = io.StringIO()
    write_stockholm(aln, out)
    assert list(read_stockholm(io.StringIO(out.getvalue()))) == [aln]
    assert out.getvalue().startswith("# STOCKHOLM 1.0\n") and out.getvalue().endswith("//\n")


def sto_error(tmp_path, text):
    path = toy_path(tmp_path, text, name="bad.sto")
    with pytest.raises(ValueError) as info:
        list(read_stockholm(path))
    return str(info.value), str(path)


def test_stockholm_sequence_before_header(tmp_path):
    message, path = sto_error(tmp_path, "\nseqA ACGU\n# STOCKHOLM 1.0\nseqA ACGU\n//\n")
    assert message == f"{path}:2: sequence line before '# STOCKHOLM 1.0' header"
    message, path = sto_error(tmp_path, TOY_STO + "stray ACGU\n")
    last = TOY_STO.count("\n") + 1
    assert message == f"{path}:{last}: sequence line before '# STOCKHOLM 1.0' header"


def test_stockholm_unterminated(tmp_path):
    message, path = sto_error(tmp_path, "# STOCKHOLM 1.0\nseqA ACGU\nseqB ACGU\n")
    assert message == (
        f"{path}:3: unterminated Stockholm alignment (started at line 1, no '//' "
        "before the end of the file)"
    )
    message, _ = sto_error(tmp_path, "# STOCKHOLM 1.0\nseqA ACGU\n# STOCKHOLM 1.0\nb A\n//\n")
    assert message.endswith(
        ":3: '# STOCKHOLM' header inside an alignment (the one started at "
        "line 1 has no '//' terminator)"
    )


def test_stockholm_inconsistent_lengths_in_a_block(tmp_path):
    message, path = sto_error(tmp_path, "# STOCKHOLM 1.0\n\na ACGU\nb ACG\n//\n")
    assert message == (
        f"{path}:4: inconsistent aligned lengths: 'b' has 3 columns in this block, line 3 has 4"
    )
    message, _ = sto_error(tmp_path, "# STOCKHOLM 1.0\na ACGU\nb ACGU\n#=GC SS_cons <<>\n//\n")
    assert message.endswith(
        ":4: inconsistent aligned lengths: '#=GC SS_cons' has 3 columns in this block, line 2 has 4"
    )


def test_stockholm_row_missing_from_a_later_block(tmp_path):
    message, path = sto_error(tmp_path, "# STOCKHOLM 1.0\na AC\nb AC\n\na GU\n//\n")
    assert message == (
        f"{path}:3: inconsistent aligned lengths: 'b' has 2 columns in all, 'a' has "
        "4 (a row missing from an interleaved block?)"
    )


def test_stockholm_name_twice_in_one_block(tmp_path):
    message, path = sto_error(tmp_path, "# STOCKHOLM 1.0\na AC\nb AC\na GU\nb GU\n//\n")
    assert message.startswith(f"{path}:4: 'a' appears twice in one block (lines 2 and 4)")


def test_stockholm_invalid_character_and_bad_lines(tmp_path):
    message, path = sto_error(tmp_path, "# STOCKHOLM 1.0\na AC\nb AG\n\na GU\nb G5\n//\n")
    assert message == f"{path}:6: sequence 'b': invalid character '5' at column 4"
    message, _ = sto_error(tmp_path, "# STOCKHOLM 1.0\na AC GU\n//\n")
    assert message.endswith(
        ":2: a sequence line must be '<name> <aligned sequence>' without "
        "spaces in either, got 3 fields"
    )
    message, _ = sto_error(tmp_path, "# STOCKHOLM 1.0\n//\n")
    assert message.endswith(":1: alignment has no sequences")
    message, _ = sto_error(tmp_path, "# STOCKHOLM 1.0\na ACGU\n#=GC SS_cons\n//\n")
    assert message.endswith(":3: #=GC line must be '#=GC <tag> <per-column string>'")


def test_stockholm_records_error_names_file_line(tmp_path):
    aln = next(read_stockholm(toy_path(tmp_path, "# STOCKHOLM 1.0\na ACGU\nb ----\n//\n")))
    with pytest.raises(ValueError, match=r"toy\.sto:3: sequence 'b' is empty after removing gaps$"):
        aln.records()


def test_alignment_constructor_validates():
    with pytest.raises(ValueError, match="inconsistent aligned lengths"):
        StockholmAlignment(["a", "b"], {"a": "ACG", "b": "AC"})
    with pytest.raises(ValueError, match="#=GC SS_cons has 2 columns"):
        StockholmAlignment(["a"], {"a": "ACG"}, gc={"SS_cons": "<>"})
    assert StockholmAlignment(None, {"a": "AC", "b": "GU"}).names == ["a", "b"]


def test_alignment_select_keeps_columns_and_updates_sq(tmp_path):
    aln = next(read_stockholm(toy_path(tmp_path)))
    aln.gf["SQ"] = "2"
    sub = aln.select(["seqB"])
    assert sub.names == ["seqB"] and sub.ncols == 12 and sub.gc == aln.gc
    assert sub.gf["SQ"] == "1" and sub.gs == {"seqB": {"DE": "second one"}} and sub.gr == {}


def test_alignment_rename(tmp_path):
    aln = next(read_stockholm(toy_path(tmp_path)))
    renamed = aln.rename(lambda n: "RF99999|" + n)
    assert renamed.names == ["RF99999|seqA", "RF99999|seqB"]
    assert renamed.gs["RF99999|seqB"] == {"DE": "second one"}
    assert renamed.gr == {"RF99999|seqA": {"SS": "<<..-->>...."}}
    assert (
        renamed.reference_pairs("RF99999|seqA", "RF99999|seqB").tolist()
        == aln.reference_pairs("seqA", "seqB").tolist()
    )
    assert aln.rename({"seqA": "x"}).names == ["x", "seqB"]
    with pytest.raises(ValueError, match="duplicate sequence name 'x'"):
        aln.rename(lambda n: "x")


def test_alignment_records_warn_once_for_all_rows():
    aln = StockholmAlignment(["a", "b", "c"], {"a": "AN-G", "b": "RRNG", "c": "ACGU"})
    recs, caught = collect_warnings(aln.records)
    assert [r.seq for r in recs] == ["ANG", "RRNG", "ACGU"]
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "4 ambiguous bases (N×2, R×2) in 2 sequences ('a', 'b') will be encoded as MASK"
    )


# --------------------------------------------------------------------------- aligned FASTA


def test_aligned_fasta_read_write_round_trip(tmp_path):
    path = write_text(tmp_path / "aln.fa", ">a first\nGGAC-U.a\nUUGC\n>b\nGG-CAUUa\nUU-C\n")
    aln = read_aligned_fasta(path)
    assert isinstance(aln, StockholmAlignment)
    assert aln.aligned == {"a": "GGAC-U.aUUGC", "b": "GG-CAUUaUU-C"}
    assert aln.gs == {"a": {"DE": "first"}} and aln.gf == {} and aln.gc == {}
    assert aln.reference_pairs("a", "b").tolist()[:3] == [[0, 0], [1, 1], [3, 2]]
    out = tmp_path / "out.afa"
    assert write_aligned_fasta(aln, out, width=5) == 2
    assert read_aligned_fasta(out) == aln
    assert open(out).read().startswith(">a first\nGGAC-\nU.aUU\nGC\n>b\n")


def test_aligned_fasta_inconsistent_lengths_and_bad_char(tmp_path):
    path = write_text(tmp_path / "bad.afa", ">a\nAC-GU\n>b\nACGU\n")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}:3: inconsistent aligned "
        r"lengths: 'b' has 4 columns but 'a' \(line 1\) has 5$",
    ):
        read_aligned_fasta(path)
    path = write_text(tmp_path / "bad2.afa", ">a\nAC-G\nUUJU\n")
    with pytest.raises(
        ValueError,
        match=r"bad2\.afa:3: sequence 'a': invalid character 'J' at "
        r"column 7$",
    ):
        read_aligned_fasta(path)


# --------------------------------------------------------------------------- records_from


def names_seqs(records):
    return [(r.name, r.seq) for r in records]


def test_records_from_single_string_and_collections():
    assert names_seqs(records_from("acgt-u")) == [("seq0", "ACGUU")]
    assert names_seqs(records_from(["ACGU", "gg"])) == [("seq0", "ACGU"), ("seq1", "GG")]
    assert names_seqs(records_from(("ACGU", "GG"))) == [("seq0", "ACGU"), ("seq1", "GG")]
    assert names_seqs(records_from([("x", "AC"), ("y", "G-G")])) == [("x", "AC"), ("y", "GG")]
    assert names_seqs(records_from({"x": "AC", "y": "ut"})) == [("x", "AC"), ("y", "UU")]
    assert names_seqs(records_from(SeqRecord("r", "acg", "d"))) == [("r", "ACG")]
    assert list(records_from([SeqRecord("r", "acg", "d")]))[0].description == "d"
    gen = (s for s in ["A", "C"])
    assert names_seqs(records_from(gen)) == [("seq0", "A"), ("seq1", "C")]
    mixed = ["AC", ("x", "GG"), {"y": "UU"}, SeqRecord("z", "CC")]
    assert names_seqs(records_from(mixed)) == [
        ("seq0", "AC"),
        ("x", "GG"),
        ("y", "UU"),
        ("z", "CC"),
    ]


def test_records_from_files_paths_handles_and_text(tmp_path):
    fa = write_text(tmp_path / "x.fa", FASTA_TEXT)
    expected = [("tRNA-1", "GCGGAUUUAGCUCAGU"), ("seq2", "ACGUACGU"), ("seq3", "UUUU")]
    assert names_seqs(records_from(str(fa))) == expected
    assert names_seqs(records_from(fa)) == expected
    gz = tmp_path / "x.txt"  # gzip content, misleading suffix
    gz.write_bytes(gzip.compress(FASTA_TEXT.encode()))
    assert names_seqs(records_from(gz)) == expected
    with open(fa) as handle:
        assert names_seqs(records_from(handle)) == expected
    assert names_seqs(records_from(FASTA_TEXT)) == expected
    assert list(records_from(fa))[0].description == "a transfer RNA"
    sto = toy_path(tmp_path)
    sto_expected = [("seqA", "GGACUAUUGC"), ("seqB", "GGCAUUAUUC"), ("s1", "ACGU"), ("s2", "ACU")]
    assert names_seqs(records_from(sto)) == sto_expected
    assert names_seqs(records_from(TOY_STO)) == sto_expected
    assert names_seqs(records_from(next(read_stockholm(sto)))) == sto_expected[:2]
    assert names_seqs(records_from([fa, str(sto)])) == expected + sto_expected


def test_records_from_biopython_like_records():
    class BioRecord:
        def __init__(self, id, seq, description):
            self.id, self.seq, self.description = id, seq, description

    rec = next(records_from([BioRecord("chr1", "ACGT", "chr1 some text")]))
    assert rec == SeqRecord("chr1", "ACGU", "some text")


def test_records_from_missing_paths_fail_at_the_call(tmp_path):
    for missing in [
        str(tmp_path / "nope.fa"),
        "nope/other",
        "missing.sto",
        "x.FASTA.GZ",
        tmp_path / "no_suffix",
    ]:
        with pytest.raises(FileNotFoundError):
            records_from(missing)  # no next(): the error comes from the call itself


def test_records_from_directory_is_an_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        records_from(str(tmp_path))


def test_readers_hint_at_the_other_format(tmp_path):
    fa = write_text(tmp_path / "x.fa", ">a\nACGU\n")
    with pytest.raises(
        ValueError,
        match=r"x\.fa:1: FASTA header before '# STOCKHOLM 1\.0' header "
        r"\(this looks like FASTA",
    ):
        list(read_stockholm(fa))
    sto = toy_path(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"toy\.sto:1: sequence data before the first '>' header "
        r"\(this looks like Stockholm",
    ):
        list(read_fasta(sto))


def test_errors_and_warnings_survive_pickling():
    import pickle

    with pytest.raises(InvalidSequenceError) as info:
        clean_sequence("ACE", name="p")
    err = pickle.loads(pickle.dumps(info.value))
    assert (str(err), err.name, err.position, err.char) == (str(info.value), "p", 3, "E")
    w = pickle.loads(pickle.dumps(AmbiguousBaseWarning("m", {"N": 2}, 1)))
    assert (str(w), w.counts, w.n_sequences) == ("m", {"N": 2}, 1)


def test_records_from_word_that_is_not_a_file():
    with pytest.raises(
        ValueError,
        match=r"sequence 'seq0': invalid character 'e' at position 2 "
        r"\(read as a sequence: no file of that name exists\)",
    ):
        list(records_from("sequences"))


def test_records_from_rejects_bad_types_and_names():
    with pytest.raises(TypeError):
        records_from(42)
    with pytest.raises(TypeError, match="bytes"):
        records_from(b"ACGU")
    with pytest.raises(TypeError, match=r"item 1: expected a \(name, sequence\) pair"):
        list(records_from(["AC", ("a", "b", "c")]))
    with pytest.raises(ValueError, match="sequence name 'my seq' is empty or contains whitespace"):
        list(records_from({"my seq": "ACGU"}))


def test_records_from_duplicate_names():
    with pytest.raises(ValueError, match=r"duplicate sequence name 'x' \(item 0 and item 2\)"):
        list(records_from([("x", "AC"), ("y", "G"), ("x", "U")]))
    with pytest.raises(ValueError, match="duplicate sequence name 'seq1'"):
        list(records_from(["AC", "GG", ("seq1", "U")]))


def test_records_from_duplicate_names_across_files(tmp_path):
    a = write_text(tmp_path / "a.fa", ">x\nACGU\n")
    b = write_text(tmp_path / "b.fa", ">y\nAC\n>x\nGG\n")
    with pytest.raises(
        ValueError,
        match=rf"duplicate sequence name 'x' \({re.escape(str(a))}:1 "
        rf"and {re.escape(str(b))}:3\)",
    ):
        list(records_from([a, b]))


def test_records_from_file_errors_name_file_and_line(tmp_path):
    path = write_text(tmp_path / "e.fa", ">ok\nACGU\n>tRNA-1\nACGUACGUAC\nGUACGUEA\n")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}:5: sequence 'tRNA-1': invalid "
        r"character 'E' at position 17$",
    ):
        list(records_from(path))
    path = write_text(tmp_path / "unknown.txt", "\n\nhello\n")
    with pytest.raises(ValueError, match=r"unknown\.txt:3: cannot tell the format"):
        list(records_from(path))
    path = write_text(tmp_path / "empty.fa", "\n")
    with pytest.raises(ValueError, match=r"empty\.fa: no sequences \(the file is empty\)"):
        list(records_from(path))


def test_records_from_aggregates_ambiguity_into_one_warning():
    recs, caught = collect_warnings(lambda: list(records_from(["ACGN", "NNRA", "ACGU", "yA"])))
    assert [r.seq for r in recs] == ["ACGN", "NNRA", "ACGU", "YA"]
    assert len(caught) == 1 and caught[0].category is AmbiguousBaseWarning
    assert str(caught[0].message) == (
        "5 ambiguous bases (N×3, R×1, Y×1) in 3 sequences "
        "('seq0', 'seq1', 'seq3') will be encoded as MASK"
    )
    assert caught[0].message.counts == {"N": 3, "R": 1, "Y": 1}
    with pytest.raises(ValueError, match="sequence 'seq1': ambiguous base 'N' at position 1"):
        list(records_from(["ACGU", "NA"], strict=True))


def test_records_from_is_lazy():
    def endless():
        for i in itertools.count():
            yield (f"s{i}", "ACGU")

    gen = records_from(endless())
    assert inspect.isgenerator(gen)
    assert [r.name for r in itertools.islice(gen, 3)] == ["s0", "s1", "s2"]
    source = LineSource(endless_fasta())
    assert next(records_from(source)).name == "s0"
    assert source.pulled <= 4


# --------------------------------------------------------------------------- bundled examples


def test_examples_are_small_consistent_and_structured(examples_dir):
    fa, sto = examples_dir / "rfam_examples.fa", examples_dir / "rfam_examples.sto"
    assert sum(p.stat().st_size for p in examples_dir.iterdir() if p.is_file()) < 50_000
    assert (examples_dir / "SOURCE.md").exists()
    alignments = list(read_stockholm(sto))
    assert [a.accession for a in alignments] == ["RF00167", "RF00050", "RF00015", "RF00094"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousBaseWarning)  # examples hold only ACGU
        fasta = list(records_from(fa))
        from_sto = list(records_from(sto))
    assert [(r.name, r.seq) for r in fasta] == [(r.name, r.seq) for r in from_sto]
    assert len(fasta) == 40 and all(len(r.seq) <= 200 for r in fasta)
    for aln in alignments:
        assert aln.ss_cons and aln.ss_cons.count("<") == aln.ss_cons.count(">")
        assert all(name.startswith(aln.accession + "|") for name in aln.names)
        assert aln.gf["SQ"] == str(len(aln)) == "10"


# -------------------------------------------------------------------------- Rfam seed (shared data)


@pytest.mark.skipif(not RFAM_TRAIN.exists(), reason=f"{RFAM_TRAIN} not present")
def test_read_full_rfam_seed_train_fast():
    start = time.perf_counter()
    n_alignments = n_sequences = 0
    without_ss_cons = []
    for aln in read_stockholm(RFAM_TRAIN):
        n_alignments += 1
        n_sequences += len(aln)
        if not aln.ss_cons:
            without_ss_cons.append(aln.accession)
    elapsed = time.perf_counter() - start
    assert (n_alignments, n_sequences) == (2906, 57211)
    assert without_ss_cons == []
    assert elapsed < 3.0, f"reading the Rfam seed took {elapsed:.2f} s"
