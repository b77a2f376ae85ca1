"""Which Keras release each layer, argument and keras.ops function arrived in, and which
release a spec is checked against.

kspec/catalog/versions.json (written by scripts/catalog_versions.py from the catalogs of
the last patch of each supported minor release) lists what the newest catalog has and the
oldest lacks, with the first release that has it. Releases are compared by minor version:
something that arrived between 3.12.4 and 3.13.2 counts as arriving in 3.13.
"""

from __future__ import annotations

import functools
import json
import os
from typing import NamedTuple

from ..environment import installed_version


class Target(NamedTuple):
    """The Keras release a spec is checked against, and why that one."""

    version: str
    reason: str  # "--keras-version", "installed", "the spec's keras:", "the newest catalog"

    def describe(self) -> str:
        note = ""
        known = releases()
        if minor(self.version) < minor(known[0]):
            note = f"; older than kspec's oldest catalog, {known[0]}, and checked as that"
        elif minor(self.version) > minor(known[-1]):
            note = f"; newer than kspec's newest catalog, {known[-1]}, and checked as that"
        return f"keras {self.version} ({self.reason}{note})"


@functools.cache
def _data() -> dict:
    with open(os.path.join(os.path.dirname(__file__), "versions.json"), encoding="utf-8") as handle:
        return json.load(handle)


def releases() -> list[str]:
    """The releases kspec has catalogs of, oldest first."""
    return _data()["versions"]


def minor(version: str) -> tuple:
    """(major, minor) of a version string such as 3.13.2 or 3.13."""
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]]
    return tuple(parts + [0] * (2 - len(parts)))


def arrived(item: str) -> str | None:
    """The first release that has `item` ("layer Dense", "argument Dense.units", "call
    MultiHeadAttention.use_causal_mask", "op arange", "op argument arange.dtype"), or None
    when the oldest release has it already (or kspec knows nothing of it)."""
    return _data()["since"].get(item)


def missing_in(item: str, target: Target) -> str | None:
    """The release `item` arrived in, when the target release is older; else None."""
    version = arrived(item)
    if version is None or minor(target.version) >= minor(version):
        return None
    return ".".join(str(part) for part in minor(version))


def target(explicit: str | None = None, spec_field: str | None = None) -> Target:
    """--keras-version, else the installed Keras (package metadata: no import), else the
    spec's `keras:`, else the newest release kspec has a catalog of."""
    if explicit:
        return Target(explicit, "--keras-version")
    installed = installed_version("keras")
    if installed:
        return Target(installed, "installed")
    if spec_field:
        return Target(spec_field, "the spec's keras:")
    return Target(releases()[-1], "the newest catalog")
