"""The demo: everything needed to try Callrix on one machine (`callrix demo`), and the
commands that play the outside world against the offline sandboxes (`callrix sandbox …`).
It may import every part of Callrix; nothing imports it. The production image leaves it out."""
