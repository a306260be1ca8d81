import mlflow

from data_science.tracking import local_tracking_uri, use_tracking


def test_local_store_by_default_and_user_choice_wins(tmp_path, monkeypatch):
    use_tracking(tmp_path / "a", "exp")
    assert mlflow.get_tracking_uri() == local_tracking_uri(tmp_path / "a")
    use_tracking(tmp_path / "b", "exp")  # our own earlier URI in the environment is not a choice
    assert mlflow.get_tracking_uri() == local_tracking_uri(tmp_path / "b")
    chosen = f"sqlite:///{tmp_path / 'chosen.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", chosen)
    use_tracking(tmp_path / "c", "exp")
    assert mlflow.get_tracking_uri() == chosen


def test_experiment_artifacts_stay_in_the_run_folder(tmp_path):
    experiment_id = use_tracking(tmp_path, "exp")
    location = mlflow.get_experiment(experiment_id).artifact_location
    assert location == (tmp_path / "mlartifacts").resolve().as_uri()


def test_a_workspace_uri_is_served_by_the_azure_ml_plugin():
    """In an Azure ML job MLFLOW_TRACKING_URI is the workspace's azureml:// URI; the pinned
    azureml-mlflow must serve it with the pinned MLflow (the stores build without network)."""
    from mlflow.tracking._model_registry.utils import _get_store as registry_store
    from mlflow.tracking._tracking_service.utils import _get_store as tracking_store

    uri = (
        "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/"
        "00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.MachineLearningServices/workspaces/ws"
    )
    assert type(tracking_store(uri)).__module__.startswith("azureml.mlflow")
    assert type(registry_store(uri)).__module__.startswith("azureml.mlflow")
