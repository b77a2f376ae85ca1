"""The YAML loader: positions, YAML's traps, and bounded work on hostile input."""

import time

import pytest

from kspec.source import MAX_DEPTH, load_bytes, load_text


def codes(doc):
    return [d.code for d in doc.diagnostics]


def test_positions_of_keys_and_values_are_one_based():
    doc = load_text("a: 1\nb:\n  - x\n  - {c: true}\n")
    assert doc.data == {"a": 1, "b": ["x", {"c": True}]}
    assert doc.spans[("a",)] == (1, 4)
    assert doc.key_spans[("b",)] == (2, 1)
    assert doc.spans[("b", 1, "c")] == (4, 9)
    assert doc.key_spans[("b", 1, "c")] == (4, 6)


@pytest.mark.parametrize(
    "text, value",
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("1e-3", 0.001),
        ("1.5E+2", 150.0),
        ("-7", -7),
        ("0o17", 15),
        ("0x1f", 31),
        ("1:30", "1:30"),
        ("'12'", "12"),
        (".inf", float("inf")),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text, value):
    doc = load_text(f"v: {text}\n")
    assert doc.diagnostics == []
    assert doc.data["v"] == value
    assert type(doc.data["v"]) is type(value)


def test_leading_zero_numbers_are_flagged_as_ambiguous():
    doc = load_text("v: 0755\n")
    assert codes(doc) == ["KS011"]
    assert "0o755" in doc.diagnostics[0].hint


def test_duplicate_keys_are_errors_at_the_second_key():
    doc = load_text("a: 1\nb: 2\na: 3\n")
    [d] = doc.diagnostics
    assert (d.code, d.line, d.column) == ("KS005", 3, 1)
    assert "line 1" in d.message
    assert doc.data["a"] == 1


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "KS003"),
        ("# only a comment\n", "KS003"),
        ("a: [1\n", "KS002"),
        ("a: 1\n---\nb: 2\n", "KS007"),
        ("a: !!python/object/apply:os.system ['echo hi']\n", "KS008"),
        ("a: !custom 1\n", "KS008"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", "KS010"),
        ("a:\n\tb: 1\n", "KS002"),
    ],
)
def test_broken_documents_give_one_located_diagnostic(text, code):
    doc = load_text(text)
    assert codes(doc) == [code]
    assert doc.diagnostics[0].line >= 1 and doc.diagnostics[0].column >= 1


def test_tabs_get_a_hint():
    doc = load_text("a:\n\tb: 1\n")
    assert "tab" in doc.diagnostics[0].hint


def test_binary_and_invalid_utf8_are_refused():
    assert codes(load_bytes(b"\x00\x01kspec", "x.yaml")) == ["KS001"]
    doc = load_bytes(b"a: 1\nb: \xff\n", "x.yaml")
    [d] = doc.diagnostics
    assert (d.code, d.line, d.column) == ("KS001", 2, 4)


def test_bom_and_crlf_are_accepted():
    doc = load_bytes("\ufeffa: 1\r\nb: [2]\r\n".encode("utf-8"), "x.yaml")
    assert doc.diagnostics == []
    assert doc.data == {"a": 1, "b": [2]}
    assert doc.spans[("b",)] == (2, 4)


def test_billion_laughs_is_refused_quickly():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    doc = load_text("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    assert codes(doc) == ["KS006"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 999, 1_001, 10_000])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_deep_nesting_is_an_error_not_a_crash(opening, closing, depth):
    # PyYAML 6.0.4's libyaml stops at its own limit of 1,000 levels, and its scanner looks
    # ahead: depths on both sides of that limit must give kspec's own KS009 on any PyYAML 6.
    body = opening * depth + ("1" if opening != "[" else "") + closing * depth
    doc = load_text(("v: " + body if closing else body) + "\n")
    assert codes(doc) == ["KS009"]
    assert str(MAX_DEPTH) in doc.diagnostics[0].message
    assert doc.diagnostics[0].line == 1


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_nesting_at_the_limit_loads(opening, closing):
    depth = MAX_DEPTH - 1  # the root mapping of "v: ..." is one level
    body = opening * depth + ("1" if opening != "[" else "") + closing * depth
    assert codes(load_text(("v: " + body if closing else body) + "\n")) == []


def test_aliases_share_values_without_copying():
    doc = load_text("a: &x [1, 2]\nb: *x\n")
    assert doc.diagnostics == []
    assert doc.data["b"] == [1, 2]
    assert doc.spans[("b",)] == (2, 4)


def test_file_size_limit(tmp_path):
    from kspec.source import read_document

    path = tmp_path / "big.yaml"
    path.write_text("".join(f"k{i}: 1\n" for i in range(100)))
    assert codes(read_document(str(path), max_size=50)) == ["KS001"]
    assert codes(read_document(str(path))) == []
