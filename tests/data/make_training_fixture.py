#!/usr/bin/python3
"""Writes training_fixture.txt: one epoch of the seed model trained the way tf.keras 2.x does it.

The seed model (keras-semantics.md Appendix A): Input(10), Input(20), Dense(32, relu),
Dense(64, relu), Concatenate, Dense(96, softmax) "attention", Dot(axes=1) of the concatenation
with the attention weights, Dense(1, sigmoid). Loss: binary crossentropy through the sigmoid's
logits (stable max(z,0) - z*y + log1p(exp(-|z|)), no clipping), mean over the batch. Optimizer:
Keras Adam (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7 added to sqrt(v) without bias
correction, alpha_t = lr*sqrt(1-beta_2^t)/(1-beta_1^t)). One epoch of 200 samples in batches of
32 without shuffling: 7 steps, the last with 8 samples.

Everything is float64 and written from the published formulas only (numpy, no Keras). The
analytic gradients are checked against central finite differences before anything is written.

Format (plain text, one array after another): a line `name rows cols`, then `rows` lines of
`cols` values with 17 significant digits. Vectors are written as (1, n); scalars as (1, 1).
Lines starting with '#' are comments.

Run: /usr/bin/python3 tests/data/make_training_fixture.py  (writes next to this script; Debian python3-numpy)
"""
import os

import numpy as np

SEED = 20240607
N, BATCH = 200, 32
# Keras keeps the hyperparameters as float32 variables; 1 - float32(0.999) differs from 0.001 by
# 1.3e-5 relative, which moves a step with |g| near epsilon by ~1e-6 relative. Use those values.
LR, BETA_1, BETA_2, EPSILON = (float(np.float32(v)) for v in (1e-3, 0.9, 0.999, 1e-7))
NAMES = ["W1", "b1", "W2", "b2", "Wa", "ba", "Wo", "bo"]


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def initial_weights(rng):
    # Kernels Glorot-uniform as Keras; biases small and non-zero so their gradients and updates
    # are exercised from the first step (Keras would start them at zero).
    return {
        "W1": glorot(rng, 10, 32), "b1": rng.uniform(-0.1, 0.1, 32),
        "W2": glorot(rng, 20, 64), "b2": rng.uniform(-0.1, 0.1, 64),
        "Wa": glorot(rng, 96, 96), "ba": rng.uniform(-0.1, 0.1, 96),
        "Wo": glorot(rng, 1, 1), "bo": rng.uniform(-0.1, 0.1, 1),
    }


def forward(P, x1, x2):
    h1 = x1 @ P["W1"] + P["b1"]
    r1 = np.maximum(h1, 0)
    h2 = x2 @ P["W2"] + P["b2"]
    r2 = np.maximum(h2, 0)
    c = np.concatenate([r1, r2], axis=-1)
    a = c @ P["Wa"] + P["ba"]
    al = np.exp(a - a.max(-1, keepdims=True))
    al /= al.sum(-1, keepdims=True)
    s = np.sum(c * al, axis=1, keepdims=True)
    z = s @ P["Wo"] + P["bo"]
    return h1, h2, c, al, s, z


def bce_logits(z, y):
    """Per-sample sigmoid cross entropy on logits (TensorFlow's stable form)."""
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def bce_clipped(p, y):
    """tf.keras 2.x backend.binary_crossentropy on probabilities: clip, and eps inside the log.

    In float32, as Keras computes it: 1 - float32(1 - 1e-7) is 1.19e-7, not 1e-7, so a
    saturated wrong prediction costs 15.33, not float64's 15.42 (keras-semantics §5.1)."""
    f = np.float32
    eps = f(1e-7)
    p = np.clip(p.astype(f), eps, f(1) - eps)
    y = y.astype(f)
    return -(y * np.log(p + eps) + (f(1) - y) * np.log(f(1) - p + eps))


def loss(P, x1, x2, y):
    z = forward(P, x1, x2)[-1]
    return float(np.mean(bce_logits(z, y)))


def gradients(P, x1, x2, y):
    h1, h2, c, al, s, z = forward(P, x1, x2)
    B = x1.shape[0]
    dz = (1 / (1 + np.exp(-z)) - y) / B
    g = {"Wo": s.T @ dz, "bo": dz.sum(0)}
    ds = dz @ P["Wo"].T
    dc = ds * al
    dal = ds * c
    da = al * (dal - (dal * al).sum(1, keepdims=True))
    g["Wa"] = c.T @ da
    g["ba"] = da.sum(0)
    dc = dc + da @ P["Wa"].T
    dh1 = dc[:, :32] * (h1 > 0)
    dh2 = dc[:, 32:] * (h2 > 0)
    g["W1"] = x1.T @ dh1
    g["b1"] = dh1.sum(0)
    g["W2"] = x2.T @ dh2
    g["b2"] = dh2.sum(0)
    return g


def check_gradients(P, x1, x2, y, rng):
    g = gradients(P, x1, x2, y)
    h = 1e-6
    worst = 0.0
    for name in NAMES:
        flat = P[name].reshape(-1)
        for index in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            saved = flat[index]
            flat[index] = saved + h
            up = loss(P, x1, x2, y)
            flat[index] = saved - h
            down = loss(P, x1, x2, y)
            flat[index] = saved
            numeric = (up - down) / (2 * h)
            analytic = g[name].reshape(-1)[index]
            worst = max(worst, abs(numeric - analytic) / max(1e-3, abs(numeric)))
    assert worst < 1e-5, f"finite-difference check failed: worst relative error {worst}"
    return worst


class Adam:
    def __init__(self, P):
        self.t = 0
        self.m = {k: np.zeros_like(v) for k, v in P.items()}
        self.v = {k: np.zeros_like(v) for k, v in P.items()}

    def step(self, P, g):
        self.t += 1
        alpha = LR * np.sqrt(1 - BETA_2 ** self.t) / (1 - BETA_1 ** self.t)
        for k in P:
            self.m[k] += (g[k] - self.m[k]) * (1 - BETA_1)
            self.v[k] += (g[k] * g[k] - self.v[k]) * (1 - BETA_2)
            P[k] -= alpha * self.m[k] / (np.sqrt(self.v[k]) + EPSILON)


def write(out, name, array):
    a = np.asarray(array, dtype=np.float64)
    a = a.reshape(1, -1) if a.ndim < 2 else a
    out.write(f"{name} {a.shape[0]} {a.shape[1]}\n")
    for row in a:
        out.write(" ".join(f"{v:.17g}" for v in row) + "\n")


def main():
    rng = np.random.default_rng(SEED)
    P = initial_weights(rng)
    x1 = rng.normal(size=(N, 10))
    x2 = rng.normal(size=(N, 20))
    # A label the model can learn something about: the sign of a fixed mix of both inputs.
    y = ((x1[:, :3].sum(1) - x2[:, :5].sum(1) * 0.5) > 0).astype(np.float64).reshape(N, 1)

    worst = check_gradients({k: v.copy() for k, v in P.items()}, x1[:BATCH], x2[:BATCH],
                            y[:BATCH], rng)

    initial = {k: v.copy() for k, v in P.items()}
    first_gradients = gradients(P, x1[:BATCH], x2[:BATCH], y[:BATCH])
    adam = Adam(P)
    batch_losses, sizes, step1 = [], [], None
    for start in range(0, N, BATCH):
        sl = slice(start, min(start + BATCH, N))
        batch_losses.append(loss(P, x1[sl], x2[sl], y[sl]))  # before this step's update
        sizes.append(sl.stop - sl.start)
        adam.step(P, gradients(P, x1[sl], x2[sl], y[sl]))
        if step1 is None:
            step1 = {k: v.copy() for k, v in P.items()}
    epoch_loss = float(np.dot(batch_losses, sizes) / np.sum(sizes))

    # Binary crossentropy cases: the first batch's logits plus extremes where the logits path
    # and the clipped probability path disagree. p is rounded to float32, as a C++ caller has it.
    z = np.concatenate([forward(initial, x1[:BATCH], x2[:BATCH])[-1].ravel(),
                        [-40.0, -20.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 20.0, 40.0]])
    yb = np.concatenate([y[:BATCH].ravel(), [0, 1, 0, 1, 1, 0, 1, 0, 1]]).astype(np.float64)
    p = (1 / (1 + np.exp(-z))).astype(np.float32).astype(np.float64)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training_fixture.txt")
    with open(path, "w") as out:
        out.write("# Written by make_training_fixture.py (float64 numpy, seed %d).\n" % SEED)
        out.write("# finite-difference check: worst relative error %.3g\n" % worst)
        for k in NAMES:
            write(out, "initial_" + k, initial[k])
        write(out, "x1", x1)
        write(out, "x2", x2)
        write(out, "y", y)
        write(out, "batch_sizes", sizes)
        write(out, "batch_losses", batch_losses)
        write(out, "epoch_loss", [epoch_loss])
        for k in NAMES:
            write(out, "gradient_" + k, first_gradients[k])
        for k in NAMES:
            write(out, "step1_" + k, step1[k])
        for k in NAMES:
            write(out, "final_" + k, P[k])
        write(out, "bce_logits", z)
        write(out, "bce_labels", yb)
        write(out, "bce_probabilities", p)
        write(out, "bce_logits_loss", bce_logits(z, yb))
        write(out, "bce_clipped_loss", bce_clipped(p, yb))
    print(f"wrote {path}: epoch loss {epoch_loss:.6f}, fd check {worst:.2e}")


if __name__ == "__main__":
    main()
