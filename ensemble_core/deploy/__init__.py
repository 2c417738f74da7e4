"""Deploy: what each model costs to run, the cost–accuracy frontier of the subsets of an
ensemble, and distillation of an ensemble into one student.

Modules: :mod:`.costs` (measured or entered cost per model, kept in a sidecar next to its
prediction file), :mod:`.frontier` (every subset's soft-vote accuracy against its cost, the
Pareto front), :mod:`.distill` (a student trained on the ensemble's soft outputs), :mod:`.cli`
(``frontier``, ``distill``; imports only the standard library at the top).
"""

#: Distillation's defaults (λ, the soft term's share, and the temperature T), here so that the
#: command line's help reads them without importing NumPy.
DEFAULT_ALPHA = 0.5
DEFAULT_TEMPERATURE = 2.0


class Stopped(Exception):
    """A long run (training a student, compressing a model) was asked to stop and did, between two
    steps; nothing was saved. ``done`` and ``total``: the steps done and planned."""

    def __init__(self, done: int, total: int):
        super().__init__(f"stopped after {done} of {total} steps")
        self.done, self.total = done, total
