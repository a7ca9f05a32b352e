"""Serving-engine features and their kernels: what :func:`costkit.serving.estimate` combines.

Prefix caching, speculative decoding, multi-LoRA and chunked prefill (:class:`EngineFeatures`,
:class:`Speculation`) and the equations they add to a pass. This module sits below
:mod:`costkit.serving`, which applies them; :mod:`costkit.engine` (above it, where
:func:`costkit.engine.disaggregated` runs the serving estimate for each pool) re-exports
every name here and is their documented home, with the references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_fraction, as_quantity, count

if TYPE_CHECKING:
    from ._typing import Floats

__all__: list[str] = []  # documented, and imported, as costkit.engine's

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
