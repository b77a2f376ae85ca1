"""The YAML text of an imported spec, section by section: the modeline that points editors at the
schema, then `name`, `inputs`, `layers`, `outputs`, `blocks`, `custom` and `compile`, each value written in
flow style on one line where it fits in FLOW_WIDTH characters."""

from __future__ import annotations

import yaml

from ..structure import load_schema

FLOW_WIDTH = 100


def heading(name: str) -> list[str]:
    """The modeline, the language version and the model's name."""
    return [f"# yaml-language-server: $schema={schema_url()}", "kspec: 1", f"name: {flow(name)}"]


def inputs_section(inputs: list[tuple[str, dict]]) -> list[str]:
    return ["", "inputs:"] + [f"  {name}: {flow(body)}" for name, body in inputs]


def layers_section(layers) -> list[str]:
    """The `layers` list, one entry a line, or a key a line where the entry is too long."""
    return ["", "layers:"] + _entries(layers, "  ")


def blocks_section(blocks) -> list[str]:
    """The `blocks` found in the layers (blocks.Block), each with its parameters, inputs, layers
    and output; nothing where there are none."""
    if not blocks:
        return []
    lines = ["", "blocks:"]
    for block in blocks:
        lines.append(f"  {block.name}:")
        if block.model:
            lines.append(f"    model: {block.model}")
        if block.params:
            lines.append(f"    params: {flow(block.params)}")
        lines.append(f"    inputs: {flow(block.inputs)}")
        lines += ["    layers:"] + _entries(block.layers, "      ")
        lines.append(f"    outputs: {flow(block.output)}")
    return lines


def _entries(layers, indent: str) -> list[str]:
    """Entries of a `layers` list at `indent`, each on a line where it fits in FLOW_WIDTH after
    the indentation of the model's own list."""
    lines = []
    for item in layers:
        line = f"{indent}- {flow(item)}"
        if len(line) - len(indent) + 2 <= FLOW_WIDTH:
            lines.append(line)
            continue
        lines.append(f"{indent}- name: {flow(item['name'])}")
        lines += [f"{indent}  {key}: {flow(value)}" for key, value in item.items() if key != "name"]
    return lines


def outputs_section(outputs) -> list[str]:
    return ["", f"outputs: {flow(outputs)}"]


def custom_section(custom: dict[str, str], contracts: dict | None = None) -> list[str]:
    """The `custom` classes, sorted by name, each with its contract where it has one;
    nothing where there are none."""
    if not custom:
        return []
    contracts = contracts or {}
    return ["", "custom:"] + [
        f"  {name}: {flow({'class': path, **contracts[name]} if name in contracts else path)}"
        for name, path in sorted(custom.items())
    ]


def compile_section(settings: dict, not_carried: list[str]) -> list[str]:
    """The `compile` section, preceded by a comment on each Keras setting it could not carry."""
    if not settings and not not_carried:
        return []
    lines = [""]
    if not_carried:
        lines.append(
            "# Not carried from the Keras model's compile settings (the spec language cannot say them):"
        )
        lines += [f"#   {_comment(note)}" for note in not_carried]
    if settings:
        lines.append("compile:")
    for key, value in settings.items():
        line = f"  {key}: {flow(value)}"
        if len(line) <= FLOW_WIDTH or not isinstance(value, dict) or "type" in value:
            lines.append(line)
        else:  # a per-output mapping, one output a line
            lines.append(f"  {key}:")
            lines += [f"    {name}: {flow(item)}" for name, item in value.items()]
    return lines


def flow(value) -> str:
    """A value as YAML on one line: a scalar plain or quoted as needed, a collection in flow style."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def _comment(text: str) -> str:
    """Text safe on one YAML comment line."""
    return "".join(c if c.isprintable() else " " for c in text)


def schema_url() -> str:
    """Where editors find the spec language's schema: its published `$id`, an https URL."""
    url = load_schema()["$id"]
    if not url.startswith("https://"):
        raise ValueError(f"the schema's $id {url!r} is not an https URL")
    return url
