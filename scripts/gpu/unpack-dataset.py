#!/usr/bin/env python3
"""Rebuilds a dataset packed by pack-dataset.sh: decodes frames.mkv and torso.mkv into PNG files (OpenCV, on the
GPU machine, which has no ffmpeg binary). Usage: unpack-dataset.py PACKED_DIR OUT_DIR"""
import os
import shutil
import sys

import cv2

packed, out = sys.argv[1], sys.argv[2]
shutil.copytree(packed, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns('*.mkv'))
for video, folder in (('frames.mkv', 'frames'), ('torso.mkv', os.path.join('plates', 'torso'))):
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    capture = cv2.VideoCapture(os.path.join(packed, video))
    count = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        cv2.imwrite(os.path.join(out, folder, f'{count:06d}.png'), image)
        count += 1
    print(f'{out}/{folder}: {count} frames')
