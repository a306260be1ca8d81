"""Run profiles: parameter values and a per-notebook timeout for each way of running the course."""

from typing import Any, TypedDict


class Profile(TypedDict):
    timeout: int  # seconds per notebook
    jobs: int  # notebooks run at once (each after those it needs)
    parameters: dict[str, Any]  # applied to every notebook that declares them
    notebooks: dict[str, dict[str, Any]]  # per-notebook overrides keyed by NN prefix, e.g. "03"


PROFILES: dict[str, Profile] = {
    # Smoke and default run two notebooks at once: much of a notebook's time is
    # single-threaded start-up and imports, and a second TensorFlow thread adds little to
    # this small CNN's training. 05 still runs alone (it needs 03, after which only 02 can
    # be running, and 02 is done long before 03), so its latency figures are the
    # endpoint's own. The full run and the exercises run one at a time.
    "smoke": {
        "timeout": 300,
        "jobs": 2,
        "parameters": {
            "data_source": "sample",
            "epochs": 1,
            # 2,000 digits in batches of 32: enough steps in one epoch for a model that works.
            "max_train_samples": 2000,
            "batch_size": 32,
        },
        "notebooks": {
            # One epoch leaves the 11-class PDF classifier at chance (0.08); three reach 0.90.
            "02": {"epochs": 3, "n_pdfs": 500, "n_inbox_pdfs": 100},
            "03": {"max_trials": 2, "extra_seeds": 0},
            "05": {"load_requests": 50, "fault_seconds": 4},
            "06": {
                "days": 10,
                "requests_per_day": 100,
                "power_days": 20,
                "label_budget": 200,
                "labelling_budgets": [],  # the challenger's own budget only
            },
        },
    },
    "default": {
        "timeout": 900,
        "jobs": 2,
        "parameters": {"data_source": "sample"},
        "notebooks": {},
    },
    "full": {"timeout": 3600, "jobs": 1, "parameters": {"data_source": "full"}, "notebooks": {}},
    # The "Try this" tasks at the end of the notebooks, answered: the default course with
    # each task's parameter changed; notebooks/expectations.yml checks the answers. Only the
    # tasks nothing later stands on: 01's would change every later notebook's answer.
    "exercises": {
        "timeout": 900,
        "jobs": 1,
        "parameters": {"data_source": "sample"},
        "notebooks": {
            "02": {"target_accuracy": 0.999},
            "03": {"sampler": "grid"},
            "06": {
                "scenario": "gradual",
                "contamination": 0.02,
                "labelling_budgets": [100, 250, 1000],
            },
        },
    },
}


def profile_parameters(profile: str, prefix: str) -> dict[str, Any]:
    """The profile's parameter values for the notebook numbered `prefix`."""
    spec = PROFILES[profile]
    return {**spec["parameters"], **spec["notebooks"].get(prefix, {})}
