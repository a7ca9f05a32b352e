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

from ._checks import as_quantity, broadcast, finite_result, wrap_like
from ._checks import whole as _whole

if TYPE_CHECKING:
    from ._typing import Floats

__all__ = ["gqa_attention_params", "mla_attention_params", "param_counts"]


def _counted(what: str, **results) -> None:
    """A count that overflowed (inf, or NaN where an overflow met a zero) is refused."""
    finite_result(what, **{k: np.where(np.isnan(v), np.inf, v) for k, v in results.items()})


def _count(name: str, value, *, allow_zero: bool = True):
    """A shape: finite whole numbers >= 0 (> 0 unless ``allow_zero``), as a float array."""
    return _whole(name, as_quantity(name, value, allow_zero=allow_zero))


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
    d = _count("d_model", d_model, allow_zero=False)
    h = _count("n_heads", n_heads, allow_zero=False)
    kv = h if n_kv_heads is None else _count("n_kv_heads", n_kv_heads, allow_zero=False)
    hd = d / h if head_dim is None else _count("head_dim", head_dim, allow_zero=False)
    with np.errstate(over="ignore"):
        out = 2.0 * d * h * hd + 2.0 * d * kv * hd
    _counted("gqa_attention_params", attention_params=out)
    return wrap_like(out, d_model, n_heads)


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
    d = _count("d_model", d_model, allow_zero=False)
    h = _count("n_heads", n_heads, allow_zero=False)
    r_q = _count("q_lora_rank", q_lora_rank)
    r_kv = _count("kv_lora_rank", kv_lora_rank, allow_zero=False)
    nope = _count("qk_nope_head_dim", qk_nope_head_dim)
    rope = _count("qk_rope_head_dim", qk_rope_head_dim)
    v = _count("v_head_dim", v_head_dim, allow_zero=False)
    with np.errstate(over="ignore", invalid="ignore"):
        qk = nope + rope
        q = np.where(r_q > 0, d * r_q + r_q + r_q * h * qk, d * h * qk)
        kv = d * (r_kv + rope) + r_kv + r_kv * h * (nope + v)
        out = q + kv + h * v * d
    _counted("mla_attention_params", attention_params=out)
    return wrap_like(out, d_model, n_heads, q_lora_rank, kv_lora_rank,
                     qk_nope_head_dim, qk_rope_head_dim, v_head_dim)


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
    inputs = dict(n_layers=n_layers, d_model=d_model, attention_params=attention_params,
                  vocab_size=vocab_size, d_ff=d_ff, moe_layers=moe_layers, n_experts=n_experts,
                  experts_per_token=experts_per_token, shared_experts=shared_experts,
                  d_ff_expert=d_ff_expert)
    a = _moe_shape(**inputs)
    m = 3.0 if gated_mlp else 2.0
    d, ml = a["d_model"], a["moe_layers"]
    with np.errstate(invalid="ignore", over="ignore"):   # an unused part may overflow: 0
        common = a["attention_params"] + 2.0 * d                    # attention and the two norms
        dense_layer = common + m * d * a["d_ff"]
        expert = m * d * a["d_ff_expert"]
        router = d * a["n_experts"]
        moe_total = common + (a["n_experts"] + a["shared_experts"]) * expert + router
        moe_active = common + (a["experts_per_token"] + a["shared_experts"]) * expert + router
        outside = a["vocab_size"] * d * (1.0 if tied_embeddings else 2.0) + d   # + final norm
        dense_part = (a["n_layers"] - ml) * dense_layer
        moe_part = np.where(ml > 0, ml * moe_total, 0.0), np.where(ml > 0, ml * moe_active, 0.0)
        dense_part = np.where(a["n_layers"] > ml, dense_part, 0.0)
        total, active = dense_part + moe_part[0] + outside, dense_part + moe_part[1] + outside
    _counted("param_counts", total=total, active=active)
    return wrap_like(total, *inputs.values()), wrap_like(active, *inputs.values())


def _moe_shape(**shape):
    """The checked shape of :func:`param_counts`: whole counts that fit together, broadcast."""
    positive = ("n_layers", "d_model", "attention_params", "vocab_size")
    arrays = {k: (as_quantity(k, v, allow_zero=False) if k == "attention_params"
                  else _count(k, v, allow_zero=k not in positive)) for k, v in shape.items()}
    a = dict(zip(arrays, broadcast(**arrays), strict=True))

    def first(bad, text):
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise ValueError(text.format(**{k: f"{v.flat[i]:g}" for k, v in a.items()}))

    first(a["moe_layers"] > a["n_layers"], "moe_layers ({moe_layers}) cannot exceed n_layers "
          "({n_layers})")
    first((a["moe_layers"] > 0) & ((a["n_experts"] == 0) | (a["d_ff_expert"] == 0)
                                   | (a["experts_per_token"] == 0)),
          "MoE layers need n_experts, experts_per_token and d_ff_expert (got {n_experts}, "
          "{experts_per_token} and {d_ff_expert})")
    first(a["experts_per_token"] > a["n_experts"], "experts_per_token ({experts_per_token}) "
          "cannot exceed n_experts ({n_experts})")
    return a
