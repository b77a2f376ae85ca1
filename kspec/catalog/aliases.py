"""Short loss and metric names and the full names that survive every save format.

Keras resolves `mse` when compiling, but a legacy `.h5` file records
`keras.metrics.mse`, which it then cannot deserialize (keras-team/keras#19330).
kspec writes the full name instead. A test checks each pair against Keras.
"""

FULL_NAMES = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "KLD": "kl_divergence",
    "bce": "binary_crossentropy",
    "BCE": "binary_crossentropy",
}


# Initializer names that Keras resolves to the same class as another name.
INITIALIZER_ALIASES = {"uniform": "random_uniform", "normal": "random_normal", "one": "ones", "zero": "zeros"}


def full_name(name: str) -> str:
    return FULL_NAMES.get(name, name)
