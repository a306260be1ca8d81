"""The training entry point's command line, as an Azure ML job passes it."""

import pytest

from data_science.train import TrainConfig, parse_args


def test_command_line_arguments_become_the_config():
    config, args = parse_args(
        ["--epochs", "3", "--max-train-samples", "200", "--augment", "false", "--output", "o"]
    )
    assert (config.epochs, config.max_train_samples, config.augment) == (3, 200, False)
    assert args.output == "o" and config.learning_rate == TrainConfig().learning_rate
    assert parse_args(["--no-augment"])[0].augment is False
    with pytest.raises(SystemExit):
        parse_args(["--augment", "maybe"])


def test_a_run_registers_unless_told_not_to():
    assert parse_args([])[1].register is True
    assert parse_args(["--no-register"])[1].register is False
