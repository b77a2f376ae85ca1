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
