"""LLM generators and their hardened call path."""
