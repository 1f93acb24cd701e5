"""A basic sweep's jobs, as the sweep plans them: read back from its multirun.yaml with Hydra's public parser."""

from omegaconf import OmegaConf

from inductive.training.sweep import basic_sweep_jobs

BASIC = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"  # the name Hydra writes in multirun.yaml


def multirun(params: dict, task: list[str], target: str = BASIC):
    return OmegaConf.create({"hydra": {"sweeper": {"_target_": target, "params": params}, "overrides": {"task": task}}})


def test_jobs_come_in_the_basic_sweepers_order():
    """Would catch: jobs numbered differently from Hydra's (job folders are named by number, so a never-started
    job would be misreported), a command-line value not replacing the preset's in its place, or a range unexpanded."""
    jobs = basic_sweep_jobs(multirun({"model": "dense,gap", "seed": "0,1,2"}, ["data=mnist", "seed=range(3,5)"]))
    assert jobs == [["model=dense", "seed=3", "data=mnist"], ["model=dense", "seed=4", "data=mnist"],
                    ["model=gap", "seed=3", "data=mnist"], ["model=gap", "seed=4", "data=mnist"]]
    assert basic_sweep_jobs(multirun({}, [])) == [[]]


def test_other_sweepers_choose_as_they_go():
    """Would catch: an Optuna study read as if its trials were planned (every trial would look never started)."""
    assert basic_sweep_jobs(multirun({}, ["seed=0,1"], "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper")) is None
