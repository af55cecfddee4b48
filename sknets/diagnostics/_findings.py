"""What the diagnostics report: findings with remedies, printed as text."""

from dataclasses import dataclass


class _Printable:
    """Text form in IPython too (``print(report)`` works everywhere)."""

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


@dataclass
class Finding(_Printable):
    """One problem (or notable event) found by a diagnostic, with its remedy.

    Parameters
    ----------
    code : str
        Short stable name, e.g. ``"saturated_units"`` or ``"bouncing"``.
    message : str
        What was measured.
    remedy : str
        What to try.
    level : {"warning", "info"}, default="warning"
        ``"warning"`` for a likely problem, ``"info"`` for an event worth
        knowing (early stopping, a lowered learning rate).
    """

    code: str
    message: str
    remedy: str
    level: str = "warning"

    def __str__(self):
        return f"[{self.level}] {self.code}: {self.message}\n    -> {self.remedy}"


def _findings_text(findings, empty="no problems found"):
    """The ``findings:`` block of a report, one indented finding per entry."""
    if not findings:
        return f"findings: {empty}"
    return "findings:\n" + "\n".join(f"  {f}".replace("\n", "\n  ")
                                     for f in findings)
