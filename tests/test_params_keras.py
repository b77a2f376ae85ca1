"""Top-level parameters against Keras: a generated build_model(width=...) is the live model
kspec builds with --set width=... and the model written by hand; its hypermodel runs in
KerasTuner; `summary --sweep` counts what Keras counts."""

import json

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS, ROOT, run_kspec
from helpers_keras import comparable_config
from kspec.compiler import load_module
from kspec.overrides import parse
from kspec.samples import as_numpy
from kspec.validate import validate_file, validate_text

pytestmark = [pytest.mark.keras, pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")]

SEARCH = ROOT / "specs" / "mlp_search.yaml"
SETTING = {"width": 96, "depth": 3, "dropout": 0.3, "activation": "gelu", "residual_bias": False}

STACK = """\
kspec: 1
name: stack
params:
  features: 6
  width: {default: 16, int: {min: 8, max: 64, step: 8}}
  rate: 0.1
  depth: 1
inputs: {x: {shape: [$features]}}
layers:
  - {name: h, type: Dense, units: $width, activation: relu}
  - {name: drop, type: Dropout, rate: $rate}
  - {name: h2, type: Dense, units: "$width * 2", repeat: $depth}
  - {name: out, type: Dense, units: 3}
outputs: out
"""


def search_by_hand(width, depth, dropout, activation, residual_bias, features=32):
    """specs/mlp_search.yaml written with Keras."""
    import keras
    from keras import layers

    x = keras.Input(shape=(features,), name="features")
    h = layers.Dropout(dropout, name="drop")(layers.Dense(width, activation=activation, name="stem")(x))
    for i in range(1, depth + 1):
        dense = layers.Dense(width, activation=activation, use_bias=residual_bias, name=f"res_{i}_dense")(h)
        h = layers.Add(name=f"res_{i}_add")([h, dense])
    h = layers.Dense(width // 2, activation=activation, name="bottleneck")(h)
    probs = layers.Dense(10, activation="softmax", name="probs")(h)
    return keras.Model(x, probs, name="mlp_search")


def stack_by_hand(width, depth=1, features=6, rate=0.1):
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(features,), name="x"),
            layers.Dense(width, activation="relu", name="h"),
            layers.Dropout(rate, name="drop"),
            *(layers.Dense(width * 2, name=f"h2_{i}") for i in range(1, depth + 1)),
            layers.Dense(3, name="out"),
        ],
        name="stack",
    )


def sets(setting: dict) -> list:
    return [
        f"{name}={json.dumps(value) if not isinstance(value, str) else value}"
        for name, value in setting.items()
    ]


def configs(model) -> list:
    """The configs of a model's layers, less its Input layers (a Sequential model lists none)."""
    return [comparable_config(layer) for layer in model.layers if type(layer).__name__ != "InputLayer"]


def same_predictions(models, features: int) -> None:
    """Each model, given the first one's weights, predicts what the first one does."""
    batch = np.random.default_rng(0).normal(size=(4, features)).astype("float32")
    expected = as_numpy(models[0](batch))
    for model in models[1:]:
        model.set_weights(models[0].get_weights())
        np.testing.assert_allclose(as_numpy(model(batch)), expected, rtol=1e-5, atol=1e-6)


CASES = [
    (SEARCH, None, "functional", SETTING, search_by_hand),
    (SEARCH, None, "subclass", SETTING, search_by_hand),
    (None, STACK, "sequential", {"width": 40, "depth": 3}, stack_by_hand),
    (None, STACK, "functional", {"width": 40, "depth": 3}, stack_by_hand),
    (None, STACK, "subclass", {"width": 40, "depth": 3}, stack_by_hand),
]


@pytest.mark.slow
@pytest.mark.parametrize("path, text, style, setting, by_hand", CASES, ids=lambda c: getattr(c, "stem", None))
def test_build_model_with_values_is_the_live_model_with_set_and_the_hand_written_one(
    path, text, style, setting, by_hand
):
    validated = (
        (lambda o: validate_file(str(path), overrides=o))
        if path
        else (lambda o: validate_text(text, overrides=o))
    )
    spec = validated([]).spec
    module = load_module(kspec.generate(spec, style), f"kspec_params_{spec.name}_{style}")
    generated = module.build_model(**setting)
    live = kspec.build(validated(parse(sets(setting))).spec, style, compile=False)
    hand = by_hand(**setting)
    default = module.build_model()
    assert generated.count_params() == live.count_params() == hand.count_params() != default.count_params()
    assert configs(generated) == configs(live)
    if style != "subclass":  # a subclassed model lists block layers, not the layers inside them
        assert configs(generated) == configs(hand)
    features = spec.inputs[next(iter(spec.inputs))].shape[0]
    same_predictions([hand, generated, live], features)


@pytest.mark.slow
def test_a_subclassed_model_keeps_its_parameters_when_saved_and_reloaded(tmp_path):
    import keras

    spec = kspec.load(SEARCH)
    module = load_module(kspec.generate(spec, "subclass"), "kspec_params_saved_subclass")
    model = module.build_model(**SETTING)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert {name: reloaded.get_config()[name] for name in SETTING} == SETTING
    assert reloaded.count_params() == model.count_params()
    batch = np.random.default_rng(1).normal(size=(2, 32)).astype("float32")
    np.testing.assert_allclose(as_numpy(reloaded(batch)), as_numpy(model(batch)), rtol=1e-6)


UNITS = """\
kspec: 1
name: units
params: {depth: 2}
inputs: {x: {shape: [6]}}
layers:
  - {name: u, type: Unit, repeat: $depth}
  - {name: out, type: Dense, units: 3}
outputs: out
blocks:
  Unit:
    inputs: [x]
    layers:
      - {name: dense, type: Dense, units: 6}
      - {name: act, type: ReLU}
    outputs: act
"""


@pytest.mark.slow
def test_a_repeat_count_a_loop_cannot_write_is_fixed_in_the_module_and_says_so():
    """The sequential style inlines a block's layers, so a block call's count stays fixed there;
    the functional style writes the same call as a loop."""
    spec = validate_text(UNITS, overrides=parse(["depth=3"])).spec
    fixed = load_module(kspec.generate(spec, "sequential"), "kspec_params_units_sequential")
    looped = load_module(kspec.generate(spec, "functional"), "kspec_params_units_functional")
    assert [layer.name for layer in fixed.build_model().layers][-3:] == ["u_3_dense", "u_3_act", "out"]
    with pytest.raises(ValueError, match="parameter 'depth' sets a repeat count"):
        fixed.build_model(depth=2)
    two = kspec.build(validate_text(UNITS).spec, "sequential", compile=False)
    assert [layer.name for layer in looped.build_model(depth=2).layers] == [
        "x",
        *(l.name for l in two.layers),
    ]
    assert looped.build_model(depth=2).count_params() == two.count_params()


@pytest.mark.slow
def test_summary_sweep_min_and_max_are_what_keras_counts():
    found = json.loads(run_kspec("summary", "--sweep", "--format", "json", SEARCH).stdout)
    module = load_module(kspec.generate(kspec.load(SEARCH), "functional"), "kspec_params_sweep")
    for corner in (found["min"], found["max"]):
        assert module.build_model(**corner["setting"]).count_params() == corner["total_params"]
        assert search_by_hand(**corner["setting"]).count_params() == corner["total_params"]


@pytest.mark.slow
def test_the_generated_hypermodel_runs_a_kerastuner_random_search(tmp_path):
    kt = pytest.importorskip("keras_tuner")
    spec = kspec.load(SEARCH)
    module = load_module(kspec.generate(spec, "functional"), "kspec_params_tuner")
    tuner = kt.RandomSearch(
        module.build_model,
        objective="val_loss",
        max_trials=2,
        seed=3,
        directory=str(tmp_path),
        project_name="search",
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 32)).astype("float32"), rng.integers(0, 10, size=64)
    tuner.search(x, y, epochs=1, batch_size=16, validation_split=0.25, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 2
    space = spec.params
    for trial in trials:
        values = trial.hyperparameters.values
        assert set(values) == {n for n, p in space.items() if p.kind is not None}
        assert values["width"] in range(32, 257, 32)
        assert 0.0 <= values["dropout"] <= 0.5
        assert values["activation"] in space["activation"].space["values"]
        assert isinstance(values["residual_bias"], bool)
        assert 1e-4 <= values["learning_rate"] <= 1e-2
    best = tuner.get_best_hyperparameters(1)[0].values
    [model] = tuner.get_best_models(1)
    assert model.get_layer("stem").get_config()["units"] == best["width"]
    assert model.get_layer("bottleneck").get_config()["units"] == best["width"] // 2
    assert model.get_layer("res_2_dense").get_config()["use_bias"] == best["residual_bias"]
    assert model.get_layer("stem").get_config()["activation"] == best["activation"]
    assert model.get_layer("drop").get_config()["rate"] == pytest.approx(best["dropout"])
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(best["learning_rate"], rel=1e-6)
    hand = search_by_hand(**{k: best[k] for k in SETTING})
    assert configs(model) == configs(hand)


@pytest.mark.parametrize(
    "kind, space",
    [
        ("int", {"min": 32, "max": 250, "step": 32}),
        ("int", {"min": 2, "max": 100, "step": 3, "sampling": "log"}),
        ("int", {"min": 1, "max": 9}),
        ("float", {"min": 0.0, "max": 0.55, "step": 0.1}),
        ("float", {"min": 0.001, "max": 0.5, "step": 10.0, "sampling": "log"}),
    ],
)
def test_sweep_corners_are_the_ends_of_what_kerastuner_draws(kind, space):
    kt = pytest.importorskip("keras_tuner")
    from kspec.params import declared
    from kspec.sweep import extremes

    [param] = declared({"params": {"p": {kind: space}}}).values()
    hps = kt.HyperParameters()
    make = hps.Int if kind == "int" else hps.Float
    make(
        "p",
        min_value=space["min"],
        max_value=space["max"],
        step=space.get("step"),
        sampling=space.get("sampling"),
    )
    [hp] = hps.space
    values = sorted(hp.values) if space.get("step") else [space["min"], space["max"]]
    assert extremes(param) == pytest.approx([values[0], values[-1]])


@pytest.mark.slow
@pytest.mark.parametrize("style", ["sequential", "functional", "subclass"])
def test_given_hp_every_style_draws_each_searched_parameter_and_compiles(style):
    kt = pytest.importorskip("keras_tuner")
    text = STACK + "compile:\n  optimizer: {type: Adam, learning_rate: $lr}\n  loss: mse\n"
    text = text.replace(
        "  rate: 0.1", "  rate: 0.1\n  lr: {default: 0.01, float: {min: 0.001, max: 0.1, sampling: log}}"
    )
    spec = validate_text(text).spec
    module = load_module(kspec.generate(spec, style), f"kspec_params_hp_{style}")
    hp = kt.HyperParameters()
    hp.Fixed("width", 24)  # a value the search chose
    model = module.build_model(hp)
    assert hp.values == {"width": 24, "lr": 0.01}  # each searched parameter, at its default unless fixed
    assert model.compiled and float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert model.count_params() == stack_by_hand(24).count_params() != module.build_model().count_params()
