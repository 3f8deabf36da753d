import pytest
import torch
from conftest import SHARED

from portrait_style.errors import InputError, ModelError
from portrait_style.trainer.mobilenet import MobileNetFeatures, MobileNetV2, load_mobilenet_v2

WEIGHTS = SHARED / "models" / "mobilenet_v2-b0353104.pth"


def test_layout_matches_torchvision_names_and_sizes():
    state = MobileNetV2().state_dict()
    assert len(state) == 314  # torchvision's mobilenet_v2() state dict, num_batches_tracked included
    assert state["features.0.0.weight"].shape == (32, 3, 3, 3)
    assert state["features.1.conv.1.weight"].shape == (16, 32, 1, 1)  # expansion 1: no expand conv
    assert state["features.2.conv.2.weight"].shape == (24, 96, 1, 1)
    assert state["features.18.0.weight"].shape == (1280, 320, 1, 1)
    assert state["classifier.1.weight"].shape == (1000, 1280)
    assert (
        sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) == 3504872
    )


def test_feature_taps():
    feats = MobileNetFeatures(MobileNetV2())(torch.zeros(1, 3, 64, 64))
    assert [tuple(f.shape[1:]) for f in feats] == [(16, 32, 32), (24, 16, 16), (32, 8, 8), (96, 4, 4)]


def test_features_stay_frozen_in_eval_mode():
    features = MobileNetFeatures(MobileNetV2())
    features.train()
    assert not features.training and not any(p.requires_grad for p in features.parameters())


def test_bad_weight_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_mobilenet_v2(tmp_path / "missing.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"nope")
    with pytest.raises(ModelError, match="cannot read"):
        load_mobilenet_v2(garbage)
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, wrong)
    with pytest.raises(ModelError, match="not torchvision's MobileNetV2"):
        load_mobilenet_v2(wrong)


@pytest.mark.shared_data
@pytest.mark.skipif(not WEIGHTS.is_file(), reason="shared MobileNetV2 weights not present")
def test_torchvision_imagenet_weights_load_strictly_and_classify():
    from skimage import data

    model = load_mobilenet_v2(WEIGHTS)
    image = torch.from_numpy(data.coffee()).permute(2, 0, 1).float()[None] / 255.0  # a cup of coffee
    image = torch.nn.functional.interpolate(image, size=(224, 224), mode="bilinear", antialias=True)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        top5 = model((image - mean) / std).topk(5).indices[0].tolist()
    assert 967 in top5 or 968 in top5  # ImageNet "espresso" / "cup"
