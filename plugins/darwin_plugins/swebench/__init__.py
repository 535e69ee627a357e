"""The ``swebench`` benchmark: SWE-bench instances, agent mode, graded like the official harness."""
