"""docs/spec-language.md documents every error code, with an example that produces it."""

import re

import pytest

from conftest import ROOT
from kspec.codes import CODES
from kspec.diagnostics import SpecError
from kspec.overrides import parse
from kspec.validate import Limits, validate_file, validate_text

DOC = (ROOT / "docs" / "spec-language.md").read_text()
SECTIONS = dict(re.findall(r"^### (KS\d{3})\n(.*?)(?=^### |^## |\Z)", DOC, re.S | re.M))
FILE_CODES = {"KS000", "KS001"}  # about files, shown as console sessions
BUILD_CODES = {"KS503"}  # found when Keras builds the model (tests/test_contracts_keras.py)


def test_every_code_has_a_section_and_every_section_a_code():
    assert set(SECTIONS) == set(CODES)


def test_codes_are_listed_in_numeric_order_in_the_docs_and_the_registry():
    documented = re.findall(r"^### (KS\d{3})$", DOC, re.M)
    assert documented == sorted(documented)
    assert list(CODES) == sorted(CODES)


def test_the_docs_cite_nothing_outside_the_repository():
    for target in re.findall(r"\]\(([^)#]+)", DOC) + re.findall(r"`((?:\.\./|shared/)[^`]*)`", DOC):
        assert not target.startswith(("../", "shared/")), target
        assert target.startswith("http") or (ROOT / "docs" / target).exists(), target


def test_every_code_used_in_the_package_is_registered():
    used = set()
    for path in (ROOT / "kspec").rglob("*.py"):
        if path.name != "codes.py":  # the registry itself would make every code look used
            used |= set(re.findall(r'"(KS\d{3})"', path.read_text()))
    used |= set(
        re.findall(r'"x-kspec-code": "(KS\d{3})"', (ROOT / "schemas" / "kspec-v1.schema.json").read_text())
    )
    assert used <= set(CODES)
    assert set(CODES) - used == set()


def example_result(code, folder):
    """Validate a section's example: one spec, or files (`# file: NAME` first), the first named."""
    examples = re.findall(r"```yaml\n(.*?)```", SECTIONS[code], re.S)
    assert examples, f"{code} has no yaml example"
    files = [re.match(r"# file: (\S+)\n", text) for text in examples]
    overrides = re.match(r"# (--set \S+\n)+", examples[0])
    if overrides:  # a command-line change that the example needs
        return validate_text(examples[0], overrides=parse(re.findall(r"--set (\S+)", overrides.group(0))))
    version = re.match(r"# --keras-version (\S+)\n", examples[0])
    if version:
        return validate_text(examples[0], limits=Limits(keras_version=version.group(1)))
    if not files[0]:
        return validate_text(examples[0])
    (folder / ".git").mkdir()
    for match, text in zip(files, examples):
        (folder / match.group(1)).write_text(text)
    if code == "KS015":  # the chain the example's comment describes
        for i in range(300):
            (folder / f"f{i}.yaml").write_text(f"kspec: 1\ninclude: [f{i + 1}.yaml]\nblocks: {{}}\n")
    return validate_file(str(folder / files[0].group(1)))


@pytest.mark.parametrize("code", sorted(set(CODES) - FILE_CODES - BUILD_CODES))
def test_the_example_of_each_code_produces_it(code, tmp_path):
    result = example_result(code, tmp_path)
    found = {d.code for d in result.diagnostics}
    if code in ("KS211", "KS019"):  # found when a module is written: the spec itself is valid
        import kspec

        with pytest.raises(kspec.SpecError) as caught:
            kspec.generate(result.spec, "sequential")
        found = {d.code for d in caught.value.diagnostics}
    if code == "KS021":  # found by `summary --sweep`
        from kspec.sweep import sweep

        with pytest.raises(SpecError) as caught:
            sweep(result, lambda corner: None)
        found = {d.code for d in caught.value.diagnostics}
    assert code in found
