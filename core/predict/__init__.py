"""A run's answer for a new photo, on one path: the photo check and conversion (core.data.upload,
core.data.familiar), the model (core.models.loading, in the prediction worker when the server runs one),
its calibration and prediction set (core.evaluation.calibrated), and Grad-CAM where asked
(core.explain). `/api/predict`, the upload card and anything else that answers for a photo call
`core.predict.answer`."""
