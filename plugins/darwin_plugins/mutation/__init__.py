"""The offline ``mutation`` generator."""
