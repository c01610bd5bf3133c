"""Checkpoint reader: parameter counts by role from real torch.save / safetensors files, tied weights, trainable."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from traindoc.ingest.model import Run
from traindoc.ingest.readers import checkpoints as ck
from traindoc.ingest.registry import ReadError

torch = pytest.importorskip("torch")
nn = torch.nn

V, D, T, L = 100, 16, 32, 2


class TinyGPT(nn.Module):
    """nanoGPT's parameter names (wte, wpe, h.N, ln_f, lm_head) plus an ACT halting head like the bundled model."""

    def __init__(self, tie: bool = True) -> None:
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, D), wpe=nn.Embedding(T, D),
            h=nn.ModuleList(nn.ModuleDict(dict(ln=nn.LayerNorm(D), fc=nn.Linear(D, 4 * D))) for _ in range(L)),
            ln_f=nn.LayerNorm(D)))
        self.halt_head = nn.Linear(D, 1)
        self.lm_head = nn.Linear(D, V, bias=False)
        if tie:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for blk in self.transformer.h:
            x = x + blk.fc(blk.ln(x))[..., :D]
        x = self.transformer.ln_f(x)
        return self.lm_head(x).mean() + self.halt_head(x).mean()


EMB = V * D + T * D
BLOCKS = L * (2 * D + D * 4 * D + 4 * D)
OTHER = 2 * D + D + 1  # ln_f + halt_head


def read(path: Path) -> tuple[Run, object]:
    run = Run()
    src = ck.read(path, run)
    return run, src


def test_state_dict_with_optimizer_tied_and_trainable(tmp_path):
    torch.manual_seed(0)
    m = TinyGPT(tie=True)
    for p in m.transformer.h[0].parameters():
        p.requires_grad_(False)  # frozen: gets no optimizer state
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-3)
    m(torch.randint(0, V, (2, 8))).backward()
    opt.step()
    path = tmp_path / "last.pt"
    torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "step": 500,
                "config": {"optim": {"muon_lr": 1e-2}, "model": {"d_model": D}}, "rng": torch.get_rng_state()}, path)
    assert ck.sniff(path, path.read_bytes()[:64]) > 0.5
    run, src = read(path)
    pc = run.params
    assert pc.tied is True and pc.unembedding == 0
    assert (pc.embedding, pc.blocks, pc.other) == (EMB, BLOCKS, OTHER)
    assert pc.total == sum(p.numel() for p in m.parameters())  # the shared weight counted once
    frozen = sum(p.numel() for p in m.transformer.h[0].parameters())
    assert pc.trainable == pc.total - frozen
    assert pc.by_group["act_head"] == D + 1
    assert run.config["checkpoint.config.optim.muon_lr"].value == 1e-2
    assert run.meta["checkpoint_state"]["step"] == 500


def test_untied_full_module_pickle(tmp_path):
    m = TinyGPT(tie=False)
    m.lm_head.weight.requires_grad_(False)
    path = tmp_path / "model.pth"
    torch.save(m, path)  # the whole module: only readable structurally (weights_only refuses it)
    run, _ = read(path)
    pc = run.params
    assert pc.tied is False and pc.unembedding == V * D and pc.embedding == EMB
    assert pc.trainable == pc.total - V * D


def test_safetensors_header_only_tied_saved_once(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    m = TinyGPT(tie=True)
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_model(m, str(path))  # keeps one name for the shared weight
    run, src = read(path)
    pc = run.params
    assert pc.total == sum(p.numel() for p in m.parameters())
    assert pc.tied is True and pc.unembedding == 0 and pc.embedding == EMB
    assert src.format == "safetensors"


def test_safetensors_shards_add_up(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    a = {"model.embed_tokens.weight": torch.zeros(V, D), "model.layers.0.mlp.weight": torch.zeros(D, D)}
    b = {"model.layers.1.mlp.weight": torch.zeros(D, D), "lm_head.weight": torch.zeros(V, D)}
    safetensors_torch.save_file(a, str(tmp_path / "model-00001-of-00002.safetensors"))
    safetensors_torch.save_file(b, str(tmp_path / "model-00002-of-00002.safetensors"))
    run = Run()
    ck.read(tmp_path / "model-00001-of-00002.safetensors", run)
    ck.read(tmp_path / "model-00002-of-00002.safetensors", run)
    pc = run.params
    assert (pc.embedding, pc.unembedding, pc.blocks, pc.total) == (V * D, V * D, 2 * D * D, 2 * V * D + 2 * D * D)


def test_handmade_safetensors_header(tmp_path):
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "wte.weight": {"dtype": "F32", "shape": [10, 4], "data_offsets": [0, 160]},
                         "h.0.w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [160, 224]}}).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 224)
    run, _ = read(path)
    assert (run.params.embedding, run.params.blocks) == (40, 16)
    assert run.meta["safetensors_metadata"] == {"format": "pt"}


@pytest.mark.parametrize("name, data", [
    ("x.safetensors", b"\x05\x00"),
    ("x.safetensors", struct.pack("<Q", 10**12) + b"{}"),
    ("x.safetensors", struct.pack("<Q", 8) + b"{not json"),
    ("x.pt", b"PK\x03\x04 truncated zip"),
    ("x.pt", b"\x80\x04\x95 broken pickle"),
])
def test_broken_checkpoints_raise_one_line(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ReadError) as err:
        ck.read(p, Run())
    assert "\n" not in str(err.value)


def test_optimizer_files_are_not_weights(tmp_path):
    p = tmp_path / "optimizer.pt"
    p.write_bytes(b"PK\x03\x04")
    assert ck.sniff(p, p.read_bytes()) == 0.0


def test_committed_fixtures_read_without_torch_load():
    data = Path(__file__).parent / "data" / "checkpoints"
    for name in ("tiny_tied.pt", "tiny_tied.safetensors"):
        run, src = read(data / name)
        assert (run.params.total, run.params.embedding, run.params.blocks, run.params.tied) == (80, 40, 40, True)
        assert not src.warnings  # the structural reader handled it: no torch.load fallback


def test_hf_checkpoint_folder_trainable_from_optimizer_pt(tmp_path):
    """HF Trainer layout: checkpoint-N/model.safetensors + optimizer.pt; the frozen block has no Adam state."""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    m = TinyGPT(tie=True)
    for p in m.transformer.h.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)  # all params passed, as HF does; frozen ones get no state
    m(torch.randint(0, V, (2, 8))).backward()
    opt.step()
    ckpt = tmp_path / "checkpoint-10"
    ckpt.mkdir()
    safetensors_torch.save_model(m, str(ckpt / "model.safetensors"))
    torch.save(opt.state_dict(), ckpt / "optimizer.pt")
    run, src = read(ckpt / "model.safetensors")
    assert run.params.trainable == run.params.total - BLOCKS
    assert ck.sniff(ckpt / "optimizer.pt", (ckpt / "optimizer.pt").read_bytes()[:64]) == 0.0


def test_rnn_lm_roles_and_plain_head():
    """A Lightning LSTM LM: 'embed', 'lstm.*', 'head' (vocab rows): the head is the (untied) output layer."""
    from traindoc.ingest.readers._safe_pickle import TensorInfo

    t = {"embed.weight": TensorInfo((21, 32), "0", 0), "lstm.weight_ih_l0": TensorInfo((512, 32), "1", 0),
         "lstm.weight_hh_l0": TensorInfo((512, 128), "2", 0), "head.weight": TensorInfo((21, 128), "3", 0),
         "head.bias": TensorInfo((21,), "4", 0)}
    pc = ck.count_params(t)
    assert (pc.embedding, pc.unembedding, pc.blocks, pc.tied) == (672, 21 * 128 + 21, 512 * 160, False)
