"""The paper-calibrated baseline, written once (nanoGPT's habit): every spec, recipe option, CLI
flag and check that means "the baseline" reads its value from here.

The baseline is the setting of Barak et al. 2022 Fig 1 as the spec's calibration runs fixed it
(`spec/paper-claims.md` section 2, "[cal] baseline"): a 2-layer ReLU MLP of width 100 trained on
(n,k)-sparse parity by online SGD with constant learning rate 0.1, batch 32, hinge loss,
Xavier-uniform weights and PyTorch-style biases, evaluated every 100 steps on 8192 fresh samples.
Where a recipe needs another value (Fig 2 center uses B = 128, lr 0.01), it overrides the field
with a comment naming its source.
"""
from __future__ import annotations

# ---- task: (n, k) sparse parity (Barak et al. section 2) ------------------------------------
PARITY_N = 50  # input dimension n: Fig 1 left is (50, 3)
PARITY_K = 3  # support size k: Fig 1's k
EVAL_SAMPLES = 8192  # fresh validation samples per evaluation: 2^13, Barak et al. section 3.1

# ---- model: architecture (ii) of Barak et al. section 3.1 ------------------------------------
WIDTH = 100  # hidden units r of the 2-layer MLP
ACTIVATION = "relu"  # sigma; 'power' gives the z^k networks (iv)-(vi)
INIT = "uniform"  # Xavier-uniform U[-c, c], c = sqrt(6 / (fan_in + fan_out)) (spec 1.4)

# ---- loss and optimizer ---------------------------------------------------------------------
LOSS = "hinge"  # max(0, 1 - y f): the loss of Barak et al.'s Fig 1
OPTIMIZER = "sgd"  # online SGD, Barak et al. eq. 1
LEARNING_RATE = 0.1  # eta, constant; the best of {1e-3, 1e-2, 0.1, 1} for the baseline ([cal])
BATCH_SIZE = 32  # B: Fig 1's batch size

# ---- training budget and evaluation ---------------------------------------------------------
MAX_STEPS = 20_000  # steps per trial: about 5x the slowest baseline median t_c ((50,3): 4.2k, [cal])
EVAL_EVERY = 100  # steps between evaluations: the resolution of t_c ([cal]; the paper's is unrecovered)
SEED = 0  # base seed: trial i of a config draws every key from (seed, i)
PAPER_BUDGET = 100_000  # the paper's success budget: t_c <= 10^5 (Barak et al. section 3.1)
SUCCESS_RATE = 0.2  # a configuration "solves" a task if >= 20% of its seeds succeed (section 3.1)

# --- Mohamadi et al. 2024 ("Why Do You Grok?"), modular addition ------------------------------
WG_WIDTH_PER_CLASS = 4  # hidden units h = 4p of the quadratic network: UNRECOVERED, the spec's assumption
WG_INIT = "he-normal"  # W ~ N(0, 2 / 2p), V ~ N(0, 2 / h): He init [19] of WG section A ([cal2] reproduced with it)
# eNTK probe: a seeded subset of the training inputs keeps K (n^2 entries, n^2 P work per evaluation)
# cheap enough to record at every evaluation of every trial; the change ratio needs pairs, not all n.
ENTK_PROBE_POINTS = 256
ENTK_MEMORY_BYTES = 64 * 2**20  # Jacobian/product rows held at once per trial (vmapped: x lanes)
# The one-layer Transformer of WG Fig 5 (sizes unstated there): Nanda et al.'s grokking model.
WG_TRANSFORMER_D_MODEL = 128  # residual-stream width
WG_TRANSFORMER_HEADS = 4  # attention heads (32 dims each at d_model 128)
WG_TRANSFORMER_D_MLP = 512  # ReLU MLP hidden units, 4 d_model
