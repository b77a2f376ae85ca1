"""Semantic checks: everything the JSON Schema cannot say about a spec."""

from __future__ import annotations

from ..catalog import catalog
from ..catalog.versions import Target, target as default_target
from ..diagnostics import ERROR, WARNING, Diagnostic
from ..expressions import ExpressionError, parse
from ..shapes.contracts import expressions_of
from . import blocks as block_checks
from .arguments import EXPRESSION_HINT, ValueChecker
from .compile import check_compile
from .expansion import check_expansion
from .graph import check_scope, shared_call, type_kind
from .ops import check_constant_calls, check_op_call
from .paths import IMPORT_PATH, custom_path_problem
from .versions import check_versions


class Collector:
    """Collects located diagnostics for one document, without repeats."""

    def __init__(self, document):
        self.document = document
        self.diagnostics: list[Diagnostic] = []
        self._seen: set = set()
        self._unresolved: set = set()  # places of KS017 and KS410: the value there has no other error

    def error(self, where, code, message, hint=None, *, key=False):
        self._add(where, code, message, hint, ERROR, key)

    def warning(self, where, code, message, hint=None, *, key=False):
        self._add(where, code, message, hint, WARNING, key)

    def _add(self, where, code, message, hint, severity, key):
        diagnostic = self.document.diagnostic(
            tuple(where), code, message, hint=hint, severity=severity, key=key
        )
        place = (diagnostic.path, diagnostic.line, diagnostic.column)
        if code in ("KS017", "KS410"):
            self._unresolved.add(place)
        elif place in self._unresolved:
            return  # what an unknown `$name` or an uncomputable expression leaves is no second error
        marker = (diagnostic.line, diagnostic.column, code, message)
        if marker not in self._seen:
            self._seen.add(marker)
            self.diagnostics.append(diagnostic)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def check_spec(spec, out: Collector, max_expansion: int, target: Target | None = None) -> None:
    """Run every semantic check on a spec's IR, collecting into `out`.

    `max_expansion` bounds the layer calls that blocks and repeats may expand to; `target`
    is the Keras release checked against (kspec.catalog.versions), the newest by default.
    """
    for what, name, where, first in spec.clashes:
        out.error(
            where,
            "KS201",
            f"{what} '{name}' is defined twice",
            f"the first definition, kept, is at {out.document.place(first)}",
            key=True,
        )
    for name, path in spec.custom.items():
        where = spec.custom_where[name]
        problem = custom_path_problem(path) if isinstance(path, str) and IMPORT_PATH.match(path) else None
        if problem:  # a malformed path is the schema's KS502 already
            out.error(where, "KS502", f"custom type '{name}': {problem[0]}", problem[1])
        if name in spec.blocks or catalog().layer(name) is not None:
            what = "a block" if name in spec.blocks else f"keras.layers.{name}"
            out.error(where, "KS201", f"custom type '{name}' has the name of {what}", key=True)
    for contract in spec.contracts.values():
        _check_contract(contract, out)
    for name, block in spec.blocks.items():
        if catalog().layer(name) is not None:
            out.error(
                block.where,
                "KS201",
                f"block '{name}' has the name of keras.layers.{name}",
                "rename the block",
                key=True,
            )

    recursive = block_checks.check_recursion(spec, out)
    order = block_checks.dependency_order(spec)
    check_expansion(spec, out, order, recursive, max_expansion)
    usages: dict = {}
    for name in order:
        block = spec.blocks[name]
        check_scope(spec, block.scope, out, f"block {name}")
        if block.model == "sequential":
            block_checks.check_sequential_model(spec, block, out)
        if name in recursive:
            continue
        checker = ValueChecker(spec, out, params=block.params, usages=usages.setdefault(name, {}))
        _check_calls(spec, block.scope, checker, usages)
        block_checks.check_defaults(spec, name, checker, usages)
        block_checks.check_unused_params(spec, name, usages, out)
        block_checks.check_param_names(spec, name, out)

    check_versions(spec, out, target or default_target())
    if spec.library:
        return
    check_scope(spec, spec.scope, out, "the model")
    checker = ValueChecker(spec, out)
    _check_calls(spec, spec.scope, checker, usages)
    check_compile(spec, checker)
    if not out.has_errors:  # the lowered graph needs a spec without errors
        check_constant_calls(spec, out)


def _check_contract(contract, out) -> None:
    """Every expression of a custom layer's contract is well formed (its values depend on each call)."""
    for path, text in expressions_of(contract):
        try:
            parse(text, allow_input=True)
        except ExpressionError as error:
            at = f" (character {error.column})" if error.column else ""
            hint = EXPRESSION_HINT + ", and input[J] or input.K[J] for a dimension of an input"
            out.error(contract.where + path, "KS409", f"{error.message}{at} in '{text}'", hint)


def _check_calls(spec, scope, checker, usages) -> None:
    for call in scope.calls:
        kind = type_kind(spec, call.type)
        if call.op is not None:
            check_op_call(call, checker)
        elif kind == "keras":
            checker.check_layer(call.type, call.args, call.where, call.where + ("type",))
        elif kind == "block":
            block_checks.check_block_call(spec, call, checker, usages)
        elif kind == "custom":
            checker.check_custom_args(call.args, call.where)
        target = None
        if call.share is not None:  # a shared call is a call of the shared layer (or block call)
            target = shared_call(spec, call, {c.name: c for c in scope.calls})
        checker.check_call_arguments(target.type if target else call.type, call, shared=target)
