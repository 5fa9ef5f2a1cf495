"""The blocks of the /errors page, each a component with its own ids and callbacks: the confusion
matrix with the classification report (`matrix`), the photos behind a clicked cell (`cell`), the most
confident mistakes and label suspects (`mistakes`), and the comparison with a second run (`compare`).
The page (dashboard/pages/errors.py) lays them out for one run."""
