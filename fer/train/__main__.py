"""``python -m fer.train``: the reproducible training command recorded in every model card."""

from fer.train.loop import main

main()
