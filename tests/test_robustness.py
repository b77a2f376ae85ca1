"""No input makes validation raise: random edits of the example specs give diagnostics only."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SPECS
from kspec.validate import validate_text

TEXTS = [p.read_text() for p in SPECS]
TOKENS = ["", " ", "\n", "- ", ": ", "{", "}", "[", "]", ",", "$x", "null", "yes", "-1", "1e9", "&a ", "*a",
          "inputs: ", "type: ", "share: ", "repeat: 2", "name: a", ".1", "\t", "é", "\x00", "!!str ", "<<: "]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.4:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif op < 0.7:
            text = text[:at] + text[at + rng.randint(1, 12):]
        else:
            lines = text.splitlines(keepends=True)
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines.insert(j, lines[i])
            text = "".join(lines)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.sampled_from(range(len(TEXTS))))
def test_mutated_specs_never_raise(seed, index):
    result = validate_text(mutate(TEXTS[index], random.Random(seed)))
    for d in result.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("KS")
