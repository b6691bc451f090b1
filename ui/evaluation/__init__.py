"""The Evaluation page's parts: the cached figures (:mod:`.data`), the report (:mod:`.report`), the model
comparison, the FER+ and robustness tabs, the vote bars, and the evaluation on the user's own photos."""
