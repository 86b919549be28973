"""Keras's MultiHeadAttention and Dense written out in numpy float64, from Keras 3's
multi_head_attention.py (einsum equations, 1/sqrt(key_dim) on the query, masked softmax adding
-1e9 where the mask is false, the causal mask a lower triangle), run on the weights of a Spool
checkpoint: the independent reference of MultiHeadAttentionTest.  argv[1]: the folder with
weights.npz, inputs.npz; writes expected.npz."""
import sys
import numpy as np

d = sys.argv[1]
w = {k: v.astype(np.float64) for k, v in np.load(d + "/weights.npz").items()}
x = np.load(d + "/inputs.npz")
query, value, key = (x[n].astype(np.float64) for n in ("query", "value", "key"))
mask = x["mask"].astype(bool)  # [B, T, S]


def softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def mha(causal, use_mask):
    p = "multi_head_attention/"
    q = np.einsum("abc,cde->abde", query, w[p + "query/kernel"]) + w[p + "query/bias"]
    k = np.einsum("abc,cde->abde", key, w[p + "key/kernel"]) + w[p + "key/bias"]
    v = np.einsum("abc,cde->abde", value, w[p + "value/kernel"]) + w[p + "value/bias"]
    q = q / np.sqrt(q.shape[-1])
    scores = np.einsum("aecd,abcd->acbe", k, q)  # [B, H, T, S]
    m = np.ones(scores.shape, dtype=bool)
    if use_mask:
        m &= mask[:, None, :, :]
    if causal:
        t, s = scores.shape[-2:]
        m &= np.tril(np.ones((t, s), dtype=bool))
    scores = scores + (1.0 - m) * -1e9
    o = np.einsum("acbe,aecd->abcd", softmax(scores), v)  # [B, T, H, Dv]
    return np.einsum("abcd,cde->abe", o, w[p + "attention_output/kernel"]) + w[p + "attention_output/bias"]


out = {
    "plain": mha(False, False),
    "masked": mha(False, True),
    "causal": mha(True, False),
    "both": mha(True, True),
    # Dense on rank 3: x . kernel + bias over the last axis
    "dense": np.einsum("abc,cd->abd", query, w["dense/kernel"]) + w["dense/bias"],
}
np.savez(d + "/expected.npz", **out)
print("ok")
