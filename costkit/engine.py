"""The serving-engine features that set a 2026 bill, as equations a roofline can price.

:func:`costkit.serving.estimate` takes them through ``features=``
(:class:`EngineFeatures`), so every figure it prints (TTFT, TPOT, tokens/s,
USD per 1M tokens and per 1,000 requests, the low / high range, the replicas
:func:`costkit.capacity.plan` buys) includes them; :func:`disaggregated` sizes
the two pools of a prefill / decode split. For B running sequences of P prompt
and O output tokens, L layers of width d, KV bytes per token ``kv``:

- **prefix caching** (hit rate h of prompt tokens found in the cache)::

    prefill rows          = B·P·(1 - h)                 (matmuls skip the cached tokens)
    prefill attention     = 2·L·d·B·P²·(1 - h²)  FLOP   (new tokens still attend to all)
    cached KV read        = B·h·P·kv  bytes;  the cache pool holds ``prefix_cache_gb``

- **speculative decoding** (k proposed tokens, each accepted with probability α;
  Leviathan et al. 2023, eq. 1)::

    tokens per step  E = (1 - α^(k+1)) / (1 - α)       (k + 1 when α = 1)
    TPOT             = (t_verify(k + 1 rows per sequence) + k·t_draft) / E

  the draft's prefill is added to TTFT and its weights and KV to memory; an
  n-gram (prompt-lookup) draft costs nothing, a multi-token-prediction head
  ``mtp_layers`` of the target's L layers.
- **chunked prefill with continuous batching** at steady state (token budget T
  per step, of which B·(k+1) decode rows)::

    prefill tokens per step  x = B·P(1 - h)·E / O      (B requests finish every O/E steps)
    share of full steps      f = x / (T - B(k+1))       (f > 1: the batch cannot be sustained)
    mean step                = f·t_full + (1 - f)·t_decode
    TTFT                     = ceil(P(1 - h) / (T - B(k+1)))·t_full
    tokens/s                 = B·E / (mean step + k·t_draft)

- **disaggregated prefill and decode** (:func:`disaggregated`): a prefill pool at
  the largest batch whose TTFT + KV transfer meets the TTFT SLO, a decode pool at
  the largest batch whose TPOT meets the TPOT SLO, each ``ceil(λ / (capacity·ρ))``
  replicas; KV transfer = P·kv / link bytes per second.
- **multi-LoRA** (n adapters of rank r on q, k, v, o; Hu et al. 2021, S-LoRA)::

    adapter params  = L·r·(6d + 2·kv_heads·head_dim)    (q, o: d + d; k, v: d + kv width)
    memory          = n x adapter params x 2 bytes       (fp16 adapters, all resident)
    per token       + 2 x adapter params FLOP
    per pass        + n(1 - (1 - 1/n)^B) x adapter bytes read (the distinct adapters of B)

References
----------
- [1] Leviathan, Kalman and Matias, "Fast Inference from Transformers via
  Speculative Decoding", ICML 2023, arXiv:2211.17192, eq. (1).
- [2] Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
  Sarathi-Serve", OSDI 2024, arXiv:2403.02310 (chunked prefill, stall-free batches).
- [3] Zhong et al., "DistServe: Disaggregating Prefill and Decoding for
  Goodput-optimized LLM Serving", OSDI 2024, arXiv:2401.09670.
- [4] Zheng et al., "SGLang: Efficient Execution of Structured Language Model
  Programs" (RadixAttention prefix caching), arXiv:2312.07104; vLLM automatic
  prefix caching.
- [5] Hu et al., "LoRA", arXiv:2106.09685; Sheng et al., "S-LoRA: Serving
  Thousands of Concurrent LoRA Adapters", MLSys 2024, arXiv:2311.03285.
- [6] DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, Sec. 5.4.3
  (multi-token prediction: 85-90% acceptance of the second token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_fraction, as_quantity, count, wrap_like
from .units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from ._typing import Floats, Frame

__all__ = [
    "DEFAULT_TOKEN_BUDGET", "DisaggregatedPlan", "EngineFeatures", "Speculation",
    "adapter_params", "chunked_schedule", "disaggregated", "distinct_adapters",
    "kv_transfer_s", "prefill_attention_flops", "speculative_tpot_s", "tokens_per_step",
]  # fmt: skip

DEFAULT_TOKEN_BUDGET = 2048
"""Tokens one chunked-prefill step may hold (vLLM's ``max_num_batched_tokens``, 2048 in its
scheduler's "Chunked prefill is enabled with max_num_batched_tokens=2048" default). [tokens]"""

ADAPTER_BYTES_PER_PARAM = 2.0
"""LoRA adapters are kept in 16-bit (fp16 / bf16) whatever the base model's format. [bytes]"""

_METHODS = ("draft", "ngram", "mtp")
_MAX_DRAFT_TOKENS = 16
_MAX_ADAPTERS = 100_000


# --------------------------------------------------------------------------- kernels


def prefill_attention_flops(n_layers: Floats, d_model: Floats, prompt_tokens: Floats,
                            hit_rate: Floats = 0.0) -> Floats:
    """Causal attention FLOPs of one sequence's prefill when a share of its prompt is cached. [FLOP]

    ``2·L·d·P²·(1 - h²)``: token p attends to p earlier tokens (4·L·d·p FLOP), and the
    uncached tokens are the last ``P(1 - h)``, whose positions sum to ``P²(1 - h²)/2``.

    Parameters
    ----------
    n_layers, d_model : numeric
        Layers L and model width d. [count]
    prompt_tokens : numeric
        Prompt length P. [tokens]
    hit_rate : numeric, default 0
        Share of the prompt found in the prefix cache, h. [0 to 1)

    Returns
    -------
    numeric
        Attention FLOPs of the prefill of one sequence. [FLOP]

    Examples
    --------
    Half the prompt cached saves a quarter of the attention, not half:

    >>> prefill_attention_flops(1, 1, 100, 0.5) / prefill_attention_flops(1, 1, 100)
    0.75
    """
    full = 2.0 * n_layers * d_model * prompt_tokens ** 2
    return full if np.ndim(hit_rate) == 0 and hit_rate == 0 else full * (1.0 - hit_rate ** 2)


def tokens_per_step(acceptance_rate: Floats, draft_tokens: Floats) -> Floats:
    """Expected tokens one speculative verification step yields, E. [tokens]

    ``E = (1 - α^(k+1)) / (1 - α)`` for k proposed tokens each accepted with
    probability α (independently), the target's own token included; ``k + 1`` at α = 1
    (Leviathan et al. 2023, eq. 1).

    Parameters
    ----------
    acceptance_rate : numeric
        Probability that a proposed token is accepted, α. [0 to 1]
    draft_tokens : numeric
        Tokens proposed per step, k. [count]

    Returns
    -------
    numeric
        Expected tokens per verification step, from 1 to k + 1. [tokens]

    Examples
    --------
    >>> float(tokens_per_step(0.8, 4)), float(tokens_per_step(0.0, 4)), float(tokens_per_step(1, 3))
    (3.3616, 1.0, 4.0)
    """
    a = np.asarray(acceptance_rate, dtype=float)
    k = np.asarray(draft_tokens, dtype=float)
    sure = a >= 1.0
    safe = np.where(sure, 0.5, a)
    return np.where(sure, k + 1.0, (1.0 - safe ** (k + 1.0)) / (1.0 - safe))


def speculative_tpot_s(verify_step_s: Floats, draft_step_s: Floats, draft_tokens: Floats,
                       acceptance_rate: Floats) -> Floats:
    """Time per output token with speculative decoding. [s]

    ``(t_verify + k·t_draft) / E``: each step the draft proposes k tokens one at a
    time, the target checks all k + 1 rows in one pass, and E tokens come out.

    Parameters
    ----------
    verify_step_s : numeric
        The target's pass over k + 1 rows per sequence. [s]
    draft_step_s : numeric
        One decode step of the draft. [s]
    draft_tokens : numeric
        Tokens proposed per step, k. [count]
    acceptance_rate : numeric
        Probability that a proposed token is accepted, α. [0 to 1]

    Returns
    -------
    numeric
        Time per output token. [s]

    Examples
    --------
    A 10 ms verification, a 1 ms draft step, k = 4 at α = 0.8: 14 ms for 3.36 tokens.

    >>> round(float(speculative_tpot_s(10e-3, 1e-3, 4, 0.8)) * 1e3, 2)
    4.16
    """
    return (verify_step_s + draft_tokens * draft_step_s) / tokens_per_step(acceptance_rate,
                                                                          draft_tokens)


def chunked_schedule(new_prompt_tokens: Floats, batch_size: Floats, steps_per_request: Floats,
                     decode_rows: Floats, token_budget: Floats) -> tuple:
    """Steady-state mix of a chunked-prefill step.

    B sequences decode, each request lasting S steps, so B/S requests start per step and
    bring ``x = B·P'/S`` prefill tokens; a full step holds ``T - R`` of them beside the R
    decode rows, so a share ``f = x / (T - R)`` of the steps is full (the rest decode only)
    and one prompt takes ``ceil(P' / (T - R))`` full steps. f > 1 or T <= R: the budget
    cannot keep B sequences decoding.

    Parameters
    ----------
    new_prompt_tokens : numeric
        Prompt tokens each request computes, P' = P(1 - h). [tokens]
    batch_size : numeric
        Sequences decoding, B. [count]
    steps_per_request : numeric
        Decode steps a request lasts, S = O / E. [count]
    decode_rows : numeric
        Rows the decode takes in each step, R = B(k + 1). [count]
    token_budget : numeric
        Tokens one step may hold, T. [tokens]

    Returns
    -------
    tuple of numeric
        Prefill tokens needed per step x [tokens], the share of full steps f [unitless]
        and the full steps one prompt takes [count] (f and the steps infinite where T <= R).

    Examples
    --------
    64 sequences of 512 new prompt tokens and 128 steps, 2048-token budget:

    >>> x, f, n = chunked_schedule(512, 64, 128, 64, 2048)
    >>> float(x), round(float(f), 3), float(n)
    (256.0, 0.129, 1.0)
    """
    room = token_budget - decode_rows
    x = batch_size * new_prompt_tokens / steps_per_request
    safe = np.where(room > 0, room, 1.0)
    share = np.where(room > 0, x / safe, np.inf)
    chunks = np.where(room > 0, np.ceil(new_prompt_tokens / safe), np.inf)
    return x, share, chunks


def kv_transfer_s(prompt_tokens: Floats, kv_bytes_per_token: Floats,
                  link_bytes_per_s: Floats) -> Floats:
    """Time to move one request's KV cache from a prefill to a decode GPU. [s]

    ``P·kv / link``: the prompt's cache, sent once over the link between the pools.

    Parameters
    ----------
    prompt_tokens : numeric
        Prompt length P. [tokens]
    kv_bytes_per_token : numeric
        KV cache per token, kv. [bytes]
    link_bytes_per_s : numeric
        Bandwidth of the link between the pools. [bytes/s]

    Returns
    -------
    numeric
        Transfer time of one request's KV cache. [s]

    Examples
    --------
    Llama-2-7B (0.5 MiB per token), a 2,048-token prompt over 50 GB/s (400 Gb/s RDMA):

    >>> round(float(kv_transfer_s(2048, 524288, 50e9)) * 1e3, 1)
    21.5
    """
    return prompt_tokens * kv_bytes_per_token / link_bytes_per_s


def adapter_params(n_layers: Floats, d_model: Floats, kv_width: Floats, rank: Floats) -> Floats:
    """Parameters of one LoRA adapter of rank r on the attention projections q, k, v, o. [count]

    ``L·r·(6d + 2·kv)``: a d_in x d_out matrix gets r·(d_in + d_out); q and o are d x d,
    k and v d x kv (kv = KV heads x head dim).

    Parameters
    ----------
    n_layers, d_model : numeric
        Layers L and model width d. [count]
    kv_width : numeric
        KV heads x head dim. [count]
    rank : numeric
        The adapter's rank r. [count]

    Returns
    -------
    numeric
        Parameters of one adapter. [count]

    Examples
    --------
    Llama-2-7B (32 layers, d = 4096, no GQA), rank 16: 8.4 M parameters, 16.8 MB.

    >>> float(adapter_params(32, 4096, 4096, 16))
    16777216.0
    """
    return n_layers * rank * (6.0 * d_model + 2.0 * kv_width)


def distinct_adapters(n_adapters: Floats, batch_size: Floats) -> Floats:
    """Expected distinct adapters among B sequences drawn uniformly from n. [count]

    ``n(1 - (1 - 1/n)^B)`` (the expert count of :func:`costkit.kernels.distinct_experts`
    with one pick per sequence): each distinct adapter's weights are read once a pass.

    Parameters
    ----------
    n_adapters : numeric
        Adapters served, n. [count]
    batch_size : numeric
        Sequences in the pass, B. [count]

    Returns
    -------
    numeric
        Expected distinct adapters in the pass. [count]

    Examples
    --------
    >>> round(float(distinct_adapters(100, 32)), 1), float(distinct_adapters(1, 32))
    (27.5, 1.0)
    """
    from .kernels import distinct_experts

    return distinct_experts(n_adapters, 1.0, batch_size)


# --------------------------------------------------------------------------- the features


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding: k tokens proposed per step, each accepted with probability α.

    ``method``: ``"draft"`` (a smaller model of the catalog, ``draft_model``, run on the
    same GPUs), ``"ngram"`` (prompt lookup: no model, no time, no memory) or ``"mtp"``
    (a multi-token-prediction head of ``mtp_layers`` of the target's layers, DeepSeek-V3).
    The acceptance rate is your workload's (vLLM and SGLang report it); there is no default.
    """

    draft_tokens: int
    acceptance_rate: Floats
    method: str = "draft"
    draft_model: str | None = None
    mtp_layers: int = 1

    def __post_init__(self):
        object.__setattr__(self, "draft_tokens", count(
            "draft_tokens", self.draft_tokens, minimum=1, maximum=_MAX_DRAFT_TOKENS,
            beyond="acceptance falls with depth; engines propose 1 to 8"))
        object.__setattr__(self, "acceptance_rate",
                           as_fraction("acceptance_rate", self.acceptance_rate))
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {self.method!r}")
        if (self.method == "draft") != (self.draft_model is not None):
            raise ValueError("method='draft' needs draft_model (a catalog model name); "
                             "'ngram' and 'mtp' take none")
        object.__setattr__(self, "mtp_layers", count("mtp_layers", self.mtp_layers, minimum=1,
                                                     maximum=8))


@dataclass(frozen=True)
class EngineFeatures:
    """What the serving engine does beyond the plain batch (all off by default).

    prefix_cache_hit_rate : numeric
        Share of prompt tokens found in the prefix cache, h [0 to 1); broadcasts.
    prefix_cache_gb : float
        GPU memory the cache pool holds beyond the running sequences' KV [GB].
    speculation : Speculation, optional
        Speculative decoding.
    lora_adapters, lora_rank : int
        Distinct LoRA adapters served on the base model (requests spread uniformly over
        them, all resident on the GPU) and their rank; 0 adapters: none.
    chunked_prefill : bool
        Chunked prefill with continuous batching at steady state; ``token_budget`` tokens
        per step (default :data:`DEFAULT_TOKEN_BUDGET`). Off: the batch prefills, then decodes.
    """

    prefix_cache_hit_rate: Floats = 0.0
    prefix_cache_gb: float = 0.0
    speculation: Speculation | None = None
    lora_adapters: int = 0
    lora_rank: int = 16
    chunked_prefill: bool = False
    token_budget: int = DEFAULT_TOKEN_BUDGET

    def __post_init__(self):
        hit = as_fraction("prefix_cache_hit_rate", self.prefix_cache_hit_rate)
        if hit.size and (hit >= 1).any():
            raise ValueError("prefix_cache_hit_rate must be below 1: the last prompt token is "
                             "always computed (it gives the first output token)")
        object.__setattr__(self, "prefix_cache_hit_rate", hit)
        object.__setattr__(self, "prefix_cache_gb", float(as_quantity(
            "prefix_cache_gb", self.prefix_cache_gb)))
        if self.speculation is not None and not isinstance(self.speculation, Speculation):
            raise TypeError("speculation must be a costkit.engine.Speculation, got "
                            f"{type(self.speculation).__name__}")
        object.__setattr__(self, "lora_adapters", count("lora_adapters", self.lora_adapters,
                                                        maximum=_MAX_ADAPTERS))
        object.__setattr__(self, "lora_rank", count("lora_rank", self.lora_rank, minimum=1,
                                                    maximum=1024))
        if not isinstance(self.chunked_prefill, bool | np.bool_):
            raise TypeError(f"chunked_prefill must be True or False, got {self.chunked_prefill!r}")
        object.__setattr__(self, "token_budget", count("token_budget", self.token_budget,
                                                       minimum=1, maximum=1 << 20))

    @property
    def verify_rows(self) -> int:
        """Rows per sequence in one decode pass: k + 1 with speculation, else 1. [count]"""
        return 1 if self.speculation is None else self.speculation.draft_tokens + 1

    def _notes(self) -> dict:
        """The features' lines for an estimate's assumptions (what is on, what it costs)."""
        h = np.asarray(self.prefix_cache_hit_rate)
        s = self.speculation
        hit = (f"{float(h):.0%}" if h.ndim == 0 else
               f"{float(np.min(h)):.0%}-{float(np.max(h)):.0%}")
        out = {
            "prefix_caching": ("off" if not np.any(h) and not self.prefix_cache_gb else
                               f"hit rate {hit} of prompt tokens: their prefill matmuls and KV "
                               "writes skipped, their KV read; the cache pool holds "
                               f"{self.prefix_cache_gb:g} GB"),
            "speculative_decoding": "off" if s is None else (
                f"{s.method}, k = {s.draft_tokens} proposed per step, acceptance "
                f"{_frac(s.acceptance_rate)}: E = (1 - a^(k+1))/(1 - a) tokens per verification "
                "of k + 1 rows; " + {
                    "draft": f"draft model {s.draft_model} on the same GPUs (its prefill, "
                             "weights and KV paid)",
                    "ngram": "n-gram prompt lookup (no draft time or memory)",
                    "mtp": f"multi-token-prediction head = {s.mtp_layers} of the target's "
                           "layers in time and memory"}[s.method]),
            "multi_lora": ("off" if not self.lora_adapters else
                           f"{self.lora_adapters} adapters of rank {self.lora_rank} on q, k, v, "
                           "o, all resident (16-bit); each pass reads the distinct adapters of "
                           "its batch; no swapping, batched-LoRA kernel overhead not counted"),
            "batching": (f"chunked prefill, continuous batching at steady state: "
                         f"{self.token_budget} tokens per step" if self.chunked_prefill else
                         "the batch prefills together, then decodes together (continuous "
                         "batching at a steady concurrency of batch_size)"),
        }
        if s is not None:
            out["speculation_warning"] = (
                "the acceptance rate is the workload's own (it falls on long, creative outputs "
                "and at high batch the verify step turns compute-bound); measure it")
        return out


def _frac(x) -> str:
    x = np.asarray(x)
    return f"{float(x):.2f}" if x.ndim == 0 else f"{float(x.min()):.2f}-{float(x.max()):.2f}"


# --------------------------------------------------------------------------- disaggregation

_BATCHES = 2.0 ** np.arange(0, 12)     # candidate batches: 1 to 2,048 sequences


@dataclass(frozen=True, repr=False)
class DisaggregatedPlan:
    """Two pools, prefill and decode, each sized for its own SLO, beside one colocated pool.

    Per hour of traffic (``requests_per_second`` may be an hourly array): replicas of each
    pool, the GPUs, USD per hour and per 1,000 requests, with the low / high of the
    throughput range (nominal 80%). The batches are the largest that meet each SLO.
    """

    requests_per_second: Floats
    prefill_batch: float
    decode_batch: float
    ttft_s: float
    tpot_s: float
    kv_transfer_s: float
    prefill_replicas: Floats
    decode_replicas: Floats
    gpus: Floats
    usd_per_hour: Floats
    usd_per_month: Floats
    usd_per_1k_requests: Floats
    usd_per_hour_low: Floats
    usd_per_hour_high: Floats
    colocated_batch: float
    colocated_replicas: Floats
    colocated_usd_per_hour: Floats
    assumptions: dict = field(default_factory=dict)

    def to_frame(self) -> Frame:
        """One row per hour of traffic: the pools, GPUs and money.

        Returns
        -------
        pandas.DataFrame
            Traffic, replicas of each pool, GPUs, USD per hour (with its range), per month and
            per 1,000 requests, and the colocated alternative.

        Examples
        --------
        >>> p = disaggregated("llama-2-7b", [1.0, 30.0], ttft_slo_s=0.5, tpot_slo_s=0.05,
        ...                   usd_per_gpu_hour=2.0)
        >>> len(p.to_frame())
        2
        """
        import pandas as pd

        cols = ("requests_per_second", "prefill_replicas", "decode_replicas", "gpus",
                "usd_per_hour", "usd_per_hour_low", "usd_per_hour_high", "usd_per_month",
                "usd_per_1k_requests", "colocated_replicas", "colocated_usd_per_hour")
        return pd.DataFrame({c: np.atleast_1d(getattr(self, c)) for c in cols})

    def __repr__(self) -> str:
        one = np.ndim(self.usd_per_hour) == 0
        head = "DisaggregatedPlan" + ("" if one else f" over {np.size(self.usd_per_hour)} hours")
        lines = [
            f"{head}: prefill at batch {self.prefill_batch:g} (TTFT {self.ttft_s * 1e3:,.0f} ms "
            f"incl. KV transfer {self.kv_transfer_s * 1e3:,.1f} ms), decode at batch "
            f"{self.decode_batch:g} (TPOT {self.tpot_s * 1e3:,.1f} ms)"]
        if one:
            lines += [
                f"  {self.prefill_replicas:g} prefill + {self.decode_replicas:g} decode replica(s)"
                f" = {self.gpus:g} GPUs, {self.usd_per_hour:,.2f} USD per hour "
                f"({self.usd_per_hour_low:,.2f}-{self.usd_per_hour_high:,.2f}), "
                f"{self.usd_per_1k_requests:,.4f} USD per 1,000 requests",
                f"  colocated (one pool, batch {self.colocated_batch:g}): "
                f"{self.colocated_replicas:g} replica(s), {self.colocated_usd_per_hour:,.2f} USD "
                "per hour"]
        else:
            lines.append(f"  {np.sum(self.usd_per_hour):,.2f} USD in all; .to_frame() per hour")
        return "\n".join(lines + [f"  {k}: {v}" for k, v in self.assumptions.items()])


def _at(x, i: int) -> float:
    """Element i of a figure over the candidate batches (a scalar stands for all)."""
    return float(np.broadcast_to(np.asarray(x, dtype=float), _BATCHES.shape)[i])


def _largest(ok: np.ndarray, values: np.ndarray, what: str) -> int:
    """Index of the largest candidate batch that meets its SLO (refuse if none does)."""
    good = np.flatnonzero(ok)
    if not good.size:
        raise ValueError(f"no batch meets the {what}: even batch 1 is too slow on this GPU "
                         f"(it takes {np.nanmin(values) * 1e3:,.1f} ms); relax the SLO, use a "
                         "faster GPU or more GPUs per replica")
    return int(good[-1])


def disaggregated(model: str, requests_per_second: Floats, *, ttft_slo_s: float,
                  tpot_slo_s: float, prompt_tokens: float = 512, output_tokens: float = 128,
                  gpu: str = "H100-SXM", prefill_gpu: str | None = None,
                  decode_gpu: str | None = None, n_gpus: int = 1,
                  kv_link_gb_per_s: float = 50.0, target_utilization: float = 0.7,
                  features: EngineFeatures | None = None, **serving: Any) -> DisaggregatedPlan:
    """Size a prefill pool and a decode pool for their SLOs, and the colocated alternative.

    Each pool takes the largest batch (1 to 2,048) that meets its own SLO:
    prefill ``TTFT(B_p) + KV transfer <= ttft_slo_s``; decode ``TPOT(B_d) <= tpot_slo_s``,
    from :func:`costkit.serving.estimate` (calibrated). Replicas per pool
    ``ceil(λ / (capacity x ρ))`` with capacity ``B_p / TTFT`` (prefill) and
    ``B_d / (O x TPOT)`` (decode) requests per second. The colocated pool uses chunked
    prefill (``features`` with ``chunked_prefill=True``) and the largest batch meeting both.

    Parameters
    ----------
    model : str
        A decoder of the catalog.
    requests_per_second : numeric
        Traffic λ, one value or one per hour. [1/s]
    ttft_slo_s, tpot_slo_s : float
        Targets for time to first token and time per output token. [s]
    prompt_tokens, output_tokens : float
        Tokens in and out per request. [tokens]
    gpu, prefill_gpu, decode_gpu : str
        The pools' GPUs (both ``gpu`` unless given).
    n_gpus : int
        GPUs per replica in tensor parallel. [count]
    kv_link_gb_per_s : float
        Bandwidth that carries the KV cache between the pools, per replica; 50 GB/s is
        one 400 Gb/s RDMA NIC. [GB/s]
    target_utilization : float
        Busy share ρ each replica may reach (headroom for bursts); 0.7 as in
        :func:`costkit.capacity.plan`. [0 to 1]
    features : EngineFeatures, optional
        Prefix caching, speculation, LoRA for both pools.
    **serving
        Other :func:`costkit.serving.estimate` arguments (``dtype``, ``usd_per_gpu_hour``...).

    Returns
    -------
    DisaggregatedPlan
        The batch, latency and replicas of each pool, the GPUs and the money per hour, month
        and 1,000 requests with their range, and the colocated pool beside them.

    Examples
    --------
    >>> p = disaggregated("llama-2-7b", 20.0, ttft_slo_s=0.5, tpot_slo_s=0.05,
    ...                   usd_per_gpu_hour=2.0)
    >>> p.prefill_replicas >= 1 and p.decode_replicas >= 1
    True
    """
    from . import serving as sv

    lam = as_quantity("requests_per_second", requests_per_second)
    rho = float(as_fraction("target_utilization", target_utilization, allow_zero=False))
    for name, v in (("ttft_slo_s", ttft_slo_s), ("tpot_slo_s", tpot_slo_s),
                    ("kv_link_gb_per_s", kv_link_gb_per_s)):
        as_quantity(name, v, allow_zero=False)
    feats = features or EngineFeatures()
    if np.ndim(feats.prefix_cache_hit_rate):
        raise ValueError("disaggregated plans one hit rate at a time; loop over your hit rates "
                         "or give one value")
    args = dict(prompt_tokens=prompt_tokens, n_gpus=n_gpus, oversized="flag", **serving)
    pre = sv.estimate(model, gpu=prefill_gpu or gpu, batch_size=_BATCHES, output_tokens=1,
                      features=_static(feats), **args)
    dec = sv.estimate(model, gpu=decode_gpu or gpu, batch_size=_BATCHES,
                      output_tokens=output_tokens, features=_static(feats), **args)
    col = sv.estimate(model, gpu=gpu, batch_size=_BATCHES, output_tokens=output_tokens,
                      features=_chunked(feats), **args)
    kv_tok = float(np.asarray(pre.kv_cache_bytes_per_token).flat[0])
    t_kv = float(kv_transfer_s(prompt_tokens, kv_tok, kv_link_gb_per_s * 1e9))
    ttft = np.asarray(pre.ttft_s) + t_kv
    i = _largest(np.nan_to_num(ttft, nan=np.inf) <= ttft_slo_s, ttft, "TTFT SLO (prefill)")
    j = _largest(np.nan_to_num(np.asarray(dec.tpot_s), nan=np.inf) <= tpot_slo_s,
                 np.asarray(dec.tpot_s), "TPOT SLO (decode)")
    both = ((np.nan_to_num(np.asarray(col.tpot_s), nan=np.inf) <= tpot_slo_s)
            & (np.nan_to_num(np.asarray(col.ttft_s), nan=np.inf) <= ttft_slo_s))
    c = _largest(both, np.asarray(col.ttft_s), "TTFT and TPOT SLOs (colocated)")
    cap_p = _BATCHES[i] / ttft[i]                            # requests/s per prefill replica
    cap_d = _at(dec.requests_per_second, j)    # B_d / (O x TPOT) at steady state
    cap_c = _at(col.requests_per_second, c)
    price_p = _at(pre.usd_per_replica_hour, i)
    price_d = _at(dec.usd_per_replica_hour, j)
    lo = min(_at(pre.throughput_low_factor, i),
             _at(dec.throughput_low_factor, j))
    hi = max(_at(pre.throughput_high_factor, i),
             _at(dec.throughput_high_factor, j))

    def pools(scale):
        n_p = np.ceil(lam / (cap_p * scale * rho))
        n_d = np.ceil(lam / (cap_d * scale * rho))
        return n_p, n_d, n_p * price_p + n_d * price_d

    n_p, n_d, usd_h = pools(1.0)
    usd_low, usd_high = pools(hi)[2], pools(lo)[2]
    n_c = np.ceil(lam / (cap_c * rho))
    per_1k = np.where(lam > 0, usd_h / np.where(lam > 0, lam * 3.6, 1.0), np.nan)
    return DisaggregatedPlan(
        requests_per_second=wrap_like(lam, requests_per_second),
        prefill_batch=float(_BATCHES[i]), decode_batch=float(_BATCHES[j]),
        ttft_s=float(ttft[i]), tpot_s=_at(dec.tpot_s, j), kv_transfer_s=t_kv,
        prefill_replicas=wrap_like(n_p, requests_per_second),
        decode_replicas=wrap_like(n_d, requests_per_second),
        gpus=wrap_like((n_p + n_d) * n_gpus, requests_per_second),
        usd_per_hour=wrap_like(usd_h, requests_per_second),
        usd_per_month=wrap_like(usd_h * HOURS_PER_MONTH, requests_per_second),
        usd_per_1k_requests=wrap_like(per_1k, requests_per_second),
        usd_per_hour_low=wrap_like(usd_low, requests_per_second),
        usd_per_hour_high=wrap_like(usd_high, requests_per_second),
        colocated_batch=float(_BATCHES[c]), colocated_replicas=wrap_like(n_c, requests_per_second),
        colocated_usd_per_hour=wrap_like(n_c * _at(col.usd_per_replica_hour, c),
                                         requests_per_second),
        assumptions={
            "pools": "prefill: the largest batch with TTFT + KV transfer within the TTFT SLO; "
                     "decode: the largest batch with TPOT within the TPOT SLO; replicas = "
                     f"ceil(requests/s / (capacity x {rho:g})); no queueing delay counted "
                     "beyond that headroom",
            "kv_transfer": f"prompt KV ({kv_tok / 2**20:,.2f} MiB "
                           f"per token) over {kv_link_gb_per_s:g} GB/s, not overlapped",
            "colocated": "one pool, chunked prefill at steady state, the largest batch meeting "
                         "both SLOs",
            "range": "USD per hour low-high from the estimates' nominal 80% throughput range",
            "price": dec.assumptions.get("price", ""),
            "month": f"{HOURS_PER_MONTH:g} hours",
        })


def _static(f: EngineFeatures) -> EngineFeatures:
    return EngineFeatures(**{**f.__dict__, "chunked_prefill": False})


def _chunked(f: EngineFeatures) -> EngineFeatures:
    return EngineFeatures(**{**f.__dict__, "chunked_prefill": True})

