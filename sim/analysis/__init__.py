"""Analyses of experiments over a parameter space: global sensitivity (``experiment=
sensitivity``) and scenario discovery (``experiment=discovery``), docs/model.md §11.

The split follows EMA Workbench's: ``space`` turns the config into cells for the runner
(it imports no model code), ``outcomes`` reads the runner's tables back into one value per
sampled point, ``sensitivity`` and ``discovery`` analyse those values, ``figures`` draws
them. SALib samples and estimates the indices, EMA Workbench finds the boxes: install
them with ``pip install -e '.[analysis]'`` (``make`` does).
"""
