"""ModelPack artifacts: pack a directory, read an artifact into a :class:`Subject`.

The one place that knows ModelPack (and KitOps); above ``attest.oci`` and ``attest.facts``.
"""
