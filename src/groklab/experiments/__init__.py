"""Generic experiments (any task): single-config parity runs, t_c scaling in n, modular addition.
Loaded by `groklab.catalog`; each paper's recipes live in `groklab.papers.<paper>.recipes`."""
