"""Everything one training run needs: config checks, data, models, fit, shift evaluation, the run-folder format."""
