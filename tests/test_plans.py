"""Save/load plans: the facts per style, every format, and --verify against Keras."""

import ast
import json
import os
import tempfile

import pytest
import yaml

import kspec
from conftest import HAS_KERAS, SPECS, run_kspec
from kspec.backends.styles import allowed_styles
from kspec.plans import plan
from kspec.plans.render import FORMATS

IDS = ["keras_file", "h5_file", "saved_model", "config", "json", "weights_file", "weights_memory",
       "cross_style_weights"]
CASES = [(p, s) for p in SPECS for s in allowed_styles(kspec.load(p))]


@pytest.mark.parametrize("path, style", CASES, ids=[f"{p.stem}-{s}" for p, s in CASES])
def test_plan_facts_follow_the_measured_table(path, style):
    spec = kspec.load(path)
    p = plan(spec, style)
    assert [x.id for x in p.paths] == IDS
    masked_functional = path.stem == "text_bilstm" and style == "functional"  # Embedding(mask_zero=True)
    assert p.path("h5_file").allowed == (style != "subclass" and not masked_functional)
    if masked_functional:
        assert "NotEqual" in p.path("h5_file").reason
    assert p.path("keras_file").keeps == {"architecture": True, "weights": True, "compile": True,
                                          "optimizer_state": True}
    assert not any(x.keeps["optimizer_state"] for x in p.paths if x.id != "keras_file")
    assert p.path("saved_model").needs_class is False
    assert p.path("keras_file").needs_class == (style == "subclass" or bool(spec.custom))
    for x in p.paths:
        assert x.allowed == (x.reason is None)
        for code in (x.save, x.load):
            ast.parse(code)
    if style == "sequential":
        assert "keras.Sequential.from_config" in p.path("config").load
    if style == "functional":
        assert "copy.deepcopy(config)" in p.path("config").load
    if style == "subclass":
        assert "model.build(" in p.path("config").load


def test_formats_carry_the_same_plan():
    p = plan(kspec.load("specs/siamese.yaml"), "functional", transfer_from=kspec.load("specs/siamese.yaml"))
    as_json = json.loads(FORMATS["json"](p))
    assert as_json == yaml.safe_load(FORMATS["yaml"](p))
    assert set(as_json) == {"spec", "style", "module", "keras_version", "paths"}
    assert set(as_json["paths"][0]) == {"id", "title", "allowed", "reason", "keeps", "needs_class", "save", "load",
                                        "caveats"}
    markdown = FORMATS["md"](p)
    assert markdown.count("\n| ") == len(p.paths) + 1
    module = ast.parse(FORMATS["py"](p))
    functions = {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
    for x in p.paths:
        if x.allowed and x.id != "transfer":
            assert f"load_{x.id}" in functions


def test_plan_command_formats_and_refusals(tmp_path):
    result = run_kspec("plan", "specs/tiny_resnet.yaml", "--style", "subclass", "--format", "json")
    assert result.returncode == 0
    h5 = next(p for p in json.loads(result.stdout)["paths"] if p["id"] == "h5_file")
    assert h5["allowed"] is False and "subclass" in h5["reason"]
    refused = run_kspec("plan", "specs/tiny_resnet.yaml", "--style", "sequential")
    assert refused.returncode == 1 and "KS211" in refused.stderr


VERIFY = [("mlp", "sequential"), ("mlp", "subclass"), ("siamese", "functional"), ("inception_mini", "subclass")]
VERIFY_SLOW = [(p.stem, s) for p, s in CASES if (p.stem, s) not in VERIFY and p.stem != "resnet50"]


def _verify(name, style, transfer=False):
    from kspec.plans.verify import verify

    spec = kspec.load(f"specs/{name}.yaml")
    source = spec if transfer else None
    return verify(spec, style, plan(spec, style, transfer_from=source), transfer_from=source)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
@pytest.mark.parametrize("name, style", VERIFY + [pytest.param(*c, marks=pytest.mark.slow) for c in VERIFY_SLOW])
def test_every_claim_of_the_plan_holds_in_keras(name, style):
    checks = _verify(name, style, transfer=(name == "mlp"))
    assert [c for c in checks if not c.ok] == []
    assert {c.path for c in checks} >= set(IDS)


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_verify_reports_a_wrong_claim_and_cleans_up(tmp_path, monkeypatch):
    from kspec.plans import verify as verify_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spec = kspec.load("specs/mlp.yaml")
    wrong = plan(spec, "functional")
    lie = wrong.path("json")._replace(keeps={**wrong.path("json").keeps, "weights": True})
    wrong = wrong._replace(paths=[lie if p.id == "json" else p for p in wrong.paths])
    checks = verify_module.verify(spec, "functional", wrong)
    bad = [c for c in checks if not c.ok]
    assert [c.path for c in bad] == ["json"] and "predictions differ" in bad[0].detail
    assert os.listdir(tmp_path) == []


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_verify_cleans_up_when_interrupted(tmp_path, monkeypatch):
    from kspec.plans import verify as verify_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def interrupt(self, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(verify_module._Run, "check", interrupt)
    spec = kspec.load("specs/mlp.yaml")
    with pytest.raises(KeyboardInterrupt):
        verify_module.verify(spec, "functional", plan(spec, "functional"))
    assert os.listdir(tmp_path) == []


@pytest.mark.keras
@pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")
def test_plan_verify_command(tmp_path):
    result = run_kspec("plan", "specs/mlp.yaml", "--style", "subclass", "--verify", "-o", tmp_path / "plan.md")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "8 passed, 0 failed" in result.stderr
    assert (tmp_path / "plan.md").read_text().startswith("# Save and load plan: mlp (subclass style)")
