"""What every SBOM format says about a weight file and the model's numbers: one function each,
so CycloneDX, SPDX 2.3 and SPDX 3 state the same format, parameters, precision and quantization
(and the ModelPack config, through the same facts rule, agrees with them)."""

from __future__ import annotations

from attest.facts.model import ModelFacts, WeightFacts
from attest.facts.safetensors import precision_from_dtypes


def weight_properties(w: WeightFacts) -> list[tuple[str, str]]:
    """``attest:*`` name/value pairs of one weight file, in a fixed order."""
    props = [("attest:format", w.format)]
    if w.parameter_count is not None:
        props.append(("attest:parameter-count", str(w.parameter_count)))
    if w.tensor_count is not None:
        props.append(("attest:tensor-count", str(w.tensor_count)))
    if w.dtypes:
        props.append(("attest:dtypes", ",".join(w.dtypes)))
        if w.format != "gguf":  # GGUF tensor types are quantization types, not precisions
            props.append(("attest:precision", precision_from_dtypes(w.dtypes)))
    if w.quantization:
        props.append(("attest:quantization", w.quantization))
    if w.architecture:
        props.append(("attest:architecture", w.architecture))
    return props


def weight_summary(w: WeightFacts) -> str:
    """One line for a format without properties (an SPDX comment)."""
    return "; ".join(f"{k.removeprefix('attest:')} {v}" for k, v in weight_properties(w))


def model_precision(facts: ModelFacts) -> str | None:
    dtypes = {t for w in facts.weights if w.format != "gguf" for t in w.dtypes}
    return precision_from_dtypes(dtypes) if dtypes else None


def model_quantization(facts: ModelFacts) -> str | None:
    found = sorted({w.quantization for w in facts.weights if w.quantization})
    return ",".join(found) if found else None
