"""How Keras layers are called: which take a list, how many tensors they return."""

from __future__ import annotations

# Layers called on a list of tensors.
MERGE_LAYERS = frozenset(
    {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"}
)

# Public layer classes that a spec cannot use, and why.
NOT_IN_SPECS = {
    "Lambda": "a spec holds no Python code: write a layer class and declare it under `custom`",
    "InputLayer": "declare model inputs under `inputs`",
    "Layer": "the abstract base class; write a subclass and declare it under `custom`",
    "Wrapper": "an abstract base class; use Bidirectional or TimeDistributed",
    "JaxLayer": "it wraps a Python function; declare a layer class under `custom`",
    "FlaxLayer": "it wraps a Python module; declare a layer class under `custom`",
    "TorchModuleWrapper": "it wraps a Python module; declare a layer class under `custom`",
    "TFSMLayer": "it loads a SavedModel from disk at build time; declare a layer class under `custom`",
}

# Layers that run Python functions or load files: refused by any name, subclasses included.
RUNS_CODE = ("Lambda", "JaxLayer", "FlaxLayer", "TorchModuleWrapper", "TFSMLayer")

# Recurrent layers and the number of state tensors each returns with return_state.
RNN_STATES = {
    "SimpleRNN": 1,
    "GRU": 1,
    "LSTM": 2,
    "ConvLSTM1D": 2,
    "ConvLSTM2D": 2,
    "ConvLSTM3D": 2,
}


# Layers whose call() returns the attention scores as a second tensor when asked.
RETURNS_SCORES = frozenset({"MultiHeadAttention", "GroupQueryAttention", "Attention"})


def layer_output_count(type_name: str, args: dict, call_args: dict | None = None) -> int | None:
    """How many tensors a Keras layer call returns; None when it depends on unknowns."""
    if type_name in RETURNS_SCORES and call_args and "return_attention_scores" in call_args:
        scores = call_args["return_attention_scores"]
        return (2 if scores else 1) if isinstance(scores, bool) else None
    if type_name in RNN_STATES:
        state = args.get("return_state", False)
        if not isinstance(state, bool):
            return None
        return 1 + RNN_STATES[type_name] if state else 1
    if type_name == "Bidirectional":
        inner = args.get("layer")
        if not isinstance(inner, dict):
            return None
        inner_type = inner.get("type")
        if inner_type not in RNN_STATES:
            return 1
        state = inner.get("return_state", False)
        if not isinstance(state, bool):
            return None
        return 1 + 2 * RNN_STATES[inner_type] if state else 1
    return 1
