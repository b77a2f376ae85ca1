"""Call arguments (`call: {use_causal_mask: true}`): checked, shaped and built as Keras does."""

import numpy as np
import pytest

import kspec
from conftest import HAS_KERAS
from helpers_keras import models_of, predictions, sample_inputs
from kspec.backends.styles import allowed_styles, sequential_problem
from kspec.catalog import catalog
from kspec.catalog.versions import minor
from kspec.samples import as_numpy
from kspec.validate import validate_text


def needs_keras(test):
    return pytest.mark.keras(pytest.mark.skipif(not HAS_KERAS, reason="Keras is not installed")(test))


CAUSAL = """
kspec: 1
name: causal
inputs:
  tokens: {shape: [6, 8]}
layers:
  - name: att
    type: MultiHeadAttention
    num_heads: 2
    key_dim: 4
    inputs: {query: tokens, value: tokens}
    call: {use_causal_mask: CAUSAL, return_attention_scores: true}
  - {name: drop, type: Dropout, rate: 0.5, inputs: att.0, call: {training: false}}
  - {name: out, type: Dense, units: 3}
outputs: [out, att.1]
"""


def causal_spec(causal: bool = True):
    return kspec.load(CAUSAL.replace("CAUSAL", str(causal).lower()))


def by_hand_causal(causal: bool = True):
    import keras

    tokens = keras.Input((6, 8), name="tokens")
    att, scores = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="att")(
        tokens, tokens, use_causal_mask=causal, return_attention_scores=True
    )
    drop = keras.layers.Dropout(0.5, name="drop")(att, training=False)
    out = keras.layers.Dense(3, name="out")(drop)
    return keras.Model(tokens, [out, scores])


def assert_same_model(spec, reference, training=False):
    """Every style of the spec has the reference's parameters and, with its weights, its outputs."""
    inputs = sample_inputs(spec)
    expected = [as_numpy(o) for o in reference(inputs, training=training)]
    models = models_of(spec)
    assert models
    for label, model in models:
        assert model.count_params() == reference.count_params(), label
        model.set_weights(reference.get_weights())
        got = [as_numpy(o) for o in model(inputs, training=training)]
        assert len(got) == len(expected), label
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=label)
    return [label for label, _ in models]


# Keras: the same model, in every style ------------------------------------------------------------


@needs_keras
@pytest.mark.parametrize("causal", [True, False])
def test_causal_self_attention_equals_the_model_written_by_hand(causal):
    spec = causal_spec(causal)
    labels = assert_same_model(spec, by_hand_causal(causal))
    assert labels == ["live functional", "generated functional", "live subclass", "generated subclass"]


@needs_keras
def test_the_causal_mask_changes_the_predictions_and_hides_the_future():
    causal, plain = kspec.build(causal_spec(True), compile=False), kspec.build(
        causal_spec(False), compile=False
    )
    plain.set_weights(causal.get_weights())
    inputs = sample_inputs(causal_spec())
    assert not np.allclose(predictions(causal, inputs)[0], predictions(plain, inputs)[0], atol=1e-4)
    later = inputs.copy()
    later[:, -1] += 1.0  # change only the last token
    for model, hidden in ((causal, True), (plain, False)):
        before, after = predictions(model, inputs)[0], predictions(model, later)[0]
        assert np.allclose(before[:, 0], after[:, 0], atol=1e-6) is hidden
    scores = predictions(causal, inputs)[1]
    assert np.all(scores[:, :, 0, 1:] == 0)  # the first position attends to itself only


@needs_keras
def test_static_shapes_and_parameters_equal_the_built_model():
    from kspec.shapes import infer
    from kspec.summary import keras_layers

    spec = causal_spec()
    model = kspec.build(spec, "functional", compile=False)
    ours = {row["name"]: (row["output_shape"], row["params"]) for row in keras_layers(infer(spec))}
    theirs = {}
    for layer in model.layers:
        out = layer.output
        shape = [list(t.shape) for t in out] if isinstance(out, (list, tuple)) else list(out.shape)
        theirs[layer.name] = (shape, layer.count_params())
    assert ours == theirs
    assert ours["att"][0] == [[None, 6, 8], [None, 2, 6, 6]]


BLOCK = """
kspec: 1
name: decoder
inputs:
  x: {shape: [5, 8]}
layers:
  - {name: dec1, type: Decoder}
  - {name: dec2, type: Decoder, causal: false}
outputs: dec2
blocks:
  Decoder:
    params: {causal: true}
    inputs: [x]
    layers:
      - {name: att, type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: {query: x, value: x},
         call: {use_causal_mask: $causal}}
      - {name: res, type: Add, inputs: [x, att]}
    outputs: res
"""


@needs_keras
def test_a_block_parameter_passes_a_call_argument_in_every_style():
    import keras

    x = keras.Input((5, 8), name="x")
    h = x
    for name, causal in (("dec1", True), ("dec2", False)):
        att = keras.layers.MultiHeadAttention(2, 4, name=f"{name}_att")(h, h, use_causal_mask=causal)
        h = keras.layers.Add(name=f"{name}_res")([h, att])
    spec = kspec.load(BLOCK)
    subclass = kspec.generate(spec, "subclass")
    assert "use_causal_mask=self.causal" in subclass  # the block class keeps the parameter
    assert "use_causal_mask=causal" in kspec.generate(spec, "functional")
    assert_same_model(spec, keras.Model(x, h))


@needs_keras
def test_the_block_parameter_reaches_the_call():
    """A Decoder called with causal: true twice differs from true then false (same weights)."""
    both = kspec.load(BLOCK.replace("causal: false", "causal: true"))
    spec = kspec.load(BLOCK)
    a, b = kspec.build(both, compile=False), kspec.build(spec, "subclass", compile=False)
    b.set_weights(a.get_weights())
    inputs = sample_inputs(spec)
    assert not np.allclose(predictions(a, inputs)[0], predictions(b, inputs)[0], atol=1e-4)


SHARED = """
kspec: 1
name: shared
inputs:
  x: {shape: [5, 8]}
layers:
  - {name: att, type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: {query: x, value: x},
     call: {return_attention_scores: true}}
  - {name: again, share: att, inputs: {query: x, value: x}, call: {use_causal_mask: true}}
outputs: [att.0, att.1, again]
"""


@needs_keras
def test_a_shared_layer_takes_its_own_call_arguments():
    import keras

    x = keras.Input((5, 8), name="x")
    layer = keras.layers.MultiHeadAttention(2, 4, name="att")
    att, scores = layer(x, x, return_attention_scores=True)
    again = layer(x, x, use_causal_mask=True)
    spec = kspec.load(SHARED)
    assert_same_model(spec, keras.Model(x, [att, scores, again]))
    out = predictions(kspec.build(spec, compile=False), sample_inputs(spec))
    assert not np.allclose(out[0], out[2], atol=1e-4)


MC_DROPOUT = """
kspec: 1
name: mc
inputs:
  x: {shape: [6]}
layers:
  - {name: hidden, type: Dense, units: 16}
  - {name: drop, type: Dropout, rate: 0.5, seed: 3, call: {training: true}}
  - {name: out, type: Dense, units: 2}
outputs: out
"""


def test_sequential_refuses_a_call_with_arguments_and_the_other_styles_keep_them():
    spec = kspec.load(MC_DROPOUT)
    node, reason = sequential_problem(spec)
    assert node.name == "drop" and "called with arguments (training)" in reason
    assert allowed_styles(spec) == ["functional", "subclass"]
    plain = kspec.load(MC_DROPOUT.replace(", call: {training: true}", ""))
    assert allowed_styles(plain) == ["sequential", "functional", "subclass"]


@needs_keras
def test_training_in_call_acts_as_in_a_functional_model_written_by_hand():
    """`training: true` keeps Dropout on in model(x); predict() passes training=False, which a
    Functional model lets win: every style does the same as the model written by hand."""
    import keras

    spec = kspec.load(MC_DROPOUT)
    inputs = sample_inputs(spec)

    def by_hand():
        x = keras.Input((6,), name="x")
        h = keras.layers.Dense(16, name="hidden")(x)
        h = keras.layers.Dropout(0.5, seed=3, name="drop")(h, training=True)
        return keras.Model(x, keras.layers.Dense(2, name="out")(h))

    def behaviour(model, weights):
        model.set_weights(weights)
        first, second = (as_numpy(model(inputs)) for _ in range(2))
        return first, second, model.predict(inputs, verbose=0), as_numpy(model(inputs, training=False))

    reference = by_hand()
    weights = reference.get_weights()
    want = behaviour(reference, weights)
    assert not np.allclose(want[0], want[1])  # dropout is on in model(x)
    np.testing.assert_allclose(want[2], want[3], rtol=1e-6)  # and off in predict()
    assert not np.allclose(want[0], want[2])
    for label, model in models_of(spec):
        for got, expected in zip(behaviour(model, weights), want):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=label)


# Static rules ---------------------------------------------------------------------------------------


SCORES = [
    ({"num_heads": 2, "key_dim": 3}, {"query": (None, 4, 6), "value": (None, 7, 5)}),
    ({"num_heads": 3, "key_dim": 2}, {"query": (None, 4, 5, 6), "value": (None, 3, 2, 6)}),
    (
        {"num_heads": 2, "key_dim": 2, "attention_axes": [2]},
        {"query": (None, 4, 5, 6), "value": (None, 4, 3, 6)},
    ),
    (
        {"num_heads": 2, "key_dim": 2, "attention_axes": 1},
        {"query": (None, 4, 5, 6), "value": (None, 3, 5, 6)},
    ),
]


@needs_keras
@pytest.mark.parametrize("args, inputs", SCORES)
def test_attention_scores_shape_agrees_with_keras(args, inputs):
    import keras

    from kspec.shapes import _apply

    shape, trainable, frozen = _apply("MultiHeadAttention", args, inputs, {"return_attention_scores": True})
    layer = keras.layers.MultiHeadAttention(**args)
    # Run on arrays: Keras's symbolic spec says (batch, heads, Tq, Tq) for the scores whatever
    # the key's length or attention_axes; the tensors it computes have the shape kspec gives.
    arrays = {k: np.ones((2, *v[1:]), "float32") for k, v in inputs.items()}
    out, scores = layer(**arrays, return_attention_scores=True)
    assert shape == [(None, *out.shape[1:]), (None, *scores.shape[1:])]
    assert trainable + frozen == layer.count_params()


@needs_keras
def test_attention_layer_scores_shape_agrees_with_keras():
    import keras

    from kspec.shapes import _apply

    inputs = [(None, 4, 6), (None, 7, 6)]
    shape, _, _ = _apply("Attention", {}, inputs, {"return_attention_scores": True})
    out, scores = keras.layers.Attention()(
        [keras.Input(batch_shape=s) for s in inputs], return_attention_scores=True
    )
    assert shape == [tuple(out.shape), tuple(scores.shape)]


def test_return_attention_scores_gives_a_second_output_to_refer_to():
    one = CAUSAL.replace("CAUSAL", "true").replace(", return_attention_scores: true", "")
    codes = [(d.code, d.message) for d in validate_text(one).errors]
    assert codes == [
        ("KS207", "'att.0': 'att' returns a single tensor"),
        ("KS207", "'att.1': 'att' returns a single tensor"),
    ]
    param = (
        BLOCK.replace("call: {use_causal_mask: $causal}", "call: {return_attention_scores: $causal}")
        .replace("causal: false", "causal: true")
        .replace("[x, att]", "[x, att.0]")
    )
    result = validate_text(param)  # the count depends on $causal: att.0 is not refused where written
    assert not result.errors
    shapes = {layer.node.name: layer.output for layer in result.shapes.layers}
    assert shapes["dec1_att"] == shapes["dec2_att"] == [(None, 5, 8), (None, 2, 5, 5)]


# Checks ----------------------------------------------------------------------------------------------

BAD = """
kspec: 1
name: bad
inputs:
  t: {shape: [6, 8]}
layers:
  - {name: att, type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: {query: t, value: t, querry_mask: t},
     call: {use_casual_mask: true, value: 3, return_attention_scores: 1}}
  - {name: d, type: Dense, units: 3, inputs: {inputs: att, training: t}, call: {training: maybe}}
  - {name: b, type: Blk, inputs: d, call: {training: true}}
outputs: b
blocks:
  Blk:
    inputs: [x]
    layers: [{name: y, type: Dense, units: 1, inputs: x}]
    outputs: y
"""


def test_call_arguments_are_checked_against_the_layer_call_signature():
    errors = validate_text(BAD).errors
    lines = BAD.splitlines()
    found = [
        (d.line, lines[d.line - 1][d.column - 1 :].split(":")[0], d.code, d.message, d.hint) for d in errors
    ]
    assert found == [
        (
            7,
            "querry_mask",
            "KS306",
            "MultiHeadAttention.call() takes no argument 'querry_mask' (did you mean 'query_mask'?)",
            "tensor call arguments: query, value, key, query_mask, value_mask, key_mask, attention_mask",
        ),
        (
            8,
            "use_casual_mask",
            "KS306",
            "MultiHeadAttention.call() takes no argument 'use_casual_mask' (did you mean 'use_causal_mask'?)",
            None,
        ),
        (
            8,
            "value",
            "KS307",
            "'value' of MultiHeadAttention.call() takes a tensor, not a constant",
            "give it under `inputs` (value: <layer or input name>)",
        ),
        (
            8,
            "1}}",
            "KS302",
            "'MultiHeadAttention.call.return_attention_scores' expects true or false, got integer 1",
            None,
        ),
        (
            9,
            "training",
            "KS307",
            "'training' of Dense.call() takes a constant, not a tensor",
            "give it under `call` (call: {training: ...})",
        ),
        (9, "training", "KS307", "'training' is given both in `inputs` and in `call`", None),
        (
            10,
            "call",
            "KS306",
            "block Blk takes no call arguments",
            "give them to the layers inside the block, in their own `call`",
        ),
    ]
    assert validate_text(BAD.replace("training: maybe", "training: false")).errors[5].code == "KS307"
    alone = BAD.replace("inputs: {inputs: att, training: t}, ", "")
    [wrong] = [d for d in validate_text(alone).errors if d.line == 9]
    assert (wrong.code, wrong.message) == (
        "KS302",
        "'Dense.call.training' expects true or false, got string 'maybe'",
    )


def test_a_block_call_argument_is_checked_where_the_block_is_called():
    bad = BLOCK.replace("causal: false", "causal: 2")
    [error] = validate_text(bad).errors
    assert (error.code, error.message) == (
        "KS302",
        "'MultiHeadAttention.call.use_causal_mask' expects true or false, got integer 2",
    )
    undeclared = BLOCK.replace("$causal}", "$casual}")
    assert [d.code for d in validate_text(undeclared).errors] == ["KS404"]


def test_the_catalog_holds_each_layers_call_signature():
    mha = catalog().layer_call("MultiHeadAttention")
    assert [n for n, p in mha.params.items() if p.tensor] == [
        "query",
        "value",
        "key",
        "query_mask",
        "value_mask",
        "key_mask",
        "attention_mask",
    ]
    assert mha.params["use_causal_mask"].default is False and not mha.params["use_causal_mask"].tensor
    assert not catalog().layer_call("Dense").params["training"].tensor
    assert catalog().layer_call("Embedding").params["training"].default is None  # every layer takes it
    assert catalog().layer_call("LSTM").params["initial_state"].tensor


# Import ----------------------------------------------------------------------------------------------


@needs_keras
def test_import_keeps_the_call_arguments_keras_records():
    """A hand-written Keras model with call arguments imports to a spec with `call`, which builds
    the same model: same configs, and the same predictions with the original's weights."""
    import keras

    from helpers_keras import comparable_config

    x = keras.Input((6, 8), name="x")
    layer = keras.layers.MultiHeadAttention(2, 4, name="att")
    att, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    again = layer(att, att, training=False)
    drop = keras.layers.Dropout(0.3, name="drop")(again, training=False)
    original = keras.Model(x, [drop, scores])
    spec = kspec.from_keras(original)
    calls = {c.name: (c.call_args, c.inputs) for c in spec.scope.calls}
    assert calls["att"][0] == {"use_causal_mask": True, "return_attention_scores": True}
    assert calls["att_call2"][0] == {"training": False}
    assert [str(r) for r in spec.scope.calls[1].refs()] == ["att.0", "att.0"]
    assert calls["drop"][0] == {"training": False}
    assert "call: {use_causal_mask: true, return_attention_scores: true}" in kspec.dump(spec)
    for style in ("functional", "subclass"):
        rebuilt = kspec.build(kspec.load(kspec.dump(spec)), style, compile=False)
        if style == "functional":
            assert [comparable_config(layer) for layer in rebuilt.layers] == [
                comparable_config(layer) for layer in original.layers
            ]
        rebuilt.set_weights(original.get_weights())
        inputs = sample_inputs(spec)
        for got, want in zip(predictions(rebuilt, inputs), predictions(original, inputs)):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=style)


SHARED_BLOCK = """
kspec: 1
name: shared_block
inputs:
  x: {shape: [5, 8]}
  y: {shape: [5, 8]}
layers:
  - {name: tower, type: Decoder, causal: false, inputs: x}
  - {name: again, share: tower, inputs: y}
  - {name: probe, share: tower/att, inputs: {query: y, value: x}, call: {use_causal_mask: true}}
outputs: [tower, again, probe]
blocks:
  Decoder:
    params: {causal: true}
    inputs: [x]
    layers:
      - {name: att, type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: {query: x, value: x},
         call: {use_causal_mask: $causal}}
      - {name: res, type: Add, inputs: [x, att]}
    outputs: res
"""


@needs_keras
def test_a_shared_block_call_calls_its_layers_with_the_shared_calls_arguments():
    """`share: tower` calls tower's attention with tower's own `causal` (false, not the default);
    `share: tower/att` with its own call arguments."""
    import keras

    x, y = keras.Input((5, 8), name="x"), keras.Input((5, 8), name="y")
    att = keras.layers.MultiHeadAttention(2, 4, name="tower_att")
    add = keras.layers.Add(name="tower_res")
    tower = add([x, att(x, x, use_causal_mask=False)])
    again = add([y, att(y, y, use_causal_mask=False)])
    probe = att(y, x, use_causal_mask=True)
    spec = kspec.load(SHARED_BLOCK)
    assert assert_same_model(spec, keras.Model([x, y], [tower, again, probe]))
    causal = kspec.build(kspec.load(SHARED_BLOCK.replace("causal: false, ", "")), compile=False)
    plain = kspec.build(spec, compile=False)
    causal.set_weights(plain.get_weights())
    inputs = sample_inputs(spec)
    assert not np.allclose(predictions(causal, inputs)[1], predictions(plain, inputs)[1], atol=1e-4)


def test_a_later_call_of_a_shared_layer_cannot_return_more_tensors_than_its_first():
    later = SHARED.replace("call: {return_attention_scores: true}}", "}").replace(
        "call: {use_causal_mask: true}}", "call: {return_attention_scores: true}}"
    )
    later = later.replace("outputs: [att.0, att.1, again]", "outputs: [att, again.0, again.1]")
    [error] = validate_text(later).errors
    assert (error.code, error.line) == ("KS307", 9)  # the `call` of again
    assert "'again' would return 2 tensors from 'att', whose layer's first call returns 1" in error.message
    assert not validate_text(SHARED).errors  # the first call returns two, a later one one: fine


@needs_keras
def test_keras_refuses_a_later_call_returning_more_than_the_first():
    """From keras 3.14 on (measured: 3.12.4 and 3.13.2 build the model, 3.14.1 and 3.15.1 refuse
    it); kspec refuses such a spec for every release (KS307), so that it builds on the newest."""
    import keras

    x = keras.Input((5, 8))
    layer = keras.layers.MultiHeadAttention(2, 4)
    first = layer(x, x)
    again, scores = layer(x, x, return_attention_scores=True)
    if minor(keras.__version__) < (3, 14):
        assert len(keras.Model(x, [first, again, scores]).outputs) == 3
        return
    with pytest.raises(ValueError, match="not connected"):
        keras.Model(x, [first, again, scores])


@needs_keras
def test_the_example_language_model_never_looks_ahead():
    """specs/causal_lm.yaml: changing the last tokens changes no logits before them, in every style;
    with causal: false (the same weights) it does."""
    from conftest import ROOT

    text = (ROOT / "specs" / "causal_lm.yaml").read_text()
    spec = kspec.load(text)
    tokens, positions = sample_inputs(spec)
    changed = tokens.copy()
    changed[:, 20:] = (changed[:, 20:] + 1) % 10
    models = models_of(spec)
    weights = models[0][1].get_weights()
    for label, model in models:
        model.set_weights(weights)
        before, after = (predictions(model, [t, positions])[0] for t in (tokens, changed))
        np.testing.assert_allclose(before[:, :20], after[:, :20], atol=1e-5, err_msg=label)
        assert not np.allclose(before[:, 20:], after[:, 20:], atol=1e-4), label
    peeking = kspec.build(kspec.load(text.replace("causal: true", "causal: false")), compile=False)
    peeking.set_weights(weights)
    before, after = (predictions(peeking, [t, positions])[0] for t in (tokens, changed))
    assert not np.allclose(before[:, :20], after[:, :20], atol=1e-4)


@needs_keras
def test_import_keeps_a_mask_the_model_passes_and_leaves_out_one_keras_computes():
    """`rnn(x, mask=m)` imports with `mask: m` among its inputs; the mask Keras computes from an
    Embedding with mask_zero is Keras's again (no input); the spec predicts as the original."""
    import keras

    from kspec.importer import from_keras

    x, m = keras.Input((5, 3), name="x"), keras.Input((5,), dtype="bool", name="m")
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    given = keras.layers.SimpleRNN(4, name="given")(x, mask=m)
    embedded = keras.layers.Embedding(10, 3, mask_zero=True, name="embedded")(tokens)
    computed = keras.layers.SimpleRNN(4, name="computed")(embedded)
    original = keras.Model([x, m, tokens], [given, computed])
    text = from_keras(original)
    lines = {line.split(",")[0]: line for line in text.splitlines() if line.startswith("  - {name:")}
    assert "inputs: {sequences: x, mask: m}" in lines["  - {name: given"]
    assert "mask" not in lines["  - {name: computed"]
    rebuilt = kspec.build(kspec.load(text), compile=False)
    rebuilt.set_weights(original.get_weights())
    rng = np.random.default_rng(0)
    mask = rng.random((4, 5)) < 0.5
    mask[:, 0] = True
    ids = rng.integers(0, 10, (4, 5)).astype("int32")
    ids[:, 2] = 0
    feed = {"x": rng.random((4, 5, 3)).astype("float32"), "m": mask, "tokens": ids}
    want = [as_numpy(o) for o in original(feed)]
    unmasked = as_numpy(original({**feed, "m": np.ones_like(mask)})[0])
    assert not np.allclose(want[0], unmasked)  # the mask matters
    for got, expected in zip(rebuilt(feed), want):
        np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-6, atol=1e-6)
