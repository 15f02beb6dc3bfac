"""Rethinking conventional wisdom in ML: from generalization to scaling (Xiao, arXiv 2409.15156).

Small decoder-only transformer LMs on a learnable synthetic order-2 Markov source (plus a
flat-chain stress case and a bundled real-text control) test four scaling-era claims:
one-pass training has no generalization gap, coupled L2 does not help one-pass training,
the optimal learning rate shrinks with width, small batches are not best, and a constant
learning rate tuned at small width loses to a 1/D rule at larger width (the crossover).

Modules: `sources` (data and exact entropies), `c4` (paper scale: C4 → SentencePiece tokens),
`model` (batched transformer, FLOP count), `optim` (batched AdamW with per-model learning
rates), `experiment` (training one ensemble),
`analysis` (optimum interpolation, slope fit, crossover detector, learnability gate),
`stages`, `claims`. Only `spec` is imported at DAG-build time.
"""
