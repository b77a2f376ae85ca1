"""Helpers for tests that compare kspec's models with Keras."""


def comparable_config(layer) -> tuple:
    """A layer's type and config, without the names Keras gives nested layers from a
    session-wide counter (`forward_lstm_1`), which depend on what was built before."""
    config = layer.get_config()
    for key in ("layer", "backward_layer", "cell"):
        nested = config.get(key)
        if isinstance(nested, dict) and isinstance(nested.get("config"), dict):
            nested["config"].pop("name", None)
    return type(layer).__name__, config


def sample_inputs(spec, batch: int = 3, seed: int = 0):
    """A random batch for the spec's inputs (ints below 10 for integer inputs), in input order."""
    from kspec.samples import sample_inputs as sample

    return sample(spec, batch=batch, seed=seed, unknown=5, int_high=10)


def predictions(model, inputs):
    from kspec.samples import output_arrays

    return output_arrays(model, inputs)


def models_of(spec):
    """(label, model) for the live model and the generated module of every allowed style."""
    import kspec
    from kspec.backends.styles import allowed_styles
    from kspec.compiler import load_module

    out = []
    for style in allowed_styles(spec):
        out.append((f"live {style}", kspec.build(spec, style, compile=False)))
        module = load_module(kspec.generate(spec, style), f"kspec_generated_test_{spec.name}_{style}")
        out.append((f"generated {style}", module.build_model()))
    return out
