"""Time to build a typical receipt job (受理通知书: header, 10 lines, QR code, cut) as ESC/POS bytes.

Target: well under 20 ms. Baselines measured in the same run: encoding the same text to
GB18030 alone (the floor), and python-escpos's own QR path (qrcode → image → raster bytes).
Run: python bench/receipt_build.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from escpos.printer import Dummy  # noqa: E402

from drivers.printer.receipt import Align, Cut, Feed, QrCode, Receipt, Text, render  # noqa: E402

QR = "https://zwfw.example.gov.cn/progress?case=3101152024000123&code=7F3A9C"
LINES = [
    "受理编号：3101152024000123", "申请人：张三", "证件号码：310***********1234",
    "办理事项：居住证签注", "受理部门：某区公安分局出入境管理办公室", "受理时间：2024-05-20 14:32",
    "承诺时限：5个工作日", "取件方式：窗口领取", "咨询电话：12345", "请妥善保管本通知书，凭此领取结果。",
]


def build() -> bytes:
    receipt = Receipt((
        Text("受理通知书", width=2, height=2, bold=True, align=Align.CENTER),
        Text("某区政务服务中心 24小时自助终端", align=Align.CENTER),
        Feed(1),
        *(Text(line) for line in LINES),
        QrCode(QR, module_size=6, error_correction="M"),
        Text("扫码查询办理进度", align=Align.CENTER),
        Cut(),
    ))
    return render(receipt)


def encode_only() -> bytes:
    return "\n".join(["受理通知书", "某区政务服务中心 24小时自助终端", *LINES, "扫码查询办理进度"]).encode("gb18030")


def escpos_image_qr() -> bytes:
    printer = Dummy(profile="TM-T88V")  # a profile with a paper width, as image printing wants
    printer.qr(QR, size=6)
    return printer.output


def median_ms(fn, runs: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    job = median_ms(build, 500)
    floor = median_ms(encode_only, 500)
    image = median_ms(escpos_image_qr, 50)
    print(f"receipt job (header, {len(LINES)} lines, native QR, cut; {len(build())} bytes): "
          f"{job:.3f} ms median  [target < 20 ms: {'OK' if job < 20 else 'MISSED'}]")
    print(f"baseline: GB18030 encoding of the same text alone:          {floor:.3f} ms")
    print(f"baseline: python-escpos qr() image path for the QR alone:    {image:.3f} ms")


if __name__ == "__main__":
    main()
