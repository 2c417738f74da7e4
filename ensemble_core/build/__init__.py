"""Building ensembles from one base learner (bagging, subspaces, forests, boosting), and why they work."""
