"""Training cost: FLOPs, memory per GPU, GPU-hours, money, energy and CO2.

The chain, each step a function you can call on its own::

    FLOPs = 6·N·D (+ attention)                               flops()
    GPU-hours = FLOPs / (MFU x dense peak FLOP/s x 3600 s/h)   estimate()
    cost [USD] = GPU-hours x USD per GPU-hour                   estimate()
    energy [kWh] = GPU-hours x W per GPU / 1000 x PUE          estimate()
    CO2 [kg] = energy x kg CO2e per kWh                        estimate()

plus :func:`memory` (bytes per GPU, which sets the fewest GPUs that can hold
the job), :func:`lora_trainable_params` for fine-tuning with adapters, and a
compute-optimal planner (:func:`compute_optimal`,
:func:`compute_optimal_budget`) after Chinchilla.

Every function broadcasts over numpy arrays and pandas Series. The default
MFU comes from published runs (:mod:`costkit.mfu`), the default price from
the price catalog (:func:`costkit.price_quote`); both travel with the result
as assumptions, with a low / central / high range.

Default assumptions (printed by every :class:`TrainingEstimate`)
------------------------------------------------------------------
- MFU: the efficiency model of :mod:`costkit.mfu`, fitted on 33 published
  runs (generation, active parameters per peak TFLOPS, software stack), with
  an 80% range from its leave-one-out residuals; goodput 0.9
  (:data:`costkit.mfu.DEFAULT_GOODPUT`): GPU-hours = FLOPs / (MFU x goodput
  x peak).
- Mixture of experts: FLOPs from the active parameters, memory from the
  total; the expert-parallel all-to-all (4 x k x d x 2 bytes per token per
  MoE layer) over NVLink within a node, not overlapped with compute.
- Price: the median on-demand offer for the GPU in ``gpu_prices.csv``; the
  range is the offers' quartiles.
- Power: the server's, at full load for the whole run: the GPU's TDP times
  :data:`DEFAULT_SERVER_POWER_FACTOR` (1.82, from the DGX H100's 10.2 kW for
  8 x 700 W GPUs), so the host's CPUs, memory, network and fans are counted;
  Meta's LLaMA papers count the GPU TDP alone (``server_power_factor=1``).
  PUE 1.1 and 0.385 kg CO2e/kWh, the US average the LLaMA paper uses [4].
  Pass your data centre's PUE and grid intensity.
- Memory: mixed-precision AdamW (16 bytes per parameter [3]), ZeRO-3 in
  :func:`estimate`, 90% of the GPU's memory usable; results in GB = 1e9
  bytes, capacities as labelled in GiB (an "80GB" GPU holds 80 x 2^30 bytes).
- GPUs: one 8-GPU node, or as many nodes as memory needs, unless ``n_gpus``.

References
----------
- [1] Kaplan et al., "Scaling Laws for Neural Language Models",
  arXiv:2001.08361, 2020, Sec. 2.1 (C = 6·N·D).
- [2] Chowdhery et al., "PaLM", arXiv:2204.02311, 2022, Appendix B
  (6·N + 12·L·H·Q·T FLOPs per token); Narayanan et al., "Efficient
  Large-Scale Language Model Training on GPU Clusters Using Megatron-LM",
  SC21, arXiv:2104.04473, Sec. 5.1 (the same count).
- [3] Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training
  Trillion Parameter Models", SC20, arXiv:1910.02054, Sec. 3.1 and 5.
- [4] Touvron et al., "LLaMA", arXiv:2302.13971, 2023, Sec. 6 (400 W TDP,
  PUE 1.1, 0.385 kg CO2e/kWh).
- [5] Korthikanti et al., "Reducing Activation Recomputation in Large
  Transformer Models", arXiv:2205.05198, 2022, Sec. 4 (activation bytes).
- [6] Hu et al., "LoRA", arXiv:2106.09685, 2021; Dettmers et al., "QLoRA",
  arXiv:2305.14314, 2023.
- [7] Hoffmann et al., "Training Compute-Optimal Large Language Models"
  (Chinchilla), arXiv:2203.15556, 2022, Table 3 (about 20 tokens per
  parameter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import (
    as_fraction,
    as_quantity,
    finite_result,
    warning_lines,
    wrap_like,
)
from ._checks import broadcast as _broadcast
from ._checks import scalar_or as _scalar_or
from ._checks import whole as _whole
from ._resolve import catalog_prices as _catalog_prices
from ._resolve import gpu_lookup as _gpu_lookup
from ._resolve import gpu_names_like as _gpu_names_like
from ._resolve import per_gpu as _per_gpu
from ._resolve import price_age_notes

if TYPE_CHECKING:
    from ._typing import Bools, Floats, Frame, Names, NamesLike, StrPath
    from .ledger import Ledger

__all__ = [
    "CHINCHILLA_TOKENS_PER_PARAM", "DEFAULT_KG_CO2_PER_KWH", "DEFAULT_PUE",
    "DEFAULT_SERVER_POWER_FACTOR", "OPTIMIZERS",
    "ComputeOptimalPlan", "MemoryBreakdown", "TrainingEstimate", "compute_optimal",
    "compute_optimal_budget", "estimate", "flops", "lora_trainable_params", "memory",
]  # fmt: skip

DEFAULT_PUE = 1.1
"""Power usage effectiveness of the data centre [unitless], as in the LLaMA papers."""
DEFAULT_SERVER_POWER_FACTOR = 10_200 / (8 * 700)
"""Server power per watt of GPU TDP [unitless]: NVIDIA's DGX H100 datasheet gives 10.2 kW
maximum for a server of 8 H100s at 700 W each (1.82: CPUs, memory, NICs, fans and power
supplies draw the rest, about 575 W per GPU). Set 1 to count the GPU boards alone."""
DEFAULT_KG_CO2_PER_KWH = 0.385
"""Grid carbon intensity [kg CO2e/kWh]: the US national average the LLaMA paper uses."""
CHINCHILLA_TOKENS_PER_PARAM = 20.0
"""Compute-optimal training tokens per parameter (Hoffmann et al. 2022, Table 3)."""
USABLE_MEMORY_FRACTION = 0.9
"""Share of a GPU's memory a training job can fill (CUDA context, allocator slack)."""
QLORA_BITS_PER_PARAM = 4.127
"""NF4 weights with double-quantised constants (Dettmers et al. 2023, Sec. 3). QLoRA
quantises the Transformer blocks' linear layers; the embeddings and ``lm_head`` stay in
16 bit (bitsandbytes skips them), so a catalog model's weights outside its blocks are
counted at 2 bytes (Llama-3-8B: 5.70 GB, not 4.14 GB)."""

_WEIGHT_BYTES = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 2.0}
# fp8 training keeps 16-bit weights and casts them per matmul (Transformer Engine).

OPTIMIZERS = {
    "adamw": 8.0,       # first and second moments, fp32 (Loshchilov and Hutter 2019)
    "sgd": 4.0,         # momentum, fp32
    "adamw_8bit": 2.0,  # 8-bit moments (Dettmers et al. 2022, arXiv:2110.02861)
    "adafactor": 0.0,   # factored second moment, negligible (Shazeer and Stern 2018)
}
"""Optimizer state [bytes per trainable parameter], not counting the fp32 master
copy of the weights that mixed-precision training adds (4 bytes)."""
_OPTIMIZER_ALIASES = {"adam": "adamw", "adamw8bit": "adamw_8bit", "adam8bit": "adamw_8bit",
                      "sgdm": "sgd", "momentum": "sgd"}
_METHODS = ("full", "lora", "qlora")
NETWORK_NOTE = "the network (50 GB/s per GPU, one 400 Gb/s port)"

_NODE = 8  # GPUs per node


# --------------------------------------------------------------------------- helpers


def _dtype(dtype: str) -> str:
    from .catalog import normalize_dtype

    d = normalize_dtype(dtype)
    if d in ("int8", "int4"):
        raise ValueError(f"{d} is an inference data type; train in bf16, fp16, fp8 or fp32")
    return d


def _optimizer(name: str) -> str:
    key = str(name).lower().replace("-", "_")
    key = _OPTIMIZER_ALIASES.get(key.replace("_", ""), _OPTIMIZER_ALIASES.get(key, key))
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")
    return key


def _shape_args(n_layers, d_model, seq_len,
                what="the attention term") -> tuple[Any, Any, Any] | None:
    given = {"n_layers": n_layers, "d_model": d_model, "seq_len": seq_len}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ValueError(f"{what} needs n_layers, d_model and seq_len together; missing: "
                         f"{', '.join(missing)}")
    return tuple(as_quantity(k, v, allow_zero=False) for k, v in given.items())


# --------------------------------------------------------------------------- FLOPs


def flops(params: Floats, tokens: Floats, *, n_layers: Floats | None = None,
          d_model: Floats | None = None, seq_len: Floats | None = None,
          trainable_params: Floats | None = None) -> Floats:
    r"""Training FLOPs: ``6·N·D``, plus attention when the shape is given.

    Parameters
    ----------
    params : numeric
        Parameters in the forward pass, N (with LoRA: base + adapters; for a
        mixture of experts the *active* parameters). [count]
    tokens : numeric
        Training tokens, D (sequences x sequence length x epochs). [count]
    n_layers, d_model, seq_len : numeric, optional
        Transformer shape; all three or none. [count, width, tokens]
    trainable_params : numeric, optional
        Parameters that receive gradients; default all (full training).

    Returns
    -------
    numeric
        Training FLOPs. [FLOP]

    Notes
    -----
    Per token, the forward pass costs 2·N multiply-adds-as-two-FLOPs, the
    backward pass 2·N for activation gradients plus 2·N_t for weight gradients
    of the N_t trainable parameters [1] [6]:

    .. math:: C = (4N + 2N_t) D \; (= 6ND \text{ for full training})
              + 12 \, L \, d \, s \, D

    The second term is the attention score and value products (QK^T and AV:
    2·2·L·s·d forward, twice that backward), counted without causal masking as
    in PaLM's MFU and Megatron-LM [2]. For Llama shapes at 4-8k context it is
    7-21% of the total (Llama-3-70B at 4k: 7%; Llama-2-7B at 4k: 14%;
    Llama-3-8B at 8k: 21%) and it dominates at very long context.

    Examples
    --------
    >>> flops(7e9, 2e12)  # 6 x 7e9 x 2e12
    8.4e+22
    """
    n = as_quantity("params", params, allow_zero=False)
    d = as_quantity("tokens", tokens)
    t = n if trainable_params is None else as_quantity("trainable_params", trainable_params)
    if (t > n).any():
        raise ValueError("trainable_params cannot exceed params")
    from . import kernels

    shape = _shape_args(n_layers, d_model, seq_len)
    attention = 0.0 if shape is None else kernels.attention_flops_per_token(*shape)
    return wrap_like(kernels.training_flops(n, t, d, attention), params, tokens)


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True, repr=False)
class MemoryBreakdown:
    """Training memory per GPU, by part. [GB = 1e9 bytes]

    ``weights_gb``, ``gradients_gb``, ``optimizer_gb`` (states and fp32 master
    weights), ``activations_gb`` (0 when no shape was given); ``total_gb``.
    Arrays when the inputs were arrays. ``assumptions`` says how each was
    counted.
    """

    weights_gb: Floats
    gradients_gb: Floats
    optimizer_gb: Floats
    activations_gb: Floats
    n_gpus: Floats
    zero_stage: int
    assumptions: dict = field(default_factory=dict)

    @property
    def total_gb(self) -> Floats:
        """Weights + gradients + optimizer states + activations per GPU. [GB]"""
        return self.weights_gb + self.gradients_gb + self.optimizer_gb + self.activations_gb

    def to_frame(self) -> Frame:
        """The breakdown as a DataFrame, one row per configuration. [GB]

        Returns
        -------
        DataFrame
            The breakdown as a DataFrame, one row per configuration. [GB]

        Examples
        --------
        >>> memory(7e9, zero_stage=3, n_gpus=8).to_frame().round(1)
           weights_gb  gradients_gb  optimizer_gb  activations_gb  total_gb
        0         1.8           1.8          10.5             0.0      14.0
        """
        import pandas as pd

        cols = {k: np.atleast_1d(np.asarray(getattr(self, k), dtype=float)).ravel()
                for k in ("weights_gb", "gradients_gb", "optimizer_gb", "activations_gb")}
        df = pd.DataFrame(cols)
        df["total_gb"] = df.sum(axis=1)
        return df

    def __repr__(self) -> str:
        if np.ndim(self.total_gb):
            return (f"MemoryBreakdown over {np.size(self.total_gb)} configurations "
                    f"(ZeRO-{self.zero_stage}); .to_frame() for the table")
        lines = [f"MemoryBreakdown per GPU (ZeRO-{self.zero_stage}, {self.n_gpus:g} GPUs):"]
        for k in ("weights_gb", "gradients_gb", "optimizer_gb", "activations_gb"):
            lines.append(f"  {k[:-3]:<12}{getattr(self, k):>10.2f} GB")
        lines.append(f"  {'total':<12}{self.total_gb:>10.2f} GB")
        return "\n".join(lines)


def _memory_arrays(params, trainable, dtype, optimizer, zero_stage, n_gpus, frozen_bytes,
                   act_bytes):
    """Bytes per GPU (weights, grads, optimizer, activations) as float arrays."""
    wb = _WEIGHT_BYTES[dtype]
    mixed = wb < 4.0
    ob = OPTIMIZERS[optimizer] + (4.0 if mixed else 0.0)
    frozen = params - trainable
    w = frozen * (wb if frozen_bytes is None else frozen_bytes) + trainable * wb
    g = trainable * wb
    o = trainable * ob
    if zero_stage >= 1:
        o = o / n_gpus
    if zero_stage >= 2:
        g = g / n_gpus
    if zero_stage >= 3:
        w = w / n_gpus
    return w, g, o, act_bytes + 0.0 * w


def _activation_bytes(dtype, n_layers, d_model, seq_len, micro_batch_size, n_heads,
                      activation_checkpointing, flash_attention):
    """Activation bytes per GPU (Korthikanti et al. 2022, Eq. 2 and Sec. 5)."""
    sbh = seq_len * micro_batch_size * d_model
    if activation_checkpointing:
        per_layer = 2.0 * sbh  # the 16-bit input of each layer; the rest is recomputed
    else:
        per_layer = 34.0 * sbh
        if not flash_attention:
            if n_heads is None:
                raise ValueError("activations without flash attention need n_heads (the "
                                 "5·a·s²·b attention-score term)")
            per_layer = per_layer + 5.0 * n_heads * seq_len**2 * micro_batch_size
    scale = 2.0 if dtype in ("fp32", "tf32") else 1.0
    return n_layers * per_layer * scale


def memory(params: Floats, *, dtype: str = "bf16", optimizer: str = "adamw", zero_stage: int = 0,
           n_gpus: Floats = 1, trainable_params: Floats | None = None,
           frozen_bytes_per_param: Floats | None = None, n_layers: Floats | None = None,
           d_model: Floats | None = None, seq_len: Floats | None = None,
           micro_batch_size: Floats = 1, n_heads: Floats | None = None,
           activation_checkpointing: bool = False, flash_attention: bool = True) -> MemoryBreakdown:
    """Training memory per GPU: weights, gradients, optimizer states, activations.

    Parameters
    ----------
    params : numeric
        Parameters held (base + adapters). [count]
    dtype : str
        Training data type: weights and gradients in 16 bits for bf16 / fp16
        / fp8 (fp8 keeps 16-bit weights), 32 bits for fp32 / tf32.
    optimizer : {"adamw", "sgd", "adamw_8bit", "adafactor"}
        Optimizer states per trainable parameter (:data:`OPTIMIZERS`); mixed
        precision adds a 4-byte fp32 master copy.
    zero_stage : {0, 1, 2, 3}
        ZeRO sharding across the ``n_gpus`` data-parallel GPUs: 1 shards the
        optimizer states, 2 also the gradients, 3 also the weights (FSDP).
    n_gpus : numeric
        GPUs the states are sharded over. [count]
    trainable_params : numeric, optional
        Parameters with gradients and optimizer states; default all.
    frozen_bytes_per_param : numeric, optional
        Bytes of each frozen weight, e.g. ``4.127 / 8`` for QLoRA's NF4; default
        the dtype's. [bytes]
    n_layers, d_model, seq_len : numeric, optional
        Shape for the activations; without them activations are not counted.
    micro_batch_size : numeric
        Sequences per GPU per step. [count]
    n_heads : int, optional
        Needed only without flash attention (the s x s score matrices).
    activation_checkpointing : bool
        Keep only each layer's input and recompute the rest (costs about a
        third more compute, not counted in FLOPs here).
    flash_attention : bool
        Fused attention that never stores the s x s scores (default True).

    Returns
    -------
    MemoryBreakdown
        Per-GPU GB of each part. [GB = 1e9 bytes]

    Notes
    -----
    Mixed-precision AdamW keeps 2 + 2 + (4 + 4 + 4) = 16 bytes per parameter
    [3]. Activations per layer are ``s·b·h·34`` bytes (16-bit, no tensor
    parallelism, flash attention; plus ``5·a·s²·b`` without it) or ``2·s·b·h``
    with full checkpointing [5]. Not counted: temporary buffers, the logits
    (``s·b·V``), communication buckets and fragmentation; hence only 90% of a
    GPU's memory counts as usable in :func:`estimate`.

    Examples
    --------
    >>> m = memory(7e9)  # 7e9 x (2 + 2 + 12) bytes on one GPU
    >>> round(m.total_gb, 1)
    112.0
    >>> round(memory(7e9, zero_stage=3, n_gpus=8).total_gb, 1)
    14.0
    """
    d = _dtype(dtype)
    opt = _optimizer(optimizer)
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    n = as_quantity("params", params, allow_zero=False)
    t = n if trainable_params is None else as_quantity("trainable_params", trainable_params)
    g = _whole("n_gpus", as_quantity("n_gpus", n_gpus, allow_zero=False))
    fb = None if frozen_bytes_per_param is None else as_quantity("frozen_bytes_per_param",
                                                                 frozen_bytes_per_param)
    n, t, g = _broadcast(params=n, trainable_params=t, n_gpus=g)
    if (t > n).any():
        raise ValueError("trainable_params cannot exceed params")
    shape = _shape_args(n_layers, d_model, seq_len, "activation memory")
    if shape is None:
        act = np.zeros_like(n)
        act_note = "not counted (no n_layers, d_model, seq_len given)"
    else:
        mb = as_quantity("micro_batch_size", micro_batch_size, allow_zero=False)
        heads = None if n_heads is None else as_quantity("n_heads", n_heads, allow_zero=False)
        act = _activation_bytes(d, *shape, mb, heads, activation_checkpointing, flash_attention)
        act_note = ("2·s·b·h bytes per layer (full checkpointing)" if activation_checkpointing
                    else "34·s·b·h bytes per layer" + (" (flash attention)" if flash_attention
                                                        else " + 5·a·s²·b (scores stored)"))
    w, gr, o, a = _memory_arrays(n, t, d, opt, zero_stage, g, fb, act)
    wb = _WEIGHT_BYTES[d]
    ob = OPTIMIZERS[opt] + (4.0 if wb < 4 else 0.0)
    assumptions = {
        "weights": f"{wb:g} bytes per parameter ({d})" + (
            "" if fb is None else f"; frozen weights {float(np.max(fb)):.3g} bytes"),
        "gradients": f"{wb:g} bytes per trainable parameter",
        "optimizer": f"{ob:g} bytes per trainable parameter ({opt}"
                     + (", incl. 4-byte fp32 master weights)" if wb < 4 else ")"),
        "activations": act_note,
        "zero_stage": zero_stage,
        "GB": "1e9 bytes",
    }
    gb = 1e-9
    return MemoryBreakdown(
        weights_gb=wrap_like(w * gb, params), gradients_gb=wrap_like(gr * gb, params),
        optimizer_gb=wrap_like(o * gb, params), activations_gb=wrap_like(a * gb, params),
        n_gpus=_scalar_or(g), zero_stage=zero_stage, assumptions=assumptions,
    )  # fmt: skip


def _min_gpus(w_sharded, w_fixed, usable_bytes):
    """Fewest GPUs with fixed + sharded / n <= usable (inf where none can)."""
    room = usable_bytes - w_fixed
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(room > 0, np.ceil(w_sharded / np.where(room > 0, room, 1.0) - 1e-9),
                        np.inf)
    return np.maximum(need, 1.0)


# --------------------------------------------------------------------------- LoRA

_MODULE_ALIASES = {
    "q": "q", "q_proj": "q", "query": "q", "wq": "q",
    "k": "k", "k_proj": "k", "key": "k", "wk": "k",
    "v": "v", "v_proj": "v", "value": "v", "wv": "v",
    "o": "o", "o_proj": "o", "out_proj": "o", "wo": "o", "attention.output.dense": "o",
    "gate": "gate", "gate_proj": "gate", "w1": "gate",
    "up": "up", "up_proj": "up", "w3": "up", "fc1": "up", "intermediate.dense": "up",
    "down": "down", "down_proj": "down", "w2": "down", "fc2": "down", "output.dense": "down",
}  # fmt: skip


def lora_trainable_params(model: str | None = None, *, rank: Floats = 8,
                          target_modules: Sequence[str] = ("q_proj", "v_proj"),
                          n_layers: Floats | None = None, d_model: Floats | None = None,
                          n_heads: Floats | None = None, n_kv_heads: Floats | None = None,
                          d_ff: Floats | None = None, gated_mlp: bool | None = None,
                          model_path: StrPath | None = None) -> int | Floats:
    """Trainable parameters that LoRA adds: ``rank x (d_in + d_out)`` per adapted matrix.

    Parameters
    ----------
    model : str, optional
        A name from the model catalog (gives the shape); or pass the shape.
    rank : numeric
        LoRA rank r (broadcasts); at most the smaller side of every adapted
        matrix, or the update is not low-rank. [count]
    target_modules : sequence of str or "all-linear"
        Hugging Face PEFT names (``q_proj``, ``k_proj``, ``v_proj``,
        ``o_proj``, ``gate_proj``, ``up_proj``, ``down_proj``; BERT's
        ``query``, ``key``, ``value`` also work).
    n_layers, d_model, n_heads, n_kv_heads, d_ff : int, optional
        Shape when no ``model`` is given (``n_kv_heads`` defaults to
        ``n_heads``: no grouped-query attention).
    gated_mlp : bool, optional
        Whether the MLP has a gate matrix (SwiGLU); default True for the
        catalog's decoders, False for encoders and for a given shape.
    model_path : str or Path, optional
        Your own model table (the columns of ``data/models.csv``); default costkit's.

    Returns
    -------
    numeric
        Adapter parameters (A and B matrices), all layers. [count]

    Raises
    ------
    ValueError
        An unknown module name, a rank that is not a positive whole number,
        or a rank larger than an adapted matrix's smaller side.

    Examples
    --------
    Llama 2 7B, r = 8 on q and v: 32 layers x 2 x 8 x (4096 + 4096):

    >>> lora_trainable_params("llama-2-7b", rank=8)
    4194304
    """
    from .catalog import linear_shapes
    from .catalog import model as lookup

    if model is not None:
        m = lookup(model, path=model_path)
        if m.n_layers is None or m.d_model is None or m.n_heads is None:
            raise ValueError(f"{m.name} has no transformer shape in the catalog; LoRA needs one")
        n_layers = m.n_layers
        shapes = linear_shapes(m.d_model, m.n_heads, n_kv_heads=m.n_kv_heads,
                               d_ff=m.d_ff or 4 * m.d_model,
                               gated_mlp=m.gated_mlp if gated_mlp is None else bool(gated_mlp))
    else:
        missing = [k for k, v in {"n_layers": n_layers, "d_model": d_model,
                                  "n_heads": n_heads}.items() if v is None]
        if missing or d_model is None or n_heads is None:
            raise ValueError(f"pass model= or the shape; missing: {', '.join(missing)}")
        shapes = linear_shapes(d_model, n_heads, n_kv_heads=n_kv_heads, d_ff=d_ff,
                               gated_mlp=bool(gated_mlp), head_dim=d_model / n_heads)
    if isinstance(target_modules, str):
        if target_modules.lower() not in ("all-linear", "all_linear", "all"):
            target_modules = (target_modules,)
        else:
            target_modules = tuple(shapes)
    chosen = {}
    for name in target_modules:
        full = str(name).lower()  # "self_attn.q_proj" -> "q_proj"
        key = _MODULE_ALIASES.get(full, _MODULE_ALIASES.get(full.rsplit(".", 1)[-1]))
        if key is None or key not in shapes:
            known = sorted(k for k, v in _MODULE_ALIASES.items() if v in shapes and "_" in k)
            raise ValueError(f"unknown LoRA target module {name!r} for this model; use "
                             f"{', '.join(known)} or 'all-linear'")
        chosen[key] = (str(name), shapes[key])
    r = _whole("rank", as_quantity("rank", rank, allow_zero=False))
    for name, (d_in, d_out) in chosen.values():
        if r.size and r.max() > min(d_in, d_out):
            raise ValueError(f"rank {r.max():g} is larger than the {name} matrix "
                             f"({d_in:g} x {d_out:g}): a LoRA rank is at most the smaller "
                             f"side, {min(d_in, d_out):g}")
    out = n_layers * r * sum(d_in + d_out for _, (d_in, d_out) in chosen.values())
    if np.ndim(out) == 0:
        return int(round(float(out)))
    return wrap_like(np.round(out), rank)


# --------------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class EstimateBound:
    """One end of a :class:`TrainingEstimate`'s range (``low``: the cheap end)."""

    mfu: Floats
    usd_per_gpu_hour: Floats
    gpu_hours: Floats
    wall_clock_hours: Floats
    cost_usd: Floats
    energy_kwh: Floats
    co2_kg: Floats


@dataclass(frozen=True, repr=False)
class TrainingEstimate:
    """What a training run costs: FLOPs, GPU-hours, wall clock, money, energy, CO2.

    Scalars for one configuration, arrays (or Series) for many. Units are in
    the names: ``flops`` [FLOP], ``gpu_hours`` [GPU-hour],
    ``wall_clock_hours`` [h], ``cost_usd`` [USD], ``energy_kwh`` [kWh],
    ``co2_kg`` [kg CO2e], ``memory_per_gpu_gb`` [GB]. ``low`` and ``high``
    hold the cheap and dear ends of the range (high MFU and low price, and the
    reverse); ``assumptions`` lists every default used, with sources.
    """

    params: Floats
    trainable_params: Floats
    tokens: Floats
    gpu: Names
    dtype: str
    method: str
    n_gpus: Floats
    flops: Floats
    mfu: Floats
    peak_tflops: Floats
    usd_per_gpu_hour: Floats
    gpu_hours: Floats
    wall_clock_hours: Floats
    cost_usd: Floats
    energy_kwh: Floats
    co2_kg: Floats
    min_gpus_for_memory: Floats
    memory_per_gpu_gb: Floats
    fits_in_memory: Bools
    checkpoint_gb: Floats
    memory: MemoryBreakdown
    low: EstimateBound
    high: EstimateBound
    assumptions: dict = field(default_factory=dict)
    label: str = ""
    goodput: float = 0.9
    all_to_all_gpu_hours: Floats = 0.0
    active_params: Floats = None

    @property
    def wall_clock_days(self) -> Floats:
        """Wall-clock time. [days]"""
        return self.wall_clock_hours / 24.0

    @property
    def is_scalar(self) -> bool:
        """Whether this is one configuration (scalar fields) rather than an array."""
        return np.ndim(self.gpu_hours) == 0

    def summary(self) -> Frame:
        """Low / central / high of each quantity, as a DataFrame (one configuration).

        Each column is one end of the range: ``low`` is the cheap, fast end
        (so its ``mfu`` row holds the *high* MFU and its price the low one),
        ``high`` the dear, slow end.

        Returns
        -------
        DataFrame
            Low / central / high of each quantity, as a DataFrame (one configuration).

        Examples
        --------
        >>> e = estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", n_gpus=8,
        ...              usd_per_gpu_hour=2.5)
        >>> e.summary().loc["cost_usd"].round(-2)
        low         8400.0
        central    13400.0
        high       27800.0
        Name: cost_usd, dtype: float64
        """
        import pandas as pd

        if not self.is_scalar:
            raise ValueError("summary() is for one configuration; use to_frame() for many")
        rows = {}
        for k in ("mfu", "usd_per_gpu_hour", "gpu_hours", "wall_clock_hours", "cost_usd",
                  "energy_kwh", "co2_kg"):
            rows[k] = (getattr(self.low, k), getattr(self, k), getattr(self.high, k))
        return pd.DataFrame.from_dict(rows, orient="index", columns=["low", "central", "high"])

    def to_frame(self) -> Frame:
        """One row per configuration: inputs, results and their low / high ends.

        Returns
        -------
        DataFrame
            One row per configuration: inputs, results and their low / high ends.

        Examples
        --------
        >>> e = estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", n_gpus=8,
        ...              usd_per_gpu_hour=2.5)
        >>> e.to_frame()[["gpu", "n_gpus", "gpu_hours", "cost_usd"]].round(0)
                gpu  n_gpus  gpu_hours  cost_usd
        0  H100-SXM     8.0     5366.0   13414.0
        """
        import pandas as pd

        cols = {"gpu": self.gpu, "params": self.params, "trainable_params": self.trainable_params,
                "tokens": self.tokens, "n_gpus": self.n_gpus, "mfu": self.mfu,
                "usd_per_gpu_hour": self.usd_per_gpu_hour, "flops": self.flops}
        for k in ("gpu_hours", "wall_clock_hours", "cost_usd", "energy_kwh", "co2_kg"):
            cols[k] = getattr(self, k)
            cols[f"{k}_low"] = getattr(self.low, k)
            cols[f"{k}_high"] = getattr(self.high, k)
        cols.update(min_gpus_for_memory=self.min_gpus_for_memory,
                    memory_per_gpu_gb=self.memory_per_gpu_gb, fits_in_memory=self.fits_in_memory)
        shape = np.shape(self.gpu_hours)
        flat = {k: np.broadcast_to(np.asarray(v), shape).ravel() for k, v in cols.items()}
        df = pd.DataFrame(flat)
        df.insert(1, "dtype", self.dtype)
        df.insert(2, "method", self.method)
        index = getattr(self.gpu_hours, "index", None)
        if index is not None:
            df.index = index
        return df

    def require_fit(self) -> TrainingEstimate:
        """Raise ``ValueError`` unless every configuration fits in its GPUs' memory.

        A run that does not fit cannot be done as configured, so its price is
        no cost: ledgers, searches and scenarios refuse it rather than add it.

        Returns
        -------
        TrainingEstimate
            This estimate, for chaining.

        Examples
        --------
        >>> e = estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", n_gpus=8,
        ...              usd_per_gpu_hour=2.5)
        >>> e.require_fit() is e
        True
        """
        fits = np.asarray(self.fits_in_memory, dtype=bool)
        if fits.all():
            return self
        i = int(np.flatnonzero(~fits.ravel())[0])

        def pick(x, dtype=float):
            return np.broadcast_to(np.asarray(x, dtype=dtype), fits.shape).ravel()[i]

        raise ValueError(
            f"{self.label or 'the training run'} does not fit in memory: "
            f"{pick(self.memory_per_gpu_gb):,.1f} GB per GPU on {pick(self.n_gpus):g} x "
            f"{pick(self.gpu, object)}; it needs at least "
            f"{pick(self.min_gpus_for_memory):g} GPUs (n_gpus=), a larger GPU, ZeRO sharding "
            "or LoRA/QLoRA. A run that cannot be done has no price")

    def to_ledger(self, ledger: Ledger | None = None, *, phase: str = "train",
                  name: str | None = None, preprocessing_hours: float = 0.0,
                  usd_per_preprocessing_hour: float | None = None,
                  checkpoint_months: float = 0.0,
                  checkpoints_kept: Floats = 1, usd_per_gb_month: Floats | None = None) -> Ledger:
        """Add this run to a :class:`costkit.Ledger` (a new one if none is given).

        Adds the GPU time (GPU-hours x USD per GPU-hour), and, when asked,
        data preprocessing (``preprocessing_hours`` [h] of CPU instances at
        ``usd_per_preprocessing_hour`` [USD/h]) and checkpoint storage
        (``checkpoints_kept`` x :attr:`checkpoint_gb` [GB] for
        ``checkpoint_months`` [month] at ``usd_per_gb_month``, default S3
        Standard 0.023 USD/GB-month). One configuration only.

        Parameters
        ----------
        ledger : Ledger, optional
            Ledger to add the lines to; default a new one.
        phase : str, default 'train'
            Phase of the cost model: ``train``, ``run``, ``opt`` or ``tune``.
        name : str, optional
            Name of the compute line; default from the model and GPUs.
        preprocessing_hours : float, default 0.0
            Hours of data preprocessing (a ``data`` line). [h]
        usd_per_preprocessing_hour : float, optional
            Price of an hour of preprocessing; needed with ``preprocessing_hours``
            (there is no default price for CPU time). [USD/h]
        checkpoint_months : float, default 0.0
            Months the checkpoints are stored (0: not priced). [month]
        checkpoints_kept : numeric, default 1
            Checkpoints kept. [count]
        usd_per_gb_month : numeric, optional
            Checkpoint storage price; default S3 Standard's. [USD/GB-month]

        Returns
        -------
        Ledger
            The ledger with the run's lines.

        Examples
        --------
        >>> e = estimate(model="llama-2-7b", tokens=1e11, gpu="H100-SXM", n_gpus=8,
        ...              usd_per_gpu_hour=2.5)
        >>> led = e.to_ledger(checkpoint_months=3)
        >>> round(float(led.by_phase()["train"]))
        13421
        """
        from .ledger import S3_STANDARD_USD_PER_GB_MONTH, Ledger

        if not self.is_scalar:
            raise ValueError("to_ledger() takes one configuration; pick one from to_frame()")
        self.require_fit()
        if np.isnan(self.usd_per_gpu_hour):
            raise ValueError(f"{self.assumptions.get('price_missing_warning', 'no price')}: a "
                             "run without a price cannot go in a ledger")
        led = Ledger(title=self.label or "training") if ledger is None else ledger
        what = name or f"GPU time: {self.label or 'training'} on {self.n_gpus:g} x {self.gpu}"
        led.add_compute(phase, what, hours=float(self.gpu_hours),
                        usd_per_hour=float(self.usd_per_gpu_hour),
                        unit="GPU-hour", note=f"MFU {self.mfu:.3f}; {self.assumptions['price']}")
        if preprocessing_hours:
            if usd_per_preprocessing_hour is None:
                raise ValueError("preprocessing_hours needs usd_per_preprocessing_hour (the "
                                 "price of an hour of the instances that prepare the data)")
            led.add_compute(phase, "data preprocessing", hours=preprocessing_hours,
                            usd_per_hour=usd_per_preprocessing_hour, unit="hour",
                            category="data")
        if checkpoint_months:
            rate = S3_STANDARD_USD_PER_GB_MONTH if usd_per_gb_month is None else usd_per_gb_month
            kept = float(as_quantity("checkpoints_kept", checkpoints_kept))
            led.add_storage(phase, "checkpoints", storage_gb=float(self.checkpoint_gb) * kept,
                            usd_per_gb_month=float(rate), months=checkpoint_months,
                            note=f"{kept:g} checkpoint(s) of {self.checkpoint_gb:,.1f} GB "
                                 f"(weights + optimizer states)")
        return led

    def _repr_html_(self) -> str:
        from ._html import frame_table, result_table

        if not self.is_scalar:
            return frame_table(f"TrainingEstimate over {np.size(self.gpu_hours)} configurations",
                               self.to_frame(), self.assumptions)
        rows = [("FLOPs", self.flops, "FLOP"), ("step MFU", self.mfu, "of the dense peak"),
                ("goodput", self.goodput, "of the GPU-hours"),
                ("GPU-hours", self.gpu_hours, f"{self.gpu}-hours"),
                ("GPU-hours, range", f"{self.low.gpu_hours:,.0f} to {self.high.gpu_hours:,.0f}",
                 ""),
                ("wall clock", self.wall_clock_hours, f"hours on {self.n_gpus:g} GPUs"),
                ("cost", self.cost_usd, "USD"),
                ("cost, range", f"{self.low.cost_usd:,.0f} to {self.high.cost_usd:,.0f}", "USD"),
                ("energy", self.energy_kwh, "kWh"), ("CO2", self.co2_kg, "kg"),
                ("memory per GPU", self.memory_per_gpu_gb,
                 "GB" + ("" if self.fits_in_memory else " (does not fit)"))]
        return result_table(f"Training: {self.label or f'{self.params:.3g} params'}, "
                            f"{self.tokens:.3g} tokens on {self.gpu}, {self.dtype}", rows,
                            self.assumptions)

    def __repr__(self) -> str:
        a = self.assumptions
        if not self.is_scalar:
            return (f"TrainingEstimate over {np.size(self.gpu_hours)} configurations: cost "
                    f"{np.min(self.cost_usd):,.0f} to {np.max(self.cost_usd):,.0f} USD, "
                    f"{np.min(self.gpu_hours):,.0f} to {np.max(self.gpu_hours):,.0f} GPU-hours; "
                    f".to_frame() for the table, .assumptions for the defaults")
        how = "" if self.method == "full" else (
            f" ({self.method}, {self.trainable_params:.3g} trainable)")
        lines = [
            f"TrainingEstimate: {self.label + ' ' if self.label else ''}{self.params:.3g} params"
            f"{how}, {self.tokens:.3g} tokens on {self.n_gpus:g} x {self.gpu}, {self.dtype}",
            f"  FLOPs {self.flops:.3g} ({a['flop_count']}); MFU {self.mfu:.3f} "
            f"(range {self.high.mfu:.3f}-{self.low.mfu:.3f})",
            f"  {'':<22}{'low':>14}{'central':>14}{'high':>14}",
        ]
        days = float(self.wall_clock_hours) >= 24.0  # under a day: hours, never "0.0 days"
        rows = [("GPU-hours", "gpu_hours", 1),
                ("wall clock (days)" if days else "wall clock (hours)", "wall_clock_hours",
                 1 / 24 if days else 1),
                ("cost (USD)", "cost_usd", 1), ("energy (kWh)", "energy_kwh", 1),
                ("CO2 (kg)", "co2_kg", 1)]
        for label, k, f in rows:
            vals = [getattr(self.low, k) * f, getattr(self, k) * f, getattr(self.high, k) * f]
            if np.isnan(vals[1]):
                lines.append(f"  {label:<22}{'not estimated (see assumptions)':>42}")
                continue
            lines.append(f"  {label:<22}" + "".join(f"{v:>14,.1f}" for v in vals))
        fit = "fits" if self.fits_in_memory else "DOES NOT FIT"
        lines += [
            f"  memory {self.memory_per_gpu_gb:,.1f} GB per GPU ({fit}: {a['memory']}); "
            f"memory alone needs at least {self.min_gpus_for_memory:g} GPU(s); GPUs: "
            f"{self.n_gpus:g} ({a['n_gpus']})",
            f"  price: {a['price']}",
            *warning_lines(a),
            f"  energy: {a['power']}; PUE {a['pue']:g}; {a['kg_co2_per_kwh']} kg CO2e/kWh "
            f"({a.get('grid', 'given')})",
            f"  MFU basis: {a['mfu_basis']}",
        ]
        return "\n".join(lines)


def estimate(params: Floats | None = None, tokens: Floats | None = None, *,
             model: str | None = None, gpu: NamesLike = "H100-SXM", n_gpus: Floats | None = None,
             mfu: Floats | None = None, dtype: str = "bf16", usd_per_gpu_hour: Floats | None = None,
             pricing: str = "on_demand", cloud: str | None = None, price_stat: str = "median",
             pue: Floats = DEFAULT_PUE, kg_co2_per_kwh: Floats | None = None,
             grid: str | None = None, watts_per_gpu: Floats | None = None,
             server_power_factor: Floats = DEFAULT_SERVER_POWER_FACTOR,
             seq_len: Floats | None = None, method: str = "full", lora_rank: Floats = 16,
             lora_target_modules: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj"),
             trainable_params: Floats | None = None, optimizer: str = "adamw", zero_stage: int = 3,
             micro_batch_size: Floats = 1, activation_checkpointing: bool = True,
             mfu_range: Floats | None = None,
             usable_memory_fraction: Floats = USABLE_MEMORY_FRACTION,
             scaling_loss_per_doubling: Floats = 0.0, goodput: Floats | None = None,
             active_params: Floats | None = None, expert_parallel: Floats | None = None,
             gpu_path: StrPath | None = None, price_path: StrPath | None = None,
             runs_path: StrPath | None = None,
             model_path: StrPath | None = None) -> TrainingEstimate:
    """Estimate a training run: GPU-hours, wall clock, cost, energy and CO2, with a range.

    Parameters
    ----------
    params : numeric, optional
        Model parameters N; or give ``model``. [count]
    tokens : numeric
        Training tokens D (all epochs). [count]
    model : str, optional
        A model-catalog name; gives ``params`` and the shape (for LoRA, and
        for activations and attention FLOPs when ``seq_len`` is given).
    gpu : str or array of str
        Accelerator (matched as in :func:`costkit.gpu`); an array compares GPUs.
    n_gpus : numeric, optional
        GPUs in the job. Default: one 8-GPU node, or the nodes memory needs.
    mfu : numeric, optional
        Step MFU: the share of the dense peak a running training step turns
        into model FLOPs [unitless, 0 to 1]. Default: the efficiency model of
        :mod:`costkit.mfu` for the GPU's generation, the model's active size
        and the dtype, fitted on published runs.
    goodput : numeric, optional
        Share of the GPU-hours that run training steps (the rest: restarts,
        checkpoints, evaluation, idle) [unitless, 0 to 1]; default
        :data:`costkit.mfu.DEFAULT_GOODPUT` (0.9). GPU-hours use MFU x goodput.
    active_params : numeric, optional
        Parameters one token multiplies, for a mixture-of-experts model given
        by ``params`` (a catalog MoE model brings its own) [count]; the FLOPs
        use them, the memory uses ``params`` (all experts).
    expert_parallel : numeric, optional
        GPUs the experts are spread over (MoE) [count]; default
        min(experts, 8, n_gpus): one node, whose all-to-all runs over NVLink;
        more than 8 use the network (:data:`costkit.mfu.NETWORK_GBPS_PER_GPU`).
    dtype : str
        Training precision (bf16, fp16, fp8, fp32, tf32); picks the peak.
    usd_per_gpu_hour : numeric, optional
        Your price [USD per GPU-hour]. Default: the catalog's ``price_stat``
        offer for ``pricing`` (and ``cloud``), range its quartiles.
    pricing : {"on_demand", "spot"}
    cloud : str, optional
        Restrict catalog prices to one provider.
    price_stat : {"min", "p25", "median", "p75", "max", "mean"}
    pue : numeric
        Data-centre power usage effectiveness, >= 1. [unitless]
    kg_co2_per_kwh : numeric, optional
        Grid carbon intensity [kg CO2e/kWh]; give this or ``grid``, not both.
    grid : str, optional
        A grid of :func:`costkit.grid.grid_intensity` by name (``"CN-national-2022"``,
        ``"CN-East-2022"``, ``"EU-27-2018"``, ``"gcp-us-central1"``, ...). With neither,
        ``"US-LLaMA-paper"`` (0.385, :data:`costkit.grid.DEFAULT_GRID`), named in the
        assumptions.
    watts_per_gpu : numeric, optional
        Average power of one GPU board [W]; default its TDP.
    server_power_factor : numeric
        Server power per watt of GPU power [unitless, >= 1]; default
        :data:`DEFAULT_SERVER_POWER_FACTOR` (1.82, DGX H100). 1 counts the GPU
        boards only.
    seq_len : numeric, optional
        Training sequence length [tokens]; with a shape (``model``), adds the
        attention FLOPs and the activation memory.
    method : {"full", "lora", "qlora"}
        Full training / fine-tuning, or adapters (LoRA; QLoRA = LoRA over a
        4-bit NF4 base whose embeddings and ``lm_head`` stay 16-bit). Adapters
        need a ``model`` (or ``trainable_params``).
    lora_rank, lora_target_modules : int and sequence of str
        See :func:`lora_trainable_params`.
    trainable_params : numeric, optional
        Override the trainable count (e.g. a partial fine-tune).
    optimizer, zero_stage, micro_batch_size, activation_checkpointing : str, int, int, bool
        See :func:`memory`. ZeRO-3 by default: states sharded over all GPUs.
    mfu_range : (low, high), optional
        Your range for a given ``mfu``; default none (a given MFU is exact).
    usable_memory_fraction : numeric
        Share of GPU memory a job can fill [0 to 1].
    scaling_loss_per_doubling : numeric
        MFU lost per doubling of GPUs beyond one node [0 to 1]; 0 by default
        because the evidence MFUs were measured at cluster scale. Llama 3's
        Table 4 (43% at 8,192 GPUs, 41% at 16,384) suggests about 0.05.
    gpu_path, price_path, runs_path, model_path : optional
        Your own tables.

    Returns
    -------
    TrainingEstimate
        FLOPs, MFU, GPU-hours, wall clock, cost, energy and CO2 (low / central / high),
        memory per GPU and whether it fits, with every assumption and its source.

    Raises
    ------
    ValueError
        Negative, NaN or infinite quantities, MFU outside (0, 1], PUE < 1, a
        dtype the GPU cannot run, or a job that cannot fit in memory.
    UnknownNameError
        Unknown GPU or model name (with the closest names).

    Examples
    --------
    Llama 2 7B on A100-80GB at the MFU its paper's 184,320 GPU-hours imply
    (a wall-clock MFU, so goodput 1):

    >>> e = estimate(model="llama-2-7b", tokens=2e12, gpu="A100-80GB", mfu=0.39,
    ...              goodput=1.0, usd_per_gpu_hour=2.0)
    >>> round(e.gpu_hours, -3), round(e.cost_usd, -3)
    (185000.0, 369000.0)

    A mixture of experts: Mixtral-8x7B multiplies 12.9B of its 46.7B
    parameters per token, so its FLOPs are those of a 12.9B model, its
    memory that of a 46.7B one, plus the expert-parallel all-to-all:

    >>> e = estimate(model="mixtral-8x7b", tokens=1e12, gpu="H100", mfu=0.4,
    ...              usd_per_gpu_hour=2.0)
    >>> f"{e.flops:.3g} FLOPs; all-to-all {e.all_to_all_gpu_hours:,.0f} GPU-hours"
    '7.73e+22 FLOPs; all-to-all 1,133 GPU-hours'
    """
    from . import kernels
    from .mfu import DEFAULT_GOODPUT

    job = _resolve_job(params, tokens, model, method, lora_rank, lora_target_modules,
                       trainable_params, active_params, model_path)
    d = _dtype(dtype)
    opt = _optimizer(optimizer)
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    names, recs, inv = _gpu_lookup(gpu, gpu_path)
    peak = _per_gpu([r.peak_tflops(d) for r in recs], inv)
    mem_bytes = _per_gpu([r.memory_bytes for r in recs], inv)
    seq = None if seq_len is None else as_quantity("seq_len", seq_len, allow_zero=False)
    if seq is not None and job.shape is None:
        raise ValueError("seq_len needs the model's shape: pass model= (a catalog name)")
    attention = seq is not None
    gp = as_fraction("goodput", DEFAULT_GOODPUT if goodput is None else goodput,
                     allow_zero=False)
    u, u_lo, u_hi, mfu_basis = _resolve_mfu(mfu, mfu_range, gp, names, inv, d, job, attention,
                                            runs_path, gpu_path)
    price, p_lo, p_hi, price_notes = _resolve_price(usd_per_gpu_hour, names, inv, cloud,
                                                    pricing, price_stat, price_path, gpu_path)
    kg_co2_per_kwh, grid_note = _resolve_grid(kg_co2_per_kwh, grid)
    pue_a, kg, watts, power_note = _resolve_power(pue, kg_co2_per_kwh, watts_per_gpu,
                                                  server_power_factor, recs, inv)
    loss = as_fraction("scaling_loss_per_doubling", scaling_loss_per_doubling)
    usable = as_fraction("usable_memory_fraction", usable_memory_fraction, allow_zero=False)
    ng_in = None if n_gpus is None else _whole("n_gpus", as_quantity("n_gpus", n_gpus,
                                                                     allow_zero=False))

    # ---- broadcast everything
    b = _broadcast_job(job, ng_in=ng_in, seq=seq, peak=peak, mem=mem_bytes, mfu=u, mfu_lo=u_lo,
                       mfu_hi=u_hi, price=price, p_lo=p_lo, p_hi=p_hi, loss=loss, usable=usable)

    # ---- the kernels: FLOPs, memory and GPUs, all-to-all, hours
    fn = b["flop_n"] if job.method == "full" else b["flop_n"] + (b["params"] - job.params)
    att: Floats = 0.0
    if attention:
        assert job.shape is not None  # seq_len without the model's shape was refused above
        att = kernels.attention_flops_per_token(job.shape[0], job.shape[1], b["seq"])
    with np.errstate(over="ignore"):  # an overflow to inf is refused by finite_result
        fl = kernels.training_flops(fn, fn if job.method == "full" else b["trainable"],
                                    b["tokens"], att)
    size = _size_job(b, d, opt, zero_stage, ng_in, job, attention, micro_batch_size,
                     activation_checkpointing)
    ng = size["n_gpus"]
    a2a_hours, a2a_note = _all_to_all(job.moe, expert_parallel, ng, recs, inv, b["tokens"])
    scaled = bool(np.any(loss))  # constants folded once for the three runs below
    eff = kernels.scaling_efficiency(ng, b["loss"], _NODE) if scaled else 1.0

    def run(u_):
        hours = kernels.gpu_hours(fl, u_ * eff if scaled else u_, gp, peak) + a2a_hours
        energy = kernels.facility_energy_kwh(hours, watts, pue_a)
        return hours, energy, kernels.co2_kg(energy, kg)

    runs = {"central": run(b["mfu"]), "low": run(b["mfu_hi"]), "high": run(b["mfu_lo"])}
    finite_result("training.estimate", flops=fl, gpu_hours=runs["high"][0],
                  cost_usd=runs["high"][0] * b["p_hi"])

    # ---- the result
    assumptions = _training_assumptions(
        job, b, gp, pue_a, kg, loss, usable, size, opt, zero_stage, attention=attention,
        active_params=active_params, a2a_note=a2a_note, mfu_basis=mfu_basis,
        price_notes=price_notes, pricing=pricing if usd_per_gpu_hour is None else "given",
        power_note=power_note, grid_note=grid_note, lora_rank=lora_rank,
        lora_target_modules=lora_target_modules, trainable_given=trainable_params is not None,
        mfu_given=mfu is not None)
    ref = [r for r in (params, tokens, mfu, usd_per_gpu_hour, n_gpus,
                       gpu if not isinstance(gpu, str) else None) if r is not None]
    return _training_result(b, runs, eff, fl, fn, size, a2a_hours, gp, job, d, zero_stage, opt,
                            names, inv, gpu, assumptions, ref)


def _training_assumptions(job, b, gp, pue_a, kg, loss, usable, size, opt, zero_stage, *,
                          attention, active_params, a2a_note, mfu_basis, price_notes, pricing,
                          power_note, grid_note, lora_rank, lora_target_modules,
                          trainable_given, mfu_given) -> dict:
    """What a training estimate assumed: every default stated, for its result."""
    flop_count = ("6·N·D" if job.method == "full" else "(4·N + 2·N_trainable)·D") + (
        " + 12·L·d·s·D" if attention else "") + (", N active" if job.moe is not None
                                                 or active_params is not None else "")
    return {
        "flop_count": flop_count,
        "goodput": float(np.max(gp)) if gp.size == 1 else "per config",
        "all_to_all": a2a_note,
        "mfu": _scalar_or(b["mfu"]) if np.all(b["mfu"] == b["mfu"].flat[0]) else "per config",
        "mfu_basis": mfu_basis,
        **price_notes,
        "pricing": pricing,
        "power": power_note,
        "pue": float(np.max(pue_a)) if pue_a.size == 1 else "per config",
        "kg_co2_per_kwh": float(np.max(kg)) if kg.size == 1 else "per config",
        "grid": grid_note,
        "n_gpus": size["n_gpus_note"],
        "memory": (f"{opt}, ZeRO-{zero_stage}, {float(np.max(usable)):.0%} of GPU memory usable, "
                   f"activations {size['activations_note']}"),
        "scaling_loss_per_doubling": float(np.max(loss)) if loss.size == 1 else "per config",
        "method": job.method + ("" if job.method == "full" else
                                f" (rank {lora_rank}, modules {', '.join(lora_target_modules)})"
                                if not trainable_given else " (given trainable_params)"),
        **({} if job.method == "full" or mfu_given else {
            "mfu_warning": "the MFU model is fitted on published pre-training runs only; a "
                           f"{job.method} step (frozen weights, small adapter matmuls) may reach "
                           "a lower MFU: measure yours and pass mfu="}),
    }


def _broadcast_job(job, *, ng_in, seq, **arrays) -> dict:
    """The job's counts and every per-configuration input, broadcast together."""
    arrays = dict(params=job.total, trainable=job.trainable, tokens=job.tokens,
                  flop_n=job.flop_params, **arrays)
    if ng_in is not None:
        arrays["n_gpus"] = ng_in
    if seq is not None:
        arrays["seq"] = seq
    b = dict(zip(arrays, _broadcast(**arrays), strict=True))
    if (b["trainable"] > b["params"]).any():
        raise ValueError("trainable_params cannot exceed params")
    return b


def _resolve_price(usd_per_gpu_hour, names, inv, cloud, pricing, price_stat, price_path,
                   gpu_path):
    """(price, low, high, notes) per GPU-hour: given, or the catalog's with its quartiles.

    A GPU the catalog has no price for gets NaN and a warning: every figure but money.
    """
    if usd_per_gpu_hour is not None:
        price = as_quantity("usd_per_gpu_hour", usd_per_gpu_hour)
        return price, price, price, {"price": "given", "price_sources": ["given"],
                                     "price_dates": None}
    cp = _catalog_prices(names, inv, cloud=cloud, pricing=pricing, stat=price_stat,
                         price_path=price_path, gpu_path=gpu_path, missing="nan")
    notes = {"price": cp.note, "price_sources": cp.sources, "price_dates": cp.dates,
             **price_age_notes(cp.dates)}
    if cp.missing:  # every figure but money: the missing price said, never guessed
        notes["price_missing_warning"] = (
            f"no {pricing} price for {', '.join(cp.missing)} in the price catalog: cost "
            "is not estimated (NaN); pass usd_per_gpu_hour= or price_path= to price it")
    return cp.price, cp.low, cp.high, notes


@dataclass(frozen=True)
class _Job:
    """What is trained, resolved from a catalog model or from counts (all checked)."""

    label: str
    method: str
    params: Floats          # the base model's parameters [count]
    total: Floats           # held in memory: base + adapters [count]
    trainable: Floats       # with gradients and optimizer states [count]
    flop_params: Floats     # multiplied per token: the active ones for a MoE [count]
    tokens: Floats          # [count]
    shape: tuple | None     # (n_layers, d_model, n_heads) of a catalog model
    moe: tuple | None       # (moe_layers, experts_per_token, d_model, n_experts)
    frozen_bytes: Floats    # bytes of a frozen weight (QLoRA), None for the dtype's


def _resolve_job(params, tokens, model, method, lora_rank, lora_target_modules,
                 trainable_params, active_params, model_path) -> _Job:
    """The parameters, tokens, shape and method of the job, checked at the boundary."""
    from .catalog import model as lookup_model

    shape, moe, label, outside_blocks = None, None, "", 0.0
    method = str(method).lower()
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    if model is not None:
        if params is not None:
            raise ValueError("give params or model, not both")
        m = lookup_model(model, path=model_path)
        params, label = m.params, m.name
        if m.is_moe:
            if active_params is not None:
                raise ValueError(f"{m.name} brings its own active_params")
            if method != "full":
                raise ValueError("LoRA and QLoRA of a mixture-of-experts model are not "
                                 "modelled; pass trainable_params= with params= and "
                                 "active_params=")
            active_params = m.active_params
            moe = (m.moe_layers, m.experts_per_token, m.d_model, m.n_experts)
        if m.n_layers is not None and m.d_model is not None:
            shape = (m.n_layers, m.d_model, m.n_heads)
            if m.n_heads is not None and not m.is_moe:
                # embeddings, lm_head and final norm: kept in 16 bit by QLoRA
                outside_blocks = max(float(m.params) - m.n_layers * m.layer_params, 0.0)
    if params is None:
        raise TypeError("estimate() needs params= or model=")
    if tokens is None:
        raise TypeError("estimate() needs tokens= (training tokens, all epochs)")
    n = as_quantity("params", params, allow_zero=False)
    tok = as_quantity("tokens", tokens, allow_zero=False)
    adapters = np.zeros(())
    if method == "full":
        trainable = n if trainable_params is None else as_quantity("trainable_params",
                                                                   trainable_params)
    elif trainable_params is not None:
        trainable = adapters = as_quantity("trainable_params", trainable_params)
    else:
        if model is None:
            raise ValueError(f"method={method!r} needs model= (for the shape) or "
                             "trainable_params=")
        trainable = adapters = np.asarray(lora_trainable_params(
            model, rank=lora_rank, target_modules=lora_target_modules, model_path=model_path),
            dtype=float)
    flop_n = n
    if active_params is not None:
        flop_n = as_quantity("active_params", active_params, allow_zero=False)
        if (np.asarray(flop_n) > np.asarray(n)).any():
            raise ValueError("active_params cannot exceed params")
    frozen = None
    if method == "qlora":  # NF4 blocks; embeddings and lm_head stay 16-bit (bitsandbytes)
        frozen = (outside_blocks * 2.0 + (n - outside_blocks) * QLORA_BITS_PER_PARAM / 8) / n
    return _Job(label=label, method=method, params=n,
                total=n + adapters if method != "full" else n, trainable=trainable,
                flop_params=flop_n,
                tokens=tok, shape=shape, moe=moe, frozen_bytes=frozen)


def _resolve_mfu(mfu, mfu_range, gp, names, inv, d, job, attention, runs_path, gpu_path):
    """Step MFU (central, low, high) and its basis: the fitted model's or the user's."""
    from .mfu import mfu_arrays

    if mfu is None:
        if mfu_range is not None:
            raise ValueError("mfu_range goes with a given mfu")
        if (gp != gp.flat[0]).any():
            raise ValueError("the default MFU takes one goodput; pass mfu= to vary it")
        u, lo, hi, basis, _ = mfu_arrays(names, inv, d, job.flop_params, attention=attention,
                                         goodput=float(gp.flat[0]), path=runs_path,
                                         gpu_path=gpu_path)
        return u, lo, hi, basis
    u = as_fraction("mfu", mfu)
    if (u == 0).any():
        raise ValueError("mfu must be > 0")
    if mfu_range is None:
        return u, u, u, "given"
    lo = as_fraction("mfu_range low", mfu_range[0])
    hi = as_fraction("mfu_range high", mfu_range[1])
    if (lo > u).any() or (hi < u).any() or (lo == 0).any():
        raise ValueError("mfu_range must be (low, high) with 0 < low <= mfu <= high")
    return u, lo, hi, "given"


def _resolve_grid(kg_co2_per_kwh, grid):
    """The grid intensity to use and the note that names it."""
    from .grid import DEFAULT_GRID, grid_intensity

    if kg_co2_per_kwh is not None and grid is not None:
        raise ValueError(f"give kg_co2_per_kwh or grid, not both (got {kg_co2_per_kwh!r} and "
                         f"{grid!r})")
    if kg_co2_per_kwh is not None:
        return kg_co2_per_kwh, "given"
    g = grid_intensity(DEFAULT_GRID if grid is None else grid)
    return g.kg_co2e_per_kwh, f"grid {g.name}, {g.year}" + (
        "; the default, name yours with grid=" if grid is None else "")


def _resolve_power(pue, kg_co2_per_kwh, watts_per_gpu, server_power_factor, recs, inv):
    """PUE, grid intensity and the server's watts per GPU, with the note that says how."""
    pue_a = as_quantity("pue", pue)
    if (pue_a < 1).any():
        raise ValueError(f"pue must be >= 1 (total facility power / IT power), got "
                         f"{pue_a[pue_a < 1].flat[0]!r}")
    kg = as_quantity("kg_co2_per_kwh", kg_co2_per_kwh)
    if watts_per_gpu is None:
        watts = _per_gpu([np.nan if r.tdp_w is None else r.tdp_w for r in recs], inv)
        missing = [r.name for r in recs if r.tdp_w is None]
        note = "TDP per GPU from the catalog (" + ", ".join(
            f"{r.name} {r.tdp_w:g} W" for r in recs if r.tdp_w is not None) + ")"
        if missing:
            note += (f"; energy not estimated for {', '.join(missing)} (no published "
                     "TDP): pass watts_per_gpu=")
    else:
        watts = as_quantity("watts_per_gpu", watts_per_gpu)
        note = "given watts per GPU"
    server = as_quantity("server_power_factor", server_power_factor)
    if (server < 1).any():
        raise ValueError("server_power_factor must be >= 1 (the server draws at least its GPUs' "
                         f"power), got {server[server < 1].flat[0]!r}")
    note += (f"; x {float(np.max(server)):.2f} for the server (DGX H100: 10.2 kW for "
             "8 x 700 W GPUs)" if (server > 1).any() else "; GPU boards only")
    return pue_a, kg, watts * server, note


def _size_job(b, d, opt, zero_stage, ng_in, job, attention, micro_batch_size,
              activation_checkpointing) -> dict:
    """Memory per GPU by part, the fewest GPUs that hold the job, and the GPUs used."""
    if attention:
        act = _activation_bytes(d, job.shape[0], job.shape[1], b["seq"],
                                as_quantity("micro_batch_size", micro_batch_size,
                                            allow_zero=False),
                                job.shape[2], activation_checkpointing, True)
        act_note = ("2·s·b·h bytes per layer (checkpointing)" if activation_checkpointing
                    else "34·s·b·h bytes per layer (flash attention)")
    else:
        act = np.zeros_like(b["params"])
        act_note = "not counted (pass seq_len with a catalog model)"
    w1, g1, o1, a1 = _memory_arrays(b["params"], b["trainable"], d, opt, zero_stage, 1.0,
                                    job.frozen_bytes, act)
    sharded = (o1 if zero_stage >= 1 else 0) + (g1 if zero_stage >= 2 else 0) + (
        w1 if zero_stage >= 3 else 0)
    fixed = w1 + g1 + o1 + a1 - sharded
    min_gpus = _min_gpus(sharded, fixed, b["mem"] * b["usable"])
    if ng_in is None:
        if np.isinf(min_gpus).any():
            i = int(np.flatnonzero(np.isinf(min_gpus).ravel())[0])
            raise ValueError(
                f"the job cannot fit in GPU memory at any GPU count with ZeRO-{zero_stage}: "
                f"{fixed.ravel()[i] / 1e9:,.1f} GB per GPU is not sharded, more than "
                f"{b['mem'].ravel()[i] * b['usable'].ravel()[i]:,.1f} GB usable; use "
                f"zero_stage=3, activation checkpointing or a smaller micro-batch")
        ng = np.maximum(_NODE, np.ceil(min_gpus / _NODE) * _NODE)
        ng_note = "one 8-GPU node, or as many nodes as memory needs"
    else:
        ng = b["n_gpus"].astype(float)
        ng_note = "given"
    parts = _memory_arrays(b["params"], b["trainable"], d, opt, zero_stage, ng,
                           job.frozen_bytes, act)
    per_gpu_gb = sum(parts) / 1e9
    wb = _WEIGHT_BYTES[d]
    ob = OPTIMIZERS[opt] + (4.0 if wb < 4 else 0.0)
    ckpt_gb = b["trainable"] * (wb + ob) / 1e9 + (0.0 if job.method != "full" else
                                                   (b["params"] - b["trainable"]) * wb / 1e9)
    return {"n_gpus": ng, "n_gpus_note": ng_note, "parts": parts, "min_gpus": min_gpus,
            "memory_per_gpu_gb": per_gpu_gb,
            "fits": per_gpu_gb <= b["mem"] / 1e9 * b["usable"] + 1e-9,
            "activations_note": act_note, "optimizer_bytes": ob, "checkpoint_gb": ckpt_gb}


def _all_to_all(moe, expert_parallel, ng, recs, inv, tokens):
    """Expert-parallel all-to-all GPU-hours of a MoE (0 for a dense model) and its note."""
    from . import kernels
    from .mfu import DEFAULT_EXPERT_PARALLEL, link_bytes_per_s

    if moe is None:
        return 0.0, "none (dense model)"
    ep = (np.minimum(np.minimum(moe[3], DEFAULT_EXPERT_PARALLEL), ng) if expert_parallel is None
          else _whole("expert_parallel", as_quantity("expert_parallel", expert_parallel,
                                                     allow_zero=False)))
    nvlink = _per_gpu([link_bytes_per_s(r, 1) for r in recs], inv)
    link = np.where(ep <= DEFAULT_EXPERT_PARALLEL, nvlink, link_bytes_per_s(recs[0], 9))
    per_tok = kernels.all_to_all_bytes_per_token(moe[0], moe[1], moe[2], 2.0, ep)
    note = (f"{moe[0]} MoE layers x 4 passes x {moe[1]} experts x d {moe[2]} x 2 bytes "
            f"per token, (EP-1)/EP of it remote, EP = expert_parallel "
            f"({'min(experts, 8, n_gpus)' if expert_parallel is None else 'given'}); "
            f"NVLink (half the catalog's two-way figure) for EP <= 8, else "
            f"{NETWORK_NOTE}; not overlapped with compute")
    return tokens * per_tok / link / 3600.0, note


def _training_result(b, runs, eff, fl, fn, size, a2a_hours, gp, job, d, zero_stage, opt,
                     names, inv, gpu, assumptions, ref) -> TrainingEstimate:
    """Wrap the arrays like the inputs (scalars, arrays or Series) into the result."""
    def out(x):
        return wrap_like(x, *ref)

    ng = size["n_gpus"]
    (hours, energy, co2), bounds = runs["central"], {}
    for side, mfu_key, price_key in (("low", "mfu_hi", "p_lo"), ("high", "mfu_lo", "p_hi")):
        h, e, c = runs[side]
        bounds[side] = EstimateBound(
            mfu=out(b[mfu_key] * eff), usd_per_gpu_hour=out(b[price_key]), gpu_hours=out(h),
            wall_clock_hours=out(h / ng), cost_usd=out(h * b[price_key]), energy_kwh=out(e),
            co2_kg=out(c))
    w, g_, o, a_ = size["parts"]
    mem = MemoryBreakdown(
        weights_gb=out(w / 1e9), gradients_gb=out(g_ / 1e9), optimizer_gb=out(o / 1e9),
        activations_gb=out(a_ / 1e9), n_gpus=out(ng), zero_stage=zero_stage,
        assumptions={"optimizer": f"{size['optimizer_bytes']:g} bytes per trainable parameter "
                                  f"({opt})",
                     "activations": size["activations_note"], "GB": "1e9 bytes"},
    )  # fmt: skip
    fits = size["fits"]
    return TrainingEstimate(
        params=out(b["params"]), trainable_params=out(b["trainable"]), tokens=out(b["tokens"]),
        gpu=_gpu_names_like(names, inv, gpu, hours.shape), dtype=d, method=job.method,
        n_gpus=out(ng), flops=out(fl), mfu=out(b["mfu"] * eff), peak_tflops=out(b["peak"]),
        usd_per_gpu_hour=out(b["price"]), gpu_hours=out(hours), wall_clock_hours=out(hours / ng),
        cost_usd=out(hours * b["price"]), energy_kwh=out(energy), co2_kg=out(co2),
        min_gpus_for_memory=out(size["min_gpus"]),
        memory_per_gpu_gb=out(size["memory_per_gpu_gb"]),
        fits_in_memory=bool(fits) if np.ndim(fits) == 0 else fits,
        checkpoint_gb=out(size["checkpoint_gb"]), memory=mem, low=bounds["low"],
        high=bounds["high"], assumptions=assumptions, label=job.label,
        goodput=float(np.max(gp)) if gp.size == 1 else out(np.broadcast_to(gp, hours.shape)),
        all_to_all_gpu_hours=out(a2a_hours) if job.moe is not None else 0.0,
        active_params=out(fn),
    )  # fmt: skip


# --------------------------------------------------------------------------- planner


@dataclass(frozen=True, repr=False)
class ComputeOptimalPlan:
    """A Chinchilla-optimal model for a budget: ``params`` [count] x ``tokens`` [count].

    ``flops`` [FLOP], ``gpu_hours`` [GPU-hour], ``cost_usd`` [USD];
    ``params_range`` (low, high) follows the MFU range (more FLOPs for the
    same money buy a bigger model).
    """

    params: Floats
    tokens: Floats
    flops: Floats
    gpu_hours: Floats
    cost_usd: Floats
    gpu: str
    mfu: float
    usd_per_gpu_hour: float
    tokens_per_param: float
    params_range: tuple
    assumptions: dict = field(default_factory=dict)

    def to_frame(self) -> Frame:
        """The plan as a one-row DataFrame (or one row per budget).

        Returns
        -------
        DataFrame
            The plan as a one-row DataFrame (or one row per budget).

        Examples
        --------
        >>> compute_optimal(flops=5.88e23, tokens_per_param=20).to_frame()[["params", "tokens"]]
                 params        tokens
        0  7.000000e+10  1.400000e+12
        """
        import pandas as pd

        cols = {"cost_usd": self.cost_usd, "gpu_hours": self.gpu_hours, "flops": self.flops,
                "params": self.params, "tokens": self.tokens,
                "params_low": self.params_range[0], "params_high": self.params_range[1]}
        shape = np.shape(self.params)
        return pd.DataFrame({k: np.broadcast_to(np.asarray(v, dtype=float), shape).ravel()
                             for k, v in cols.items()})

    def __repr__(self) -> str:
        if np.ndim(self.params):
            return f"ComputeOptimalPlan over {np.size(self.params)} budgets; .to_frame()"
        return (f"ComputeOptimalPlan: {self.cost_usd:,.0f} USD = {self.gpu_hours:,.0f} "
                f"{self.gpu}-hours = {self.flops:.3g} FLOPs at MFU {self.mfu:.3f}\n"
                f"  -> {self.params:.3g} params x {self.tokens:.3g} tokens "
                f"({self.tokens_per_param:g} tokens per parameter); params range "
                f"{self.params_range[0]:.3g}-{self.params_range[1]:.3g}\n"
                f"  price: {self.assumptions['price']}")


def compute_optimal(budget_usd: Floats | None = None, *, gpu_hours: Floats | None = None,
                    flops: Floats | None = None, gpu: NamesLike = "H100-SXM", dtype: str = "bf16",
                    mfu: Floats | None = None, usd_per_gpu_hour: Floats | None = None,
                    pricing: str = "on_demand", cloud: str | None = None,
                    tokens_per_param: Floats = CHINCHILLA_TOKENS_PER_PARAM,
                    goodput: Floats | None = None, gpu_path: StrPath | None = None,
                    price_path: StrPath | None = None,
                    runs_path: StrPath | None = None) -> ComputeOptimalPlan:
    r"""The compute-optimal model size and token count for a budget (Chinchilla).

    Give exactly one of ``budget_usd`` [USD], ``gpu_hours`` [GPU-hour] or
    ``flops`` [FLOP]. With C = 6·N·D and D = k·N (k = ``tokens_per_param``,
    about 20 [7]):

    .. math:: N = \sqrt{C / (6k)}, \quad D = k N

    A budget buys GPU-hours, of which the share ``goodput`` (default
    :data:`costkit.mfu.DEFAULT_GOODPUT`) runs steps at the MFU; with the
    default MFU, which grows with the model's size, N and the MFU are solved
    together.

    Parameters
    ----------
    budget_usd : numeric, optional
        Budget in money (give one budget). [USD]
    gpu_hours : numeric, optional
        Budget in GPU-hours (give one budget). [GPU-hour]
    flops : numeric, optional
        Budget in FLOPs (give one budget). [FLOP]
    gpu : str or array_like of str, default 'H100-SXM'
        Accelerator name from the catalog.
    dtype : str, default 'bf16'
        Training data type.
    mfu : numeric, optional
        Model FLOPs utilisation of a step; default the evidence-based model (solved with the
        size). [unitless, 0-1]
    usd_per_gpu_hour : numeric, optional
        Your price per GPU-hour; default the catalog's. [USD/GPU-hour]
    pricing : str, default 'on_demand'
        ``on_demand`` or ``spot`` price from the catalog.
    cloud : str, optional
        Restrict catalog prices to one provider; default all clouds.
    tokens_per_param : numeric, default 20.0
        Training tokens per parameter, k (Chinchilla: about 20). [unitless]
    goodput : numeric, optional
        Share of paid GPU time that runs steps; default :data:`costkit.mfu.DEFAULT_GOODPUT`.
        [unitless, 0-1]
    gpu_path : str or Path, optional
        Your own GPU table (the columns of ``data/gpus.csv``); default costkit's.
    price_path : str or Path, optional
        Your own price table (the columns of ``data/gpu_prices.csv``, or one written by
        ``costkit prices import``); default costkit's.
    runs_path : str or Path, optional
        Your own training-run table (the columns of ``data/training_runs.csv``); default
        costkit's.

    Returns
    -------
    ComputeOptimalPlan
        The compute-optimal model size and token count for a budget (Chinchilla).

    Examples
    --------
    Chinchilla itself: 5.88e23 FLOPs -> 70B parameters on 1.4T tokens.

    >>> p = compute_optimal(flops=6 * 70e9 * 1.4e12, tokens_per_param=20)
    >>> round(p.params / 1e9), round(p.tokens / 1e12, 2)
    (70, 1.4)
    """
    from .catalog import price_quote
    from .mfu import DEFAULT_GOODPUT, mfu_arrays

    given = [k for k, v in {"budget_usd": budget_usd, "gpu_hours": gpu_hours,
                            "flops": flops}.items() if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of budget_usd, gpu_hours or flops")
    k = as_quantity("tokens_per_param", tokens_per_param, allow_zero=False)
    d = _dtype(dtype)
    names, recs, _ = _gpu_lookup(gpu, gpu_path)
    if len(names) != 1:
        raise ValueError("compute_optimal takes one GPU")
    peak = recs[0].peak_tflops(d) * 1e12
    gp = float(as_fraction("goodput", DEFAULT_GOODPUT if goodput is None else goodput,
                           allow_zero=False))
    ref_n = np.asarray(7e9)

    def mfu_for(n_):
        u_, lo_, hi_, basis_, _ = mfu_arrays(names, np.zeros((), dtype=int), d, n_,
                                             goodput=gp, path=runs_path, gpu_path=gpu_path)
        return u_, lo_, hi_, basis_

    if mfu is None:
        u, u_lo, u_hi, basis = mfu_for(ref_n)
        basis += "; N and the MFU solved together (the MFU depends on the model's size)"
    else:
        u = float(as_fraction("mfu", mfu))
        if u == 0:
            raise ValueError("mfu must be > 0")
        u_lo = u_hi = u
        basis = "given"
    if usd_per_gpu_hour is None:
        q = price_quote(names[0], cloud, pricing, "median", path=price_path, gpu_path=gpu_path)
        price, price_note = q.usd_per_gpu_hour, str(q)
    else:
        price, price_note = float(as_quantity("usd_per_gpu_hour", usd_per_gpu_hour)), "given"
    if budget_usd is not None:
        if price == 0:
            raise ValueError("a zero price makes any budget infinite; give gpu_hours")
        hours = as_quantity("budget_usd", budget_usd) / price
        ref = budget_usd
    elif gpu_hours is not None:
        hours = as_quantity("gpu_hours", gpu_hours)
        ref = gpu_hours
    else:
        c = as_quantity("flops", flops)
        ref = flops

    def size(c_):
        return np.sqrt(c_ / (6.0 * k))

    if flops is not None:  # FLOPs given: the MFU changes the hours, not the model
        n = lo = hi = size(c)
        if mfu is None:
            u, u_lo, u_hi, basis = mfu_for(n)
        hours = c / (u * gp * peak * 3600.0)
    else:
        for _ in range(6 if mfu is None else 1):  # fixed point: N sets the MFU, the MFU N
            n = size(hours * 3600.0 * peak * u * gp)
            if mfu is None:
                u, u_lo, u_hi, basis = mfu_for(n)
        c = hours * 3600.0 * peak * u * gp
        n = size(c)
        lo, hi = size(hours * 3600.0 * peak * u_lo * gp), size(hours * 3600.0 * peak * u_hi * gp)
    return ComputeOptimalPlan(
        params=wrap_like(n, ref), tokens=wrap_like(k * n, ref), flops=wrap_like(c, ref),
        gpu_hours=wrap_like(hours, ref), cost_usd=wrap_like(hours * price, ref), gpu=names[0],
        mfu=float(np.max(u)) if np.size(u) == 1 else u, usd_per_gpu_hour=price,
        tokens_per_param=float(np.max(k)),
        params_range=(wrap_like(lo, ref), wrap_like(hi, ref)),
        assumptions={"mfu_basis": basis, "price": price_note, "flop_count": "6·N·D",
                     "goodput": gp,
                     "rule": f"D = {float(np.max(k)):g}·N (Hoffmann et al. 2022)"},
    )  # fmt: skip


def compute_optimal_budget(params: Floats | None = None, *, model: str | None = None,
                           tokens_per_param: Floats = CHINCHILLA_TOKENS_PER_PARAM,
                           **kwargs: Any) -> TrainingEstimate:
    """What it costs to train ``params`` (or ``model``) compute-optimally.

    Trains on ``tokens_per_param`` x N tokens (about 20, Chinchilla) and
    returns the :func:`estimate` of that run; ``kwargs`` go to it.

    Parameters
    ----------
    params : numeric, optional
        Parameters of the model to train. [count]
    model : str, optional
        Catalog model, instead of ``params``.
    tokens_per_param : numeric, default 20.0
        Training tokens per parameter, k (Chinchilla: about 20). [unitless]
    **kwargs
        Passed on to :func:`estimate` (``gpu=``, ``mfu=``, ...).

    Returns
    -------
    TrainingEstimate
        What it costs to train ``params`` (or ``model``) compute-optimally.

    Examples
    --------
    >>> e = compute_optimal_budget(7e9, gpu="H100", mfu=0.4, usd_per_gpu_hour=2.0)
    >>> f"{e.tokens:.3g} tokens, {e.gpu_hours:,.0f} GPU-hours"  # at goodput 0.9
    '1.4e+11 tokens, 4,585 GPU-hours'
    """
    from .catalog import model as lookup_model

    if model is not None:
        if params is not None:
            raise ValueError("give params or model, not both")
        n: Floats = lookup_model(model, path=kwargs.get("model_path")).params
    elif params is None:
        raise TypeError("compute_optimal_budget() needs params= or model=")
    else:
        n = params
    k = as_quantity("tokens_per_param", tokens_per_param, allow_zero=False)
    tokens = wrap_like(as_quantity("params", n, allow_zero=False) * k, n)
    if model is not None:
        return estimate(tokens=tokens, model=model, **kwargs)
    return estimate(params, tokens, **kwargs)
