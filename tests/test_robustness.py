"""No input makes kspec crash: mutated specs, the fuzz corpus, and random valid specs."""

import random
import sys

import pytest

from conftest import ROOT, SPECS

sys.path.insert(0, str(ROOT / "scripts"))
import fuzz  # noqa: E402

TEXTS = [p.read_text() for p in SPECS]


@pytest.mark.parametrize("seed", range(4))
def test_a_seeded_sample_of_mutated_specs_never_crashes(seed):
    # 10 s, not the fuzzer's 2 s: CI's two cores are shared with other work.
    assert fuzz.run(count=400, seed=seed, report=None, max_seconds=10) == []


def test_mutations_cover_every_kind_of_edit():
    rng = random.Random(3)
    mutated = {fuzz.mutate(TEXTS[0], rng) for _ in range(200)}
    assert len(mutated) > 150
    assert any(len(m) < len(TEXTS[0]) // 2 for m in mutated)  # truncations
    assert any("\x00" in m or "\u202e" in m for m in mutated)  # control and unicode characters


def test_structural_mutations_reach_repeats_block_calls_and_custom_paths():
    rng = random.Random(5)
    resnet = next(t for t in TEXTS if "blocks:" in t and "repeat" in t)
    mutated = [fuzz.mutate_structure(resnet, rng) for _ in range(300)]
    assert any("repeat: 1000000000" in m for m in mutated)
    assert any("keras.layers:TFSMLayer" in m and "type: Custom" in m for m in mutated)
    blocks = fuzz._BLOCK.findall(resnet)

    def block_calls(text):
        return sum(text.count(f"type: {b}") for b in blocks)

    assert blocks and any(block_calls(m) > block_calls(resnet) for m in mutated)
