"""A day of tokens on expert-parallel pools: the nodes and money it takes, beside a published day.

A large mixture-of-experts model is served as two disaggregated pools (prefill and
decode), each spread over ``EP`` GPUs: attention and the shared experts are
data-parallel (every GPU holds them and its own sequences), the routed experts are
spread over the pool (``(E + R) / EP`` per GPU, R redundant copies of the busiest),
and every MoE layer sends each token's hidden state to its k experts and back
(dispatch, combine) over the network. For ``n`` tokens a GPU handles in one pass
(decode: its batch B; prefill: its chunk of new prompt tokens) at context c::

    weights per GPU   = (N_dense + L_moe·(E + R)/EP·N_expert)·bytes        [bytes]
    dense matmuls     = max(2·N_mm·n / (u_c8·peak8), N_mm·bytes / (u_bw·BW))
    routed experts    = max(2·L_moe·k·N_expert·n / (u_c8·peak8), local expert bytes / (u_bw·BW))
    attention         = max(n·F_att(c) / (u_c·peak16), n·c·kv / (u_bw·BW))     (decode: KV read)
    compute           = max(sum of the three, L·t_layer) / s_stack                        [s]
    network           = n x network bytes per token / NIC    (per expert, or once per node)  [s]
    pass              = compute + network - overlap·min(compute, network)                 [s]

with the utilisations u of :func:`costkit.serving_efficiency.default` (fitted on
MLPerf before 2024-07-01, nothing from the day being reproduced). ``F_att`` is the
attention FLOPs of one token over c cached tokens: multi-head latent attention (MLA)
decodes in the absorbed form, ``2·L·H·(2r + ρ)·c`` (scores over the r + ρ latent,
values over the r latent), and prefills in the expanded form ``2·L·H·(d_qk + d_v)·c``;
grouped-query attention ``4·L·H·d_head·c``. Then::

    decode tokens/s per GPU   = B / pass(B), at the largest B that fits the memory and
                                gives each user at least the SLO's tokens per second
    prefill tokens/s per GPU  = n / pass(n) computed, / (1 - h) counting cache hits h
    nodes                     = tokens per day / (tokens/s per node x seconds in the day)
    USD per day               = nodes x GPUs per node x USD per GPU-hour x hours

:func:`reproduce` works a :class:`PublishedDay` (:data:`DEEPSEEK_V3_R1_DAY`, DeepSeek's
own figures for 2025-02-27 04:00 to 02-28 04:00 UTC) through these kernels and
explains the gap to the published throughput term by term.

References
----------
- [1] DeepSeek-AI, "Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview",
  github.com/deepseek-ai/open-infra-index, 202502OpenSourceWeek (2025-03-01).
- [2] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, Sec. 2.1 (MLA),
  3.2.2 (IB 50 GB/s per GPU, NVLink 160 GB/s), 3.4 (inference deployment).
- [3] Liu et al., "DeepSeek-V2", arXiv:2405.04434, Sec. 2.1.2 and Appendix C (MLA's
  absorbed weights at inference).
- [4] deepseek-ai/DeepEP, README (dispatch in FP8, combine in BF16; low-latency decode
  kernels over RDMA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_fraction, as_quantity, count, finite_result
from .kernels import all_to_all_bytes_per_token, distinct_experts, kv_bytes_per_token

if TYPE_CHECKING:
    from ._typing import Floats, Frame, StrPath
    from .serving_efficiency import ServingEfficiency

__all__ = ["DEEPSEEK_V3_R1_DAY", "MAX_BATCH", "NIC_GB_PER_S", "PublishedDay", "TokenDay",
           "attention_flops_per_token", "ep_weight_bytes_per_gpu", "network_bytes_per_token",
           "overlapped_s", "pool_pass",
           "reproduce"]

NIC_GB_PER_S = 50.0
"""One H800's InfiniBand bandwidth, one direction [GB/s] (DeepSeek-V3 report, Sec. 3.2.2)."""

MAX_BATCH = 1024
"""The largest decode batch per GPU the search tries. [sequences]"""

_PREFILL_TOKENS_PER_GPU = 16384
"""New prompt tokens one prefill GPU takes in a pass (an assumption: large enough that the
pass is compute-bound; the published overview does not give it). [tokens]"""


# --------------------------------------------------------------------------- kernels

def ep_weight_bytes_per_gpu(dense_params: Floats, expert_params: Floats, moe_layers: Floats,
                            n_experts: Floats, redundant_experts: Floats,
                            expert_parallel: Floats, bytes_per_param: Floats) -> Floats:
    """Weights one GPU holds in an expert-parallel pool. [bytes]

    ``(N_dense + L_moe·(E + R)/EP·N_expert)·bytes``: every GPU holds the dense part
    (attention, shared experts, dense layers, embeddings) and its share of the routed
    experts with their redundant copies.

    Parameters
    ----------
    dense_params : numeric
        Parameters every GPU holds: all but the routed experts, N_dense. [count]
    expert_params : numeric
        Parameters of one routed expert in one layer, N_expert. [count]
    moe_layers : numeric
        Layers whose MLP is a mixture of experts, L_moe. [count]
    n_experts : numeric
        Routed experts per MoE layer, E. [count]
    redundant_experts : numeric
        Extra copies of busy experts per layer, R. [count]
    expert_parallel : numeric
        GPUs the routed experts are spread over, EP. [count]
    bytes_per_param : numeric
        Bytes of one stored weight (1 for fp8). [bytes]

    Returns
    -------
    numeric
        Weights one GPU holds. [bytes]

    Examples
    --------
    DeepSeek-V3 in fp8 on a decode unit of 144 GPUs (2 routed experts per GPU per layer):

    >>> expert = 3 * 7168 * 2048
    >>> round(float(ep_weight_bytes_per_gpu(17.12e9, expert, 58, 256, 32, 144, 1)) / 1e9, 2)
    22.23
    """
    return (dense_params + moe_layers * (n_experts + redundant_experts) / expert_parallel
            * expert_params) * bytes_per_param


def attention_flops_per_token(n_layers: Floats, n_heads: Floats, context_tokens: Floats, *,
                              head_dim: Floats, kv_lora_rank: Floats = 0.0,
                              rope_head_dim: Floats = 0.0, v_head_dim: Floats | None = None,
                              absorbed: bool = True) -> Floats:
    """Attention FLOPs of one new token over ``context_tokens`` cached ones. [FLOP]

    Scores and the weighted sum of values, 2 FLOP per multiply-add:

    - grouped-query / multi-head attention: ``4·L·H·d_head·c``;
    - latent attention (MLA, ``kv_lora_rank`` r > 0), absorbed (decode): the query is
      multiplied into the latent, so scores run over r + ρ values and the sum over r:
      ``2·L·H·(2r + ρ)·c`` [3];
    - MLA expanded (prefill): keys of ``head_dim`` d_qk and values of ``v_head_dim`` d_v,
      ``2·L·H·(d_qk + d_v)·c``.

    Parameters
    ----------
    n_layers : numeric
        Layers, L. [count]
    n_heads : numeric
        Query heads, H. [count]
    context_tokens : numeric
        Tokens the new token attends to, c. [tokens]
    head_dim : numeric
        Query / key width of one head (MLA: nope + rope), d_qk. [count]
    kv_lora_rank : numeric, default 0.0
        MLA's latent width r (0: not latent attention). [count]
    rope_head_dim : numeric, default 0.0
        MLA's decoupled RoPE width, ρ. [count]
    v_head_dim : numeric, optional
        Value width of one head; default ``head_dim - rope_head_dim``. [count]
    absorbed : bool, default True
        MLA in the absorbed form (decode) rather than expanded (prefill).

    Returns
    -------
    numeric
        Attention FLOPs of one new token. [FLOP]

    Examples
    --------
    DeepSeek-V3 (61 layers, 128 heads, r = 512, ρ = 64) decoding over 4,989 cached tokens:

    >>> round(float(attention_flops_per_token(61, 128, 4989, head_dim=192, kv_lora_rank=512,
    ...                                       rope_head_dim=64)) / 1e9, 1)
    84.8
    """
    r = np.asarray(kv_lora_rank, dtype=float)
    v = np.asarray(head_dim, dtype=float) - rope_head_dim if v_head_dim is None else v_head_dim
    per = (2.0 * r + rope_head_dim) if absorbed else (np.asarray(head_dim, dtype=float) + v)
    width = np.where(r > 0, per, 2.0 * np.asarray(head_dim, dtype=float))
    return 2.0 * n_layers * n_heads * width * context_tokens


def network_bytes_per_token(moe_layers: Floats, experts_per_token: Floats, d_model: Floats,
                            dispatch_bytes: Floats, combine_bytes: Floats,
                            expert_parallel: Floats, gpus_per_node: Floats,
                            by_node: bool) -> Floats:
    """Bytes one token sends over the network (between nodes) in one pass. [bytes]

    Each MoE layer dispatches the token's hidden state (``dispatch_bytes`` per value) to
    its k experts and combines their outputs (``combine_bytes``). Per expert (decode's
    low-latency kernels, pure RDMA [4])::

        L_moe·k·d·(b_d + b_c)·(EP - 1)/EP

    Forwarded by node (prefill's normal kernels send once to each node over IB and fan
    out over NVLink [2], [4]), for N = EP / gpus_per_node nodes::

        L_moe·d·(b_d + b_c)·(N - 1)·(1 - (1 - 1/N)^k)      (distinct other nodes reached)

    Parameters
    ----------
    moe_layers : numeric
        Layers whose MLP is a mixture of experts. [count]
    experts_per_token : numeric
        Routed experts each token uses, k. [count]
    d_model : numeric
        Model width, d. [count]
    dispatch_bytes : numeric
        Bytes of one dispatched value (1 for fp8). [bytes]
    combine_bytes : numeric
        Bytes of one combined value (2 for bf16). [bytes]
    expert_parallel : numeric
        GPUs the experts are spread over, EP. [count]
    gpus_per_node : numeric
        GPUs that share a node (NVLink). [count]
    by_node : bool
        Forward by node (True) or send to each expert (False).

    Returns
    -------
    numeric
        Bytes one token sends between nodes in one pass. [bytes]

    Examples
    --------
    DeepSeek-V3, fp8 dispatch and bf16 combine, on 144 GPUs per expert and on 32 GPUs (4
    nodes) by node:

    >>> round(float(network_bytes_per_token(58, 8, 7168, 1, 2, 144, 8, False)) / 1e6, 2)
    9.91
    >>> round(float(network_bytes_per_token(58, 8, 7168, 1, 2, 32, 8, True)) / 1e6, 2)
    3.37
    """
    if not by_node:
        return (all_to_all_bytes_per_token(moe_layers, experts_per_token, d_model,
                                           dispatch_bytes, expert_parallel, passes=1.0)
                + all_to_all_bytes_per_token(moe_layers, experts_per_token, d_model,
                                             combine_bytes, expert_parallel, passes=1.0))
    nodes = np.asarray(expert_parallel, dtype=float) / gpus_per_node
    # the token's k experts are k draws of a node: the distinct nodes, less its own share
    others = distinct_experts(nodes, 1.0, experts_per_token) * (nodes - 1.0) / nodes
    return moe_layers * d_model * (dispatch_bytes + combine_bytes) * others


def overlapped_s(compute_s: Floats, network_s: Floats, overlap: Floats) -> Floats:
    """Time of a pass whose network transfers overlap its compute by a share. [s]

    ``t = compute + network - overlap·min(compute, network)``: overlap 1 hides the
    shorter of the two behind the longer (two micro-batches in turn [1]), 0 runs them
    one after the other.

    Parameters
    ----------
    compute_s : numeric
        The pass's compute time. [s]
    network_s : numeric
        Its network time. [s]
    overlap : numeric
        Share of the shorter hidden, 0 to 1. [unitless]

    Returns
    -------
    numeric
        Time of the pass. [s]

    Examples
    --------
    >>> float(overlapped_s(3.0, 2.0, 1.0)), float(overlapped_s(3.0, 2.0, 0.0))
    (3.0, 5.0)
    """
    return compute_s + network_s - overlap * np.minimum(compute_s, network_s)


def _roof(flop, bytes_, flop_per_s, bytes_per_s):
    """One kernel's roofline time: the slower of its FLOPs and its bytes. [s]"""
    return np.maximum(flop / flop_per_s, bytes_ / bytes_per_s)


def pool_pass(tokens: Floats, *, context_tokens: Floats, shape: dict, hw: dict,
              overlap: Floats = 1.0, decode: bool = True) -> dict:
    """Compute, network and pass time of ``tokens`` on one GPU of an expert-parallel pool.

    The module's equations: dense matmuls, routed experts and attention each at their
    roofline (u_c, u_bw applied), summed and floored at ``L·t_layer``, divided by the
    stack's speed; each token's dispatch and combine (``shape['network_bytes']``) over the
    NIC; the two overlapped by ``overlap``.

    Parameters
    ----------
    tokens : numeric
        Tokens the GPU handles in one pass (decode: its batch; prefill: its chunk). [tokens]
    context_tokens : numeric
        Mean tokens each attends to. [tokens]
    shape : dict
        The model on this pool (from :func:`reproduce`'s resolution): ``mm_params``,
        ``expert_params``, ``moe_layers``, ``experts_per_token``, ``d_model``, ``n_layers``,
        ``local_expert_bytes``, ``kv_bytes``, ``att_flops_decode``, ``att_flops_prefill``
        (per context token), ``dispatch_bytes``, ``combine_bytes``, ``expert_parallel``.
    hw : dict
        ``flops8``, ``flops16`` [FLOP/s], ``bytes_per_s`` (HBM) and ``nic_bytes_per_s``
        [bytes/s] at their achieved utilisations, ``layer_s`` [s], ``stack`` [unitless].
    overlap : numeric, default 1.0
        Share of the shorter of compute and network hidden. [unitless]
    decode : bool, default True
        A decode pass (absorbed attention reading the KV cache) or a prefill pass.

    Returns
    -------
    dict
        ``compute_s``, ``network_s``, ``pass_s`` [s] and ``tokens_per_s`` [tokens/s].

    Examples
    --------
    >>> s = dict(mm_params=1e9, expert_params=1e6, moe_layers=1, experts_per_token=1,
    ...          d_model=1000, n_layers=1, local_expert_bytes=0.0, kv_bytes=0.0,
    ...          att_flops_decode=0.0, att_flops_prefill=0.0, weight_bytes=1.0,
    ...          network_bytes=1000.0)
    >>> h = dict(flops8=1e12, flops16=1e12, bytes_per_s=1e12, nic_bytes_per_s=1e9,
    ...          layer_s=0.0, stack=1.0)
    >>> r = pool_pass(1000, context_tokens=0, shape=s, hw=h)   # 2 s dense + 2 ms experts
    >>> round(float(r["compute_s"]), 6), round(float(r["network_s"]), 6)
    (2.002, 0.001)
    """
    n = np.asarray(tokens, dtype=float)
    c = np.asarray(context_tokens, dtype=float)
    dense = _roof(2.0 * shape["mm_params"] * n, shape["mm_params"] * shape["weight_bytes"],
                  hw["flops8"], hw["bytes_per_s"])
    experts = _roof(2.0 * shape["moe_layers"] * shape["experts_per_token"] * shape["expert_params"]
                    * n, shape["local_expert_bytes"], hw["flops8"], hw["bytes_per_s"])
    att_flops = shape["att_flops_decode" if decode else "att_flops_prefill"] * c * n
    kv_read = n * c * shape["kv_bytes"] if decode else 0.0
    attention = _roof(att_flops, kv_read, hw["flops16"], hw["bytes_per_s"])
    floor = shape["n_layers"] * hw["layer_s"]
    compute = np.maximum(dense + experts + attention, floor) / hw["stack"]
    network = n * shape["network_bytes"] / hw["nic_bytes_per_s"]
    step = overlapped_s(compute, network, overlap)
    return {"compute_s": compute, "network_s": network, "pass_s": step, "tokens_per_s": n / step}


# --------------------------------------------------------------------------- the published day

def _utc(text: str, what: str) -> np.datetime64:
    """A UTC timestamp written with its zone ('Z' or '+00:00'); refuse one without."""
    t = str(text).strip()
    if not (t.endswith("Z") or t.endswith("+00:00")):
        raise ValueError(f"{what} must be written in UTC with its zone ('...Z'), got {text!r}")
    try:
        return np.datetime64(t.removesuffix("Z").removesuffix("+00:00"), "s")
    except ValueError:
        raise ValueError(f"{what} is not a timestamp: {text!r}") from None


@dataclass(frozen=True)
class PublishedDay:
    """A production day as its operator published it: traffic, layout, nodes and price.

    Token counts are for the whole window; throughputs are per node averaged over the
    time nodes spent in each pool (what the operator divided). ``user_tokens_per_s`` is
    the published (low, high) output speed each user saw. Prices per 1M tokens are what
    "revenue" is computed at, in USD.
    """

    name: str
    window_start_utc: str
    window_end_utc: str
    model: str
    gpu: str
    gpus_per_node: int
    input_tokens: float
    cache_hit_tokens: float
    output_tokens: float
    mean_kv_tokens: float
    user_tokens_per_s: tuple
    prefill_tokens_per_s_per_node: float
    decode_tokens_per_s_per_node: float
    average_nodes: float
    peak_nodes: float
    usd_per_gpu_hour: float
    usd_per_day: float
    prefill_expert_parallel: int
    decode_expert_parallel: int
    redundant_experts: int
    weight_dtype: str
    revenue_usd_per_day: float
    usd_per_1m_input_hit: float
    usd_per_1m_input_miss: float
    usd_per_1m_output: float
    source: str

    def __post_init__(self):
        for f, low in (("gpus_per_node", 1), ("prefill_expert_parallel", 1),
                       ("decode_expert_parallel", 1), ("redundant_experts", 0)):
            count(f, getattr(self, f), minimum=low, maximum=1_000_000)
        for f in ("input_tokens", "output_tokens", "mean_kv_tokens",
                  "prefill_tokens_per_s_per_node", "decode_tokens_per_s_per_node",
                  "average_nodes", "peak_nodes"):
            as_quantity(f, getattr(self, f), allow_zero=False)
        for f in ("cache_hit_tokens", "usd_per_gpu_hour", "usd_per_day",
                  "revenue_usd_per_day", "usd_per_1m_input_hit", "usd_per_1m_input_miss",
                  "usd_per_1m_output"):
            as_quantity(f, getattr(self, f))
        speeds = as_quantity("user_tokens_per_s", self.user_tokens_per_s, allow_zero=False)
        if speeds.shape != (2,):
            raise ValueError(f"user_tokens_per_s is (low, high), got {self.user_tokens_per_s!r}")
        lo, hi = speeds
        if lo > hi:
            raise ValueError(f"user_tokens_per_s is (low, high), got {self.user_tokens_per_s}")
        if self.cache_hit_tokens > self.input_tokens:
            raise ValueError(f"cache_hit_tokens ({self.cache_hit_tokens:g}) exceed input_tokens "
                             f"({self.input_tokens:g})")
        if self.peak_nodes < self.average_nodes:
            raise ValueError(f"peak_nodes ({self.peak_nodes:g}) below average_nodes "
                             f"({self.average_nodes:g})")
        if self.hours <= 0:
            raise ValueError(f"the window ends ({self.window_end_utc}) before it starts "
                             f"({self.window_start_utc})")
        if not self.source.strip():
            raise ValueError("a published day needs its source")

    @property
    def hours(self) -> float:
        """Length of the window. [h]"""
        span = (_utc(self.window_end_utc, "window_end_utc")
                - _utc(self.window_start_utc, "window_start_utc"))
        return float(span / np.timedelta64(1, "s")) / 3600.0

    @property
    def cache_hit_rate(self) -> float:
        """Share of input tokens served from the KV cache. [unitless]"""
        return self.cache_hit_tokens / self.input_tokens


DEEPSEEK_V3_R1_DAY = PublishedDay(
    name="DeepSeek-V3/R1 online service, 24 hours",
    window_start_utc="2025-02-27T04:00:00Z", window_end_utc="2025-02-28T04:00:00Z",
    model="deepseek-v3", gpu="H800", gpus_per_node=8,
    input_tokens=608e9, cache_hit_tokens=342e9, output_tokens=168e9, mean_kv_tokens=4989,
    user_tokens_per_s=(20.0, 22.0),
    prefill_tokens_per_s_per_node=73.7e3, decode_tokens_per_s_per_node=14.8e3,
    average_nodes=226.75, peak_nodes=278, usd_per_gpu_hour=2.0, usd_per_day=87072.0,
    prefill_expert_parallel=32, decode_expert_parallel=144, redundant_experts=32,
    weight_dtype="fp8", revenue_usd_per_day=562027.0,
    usd_per_1m_input_hit=0.14, usd_per_1m_input_miss=0.55, usd_per_1m_output=2.19,
    source="DeepSeek-AI, 'Day 6: One More Thing, DeepSeek-V3/R1 Inference System Overview', "
           "github.com/deepseek-ai/open-infra-index 202502OpenSourceWeek (published "
           "2025-03-01): window UTC+8 2025-02-27 12:00 to 02-28 12:00; 608B input tokens, "
           "342B (56.3%) on-disk KV-cache hits; 168B output tokens at 20-22 tokens/s per "
           "user, mean KV length 4,989 per output token; ~73.7k input tokens/s per H800 "
           "node in prefill (cache hits included), ~14.8k output tokens/s in decode; peak "
           "278 nodes, average 226.75 (8 H800 each); 2 USD per H800-hour = 87,072 USD per "
           "day; prefill EP32 (4 nodes), decode EP144 (18 nodes), 32 redundant experts; "
           "FP8 matmuls and dispatch, BF16 MLA and combine; revenue at R1 prices (0.14 / "
           "0.55 / 2.19 USD per 1M input-hit / input-miss / output tokens) 562,027 USD")
"""DeepSeek's published production day (the source gives the figures and the window in UTC)."""


# --------------------------------------------------------------------------- result

@dataclass(frozen=True, repr=False)
class TokenDay:
    """What costkit predicts for a :class:`PublishedDay`, beside what was published.

    Throughputs per node [tokens/s] (prefill counts cache hits, as published), nodes
    averaged over the window, USD for the window; ``_low`` / ``_high`` from the serving
    efficiency's nominal 80% range. ``decode_batch`` is the batch per GPU costkit plans
    (the largest within memory and the user-speed SLO), ``published_decode_batch`` the
    concurrency the published figures imply (tokens/s per GPU over tokens/s per user).
    """

    day: PublishedDay
    prefill_tokens_per_s_per_node: float
    decode_tokens_per_s_per_node: float
    prefill_nodes: float
    decode_nodes: float
    nodes: float
    nodes_low: float
    nodes_high: float
    usd_per_day: float
    usd_per_day_low: float
    usd_per_day_high: float
    decode_batch: float
    decode_user_tokens_per_s: float
    published_decode_batch: float
    published_nodes_check: float
    revenue_usd_per_day: float
    gaps: tuple
    assumptions: dict = field(default_factory=dict)

    def comparison(self) -> Frame:
        """The figures costkit predicts and the published ones, side by side.

        Returns
        -------
        pandas.DataFrame
            One row per figure: ``costkit``, ``low``, ``high``, ``published``, ``unit``.

        Examples
        --------
        >>> list(reproduce().comparison().columns)
        ['figure', 'costkit', 'low', 'high', 'published', 'unit']
        """
        import pandas as pd

        d = self.day
        lo, hi = self.nodes_low / self.nodes, self.nodes_high / self.nodes
        rows = [
            ("prefill input tokens/s per node", self.prefill_tokens_per_s_per_node,
             self.prefill_tokens_per_s_per_node / hi, self.prefill_tokens_per_s_per_node / lo,
             d.prefill_tokens_per_s_per_node, "tokens/s"),
            ("decode output tokens/s per node", self.decode_tokens_per_s_per_node,
             self.decode_tokens_per_s_per_node / hi, self.decode_tokens_per_s_per_node / lo,
             d.decode_tokens_per_s_per_node, "tokens/s"),
            ("output tokens/s per user", self.decode_user_tokens_per_s, np.nan, np.nan,
             float(np.mean(d.user_tokens_per_s)), "tokens/s"),
            ("average nodes", self.nodes, self.nodes_low, self.nodes_high, d.average_nodes,
             "nodes"),
            ("USD per day", self.usd_per_day, self.usd_per_day_low, self.usd_per_day_high,
             d.usd_per_day, "USD"),
            ("revenue at the published prices", self.revenue_usd_per_day, np.nan, np.nan,
             d.revenue_usd_per_day, "USD"),
        ]
        return pd.DataFrame(rows, columns=["figure", "costkit", "low", "high", "published",
                                           "unit"])

    def gap_table(self) -> Frame:
        """The gap from costkit's throughput to the published one, one term per row.

        Returns
        -------
        pandas.DataFrame
            ``pool``, ``term``, ``tokens_per_s_per_node`` after the term, ``factor`` (its
            ratio to the row before) and ``why``; each pool's factors multiply to the
            published over costkit's figure.

        Examples
        --------
        >>> g = reproduce().gap_table()
        >>> sorted(set(g["pool"]))
        ['decode', 'prefill']
        """
        import pandas as pd

        return pd.DataFrame(list(self.gaps), columns=["pool", "term", "tokens_per_s_per_node",
                                                      "factor", "why"])

    def __repr__(self) -> str:
        d = self.day
        lines = [
            f"TokenDay: {d.name}, {d.window_start_utc} to {d.window_end_utc} ({d.hours:g} h)",
            f"  costkit: {self.prefill_nodes:,.1f} prefill + {self.decode_nodes:,.1f} decode = "
            f"{self.nodes:,.1f} nodes ({self.nodes_low:,.1f}-{self.nodes_high:,.1f}), "
            f"{self.usd_per_day:,.0f} USD ({self.usd_per_day_low:,.0f}-"
            f"{self.usd_per_day_high:,.0f})",
            f"  published: {d.average_nodes:,.2f} nodes on average (peak {d.peak_nodes:g}), "
            f"{d.usd_per_day:,.0f} USD; its throughputs give {self.published_nodes_check:,.1f}"
            " nodes",
            f"  decode batch per GPU: costkit {self.decode_batch:g} "
            f"({self.decode_user_tokens_per_s:,.1f} tokens/s per user), published "
            f"concurrency {self.published_decode_batch:,.1f}",
        ]
        return "\n".join(lines + [f"  {k}: {v}" for k, v in self.assumptions.items()])


# --------------------------------------------------------------------------- resolution

def _shape(m, ep: int, redundant: int, weight_bytes: float, kv_b: float, node: int,
           by_node: bool) -> dict:
    """The model's quantities on one GPU of a pool of ``ep`` GPUs."""
    expert = (3.0 if m.gated_mlp else 2.0) * m.d_model * m.d_ff_expert
    dense = float(m.active_params) - m.moe_layers * m.experts_per_token * expert
    latent = float(m.kv_lora_rank or 0)
    rope = float(m.rope_head_dim or 0)
    att = dict(n_layers=m.n_layers, n_heads=m.n_heads, context_tokens=1.0, head_dim=m.head_dim,
               kv_lora_rank=latent, rope_head_dim=rope)
    return {
        "mm_params": dense - m.vocab_size * m.d_model,  # the embedding is a lookup
        "dense_params": dense, "expert_params": expert, "weight_bytes": weight_bytes,
        "moe_layers": m.moe_layers, "experts_per_token": m.experts_per_token,
        "d_model": m.d_model, "n_layers": m.n_layers, "expert_parallel": ep,
        "local_expert_bytes": m.moe_layers * (m.n_experts + redundant) / ep * expert
        * weight_bytes,
        "weights_per_gpu": float(ep_weight_bytes_per_gpu(dense, expert, m.moe_layers,
                                                         m.n_experts, redundant, ep,
                                                         weight_bytes)),
        "kv_bytes": float(kv_bytes_per_token(m.n_layers, m.n_kv_heads, m.head_dim, kv_b,
                                             m.kv_latent_dim)),
        "att_flops_decode": float(attention_flops_per_token(**att)),
        "att_flops_prefill": float(attention_flops_per_token(**att, absorbed=False)),
        "network_bytes": float(network_bytes_per_token(m.moe_layers, m.experts_per_token,
                                                       m.d_model, weight_bytes, 2.0, ep, node,
                                                       by_node)),
    }


def _hardware(g, eff, dtype: str, nic_gb_per_s: float) -> dict:
    """The GPU's roofs at the efficiency model's achieved shares."""
    return {"flops8": float(g.peak_tflops(dtype)) * 1e12 * eff.compute_utilization(dtype),
            "flops16": float(g.peak_tflops("bf16")) * 1e12 * eff.compute_utilization("bf16"),
            "bytes_per_s": g.memory_bandwidth_tbps * 1e12 * eff.bandwidth_max,
            "nic_bytes_per_s": nic_gb_per_s * 1e9,
            "layer_s": float(eff.layer_overhead_s), "stack": eff.stack_factor("llm")}


def _resolve(day: PublishedDay, model_path, gpu_path):
    """The catalog's model and GPU for the day; refuse what the kernels cannot price."""
    from .catalog import bytes_per_element, gpu, model

    m = model(day.model, path=model_path)
    if not m.is_moe or not m.moe_layers or not m.d_ff_expert or m.active_params is None:
        raise ValueError(f"{m.name} is not a mixture of experts with its expert shape in the "
                         "catalog: expert-parallel pools need one (use costkit.serving.estimate "
                         "for a dense model)")
    for ep in (day.prefill_expert_parallel, day.decode_expert_parallel):
        if ep % day.gpus_per_node:
            raise ValueError(f"an expert-parallel pool of {ep} GPUs is not whole nodes of "
                             f"{day.gpus_per_node}")
    return m, gpu(day.gpu, path=gpu_path), bytes_per_element(day.weight_dtype)


# --------------------------------------------------------------------------- the estimate

def _decode(shape, hw, day, mem_bytes, usable, overlap):
    """Decode: the largest batch within memory and the user-speed SLO, and its figures."""
    b = np.arange(1, MAX_BATCH + 1, dtype=float)
    r = pool_pass(b, context_tokens=day.mean_kv_tokens, shape=shape, hw=hw, overlap=overlap)
    fits = shape["weights_per_gpu"] + b * day.mean_kv_tokens * shape["kv_bytes"] \
        <= usable * mem_bytes
    fast = 1.0 / r["pass_s"] >= day.user_tokens_per_s[0]
    ok = np.flatnonzero(fits & fast)
    if not ok.size:
        raise ValueError(
            f"no decode batch fits: {shape['weights_per_gpu'] / 1e9:,.1f} GB of weights per GPU "
            f"and {day.mean_kv_tokens:g} cached tokens per sequence against "
            f"{usable:.0%} of {mem_bytes / 1e9:,.0f} GB, at >= {day.user_tokens_per_s[0]:g} "
            "tokens/s per user; use a larger decode pool (expert_parallel)")
    i = int(ok[-1])
    return float(b[i]), float(r["tokens_per_s"][i]), float(1.0 / r["pass_s"][i])


def _at_batch(shape, hw, day, batch, overlap):
    """Decode tokens/s per GPU at a given batch."""
    return float(pool_pass(batch, context_tokens=day.mean_kv_tokens, shape=shape, hw=hw,
                           overlap=overlap)["tokens_per_s"])


def _prefill(shape, hw, day, overlap):
    """Prefill: computed tokens/s per GPU for a large chunk."""
    return float(pool_pass(_PREFILL_TOKENS_PER_GPU, context_tokens=day.mean_kv_tokens,
                           shape=shape, hw=hw, overlap=overlap, decode=False)["tokens_per_s"])


def _gaps(day, node, pre, dec, pre_serial, dec_pub, dec_pub_serial, pub_batch, batch,
          overlap):
    """The gap table's rows: each pool from costkit's figure to the published one."""
    hit = 1.0 - day.cache_hit_rate
    p0, p1 = pre * node / hit, pre_serial * node / hit
    d0, d1, d2 = dec * node, dec_pub * node, dec_pub_serial * node
    pp, dp = day.prefill_tokens_per_s_per_node, day.decode_tokens_per_s_per_node
    return (
        ("prefill", f"costkit (calibrated roofline, network {overlap:.0%} hidden)", p0, 1.0,
         f"{_PREFILL_TOKENS_PER_GPU:,} new tokens per GPU per pass; cache hits cost no compute"),
        ("prefill", "network not hidden", p1, p1 / p0,
         "dispatch and combine after the compute instead of beside it (an upper bound)"),
        ("prefill", "not explained", pp, pp / p1,
         "load imbalance across DP / EP ranks, TTFT headroom, loading cached KV, the pool's "
         "idle time: not published"),
        ("decode", f"costkit (batch {batch:g} per GPU, network {overlap:.0%} hidden)", d0, 1.0,
         "the largest batch within memory and the user-speed SLO"),
        ("decode", f"at the published concurrency ({pub_batch:,.1f} per GPU)", d1, d1 / d0,
         "tokens/s per GPU / tokens/s per user, both published: batches are not full on "
         "average"),
        ("decode", "network not hidden", d2, d2 / d1,
         "dispatch and combine after the compute instead of beside it (an upper bound)"),
        ("decode", "not explained", dp, dp / d2,
         "expert load imbalance across 144 GPUs, scheduling, variable lengths: not published"),
    )


def reproduce(day: PublishedDay = DEEPSEEK_V3_R1_DAY, *,
              efficiency: ServingEfficiency | None = None, nic_gb_per_s: float = NIC_GB_PER_S,
              overlap: float = 1.0, usable_memory_fraction: float = 0.9,
              model_path: StrPath | None = None,
              gpu_path: StrPath | None = None) -> TokenDay:
    """Predict a published production day's nodes and cost, and explain the gap.

    The module's kernels on the day's model, GPU and pools (decode at the largest batch
    that fits and meets the low end of the published per-user speed; prefill on a
    16,384-token chunk per GPU at the published mean KV length as context), then
    ``nodes = tokens / (tokens/s per node x seconds)`` and ``USD = nodes x GPUs per node x
    USD per GPU-hour x hours``; low / high from the efficiency's nominal 80% range for the
    GPU's vendor and generation.

    Parameters
    ----------
    day : PublishedDay, default DEEPSEEK_V3_R1_DAY
        The published figures.
    efficiency : ServingEfficiency, optional
        The serving efficiency (u_c, u_bw, layer floor, stack); default
        :func:`costkit.serving_efficiency.default` (MLPerf before 2024-07-01).
    nic_gb_per_s : float, default 50.0
        Each GPU's network bandwidth, one direction. [GB/s]
    overlap : float, default 1.0
        Share of the shorter of compute and network hidden behind the longer. [unitless]
    usable_memory_fraction : float, default 0.9
        Share of GPU memory for weights and KV cache. [unitless]
    model_path, gpu_path : path, optional
        Your own model / GPU catalog.

    Returns
    -------
    TokenDay
        Nodes, USD, throughputs with ranges; ``comparison()`` and ``gap_table()``.

    Examples
    --------
    >>> t = reproduce()
    >>> bool(t.nodes_low < t.nodes < t.nodes_high), round(t.published_nodes_check, 1)
    (True, 226.9)
    """
    from .serving_efficiency import default

    eff = default() if efficiency is None else efficiency
    as_quantity("nic_gb_per_s", nic_gb_per_s, allow_zero=False)
    as_fraction("overlap", overlap)
    usable = float(as_fraction("usable_memory_fraction", usable_memory_fraction,
                               allow_zero=False))
    m, g, wbytes = _resolve(day, model_path, gpu_path)
    hw = _hardware(g, eff, day.weight_dtype, nic_gb_per_s)
    node = day.gpus_per_node
    pre_shape = _shape(m, day.prefill_expert_parallel, day.redundant_experts, wbytes, 2.0, node,
                       by_node=True)
    dec_shape = _shape(m, day.decode_expert_parallel, day.redundant_experts, wbytes, 2.0, node,
                       by_node=False)
    mem = g.memory_gb * 1e9
    if pre_shape["weights_per_gpu"] > usable * mem:
        raise ValueError(f"the prefill pool's weights ({pre_shape['weights_per_gpu'] / 1e9:,.1f} "
                         f"GB per GPU) exceed {usable:.0%} of {g.memory_gb:g} GB")
    batch, dec, user = _decode(dec_shape, hw, day, mem, usable, overlap)
    pre = _prefill(pre_shape, hw, day, overlap)
    pub_batch = day.decode_tokens_per_s_per_node / day.gpus_per_node \
        / float(np.mean(day.user_tokens_per_s))
    gaps = _gaps(day, node, pre, dec, _prefill(pre_shape, hw, day, 0.0),
                 _at_batch(dec_shape, hw, day, pub_batch, overlap),
                 _at_batch(dec_shape, hw, day, pub_batch, 0.0), pub_batch, batch, overlap)
    seconds = day.hours * 3600.0
    pre_node = pre * node / (1.0 - day.cache_hit_rate)
    dec_node = dec * node
    pre_nodes = day.input_tokens / (pre_node * seconds)
    dec_nodes = day.output_tokens / (dec_node * seconds)
    nodes = pre_nodes + dec_nodes
    lo, hi = eff.range_factors([g.vendor], [g.architecture])
    usd_per_node = node * day.usd_per_gpu_hour * day.hours
    checks = (day.input_tokens / day.prefill_tokens_per_s_per_node
              + day.output_tokens / day.decode_tokens_per_s_per_node) / seconds
    revenue = ((day.cache_hit_tokens * day.usd_per_1m_input_hit
                + (day.input_tokens - day.cache_hit_tokens) * day.usd_per_1m_input_miss
                + day.output_tokens * day.usd_per_1m_output) / 1e6)
    with np.errstate(over="ignore"):  # an overflow is refused here, by name
        finite_result("reproduce", nodes=nodes,
                      usd_per_day=nodes * usd_per_node / float(lo[0]),
                      revenue_usd_per_day=revenue)
    return TokenDay(
        day=day, prefill_tokens_per_s_per_node=pre_node, decode_tokens_per_s_per_node=dec_node,
        prefill_nodes=pre_nodes, decode_nodes=dec_nodes, nodes=nodes,
        nodes_low=nodes / float(hi[0]), nodes_high=nodes / float(lo[0]),
        usd_per_day=nodes * usd_per_node, usd_per_day_low=nodes / float(hi[0]) * usd_per_node,
        usd_per_day_high=nodes / float(lo[0]) * usd_per_node, decode_batch=batch,
        decode_user_tokens_per_s=user, published_decode_batch=pub_batch,
        published_nodes_check=checks, revenue_usd_per_day=revenue, gaps=gaps,
        assumptions=_assumptions(day, eff, nic_gb_per_s, overlap, usable, pre_shape, dec_shape),
    )


def _assumptions(day, eff, nic, overlap, usable, pre, dec) -> dict[str, Any]:
    """The printed assumptions of a :class:`TokenDay`."""
    return {
        "efficiency": eff.notes("llm")["efficiency"],
        "range": eff.notes("llm")["range"],
        "pools": f"prefill EP{day.prefill_expert_parallel} "
                 f"({pre['weights_per_gpu'] / 1e9:,.1f} GB of weights per GPU), decode "
                 f"EP{day.decode_expert_parallel} ({dec['weights_per_gpu'] / 1e9:,.1f} GB); "
                 f"{day.redundant_experts} redundant experts; attention and shared experts "
                 "data-parallel; routed load balanced",
        "precision": f"matmuls and dispatch in {day.weight_dtype}, attention and combine in "
                     "bf16, KV cache bf16",
        "network": f"{nic:g} GB/s per GPU between nodes, {overlap:.0%} of the shorter of "
                   "compute and network hidden; prefill forwards by node (IB once per node, "
                   "then NVLink), decode sends to each expert",
        "lengths": f"mean context {day.mean_kv_tokens:g} tokens in decode and prefill (the "
                   f"prompt length is not published); prefill chunk {_PREFILL_TOKENS_PER_GPU:,}"
                   " new tokens per GPU",
        "memory": f"{usable:.0%} of GPU memory for weights and KV cache",
        "window": f"{day.hours:g} h in UTC; nodes are averages over it (peak {day.peak_nodes:g})",
        "revenue": "every token billed at the published prices: not revenue (free web and app "
                   "use, cheaper models and night discounts are not billed so)",
        "source": day.source,
    }
