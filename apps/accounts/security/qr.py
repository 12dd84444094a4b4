"""The enrolment QR code as inline SVG: made here, so no image library and no outside service."""

import re

import qrcode
from qrcode.image.svg import SvgPathImage

_ROOT_SIZE = re.compile(r'^<svg width="[^"]*" height="[^"]*"')


def svg(data):
    # The SVG holds only path geometry computed from the data, never the data as text, so it is
    # safe to put into the page unescaped.
    image = qrcode.make(data, image_factory=SvgPathImage, box_size=10, border=2)
    # qrcode sizes it in millimetres; let the page's box decide (the viewBox keeps it square).
    return _ROOT_SIZE.sub('<svg width="100%" height="100%"', image.to_string(encoding="unicode"), count=1)
