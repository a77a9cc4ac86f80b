"""Analyses of experiments over a parameter space: global sensitivity (``experiment=
sensitivity``) and scenario discovery (``experiment=discovery``), docs/model.md §11.

The split follows EMA Workbench's: ``space`` turns the config into cells for the runner
(it imports no model code), ``outcomes`` reads the runner's tables back into one value per
sampled point, ``sensitivity`` and ``discovery`` analyse those values, ``figures`` draws
them. SALib samples and estimates the indices, EMA Workbench finds the boxes: install
them with ``pip install -e '.[analysis]'`` (``make`` does).

The record (docs/model.md §11.1-11.2): ``record`` checks the stylised patterns of
``sim.patterns`` against the model and is the calibration's batched simulator; ``calibrate``
fits the free parameters to them by rejection ABC (ELFI; ``.[calibration]`` and ELFI itself,
which ``make`` installs). Unlike the others, ``record`` runs the model itself (in process,
one model per scenario run), because each pattern reads its own scenario.
"""
