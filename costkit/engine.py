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

from ._checks import as_fraction, as_quantity, wrap_like
from .engine_features import (
    DEFAULT_TOKEN_BUDGET,
    EngineFeatures,
    Speculation,
    adapter_params,
    chunked_schedule,
    distinct_adapters,
    kv_transfer_s,
    prefill_attention_flops,
    speculative_tpot_s,
    tokens_per_step,
)
from .units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from ._typing import Floats, Frame

__all__ = [
    "DEFAULT_TOKEN_BUDGET", "DisaggregatedPlan", "EngineFeatures", "Speculation",
    "adapter_params", "chunked_schedule", "disaggregated", "distinct_adapters",
    "kv_transfer_s", "prefill_attention_flops", "speculative_tpot_s", "tokens_per_step",
]  # fmt: skip

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

