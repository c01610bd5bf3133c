"""Generators of the real-library corpus (tests/corpus/reallib/): tiny real training runs, one per (stack, cause,
seed), each leaving the artifacts its stack really writes. Driven by tools/make_reallib_corpus.py.

Modules: spec.py (what a (stack, cause, seed) run trains and which fault mechanism it carries), data.py (synthetic
data made by code), models.py (torch MLP / CNN / RNN / transformer), one module per stack (plain.py, lightning_stack.py,
hf_stack.py, timm_style.py, keras_stack.py, flax_stack.py, skorch_stack.py).
"""
