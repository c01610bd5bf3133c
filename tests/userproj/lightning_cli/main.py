"""Letter model with LightningCLI: `python main.py fit --config configs/fit.yaml`."""

from lightning_code_model import LetterData, LetterModel  # noqa: F401  (the CLI finds them by name)
from pytorch_lightning.cli import LightningCLI

if __name__ == "__main__":
    LightningCLI(LetterModel, LetterData)
