# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2025 The attest authors (test fixture)
"""Would fine-tune the classifier on data/train.jsonl (a stand-in; never run by attest)."""

import json


def load(path: str = "data/train.jsonl") -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]
