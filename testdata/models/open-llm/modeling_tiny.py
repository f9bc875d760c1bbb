# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2025 The attest authors (test fixture)
"""Stand-in for the custom modelling code a model repository ships (attest never runs it)."""


def count_parameters(config: dict) -> int:
    """Parameters of a Llama model without tied embeddings, from its config.json."""
    h, v, i = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    layer = 4 * h * h + 3 * h * i + 2 * h
    return 2 * v * h + config["num_hidden_layers"] * layer + h
