"""earlywarn — 劳动关系预警调处系统 (labour-relations early warning and dispute mediation)."""

__version__ = "0.1.0"
