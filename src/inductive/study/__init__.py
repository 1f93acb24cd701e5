"""Studies: a pre-registered question as one YAML file (configs/study/NAME.yaml) and one command.

`python -m inductive.study plan|run|status|read NAME`. The file is the design (question, claims, grid, alpha,
registration); `spec` checks it as a whole before anything trains, `store` knows where its runs and kept tables
live and which jobs are done, `runner` trains the missing ones through Hydra, `reading` judges the whole
datasets. No TensorFlow is imported here: jobs run in `python -m inductive.run` processes.
"""
