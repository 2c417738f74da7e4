"""Scoring at scale: shards of a dataset scored by an engine into a prediction store.

- :mod:`.engines`: where shards are scored, behind one seam (``map_shards``): the
  :class:`~.engines.LocalEngine` (this process) and the :class:`~.engines.RayEngine`
  (a pool of Ray actors, local or on a cluster). Models travel as
  :class:`~ensemble_core.models.spec.ModelSpec`; each worker loads its model once, with
  every check ``load_model`` makes.
- :mod:`.store`: the prediction store (a folder of one Parquet prediction file per
  model) and the driver that fills it shard by shard, resuming where a run stopped.
- :mod:`.streaming`: the soft vote's metrics over a store read a batch of rows at a time
  (``evaluate --stream``), for stores larger than memory.

Ray is an optional dependency (``pip install ensemble-explorer[scale]``), imported only
when the Ray engine runs.
"""
