"""The Python call that started a notebook run, read as its configuration (readers/_training_call.py): fastai's fit
family with positional or keyword LRs and `slice(lo, hi)`, an optimiser built with a literal LR, any call with a
literal learning-rate keyword; in `command.txt` (whole file, so a call spread over lines is one) and pasted above a
text log. Silent on metric lines, on calls without a literal LR and on text that is not Python."""

from __future__ import annotations

from pathlib import Path

from traindoc.ingest.loader import load_run
from traindoc.ingest.readers._training_call import FASTAI_CALL as FIT
from traindoc.ingest.readers._training_call import call_config, source_calls

_TABLE = "epoch train_loss valid_loss accuracy time\n1 0.727221 0.693147 0.495584 00:02\n"


def test_fastai_fit_family_positional_keyword_and_slice():
    assert call_config("simple_learner().fit(2, 1e-0)") == [("epochs", "2"), ("lr", "1.0"), (FIT, "fit")]
    assert call_config("learn.fit_one_cycle(1, max_lr=0.5)") == [
        ("epochs", "1"), ("max_lr", "0.5"), (FIT, "fit_one_cycle")]
    assert call_config("learn.fit_one_cycle(40, slice(1e-6,1e-4))") == [
        ("epochs", "40"), ("max_lr", "0.0001"), (FIT, "fit_one_cycle")]
    assert call_config("learn.fine_tune(3, base_lr=2e-3)") == [
        ("epochs", "3"), ("base_lr", "0.002"), (FIT, "fine_tune")]
    assert call_config(">>> learn.fit_one_cycle(4)") == [("epochs", "4"), (FIT, "fit_one_cycle")]  # fastai's default LR
    # fastai 0.7 put the LR first: fit(lrs, n_cycle); its default optimiser was SGD with momentum, so no FIT marker
    assert call_config("m3.fit(lrs, 7, metrics=[accuracy], cycle_len=2)") == [("epochs", "7"), ("cycle_len", "2")]
    assert call_config("learn.fit(1e-2, 3)") == [("lr", "0.01"), ("epochs", "3")]


def test_optimiser_and_keyword_calls():
    assert call_config("optimizer=keras.optimizers.SGD(learning_rate=1e-3)") == [
        ("optimizer", "sgd"), ("learning_rate", "0.001")]
    assert call_config("opt = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=0.1)") == [
        ("optimizer", "adam"), ("lr", "0.0003")]
    text = "training_loop(\n    n_epochs = 100,\n    learning_rate = 1e-4,\n    params = torch.tensor([1.0, 0.0]))\n"
    assert source_calls(text) == [(1, [("n_epochs", "100"), ("learning_rate", "0.0001")])]


def test_optimiser_lr_by_position_and_keras_compile_fit():
    """Keras and optax take the LR first (`RMSprop(1e-6)`), torch.optim second after the parameters; Keras's
    `compile(optimizer="rmsprop")` names the optimiser; Keras's `fit(x, y, epochs=..., batch_size=...)` is not
    fastai's fit (no fastai default optimiser is implied)."""
    assert call_config("model.compile(optimizer=keras.optimizers.RMSprop(1e-6), loss='mse')") == [
        ("optimizer", "rmsprop"), ("learning_rate", "1e-06")]
    assert call_config("opt = optax.adam(1e-3)") == [("optimizer", "adam"), ("learning_rate", "0.001")]
    assert call_config("opt = optim.SGD(model.parameters(), 0.1, momentum=0.9)") == [
        ("optimizer", "sgd"), ("lr", "0.1")]
    assert call_config("model.compile(optimizer='rmsprop', loss='binary_crossentropy')") == [("optimizer", "rmsprop")]
    assert call_config("model.fit(x_train, y_train, epochs=10, batch_size=128, validation_split=0.2)") == [
        ("epochs", "10"), ("batch_size", "128")]
    # silent: an optimiser built from a variable LR, a non-positive literal, a compile with an optimiser object
    assert call_config("opt = keras.optimizers.Adam(lr_schedule)") is None
    assert call_config("opt = optim.SGD(params, 0)") is None
    assert call_config("model.compile(optimizer=opt, loss='mse')") is None


def test_silent_on_metrics_and_non_literal_values():
    assert call_config("epoch 1 lr=0.001 loss=2.30") is None  # a metric line is not Python
    assert call_config("lr = 0.01") is None  # an assignment, no call
    assert call_config("learn.fit_one_cycle(epochs, max_lr=lr)") is None  # nothing literal
    assert call_config("    Params: tensor([ 0.5483, -0.0083])") is None
    assert call_config("{'loss': 1.2, 'learning_rate': 0.001}") is None


def test_command_file_and_pasted_call_become_config(tmp_path: Path):
    d = tmp_path / "a"
    d.mkdir()
    (d / "command.txt").write_text("learn = simple_learner()\nsimple_learner().fit(2, 1e-0)\n")
    (d / "train.log").write_text(_TABLE)
    run = load_run([d])
    assert run.config_value("lr").value == 1.0 and run.config_value("lr").line == 2
    e = tmp_path / "b"
    e.mkdir()
    (e / "train.log").write_text("learn.fit_one_cycle(1, max_lr=0.5)\n" + _TABLE)
    run = load_run([e])
    assert run.config_value("max_lr").value == 0.5
    assert run.series("loss") is not None and len(run.series("loss").values) == 1


def test_hostile_calls_neither_recurse_nor_raise():
    # a thousand unary signs parse (no parenthesis nesting limit applies) and were read by recursion: RecursionError
    assert call_config("learn.fit(" + "-" * 1900 + "1, lr=0.1)") == [
        ("epochs", "1"), ("lr", "0.1"), (FIT, "fit")]  # even count
    assert call_config("learn.fit(2, lr=--3e-4)") == [("epochs", "2"), ("lr", "0.0003"), (FIT, "fit")]
    assert call_config("learn.fit(" + "(" * 500 + "1" + ")" * 500 + ")") is None  # too deep for the parser


def test_recurrent_layer_constructors_give_the_cell_type():
    assert call_config("        self.rnn = nn.RNN(embedding_dim, hidden_dim)") == [("rnn_cell", "rnn")]
    assert call_config("model.add(keras.layers.SimpleRNN(32, return_sequences=True))") == [("rnn_cell", "rnn")]
    assert call_config("  (rnn): RNN(64, 128)") == [("rnn_cell", "rnn")]  # a printed torch model repr
    assert call_config("self.lstm = nn.LSTM(10, 20, num_layers=2)") == [("rnn_cell", "lstm")]
    assert call_config("x = layers.GRU(64)(inputs)") == [("rnn_cell", "gru")]
    # a bare word in a log line is no constructor call
    assert call_config("Epoch 3 | RNN loss 0.6931 | LSTM baseline 0.41") is None
