"""Which Keras dtype policy a run computes in: `trainer.precision`, with `auto` reading the hardware.

bfloat16 halves memory traffic and runs natively on CPUs with AMX-BF16 or AVX512-BF16 (oneDNN uses
them) and on GPUs of compute capability 8.0 and up; float16 needs loss scaling but is the fast path
on 7.x tensor cores. Elsewhere a reduced-precision policy is emulated and slower, so `auto` keeps
float32. Variables stay float32 under every `mixed_*` policy; the classifier computes in float32.
"""

from __future__ import annotations

from pathlib import Path

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def _cpuinfo_field(name: str, cpuinfo: Path) -> str | None:
    """The first `name : value` line of /proc/cpuinfo (Linux; None where unknown)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in text.splitlines()
                 if line.split(":", 1)[0].strip() == name and ":" in line), None)


def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The native-bfloat16 instruction sets this CPU reports (Linux; empty where unknown)."""
    flags = (_cpuinfo_field("flags", cpuinfo) or "").split()
    return [flag for flag in BF16_CPU_FLAGS if flag in flags]


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name and its native-bfloat16 sets, e.g. `Intel(R) Xeon(R) Processor (amx_bf16, avx512_bf16)`.

    Recorded with each run because a run's time, and under `precision: auto` its policy, depend on the CPU, and
    the machines lent to a long study can change between sessions (the data-size study's did)."""
    model = _cpuinfo_field("model name", cpuinfo)
    if model is None:
        return None
    flags = cpu_bf16_flags(cpuinfo)
    return f"{model} ({', '.join(flags)})" if flags else f"{model} (no native bfloat16)"


def choose(setting: str, gpu_capabilities: list[tuple[int, int]], cpu_flags: list[str]) -> tuple[str, str]:
    """The policy for `setting` on this hardware, and why (recorded in summary.json)."""
    if setting != "auto":
        return setting, "trainer.precision"
    if gpu_capabilities:
        lowest = min(gpu_capabilities)
        if lowest >= (8, 0):
            return "mixed_bfloat16", f"auto: GPU compute capability {lowest[0]}.{lowest[1]} has bfloat16"
        if lowest >= (7, 0):
            return "mixed_float16", f"auto: GPU compute capability {lowest[0]}.{lowest[1]} has float16 tensor cores"
        return "float32", f"auto: GPU compute capability {lowest[0]}.{lowest[1]} has no fast reduced precision"
    if cpu_flags:
        return "mixed_bfloat16", f"auto: CPU has native bfloat16 ({', '.join(cpu_flags)})"
    return "float32", "auto: CPU without native bfloat16 (no amx_bf16 or avx512_bf16 flag)"


def gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capability of each visible GPU (TensorFlow must be importable)."""
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        found.append(tuple(capability) if capability else (0, 0))
    return found
