from train import collate


def test_padding_is_ignored_by_the_loss():
    batch = collate(["abc", "abcdef"])
    assert (batch["labels"][0, 3:] == -100).all()
