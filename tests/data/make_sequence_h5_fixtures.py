#!/usr/bin/python3
"""Keras weight files of the sequence layers, for xfuse's save_weights/load_weights tests.

TensorFlow is not available here, so the files are written with Debian's python3-h5py in the
layouts transcribed from the writers (tf-keras @dd0a723, keras @3422977, keras-hub @71453d0):

tf.keras 2.x `model.save_weights("w.h5")` (tf_keras/saving/legacy/hdf5_format.py,
save_weights_to_hdf5_group): root attributes `layer_names` (model.layers order), `backend`,
`keras_version`; one group per layer, created in sorted name order, with attribute
`weight_names` (each weight's `w.name`) and one float32 dataset per name. A name holds '/', so
h5py nests it: a weight created inside a sublayer is named "<outer>/<sublayer>/<weight>:0" (the
name scopes of the nested __call__), for example
    /mha/mha/query/kernel:0 ... /mha/mha/attention_output/bias:0
        (MultiHeadAttention's EinsumDense sublayers query, key, value, attention_output;
        tf_keras/layers/attention/multi_head_attention.py _build_from_signature)
    /layer_normalization/layer_normalization/gamma:0, .../beta:0
        (tf_keras/layers/normalization/layer_normalization.py build: gamma then beta)
    /embedding/embedding/embeddings:0   (tf_keras/layers/core/embedding.py)
    /token_and_position_embedding/token_and_position_embedding/token_embedding/embeddings:0
    /token_and_position_embedding/token_and_position_embedding/position_embedding/embeddings:0
        (keras-nlp's layer on tf.keras 2.x: sublayers "token_embedding" then
        "position_embedding", each with weight "embeddings";
        keras_nlp/layers/modeling/token_and_position_embedding.py at keras-hub fca1fb5)
plus the empty group `top_level_model_weights` (the model's own weights: none).

Keras 3 `model.save_weights("w.weights.h5")` (keras/src/saving/saving_lib.py: _save_state,
_save_container_state, _walk_saveable, H5IOStore): the model's `layers` list first, each layer
addressed by snake_case(class name) numbered per class (input_layer, dense, dense_1, ...), not
by its name; then each saveable's attributes in sorted order, public names before private ones
(_name_key), a saveable already visited being skipped. Every layer gets a `<path>/vars` group
whose attribute `name` is the layer's name (H5IOStore.make with metadata), holding its own
variables as datasets "0", "1", ... in creation order. So:
    layers/multi_head_attention/{key_dense,output_dense,query_dense,value_dense}/vars/{0,1}
        (the public properties of keras/src/layers/attention/multi_head_attention.py; vars/0 is
        the kernel, vars/1 the bias; EinsumDense's variable_serialization_spec), and the empty
        layers/multi_head_attention/{_dropout_layer,_softmax}/vars of its private sublayers
    layers/layer_normalization/vars/{0: gamma, 1: beta}
    layers/token_and_position_embedding/{position_embedding,token_embedding}/vars/0
        (keras_hub/src/layers/modeling/token_and_position_embedding.py; the token table is a
        ReversibleEmbedding with tied weights, so only "embeddings")
The model is written uncompiled: no `optimizer` group.

Not confirmed without TensorFlow or Keras to write a file:
- the tf.keras 2.x nesting of sublayer weight names (read from the name-scope logic; a file
  written by tf.keras would settle it), and keras-nlp's names on tf.keras 2.x;
- the Keras 3 groups of MultiHeadAttention's private sublayers (_dropout_layer, _softmax): a
  reader needs only the four *_dense groups; Keras 3 releases older than the `name` metadata
  (added to saving_lib in September 2024) write no `name` attribute, and the names written
  here for sublayers and the model ("dropout", "softmax", "functional", "input_1") stand for
  Keras' generated ones (which carry per-process counters): a reader addresses by path only;
- model.layers order for the functional model (depth order; it is a chain here).

Weight values are weight_value(variant, layer, weight, shape) of make_keras_h5_fixtures.py
(tests/io/keras_h5_fixtures.hpp computes the same): `layer` counts the layers with weights in
model.layers order from 0, `weight` counts that layer's weights in get_weights() order. Files:

  transformer_tf2.h5, variant 21; transformer_keras3.weights.h5, variant 22: the acceptance
  Transformer classifier at V=11, T=6, D=8, H=2, key_dim=8, ff 8, Dense(5), Dense(2):
    layer 0 token_and_position_embedding: token (11,8), position (6,8)
    layer 1 mha: query kernel (8,2,8), bias (2,8); key, value the same; attention_output
        kernel (2,8,8), bias (8)
    layer 2 layer_normalization: gamma (8), beta (8)
    layer 3 dense: (8,8), (8)      layer 4 dense_1: (8,8), (8)
    layer 5 layer_normalization_1: (8), (8)
    layer 6 dense_2: (8,5), (5)    layer 7 dense_3: (5,2), (2)
  mha_cross_tf2.h5, variant 23: Input query (3,5), value (4,3), key (4,4);
    MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=4, name="mha")
    called (query, value, key): layer 0 mha: query kernel (5,2,3), bias (2,3); key kernel
    (4,2,3), bias (2,3); value kernel (3,2,2), bias (2,2); attention_output kernel (2,2,4),
    bias (4)
  mha_no_bias_tf2.h5, variant 24: the same with use_bias=False: the four kernels only
  embedding_tf2.h5, variant 25: Input (6), Embedding(11, 8, mask_zero=True),
    GlobalAveragePooling1D, Dense(2): layer 0 embedding (11,8); layer 1 dense (8,2), (2)
  bad_mha_wrong_shape.h5: transformer_tf2.h5 with mha/query/kernel stored as (8,16)
  bad_keras3_missing_mha_output.weights.h5: transformer_keras3.weights.h5 without
    layers/multi_head_attention/output_dense

    /usr/bin/python3 tests/data/make_sequence_h5_fixtures.py   # (re)writes tests/data/keras_h5/
    /usr/bin/python3 tests/data/make_sequence_h5_fixtures.py --check F VARIANT
        # reads F, a save_weights of the small Transformer, as tf.keras 2.x would
"""
import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_keras_h5_fixtures import (OUT, check_weights, save_attributes,  # noqa: E402
                                    weight_value, write_file)

V, T, D, H, K, FF, HIDDEN, CLASSES = 11, 6, 8, 2, 8, 8, 5, 2


def mha_weights(name, dq, dk, dv, heads, key_dim, value_dim, out, use_bias=True):
    """(weight name below the layer, shape) in get_weights() order."""
    weights = []
    for sub, kernel, bias in (("query", (dq, heads, key_dim), (heads, key_dim)),
                              ("key", (dk, heads, key_dim), (heads, key_dim)),
                              ("value", (dv, heads, value_dim), (heads, value_dim)),
                              ("attention_output", (heads, value_dim, out), (out,))):
        weights.append((f"{sub}/kernel", kernel))
        if use_bias:
            weights.append((f"{sub}/bias", bias))
    return weights


def dense(units_in, units):
    return [("kernel", (units_in, units)), ("bias", (units,))]


LN = [("gamma", (D,)), ("beta", (D,))]
# (name, class, [(weight name below the layer, shape)]) in model.layers order.
TRANSFORMER = [
    ("input_1", "InputLayer", []),
    ("token_and_position_embedding", "TokenAndPositionEmbedding",
     [("token_embedding/embeddings", (V, D)), ("position_embedding/embeddings", (T, D))]),
    ("mha", "MultiHeadAttention", mha_weights("mha", D, D, D, H, K, K, D)),
    ("dropout", "Dropout", []),
    ("add", "Add", []),
    ("layer_normalization", "LayerNormalization", LN),
    ("dense", "Dense", dense(D, FF)),
    ("dense_1", "Dense", dense(FF, D)),
    ("dropout_1", "Dropout", []),
    ("add_1", "Add", []),
    ("layer_normalization_1", "LayerNormalization", LN),
    ("global_average_pooling1d", "GlobalAveragePooling1D", []),
    ("dropout_2", "Dropout", []),
    ("dense_2", "Dense", dense(D, HIDDEN)),
    ("dropout_3", "Dropout", []),
    ("dense_3", "Dense", dense(HIDDEN, CLASSES)),
]
MHA_CROSS = [("query", "InputLayer", []), ("value", "InputLayer", []), ("key", "InputLayer", []),
             ("mha", "MultiHeadAttention", mha_weights("mha", 5, 4, 3, 2, 3, 2, 4))]
MHA_NO_BIAS = MHA_CROSS[:3] + [("mha", "MultiHeadAttention",
                                mha_weights("mha", 5, 4, 3, 2, 3, 2, 4, use_bias=False))]
EMBEDDING = [("input_1", "InputLayer", []), ("embedding", "Embedding", [("embeddings", (V, D))]),
             ("global_average_pooling1d", "GlobalAveragePooling1D", []),
             ("dense", "Dense", dense(D, CLASSES))]


def values(layers, variant):
    """{layer name: [array per weight]} from weight_value, layers with weights counted from 0."""
    result, index = {}, 0
    for name, _, weights in layers:
        if weights:
            result[name] = [weight_value(variant, index, w, shape)
                            for w, (_, shape) in enumerate(weights)]
            index += 1
    return result


def write_keras2(f, layers, variant):
    """save_weights_to_hdf5_group with the sublayer-prefixed weight names."""
    save_attributes(f, "layer_names", [name.encode("utf8") for name, _, _ in layers])
    f.attrs["backend"] = "tensorflow".encode("utf8")
    f.attrs["keras_version"] = "2.15.0".encode("utf8")
    data = values(layers, variant)
    for name, _, weights in sorted(layers, key=lambda x: x[0]):
        g = f.create_group(name)
        names = [f"{name}/{w}:0".encode("utf8") for w, _ in weights]
        save_attributes(g, "weight_names", names)
        for weight_name, value in zip(names, data.get(name, [])):
            dataset = g.create_dataset(weight_name, value.shape, dtype=value.dtype)
            dataset[:] = value
    save_attributes(f.create_group("top_level_model_weights"), "weight_names", [])


KERAS3_CLASS = {"InputLayer": "input_layer", "TokenAndPositionEmbedding":
                "token_and_position_embedding", "MultiHeadAttention": "multi_head_attention",
                "LayerNormalization": "layer_normalization", "GlobalAveragePooling1D":
                "global_average_pooling1d"}
# The groups below a layer that hold its weights, in get_weights() order (None: the layer's own
# vars), and the layer's private sublayers without weights.
KERAS3_SUBLAYERS = {
    "TokenAndPositionEmbedding": (["token_embedding", "position_embedding"], []),
    "MultiHeadAttention": (["query_dense", "key_dense", "value_dense", "output_dense"],
                           ["_dropout_layer", "_softmax"]),
}
KERAS3_SUBLAYER_NAMES = {"query_dense": "query", "key_dense": "key", "value_dense": "value",
                         "output_dense": "attention_output", "_dropout_layer": "dropout",
                         "_softmax": "softmax", "token_embedding": "token_embedding",
                         "position_embedding": "position_embedding"}


def write_keras3(f, layers, variant, skip=()):
    f.create_group("vars").attrs["name"] = "functional"
    data = values(layers, variant)
    used = {}
    for name, cls, _ in layers:
        base = KERAS3_CLASS.get(cls, cls.lower())
        used[base] = used.get(base, -1) + 1
        path = f"layers/{base}" + (f"_{used[base]}" if used[base] else "")
        own = f.create_group(path).create_group("vars")
        own.attrs["name"] = name
        arrays = data.get(name, [])
        if cls not in KERAS3_SUBLAYERS:
            for w, value in enumerate(arrays):
                own[str(w)] = value
            continue
        with_weights, without = KERAS3_SUBLAYERS[cls]
        per_sublayer = len(arrays) // len(with_weights)  # kernel and bias, or one table
        for i, sub in enumerate(with_weights):
            sub_path = f"{path}/{sub}"
            if sub_path in skip:
                continue
            group = f.create_group(sub_path).create_group("vars")
            group.attrs["name"] = KERAS3_SUBLAYER_NAMES[sub]
            for w, value in enumerate(arrays[i * per_sublayer:(i + 1) * per_sublayer]):
                group[str(w)] = value
        for sub in without:
            f.create_group(f"{path}/{sub}").create_group("vars").attrs["name"] = \
                KERAS3_SUBLAYER_NAMES[sub]


def make():
    os.makedirs(OUT, exist_ok=True)

    def tf2(name, layers, variant, edit=None):
        def fill(f):
            write_keras2(f, layers, variant)
            if edit:
                edit(f)

        write_file(os.path.join(OUT, name), fill)

    def keras3(name, layers, variant, skip=()):
        write_file(os.path.join(OUT, name), lambda f: write_keras3(f, layers, variant, skip))

    tf2("transformer_tf2.h5", TRANSFORMER, 21)
    keras3("transformer_keras3.weights.h5", TRANSFORMER, 22)
    tf2("mha_cross_tf2.h5", MHA_CROSS, 23)
    tf2("mha_no_bias_tf2.h5", MHA_NO_BIAS, 24)
    tf2("embedding_tf2.h5", EMBEDDING, 25)

    def flatten_query_kernel(f):
        value = f["mha/mha/query/kernel:0"][()].reshape(D, H * K)
        del f["mha/mha/query/kernel:0"]
        f["mha"].create_dataset("mha/query/kernel:0", data=value)

    tf2("bad_mha_wrong_shape.h5", TRANSFORMER, 21, edit=flatten_query_kernel)
    keras3("bad_keras3_missing_mha_output.weights.h5", TRANSFORMER, 22,
           skip=("layers/multi_head_attention/output_dense",))


def check(path, variant):
    """Checks `path` holds the small Transformer's weights (layer names may differ)."""
    check_weights(path, [(name, weights) for name, _, weights in TRANSFORMER if weights],
                  variant)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
