"""Shape rules of MultiHeadAttention, Attention and AdditiveAttention."""

from __future__ import annotations

from .common import known, need_min_rank
from .errors import ShapeError, fmt


def _operands(inputs):
    """(query, value, key) shapes of a MultiHeadAttention call."""
    if isinstance(inputs, dict):
        query, value = inputs.get("query"), inputs.get("value")
        key = inputs.get("key", value)
    elif isinstance(inputs, list) and len(inputs) in (2, 3):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
    else:
        raise ShapeError(
            "KS602",
            "MultiHeadAttention takes query and value (and key)",
            "write `inputs: {query: q, value: v}`",
        )
    if query is None or value is None:
        raise ShapeError("KS602", "MultiHeadAttention needs both `query` and `value`")
    return query, value, key


def multi_head_attention(args, inputs):
    query, value, key = _operands(inputs)
    for name, shape in (("query", query), ("value", value), ("key", key)):
        need_min_rank(shape, 3, f"MultiHeadAttention {name}")
    q_dim = known(query[-1], "MultiHeadAttention", query, "query feature dimension")
    v_dim = known(value[-1], "MultiHeadAttention", value, "value feature dimension")
    k_dim = known(key[-1], "MultiHeadAttention", key, "key feature dimension")
    heads, key_dim = args["num_heads"], args["key_dim"]
    value_dim = args.get("value_dim") or key_dim
    output_shape = args.get("output_shape")
    out_dims = (
        tuple(output_shape)
        if isinstance(output_shape, (list, tuple))
        else ((output_shape,) if output_shape else (q_dim,))
    )
    bias = bool(args.get("use_bias", True))
    out_size = 1
    for d in out_dims:
        out_size *= d
    params = (
        q_dim * heads * key_dim
        + k_dim * heads * key_dim
        + v_dim * heads * value_dim
        + heads * value_dim * out_size
    )
    if bias:
        params += 2 * heads * key_dim + heads * value_dim + out_size
    if args.get("use_gate"):
        params += q_dim * heads * value_dim + (heads * value_dim if bias else 0)
    return query[:-1] + out_dims, params, 0


def attention(type_name):
    def rule(args, inputs):
        if not isinstance(inputs, list) or len(inputs) not in (2, 3):
            raise ShapeError(
                "KS602",
                f"{type_name} takes a list [query, value] or [query, value, key]",
                "write `inputs: [query, value]`",
            )
        query, value = inputs[0], inputs[1]
        if (
            query[-1] is not None
            and value[-1] is not None
            and type_name == "AdditiveAttention"
            and query[-1] != value[-1]
        ):
            raise ShapeError("KS601", f"{type_name} of {fmt(query)} and {fmt(value)}: feature sizes differ")
        params = 0
        if type_name == "AdditiveAttention":
            params = query[-1] if args.get("use_scale", True) else 0
        else:
            params = (1 if args.get("use_scale", False) else 0) + (
                1 if args.get("score_mode") == "concat" else 0
            )
        return query[:-1] + (value[-1],), params, 0

    return rule


def multi_head_attention_scores(args, inputs, output, call_args):
    """With return_attention_scores: [output, scores], the scores shaped (batch dims, heads,
    query attention dims, key attention dims) as Keras's einsum makes them."""
    if call_args.get("return_attention_scores") is not True:
        return output
    query, _, key = _operands(inputs)
    rank = len(query) + 1  # of the projected query: (batch, ..., heads, key_dim)
    axes = args.get("attention_axes")
    axes = tuple(range(1, rank - 2)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    if any(not 0 < a < rank - 2 for a in axes):
        raise ValueError(f"attention_axes {list(axes)} must be positive and within the query's rank")
    projected = query[:-1] + (args["num_heads"],)
    batch = [projected[i] for i in range(rank - 1) if i not in axes]
    return [output, tuple(batch) + tuple(query[a] for a in axes) + tuple(key[a] for a in axes)]


def attention_scores(args, inputs, output, call_args):
    """With return_attention_scores: [output, scores of shape (batch, Tq, Tv)]."""
    if call_args.get("return_attention_scores") is not True:
        return output
    query, value = inputs[0], inputs[1]
    return [output, query[:-1] + (value[1],)]


# Rules that call arguments change: (args, inputs, output, call_args) -> output.
CALL_RULES = {"MultiHeadAttention": multi_head_attention_scores, "Attention": attention_scores}

RULES = {
    "MultiHeadAttention": multi_head_attention,
    "Attention": attention("Attention"),
    "AdditiveAttention": attention("AdditiveAttention"),
}
