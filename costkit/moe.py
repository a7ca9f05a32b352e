"""Parameter counts of dense and mixture-of-experts Transformers from their shapes.

A mixture-of-experts (MoE) layer replaces the one MLP by ``E`` expert MLPs
and a router; each token runs through ``k`` routed experts plus any shared
experts. So a MoE model has two sizes that matter for cost:

- **total** parameters: what must be held in memory (and, in training,
  carried through gradients and optimizer states);
- **active** parameters: what one token multiplies, which sets the FLOPs.

:func:`param_counts` computes both from the shape (biases left out, norms
counted), with the attention block from :func:`gqa_attention_params` or
:func:`mla_attention_params` (DeepSeek's multi-head latent attention).

Examples
--------
Mixtral-8x7B (32 layers of 4096, 32 query / 8 KV heads of 128, 8 experts of
14336, 2 per token, vocabulary 32000, untied head): 46.7B total, 12.9B active.

>>> attn = gqa_attention_params(4096, 32, 8, 128)
>>> total, active = param_counts(n_layers=32, d_model=4096, attention_params=attn,
...                              vocab_size=32000, moe_layers=32, n_experts=8,
...                              experts_per_token=2, d_ff_expert=14336)
>>> round(total / 1e9, 2), round(active / 1e9, 2)
(46.7, 12.88)

References
----------
- [1] Jiang et al. 2024, "Mixtral of Experts", arXiv:2401.04088, Sec. 2.
- [2] DeepSeek-AI 2024, "DeepSeek-V3 Technical Report", arXiv:2412.19437,
  Sec. 2.1 and 4.2 (671B total, 37B activated; MLA ranks).
- [3] Shazeer et al. 2017, "Outrageously Large Neural Networks: The
  Sparsely-Gated Mixture-of-Experts Layer", arXiv:1701.06538.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_quantity

if TYPE_CHECKING:
    from ._typing import Floats

__all__ = ["gqa_attention_params", "mla_attention_params", "param_counts"]


def gqa_attention_params(d_model: Floats, n_heads: Floats, n_kv_heads: Floats | None = None,
                         head_dim: Floats | None = None) -> Floats:
    """Attention weights of one layer: Q and O (``d·h·hd``), K and V (``d·kv·hd``). [count]

    ``head_dim`` defaults to ``d_model / n_heads``; multi-head attention has
    ``n_kv_heads = n_heads``.

    Parameters
    ----------
    d_model : numeric
        Model (hidden) width. [count]
    n_heads : numeric
        Attention heads. [count]
    n_kv_heads : numeric, optional
        Key/value heads (grouped-query attention; = n_heads without it). [count]
    head_dim : numeric, optional
        Width of one attention head. [count]

    Returns
    -------
    numeric
        Attention weights of one layer: Q and O (``d·h·hd``), K and V (``d·kv·hd``). [count]

    Examples
    --------
    >>> gqa_attention_params(4096, 32)  # Llama 2 7B: 4 x 4096²
    67108864.0
    """
    d = as_quantity("d_model", d_model, allow_zero=False)
    h = as_quantity("n_heads", n_heads, allow_zero=False)
    kv = h if n_kv_heads is None else as_quantity("n_kv_heads", n_kv_heads, allow_zero=False)
    hd = d / h if head_dim is None else as_quantity("head_dim", head_dim, allow_zero=False)
    out = 2.0 * d * h * hd + 2.0 * d * kv * hd
    return float(out) if np.ndim(out) == 0 else out


def mla_attention_params(d_model: Floats, n_heads: Floats, *, q_lora_rank: Floats,
                         kv_lora_rank: Floats, qk_nope_head_dim: Floats, qk_rope_head_dim: Floats,
                         v_head_dim: Floats) -> Floats:
    """Multi-head latent attention weights of one layer (DeepSeek-V2/V3). [count]

    Queries through a rank-``q_lora_rank`` bottleneck (0: a full ``d x h·(nope
    + rope)`` matrix); keys and values through one shared ``kv_lora_rank``
    latent plus a shared RoPE key of ``qk_rope_head_dim``; the output
    projection ``h·v_head_dim x d``; the two latent RMSNorms [2]::

        q:  d·r_q + r_q + r_q·h·(nope + rope)      (or d·h·(nope + rope))
        kv: d·(r_kv + rope) + r_kv + r_kv·h·(nope + v)
        o:  h·v·d

    Parameters
    ----------
    d_model : numeric
        Model (hidden) width. [count]
    n_heads : numeric
        Attention heads. [count]
    q_lora_rank : numeric
        Rank of the query compression (0: none). [count]
    kv_lora_rank : numeric
        Width of the cached key/value latent. [count]
    qk_nope_head_dim : numeric
        Per-head query/key width without rotary embedding. [count]
    qk_rope_head_dim : numeric
        Per-head rotary query/key width (one shared rotary key). [count]
    v_head_dim : numeric
        Per-head value width. [count]

    Returns
    -------
    numeric
        Multi-head latent attention weights of one layer (DeepSeek-V2/V3). [count]

    Examples
    --------
    DeepSeek-V3's attention (d = 7168, 128 heads):

    >>> mla_attention_params(7168, 128, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
    ...                      qk_rope_head_dim=64, v_head_dim=128)
    187107328.0
    """
    d = float(d_model)
    h = float(n_heads)
    qk = float(qk_nope_head_dim) + float(qk_rope_head_dim)
    if q_lora_rank:
        q = d * q_lora_rank + q_lora_rank + q_lora_rank * h * qk
    else:
        q = d * h * qk
    kv = (d * (kv_lora_rank + qk_rope_head_dim) + kv_lora_rank
          + kv_lora_rank * h * (qk_nope_head_dim + v_head_dim))
    return q + kv + h * v_head_dim * d


def param_counts(*, n_layers: Floats, d_model: Floats, attention_params: Floats, vocab_size: Floats,
                 d_ff: Floats = 0, moe_layers: Floats = 0, n_experts: Floats = 0,
                 experts_per_token: Floats = 0, shared_experts: Floats = 0, d_ff_expert: Floats = 0,
                 tied_embeddings: bool = False, gated_mlp: bool = True) -> tuple[Floats, Floats]:
    """Total and active parameters of a (mixture-of-experts) decoder. [count, count]

    Parameters
    ----------
    n_layers, d_model : int
        Layers and width.
    attention_params : numeric
        Attention weights of one layer (:func:`gqa_attention_params`,
        :func:`mla_attention_params`).
    vocab_size : int
        Vocabulary; the embedding table, plus an output head unless
        ``tied_embeddings``.
    d_ff : int
        Width of the dense layers' MLP (the ``n_layers - moe_layers`` layers).
    moe_layers : int
        Layers whose MLP is a mixture of experts.
    n_experts, experts_per_token, shared_experts : int
        Routed experts E, routed experts per token k, and always-on shared
        experts per MoE layer.
    d_ff_expert : int
        Width of one expert's MLP.
    gated_mlp : bool
        SwiGLU MLPs (3 matrices) if True, 2 matrices otherwise.
    tied_embeddings : bool, default False
        The output layer shares the input embedding.

    Returns
    -------
    tuple of float
        ``(total, active)``: every weight, and the weights one token multiplies (its k
        routed and the shared experts, the router, everything else). [count]

    Notes
    -----
    Per layer: attention + 2 RMSNorm vectors; an MoE layer adds
    ``(E + shared)·m·d·f_e`` expert weights (``m`` = 3 gated, 2 not) and a
    router ``d·E``, of which a token uses ``(k + shared)·m·d·f_e + d·E``.
    Biases and the routers' balance biases are not counted (DeepSeek-V3:
    256 per layer).

    Examples
    --------
    Mixtral 8x7B: 46.7B weights, 12.9B used per token.

    >>> total, active = param_counts(n_layers=32, d_model=4096,
    ...     attention_params=gqa_attention_params(4096, 32, 8), vocab_size=32000, moe_layers=32,
    ...     n_experts=8, experts_per_token=2, d_ff_expert=14336)
    >>> int(total), int(active)
    (46702792704, 12879925248)
    """
    m = 3.0 if gated_mlp else 2.0
    L, d = float(n_layers), float(d_model)
    ml = float(moe_layers)
    if ml > L:
        raise ValueError(f"moe_layers ({ml:g}) cannot exceed n_layers ({L:g})")
    if ml and (not n_experts or not d_ff_expert or not experts_per_token):
        raise ValueError("MoE layers need n_experts, experts_per_token and d_ff_expert")
    if experts_per_token > n_experts:
        raise ValueError(f"experts_per_token ({experts_per_token}) cannot exceed n_experts "
                         f"({n_experts})")
    common = attention_params + 2.0 * d                    # attention and the two norms
    dense_layer = common + m * d * d_ff
    expert = m * d * d_ff_expert
    router = d * n_experts
    moe_total = common + (n_experts + shared_experts) * expert + router
    moe_active = common + (experts_per_token + shared_experts) * expert + router
    outside = vocab_size * d * (1.0 if tied_embeddings else 2.0) + d   # + final norm
    dense_part = (L - ml) * dense_layer
    return dense_part + ml * moe_total + outside, dense_part + ml * moe_active + outside
