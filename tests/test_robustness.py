"""No input makes kspec crash: mutated specs, the fuzz corpus, and random valid specs."""

import random
import sys

import pytest

from conftest import ROOT, SPECS
from kspec.validate import validate_text

sys.path.insert(0, str(ROOT / "scripts"))
import fuzz  # noqa: E402

TEXTS = [p.read_text() for p in SPECS]


@pytest.mark.parametrize("seed", range(4))
def test_a_seeded_sample_of_mutated_specs_never_crashes(seed):
    assert fuzz.run(count=400, seed=seed, report=None) == []


def test_mutations_cover_every_kind_of_edit():
    rng = random.Random(3)
    mutated = {fuzz.mutate(TEXTS[0], rng) for _ in range(200)}
    assert len(mutated) > 150
    assert any(len(m) < len(TEXTS[0]) // 2 for m in mutated)  # truncations
    assert any("\x00" in m or "\u202e" in m for m in mutated)  # control and unicode characters


SPEC = "kspec: 1\nname: m\ninputs: {x: {shape: [4]}}\nlayers: [{type: Dense, units: 2}]\noutputs: dense\n"


@pytest.mark.parametrize(
    "text, code",
    [
        (SPEC + "x" * 200_000 + ": 1\n", "KS002"),  # YAML caps plain keys at 1024 characters
        (SPEC + "description: " + "y" * 200_000 + "\n", None),
        (
            "kspec: 1\r\nname: m\r\ninputs: {x: {shape: [4]}}\r\nlayers: [{type: Dense, units: 2}]\r\noutputs: dense\r\n",
            None,
        ),
        (
            "kspec: 1\nname: m\ninputs: {x: {shape: [4]}}\nlayers: [{type: Dense, units: 1:30}]\noutputs: dense\n",
            "KS302",
        ),
        (
            "kspec: 1\nname: m\ninputs: {x: {shape: [4]}}\nlayers: [{type: Dropout, rate: .inf}]\noutputs: dropout\n",
            "KS305",
        ),
        (
            "kspec: 1\nname: m\ninputs: {x: {shape: [-4]}}\nlayers: [{type: Dense, units: 2}]\noutputs: dense\n",
            "KS105",
        ),
    ],
    ids=["long-key", "long-value", "crlf", "sexagesimal", "inf-rate", "negative-dimension"],
)
def test_yaml_traps_and_odd_values(text, code):
    codes = [d.code for d in validate_text(text).diagnostics if d.is_error]
    assert codes == ([code] if code else [])


def test_a_100000_layer_spec_validates(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.specgen import chain_spec

    result = validate_text(chain_spec(100_000))
    assert [d for d in result.diagnostics if d.is_error] == []
    assert len(result.spec.scope.calls) == 100_000


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    import os

    from kspec.files import write_atomic

    target = tmp_path / "model.py"
    target.write_text("old\n")

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), "new\n" * 1000)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]
