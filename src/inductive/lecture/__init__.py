"""The lecture's six questions about Conv2D: closed-form arithmetic, the explain command, the answers page and the explorer."""
