"""The ``evaluator`` benchmark: an OpenEvolve/ShinkaEvolve-style ``evaluate(program_path)``."""
