"""Merging transformers classifiers in weight space: checks, streamed merges, interpolation curves.

- :mod:`.checks`: which directories can be merged (one line naming the first mismatch);
- :mod:`.methods`: linear interpolation, uniform and greedy soups, task arithmetic, TIES,
  streamed tensor by tensor into a directory ``score`` loads;
- :mod:`.interpolate`: accuracy and log loss along the line between two models, in weight
  space and in output space, and the barrier.

Nothing is imported here, so that ``ensemble-explorer --help`` stays light.
"""
