"""How good a model is: a FER2013 split's figures (accuracy, calibration, confusions), two models side by
side, agreement with the FER+ annotators, robustness to degraded faces, and the photo pipeline on a
user's labelled photos. The datasets themselves are read by :mod:`fer.data` and :mod:`fer.ferplus`."""
