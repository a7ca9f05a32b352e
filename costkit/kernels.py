"""Pure kernels: the equations every estimate, the fit and the validation report share.

Each function takes numbers or numpy arrays that already broadcast, checks
nothing and looks nothing up: the public functions (:func:`costkit.training.flops`,
:func:`costkit.training.estimate`, :func:`costkit.serving.estimate`, the
efficiency fit in :mod:`costkit.mfu`) resolve and check their inputs, then
call these. One formula lives in one place, so the estimate, the notebook, the
CLI, the calibration fit and ``make validate`` cannot disagree.

Units are in the names: FLOP, bytes, seconds, GPU-hours, GB/s = 1e9 bytes/s.

References
----------
- [1] Kaplan et al. 2020 (arXiv:2001.08361) Sec. 2.1 and Chowdhery et al.
  2022 (PaLM, arXiv:2204.02311) Appendix B: training FLOPs.
- [2] Pope et al. 2023, "Efficiently Scaling Transformer Inference"
  (arXiv:2211.05102) Sec. 2: KV-cache bytes, tensor-parallel all-reduce.
- [3] DeepSeek-AI 2024, DeepSeek-V2 (arXiv:2405.04434) Sec. 2.1: multi-head
  latent attention caches ``kv_lora_rank + rope_head_dim`` values per layer.
- [4] Fedus, Zoph and Shazeer 2022, "Switch Transformers" (JMLR 23:120) and
  Lepikhin et al. 2021, "GShard" (arXiv:2006.16668): token dispatch and
  combine by all-to-all under expert parallelism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._typing import Floats

__all__ = [
    "all_reduce_seconds", "all_to_all_bytes_per_token", "attention_flops_per_token",
    "co2_kg", "distinct_experts", "facility_energy_kwh",
    "gpu_hours", "kv_bytes_per_token", "scaling_efficiency", "training_flops",
]  # fmt: skip


def training_flops(params: Floats, trainable: Floats, tokens: Floats,
                   attention_per_token: Floats = 0.0) -> Floats:
    """Training FLOPs: ``(4·N + 2·N_t)·D + A·D``. [FLOP]

    ``params`` N are the parameters each token passes through (a
    mixture-of-experts model's *active* parameters), ``trainable`` N_t those
    with gradients (= N for full training), ``tokens`` D, and
    ``attention_per_token`` A = 12·L·d·s the attention FLOPs per token
    (0 to leave attention out). Forward 2·N, backward 2·N + 2·N_t [1].

    Parameters
    ----------
    params : numeric
        Parameters multiplied per token, N (active ones for a MoE). [count]
    trainable : numeric
        Parameters that receive weight gradients, N_t. [count]
    tokens : numeric
        Training tokens, D. [count]
    attention_per_token : numeric, default 0.0
        Attention FLOPs per token, A (:func:`attention_flops_per_token`). [FLOP]

    Returns
    -------
    numeric
        Training FLOPs: ``(4·N + 2·N_t)·D + A·D``. [FLOP]

    Examples
    --------
    Full training of 7B parameters on 2T tokens: 6·N·D.

    >>> training_flops(7e9, 7e9, 2e12)
    8.4e+22
    """
    return (4.0 * params + 2.0 * trainable) * tokens + attention_per_token * tokens


def attention_flops_per_token(n_layers: Floats, d_model: Floats, seq_len: Floats) -> Floats:
    """Training attention FLOPs per token: ``12·L·d·s`` (QK^T and AV, fwd + bwd). [FLOP]

    Parameters
    ----------
    n_layers : numeric
        Layers, L. [count]
    d_model : numeric
        Model width, d. [count]
    seq_len : numeric
        Sequence length, s. [tokens]

    Returns
    -------
    numeric
        Training attention FLOPs per token: ``12·L·d·s`` (QK^T and AV, fwd + bwd). [FLOP]

    Examples
    --------
    Llama 2 7B (32 layers, d = 4096) at 4,096 tokens:

    >>> attention_flops_per_token(32, 4096, 4096) / 1e9
    6.442450944
    """
    return 12.0 * n_layers * d_model * seq_len


def gpu_hours(flops: Floats, mfu: Floats, goodput: Floats, peak_tflops: Floats) -> Floats:
    """GPU-hours to run ``flops`` at step MFU x goodput of the dense peak. [GPU-hour]

    ``mfu`` is the share of the peak a running training step achieves,
    ``goodput`` the share of the GPU-hours bought that run training steps
    (the rest: restarts, checkpointing, evaluation, idle time)::

        GPU-hours = FLOPs / (MFU x goodput x peak [FLOP/s] x 3600 s/h)

    Parameters
    ----------
    flops : numeric
        Training FLOPs. [FLOP]
    mfu : numeric
        Model FLOPs utilisation of a running step. [unitless, 0-1]
    goodput : numeric
        Share of paid time that runs steps. [unitless, 0-1]
    peak_tflops : numeric
        Dense peak of one GPU for the data type. [TFLOPS]

    Returns
    -------
    numeric
        GPU-hours to run ``flops`` at step MFU x goodput of the dense peak. [GPU-hour]

    Examples
    --------
    8.4e22 FLOPs at 40% MFU, 90% goodput on a 989.5 TFLOPS H100:

    >>> round(gpu_hours(8.4e22, 0.4, 0.9, 989.5))
    65503
    """
    return flops / (mfu * goodput * (peak_tflops * 3.6e15))  # 3.6e15 = 1e12 FLOP/TFLOP x 3600 s/h


def scaling_efficiency(n_gpus: Floats, loss_per_doubling: Floats,
                       node_gpus: Floats = 8.0) -> Floats:
    """Share of the MFU left at ``n_gpus`` when each doubling past one node loses some. [0-1]

    ``loss_per_doubling`` is the throughput lost per doubling of the GPU count beyond
    ``node_gpus`` (communication that no longer hides)::

        efficiency = (1 - loss) ** max(0, log2(n_gpus / node_gpus))

    Parameters
    ----------
    n_gpus : numeric
        GPUs in the job. [count]
    loss_per_doubling : numeric
        Share lost per doubling beyond one node. [unitless, 0-1]
    node_gpus : numeric, default 8
        GPUs of one node, within which no loss is counted. [count]

    Returns
    -------
    numeric
        The factor on the MFU. [unitless, 0-1]

    Examples
    --------
    64 GPUs are three doublings past a node of 8; at 5% lost per doubling, 0.95³:

    >>> round(float(scaling_efficiency(64, 0.05)), 6)
    0.857375
    """
    return (1.0 - loss_per_doubling) ** np.maximum(0.0, np.log2(n_gpus / node_gpus))


def facility_energy_kwh(gpu_hours: Floats, watts_per_gpu: Floats, pue: Floats) -> Floats:
    """Energy the facility draws for ``gpu_hours``: GPU power x PUE. [kWh]

    ``watts_per_gpu`` is the power of one GPU with its share of the server;
    the power usage effectiveness ``pue`` adds cooling and distribution::

        kWh = GPU-hours x W x PUE / 1000

    Parameters
    ----------
    gpu_hours : numeric
        GPU-hours run. [GPU-hour]
    watts_per_gpu : numeric
        Power of one GPU and its share of the server. [W]
    pue : numeric
        Power usage effectiveness of the facility. [unitless, >= 1]

    Returns
    -------
    numeric
        Energy drawn by the facility. [kWh]

    Examples
    --------
    >>> facility_energy_kwh(1000.0, 700.0, 1.2)    # 1,000 H100-hours at 700 W, PUE 1.2
    840.0
    """
    return gpu_hours * watts_per_gpu * pue / 1000.0


def co2_kg(energy_kwh: Floats, kg_co2_per_kwh: Floats) -> Floats:
    """Emissions of ``energy_kwh`` on a grid of ``kg_co2_per_kwh``. [kg CO2e]

    Parameters
    ----------
    energy_kwh : numeric
        Energy drawn. [kWh]
    kg_co2_per_kwh : numeric
        Carbon intensity of the grid. [kg CO2e / kWh]

    Returns
    -------
    numeric
        Emissions. [kg CO2e]

    Examples
    --------
    >>> round(co2_kg(840.0, 0.385), 1)
    323.4
    """
    return energy_kwh * kg_co2_per_kwh


def kv_bytes_per_token(n_layers: Floats, n_kv_heads: Floats, head_dim: Floats,
                       bytes_per_element: Floats, latent_dim: Floats = 0.0) -> Floats:
    """KV-cache bytes of one token. [bytes]

    Multi-head and grouped-query attention: keys and values of every layer,
    ``2·L·kv_heads·head_dim·bytes`` [2]. Multi-head latent attention (MLA,
    DeepSeek-V2/V3) caches one compressed vector per layer instead,
    ``L·latent_dim·bytes`` with ``latent_dim = kv_lora_rank + rope_head_dim``
    [3]; pass ``latent_dim`` > 0 to use it (where it is > 0).

    Parameters
    ----------
    n_layers : numeric
        Transformer layers. [count]
    n_kv_heads : numeric
        Key/value heads (grouped-query attention; = n_heads without it). [count]
    head_dim : numeric
        Width of one attention head. [count]
    bytes_per_element : numeric
        Bytes of one stored value (2 for fp16/bf16). [bytes]
    latent_dim : numeric, default 0.0
        Cached latent width per layer for multi-head latent attention (0: standard KV
        cache). [count]

    Returns
    -------
    numeric
        KV-cache bytes of one token. [bytes]

    Examples
    --------
    Llama 2 7B in fp16 (32 layers, 32 KV heads of 128): 0.5 MiB per token.

    >>> kv_bytes_per_token(32, 32, 128, 2)
    524288.0
    """
    latent = np.asarray(latent_dim, dtype=float)
    if latent.ndim == 0 and latent <= 0:  # no latent attention: the common case, one branch
        return 2.0 * n_layers * n_kv_heads * head_dim * bytes_per_element
    return np.where(latent > 0, n_layers * latent * bytes_per_element,
                    2.0 * n_layers * n_kv_heads * head_dim * bytes_per_element)


def distinct_experts(n_experts: Floats, experts_per_token: Floats,
                     tokens_in_flight: Floats) -> Floats:
    """Expected number of distinct routed experts a batch touches in one layer. [count]

    With ``k`` of ``E`` experts drawn per token and the tokens routed
    independently and uniformly (what load-balancing losses aim for), an
    expert is missed by one token with probability ``1 - k/E``, so::

        E[distinct] = E x (1 - (1 - k/E) ** T)

    for T tokens in the step: 1 token reads k experts, a large batch reads
    all E. A decode step reads only these experts' weights.

    Parameters
    ----------
    n_experts : numeric
        Routed experts per layer, E. [count]
    experts_per_token : numeric
        Routed experts each token uses, k. [count]
    tokens_in_flight : numeric
        Tokens routed together (the batch in a decode step), T. [count]

    Returns
    -------
    numeric
        Expected number of distinct routed experts a batch touches in one layer. [count]

    Examples
    --------
    Mixtral (8 experts, 2 per token): one token touches 2, a batch of 16 almost all 8.

    >>> float(distinct_experts(8, 2, 1)), round(float(distinct_experts(8, 2, 16)), 2)
    (2.0, 7.92)
    """
    e = np.asarray(n_experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        miss = np.where(e > 0, 1.0 - k / np.where(e > 0, e, 1.0), 1.0)
    return np.where(e > 0, e * (1.0 - miss ** np.asarray(tokens_in_flight, dtype=float)), 0.0)


def all_to_all_bytes_per_token(moe_layers: Floats, experts_per_token: Floats, d_model: Floats,
                               bytes_per_element: Floats, expert_parallel: Floats,
                               passes: Floats = 4.0) -> Floats:
    """Bytes one token sends to other GPUs through expert-parallel all-to-alls. [bytes]

    Each MoE layer dispatches the token's hidden state to its ``k`` experts
    and combines their outputs: ``2·k·d`` values forward, the same again for
    the gradients backward (``passes`` = 4 in training, 2 in inference),
    times the share of experts on other GPUs, ``(EP - 1) / EP`` [4].

    Parameters
    ----------
    moe_layers : numeric
        Layers whose MLP is a mixture of experts. [count]
    experts_per_token : numeric
        Routed experts each token uses, k. [count]
    d_model : numeric
        Model width, d. [count]
    bytes_per_element : numeric
        Bytes of one stored value (2 for fp16/bf16). [bytes]
    expert_parallel : numeric
        GPUs the experts are spread over, EP. [count]
    passes : numeric, default 4.0
        All-to-alls per layer: 4 in training (dispatch and combine, forward and backward), 2
        in inference. [count]

    Returns
    -------
    numeric
        Bytes one token sends to other GPUs through expert-parallel all-to-alls. [bytes]

    Examples
    --------
    DeepSeek-V3's 58 MoE layers, k = 8, d = 7168, bf16, over 64 GPUs:

    >>> float(all_to_all_bytes_per_token(58, 8, 7168, 2, 64)) / 1e6
    26.191872
    """
    ep = np.asarray(expert_parallel, dtype=float)
    remote = np.where(ep > 1, (ep - 1.0) / np.maximum(ep, 1.0), 0.0)
    return passes * moe_layers * experts_per_token * d_model * bytes_per_element * remote


def all_reduce_seconds(bytes_per_gpu: Floats, n_gpus: Floats, link_bytes_per_s: Floats,
                       latency_s: Floats = 0.0) -> Floats:
    """Time of a ring all-reduce of ``bytes_per_gpu`` over ``n_gpus``. [s]

    Each GPU sends and receives ``2·(n-1)/n`` of the buffer over its link
    (reduce-scatter then all-gather) [2], plus a fixed ``latency_s`` per
    call; 0 for one GPU.

    Parameters
    ----------
    bytes_per_gpu : numeric
        Buffer each GPU all-reduces. [bytes]
    n_gpus : numeric
        GPUs in the ring. [count]
    link_bytes_per_s : numeric
        One-direction bandwidth of each GPU's link. [bytes/s]
    latency_s : numeric, default 0.0
        Fixed time per call. [s]

    Returns
    -------
    numeric
        Time of a ring all-reduce of ``bytes_per_gpu`` over ``n_gpus``. [s]

    Examples
    --------
    A 1 GB buffer over 8 GPUs on 450 GB/s links: 2 x 7/8 of it each way.

    >>> round(float(all_reduce_seconds(1e9, 8, 450e9)) * 1e3, 3)
    3.889
    """
    n = np.asarray(n_gpus, dtype=float)
    share = np.where(n > 1, 2.0 * (n - 1.0) / np.maximum(n, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # one GPU: no link, no all-reduce
        return np.where(n > 1, bytes_per_gpu * share / link_bytes_per_s + latency_s, 0.0)
