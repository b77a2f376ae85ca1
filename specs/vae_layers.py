"""The custom layer of specs/vae_encoder.yaml (kspec finds this module beside the spec)."""

import keras


@keras.saving.register_keras_serializable(package="kspec_examples")
class Sampling(keras.layers.Layer):
    """z = z_mean + exp(z_log_var / 2) * epsilon while training; z_mean in inference.

    Inputs are [z_mean, z_log_var]. The layer has no weights (Keras does not count the seed
    generator's state).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
