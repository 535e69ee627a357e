"""The ``custom`` benchmark: a program's own tests, described by a TOML task file."""
