"""Shape rules of recurrent layers and the wrappers Bidirectional and TimeDistributed."""

from __future__ import annotations

from ..catalog.calls import RNN_STATES
from .common import known, need_rank
from .errors import ShapeError, fmt

# Weight matrices per gate: SimpleRNN 1, GRU 3, LSTM 4.
GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def _sequence(inputs, layer: str):
    """The sequence shape of an RNN call, which may also pass initial_state."""
    if isinstance(inputs, dict):
        if "sequences" not in inputs:
            raise ShapeError("KS602", f"{layer} called with keywords needs `sequences`")
        return inputs["sequences"]
    if isinstance(inputs, list):
        return inputs[0]
    return inputs


def rnn(type_name):
    def rule(args, inputs):
        shape = _sequence(inputs, type_name)
        need_rank(shape, 3, type_name)
        features = known(shape[2], type_name, shape, "feature dimension")
        units = args["units"]
        gates = GATES[type_name]
        params = gates * (features * units + units * units)
        if args.get("use_bias", True):
            params += gates * units * (2 if type_name == "GRU" and args.get("reset_after", True) else 1)
        output = (shape[0], shape[1], units) if args.get("return_sequences") else (shape[0], units)
        if args.get("return_state"):
            return [output] + [(shape[0], units)] * RNN_STATES[type_name], params, 0
        return output, params, 0

    return rule


def bidirectional(args, inputs, infer):
    inner = args["layer"]
    out, trainable, frozen = infer(inner["type"], inner, inputs)
    backward = args.get("backward_layer")
    if backward:
        _, b_trainable, b_frozen = infer(backward["type"], backward, inputs)
    else:
        b_trainable, b_frozen = trainable, frozen
    states = out[1:] if isinstance(out, list) else []
    seq = out[0] if isinstance(out, list) else out
    mode = args.get("merge_mode", "concat")
    if mode is None:
        merged = [seq, seq]
    elif mode == "concat":
        merged = seq[:-1] + (None if seq[-1] is None else 2 * seq[-1],)
    else:
        merged = seq
    if states:
        merged = ([merged] if mode is not None else merged) + states + states
    return merged, trainable + b_trainable, frozen + b_frozen


def time_distributed(args, shape, infer):
    if not isinstance(shape, tuple) or len(shape) < 3:
        raise ShapeError("KS602", f"TimeDistributed expects inputs of rank 3 or more, got {fmt(shape)}")
    inner = args["layer"]
    out, trainable, frozen = infer(inner["type"], inner, (shape[0],) + shape[2:])
    if isinstance(out, list):
        raise ShapeError("KS602", "TimeDistributed cannot wrap a layer with several outputs")
    return (out[0], shape[1]) + out[1:], trainable, frozen


RULES = {name: rnn(name) for name in GATES}
WRAPPERS = {"Bidirectional": bidirectional, "TimeDistributed": time_distributed}
