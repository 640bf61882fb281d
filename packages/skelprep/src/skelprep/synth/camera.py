"""The NTU camera rig: where the three Kinects stand, and the Kinect v2 projections.

Why: cross-view evaluation only means something if the three cameras see the same take from
different directions. NTU RGB+D convention (Shahroudy et al., CVPR 2016): three cameras at the
same height at -45, 0 and +45 degrees; the subject performs each action twice, once facing the
left and once facing the right camera, so camera 1 always sees 45-degree views while cameras 2
and 3 see front and side views. Here camera 1 is at 0 degrees, camera 2 at -45 and camera 3 at
+45 (azimuths as rotations about the vertical axis); odd repetitions face camera 2, even ones
camera 3.

Camera space is the Kinect's: metres, x towards the sensor's left (the right of a person facing
it, as in the real files), y up, z depth. Depth/colour pixel coordinates follow a pinhole model
whose intrinsics were fitted on real NTU files (sub-pixel residuals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAMERA_AZIMUTH_DEG: dict[int, float] = {1: 0.0, 2: -45.0, 3: 45.0}
FACED_CAMERA_BY_PARITY: dict[int, int] = {1: 2, 0: 3}  # repetition % 2 -> camera faced

# Kinect v2 intrinsics (pixels): depth 512x424, colour 1920x1080 with a 7.2 cm baseline.
DEPTH_F, DEPTH_CX, DEPTH_CY = 366.5, 256.0, 208.1
COLOR_F, COLOR_CX, COLOR_CY, COLOR_BASELINE = 1056.0, 955.3, 567.1, 0.072
COLOR_SIZE = (1920.0, 1080.0)


@dataclass(frozen=True)
class Camera:
    """One camera of a take: azimuth (rad) in the room, distance and height (m), tilt (rad)."""

    number: int
    azimuth: float
    distance: float
    height: float
    pitch: float

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Room coordinates (..., 3) -> this camera's Kinect camera space (..., 3)."""
        a, p = self.azimuth, self.pitch
        centre = np.array([-self.distance * np.sin(a), self.height, -self.distance * np.cos(a)])
        # rows: camera axes expressed in room coordinates (R_x(pitch) @ R_y(-azimuth))
        yaw = np.array([[np.cos(a), 0.0, -np.sin(a)], [0.0, 1.0, 0.0], [np.sin(a), 0.0, np.cos(a)]])
        tilt = np.array(
            [[1.0, 0.0, 0.0], [0.0, np.cos(p), -np.sin(p)], [0.0, np.sin(p), np.cos(p)]]
        )
        return (points - centre) @ (tilt @ yaw).T


def setup_rig(rng: np.random.Generator, cameras: list[int]) -> dict[int, Camera]:
    """The cameras of one setup: fixed per setup, each with its own distance, height and tilt."""
    rig = {}
    for number in (1, 2, 3):  # always draw all three, so a camera does not depend on --cameras
        distance, height = rng.uniform(2.6, 3.5), rng.uniform(0.6, 1.3)
        pitch = np.radians(rng.uniform(-6.0, 4.0))
        azimuth = np.radians(CAMERA_AZIMUTH_DEG[number])
        rig[number] = Camera(number, azimuth, distance, height, pitch)
    return {n: rig[n] for n in cameras}


def facing_azimuth(repetition: int) -> float:
    """Azimuth (rad) the subject faces in a repetition (before the take's jitter)."""
    return np.radians(CAMERA_AZIMUTH_DEG[FACED_CAMERA_BY_PARITY[repetition % 2]])


def kinect_pixels(xyz: np.ndarray) -> np.ndarray:
    """Camera space (..., 3) -> (..., 4) depthX depthY colorX colorY, as the Kinect SDK maps them."""
    x, y, z = xyz[..., 0], xyz[..., 1], np.maximum(xyz[..., 2], 0.1)
    return np.stack(
        [
            DEPTH_CX + DEPTH_F * x / z,
            DEPTH_CY - DEPTH_F * y / z,
            COLOR_CX + COLOR_F * (x + COLOR_BASELINE) / z,
            COLOR_CY - COLOR_F * y / z,
        ],
        axis=-1,
    )


def video_coordinates(xyz: np.ndarray) -> np.ndarray:
    """Camera space (..., 3) -> (..., 2) normalised image coordinates of an unmirrored video.

    x in [0, 1] from the image's left edge, y in [0, 1] from its top (points outside the frame
    fall outside [0, 1]); the Kinect colour image is mirrored, so x is flipped.
    """
    px = kinect_pixels(xyz)
    return np.stack([1.0 - px[..., 2] / COLOR_SIZE[0], px[..., 3] / COLOR_SIZE[1]], axis=-1)
