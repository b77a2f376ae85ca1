"""Every spec in tests/invalid/ gives exactly the errors its header announces.

Each file starts with one or more `# expect: LINE:COLUMN CODE` comments.
"""

import re
from pathlib import Path

import pytest

from kspec.validate import validate_file

CORPUS = Path(__file__).parent / "invalid"
EXPECT = re.compile(rb"^# expect: (\d+):(\d+) (KS\d{3})$", re.M)


def expected(path: Path) -> set:
    return {(int(l), int(c), code.decode()) for l, c, code in EXPECT.findall(path.read_bytes())}


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_spec_is_reported_where_expected(path):
    wanted = expected(path)
    assert wanted, f"{path.name} has no '# expect:' header"
    result = validate_file(str(path))
    found = {(d.line, d.column, d.code) for d in result.diagnostics}
    assert found == wanted, "\n".join(f"{d.line}:{d.column} {d.code} {d.message}" for d in result.diagnostics)
    assert result.errors or "warning" in path.stem, "an invalid spec must have at least one error"
