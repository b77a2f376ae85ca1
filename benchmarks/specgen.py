"""Synthetic specs of any size, for benchmarks: chains and residual DAGs of Dense layers."""

from __future__ import annotations


def chain_spec(layers: int, width: int = 16) -> str:
    """A chain of Dense layers with a residual Add every third layer."""
    lines = ["kspec: 1", "name: synthetic", "inputs:", f"  x: {{shape: [{width}]}}", "layers:"]
    made = 0
    index = 0
    while made < layers:
        if index % 3 == 2 and made + 2 <= layers:
            lines.append(f"  - {{name: add{index}, type: Add, inputs: [l{index - 1}, l{index - 2}]}}")
            made += 1
        lines.append(f"  - {{name: l{index}, type: Dense, units: {width}, activation: relu}}")
        made += 1
        index += 1
    lines.append(f"outputs: l{index - 1}")
    lines.append("compile: {optimizer: adam, loss: mean_squared_error}")
    return "\n".join(lines) + "\n"


def unit_chain_config(layers: int, width: int = 16) -> dict:
    """The get_config() of a Keras model chaining `layers` Dense layers in units of two
    (`unit<i>_in`, `unit<i>_out`): what `kspec import` reads, with a block to find, without Keras."""
    entries = [
        {
            "module": "keras.layers",
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, width], "dtype": "float32", "name": "x"},
            "name": "x",
            "inbound_nodes": [],
        }
    ]
    previous = "x"
    for index in range(layers):
        name = f"unit{index // 2}_{'out' if index % 2 else 'in'}"
        tensor = {"shape": [None, width], "dtype": "float32", "keras_history": [previous, 0, 0]}
        entries.append(
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "config": {"name": name, "units": width, "activation": "relu"},
                "name": name,
                "inbound_nodes": [
                    {"args": [{"class_name": "__keras_tensor__", "config": tensor}], "kwargs": {}}
                ],
            }
        )
        previous = name
    return {
        "name": "units",
        "layers": entries,
        "input_layers": [["x", 0, 0]],
        "output_layers": [[previous, 0, 0]],
    }


def transformer_spec(layers: int, width: int = 64) -> str:
    """A Transformer encoder of `layers` layer calls (8 per block) laid out over a 2 x 4 mesh."""
    blocks = max(1, (layers - 3) // 8)
    return f"""kspec: 1
name: synthetic_transformer
inputs: {{tokens: {{shape: [32], dtype: int32}}}}
layers:
  - {{name: emb, type: Embedding, input_dim: 1024, output_dim: {width}}}
  - {{name: enc, type: Encoder, repeat: {blocks}}}
  - {{name: pool, type: GlobalAveragePooling1D}}
  - {{name: probs, type: Dense, units: 4, activation: softmax}}
outputs: probs
blocks:
  Encoder:
    inputs: [x]
    layers:
      - {{name: attn, type: MultiHeadAttention, num_heads: 4, key_dim: 16, inputs: {{query: x, value: x}}}}
      - {{name: attn_res, type: Add, inputs: [x, attn]}}
      - {{name: attn_norm, type: LayerNormalization}}
      - {{name: ff_in, type: Dense, units: {2 * width}, activation: relu}}
      - {{name: ff_out, type: Dense, units: {width}}}
      - {{name: ff_res, type: Add, inputs: [attn_norm, ff_out]}}
      - {{name: out, type: LayerNormalization}}
      - {{name: drop, type: Dropout, rate: 0.1}}
    outputs: [drop]
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
distribution:
  model_parallel:
    mesh: {{batch: 2, model: 4}}
    layout:
      ".*emb/embeddings": [model, null]
      ".*_attn/(query|key|value)/kernel": [null, model, null]
      ".*_attn/attention_output/kernel": [model, null, null]
      ".*_ff_in/kernel": [null, model]
      ".*_ff_out/kernel": [model, null]
"""
