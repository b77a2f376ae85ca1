"""One process of tests/test_distribution.py's two-process JAX run on 127.0.0.1: both call
keras.distribution.initialize, the generated distribution() is a DataParallel over the devices
of both, and each process feeds its half of every batch. Prints the devices seen, the losses and
a checksum of the trained weights.

usage: python jax_multiprocess_child.py SPEC COORDINATOR_ADDRESS PROCESS_ID
"""

import json
import sys

import jax
import keras
import numpy as np

import kspec
from kspec.compiler import generate, load_module


def main(spec_path: str, address: str, process_id: int) -> None:
    keras.distribution.initialize(job_addresses=address, num_processes=2, process_id=process_id)
    keras.utils.set_random_seed(0)
    module = load_module(generate(kspec.load(spec_path), "functional"), "jax_multiprocess_model")
    model = module.compile_model(module.build_model())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.normal(size=(16, 4)).astype("float32")
    half = slice(8 * process_id, 8 * process_id + 8)  # this process's part of the global batch
    with module.distribution().scope():  # the data, too, is laid out by the distribution
        losses = [float(model.train_on_batch(x[half], y[half])) for _ in range(3)]
    weights = [np.asarray(jax.device_get(w.value.addressable_data(0))) for w in model.weights]
    print(
        json.dumps(
            {
                "devices": len(jax.devices()),
                "local": len(jax.local_devices()),
                "losses": losses,
                "weights": float(sum(np.abs(w).sum() for w in weights)),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
