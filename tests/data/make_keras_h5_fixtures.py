#!/usr/bin/python3
"""Keras weight-file fixtures for tests/io/keras_h5_*.cpp, and Keras' side of the round trip.

TensorFlow is not available here, so the files are written with Debian's python3-h5py in the
layouts of shared/reference/keras-semantics.md section 7, transcribing tf.keras 2.x's writer
(keras/saving/legacy/hdf5_format.py: save_weights_to_hdf5_group, save_attributes_to_hdf5_group)
and Keras 3's (keras/src/saving/saving_lib.py: H5IOStore, _save_container_state).

Weight values come from a formula the C++ tests compute too (weight_value below), so a test
checks every value bit for bit against an independent source.

    /usr/bin/python3 tests/data/make_keras_h5_fixtures.py            # (re)writes tests/data/keras_h5/
    /usr/bin/python3 tests/data/make_keras_h5_fixtures.py --check F  # reads F as tf.keras 2.x would
"""
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_h5")

# The notebook's model in model.layers order: (name, class, weight shapes).
SEED = [
    ("input_1", "InputLayer", []),
    ("input_2", "InputLayer", []),
    ("dense", "Dense", [(10, 32), (32,)]),
    ("dense_1", "Dense", [(20, 64), (64,)]),
    ("concatenate", "Concatenate", []),
    ("attention", "Dense", [(96, 96), (96,)]),
    ("dot", "Dot", []),
    ("dense_2", "Dense", [(1, 1), (1,)]),
]
# xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>>: Keras lists no InputLayer.
SEQUENTIAL = [("dense", "Dense", [(8, 16), (16,)]), ("dense_1", "Dense", [(16, 1), (1,)])]
WEIGHT_NAMES = ["kernel", "bias"]


def weight_value(variant, layer, weight, shape):
    """Element k of weight `weight` of the `layer`-th layer with weights: exact in float64,
    rounded once to float32 (tests/io/keras_h5_fixtures.hpp computes the same)."""
    count = int(np.prod(shape))
    k = np.arange(count, dtype=np.int64)
    steps = (k * 37 + layer * 101 + weight * 7 + variant * 13) % 1000
    return (steps / 1000.0 - 0.5).astype(np.float32).reshape(shape)


def weighted(layers):
    return [(name, shapes) for name, _, shapes in layers if shapes]


def save_attributes(group, name, data):
    """save_attributes_to_hdf5_group: a list of bytes, split in chunks past 64512 bytes."""
    group.attrs[name] = data


def write_keras2(group, layers, variant, weight_dtype=np.float32):
    """save_weights_to_hdf5_group for `layers`; returns nothing, writes into `group`."""
    save_attributes(group, "layer_names", [name.encode("utf8") for name, _, _ in layers])
    group.attrs["backend"] = "tensorflow".encode("utf8")
    group.attrs["keras_version"] = "2.15.0".encode("utf8")
    index = {name: i for i, (name, _) in enumerate(weighted(layers))}
    for name, _, shapes in sorted(layers, key=lambda x: x[0]):
        g = group.create_group(name)
        names = [f"{name}/{WEIGHT_NAMES[w]}:0".encode("utf8") for w in range(len(shapes))]
        save_attributes(g, "weight_names", names)
        for w, (weight_name, shape) in enumerate(zip(names, shapes)):
            value = weight_value(variant, index[name], w, shape).astype(weight_dtype)
            dataset = g.create_dataset(weight_name, value.shape, dtype=value.dtype)
            dataset[:] = value
    top = group.create_group("top_level_model_weights")
    save_attributes(top, "weight_names", [])


def write_file(path, fill):
    with h5py.File(path, "w") as f:
        fill(f)


def tf2_file(name, variant=1, layers=SEED, edit=None):
    def fill(f):
        write_keras2(f, layers, variant)
        if edit:
            edit(f)

    write_file(os.path.join(OUT, name), fill)


def fixed_strings_file():
    """As h5py 2.x wrote it: fixed-length strings; and the attention layer's weight_names split
    in two chunks, as Keras does past HDF5_OBJECT_HEADER_LIMIT."""

    def fill(f):
        write_keras2(f, SEED, variant=2)
        names = [n.encode("utf8") for n, _, _ in SEED]
        del f.attrs["layer_names"]
        f.attrs.create("layer_names", np.array(names, dtype=f"S{max(map(len, names))}"))
        g = f["attention"]
        del g.attrs["weight_names"]
        g.attrs.create("weight_names0", np.array([b"attention/kernel:0"], dtype="S18"))
        g.attrs.create("weight_names1", np.array([b"attention/bias:0"], dtype="S16"))

    write_file(os.path.join(OUT, "seed_tf2_fixed_strings.h5"), fill)


def full_model_file():
    """model.save('m.h5') after training: /model_weights plus Adam's /optimizer_weights
    (legacy OptimizerV2: iterations first, then every m, then every v)."""

    def fill(f):
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": {}})
        write_keras2(f.create_group("model_weights"), SEED, variant=3)
        opt = f.create_group("optimizer_weights")
        names = [b"Adam/iter:0"]
        values = [np.int64(7)]
        for slot, variant in (("m", 4), ("v", 5)):
            for i, (layer, shapes) in enumerate(weighted(SEED)):
                for w, shape in enumerate(shapes):
                    names.append(f"Adam/{layer}/{WEIGHT_NAMES[w]}/{slot}:0".encode("utf8"))
                    values.append(weight_value(variant, i, w, shape))
        save_attributes(opt, "weight_names", names)
        for name, value in zip(names, values):
            dataset = opt.create_dataset(name, np.shape(value), dtype=value.dtype)
            dataset[()] = value

    write_file(os.path.join(OUT, "seed_tf2_full_model.h5"), fill)


def keras3_file(name="seed_keras3.weights.h5", skip=()):
    """save_weights('w.weights.h5') in Keras 3: a vars group per saveable, layers addressed by
    snake_case(class name) numbered per class, variables "0", "1", ..."""

    def fill(f):
        f.create_group("vars")
        used = {}
        index = {n: i for i, (n, _) in enumerate(weighted(SEED))}
        for layer, cls, shapes in SEED:
            base = {"InputLayer": "input_layer"}.get(cls, cls.lower())
            used[base] = used.get(base, -1) + 1
            path = f"layers/{base}" + (f"_{used[base]}" if used[base] else "")
            if path in skip:
                continue
            vars_group = f.create_group(path).create_group("vars")
            for w, shape in enumerate(shapes):
                vars_group[str(w)] = weight_value(6, index[layer], w, shape)
        f.create_group("optimizer").create_group("vars")

    write_file(os.path.join(OUT, name), fill)


def make():
    os.makedirs(OUT, exist_ok=True)
    tf2_file("seed_tf2.h5")
    fixed_strings_file()
    full_model_file()
    keras3_file()
    tf2_file("sequential_tf2.h5", variant=8, layers=SEQUENTIAL)

    def retype(f):  # dense's kernel stored as float64
        value = f["dense/dense/kernel:0"][()].astype(np.float64)
        del f["dense/dense/kernel:0"]
        f["dense"].create_dataset("dense/kernel:0", data=value)

    def drop_dense_1(f):
        del f["dense_1"]
        f.attrs["layer_names"] = [n.encode("utf8") for n, _, _ in SEED if n != "dense_1"]

    def reshape(f):
        del f["dense/dense/kernel:0"]
        f["dense"].create_dataset("dense/kernel:0", data=weight_value(1, 0, 0, (10, 31)))

    def extra_weight(f):
        f["dense"].attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0", b"dense/extra:0"]
        f["dense"].create_dataset("dense/extra:0", data=weight_value(1, 0, 2, (32,)))

    def kernel_only(f):
        f["dense"].attrs["weight_names"] = [b"dense/kernel:0"]

    tf2_file("bad_float64.h5", edit=retype)
    tf2_file("bad_missing_layer.h5", edit=drop_dense_1)
    tf2_file("bad_wrong_shape.h5", edit=reshape)
    tf2_file("bad_too_many_weights.h5", edit=extra_weight)
    tf2_file("bad_too_few_weights.h5", edit=kernel_only)
    keras3_file("bad_keras3_missing_layer.weights.h5", skip=("layers/dense_1",))
    with open(os.path.join(OUT, "bad_not_hdf5.h5"), "w") as f:
        f.write("this is not an HDF5 file\n")


def expect(condition, what):
    """One line per check; exits non-zero on the first failure."""
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        sys.exit(1)


def decoded(values):
    return [v.decode("utf8") if hasattr(v, "decode") else v for v in values]


def check_weights(path, layers, variant, layer_names=None):
    """Reads `path` with tf.keras 2.x's load_weights_from_hdf5_group rules: the groups of the
    layers with weights, in layer_names order, matched one to one with `layers` ((name,
    [(weight name below the layer, shape)]) of the model's layers with weights); each holds
    Keras' weight names, float32, values weight_value(variant, layer, weight). `layer_names`,
    when given, is the whole root attribute expected; otherwise group names may differ from the
    model's, as topological loading allows."""
    with h5py.File(path, "r") as f:
        expect("layer_names" in f.attrs, "root has layer_names")
        names = decoded(f.attrs["layer_names"])
        if layer_names is not None:
            expect(names == layer_names, f"layer_names in model.layers order: {names}")
        expect(f.attrs["backend"] in (b"tensorflow", "tensorflow"), "backend is tensorflow")
        expect("keras_version" in f.attrs, "keras_version present")
        expect("top_level_model_weights" in f, "top_level_model_weights group present")
        with_weights = [n for n in names if decoded(f[n].attrs["weight_names"])]
        expect(len(with_weights) == len(layers) and
               (layer_names is None or with_weights == [n for n, _ in layers]),
               f"layers with weights: {with_weights}")
        for i, (layer, (model_layer, weights)) in enumerate(zip(with_weights, layers)):
            weight_names = decoded(f[layer].attrs["weight_names"])
            expected_names = [f"{layer}/{w}:0" for w, _ in weights]
            expect(weight_names == expected_names, f"{model_layer} weight_names {weight_names}")
            for w, (name, (_, shape)) in enumerate(zip(weight_names, weights)):
                dataset = f[layer][name]
                expect(dataset.name == f"/{layer}/{name}", f"dataset at {dataset.name}")
                expect(dataset.dtype == np.float32 and dataset.shape == shape,
                       f"{dataset.name} float32 {shape}")
                value = np.asarray(dataset)
                expected = weight_value(variant, i, w, shape)
                expect(np.array_equal(value.view(np.uint32), expected.view(np.uint32)),
                       f"{dataset.name} values bit for bit")
    print("all checks passed")


def check(path, variant=9):
    """Checks `path` holds the seed model's weights, values weight_value(variant, ...) (what
    io.keras_h5_weights saved)."""
    layers = [(name, [(WEIGHT_NAMES[w], shape) for w, shape in enumerate(shapes)])
              for name, shapes in weighted(SEED)]
    check_weights(path, layers, variant, [n for n, _, _ in SEED])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
