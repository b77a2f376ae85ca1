"""Static shape inference: every layer's output shape and parameter count, without Keras.

Rules are plain functions by Keras class name (`RULES`), each returning
(output shape or list of shapes, trainable params, non-trainable params) or
raising ShapeError. A layer without a rule gets a warning, and shapes that
depend on it are unknown; nothing crashes.
"""

from __future__ import annotations


from ..catalog import catalog
from ..diagnostics import WARNING, Diagnostic, block_context
from ..flatten import FlatGraph, Node, Port, flatten
from . import attention, contracts, conv, core, merge, ops, recurrent
from .errors import ShapeError, fmt

RULES = {**core.RULES, **conv.RULES, **merge.RULES, **recurrent.RULES, **attention.RULES}
WRAPPERS = recurrent.WRAPPERS
CALL_RULES = attention.CALL_RULES

DTYPE_BYTES = {
    "float16": 2,
    "bfloat16": 2,
    "float32": 4,
    "float64": 8,
    "mixed_float16": 4,
    "mixed_bfloat16": 4,
}


def _canonical(type_name: str) -> str:
    canonical = _CANONICAL.get(type_name)
    if canonical is None:
        signature = catalog().layer(type_name)
        canonical = _CANONICAL[type_name] = signature.canonical if signature else type_name
    return canonical


_CANONICAL: dict = {}


class LayerShape:
    """The static facts about one layer call."""

    def __init__(self, node: Node, input_shapes):
        self.node = node
        self.input_shapes = input_shapes  # a shape, a list, or a dict, as the call receives them
        self.output = None  # a shape tuple, a list of them, or None when unknown
        self.trainable: int | None = 0
        self.non_trainable: int | None = 0
        self.weight_bytes: int | None = 0

    @property
    def params(self) -> int | None:
        if self.trainable is None or self.non_trainable is None:
            return None
        return self.trainable + self.non_trainable


class ShapeReport:
    """Shapes and parameter counts of a whole graph, with the problems found."""

    def __init__(self, graph: FlatGraph, input_shapes: dict):
        self.graph = graph
        self.input_shapes = input_shapes  # input name -> shape with the batch dimension
        self.layers: list = []
        self.diagnostics: list = []

    def _total(self, attribute):
        values = [getattr(layer, attribute) for layer in self.layers]
        return None if None in values else sum(values)

    @property
    def trainable_params(self):
        return self._total("trainable")

    @property
    def non_trainable_params(self):
        return self._total("non_trainable")

    @property
    def total_params(self):
        t, n = self.trainable_params, self.non_trainable_params
        return None if t is None or n is None else t + n

    @property
    def weight_bytes(self):
        return self._total("weight_bytes")


def infer(spec) -> ShapeReport:
    """Shapes and parameter counts of every layer call of a valid spec.

    Made once per spec and kept on it (`spec.shapes`).
    """
    if spec.shapes is None:
        spec.shapes = _infer(spec, flatten(spec))
    return spec.shapes


def _infer(spec, graph: FlatGraph) -> ShapeReport:
    report = ShapeReport(graph, {name: (i.batch_size,) + tuple(i.shape) for name, i in spec.inputs.items()})
    document = spec.document
    known = dict(report.input_shapes)  # tensor name -> shape or list of shapes (None: unknown)
    for node in graph.nodes:
        inputs = _input_shapes(node.inputs, known)
        layer = LayerShape(node, inputs)
        report.layers.append(layer)
        if _has_unknown(inputs):
            layer.output = layer.trainable = layer.non_trainable = layer.weight_bytes = None
            known[node.name] = None
            continue
        if node.share:
            target_type = node.type
            args = graph.node(node.share).args
        else:
            target_type, args = node.type, node.args
        contract = spec.contracts.get(target_type)
        try:
            if node.op is not None:
                output, trainable, frozen = _apply_op(node.op, args, inputs)
            elif contract is not None:
                output, trainable, frozen = contracts.apply(contract, args, inputs)
            else:
                output, trainable, frozen = _apply(target_type, args, inputs, node.call_args)
        except ShapeError as error:
            report.diagnostics.append(
                _located(document, node, error.code, f"'{node.name}': {error.message}", error.hint)
            )
            output, trainable, frozen = None, None, None
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as error:
            report.diagnostics.append(
                _located(
                    document,
                    node,
                    "KS606",
                    f"'{node.name}': cannot infer the shape of {node.type} "
                    f"({type(error).__name__}: {error})",
                    severity=WARNING,
                )
            )
            output, trainable, frozen = None, None, None
        except _NoRule:
            report.diagnostics.append(
                _located(
                    document,
                    node,
                    "KS606",
                    f"no shape rule for {'keras.' if node.op else ''}{node.type}: the output shape of "
                    f"'{node.name}' and what follows it are unknown",
                    "the model still builds; kspec summary shows '?'"
                    + (
                        f"; give custom type {target_type} a contract (output_shape, weights) to go on"
                        if target_type in spec.custom
                        else ""
                    ),
                    severity=WARNING,
                )
            )
            output, trainable, frozen = None, None, None
        if node.share:
            trainable = frozen = 0 if output is not None else None  # weights belong to the shared layer
        if trainable is not None and args.get("trainable") is False:
            trainable, frozen = 0, trainable + frozen
        layer.output, layer.trainable, layer.non_trainable = output, trainable, frozen
        layer.weight_bytes = None if trainable is None else (trainable + frozen) * _dtype_bytes(args)
        known[node.name] = output
    return report


class _NoRule(Exception):
    pass


def _apply(type_name: str, args: dict, inputs, call_args=None):
    canonical = _canonical(type_name)
    if canonical in WRAPPERS:
        return WRAPPERS[canonical](args, inputs, _nested)
    rule = RULES.get(canonical)
    if rule is None:
        raise _NoRule
    output, trainable, frozen = rule(args, inputs)
    if call_args and canonical in CALL_RULES:
        output = CALL_RULES[canonical](args, inputs, output, call_args)
    return output, trainable, frozen


def _apply_op(op: str, args: dict, inputs):
    if op not in ops.RULES:
        raise _NoRule
    return ops.apply(op, args, inputs), 0, 0


def _nested(type_name: str, args: dict, inputs):
    """Shapes of a nested layer (the `layer` of Bidirectional or TimeDistributed)."""
    return _apply(type_name, {k: v for k, v in args.items() if k != "type"}, inputs)


def _input_shapes(inputs, known: dict):
    if isinstance(inputs, Port):
        value = known.get(inputs.node)
        if value is None:
            return None
        if inputs.index is not None:
            return value[inputs.index] if isinstance(value, list) and inputs.index < len(value) else None
        return value
    if isinstance(inputs, list):
        return [_input_shapes(item, known) for item in inputs]
    return {key: _input_shapes(item, known) for key, item in inputs.items()}


def _has_unknown(shapes) -> bool:
    if shapes is None:
        return True
    if isinstance(shapes, list):  # several tensors (a shape itself is a tuple)
        return any(_has_unknown(s) for s in shapes)
    if isinstance(shapes, dict):
        return any(_has_unknown(s) for s in shapes.values())
    return False


def _dtype_bytes(args: dict) -> int:
    dtype = args.get("dtype")
    return DTYPE_BYTES.get(dtype, 4) if isinstance(dtype, str) else 4


def _located(document, node: Node, code, message, hint=None, severity="error") -> Diagnostic:
    if document is None:
        return Diagnostic("<spec>", 1, 1, code, severity, message, hint)
    hint = block_context(document, node.scope, hint)
    return document.diagnostic(node.where + ("type",), code, message, hint=hint, severity=severity)


__all__ = ["RULES", "LayerShape", "ShapeReport", "ShapeError", "fmt", "infer"]
