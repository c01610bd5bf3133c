"""Console formats of healthy real-world logs from domains the corpus had not seen (issue 8, session 29), each
unreadable or misread blind: a hand-written RL loop's return prints (_rl_episode_print.py), the DLRM reference
script's console (_dlrm_console.py) and SpeechBrain's train_log.txt with its final "epoch loaded" lines
(_speechbrain_train_log.py)."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.model import Run
from traindoc.ingest.readers._dlrm_console import parse_dlrm
from traindoc.ingest.readers._rl_episode_print import parse_rl_episode_print
from traindoc.ingest.readers._speechbrain_train_log import parse_speechbrain_train_log
from traindoc.ingest.readers.textlog_formats import State

REALWORLD = Path(__file__).parent / "corpus" / "realworld"


def _steps(run: Run, name: str) -> tuple[list[int], list[float]]:
    s = run.series(name)
    assert s is not None, sorted(run.metrics)
    return [int(x) for x in s.steps], [float(v) for v in s.values]


def _write(tmp_path: Path, text: str, name: str = "train.log") -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / name).write_text(text)
    return run


# --- RL return prints ---------------------------------------------------------------------------------------------


def test_rl_corpus_prints_read_at_their_own_counters():
    ac = load_run([REALWORLD / "g36-keras-io-actor-critic-cartpole-solved-ep322" / "run"])
    steps, values = _steps(ac, "running_reward")
    assert steps[:3] == [10, 20, 30] and steps[-1] == 320 and values[-1] == 194.54
    assert "at episode" not in ac.metrics  # the episode number is the step, not a metric
    ddpg = load_run([REALWORLD / "g36-keras-io-ddpg-pendulum-100ep" / "run"])
    steps, values = _steps(ddpg, "avg_reward")
    assert steps == list(range(100)) and values[0] == -1020.8244931732263
    ppo = load_run([REALWORLD / "g36-keras-io-ppo-cartpole-30ep-return-200" / "run"])
    steps, values = _steps(ppo, "mean_return")
    assert steps == list(range(1, 31)) and values[10] == 200.0
    assert _steps(ppo, "mean_length")[0] == steps


def test_rl_pytorch_examples_print(tmp_path):
    text = "".join(f"Episode {e}\tLast reward: {9 + e}.00\tAverage reward: {10 + e / 10:.2f}\n"
                   for e in range(10, 60, 10))
    run = load_run([_write(tmp_path, text)])
    assert _steps(run, "average_reward")[0] == [10, 20, 30, 40, 50]
    assert _steps(run, "last_reward")[1][0] == 19.0


def test_rl_prints_guards():
    st = State()
    assert parse_rl_episode_print("Solved at episode 322!", st) is None
    assert parse_rl_episode_print("the running reward: 8.8 at episode 10 was low", st) is None  # not the whole line
    assert parse_rl_episode_print("Epoch: 3, Mean Return: 1.0", st) is None  # a comma: some other print
    rec = parse_rl_episode_print("running reward: 8.82 at episode 10", st)
    assert rec is not None and rec.step == 10 and rec.metrics == {"running_reward": 8.82}
    assert parse_rl_episode_print("running reward: 3.0 at episode 5", st) is None  # counter went back


# --- DLRM ---------------------------------------------------------------------------------------------------------


def test_dlrm_readme_sample_run_steps_by_iteration():
    run = load_run([REALWORLD / "g36-dlrm-readme-tiny-sample-run" / "run"])
    assert _steps(run, "loss") == ([1, 2, 3], [0.451893, 0.402002, 0.27546])
    assert not any("Finished" in n for n in run.metrics)  # the counter is the step, not a metric


def test_dlrm_global_step_and_testing_line():
    st = State()
    rec = parse_dlrm("Finished training it 1024/306968 of epoch 1, 66.33 ms/it, loss 0.520510", st)
    assert rec is not None and rec.step == 306968 + 1024 and rec.metrics == {"loss": 0.52051} and not rec.eval
    rec = parse_dlrm("Testing at - 1024/306968 of epoch 1, loss 0.477, accuracy 77.645 %, best 77.645 %", st)
    assert rec is not None and rec.eval and rec.metrics == {"eval_loss": 0.477, "eval_accuracy": 77.645}
    assert parse_dlrm("Finished training it 5/3 of epoch 0, 1.0 ms/it, loss 0.4", State()) is None  # j > N
    assert parse_dlrm("Finished training it 1/3 of epoch 0, 1.0 ms/it", State()) is None  # no loss


# --- SpeechBrain train_log.txt ------------------------------------------------------------------------------------


def test_speechbrain_moabb_final_evaluation_at_the_checkpoint_epoch():
    run = load_run([REALWORLD / "g36-speechbrain-moabb-eegnet-readme-train-log" / "run"])
    assert _steps(run, "loss")[0] == [1, 2, 3]
    steps, values = _steps(run, "eval_loss")
    assert steps == [1, 2, 3, 862] and values == [1.39, 1.39, 1.39, 0.0868]  # no dip at line-order step 2
    assert _steps(run, "test_loss") == ([862], [0.571])
    assert "epoch loaded" not in run.metrics


def test_speechbrain_steps_counter_kept_and_loaded_validation_not_repeated(tmp_path):
    lines = [f"epoch: {e}, lr: 1.00e-03, steps: {100 * e}, optimizer: AdamW - train loss: {2.0 / e:.2f} - "
             f"valid loss: {2.2 / e:.2f}, valid WER: {50 - e}.00" for e in range(1, 5)]
    lines.append("epoch loaded: 3 - test loss: 0.80, test WER: 47.00")
    lines.append("epoch loaded: 3 - valid loss: 0.73, valid WER: 47.00")  # epoch 3 was logged: a repeat
    run = load_run([_write(tmp_path, "\n".join(lines) + "\n", "train_log.txt")])
    assert _steps(run, "loss")[0] == [100, 200, 300, 400]  # the recipe's optimizer steps, as printed
    assert _steps(run, "eval_loss")[0] == [100, 200, 300, 400]
    assert _steps(run, "test_loss") == ([400], [0.8])  # after training: at the last step read


def test_speechbrain_guards():
    st = State()
    assert parse_speechbrain_train_log("epoch loaded: 3 - test loss: 0.8", st) is None  # no epoch line before
    assert parse_speechbrain_train_log("epoch: 1, loss: 0.5, acc: 0.9", st) is None  # no " - " split groups
    assert parse_speechbrain_train_log("epoch: 1 - loss: 0.5 - acc: 0.9", st) is None  # groups not named by split


def test_existing_speechbrain_entry_reads_as_before():
    run = load_run([REALWORLD / "g1-speechbrain-2713-transducer-gbs120-converging" / "run"])
    steps, values = _steps(run, "loss")
    assert steps[:3] == [2197, 3723, 5249] and values[0] == 171.0
