#!/usr/bin/python3
"""Writes sequence_fixture.txt: a float64 reference for the sequence layers and a small
Transformer text classifier trained the way tf.keras 2.x trains it.

Everything is float64 numpy written from the published formulas (no Keras, no TensorFlow). Every
analytic backward pass is checked against central finite differences before anything is written;
the script fails loudly if one is off.

Keras behaviour reproduced, and the source file each fact was read in (tf-keras @dd0a723,
keras @3422977, keras-hub @71453d0; older keras-nlp files from keras-hub's history):

- MultiHeadAttention, tf_keras/layers/attention/multi_head_attention.py: four EinsumDense
  sublayers created in the order query, key, value, attention_output (_build_from_signature), so
  get_weights() is [query kernel (D,H,K), query bias (H,K), key kernel (Dk,H,K), key bias (H,K),
  value kernel (Dv,H,V), value bias (H,V), attention_output kernel (H,V,O), bias (O,)]; the
  projected query is multiplied by 1/sqrt(key_dim) before einsum("aecd,abcd->acbe", key, query)
  gives scores (B,H,T,S) (_compute_attention); softmax over the key axis; dropout on the
  probabilities only in training; return_attention_scores gives the pre-dropout probabilities.
  Masks (_compute_attention_mask): the query's Keras mask becomes (B,T,1), the value's and the
  key's (B,1,S), use_causal_mask a lower-triangular (1,T,S) (_compute_causal_mask, band_part
  -1, 0), all combined with AND and with attention_mask (B,T,S) or (T,S) by broadcasting; the
  mask is expanded over the head axis (_masked_softmax). The output of a masked query row is
  not zeroed, and the layer's output mask is the query's (supports_masking = True).
- The masked softmax, tf_keras/layers/activation/softmax.py: scores + (1 - mask) * (-1e9)
  (_large_compatible_negative; robust_masking is off by default). In float32, s - 1e9 rounds to
  exactly -1e9 for |s| < 32 (the float32 spacing at 1e9 is 64), so a fully masked row is uniform.
  In float64 it would not be (softmax is shift invariant), so this script rounds the masked
  logits to float32 as Keras computes them (mask_logits below). The gradient flows through the
  addition unchanged (TensorFlow's gradient of `+` is the identity), so a fully masked row still
  sends gradient p * (g - sum(p g)) with p uniform into the query and key projections; masked
  entries of a partially masked row get p = 0 and so no gradient.
- LayerNormalization, tf_keras/layers/normalization/layer_normalization.py: axis -1, epsilon
  1e-3 by default, gamma (ones) then beta (zeros); the unfused path uses tf.nn.moments (biased
  variance) and batch_normalization: (x - mean) / sqrt(var + eps) * gamma + beta; the fused path
  (only for eps >= 1.001e-5 in float32) computes the same function.
- Embedding, tf_keras/layers/core/embedding.py: weight "embeddings" (input_dim, output_dim),
  initializer "uniform" (RandomUniform(-0.05, 0.05)); mask_zero gives mask inputs != 0.
- TokenAndPositionEmbedding, keras_hub/src/layers/modeling/token_and_position_embedding.py: a
  token table (ReversibleEmbedding "token_embedding", tie_weights so only "embeddings" (V,D))
  and a position table (PositionEmbedding "position_embedding", weight "embeddings" (T,D),
  keras_hub/src/layers/modeling/position_embedding.py), both initialised with a clone of
  embeddings_initializer="uniform", created in that order; the output is their sum; the token
  mask (mask_zero) is the output mask. Older keras-nlp on tf.keras 2.x
  (keras_nlp/layers/modeling/token_and_position_embedding.py at fca1fb5) named the sublayers the
  same and defaulted to glorot_uniform.
- GlobalAveragePooling1D, tf_keras/layers/pooling/global_average_pooling1d.py: with a mask,
  sum(x * m, axis 1) / sum(m, axis 1); otherwise the mean over axis 1.
- Dense (tf_keras/layers/core/dense.py) acts on the last axis and passes the mask on
  (supports_masking); Add ANDs its inputs' masks (tf_keras/layers/merging/base_merge.py).
- Glorot-uniform fans, tf_keras/initializers/initializers.py _compute_fans: for a rank-3 kernel
  (a, b, c) fan_in = a*b, fan_out = a*c (the receptive field is every axis but the last two).
- SparseCategoricalCrossentropy on a Dense(softmax) output, tf_keras/backend.py: backend.softmax
  caches its input as output._keras_logits, and sparse_categorical_crossentropy (via _get_logits)
  then uses those logits with tf.nn.sparse_softmax_cross_entropy_with_logits, so there is no
  clipping: loss = logsumexp(z) - z[label], averaged over the batch (sum_over_batch_size). (In
  graph mode the same happens through output.op.type == "Softmax".) Only a probability tensor
  without cached logits takes the clip(eps, 1 - eps) + log path.
- Adam as Keras (make_training_fixture.Adam, reused): m += (g - m)(1 - beta_1);
  v += (g^2 - v)(1 - beta_2); alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
  w -= alpha_t m / (sqrt(v) + epsilon), lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7, each
  rounded to float32 as Keras holds them.

The acceptance model (keras.io "Text classification with Transformer" at a small size, with
functional layers, no dropout since dropout is the identity at rate 0 and in predict):
ids (B,T) -> TokenAndPositionEmbedding(V=11, T=6, D=8) -> MultiHeadAttention(H=2, key_dim=8)(x, x)
-> Add -> LayerNormalization(eps 1e-6) -> Dense(8, relu) -> Dense(8) -> Add ->
LayerNormalization(eps 1e-6) -> GlobalAveragePooling1D -> Dense(5, relu) -> Dense(2, softmax).
Kernels and embeddings start as Keras initialises them (Glorot-uniform with Keras' fans, uniform
+-0.05); biases, gamma and beta start away from zeros/ones so that their gradients and updates are
exercised (Keras would start them at 0 and 1). Training: 12 samples, batch 4, no shuffling, Adam
lr 1e-3: 3 steps. "masked_*" arrays are the same model built with mask_zero=True: the token mask
flows to the attention (query and value masks; padded query rows are fully masked, hence
uniform) and to the pooling (masked mean).

Format (read by tests/support/fixture_reader.hpp): plain text, one array after another: a line
`name rows cols`, then `rows` lines of `cols` values with 17 significant digits; '#' lines are
comments. Vectors are (1, n), scalars (1, 1). An array of rank > 2 with shape (a, ..., y, z) is
written row-major as (a*...*y, z), and a comment line `# <name> shape a ... y z` precedes its
header. Token ids and labels are written as floats.

Arrays (B = 4, N = 12, T = S = 6, V = 11, D = 8, H = 2, K = 8; Keras names as in get_weights()):
  weight i, i = 0..21, in get_weights() order, named <prefix>/<keras name without :0>:
    token_and_position_embedding/token_embedding/embeddings (11,8)
    token_and_position_embedding/position_embedding/embeddings (6,8)
    mha/query/kernel (8,2,8)  mha/query/bias (2,8)  mha/key/kernel (8,2,8)  mha/key/bias (2,8)
    mha/value/kernel (8,2,8)  mha/value/bias (2,8)
    mha/attention_output/kernel (2,8,8)  mha/attention_output/bias (8)
    layer_normalization/gamma (8)  layer_normalization/beta (8)
    dense/kernel (8,8)  dense/bias (8)  dense_1/kernel (8,8)  dense_1/bias (8)
    layer_normalization_1/gamma (8)  layer_normalization_1/beta (8)
    dense_2/kernel (8,5)  dense_2/bias (5)  dense_3/kernel (5,2)  dense_3/bias (2)
  initial/<w>        initial weights
  ids (12,6)         token ids, 0 = padding     labels (1,12)   class of each sample
  Forward of the first batch (ids rows 0..3), plain model then with mask_zero=True:
  [masked_]embedded (4,6,8)       TokenAndPositionEmbedding output
  [masked_]mha_output (4,6,8)     [masked_]mha_scores (4,2,6,6)  (B,H,T,S), rows sum to 1
  [masked_]ln1_output (4,6,8)     [masked_]ffn_output (4,6,8) (the second Dense's output)
  [masked_]ln2_output (4,6,8)     [masked_]pooled (4,8)         [masked_]hidden (4,5)
  [masked_]logits (4,2)           [masked_]probabilities (4,2)  [masked_]loss (1,1)
  mask (4,6)                      the mask_zero mask of the first batch (1 = kept)
  [masked_]gradient/<w>           gradient of the first batch's loss for every weight
  batch_losses (1,3)              loss of each batch before its step;  epoch_loss (1,1)
  step1/<w>, final/<w>            weights after the first step and after the epoch
  Standalone MultiHeadAttention (H=2, key_dim=3, value_dim=2, output_shape=4), query (2,3,5),
  value (2,4,3), key (2,4,4); loss = sum(output * mha_upstream):
    mha_weight/{query,key,value,attention_output}/{kernel,bias}: (5,2,3) (2,3) (4,2,3) (2,3)
        (3,2,2) (2,2) (2,2,4) (4)
    mha_query (2,3,5)  mha_value (2,4,3)  mha_key (2,4,4)  mha_upstream (2,3,4)
    mha_attention_mask (3,4) (row 1 fully masked)  mha_query_mask (2,3)  mha_value_mask (2,4)
    for case in plain, attention_mask (attention_mask=mha_attention_mask), causal
    (use_causal_mask=True, band_part over (3,4)), auto (the query mask and the value mask as
    Keras masks, the key unmasked), all (every mask above at once):
      mha_<case>_output (2,3,4)  mha_<case>_scores (2,2,3,4)
      mha_<case>_dquery (2,3,5)  mha_<case>_dvalue (2,4,3)  mha_<case>_dkey (2,4,4)
      mha_<case>_gradient/<sublayer>/<kernel|bias>   (shapes as mha_weight)
  Standalone LayerNormalization on ln_input (3,4,7) (row [1,2] has variance ~1e-6 so epsilon
  matters), ln_gamma (7), ln_beta (7), ln_upstream (3,4,7); for eps in 1e-6 and 1e-3 (names
  ln_eps1e-6_*, ln_eps1e-3_*): _output (3,4,7), _dinput (3,4,7), _dgamma (7), _dbeta (7).
  Standalone GlobalAveragePooling1D: pool_input (2,6,8), pool_mask (2,6), pool_upstream (2,8),
  pool_output (2,8) (masked), pool_output_unmasked (2,8), pool_dinput (2,6,8) (masked).
  Standalone Embedding(11, 8, mask_zero=True): embedding_ids (2,6), embedding_table (11,8),
  embedding_output (2,6,8), embedding_mask (2,6), embedding_upstream (2,6,8),
  embedding_dtable (11,8) (ids that repeat accumulate).

Run: /usr/bin/python3 tests/data/make_sequence_fixtures.py  (writes next to this script; Debian
python3-numpy). Running it twice writes the same bytes.
"""
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ beside the fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_training_fixture as training  # noqa: E402  (Keras' Adam, the writer)
from make_training_fixture import Adam  # noqa: E402

SEED = 20261208
V, T, D, H, K, FF, HIDDEN, CLASSES = 11, 6, 8, 2, 8, 8, 5, 2
N, BATCH = 12, 4
LN_EPS = 1e-6
MASK_NEGATIVE = -1e9  # tf_keras/layers/activation/softmax.py _large_compatible_negative

MHA_SUB = ["query", "key", "value", "attention_output"]
WEIGHTS = (
    [("token_and_position_embedding/token_embedding/embeddings", (V, D)),
     ("token_and_position_embedding/position_embedding/embeddings", (T, D))]
    + [(f"mha/{s}/{w}", shape) for s, kshape, bshape in
       (("query", (D, H, K), (H, K)), ("key", (D, H, K), (H, K)), ("value", (D, H, K), (H, K)),
        ("attention_output", (H, K, D), (D,)))
       for w, shape in (("kernel", kshape), ("bias", bshape))]
    + [("layer_normalization/gamma", (D,)), ("layer_normalization/beta", (D,)),
       ("dense/kernel", (D, FF)), ("dense/bias", (FF,)),
       ("dense_1/kernel", (FF, D)), ("dense_1/bias", (D,)),
       ("layer_normalization_1/gamma", (D,)), ("layer_normalization_1/beta", (D,)),
       ("dense_2/kernel", (D, HIDDEN)), ("dense_2/bias", (HIDDEN,)),
       ("dense_3/kernel", (HIDDEN, CLASSES)), ("dense_3/bias", (CLASSES,))])
NAMES = [n for n, _ in WEIGHTS]


# ----------------------------------------------------------------------------------- layers


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(p, dp, axis=-1):
    return p * (dp - (dp * p).sum(axis=axis, keepdims=True))


def embedding_forward(table, ids, mask_zero=False):
    return table[ids], (ids != 0 if mask_zero else None)


def embedding_backward(table_shape, ids, dy):
    dtable = np.zeros(table_shape)
    np.add.at(dtable, ids.reshape(-1), dy.reshape(-1, table_shape[1]))
    return dtable


def token_and_position_forward(token_table, position_table, ids, mask_zero=False):
    tokens, mask = embedding_forward(token_table, ids, mask_zero)
    return tokens + position_table[None, : ids.shape[1]], mask


def token_and_position_backward(token_shape, position_shape, ids, dy):
    dposition = np.zeros(position_shape)
    dposition[: ids.shape[1]] = dy.sum(axis=0)
    return embedding_backward(token_shape, ids, dy), dposition


def dense_forward(x, kernel, bias):
    return x @ kernel + bias


def dense_backward(x, kernel, dy):
    """Dense on the last axis of any rank: returns dx, dkernel, dbias."""
    x2 = x.reshape(-1, kernel.shape[0])
    dy2 = dy.reshape(-1, kernel.shape[1])
    return dy @ kernel.T, x2.T @ dy2, dy2.sum(axis=0)


def layer_norm_forward(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased, as tf.nn.moments
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * rstd
    return xhat * gamma + beta, (xhat, rstd)


def layer_norm_backward(cache, gamma, dy):
    xhat, rstd = cache
    dxhat = dy * gamma
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    axes = tuple(range(dy.ndim - 1))
    return dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


def pool_forward(x, mask=None):
    if mask is None:
        return x.mean(axis=1)
    m = mask.astype(np.float64)[:, :, None]
    return (x * m).sum(axis=1) / m.sum(axis=1)


def pool_backward(x_shape, dy, mask=None):
    m = np.ones(x_shape[:2]) if mask is None else mask.astype(np.float64)
    return dy[:, None, :] * (m / m.sum(axis=1, keepdims=True))[:, :, None]


def attention_mask(batch, t, s, attention=None, query_mask=None, value_mask=None,
                   key_mask=None, causal=False):
    """tf.keras' _compute_attention_mask: the AND of every mask given, as (B, T, S) bool."""
    mask = None

    def both(a, b):
        return b if a is None else a & b

    if query_mask is not None:
        mask = both(mask, query_mask[:, :, None])
    if value_mask is not None:
        mask = both(mask, value_mask[:, None, :])
    if key_mask is not None:
        mask = both(mask, key_mask[:, None, :])
    if causal:
        mask = both(mask, np.tril(np.ones((1, t, s), dtype=bool)))
    if attention is not None:
        mask = both(mask, np.asarray(attention, dtype=bool))
    return None if mask is None else np.broadcast_to(mask, (batch, t, s))


def mask_logits(scores, mask, keras_float32=True):
    """scores + (1 - mask) * (-1e9) as tf.keras adds it. keras_float32 rounds the masked logits
    to float32 as Keras holds them (s - 1e9 is exactly -1e9 for |s| < 32), which makes a fully
    masked row uniform. Without it (the finite-difference checks) the function is the exact one
    of the float64 formula, kept at full precision: a fully masked row is shifted by the same
    constant everywhere, which softmax ignores, and the masked entries of other rows get
    exp(-1e3 - max) = 0, as exp(-1e9 - max) is. The gradient formula is the same either way."""
    if mask is None:
        return scores
    m = mask[:, None, :, :]  # over the head axis
    if keras_float32:
        adder = (1.0 - m) * MASK_NEGATIVE
        rounded = (scores + adder).astype(np.float32).astype(np.float64)
        return np.where(m, scores, rounded)
    fully_masked = ~m.any(axis=-1, keepdims=True)
    return np.where(m | fully_masked, scores, scores - 1e3)


def mha_forward(P, query, value, key=None, mask=None, keras_float32=True):
    """tf.keras MultiHeadAttention with rank-3 inputs, attention over axis 1. P maps
    "<sublayer>/kernel|bias" to arrays. mask: the combined (B, T, S) boolean mask or None."""
    key = value if key is None else key
    key_dim = P["query/kernel"].shape[-1]
    q = np.einsum("btd,dhk->bthk", query, P["query/kernel"]) + P["query/bias"]
    k = np.einsum("bsd,dhk->bshk", key, P["key/kernel"]) + P["key/bias"]
    v = np.einsum("bsd,dhv->bshv", value, P["value/kernel"]) + P["value/bias"]
    qs = q * (1.0 / math.sqrt(float(key_dim)))  # the query, not the scores, is scaled
    logits = np.einsum("bshk,bthk->bhts", k, qs)
    scores = softmax(mask_logits(logits, mask, keras_float32), axis=-1)
    context = np.einsum("bhts,bshv->bthv", scores, v)
    out = np.einsum("bthv,hvo->bto", context, P["attention_output/kernel"]) \
        + P["attention_output/bias"]
    return out, scores, (query, key, value, qs, k, v, scores, context)


def mha_backward(P, cache, dout):
    """Returns (dquery, dvalue, dkey, gradients keyed like P)."""
    query, key, value, qs, k, v, scores, context = cache
    key_dim = P["query/kernel"].shape[-1]
    g = {"attention_output/kernel": np.einsum("bthv,bto->hvo", context, dout),
         "attention_output/bias": dout.sum(axis=(0, 1))}
    dcontext = np.einsum("bto,hvo->bthv", dout, P["attention_output/kernel"])
    dscores = np.einsum("bthv,bshv->bhts", dcontext, v)
    dv = np.einsum("bhts,bthv->bshv", scores, dcontext)
    dlogits = softmax_backward(scores, dscores)  # through the mask's addition unchanged
    dq = np.einsum("bhts,bshk->bthk", dlogits, k) * (1.0 / math.sqrt(float(key_dim)))
    dk = np.einsum("bhts,bthk->bshk", dlogits, qs)
    grads = {}
    for name, x, d in (("query", query, dq), ("key", key, dk), ("value", value, dv)):
        g[f"{name}/kernel"] = np.einsum("bsd,bshk->dhk", x, d)
        g[f"{name}/bias"] = d.sum(axis=(0, 1))
        grads[name] = np.einsum("bshk,dhk->bsd", d, P[f"{name}/kernel"])
    return grads["query"], grads["value"], grads["key"], g


def sparse_ce_from_logits(logits, labels):
    """tf.nn.sparse_softmax_cross_entropy_with_logits, mean over the batch."""
    z = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(labels)), labels]))


def sparse_ce_backward(logits, labels):
    d = softmax(logits, axis=1)
    d[np.arange(len(labels)), labels] -= 1.0
    return d / len(labels)


# ------------------------------------------------------------------------------------ model


def mha_params(P, prefix="mha/"):
    return {n[len(prefix):]: P[n] for n in NAMES if n.startswith(prefix)}


def model_forward(P, ids, mask_zero=False, keras_float32=True):
    c = {}
    e, mask = token_and_position_forward(
        P["token_and_position_embedding/token_embedding/embeddings"],
        P["token_and_position_embedding/position_embedding/embeddings"], ids, mask_zero)
    c["mask"], c["embedded"] = mask, e
    amask = attention_mask(ids.shape[0], T, T, query_mask=mask, value_mask=mask)
    c["mha_output"], c["mha_scores"], c["mha_cache"] = mha_forward(
        mha_params(P), e, e, mask=amask, keras_float32=keras_float32)
    c["ln1_output"], c["ln1_cache"] = layer_norm_forward(
        e + c["mha_output"], P["layer_normalization/gamma"], P["layer_normalization/beta"],
        LN_EPS)
    c["ff_pre"] = dense_forward(c["ln1_output"], P["dense/kernel"], P["dense/bias"])
    c["ff_hidden"] = np.maximum(c["ff_pre"], 0)
    c["ffn_output"] = dense_forward(c["ff_hidden"], P["dense_1/kernel"], P["dense_1/bias"])
    c["ln2_output"], c["ln2_cache"] = layer_norm_forward(
        c["ln1_output"] + c["ffn_output"], P["layer_normalization_1/gamma"],
        P["layer_normalization_1/beta"], LN_EPS)
    c["pooled"] = pool_forward(c["ln2_output"], mask)
    c["hidden_pre"] = dense_forward(c["pooled"], P["dense_2/kernel"], P["dense_2/bias"])
    c["hidden"] = np.maximum(c["hidden_pre"], 0)
    c["logits"] = dense_forward(c["hidden"], P["dense_3/kernel"], P["dense_3/bias"])
    c["probabilities"] = softmax(c["logits"], axis=1)
    return c


def model_loss(P, ids, labels, mask_zero=False, keras_float32=True):
    return sparse_ce_from_logits(model_forward(P, ids, mask_zero, keras_float32)["logits"],
                                 labels)


def model_gradients(P, ids, labels, mask_zero=False, keras_float32=True):
    c = model_forward(P, ids, mask_zero, keras_float32)
    g = {}
    dz = sparse_ce_backward(c["logits"], labels)
    dh, g["dense_3/kernel"], g["dense_3/bias"] = dense_backward(c["hidden"], P["dense_3/kernel"],
                                                                dz)
    dh = dh * (c["hidden_pre"] > 0)
    dp, g["dense_2/kernel"], g["dense_2/bias"] = dense_backward(c["pooled"], P["dense_2/kernel"],
                                                                dh)
    dx2 = pool_backward(c["ln2_output"].shape, dp, c["mask"])
    dr2, g["layer_normalization_1/gamma"], g["layer_normalization_1/beta"] = \
        layer_norm_backward(c["ln2_cache"], P["layer_normalization_1/gamma"], dx2)
    dfh, g["dense_1/kernel"], g["dense_1/bias"] = dense_backward(
        c["ff_hidden"], P["dense_1/kernel"], dr2)
    dfh = dfh * (c["ff_pre"] > 0)
    dx1, g["dense/kernel"], g["dense/bias"] = dense_backward(c["ln1_output"], P["dense/kernel"],
                                                             dfh)
    dx1 = dx1 + dr2
    dr1, g["layer_normalization/gamma"], g["layer_normalization/beta"] = \
        layer_norm_backward(c["ln1_cache"], P["layer_normalization/gamma"], dx1)
    dq, dv, dk, gm = mha_backward(mha_params(P), c["mha_cache"], dr1)
    for n, value in gm.items():
        g["mha/" + n] = value
    de = dr1 + dq + dv + dk  # the embedding feeds the residual, the query and the value/key
    (g["token_and_position_embedding/token_embedding/embeddings"],
     g["token_and_position_embedding/position_embedding/embeddings"]) = \
        token_and_position_backward((V, D), (T, D), ids, de)
    return g


# ------------------------------------------------------------------------- initial values


def glorot(rng, shape):
    """Keras' GlorotUniform with _compute_fans: a rank-3 kernel's leading axis is a receptive
    field."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def initial_weights(rng):
    P = {}
    for name, shape in WEIGHTS:
        if name.endswith("embeddings"):
            P[name] = rng.uniform(-0.05, 0.05, size=shape)  # "uniform"
        elif name.endswith("kernel"):
            P[name] = glorot(rng, shape)
        elif name.endswith("gamma"):
            P[name] = 1.0 + rng.uniform(-0.2, 0.2, size=shape)
        else:  # biases and beta: non-zero so their gradients are exercised
            P[name] = rng.uniform(-0.1, 0.1, size=shape)
    return P


def make_data(rng):
    """Token ids with padding (0) at the end of some samples and once inside one; label: does
    token 7 occur (samples 0, 2, 5, 6, 9 and 10 hold one)."""
    ids = rng.integers(1, V - 1, size=(N, T))  # 1..9
    ids[ids == 7] = 10
    for i, position in ((0, 1), (2, 0), (5, 1), (6, 3), (9, 2), (10, 4)):
        ids[i, position] = 7
    for i, length in enumerate([6, 4, 3, 6, 5, 2, 6, 4, 6, 3, 5, 6]):
        ids[i, length:] = 0
    ids[3, 2] = 0  # a padding token inside a sequence: the mask is per position
    labels = (ids == 7).any(axis=1).astype(np.int64)
    return ids, labels


# ------------------------------------------------------------------ finite-difference checks

FD_STEP = 1e-5
FD_TOLERANCE = 1e-5


def fd_check(what, loss, arrays, analytic, rng, samples=10, step=FD_STEP):
    """Central differences of loss() for `samples` random entries of every array in `arrays`
    (perturbed in place); returns the worst relative error and fails loudly above tolerance."""
    worst = 0.0
    for name, array in arrays.items():
        flat = array.reshape(-1)
        assert np.shares_memory(flat, array)
        for index in rng.choice(flat.size, size=min(samples, flat.size), replace=False):
            saved = flat[index]
            flat[index] = saved + step
            up = loss()
            flat[index] = saved - step
            down = loss()
            flat[index] = saved
            numeric = (up - down) / (2 * step)
            exact = analytic[name].reshape(-1)[index]
            worst = max(worst, abs(numeric - exact) / max(1e-4, abs(numeric)))
    if not worst < FD_TOLERANCE:
        raise SystemExit(f"finite-difference check FAILED for {what}: worst relative error "
                         f"{worst:.3g} (tolerance {FD_TOLERANCE})")
    return worst


# ------------------------------------------------------------------------- standalone cases


def mha_per_head(P, query, value, key, mask):
    """A second, loop-per-head form of MultiHeadAttention (matrices, no einsum) that the einsum
    form must agree with: out = sum_h softmax(Q_h K_h^T / sqrt(k) + mask) V_h W_o[h] + b_o."""
    out = np.zeros(query.shape[:2] + P["attention_output/bias"].shape)
    scores = np.zeros((query.shape[0], P["query/bias"].shape[0], query.shape[1], key.shape[1]))
    for b in range(query.shape[0]):
        for h in range(P["query/bias"].shape[0]):
            q = query[b] @ P["query/kernel"][:, h, :] + P["query/bias"][h]
            k = key[b] @ P["key/kernel"][:, h, :] + P["key/bias"][h]
            v = value[b] @ P["value/kernel"][:, h, :] + P["value/bias"][h]
            logits = (q / math.sqrt(q.shape[1])) @ k.T
            if mask is not None:
                logits = np.where(mask[b], logits, np.float32(MASK_NEGATIVE))
            scores[b, h] = softmax(logits, axis=-1)
            out[b] += scores[b, h] @ v @ P["attention_output/kernel"][h]
    return out + P["attention_output/bias"], scores


def standalone_mha(rng):
    B, TQ, S, DQ, DV, DK, HS, KS, VS, O = 2, 3, 4, 5, 3, 4, 2, 3, 2, 4
    P = {"query/kernel": glorot(rng, (DQ, HS, KS)), "query/bias": rng.uniform(-0.1, 0.1, (HS, KS)),
         "key/kernel": glorot(rng, (DK, HS, KS)), "key/bias": rng.uniform(-0.1, 0.1, (HS, KS)),
         "value/kernel": glorot(rng, (DV, HS, VS)), "value/bias": rng.uniform(-0.1, 0.1, (HS, VS)),
         "attention_output/kernel": glorot(rng, (HS, VS, O)),
         "attention_output/bias": rng.uniform(-0.1, 0.1, (O,))}
    P = {n: P[n] for n in [f"{s}/{w}" for s in MHA_SUB for w in ("kernel", "bias")]}
    x = {"query": rng.normal(size=(B, TQ, DQ)), "value": rng.normal(size=(B, S, DV)),
         "key": rng.normal(size=(B, S, DK))}
    upstream = rng.normal(size=(B, TQ, O))
    att = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], dtype=bool)  # row 1 fully masked
    qmask = np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)
    vmask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=bool)
    cases = {
        "plain": {},
        "attention_mask": {"attention": att},
        "causal": {"causal": True},
        "auto": {"query_mask": qmask, "value_mask": vmask},
        "all": {"attention": att, "query_mask": qmask, "value_mask": vmask, "causal": True},
    }
    results, worst = {}, {}
    for case, kw in cases.items():
        mask = attention_mask(B, TQ, S, **kw)
        out, scores, cache = mha_forward(P, x["query"], x["value"], x["key"], mask)
        dq, dv, dk, g = mha_backward(P, cache, upstream)
        results[case] = (out, scores, dq, dv, dk, g)
        loop_out, loop_scores = mha_per_head(P, x["query"], x["value"], x["key"], mask)
        assert np.allclose(out, loop_out, rtol=1e-13, atol=1e-14), case
        assert np.allclose(scores, loop_scores, rtol=1e-13, atol=1e-15), case

        # The check: the same backward formula against differences of the float64 function.
        def loss(mask=mask):
            o = mha_forward(P, x["query"], x["value"], x["key"], mask, keras_float32=False)[0]
            return float((o * upstream).sum())

        _, _, cache64 = mha_forward(P, x["query"], x["value"], x["key"], mask, False)
        dq64, dv64, dk64, g64 = mha_backward(P, cache64, upstream)
        arrays = dict(P, **x)
        analytic = dict(g64, query=dq64, value=dv64, key=dk64)
        worst[case] = fd_check(f"MultiHeadAttention ({case})", loss, arrays, analytic, rng)
    # Keras' float32 masking makes a fully masked row uniform.
    assert np.allclose(results["attention_mask"][1][:, :, 1, :], 0.25, atol=0, rtol=1e-15)
    # A masked entry of a partially masked row gets exactly zero weight.
    assert np.all(results["attention_mask"][1][:, :, 0, 1] == 0)
    inputs = dict(x, upstream=upstream, attention_mask=att, query_mask=qmask, value_mask=vmask)
    return P, inputs, results, worst


def standalone_layer_norm(rng):
    x = rng.normal(size=(3, 4, 7))
    x[1, 2] = 0.3 + 1e-3 * rng.normal(size=7)  # variance ~1e-6: epsilon matters
    gamma = 1.0 + rng.uniform(-0.2, 0.2, 7)
    beta = rng.uniform(-0.1, 0.1, 7)
    upstream = rng.normal(size=x.shape)
    results, worst = {}, {}
    for eps in (1e-6, 1e-3):
        out, cache = layer_norm_forward(x, gamma, beta, eps)
        dx, dg, db = layer_norm_backward(cache, gamma, upstream)
        results[eps] = (out, dx, dg, db)
        loss = lambda: float((layer_norm_forward(x, gamma, beta, eps)[0] * upstream).sum())
        worst[eps] = fd_check(f"LayerNormalization (eps {eps:g})", loss,
                              {"x": x, "gamma": gamma, "beta": beta},
                              {"x": dx, "gamma": dg, "beta": db}, rng, samples=30,
                              step=1e-7)  # the near-constant row is strongly curved
    assert not np.allclose(results[1e-6][0], results[1e-3][0], atol=1e-2)
    return (x, gamma, beta, upstream), results, worst


def standalone_pool(rng):
    x = rng.normal(size=(2, 6, 8))
    mask = np.array([[1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)
    upstream = rng.normal(size=(2, 8))
    out = pool_forward(x, mask)
    dx = pool_backward(x.shape, upstream, mask)
    worst = fd_check("GlobalAveragePooling1D (masked)",
                     lambda: float((pool_forward(x, mask) * upstream).sum()), {"x": x},
                     {"x": dx}, rng, samples=40)
    return (x, mask, upstream, out, pool_forward(x), dx), worst


def standalone_embedding(rng):
    ids = np.array([[3, 0, 5, 3, 10, 0], [1, 2, 3, 4, 0, 0]])
    table = rng.uniform(-0.05, 0.05, size=(V, D))
    upstream = rng.normal(size=(2, 6, D))
    out, mask = embedding_forward(table, ids, mask_zero=True)
    dtable = embedding_backward(table.shape, ids, upstream)
    worst = fd_check("Embedding", lambda: float((embedding_forward(table, ids)[0] * upstream)
                                                .sum()),
                     {"table": table}, {"table": dtable}, rng, samples=40)
    return (ids, table, out, mask, upstream, dtable), worst


# -------------------------------------------------------------------------------- writing


def write(out, name, array):
    """make_training_fixture's format; rank > 2 flattened to (leading axes, last axis)."""
    a = np.asarray(array, dtype=np.float64)
    if a.ndim > 2:
        out.write(f"# {name} shape {' '.join(str(s) for s in a.shape)}\n")
        a = a.reshape(-1, a.shape[-1])
    training.write(out, name, a)


def main():
    rng = np.random.default_rng(SEED)
    P = initial_weights(rng)
    ids, labels = make_data(rng)
    first = slice(0, BATCH)

    # Checks of the whole model's loss (plain and masked).
    worst = {}
    for mask_zero in (False, True):
        Q = {k: v.copy() for k, v in P.items()}
        analytic = model_gradients(Q, ids[first], labels[first], mask_zero, keras_float32=False)
        worst[f"model (mask_zero={mask_zero})"] = fd_check(
            f"model loss (mask_zero={mask_zero})",
            lambda: model_loss(Q, ids[first], labels[first], mask_zero, keras_float32=False),
            Q, analytic, rng, samples=6)
    mha_P, mha_inputs, mha_results, mha_worst = standalone_mha(rng)
    ln_inputs, ln_results, ln_worst = standalone_layer_norm(rng)
    pool, pool_worst = standalone_pool(rng)
    emb, emb_worst = standalone_embedding(rng)
    worst.update({f"MultiHeadAttention {k}": v for k, v in mha_worst.items()})
    worst.update({f"LayerNormalization eps {k:g}": v for k, v in ln_worst.items()})
    worst["GlobalAveragePooling1D masked"] = pool_worst
    worst["Embedding"] = emb_worst

    initial = {k: v.copy() for k, v in P.items()}
    forward = {mz: model_forward(P, ids[first], mz) for mz in (False, True)}
    grads = {mz: model_gradients(P, ids[first], labels[first], mz) for mz in (False, True)}
    losses = {mz: model_loss(P, ids[first], labels[first], mz) for mz in (False, True)}
    # Padded queries of the masked model are fully masked rows: uniform in Keras.
    padded = ~forward[True]["mask"]
    assert np.allclose(forward[True]["mha_scores"].transpose(0, 2, 1, 3)[padded], 1.0 / T,
                       rtol=1e-15, atol=0)

    adam = Adam(P)
    batch_losses, step1 = [], None
    for start in range(0, N, BATCH):
        sl = slice(start, start + BATCH)
        batch_losses.append(model_loss(P, ids[sl], labels[sl]))
        adam.step(P, model_gradients(P, ids[sl], labels[sl]))
        if step1 is None:
            step1 = {k: v.copy() for k, v in P.items()}
    epoch_loss = float(np.mean(batch_losses))  # equal batches

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequence_fixture.txt")
    with open(path, "w") as out:
        out.write(f"# Written by make_sequence_fixtures.py (float64 numpy, seed {SEED}).\n")
        out.write("# Arrays of rank > 2 are row-major (leading axes, last axis); see the "
                  "script's docstring.\n")
        for what, value in worst.items():
            out.write(f"# finite-difference check, {what}: worst relative error {value:.3g}\n")
        for i, (name, shape) in enumerate(WEIGHTS):
            out.write(f"# weight {i}: {name}:0 {shape}\n")
        for k in NAMES:
            write(out, "initial/" + k, initial[k])
        write(out, "ids", ids)
        write(out, "labels", labels)
        write(out, "mask", forward[True]["mask"])
        for prefix, mz in (("", False), ("masked_", True)):
            c = forward[mz]
            for k in ("embedded", "mha_output", "mha_scores", "ln1_output", "ffn_output",
                      "ln2_output", "pooled", "hidden", "logits", "probabilities"):
                write(out, prefix + k, c[k])
            write(out, prefix + "loss", [losses[mz]])
            for k in NAMES:
                write(out, prefix + "gradient/" + k, grads[mz][k])
        write(out, "batch_losses", batch_losses)
        write(out, "epoch_loss", [epoch_loss])
        for tag, weights in (("step1/", step1), ("final/", P)):
            for k in NAMES:
                write(out, tag + k, weights[k])

        for k, v in mha_P.items():
            write(out, "mha_weight/" + k, v)
        for k in ("query", "value", "key", "upstream", "attention_mask", "query_mask",
                  "value_mask"):
            write(out, "mha_" + k, mha_inputs[k])
        for case, (o, scores, dq, dv, dk, g) in mha_results.items():
            write(out, f"mha_{case}_output", o)
            write(out, f"mha_{case}_scores", scores)
            write(out, f"mha_{case}_dquery", dq)
            write(out, f"mha_{case}_dvalue", dv)
            write(out, f"mha_{case}_dkey", dk)
            for k, v in g.items():
                write(out, f"mha_{case}_gradient/{k}", v)

        x, gamma, beta, upstream = ln_inputs
        write(out, "ln_input", x)
        write(out, "ln_gamma", gamma)
        write(out, "ln_beta", beta)
        write(out, "ln_upstream", upstream)
        for eps, (o, dx, dg, db) in ln_results.items():
            tag = {1e-6: "ln_eps1e-6", 1e-3: "ln_eps1e-3"}[eps]
            write(out, tag + "_output", o)
            write(out, tag + "_dinput", dx)
            write(out, tag + "_dgamma", dg)
            write(out, tag + "_dbeta", db)

        x, mask, upstream, o, o_unmasked, dx = pool
        for k, v in (("input", x), ("mask", mask), ("upstream", upstream), ("output", o),
                     ("output_unmasked", o_unmasked), ("dinput", dx)):
            write(out, "pool_" + k, v)
        ids_e, table, o, mask, upstream, dtable = emb
        for k, v in (("ids", ids_e), ("table", table), ("output", o), ("mask", mask),
                     ("upstream", upstream), ("dtable", dtable)):
            write(out, "embedding_" + k, v)

    print(f"wrote {path}: loss {losses[False]:.6f} (masked {losses[True]:.6f}), "
          f"epoch loss {epoch_loss:.6f}")
    for what, value in worst.items():
        print(f"  finite differences, {what}: worst relative error {value:.3g}")


if __name__ == "__main__":
    main()
