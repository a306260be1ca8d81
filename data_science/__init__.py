"""Phase 1 of the course: data sets, the model, training, evaluation, PDF image extraction.

Import from the modules (``data_science.mnist``, ``data_science.preprocessing`` …): this
file imports nothing, so the endpoint can ship the preprocessing module without the rest.
"""
