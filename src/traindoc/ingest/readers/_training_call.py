"""The Python call that started training is configuration: `learn.fit_one_cycle(1, max_lr=0.5)`.

Notebook and tutorial runs are launched by a call, not a command line, and people paste that call above the
output (a fastai table under `learn.fit_one_cycle(4, 1e-3)`, a hand-written loop under
`training_loop(n_epochs=100, learning_rate=1e-2, ...)`) or keep it beside the log in `command.txt`. Its literal
arguments are what the detectors compare against reference ranges, as a command line's flags are.

Three shapes count, each read from the parsed call (`ast`, never evaluated):
- fastai's fit family on any object: `fit(n_epoch, lr)` (fastai 0.7: `fit(lrs, n_cycle)`, told apart by which
  argument is a whole number), `fit_one_cycle(n_epoch, max_lr)` (v2: `lr_max`),
  `fit_flat_cos(n_epoch, lr)`, `fit_sgdr(n_cycles, cycle_len, lr_max)`, `fine_tune(epochs, base_lr)`; positional or
  keyword. fastai's discriminative `slice(lo, hi)` is read as `hi`, the LR of the last (head) layers and the peak;
  `slice(x)` as `x`. The LR is recorded under the name fastai gives it (lr, max_lr, lr_max, base_lr), the epoch
  count as `epochs`;
- an optimiser built with a literal LR (`optim.SGD(params, lr=1e-2)`, `keras.optimizers.SGD(learning_rate=1e-3)`):
  its LR keyword and the optimiser's name as `optimizer`; or the LR passed by position where the library's
  signature puts it: first in Keras and optax (`keras.optimizers.RMSprop(1e-6)`, `optax.adam(1e-3)`: recorded as
  `learning_rate`), second after the parameters in torch.optim (`optim.SGD(model.parameters(), 0.1)`: `lr`);
- the `SGD` method of Michael Nielsen's `network.py` / `network2.py` (the NumPy networks of *Neural Networks and
  Deep Learning*, widely copied): `net.SGD(training_data, epochs, mini_batch_size, eta, ...)`, its leading positional
  arguments read as `epochs`, `batch_size` and `lr`, the optimiser as `sgd` (the method is plain mini-batch SGD).
  Told apart from an optimiser class named SGD (`torch.optim.SGD(params, lr, momentum, ...)`) by its shape: at least
  four positional arguments, the first not a literal (the data), the second and third whole numbers >= 1 (an epoch
  count and a batch size; torch's second is the LR and its third a momentum below 1), the fourth a positive literal;
- any other call with a literal learning-rate keyword (`training_loop(n_epochs=100, learning_rate=1e-4, ...)`):
  that keyword and the call's other literal numeric keywords (epochs, batch size, momentum, ...);
- a recurrent layer built in the model code kept beside the log (`self.rnn = nn.RNN(embedding_dim, hidden_dim)`,
  `layers.SimpleRNN(32)`, `nn.LSTM(...)`, `GRU(64)`, their `...Cell` forms) or printed in a model repr
  (`(rnn): RNN(64, 128)`): its cell type as `rnn_cell` (`rnn` for the ungated Elman cell, `lstm`, `gru`), which the
  not-learning rules read (evidence/detectors/not_learning.py: ungated_recurrence).
A value that is not a literal number (a variable, an expression) is not read: the call does not say it.
"""

from __future__ import annotations

import ast
import re

from traindoc.ingest.model import ConfigValue, Run

# fastai method -> the names of its leading positional parameters (fastai v1 and v2 signatures agree on order)
_FASTAI = {
    "fit": ("epochs", "lr"),
    "fit_one_cycle": ("epochs", "max_lr"),
    "fit_flat_cos": ("epochs", "lr"),
    "fit_sgdr": ("n_cycles", "cycle_len", "lr_max"),
    "fine_tune": ("epochs", "base_lr"),
}
# config key naming the fastai v1/v2 fit-family method the run was started with (its value: the method's name)
FASTAI_CALL = "fastai_call"
# keyword spellings of those parameters across fastai v1 / v2
_FASTAI_KEYWORDS = {"epochs": "epochs", "n_epoch": "epochs", "cyc_len": "epochs", "n_cycles": "n_cycles",
                    "cycle_len": "cycle_len", "lr": "lr", "max_lr": "max_lr", "lr_max": "lr_max",
                    "base_lr": "base_lr", "freeze_epochs": "freeze_epochs", "wd": "wd", "pct_start": "pct_start"}
_LR_KEYWORDS = ("learning_rate", "lr", "max_lr", "lr_max", "base_lr", "peak_lr", "init_lr", "initial_lr")
# optimiser classes of torch.optim / Keras / optax whose first keyword LR is the run's LR
_OPTIMISERS = {"sgd": "sgd", "adam": "adam", "adamw": "adamw", "rmsprop": "rmsprop", "adagrad": "adagrad",
               "adadelta": "adadelta", "adamax": "adamax", "nadam": "nadam", "radam": "radam", "lamb": "lamb",
               "lion": "lion", "adafactor": "adafactor"}
# keywords of Keras's Model.fit that no fastai fit-family method takes
_KERAS_FIT_ONLY = frozenset({"x", "y", "batch_size", "validation_split", "validation_data", "verbose",
                             "steps_per_epoch", "validation_steps", "initial_epoch", "class_weight", "sample_weight",
                             "shuffle", "validation_freq"})
# cheap test before parsing, so a metric line (`epoch 1 lr=0.001 loss=2.3`) never reaches ast.parse: a fit-family
# name called, or an LR keyword inside the parentheses of a call (`name(... lr=`)
_HINT = re.compile(r"\b(?:fit(?:_one_cycle|_flat_cos|_sgdr)?|fine_tune|SGD)\s*\(|\w\s*\([^()]*(?:\([^()]*\)[^()]*)*"
                   r"\b(?:learning_rate|lr|max_lr|lr_max|base_lr|peak_lr|init_lr|initial_lr)\s*=")
# an optimiser class called (its LR may be positional, with no keyword for _HINT to see)
_OPT_HINT = re.compile(r"\b(?:" + "|".join(_OPTIMISERS) + r")\s*\(|\bcompile\s*\(|\bfit\s*\(", re.IGNORECASE)
# recurrent layer classes of torch.nn / Keras -> the cell type recorded as `rnn_cell` (RNN / SimpleRNN: the ungated
# Elman cell); a constructor call is what names it, so a bare word in a log line is never read
_RNN_CELLS = {"RNN": "rnn", "RNNCell": "rnn", "SimpleRNN": "rnn", "SimpleRNNCell": "rnn", "LSTM": "lstm",
              "LSTMCell": "lstm", "GRU": "gru", "GRUCell": "gru"}
RNN_CELL = "rnn_cell"
_RNN_HINT = re.compile(r"\b(?:Simple)?RNN(?:Cell)?\s*\(|\b(?:LSTM|GRU)(?:Cell)?\s*\(")
_PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.|In \[\d*\]:)?\s*")
MAX_CHARS = 2000  # a launch call is one line or a few; a longer text is not one (and ast.parse stays cheap)
MAX_PAIRS = 50


def _literal(node: ast.expr) -> int | float | None:
    """A literal number (`1e-3`, `-2`), or the upper end of fastai's `slice(lo, hi)` / `slice(x)`; else None."""
    # signs are walked in a loop, not by recursion: a thousand `-` parse, and must not overflow the stack
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * node.value
    # a slice nests only as deep as the parser lets parentheses nest (200), so recursion is bounded here
    if sign == 1 and isinstance(node, ast.Call) and _name(node.func) == "slice" and node.args and not node.keywords:
        return _literal(node.args[-1])
    return None


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _text(value: int | float) -> str:
    return repr(value)  # as written in kind: 2 stays an int, 1e-0 a float


def _old_fit_order(args: list[ast.expr]) -> bool:
    """fastai 0.7's `fit(lrs, n_cycle)` puts the LR first (v1/v2: `fit(n_epoch, lr)`). An epoch count is a whole
    number, an LR rarely is: the old order is read when the first argument is not a whole number (a float literal,
    a variable such as `lrs`) and the second is one."""
    if len(args) < 2:
        return len(args) == 1 and isinstance(_literal(args[0]), float)
    first, second = _literal(args[0]), _literal(args[1])
    return not isinstance(first, int) and isinstance(second, int)


def _nielsen_sgd(call: ast.Call) -> list[tuple[str, str]] | None:
    """`net.SGD(training_data, epochs, mini_batch_size, eta, ...)` of Nielsen's network.py (module docstring); None
    for a call of any other shape, [] for that shape with a rate that is not a positive literal (then nothing is read:
    torch's positional reading would take the epoch count for an LR)."""
    if len(call.args) < 4 or _literal(call.args[0]) is not None:
        return None
    epochs, batch, eta = (_literal(a) for a in call.args[1:4])
    if not (isinstance(epochs, int) and epochs >= 1 and isinstance(batch, int) and batch >= 1):
        return None
    if eta is None or eta <= 0:
        return []
    # the method is plain mini-batch SGD (no momentum): its name is the optimiser's
    return [("optimizer", "sgd"), ("epochs", _text(epochs)), ("batch_size", _text(batch)), ("lr", _text(eta))]


def _keras_fit(call: ast.Call) -> list[tuple[str, str]] | None:
    """Keras's `model.fit(x, y, epochs=10, batch_size=128, validation_split=0.2)` shares fastai's method name: a
    keyword only Keras's fit takes tells it apart (its literal epochs / batch size are read, no fastai default)."""
    kws = {kw.arg for kw in call.keywords}
    if not kws & _KERAS_FIT_ONLY:
        return None
    out = []
    for kw in call.keywords:
        v = _literal(kw.value) if kw.arg in ("epochs", "batch_size") else None
        if kw.arg is not None and v is not None:
            out.append((kw.arg, _text(v)))
    return out


def _call_pairs(call: ast.Call) -> list[tuple[str, str]]:
    name = _name(call.func)
    pairs: list[tuple[str, str]] = []
    if name in _RNN_CELLS:
        return [(RNN_CELL, _RNN_CELLS[name])]
    if name == "SGD" and isinstance(call.func, ast.Attribute):
        nielsen = _nielsen_sgd(call)
        if nielsen is not None:
            return nielsen
    if name == "fit" and (keras := _keras_fit(call)) is not None:
        return keras
    if name == "compile":
        # Keras's `model.compile(optimizer="rmsprop")`: the optimiser named by its string, at Keras's default LR
        opt = [kw.value.value for kw in call.keywords if kw.arg == "optimizer" and isinstance(kw.value, ast.Constant)
               and isinstance(kw.value.value, str)]
        if opt and opt[0].lower() in _OPTIMISERS:
            return [("optimizer", _OPTIMISERS[opt[0].lower()])]
    if name in _FASTAI:
        params = _FASTAI[name]
        if name == "fit" and _old_fit_order(call.args):
            params = ("lr", "epochs")
        for param, arg in zip(params, call.args, strict=False):
            v = _literal(arg)
            if v is not None:
                pairs.append((param, _text(v)))
        for kw in call.keywords:
            key = _FASTAI_KEYWORDS.get(kw.arg or "")
            v = _literal(kw.value) if key else None
            if key and v is not None:
                pairs.append((key, _text(v)))
        if pairs and params != ("lr", "epochs"):
            # which fastai call it was (v1/v2 order): the framework builds its default optimiser, Adam, unless the
            # Learner's opt_func says otherwise (evidence/context.py: framework_optimizer); fastai 0.7's
            # `fit(lrs, n_cycle)` defaulted to SGD with momentum, so its order is not marked
            pairs.append((FASTAI_CALL, name))
        return pairs
    lr = [(kw.arg, _literal(kw.value)) for kw in call.keywords if kw.arg in _LR_KEYWORDS]
    lr = [(k, v) for k, v in lr if k is not None and v is not None]
    if not lr and name.lower() in _OPTIMISERS:
        pos = _positional_lr(call)
        return [("optimizer", _OPTIMISERS[name.lower()]), pos] if pos is not None else []
    if not lr:
        return []
    if name.lower() in _OPTIMISERS:
        return [("optimizer", _OPTIMISERS[name.lower()])] + [(k, _text(v)) for k, v in lr[:1]]
    for kw in call.keywords:
        v = _literal(kw.value)
        if kw.arg is not None and v is not None:
            pairs.append((kw.arg, _text(v)))
    return pairs


def _positional_lr(call: ast.Call) -> tuple[str, str] | None:
    """The LR an optimiser constructor takes by position: a literal first argument is Keras's / optax's
    `learning_rate`; a literal second argument after a non-literal first (the parameters) is torch.optim's `lr`."""
    if not call.args:
        return None
    first = _literal(call.args[0])
    if first is not None:
        return ("learning_rate", _text(first)) if first > 0 else None
    second = _literal(call.args[1]) if len(call.args) > 1 else None
    return ("lr", _text(second)) if second is not None and second > 0 else None


def _parse(src: str) -> ast.AST | None:
    try:
        return ast.parse(src, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _tree_calls(tree: ast.AST) -> list[tuple[int, list[tuple[str, str]]]]:
    """(line of the call, its pairs) for every call in the tree that carries training settings."""
    out: list[tuple[int, list[tuple[str, str]]]] = []
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            pairs = _call_pairs(node)
            if pairs:
                out.append((node.lineno, pairs[: MAX_PAIRS - count]))
                count += len(pairs)
                if count >= MAX_PAIRS:
                    break
    return out


def call_config(text: str) -> list[tuple[str, str]] | None:
    """(key, value text) pairs of a training call on this line, or None when the line holds none."""
    if len(text) > MAX_CHARS or (_HINT.search(text) is None and _OPT_HINT.search(text) is None
                                 and _RNN_HINT.search(text) is None):
        return None
    tree = _parse(_PROMPT.sub("", text, count=1).strip())
    pairs = [p for _, ps in _tree_calls(tree) for p in ps] if tree is not None else []
    return pairs or None


def source_calls(text: str) -> list[tuple[int, list[tuple[str, str]]]]:
    """Training calls of a whole file that parses as Python (a call spread over lines is one), by line."""
    if _HINT.search(text) is None and _OPT_HINT.search(text) is None and _RNN_HINT.search(text) is None:
        return []
    tree = _parse(text)
    return _tree_calls(tree) if tree is not None else []


def record(pairs: list[tuple[str, str]], run: Run, path: str, line_no: int) -> None:
    for key, raw in pairs:
        value: object = raw
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                pass
        run.put_config(ConfigValue(key=key, value=value, file=path, line=line_no, kind="python_call", text=raw))
