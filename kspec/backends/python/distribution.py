"""The generated `distribution()` function, for a spec with a `distribution` section.

It returns what each engine lays a model out with: a keras.distribution object on JAX,
a tf.distribute strategy on TensorFlow (data parallelism only). `build_model()` and
`compile_model()` run under its `scope()`, which both kinds have; it is made once
(`functools.cache`), since TensorFlow refuses to compile a model under another strategy
than the one that created its weights.
"""

from __future__ import annotations

from .expr import Atom, Call, constant
from .layout import INDENT, statement

I2 = INDENT * 2
SCOPE = "with distribution().scope():"


def distribution_function(section: dict) -> str:
    if "model_parallel" in section:
        return _model_parallel(section["model_parallel"])
    return _data_parallel(section.get("data_parallel") or {})


def _data_parallel(body: dict) -> str:
    count = body.get("devices", "all")
    lines = [
        "@functools.cache",
        "def distribution():",
        f'{INDENT}"""The spec\'s `distribution`: data parallel, a copy of every weight on each device.',
        "",
        f"{INDENT}On TensorFlow a tf.distribute strategy, MultiWorkerMirroredStrategy where",
        f"{INDENT}TF_CONFIG describes several workers; on JAX keras.distribution.DataParallel.",
        f'{INDENT}"""',
        f'{INDENT}if keras.backend.backend() == "tensorflow":',
        f"{I2}import os",
        "",
        f"{I2}import tensorflow as tf",
        "",
        f'{I2}if "TF_CONFIG" in os.environ:',
        f"{I2}{INDENT}return tf.distribute.MultiWorkerMirroredStrategy()",
    ]
    if count == "all":
        lines.append(f"{I2}return tf.distribute.MirroredStrategy()")
        lines.append(f"{INDENT}return keras.distribution.DataParallel()")
        return "\n".join(lines)
    lines += [
        f'{I2}devices = tf.config.list_logical_devices("GPU")',
        f'{I2}devices = devices or tf.config.list_logical_devices("CPU")',
        *_enough(count, I2),
        f"{I2}return tf.distribute.MirroredStrategy([d.name for d in devices[:{count}]])",
        f"{INDENT}devices = keras.distribution.list_devices()",
        *_enough(count, INDENT),
        f"{INDENT}return keras.distribution.DataParallel(devices=devices[:{count}])",
    ]
    return "\n".join(lines)


def _model_parallel(body: dict) -> str:
    mesh = body["mesh"]
    count = 1
    for size in mesh.values():
        count *= size
    lines = [
        "@functools.cache",
        "def distribution() -> keras.distribution.ModelParallel:",
        f'{INDENT}"""The spec\'s `distribution`: weights sharded over a device mesh (JAX backend)."""',
        f'{INDENT}if keras.backend.backend() != "jax":',
        f"{I2}raise RuntimeError(",
        f'{I2}{INDENT}"the model-parallel layout needs the JAX backend: set KERAS_BACKEND=jax"',
        f"{I2})",
        f"{INDENT}devices = keras.distribution.list_devices()",
        *_enough(count, INDENT),
    ]
    device_mesh = Call(
        "keras.distribution.DeviceMesh",
        [
            ("shape", constant(tuple(mesh.values()))),
            ("axis_names", constant(list(mesh))),
            ("devices", Atom(f"devices[:{count}]")),
        ],
    )
    lines += statement("mesh = ", device_mesh, INDENT)
    lines.append(f"{INDENT}layout_map = keras.distribution.LayoutMap(mesh)")
    for pattern, sharding in (body.get("layout") or {}).items():
        lines += statement(f"layout_map[{constant(pattern).flat()}] = ", constant(tuple(sharding)), INDENT)
    result = Call(
        "keras.distribution.ModelParallel",
        [("layout_map", Atom("layout_map")), ("batch_dim_name", constant(body.get("batch_axis", "batch")))],
    )
    lines += statement("return ", result, INDENT)
    return "\n".join(lines)


def _enough(count: int, indent: str) -> list[str]:
    """Lines that stop with a clear message where fewer devices than `count` exist."""
    message = Atom(f'f"the spec\'s distribution needs {count} devices, found {{len(devices)}}"')
    return [
        f"{indent}if len(devices) < {count}:",
        *statement("raise ", Call("RuntimeError", [(None, message)]), indent + INDENT),
    ]
