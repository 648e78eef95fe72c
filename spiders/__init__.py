"""Spiders: the generic `news` spider (`news.py`), the base class every spider extends
(`base.py`), and site-specific subclasses, one small file per site (`harbor_times.py`)."""
