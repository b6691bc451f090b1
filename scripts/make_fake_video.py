"""Write the browser tests' fake webcam video (a .y4m Chromium can play as its camera).

    python -m scripts.make_fake_video ../shared/faces/astronaut.png /tmp/face.y4m --seconds 4 --fps 30
    chromium --use-fake-device-for-media-stream --use-file-for-fake-video-capture=/tmp/face.y4m ...

Then open the Live webcam page and press START to try the page without a camera.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from serve.fakecam import make_fake_webcam


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("portrait", type=Path, help="a photo with a face (e.g. ../shared/faces/astronaut.png)")
    parser.add_argument("out", type=Path, help="the .y4m file to write")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args(argv)
    path = make_fake_webcam(args.portrait, args.out, args.seconds, args.fps, args.width, args.height)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
