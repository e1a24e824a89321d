"""Step 57: embeddings: a table of learned vectors looked up by integer ids.

Builds on step 46 (softmax cross-entropy over classes) and step 56 (sequences). Words
or characters are ids, not numbers to compute with: id 7 is not "more" than id 3.
`L.EmbedID(in_size, out_size)` holds a table W of in_size rows; `emb(ids)` is W[ids],
one row per id, for ids of any shape. That is the same as a one-hot vector times W,
without building the one-hot vectors; in backward, a row used several times gets the
sum of its gradients, as the product would give.

The step checks both facts, then trains the smallest language model: each character
of a short text predicts the next through `EmbedID(V, V)`, whose row for a character
is directly the scores of the next one. Trained with Adam, softmax of each row comes
to the bigram frequencies counted from the text, and the loss to their conditional
entropy, the lowest any model that sees one character can reach. Then it writes a
line by sampling.
"""

import time

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.optimizers import Adam

TEXT = (
    "the cat sat on the mat. the dog sat on the log. "
    "a cat and a dog met on the mat and sat on the log. "
) * 4

chars = sorted(set(TEXT))
V = len(chars)
ids = np.array([chars.index(ch) for ch in TEXT])
print(f"{len(TEXT)} characters, {V} distinct: {''.join(chars)!r}")

# Looking up rows is a one-hot product, and repeated ids sum their gradient.
np.random.seed(0)
emb = L.EmbedID(V, 4)
sample = ids[:12].reshape(3, 4)  # ids of any shape: here 3 rows of 4
y = emb(sample)
onehot = np.eye(V, dtype=np.float32)[sample]
same = bool(np.allclose(y.data, onehot @ emb.W.data))
F.sum(y).backward()
uses = np.bincount(sample.ravel(), minlength=V)
summed = bool(np.array_equal(emb.W.grad.data, np.repeat(uses[:, None], 4, axis=1)))
print(f"ids {sample.tolist()} -> shape {y.shape}; equal to one-hot @ W: {same}")
print(
    f"d sum(y) / dW: each row holds the number of times its id was used "
    f"({', '.join(f'{chars[j]!r} {uses[j]}' for j in np.flatnonzero(uses))}): {summed}"
)

# The bigram model.
counts = np.zeros((V, V))
np.add.at(counts, (ids[:-1], ids[1:]), 1)
p_next = counts / counts.sum(axis=1, keepdims=True)
nz = counts > 0
entropy = float(-(counts[nz] * np.log(p_next[nz])).sum() / counts.sum())

np.random.seed(0)
model = L.EmbedID(V, V)
optimizer = Adam(alpha=0.1).setup(model)
losses = []
start = time.perf_counter()
for _ in range(300):
    loss = F.softmax_cross_entropy(model(ids[:-1]), ids[1:])
    model.cleargrads()
    loss.backward()
    optimizer.update()
    losses.append(float(loss.data))
seconds = time.perf_counter() - start
with dz.no_grad():
    learned = F.softmax(model(np.arange(V))).data
gap = float(np.abs(learned - p_next).max())
print(
    f"EmbedID({V}, {V}) as a bigram model: loss {losses[0]:.3f} -> {losses[-1]:.3f} in 300 "
    f"steps ({seconds:.2f} s); the counts' conditional entropy {entropy:.3f}; largest gap "
    f"between learned and counted next-character probabilities {gap:.3f}"
)
t = chars.index("t")
top = np.argsort(-learned[t])[:3]
print(
    "after 't' it expects: "
    + ", ".join(f"{chars[j]!r} {learned[t, j]:.2f}" for j in top)
    + "  (counted: "
    + ", ".join(f"{chars[j]!r} {p_next[t, j]:.2f}" for j in top)
    + ")"
)

rng = np.random.default_rng(1)
line = [chars.index("t")]
for _ in range(60):
    line.append(rng.choice(V, p=learned[line[-1]] / learned[line[-1]].sum()))
print("sampled: " + "".join(chars[j] for j in line))

assert same and summed
assert losses[-1] < losses[0] / 2 and abs(losses[-1] - entropy) < 0.02
assert gap < 0.05
