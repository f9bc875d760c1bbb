"""modctl Modelfile parsing and file classification (attest.modelpack.modelfile)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from attest.errors import InputError
from attest.modelpack.modelfile import (
    WEIGHT_SIZE_THRESHOLD,
    Modelfile,
    classify_files,
    load_modelfile,
    parse_modelfile,
)

TESTDATA = Path(__file__).resolve().parent.parent / "testdata" / "models"
UNTESTED = "org.cncf.model.file.mediatype.untested"


def _files(root: Path) -> list[str]:
    return sorted(
        Path(d, f).relative_to(root).as_posix() for d, _, files in os.walk(root) for f in files
    )


def _kinds(result: list[tuple[str, str, bool]]) -> dict[str, str]:
    return {path: kind for path, kind, _ in result}


# --- parsing ---------------------------------------------------------------------------------


def test_every_directive() -> None:
    mf = parse_modelfile(
        "# This is a comment\n"
        "CONFIG config1\nMODEL model1\nCODE code1\nDATASET dataset1\nDOC doc1\n"
        "NAME name1\nARCH arch1\nFAMILY family1\nFORMAT format1\nPARAMSIZE 7B\n"
        "PRECISION bfloat16\nQUANTIZATION awq\n"
    )
    assert (mf.name, mf.arch, mf.family, mf.format) == ("name1", "arch1", "family1", "format1")
    assert (mf.param_size, mf.precision, mf.quantization) == ("7B", "bfloat16", "awq")
    assert (mf.configs, mf.models, mf.codes, mf.docs, mf.datasets) == (
        ["config1"], ["model1"], ["code1"], ["doc1"], ["dataset1"]
    )  # fmt: skip


def test_absent_values_are_none_and_lists_empty() -> None:
    mf = parse_modelfile("MODEL *.gguf\n")
    assert mf.name is None and mf.param_size is None
    assert mf.configs == [] and mf.models == ["*.gguf"]


def test_directives_are_case_insensitive_and_whitespace_is_free() -> None:
    mf = parse_modelfile("name   foo\n\tModel\t*.safetensors  \n  Doc README.md\n")
    assert mf.name == "foo"
    assert mf.models == ["*.safetensors"]
    assert mf.docs == ["README.md"]


def test_comments_blank_lines_crlf_and_bom() -> None:
    mf = parse_modelfile("\ufeff# top\r\n\r\n   # indented comment\r\nNAME x\r\n")
    assert mf.name == "x"


def test_hash_inside_a_line_is_not_a_comment() -> None:
    # modctl has no inline comments: the words are joined into the value.
    assert parse_modelfile("NAME foo # bar\n").name == "foo # bar"


def test_file_patterns_repeat_and_deduplicate_in_order() -> None:
    mf = parse_modelfile("CONFIG b.json\nCONFIG a.json\nCONFIG b.json\nCONFIG ./a.json\n")
    assert mf.configs == ["b.json", "a.json"]


def test_unquoted_paths_with_spaces_are_joined() -> None:
    # modctl issue #207: generated Modelfiles write such paths unquoted.
    mf = parse_modelfile("CONFIG example  workflows/a b.json\n")
    assert mf.configs == ["example workflows/a b.json"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("INVALID command\n", "Modelfile:1: unknown Modelfile directive 'INVALID'"),
        ("# c\n\nINVALID command\n", "Modelfile:3: unknown"),
        ("MODELS *.bin\n", "unknown Modelfile directive 'MODELS'"),
        ("FROM llama3\n", "unknown Modelfile directive 'FROM'"),  # an Ollama Modelfile
        ("NAME\n", "Modelfile:1: NAME needs an argument"),
        ("MODEL   \n", "MODEL needs an argument"),
        ("MODEL --label=a=b\n", "MODEL needs an argument"),
        ("NAME a\nMODEL m\nNAME b\n", "Modelfile:3: duplicate NAME (first given on line 1)"),
        ("paramsize 1\nPARAMSIZE 2\n", "duplicate PARAMSIZE"),
        ("NAME --label=a=b x\n", "NAME takes no flags"),
        ("MODEL --untested m.bin\n", "unknown flag '--untested'"),
        ("MODEL --label= m.bin\n", "unknown flag"),
        ("MODEL ../outside.bin\n", "outside the model directory"),
        ("MODEL a/../../outside.bin\n", "outside the model directory"),
        ("MODEL /etc/passwd\n", "outside the model directory"),
        ("DOC .\n", "names the whole model directory"),
        ("MODEL [.bin\n", "Modelfile:1: malformed glob pattern '[.bin'"),
        ("MODEL []a].bin\n", "malformed glob pattern"),
        ("MODEL [z-a].bin\n", "malformed glob pattern"),
        ("MODEL a\\\n", "malformed glob pattern"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_modelfile(text)
    assert message in exc.value.message


def test_error_names_the_source_file() -> None:
    with pytest.raises(InputError, match=r"^models/x/Modelfile:2: "):
        parse_modelfile("NAME a\nBOGUS b\n", source="models/x/Modelfile")


def test_labels_and_double_dash() -> None:
    mf = parse_modelfile(
        f"MODEL --label={UNTESTED}=true big.unknown\n"
        "CODE --label=org.cnai.model.file.mediatype.untested=TRUE --label=team=ml small.x\n"
        "DOC -- --odd-name.md\n"
    )
    assert mf.labels[("weight", "big.unknown")] == {UNTESTED: "true"}
    assert mf.is_untested("weight", "big.unknown")
    assert mf.is_untested("code", "small.x")  # legacy cnai key, any case of "true"
    assert mf.labels[("code", "small.x")]["team"] == "ml"
    assert mf.docs == ["--odd-name.md"]
    assert not mf.is_untested("doc", "--odd-name.md")


def test_load_modelfile_reads_the_testdata_modelfile() -> None:
    mf = load_modelfile(TESTDATA / "with-modelfile" / "Modelfile")
    assert mf.name == "tiny-classifier"
    assert (mf.arch, mf.family, mf.format, mf.precision) == (
        "transformer", "bert", "safetensors", "float32"
    )  # fmt: skip
    assert mf.param_size == "146"
    assert mf.codes == ["scripts/*.py"]  # written as lower-case `code`
    assert mf.datasets == ["data/*.jsonl"]
    assert mf.docs == ["README.md", "LICENSE"]


def test_load_modelfile_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read Modelfile"):
        load_modelfile(tmp_path / "Modelfile")


def test_load_modelfile_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "Modelfile").write_bytes(b"NAME \xff\n")
    with pytest.raises(InputError, match="cannot read Modelfile"):
        load_modelfile(tmp_path / "Modelfile")


# --- default classification (no Modelfile): modctl's rules ------------------------------------


def test_realistic_hugging_face_repository() -> None:
    # The file set and expected kinds of modctl's "realistic model structure" test case.
    files = [
        "README.md", "config.json", "generation_config.json", "tokenizer_config.json",
        "tokenizer.model", "tokenizer.json", "pytorch_model.bin", "model.safetensors",
        "special_tokens_map.json", "training_args.bin", "vocab.json", "merges.txt",
        "extra/usage_examples.ipynb", "scripts/convert_weights.py",
        "scripts/preprocessing/prep.py",
    ]  # fmt: skip
    kinds = _kinds(classify_files(files, None))
    by_kind: dict[str, set[str]] = {}
    for path, kind in kinds.items():
        by_kind.setdefault(kind, set()).add(path)
    assert by_kind == {
        "weight.config": {"config.json", "generation_config.json", "tokenizer_config.json",
                          "tokenizer.model", "tokenizer.json", "special_tokens_map.json",
                          "vocab.json"},
        "weight": {"pytorch_model.bin", "model.safetensors", "training_args.bin"},
        "code": {"extra/usage_examples.ipynb", "scripts/convert_weights.py",
                 "scripts/preprocessing/prep.py"},
        "doc": {"merges.txt", "README.md"},
    }  # fmt: skip


def test_known_files_are_tested() -> None:
    assert all(not untested for _, _, untested in classify_files(["a.gguf", "LICENSE"], None))


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("MODEL.SAFETENSORS", "weight"),  # case-insensitive
        ("weights/Model-00001-of-00002.SafeTensors", "weight"),
        ("x.meta", "weight.config"),  # in both lists: config is tried first
        ("tokenizer.model", "weight.config"),  # *tokenizer.model* before *.model
        ("spm.model", "weight"),
        ("config.json.bak", "weight.config"),
        ("chat_template.jinja", "code"),  # not in any list: small unknown -> code
        ("requirements.txt", "code"),  # requirements*.txt (code) before *.txt (doc)
        ("dev-requirements.in", "doc"),  # *requirements*
        ("CMakeLists.txt", "code"),
        ("Dockerfile", "code"),
        ("notes.txt", "doc"),
        ("LICENSE-APACHE", "doc"),
        ("README", "doc"),
        ("figure.PNG", "doc"),
        ("model.onnx", "weight"),
        ("run.sh", "code"),
        ("lib.so", "code"),
        ("data.csv", "doc"),
        ("train.jsonl", "weight.config"),  # no dataset rule by default: *.jsonl is config
    ],
)
def test_default_kind(path: str, kind: str) -> None:
    assert _kinds(classify_files([path], None)) == {path: kind}


@pytest.mark.parametrize(
    "path",
    [
        ".gitattributes", ".git/config", ".hidden/model.bin", "normal/.hidden", ".env",
        "__pycache__/cache.pyc", "pkg/__pycache__/x.py", "x.pyc", "x.PYO", "x.pyd",
        "Modelfile", "sub/modelfile", "modelfile/inside.bin",
    ],
)  # fmt: skip
def test_skipped_paths(path: str) -> None:
    assert classify_files([path, "keep.bin"], None) == [("keep.bin", "weight", False)]


def test_unknown_files_follow_the_size_rule_and_are_untested() -> None:
    sizes = {"big.unknown": WEIGHT_SIZE_THRESHOLD + 1, "edge.unknown": WEIGHT_SIZE_THRESHOLD}
    result = classify_files(["big.unknown", "edge.unknown", "nosize.unknown"], None, sizes=sizes)
    assert result == [
        ("big.unknown", "weight", True),
        ("edge.unknown", "code", True),
        ("nosize.unknown", "code", True),
    ]


def test_sizes_may_use_unnormalised_paths() -> None:
    sizes = {"./w/big.unknown": WEIGHT_SIZE_THRESHOLD * 2}
    assert classify_files(["w/big.unknown"], None, sizes=sizes) == [
        ("w/big.unknown", "weight", True)
    ]


def test_only_newline_ends_a_line() -> None:
    # Go's bufio.ScanLines splits on "\n" alone; a form feed is just whitespace.
    assert parse_modelfile("NAME a\fb\nMODEL x\n").name == "a b"


def test_threshold_is_modctls_128_decimal_megabytes() -> None:
    assert WEIGHT_SIZE_THRESHOLD == 128_000_000


def test_output_is_in_modctl_layer_order() -> None:
    files = ["z.py", "b.md", "a.bin", "c.json", "a.py", "a.md", "b.json"]
    assert [(p, k) for p, k, _ in classify_files(files, None)] == [
        ("b.json", "weight.config"), ("c.json", "weight.config"),
        ("a.bin", "weight"),
        ("a.py", "code"), ("z.py", "code"),
        ("a.md", "doc"), ("b.md", "doc"),
    ]  # fmt: skip


def test_paths_are_normalised_and_deduplicated() -> None:
    assert classify_files(["./a.bin", "a.bin", "d//b.bin"], None) == [
        ("a.bin", "weight", False),
        ("d/b.bin", "weight", False),
    ]


@pytest.mark.parametrize("path", ["../x.bin", "/etc/passwd", "a/../../x.bin", "."])
def test_paths_outside_the_directory_are_refused(path: str) -> None:
    with pytest.raises(InputError, match="not inside the model directory"):
        classify_files([path], None)


def test_tiny_llm_testdata_by_default_rules() -> None:
    files = _files(TESTDATA / "tiny-llm")
    assert classify_files(files, None) == [
        ("config.json", "weight.config", False),
        ("generation_config.json", "weight.config", False),
        ("tokenizer.json", "weight.config", False),
        ("tokenizer_config.json", "weight.config", False),
        ("model.safetensors", "weight", False),
        ("modeling_tiny.py", "code", False),
        ("LICENSE", "doc", False),
        ("README.md", "doc", False),
    ]


# --- classification with a Modelfile ----------------------------------------------------------


def test_with_modelfile_testdata() -> None:
    root = TESTDATA / "with-modelfile"
    files = _files(root)
    assert "notes.txt" in files and "Modelfile" in files
    result = classify_files(files, load_modelfile(root / "Modelfile"))
    assert result == [
        ("config.json", "weight.config", False),
        ("model.safetensors", "weight", False),
        ("scripts/train.py", "code", False),
        ("LICENSE", "doc", False),
        ("README.md", "doc", False),
        ("data/train.jsonl", "dataset", False),  # packaged, unlike modctl
    ]  # notes.txt and the Modelfile itself match no directive: left out, as modctl does


def test_star_does_not_cross_directories() -> None:
    mf = parse_modelfile("MODEL *.bin\n")
    assert _kinds(classify_files(["a.bin", "sub/b.bin"], mf)) == {"a.bin": "weight"}


def test_multi_level_glob() -> None:
    mf = parse_modelfile("MODEL */*.bin\n")
    assert _kinds(classify_files(["a.bin", "x/b.bin", "x/y/c.bin"], mf)) == {"x/b.bin": "weight"}


def test_double_star_is_a_single_star() -> None:
    mf = parse_modelfile("MODEL **/*.bin\n")
    assert _kinds(classify_files(["a.bin", "x/b.bin", "x/y/c.bin"], mf)) == {"x/b.bin": "weight"}


def test_pattern_naming_a_directory_covers_everything_below() -> None:
    mf = parse_modelfile("CODE src\nDOC doc*/\n")
    files = ["src/a.py", "src/deep/b.c", "srcx/c.py", "docs/x.md", "docs/img/y.png"]
    assert _kinds(classify_files(files, mf)) == {
        "src/a.py": "code",
        "src/deep/b.c": "code",
        "docs/x.md": "doc",
        "docs/img/y.png": "doc",
    }


def test_modelfile_patterns_are_case_sensitive() -> None:
    mf = parse_modelfile("MODEL *.bin\n")
    assert classify_files(["A.BIN", "a.bin"], mf) == [("a.bin", "weight", False)]


def test_literal_path_that_does_not_exist_is_an_error() -> None:
    mf = parse_modelfile("CONFIG config.json\n")
    with pytest.raises(InputError, match="file specified in Modelfile does not exist: config.json"):
        classify_files(["model.bin"], mf)


def test_glob_matching_nothing_is_fine() -> None:
    mf = parse_modelfile("MODEL *.gguf\nDOC README.md\n")
    assert classify_files(["README.md"], mf) == [("README.md", "doc", False)]


def test_first_kind_wins_when_two_directives_match() -> None:
    mf = parse_modelfile("DOC *\nCONFIG *.json\n")
    assert classify_files(["c.json", "r.md"], mf) == [
        ("c.json", "weight.config", False),
        ("r.md", "doc", False),
    ]


def test_modelfile_disables_the_default_skip_rules() -> None:
    # Go's Glob lets `*` match dot-files; modctl packages whatever the Modelfile names.
    mf = parse_modelfile("DOC *\n")
    assert _kinds(classify_files([".env", "x.pyc"], mf)) == {".env": "doc", "x.pyc": "doc"}


def test_untested_label_marks_files() -> None:
    mf = parse_modelfile(f"MODEL --label={UNTESTED}=true *.unknown\nMODEL *.bin\n")
    assert classify_files(["a.unknown", "b.bin"], mf) == [
        ("a.unknown", "weight", True),
        ("b.bin", "weight", False),
    ]


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("?.bin", ["a.bin"], ["ab.bin", ".bin"]),
        ("[ab].bin", ["a.bin", "b.bin"], ["c.bin"]),
        ("[a-c].bin", ["b.bin"], ["d.bin"]),
        ("[^a].bin", ["b.bin"], ["a.bin"]),
        ("[!a].bin", ["!.bin", "a.bin"], ["b.bin"]),  # Go: `!` is a plain character
        ("\\*.bin", ["*.bin"], ["a.bin"]),
        ("[\\]].bin", ["].bin"], ["a.bin"]),
    ],
)
def test_go_glob_syntax(pattern: str, matches: list[str], misses: list[str]) -> None:
    mf = Modelfile(models=[pattern])
    assert {p for p, _, _ in classify_files(matches + misses, mf)} == set(matches)


def test_pack_reads_the_modelfile_with_load_modelfile(tmp_path: Path) -> None:
    # pack goes through load_modelfile: a non-UTF-8 Modelfile is a clear input error (it was an
    # internal error), and the annotation keeps the file as written, BOM included.
    from attest.modelpack.pack import pack
    from attest.oci.layout import LayoutStore

    model = tmp_path / "m"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    (model / "Modelfile").write_bytes(b"NAME \xff\nMODEL model.safetensors\n")
    store = LayoutStore(tmp_path / "out", create=True)
    with pytest.raises(InputError, match="cannot read Modelfile .*not UTF-8"):
        pack(model, store, "v1", progress=False)
    text = "\ufeffNAME tiny\nMODEL model.safetensors\n"
    (model / "Modelfile").write_text(text, encoding="utf-8")
    result = pack(model, store, "v1", progress=False)
    annotations = store.get_manifest("v1").json()["annotations"]
    assert annotations["org.cncf.modctl.modelfile"] == text, result
