#!/usr/bin/python3
"""Writes sequence_output_fixture.txt: one epoch of a per-position softmax model, as tf.keras 2.x.

The model: Input((T, D)), Dense(H, relu), Dense(C, softmax), both Dense on the last axis, so the
output is (T, C) per sample: a class distribution at every position. Labels are class indices
(N, T) for SparseCategoricalCrossentropy and their one-hot rows (N, T, C) for
CategoricalCrossentropy.

Keras' reduction (tf_keras/losses.py LossFunctionWrapper, tf_keras/utils/losses_utils.py
compute_weighted_loss with SUM_OVER_BATCH_SIZE): the loss function reduces the class axis, giving
one loss per position (B, T); the batch loss is their sum divided by the number of elements B*T.
The crossentropies go through the softmax's logits (Keras' _keras_logits): logsumexp(z) - z_label,
no clipping, and dL/dz = (softmax(z) - onehot) / (B*T) at every position. fit's displayed loss is
the mean of the step losses weighted by the batch size B (tf_keras/engine/compile_utils.py:
sample_weight=batch_dim); accuracy is the mean over every position seen (MeanMetricWrapper counts
the elements of its (B, T) values).

Two runs from the same weights, one epoch of N = 10 samples in batches of 4 without shuffling
(3 steps, the last with 2 samples), the predictions of each step taken before its update:
  sparse: SparseCategoricalCrossentropy, SparseCategoricalAccuracy, SGD(learning_rate=0.5);
          then evaluate on all samples with the final weights.
  dense:  CategoricalCrossentropy, CategoricalAccuracy, Keras' Adam with its defaults (the one of
          make_training_fixture.py).

Everything is float64 and written from the published formulas only (numpy, no Keras). The
analytic gradients are checked against central finite differences before anything is written.

Format: make_training_fixture.py's, written by its `write` (a line `name rows cols`, then the rows;
'#' comments).
x is written as (N*T, D) rows, the one-hot labels as (N*T, C).

Run: /usr/bin/python3 tests/data/make_sequence_output_fixture.py  (writes next to this script)
"""
import os

import numpy as np

from make_training_fixture import Adam, write

SEED = 20261208
N, T, D, H, C, BATCH = 10, 3, 4, 6, 5, 4
SGD_LR = 0.5
NAMES = ["W1", "b1", "W2", "b2"]


def initial_weights(rng):
    # Glorot-uniform kernels; small non-zero biases so that their gradients count from step one.
    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))

    return {"W1": glorot(D, H), "b1": rng.uniform(-0.1, 0.1, H),
            "W2": glorot(H, C), "b2": rng.uniform(-0.1, 0.1, C)}


def forward(P, x):
    h = x @ P["W1"] + P["b1"]  # (B, T, H)
    r = np.maximum(h, 0)
    z = r @ P["W2"] + P["b2"]  # (B, T, C), the softmax's logits
    return h, r, z


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def position_losses(z, onehot):
    """Crossentropy from logits at every position: (B, T)."""
    top = z.max(-1, keepdims=True)
    log_softmax = z - top - np.log(np.exp(z - top).sum(-1, keepdims=True))
    return -(onehot * log_softmax).sum(-1)


def loss(P, x, onehot):
    return float(position_losses(forward(P, x)[2], onehot).mean())  # sum / (B*T)


def gradients(P, x, onehot):
    h, r, z = forward(P, x)
    positions = x.shape[0] * x.shape[1]
    dz = (softmax(z) - onehot) / positions
    g = {"W2": np.einsum("bth,btc->hc", r, dz), "b2": dz.sum((0, 1))}
    dh = (dz @ P["W2"].T) * (h > 0)
    g["W1"] = np.einsum("btd,bth->dh", x, dh)
    g["b1"] = dh.sum((0, 1))
    return g


def check_gradients(P, x, onehot, rng):
    g = gradients(P, x, onehot)
    step = 1e-6
    worst = 0.0
    for name in NAMES:
        flat = P[name].reshape(-1)
        for index in rng.choice(flat.size, size=min(8, flat.size), replace=False):
            saved = flat[index]
            flat[index] = saved + step
            up = loss(P, x, onehot)
            flat[index] = saved - step
            down = loss(P, x, onehot)
            flat[index] = saved
            numeric = (up - down) / (2 * step)
            worst = max(worst, abs(numeric - g[name].reshape(-1)[index]) / max(1e-3, abs(numeric)))
    assert worst < 1e-5, f"finite-difference check failed: worst relative error {worst}"
    return worst


def accuracy_hits(P, x, labels):
    """Positions whose largest probability is the label's class."""
    return int((forward(P, x)[2].argmax(-1) == labels).sum())


def sgd(P, g):
    for k in P:
        P[k] -= SGD_LR * g[k]


def one_epoch(initial, x, labels, onehot, update):
    """Returns the final weights, the step losses, the epoch loss and the epoch accuracy."""
    P = {k: v.copy() for k, v in initial.items()}
    losses, sizes, hits = [], [], 0
    for start in range(0, N, BATCH):
        sl = slice(start, min(start + BATCH, N))
        losses.append(loss(P, x[sl], onehot[sl]))  # before this step's update
        hits += accuracy_hits(P, x[sl], labels[sl])
        sizes.append(sl.stop - sl.start)
        update(P, gradients(P, x[sl], onehot[sl]))
    epoch_loss = float(np.dot(losses, sizes) / np.sum(sizes))
    return P, losses, epoch_loss, hits / (N * T)


def main():
    rng = np.random.default_rng(SEED)
    P = initial_weights(rng)
    x = rng.normal(size=(N, T, D))
    labels = rng.integers(0, C, size=(N, T))
    onehot = np.eye(C)[labels]

    worst = check_gradients({k: v.copy() for k, v in P.items()}, x[:BATCH], onehot[:BATCH], rng)

    sparse, sparse_losses, sparse_loss, sparse_accuracy = one_epoch(P, x, labels, onehot, sgd)
    evaluate_loss = loss(sparse, x, onehot)
    evaluate_accuracy = accuracy_hits(sparse, x, labels) / (N * T)
    dense, dense_losses, dense_loss, dense_accuracy = one_epoch(P, x, labels, onehot, Adam(P).step)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequence_output_fixture.txt")
    with open(path, "w") as out:
        out.write("# Written by make_sequence_output_fixture.py (float64 numpy, seed %d).\n" % SEED)
        out.write("# finite-difference check: worst relative error %.3g\n" % worst)
        for k in NAMES:
            write(out, "initial_" + k, P[k])
        write(out, "x", x.reshape(N * T, D))
        write(out, "labels", labels)
        write(out, "onehot", onehot.reshape(N * T, C))
        write(out, "sparse_batch_losses", sparse_losses)
        write(out, "sparse_epoch_loss", [sparse_loss])
        write(out, "sparse_epoch_accuracy", [sparse_accuracy])
        for k in NAMES:
            write(out, "sparse_final_" + k, sparse[k])
        write(out, "evaluate_loss", [evaluate_loss])
        write(out, "evaluate_accuracy", [evaluate_accuracy])
        write(out, "dense_batch_losses", dense_losses)
        write(out, "dense_epoch_loss", [dense_loss])
        write(out, "dense_epoch_accuracy", [dense_accuracy])
        for k in NAMES:
            write(out, "dense_final_" + k, dense[k])
    print(f"wrote {path}: sparse epoch loss {sparse_loss:.6f}, dense {dense_loss:.6f}, "
          f"fd check {worst:.2e}")


if __name__ == "__main__":
    main()
