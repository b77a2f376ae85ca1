"""One worker of tests/test_distribution.py's two-process data-parallel run: TF_CONFIG (set by
the test, on 127.0.0.1) makes the generated distribution() a MultiWorkerMirroredStrategy.
Prints the strategy, the replicas in sync, the losses and a checksum of the trained weights.

usage: python multiworker_child.py SPEC
"""

import json
import sys

import numpy as np

import kspec


def main(spec_path: str) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = kspec.build(kspec.load(spec_path), "functional")
    strategy = model.distribute_strategy
    multi = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    print(f"multi-worker strategy: {multi}, {strategy.num_replicas_in_sync} replicas", file=sys.stderr)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.normal(size=(16, 4)).astype("float32")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).with_options(options)
    history = model.fit(data, epochs=3, verbose=0)
    print(
        json.dumps(
            {
                "multi_worker": multi,
                "replicas": strategy.num_replicas_in_sync,
                "losses": [float(v) for v in history.history["loss"]],
                "weights": float(sum(np.abs(w).sum() for w in model.get_weights())),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
