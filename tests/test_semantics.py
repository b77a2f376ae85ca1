"""Semantic checks and the IR: what valid specs mean, and what invalid ones report."""

import pytest

import kspec
from kspec.checks.compile import output_names
from kspec.flatten import flatten
from kspec.validate import validate_text

HEAD = "kspec: 1\nname: m\n"


def diagnose(text):
    return [(d.code, d.message) for d in validate_text(text).diagnostics]


def codes(text):
    return [code for code, _ in diagnose(text)]


def test_derived_names_follow_keras_and_skip_explicit_ones():
    spec = kspec.load(
        HEAD + "inputs: {x: {shape: [3, 4]}}\nlayers:\n"
        "  - {type: Dense, units: 2}\n  - {name: dense_1, type: Dense, units: 2}\n"
        "  - {type: Dense, units: 2}\n  - {type: BatchNormalization}\n"
        "  - {type: GlobalAveragePooling1D, inputs: x}\n"
        "outputs: [batch_normalization, global_average_pooling1d]\n"
    )
    assert [c.name for c in spec.scope.calls] == [
        "dense",
        "dense_1",
        "dense_2",
        "batch_normalization",
        "global_average_pooling1d",
    ]
    assert [c.explicit_name for c in spec.scope.calls] == [False, True, False, False, False]


def test_implicit_inputs_chain_to_the_previous_call():
    spec = kspec.load("specs/tiny_resnet.yaml")
    calls = {c.name: c for c in spec.scope.calls}
    assert str(calls["rescale"].inputs) == "image"
    assert str(calls["stem"].inputs) == "rescale" and calls["stem"].implicit_inputs
    block = spec.blocks["ResidualBlock"].scope
    assert [str(r) for r in block.call("add").refs()] == ["bn_b", "x"]


def test_load_raises_spec_error_with_all_diagnostics(tmp_path):
    text = (
        HEAD
        + "inputs: {x: {shape: [4]}}\nlayers:\n  - {type: Dense2}\n  - {type: Dropout, rate: 3}\noutputs: dropout\n"
    )
    with pytest.raises(kspec.SpecError) as caught:
        kspec.load(text)
    assert {d.code for d in caught.value.diagnostics} == {"KS102", "KS305"}
    assert "and 1 more" in str(caught.value)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(kspec.SpecError):
        kspec.load(path)


BLOCKS = """
blocks:
  Inner:
    params: {k: 3}
    inputs: [a]
    layers: [{name: conv, type: Conv2D, filters: 4, kernel_size: $k}]
    outputs: conv
  Outer:
    params: {size: null}
    inputs: [b]
    layers: [{name: inner, type: Inner, k: $size}]
    outputs: inner
"""


def test_parameters_pass_through_nested_blocks_and_are_checked_at_the_outer_call():
    good = (
        HEAD
        + "inputs: {x: {shape: [8, 8, 3]}}\nlayers:\n  - {name: o, type: Outer, size: 5}\noutputs: o\n"
        + BLOCKS
    )
    assert diagnose(good) == []
    bad = good.replace("size: 5", "size: five")
    [(code, message)] = diagnose(bad)
    assert code == "KS302" and "Conv2D.kernel_size" in message
    [d] = validate_text(bad).diagnostics
    assert d.line == 5  # the outer call, where 'five' is written


def test_block_parameter_defaults_are_checked_against_their_uses():
    text = (
        HEAD
        + "inputs: {x: {shape: [8, 8, 3]}}\nlayers:\n  - {name: i, type: Inner}\noutputs: i\n"
        + BLOCKS.replace("params: {k: 3}", "params: {k: -1}")
    )
    assert codes(text) == ["KS305"]


def test_named_block_outputs_resolve_and_unknown_ones_are_reported():
    assert diagnose(open("specs/inception_mini.yaml").read()) == []
    broken = open("specs/inception_mini.yaml").read().replace("aux: heads.aux", "aux: heads.side")
    assert "KS207" in codes(broken)


def test_a_block_call_can_be_shared_whole_or_by_one_inner_layer():
    head = HEAD + "inputs: {x: {shape: [8, 8, 3]}, y: {shape: [8, 8, 3]}}\nlayers:\n"
    tail = "  - {name: s, type: Add, inputs: [i, j]}\noutputs: s\n" + BLOCKS
    whole = head + "  - {name: i, type: Inner, inputs: x}\n  - {name: j, share: i, inputs: y}\n" + tail
    assert codes(whole) == []
    inner = head + "  - {name: i, type: Inner, inputs: x}\n  - {name: j, share: i/conv, inputs: y}\n" + tail
    assert codes(inner) == []


@pytest.mark.parametrize(
    "share, code, words",
    [
        ("i/cnv", "KS202", "block Inner (called as 'i') has no layer 'cnv' (did you mean 'conv'?)"),
        ("i/conv/d", "KS208", "'conv' is a layer, not a block call"),
        ("r/conv", "KS208", "'r' repeats"),
        ("o/inner", "KS208", "it is a block call inside a block"),
        ("x/conv", "KS208", "it is an input"),
    ],
)
def test_a_share_path_that_names_no_single_layer_is_located(share, code, words):
    text = (
        HEAD + "inputs: {x: {shape: [8, 8, 3]}, y: {shape: [8, 8, 3]}}\nlayers:\n"
        "  - {name: i, type: Inner, k: 1, inputs: x}\n  - {name: r, type: Inner, k: 1, repeat: 2, inputs: y}\n"
        "  - {name: o, type: Outer, size: 1, inputs: y}\n"
        f"  - {{name: j, share: {share}, inputs: y}}\n"
        "  - {name: s, type: Add, inputs: [i, j, r, o]}\noutputs: s\n" + BLOCKS
    )
    [diagnostic] = validate_text(text).diagnostics
    assert diagnostic.code == code and words in diagnostic.message
    assert diagnostic.line == 8  # the line of the sharing call


def test_a_block_call_gives_the_block_one_tensor_per_input():
    text = (
        HEAD + "inputs: {x: {shape: [8]}}\nlayers:\n  - {name: p, type: Pair}\n"
        "  - {name: q, share: p, inputs: [x, p]}\noutputs: q\n"
        "blocks:\n  Pair:\n    inputs: [a, b]\n    layers:\n"
        "      - {name: s, type: Add, inputs: [a, b]}\n    outputs: s\n"
    )
    [diagnostic] = validate_text(text).diagnostics
    assert (
        diagnostic.code == "KS212"
        and "'p' gives block Pair 1 input(s); it takes 2 (a, b)" in diagnostic.message
    )


def test_bidirectional_return_state_counts_both_directions():
    text = (
        HEAD + "inputs: {x: {shape: [5, 3]}}\nlayers:\n"
        "  - {name: b, type: Bidirectional, layer: {type: LSTM, units: 2, return_state: true}}\n"
        "outputs: [b.0, b.4]\n"
    )
    assert codes(text) == []
    assert codes(text.replace("b.4", "b.5")) == ["KS207"]


def test_per_output_keys_for_list_outputs_are_keras_layer_names():
    spec = kspec.load("specs/tiny_resnet.yaml")
    assert output_names(spec) == ["logits"]
    text = (
        HEAD + "inputs: {x: {shape: [8, 8, 3]}}\nlayers:\n  - {name: r, type: Inner, repeat: 2}\n"
        "  - {name: d, type: Dense, units: 1, inputs: x}\noutputs: [r, d]\n"
        "compile: {loss: {r_2_conv: mean_squared_error, d: mean_squared_error}}\n" + BLOCKS
    )
    assert diagnose(text) == []
    assert output_names(kspec.load(text)) == ["r_2_conv", "d"]


def test_loss_list_length_must_match_outputs():
    spec = (
        open("specs/two_tower.yaml")
        .read()
        .replace(
            "  loss:\n    label: sparse_categorical_crossentropy\n    score: {type: MeanSquaredError}\n",
            "  loss: [mean_squared_error]\n",
        )
    )
    assert codes(spec) == ["KS501"]


def test_siamese_share_has_no_unused_warnings():
    assert diagnose(open("specs/siamese.yaml").read()) == []


def test_every_problem_in_one_run():
    text = (
        HEAD + "inputs: {x: {shape: [4]}}\nlayers:\n  - {name: a, type: Dense, unitz: 3}\n"
        "  - {name: a, type: Dropot}\n  - {name: c, type: Dense, units: 2, inputs: nope}\n"
        "outputs: [c, zz]\ncompile: {optimizer: adamw2, loss: msee}\n"
    )
    assert set(codes(text)) >= {"KS301", "KS201", "KS102", "KS202", "KS204", "KS304"}


def test_a_misspelt_required_argument_is_one_error_with_the_right_name():
    text = HEAD + "inputs: {x: {shape: [8, 8, 3]}}\nlayers:\n  - {type: Conv2D, filters: 4, kernal_size: 3}\n"
    assert diagnose(text + "outputs: conv2d\n") == [
        ("KS301", "Conv2D takes no argument 'kernal_size' (did you mean 'kernel_size'?)")
    ]
    unrelated = text.replace("kernal_size: 3", "colour: 3")  # not taken for kernel_size: both errors
    assert codes(unrelated + "outputs: conv2d\n") == ["KS303", "KS301"]
    nested = HEAD + (
        "inputs: {x: {shape: [4]}}\nlayers: [{type: Dense, units: 2}]\noutputs: dense\n"
        "compile: {optimizer: {type: SGD, learning_rate: {type: ExponentialDecay, initial_learning_rat: 0.1, "
        "decay_steps: 2, decay_rate: 0.5}}, loss: mse}\n"
    )
    assert codes(nested) == ["KS301"]


def test_did_you_mean_prefers_the_same_word_in_another_case():
    text = HEAD + "inputs: {x: {shape: [4]}}\nlayers: [{type: Dense, units: 2}]\noutputs: dense\n"
    found = diagnose(text + "compile: {optimizer: {type: Adamw}, loss: mse}\n")
    assert found == [("KS304", "unknown optimizer class 'Adamw' (did you mean 'AdamW'?)")]


def test_custom_layers_accept_any_arguments_and_may_not_shadow_keras():
    text = (
        HEAD + "inputs: {x: {shape: [4]}}\nlayers:\n  - {name: c, type: Scale, factor: 2}\n"
        "outputs: c\ncustom:\n  Scale: my_pkg.layers:Scale\n"
    )
    assert diagnose(text) == [
        ("KS606", "no shape rule for Scale: the output shape of 'c' and what " "follows it are unknown")
    ]
    assert codes(text.replace("Scale", "Dense")) == ["KS201"]


def test_sharing_a_block_call_is_sharing_each_of_its_layers():
    block = (
        "blocks:\n  Tower:\n    inputs: [i]\n    layers:\n      - {name: d1, type: Dense, units: 4, inputs: i}\n"
        "      - {name: d2, type: Dense, units: 2}\n    outputs: d2\n"
    )
    whole = HEAD + (
        "inputs: {a: {shape: [3]}, b: {shape: [3]}}\nlayers:\n  - {name: left, type: Tower, inputs: a}\n"
        "  - {name: right, share: left, inputs: b}\n  - {name: both, type: Add, inputs: [left, right]}\n"
        "outputs: both\n" + block
    )
    each = HEAD + (
        "inputs: {a: {shape: [3]}, b: {shape: [3]}}\nlayers:\n"
        "  - {name: left_d1, type: Dense, units: 4, inputs: a}\n  - {name: left_d2, type: Dense, units: 2}\n"
        "  - {name: right_d1, share: left_d1, inputs: b}\n  - {name: right_d2, share: left_d2}\n"
        "  - {name: both, type: Add, inputs: [left_d2, right_d2]}\noutputs: both\n"
    )
    shared = {}
    for label, text in (("whole", whole), ("each", each)):
        result = validate_text(text)
        assert result.diagnostics == []
        shared[label] = [(n.name, n.share) for n in flatten(result.spec).nodes]
    assert (
        shared["whole"]
        == shared["each"]
        == [
            ("left_d1", None),
            ("left_d2", None),
            ("right_d1", "left_d1"),
            ("right_d2", "left_d2"),
            ("both", None),
        ]
    )


def test_a_rank_error_names_the_layer_that_has_it():
    text = (
        HEAD
        + "inputs: {x: {shape: [4]}}\nlayers: [{type: CenterCrop, height: 2, width: 2}]\noutputs: center_crop\n"
    )
    [error] = validate_text(text).errors
    assert error.code == "KS602" and "CenterCrop" in error.message and "Resizing" not in error.message


def test_messages_stay_short_for_huge_inputs():
    from kspec.report import EXCERPT, TextReporter

    blocks = "".join(
        f"  B{i}:\n    inputs: [x]\n    layers: [{{name: c, type: B{i % 3000 + 1}, inputs: x}}]\n    outputs: c\n"
        for i in range(1, 3001)
    )
    cycle = HEAD + "inputs: {x: {shape: [4]}}\nlayers: [{name: a, type: B1}]\noutputs: a\nblocks:\n" + blocks
    [error] = [d for d in validate_text(cycle).errors if d.code == "KS403"]
    assert len(error.message) < 200 and "(2995 more)" in error.message
    deep = validate_text("kspec: 1\nname: m\nv: " + "[" * 5000 + "]" * 5000 + "\n")
    lines = []
    TextReporter(lines.append).report([deep])
    [excerpt, caret] = [line for line in lines if line.lstrip().startswith(("3 |", "|"))][:2]
    assert len(excerpt) < EXCERPT + 20
    assert excerpt.split("| ", 1)[1][len(caret.split("| ", 1)[1]) - 1] == "["  # the caret is on the text


def test_a_block_parameter_named_like_a_call_key_is_one_error():
    text = HEAD + (
        "inputs: {x: {shape: [4]}}\nlayers: [{name: a, type: Blk}]\noutputs: a\nblocks:\n  Blk:\n"
        "    params: {name: null}\n    inputs: [i]\n    layers: [{name: d, type: Dense, units: 2, inputs: i}]\n"
        "    outputs: d\n"
    )
    assert [d.code for d in validate_text(text).errors] == ["KS406"]
