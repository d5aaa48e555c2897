import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Real places, chosen to cover every status (checked by test_points_cover_every_status):
# points inside four QP2024 quartiers, Mayotte (QP2024 applies there only from 2025), the
# countryside of the Allier, the Atlantic, and Toulouse/Landes (QP2015 Occitanie vs not covered in 2020).
POINTS = [
    (5.23227, 46.21069), (4.661736, 43.807085), (-0.897828, 47.06334), (4.348668, 46.6895),
    (45.289659, -12.79529), (2.0, 46.0), (-30.0, 40.0), (1.44, 43.6), (-0.5, 43.9),
]
