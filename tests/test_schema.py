"""kspec's own schema checker against jsonschema, the reference validator."""

import copy
import json
import random

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, SPECS, run_kspec
from kspec.source import read_document
from kspec.structure import SchemaChecker, load_schema

SCHEMA = load_schema()
REFERENCE = jsonschema.Draft202012Validator(SCHEMA)
CHECKER = SchemaChecker()


def loaded(path):
    doc = read_document(str(path))
    return doc.data


def all_documents():
    docs = [loaded(p) for p in SPECS]
    docs += [loaded(p) for p in sorted((ROOT / "tests" / "invalid").glob("*.yaml"))]
    return [d for d in docs if isinstance(d, dict)]


def agree(data):
    ours = CHECKER.check(data)
    theirs = list(REFERENCE.iter_errors(data))
    assert (not ours) == (not theirs), (
        [f"{p.path} {p.code} {p.message}" for p in ours],
        [f"{list(e.absolute_path)} {e.message}" for e in theirs],
    )


def test_schema_is_a_valid_draft_2020_12_schema_with_an_id():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"].endswith("kspec-v1.schema.json")


def _properties(node, trail=()):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield trail + (name,), sub
        for key, value in node.items():
            yield from _properties(value, trail + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, trail + (index,))


def test_every_property_has_a_title_and_description_for_editors():
    missing = [trail for trail, sub in _properties(SCHEMA) if not ("title" in sub and "description" in sub)]
    assert missing == []


def test_the_top_level_schema_file_is_the_packaged_one():
    top = json.loads((ROOT / "schemas" / "kspec-v1.schema.json").read_text())
    assert top == SCHEMA


def test_kspec_schema_prints_it():
    result = run_kspec("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == SCHEMA


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_specs_start_with_the_modeline_and_are_schema_valid(path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/kspec-v1.schema.json"
    data = loaded(path)
    assert REFERENCE.is_valid(data)
    assert CHECKER.check(data) == []


def test_agrees_with_jsonschema_on_every_corpus_document():
    for data in all_documents():
        agree(data)


# Values that exercise every type the schema distinguishes.
ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    3,
    2.5,
    float("nan"),
    "",
    "x",
    "1abc",
    "a.b.c",
    "adam",
    [],
    [1],
    ["x"],
    [None, 3],
    {},
    {"type": "L2"},
    {"x": 1},
    {"type": 3},
]


def _paths(node, trail=()):
    yield trail
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, trail + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, trail + (index,))


def _replace(data, trail, value):
    data = copy.deepcopy(data)
    if not trail:
        return value
    node = data
    for key in trail[:-1]:
        node = node[key]
    node[trail[-1]] = value
    return data


def _delete(data, trail):
    data = copy.deepcopy(data)
    node = data
    for key in trail[:-1]:
        node = node[key]
    del node[trail[-1]]
    return data


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_agrees_with_jsonschema_on_systematic_mutations(path):
    data = loaded(path)
    rng = random.Random(path.stem)
    for trail in list(_paths(data)):
        for value in rng.sample(ODD_VALUES, 6):
            agree(_replace(data, trail, value))
        if trail:
            agree(_delete(data, trail))
            if isinstance(trail[-1], str):
                agree(_replace(data, trail[:-1] + (trail[-1] + "_x",), 1))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.sampled_from(["x", "adam", "a.1", "Dense", "1x", ""]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["type", "shape", "name", "x", "units", "main"]), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SPECS), st.data())
def test_agrees_with_jsonschema_on_random_replacements(path, data):
    spec = loaded(path)
    trail = data.draw(st.sampled_from(list(_paths(spec))))
    agree(_replace(spec, trail, data.draw(json_values)))
