"""Which MOF components a file of a model belongs to, judged by its role and its name.

Pure rules on paths, kept apart from the mapping in :mod:`attest.mof.derive` so that they can be
read (and extended) at a glance. ``docs/mof.md`` states them for users; change both together.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from attest.facts.model import FileFact

# Names are matched on the lower-case file name and its directories.
CODE_SUFFIXES = {".py", ".ipynb", ".sh", ".js", ".ts", ".rs", ".go", ".cpp", ".c", ".jl", ".r"}
_WORD = r"(?:^|[_\-.])"  # a keyword starts the stem or follows a separator
_END = r"(?:[_\-.]|$)"
# Architecture code: Hugging Face's modeling_*/configuration_* files, or a file named for it
# (not any stem with "model" in it: export_model.py is a script, not the architecture).
ARCHITECTURE = re.compile(
    r"^(?:modell?ing|configuration)_.+|^(?:model|models|modell?ing|architecture|network|net)$"
    r"|^(?:model|network|net)[_\-](?:def|definition|arch|architecture|layers?|blocks?)$"
)
# Files in a model/ directory that load, fetch, convert or serve a network rather than define it.
NOT_ARCHITECTURE = re.compile(
    rf"^__init__$|{_WORD}(?:load|loader|loading|download|downloader|fetch|convert|conversion|"
    rf"export|util|utils|helpers?|setup|hub|weights|checkpoint)s?{_END}"
)
INFERENCE = re.compile(
    rf"{_WORD}(?:infer|inference|predict|predictor|prediction|generate|generation|serve|serving|"
    rf"server|handler|pipeline|chat|demo|transcribe|synthesize|synthesis|tts|detect|classify|"
    rf"embed|encode){_END}"
)
# Script names that run a shipped model when nothing says they train, evaluate or prepare data
# (run.py, app.py, main.py, example_usage.py, cli.py, quickstart.py).
INFERENCE_WEAK = re.compile(
    rf"{_WORD}(?:run|app|main|example|examples|usage|quickstart|cli|api|interactive|test_model|"
    rf"sample){_END}"
)
TRAINING = re.compile(
    rf"{_WORD}(?:train|training|trainer|finetune|fine[_\-]tune|finetuning|pretrain|pretraining|"
    rf"sft|dpo|rlhf){_END}"
)
EVALUATION = re.compile(rf"{_WORD}(?:eval|evals|evaluate|evaluation|benchmark|benchmarks){_END}")
PREPROCESSING = re.compile(
    rf"{_WORD}(?:preprocess|preprocessing|pre[_\-]process|prepare[_\-]data|prepare[_\-]dataset|"
    rf"data[_\-]prep|process[_\-]data|clean[_\-]data|build[_\-]dataset|make[_\-]dataset){_END}"
)
CODE_DIRS = {
    "model-architecture": {"model", "models", "modeling", "architecture"},
    "inference-code": {"inference", "serving", "serve", "demo", "examples", "example", "app"},
    "training-code": {"train", "training", "finetune", "finetuning", "pretrain"},
    "evaluation-code": {"eval", "evals", "evaluation", "benchmark", "benchmarks"},
    "data-preprocessing-code": {"preprocessing", "preprocess", "data_prep", "data-prep"},
}
CODE_NAMES = {
    "model-architecture": ARCHITECTURE,
    "inference-code": INFERENCE,
    "training-code": TRAINING,
    "evaluation-code": EVALUATION,
    "data-preprocessing-code": PREPROCESSING,
}
EVAL_DATA_WORDS = {
    "eval",
    "evaluation",
    "test",
    "tests",
    "testing",
    "validation",
    "valid",
    "val",
    "dev",
    "benchmark",
}
DATA_CARD_NAMES = {
    "data_card.md",
    "datacard.md",
    "data-card.md",
    "dataset_card.md",
    "datasetcard.md",
    "dataset-card.md",
    "datasheet.md",
    "data_sheet.md",
}
MODEL_CARD_NAMES = {"model_card.md", "modelcard.md", "model-card.md"}
DATA_DIRS = {"data", "dataset", "datasets"}
RESULT_FILES = re.compile(
    r"^(?:eval|evaluation|test|all|benchmark)[_\-]?results?(?:[_\-.].*)?\.(?:json|csv|md|txt|ya?ml)$"
    r"|^results?\.(?:json|csv|md)$"
)
TECH_REPORT_FILES = re.compile(r"^(?:technical|tech)[_\-]?report.*\.(?:pdf|md|html|tex)$")
PAPER_FILES = re.compile(r"^paper.*\.(?:pdf|md|html|tex)$")
SAMPLE_OUTPUTS = re.compile(rf"{_WORD}(?:sample|samples|example)[_\-]?outputs?{_END}")
# Weight-role files that are training state or metadata, not the trained parameters.
TRAINING_STATE = re.compile(r"^(?:optimizer|scheduler|rng_state|training_args|trainer_state)")
CHECKPOINT_DIR = re.compile(r"^(?:checkpoints?|intermediate|checkpoint[_\-]?\d+|step[_\-]?\d+)$")
TOKENIZER_FILES = re.compile(r"tokeni[sz]er|vocab|merges|special_tokens|sentencepiece|\.model$")

# Hugging Face pipeline tags -> the MOT's `release.type` enum.
PIPELINE_TYPES = {
    "language": {
        "text-generation",
        "text2text-generation",
        "fill-mask",
        "translation",
        "summarization",
        "question-answering",
        "text-classification",
        "token-classification",
        "sentence-similarity",
        "zero-shot-classification",
        "table-question-answering",
        "conversational",
    },
    "vision": {
        "image-classification",
        "object-detection",
        "image-segmentation",
        "depth-estimation",
        "zero-shot-image-classification",
        "image-feature-extraction",
    },
    "image": {"text-to-image", "image-to-image", "unconditional-image-generation"},
    "audio": {
        "automatic-speech-recognition",
        "text-to-speech",
        "text-to-audio",
        "audio-classification",
        "audio-to-audio",
    },
    "video": {"text-to-video", "video-classification", "image-to-video"},
    "multimodal": {
        "image-text-to-text",
        "visual-question-answering",
        "image-to-text",
        "any-to-any",
        "document-question-answering",
        "video-text-to-text",
    },
}


def file_components(f: FileFact, *, is_card: bool = False) -> list[tuple[str, str]]:
    """(component id, why) for each component the file belongs to; often none, sometimes two."""
    p = PurePosixPath(f.path.lower())
    dirs = set(p.parts[:-1])
    name = p.name
    out: list[tuple[str, str]] = []
    if f.role == "weight":
        if TRAINING_STATE.match(name):
            out.append(("model-metadata", "training state, not parameters"))
        elif any(CHECKPOINT_DIR.match(d) for d in dirs):
            out.append(("intermediate-model-parameters", "weights in a checkpoint directory"))
        else:
            out.append(("final-model-parameters", "weight file"))
    elif f.role == "weight-config" and (
        TRAINING_STATE.match(name) or not TOKENIZER_FILES.search(name)
    ):
        out.append(("model-metadata", "model configuration"))
    if f.role == "code" or p.suffix in CODE_SUFFIXES:
        named = {c for c, pattern in CODE_NAMES.items() if pattern.search(p.stem)}
        code: list[str] = []
        for comp_id in CODE_NAMES:
            by_dir = bool(dirs & CODE_DIRS[comp_id])
            if comp_id == "model-architecture" and (named or NOT_ARCHITECTURE.search(p.stem)):
                # models/download.py fetches the network and models/train.py trains it: neither
                # defines it
                by_dir = False
            if comp_id in named or by_dir:
                code.append(comp_id)
        if "inference-code" not in code and INFERENCE_WEAK.search(p.stem) and not (
            set(code) & {"training-code", "evaluation-code", "data-preprocessing-code"}
        ):
            code.append("inference-code")
        out.extend((comp_id, "by file name") for comp_id in code)
    if is_card or name in MODEL_CARD_NAMES:
        out.append(("model-card", "model card"))
    if name in DATA_CARD_NAMES or (name == "readme.md" and dirs & DATA_DIRS):
        out.append(("data-card", "data card"))
    if RESULT_FILES.match(name):
        out.append(("evaluation-results", "results file"))
    if TECH_REPORT_FILES.match(name):
        out.append(("technical-report", "by file name"))
    if PAPER_FILES.match(name) or (dirs & {"paper", "papers"} and p.suffix == ".pdf"):
        out.append(("research-paper", "by file name"))
    if SAMPLE_OUTPUTS.search(p.stem) or dirs & {"samples", "sample_outputs"}:
        out.append(("sample-model-outputs", "sample outputs"))
    return out


def dataset_component(path: str, use: str) -> str:
    """Evaluation data or Datasets: by declared use, else by words in the path."""
    if use in ("evaluation", "testing"):
        return "evaluation-data"
    if use in ("training", "fine-tuning"):
        return "datasets"
    words = set(re.split(r"[/_\-.]+", path.lower()))
    return "evaluation-data" if words & EVAL_DATA_WORDS else "datasets"


def release_type(pipeline_tag: str | None) -> str:
    """The MOT's ``release.type`` for a Hugging Face pipeline tag ("" when unknown)."""
    for mot_type, tags in PIPELINE_TYPES.items():
        if pipeline_tag in tags:
            return mot_type
    return ""
